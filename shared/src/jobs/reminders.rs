//! NOTIFY-5: reminders for messages left unread. A staff message to a patient sent with
//! notify-if-unread (REPLY-2) is written with a reminder item due that many hours later. The
//! scheduled `unread-reminders` function takes the due ones: if the patient has not opened the
//! conversation since the message, the sender gets an outbox notification (no PHI, as every
//! notification); either way the reminder is deleted in the same transaction, so each
//! message reminds at most once even when two runs overlap.

use crate::app::App;
use crate::domain::{Notice, OutboxEntry, Reminder};
use crate::error::Result;
use crate::store::place;
use crate::store::Guard;

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderReport {
    pub reminded: u64,
    pub already_read: u64,
}

/// Takes every reminder due before `now`, in every practice.
pub async fn send_due(app: &App, now: crate::domain::Timestamp, batch: usize) -> Result<ReminderReport> {
    let mut report = ReminderReport::default();
    let cutoff = now;
    for p in app.store.practice_ids().await? {
        loop {
            let due = app.store.reminders_due(&p, cutoff, batch).await?;
            if due.is_empty() {
                break;
            }
            for (key, r) in due {
                let read = app
                    .store
                    .entry(&p, &r.patient_id, &r.conversation_id)
                    .await?
                    .and_then(|e| e.last_read_at)
                    .is_some_and(|at| at >= r.message_at);
                let mut tx = app.store.tx();
                tx.delete_existing(Guard::Reminder, &key)?;
                if !read {
                    tx.put(Guard::Outbox, place::reminder_outbox(&r.message_id), &reminder_outbox(&r, now))?;
                }
                // Taken by an overlapping run: nothing to count.
                if tx.commit().await?.is_ok() {
                    if read {
                        report.already_read += 1;
                    } else {
                        report.reminded += 1;
                    }
                }
            }
        }
    }
    Ok(report)
}

fn reminder_outbox(r: &Reminder, now: crate::domain::Timestamp) -> OutboxEntry {
    OutboxEntry {
        practice_id: r.practice_id.clone(),
        conversation_id: r.conversation_id.clone(),
        message_id: r.message_id.clone(),
        recipient_ids: vec![r.sender_id.clone()],
        urgent: false,
        created_at: now,
        expires_at: now.as_second() + 7 * 24 * 3600,
        notice: Notice::UnreadReminder,
        sms_reply: false,
        sent: Vec::new(),
        late_entries: None,
    }
}
