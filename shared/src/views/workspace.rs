//! A staff user's own things: tasks (CONV-7), saved replies (REPLY-6) and drafts (COMPOSE-5).

use crate::domain::{ConversationId, MessageId, UserId};
use serde::Serialize;
use serde_json::Value;

/// A task as its assignee and creator see it (CONV-7).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    pub id: crate::domain::TaskId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub title: String,
    pub assignee_id: UserId,
    pub due_date: String,
    pub done: bool,
    pub created_by: UserId,
    pub created_at: crate::domain::Timestamp,
}

/// POST /conversations/{id}/messages/{messageId}/tasks and PATCH /tasks/{id}.
#[derive(Clone, Debug, Serialize)]
pub struct TaskAnswer {
    pub task: TaskView,
}

/// GET /tasks.
#[derive(Clone, Debug, Serialize)]
pub struct TaskList {
    pub items: Vec<TaskView>,
}

/// A saved reply (REPLY-6), its template opened.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedReplyView {
    pub id: crate::domain::SavedReplyId,
    pub title: String,
    pub body: String,
    pub scope: crate::domain::SavedReplyScope,
    pub created_by: UserId,
    pub created_at: crate::domain::Timestamp,
}

/// POST /saved-replies.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedReplyAnswer {
    pub saved_reply: SavedReplyView,
}

/// GET /saved-replies.
#[derive(Clone, Debug, Serialize)]
pub struct SavedReplyList {
    pub items: Vec<SavedReplyView>,
}

/// POST /saved-replies/{id}/render: the template filled in.
#[derive(Clone, Debug, Serialize)]
pub struct RenderedReply {
    pub body: String,
}

/// A draft: the compose body as its author left it, with its id and times.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftView {
    pub id: crate::domain::DraftId,
    pub created_at: crate::domain::Timestamp,
    pub updated_at: crate::domain::Timestamp,
    #[serde(flatten)]
    pub content: serde_json::Map<String, Value>,
}

/// POST, PUT and GET /drafts/{id}.
#[derive(Clone, Debug, Serialize)]
pub struct DraftAnswer {
    pub draft: DraftView,
}
