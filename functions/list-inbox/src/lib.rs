//! `list-inbox`: GET /inbox (INBOX-1, INBOX-5) and GET /inbox/stats (INBOX-4).

use carethread_core::api;
use carethread_core::ops::inbox::{self, InboxQuery};
use carethread_core::App;
use lambda_http::{Body, Error, Request, Response};

#[tracing::instrument(skip_all, fields(request_id = %api::request_id(&req)))]
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    Ok(api::serve(app, &req, async |ctx| match api::route_key(&req).as_str() {
        "GET /inbox/stats" => inbox::stats(app, &ctx).await.and_then(|b| api::answer(200, b)),
        "GET /inbox" => {
            let query = InboxQuery::parse(&api::query_params(&req))?;
            inbox::list(app, &ctx, query).await.and_then(|b| api::answer(200, b))
        }
        _ => Err(api::not_found_route()),
    })
    .await)
}
