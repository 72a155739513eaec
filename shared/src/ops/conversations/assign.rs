//! POST /conversations/{id}/assign (ASSIGN-1, ASSIGN-2, ROLE-4) and the membership rewrite
//! a care-team change shares.

use super::*;
use crate::store::Guard;

/// POST /conversations/{id}/assign.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignRequest {
    pub assignees: Vec<RecipientInput>,
    pub comment: Option<String>,
}

/// POST /conversations/{id}/assign (ASSIGN-1, ASSIGN-2, ROLE-4). The new assignees replace
/// the old (so a reassignment leaves the reassigner's "assigned to me") and become
/// participants; the comment is staff-only.
pub async fn assign(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    req: AssignRequest,
) -> Result<Created<ConversationChanged>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (_, mut conversation, practice) = crate::ops::admit_with_conversation(app, ctx, &conversation_id).await?;
    if !policy::can_assign(caller) {
        return Err(Error::Forbidden("only admin and provider roles may assign conversations".into()));
    }
    let dir = app.store.directory_as_of(practice).await?;
    let assignees = parse_recipients("assignees", &req.assignees)?;
    if assignees.is_empty() {
        return Err(Error::invalid("assignees", "name at least one staff user or workgroup"));
    }
    let assignee_ids = expand_recipients("assignees", &dir, &assignees)?;
    let comment = match req.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > 2_000 => {
            return Err(Error::invalid("comment", "comment is longer than 2000 characters"))
        }
        Some(c) => {
            let field = format!("assignment/{}", conversation.assignments.len());
            Some(Sealed(
                app.envelope.seal_str(Binding { practice_id: p, record: &conversation_id, field: &field }, c).await?,
            ))
        }
        None => None,
    };

    let expected_version = conversation.version;
    let old_viewers = conversation.viewers.clone();
    for id in &assignee_ids {
        if !conversation.participants.contains(id) {
            conversation.participants.push(id.clone());
        }
    }
    conversation.summary.assignee_ids = assignee_ids.clone();
    conversation.assignee_ids = assignee_ids;
    conversation.summary.assignees = assignees.clone();
    conversation.assignments.push(AssignmentRecord { by: caller.user_id.clone(), assignees, comment, at: ctx.now });
    conversation.viewers = inbox_holders(&conversation, &dir);
    conversation.version += 1;

    let mut tx = app.store.tx();
    tx.check_staff_active(p, &caller.user_id, false)?;
    rewrite_membership(app, &mut tx, &mut conversation, expected_version, &old_viewers, ctx.now).await?;
    tx.put_audit(&audit::event(ctx, "conversation.assign", AuditRecord::conversation(&conversation), "success"))?;
    // The answer is made before the commit, and kept with the Idempotency-Key in the same
    // transaction: nothing can fail after the assignment is stored, and a retry replays it
    // instead of assigning twice.
    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let (view, _) = renderer.conversation(&conversation, &names).await?;
    let response = ConversationChanged { conversation: view };
    claim_idempotency(app, ctx, &mut tx, &response, &conversation_id).await?;
    commit_created(app, ctx, tx, response, |_| {
        Error::Conflict("the conversation was changed by someone else; reload and retry".into())
    })
    .await
}

