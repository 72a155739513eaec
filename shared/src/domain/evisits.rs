//! E-visits (EVISIT-1..4): the visit, the time entries of its clinicians, the patient's
//! yearly consent and the month list the billing report reads.

use super::Sealed;
use crate::evisit::Professional;
use serde::{Deserialize, Serialize};

/// A patient-initiated conversation turned into an e-visit by a qualified clinician; its
/// window opens at the first clinician review of the patient's question and lasts seven
/// days. Listed by the window's end until the `evisit-windows` job records its suggestion.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisit {
    pub conversation_id: crate::domain::ConversationId,
    pub patient_id: crate::domain::UserId,
    pub opened_by: crate::domain::UserId,
    pub opened_at: crate::domain::Timestamp,
    /// EVISIT-2: the first review of the question by a physician or qualified professional
    /// (at or before `opened_at`).
    pub window_opens_at: crate::domain::Timestamp,
    /// EVISIT-3: false once a clinician marks the exchange as not evaluative (scheduling,
    /// results only).
    #[serde(default = "evaluative")]
    pub evaluative: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<RecordedSuggestion>,
}

fn evaluative() -> bool {
    true
}

/// EVISIT-2: the code and flags as they stood when the window ended, recorded once by the
/// `evisit-windows` job (the billing record; later edits do not change it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedSuggestion {
    pub at: crate::domain::Timestamp,
    pub total_minutes: u32,
    pub suggested_code: Option<String>,
    pub flags: Vec<crate::evisit::Flag>,
}

/// Whether time was measured by the web app (active on the thread) or entered by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    Active,
    Manual,
}

/// Time one clinician spent on an e-visit, as recorded (every entry is audited). A hand
/// entry may be negative: a correction of the clinician's own time.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitTime {
    pub clinician: crate::domain::UserId,
    pub professional: Professional,
    pub seconds: i32,
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
pub struct EVisitConsent {
    pub given: bool,
    pub at: crate::domain::Timestamp,
    pub recorded_by: crate::domain::UserId,
}

/// EVISIT-3: the practice asked the patient for its consent (an e-visit was opened without
/// a current one); the portal asks until the patient answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitConsentRequest {
    pub at: crate::domain::Timestamp,
}

/// EVISIT-3: an E/M visit of the patient on a date (recorded by staff), which takes the time
/// of an e-visit in the 7 days after it or of one whose window it falls in.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Visit {
    pub date: String,
    pub recorded_by: crate::domain::UserId,
    pub at: crate::domain::Timestamp,
}

/// EVISIT-4: an e-visit in the month it opened, for the billing report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EVisitRef {
    pub conversation_id: crate::domain::ConversationId,
}
