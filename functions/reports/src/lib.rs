//! `reports`: the billing report of billable replies (REPLY-2) and the audit log (SEC-2).

use carethread_core::api;
use carethread_core::ops::reports::{self, AuditScope};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| match api::route_key(&req).as_str() {
        "GET /audit" => {
            let q = |name: &str| api::query_param(&req, name);
            let scope = AuditScope::parse(q("conversationId").as_deref(), q("patientId").as_deref())?;
            let limit = api::limit_param(&req)?;
            reports::audit_log(app, &ctx, scope, limit, q("cursor").as_deref()).await.and_then(|b| api::answer(200, b))
        }
        _ => {
            let (from, to) = (api::query_param(&req, "from"), api::query_param(&req, "to"));
            reports::billing(app, &ctx, from.as_deref(), to.as_deref()).await.and_then(|b| api::answer(200, b))
        }
    })
    .await)
}
