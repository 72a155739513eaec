//! `attachment-sweeper`: the hourly attachment sweep (ATT-6 and orphans), run by an
//! EventBridge schedule.

use carethread_core::jobs::sweeper::{sweep, SweepReport};
use carethread_core::jobs::{scheduled_at, ScheduleEvent};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

/// Deletes the files whose retention ran out and the uploads never attached, as of now.
pub async fn handle(app: &App, schedule: LambdaEvent<ScheduleEvent>) -> Result<SweepReport, Error> {
    let report = sweep(app, scheduled_at(&schedule.payload), 25).await?;
    tracing::info!(expired = report.expired, orphans = report.orphans, "attachment sweep done");
    Ok(report)
}
