//! `retention-purge`: the daily retention job (SEC-5), run by an EventBridge schedule.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use carethread_core::ops::conversations::{purge_expired, PurgeReport};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

/// Purges what every practice's retention period has passed, as of now.
pub async fn handle(app: &App, _schedule: LambdaEvent<EventBridgeEvent>) -> Result<PurgeReport, Error> {
    let report = purge_expired(app, carethread_core::ids::Timestamp::now(), 25).await?;
    tracing::info!(practices = report.practices, conversations = report.conversations, "retention purge done");
    Ok(report)
}
