//! `conversation-state`: PUT /conversations/{id}/state, the caller's own flags (CONV-3, CONV-4).

use carethread_core::api;
use carethread_core::ops::conversations::{self, StateRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let outcome = async {
        let ctx = api::context(&req, false)?;
        let body: StateRequest = api::json_body(&req)?;
        conversations::set_state(app, &ctx, &api::path_param(&req, "id"), body).await.map(|b| (200, b))
    }
    .await;
    Ok(api::respond(&api::request_id(&req), outcome))
}
