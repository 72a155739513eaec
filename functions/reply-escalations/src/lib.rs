//! `reply-escalations`: every 5 minutes, co-assigns questions left waiting past the
//! practice's share of their reply target and notes it in the thread (SLA-4), run by an
//! EventBridge schedule.

use carethread_core::jobs::escalations::{escalate_due, EscalationReport};
use carethread_core::jobs::{scheduled_at, ScheduleEvent};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

pub async fn handle(app: &App, schedule: LambdaEvent<ScheduleEvent>) -> Result<EscalationReport, Error> {
    let report = escalate_due(app, scheduled_at(&schedule.payload), 25).await?;
    tracing::info!(escalated = report.escalated, moot = report.moot, "reply escalations done");
    Ok(report)
}
