//! POST /conversations (COMPOSE-1..4) and sending a draft.

use super::thread::{created_id, start_thread, NewThread};
use super::*;

/// POST /conversations.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComposeRequest {
    pub kind: Option<String>,
    pub patient_id: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub priority: Option<String>,
    #[serde(default)]
    pub recipients: Vec<RecipientInput>,
    pub context: Option<ContextInput>,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// ATT-4: documents of the patient's record, linked by reference.
    #[serde(default)]
    pub documents: Vec<ContextInput>,
    pub options: Option<MessageOptions>,
}

/// POST /conversations (COMPOSE-1, COMPOSE-2, COMPOSE-3, COMPOSE-4).
pub async fn compose(app: &App, ctx: &RequestCtx, req: ComposeRequest) -> Result<Created<ThreadStarted>> {
    compose_from_draft(app, ctx, req, None).await
}

/// Compose, consuming a draft in the same transaction when one is named (COMPOSE-5): a
/// draft is sent at most once.
pub async fn compose_from_draft(
    app: &App,
    ctx: &RequestCtx,
    req: ComposeRequest,
    draft: Option<&DraftId>,
) -> Result<Created<ThreadStarted>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    // One read (issue 18): the caller (SEC-4), the practice (settings, and whether this
    // function's copy of the directory is current) and the patient the message is about.
    let patient_id = match (caller.is_staff(), req.kind.as_deref(), req.patient_id.as_deref()) {
        (false, _, _) => Some(caller.user_id.clone()),
        (true, Some("patient"), Some(raw)) => Some(UserId::parse_patient("patientId", raw)?),
        _ => None,
    };
    let mut batch = app.store.batch();
    let (me, practice) = (batch.caller(caller), batch.practice(p));
    let patient = patient_id.as_ref().map(|id| batch.patient(p, id));
    // A new conversation about a patient counts the patient as new for each viewer without
    // one (INBOX-4): whom it may reach is known from this function's copy of the directory,
    // so their markers come in this read too while it stays one call (100 keys).
    let markers = patient_id.as_ref().and_then(|pat| {
        let mut users = app.store.staff_hint(p);
        users.push(pat.clone());
        (batch.len() + users.len() <= 100).then(|| batch.patient_markers(p, &users, pat))
    });
    let read = batch.read().await?;
    let practice = read.get(&practice)?.ok_or(Error::Unauthenticated)?;
    app.renew_practice_rules(&practice);
    let me = app.admit(ctx, read.caller(&me)?, false).await?;
    let patient = match patient {
        Some(slot) => read.get(&slot)?,
        None => None,
    };
    let known_markers = markers.map(|m| read.patient_markers(&m));
    let dir = app.store.directory_as_of(practice).await?;
    let limits = dir.practice.settings.body_limits();
    let context = req.context.as_ref().map(|c| ContextLink::parse(&c.kind, &c.id, &c.label)).transpose()?;
    // COMPOSE-4: a conversation started from a record defaults its subject to `Re: <label>`.
    let subject = match (&req.subject, &context) {
        (None, Some(c)) => Subject::parse(Some(&format!("Re: {}", c.label)))?,
        (s, _) => Subject::parse(s.as_deref())?,
    };
    let body = if caller.is_staff() {
        Body::parse(req.body.as_deref(), limits)?
    } else {
        crate::ops::patient_body(req.body.as_deref(), &dir.practice.settings)?
    };
    let priority = parse_priority(req.priority.as_deref())?;
    let options = req.options.unwrap_or_default();
    if options.send_and_close.is_some() {
        return Err(Error::invalid("options.sendAndClose", "sendAndClose applies to replies"));
    }
    if !caller.is_staff() {
        parse_documents(caller, &req.documents)?;
    }
    let attachments = attachments_for(app, caller, &req.attachment_ids).await?;

    if !caller.is_staff() {
        if req.kind.as_deref().is_some_and(|k| k != "patient") || req.patient_id.is_some() {
            return Err(Error::invalid(
                "kind",
                "a patient writes only its own patient messages; omit `kind` and `patientId`",
            ));
        }
        let patient = patient.ok_or(Error::Unauthenticated)?;
        let recipients = parse_recipients("recipients", &req.recipients)?;
        let participants = route_portal(&dir, &patient, &recipients)?;
        let sender = SenderRef { kind: SenderKind::Patient, id: patient.id.clone(), name: None, masked: false };
        let thread = NewThread {
            priority,
            patient: Some(&patient),
            recipients,
            context,
            attachments,
            known_markers,
            ..NewThread::new(ConversationKind::Patient, subject, body, sender, participants)
        };
        let created = start_thread(app, ctx, &dir, thread, draft).await?;
        auto_replies(app, ctx, &created_id(&created)?).await;
        return Ok(created);
    }

    let me = me.ok_or(Error::Unauthenticated)?;
    let sender = SenderRef {
        kind: SenderKind::Staff,
        id: me.id.clone(),
        name: Some(me.display_name()),
        masked: options.mask_name.unwrap_or(false),
    };
    let kind = ConversationKind::parse(
        req.kind.as_deref().ok_or_else(|| Error::invalid("kind", "kind is required: `patient` or `team`"))?,
    )?;
    let extras = staff_extras(&options, caller, kind, false)?;
    let documents = parse_documents(caller, &req.documents)?;
    let recipients = parse_recipients("recipients", &req.recipients)?;
    let recipients_empty = recipients.is_empty();
    let participants = participants_with(&me.id, &dir, &recipients)?;
    let thread = NewThread {
        priority,
        recipients,
        context,
        attachments,
        fee_code: extras.0,
        notify_if_unread_hours: extras.1,
        documents,
        known_markers,
        ..NewThread::new(kind, subject, body, sender, participants)
    };
    match kind {
        ConversationKind::Patient => {
            if !me.portal_messaging {
                return Err(Error::Forbidden("portal messaging is switched off for this user".into()));
            }
            if req.patient_id.is_none() {
                return Err(Error::invalid("patientId", "patientId is required for a patient message"));
            }
            let patient = patient.ok_or(Error::NotFound("patient"))?;
            let thread = NewThread {
                allow_response: options.allow_response.unwrap_or(true),
                allow_attachments: options.allow_attachments.unwrap_or(false),
                patient: Some(&patient),
                ..thread
            };
            start_thread(app, ctx, &dir, thread, draft).await
        }
        ConversationKind::Team => {
            if req.patient_id.is_some() {
                return Err(Error::invalid("patientId", "a team message has no patient; use kind `patient`"));
            }
            if recipients_empty {
                return Err(Error::invalid("recipients", "a team message needs at least one staff user or workgroup"));
            }
            start_thread(app, ctx, &dir, thread, draft).await
        }
        _ => Err(Error::invalid("kind", "kind must be `patient` or `team`")),
    }
}
