//! `unread-reminders`: every 15 minutes, reminds senders of messages their patient has not
//! read within the hours they asked for (NOTIFY-5), run by an EventBridge schedule.

use carethread_core::jobs::reminders::{send_due, ReminderReport};
use carethread_core::jobs::{scheduled_at, ScheduleEvent};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

pub async fn handle(app: &App, schedule: LambdaEvent<ScheduleEvent>) -> Result<ReminderReport, Error> {
    let report = send_due(app, scheduled_at(&schedule.payload), 25).await?;
    tracing::info!(reminded = report.reminded, already_read = report.already_read, "unread reminders done");
    Ok(report)
}
