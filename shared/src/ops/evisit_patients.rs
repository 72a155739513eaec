//! E-visits, the patient's side (EVISIT-3): its yearly consent (asked for in the portal when
//! an e-visit was opened without one) and the dates of its office visits, which take the time
//! of an e-visit around them.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::{EVisitConsent, Visit};
use crate::domain::{Timestamp, UserId};
use crate::error::{Error, Result};
use crate::evisit;
use crate::store::{place, Guard};
use crate::views::{ConsentStateView, ConsentView, VisitDate, VisitView};
use serde::Deserialize;

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

/// The patient of `patient_id`, for the patient itself or the practice's staff (anyone else
/// learns nothing: 404, as for an unknown one).
async fn own_or_staff(app: &App, ctx: &RequestCtx, patient_id: &str) -> Result<UserId> {
    let caller = &ctx.caller;
    let patient = UserId::parse_patient("id", patient_id).map_err(|_| Error::NotFound("patient"))?;
    if !caller.is_staff() && caller.user_id != patient {
        return Err(Error::NotFound("patient"));
    }
    app.store.patient(&caller.practice_id, &patient).await?.ok_or(Error::NotFound("patient"))?;
    Ok(patient)
}

/// PUT /patients/{id}/evisit-consent (EVISIT-3): the patient itself, or staff recording it.
pub async fn consent(app: &App, ctx: &RequestCtx, patient_id: &str, req: ConsentRequest) -> Result<ConsentView> {
    let (caller, p) = (&ctx.caller, &ctx.caller.practice_id);
    let patient = own_or_staff(app, ctx, patient_id).await?;
    let item = EVisitConsent { given: req.given, at: ctx.now, recorded_by: caller.user_id.clone() };
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put(Guard::EVisit, place::evisit_consent(p, &patient), &item)?;
    let record = AuditRecord { record_type: "patient", record_id: &patient, patient_id: Some(&patient) };
    tx.put_audit(&audit::event(ctx, "evisit.consent", record, "success"))?;
    tx.commit().await?.map_err(|_| Error::Unauthenticated)?;
    Ok(ConsentView { given: item.given, at: item.at })
}

/// GET /patients/{id}/evisit-consent (EVISIT-3): the consent on record and whether the
/// practice asked for it since (the portal then asks the patient).
pub async fn consent_state(app: &App, ctx: &RequestCtx, patient_id: &str) -> Result<ConsentStateView> {
    let p = &ctx.caller.practice_id;
    let patient = own_or_staff(app, ctx, patient_id).await?;
    let (consent, request) = app.store.evisit_consent_state(p, &patient).await?;
    let answered_since = |asked: Timestamp| consent.as_ref().is_some_and(|k| k.at >= asked);
    Ok(ConsentStateView {
        current: consent_holds(consent.as_ref(), ctx.now),
        requested: request.is_some_and(|r| !answered_since(r.at)),
        consent: consent.map(|k| ConsentView { given: k.given, at: k.at }),
    })
}

/// POST /patients/{id}/visits (EVISIT-3): staff record an E/M visit's date, which takes the
/// time of an e-visit around it (flagged on the e-visit, not billed twice).
pub async fn record_visit(app: &App, ctx: &RequestCtx, patient_id: &str, req: VisitRequest) -> Result<VisitView> {
    let caller = &ctx.caller;
    if !caller.is_staff() {
        return Err(Error::Forbidden("visits are recorded by the practice's staff".into()));
    }
    let patient = UserId::parse_patient("id", patient_id).map_err(|_| Error::NotFound("patient"))?;
    let date = crate::domain::parse_date("date", req.date.trim())?.to_string();
    let p = &caller.practice_id;
    app.store.patient(p, &patient).await?.ok_or(Error::NotFound("patient"))?;
    let key = place::visit(p, &patient, &date);
    let item = Visit { date, recorded_by: caller.user_id.clone(), at: ctx.now };
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put(Guard::EVisit, key, &item)?;
    let record = AuditRecord { record_type: "patient", record_id: &patient, patient_id: Some(&patient) };
    tx.put_audit(&audit::event(ctx, "visit.record", record, "success"))?;
    tx.commit().await?.map_err(|_| Error::Unauthenticated)?;
    Ok(VisitView { visit: VisitDate { date: item.date } })
}

/// EVISIT-3: consent given within the year before a window opened (or during it) covers it.
pub(crate) fn consent_holds(consent: Option<&EVisitConsent>, window_opens: Timestamp) -> bool {
    let year = crate::domain::SignedDuration::from_hours(365 * 24);
    consent.is_some_and(|k| k.given && k.at > window_opens - year && k.at <= window_opens + evisit::WINDOW)
}
