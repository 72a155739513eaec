//! What every way of posting a message shares: request parts, recipients, attachments,
//! the new-thread builder (`start_thread`), reminders, billing and the outbox item.

use super::*;
use crate::store::Guard;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecipientInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContextInput {
    pub kind: String,
    pub id: String,
    pub label: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageOptions {
    pub allow_response: Option<bool>,
    pub allow_attachments: Option<bool>,
    pub mask_name: Option<bool>,
    /// REPLY-3: send, then close the conversation (staff replies only).
    pub send_and_close: Option<bool>,
    /// REPLY-2: a billable message, with its fee code.
    pub billable: Option<Billable>,
    /// REPLY-2: remind the sender if the patient has not read it in this many hours.
    pub notify_if_unread_hours: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Billable {
    pub fee_code: String,
}

/// REPLY-2's billing and reminder options: staff messages to a patient only.
pub(super) fn staff_extras(
    options: &MessageOptions,
    caller: &Caller,
    kind: ConversationKind,
    internal: bool,
) -> Result<(Option<String>, Option<u32>)> {
    let wanted = options.billable.is_some() || options.notify_if_unread_hours.is_some();
    if !wanted {
        return Ok((None, None));
    }
    if !caller.is_staff() {
        return Err(Error::Forbidden("thread options are for staff".into()));
    }
    if !kind.is_patient_facing() || internal {
        return Err(Error::invalid("options", "billing and unread reminders apply to messages to a patient"));
    }
    let fee_code = match &options.billable {
        Some(b) => {
            let ok = (1..=16).contains(&b.fee_code.len())
                && b.fee_code.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-');
            if !ok {
                return Err(Error::invalid(
                    "options.billable.feeCode",
                    "feeCode must be 1 to 16 letters, digits, `.` or `-`",
                ));
            }
            Some(b.fee_code.clone())
        }
        None => None,
    };
    let hours = match options.notify_if_unread_hours {
        Some(h) if (1..=168).contains(&h) => Some(h),
        Some(_) => {
            return Err(Error::invalid("options.notifyIfUnreadHours", "notifyIfUnreadHours must be from 1 to 168"))
        }
        None => None,
    };
    Ok((fee_code, hours))
}

pub(super) fn parse_priority(raw: Option<&str>) -> Result<Priority> {
    raw.map(Priority::parse).transpose().map(Option::unwrap_or_default)
}

pub(super) fn parse_recipients(field: &str, inputs: &[RecipientInput]) -> Result<Vec<Recipient>> {
    let mut out: Vec<Recipient> = Vec::new();
    for r in inputs {
        let parsed = Recipient::parse(field, &r.kind, &r.id)?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

/// Staff ids behind recipients (workgroups expanded to their active members). Unknown or
/// inactive recipients are refused by name of the field.
pub(super) fn expand_recipients(field: &str, dir: &Directory, recipients: &[Recipient]) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    let mut push = |id: &str| {
        if !ids.iter().any(|x| x == id) {
            ids.push(id.to_string());
        }
    };
    for r in recipients {
        match r.kind {
            RecipientKind::Staff => {
                let s = dir
                    .staff_member(&r.id)
                    .filter(|s| s.active)
                    .ok_or_else(|| Error::invalid(field, "no active staff user with this id in the practice"))?;
                push(&s.id);
            }
            RecipientKind::Workgroup => {
                let w = dir
                    .workgroup(&r.id)
                    .ok_or_else(|| Error::invalid(field, "no workgroup with this id in the practice"))?;
                for m in &w.member_ids {
                    if dir.staff_member(m).is_some_and(|s| s.active) {
                        push(m);
                    }
                }
            }
        }
    }
    Ok(ids)
}

/// Attachments named in a message: uploaded by this caller, checked, not yet attached.
pub(super) async fn attachments_for(app: &App, caller: &Caller, ids_in: &[String]) -> Result<Vec<AttachmentItem>> {
    let mut wanted: Vec<String> = Vec::new();
    for raw in ids_in {
        let id = parse_id("attachmentIds", ATTACHMENT_ID, raw)?;
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    if wanted.len() > 20 {
        return Err(Error::invalid("attachmentIds", "at most 20 attachments per message"));
    }
    let found = app.store.attachments(&caller.practice_id, &wanted).await?;
    let mut out = Vec::with_capacity(wanted.len());
    for id in &wanted {
        let a = found
            .iter()
            .find(|a| &a.id == id && a.uploader_id == caller.user_id)
            .ok_or_else(|| Error::invalid("attachmentIds", "no such uploaded attachment of yours"))?;
        let a = crate::ops::attachments::ensure_checked(app, a.clone()).await?;
        out.push(a);
    }
    Ok(out)
}

pub(super) struct NewThread<'a> {
    pub(super) kind: ConversationKind,
    pub(super) subject: Subject,
    pub(super) body: Body,
    pub(super) priority: Priority,
    pub(super) patient: Option<&'a PatientItem>,
    pub(super) participants: Vec<String>,
    pub(super) recipients: Vec<Recipient>,
    pub(super) context: Option<ContextLink>,
    pub(super) sender: SenderRef,
    pub(super) allow_response: bool,
    pub(super) allow_attachments: bool,
    pub(super) attachments: Vec<AttachmentItem>,
    pub(super) fee_code: Option<String>,
    pub(super) notify_if_unread_hours: Option<u32>,
    pub(super) documents: Vec<ContextLink>,
    /// NOTIFY-4: a thread begun by a text message: the number it came from (sealed to the
    /// conversation when stored), and no portal checks (nobody signed in; a text cannot be
    /// refused).
    pub(super) sms_peer: Option<String>,
}

pub(super) const INACTIVE_PATIENT: &str = "inactive patients can message the Billing and Front Office workgroups only";

/// ROLE-5: whether this conversation is one an inactive patient may still write into: its
/// recipients are all workgroups an inactive patient may write to (the directory is read only
/// for a conversation with workgroup recipients).
pub(super) async fn inactive_patient_may_reply(app: &App, practice_id: &str, c: &ConversationItem) -> Result<bool> {
    if c.recipients.is_empty() || c.recipients.iter().any(|r| r.kind != RecipientKind::Workgroup) {
        return Ok(false);
    }
    let dir = app.store.directory(practice_id).await?.ok_or(Error::Unauthenticated)?;
    Ok(c.recipients
        .iter()
        .all(|r| dir.workgroup(&r.id).is_some_and(|w| policy::inactive_patient_may_write_to(&w.name))))
}

/// COMPOSE-3 with ROLE-5: who a portal message goes to. A patient may name one workgroup or
/// one provider; an inactive patient may write only to Billing or Front Office.
pub(super) fn route_portal(dir: &Directory, patient: &PatientItem, recipients: &[Recipient]) -> Result<Vec<String>> {
    if recipients.len() > 1 {
        return Err(Error::invalid("recipients", "a patient may name one workgroup or one provider"));
    }
    if let Some(r) = recipients.first() {
        if r.kind == RecipientKind::Staff {
            let s = dir
                .staff_member(&r.id)
                .filter(|s| s.active)
                .ok_or_else(|| Error::invalid("recipients", "no such provider"))?;
            let is_provider = s.role.class() == RoleClass::Provider;
            if !is_provider {
                return Err(Error::invalid("recipients", "a patient may write to a provider or a workgroup"));
            }
        }
        if r.kind == RecipientKind::Workgroup {
            let w = dir.workgroup(&r.id).ok_or_else(|| Error::invalid("recipients", "no such workgroup"))?;
            if !patient.active && !policy::inactive_patient_may_write_to(&w.name) {
                return Err(Error::Forbidden(INACTIVE_PATIENT.into()));
            }
        } else if !patient.active {
            return Err(Error::Forbidden(INACTIVE_PATIENT.into()));
        }
        let ids = expand_recipients("recipients", dir, recipients)?;
        if ids.is_empty() {
            return Err(Error::invalid("recipients", "that workgroup has no active members"));
        }
        return Ok(ids);
    }
    if !patient.active {
        return Err(Error::Forbidden(
            "inactive patients can message the Billing and Front Office workgroups only".into(),
        ));
    }
    Ok(policy::route_portal_message(patient.primary_provider_id.as_deref(), &staff_members(dir)))
}

pub(super) fn patient_ref(p: &PatientItem) -> PatientRef {
    PatientRef { id: p.id.clone(), first_name: p.first_name.clone(), last_name: p.last_name.clone() }
}

pub(super) async fn start_thread(
    app: &App,
    ctx: &RequestCtx,
    dir: &Directory,
    t: NewThread<'_>,
    draft: Option<&str>,
) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = ids::new_id(CONVERSATION_ID);
    let message_id = ids::new_id(MESSAGE_ID);
    let at = ctx.at();
    let env = &app.envelope;
    let subject = Sealed(
        env.seal_str(Binding { practice_id: p, record: &conversation_id, field: "subject" }, t.subject.as_str())
            .await?,
    );
    let preview = Sealed(
        env.seal_str(Binding { practice_id: p, record: &conversation_id, field: "preview" }, &t.body.preview()).await?,
    );
    let message_record = format!("{conversation_id}/{message_id}");
    let body = Sealed(
        env.seal_str(Binding { practice_id: p, record: &message_record, field: "body" }, t.body.as_str()).await?,
    );
    let context = match &t.context {
        Some(c) => Some(ContextRef {
            kind: c.kind.clone(),
            id: c.id.clone(),
            label: Sealed(
                env.seal_str(Binding { practice_id: p, record: &conversation_id, field: "context" }, &c.label).await?,
            ),
        }),
        None => None,
    };
    let care_team = t.patient.map(|p| p.assigned_staff_ids.clone()).unwrap_or_default();
    let summary = Summary {
        kind: t.kind,
        subject,
        patient: t.patient.map(patient_ref),
        assignees: Vec::new(),
        assignee_ids: Vec::new(),
        context,
        status: ConversationStatus::Open,
        created_at: at.clone(),
        allow_response: t.allow_response,
        allow_attachments: t.allow_attachments,
    };
    let mut conversation = ConversationItem {
        pk: keys::conversation(p, &conversation_id),
        sk: keys::CONVERSATION_SK.into(),
        gsi2pk: keys::practice_conversations(p),
        gsi2sk: keys::inbox_sort(&at, &conversation_id),
        id: conversation_id.clone(),
        practice_id: p.to_string(),
        summary,
        created_by: caller.user_id.clone(),
        participants: t.participants,
        recipients: t.recipients,
        assignee_ids: Vec::new(),
        care_team,
        primary_provider_id: t.patient.and_then(|p| p.primary_provider_id.clone()),
        sms_peer: match &t.sms_peer {
            Some(number) => Some(Sealed(
                env.seal_str(Binding { practice_id: p, record: &conversation_id, field: "smsPeer" }, number).await?,
            )),
            None => None,
        },
        viewers: Vec::new(),
        patient_portal_access: t.patient.is_none_or(|p| p.portal_access),
        assignments: Vec::new(),
        last_message_at: at.clone(),
        message_count: 1,
        patient_message_count: u64::from(t.kind.is_patient_facing()),
        from_patient_count: u64::from(t.sender.kind == "patient"),
        version: 0,
    };
    conversation.viewers = policy::viewers(&facts(&conversation), &staff_members(dir));
    let message = MessageItem {
        pk: conversation.pk.clone(),
        sk: keys::message_sk(&at, &message_id),
        id: message_id.clone(),
        conversation_id: conversation_id.clone(),
        sender: t.sender.clone(),
        body,
        priority: t.priority,
        internal: false,
        attachments: t.attachments.iter().map(|a| attachment_ref(a, &at)).collect(),
        created_at: at.clone(),
        fee_code: t.fee_code.clone(),
        notify_if_unread_hours: t.notify_if_unread_hours,
        answer_pk: crate::ops::answer_pk(ctx),
        documents: sealed_documents(app, p, &conversation_id, &message_id, &t.documents).await?,
    };

    let (attachments, moved) = relocate(app, p, &conversation_id, t.attachments).await?;
    let mut tx = Tx::new();
    let settings = &dir.practice.settings;
    if caller.is_staff() {
        tx.check_staff_active(&app.store, p, &caller.user_id, t.kind.is_patient_facing())?;
    } else if t.sms_peer.is_none() {
        tx.check_patient_exists(&app.store, p, &caller.user_id)?;
        tx.patient_daily_count(
            &app.store,
            p,
            &caller.user_id,
            &crate::ops::message_day(ctx),
            settings.patient_messages_per_day,
        )?;
    }
    tx.put_new(&app.store, Guard::Conversation, &conversation)?;
    tx.put_new(&app.store, Guard::Message, &message)?;
    let urgent = t.priority == Priority::Urgent;
    let markers = match t.patient {
        Some(pat) => app.store.patient_markers(p, &conversation.viewers, &pat.id).await?,
        None => Default::default(),
    };
    for viewer in &conversation.viewers {
        let is_sender = viewer == &caller.user_id;
        tx.entry_add_message(
            &app.store,
            p,
            viewer,
            &conversation_id,
            &conversation.summary,
            &at,
            &preview,
            &t.sender,
            t.priority,
            is_sender,
        )?;
        let known = markers.get(viewer).copied().unwrap_or(0);
        let new_patient = t.patient.is_some() && known == 0;
        let delta = StatsDelta {
            conversations: 1,
            messages: 1,
            unread: i64::from(!is_sender),
            patients: i64::from(new_patient),
        };
        tx.stats_add(&app.store, p, viewer, delta)?;
        if let Some(pat) = t.patient {
            tx.patient_marker(&app.store, p, viewer, &pat.id, known, 1)?;
        }
    }
    for a in &attachments {
        tx.attachment_attach(&app.store, a, &conversation_id, false)?;
    }
    let patient_id = t.patient.map(|p| p.id.as_str());
    tx.put(
        &app.store,
        Guard::Audit,
        &audit::event(
            ctx,
            "conversation.create",
            AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id },
            "success",
        ),
    )?;
    tx.put(&app.store, Guard::Outbox, &outbox(p, &conversation, &message_id, &caller.user_id, urgent, &at, false))?;
    if let Some(b) = billing(p, &conversation, &message) {
        tx.put(&app.store, Guard::Billing, &b)?;
    }
    if let Some(r) = reminder(p, &conversation, &message) {
        tx.put(&app.store, Guard::Reminder, &r)?;
    }
    if let Some(d) = draft {
        tx.delete_existing(&app.store, Guard::Draft, keys::user(p, &caller.user_id), keys::draft_sk(d))?;
    }

    let renderer = Renderer::new(app, caller);
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let (view, patient) = renderer.conversation(&conversation, &names).await?;
    let message_view = renderer.message(&message, patient.as_ref(), "sent").await?;
    let mut searchable: Vec<String> = vec![t.subject.as_str().to_string(), t.body.preview()];
    if let Some(pv) = &patient {
        searchable.extend([pv.first_name.clone(), pv.last_name.clone()]);
    }
    let response = json!({ "conversation": view, "message": message_view });
    let texts: Vec<&str> = searchable.iter().map(String::as_str).collect();
    search::index_conversation(app, p, &conversation_id, &texts, patient.as_ref().map(|pv| pv.id.as_str())).await?;
    claim_idempotency(app, ctx, &mut tx, &response, &conversation_id).await?;
    let (body, fresh) = commit_created_fresh(app, ctx, tx, response, |guard| match guard {
        Guard::Attachment => Error::Conflict("an attachment is already attached or not yet checked".into()),
        Guard::Draft => Error::NotFound("draft"),
        Guard::Marker => Error::Unavailable("a concurrent conversation about this patient; retry".into()),
        Guard::Limit => crate::ops::daily_limit_reached(ctx, settings),
        _ => Error::Conflict("the conversation could not be created, retry".into()),
    })
    .await?;
    if fresh {
        forget_objects(app, &moved).await;
    }
    Ok(body)
}

/// Files uploaded before their conversation existed move under it on attach, so the key
/// layout keeps practices and conversations apart (`<practice>/<conversation>/<attachment>`).
/// The copy is made before the write; the old object goes after it (see `forget_objects`).
pub(super) async fn relocate(
    app: &App,
    p: &str,
    cid: &str,
    attachments: Vec<AttachmentItem>,
) -> Result<(Vec<AttachmentItem>, Vec<String>)> {
    let mut moved = Vec::new();
    let mut out = Vec::with_capacity(attachments.len());
    for mut a in attachments {
        let wanted = format!("{p}/{cid}/{}", a.id);
        if a.object_key != wanted {
            app.blobs.copy(&a.object_key, &wanted).await?;
            moved.push(std::mem::replace(&mut a.object_key, wanted));
        }
        out.push(a);
    }
    Ok((out, moved))
}

/// Deletes objects no record points to any more (best effort; the lifecycle rule on
/// `unattached/` is the backstop).
pub(super) async fn forget_objects(app: &App, keys: &[String]) {
    for k in keys {
        if let Err(e) = app.blobs.delete(k).await {
            tracing::warn!(error = %e, "a moved upload's old object was not deleted");
        }
    }
}

/// ATT-4: links to documents of the patient's record (kind, id, label), at most 10, by staff.
pub(super) fn parse_documents(caller: &Caller, inputs: &[ContextInput]) -> Result<Vec<ContextLink>> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    if !caller.is_staff() {
        return Err(Error::Forbidden("documents of the record are linked by staff".into()));
    }
    if inputs.len() > 10 {
        return Err(Error::invalid("documents", "at most 10 documents per message"));
    }
    inputs.iter().map(|d| ContextLink::parse(&d.kind, &d.id, &d.label)).collect()
}

