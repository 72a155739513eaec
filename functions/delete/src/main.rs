//! Boots the `delete` Lambda function: tracing, the clients (once per cold start), the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = carethread_core::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| delete::handle(&app, req))).await
}
