//! What a change owes the inboxes its own transaction had no room for (an audience larger
//! than one transaction holds), carried out by the notifier from the table's stream:
//! - a message's entries (`LateEntries`), before anyone is notified, with the fan-out rule of
//!   `post`: each viewer's entry, counts and mark go in one transaction, so a retried stream
//!   batch writes nobody twice and a failed one is resumed;
//! - a conversation's changed summary (`SummaryRefresh`: closed, reopened, assigned),
//!   copied into each remaining entry unless it holds a newer one.

use super::post::viewer_write;
use super::*;
use crate::store::{Guard, Tx};

/// Viewers per transaction: each takes its entry, its counts, its count of conversations
/// about the patient and its mark (four writes), beside the check that the conversation is
/// still there.
const VIEWERS_PER_TX: usize = 24;
/// Reads and writes of one group of viewers whose inboxes keep changing meanwhile.
const ATTEMPTS: u32 = 5;

/// One group's transaction and how many it changes, built from a fresh read; nothing when
/// nothing is left to change.
type Group<'s> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<(Tx<'s>, usize)>>> + Send + 's>>;

/// Reads, builds and commits one group's transaction until it holds: where the conversation
/// or an inbox changed between the read and the write, it reads again (at most `ATTEMPTS`
/// times; then the stream retries the record). `build` answers the transaction and how many
/// it changes, or nothing when nothing is left to change. Answers how many it changed.
async fn until_committed<'s>(what: &str, mut build: impl FnMut() -> Group<'s>) -> Result<usize> {
    let mut attempt = 1;
    loop {
        let Some((tx, count)) = build().await? else { return Ok(0) };
        match tx.commit().await? {
            Ok(()) => return Ok(count),
            Err(_) if attempt < ATTEMPTS => attempt += 1,
            Err(guard) => return Err(Error::Unavailable(format!("{what} kept conflicting ({guard:?})").into())),
        }
    }
}

/// Writes what an outbox item's message still owes to inboxes; answers how many entries it
/// wrote. Each carries the conversation's summary as it is when written.
pub async fn write_late_entries(app: &App, outbox: &OutboxEntry) -> Result<usize> {
    let Some(late) = &outbox.late_entries else { return Ok(0) };
    let (p, c, m) = (&outbox.practice_id, &outbox.conversation_id, &outbox.message_id);
    let mut written = 0;
    for group in late.viewers.chunks(VIEWERS_PER_TX) {
        written += until_committed("late inbox entries", || {
            Box::pin(async move {
                // A conversation deleted meanwhile gets no entries.
                let Some(conversation) = app.store.conversation_now(p, c).await? else { return Ok(None) };
                let patient = conversation.summary.patient.as_ref().map(|pr| &pr.id).filter(|_| late.begins);
                let seen = app.store.late_viewers(p, group, c, m, patient).await?;
                let mut tx = app.store.tx();
                tx.check_conversation_version(&conversation)?;
                let mut count = 0;
                for (viewer, state) in group.iter().filter_map(|v| seen.get(v).filter(|s| !s.written).map(|s| (v, s))) {
                    let known = Some(state.patient_conversations);
                    let mut w = viewer_write(&conversation.summary, viewer, &late.sender.id, late.begins, known);
                    // It opened the thread meanwhile: the message is not unread for it.
                    let read_past = state.last_read_at.is_some_and(|read| read >= late.at);
                    w.delta.unread = i64::from(!read_past);
                    tx.entry_add_late_message(p, viewer, &conversation, late, state, !read_past)?;
                    tx.stats_add(p, viewer, w.delta)?;
                    if let (Some(known), Some(pat)) = (w.patient_marker, patient) {
                        tx.patient_marker(p, viewer, pat, known, 1)?;
                    }
                    tx.late_entry_mark(p, viewer, m, outbox.expires_at)?;
                    count += 1;
                }
                Ok((count > 0).then_some((tx, count)))
            })
        })
        .await?;
    }
    Ok(written)
}

/// Items a route may still add after the summaries: the refresh item and the audit event.
const ITEMS_AFTER_SUMMARIES: usize = 4;

