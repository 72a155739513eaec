//! `saved-replies`: practice-wide and personal reply templates (REPLY-6).

use carethread_core::api;
use carethread_core::ops::saved_replies::{self, RenderRequest, SavedReplyRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| match api::route_key(&req).as_str() {
        "GET /saved-replies" => saved_replies::list(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "POST /saved-replies" => {
            let body: SavedReplyRequest = api::json_body(&req)?;
            saved_replies::create(app, &ctx, body).await.and_then(|b| api::answer(201, b))
        }
        "POST /saved-replies/{id}/render" => {
            let body: RenderRequest = api::json_body(&req)?;
            saved_replies::render(app, &ctx, &api::path_param(&req, "id"), body).await.and_then(|b| api::answer(200, b))
        }
        _ => Err(api::not_found_route()),
    })
    .await)
}
