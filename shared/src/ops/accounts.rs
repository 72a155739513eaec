//! The user lifecycle (ACCT-1, ACCT-2): administrators edit, deactivate, reactivate and
//! re-invite staff and portal patients. The directory record is committed first, with its
//! audit event; the Cognito call follows and is idempotent, so a failure between the two is
//! completed by the retry, and the per-request directory check (`App::ensure_active`) makes
//! a deactivation or a role change hold at once, whatever Cognito answered.

use super::active_staff;
use super::directory::{require_admin, StaffRequest};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::Directory;
use crate::domain::*;
use crate::domain::{Patient, PendingRename, Sealed, Staff};
use crate::error::{Error, Result};
use crate::identity::Account;
use crate::store::place;
use crate::store::Guard;
use crate::views::{Invited, PatientAnswer, StaffAnswer};
use serde::Deserialize;

/// PATCH /patients/{id}: every field optional; an absent field keeps its value.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatientPatch {
    /// A new name is carried to every copy of it (`renames`).
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_provider_id: Option<String>,
    pub assigned_staff_ids: Option<Vec<String>>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub portal_access: Option<bool>,
    pub active: Option<bool>,
}

/// The directory of an active administrator (admin class; others 403).
async fn admin_directory(app: &App, ctx: &RequestCtx) -> Result<Directory> {
    require_admin(&ctx.caller)?;
    let dir = app.store.directory(&ctx.caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, &ctx.caller)?;
    Ok(dir)
}

/// A staff user of the caller's practice; any other id is 404 (ROLE-3).
fn staff_in<'a>(dir: &'a Directory, raw_id: &str) -> Result<&'a Staff> {
    let id = parse_id("id", STAFF_ID, raw_id).map_err(|_| Error::NotFound("staff user"))?;
    dir.staff_member(&id).ok_or(Error::NotFound("staff user"))
}

fn staff_account<'a>(s: &'a Staff, practice_id: &'a str) -> Result<Account<'a>> {
    Ok(Account { username: &s.id, email: Some(&s.email), phone: None, practice_id, role: s.role.clone() })
}

/// Brings a staff user's Cognito account in line with its directory record, whatever it was
/// before: an inactive user is disabled and signed out first (nothing can keep it signed
/// in), an active one is made if missing, given the record's attributes, and enabled. Run
/// after every write of the record and on every retry, so a retry completes what a failed
/// Cognito call left.
pub async fn sync_staff(app: &App, practice_id: &PracticeId, staff: &Staff) -> Result<()> {
    if !staff.active {
        return app.users.disable(&staff.id).await;
    }
    match app.users.ensure_user(&staff_account(staff, practice_id)?).await? {
        true => Ok(()),
        false => app.users.enable(&staff.id).await,
    }
}

/// The operator's `user sync`, and the end of `practice create`: a staff user's sign-in made
/// (or brought in line) from its directory record.
pub async fn sync_staff_by_id(app: &App, practice_id: &PracticeId, staff_id: &UserId) -> Result<()> {
    let staff = app.store.staff(practice_id, staff_id).await?.ok_or(Error::NotFound("staff user"))?;
    sync_staff(app, practice_id, &staff).await
}

