//! Conversations: the conversation, its messages, every viewer's inbox entry, billing, search
//! tokens and attachments.

use super::Sealed;
use crate::domain::{ConversationKind, ConversationStatus, Priority, Recipient};
use serde::{Deserialize, Serialize};

/// The patient on a conversation, with names sealed to the patient record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientRef {
    pub id: crate::domain::UserId,
    pub first_name: Sealed,
    pub last_name: Sealed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextRef {
    pub kind: crate::domain::ContextKind,
    pub id: String,
    pub label: Sealed,
}

/// Who sent a message. Staff names are not patient PHI; a patient sender's name is read
/// from the conversation's sealed patient names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SenderRef {
    #[serde(rename = "type")]
    pub kind: crate::domain::SenderKind,
    pub id: crate::domain::UserId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub masked: bool,
}

/// The part of a conversation every inbox row shows that changes only when the
/// conversation itself changes (assignment, status); per-message fields live beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub kind: ConversationKind,
    pub subject: Sealed,
    #[serde(default)]
    pub patient: Option<PatientRef>,
    #[serde(default)]
    pub assignees: Vec<Recipient>,
    /// The assignees expanded to staff ids, for the "assigned to me / to others" filters.
    #[serde(default)]
    pub assignee_ids: Vec<crate::domain::UserId>,
    #[serde(default)]
    pub context: Option<ContextRef>,
    pub status: ConversationStatus,
    pub created_at: crate::domain::Timestamp,
    pub allow_response: bool,
    #[serde(default)]
    pub allow_attachments: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: crate::domain::ConversationId,
    pub practice_id: crate::domain::PracticeId,
    pub summary: Summary,
    pub created_by: crate::domain::UserId,
    /// Staff taking part: senders, recipients, members of recipient workgroups.
    pub participants: Vec<crate::domain::UserId>,
    /// Recipient refs as addressed (staff and workgroups), for display.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// Assignees expanded to staff ids.
    #[serde(default)]
    pub assignee_ids: Vec<crate::domain::UserId>,
    /// The patient's assigned staff when the conversation began (ROLE-2 staff visibility).
    #[serde(default)]
    pub care_team: Vec<crate::domain::UserId>,
    /// The patient's primary provider when the conversation began: told of urgent messages
    /// with the care team (NOTIFY-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_provider_id: Option<crate::domain::UserId>,
    /// NOTIFY-4: an SMS conversation's phone number, sealed (field `smsPeer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_peer: Option<Sealed>,
    /// Everyone holding an inbox entry for it (see `policy::viewers`).
    pub viewers: Vec<crate::domain::UserId>,
    pub last_message_at: crate::domain::Timestamp,
    pub message_count: u64,
    /// Messages a patient can see (internal notes excluded).
    pub patient_message_count: u64,
    /// Messages the patient sent: staff may mark a thread unread only where there is one
    /// (CONV-3).
    #[serde(default)]
    pub from_patient_count: u64,
    /// ROLE-5: whether the patient had portal access when the conversation began; a patient
    /// without it is never notified (the notifier checks the current record again).
    #[serde(default = "yes")]
    pub patient_portal_access: bool,
    /// Who assigned whom, with the staff-only comment (ASSIGN-1).
    #[serde(default)]
    pub assignments: Vec<AssignmentRecord>,
    /// Bumped by writes that rewrite the summary (assign, close), for optimistic locking.
    pub version: u64,
    /// SLA-2: while a patient's question waits for an answer, since when and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_clock: Option<crate::reply_clock::ReplyClock>,
    /// EVISIT-2: when a physician or qualified professional first read the thread since the
    /// patient last wrote (an e-visit's window opens then); a patient message clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<crate::domain::Timestamp>,
    /// The latest message as staff see it, for the practice-wide view's rows (ROLE-2 at
    /// scale), which come from the conversation, not from the caller's entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<LatestMessage>,
}

impl Conversation {
    /// SLA-2: a closed conversation keeps no reply clock: closing stops it, and an entry
    /// given the closed summary loses its due time.
    pub fn clock_stopped(&self) -> bool {
        self.summary.status == ConversationStatus::Closed
    }
}

/// A conversation's latest message as an inbox row shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestMessage {
    pub preview: Sealed,
    pub sender: SenderRef,
    pub priority: Priority,
}

