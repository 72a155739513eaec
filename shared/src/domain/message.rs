//! What a message is made of: kind, status and priority of its conversation, subject and body
//! within their limits, recipients, and the record it is about.

use super::id::{parse_id, WorkgroupId, STAFF_ID};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// CONV-2: how far a message got, per recipient and overall; ordered, so a message is as far
/// as its least advanced recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
}

/// ATT-2: an upload is `pending` until its object is checked, then `ready` or `rejected`;
/// `expired` once retention deleted its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentStatus {
    Pending,
    Ready,
    Rejected,
    Expired,
}

impl AttachmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }
}

/// REPLY-6: a saved reply is the author's own or the whole practice's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SavedReplyScope {
    Personal,
    Practice,
}

impl SavedReplyScope {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "personal" => Ok(Self::Personal),
            "practice" => Ok(Self::Practice),
            _ => Err(Error::invalid("scope", "scope must be `practice` or `personal`")),
        }
    }
}

/// Who wrote a message: a staff user, the patient, the practice's own automatic replies, or an
/// unknown phone number (NOTIFY-4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderKind {
    Staff,
    Patient,
    System,
    Sms,
}

impl SenderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderKind::Staff => "staff",
            SenderKind::Patient => "patient",
            SenderKind::System => "system",
            SenderKind::Sms => "sms",
        }
    }
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
            "workgroup" => Ok(Recipient { kind: RecipientKind::Workgroup, id: WorkgroupId::parse(field, id)?.into() }),
            _ => Err(Error::invalid(field, "recipient type must be `staff` or `workgroup`")),
        }
    }
}

/// What kind of record a conversation is about (COMPOSE-4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextKind {
    Visit,
    Invoice,
    Document,
}

impl ContextKind {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "visit" => Ok(Self::Visit),
            "invoice" => Ok(Self::Invoice),
            "document" => Ok(Self::Document),
            _ => Err(Error::invalid("context.kind", "context kind must be visit, invoice or document")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visit => "visit",
            Self::Invoice => "invoice",
            Self::Document => "document",
        }
    }
}

/// A link to the record a conversation is about (COMPOSE-4). The label is PHI.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextLink {
    pub kind: ContextKind,
    pub id: String,
    pub label: String,
}

impl fmt::Debug for ContextLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContextLink({}, {})", self.kind.as_str(), self.id)
    }
}

impl ContextLink {
    pub fn parse(kind: &str, id: &str, label: &str) -> Result<ContextLink> {
        let kind = ContextKind::parse(kind)?;
        let id_ok =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(Error::invalid("context.id", "context id is not a valid id"));
        }
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 200 {
            return Err(Error::invalid("context.label", "context label must have 1 to 200 characters"));
        }
        Ok(ContextLink { kind, id: id.into(), label: label.into() })
    }
}
