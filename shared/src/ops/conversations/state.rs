//! Read, star and archive state, open and closed, and the reply controls of a conversation.

use super::*;
use crate::store::Guard;

/// PUT /conversations/{id}/state.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateRequest {
    pub starred: Option<bool>,
    pub archived: Option<bool>,
    pub unread: Option<bool>,
}

/// PUT /conversations/{id}/state (CONV-3, CONV-4): the caller's own flags, any subset;
/// nobody else's view changes. Answers the caller's InboxItem.
pub async fn set_state(app: &App, ctx: &RequestCtx, conversation_id: &str, req: StateRequest) -> Result<InboxItemView> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    if req.starred.is_none() && req.archived.is_none() && req.unread.is_none() {
        return Err(Error::invalid("starred", "name at least one of starred, archived, unread"));
    }
    let conversation = visible_conversation(app, caller, &conversation_id).await?;
    if req.unread == Some(true) {
        // CONV-3: "incoming" is a message from the other side of the thread.
        let incoming = if caller.is_staff() {
            conversation.from_patient_count > 0
        } else {
            conversation.patient_message_count > conversation.from_patient_count
        };
        if !incoming {
            return Err(Error::Forbidden(
                "a conversation can be marked unread only where it holds an incoming message".into(),
            ));
        }
    }
    let change = crate::domain::StateChange { starred: req.starred, archived: req.archived, unread: req.unread };
    // Guarded by the unread count it read, so the counters move exactly; a message arriving
    // in between makes it read the entry again.
    let mut attempt = 0;
    let updated = loop {
        let mut entry = match app.store.entry(p, &caller.user_id, &conversation_id).await? {
            Some(entry) => entry,
            // Staff without an entry: a conversation outside its inbox (the practice-wide
            // view), or one whose entry the notifier has not written yet (a large audience).
            None if caller.is_staff() => return set_own_state(app, ctx, &conversation, &change).await,
            None => return Err(Error::NotFound("conversation")),
        };
        let mut tx = app.store.tx();
        tx.check_caller(caller)?;
        tx.entry_set_state(p, &caller.user_id, &entry, &change)?;
        if let Some(unread) = change.unread_count(entry.unread) {
            let delta = StatsDelta { unread: unread as i64 - entry.unread as i64, ..Default::default() };
            tx.stats_add(p, &caller.user_id, delta)?;
            entry.unread = unread;
        }
        tx.put_audit(&audit::event(ctx, "conversation.state", AuditRecord::conversation(&conversation), "success"))?;
        match tx.commit().await? {
            Ok(()) => {
                entry.starred = change.starred.unwrap_or(entry.starred);
                entry.archived = change.archived.unwrap_or(entry.archived);
                break entry;
            }
            Err(Guard::Actor) => return Err(Error::Unauthenticated),
            Err(Guard::Entry) if attempt < 5 => attempt += 1,
            Err(_) => return Err(Error::Unavailable("the conversation kept changing; retry".into())),
        }
    };
    Renderer::new(&app.envelope, caller, ctx.now).inbox_item(&updated).await
}

/// The flags of a staff user on a conversation outside its inbox (one it reaches from the
/// practice-wide view): kept in its own small item, written only now that it acts.
async fn set_own_state(
    app: &App,
    ctx: &RequestCtx,
    conversation: &Conversation,
    change: &crate::domain::StateChange,
) -> Result<InboxItemView> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let before = app.store.own_state(p, &caller.user_id, &conversation.id).await?;
    let mut own = before.unwrap_or(OwnState { read_count: 0, at: None, starred: false, archived: false });
    own.starred = change.starred.unwrap_or(own.starred);
    own.archived = change.archived.unwrap_or(own.archived);
    let unread = conversation.message_count.saturating_sub(own.read_count);
    let read_count =
        change.unread_count(unread).map(|wanted| conversation.message_count - wanted.min(conversation.message_count));
    own.read_count = read_count.unwrap_or(own.read_count);
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.own_state_set(p, &caller.user_id, &conversation.id, change.starred, change.archived, read_count)?;
    tx.put_audit(&audit::event(ctx, "conversation.state", AuditRecord::conversation(conversation), "success"))?;
    match tx.commit().await? {
        Ok(()) => {}
        Err(Guard::Actor) => return Err(Error::Unauthenticated),
        Err(_) => return Err(Error::Unavailable("the conversation kept changing; retry".into())),
    }
    let row = crate::ops::practice_view::row_without_entry(conversation, Some(&own));
    Renderer::new(&app.envelope, caller, ctx.now).inbox_item(&row).await
}

