//! `conversation-state`: the caller's own flags (PUT /conversations/{id}/state, CONV-3,
//! CONV-4) and the thread's open/closed status (POST /conversations/{id}/close and /reopen,
//! REPLY-3).

use carethread_core::api;
use carethread_core::ops::conversations::{self, StateRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let id = api::path_param(req, "id");
        match api::route_key(req).as_str() {
            "PUT /conversations/{id}/state" => {
                let body: StateRequest = api::json_body(req)?;
                conversations::set_state(app, &ctx, &id, body).await.and_then(|b| api::answer(200, b))
            }
            "POST /conversations/{id}/close" => {
                conversations::set_status(app, &ctx, &id, false).await.and_then(|b| api::answer(200, b))
            }
            "POST /conversations/{id}/reopen" => {
                conversations::set_status(app, &ctx, &id, true).await.and_then(|b| api::answer(200, b))
            }
            _ => Err(api::not_found_route()),
        }
    })
    .await)
}