/// Writes `conversation`'s summary into the entries of `viewers` with `write` (each takes one
/// item), as many as `tx` has room for; the rest, and the new viewers `joined_late` whose
/// entries did not fit either, are left to the notifier (a refresh item).
pub(super) fn write_summaries(
    tx: &mut Tx<'_>,
    conversation: &Conversation,
    viewers: &[&UserId],
    joined_late: &[UserId],
    now: Timestamp,
    mut write: impl FnMut(&mut Tx<'_>, &UserId) -> Result<()>,
) -> Result<()> {
    let room = Tx::MAX_ITEMS.saturating_sub(tx.len() + ITEMS_AFTER_SUMMARIES);
    let (in_tx, late) = viewers.split_at(room.min(viewers.len()));
    for v in in_tx {
        write(tx, v)?;
    }
    if !late.is_empty() || !joined_late.is_empty() {
        let refresh = SummaryRefresh {
            practice_id: conversation.practice_id.clone(),
            conversation_id: conversation.id.clone(),
            viewers: late.iter().map(|v| (*v).clone()).collect(),
            joined: joined_late.to_vec(),
            expires_at: now.as_second() + 7 * 86_400,
        };
        tx.put(Guard::Outbox, place::summary_refresh(&conversation.id, conversation.version), &refresh)?;
    }
    Ok(())
}

/// Copies a conversation's current summary into the entries a change left to the notifier,
/// then gives the new viewers it left their entries; answers how many it wrote (an entry gone
/// or holding a newer copy is left as it is).
pub async fn refresh_summaries(app: &App, key: &Key) -> Result<usize> {
    let Some(refresh) = app.store.summary_refresh(key).await? else { return Ok(0) };
    let Some(conversation) = app.store.conversation_now(&refresh.practice_id, &refresh.conversation_id).await? else {
        return Ok(0);
    };
    let mut written = 0;
    for viewer in &refresh.viewers {
        written += usize::from(app.store.entry_refresh_summary(viewer, &conversation).await?);
    }
    for group in refresh.joined.chunks(VIEWERS_PER_TX) {
        written += until_committed("late joiners", || Box::pin(join_late(app, &refresh, group))).await?;
    }
    Ok(written)
}

/// One group of late joiners' transaction, from a fresh read: each that the practice's rule
/// still puts in the conversation's inbox audience and that is not a viewer yet becomes one,
/// with its entry (every message it may see unread) and its counts, on the condition that
/// the conversation has not changed since. One still holding an entry a late removal has not
/// taken yet is counted already: it takes the summary only.
async fn join_late<'s>(
    app: &'s App,
    refresh: &'s SummaryRefresh,
    group: &'s [UserId],
) -> Result<Option<(Tx<'s>, usize)>> {
    let (p, c) = (&refresh.practice_id, &refresh.conversation_id);
    let Some(mut conversation) = app.store.conversation_now(p, c).await? else { return Ok(None) };
    let Some(dir) = app.store.directory(p).await? else { return Ok(None) };
    let holders = crate::ops::inbox_holders(&conversation, &dir);
    let joining: Vec<UserId> =
        group.iter().filter(|v| holders.contains(v) && !conversation.viewers.contains(v)).cloned().collect();
    if joining.is_empty() {
        return Ok(None);
    }
    let have: Vec<UserId> = app.store.entries_of(p, &joining, c).await?.into_iter().map(|(u, _)| u).collect();
    let patient_id = conversation.summary.patient.as_ref().map(|pr| pr.id.clone());
    let markers = match &patient_id {
        Some(pat) => app.store.patient_markers(p, &joining, pat).await?,
        None => Default::default(),
    };
    let (preview, sender, visible) = super::assign::latest_for_new_viewers(app, &conversation).await?;
    let expected = conversation.version;
    conversation.viewers.extend(joining.iter().cloned());
    conversation.version += 1;
    let mut tx = app.store.tx();
    tx.conversation_replace_membership(&conversation, expected)?;
    for v in &joining {
        let count = if Some(v) == patient_id.as_ref() { conversation.patient_message_count } else { visible };
        if have.contains(v) {
            tx.entry_set_summary(p, v, &conversation, &preview, &sender, count)?;
        } else {
            tx.entry_join(p, v, &conversation, &preview, &sender, count)?;
            super::assign::count_joiner(&mut tx, &conversation, v, count, markers.get(v).copied().unwrap_or(0))?;
        }
    }
    Ok(Some((tx, joining.len())))
}

/// Deletes the entries a change's transaction had no room for (a deleted conversation's, or
/// those of viewers a membership change took out), each with its counts; answers how many it
/// deleted. An entry already gone (a retried stream batch), or of a user who is a viewer again
/// by now, is left alone.
pub async fn remove_entries(app: &App, key: &Key) -> Result<usize> {
    let Some(removal) = &app.store.entry_removal(key).await? else { return Ok(0) };
    let (p, c) = (&removal.practice_id, &removal.conversation_id);
    let mut removed = 0;
    for group in removal.viewers.chunks(Tx::MAX_ITEMS / super::delete::ITEMS_PER_REMOVAL) {
        removed += until_committed("entry removals", || {
            Box::pin(async move {
                let current = app.store.conversation_now(p, c).await?.map(|c| c.viewers).unwrap_or_default();
                let gone: Vec<UserId> = group.iter().filter(|v| !current.contains(v)).cloned().collect();
                let entries = app.store.entries_of(p, &gone, c).await?;
                if entries.is_empty() {
                    return Ok(None);
                }
                let users: Vec<UserId> = entries.iter().map(|(u, _)| u.clone()).collect();
                let markers = match &removal.patient_id {
                    Some(pat) => app.store.patient_markers(p, &users, pat).await?,
                    None => Default::default(),
                };
                let mut tx = app.store.tx();
                for (user, entry) in &entries {
                    let known = markers.get(user).copied().unwrap_or(0);
                    super::delete::remove_entry(&mut tx, (p, c, removal.patient_id.as_ref()), user, entry, known)?;
                }
                Ok(Some((tx, entries.len())))
            })
        })
        .await?;
    }
    Ok(removed)
}

/// Takes a deleted message out of the entries its transaction had no room for; answers how
/// many it changed.
pub async fn remove_message(app: &App, key: &Key) -> Result<usize> {
    let Some(removal) = &app.store.message_removal(key).await? else { return Ok(0) };
    let (p, c) = (&removal.practice_id, &removal.conversation_id);
    let mut changed = 0;
    // Each takes its entry and its counters.
    for group in removal.viewers.chunks(Tx::MAX_ITEMS / 2) {
        changed += until_committed("message removals", || {
            Box::pin(async move {
                let mut tx = app.store.tx();
                let mut count = 0;
                for (user, entry) in &app.store.entries_of(p, group, c).await? {
                    count += usize::from(super::delete::unpost_from_entry(&mut tx, removal, user, entry, true)?);
                }
                Ok((count > 0).then_some((tx, count)))
            })
        })
        .await?;
    }
    Ok(changed)
}
