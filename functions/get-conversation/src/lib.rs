//! `get-conversation`: GET /conversations/{id} (CONV-1, CONV-2).

use carethread_core::api;
use carethread_core::ops::conversations;
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let outcome = async {
        let ctx = api::context(&req, false)?;
        conversations::get_conversation(app, &ctx, &api::path_param(&req, "id")).await.map(|b| (200, b))
    }
    .await;
    Ok(api::respond(&api::request_id(&req), outcome))
}
