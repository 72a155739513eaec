//! `get-conversation`: GET /conversations/{id} (CONV-1, CONV-2) and its transcript export
//! GET /conversations/{id}/export (CONV-8).

use carethread_core::api::{self, Answer};
use carethread_core::ops::conversations;
use carethread_core::ops::export::{self, Format};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let id = api::path_param(req, "id");
        if api::route_key(req) == "GET /conversations/{id}/export" {
            let format = Format::parse(api::query_param(req, "format").as_deref())?;
            let body = export::export(app, &ctx, &id, format).await?;
            return Ok(Answer::Document { content_type: format.content_type(), body });
        }
        conversations::get_conversation(app, &ctx, &id).await.and_then(|b| api::answer(200, b))
    })
    .await)
}