/// PATCH /staff/{id} (admin class): names, role, contact, active, portal messaging.
pub async fn update_staff(app: &App, ctx: &RequestCtx, raw_id: &str, req: StaffRequest) -> Result<StaffAnswer> {
    let dir = admin_directory(app, ctx).await?;
    let before = staff_in(&dir, raw_id)?;
    let mut after = before.clone();
    if let Some(v) = req.first_name.as_deref() {
        after.first_name = parse_name("firstName", Some(v))?;
    }
    if let Some(v) = req.last_name.as_deref() {
        after.last_name = parse_name("lastName", Some(v))?;
    }
    if let Some(v) = req.role.as_deref() {
        let role = Role::parse(v)?;
        if role == Role::Patient {
            return Err(Error::invalid("role", "a staff user cannot become a patient"));
        }
        after.role = role;
    }
    if let Some(v) = req.email.as_deref() {
        after.email = parse_email("email", v)?;
    }
    if let Some(v) = req.phone.as_deref() {
        after.phone = if v.is_empty() { String::new() } else { parse_phone("phone", v)? };
    }
    if let Some(v) = req.active {
        after.active = v;
    }
    if let Some(v) = req.portal_messaging {
        after.portal_messaging = v;
    }
    // An administrator cannot lock themself out; another administrator can.
    if after.id == ctx.caller.user_id && (!after.active || after.role != before.role) {
        return Err(Error::Forbidden("you cannot deactivate yourself or change your own role".into()));
    }
    let is_admin = |s: &Staff| s.active && s.role == Role::Admin;
    if is_admin(before) && !is_admin(&after) && !dir.staff.iter().any(|s| s.id != before.id && is_admin(s)) {
        return Err(Error::Conflict("the practice needs at least one active administrator".into()));
    }
    let p = &ctx.caller.practice_id;
    let mut tx = app.store.tx();
    tx.check_staff_active(p, &ctx.caller.user_id, false)?;
    if tx.update_changed(Guard::Staff, &place::staff(p, &before.id), before, &after)? {
        let record = AuditRecord { record_type: "staff", record_id: &after.id, patient_id: None };
        tx.put_audit(&audit::event(ctx, &staff_change(before, &after), record, "success"))?;
        match tx.commit().await? {
            Ok(()) => {}
            Err(Guard::Actor) => return Err(Error::Unauthenticated),
            Err(_) => return Err(Error::Conflict("the staff user changed meanwhile; load it again".into())),
        }
    }
    sync_staff(app, p, &after).await?;
    Ok(StaffAnswer::of(&after))
}

