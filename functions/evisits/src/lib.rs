//! `evisits`: e-visits (EVISIT-1..3): open one on a patient's conversation, record the
//! clinicians' time, read the code it supports, and the patient's yearly consent.

use carethread_core::api;
use carethread_core::ops::evisits::{self, ConsentRequest, TimeRequest};
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
                let body: evisits::VisitRequest = api::json_body(&req)?;
                evisits::record_visit(app, &ctx, &id, body).await.and_then(|b| api::answer(201, b))
            }
            "PUT /patients/{id}/evisit-consent" => {
                let body: ConsentRequest = api::json_body(&req)?;
                evisits::consent(app, &ctx, &id, body).await.and_then(|b| api::answer(200, b))
            }
            _ => Err(api::not_found_route()),
        }
    })
    .await)
}
