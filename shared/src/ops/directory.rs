//! The practice directory: practices, staff (ROLE-1, ROLE-5), workgroups (ROLE-6) and
//! patients, and the staff-side patient finder over blind indexes of patient names.

use super::{active_staff, claim_idempotency, commit_created, Created};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::{normalize_words, Binding};
use crate::domain::*;
use crate::error::{Error, Result};
use crate::store::place;
use crate::store::Guard;
use crate::views::{
    PatientAnswer, PatientList, PatientView, Renderer, StaffAnswer, StaffContact, StaffEntry, StaffList,
    WorkgroupAnswer, WorkgroupList, WorkgroupView,
};
use serde::Deserialize;

const NAME_SCOPE: &str = "patient-name";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaffRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub active: Option<bool>,
    pub portal_messaging: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatientRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_provider_id: Option<String>,
    #[serde(default)]
    pub assigned_staff_ids: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub portal_access: Option<bool>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkgroupRequest {
    pub name: Option<String>,
    #[serde(default)]
    pub member_ids: Vec<String>,
}

pub(super) fn require_admin(caller: &Caller) -> Result<()> {
    if caller.class() == RoleClass::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden("only admin roles may change the practice directory".into()))
    }
}

/// POST /staff (admin class).
pub async fn add_staff(app: &App, ctx: &RequestCtx, req: StaffRequest) -> Result<Created<StaffAnswer>> {
    let caller = &ctx.caller;
    require_admin(caller)?;
    let p = &caller.practice_id;
    let role = Role::parse(req.role.as_deref().unwrap_or(""))?;
    if role == Role::Patient {
        return Err(Error::invalid("role", "patients are added through POST /patients"));
    }
    let id = UserId::new();
    let staff = Staff {
        id: id.clone(),
        first_name: parse_name("firstName", req.first_name.as_deref())?,
        last_name: parse_name("lastName", req.last_name.as_deref())?,
        role: role.clone(),
        email: parse_email("email", req.email.as_deref().unwrap_or(""))?,
        phone: match req.phone.as_deref() {
            Some(ph) => parse_phone("phone", ph)?,
            None => String::new(),
        },
        active: req.active.unwrap_or(true),
        portal_messaging: req.portal_messaging.unwrap_or(true),
        created_at: ctx.now,
        out_of_office: None,
        notify: None,
        notify_pending: None,
        totp_enrolled_at: None,
    };
    let mut tx = app.store.tx();
    tx.check_staff_active(p, &caller.user_id, false)?;
    tx.put_new(Guard::Staff, place::staff(p, &id), &staff)?;
    tx.put_audit(&audit::event(
        ctx,
        "staff.create",
        AuditRecord { record_type: "staff", record_id: &id, patient_id: None },
        "success",
    ))?;
    let response = StaffAnswer::of(&staff);
    claim_idempotency(app, ctx, &mut tx, &response, &id).await?;
    let created =
        commit_created(app, ctx, tx, response, |_| Error::Conflict("staff id collision, retry".into())).await?;
    // After the directory record, and on a replay too, from the record as it is now (it may
    // have changed since): a retry completes a sign-in account whose creation failed, and no
    // account exists without its record (ACCT-1).
    let current = match &created {
        Created::Made(_) => Some(staff),
        Created::Replayed(first) => {
            app.store.staff(p, &UserId::from_stored(first["staff"]["id"].as_str().unwrap_or_default())).await?
        }
    };
    if let Some(current) = current {
        super::accounts::sync_staff(app, p, &current).await?;
    }
    Ok(created)
}

/// POST /workgroups (admin class, ROLE-6).
pub async fn add_workgroup(app: &App, ctx: &RequestCtx, req: WorkgroupRequest) -> Result<Created<WorkgroupAnswer>> {
    let caller = &ctx.caller;
    require_admin(caller)?;
    let p = &caller.practice_id;
    let name = parse_name("name", req.name.as_deref())?;
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, caller)?;
    if dir.workgroups.iter().any(|w| w.name.eq_ignore_ascii_case(&name)) {
        return Err(Error::Conflict("a workgroup with this name exists".into()));
    }
    let members = staff_ids_in(&dir, "memberIds", &req.member_ids)?;
    let id = WorkgroupId::new();
    let wg = Workgroup { id: id.clone(), name, member_ids: members, created_at: ctx.now };
    let mut tx = app.store.tx();
    tx.check_staff_active(p, &caller.user_id, false)?;
    tx.put_new(Guard::Workgroup, place::workgroup(p, &id), &wg)?;
    tx.put_audit(&audit::event(
        ctx,
        "workgroup.create",
        AuditRecord { record_type: "workgroup", record_id: &id, patient_id: None },
        "success",
    ))?;
    let response = WorkgroupAnswer { workgroup: WorkgroupView::of(&wg) };
    claim_idempotency(app, ctx, &mut tx, &response, &id).await?;
    commit_created(app, ctx, tx, response, |_| Error::Conflict("workgroup id collision, retry".into())).await
}

