//! `tasks`: tasks linked to a message (CONV-7).

use carethread_core::api;
use carethread_core::ops::tasks::{self, TaskPatch, TaskRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| match api::route_key(&req).as_str() {
        "POST /conversations/{id}/messages/{messageId}/tasks" => {
            let body: TaskRequest = api::json_body(&req)?;
            let (id, message) = (api::path_param(&req, "id"), api::path_param(&req, "messageId"));
            tasks::create(app, &ctx, &id, &message, body).await.and_then(|b| api::answer(201, b))
        }
        "GET /tasks" => tasks::list(app, &ctx, api::query_param(&req, "assignee").as_deref())
            .await
            .and_then(|b| api::answer(200, b)),
        "PATCH /tasks/{id}" => {
            let body: TaskPatch = api::json_body(&req)?;
            tasks::patch(app, &ctx, &api::path_param(&req, "id"), body).await.and_then(|b| api::answer(200, b))
        }
        _ => Err(api::not_found_route()),
    })
    .await)
}
