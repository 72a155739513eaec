//! E-visits (EVISIT-1..4): a clinician turns a patient-initiated conversation into an
//! e-visit; qualified clinicians' time is recorded against it for seven days; the code it
//! supports and the exclusions to flag are worked out on every read (`evisit::suggest`), so
//! the answer is always that of the entries as they are. Staff only; the patient records its
//! yearly consent.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::{ConversationKind, ConversationStatus, Timestamp, UserId};
use crate::error::{Error, Result};
use crate::evisit::{self, Professional};
use crate::records::{
    ConversationItem, EVisitConsentItem, EVisitItem, EVisitRefItem, EVisitTimeItem, Sealed, TimeSource, VisitItem,
};
use crate::store::{place, Guard};
use crate::views::{ClinicianMinutes, ConsentView, EVisitAnswer, EVisitView, VisitDate, VisitView};
use serde::Deserialize;

/// POST /conversations/{id}/evisit/time.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeRequest {
    pub seconds: u32,
    pub source: TimeSource,
    pub reason: Option<String>,
}

/// PATCH /conversations/{id}/evisit.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EVisitPatch {
    pub evaluative: bool,
}

/// POST /patients/{id}/visits.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisitRequest {
    pub date: String,
}

/// PUT /patients/{id}/evisit-consent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentRequest {
    pub given: bool,
}

/// The most one entry may hold: an hour (the web app sends active time in batches).
const MOST_SECONDS: u32 = 3_600;

/// The caller's professional standing, checked before any record is read (a patient, or
/// staff who do not care for patients, get 403 whatever the id).
fn professional(ctx: &RequestCtx) -> Result<Professional> {
    staff_only(ctx)?;
    Professional::of(&ctx.caller.role).ok_or_else(|| Error::Forbidden("e-visit time is recorded by clinicians".into()))
}

fn staff_only(ctx: &RequestCtx) -> Result<()> {
    match ctx.caller.is_staff() {
        true => Ok(()),
        false => Err(Error::Forbidden("e-visits are kept by the practice's staff".into())),
    }
}

/// The conversation, if the caller may see it, with its e-visit and time entries.
async fn read(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
) -> Result<(ConversationItem, Option<(EVisitItem, Vec<EVisitTimeItem>)>)> {
    let id = crate::ops::conversation_id(conversation_id)?;
    let conversation = crate::ops::visible_conversation(app, &ctx.caller, &id).await?;
    let visit = app.store.evisit(&ctx.caller.practice_id, &id).await?;
    Ok((conversation, visit))
}