/// A staff user's own state in a conversation it has no inbox entry for (it reached it from
/// the practice-wide view), written only when it acts: how many messages there were when it
/// last read it, and its star and archive flags (CONV-4).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnState {
    #[serde(default)]
    pub read_count: u64,
    /// When it last read the conversation (`None`: flagged, never read).
    #[serde(default)]
    pub at: Option<crate::domain::Timestamp>,
    #[serde(default)]
    pub starred: bool,
    #[serde(default)]
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentRecord {
    pub by: crate::domain::UserId,
    pub assignees: Vec<Recipient>,
    #[serde(default)]
    pub comment: Option<Sealed>,
    pub at: crate::domain::Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRef {
    pub id: crate::domain::AttachmentId,
    pub file_name: Sealed,
    pub content_type: String,
    pub size: u64,
    pub attached_at: crate::domain::Timestamp,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: crate::domain::MessageId,
    pub conversation_id: crate::domain::ConversationId,
    pub sender: SenderRef,
    pub body: Sealed,
    pub priority: Priority,
    pub internal: bool,
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    pub created_at: crate::domain::Timestamp,
    /// ATT-4: documents of the patient's record linked by reference (labels sealed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<ContextRef>,
    /// REPLY-2: a billable reply's fee code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_code: Option<String>,
    /// REPLY-2 / NOTIFY-5: remind the sender if the patient has not read it in this many hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_if_unread_hours: Option<u32>,
    /// The key of the stored answer to the request that wrote it (its Idempotency-Key), which
    /// holds its body for a day: deleted with the message (CONV-6, security finding 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_pk: Option<String>,
}

impl Message {
    pub fn from_patient(&self) -> bool {
        self.sender.kind == crate::domain::SenderKind::Patient
    }

    /// EVISIT-2: a patient's message is a new question, and the professional review that
    /// opens an e-visit's window is a review of it: the mark of an earlier review goes.
    pub fn clears_review(&self) -> bool {
        self.from_patient()
    }
}

/// A billable reply (REPLY-2), kept per month for the billing report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillableMessage {
    pub message_id: crate::domain::MessageId,
    pub conversation_id: crate::domain::ConversationId,
    pub patient_id: crate::domain::UserId,
    pub staff_id: crate::domain::UserId,
    pub fee_code: String,
    pub at: crate::domain::Timestamp,
}

/// SLA-5: a staff reply that stopped a reply clock: how long the patient waited, in the
/// practice's business time, against the target of the question's priority.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyTime {
    pub conversation_id: crate::domain::ConversationId,
    pub message_id: crate::domain::MessageId,
    pub staff_id: crate::domain::UserId,
    /// The conversation's assigned workgroups when it was answered.
    #[serde(default)]
    pub workgroup_ids: Vec<String>,
    pub priority: Priority,
    pub asked_at: crate::domain::Timestamp,
    pub replied_at: crate::domain::Timestamp,
    pub business_seconds: i64,
    /// The target in business seconds, if the priority had one.
    #[serde(default)]
    pub target_seconds: Option<i64>,
}

/// SLA-4: a waiting question due to escalate at the key's time (GSI1): written when its
/// clock starts, deleted when the clock stops or its note is posted, `taken` once the
/// co-assignment is made.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingEscalation {
    pub conversation_id: crate::domain::ConversationId,
    /// The clock it belongs to: a later clock of the same conversation is another question.
    pub since: crate::domain::Timestamp,
    pub escalate_at: crate::domain::Timestamp,
    pub taken: bool,
}

/// One user's inbox row for one conversation: a copy of the summary, the latest message it
/// may see, and its own state (unread, starred, archived).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxEntry {
    pub conversation_id: crate::domain::ConversationId,
    pub summary: Summary,
    /// The conversation version `summary` is a copy of (0: as its first message left it), so
    /// a late copy never replaces a newer one.
    #[serde(default)]
    pub summary_version: u64,
    pub last_message_at: crate::domain::Timestamp,
    pub preview: Sealed,
    pub last_sender: SenderRef,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub last_priority: Option<Priority>,
    #[serde(default)]
    pub message_count: u64,
    #[serde(default)]
    pub unread: u64,
    #[serde(default)]
    pub starred: bool,
    #[serde(default)]
    pub archived: bool,
    /// When the user last opened the conversation (read receipts, CONV-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_at: Option<crate::domain::Timestamp>,
    /// Deleted messages the notifier took out of this entry (a large audience), so a retried
    /// stream batch takes each out once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unposted: Vec<crate::domain::MessageId>,
    /// SLA-3: the conversation's reply due time, copied with every message (the inbox rows,
    /// the `due` filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_due: Option<crate::reply_clock::ReplyDue>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub id: crate::domain::AttachmentId,
    pub practice_id: crate::domain::PracticeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<crate::domain::ConversationId>,
    pub uploader_id: crate::domain::UserId,
    pub file_name: Sealed,
    pub content_type: String,
    pub size: u64,
    pub status: crate::domain::AttachmentStatus,
    /// Set when attached to a message: an attachment of an internal note is staff-only.
    #[serde(default)]
    pub internal: bool,
    pub object_key: String,
    pub created_at: crate::domain::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_patient_download_at: Option<crate::domain::Timestamp>,
}

fn yes() -> bool {
    true
}
