//! `unread-reminders`: every 15 minutes, reminds senders of messages their patient has not
//! read within the hours they asked for (NOTIFY-5), run by an EventBridge schedule.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use carethread_core::ops::reminders::{send_due, ReminderReport};
use carethread_core::App;
use lambda_runtime::{Error, LambdaEvent};

pub async fn handle(app: &App, _schedule: LambdaEvent<EventBridgeEvent>) -> Result<ReminderReport, Error> {
    let report = send_due(app, carethread_core::ids::Timestamp::now(), 25).await?;
    tracing::info!(reminded = report.reminded, already_read = report.already_read, "unread reminders done");
    Ok(report)
}
