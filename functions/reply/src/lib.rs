//! `reply`: POST /conversations/{id}/messages (REPLY-1, CONV-5).

use carethread_core::api;
use carethread_core::ops::conversations::{self, ReplyRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let body: ReplyRequest = api::json_body(req)?;
        conversations::reply(app, &ctx, &api::path_param(req, "id"), body).await.and_then(|b| api::answer(201, b))
    })
    .await)
}
