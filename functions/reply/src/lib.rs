//! `reply`: POST /conversations/{id}/messages (REPLY-1, CONV-5), and the patient's "never
//! mind" POST /conversations/{id}/withdraw (SLA-2).

use carethread_core::api;
use carethread_core::ops::conversations::{self, ReplyRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let id = api::path_param(req, "id");
        if api::route_key(req) == "POST /conversations/{id}/withdraw" {
            return conversations::withdraw(app, &ctx, &id).await.and_then(|b| api::answer(201, b));
        }
        let body: ReplyRequest = api::json_body(req)?;
        conversations::reply(app, &ctx, &id, body).await.and_then(|b| api::answer(201, b))
    })
    .await)
}
