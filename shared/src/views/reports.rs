//! The administrators' reports: billable messages (REPLY-2) and the audit log (SEC-2).

use crate::domain::{MessageId, UserId};
use serde::Serialize;

/// GET /reports/billing (REPLY-2): the billable messages of the period.
#[derive(Clone, Debug, Serialize)]
pub struct BillingReport {
    pub from: String,
    pub to: String,
    pub items: Vec<BillingLine>,
    /// EVISIT-4: the e-visits opened in the period.
    pub evisits: Vec<EVisitView>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingLine {
    pub message_id: MessageId,
    pub conversation_id: String,
    pub patient_id: UserId,
    pub staff_id: UserId,
    pub fee_code: String,
    pub at: crate::domain::Timestamp,
}

/// GET /reports/response-times (SLA-5): reply times in business minutes, by group.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseTimesReport {
    pub from: String,
    pub to: String,
    pub group_by: &'static str,
    pub groups: Vec<ResponseTimeGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseTimeGroup {
    /// A staff id, a workgroup id (or `unassigned`), or a priority.
    pub key: String,
    pub replies: usize,
    pub median_minutes: f64,
    pub p90_minutes: f64,
    /// The share (0 to 1) of replies within their priority's target; null when none had one.
    pub within_target: Option<f64>,
}

impl BillingReport {
    /// The same as CSV (`Accept: text/csv`): a line per billable message and per e-visit.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("kind,at,conversationId,patientId,staffIds,code,minutes,flags\n");
        // Ids, codes and flag names hold no comma or quote: nothing to escape.
        for b in &self.items {
            let (at, c, pat, staff) = (b.at, &b.conversation_id, &b.patient_id, &b.staff_id);
            out.push_str(&format!("message,{at},{c},{pat},{staff},{},,\n", b.fee_code));
        }
        for v in &self.evisits {
            let staff: Vec<String> = v.minutes_by_clinician.iter().map(|m| m.id.to_string()).collect();
            let flags: Vec<String> =
                v.flags.iter().filter_map(|f| serde_json::to_value(f).ok()?.as_str().map(str::to_string)).collect();
            out.push_str(&format!(
                "evisit,{},{},{},{},{},{},{}\n",
                v.opened_at,
                v.conversation_id,
                v.patient_id,
                staff.join(";"),
                v.suggested_code.clone().unwrap_or_default(),
                v.total_minutes,
                flags.join(";")
            ));
        }
        out
    }
}

impl ResponseTimesReport {
    /// The same rows as CSV (`Accept: text/csv`), a header line first.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("key,replies,medianMinutes,p90Minutes,withinTarget\n");
        for g in &self.groups {
            let within = g.within_target.map(|w| w.to_string()).unwrap_or_default();
            // Keys are ids and priority names: no comma or quote to escape.
            out.push_str(&format!("{},{},{},{},{}\n", g.key, g.replies, g.median_minutes, g.p90_minutes, within));
        }
        out
    }
}

/// An e-visit (EVISIT-1..3): while its window is open, as the rules make it at the time of
/// reading; once the `evisit-windows` job recorded it, as recorded (`recordedAt`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitView {
    pub conversation_id: crate::domain::ConversationId,
    pub patient_id: UserId,
    /// `open` during its seven days, `closed` after them or once the conversation is closed.
    pub status: &'static str,
    pub opened_by: UserId,
    pub opened_at: crate::domain::Timestamp,
    pub window_opens_at: crate::domain::Timestamp,
    pub window_ends_at: crate::domain::Timestamp,
    pub minutes_by_clinician: Vec<ClinicianMinutes>,
    pub total_minutes: u32,
    pub suggested_code: Option<String>,
    pub flags: Vec<crate::evisit::Flag>,
    pub recorded_at: Option<crate::domain::Timestamp>,
    /// Every time entry, oldest first (hand entries' reasons stay sealed in the record).
    pub entries: Vec<TimeEntryView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClinicianMinutes {
    pub id: UserId,
    pub minutes: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeEntryView {
    pub clinician_id: UserId,
    pub seconds: i32,
    pub source: crate::domain::TimeSource,
    pub at: crate::domain::Timestamp,
}

/// POST and GET /conversations/{id}/evisit (`null` from GET where there is none).
#[derive(Clone, Debug, Serialize)]
pub struct EVisitAnswer {
    pub evisit: Option<EVisitView>,
}

/// POST /patients/{id}/visits.
#[derive(Clone, Debug, Serialize)]
pub struct VisitView {
    pub visit: VisitDate,
}

#[derive(Clone, Debug, Serialize)]
pub struct VisitDate {
    pub date: String,
}

/// PUT /patients/{id}/evisit-consent.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentView {
    pub given: bool,
    pub at: crate::domain::Timestamp,
}

/// GET /patients/{id}/evisit-consent: the answer on record, whether it covers today, and
/// whether the practice asked since it was given (the portal asks the patient then).
#[derive(Clone, Debug, Serialize)]
pub struct ConsentStateView {
    pub consent: Option<ConsentView>,
    pub current: bool,
    pub requested: bool,
}

/// One event of GET /audit (SEC-2), listed newest first.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    pub id: String,
    pub at: crate::domain::Timestamp,
    pub actor_id: String,
    pub actor_role: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
    pub patient_id: Option<String>,
    pub outcome: String,
    pub request_id: String,
    pub chain: ChainLink,
}

/// An event's link in its record's hash chain; `null` until the chain job has linked it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainLink {
    pub seq: Option<u64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// GET /audit/verification (SEC-2): the hash chains of a conversation's or a patient's audit
/// log recomputed with the chain key; `verified` when none is broken.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerificationView {
    pub verified: bool,
    pub chains: u64,
    pub events: u64,
    /// Written but not linked yet (the chain job runs moments after each write).
    pub unchained: u64,
    pub broken: Vec<BrokenChainView>,
}

/// The first broken link of a chain: whose chain, where, and what is wrong.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenChainView {
    pub record_type: String,
    pub record_id: String,
    pub seq: u64,
    pub event_id: String,
    pub problem: &'static str,
}