/// The audit action names what changed, never the values.
fn staff_change(before: &Staff, after: &Staff) -> String {
    let changed: Vec<&str> = [
        ("firstName", before.first_name != after.first_name),
        ("lastName", before.last_name != after.last_name),
        ("role", before.role != after.role),
        ("email", before.email != after.email),
        ("phone", before.phone != after.phone),
        ("active", before.active != after.active),
        ("portalMessaging", before.portal_messaging != after.portal_messaging),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect();
    match changed.as_slice() {
        ["active"] if !after.active => "staff.deactivate".into(),
        ["active"] => "staff.reactivate".into(),
        ["role"] => "staff.role-change".into(),
        fields => format!("staff.update:{}", fields.join(",")),
    }
}

/// POST /staff/{id}/invitation (admin class): Cognito's invitation again.
pub async fn invite_staff(app: &App, ctx: &RequestCtx, raw_id: &str) -> Result<Invited> {
    let dir = admin_directory(app, ctx).await?;
    let staff = staff_in(&dir, raw_id)?;
    if !staff.active {
        return Err(Error::Conflict("reactivate this user before inviting it".into()));
    }
    app.users.reinvite(&staff_account(staff, &ctx.caller.practice_id)?).await?;
    let record = AuditRecord { record_type: "staff", record_id: &staff.id, patient_id: None };
    super::audit_read(app, ctx, "staff.invite", record).await?;
    Ok(Invited { invited: staff.id.clone() })
}

/// DELETE /staff/{id}/totp and DELETE /patients/{id}/totp (admin class, ACCT-3): a user who
/// lost the phone with the authenticator app. The directory forgets the set-up first (so the
/// user must set up a new one wherever the practice requires it: failing closed), then
/// Cognito forgets the app and signs the user out everywhere. A retry finishes a half-done
/// reset. Audited.
pub async fn reset_totp(app: &App, ctx: &RequestCtx, raw_id: &str, staff: bool) -> Result<()> {
    let dir = admin_directory(app, ctx).await?;
    let p = &ctx.caller.practice_id;
    let (id, record) = if staff {
        let s = staff_in(&dir, raw_id)?;
        (s.id.clone(), "staff")
    } else {
        (patient_in(app, ctx, raw_id).await?.id, "patient")
    };
    let mut tx = app.store.tx();
    tx.totp_forget(p, &id, staff)?;
    let audited = AuditRecord { record_type: record, record_id: &id, patient_id: (!staff).then_some(id.as_str()) };
    tx.put_audit(&audit::event(ctx, &format!("{record}.totp_reset"), audited, "success"))?;
    if tx.commit().await?.is_err() {
        return Err(Error::NotFound(if staff { "staff user" } else { "patient" }));
    }
    app.users.forget_totp(&id).await
}

async fn patient_in(app: &App, ctx: &RequestCtx, raw_id: &str) -> Result<Patient> {
    let id = UserId::parse_patient("id", raw_id).map_err(|_| Error::NotFound("patient"))?;
    app.store.patient(&ctx.caller.practice_id, &id).await?.ok_or(Error::NotFound("patient"))
}

async fn open(
    app: &App,
    practice_id: &PracticeId,
    p: &Patient,
    field: &str,
    sealed: &Option<Sealed>,
) -> Result<Option<String>> {
    match sealed {
        Some(s) => {
            let binding = Binding { practice_id, record: &p.id, field };
            Ok(Some(app.envelope.open_string(binding, &s.0).await?))
        }
        None => Ok(None),
    }
}

/// PATCH /patients/{id} (admin class): names, provider, care team, contact, portal access,
/// active. A rename left half carried by a failure is finished first.
pub async fn update_patient(app: &App, ctx: &RequestCtx, raw_id: &str, req: PatientPatch) -> Result<PatientAnswer> {
    let dir = admin_directory(app, ctx).await?;
    let before = patient_in(app, ctx, raw_id).await?;
    let p = &ctx.caller.practice_id;
    super::renames::carry_pending(app, p, &before).await?;
    let mut after = before.clone();
    if let Some(raw) = req.primary_provider_id.as_deref() {
        after.primary_provider_id = match raw {
            "" => None,
            raw => Some(super::directory::provider_in(&dir, raw)?),
        };
    }
    if let Some(ids) = &req.assigned_staff_ids {
        after.assigned_staff_ids = super::directory::staff_ids_in(&dir, "assignedStaffIds", ids)?;
    }
    let seal = |field: &'static str, text: String| {
        let id = before.id.clone();
        async move { app.envelope.seal_str(Binding { practice_id: p, record: &id, field }, &text).await.map(Sealed) }
    };
    let first = open(app, p, &before, "firstName", &Some(before.first_name.clone())).await?.unwrap_or_default();
    let last = open(app, p, &before, "lastName", &Some(before.last_name.clone())).await?.unwrap_or_default();
    let new_first = req.first_name.as_deref().map(|v| parse_name("firstName", Some(v))).transpose()?;
    let new_last = req.last_name.as_deref().map(|v| parse_name("lastName", Some(v))).transpose()?;
    let renamed = new_first.as_ref().is_some_and(|v| *v != first) || new_last.as_ref().is_some_and(|v| *v != last);
    let (first, last) = (new_first.unwrap_or(first), new_last.unwrap_or(last));
    if renamed {
        after.first_name = seal("firstName", first.clone()).await?;
        after.last_name = seal("lastName", last.clone()).await?;
    }
    if let Some(v) = req.phone.as_deref() {
        after.phone = if v.is_empty() { None } else { Some(seal("phone", parse_phone("phone", v)?).await?) };
    }
    if let Some(v) = req.email.as_deref() {
        after.email = if v.is_empty() { None } else { Some(seal("email", parse_email("email", v)?).await?) };
    }
    if let Some(v) = req.portal_access {
        after.portal_access = v;
    }
    if let Some(v) = req.active {
        after.active = v;
    }
    let email = open(app, p, &after, "email", &after.email).await?;
    let phone = open(app, p, &after, "phone", &after.phone).await?;
    if after.portal_access && !before.portal_access && email.is_none() && phone.is_none() {
        return Err(Error::invalid("email", "portal access needs an e-mail address or a phone for the invitation"));
    }
    let rename = PendingRename { first_name: before.first_name.clone(), last_name: before.last_name.clone() };
    let mut tx = app.store.tx();
    tx.check_staff_active(p, &ctx.caller.user_id, false)?;
    if renamed {
        tx.put_new(Guard::Rename, place::rename(p, &before.id), &rename)?;
    }
    if tx.update_changed(Guard::Patient, &place::patient(p, &before.id), &before, &after)? {
        let action = match (before.portal_access, after.portal_access) {
            (true, false) => "patient.portal-revoke",
            (false, true) => "patient.portal-grant",
            _ if renamed => "patient.rename",
            _ => "patient.update",
        };
        let record = AuditRecord { record_type: "patient", record_id: &after.id, patient_id: Some(&after.id) };
        tx.put_audit(&audit::event(ctx, action, record, "success"))?;
        match tx.commit().await? {
            Ok(()) => {}
            Err(Guard::Actor) => return Err(Error::Unauthenticated),
            Err(_) => return Err(Error::Conflict("the patient changed meanwhile; load it again".into())),
        }
    }
    sync_patient(app, p, &after.id, after.portal_access, email.as_deref(), phone.as_deref()).await?;
    if renamed {
        super::renames::carry_rename(app, p, &after, &rename).await?;
    }
    super::care_team::carry_care_team(app, ctx, &dir, &after).await?;
    Ok(PatientAnswer::of(&after, first, last, phone, email))
}

