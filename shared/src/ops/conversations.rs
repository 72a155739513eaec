//! Compose (COMPOSE-1..4), reply (REPLY-1, CONV-5), read a thread (CONV-1, CONV-2) and
//! assign (ASSIGN-1, ASSIGN-2, ROLE-4).

use super::{
    active_staff, claim_idempotency, commit_created, commit_created_fresh, facts, search, staff_members,
    visible_conversation,
};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::*;
use crate::error::{Error, Result};
use crate::ids;
use crate::keys;
use crate::policy;
use crate::receipts;
use crate::records::*;
use crate::store::{Directory, StatsDelta, Tx};
use crate::views::Renderer;
use serde::Deserialize;
use serde_json::json;

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
fn staff_extras(
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

/// POST /conversations/{id}/messages.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyRequest {
    pub body: Option<String>,
    pub priority: Option<String>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// ATT-4: documents of the patient's record, linked by reference.
    #[serde(default)]
    pub documents: Vec<ContextInput>,
    pub options: Option<MessageOptions>,
}

/// POST /conversations/{id}/assign.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignRequest {
    pub assignees: Vec<RecipientInput>,
    pub comment: Option<String>,
}

fn parse_priority(raw: Option<&str>) -> Result<Priority> {
    raw.map(Priority::parse).transpose().map(Option::unwrap_or_default)
}

fn parse_recipients(field: &str, inputs: &[RecipientInput]) -> Result<Vec<Recipient>> {
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
fn expand_recipients(field: &str, dir: &Directory, recipients: &[Recipient]) -> Result<Vec<String>> {
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
async fn attachments_for(app: &App, caller: &Caller, ids_in: &[String]) -> Result<Vec<AttachmentItem>> {
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
        let a = super::attachments::ensure_checked(app, a.clone()).await?;
        out.push(a);
    }
    Ok(out)
}

struct NewThread<'a> {
    kind: ConversationKind,
    subject: Subject,
    body: Body,
    priority: Priority,
    patient: Option<&'a PatientItem>,
    participants: Vec<String>,
    recipients: Vec<Recipient>,
    context: Option<ContextLink>,
    sender: SenderRef,
    allow_response: bool,
    allow_attachments: bool,
    attachments: Vec<AttachmentItem>,
    fee_code: Option<String>,
    notify_if_unread_hours: Option<u32>,
    documents: Vec<ContextLink>,
    /// NOTIFY-4: a thread begun by a text message: the number it came from (sealed to the
    /// conversation when stored), and no portal checks (nobody signed in; a text cannot be
    /// refused).
    sms_peer: Option<String>,
}

/// POST /conversations (COMPOSE-1, COMPOSE-2, COMPOSE-3, COMPOSE-4).
pub async fn compose(app: &App, ctx: &RequestCtx, req: ComposeRequest) -> Result<serde_json::Value> {
    compose_from_draft(app, ctx, req, None).await
}

/// Compose, consuming a draft in the same transaction when one is named (COMPOSE-5): a
/// draft is sent at most once.
pub async fn compose_from_draft(
    app: &App,
    ctx: &RequestCtx,
    req: ComposeRequest,
    draft: Option<&str>,
) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let dir = app.store.directory(&caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
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
        super::patient_body(req.body.as_deref(), &dir.practice.settings)?
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
        let patient = app.store.patient(&caller.practice_id, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
        let recipients = parse_recipients("recipients", &req.recipients)?;
        let participants = route_portal(&dir, &patient, &recipients)?;
        let thread = NewThread {
            kind: ConversationKind::Patient,
            subject,
            body,
            priority,
            patient: Some(&patient),
            participants,
            recipients,
            context,
            sender: SenderRef { kind: "patient".into(), id: patient.id.clone(), name: None, masked: false },
            allow_response: true,
            allow_attachments: true,
            attachments,
            fee_code: None,
            notify_if_unread_hours: None,
            documents: Vec::new(),
            sms_peer: None,
        };
        let created = start_thread(app, ctx, &dir, thread, draft).await?;
        if let Some(cid) = created["conversation"]["id"].as_str() {
            auto_replies(app, ctx, cid).await;
        }
        return Ok(created);
    }

    let me = active_staff(&dir, caller)?;
    let sender = SenderRef {
        kind: "staff".into(),
        id: me.id.clone(),
        name: Some(me.display_name()),
        masked: options.mask_name.unwrap_or(false),
    };
    let kind = ConversationKind::parse(
        req.kind.as_deref().ok_or_else(|| Error::invalid("kind", "kind is required: `patient` or `team`"))?,
    )?;
    let extras = staff_extras(&options, caller, kind, false)?;
    let documents = parse_documents(caller, &req.documents)?;
    match kind {
        ConversationKind::Patient => {
            if !me.portal_messaging {
                return Err(Error::Forbidden("portal messaging is switched off for this user".into()));
            }
            let raw = req
                .patient_id
                .as_deref()
                .ok_or_else(|| Error::invalid("patientId", "patientId is required for a patient message"))?;
            let patient_id = parse_id("patientId", PATIENT_ID, raw)?;
            let patient =
                app.store.patient(&caller.practice_id, &patient_id).await?.ok_or(Error::NotFound("patient"))?;
            let recipients = parse_recipients("recipients", &req.recipients)?;
            let mut participants = vec![me.id.clone()];
            for id in expand_recipients("recipients", &dir, &recipients)? {
                if !participants.contains(&id) {
                    participants.push(id);
                }
            }
            let thread = NewThread {
                kind,
                subject,
                body,
                priority,
                patient: Some(&patient),
                participants,
                recipients,
                context,
                sender,
                allow_response: options.allow_response.unwrap_or(true),
                allow_attachments: options.allow_attachments.unwrap_or(false),
                attachments,
                fee_code: extras.0.clone(),
                notify_if_unread_hours: extras.1,
                documents: documents.clone(),
                sms_peer: None,
            };
            start_thread(app, ctx, &dir, thread, draft).await
        }
        ConversationKind::Team => {
            if req.patient_id.is_some() {
                return Err(Error::invalid("patientId", "a team message has no patient; use kind `patient`"));
            }
            let recipients = parse_recipients("recipients", &req.recipients)?;
            if recipients.is_empty() {
                return Err(Error::invalid("recipients", "a team message needs at least one staff user or workgroup"));
            }
            let mut participants = vec![me.id.clone()];
            for id in expand_recipients("recipients", &dir, &recipients)? {
                if !participants.contains(&id) {
                    participants.push(id);
                }
            }
            let thread = NewThread {
                kind,
                subject,
                body,
                priority,
                patient: None,
                participants,
                recipients,
                context,
                sender,
                allow_response: true,
                allow_attachments: true,
                attachments,
                fee_code: extras.0.clone(),
                notify_if_unread_hours: extras.1,
                documents: documents.clone(),
                sms_peer: None,
            };
            start_thread(app, ctx, &dir, thread, draft).await
        }
        _ => Err(Error::invalid("kind", "kind must be `patient` or `team`")),
    }
}

