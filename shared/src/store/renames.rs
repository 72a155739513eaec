//! What a patient's rename rewrites (ACCT-2): the sealed copies of its names that every
//! conversation summary and inbox entry about the patient holds, and the rename's own
//! pending record, which says a rename is not yet carried everywhere.

use super::keys;
use super::{from_item, s, sdk_error, to_value, update_if, PracticeId, Store, UserId};
use crate::domain::{Conversation, PatientRef, PendingRename};
use crate::error::Result;
use aws_sdk_dynamodb::types::AttributeValue;

impl Store {
    /// The rename of this patient still being carried to its copies, if any.
    pub async fn pending_rename(&self, practice_id: &PracticeId, patient_id: &UserId) -> Result<Option<PendingRename>> {
        self.get_consistent(&keys::patient(practice_id, patient_id), keys::RENAME_SK).await
    }

    pub async fn finish_rename(&self, practice_id: &PracticeId, patient_id: &UserId) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::patient(practice_id, patient_id)))
            .key(keys::SK, s(keys::RENAME_SK))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// Every conversation of the practice about this patient: a walk of the practice's
    /// conversations (GSI2) filtered on the patient, for a job as rare as a rename, never
    /// for a request that a user waits on page by page.
    pub async fn conversations_about(
        &self,
        practice_id: &PracticeId,
        patient_id: &UserId,
    ) -> Result<Vec<Conversation>> {
        let query = self
            .query()
            .index_name(keys::GSI2)
            .key_condition_expression("gsi2pk = :pk")
            .filter_expression("sk = :meta AND summary.patient.id = :patient")
            .expression_attribute_values(":pk", s(keys::practice_conversations(practice_id)))
            .expression_attribute_values(":meta", s(keys::CONVERSATION_SK))
            .expression_attribute_values(":patient", s(patient_id));
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// Puts the patient's current sealed names into a conversation's summary and into the
    /// entries of these users that exist. The conversation's version moves, so an assignment
    /// that read the summary before this write fails its condition instead of writing the
    /// old names back; an entry that is gone (or never was) is left alone.
    pub async fn rename_in_conversation(
        &self,
        conversation: &Conversation,
        users: &[UserId],
        patient: &PatientRef,
    ) -> Result<()> {
        let p = &conversation.practice_id;
        let value = to_value(patient)?;
        let meta = (keys::conversation(p, &conversation.id), keys::CONVERSATION_SK.to_string(), true);
        let entries = users.iter().map(|u| (keys::user(p, u), keys::entry_sk(&conversation.id), false));
        for (pk, sk, is_meta) in std::iter::once(meta).chain(entries) {
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .update_expression("SET summary.patient = :p")
                .condition_expression("attribute_exists(pk) AND summary.patient.id = :id")
                .expression_attribute_values(":p", value.clone())
                .expression_attribute_values(":id", s(&patient.id));
            if is_meta {
                update = update
                    .update_expression("SET summary.patient = :p ADD version :one")
                    .expression_attribute_values(":one", AttributeValue::N("1".into()));
            }
            // Where the condition fails the record moved on: nothing to carry.
            update_if(update).await?;
        }
        Ok(())
    }
}
