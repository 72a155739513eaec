//! `notifier`: consumes the table's stream (inserted outbox items only) and publishes each
//! message's notifications through SNS (NOTIFY-1 to NOTIFY-4). Locally the gateway plays the
//! stream trigger and calls this handler in-process.

use carethread_core::jobs::stream::{BatchResponse, StreamEvent};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

/// One stream batch; answers the `batchItemFailures` of Lambda's partial batch response.
pub async fn handle(app: &App, event: LambdaEvent<StreamEvent>) -> Result<BatchResponse, Error> {
    Ok(carethread_core::jobs::notifier::handle_stream(app, &event.payload).await)
}
