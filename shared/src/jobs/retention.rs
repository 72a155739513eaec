//! `retention-purge`, daily (SEC-5): conversations past their practice's retention period go,
//! with their files; the audit log keeps each purge.

use crate::app::{App, RequestCtx};
use crate::domain::{Caller, Role};
use crate::error::Result;
use crate::ops::conversations::erase_conversation;

/// What a retention run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    pub practices: u64,
    pub conversations: u64,
}

/// SEC-5: deletes, in every practice with a retention period, the conversations whose last
/// activity is older than the period at `now` (with their files); the audit log keeps each
/// purge. Run daily by the `retention-purge` function; `now` is a parameter so a test can
/// run it with a fixed clock.
pub async fn purge_expired(app: &App, now: crate::domain::Timestamp, batch: usize) -> Result<PurgeReport> {
    let mut report = PurgeReport::default();
    for practice_id in app.store.practice_ids().await? {
        let Some(practice) = app.store.practice(&practice_id).await? else { continue };
        let Some(days) = practice.settings.retention_days else { continue };
        report.practices += 1;
        let cutoff = now - crate::domain::SignedDuration::from_hours(24 * i64::from(days));
        let ctx = RequestCtx {
            caller: Caller {
                practice_id: practice_id.clone(),
                user_id: crate::domain::UserId::from_stored("retention"),
                role: Role::Admin,
            },
            request_id: crate::domain::new_id("purge_"),
            idempotency: None,
            signed_in_at: None,
            admitted: Default::default(),
            now,
        };
        loop {
            let ids = app.store.conversations_idle_since(&practice_id, cutoff, batch).await?;
            if ids.is_empty() {
                break;
            }
            for id in ids {
                if let Some((conversation, messages)) = app.store.thread(&practice_id, &id).await? {
                    erase_conversation(app, &ctx, &conversation, &messages, "conversation.purge", false).await?;
                    report.conversations += 1;
                }
            }
        }
    }
    Ok(report)
}
