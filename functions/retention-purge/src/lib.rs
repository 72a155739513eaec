//! `retention-purge`: the daily retention job (SEC-5), run by an EventBridge schedule.

use carethread_core::jobs::retention::{purge_expired, PurgeReport};
use carethread_core::jobs::{scheduled_at, ScheduleEvent};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

/// Purges what every practice's retention period has passed, as of now.
pub async fn handle(app: &App, schedule: LambdaEvent<ScheduleEvent>) -> Result<PurgeReport, Error> {
    let report = purge_expired(app, scheduled_at(&schedule.payload), 25).await?;
    tracing::info!(practices = report.practices, conversations = report.conversations, "retention purge done");
    Ok(report)
}
