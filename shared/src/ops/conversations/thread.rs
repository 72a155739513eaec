//! Beginning a conversation with its first message: compose (COMPOSE-1..4), forward
//! (ASSIGN-3), a broadcast copy (COMPOSE-6) and a first text (NOTIFY-4) all end here.

use super::post::{post_message, seal, Arrival, Posting};
use super::*;
use crate::store::Guard;
use std::sync::atomic::{AtomicBool, Ordering};

/// A conversation about to begin, with its first message.
pub(super) struct NewThread<'a> {
    pub(super) kind: ConversationKind,
    pub(super) subject: Subject,
    pub(super) body: Body,
    pub(super) sender: SenderRef,
    /// Staff taking part: the sender (if staff) and the recipients, workgroups expanded.
    pub(super) participants: Vec<UserId>,
    pub(super) priority: Priority,
    pub(super) patient: Option<&'a Patient>,
    pub(super) recipients: Vec<Recipient>,
    pub(super) context: Option<ContextLink>,
    pub(super) allow_response: bool,
    pub(super) allow_attachments: bool,
    pub(super) attachments: Vec<Attachment>,
    pub(super) fee_code: Option<String>,
    pub(super) notify_if_unread_hours: Option<u32>,
    pub(super) documents: Vec<ContextLink>,
    /// NOTIFY-4: a thread begun by a text message: the number it came from (sealed to the
    /// conversation when stored), and no portal checks (nobody signed in; a text cannot be
    /// refused).
    pub(super) sms_peer: Option<String>,
    /// Viewers' patient markers read already, in the request's first batch (compose).
    pub(super) known_markers: Option<crate::store::PatientMarkers>,
}

impl<'a> NewThread<'a> {
    /// A conversation of `kind` with a plain first message: no patient, recipients, context,
    /// attachments or billing; replies and attachments allowed.
    pub(super) fn new(
        kind: ConversationKind,
        subject: Subject,
        body: Body,
        sender: SenderRef,
        participants: Vec<UserId>,
    ) -> Self {
        NewThread {
            kind,
            subject,
            body,
            sender,
            participants,
            priority: Priority::Normal,
            patient: None,
            recipients: Vec::new(),
            context: None,
            allow_response: true,
            allow_attachments: true,
            attachments: Vec::new(),
            fee_code: None,
            notify_if_unread_hours: None,
            documents: Vec::new(),
            sms_peer: None,
            known_markers: None,
        }
    }
}

/// Begins the conversation: its item, its first message through `post_message`, the search
/// index, and the draft it was sent from (consumed in the same transaction). Answers the
/// created conversation and message (the stored answer, on a replayed request).
pub(super) async fn start_thread(
    app: &App,
    ctx: &RequestCtx,
    dir: &Directory,
    t: NewThread<'_>,
    draft: Option<&DraftId>,
) -> Result<Created<ThreadStarted>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let mut conversation = new_conversation(app, ctx, dir, &t).await?;
    let cid = conversation.id.clone();
    let (attachments, moved) = relocate(app, p, &cid, t.attachments).await?;
    let posting = Posting {
        priority: t.priority,
        attachments: &attachments,
        documents: &t.documents,
        fee_code: t.fee_code,
        notify_if_unread_hours: t.notify_if_unread_hours,
        answer_pk: crate::ops::answer_pk(ctx),
        ..Posting::plain(t.sender, &t.body, ctx.now)
    };
    let posted = seal(app, &conversation, posting, &dir.practice.settings).await?;
    conversation.reply_clock = posted.reply_clock_after(&conversation);

    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let (view, patient) = renderer.conversation(&conversation, &names).await?;
    let message_view = renderer.message(&posted.message, patient.as_ref(), crate::domain::DeliveryStatus::Sent).await?;
    let mut searchable: Vec<String> = vec![t.subject.as_str().to_string(), t.body.preview()];
    if let Some(pv) = &patient {
        searchable.extend([pv.first_name.clone(), pv.last_name.clone()]);
    }
    let response = ThreadStarted { conversation: view, message: message_view };
    let texts: Vec<&str> = searchable.iter().map(String::as_str).collect();
    let tokens = search::tokens_of(app, p, &cid, &texts, patient.as_ref().map(|pv| pv.id.as_str())).await?;

    let settings = &dir.practice.settings;
    let mut attempt = 1;
    let created = loop {
        let mut tx = app.store.tx();
        if caller.is_staff() {
            tx.check_staff_active(p, &caller.user_id, t.kind.is_patient_facing())?;
        } else if t.sms_peer.is_none() {
            tx.check_patient_exists(p, &caller.user_id)?;
            crate::ops::count_patient_message(ctx, &mut tx, settings.patient_messages_per_day)?;
        }
        // A retry after a marker moved reads every marker again.
        let known = if attempt == 1 { t.known_markers.as_ref() } else { None };
        post_message(app, ctx, &mut tx, &conversation, Arrival::Begins { known }, &posted, "conversation.create")
            .await?;
        if let Some(d) = draft {
            tx.delete_existing(Guard::Draft, &place::draft(p, &caller.user_id, d))?;
        }
        claim_idempotency(app, ctx, &mut tx, &response, &cid).await?;
        tokens.write_with(app, &mut tx).await?;
        let marker_moved = AtomicBool::new(false);
        let outcome = commit_created(app, ctx, tx, response.clone(), |guard| match guard {
            Guard::Attachment => Error::Conflict("an attachment is already attached or not yet checked".into()),
            Guard::Draft => Error::NotFound("draft"),
            Guard::Marker => {
                marker_moved.store(true, Ordering::Relaxed);
                Error::Unavailable("a concurrent conversation about this patient; retry".into())
            }
            Guard::Limit => crate::ops::daily_limit_reached(ctx, settings),
            _ => Error::Conflict("the conversation could not be created, retry".into()),
        })
        .await;
        // A concurrent conversation about the same patient moved a viewer's count of
        // conversations about the patient between its read and this write: only that count
        // is stale, so it is read again and the write retried, and the caller never sees it.
        if marker_moved.load(Ordering::Relaxed) && attempt < MARKER_ATTEMPTS {
            attempt += 1;
            continue;
        }
        break outcome?;
    };
    if created.is_made() {
        forget_objects(app, &moved).await;
    }
    Ok(created)
}

