//! The administrators' reports: billable messages (REPLY-2) and the audit log (SEC-2).

use crate::domain::{MessageId, UserId};
use serde::Serialize;

/// GET /reports/billing (REPLY-2): the billable messages of the period.
#[derive(Clone, Debug, Serialize)]
pub struct BillingReport {
    pub from: String,
    pub to: String,
    pub items: Vec<BillingLine>,
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
