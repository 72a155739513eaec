//! Admin-class reports: the billing report (REPLY-2), billable messages with their fee codes
//! over a date range, and the audit log (SEC-2) of a patient or a conversation.

use crate::app::{App, RequestCtx};
use crate::audit::AuditRecord;
use crate::domain::{parse_id, RoleClass, CONVERSATION_ID, PATIENT_ID};
use crate::error::{Error, Result};
use crate::store::AuditTrail;
use crate::views::{
    AuditEventView, AuditVerificationView, BillingLine, BillingReport, BrokenChainView, ChainLink, Page,
};
use jiff::civil::Date;

fn parse_date(field: &str, raw: Option<&str>) -> Result<Date> {
    crate::domain::parse_date(field, raw.unwrap_or(""))
}

/// A report's period: `from` and `to` dates, in order, at most two years apart.
pub(super) fn period(from: Option<&str>, to: Option<&str>) -> Result<(Date, Date)> {
    let (from, to) = (parse_date("from", from)?, parse_date("to", to)?);
    if from > to {
        return Err(Error::invalid("from", "`from` is after `to`"));
    }
    if (to - from).get_days() > 731 {
        return Err(Error::invalid("to", "a report covers at most two years"));
    }
    Ok((from, to))
}

/// The months (`YYYY-MM`) from one date to another, at most 24.
pub(super) fn months(from: Date, to: Date) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (from.year(), from.month());
    while (y, m) <= (to.year(), to.month()) && out.len() < 24 {
        out.push(format!("{y:04}-{m:02}"));
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    out
}

/// GET /reports/billing?from=YYYY-MM-DD&to=YYYY-MM-DD.
pub async fn billing(app: &App, ctx: &RequestCtx, from: Option<&str>, to: Option<&str>) -> Result<BillingReport> {
    let caller = &ctx.caller;
    if caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("the billing report is for admin roles".into()));
    }
    let (from, to) = period(from, to)?;
    let p = &caller.practice_id;
    let mut items = Vec::new();
    let mut evisits = Vec::new();
    for month in months(from, to) {
        // EVISIT-4: the e-visits opened in the period, with their codes, time and flags.
        for listed in app.store.evisits_month(p, &month, &from.to_string(), &to.to_string()).await? {
            let c = app.store.conversation(p, &listed.conversation_id).await?;
            let v = app.store.evisit(p, &listed.conversation_id).await?;
            if let (Some(c), Some(((_, v), entries))) = (c, v) {
                evisits.push(crate::ops::evisits::view(app, ctx, &c, &v, &entries).await?);
            }
        }
        for b in app.store.billing_month(p, &month, &from.to_string(), &to.to_string()).await? {
            items.push(BillingLine {
                message_id: b.message_id,
                conversation_id: b.conversation_id.to_string(),
                patient_id: b.patient_id,
                staff_id: b.staff_id,
                fee_code: b.fee_code,
                at: b.at,
            });
        }
    }
    crate::ops::audit_read(
        app,
        ctx,
        "report.billing",
        AuditRecord { record_type: "report", record_id: "billing", patient_id: None },
    )
    .await?;
    Ok(BillingReport { from: from.to_string(), to: to.to_string(), items, evisits })
}

/// Which audit events: those of a conversation (its chain), or those naming a patient.
pub enum AuditScope {
    Conversation(String),
    Patient(String),
}

impl AuditScope {
    /// Exactly one of `?conversationId=` and `?patientId=`.
    pub fn parse(conversation_id: Option<&str>, patient_id: Option<&str>) -> Result<AuditScope> {
        match (conversation_id, patient_id) {
            (Some(c), None) => Ok(AuditScope::Conversation(parse_id("conversationId", CONVERSATION_ID, c)?)),
            (None, Some(p)) => Ok(AuditScope::Patient(parse_id("patientId", PATIENT_ID, p)?)),
            _ => Err(Error::BadRequest {
                detail: "give exactly one of conversationId and patientId".into(),
                field: Some("conversationId".into()),
            }),
        }
    }
}