/// How often a new conversation about a patient is written before a concurrent one that
/// keeps moving the same counts is answered with 503.
const MARKER_ATTEMPTS: u32 = 8;

/// The id of the conversation a `start_thread` answer created.
pub(super) fn created_id(created: &Created<ThreadStarted>) -> Result<ConversationId> {
    let id = match created {
        Created::Made(started) => Some(started.conversation.id.as_str()),
        Created::Replayed(first) => first["conversation"]["id"].as_str(),
    };
    id.map(ConversationId::from_stored).ok_or_else(|| Error::internal_msg("a new conversation without an id"))
}

/// The conversation item, its subject, context and number sealed to it, counting its first
/// message, with its viewers (ROLE-2) from the directory.
async fn new_conversation(app: &App, ctx: &RequestCtx, dir: &Directory, t: &NewThread<'_>) -> Result<Conversation> {
    let p = &ctx.caller.practice_id;
    let id = ConversationId::new();
    let at = ctx.now;
    let env = &app.envelope;
    let seal = |field: &'static str, text: &str| {
        let binding = Binding { practice_id: p, record: &id, field };
        let text = text.to_string();
        async move { env.seal_str(binding, &text).await.map(Sealed) }
    };
    let context = match &t.context {
        Some(c) => Some(ContextRef { kind: c.kind, id: c.id.clone(), label: seal("context", &c.label).await? }),
        None => None,
    };
    let sms_peer = match &t.sms_peer {
        Some(number) => Some(seal("smsPeer", number).await?),
        None => None,
    };
    let summary = Summary {
        kind: t.kind,
        subject: seal("subject", t.subject.as_str()).await?,
        patient: t.patient.map(patient_ref),
        assignees: Vec::new(),
        assignee_ids: Vec::new(),
        context,
        status: ConversationStatus::Open,
        created_at: at,
        allow_response: t.allow_response,
        allow_attachments: t.allow_attachments,
    };
    let mut conversation = Conversation {
        practice_id: p.clone(),
        summary,
        created_by: ctx.caller.user_id.clone(),
        participants: t.participants.clone(),
        recipients: t.recipients.clone(),
        assignee_ids: Vec::new(),
        care_team: t.patient.map(|p| p.assigned_staff_ids.clone()).unwrap_or_default(),
        primary_provider_id: t.patient.and_then(|p| p.primary_provider_id.clone()),
        sms_peer,
        viewers: Vec::new(),
        patient_portal_access: t.patient.is_none_or(|p| p.portal_access),
        assignments: Vec::new(),
        last_message_at: at,
        message_count: 1,
        patient_message_count: u64::from(t.kind.is_patient_facing()),
        from_patient_count: u64::from(t.sender.kind == SenderKind::Patient),
        version: 0,
        latest: None,
        reply_clock: None,
        reviewed_at: None,
        id,
    };
    conversation.viewers = inbox_holders(&conversation, dir);
    Ok(conversation)
}