/// Document links with their labels sealed to the message.
pub(super) async fn sealed_documents(
    app: &App,
    p: &str,
    cid: &str,
    mid: &str,
    docs: &[ContextLink],
) -> Result<Vec<ContextRef>> {
    let record = format!("{cid}/{mid}");
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let field = format!("document/{i}");
        let label =
            Sealed(app.envelope.seal_str(Binding { practice_id: p, record: &record, field: &field }, &d.label).await?);
        out.push(ContextRef { kind: d.kind.clone(), id: d.id.clone(), label });
    }
    Ok(out)
}

/// The billing report's record of a billable message (REPLY-2).
/// NOTIFY-5: a staff message to a patient sent with notify-if-unread.
pub(super) fn reminder(p: &str, c: &ConversationItem, m: &MessageItem) -> Option<ReminderItem> {
    let hours = m.notify_if_unread_hours?;
    let patient = c.summary.patient.as_ref()?;
    if m.internal || m.sender.kind != "staff" {
        return None;
    }
    let sent = ids::parse_time("createdAt", &m.created_at).ok()?;
    let due = ids::format_time(sent + ids::SignedDuration::from_hours(i64::from(hours)));
    Some(ReminderItem {
        pk: keys::reminder(p, &m.id),
        sk: keys::REMINDER_SK.into(),
        gsi1pk: keys::reminders_due(p),
        gsi1sk: format!("{due}#{}", m.id),
        practice_id: p.to_string(),
        conversation_id: c.id.clone(),
        message_id: m.id.clone(),
        message_at: m.created_at.clone(),
        sender_id: m.sender.id.clone(),
        patient_id: patient.id.clone(),
        due_at: due,
    })
}

