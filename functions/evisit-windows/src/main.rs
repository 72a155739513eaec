//! Boots the `evisit-windows` Lambda function: tracing, the clients (once per cold start), the handler.

// One request at a time per process: a single-threaded runtime spares the cross-thread
// wakeups of the multi-threaded one (issue 8: about a fifth less CPU per request).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    carethread_core::logging::init();
    let app = carethread_core::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| evisit_windows::handle(&app, event))).await
}
