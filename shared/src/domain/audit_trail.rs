//! The audit trail (SEC-2): append-only events and each record's chain head.

use serde::{Deserialize, Serialize};

/// An append-only audit event (SEC-2). It names records, never their content.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    pub practice_id: crate::domain::PracticeId,
    pub actor_id: String,
    pub actor_role: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    /// The patients whose conversations or names a list showed (an inbox or search page, the
    /// patient finder; security finding 10), so "who saw this patient" covers lists too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patients_shown: Vec<String>,
    pub outcome: String,
    pub at: crate::domain::Timestamp,
    pub request_id: String,
    /// Marks audit events for the chainer's stream filter (template.yaml).
    #[serde(default = "audit_entity")]
    pub entity: String,
    /// The hash chain (SEC-2), set by the `audit-chain` function moments after the write:
    /// position in the record's chain, the previous event's hash, and this event's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

fn audit_entity() -> String {
    "audit".into()
}

/// The head of one record's audit chain: its length and last hash. GSI2 lists a practice's
/// chains, for the verify command.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditHead {
    pub seq: u64,
    pub hash: String,
}
