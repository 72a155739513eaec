//! Notifications and SMS: reminders, the outbox, and the practice's SMS numbers and peers.

use serde::{Deserialize, Serialize};

/// NOTIFY-5: remind the sender if the patient has not read the message by `due_at`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    pub practice_id: crate::domain::PracticeId,
    pub conversation_id: crate::domain::ConversationId,
    pub message_id: crate::domain::MessageId,
    pub message_at: crate::domain::Timestamp,
    pub sender_id: crate::domain::UserId,
    pub patient_id: crate::domain::UserId,
    pub due_at: crate::domain::Timestamp,
}

/// NOTIFY-4: which practice a two-way SMS number belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsNumberOwner {
    pub practice_id: crate::domain::PracticeId,
}

/// NOTIFY-4: the latest SMS a practice exchanged with a number (keyed by its blind token):
/// whose number it is, if known, and the conversation a text from it belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsPeer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<crate::domain::UserId>,
    pub conversation_id: crate::domain::ConversationId,
    pub at: crate::domain::Timestamp,
}

/// A message's notifications, written with the message and sent by the notifier (NOTIFY-3).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub practice_id: crate::domain::PracticeId,
    pub conversation_id: crate::domain::ConversationId,
    pub message_id: crate::domain::MessageId,
    pub recipient_ids: Vec<crate::domain::UserId>,
    pub urgent: bool,
    pub created_at: crate::domain::Timestamp,
    pub expires_at: i64,
    #[serde(default)]
    pub notice: Notice,
    /// NOTIFY-4: a staff reply in an SMS conversation: the message itself also goes to the
    /// conversation's number as an SMS.
    #[serde(default)]
    pub sms_reply: bool,
    /// Recipients already notified: a retry skips them (the dedup of NOTIFY-3).
    #[serde(default)]
    pub sent: Vec<String>,
    /// The inbox entries that did not fit in the message's own transaction (a large
    /// audience): the notifier writes them, before it notifies anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_entries: Option<LateEntries>,
}

/// What a message writes into the inboxes of the viewers its transaction had no room for.
/// Their summary and counts are decided when they are written (the conversation, the
/// viewer's entry, read position and patient count as they are then), once per viewer (a
/// mark beside the entry).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LateEntries {
    pub viewers: Vec<crate::domain::UserId>,
    pub preview: super::Sealed,
    pub sender: super::SenderRef,
    pub priority: crate::domain::Priority,
    pub at: crate::domain::Timestamp,
    /// The message began its conversation: one more conversation in each viewer's counts.
    pub begins: bool,
}

/// A conversation's changed summary (status, controls, assignment) still to be copied into
/// the entries its own transaction had no room for (a large audience): the notifier copies
/// the conversation's current summary into each, unless the entry holds a newer one already.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryRefresh {
    pub practice_id: crate::domain::PracticeId,
    pub conversation_id: crate::domain::ConversationId,
    pub viewers: Vec<crate::domain::UserId>,
    /// New viewers of a membership change (an assignment, a care team, a workgroup) whose
    /// entries did not fit: each gets its entry and counts, once, if it is still a viewer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<crate::domain::UserId>,
    pub expires_at: i64,
}

/// The entries of a deleted conversation its own transaction had no room for (a large
/// audience): the notifier deletes each with its counts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryRemoval {
    pub practice_id: crate::domain::PracticeId,
    pub conversation_id: crate::domain::ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<crate::domain::UserId>,
    pub viewers: Vec<crate::domain::UserId>,
    pub expires_at: i64,
}

/// A deleted message, for the entries its transaction had no room for (a large audience):
/// the notifier takes it out of each (counts, and the preview where it was the latest) as
/// `ops::conversations::delete` does with the others.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRemoval {
    pub practice_id: crate::domain::PracticeId,
    pub conversation_id: crate::domain::ConversationId,
    pub message_id: crate::domain::MessageId,
    pub message_at: crate::domain::Timestamp,
    pub sender_id: crate::domain::UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<crate::domain::UserId>,
    /// Not an internal note: the patient's entry counted it too.
    pub patient_visible: bool,
    /// The preview that replaces it where it was the latest: staff's and the patient's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_replacement: Option<(super::Sealed, super::SenderRef)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_replacement: Option<(super::Sealed, super::SenderRef)>,
    pub viewers: Vec<crate::domain::UserId>,
    pub expires_at: i64,
}

/// What a notification says; never anything about the message itself (SEC-3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Notice {
    #[default]
    NewMessage,
    /// NOTIFY-5: to the sender, the patient has not read it yet.
    UnreadReminder,
}

/// A page of the back-fill that gives a workgroup's current members the workgroup's existing
/// conversations (ROLE-6, issue 17: "gaining access takes effect"). The notifier does one page
/// of the practice's conversations and leaves the next page as a new item of this kind, so
/// the job resumes where a failure or a timeout stopped it; a page done twice changes nothing.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipBackfill {
    pub practice_id: crate::domain::PracticeId,
    pub workgroup_id: crate::domain::WorkgroupId,
    /// When the members changed: every page of one change shares it.
    pub started_at: crate::domain::Timestamp,
    pub page: u32,
    /// Where this page starts in the practice's index of conversations (none: the newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_sort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_conversation: Option<String>,
    /// The pass over what changed since `started_at`: the index is by latest activity, so a
    /// conversation that had a message during the first pass may have moved above its cursor.
    #[serde(default)]
    pub final_pass: bool,
    pub expires_at: i64,
}