/// POST /patients (admin class). Names and phone are sealed to the patient record; the
/// finder gets one blind-index item per name prefix.
pub async fn add_patient(app: &App, ctx: &RequestCtx, req: PatientRequest) -> Result<Created<PatientAnswer>> {
    let caller = &ctx.caller;
    require_admin(caller)?;
    let p = &caller.practice_id;
    let first = parse_name("firstName", req.first_name.as_deref())?;
    let last = parse_name("lastName", req.last_name.as_deref())?;
    let phone = req.phone.as_deref().map(|ph| parse_phone("phone", ph)).transpose()?;
    let email = req.email.as_deref().map(|e| parse_email("email", e)).transpose()?;
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, caller)?;
    let primary = req.primary_provider_id.as_deref().map(|raw| provider_in(&dir, raw)).transpose()?;
    let assigned = staff_ids_in(&dir, "assignedStaffIds", &req.assigned_staff_ids)?;
    let id = UserId::new_patient();
    let env = &app.envelope;
    let seal = |field: &'static str, text: String| {
        let id = id.clone();
        async move { env.seal_str(Binding { practice_id: p, record: &id, field }, &text).await.map(Sealed) }
    };
    let first_sealed = seal("firstName", first.clone()).await?;
    let last_sealed = seal("lastName", last.clone()).await?;
    let phone_sealed = match &phone {
        Some(ph) => Some(seal("phone", ph.clone()).await?),
        None => None,
    };
    let email_sealed = match &email {
        Some(e) => Some(seal("email", e.clone()).await?),
        None => None,
    };
    let active = req.active.unwrap_or(true);
    let patient = Patient {
        id: id.clone(),
        first_name: first_sealed.clone(),
        last_name: last_sealed.clone(),
        phone: phone_sealed,
        email: email_sealed,
        notify: None,
        notify_pending: None,
        totp_enrolled_at: None,
        primary_provider_id: primary,
        assigned_staff_ids: assigned,
        portal_access: req.portal_access.unwrap_or(true),
        active,
        created_at: ctx.now,
    };
    let index = env.blind_index(p, &dir.practice.search_key.0).await?;
    let tokens = finder_tokens(&index, &first, &last);

    let mut tx = app.store.tx();
    tx.check_staff_active(p, &caller.user_id, false)?;
    tx.put_new(Guard::Patient, place::patient(p, &id), &patient)?;
    for t in &tokens {
        let item = PatientToken {
            patient_id: id.clone(),
            first_name: first_sealed.clone(),
            last_name: last_sealed.clone(),
            active,
        };
        tx.put(Guard::Token, place::patient_token(p, t, &id), &item)?;
    }
    tx.put_audit(&audit::event(
        ctx,
        "patient.create",
        AuditRecord { record_type: "patient", record_id: &id, patient_id: Some(&id) },
        "success",
    ))?;
    let response = PatientAnswer::of(&patient, first.clone(), last.clone(), phone.clone(), email.clone());
    claim_idempotency(app, ctx, &mut tx, &response, &id).await?;
    let created =
        commit_created(app, ctx, tx, response, |_| Error::Conflict("patient id collision, retry".into())).await?;
    // A portal user for a patient with portal access, as for staff (ACCT-1); a replay
    // completes it from the record as it is now.
    match &created {
        Created::Made(_) if patient.portal_access => {
            super::accounts::sync_patient(app, p, &id, true, email.as_deref(), phone.as_deref()).await?;
        }
        Created::Made(_) => {}
        Created::Replayed(first) => {
            let first_id = UserId::from_stored(first["patient"]["id"].as_str().unwrap_or_default());
            if let Some(now) = app.store.patient(p, &first_id).await? {
                super::accounts::sync_patient_record(app, p, &now).await?;
            }
        }
    }
    Ok(created)
}

/// The patient finder's tokens for these names: one per name prefix, as many as fit in the
/// patient's creating transaction beside the patient and its audit event.
pub(super) fn finder_tokens(index: &crate::crypto::BlindIndex, first: &str, last: &str) -> Vec<String> {
    let mut tokens = index.prefix_tokens(NAME_SCOPE, &format!("{first} {last}"));
    tokens.truncate(90);
    tokens
}

/// A patient's primary provider: a staff user of the practice with a provider role.
pub(super) fn provider_in(dir: &crate::domain::Directory, raw: &str) -> Result<UserId> {
    let id = UserId::parse_staff("primaryProviderId", raw)?;
    let s = dir
        .staff_member(&id)
        .ok_or_else(|| Error::invalid("primaryProviderId", "no staff user with this id in the practice"))?;
    if s.role.class() != RoleClass::Provider {
        return Err(Error::invalid("primaryProviderId", "the primary provider must have a provider role"));
    }
    Ok(id)
}