/// Writes a conversation's new membership (its summary and viewers, as `conversation` holds
/// them, guarded by `expected_version`) into `tx`, with every viewer's entry: existing entries
/// keep their preview and counts and take the new summary; a new viewer gets the latest
/// activity, with every message it may see unread; a viewer that left loses its entry. Counts
/// and per-patient markers move with them (INBOX-4). Assignment and a care-team change
/// (ACCT-2) both come through here.
pub(crate) async fn rewrite_membership(
    app: &App,
    tx: &mut Tx<'_>,
    conversation: &mut Conversation,
    expected_version: u64,
    old_viewers: &[UserId],
    now: Timestamp,
) -> Result<()> {
    let p = &conversation.practice_id.clone();
    let conversation_id = &conversation.id.clone();
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    let (latest_preview, latest_sender, visible) = latest_for_new_viewers(app, conversation).await?;
    let gone: Vec<UserId> = old_viewers.iter().filter(|v| !conversation.viewers.contains(v)).cloned().collect();
    // The people the change is about first (new assignees, new participants), then the rest.
    let mut joined: Vec<UserId> = conversation.viewers.iter().filter(|v| !old_viewers.contains(v)).cloned().collect();
    joined.sort_by_key(|v| !(conversation.assignee_ids.contains(v) || conversation.participants.contains(v)));
    // A bounded transaction whatever the audience: the joiners and leavers that fit, the
    // rest left to the notifier. Late joiners become viewers only when the notifier writes
    // their entries (so no reply meanwhile finds a viewer without its counts); late leavers
    // lose theirs unless they are viewers again by then.
    let per_joiner = if patient_id.is_some() { 3 } else { 2 };
    let joiners_room = Tx::MAX_ITEMS.saturating_sub(tx.len() + ITEMS_AFTER_MEMBERSHIP) / 2 / per_joiner;
    let (join_now, join_late) = joined.split_at(joiners_room.min(joined.len()));
    let leavers_room = Tx::MAX_ITEMS.saturating_sub(tx.len() + ITEMS_AFTER_MEMBERSHIP + join_now.len() * per_joiner)
        / 2
        / super::delete::ITEMS_PER_REMOVAL;
    let (gone_now, gone_late) = gone.split_at(leavers_room.min(gone.len()));
    conversation.viewers.retain(|v| !join_late.contains(v));
    tx.conversation_replace_membership(conversation, expected_version)?;
    let conversation = &*conversation;
    let changed: Vec<UserId> = join_now.iter().chain(gone_now.iter()).cloned().collect();
    // A joiner may still hold an entry a late removal has not taken yet: it is counted already.
    let entries = app.store.entries_of(p, &changed, conversation_id).await?;
    let markers = match &patient_id {
        Some(pat) => app.store.patient_markers(p, &changed, pat).await?,
        None => Default::default(),
    };
    let count_of =
        |v: &UserId| if Some(v) == patient_id.as_ref() { conversation.patient_message_count } else { visible };
    for v in join_now {
        let count = count_of(v);
        tx.entry_set_summary(p, v, conversation, &latest_preview, &latest_sender, count)?;
        if !entries.iter().any(|(u, _)| u == v) {
            count_joiner(tx, conversation, v, count, markers.get(v).copied().unwrap_or(0))?;
        }
    }
    for (user, entry) in entries.iter().filter(|(u, _)| gone_now.contains(u)) {
        let known = markers.get(user).copied().unwrap_or(0);
        super::delete::remove_entry(tx, (p, conversation_id, patient_id.as_ref()), user, entry, known)?;
    }
    if !gone_late.is_empty() {
        let removal = EntryRemoval {
            practice_id: p.clone(),
            conversation_id: conversation_id.clone(),
            patient_id: patient_id.clone(),
            viewers: gone_late.to_vec(),
            expires_at: now.as_second() + 7 * 86_400,
        };
        tx.put(Guard::Outbox, place::membership_removal(conversation_id, conversation.version), &removal)?;
    }
    // Those who stay keep their entries and take the new summary; in a large audience the
    // people in the thread first, bystanders by the notifier.
    let staying: Vec<&UserId> = super::post::entry_order(conversation, &conversation.created_by, false)
        .into_iter()
        .filter(|v| !joined.contains(v))
        .collect();
    super::late::write_summaries(tx, conversation, &staying, join_late, now, |tx, v| {
        tx.entry_set_summary(p, v, conversation, &latest_preview, &latest_sender, count_of(v))
    })?;
    Ok(())
}

/// How a membership change ended.
pub(crate) enum Membership {
    Changed(Conversation),
    /// Nothing to change: the conversation as it is.
    Unchanged(Conversation),
    /// Deleted meanwhile.
    Gone,
    /// An escalation `also` took was taken by another run (SLA-4): nothing written.
    TakenMeanwhile,
}

