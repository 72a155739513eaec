//! `reports`: the billing report of billable replies (REPLY-2), the response-time report
//! (SLA-5) and the audit log (SEC-2).

use carethread_core::api::{self, Answer};
use carethread_core::ops::reports::{self, AuditScope};
use carethread_core::ops::response_times::{self, GroupBy};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let req = &req;
    Ok(api::serve(app, req, async |ctx| {
        let q = |name: &str| api::query_param(req, name);
        match api::route_key(req).as_str() {
            "GET /audit" => {
                let scope = AuditScope::parse(q("conversationId").as_deref(), q("patientId").as_deref())?;
                let limit = api::limit_param(req)?;
                reports::audit_log(app, &ctx, scope, limit, q("cursor").as_deref())
                    .await
                    .and_then(|b| api::answer(200, b))
            }
            "GET /audit/verification" => {
                let scope = AuditScope::parse(q("conversationId").as_deref(), q("patientId").as_deref())?;
                reports::audit_verification(app, &ctx, scope).await.and_then(|b| api::answer(200, b))
            }
            "GET /reports/response-times" => {
                let group_by = GroupBy::parse(q("groupBy").as_deref())?;
                let report =
                    response_times::report(app, &ctx, q("from").as_deref(), q("to").as_deref(), group_by).await?;
                if api::accepts(req, "text/csv") {
                    return Ok(Answer::Document { content_type: "text/csv; charset=utf-8", body: report.to_csv() });
                }
                api::answer(200, report)
            }
            _ => {
                let report = reports::billing(app, &ctx, q("from").as_deref(), q("to").as_deref()).await?;
                if api::accepts(req, "text/csv") {
                    return Ok(Answer::Document { content_type: "text/csv; charset=utf-8", body: report.to_csv() });
                }
                api::answer(200, report)
            }
        }
    })
    .await)
}
