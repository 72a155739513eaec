//! Domain values: parsed once at the boundary ("parse, don't validate"), so the core never
//! handles an unchecked string. Nothing here knows AWS or HTTP.

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
    pub practice_id: String,
    pub user_id: String,
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

/// Opaque ids: a known prefix and a short run of safe characters, so an id from a path or
/// body can never smuggle a key separator (`#`) or a path trick into a key.
pub fn parse_id(field: &str, prefix: &str, raw: &str) -> Result<String> {
    let rest = raw.strip_prefix(prefix).unwrap_or("");
    let ok = !rest.is_empty()
        && raw.len() <= 64
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(Error::invalid(field, format!("`{field}` is not a valid id")))
    }
}

pub const PRACTICE_ID: &str = "prc_";
pub const STAFF_ID: &str = "usr_";
pub const PATIENT_ID: &str = "pat_";
pub const WORKGROUP_ID: &str = "wg_";
pub const CONVERSATION_ID: &str = "cnv_";
pub const MESSAGE_ID: &str = "msg_";
pub const ATTACHMENT_ID: &str = "att_";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    Urgent,
}

impl Priority {
    pub fn parse(s: &str) -> Result<Priority> {
        match s {
            "low" => Ok(Priority::Low),
            "normal" => Ok(Priority::Normal),
            "urgent" => Ok(Priority::Urgent),
            _ => Err(Error::invalid("priority", "priority must be one of low, normal, urgent")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::Urgent => "urgent",
        }
    }
}

/// CONV-5: whether a conversation takes replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Patient,
    Team,
    Broadcast,
    Sms,
}

impl ConversationKind {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "patient" => Ok(Self::Patient),
            "team" => Ok(Self::Team),
            "broadcast" => Ok(Self::Broadcast),
            "sms" => Ok(Self::Sms),
            _ => Err(Error::invalid("kind", "kind must be `patient` or `team`")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Team => "team",
            Self::Broadcast => "broadcast",
            Self::Sms => "sms",
        }
    }
    /// Every kind but team is about one patient and visible to that patient.
    pub fn is_patient_facing(self) -> bool {
        self != Self::Team
    }
}

/// Text as it will be shown, without the bidirectional embedding, override and isolate
/// controls (U+202A..U+202E, U+2066..U+2069): "invoice\u{202E}fdp.exe" would show as
/// "invoiceexe.pdf" (security finding 15). Marks (U+200E, U+200F) stay: they reorder nothing.
pub fn without_bidi_controls(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')).collect()
}

/// A subject line (COMPOSE-7): required, trimmed, at most 200 characters. PHI: its `Debug`
/// never prints the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub const MAX_CHARS: usize = 200;
    pub fn parse(raw: Option<&str>) -> Result<Subject> {
        let s = without_bidi_controls(raw.unwrap_or(""));
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid("subject", "subject is required"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(Error::invalid("subject", format!("subject is longer than {} characters", Self::MAX_CHARS)));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(Error::invalid("subject", "subject may not contain control characters"));
        }
        Ok(Subject(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject(<{} chars>)", self.0.chars().count())
    }
}

/// Body length limits of a practice (COMPOSE-7, SET-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    pub min_chars: usize,
    pub max_chars: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits { min_chars: 1, max_chars: 20_000 }
    }
}

/// A message body within the practice's limits. PHI: `Debug` prints only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Body(String);

