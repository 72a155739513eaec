//! E-visits (EVISIT-1..4): a clinician turns a patient-initiated conversation into an
//! e-visit; qualified clinicians' time is recorded against it for seven days from the first
//! review of the question; the code it supports and the exclusions to flag are worked out on
//! every read (`evisit::suggest`) until the window's end, when the `evisit-windows` job
//! records them (`jobs::evisit_windows`). Staff only; the patient records its yearly consent.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::{Caller, ConversationKind, ConversationStatus, PracticeId, Timestamp};
use crate::domain::{
    Conversation, EVisit, EVisitConsentRequest, EVisitRef, EVisitTime, PatientRef, Sealed, TimeSource,
};
use crate::error::{Error, Result};
use crate::evisit::{self, Professional};
use crate::store::{place, Guard};
use crate::views::{ClinicianMinutes, EVisitAnswer, EVisitView, TimeEntryView};
use serde::Deserialize;

/// POST /conversations/{id}/evisit/time.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeRequest {
    /// Negative only by hand: a correction of the caller's own time.
    pub seconds: i32,
    pub source: TimeSource,
    pub reason: Option<String>,
}

/// PATCH /conversations/{id}/evisit.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EVisitPatch {
    pub evaluative: bool,
}

/// The most one entry may hold: an hour (the web app sends active time in batches).
const MOST_SECONDS: i32 = 3_600;

/// The caller's professional standing, checked before any record is read (a patient, or
/// staff who do not care for patients, get 403 whatever the id).
fn professional(ctx: &RequestCtx) -> Result<Professional> {
    staff_only(ctx)?;
    Professional::of(&ctx.caller.role).ok_or_else(|| Error::Forbidden("e-visit time is recorded by clinicians".into()))
}

/// EVISIT-1: the patient, when it started the conversation (only such a one can be an
/// e-visit).
fn patient_question(c: &Conversation) -> Option<&PatientRef> {
    c.summary.patient.as_ref().filter(|pat| c.summary.kind == ConversationKind::Patient && c.created_by == pat.id)
}

/// EVISIT-2: whether the caller's reading of the thread reviews the patient's question (a
/// physician or qualified professional; not clinical staff, whose time is not counted).
pub(crate) fn reviews(caller: &Caller, c: &Conversation) -> bool {
    caller.is_staff()
        && Professional::of(&caller.role).is_some_and(Professional::may_open)
        && patient_question(c).is_some()
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
) -> Result<(Conversation, Option<(EVisit, Vec<EVisitTime>)>)> {
    let id = crate::ops::conversation_id(conversation_id)?;
    let conversation = crate::ops::visible_conversation(app, &ctx.caller, &id).await?;
    let visit = app.store.evisit(&ctx.caller.practice_id, &id).await?.map(|((_, v), entries)| (v, entries));
    Ok((conversation, visit))
}

