//! `attachment-sweeper`, hourly: files past their retention (ATT-6) and uploads never attached.

use crate::app::App;
use crate::error::Result;
use crate::store::SweepQueue;

/// What a sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub expired: u64,
    pub orphans: u64,
}

/// The attachment sweeper (ATT-6 and orphans), run by the `attachment-sweeper` schedule with
/// the clock passed in: files past their retention after the patient's first download are
/// deleted (the record stays, `expired`); uploads never attached within 24 hours are deleted
/// with their records.
pub async fn sweep(app: &App, now: crate::domain::Timestamp, batch: usize) -> Result<SweepReport> {
    let mut report = SweepReport::default();
    let now_text = now;
    let orphan_cutoff = now - crate::domain::SignedDuration::from_hours(24);
    for p in app.store.practice_ids().await? {
        loop {
            let due = app.store.attachments_queued(&p, SweepQueue::Expiring, now_text, batch).await?;
            if due.is_empty() {
                break;
            }
            for a in due {
                app.blobs.delete(&a.object_key).await?;
                app.store.attachment_expired(&p, &a.id).await?;
                report.expired += 1;
            }
        }
        loop {
            let orphans = app.store.attachments_queued(&p, SweepQueue::Unattached, orphan_cutoff, batch).await?;
            if orphans.is_empty() {
                break;
            }
            let mut keys_to_delete = Vec::new();
            for a in &orphans {
                app.blobs.delete(&a.object_key).await?;
                keys_to_delete.push(crate::store::place::attachment(&p, &a.id, None));
            }
            app.store.delete_batch(&keys_to_delete).await?;
            report.orphans += orphans.len() as u64;
        }
    }
    Ok(report)
}