/// Thread controls a staff member may change (REPLY-2, REPLY-3).
#[derive(Clone, Copy, Debug, Default)]
pub struct Controls {
    pub open: Option<bool>,
    pub allow_response: Option<bool>,
    pub allow_attachments: Option<bool>,
}

/// POST /conversations/{id}/close and /reopen (REPLY-3): staff only. A closed conversation
/// takes no patient replies; staff can reopen it. Every viewer's row shows the new status.
pub async fn set_status(app: &App, ctx: &RequestCtx, conversation_id: &str, open: bool) -> Result<ConversationChanged> {
    set_controls(app, ctx, conversation_id, Controls { open: Some(open), ..Default::default() }).await
}

/// Changes a conversation's thread controls and every viewer's copy of them.
pub async fn set_controls(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    change: Controls,
) -> Result<ConversationChanged> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (mut conversation, dir) =
        tokio::try_join!(visible_conversation(app, caller, &conversation_id), app.store.directory(p))?;
    let dir = dir.ok_or(Error::Unauthenticated)?;
    if !caller.is_staff() {
        return Err(Error::Forbidden("only staff may close or reopen a conversation".into()));
    }
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let before = conversation.summary.clone();
    let stops_clock = change.open == Some(false) && conversation.reply_clock.is_some();
    // EVISIT-2: closing ends an e-visit's window; the evisit-windows job records its code at
    // its next run (listed as due now).
    let closing = change.open == Some(false) && before.status != ConversationStatus::Closed;
    let evisit = match closing && conversation.summary.kind == crate::domain::ConversationKind::Patient {
        true => app.store.evisit(p, &conversation_id).await?.map(|(v, _)| v).filter(|(_, v)| v.recorded.is_none()),
        false => None,
    };
    if let Some(open) = change.open {
        conversation.summary.status = if open { ConversationStatus::Open } else { ConversationStatus::Closed };
        if !open {
            // SLA-2: closing stops the clock; reopening does not restart it, the next
            // patient message does.
            conversation.reply_clock = None;
        }
    }
    conversation.summary.allow_response = change.allow_response.unwrap_or(before.allow_response);
    conversation.summary.allow_attachments = change.allow_attachments.unwrap_or(before.allow_attachments);
    if conversation.summary != before {
        let expected_version = conversation.version;
        conversation.version += 1;
        let (preview, sender, visible) = latest_for_new_viewers(app, &conversation).await?;
        let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
        let mut tx = app.store.tx();
        tx.check_caller(caller)?;
        tx.conversation_replace_membership(&conversation, expected_version)?;
        if stops_clock {
            tx.delete_if_any(Guard::Escalation, &place::escalation_of(p, &conversation.id))?;
        }
        if let Some((listed, visit)) = &evisit {
            let due_now = place::evisit_ending(p, &conversation.id, ctx.now);
            tx.update_relisted(Guard::EVisit, (listed, visit), (&due_now, visit))?;
        }
        let viewers: Vec<&UserId> = conversation.viewers.iter().collect();
        super::late::write_summaries(&mut tx, &conversation, &viewers, &[], ctx.now, |tx, v| {
            let count = if Some(v) == patient_id.as_ref() { conversation.patient_message_count } else { visible };
            tx.entry_set_summary(p, v, &conversation, &preview, &sender, count)
        })?;
        let action = match change.open {
            Some(true) => "conversation.reopen",
            Some(false) => "conversation.close",
            None => "conversation.controls",
        };
        tx.put_audit(&audit::event(ctx, action, AuditRecord::conversation(&conversation), "success"))?;
        match tx.commit().await? {
            Ok(()) => {}
            Err(Guard::Actor) => return Err(Error::Unauthenticated),
            Err(_) => {
                return Err(Error::Conflict("the conversation was changed by someone else; reload and retry".into()))
            }
        }
    }
    let (view, _) = renderer.conversation(&conversation, &names).await?;
    Ok(ConversationChanged { conversation: view })
}
