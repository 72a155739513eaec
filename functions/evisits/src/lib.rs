//! `evisits`: e-visits (EVISIT-1..3): open one on a patient's conversation, record the
//! clinicians' time (or correct it by hand), read the code it supports, and the patient's
//! yearly consent (asked for in the portal).

use carethread_core::api;
use carethread_core::ops::evisit_patients::{self, ConsentRequest, VisitRequest};
use carethread_core::ops::evisits::{self, TimeRequest};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| {
        let id = api::path_param(&req, "id");
        match api::route_key(&req).as_str() {
            "POST /conversations/{id}/evisit" => evisits::open(app, &ctx, &id).await.and_then(|b| api::answer(201, b)),
            "POST /conversations/{id}/evisit/time" => {
                let body: TimeRequest = api::json_body(&req)?;
                evisits::add_time(app, &ctx, &id, body).await.and_then(|b| api::answer(201, b))
            }
            "PATCH /conversations/{id}/evisit" => {
                let body: evisits::EVisitPatch = api::json_body(&req)?;
                evisits::mark(app, &ctx, &id, body).await.and_then(|b| api::answer(200, b))
            }
            "GET /conversations/{id}/evisit" => evisits::get(app, &ctx, &id).await.and_then(|b| api::answer(200, b)),
            "POST /patients/{id}/visits" => {
                let body: VisitRequest = api::json_body(&req)?;
                evisit_patients::record_visit(app, &ctx, &id, body).await.and_then(|b| api::answer(201, b))
            }
            "GET /patients/{id}/evisit-consent" => {
                evisit_patients::consent_state(app, &ctx, &id).await.and_then(|b| api::answer(200, b))
            }
            "PUT /patients/{id}/evisit-consent" => {
                let body: ConsentRequest = api::json_body(&req)?;
                evisit_patients::consent(app, &ctx, &id, body).await.and_then(|b| api::answer(200, b))
            }
            _ => Err(api::not_found_route()),
        }
    })
    .await)
}
