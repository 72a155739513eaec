//! `directory`: POST /staff, POST /patients, POST /workgroups (admin class) and
//! GET /patients?q=, GET /staff and GET /workgroups (staff), PATCH /workgroups/{id} (admin
//! class) (ROLE-1, ROLE-5, ROLE-6); the
//! user lifecycle: PATCH /staff/{id}, GET and PATCH /patients/{id} and their invitations (ACCT-2), and
//! the reset of a lost second factor (ACCT-3).

use carethread_core::api;
use carethread_core::ops::{accounts, directory, workgroups};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| match api::route_key(&req).as_str() {
        "POST /staff" => directory::add_staff(app, &ctx, api::json_body(&req)?).await.and_then(|b| api::answer(201, b)),
        "POST /patients" => {
            directory::add_patient(app, &ctx, api::json_body(&req)?).await.and_then(|b| api::answer(201, b))
        }
        "POST /workgroups" => {
            directory::add_workgroup(app, &ctx, api::json_body(&req)?).await.and_then(|b| api::answer(201, b))
        }
        "GET /patients" => {
            let limit = api::limit_param(&req)?;
            directory::find_patients(app, &ctx, api::query_param(&req, "q").as_deref(), limit)
                .await
                .and_then(|b| api::answer(200, b))
        }
        "GET /staff" => {
            let include = api::query_param(&req, "include");
            directory::list_staff(app, &ctx, include.as_deref()).await.and_then(|b| api::answer(200, b))
        }
        "GET /workgroups" => directory::list_workgroups(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "PATCH /workgroups/{id}" => {
            let id = api::path_param(&req, "id");
            workgroups::update_workgroup(app, &ctx, &id, api::json_body(&req)?).await.and_then(|b| api::answer(200, b))
        }
        "PATCH /staff/{id}" => {
            let id = api::path_param(&req, "id");
            accounts::update_staff(app, &ctx, &id, api::json_body(&req)?).await.and_then(|b| api::answer(200, b))
        }
        "POST /staff/{id}/invitation" => {
            accounts::invite_staff(app, &ctx, &api::path_param(&req, "id")).await.and_then(|b| api::answer(202, b))
        }
        "GET /patients/{id}" => {
            accounts::get_patient(app, &ctx, &api::path_param(&req, "id")).await.and_then(|b| api::answer(200, b))
        }
        "PATCH /patients/{id}" => {
            let id = api::path_param(&req, "id");
            accounts::update_patient(app, &ctx, &id, api::json_body(&req)?).await.and_then(|b| api::answer(200, b))
        }
        "POST /patients/{id}/invitation" => {
            accounts::invite_patient(app, &ctx, &api::path_param(&req, "id")).await.and_then(|b| api::answer(202, b))
        }
        "DELETE /staff/{id}/totp" => {
            let id = api::path_param(&req, "id");
            accounts::reset_totp(app, &ctx, &id, true).await.and_then(|()| api::answer(204, serde_json::Value::Null))
        }
        "DELETE /patients/{id}/totp" => {
            let id = api::path_param(&req, "id");
            accounts::reset_totp(app, &ctx, &id, false).await.and_then(|()| api::answer(204, serde_json::Value::Null))
        }
        _ => Err(api::not_found_route()),
    })
    .await)
}
