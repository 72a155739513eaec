//! GET /conversations/{id} (CONV-1, CONV-2).

use super::*;
use crate::store::Guard;

/// GET /conversations/{id} (CONV-1, CONV-2): the thread, oldest first; marks it read for the
/// caller alone. Patients never receive internal notes.
pub async fn get_conversation(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<ThreadView> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (conversation, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    let patient_id = conversation.summary.patient.as_ref().map(|p| &p.id);
    let is_viewer = conversation.viewers.contains(&caller.user_id);
    // One read after the thread's (issue 18): the caller's record (SEC-4), its entry, and for
    // staff the audience's read marks (CONV-2) and the participants' names.
    let audience = if caller.is_staff() { receipts::audience(&conversation) } else { Vec::new() };
    let mut batch = app.store.batch();
    let me = batch.caller(caller);
    let own_entry = batch.entry(p, &caller.user_id, &conversation_id);
    let marks = batch.receipt_marks(p, &audience, &conversation_id);
    let names: Vec<_> = match caller.is_staff() {
        true => conversation.participants.iter().map(|id| batch.staff(p, id)).collect(),
        false => Vec::new(),
    };
    let read = batch.read().await?;
    app.admit(ctx, read.caller(&me)?, false).await?;
    let mut stored_entry = read.get(&own_entry)?;
    // Marking read is guarded by the unread count it clears (so the counters stay exact);
    // a message arriving in between makes it read the entry again.
    let mut attempt = 0;
    loop {
        // Anyone else who may see the thread (the practice-wide view) has no entry: its read
        // position is kept beside its entries instead.
        let entry = if is_viewer { stored_entry.take() } else { None };
        let mut tx = app.store.tx();
        tx.check_caller(caller)?;
        let now = ctx.now;
        if let Some(e) = &entry {
            tx.entry_mark_read(p, &caller.user_id, &conversation_id, now, e.unread)?;
            tx.stats_add(p, &caller.user_id, StatsDelta { unread: -(e.unread as i64), ..Default::default() })?;
        } else if caller.is_staff() {
            tx.own_state_mark_read(p, &caller.user_id, &conversation_id, conversation.message_count, now)?;
        }
        tx.presence_seen(p, &caller.user_id, now)?;
        if conversation.reviewed_at.is_none() && crate::ops::evisits::reviews(caller, &conversation) {
            tx.conversation_reviewed(p, &conversation_id, now)?;
        }
        tx.put_audit(&audit::event(ctx, "conversation.read", AuditRecord::conversation(&conversation), "success"))?;
        match tx.commit().await? {
            Ok(()) => break,
            Err(Guard::Actor) => return Err(Error::Unauthenticated),
            Err(Guard::Entry) if attempt < 5 => {
                attempt += 1;
                stored_entry = app.store.entry(p, &caller.user_id, &conversation_id).await?;
            }
            Err(_) => return Err(Error::Unavailable("the conversation kept changing; retry".into())),
        }
    }

    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let mut staff_names = Vec::with_capacity(names.len());
    for slot in &names {
        staff_names.extend(read.get(slot)?);
    }
    let names = |id: &str| staff_names.iter().find(|x| x.id == id).map(|x| x.display_name());
    let (view, patient) = renderer.conversation(&conversation, &names).await?;
    let visible: Vec<&Message> = messages.iter().filter(|m| !m.internal || policy::can_see_internal(caller)).collect();
    let mut out = Vec::with_capacity(visible.len());
    if caller.is_staff() {
        // CONV-2: read receipts per recipient, for staff.
        let mut marks = read.receipt_marks(&marks);
        if is_viewer {
            // Read before this request marked the thread read for its caller.
            marks.entry(caller.user_id.clone()).or_default().0 = Some(ctx.now);
        }
        for m in visible {
            let per_recipient = receipts::for_message(m, &audience, patient_id, &marks);
            let mut view = renderer.message(m, patient.as_ref(), receipts::overall(&per_recipient)).await?;
            view.receipts = Some(per_recipient);
            out.push(view);
        }
    } else {
        for m in visible {
            let status = if m.sender.id == caller.user_id { DeliveryStatus::Sent } else { DeliveryStatus::Read };
            out.push(renderer.message(m, patient.as_ref(), status).await?);
        }
    }
    let mut thread = ThreadView { conversation: view, messages: out, assignments: None };
    if caller.is_staff() {
        let mut assignments = Vec::new();
        for (i, a) in conversation.assignments.iter().enumerate() {
            let comment = match &a.comment {
                Some(c) => Some(renderer.open(&conversation_id, &format!("assignment/{i}"), c).await?),
                None => None,
            };
            let (by, assignees, at) = (a.by.to_string(), a.assignees.clone(), a.at);
            assignments.push(AssignmentView { by, assignees, comment, at });
        }
        thread.assignments = Some(assignments);
    }
    Ok(thread)
}
