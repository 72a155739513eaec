//! `evisit-windows`: hourly, records the code and flags of every e-visit whose seven-day
//! window ended and notes them in its thread (EVISIT-2), run by an EventBridge schedule.

use carethread_core::jobs::evisit_windows::{record_ended, WindowReport};
use carethread_core::jobs::{scheduled_at, ScheduleEvent};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

pub async fn handle(app: &App, schedule: LambdaEvent<ScheduleEvent>) -> Result<WindowReport, Error> {
    let report = record_ended(app, scheduled_at(&schedule.payload), 25).await?;
    tracing::info!(recorded = report.recorded, moot = report.moot, "e-visit windows done");
    Ok(report)
}
