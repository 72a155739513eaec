//! `audit-chain`: links each new audit event into its record's hash chain (SEC-2), from the
//! table's stream (audit inserts only). Locally the gateway plays the stream trigger.

use carethread_core::jobs::stream::{BatchResponse, StreamEvent};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

/// One stream batch; answers the `batchItemFailures` of Lambda's partial batch response.
pub async fn handle(app: &App, event: LambdaEvent<StreamEvent>) -> Result<BatchResponse, Error> {
    Ok(carethread_core::jobs::audit_chain::handle_stream(app, &event.payload).await)
}
