//! A user's own things: drafts, tasks, saved replies; and the answers kept for an Idempotency-Key.

use super::Sealed;
use serde::{Deserialize, Serialize};

/// A draft (COMPOSE-5): the compose request as its author left it, sealed whole.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub id: crate::domain::DraftId,
    pub content: Sealed,
    pub created_at: crate::domain::Timestamp,
    pub updated_at: crate::domain::Timestamp,
}

/// A task linked to a message (CONV-7); the title is sealed to the task.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: crate::domain::TaskId,
    pub conversation_id: crate::domain::ConversationId,
    pub message_id: crate::domain::MessageId,
    pub title: Sealed,
    pub assignee_id: crate::domain::UserId,
    pub due_date: String,
    pub done: bool,
    pub created_by: crate::domain::UserId,
    pub created_at: crate::domain::Timestamp,
}

/// A task's mark in its conversation's partition, so deleting the message or the
/// conversation finds its tasks (CONV-6, security finding 6).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRef {
    pub task_id: crate::domain::TaskId,
    pub message_id: crate::domain::MessageId,
}

/// A saved reply (REPLY-6); its template is sealed like a message body.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedReply {
    pub id: crate::domain::SavedReplyId,
    pub title: String,
    pub body: Sealed,
    pub scope: crate::domain::SavedReplyScope,
    pub created_by: crate::domain::UserId,
    pub created_at: crate::domain::Timestamp,
}

/// The first answer to an `Idempotency-Key`: which request it was, and what it made.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAnswer {
    pub request_hash: String,
    /// The id of what the request created (a conversation, message, task, draft...).
    pub conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The first response, sealed (it holds PHI), replayed as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Sealed>,
    pub expires_at: i64,
}