/// POST /conversations/{id}/evisit (EVISIT-1).
pub async fn open(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<EVisitAnswer> {
    if !professional(ctx)?.may_open() {
        return Err(Error::Forbidden("an e-visit is opened by a physician or qualified professional".into()));
    }
    let (conversation, existing) = read(app, ctx, conversation_id).await?;
    let Some(patient) = patient_question(&conversation) else {
        return Err(Error::Conflict("an e-visit is a conversation the patient started".into()));
    };
    if existing.is_some() {
        return Err(Error::Conflict("this conversation is an e-visit already".into()));
    }
    // The opener read the thread to decide: its review, or an earlier one, opens the window.
    let window_opens_at = conversation.reviewed_at.filter(|t| *t <= ctx.now).unwrap_or(ctx.now);
    if window_opens_at + evisit::WINDOW <= ctx.now {
        return Err(Error::Conflict(
            "this question was first reviewed more than seven days ago: its e-visit window has passed".into(),
        ));
    }
    let p = &ctx.caller.practice_id;
    let visit = EVisit {
        conversation_id: conversation.id.clone(),
        patient_id: patient.id.clone(),
        opened_by: ctx.caller.user_id.clone(),
        opened_at: ctx.now,
        window_opens_at,
        evaluative: true,
        recorded: None,
    };
    let consent = app.store.evisit_consent(p, &patient.id).await?;
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.put_new(Guard::EVisit, place::evisit_ending(p, &conversation.id, window_opens_at + evisit::WINDOW), &visit)?;
    if !crate::ops::evisit_patients::consent_holds(consent.as_ref(), window_opens_at) {
        let ask = EVisitConsentRequest { at: ctx.now };
        tx.put(Guard::EVisit, place::evisit_consent_request(p, &patient.id), &ask)?;
    }
    let listed = EVisitRef { conversation_id: conversation.id.clone() };
    tx.put(Guard::EVisit, place::evisit_in_month(p, &conversation.id, ctx.now), &listed)?;
    tx.put_audit(&audit::event(ctx, "evisit.open", AuditRecord::conversation(&conversation), "success"))?;
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
    let most = match req.source {
        TimeSource::Active => 1..=MOST_SECONDS,
        TimeSource::Manual => -MOST_SECONDS..=MOST_SECONDS,
    };
    if req.seconds == 0 || !most.contains(&req.seconds) {
        let range = if req.source == TimeSource::Manual { "-3600 to 3600 (not 0)" } else { "1 to 3600" };
        return Err(Error::invalid("seconds", format!("seconds must be from {range}")));
    }
    let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if req.source == TimeSource::Manual && reason.is_none() {
        return Err(Error::invalid("reason", "time entered or corrected by hand needs its reason"));
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::invalid("reason", "reason is longer than 500 characters"));
    }
    if closed(&conversation, &visit, ctx.now) {
        return Err(Error::Conflict("the e-visit's seven days are over".into()));
    }
    // A correction takes away the caller's own time, never more than it recorded.
    let own: i64 = entries.iter().filter(|e| e.clinician == ctx.caller.user_id).map(|e| i64::from(e.seconds)).sum();
    if req.seconds < 0 && own + i64::from(req.seconds) < 0 {
        let (m, s) = (own / 60, own % 60);
        return Err(Error::invalid("seconds", format!("a correction cannot take away more than your {m} min {s} s")));
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
    let entry = EVisitTime {
        clinician: ctx.caller.user_id.clone(),
        professional,
        seconds: req.seconds,
        source: req.source,
        reason,
        at: ctx.now,
    };
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.put_new(Guard::EVisit, key, &entry)?;
    let action = if req.source == TimeSource::Manual { "evisit.time_manual" } else { "evisit.time" };
    tx.put_audit(&audit::event(ctx, action, AuditRecord::conversation(&conversation), "success"))?;
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
    if visit.recorded.is_some() {
        return Err(Error::Conflict("the e-visit's window is over and its code recorded".into()));
    }
    let before = visit.clone();
    visit.evaluative = req.evaluative;
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.update_changed(Guard::EVisit, &place::evisit(&ctx.caller.practice_id, &conversation.id), &before, &visit)?;
    tx.put_audit(&audit::event(ctx, "evisit.mark", AuditRecord::conversation(&conversation), "success"))?;
    match tx.commit().await? {
        Ok(()) => {}
        Err(Guard::Actor) => return Err(Error::Unauthenticated),
        Err(_) => return Err(Error::Conflict("the e-visit changed meanwhile; reload it and retry".into())),
    }
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

/// The window ended, or the conversation was closed (EVISIT-2: the code is suggested then).
fn closed(c: &Conversation, v: &EVisit, now: Timestamp) -> bool {
    c.summary.status == ConversationStatus::Closed || now >= v.window_opens_at + evisit::WINDOW || v.recorded.is_some()
}

/// EVISIT-2, EVISIT-3: what the rules make of the e-visit's time now.
pub(crate) async fn suggestion(
    app: &App,
    p: &PracticeId,
    v: &EVisit,
    entries: &[EVisitTime],
) -> Result<evisit::Suggestion> {
    let (consent, visits) =
        tokio::try_join!(app.store.evisit_consent(p, &v.patient_id), app.store.visits(p, &v.patient_id))?;
    // A visit is placed at noon UTC of the date staff recorded.
    let visits: Vec<Timestamp> = visits
        .iter()
        .filter_map(|visit| crate::domain::parse_date("date", &visit.date).ok())
        .filter_map(|d| d.at(12, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| Timestamp::from_jiff(z.timestamp()))
        .collect();
    let consented = crate::ops::evisit_patients::consent_holds(consent.as_ref(), v.window_opens_at);
    let context = evisit::Context { visits: &visits, consent: consented, evaluative: v.evaluative };
    Ok(evisit::suggest(v.window_opens_at, &time_spent(entries), context))
}

fn time_spent(entries: &[EVisitTime]) -> Vec<evisit::TimeSpent> {
    entries
        .iter()
        .map(|e| evisit::TimeSpent {
            clinician: e.clinician.clone(),
            professional: e.professional,
            at: e.at,
            seconds: e.seconds,
        })
        .collect()
}

/// The e-visit: as recorded at its window's end, or as the rules make it now.
pub(crate) async fn view(
    app: &App,
    ctx: &RequestCtx,
    c: &Conversation,
    v: &EVisit,
    entries: &[EVisitTime],
) -> Result<EVisitView> {
    // A recorded e-visit's code and flags are its record: only the minutes per clinician are
    // worked out (from the entries alone, no consent or visit to read).
    let (s, (total_minutes, suggested_code, flags)) = match &v.recorded {
        Some(r) => {
            let s = evisit::suggest(v.window_opens_at, &time_spent(entries), evisit::Context::default());
            (s, (r.total_minutes, r.suggested_code.clone(), r.flags.clone()))
        }
        None => {
            let s = suggestion(app, &ctx.caller.practice_id, v, entries).await?;
            let now = (s.total_minutes, s.suggested_code.map(str::to_string), s.flags.clone());
            (s, now)
        }
    };
    Ok(EVisitView {
        conversation_id: c.id.clone(),
        patient_id: v.patient_id.clone(),
        status: if closed(c, v, ctx.now) { "closed" } else { "open" },
        opened_by: v.opened_by.clone(),
        opened_at: v.opened_at,
        window_opens_at: v.window_opens_at,
        window_ends_at: v.window_opens_at + evisit::WINDOW,
        minutes_by_clinician: s
            .minutes_by_clinician
            .into_iter()
            .map(|(id, minutes)| ClinicianMinutes { id, minutes })
            .collect(),
        total_minutes,
        suggested_code,
        flags,
        recorded_at: v.recorded.as_ref().map(|r| r.at),
        entries: entries
            .iter()
            .map(|e| TimeEntryView {
                clinician_id: e.clinician.clone(),
                seconds: e.seconds,
                source: e.source,
                at: e.at,
            })
            .collect(),
    })
}
