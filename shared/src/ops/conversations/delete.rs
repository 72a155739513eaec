//! Deleting messages and conversations (CONV-6); the retention purge (SEC-5, `jobs::retention`)
//! erases through the same path.

use super::*;
use crate::store::Guard;

/// DELETE /conversations/{id}/messages/{messageId} (CONV-6): its staff author deletes a
/// message for good. Every count it was part of, and every preview that showed it, moves
/// back; the audit log keeps that it happened. The message that started the thread goes only
/// with the thread.
pub async fn delete_message(app: &App, ctx: &RequestCtx, conversation_id: &str, message_id: &str) -> Result<()> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let message_id = MessageId::parse("messageId", message_id).map_err(|_| Error::NotFound("message"))?;
    let (conversation, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    let visible_to_caller = |m: &&Message| !m.internal || policy::can_see_internal(caller);
    let message =
        messages.iter().filter(visible_to_caller).find(|m| m.id == message_id).ok_or(Error::NotFound("message"))?;
    if !caller.is_staff() || message.sender.id != caller.user_id {
        return Err(Error::Forbidden("only its staff author may delete a message".into()));
    }
    if messages.first().is_some_and(|m| m.id == message.id) {
        return Err(Error::Conflict("the first message goes with its conversation: delete the conversation".into()));
    }
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    let patient_visible = !message.internal && conversation.summary.patient.is_some();
    // The previews that replace this one where it was the latest: the message before it that
    // each side may see.
    let remaining: Vec<&Message> = messages.iter().filter(|m| m.id != message.id).collect();
    let staff_latest = remaining.last().copied();
    let patient_latest = remaining.iter().rev().find(|m| !m.internal).copied();
    let preview_of = |m: &Message| {
        let m = m.clone();
        async move {
            let body = app
                .envelope
                .open_string(
                    Binding { practice_id: p, record: &format!("{}/{}", m.conversation_id, m.id), field: "body" },
                    &m.body.0,
                )
                .await?;
            let text = Body::parse(Some(&body), BodyLimits { min_chars: 0, max_chars: usize::MAX })
                .map(|b| b.preview())
                .unwrap_or_default();
            let sealed = app
                .envelope
                .seal_str(Binding { practice_id: p, record: &m.conversation_id, field: "preview" }, &text)
                .await?;
            Ok::<_, Error>((Sealed(sealed), m.sender.clone()))
        }
    };
    let staff_preview = match staff_latest {
        Some(m) => Some(preview_of(m).await?),
        None => None,
    };
    let patient_preview = match patient_latest {
        Some(m) => Some(preview_of(m).await?),
        None => None,
    };

    // The practice-wide view's row shows the conversation's own latest message: the one
    // before, where this one was it.
    let latest = match (staff_latest, &staff_preview) {
        (Some(before), Some((preview, sender))) if conversation.last_message_at == message.created_at => {
            Some(LatestMessage { preview: preview.clone(), sender: sender.clone(), priority: before.priority })
        }
        _ => None,
    };
    let mut removal = MessageRemoval {
        practice_id: p.clone(),
        conversation_id: conversation_id.clone(),
        message_id: message.id.clone(),
        message_at: message.created_at,
        sender_id: message.sender.id.clone(),
        patient_id,
        patient_visible,
        staff_replacement: staff_preview,
        patient_replacement: patient_preview,
        viewers: Vec::new(),
        expires_at: ctx.now.as_second() + 7 * 86_400,
    };
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.delete_existing(Guard::Message, &place::message_of(p, message))?;
    tx.conversation_remove_message(p, &conversation_id, patient_visible, latest.as_ref())?;
    // The entries that fit are written with it; the rest, moments later, by the notifier.
    let room = Tx::MAX_ITEMS.saturating_sub(tx.len() + ITEMS_AFTER_REMOVALS) / 2;
    let (now, late) = conversation.viewers.split_at(room.min(conversation.viewers.len()));
    for (user, entry) in &app.store.entries_of(p, now, &conversation_id).await? {
        unpost_from_entry(&mut tx, &removal, user, entry, false)?;
    }
    if !late.is_empty() {
        removal.viewers = late.to_vec();
        tx.put(Guard::Outbox, place::message_removal(&message.id), &removal)?;
    }
    tx.put_audit(&audit::event(ctx, "message.delete", AuditRecord::conversation(&conversation), "success"))?;
    match tx.commit().await? {
        Ok(()) => {}
        Err(Guard::Actor) => return Err(Error::Unauthenticated),
        Err(Guard::Message) => return Err(Error::NotFound("message")),
        Err(_) => return Err(Error::Conflict("the conversation changed while deleting; retry".into())),
    }
    let remaining: Vec<Message> = messages.iter().filter(|m| m.id != message.id).cloned().collect();
    crate::ops::erasure::erase_traces(app, &conversation, &[message], Some(&remaining)).await
}

