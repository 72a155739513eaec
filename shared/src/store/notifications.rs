//! The outbox the notifier drains, SMS numbers and peers, and unread reminders.

use super::*;

impl Store {
    /// An outbox item, read consistently: the notifier must see the marks of an earlier try.
    pub async fn outbox(&self, key: &Key) -> Result<Option<OutboxEntry>> {
        self.get_consistent(&key.pk, &key.sk).await
    }

    /// Records that a recipient of an outbox item has been notified (NOTIFY-3).
    pub async fn outbox_mark_sent(&self, key: &Key, recipient: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(&key.pk))
            .key(keys::SK, s(&key.sk))
            .update_expression("SET sent = list_append(if_not_exists(sent, :none), :r)")
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":r", AttributeValue::L(vec![s(recipient)]))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// NOTIFY-4: the practice a two-way SMS number belongs to.
    pub async fn sms_number_owner(&self, number: &str) -> Result<Option<PracticeId>> {
        let item: Option<SmsNumberOwner> = self.get(keys::sms_number(number), keys::SMS_NUMBER_SK).await?;
        Ok(item.map(|i| i.practice_id))
    }

    pub async fn sms_peer(&self, practice_id: &PracticeId, token: &str) -> Result<Option<SmsPeer>> {
        self.get(keys::sms_peer(practice_id, token), keys::SMS_PEER_SK).await
    }

    pub async fn put_sms_peer(&self, practice_id: &PracticeId, token: &str, peer: &SmsPeer) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&place::sms_peer(practice_id, token), peer)?))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// NOTIFY-5: a practice's reminders due before `before` (GSI1), oldest first.
    pub async fn reminders_due(
        &self,
        practice_id: &PracticeId,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Key, Reminder)>> {
        let items =
            self.queue_before(keys::GSI1, &keys::reminders_due(practice_id), &before.to_string(), limit).await?;
        items.into_iter().map(keyed_from_item).collect()
    }

    /// SLA-4: a practice's escalations due before `before` (GSI1), oldest first.
    pub async fn escalations_due(
        &self,
        practice_id: &PracticeId,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Key, PendingEscalation)>> {
        let items =
            self.queue_before(keys::GSI1, &keys::escalations_due(practice_id), &before.to_string(), limit).await?;
        items.into_iter().map(keyed_from_item).collect()
    }
}

impl Tx<'_> {
    /// SLA-4: takes a pending escalation (its co-assignment is in the same transaction), on
    /// the condition that nobody has: a second run's transaction is refused
    /// (`Guard::Escalation`). It stays listed until its note is posted (`delete`).
    pub fn escalation_taken(&mut self, key: &Key) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(&key.pk))
            .key(keys::SK, s(&key.sk))
            .update_expression("SET taken = :t")
            .condition_expression("attribute_exists(pk) AND taken = :f")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false));
        self.push_update(Guard::Escalation, update)
    }
}