/// Applies `change` to a conversation's membership (it answers false when there is nothing
/// to change), recomputes whose inboxes hold it from `dir`, and commits the rewrite with what
/// `also` adds (an audit event, the caller's check). Where the conversation changed between
/// the read and the write, it is read again and the change redone. The one loop of every
/// membership change that is not an assignment: a care team, a workgroup's back-fill, a
/// writer joining its thread.
pub(crate) async fn change_membership(
    app: &App,
    dir: &Directory,
    mut conversation: Conversation,
    now: Timestamp,
    mut change: impl FnMut(&mut Conversation) -> bool,
    mut also: impl FnMut(&mut Tx<'_>, &Conversation) -> Result<()>,
) -> Result<Membership> {
    for _ in 0..4 {
        if !change(&mut conversation) {
            return Ok(Membership::Unchanged(conversation));
        }
        let (expected, old_viewers) = (conversation.version, conversation.viewers.clone());
        conversation.viewers = inbox_holders(&conversation, dir);
        conversation.version += 1;
        let mut tx = app.store.tx();
        rewrite_membership(app, &mut tx, &mut conversation, expected, &old_viewers, now).await?;
        also(&mut tx, &conversation)?;
        match tx.commit().await? {
            Ok(()) => return Ok(Membership::Changed(conversation)),
            Err(Guard::Actor) => return Err(Error::Unauthenticated),
            Err(Guard::Escalation) => return Ok(Membership::TakenMeanwhile),
            Err(_) => match app.store.conversation_now(&conversation.practice_id, &conversation.id).await? {
                Some(again) => conversation = again,
                None => return Ok(Membership::Gone),
            },
        }
    }
    Err(Error::Conflict("the conversation kept changing; retry".into()))
}

/// A staff user who writes in a conversation it does not take part in yet (one it reached
/// through the practice-wide view, or as the patient's care team) takes part from then on:
/// the thread joins its inbox before its message is posted (ROLE-2: "conversations it takes
/// part in"). Its own transaction, so the message's stays as it is; a retried reply finds
/// it taking part already. No audit event of its own: the message's event records the writer
/// (SEC-2, one event a request).
pub(super) async fn join_sender(app: &App, ctx: &RequestCtx, conversation: Conversation) -> Result<Conversation> {
    let caller = &ctx.caller;
    if conversation.participants.contains(&caller.user_id) {
        return Ok(conversation);
    }
    let dir = app.store.directory(&caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
    let join = |c: &mut Conversation| {
        let joins = !c.participants.contains(&caller.user_id);
        if joins {
            c.participants.push(caller.user_id.clone());
        }
        joins
    };
    match change_membership(app, &dir, conversation, ctx.now, join, |tx, _| tx.check_caller(caller)).await? {
        Membership::Changed(c) | Membership::Unchanged(c) => Ok(c),
        Membership::Gone | Membership::TakenMeanwhile => Err(Error::NotFound("conversation")),
    }
}

/// Items a membership change may still add after its entries: the refresh and removal items,
/// the audit event, and the caller's check.
const ITEMS_AFTER_MEMBERSHIP: usize = 6;

/// A new viewer's counts: one more conversation, its `count` messages all unread, and one
/// more conversation about the patient (a new patient where it had none).
pub(super) fn count_joiner(tx: &mut Tx<'_>, c: &Conversation, v: &UserId, count: u64, known: u64) -> Result<()> {
    let p = &c.practice_id;
    let patient_id = c.summary.patient.as_ref().map(|p| &p.id);
    let new_patient = i64::from(patient_id.is_some() && known == 0);
    let delta = StatsDelta { conversations: 1, messages: count as i64, unread: count as i64, patients: new_patient };
    tx.stats_add(p, v, delta)?;
    if let Some(pat) = patient_id {
        tx.patient_marker(p, v, pat, known, 1)?;
    }
    Ok(())
}

/// The preview and sender a brand-new viewer's entry starts with: the latest message any
/// staff member may see, as the conversation keeps it. A conversation written before it kept
/// its latest message costs one Query of the thread and a KMS round trip instead.
pub(crate) async fn latest_for_new_viewers(app: &App, c: &Conversation) -> Result<(Sealed, SenderRef, u64)> {
    if let Some(latest) = &c.latest {
        return Ok((latest.preview.clone(), latest.sender.clone(), c.message_count));
    }
    let (_, messages) = app.store.thread(&c.practice_id, &c.id).await?.ok_or(Error::NotFound("conversation"))?;
    let last = messages.last().ok_or_else(|| Error::internal_msg("conversation without messages"))?;
    let body = app
        .envelope
        .open_string(
            Binding { practice_id: &c.practice_id, record: &format!("{}/{}", c.id, last.id), field: "body" },
            &last.body.0,
        )
        .await?;
    let preview_text = Body::parse(Some(&body), BodyLimits { min_chars: 0, max_chars: usize::MAX })
        .map(|b| b.preview())
        .unwrap_or_default();
    let preview = Sealed(
        app.envelope
            .seal_str(Binding { practice_id: &c.practice_id, record: &c.id, field: "preview" }, &preview_text)
            .await?,
    );
    Ok((preview, last.sender.clone(), messages.len() as u64))
}
