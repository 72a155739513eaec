//! `settings`: practice settings (SET-1), the caller's out-of-office (REPLY-5) and
//! notification preferences with the proof of a new destination (NOTIFY-1, ACCT-4), the
//! caller's second factor (ACCT-3), and the patient banner (COMPOSE-3).

use carethread_core::api;
use carethread_core::ops::notifications::{self, NotificationsRequest, VerificationRequest};
use carethread_core::ops::second_factor;
use carethread_core::ops::settings::{self, OutOfOfficeRequest, SettingsPatch};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| match api::route_key(&req).as_str() {
        "GET /settings" => settings::get(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "PUT /settings" => {
            let patch: SettingsPatch = api::json_body(&req)?;
            settings::put(app, &ctx, patch).await.and_then(|b| api::answer(200, b))
        }
        "GET /me/out-of-office" => settings::get_out_of_office(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "PUT /me/out-of-office" => {
            let body: Option<OutOfOfficeRequest> = api::json_body(&req)?;
            settings::put_out_of_office(app, &ctx, body).await.and_then(|b| api::answer(200, b))
        }
        "GET /me/notifications" => notifications::get_notifications(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "PUT /me/notifications" => {
            let body: NotificationsRequest = api::json_body(&req)?;
            notifications::put_notifications(app, &ctx, body).await.and_then(|(status, b)| api::answer(status, b))
        }
        "POST /me/notifications/verification" => {
            let body: VerificationRequest = api::json_body(&req)?;
            notifications::verify_destination(app, &ctx, body).await.and_then(|b| api::answer(200, b))
        }
        "GET /me/totp" => second_factor::status(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "POST /me/totp" => second_factor::confirm(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "GET /portal/banner" => settings::banner(app, &ctx).await.and_then(|b| api::answer(200, b)),
        _ => Err(api::not_found_route()),
    })
    .await)
}