/// GET /audit (SEC-2): audit events, newest first, with their chain links.
pub async fn audit_log(
    app: &App,
    ctx: &RequestCtx,
    scope: AuditScope,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Page<AuditEventView>> {
    let caller = &ctx.caller;
    if caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("the audit log is for admin roles".into()));
    }
    // A cursor pages one scope's log: bound to it, it cannot be replayed against another.
    let list = match &scope {
        AuditScope::Conversation(c) => format!("audit/conversation/{c}"),
        AuditScope::Patient(pat) => format!("audit/patient/{pat}"),
    };
    let before: String = match cursor {
        Some(c) => crate::ops::cursor::open(app, ctx, &list, c).await?,
        // Below the chain head's sort key, above every event's.
        None => "~".to_string(),
    };
    let p = &caller.practice_id;
    let (events, next) = match &scope {
        AuditScope::Conversation(c) => {
            let trail = AuditTrail::Record { record_type: "conversation", record_id: c };
            app.store.audit_page(p, trail, &before, limit).await?
        }
        AuditScope::Patient(pat) => app.store.audit_page(p, AuditTrail::Patient(pat), &before, limit).await?,
    };
    let (record_type, record_id, patient_id) = match &scope {
        AuditScope::Conversation(c) => ("conversation", c.as_str(), None),
        AuditScope::Patient(pat) => ("patient", pat.as_str(), Some(pat.as_str())),
    };
    crate::ops::audit_read(app, ctx, "audit.read", AuditRecord { record_type, record_id, patient_id }).await?;
    let items = events
        .into_iter()
        .map(|e| AuditEventView {
            chain: ChainLink { seq: e.seq, prev_hash: e.prev_hash, hash: e.hash },
            id: e.id,
            at: e.at,
            actor_id: e.actor_id,
            actor_role: e.actor_role,
            action: e.action,
            record_type: e.record_type,
            record_id: e.record_id,
            patient_id: e.patient_id,
            outcome: e.outcome,
            request_id: e.request_id,
        })
        .collect();
    let next_cursor = match next {
        Some(n) => Some(crate::ops::cursor::seal(app, ctx, &list, &n).await?),
        None => None,
    };
    Ok(Page { items, next_cursor })
}

/// How many chains one verification on screen recomputes at most; a patient with more is
/// verified with the operator's `audit-verify` command.
const MAX_CHAINS_VERIFIED: usize = 100;

/// GET /audit/verification (SEC-2): recomputes the hash chains behind an audit log with the
/// chain key (kms:VerifyMac: it can check a link, never make one): a conversation's chain, or
/// a patient's own chain and that of every record its log names. Audited.
pub async fn audit_verification(app: &App, ctx: &RequestCtx, scope: AuditScope) -> Result<AuditVerificationView> {
    let caller = &ctx.caller;
    if caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("the audit log is for admin roles".into()));
    }
    let p = &caller.practice_id;
    let mut records: Vec<(String, String)> = Vec::new();
    let (record_type, record_id, patient_id) = match &scope {
        AuditScope::Conversation(c) => {
            records.push(("conversation".into(), c.clone()));
            ("conversation", c.as_str(), None)
        }
        AuditScope::Patient(pat) => {
            records.push(("patient".into(), pat.clone()));
            // The records the patient's log names, read page by page until past the cap.
            let mut before = "~".to_string();
            while records.len() <= MAX_CHAINS_VERIFIED {
                let (events, next) = app.store.audit_page(p, AuditTrail::Patient(pat), &before, 500).await?;
                for e in events {
                    let record = (e.record_type, e.record_id);
                    if !records.contains(&record) {
                        records.push(record);
                    }
                }
                match next {
                    Some(n) => before = n,
                    None => break,
                }
            }
            ("patient", pat.as_str(), Some(pat.as_str()))
        }
    };
    if records.len() > MAX_CHAINS_VERIFIED {
        return Err(Error::invalid(
            "patientId",
            format!("this log spans more than {MAX_CHAINS_VERIFIED} records: verify it with the operator's audit-verify command"),
        ));
    }
    crate::ops::audit_read(app, ctx, "audit.verify", AuditRecord { record_type, record_id, patient_id }).await?;
    let report = crate::audit::verify_records(app, p, &records).await?;
    let record_of = |chain: &str| {
        records.iter().find(|(t, id)| crate::store::Store::record_chain(p, t, id) == chain).cloned().unwrap_or_default()
    };
    let broken: Vec<BrokenChainView> = report
        .broken
        .iter()
        .map(|b| {
            let (record_type, record_id) = record_of(&b.chain);
            BrokenChainView { record_type, record_id, seq: b.seq, event_id: b.event_id.clone(), problem: b.problem }
        })
        .collect();
    Ok(AuditVerificationView {
        verified: broken.is_empty(),
        chains: report.chains,
        events: report.events,
        unchained: report.unchained,
        broken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_span_the_range() {
        let d = |s: &str| crate::domain::parse_date("d", s).unwrap();
        assert_eq!(months(d("2026-11-15"), d("2027-02-01")), vec!["2026-11", "2026-12", "2027-01", "2027-02"]);
        assert_eq!(months(d("2026-11-15"), d("2026-11-20")), vec!["2026-11"]);
    }
}
