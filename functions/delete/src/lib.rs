//! `delete`: permanent deletion of a message by its author, or of a thread by whoever started
//! it (CONV-6).

use carethread_core::api;
use carethread_core::ops::conversations;
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let id = api::path_param(req, "id");
        match api::route_key(req).as_str() {
            "DELETE /conversations/{id}" => conversations::delete_conversation(app, &ctx, &id).await,
            "DELETE /conversations/{id}/messages/{messageId}" => {
                conversations::delete_message(app, &ctx, &id, &api::path_param(req, "messageId")).await
            }
            _ => Err(api::not_found_route()),
        }
        .and_then(|()| api::answer(204, serde_json::Value::Null))
    })
    .await)
}
