//! `attachment-presign`: POST /attachments (ATT-1) and GET /attachments/{id} (ATT-3).

use carethread_core::api;
use carethread_core::ops::attachments::{self, PresignRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| match api::route_key(&req).as_str() {
        "POST /attachments" => {
            let body: PresignRequest = api::json_body(&req)?;
            attachments::create(app, &ctx, body).await.and_then(|b| api::answer(201, b))
        }
        "GET /attachments/{id}" => {
            attachments::get(app, &ctx, &api::path_param(&req, "id")).await.and_then(|b| api::answer(200, b))
        }
        _ => Err(api::not_found_route()),
    })
    .await)
}
