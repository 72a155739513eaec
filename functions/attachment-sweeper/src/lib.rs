//! `attachment-sweeper`: the hourly attachment sweep (ATT-6 and orphans), run by an
//! EventBridge schedule.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use carethread_core::ops::attachments::{sweep, SweepReport};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

/// Deletes the files whose retention ran out and the uploads never attached, as of now.
pub async fn handle(app: &App, _schedule: LambdaEvent<EventBridgeEvent>) -> Result<SweepReport, Error> {
    let report = sweep(app, carethread_core::ids::Timestamp::now(), 25).await?;
    tracing::info!(expired = report.expired, orphans = report.orphans, "attachment sweep done");
    Ok(report)
}
