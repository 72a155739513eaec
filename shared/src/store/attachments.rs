//! Attachment records: lookups, the sweeper's queues, scan status.

use super::*;
use crate::domain::{AttachmentId, AttachmentStatus};

/// The attachment sweeper's queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepQueue {
    /// Files whose retention after the patient's first download ends (ATT-6).
    Expiring,
    /// Uploads not yet attached to a message.
    Unattached,
}

impl Store {
    /// ATT-6: the first download by the patient starts the file's retention clock (once).
    pub async fn attachment_first_patient_download(
        &self,
        practice_id: &PracticeId,
        attachment_id: &AttachmentId,
        at: Timestamp,
        due: Timestamp,
    ) -> Result<()> {
        update_if(
            self.attachment_update(practice_id, attachment_id)
                .update_expression("SET firstPatientDownloadAt = :at, gsi3pk = :due_pk, gsi3sk = :due_sk")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(firstPatientDownloadAt)")
                .expression_attribute_values(":at", s(at))
                .expression_attribute_values(":due_pk", s(keys::attachments_due(practice_id)))
                .expression_attribute_values(":due_sk", s(format!("{due}#{attachment_id}"))),
        )
        .await
        .map(|_| ())
    }

    /// Attachments in one of the sweeper's queues whose time is before `before`.
    pub async fn attachments_queued(
        &self,
        practice_id: &PracticeId,
        queue: SweepQueue,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let queue_pk = match queue {
            SweepQueue::Expiring => keys::attachments_due(practice_id),
            SweepQueue::Unattached => keys::attachments_pending(practice_id),
        };
        let items = self.queue_before(keys::GSI3, &queue_pk, &before.to_string(), limit).await?;
        items.into_iter().map(from_item).collect()
    }

    /// Marks an attachment expired (its file is deleted) and takes it off the queues.
    pub async fn attachment_expired(&self, practice_id: &PracticeId, attachment_id: &AttachmentId) -> Result<()> {
        self.attachment_update(practice_id, attachment_id)
            .update_expression("SET #status = :expired REMOVE gsi3pk, gsi3sk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expired", s(AttachmentStatus::Expired.as_str()))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    pub async fn attachment(
        &self,
        practice_id: &PracticeId,
        attachment_id: &AttachmentId,
    ) -> Result<Option<Attachment>> {
        self.get(keys::attachment(practice_id, attachment_id), keys::ATTACHMENT_SK).await
    }

    pub async fn attachments(&self, practice_id: &PracticeId, ids: &[AttachmentId]) -> Result<Vec<Attachment>> {
        let wanted =
            ids.iter().map(|id| (keys::attachment(practice_id, id), keys::ATTACHMENT_SK.to_string())).collect();
        self.get_many(wanted).await?.into_iter().map(from_item).collect()
    }

    /// A conditional single write, for records that stand alone (an attachment's status).
    pub async fn update_attachment_status(
        &self,
        practice_id: &PracticeId,
        attachment_id: &AttachmentId,
        from: AttachmentStatus,
        to: AttachmentStatus,
    ) -> Result<bool> {
        update_if(
            self.attachment_update(practice_id, attachment_id)
                .update_expression("SET #status = :to")
                .condition_expression("#status = :from")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":to", s(to.as_str()))
                .expression_attribute_values(":from", s(from.as_str())),
        )
        .await
    }

    /// An update of one attachment's record.
    fn attachment_update(
        &self,
        practice_id: &PracticeId,
        attachment_id: &AttachmentId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::attachment(practice_id, attachment_id)))
            .key(keys::SK, s(keys::ATTACHMENT_SK))
    }
}

impl Tx<'_> {
    /// Attaches a checked upload to a message, once (a concurrent second attach fails).
    pub fn attachment_attach(
        &mut self,
        a: &Attachment,
        conversation_id: &ConversationId,
        internal: bool,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::attachment(&a.practice_id, &a.id)))
            .key(keys::SK, s(keys::ATTACHMENT_SK))
            .update_expression(
                "SET conversationId = :c, internal = :internal, attached = :t, objectKey = :key REMOVE gsi3pk, gsi3sk",
            )
            .condition_expression("#status = :ready AND attribute_not_exists(attached)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":c", s(conversation_id))
            .expression_attribute_values(":key", s(&a.object_key))
            .expression_attribute_values(":internal", AttributeValue::Bool(internal))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":ready", s(AttachmentStatus::Ready.as_str()));
        self.push_update(Guard::Attachment, update)
    }
}