pub(super) fn billing(p: &str, c: &ConversationItem, m: &MessageItem) -> Option<BillingItem> {
    let fee_code = m.fee_code.clone()?;
    Some(BillingItem {
        pk: keys::billing_month(p, &m.created_at[..7]),
        sk: format!("{}#{}", m.created_at, m.id),
        message_id: m.id.clone(),
        conversation_id: c.id.clone(),
        patient_id: c.summary.patient.as_ref().map(|p| p.id.clone()).unwrap_or_default(),
        staff_id: m.sender.id.clone(),
        fee_code,
        at: m.created_at.clone(),
    })
}

pub(super) fn attachment_ref(a: &AttachmentItem, at: &str) -> AttachmentRef {
    AttachmentRef {
        id: a.id.clone(),
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size: a.size,
        attached_at: at.to_string(),
    }
}

/// The notifications of a message (NOTIFY-1): everyone who takes part in it but its sender;
/// for an urgent one also the care team: assignees, assigned staff and the patient's primary
/// provider (NOTIFY-2). Only viewers, so nobody hears of what they may not see. A staff reply
/// in an SMS conversation also goes to the patient's phone as an SMS (NOTIFY-4).
pub(super) fn outbox(
    p: &str,
    c: &ConversationItem,
    message_id: &str,
    sender: &str,
    urgent: bool,
    at: &str,
    internal: bool,
) -> OutboxItem {
    let patient_id = c.summary.patient.as_ref().map(|p| p.id.as_str());
    let is_patient = |v: &str| Some(v) == patient_id;
    let care_team = |v: &String| {
        urgent && (c.care_team.contains(v) || c.primary_provider_id.as_ref() == Some(v) || c.assignee_ids.contains(v))
    };
    let recipient_ids = c
        .viewers
        .iter()
        .filter(|v| v.as_str() != sender && !(internal && is_patient(v)))
        .filter(|v| c.participants.contains(v) || c.assignee_ids.contains(v) || is_patient(v) || care_team(v))
        // ROLE-5: a patient without portal access is not notified.
        .filter(|v| c.patient_portal_access || !is_patient(v))
        .cloned()
        .collect();
    let sender_is_staff = sender.starts_with(STAFF_ID);
    let sms_reply = c.summary.kind == ConversationKind::Sms && sender_is_staff && !internal;
    OutboxItem {
        pk: keys::outbox(message_id),
        sk: keys::OUTBOX_SK.into(),
        practice_id: p.to_string(),
        conversation_id: c.id.clone(),
        message_id: message_id.to_string(),
        recipient_ids,
        urgent,
        created_at: at.to_string(),
        expires_at: ids::epoch_seconds() + 7 * 24 * 3600,
        notice: Notice::NewMessage,
        sms_reply,
        sent: Vec::new(),
    }
}
