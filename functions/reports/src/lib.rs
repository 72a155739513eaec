//! `reports`: the billing report of billable replies (REPLY-2).

use carethread_core::api;
use carethread_core::ops::reports;
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let outcome = async {
        let ctx = api::context(&req, false)?;
        let (from, to) = (api::query_param(&req, "from"), api::query_param(&req, "to"));
        reports::billing(app, &ctx, from.as_deref(), to.as_deref()).await.map(|b| (200, b))
    }
    .await;
    Ok(api::respond(&api::request_id(&req), outcome))
}