/// DELETE /conversations/{id} (CONV-6): the staff member who started a thread deletes it for
/// good: its summary, every viewer's entry and counts, then its messages and files. The
/// audit log keeps that it happened.
pub async fn delete_conversation(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<()> {
    let caller = &ctx.caller;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (conversation, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    if !caller.is_staff() || conversation.created_by != caller.user_id {
        return Err(Error::Forbidden("only the staff member who started a conversation may delete it".into()));
    }
    erase_conversation(app, ctx, &conversation, &messages, "conversation.delete", true).await
}

/// Takes a deleted message out of a user's entry: one message fewer, one unread fewer if it
/// was unread for the user (not its author, and not opened since), and the preview before it
/// where it was the latest. `once`: recorded on the entry, so the notifier's retry of a
/// removal takes it out once. An internal note was never in the patient's entry.
pub(super) fn unpost_from_entry(
    tx: &mut Tx<'_>,
    removal: &MessageRemoval,
    user: &UserId,
    entry: &InboxEntry,
    once: bool,
) -> Result<bool> {
    let is_patient = Some(user) == removal.patient_id.as_ref();
    if (is_patient && !removal.patient_visible) || entry.unposted.contains(&removal.message_id) {
        return Ok(false);
    }
    let was_unread =
        user != &removal.sender_id && entry.unread > 0 && entry.last_read_at.is_none_or(|r| r < removal.message_at);
    let replacement = match (entry.last_message_at == removal.message_at, is_patient) {
        (false, _) => None,
        (true, true) => removal.patient_replacement.as_ref(),
        (true, false) => removal.staff_replacement.as_ref(),
    };
    let (p, c) = (&removal.practice_id, &removal.conversation_id);
    let once = once.then_some(&removal.message_id);
    tx.entry_remove_message(p, user, c, entry.unread, was_unread, replacement, once)?;
    tx.stats_add(p, user, StatsDelta { messages: -1, unread: -i64::from(was_unread), ..Default::default() })?;
    Ok(true)
}

/// Writes a removed entry's and an entry removal's items: the audit event, the removal item.
const ITEMS_AFTER_REMOVALS: usize = 4;
/// A removed entry, its counters and its count of conversations about the patient.
pub(super) const ITEMS_PER_REMOVAL: usize = 3;

/// Removes a user's entry of a conversation (about `patient_id`) with its counts (INBOX-4):
/// one conversation, its messages and unread, and the patient where it was the user's last
/// conversation about them (`known`: how many the user had). The deletion is conditional on
/// the unread count read.
pub(super) fn remove_entry(
    tx: &mut Tx<'_>,
    (p, c, patient_id): (&PracticeId, &ConversationId, Option<&UserId>),
    user: &UserId,
    entry: &InboxEntry,
    known: u64,
) -> Result<()> {
    tx.entry_delete(p, user, c, entry.unread)?;
    let delta = StatsDelta {
        conversations: -1,
        messages: -(entry.message_count as i64),
        unread: -(entry.unread as i64),
        patients: -i64::from(patient_id.is_some() && known == 1),
    };
    tx.stats_add(p, user, delta)?;
    if let Some(pat) = patient_id {
        tx.patient_marker(p, user, pat, known, -1)?;
    }
    Ok(())
}

/// Deletes a conversation and all of it (summary, every viewer's entry and counts, messages,
/// files), recording `action` in the audit log, which keeps that it happened (CONV-6, SEC-5).
pub(crate) async fn erase_conversation(
    app: &App,
    ctx: &RequestCtx,
    conversation: &Conversation,
    messages: &[Message],
    action: &str,
    check_actor: bool,
) -> Result<()> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = conversation.id.clone();
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    let mut tx = app.store.tx();
    if check_actor {
        tx.check_caller(caller)?;
    }
    tx.delete_existing(Guard::Conversation, &place::conversation(p, &conversation_id, conversation.last_message_at))?;
    // The entries that fit go with the conversation; the rest, moments later, by the notifier.
    let room = Tx::MAX_ITEMS.saturating_sub(tx.len() + ITEMS_AFTER_REMOVALS) / ITEMS_PER_REMOVAL;
    let (now, late) = conversation.viewers.split_at(room.min(conversation.viewers.len()));
    let entries = app.store.entries_of(p, now, &conversation_id).await?;
    let users: Vec<UserId> = entries.iter().map(|(u, _)| u.clone()).collect();
    let markers = match &patient_id {
        Some(pat) => app.store.patient_markers(p, &users, pat).await?,
        None => Default::default(),
    };
    for (user, entry) in &entries {
        let known = markers.get(user).copied().unwrap_or(0);
        remove_entry(&mut tx, (p, &conversation_id, patient_id.as_ref()), user, entry, known)?;
    }
    if !late.is_empty() {
        let removal = EntryRemoval {
            practice_id: p.clone(),
            conversation_id: conversation_id.clone(),
            patient_id: patient_id.clone(),
            viewers: late.to_vec(),
            expires_at: ctx.now.as_second() + 7 * 86_400,
        };
        tx.put(Guard::Outbox, place::entry_removal(&conversation_id), &removal)?;
    }
    tx.put_audit(&audit::event(ctx, action, AuditRecord::conversation(conversation), "success"))?;
    match tx.commit().await? {
        Ok(()) => {}
        Err(Guard::Actor) => return Err(Error::Unauthenticated),
        Err(Guard::Conversation) => return Err(Error::NotFound("conversation")),
        Err(_) => return Err(Error::Conflict("the conversation changed while deleting; retry".into())),
    }
    // The summary is gone, so nothing reaches the messages any more; they and all they left
    // elsewhere go next (idempotent batches).
    let keys: Vec<Key> = messages.iter().map(|m| place::message_of(p, m)).collect();
    app.store.delete_batch(&keys).await?;
    let gone: Vec<&Message> = messages.iter().collect();
    crate::ops::erasure::erase_traces(app, conversation, &gone, None).await
}
