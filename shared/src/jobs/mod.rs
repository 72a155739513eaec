//! The work no HTTP request starts: each of the eight non-HTTP functions calls one entry point
//! here. Stream consumers take Lambda's typed DynamoDB event and answer a partial batch
//! response; scheduled jobs take the clock as a parameter (`now`), so a test can run them at
//! any moment.
//!
//! - `stream`: the table stream's inserted keys and the partial batch response.
//! - `notifier`: outbox items published through SNS (NOTIFY-1..4).
//! - `audit_chain`: audit events linked into their record's chain (SEC-2).
//! - `sms_inbound`: texts from patients, from SNS (NOTIFY-4).
//! - `reminders`: `unread-reminders`, every 15 minutes (NOTIFY-5).
//! - `escalations`: `reply-escalations`, every 5 minutes (SLA-4).
//! - `evisit_windows`: `evisit-windows`, hourly (EVISIT-2).
//! - `retention`: `retention-purge`, daily (SEC-5).
//! - `sweeper`: `attachment-sweeper`, hourly (ATT-6).

pub mod audit_chain;
pub mod escalations;
pub mod evisit_windows;
pub mod notifier;
pub mod reminders;
pub mod retention;
pub mod sms_inbound;
pub mod stream;
pub mod sweeper;

/// The schedule's event, as EventBridge delivers it to the scheduled jobs.
pub type ScheduleEvent = aws_lambda_events::event::eventbridge::EventBridgeEvent;

/// The moment a scheduled run is for: the event's `time` (the schedule's slot, so a delayed
/// or retried run acts as of its slot, and a test or a sample event can choose it); the
/// clock only for an event without one.
pub fn scheduled_at(event: &ScheduleEvent) -> crate::domain::Timestamp {
    event
        .time
        .and_then(|t| crate::domain::Timestamp::from_second(t.timestamp()).ok())
        .unwrap_or_else(crate::domain::Timestamp::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_run_is_for_its_slot() {
        let event: ScheduleEvent = serde_json::from_str(include_str!("../../../events/retention-purge.json")).unwrap();
        assert_eq!(scheduled_at(&event).to_string(), "2026-11-23T03:00:00.000000Z");
    }
}
