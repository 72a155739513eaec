//! `broadcasts`: one message to an explicit list of patients, a private copy each (COMPOSE-6).

use carethread_core::api;
use carethread_core::ops::conversations::{self, BroadcastRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let body: BroadcastRequest = api::json_body(req)?;
        conversations::broadcast(app, &ctx, body).await.and_then(|b| api::answer(201, b))
    })
    .await)
}
