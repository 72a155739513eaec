//! Boots the `audit-chain` Lambda function: tracing, the clients (once per cold start), the handler.

use lambda_http::lambda_runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = carethread_core::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| audit_chain::handle(&app, event))).await
}
