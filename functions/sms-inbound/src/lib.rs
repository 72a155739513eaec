//! `sms-inbound`: texts from patients (NOTIFY-4), delivered by the SNS topic that AWS End User
//! Messaging two-way SMS publishes to. Locally, `POST /_local/sms` plays that delivery.

use carethread_core::jobs::sms_inbound::{handle_sns_event, InboundSmsEvent, Received};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

/// One SNS delivery; an error makes SNS retry it, which stores nothing twice.
pub async fn handle(app: &App, event: LambdaEvent<InboundSmsEvent>) -> Result<Vec<Received>, Error> {
    let received = handle_sns_event(app, &event.payload).await?;
    tracing::info!(texts = received.len(), "inbound texts stored");
    Ok(received)
}
