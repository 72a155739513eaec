//! `compose`: POST /conversations (COMPOSE-1, COMPOSE-2, COMPOSE-3, COMPOSE-4).

use carethread_core::api;
use carethread_core::ops::conversations::{self, ComposeRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let body: ComposeRequest = api::json_body(req)?;
        conversations::compose(app, &ctx, body).await.and_then(|b| api::answer(201, b))
    })
    .await)
}