/// Staff ids of the practice, each once, in the order given.
pub(super) fn staff_ids_in(dir: &crate::domain::Directory, field: &str, raw_ids: &[String]) -> Result<Vec<UserId>> {
    let mut ids: Vec<UserId> = Vec::new();
    for raw in raw_ids {
        let id = UserId::parse_staff(field, raw)?;
        if dir.staff_member(&id).is_none() {
            return Err(Error::invalid(field, "no staff user with this id in the practice"));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// GET /patients?q= (staff): patients whose first or last name begins with what was typed.
/// A token hit is confirmed against the decrypted names (a truncated token can collide).
pub async fn find_patients(app: &App, ctx: &RequestCtx, q: Option<&str>, limit: usize) -> Result<PatientList> {
    let caller = &ctx.caller;
    if !caller.is_staff() {
        return Err(Error::Forbidden("the patient finder is for staff".into()));
    }
    let p = &caller.practice_id;
    let typed = q.unwrap_or("").trim();
    let words = normalize_words(typed);
    let Some(first_word) = words.first() else {
        return Err(Error::invalid("q", "type at least 2 letters of a name"));
    };
    if first_word.chars().count() < crate::crypto::MIN_PREFIX {
        return Err(Error::invalid("q", "type at least 2 letters of a name"));
    }
    let index = super::search::practice_index(app, p).await?;
    let token = index
        .query_token(NAME_SCOPE, first_word)
        .ok_or_else(|| Error::invalid("q", "type at least 2 letters of a name"))?;
    let hits = app.store.patients_by_token(p, &token, (limit * 2) as i32).await?;

    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let mut items: Vec<PatientView> = Vec::new();
    for h in hits {
        let view = renderer
            .patient(&PatientRef { id: h.patient_id.clone(), first_name: h.first_name, last_name: h.last_name })
            .await?;
        let names = normalize_words(&format!("{} {}", view.first_name, view.last_name));
        let all_match = words.iter().all(|w| names.iter().any(|n| n.starts_with(w.as_str())));
        if all_match && items.len() < limit {
            items.push(view);
        }
    }
    let record = AuditRecord { record_type: "directory", record_id: "patients", patient_id: None };
    let shown = items.iter().map(|v| v.id.clone()).collect();
    super::audit_list(app, ctx, "patient.search", record, shown).await?;
    Ok(PatientList { items })
}

/// The caller's practice directory, for an active staff caller (patients: 403).
async fn directory_for_staff(app: &App, ctx: &RequestCtx, refusal: &str) -> Result<crate::domain::Directory> {
    let caller = &ctx.caller;
    if !caller.is_staff() {
        return Err(Error::Forbidden(refusal.into()));
    }
    let dir = app.store.directory(&caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, caller)?;
    Ok(dir)
}

/// GET /staff (staff): the practice's active staff, to address team messages and choose
/// assignees. Staff names and roles are not PHI; emails and phones stay out of the list.
/// `?include=inactive` (admin class, for the staff screen): every staff user, deactivated
/// ones too, each with its email, phone and status.
pub async fn list_staff(app: &App, ctx: &RequestCtx, include: Option<&str>) -> Result<StaffList> {
    let dir = directory_for_staff(app, ctx, "the staff directory is for staff").await?;
    let everyone = match include {
        None => false,
        Some("inactive") if ctx.caller.class() == RoleClass::Admin => true,
        Some("inactive") => return Err(Error::Forbidden("deactivated staff are listed to admin roles".into())),
        Some(_) => return Err(Error::invalid("include", "include is `inactive` or absent")),
    };
    let mut staff: Vec<&crate::domain::Staff> = dir.staff.iter().filter(|s| everyone || s.active).collect();
    staff.sort_by(|a, b| (&a.last_name, &a.first_name).cmp(&(&b.last_name, &b.first_name)));
    let items = staff
        .iter()
        .map(|s| StaffEntry {
            id: s.id.clone(),
            first_name: s.first_name.clone(),
            last_name: s.last_name.clone(),
            role: s.role.clone(),
            contact: everyone.then(|| StaffContact {
                email: s.email.clone(),
                phone: s.phone.clone(),
                active: s.active,
            }),
        })
        .collect();
    Ok(StaffList { items })
}

/// GET /workgroups (staff, ROLE-6): the practice's workgroups with their members.
pub async fn list_workgroups(app: &App, ctx: &RequestCtx) -> Result<WorkgroupList> {
    let dir = directory_for_staff(app, ctx, "the workgroup list is for staff").await?;
    let mut groups: Vec<&Workgroup> = dir.workgroups.iter().collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(WorkgroupList { items: groups.into_iter().map(WorkgroupView::of).collect() })
}