impl Body {
    pub fn parse(raw: Option<&str>, limits: BodyLimits) -> Result<Body> {
        let s = raw.unwrap_or("");
        let n = s.trim().chars().count();
        if n < limits.min_chars.max(1) {
            return Err(Error::invalid(
                "body",
                format!("body must have at least {} characters", limits.min_chars.max(1)),
            ));
        }
        if s.chars().count() > limits.max_chars {
            return Err(Error::TooLarge {
                detail: format!("body is longer than the practice's limit of {} characters", limits.max_chars),
                field: Some("body".into()),
            });
        }
        Ok(Body(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The inbox preview: the first line-ish of the body, at most 140 characters.
    pub fn preview(&self) -> String {
        preview_of(&self.0)
    }
}

/// The preview of a message's text (`Body::preview`), also of one read back from the table.
pub fn preview_of(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(140).collect()
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Body(<{} chars>)", self.0.chars().count())
    }
}

/// A recipient or assignee: a staff user or a workgroup (ROLE-6).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    #[serde(rename = "type")]
    pub kind: RecipientKind,
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientKind {
    Staff,
    Workgroup,
}

impl Recipient {
    pub fn parse(field: &str, kind: &str, id: &str) -> Result<Recipient> {
        match kind {
            "staff" => Ok(Recipient { kind: RecipientKind::Staff, id: parse_id(field, STAFF_ID, id)? }),
            "workgroup" => Ok(Recipient { kind: RecipientKind::Workgroup, id: parse_id(field, WORKGROUP_ID, id)? }),
            _ => Err(Error::invalid(field, "recipient type must be `staff` or `workgroup`")),
        }
    }
}

/// A link to the record a conversation is about (COMPOSE-4). The label is PHI.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextLink {
    pub kind: String,
    pub id: String,
    pub label: String,
}

impl fmt::Debug for ContextLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContextLink({}, {})", self.kind, self.id)
    }
}

impl ContextLink {
    pub fn parse(kind: &str, id: &str, label: &str) -> Result<ContextLink> {
        if !matches!(kind, "visit" | "invoice" | "document") {
            return Err(Error::invalid("context.kind", "context kind must be visit, invoice or document"));
        }
        let id_ok =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(Error::invalid("context.id", "context id is not a valid id"));
        }
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 200 {
            return Err(Error::invalid("context.label", "context label must have 1 to 200 characters"));
        }
        Ok(ContextLink { kind: kind.into(), id: id.into(), label: label.into() })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_1_classes() {
        for (role, class) in [
            ("admin", RoleClass::Admin),
            ("practice_manager", RoleClass::Admin),
            ("physician", RoleClass::Provider),
            ("nurse_practitioner", RoleClass::Provider),
            ("physician_assistant", RoleClass::Provider),
            ("nurse", RoleClass::Staff),
            ("medical_assistant", RoleClass::Staff),
            ("front_desk", RoleClass::Staff),
            ("biller", RoleClass::Staff),
            ("therapist", RoleClass::Staff),
            ("patient", RoleClass::Patient),
        ] {
            assert_eq!(Role::parse(role).unwrap().class(), class, "{role}");
            assert_eq!(Role::parse(role).unwrap().as_str(), role);
        }
        assert!(Role::parse("Admin").is_err());
        assert!(Role::parse("").is_err());
    }

    #[test]
    fn ids_cannot_carry_key_separators_or_paths() {
        assert!(parse_id("id", CONVERSATION_ID, "cnv_01ABC").is_ok());
        for bad in ["cnv_", "cnv_a#b", "cnv_../x", "msg_1", "cnv_a/b", "cnv_ a"] {
            assert!(parse_id("id", CONVERSATION_ID, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compose_7_subject_is_required_and_named() {
        let e = Subject::parse(Some("   ")).unwrap_err();
        assert!(matches!(e, Error::Invalid { ref field, .. } if field == "subject"));
        assert_eq!(Subject::parse(Some(" Lab results ")).unwrap().as_str(), "Lab results");
    }

    #[test]
    fn compose_7_body_limits_apply() {
        let limits = BodyLimits { min_chars: 2, max_chars: 5 };
        assert!(matches!(Body::parse(Some("a"), limits), Err(Error::Invalid { .. })));
        assert!(matches!(Body::parse(Some("abcdef"), limits), Err(Error::TooLarge { .. })));
        assert!(Body::parse(Some("abc"), limits).is_ok());
    }

    #[test]
    fn phi_types_do_not_debug_print_their_text() {
        let b = Body::parse(Some("Jane has diabetes"), BodyLimits::default()).unwrap();
        assert!(!format!("{b:?}").contains("Jane"));
        let s = Subject::parse(Some("Jane Smith labs")).unwrap();
        assert!(!format!("{s:?}").contains("Jane"));
    }
}
