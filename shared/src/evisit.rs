//! E-visit coding (EVISIT-2, EVISIT-3): from the time qualified clinicians spent on a
//! patient-initiated conversation over its seven-day window, the CPT code the time supports
//! and the exclusions to flag. Pure functions: flags, not bills; a person decides.
//!
//! Sources: CPT 99421–99423 ("online digital evaluation and management service, for an
//! established patient, for up to 7 days, cumulative time during the 7 days": 5–10, 11–20,
//! 21 or more minutes) for physicians and other qualified health care professionals who may
//! report E/M services; 98970–98972, the same bands, for qualified non-physician health care
//! professionals. Time of clinical staff is not counted; under 5 minutes nothing is reported;
//! an E/M visit for the same problem in the 7 days before, or one within the window, takes the
//! time (the e-visit is not reported separately).

use crate::domain::{Role, RoleClass, SignedDuration, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// The window: seven days from the first clinician review.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Who spent the time, as CPT counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Professional {
    /// A physician or other qualified health care professional who reports E/M services.
    EvaluationAndManagement,
    /// A qualified non-physician health care professional (98970–98972).
    NonPhysician,
    /// Clinical staff (a nurse, a medical assistant): not counted.
    ClinicalStaff,
}

/// Staff roles of qualified non-physician health care professionals (98970–98972).
const NON_PHYSICIAN_ROLES: &[&str] = &[
    "physical_therapist",
    "occupational_therapist",
    "speech_language_pathologist",
    "dietitian",
    "clinical_psychologist",
    "clinical_social_worker",
    "pharmacist",
];

/// Staff roles of clinical staff: their time is recorded and left out.
const CLINICAL_STAFF_ROLES: &[&str] = &["nurse", "registered_nurse", "licensed_practical_nurse", "medical_assistant"];

impl Professional {
    /// How CPT counts a role's time; `None` for roles that do not care for patients
    /// (administration, front desk, billing).
    pub fn of(role: &Role) -> Option<Professional> {
        match (role.class(), role) {
            (RoleClass::Provider, _) => Some(Professional::EvaluationAndManagement),
            (_, Role::Staff(s)) if NON_PHYSICIAN_ROLES.contains(&s.as_str()) => Some(Professional::NonPhysician),
            (_, Role::Staff(s)) if CLINICAL_STAFF_ROLES.contains(&s.as_str()) => Some(Professional::ClinicalStaff),
            _ => None,
        }
    }

    /// EVISIT-1: who may turn a conversation into an e-visit: the professionals whose time
    /// is billed.
    pub fn may_open(self) -> bool {
        self != Professional::ClinicalStaff
    }
}

/// Time a clinician spent on the conversation; negative for a correction by hand.
#[derive(Clone, Debug)]
pub struct TimeSpent {
    pub clinician: UserId,
    pub professional: Professional,
    pub at: Timestamp,
    pub seconds: i32,
}

/// What CPT's rules make of an e-visit, and why it might not be billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    /// An E/M visit for the same problem in the 7 days before the window.
    VisitBefore,
    /// An E/M visit within the window: it takes the time.
    VisitWithin,
    /// Time of clinical staff was recorded and left out.
    ClinicalStaffTime,
    /// The patient's consent for this year is not on record.
    NoConsent,
    /// The messages were not evaluative (scheduling, results only).
    NotEvaluative,
}

/// The suggestion: minutes counted per family and per clinician, the code, the flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub total_minutes: u32,
    pub minutes_by_clinician: Vec<(UserId, u32)>,
    pub suggested_code: Option<&'static str>,
    pub flags: Vec<Flag>,
}

/// What is known besides the time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// Dates of E/M visits for the same problem.
    pub visits: &'a [Timestamp],
    pub consent: bool,
    pub evaluative: bool,
}

/// The code for `minutes` of cumulative time in a family: 5–10, 11–20, 21 or more.
fn band(minutes: u32, codes: [&'static str; 3]) -> Option<&'static str> {
    match minutes {
        0..=4 => None,
        5..=10 => Some(codes[0]),
        11..=20 => Some(codes[1]),
        _ => Some(codes[2]),
    }
}

/// EVISIT-2, EVISIT-3: the suggestion for a window opened at `opened`. Time outside the
/// window is not counted. Each clinician's time is the sum of their entries, corrections
/// included, never below zero; minutes are whole minutes of the summed seconds (4:59 is 4).
pub fn suggest(opened: Timestamp, spent: &[TimeSpent], context: Context<'_>) -> Suggestion {
    let closes = opened + WINDOW;
    let in_window = |t: &Timestamp| *t >= opened && *t < closes;
    let mut by: Vec<(UserId, Professional, i64)> = Vec::new();
    for s in spent.iter().filter(|s| in_window(&s.at) && s.professional != Professional::ClinicalStaff) {
        match by.iter_mut().find(|(id, ..)| *id == s.clinician) {
            Some((.., secs)) => *secs += i64::from(s.seconds),
            None => by.push((s.clinician.clone(), s.professional, i64::from(s.seconds))),
        }
    }
    let seconds_of = |p: Professional| -> i64 { by.iter().filter(|b| b.1 == p).map(|b| b.2.max(0)).sum() };
    let minutes = |secs: i64| u32::try_from(secs / 60).unwrap_or(u32::MAX);
    let (em, non_physician) =
        (minutes(seconds_of(Professional::EvaluationAndManagement)), minutes(seconds_of(Professional::NonPhysician)));
    // Time of E/M professionals decides the family; non-physician time alone, the other.
    let (total_minutes, suggested_code) = if em > 0 {
        (em, band(em, ["99421", "99422", "99423"]))
    } else {
        (non_physician, band(non_physician, ["98970", "98971", "98972"]))
    };
    let minutes_by_clinician = by.into_iter().map(|(id, _, secs)| (id, minutes(secs.max(0)))).collect();
    let mut flags = Vec::new();
    if context.visits.iter().any(|v| *v < opened && *v >= opened - WINDOW) {
        flags.push(Flag::VisitBefore);
    }
    if context.visits.iter().any(in_window) {
        flags.push(Flag::VisitWithin);
    }
    if spent.iter().any(|s| s.professional == Professional::ClinicalStaff && in_window(&s.at)) {
        flags.push(Flag::ClinicalStaffTime);
    }
    if !context.consent {
        flags.push(Flag::NoConsent);
    }
    if !context.evaluative {
        flags.push(Flag::NotEvaluative);
    }
    Suggestion { total_minutes, minutes_by_clinician, suggested_code, flags }
}

#[cfg(test)]
#[path = "evisit_tests.rs"]
mod tests;
