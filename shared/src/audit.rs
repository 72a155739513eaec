//! Audit events (SEC-2): who did what to which record, when, with what outcome. Written in
//! the same transaction as the write they record; the API never updates or deletes one.

use crate::app::RequestCtx;
use crate::ids;
use crate::keys;
use crate::records::AuditItem;

/// The record an event is about, and the patient whose chart it belongs to (if any).
pub struct AuditRecord<'a> {
    pub record_type: &'static str,
    pub record_id: &'a str,
    pub patient_id: Option<&'a str>,
}

pub fn event(ctx: &RequestCtx, action: &str, record: AuditRecord<'_>, outcome: &str) -> AuditItem {
    let id = ids::new_id("aud_");
    let at = ids::now();
    let p = &ctx.caller.practice_id;
    let scope = format!("{}#{}", record.record_type.to_uppercase(), record.record_id);
    AuditItem {
        pk: keys::audit(p, &scope),
        sk: format!("{at}#{id}"),
        gsi1pk: record.patient_id.map(|pat| keys::audit_by_patient(p, pat)),
        gsi1sk: record.patient_id.map(|_| format!("{at}#{id}")),
        id,
        practice_id: p.clone(),
        actor_id: ctx.caller.user_id.clone(),
        actor_role: ctx.caller.role.as_str().to_string(),
        action: action.to_string(),
        record_type: record.record_type.to_string(),
        record_id: record.record_id.to_string(),
        patient_id: record.patient_id.map(str::to_string),
        outcome: outcome.to_string(),
        at,
        request_id: ctx.request_id.clone(),
    }
}
