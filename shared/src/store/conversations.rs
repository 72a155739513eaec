//! Conversations and their messages: reads, and the writes of a `Tx` that change them.

use super::*;

impl Store {
    pub async fn conversation(
        &self,
        practice_id: &PracticeId,
        conversation_id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        self.get(keys::conversation(practice_id, conversation_id), keys::CONVERSATION_SK).await
    }

    /// A conversation and its messages, oldest first, in one Query of its partition.
    pub async fn thread(
        &self,
        practice_id: &PracticeId,
        conversation_id: &ConversationId,
    ) -> Result<Option<(Conversation, Vec<Message>)>> {
        let items = self.query_partition(keys::conversation(practice_id, conversation_id), None).await?;
        let mut meta = None;
        let mut messages = Vec::new();
        for item in items {
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk == keys::CONVERSATION_SK => meta = Some(from_item(item)?),
                Some(AttributeValue::S(sk)) if sk.starts_with(keys::MESSAGE_SK_PREFIX) => {
                    messages.push(from_item(item)?)
                }
                _ => {}
            }
        }
        Ok(meta.map(|m| (m, messages)))
    }

    /// Conversations of a practice whose latest activity is before `cutoff` (GSI2), up to
    /// `limit`, oldest first.
    pub async fn conversations_idle_since(
        &self,
        practice_id: &PracticeId,
        cutoff: Timestamp,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        let items = self
            .queue_before(keys::GSI2, &keys::practice_conversations(practice_id), &cutoff.to_string(), limit)
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|i| match i.get("id") {
                Some(AttributeValue::S(id)) => Some(ConversationId::from_stored(id)),
                _ => None,
            })
            .collect())
    }

    /// How many of each user's conversations are about this patient (0 where none).
    pub async fn patient_markers(
        &self,
        practice_id: &PracticeId,
        users: &[UserId],
        patient_id: &UserId,
    ) -> Result<super::PatientMarkers> {
        // Strongly consistent (as every batch): the marker write is conditional on this count,
        // and an eventually consistent read can miss a marker written a moment ago (two
        // conversations about one patient in quick succession would then refuse the second).
        let mut batch = self.batch();
        let markers = batch.patient_markers(practice_id, users, patient_id);
        Ok(batch.read().await?.patient_markers(&markers))
    }

    /// For each user: when it last read this conversation and when its inbox last reached it
    /// (entries and presence items in one read), for read receipts.
    pub async fn receipt_marks(
        &self,
        practice_id: &PracticeId,
        users: &[UserId],
        conversation_id: &ConversationId,
    ) -> Result<super::batch::ReceiptMarks> {
        let mut batch = self.batch();
        let marks = batch.receipt_marks(practice_id, users, conversation_id);
        Ok(batch.read().await?.receipt_marks(&marks))
    }
}

