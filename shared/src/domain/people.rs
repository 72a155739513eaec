//! Who acts: roles and their classes (ROLE-1), the caller (SEC-4), and the parts of a
//! person's record (names, phone numbers, email, the notification channel).

use super::id::PracticeId;
use super::message::without_bidi_controls;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A role of ROLE-1. Unknown staff roles are kept by name: the staff class is open-ended.
/// Stored and sent as its name (`nurse`); a stored name that is not a role fails to read.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Role {
    Admin,
    PracticeManager,
    Physician,
    NursePractitioner,
    PhysicianAssistant,
    Patient,
    /// Any other staff role (`nurse`, `medical_assistant`, `front_desk`, `biller`, ...).
    Staff(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleClass {
    Admin,
    Provider,
    Staff,
    Patient,
}

impl TryFrom<String> for Role {
    type Error = Error;
    fn try_from(s: String) -> Result<Role> {
        Role::parse(&s)
    }
}

impl From<Role> for String {
    fn from(role: Role) -> String {
        role.as_str().to_string()
    }
}

impl Role {
    pub fn parse(s: &str) -> Result<Role> {
        let valid = !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !valid {
            return Err(Error::invalid("role", "role must be a lower-case role name such as `nurse`"));
        }
        Ok(match s {
            "admin" => Role::Admin,
            "practice_manager" => Role::PracticeManager,
            "physician" => Role::Physician,
            "nurse_practitioner" => Role::NursePractitioner,
            "physician_assistant" => Role::PhysicianAssistant,
            "patient" => Role::Patient,
            other => Role::Staff(other.to_string()),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Role::Admin => "admin",
            Role::PracticeManager => "practice_manager",
            Role::Physician => "physician",
            Role::NursePractitioner => "nurse_practitioner",
            Role::PhysicianAssistant => "physician_assistant",
            Role::Patient => "patient",
            Role::Staff(s) => s,
        }
    }

    pub fn class(&self) -> RoleClass {
        match self {
            Role::Admin | Role::PracticeManager => RoleClass::Admin,
            Role::Physician | Role::NursePractitioner | Role::PhysicianAssistant => RoleClass::Provider,
            Role::Patient => RoleClass::Patient,
            Role::Staff(_) => RoleClass::Staff,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is calling, as the verified token says (SEC-4). For a patient, `user_id` is the
/// patient id: a patient's inbox and participation are keyed by its patient record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub practice_id: PracticeId,
    pub user_id: super::UserId,
    pub role: Role,
}

impl Caller {
    pub fn class(&self) -> RoleClass {
        self.role.class()
    }
    pub fn is_staff(&self) -> bool {
        self.class() != RoleClass::Patient
    }
}

/// A person's name part (PHI for patients): trimmed, 1..=80 characters, no control chars.
pub fn parse_name(field: &str, raw: Option<&str>) -> Result<String> {
    let s = without_bidi_controls(raw.unwrap_or(""));
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 80 || s.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(field, format!("`{field}` must have 1 to 80 characters")));
    }
    Ok(s.to_string())
}

/// How a user hears of new messages (NOTIFY-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyChannel {
    Email,
    Sms,
    /// Not notified at all (the portal still shows the messages).
    None,
}

impl NotifyChannel {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "email" => Ok(Self::Email),
            "sms" => Ok(Self::Sms),
            "none" => Ok(Self::None),
            _ => Err(Error::invalid("channel", "channel must be `email`, `sms` or `none`")),
        }
    }
}

/// A phone number in E.164 form (`+` and 8 to 15 digits).
pub fn parse_phone(field: &str, raw: &str) -> Result<String> {
    let digits = raw.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_string())
    } else {
        Err(Error::invalid(field, format!("`{field}` must be an E.164 phone number such as +15551234567")))
    }
}

pub fn parse_email(field: &str, raw: &str) -> Result<String> {
    let s = raw.trim();
    let ok = s.len() <= 254
        && s.split_once('@').is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !s.contains(char::is_whitespace));
    if ok {
        Ok(s.to_string())
    } else {
        Err(Error::invalid(field, format!("`{field}` must be an email address")))
    }
}