const INACTIVE_PATIENT: &str = "inactive patients can message the Billing and Front Office workgroups only";

/// ROLE-5: whether this conversation is one an inactive patient may still write into: its
/// recipients are all workgroups an inactive patient may write to (the directory is read only
/// for a conversation with workgroup recipients).
async fn inactive_patient_may_reply(app: &App, practice_id: &str, c: &ConversationItem) -> Result<bool> {
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
fn route_portal(dir: &Directory, patient: &PatientItem, recipients: &[Recipient]) -> Result<Vec<String>> {
    if recipients.len() > 1 {
        return Err(Error::invalid("recipients", "a patient may name one workgroup or one provider"));
    }
    if let Some(r) = recipients.first() {
        if r.kind == RecipientKind::Staff {
            let s = dir
                .staff_member(&r.id)
                .filter(|s| s.active)
                .ok_or_else(|| Error::invalid("recipients", "no such provider"))?;
            let is_provider = Role::parse(&s.role).map(|r| r.class() == RoleClass::Provider).unwrap_or(false);
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

fn patient_ref(p: &PatientItem) -> PatientRef {
    PatientRef { id: p.id.clone(), first_name: p.first_name.clone(), last_name: p.last_name.clone() }
}

async fn start_thread(
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
    let at = ids::now();
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
        kind: t.kind.as_str().into(),
        subject,
        patient: t.patient.map(patient_ref),
        assignees: Vec::new(),
        assignee_ids: Vec::new(),
        context,
        status: "open".into(),
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
        answer_pk: super::answer_pk(ctx),
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
            &super::message_day(),
            settings.patient_messages_per_day,
        )?;
    }
    tx.put_new(&app.store, "conversation", &conversation)?;
    tx.put_new(&app.store, "message", &message)?;
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
        "audit",
        &audit::event(
            ctx,
            "conversation.create",
            AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id },
            "success",
        ),
    )?;
    tx.put(&app.store, "outbox", &outbox(p, &conversation, &message_id, &caller.user_id, urgent, &at, false))?;
    if let Some(b) = billing(p, &conversation, &message) {
        tx.put(&app.store, "billing", &b)?;
    }
    if let Some(r) = reminder(p, &conversation, &message) {
        tx.put(&app.store, "reminder", &r)?;
    }
    if let Some(d) = draft {
        tx.delete_existing(&app.store, "draft", keys::user(p, &caller.user_id), keys::draft_sk(d))?;
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
    let (body, fresh) = commit_created_fresh(app, ctx, tx, response, |label| match label {
        "attachment" => Error::Conflict("an attachment is already attached or not yet checked".into()),
        "draft" => Error::NotFound("draft"),
        "marker" => Error::Unavailable("a concurrent conversation about this patient; retry".into()),
        "limit" => super::daily_limit_reached(settings),
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
async fn relocate(
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
async fn forget_objects(app: &App, keys: &[String]) {
    for k in keys {
        if let Err(e) = app.blobs.delete(k).await {
            tracing::warn!(error = %e, "a moved upload's old object was not deleted");
        }
    }
}

/// ATT-4: links to documents of the patient's record (kind, id, label), at most 10, by staff.
fn parse_documents(caller: &Caller, inputs: &[ContextInput]) -> Result<Vec<ContextLink>> {
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
async fn sealed_documents(app: &App, p: &str, cid: &str, mid: &str, docs: &[ContextLink]) -> Result<Vec<ContextRef>> {
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
fn reminder(p: &str, c: &ConversationItem, m: &MessageItem) -> Option<ReminderItem> {
    let hours = m.notify_if_unread_hours?;
    let patient = c.summary.patient.as_ref()?;
    if m.internal || m.sender.kind != "staff" {
        return None;
    }
    let sent = ids::parse_time("createdAt", &m.created_at).ok()?;
    let due = ids::format_time(sent + time::Duration::hours(i64::from(hours)));
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

fn billing(p: &str, c: &ConversationItem, m: &MessageItem) -> Option<BillingItem> {
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

fn attachment_ref(a: &AttachmentItem, at: &str) -> AttachmentRef {
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
fn outbox(
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
    let sms_reply = c.summary.kind == "sms" && sender_is_staff && !internal;
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

/// POST /conversations/{id}/messages (REPLY-1, CONV-5).
pub async fn reply(app: &App, ctx: &RequestCtx, conversation_id: &str, req: ReplyRequest) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (conversation, practice) =
        tokio::try_join!(visible_conversation(app, caller, &conversation_id), app.store.practice(p))?;
    let practice = practice.ok_or(Error::Unauthenticated)?;
    let by_patient = !caller.is_staff();
    let body = if by_patient {
        super::patient_body(req.body.as_deref(), &practice.settings)?
    } else {
        Body::parse(req.body.as_deref(), practice.settings.body_limits())?
    };
    let priority = parse_priority(req.priority.as_deref())?;
    let options = req.options.unwrap_or_default();
    let send_and_close = options.send_and_close.unwrap_or(false);
    let kind = ConversationKind::parse(&conversation.summary.kind)?;
    if by_patient {
        if req.internal {
            return Err(Error::Forbidden("patients cannot write internal notes".into()));
        }
        if options.allow_response.is_some()
            || options.allow_attachments.is_some()
            || options.mask_name.is_some()
            || options.send_and_close.is_some()
        {
            return Err(Error::Forbidden("thread options are for staff".into()));
        }
        if conversation.summary.status != "open" || !conversation.summary.allow_response {
            return Err(Error::Conflict("this conversation does not accept replies".into()));
        }
        if !req.attachment_ids.is_empty() && !conversation.summary.allow_attachments {
            return Err(Error::Forbidden("this conversation does not accept attachments from patients".into()));
        }
    }
    if req.internal && !kind.is_patient_facing() {
        return Err(Error::invalid(
            "internal",
            "internal notes belong to patient conversations; team messages are internal already",
        ));
    }
    let attachments = attachments_for(app, caller, &req.attachment_ids).await?;
    let extras = staff_extras(&options, caller, kind, req.internal)?;
    let documents = parse_documents(caller, &req.documents)?;

    let sender = if by_patient {
        SenderRef { kind: "patient".into(), id: caller.user_id.clone(), name: None, masked: false }
    } else {
        let me = app.store.staff(p, &caller.user_id).await?.filter(|s| s.active).ok_or(Error::Unauthenticated)?;
        if kind.is_patient_facing() && !req.internal && !me.portal_messaging {
            return Err(Error::Forbidden("portal messaging is switched off for this user".into()));
        }
        SenderRef {
            kind: "staff".into(),
            id: me.id.clone(),
            name: Some(me.display_name()),
            masked: options.mask_name.unwrap_or(false),
        }
    };

    let message_id = ids::new_id(MESSAGE_ID);
    let at = ids::now();
    let env = &app.envelope;
    let message_record = format!("{conversation_id}/{message_id}");
    let sealed_body =
        Sealed(env.seal_str(Binding { practice_id: p, record: &message_record, field: "body" }, body.as_str()).await?);
    let preview = Sealed(
        env.seal_str(Binding { practice_id: p, record: &conversation_id, field: "preview" }, &body.preview()).await?,
    );
    let message = MessageItem {
        pk: conversation.pk.clone(),
        sk: keys::message_sk(&at, &message_id),
        id: message_id.clone(),
        conversation_id: conversation_id.clone(),
        sender: sender.clone(),
        body: sealed_body,
        priority,
        internal: req.internal,
        attachments: attachments.iter().map(|a| attachment_ref(a, &at)).collect(),
        created_at: at.clone(),
        fee_code: extras.0.clone(),
        notify_if_unread_hours: extras.1,
        documents: sealed_documents(app, p, &conversation_id, &message_id, &documents).await?,
        answer_pk: super::answer_pk(ctx),
    };

    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    let (attachments, moved) = relocate(app, p, &conversation_id, attachments).await?;
    let mut tx = Tx::new();
    if by_patient {
        // ROLE-5 on replies too (security finding 8): an inactive patient answers only a
        // conversation with Billing or the Front Office; the condition holds it atomically.
        if inactive_patient_may_reply(app, p, &conversation).await? {
            tx.check_patient_exists(&app.store, p, &caller.user_id)?;
        } else {
            tx.check_patient_active(&app.store, p, &caller.user_id)?;
        }
        let limit = practice.settings.patient_messages_per_day;
        tx.patient_daily_count(&app.store, p, &caller.user_id, &super::message_day(), limit)?;
    } else {
        tx.check_staff_active(&app.store, p, &caller.user_id, kind.is_patient_facing() && !req.internal)?;
    }
    tx.conversation_add_message(
        &app.store,
        p,
        &conversation_id,
        &at,
        !req.internal && kind.is_patient_facing(),
        by_patient,
    )?;
    tx.put_new(&app.store, "message", &message)?;
    let urgent = priority == Priority::Urgent;
    for viewer in &conversation.viewers {
        if req.internal && Some(viewer) == patient_id.as_ref() {
            continue;
        }
        let is_sender = viewer == &caller.user_id;
        tx.entry_add_message(
            &app.store,
            p,
            viewer,
            &conversation_id,
            &conversation.summary,
            &at,
            &preview,
            &sender,
            priority,
            is_sender,
        )?;
        tx.stats_add(
            &app.store,
            p,
            viewer,
            StatsDelta { messages: 1, unread: i64::from(!is_sender), ..Default::default() },
        )?;
    }
    for a in &attachments {
        tx.attachment_attach(&app.store, a, &conversation_id, req.internal)?;
    }
    let action = if req.internal { "note.create" } else { "message.create" };
    tx.put(
        &app.store,
        "audit",
        &audit::event(
            ctx,
            action,
            AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id: patient_id.as_deref() },
            "success",
        ),
    )?;
    tx.put(&app.store, "outbox", &outbox(p, &conversation, &message_id, &caller.user_id, urgent, &at, req.internal))?;
    if let Some(b) = billing(p, &conversation, &message) {
        tx.put(&app.store, "billing", &b)?;
    }
    if let Some(r) = reminder(p, &conversation, &message) {
        tx.put(&app.store, "reminder", &r)?;
    }

    let renderer = Renderer::new(app, caller);
    let patient_view = match &conversation.summary.patient {
        Some(pr) => Some(renderer.patient(pr).await?),
        None => None,
    };
    let response = json!({ "message": renderer.message(&message, patient_view.as_ref(), "sent").await? });
    // Internal notes are never indexed (see ops::search).
    if !req.internal {
        search::index_conversation(app, p, &conversation_id, &[&body.preview()], None).await?;
    }
    claim_idempotency(app, ctx, &mut tx, &response, &message_id).await?;
    let (body_json, fresh) = commit_created_fresh(app, ctx, tx, response, |label| match label {
        "conversation" => Error::Conflict("this conversation does not accept replies".into()),
        "attachment" => Error::Conflict("an attachment is already attached or not yet checked".into()),
        "limit" => super::daily_limit_reached(&practice.settings),
        "inactive" => Error::Forbidden(INACTIVE_PATIENT.into()),
        _ => Error::Conflict("the message could not be stored, retry".into()),
    })
    .await?;
    if fresh {
        forget_objects(app, &moved).await;
    }
    if fresh && by_patient {
        auto_replies(app, ctx, &conversation_id).await;
    }
    // REPLY-2, REPLY-3: the message is stored first; a failed control change leaves it sent
    // with the thread as it was, and the change can be repeated.
    let controls = Controls {
        open: send_and_close.then_some(false),
        allow_response: options.allow_response,
        allow_attachments: options.allow_attachments,
    };
    if fresh && (controls.open.is_some() || controls.allow_response.is_some() || controls.allow_attachments.is_some()) {
        set_controls(app, ctx, &conversation_id, controls).await?;
    }
    Ok(body_json)
}

/// GET /conversations/{id} (CONV-1, CONV-2): the thread, oldest first; marks it read for the
/// caller alone. Patients never receive internal notes.
pub async fn get_conversation(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (conversation, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.as_str());
    // Marking read is guarded by the unread count it clears (so the counters stay exact);
    // a message arriving in between makes it read the entry again.
    let mut attempt = 0;
    loop {
        let entry = if conversation.viewers.contains(&caller.user_id) {
            app.store.entry(p, &caller.user_id, &conversation_id).await?
        } else {
            // Anyone else who may see the thread (a role granted later) has nothing to mark.
            None
        };
        let mut tx = Tx::new();
        tx.check_caller(&app.store, caller)?;
        let now = ids::now();
        if let Some(e) = &entry {
            tx.entry_mark_read(&app.store, p, &caller.user_id, &conversation_id, &now, e.unread)?;
            tx.stats_add(
                &app.store,
                p,
                &caller.user_id,
                StatsDelta { unread: -(e.unread as i64), ..Default::default() },
            )?;
        }
        tx.presence_seen(&app.store, p, &caller.user_id, &now)?;
        tx.put(
            &app.store,
            "audit",
            &audit::event(
                ctx,
                "conversation.read",
                AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id },
                "success",
            ),
        )?;
        match app.store.commit(tx).await? {
            Ok(()) => break,
            Err("actor") => return Err(Error::Unauthenticated),
            Err("entry") if attempt < 5 => attempt += 1,
            Err(_) => return Err(Error::Unavailable("the conversation kept changing; retry".into())),
        }
    }

    let renderer = Renderer::new(app, caller);
    let staff_names = if caller.is_staff() { app.store.directory(p).await?.map(|d| d.staff) } else { None };
    let names = |id: &str| staff_names.as_ref().and_then(|s| s.iter().find(|x| x.id == id).map(|x| x.display_name()));
    let (view, patient) = renderer.conversation(&conversation, &names).await?;
    let visible: Vec<&MessageItem> =
        messages.iter().filter(|m| !m.internal || policy::can_see_internal(caller)).collect();
    let mut out = Vec::with_capacity(visible.len());
    if caller.is_staff() {
        // CONV-2: read receipts per recipient, for staff.
        let audience = receipts::audience(&conversation);
        let marks = app.store.receipt_marks(p, &audience, &conversation_id).await?;
        for m in visible {
            let per_recipient = receipts::for_message(m, &audience, patient_id, &marks);
            let mut view = renderer.message(m, patient.as_ref(), receipts::overall(&per_recipient)).await?;
            view.receipts = Some(per_recipient);
            out.push(view);
        }
    } else {
        for m in visible {
            let status = if m.sender.id == caller.user_id { "sent" } else { "read" };
            out.push(renderer.message(m, patient.as_ref(), status).await?);
        }
    }
    let mut body = json!({ "conversation": view, "messages": out });
    if caller.is_staff() {
        let mut assignments = Vec::new();
        for (i, a) in conversation.assignments.iter().enumerate() {
            let comment = match &a.comment {
                Some(c) => Some(renderer.open(&conversation_id, &format!("assignment/{i}"), c).await?),
                None => None,
            };
            assignments.push(json!({ "by": a.by, "assignees": a.assignees, "comment": comment, "at": a.at }));
        }
        body["assignments"] = json!(assignments);
    }
    Ok(body)
}

/// POST /conversations/{id}/assign (ASSIGN-1, ASSIGN-2, ROLE-4). The new assignees replace
/// the old (so a reassignment leaves the reassigner's "assigned to me") and become
/// participants; the comment is staff-only.
pub async fn assign(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    req: AssignRequest,
) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (mut conversation, dir) =
        tokio::try_join!(visible_conversation(app, caller, &conversation_id), app.store.directory(p))?;
    let dir = dir.ok_or(Error::Unauthenticated)?;
    if !policy::can_assign(caller) {
        return Err(Error::Forbidden("only admin and provider roles may assign conversations".into()));
    }
    active_staff(&dir, caller)?;
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
    conversation.assignments.push(AssignmentRecord { by: caller.user_id.clone(), assignees, comment, at: ids::now() });
    conversation.viewers = policy::viewers(&facts(&conversation), &staff_members(&dir));
    conversation.version += 1;

    let mut tx = Tx::new();
    tx.check_staff_active(&app.store, p, &caller.user_id, false)?;
    rewrite_membership(app, &mut tx, &conversation, expected_version, &old_viewers).await?;
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    tx.put(
        &app.store,
        "audit",
        &audit::event(
            ctx,
            "conversation.assign",
            AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id: patient_id.as_deref() },
            "success",
        ),
    )?;
    // The answer is made before the commit, and kept with the Idempotency-Key in the same
    // transaction: nothing can fail after the assignment is stored, and a retry replays it
    // instead of assigning twice.
    let renderer = Renderer::new(app, caller);
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let (view, _) = renderer.conversation(&conversation, &names).await?;
    let response = json!({ "conversation": view });
    claim_idempotency(app, ctx, &mut tx, &response, &conversation_id).await?;
    commit_created(app, ctx, tx, response, |label| match label {
        "actor" => Error::Unauthenticated,
        _ => Error::Conflict("the conversation was changed by someone else; reload and retry".into()),
    })
    .await
}

/// Writes a conversation's new membership (its summary and viewers, as `conversation` holds
/// them, guarded by `expected_version`) into `tx`, with every viewer's entry: existing entries
/// keep their preview and counts and take the new summary; a new viewer gets the latest
/// activity, with every message it may see unread; a viewer that left loses its entry. Counts
/// and per-patient markers move with them (INBOX-4). Assignment and a care-team change
/// (ACCT-2) both come through here.
pub(super) async fn rewrite_membership(
    app: &App,
    tx: &mut Tx,
    conversation: &ConversationItem,
    expected_version: u64,
    old_viewers: &[String],
) -> Result<()> {
    let p = conversation.practice_id.as_str();
    let conversation_id = conversation.id.as_str();
    tx.conversation_replace_membership(&app.store, conversation, expected_version)?;
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    let (latest_preview, latest_sender, visible) = latest_for_new_viewers(app, conversation).await?;
    let gone: Vec<String> = old_viewers.iter().filter(|v| !conversation.viewers.contains(v)).cloned().collect();
    let joined: Vec<String> = conversation.viewers.iter().filter(|v| !old_viewers.contains(v)).cloned().collect();
    let gone_entries = app.store.entries_of(p, &gone, conversation_id).await?;
    let changed: Vec<String> = joined.iter().chain(gone.iter()).cloned().collect();
    let markers = match &patient_id {
        Some(pat) => app.store.patient_markers(p, &changed, pat).await?,
        None => Default::default(),
    };
    for v in &conversation.viewers {
        let count = if Some(v) == patient_id.as_ref() { conversation.patient_message_count } else { visible };
        tx.entry_set_summary(&app.store, p, v, conversation, &latest_preview, &latest_sender, count)?;
        if joined.contains(v) {
            let known = markers.get(v).copied().unwrap_or(0);
            let new_patient = i64::from(patient_id.is_some() && known == 0);
            let delta =
                StatsDelta { conversations: 1, messages: count as i64, unread: count as i64, patients: new_patient };
            tx.stats_add(&app.store, p, v, delta)?;
            if let Some(pat) = &patient_id {
                tx.patient_marker(&app.store, p, v, pat, known, 1)?;
            }
        }
    }
    for (user, entry) in &gone_entries {
        tx.entry_delete(&app.store, p, user, conversation_id, entry.unread)?;
        let known = markers.get(user).copied().unwrap_or(0);
        let last_for_patient = i64::from(patient_id.is_some() && known == 1);
        let delta = StatsDelta {
            conversations: -1,
            messages: -(entry.message_count as i64),
            unread: -(entry.unread as i64),
            patients: -last_for_patient,
        };
        tx.stats_add(&app.store, p, user, delta)?;
        if let Some(pat) = &patient_id {
            tx.patient_marker(&app.store, p, user, pat, known, -1)?;
        }
    }
    Ok(())
}

/// The preview and sender a brand-new viewer's entry starts with: the latest message any
/// staff member may see. Costs one Query of the thread, only on assignment.
async fn latest_for_new_viewers(app: &App, c: &ConversationItem) -> Result<(Sealed, SenderRef, u64)> {
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
pub async fn set_state(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    req: StateRequest,
) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
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
    let change = crate::store::StateChange { starred: req.starred, archived: req.archived, unread: req.unread };
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.as_str());
    // Guarded by the unread count it read, so the counters move exactly; a message arriving
    // in between makes it read the entry again.
    let mut attempt = 0;
    let updated = loop {
        let mut entry =
            app.store.entry(p, &caller.user_id, &conversation_id).await?.ok_or(Error::NotFound("conversation"))?;
        let mut tx = Tx::new();
        tx.check_caller(&app.store, caller)?;
        tx.entry_set_state(&app.store, p, &caller.user_id, &entry, &change)?;
        if let Some(unread) = change.unread_count(entry.unread) {
            let delta = StatsDelta { unread: unread as i64 - entry.unread as i64, ..Default::default() };
            tx.stats_add(&app.store, p, &caller.user_id, delta)?;
            entry.unread = unread;
        }
        tx.put(
            &app.store,
            "audit",
            &audit::event(
                ctx,
                "conversation.state",
                AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id },
                "success",
            ),
        )?;
        match app.store.commit(tx).await? {
            Ok(()) => {
                entry.starred = change.starred.unwrap_or(entry.starred);
                entry.archived = change.archived.unwrap_or(entry.archived);
                break entry;
            }
            Err("actor") => return Err(Error::Unauthenticated),
            Err("entry") if attempt < 5 => attempt += 1,
            Err(_) => return Err(Error::Unavailable("the conversation kept changing; retry".into())),
        }
    };
    let item = Renderer::new(app, caller).inbox_item(&updated).await?;
    serde_json::to_value(item).map_err(Error::internal)
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
pub async fn set_status(app: &App, ctx: &RequestCtx, conversation_id: &str, open: bool) -> Result<serde_json::Value> {
    set_controls(app, ctx, conversation_id, Controls { open: Some(open), ..Default::default() }).await
}

/// Changes a conversation's thread controls and every viewer's copy of them.
pub async fn set_controls(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    change: Controls,
) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (mut conversation, dir) =
        tokio::try_join!(visible_conversation(app, caller, &conversation_id), app.store.directory(p))?;
    let dir = dir.ok_or(Error::Unauthenticated)?;
    if !caller.is_staff() {
        return Err(Error::Forbidden("only staff may close or reopen a conversation".into()));
    }
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let renderer = Renderer::new(app, caller);
    let before = conversation.summary.clone();
    if let Some(open) = change.open {
        conversation.summary.status = if open { "open" } else { "closed" }.to_string();
    }
    conversation.summary.allow_response = change.allow_response.unwrap_or(before.allow_response);
    conversation.summary.allow_attachments = change.allow_attachments.unwrap_or(before.allow_attachments);
    if conversation.summary != before {
        let expected_version = conversation.version;
        conversation.version += 1;
        let (preview, sender, visible) = latest_for_new_viewers(app, &conversation).await?;
        let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
        let mut tx = Tx::new();
        tx.check_caller(&app.store, caller)?;
        tx.conversation_replace_membership(&app.store, &conversation, expected_version)?;
        for v in &conversation.viewers {
            let count = if Some(v) == patient_id.as_ref() { conversation.patient_message_count } else { visible };
            tx.entry_set_summary(&app.store, p, v, &conversation, &preview, &sender, count)?;
        }
        let action = match change.open {
            Some(true) => "conversation.reopen",
            Some(false) => "conversation.close",
            None => "conversation.controls",
        };
        tx.put(
            &app.store,
            "audit",
            &audit::event(
                ctx,
                action,
                AuditRecord {
                    record_type: "conversation",
                    record_id: &conversation_id,
                    patient_id: patient_id.as_deref(),
                },
                "success",
            ),
        )?;
        match app.store.commit(tx).await? {
            Ok(()) => {}
            Err("actor") => return Err(Error::Unauthenticated),
            Err(_) => {
                return Err(Error::Conflict("the conversation was changed by someone else; reload and retry".into()))
            }
        }
    }
    let (view, _) = renderer.conversation(&conversation, &names).await?;
    Ok(json!({ "conversation": view }))
}

/// POST /conversations/{id}/forward.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardRequest {
    pub message_ids: Vec<String>,
    pub recipients: Vec<RecipientInput>,
    pub comment: Option<String>,
}

/// ASSIGN-3: chosen messages, to chosen staff, with an optional comment, as a new team
/// conversation whose first message holds copies of them (attachments copied in S3, under
/// the new conversation). The original is unchanged.
pub async fn forward(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    req: ForwardRequest,
) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (original, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    if !caller.is_staff() {
        return Err(Error::Forbidden("only staff may forward messages".into()));
    }
    if req.message_ids.is_empty() || req.message_ids.len() > 20 {
        return Err(Error::invalid("messageIds", "choose 1 to 20 messages"));
    }
    let mut chosen = Vec::new();
    for raw in &req.message_ids {
        let id = parse_id("messageIds", MESSAGE_ID, raw)?;
        let m = messages
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| Error::invalid("messageIds", "a message is not in this conversation"))?;
        if !chosen.iter().any(|c: &&MessageItem| c.id == m.id) {
            chosen.push(m);
        }
    }
    chosen.sort_by(|a, b| a.sk.cmp(&b.sk));
    let recipients = parse_recipients("recipients", &req.recipients)?;
    if recipients.is_empty() {
        return Err(Error::invalid("recipients", "forward to at least one staff user or workgroup"));
    }
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    let me = active_staff(&dir, caller)?;
    let mut participants = vec![me.id.clone()];
    for id in expand_recipients("recipients", &dir, &recipients)? {
        if !participants.contains(&id) {
            participants.push(id);
        }
    }

    let renderer = Renderer::new(app, caller);
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let (original_view, patient) = renderer.conversation(&original, &names).await?;
    let mut text = req.comment.as_deref().map(str::trim).unwrap_or("").to_string();
    let mut copies = Vec::new();
    for m in &chosen {
        let view = renderer.message(m, patient.as_ref(), "sent").await?;
        text.push_str(&format!(
            "\n\n---------- Forwarded message ----------\nFrom: {}\nDate: {}\nConversation: {}\n\n{}",
            view.sender.display_name, view.created_at, original_view.subject, view.body
        ));
        for a in &m.attachments {
            copies.push(a.clone());
        }
    }
    let body = Body::parse(Some(text.trim()), dir.practice.settings.body_limits())?;
    let subject = Subject::parse(Some(
        &format!("Fwd: {}", original_view.subject).chars().take(Subject::MAX_CHARS).collect::<String>(),
    ))?;

    // Copies of the attachments: new records over server-side copies of the objects, ready
    // to attach to the new message (an abandoned copy is swept like any unattached upload).
    let mut attachments = Vec::new();
    for a in &copies {
        let id = ids::new_id(ATTACHMENT_ID);
        let name = renderer.open(&a.id, "fileName", &a.file_name).await?;
        let Some(source) = app.store.attachment(p, &a.id).await? else { continue };
        let object_key = format!("unattached/{p}/{id}");
        app.blobs.copy(&source.object_key, &object_key).await?;
        attachments.push(AttachmentItem {
            pk: keys::attachment(p, &id),
            sk: keys::ATTACHMENT_SK.into(),
            id: id.clone(),
            practice_id: p.to_string(),
            conversation_id: None,
            uploader_id: caller.user_id.clone(),
            file_name: Sealed(
                app.envelope.seal_str(Binding { practice_id: p, record: &id, field: "fileName" }, &name).await?,
            ),
            content_type: a.content_type.clone(),
            size: a.size,
            status: "ready".into(),
            internal: false,
            object_key,
            created_at: ids::now(),
            gsi3pk: None,
            gsi3sk: None,
            first_patient_download_at: None,
        });
    }
    app.store.put_batch(&attachments).await?;

    let thread = NewThread {
        kind: ConversationKind::Team,
        subject,
        body,
        priority: Priority::Normal,
        patient: None,
        participants,
        recipients,
        context: None,
        sender: SenderRef { kind: "staff".into(), id: me.id.clone(), name: Some(me.display_name()), masked: false },
        allow_response: true,
        allow_attachments: true,
        attachments,
        fee_code: None,
        notify_if_unread_hours: None,
        documents: Vec::new(),
        sms_peer: None,
    };
    let created = start_thread(app, ctx, &dir, thread, None).await?;
    Ok(json!({ "conversation": created["conversation"], "message": created["message"] }))
}

/// POST /broadcasts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BroadcastRequest {
    pub patient_ids: Vec<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub allow_response: Option<bool>,
}

/// COMPOSE-6: one message to an explicit list of patients (no "all patients" shortcut), each
/// getting a private copy: a conversation of its own, of kind `broadcast` (the Broadcasts
/// tab), where its replies land. Each copy is its own transaction, keyed for idempotency by
/// the broadcast's key and the patient, so a retried broadcast completes without doubles.
pub async fn broadcast(app: &App, ctx: &RequestCtx, req: BroadcastRequest) -> Result<serde_json::Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    if !caller.is_staff() {
        return Err(Error::Forbidden("broadcasts are sent by staff".into()));
    }
    super::budgets::spend(app, ctx, super::budgets::Expensive::Broadcast).await?;
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    let me = active_staff(&dir, caller)?;
    if !me.portal_messaging {
        return Err(Error::Forbidden("portal messaging is switched off for this user".into()));
    }
    let settings = &dir.practice.settings;
    let subject = Subject::parse(req.subject.as_deref())?;
    let body = Body::parse(req.body.as_deref(), settings.body_limits())?;
    let mut patient_ids: Vec<String> = Vec::new();
    for raw in &req.patient_ids {
        let id = parse_id("patientIds", PATIENT_ID, raw)?;
        if !patient_ids.contains(&id) {
            patient_ids.push(id);
        }
    }
    if patient_ids.is_empty() {
        return Err(Error::invalid("patientIds", "name at least one patient"));
    }
    if patient_ids.len() > settings.broadcast_max_recipients as usize {
        return Err(Error::invalid(
            "patientIds",
            format!("a broadcast may reach at most {} patients", settings.broadcast_max_recipients),
        ));
    }
    let mut patients = Vec::with_capacity(patient_ids.len());
    for id in &patient_ids {
        let patient = app.store.patient(p, id).await?;
        patients.push(
            patient.ok_or_else(|| Error::invalid("patientIds", "a patient id is not a patient of this practice"))?,
        );
    }
    let broadcast_id = ids::new_id("bc_");
    let mut sent = 0usize;
    for patient in &patients {
        // Each copy under its own idempotency key (the broadcast's key and the patient).
        let copy_ctx = RequestCtx {
            idempotency: ctx.idempotency.as_ref().map(|k| crate::app::IdempotencyKey {
                key_hash: crate::app::sha256_hex(&[k.key_hash.as_bytes(), patient.id.as_bytes()]),
                request_hash: k.request_hash.clone(),
            }),
            signed_in_at: ctx.signed_in_at,
            ..ctx.clone()
        };
        let thread = NewThread {
            kind: ConversationKind::Broadcast,
            subject: subject.clone(),
            body: body.clone(),
            priority: Priority::Normal,
            patient: Some(patient),
            participants: vec![me.id.clone()],
            recipients: Vec::new(),
            context: None,
            sender: SenderRef { kind: "staff".into(), id: me.id.clone(), name: Some(me.display_name()), masked: false },
            allow_response: req.allow_response.unwrap_or(true),
            allow_attachments: false,
            attachments: Vec::new(),
            fee_code: None,
            notify_if_unread_hours: None,
            documents: Vec::new(),
            sms_peer: None,
        };
        start_thread(app, &copy_ctx, &dir, thread, None).await?;
        sent += 1;
    }
    Ok(json!({ "broadcast": { "id": broadcast_id, "recipientCount": sent } }))
}