impl Tx<'_> {
    /// Counts one more (or one fewer) of a user's conversations about a patient. `known` is
    /// the count read before: the write is conditional on it, and the first conversation
    /// creates the marker, the last removes it (so `uniquePatients` moves exactly then).
    pub fn patient_marker(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        patient_id: &UserId,
        known: u64,
        delta: i64,
    ) -> Result<()> {
        let pk = keys::user(practice_id, user_id);
        let sk = keys::patient_marker_sk(patient_id);
        let after = known as i64 + delta;
        if known == 0 && delta > 0 {
            let item = HashMap::from([
                (keys::PK.to_string(), s(&pk)),
                (keys::SK.to_string(), s(&sk)),
                ("conversations".to_string(), n(delta as u64)),
            ]);
            return self.push_put(Guard::Marker, item, Some(("attribute_not_exists(pk)", vec![])));
        }
        if after <= 0 {
            let delete = aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .condition_expression("conversations = :known")
                .expression_attribute_values(":known", n(known))
                .build()
                .map_err(Error::internal)?;
            self.items.push(TransactWriteItem::builder().delete(delete).build());
            self.guards.push(Guard::Marker);
            return Ok(());
        }
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("SET conversations = :after")
            .condition_expression("conversations = :known")
            .expression_attribute_values(":after", n(after as u64))
            .expression_attribute_values(":known", n(known));
        self.push_update(Guard::Marker, update)
    }

    /// Uncounts a deleted message on its conversation (CONV-6).
    pub fn conversation_remove_message(
        &mut self,
        practice_id: &PracticeId,
        conversation_id: &ConversationId,
        patient_visible: bool,
        latest: Option<&LatestMessage>,
    ) -> Result<()> {
        let mut update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::conversation(practice_id, conversation_id)))
            .key(keys::SK, s(keys::CONVERSATION_SK))
            .update_expression(match latest {
                Some(_) => "SET latest = :latest ADD messageCount :minus, patientMessageCount :pv",
                None => "ADD messageCount :minus, patientMessageCount :pv",
            })
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
            .expression_attribute_values(":pv", AttributeValue::N(if patient_visible { "-1" } else { "0" }.into()));
        if let Some(latest) = latest {
            update = update.expression_attribute_values(":latest", to_value(latest)?);
        }
        self.push_update(Guard::Conversation, update)
    }

    /// Counts a new message on its conversation. With `only_if_open` the write holds only for
    /// an open conversation that allows responses (a patient's portal reply), atomically.
    #[allow(clippy::too_many_arguments)]
    pub fn conversation_add_message(
        &mut self,
        practice_id: &PracticeId,
        conversation_id: &ConversationId,
        (message, latest): (&Message, &LatestMessage),
        patient_visible: bool,
        only_if_open: bool,
        clock: &crate::reply_clock::ClockChange,
    ) -> Result<()> {
        use crate::reply_clock::ClockChange;
        let clock_write = match clock {
            ClockChange::Run(_) => ", replyClock = :clock",
            ClockChange::Keep | ClockChange::Stop => "",
        };
        // A stopped clock goes; so does the review mark where the message asks anew
        // (`Message::clears_review`).
        let (at, from_patient) = (message.created_at, message.from_patient());
        let removed: Vec<&str> = [
            matches!(clock, ClockChange::Stop).then_some("replyClock"),
            message.clears_review().then_some("reviewedAt"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let remove = if removed.is_empty() { String::new() } else { format!(" REMOVE {}", removed.join(", ")) };
        let mut condition = String::from("attribute_exists(pk)");
        if only_if_open {
            condition.push_str(" AND summary.#status = :open AND summary.allowResponse = :t");
        }
        let mut update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::conversation(practice_id, conversation_id)))
            .key(keys::SK, s(keys::CONVERSATION_SK))
            .update_expression(format!(
                "SET lastMessageAt = :at, gsi2sk = :sort, latest = :latest{clock_write} \
                 ADD messageCount :one, patientMessageCount :pv, fromPatientCount :fp{remove}"
            ))
            .condition_expression(condition)
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":latest", to_value(latest)?)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":pv", n(u64::from(patient_visible)))
            .expression_attribute_values(":fp", n(u64::from(from_patient)))
            .expression_attribute_values(":sort", s(keys::inbox_sort(at, conversation_id)));
        if let ClockChange::Run(running) = clock {
            update = update.expression_attribute_values(":clock", to_value(running)?);
        }
        if only_if_open {
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":open", s("open"))
                .expression_attribute_values(":t", AttributeValue::Bool(true));
        }
        self.push_update(Guard::Conversation, update)
    }

    /// EVISIT-2: the first review of the patient's question by a professional, kept if one
    /// is already recorded (two first readers at once: the earlier commit stands).
    pub fn conversation_reviewed(
        &mut self,
        practice_id: &PracticeId,
        conversation_id: &ConversationId,
        at: Timestamp,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::conversation(practice_id, conversation_id)))
            .key(keys::SK, s(keys::CONVERSATION_SK))
            .update_expression("SET reviewedAt = if_not_exists(reviewedAt, :at)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", s(at));
        self.push_update(Guard::Conversation, update)
    }

    /// Rewrites a conversation's summary and membership (assignment), guarded by its version
    /// so two concurrent assignments cannot interleave.
    pub fn conversation_replace_membership(
        &mut self,
        conversation: &Conversation,
        expected_version: u64,
    ) -> Result<()> {
        // The care team and primary provider too: a care-team change (ACCT-2) rewrites them.
        // A closed conversation's clock goes (`Conversation::clock_stopped`, SLA-2); any other
        // change leaves it as messages set it.
        let closed = conversation.clock_stopped();
        let provider = match (&conversation.primary_provider_id, closed) {
            (Some(_), false) => ", primaryProviderId = :provider",
            (Some(_), true) => ", primaryProviderId = :provider REMOVE replyClock",
            (None, false) => " REMOVE primaryProviderId",
            (None, true) => " REMOVE primaryProviderId, replyClock",
        };
        let mut update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::conversation(&conversation.practice_id, &conversation.id)))
            .key(keys::SK, s(keys::CONVERSATION_SK))
            .update_expression(format!(
                "SET summary = :summary, participants = :participants, assigneeIds = :assignees, viewers = :viewers, \
                 assignments = :assignments, version = :next, careTeam = :care{provider}"
            ))
            .condition_expression("version = :expected")
            .expression_attribute_values(":care", to_value(&conversation.care_team)?);
        if let Some(id) = &conversation.primary_provider_id {
            update = update.expression_attribute_values(":provider", s(id));
        }
        let update = update
            .expression_attribute_values(":summary", to_value(&conversation.summary)?)
            .expression_attribute_values(":participants", to_value(&conversation.participants)?)
            .expression_attribute_values(":assignees", to_value(&conversation.assignee_ids)?)
            .expression_attribute_values(":viewers", to_value(&conversation.viewers)?)
            .expression_attribute_values(":assignments", to_value(&conversation.assignments)?)
            .expression_attribute_values(":next", n(expected_version + 1))
            .expression_attribute_values(":expected", n(expected_version));
        self.push_update(Guard::Conversation, update)
    }
}