/// POST /conversations/{id}/evisit (EVISIT-1).
pub async fn open(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<EVisitAnswer> {
    if !professional(ctx)?.may_open() {
        return Err(Error::Forbidden("an e-visit is opened by a physician or qualified professional".into()));
    }
    let (conversation, existing) = read(app, ctx, conversation_id).await?;
    let patient = match &conversation.summary.patient {
        Some(pat) if conversation.summary.kind == ConversationKind::Patient && conversation.created_by == pat.id => pat,
        _ => return Err(Error::Conflict("an e-visit is a conversation the patient started".into())),
    };
    if existing.is_some() {
        return Err(Error::Conflict("this conversation is an e-visit already".into()));
    }
    let p = &ctx.caller.practice_id;
    let visit = EVisitItem {
        key: place::evisit(p, &conversation.id),
        conversation_id: conversation.id.clone(),
        patient_id: patient.id.clone(),
        opened_by: ctx.caller.user_id.clone(),
        opened_at: ctx.now,
        evaluative: true,
    };
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.put_new(Guard::EVisit, &visit)?;
    let listed = EVisitRefItem {
        key: place::evisit_in_month(p, &conversation.id, ctx.now),
        conversation_id: conversation.id.clone(),
    };
    tx.put(Guard::EVisit, &listed)?;
    tx.put(Guard::Audit, &audit::event(ctx, "evisit.open", AuditRecord::conversation(&conversation), "success"))?;
    match tx.commit().await? {
        Ok(()) => Ok(EVisitAnswer { evisit: Some(view(app, ctx, &conversation, &visit, &[]).await?) }),
        Err(Guard::EVisit) => Err(Error::Conflict("this conversation is an e-visit already".into())),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// POST /conversations/{id}/evisit/time (EVISIT-1): active time from the web app, or time
/// entered by hand with its reason, while the window is open.
pub async fn add_time(app: &App, ctx: &RequestCtx, conversation_id: &str, req: TimeRequest) -> Result<EVisitAnswer> {
    let professional = professional(ctx)?;
    let (conversation, existing) = read(app, ctx, conversation_id).await?;
    let Some((visit, mut entries)) = existing else {
        return Err(Error::Conflict("this conversation is not an e-visit; open one first".into()));
    };
    if !(1..=MOST_SECONDS).contains(&req.seconds) {
        return Err(Error::invalid("seconds", format!("seconds must be from 1 to {MOST_SECONDS}")));
    }
    let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if req.source == TimeSource::Manual && reason.is_none() {
        return Err(Error::invalid("reason", "time entered by hand needs its reason"));
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::invalid("reason", "reason is longer than 500 characters"));
    }
    if closed(&conversation, &visit, ctx.now) {
        return Err(Error::Conflict("the e-visit's seven days are over".into()));
    }
    let p = &ctx.caller.practice_id;
    let key = place::evisit_time(p, &conversation.id, ctx.now);
    let reason = match reason {
        Some(r) => {
            let binding = Binding { practice_id: p, record: &conversation.id, field: "evisitReason" };
            Some(Sealed(app.envelope.seal_str(binding, r).await?))
        }
        None => None,
    };
    let entry = EVisitTimeItem {
        key,
        clinician: ctx.caller.user_id.clone(),
        professional,
        seconds: req.seconds,
        source: req.source,
        reason,
        at: ctx.now,
    };
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.put_new(Guard::EVisit, &entry)?;
    let action = if req.source == TimeSource::Manual { "evisit.time_manual" } else { "evisit.time" };
    tx.put(Guard::Audit, &audit::event(ctx, action, AuditRecord::conversation(&conversation), "success"))?;
    match tx.commit().await? {
        Ok(()) => {}
        Err(Guard::Actor) => return Err(Error::Unauthenticated),
        Err(_) => return Err(Error::Conflict("the time entry could not be stored; retry".into())),
    }
    entries.push(entry);
    Ok(EVisitAnswer { evisit: Some(view(app, ctx, &conversation, &visit, &entries).await?) })
}

/// PATCH /conversations/{id}/evisit (EVISIT-3): a physician or qualified professional marks
/// the exchange evaluative or not (scheduling, results only: flagged, not billed).
pub async fn mark(app: &App, ctx: &RequestCtx, conversation_id: &str, req: EVisitPatch) -> Result<EVisitAnswer> {
    if !professional(ctx)?.may_open() {
        return Err(Error::Forbidden("an e-visit is judged by a physician or qualified professional".into()));
    }
    let (conversation, existing) = read(app, ctx, conversation_id).await?;
    let Some((mut visit, entries)) = existing else {
        return Err(Error::Conflict("this conversation is not an e-visit".into()));
    };
    visit.evaluative = req.evaluative;
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.put(Guard::EVisit, &visit)?;
    tx.put(Guard::Audit, &audit::event(ctx, "evisit.mark", AuditRecord::conversation(&conversation), "success"))?;
    tx.commit().await?.map_err(|_| Error::Unauthenticated)?;
    Ok(EVisitAnswer { evisit: Some(view(app, ctx, &conversation, &visit, &entries).await?) })
}

/// GET /conversations/{id}/evisit: the e-visit, or `null` for a conversation that is none
/// (a thread asks on every opening).
pub async fn get(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<EVisitAnswer> {
    staff_only(ctx)?;
    let (conversation, existing) = read(app, ctx, conversation_id).await?;
    let Some((visit, entries)) = existing else { return Ok(EVisitAnswer { evisit: None }) };
    crate::ops::audit_read(app, ctx, "evisit.read", AuditRecord::conversation(&conversation)).await?;
    Ok(EVisitAnswer { evisit: Some(view(app, ctx, &conversation, &visit, &entries).await?) })
}

/// PUT /patients/{id}/evisit-consent (EVISIT-3): the patient itself, or staff recording it.
pub async fn consent(app: &App, ctx: &RequestCtx, patient_id: &str, req: ConsentRequest) -> Result<ConsentView> {
    let caller = &ctx.caller;
    let patient = UserId::parse_patient("id", patient_id).map_err(|_| Error::NotFound("patient"))?;
    if !caller.is_staff() && caller.user_id != patient {
        return Err(Error::NotFound("patient"));
    }
    let p = &caller.practice_id;
    app.store.patient(p, &patient).await?.ok_or(Error::NotFound("patient"))?;
    let item = EVisitConsentItem {
        key: place::evisit_consent(p, &patient),
        given: req.given,
        at: ctx.now,
        recorded_by: caller.user_id.clone(),
    };
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put(Guard::EVisit, &item)?;
    let record = AuditRecord { record_type: "patient", record_id: &patient, patient_id: Some(&patient) };
    tx.put(Guard::Audit, &audit::event(ctx, "evisit.consent", record, "success"))?;
    tx.commit().await?.map_err(|_| Error::Unauthenticated)?;
    Ok(ConsentView { given: item.given, at: item.at })
}

/// POST /patients/{id}/visits (EVISIT-3): staff record an E/M visit's date, which takes the
/// time of an e-visit around it (flagged on the e-visit, not billed twice).
pub async fn record_visit(app: &App, ctx: &RequestCtx, patient_id: &str, req: VisitRequest) -> Result<VisitView> {
    staff_only(ctx)?;
    let caller = &ctx.caller;
    let patient = UserId::parse_patient("id", patient_id).map_err(|_| Error::NotFound("patient"))?;
    let date = crate::domain::parse_date("date", req.date.trim())?.to_string();
    let p = &caller.practice_id;
    app.store.patient(p, &patient).await?.ok_or(Error::NotFound("patient"))?;
    let item =
        VisitItem { key: place::visit(p, &patient, &date), date, recorded_by: caller.user_id.clone(), at: ctx.now };
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put(Guard::EVisit, &item)?;
    let record = AuditRecord { record_type: "patient", record_id: &patient, patient_id: Some(&patient) };
    tx.put(Guard::Audit, &audit::event(ctx, "visit.record", record, "success"))?;
    tx.commit().await?.map_err(|_| Error::Unauthenticated)?;
    Ok(VisitView { visit: VisitDate { date: item.date } })
}

/// The window ended, or the conversation was closed (EVISIT-2: the code is suggested then).
fn closed(c: &ConversationItem, v: &EVisitItem, now: Timestamp) -> bool {
    c.summary.status == ConversationStatus::Closed || now >= v.opened_at + evisit::WINDOW
}

/// The e-visit as the rules make it now.
pub(crate) async fn view(
    app: &App,
    ctx: &RequestCtx,
    c: &ConversationItem,
    v: &EVisitItem,
    entries: &[EVisitTimeItem],
) -> Result<EVisitView> {
    let p = &ctx.caller.practice_id;
    let (consent, visits) =
        tokio::try_join!(app.store.evisit_consent(p, &v.patient_id), app.store.visits(p, &v.patient_id))?;
    // A visit is placed at noon UTC of the date staff recorded.
    let visits: Vec<Timestamp> = visits
        .iter()
        .filter_map(|visit| crate::domain::parse_date("date", &visit.date).ok())
        .filter_map(|d| d.at(12, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| Timestamp::from_jiff(z.timestamp()))
        .collect();
    let year = crate::domain::SignedDuration::from_hours(365 * 24);
    let consented =
        consent.is_some_and(|k| k.given && k.at > v.opened_at - year && k.at <= v.opened_at + evisit::WINDOW);
    let spent: Vec<evisit::TimeSpent> = entries
        .iter()
        .map(|e| evisit::TimeSpent {
            clinician: e.clinician.clone(),
            professional: e.professional,
            at: e.at,
            seconds: e.seconds,
        })
        .collect();
    let context = evisit::Context { visits: &visits, consent: consented, evaluative: v.evaluative };
    let s = evisit::suggest(v.opened_at, &spent, context);
    Ok(EVisitView {
        conversation_id: c.id.clone(),
        patient_id: v.patient_id.clone(),
        status: if closed(c, v, ctx.now) { "closed" } else { "open" },
        opened_by: v.opened_by.clone(),
        opened_at: v.opened_at,
        window_ends_at: v.opened_at + evisit::WINDOW,
        minutes_by_clinician: s
            .minutes_by_clinician
            .into_iter()
            .map(|(id, minutes)| ClinicianMinutes { id, minutes })
            .collect(),
        total_minutes: s.total_minutes,
        suggested_code: s.suggested_code,
        flags: s.flags,
    })
}
