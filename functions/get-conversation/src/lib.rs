//! `get-conversation`: GET /conversations/{id} (CONV-1, CONV-2) and its transcript export
//! GET /conversations/{id}/export (CONV-8).

use carethread_core::api;
use carethread_core::ops::conversations;
use carethread_core::ops::export::{self, Format};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let request_id = api::request_id(&req);
    let id = api::path_param(&req, "id");
    if api::route_key(&req) == "GET /conversations/{id}/export" {
        let outcome = async {
            let ctx = api::authorized(app, &req, false).await?;
            let format = Format::parse(api::query_param(&req, "format").as_deref())?;
            export::export(app, &ctx, &id, format).await.map(|body| (format, body))
        }
        .await;
        return Ok(match outcome {
            Ok((format, body)) => api::document_response(format.content_type(), body),
            Err(e) => api::problem(&e, &request_id),
        });
    }
    let outcome = async {
        let ctx = api::authorized(app, &req, false).await?;
        conversations::get_conversation(app, &ctx, &id).await.map(|b| (200, b))
    }
    .await;
    Ok(api::respond_audited(app, &req, outcome).await)
}
