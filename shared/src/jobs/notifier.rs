//! `notifier`: the table stream's inserted outbox items: the inbox entries a message's own
//! transaction had no room for (`ops::conversations::write_late_entries`), then its
//! notifications, published through SNS (NOTIFY-1 to NOTIFY-4). The outbox item records who
//! has been notified and each late entry leaves a mark, so a retried stream batch (SNS
//! failing, a timeout, a redeploy) writes and sends nothing twice.

use super::stream::{self, BatchResponse, StreamEvent};
use crate::app::App;
use crate::crypto::Binding;
use crate::domain::Directory;
use crate::domain::{Notice, OutboxEntry};
use crate::domain::{NotifyChannel, Timestamp, PATIENT_ID};
use crate::error::Result;
use crate::notify::{
    destination_of, notification_text, publish, remember_sms_peer, Destination, Published, NOTIFICATION_SUBJECT,
};
use crate::store::place::Streamed;
use crate::store::Key;

/// The marker kept in `sent` once a staff reply of an SMS conversation went out as an SMS.
const SMS_REPLY_SENT: &str = "sms-reply";

/// What one delivery did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// Inbox entries written after the message's transaction (a large audience).
    pub late_entries: usize,
    pub published: usize,
    pub undeliverable: usize,
    pub not_notified: usize,
}

/// Sends what an outbox item still owes. Stops at the first SNS failure with a retryable
/// error; whatever was published before is marked and is not sent again.
pub async fn deliver(app: &App, outbox_key: &Key, now: crate::domain::Timestamp) -> Result<DeliveryReport> {
    let at = now;
    let mut report = DeliveryReport::default();
    // Consistent: the marks of a previous attempt must be seen.
    let Some(outbox) = app.store.outbox(outbox_key).await? else { return Ok(report) };
    // First the inboxes, so whoever is notified finds the message there.
    report.late_entries = crate::ops::conversations::write_late_entries(app, &outbox).await?;
    let Some(dir) = app.store.directory(&outbox.practice_id).await? else { return Ok(report) };
    let settings = &dir.practice.settings;
    let text = notification_text(&dir.practice.name, &settings.portal_url, outbox.notice, outbox.urgent);
    for recipient in outbox.recipient_ids.iter().filter(|r| !outbox.sent.iter().any(|s| s == r.as_str())) {
        match destination_of(app, &dir, recipient).await? {
            Some(to) => {
                let id = format!("{}:{}:{recipient}", outbox.message_id, notice_name(outbox.notice));
                match publish(app, settings, &to, NOTIFICATION_SUBJECT, &text, &id).await? {
                    Published::Sent => report.published += 1,
                    Published::Undeliverable => report.undeliverable += 1,
                }
                // A patient's answer to this SMS belongs to this conversation (NOTIFY-4).
                if to.channel == NotifyChannel::Sms && recipient.starts_with(PATIENT_ID) {
                    remember_sms_peer(app, &dir, &to.address, Some(recipient), &outbox.conversation_id, at).await?;
                }
            }
            None => report.not_notified += 1,
        }
        app.store.outbox_mark_sent(outbox_key, recipient).await?;
    }
    if outbox.sms_reply && !outbox.sent.iter().any(|s| s == SMS_REPLY_SENT) {
        send_sms_reply(app, &dir, &outbox, at).await?;
        app.store.outbox_mark_sent(outbox_key, SMS_REPLY_SENT).await?;
        report.published += 1;
    }
    Ok(report)
}

fn notice_name(n: Notice) -> &'static str {
    match n {
        Notice::NewMessage => "new",
        Notice::UnreadReminder => "reminder",
    }
}

/// NOTIFY-4: a staff reply in an SMS conversation goes to the conversation's number as an SMS,
/// from the practice's number. The text is the message itself: the patient chose SMS.
async fn send_sms_reply(app: &App, dir: &Directory, outbox: &OutboxEntry, at: Timestamp) -> Result<()> {
    let p = &dir.practice.id;
    let Some((conversation, messages)) = app.store.thread(p, &outbox.conversation_id).await? else { return Ok(()) };
    let (Some(peer), Some(message)) =
        (conversation.sms_peer.as_ref(), messages.iter().find(|m| m.id == outbox.message_id))
    else {
        return Ok(());
    };
    let number = app
        .envelope
        .open_string(Binding { practice_id: p, record: &conversation.id, field: "smsPeer" }, &peer.0)
        .await?;
    let record = format!("{}/{}", conversation.id, message.id);
    let body =
        app.envelope.open_string(Binding { practice_id: p, record: &record, field: "body" }, &message.body.0).await?;
    let to = Destination { channel: NotifyChannel::Sms, address: number };
    publish(app, &dir.practice.settings, &to, NOTIFICATION_SUBJECT, &body, &format!("{}:sms", outbox.message_id))
        .await?;
    let patient_id = conversation.summary.patient.as_ref().map(|pat| &pat.id);
    remember_sms_peer(app, dir, &to.address, patient_id, &conversation.id, at).await
}

/// The notifier: a batch of the table's stream (Lambda's DynamoDB event). Only inserted
/// outbox items matter (template.yaml filters the rest out before Lambda is even invoked).
/// On a failure the answer names the first failed record, so Lambda retries from there
/// (`ReportBatchItemFailures`); records before it are done, records after it are retried and
/// their marks make that harmless.
pub async fn handle_stream(app: &App, event: &StreamEvent) -> BatchResponse {
    // One clock reading per batch, as one per request.
    let now = crate::domain::Timestamp::now();
    for item in stream::inserted(event) {
        let done = match &item.item {
            Streamed::Outbox(key) => deliver(app, key, now).await.map(|report| {
                tracing::info!(
                    late_entries = report.late_entries,
                    published = report.published,
                    undeliverable = report.undeliverable,
                    not_notified = report.not_notified,
                    "outbox delivered"
                )
            }),
            Streamed::SummaryRefresh(key) => crate::ops::conversations::refresh_summaries(app, key)
                .await
                .map(|written| tracing::info!(written, "summaries refreshed")),
            Streamed::EntryRemoval(key) => crate::ops::conversations::remove_entries(app, key)
                .await
                .map(|removed| tracing::info!(removed, "entries removed")),
            Streamed::MessageRemoval(key) => crate::ops::conversations::remove_message(app, key)
                .await
                .map(|changed| tracing::info!(changed, "message removed from entries")),
            Streamed::MembershipBackfill(key) => crate::ops::workgroups::backfill_workgroup(app, key, now)
                .await
                .map(|changed| tracing::info!(changed, "workgroup members back-filled")),
            _ => continue,
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "outbox delivery failed; the batch is retried from this record");
            return stream::batch_response(Some(&item.sequence_number));
        }
    }
    stream::batch_response(None)
}
