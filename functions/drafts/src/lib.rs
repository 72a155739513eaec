//! `drafts`: save, list, read, edit, delete and send drafts (COMPOSE-5).

use carethread_core::api;
use carethread_core::ops::drafts;
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let id = api::path_param(req, "id");
        match api::route_key(req).as_str() {
            "POST /drafts" => drafts::save(app, &ctx, &api::json_body(req)?).await.and_then(|b| api::answer(201, b)),
            "GET /drafts" => {
                let limit = api::limit_param(req)?;
                drafts::list(app, &ctx, limit, api::query_param(req, "cursor").as_deref())
                    .await
                    .and_then(|b| api::answer(200, b))
            }
            "GET /drafts/{id}" => drafts::get(app, &ctx, &id).await.and_then(|b| api::answer(200, b)),
            "PUT /drafts/{id}" => {
                drafts::update(app, &ctx, &id, &api::json_body(req)?).await.and_then(|b| api::answer(200, b))
            }
            "DELETE /drafts/{id}" => {
                drafts::delete(app, &ctx, &id).await.and_then(|()| api::answer(204, serde_json::Value::Null))
            }
            "POST /drafts/{id}/send" => drafts::send(app, &ctx, &id).await.and_then(|b| api::answer(201, b)),
            _ => Err(api::not_found_route()),
        }
    })
    .await)
}
