//! What a deleted message or conversation leaves besides itself, taken away after the
//! deletion commits (CONV-6, SEC-5, security finding 6): its notification outbox items, the
//! stored answers of the requests that wrote it (they hold the body for a day), the tasks
//! made on it (their titles), its attachments (files and records, with the sealed file
//! names), and its search tokens. Each step is an idempotent delete, so a retried deletion
//! or the next retention run finishes what a fault interrupted.

use crate::app::App;
use crate::crypto::Binding;
use crate::domain::PracticeId;
use crate::domain::{AttachmentRef, Conversation, Message};
use crate::error::Result;
use crate::store::{place, Key};

/// After some messages of a conversation were deleted. `remaining` is `None` when the whole
/// conversation went, else the messages it still holds.
pub async fn erase_traces(
    app: &App,
    conversation: &Conversation,
    gone: &[&Message],
    remaining: Option<&[Message]>,
) -> Result<()> {
    let p = &conversation.practice_id;
    let mut keys: Vec<Key> = Vec::new();
    for m in gone {
        keys.push(place::outbox(&m.id));
        if let Some(answer) = &m.answer_pk {
            keys.push(place::answer(answer));
        }
    }
    for task in app.store.task_refs(p, &conversation.id).await? {
        if remaining.is_none() || gone.iter().any(|m| m.id == task.message_id) {
            keys.push(place::task_by_id(p, &task.task_id));
            keys.push(place::task_ref(p, &conversation.id, &task.task_id));
        }
    }
    app.store.delete_batch(&keys).await?;
    for m in gone {
        delete_attachments(app, p, &m.attachments).await?;
    }
    match remaining {
        None => {
            let all: Vec<Message> = gone.iter().map(|m| (*m).clone()).collect();
            super::search::unindex_conversation(app, conversation, &all).await
        }
        Some(remaining) => {
            let mut previews = Vec::new();
            for m in gone.iter().filter(|m| !m.internal) {
                let record = format!("{}/{}", m.conversation_id, m.id);
                let body = app
                    .envelope
                    .open_string(Binding { practice_id: p, record: &record, field: "body" }, &m.body.0)
                    .await?;
                previews.push(crate::domain::preview_of(&body));
            }
            let previews: Vec<&str> = previews.iter().map(String::as_str).collect();
            super::search::forget(app, conversation, remaining, &previews).await.map(|_| ())
        }
    }
}

/// Deletes attachments' files, then their records (which keep the sealed file names). A file
/// that could not be deleted keeps its record, so the sweeper still finds it.
async fn delete_attachments(app: &App, practice_id: &PracticeId, attachments: &[AttachmentRef]) -> Result<()> {
    let mut records = Vec::new();
    for a in attachments {
        if let Some(item) = app.store.attachment(practice_id, &a.id).await? {
            match app.blobs.delete(&item.object_key).await {
                Ok(()) => records.push(place::attachment(practice_id, &item.id, None)),
                Err(e) => tracing::warn!(error = %e, "attachment object not deleted; the sweeper will retry"),
            }
        }
    }
    app.store.delete_batch(&records).await
}
