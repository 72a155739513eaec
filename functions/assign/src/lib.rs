//! `assign`: POST /conversations/{id}/assign (ASSIGN-1, ASSIGN-2, ROLE-4) and
//! POST /conversations/{id}/forward (ASSIGN-3).

use carethread_core::api;
use carethread_core::ops::conversations::{self, AssignRequest, ForwardRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, |ctx| async move {
        let id = api::path_param(req, "id");
        match api::route_key(req).as_str() {
            "POST /conversations/{id}/forward" => {
                let body: ForwardRequest = api::json_body(req)?;
                conversations::forward(app, &ctx, &id, body).await.and_then(|b| api::answer(201, b))
            }
            _ => {
                let body: AssignRequest = api::json_body(req)?;
                conversations::assign(app, &ctx, &id, body).await.and_then(|b| api::answer(200, b))
            }
        }
    })
    .await)
}
