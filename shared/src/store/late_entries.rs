//! What a change writes after its own transaction when its audience is larger than one
//! transaction holds: a message's inbox entries (`domain::LateEntries`), brought up to the
//! message exactly once whatever happened to them meanwhile; and a conversation's changed
//! summary (`domain::SummaryRefresh`), copied where no newer copy is.

use super::*;
use crate::domain::MessageId;

/// One late viewer's inbox, as read just before its entry is written. The write is
/// conditional on it, so a concurrent change is read again, not overwritten.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LateViewer {
    /// This message's entry was written to this viewer already (a retried stream batch).
    pub written: bool,
    pub last_message_at: Option<Timestamp>,
    pub last_read_at: Option<Timestamp>,
    /// How many conversations about the message's patient the viewer has.
    pub patient_conversations: u64,
}

impl Store {
    /// Each late viewer's entry, mark and count of conversations about `patient` (for a new
    /// conversation), in one strongly consistent read.
    pub async fn late_viewers(
        &self,
        practice_id: &PracticeId,
        viewers: &[UserId],
        conversation_id: &ConversationId,
        message_id: &MessageId,
        patient: Option<&UserId>,
    ) -> Result<HashMap<UserId, LateViewer>> {
        let mut wanted = Vec::new();
        for v in viewers {
            let pk = keys::user(practice_id, v);
            wanted.push((pk.clone(), keys::entry_sk(conversation_id)));
            wanted.push((pk.clone(), keys::late_entry_sk(message_id)));
            if let Some(pat) = patient {
                wanted.push((pk, keys::patient_marker_sk(pat)));
            }
        }
        let mut out: HashMap<UserId, LateViewer> = viewers.iter().map(|v| (v.clone(), LateViewer::default())).collect();
        for item in self.batch_get(wanted, true).await? {
            let (Some(user), Some(AttributeValue::S(sk))) = (Self::user_of(practice_id, &item), item.get(keys::SK))
            else {
                continue;
            };
            let time = |k: &str| match item.get(k) {
                Some(AttributeValue::S(v)) => Timestamp::parse(k, v).ok(),
                _ => None,
            };
            let slot = out.entry(user).or_default();
            if sk.starts_with(keys::LATE_ENTRY_SK_PREFIX) {
                slot.written = true;
            } else if sk.starts_with(keys::PATIENT_MARKER_SK_PREFIX) {
                if let Some(AttributeValue::N(count)) = item.get("conversations") {
                    slot.patient_conversations = count.parse().unwrap_or(0);
                }
            } else {
                slot.last_message_at = time("lastMessageAt");
                slot.last_read_at = time("lastReadAt");
            }
        }
        Ok(out)
    }
}

impl Store {
    pub async fn summary_refresh(&self, key: &Key) -> Result<Option<SummaryRefresh>> {
        self.get_consistent(&key.pk, &key.sk).await
    }

    pub async fn membership_backfill(&self, key: &Key) -> Result<Option<MembershipBackfill>> {
        self.get_consistent(&key.pk, &key.sk).await
    }

    pub async fn entry_removal(&self, key: &Key) -> Result<Option<EntryRemoval>> {
        self.get_consistent(&key.pk, &key.sk).await
    }

    pub async fn message_removal(&self, key: &Key) -> Result<Option<MessageRemoval>> {
        self.get_consistent(&key.pk, &key.sk).await
    }

    /// A conversation as it is now (a strongly consistent read): a refresh copies no summary
    /// older than the change that asked for it.
    pub async fn conversation_now(
        &self,
        practice_id: &PracticeId,
        conversation_id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        self.get_consistent(&keys::conversation(practice_id, conversation_id), keys::CONVERSATION_SK).await
    }

    /// Copies a conversation's summary into a user's existing entry, unless the entry is gone
    /// or holds this version or a newer one already. Answers whether it wrote.
    pub async fn entry_refresh_summary(&self, user_id: &UserId, conversation: &Conversation) -> Result<bool> {
        update_if(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(keys::user(&conversation.practice_id, user_id)))
                .key(keys::SK, s(keys::entry_sk(&conversation.id)))
                .update_expression("SET summary = :summary, summaryVersion = :version")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(summaryVersion) OR summaryVersion < :version)",
                )
                .expression_attribute_values(":summary", to_value(&conversation.summary)?)
                .expression_attribute_values(":version", n(conversation.version)),
        )
        .await
    }
}

impl Tx<'_> {
    /// Brings a late viewer's entry up to a message, on the condition that it is still as
    /// `seen`. Its latest activity (preview, sender, place in the inbox) moves only if the
    /// message is newer than the entry's.
    pub fn entry_add_late_message(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation: &Conversation,
        late: &LateEntries,
        seen: &LateViewer,
        adds_unread: bool,
    ) -> Result<()> {
        let conversation_id = &conversation.id;
        let update = match seen.last_message_at {
            // An older message arriving late: counted, but the entry keeps showing the newer.
            Some(latest) if latest >= late.at => {
                let counters = Update::builder()
                    .table_name(&self.store.table)
                    .key(keys::PK, s(keys::user(practice_id, user_id)))
                    .key(keys::SK, s(keys::entry_sk(conversation_id)))
                    .expression_attribute_values(":one", n(1));
                if adds_unread {
                    counters
                        .update_expression("SET unread = if_not_exists(unread, :zero) + :one ADD messageCount :one")
                        .expression_attribute_values(":zero", n(0))
                } else {
                    counters.update_expression("ADD messageCount :one")
                }
            }
            _ => self.message_update(
                practice_id,
                user_id,
                conversation_id,
                (&conversation.summary, conversation.version),
                (late.at, &late.preview, &late.sender, late.priority),
                adds_unread,
                conversation.reply_clock.as_ref().map(|c| &c.due),
            )?,
        };
        let update = match (seen.last_message_at, seen.last_read_at) {
            (None, _) => update.condition_expression("attribute_not_exists(pk)"),
            (Some(latest), None) => update
                .condition_expression("lastMessageAt = :seenLatest AND attribute_not_exists(lastReadAt)")
                .expression_attribute_values(":seenLatest", s(latest)),
            (Some(latest), Some(read)) => update
                .condition_expression("lastMessageAt = :seenLatest AND lastReadAt = :seenRead")
                .expression_attribute_values(":seenLatest", s(latest))
                .expression_attribute_values(":seenRead", s(read)),
        };
        self.push_update(Guard::Entry, update)
    }

    /// Marks a message's late entry written to a user, once: a second write of it fails
    /// (`Guard::LateEntry`). Kept as long as the stream may replay the message.
    pub fn late_entry_mark(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        message_id: &MessageId,
        expires_at: i64,
    ) -> Result<()> {
        let item = HashMap::from([
            (keys::PK.to_string(), s(keys::user(practice_id, user_id))),
            (keys::SK.to_string(), s(keys::late_entry_sk(message_id))),
            ("expiresAt".to_string(), n(expires_at.max(0) as u64)),
        ]);
        self.push_put(Guard::LateEntry, item, Some(("attribute_not_exists(pk)", vec![])))
    }

    /// The conversation is still as it was read (not deleted, its summary not changed), so the
    /// summary copied beside it is current.
    pub fn check_conversation_version(&mut self, conversation: &Conversation) -> Result<()> {
        self.push_check(
            Guard::Conversation,
            ConditionCheck::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(keys::conversation(&conversation.practice_id, &conversation.id)))
                .key(keys::SK, s(keys::CONVERSATION_SK))
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(conversation.version)),
        )
    }
}