/// GET /patients/{id} (admin class, ACCT-2): a patient's directory record with its names and
/// contact details opened, for the administration screen. Audited, as every read of PHI.
pub async fn get_patient(app: &App, ctx: &RequestCtx, raw_id: &str) -> Result<PatientAnswer> {
    admin_directory(app, ctx).await?;
    let patient = patient_in(app, ctx, raw_id).await?;
    let p = &ctx.caller.practice_id;
    let first = open(app, p, &patient, "firstName", &Some(patient.first_name.clone())).await?.unwrap_or_default();
    let last = open(app, p, &patient, "lastName", &Some(patient.last_name.clone())).await?.unwrap_or_default();
    let phone = open(app, p, &patient, "phone", &patient.phone).await?;
    let email = open(app, p, &patient, "email", &patient.email).await?;
    let record = AuditRecord { record_type: "patient", record_id: &patient.id, patient_id: Some(&patient.id) };
    super::audit_list(app, ctx, "patient.view", record, vec![patient.id.to_string()]).await?;
    Ok(PatientAnswer::of(&patient, first, last, phone, email))
}

/// `sync_patient` from a stored record (its contact details decrypted).
pub async fn sync_patient_record(app: &App, practice_id: &PracticeId, patient: &Patient) -> Result<()> {
    let email = open(app, practice_id, patient, "email", &patient.email).await?;
    let phone = open(app, practice_id, patient, "phone", &patient.phone).await?;
    sync_patient(app, practice_id, &patient.id, patient.portal_access, email.as_deref(), phone.as_deref()).await
}

/// A portal patient's Cognito account in line with its record, as `sync_staff`: without
/// portal access (or with nowhere to send an invitation) the user is disabled and signed
/// out; with it, made if missing, given the record's attributes and enabled. An inactive
/// patient keeps its sign-in: ROLE-5 lets it write to billing and the front office.
pub async fn sync_patient(
    app: &App,
    practice_id: &PracticeId,
    patient_id: &UserId,
    portal_access: bool,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<()> {
    if !portal_access || (email.is_none() && phone.is_none()) {
        return app.users.disable(patient_id).await;
    }
    let account = Account { username: patient_id, email, phone, practice_id, role: Role::Patient };
    match app.users.ensure_user(&account).await? {
        true => Ok(()),
        false => app.users.enable(patient_id).await,
    }
}

/// POST /patients/{id}/invitation (admin class): invite, or invite again, to the portal.
pub async fn invite_patient(app: &App, ctx: &RequestCtx, raw_id: &str) -> Result<Invited> {
    admin_directory(app, ctx).await?;
    let patient = patient_in(app, ctx, raw_id).await?;
    if !patient.portal_access {
        return Err(Error::Conflict("grant portal access before inviting this patient".into()));
    }
    let p = &ctx.caller.practice_id;
    let email = open(app, p, &patient, "email", &patient.email).await?;
    let phone = open(app, p, &patient, "phone", &patient.phone).await?;
    if email.is_none() && phone.is_none() {
        return Err(Error::invalid("email", "the patient has no e-mail address or phone for the invitation"));
    }
    let account = Account {
        username: &patient.id,
        email: email.as_deref(),
        phone: phone.as_deref(),
        practice_id: p,
        role: Role::Patient,
    };
    app.users.reinvite(&account).await?;
    let record = AuditRecord { record_type: "patient", record_id: &patient.id, patient_id: Some(&patient.id) };
    super::audit_read(app, ctx, "patient.invite", record).await?;
    Ok(Invited { invited: patient.id.clone() })
}
