//! The parts of a message request every route shares: options, recipients and their routing
//! (COMPOSE-3, ROLE-5), attachments and document links.

use super::*;

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
pub(crate) fn expand_recipients(field: &str, dir: &Directory, recipients: &[Recipient]) -> Result<Vec<UserId>> {
    let mut ids: Vec<UserId> = Vec::new();
    let mut push = |id: &UserId| {
        if !ids.contains(id) {
            ids.push(id.clone());
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

/// The staff taking part in a conversation `me` begins with these recipients: `me` first.
pub(super) fn participants_with(me: &UserId, dir: &Directory, recipients: &[Recipient]) -> Result<Vec<UserId>> {
    let mut participants = vec![me.clone()];
    for id in expand_recipients("recipients", dir, recipients)? {
        if !participants.contains(&id) {
            participants.push(id);
        }
    }
    Ok(participants)
}

/// Attachments named in a message: uploaded by this caller, checked, not yet attached.
pub(super) async fn attachments_for(app: &App, caller: &Caller, ids_in: &[String]) -> Result<Vec<Attachment>> {
    let mut wanted: Vec<AttachmentId> = Vec::new();
    for raw in ids_in {
        let id = AttachmentId::parse("attachmentIds", raw)?;
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

pub(super) const INACTIVE_PATIENT: &str = "inactive patients can message the Billing and Front Office workgroups only";

/// ROLE-5: whether this conversation is one an inactive patient may still write into: its
/// recipients are all workgroups an inactive patient may write to (the directory is read only
/// for a conversation with workgroup recipients).
pub(super) async fn inactive_patient_may_reply(app: &App, practice_id: &PracticeId, c: &Conversation) -> Result<bool> {
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
pub(super) fn route_portal(dir: &Directory, patient: &Patient, recipients: &[Recipient]) -> Result<Vec<UserId>> {
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
        return Err(Error::Forbidden(INACTIVE_PATIENT.into()));
    }
    Ok(policy::route_portal_message(patient.primary_provider_id.as_ref(), &staff_members(dir)))
}

pub(super) fn patient_ref(p: &Patient) -> PatientRef {
    PatientRef { id: p.id.clone(), first_name: p.first_name.clone(), last_name: p.last_name.clone() }
}

/// Files uploaded before their conversation existed move under it on attach, so the key
/// layout keeps practices and conversations apart (`<practice>/<conversation>/<attachment>`).
/// The copy is made before the write; the old object goes after it (see `forget_objects`).
pub(super) async fn relocate(
    app: &App,
    p: &PracticeId,
    cid: &ConversationId,
    attachments: Vec<Attachment>,
) -> Result<(Vec<Attachment>, Vec<String>)> {
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
