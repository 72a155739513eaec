//! The inbox entries of a message whose audience did not fit in its own transaction
//! (`LateEntries`): written from the table's stream by the notifier, before it notifies
//! anyone, with the fan-out rule of `post`. Each viewer's entry, counts and mark go in one
//! transaction, so a retried stream batch writes nobody twice and a failed one is resumed.

use super::post::viewer_write;
use super::*;
use crate::store::Guard;

/// Viewers per transaction: each takes its entry, its counts, its count of conversations
/// about the patient and its mark (four writes), beside the check that the conversation is
/// still there.
const VIEWERS_PER_TX: usize = 24;
/// Reads and writes of one group of viewers whose inboxes keep changing meanwhile.
const ATTEMPTS: u32 = 5;

/// Writes what an outbox item's message still owes to inboxes; answers how many entries it
/// wrote. A conversation deleted meanwhile gets none.
pub async fn write_late_entries(app: &App, outbox: &OutboxItem) -> Result<usize> {
    let Some(late) = &outbox.late_entries else { return Ok(0) };
    let (p, c, m) = (&outbox.practice_id, &outbox.conversation_id, &outbox.message_id);
    let patient = late.summary.patient.as_ref().map(|pr| &pr.id).filter(|_| late.begins);
    let mut written = 0;
    for group in late.viewers.chunks(VIEWERS_PER_TX) {
        let mut attempt = 1;
        loop {
            let seen = app.store.late_viewers(p, group, c, m, patient).await?;
            let mut tx = app.store.tx();
            tx.check_conversation_exists(p, c)?;
            let mut count = 0;
            for (viewer, state) in group.iter().filter_map(|v| seen.get(v).filter(|s| !s.written).map(|s| (v, s))) {
                let mut w = viewer_write(
                    &late.summary,
                    viewer,
                    &late.sender.id,
                    late.begins,
                    Some(state.patient_conversations),
                );
                // It opened the thread meanwhile: the message is not unread for it.
                let read_past = state.last_read_at.is_some_and(|read| read >= late.at);
                w.delta.unread = i64::from(!read_past);
                tx.entry_add_late_message(p, viewer, c, late, state, !read_past)?;
                tx.stats_add(p, viewer, w.delta)?;
                if let (Some(known), Some(pat)) = (w.patient_marker, patient) {
                    tx.patient_marker(p, viewer, pat, known, 1)?;
                }
                tx.late_entry_mark(p, viewer, m, outbox.expires_at)?;
                count += 1;
            }
            if count == 0 {
                break;
            }
            match tx.commit().await? {
                Ok(()) => {
                    written += count;
                    break;
                }
                Err(Guard::Conversation) => return Ok(written),
                // An inbox changed between the read and the write: read it again.
                Err(_) if attempt < ATTEMPTS => attempt += 1,
                Err(guard) => {
                    return Err(Error::Unavailable(format!("late inbox entries kept conflicting ({guard:?})").into()));
                }
            }
        }
    }
    Ok(written)
}
