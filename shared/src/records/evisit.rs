//! E-visits (EVISIT-1..4): the visit, the time entries of its clinicians, the patient's
//! yearly consent and the month list the billing report reads.

use super::Sealed;
use crate::evisit::Professional;
use crate::store::Key;
use serde::{Deserialize, Serialize};

/// A patient-initiated conversation turned into an e-visit by a qualified clinician; its
/// window opens with that first review and lasts seven days.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitItem {
    #[serde(flatten)]
    pub key: Key,
    pub conversation_id: crate::domain::ConversationId,
    pub patient_id: crate::domain::UserId,
    pub opened_by: crate::domain::UserId,
    pub opened_at: crate::domain::Timestamp,
    /// EVISIT-3: false once a clinician marks the exchange as not evaluative (scheduling,
    /// results only).
    #[serde(default = "evaluative")]
    pub evaluative: bool,
}

fn evaluative() -> bool {
    true
}

/// Whether time was measured by the web app (active on the thread) or entered by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    Active,
    Manual,
}

/// Time one clinician spent on an e-visit, as recorded (every entry is audited).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitTimeItem {
    #[serde(flatten)]
    pub key: Key,
    pub clinician: crate::domain::UserId,
    pub professional: Professional,
    pub seconds: u32,
    pub source: TimeSource,
    /// A hand entry's reason, sealed (it may describe the patient's care).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Sealed>,
    pub at: crate::domain::Timestamp,
}

/// EVISIT-3: the patient's consent to e-visits, given (or withdrawn) at a time; it holds for
/// a year.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitConsentItem {
    #[serde(flatten)]
    pub key: Key,
    pub given: bool,
    pub at: crate::domain::Timestamp,
    pub recorded_by: crate::domain::UserId,
}

/// EVISIT-3: an E/M visit of the patient on a date (recorded by staff), which takes the time
/// of an e-visit in the 7 days after it or of one whose window it falls in.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitItem {
    #[serde(flatten)]
    pub key: Key,
    pub date: String,
    pub recorded_by: crate::domain::UserId,
    pub at: crate::domain::Timestamp,
}

/// EVISIT-4: an e-visit in the month it opened, for the billing report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitRefItem {
    #[serde(flatten)]
    pub key: Key,
    pub conversation_id: crate::domain::ConversationId,
}