/// DELETE /conversations/{id}/messages/{messageId} (CONV-6): its staff author deletes a
/// message for good. Every count it was part of, and every preview that showed it, moves
/// back; the audit log keeps that it happened. The message that started the thread goes only
/// with the thread.
pub async fn delete_message(app: &App, ctx: &RequestCtx, conversation_id: &str, message_id: &str) -> Result<()> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let message_id = parse_id("messageId", MESSAGE_ID, message_id).map_err(|_| Error::NotFound("message"))?;
    let (conversation, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    let visible_to_caller = |m: &&MessageItem| !m.internal || policy::can_see_internal(caller);
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
    let remaining: Vec<&MessageItem> = messages.iter().filter(|m| m.id != message.id).collect();
    let staff_latest = remaining.last().copied();
    let patient_latest = remaining.iter().rev().find(|m| !m.internal).copied();
    let preview_of = |m: &MessageItem| {
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

    let entries = app.store.entries_of(p, &conversation.viewers, &conversation_id).await?;
    let mut tx = Tx::new();
    tx.check_caller(&app.store, caller)?;
    tx.delete_existing(&app.store, "message", message.pk.clone(), message.sk.clone())?;
    tx.conversation_remove_message(&app.store, p, &conversation_id, patient_visible)?;
    for (user, entry) in &entries {
        let is_patient = Some(user) == patient_id.as_ref();
        if is_patient && !patient_visible {
            continue;
        }
        // It was unread for everyone but its author who had not opened the thread since.
        let was_unread = user != &message.sender.id
            && entry.unread > 0
            && entry.last_read_at.as_deref().is_none_or(|r| r < message.created_at.as_str());
        let latest = entry.last_message_at == message.created_at;
        let replacement = if !latest {
            None
        } else if is_patient {
            patient_preview.as_ref()
        } else {
            staff_preview.as_ref()
        };
        tx.entry_remove_message(&app.store, p, user, &conversation_id, entry.unread, was_unread, replacement)?;
        tx.stats_add(
            &app.store,
            p,
            user,
            StatsDelta { messages: -1, unread: -i64::from(was_unread), ..Default::default() },
        )?;
    }
    tx.put(
        &app.store,
        "audit",
        &audit::event(
            ctx,
            "message.delete",
            AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id: patient_id.as_deref() },
            "success",
        ),
    )?;
    match app.store.commit(tx).await? {
        Ok(()) => {}
        Err("actor") => return Err(Error::Unauthenticated),
        Err("message") => return Err(Error::NotFound("message")),
        Err(_) => return Err(Error::Conflict("the conversation changed while deleting; retry".into())),
    }
    let remaining: Vec<MessageItem> = messages.iter().filter(|m| m.id != message.id).cloned().collect();
    super::erasure::erase_traces(app, &conversation, &[message], Some(&remaining)).await
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

/// Deletes a conversation and all of it (summary, every viewer's entry and counts, messages,
/// files), recording `action` in the audit log, which keeps that it happened (CONV-6, SEC-5).
async fn erase_conversation(
    app: &App,
    ctx: &RequestCtx,
    conversation: &ConversationItem,
    messages: &[MessageItem],
    action: &str,
    check_actor: bool,
) -> Result<()> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let conversation_id = conversation.id.clone();
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    let entries = app.store.entries_of(p, &conversation.viewers, &conversation_id).await?;
    let users: Vec<String> = entries.iter().map(|(u, _)| u.clone()).collect();
    let markers = match &patient_id {
        Some(pat) => app.store.patient_markers(p, &users, pat).await?,
        None => Default::default(),
    };
    let mut tx = Tx::new();
    if check_actor {
        tx.check_caller(&app.store, caller)?;
    }
    tx.delete_existing(&app.store, "conversation", conversation.pk.clone(), conversation.sk.clone())?;
    for (user, entry) in &entries {
        tx.entry_delete(&app.store, p, user, &conversation_id, entry.unread)?;
        let known = markers.get(user).copied().unwrap_or(0);
        let delta = StatsDelta {
            conversations: -1,
            messages: -(entry.message_count as i64),
            unread: -(entry.unread as i64),
            patients: -i64::from(patient_id.is_some() && known == 1),
        };
        tx.stats_add(&app.store, p, user, delta)?;
        if let Some(pat) = &patient_id {
            tx.patient_marker(&app.store, p, user, pat, known, -1)?;
        }
    }
    tx.put(
        &app.store,
        "audit",
        &audit::event(
            ctx,
            action,
            AuditRecord { record_type: "conversation", record_id: &conversation_id, patient_id: patient_id.as_deref() },
            "success",
        ),
    )?;
    match app.store.commit(tx).await? {
        Ok(()) => {}
        Err("actor") => return Err(Error::Unauthenticated),
        Err("conversation") => return Err(Error::NotFound("conversation")),
        Err(_) => return Err(Error::Conflict("the conversation changed while deleting; retry".into())),
    }
    // The summary is gone, so nothing reaches the messages any more; they and all they left
    // elsewhere go next (idempotent batches).
    let keys: Vec<(String, String)> = messages.iter().map(|m| (m.pk.clone(), m.sk.clone())).collect();
    app.store.delete_batch(&keys).await?;
    let gone: Vec<&MessageItem> = messages.iter().collect();
    super::erasure::erase_traces(app, conversation, &gone, None).await
}

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
pub async fn purge_expired(app: &App, now: time::OffsetDateTime, batch: usize) -> Result<PurgeReport> {
    let mut report = PurgeReport::default();
    for practice_id in app.store.practice_ids().await? {
        let Some(practice) = app.store.practice(&practice_id).await? else { continue };
        let Some(days) = practice.settings.retention_days else { continue };
        report.practices += 1;
        let cutoff = ids::format_time(now - time::Duration::days(i64::from(days)));
        let ctx = RequestCtx {
            caller: Caller { practice_id: practice_id.clone(), user_id: "retention".into(), role: Role::Admin },
            request_id: ids::new_id("purge_"),
            idempotency: None,
            signed_in_at: None,
        };
        loop {
            let ids = app.store.conversations_idle_since(&practice_id, &cutoff, batch).await?;
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

/// REPLY-5: the automatic answers to a patient's message: each staff participant or assignee
/// who is out of office answers with their text, and outside the practice's hours (in its
/// time zone) the practice answers with its after-hours text; each at most once per
/// conversation per period (the out-of-office period; the local day). Best effort: the
/// patient's message is stored already, so a failure here is logged, not returned.
async fn auto_replies(app: &App, ctx: &RequestCtx, conversation_id: &str) {
    if let Err(e) = try_auto_replies(app, ctx, conversation_id).await {
        tracing::warn!(error = %e, "auto-reply not sent");
    }
}

async fn try_auto_replies(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<()> {
    let p = ctx.caller.practice_id.as_str();
    let (conversation, dir) = tokio::try_join!(app.store.conversation(p, conversation_id), app.store.directory(p))?;
    let (Some(conversation), Some(dir)) = (conversation, dir) else { return Ok(()) };
    let settings = &dir.practice.settings;
    let now = ids::now();
    let mut replies: Vec<(String, String, SenderRef, i64)> = Vec::new();
    let mut staff: Vec<&String> = conversation.participants.iter().collect();
    staff.extend(conversation.assignee_ids.iter().filter(|a| !conversation.participants.contains(a)));
    for id in staff {
        let Some(member) = dir.staff_member(id) else { continue };
        let Some(ooo) = &member.out_of_office else { continue };
        if ooo.from.as_str() <= now.as_str() && now.as_str() < ooo.to.as_str() {
            let expires = ids::parse_time("to", &ooo.to)?.unix_timestamp() + 86_400;
            let sender = SenderRef {
                kind: "system".into(),
                id: "auto-reply".into(),
                name: Some(format!("{} (auto-reply)", member.display_name())),
                masked: false,
            };
            replies.push((format!("OOO#{}#{}", member.id, ooo.from), ooo.text.clone(), sender, expires));
        }
    }
    if let (Some(hours), false) = (&settings.business_hours, settings.after_hours_text.trim().is_empty()) {
        let tz = crate::hours::time_zone(&settings.time_zone)?;
        let (after, day) = crate::hours::after_hours(hours, &tz, jiff::Timestamp::now())?;
        if after {
            let sender = SenderRef {
                kind: "system".into(),
                id: "auto-reply".into(),
                name: Some(dir.practice.name.clone()),
                masked: false,
            };
            replies.push((
                format!("AFTER#{day}"),
                settings.after_hours_text.clone(),
                sender,
                ids::epoch_seconds() + 3 * 86_400,
            ));
        }
    }
    for (key, text, sender, expires) in replies {
        let message = AppendedMessage { dedupe_key: &key, text: &text, sender, expires, action: "message.auto_reply" };
        append_message(app, ctx, &conversation, message).await?;
    }
    Ok(())
}

/// NOTIFY-4: a thread begun by a text message from `number`, routed like a portal message
/// (ASSIGN-4): to the patient's primary provider, or, for a number of nobody known, to every
/// active provider and admin (the triage conversation). Answers the conversation's id.
pub(crate) async fn start_sms_thread(
    app: &App,
    ctx: &RequestCtx,
    dir: &Directory,
    patient: Option<&PatientItem>,
    number: &str,
    text: &str,
    sender: SenderRef,
) -> Result<String> {
    let primary = patient.and_then(|pat| pat.primary_provider_id.as_deref());
    let thread = NewThread {
        kind: ConversationKind::Sms,
        subject: Subject::parse(Some(if patient.is_some() {
            "Text message"
        } else {
            "Text message from an unknown number"
        }))?,
        body: Body::parse(Some(text), BodyLimits { min_chars: 1, max_chars: 20_000 })?,
        priority: Priority::Normal,
        patient,
        participants: policy::route_portal_message(primary, &staff_members(dir)),
        recipients: Vec::new(),
        context: None,
        sender,
        allow_response: true,
        allow_attachments: false,
        attachments: Vec::new(),
        fee_code: None,
        notify_if_unread_hours: None,
        documents: Vec::new(),
        sms_peer: Some(number.to_string()),
    };
    let created = start_thread(app, ctx, dir, thread, None).await?;
    created["conversation"]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::internal_msg("a new conversation without an id"))
}

/// A message that arrives from outside a request of its sender: an auto-reply (REPLY-5) or a
/// text message (NOTIFY-4).
pub(crate) struct AppendedMessage<'a> {
    /// Once per key: a second append with it is a no-op (a retried delivery).
    pub dedupe_key: &'a str,
    pub text: &'a str,
    pub sender: SenderRef,
    /// When the dedupe key may be forgotten (epoch seconds).
    pub expires: i64,
    pub action: &'static str,
}

/// Appends a message to a conversation, once per dedupe key, with its inbox entries,
/// counters, audit event and outbox in one transaction.
pub(crate) async fn append_message(
    app: &App,
    ctx: &RequestCtx,
    conversation: &ConversationItem,
    m: AppendedMessage<'_>,
) -> Result<()> {
    let AppendedMessage { dedupe_key, text, sender, expires, action } = m;
    let p = conversation.practice_id.as_str();
    let cid = conversation.id.as_str();
    let message_id = ids::new_id(MESSAGE_ID);
    let at = ids::now();
    let body = Body::parse(Some(text), BodyLimits { min_chars: 1, max_chars: 20_000 })?;
    let env = &app.envelope;
    let message = MessageItem {
        pk: conversation.pk.clone(),
        sk: keys::message_sk(&at, &message_id),
        id: message_id.clone(),
        conversation_id: cid.to_string(),
        sender: sender.clone(),
        body: Sealed(
            env.seal_str(
                Binding { practice_id: p, record: &format!("{cid}/{message_id}"), field: "body" },
                body.as_str(),
            )
            .await?,
        ),
        priority: Priority::Normal,
        internal: false,
        attachments: Vec::new(),
        created_at: at.clone(),
        fee_code: None,
        notify_if_unread_hours: None,
        documents: Vec::new(),
        answer_pk: None,
    };
    let preview =
        Sealed(env.seal_str(Binding { practice_id: p, record: cid, field: "preview" }, &body.preview()).await?);
    let mut tx = Tx::new();
    tx.put_new(
        &app.store,
        "auto",
        &AutoReplyItem { pk: conversation.pk.clone(), sk: format!("AUTO#{dedupe_key}"), expires_at: expires },
    )?;
    tx.conversation_add_message(&app.store, p, cid, &at, true, false)?;
    tx.put_new(&app.store, "message", &message)?;
    for viewer in &conversation.viewers {
        let is_sender = viewer == &sender.id;
        tx.entry_add_message(
            &app.store,
            p,
            viewer,
            cid,
            &conversation.summary,
            &at,
            &preview,
            &sender,
            Priority::Normal,
            is_sender,
        )?;
        let unread = i64::from(!is_sender);
        tx.stats_add(&app.store, p, viewer, StatsDelta { messages: 1, unread, ..Default::default() })?;
    }
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.as_str());
    tx.put(
        &app.store,
        "audit",
        &audit::event(ctx, action, AuditRecord { record_type: "conversation", record_id: cid, patient_id }, "success"),
    )?;
    tx.put(&app.store, "outbox", &outbox(p, conversation, &message_id, &sender.id, false, &at, false))?;
    match app.store.commit(tx).await? {
        Ok(()) | Err("auto") => Ok(()),
        Err(label) => Err(Error::Conflict(format!("message not stored ({label}); retry"))),
    }
}
