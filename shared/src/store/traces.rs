//! What points into a conversation from elsewhere, for its deletion (CONV-6, SEC-5).

use super::keys;
use super::{from_item, ConversationId, PracticeId, Store};
use crate::domain::TaskRef;
use crate::error::Result;

impl Store {
    /// The marks of the tasks made on a conversation's messages.
    pub async fn task_refs(&self, practice_id: &PracticeId, conversation_id: &ConversationId) -> Result<Vec<TaskRef>> {
        self.query_partition(keys::conversation(practice_id, conversation_id), Some(keys::TASK_REF_PREFIX))
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }
}
