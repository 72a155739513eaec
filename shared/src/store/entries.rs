//! The writes that move a user's inbox entry: a message added or removed, the user's own
//! flags and read position, a summary rewritten, an entry deleted; and the presence mark that
//! read receipts use (CONV-2).

use super::*;
use crate::domain::StateChange;
use crate::reply_clock::ReplyDue;

impl Tx<'_> {
    /// An update of one item in a user's own partition (its entries, marks and presence).
    fn user_item(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        sk: impl Into<String>,
    ) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, AttributeValue::S(sk.into()))
    }

    /// A user's own flags on one entry (CONV-3, CONV-4), moving it between the index
    /// partitions of its views; guarded by the unread count it was read with, so the stats
    /// delta written beside it stays exact.
    pub fn entry_set_state(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        entry: &InboxEntry,
        change: &StateChange,
    ) -> Result<()> {
        let mut sets: Vec<&str> = Vec::new();
        let mut removes: Vec<&str> = Vec::new();
        let mut u = self
            .user_item(practice_id, user_id, keys::entry_sk(&entry.conversation_id))
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)")
            .expression_attribute_values(":old", n(entry.unread));
        if let Some(starred) = change.starred {
            sets.push("starred = :starred");
            u = u.expression_attribute_values(":starred", AttributeValue::Bool(starred));
            if starred {
                sets.push("gsi3pk = :star, gsi3sk = :sort");
                u = u
                    .expression_attribute_values(":star", s(keys::inbox_starred(practice_id, user_id)))
                    .expression_attribute_values(
                        ":sort",
                        s(keys::inbox_sort(entry.last_message_at, &entry.conversation_id)),
                    );
            } else {
                removes.push("gsi3pk");
            }
        }
        if let Some(archived) = change.archived {
            sets.push("archived = :archived, gsi1pk = :inbox, gsi2pk = :tab");
            u = u
                .expression_attribute_values(":archived", AttributeValue::Bool(archived))
                .expression_attribute_values(":inbox", s(keys::inbox(practice_id, user_id, archived)))
                .expression_attribute_values(
                    ":tab",
                    s(keys::inbox_tab(practice_id, user_id, entry.summary.kind.as_str(), archived)),
                );
        }
        if let Some(unread) = change.unread_count(entry.unread) {
            sets.push("unread = :unread");
            u = u.expression_attribute_values(":unread", n(unread));
        }
        let mut expr = String::new();
        if !sets.is_empty() {
            expr.push_str("SET ");
            expr.push_str(&sets.join(", "));
        }
        if !removes.is_empty() {
            expr.push_str(" REMOVE ");
            expr.push_str(&removes.join(", "));
        }
        self.push_update(Guard::Entry, u.update_expression(expr))
    }

    /// Uncounts a deleted message on one viewer's entry, and where it was the latest, puts
    /// back the one before it (CONV-6). Guarded by the unread count it was read with.
    #[allow(clippy::too_many_arguments)]
    pub fn entry_remove_message(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
        expected_unread: u64,
        was_unread: bool,
        replacement: Option<&(Sealed, SenderRef)>,
        once: Option<&crate::domain::MessageId>,
    ) -> Result<()> {
        let mut expr = String::from("SET messageCount = messageCount - :one, unread = :unread");
        let mut condition = String::from("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)");
        let mut update = self
            .user_item(practice_id, user_id, keys::entry_sk(conversation_id))
            .expression_attribute_values(":old", n(expected_unread))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":unread", n(expected_unread.saturating_sub(u64::from(was_unread))));
        if let Some((preview, sender)) = replacement {
            expr.push_str(", preview = :preview, lastSender = :sender");
            update = update
                .expression_attribute_values(":preview", to_value(preview)?)
                .expression_attribute_values(":sender", to_value(sender)?);
        }
        // Taken out by the notifier: recorded on the entry, so a retry takes it out once.
        if let Some(message_id) = once {
            expr.push_str(" ADD unposted :message");
            condition.push_str(" AND NOT contains(unposted, :id)");
            update = update
                .expression_attribute_values(":message", AttributeValue::Ss(vec![message_id.to_string()]))
                .expression_attribute_values(":id", s(message_id));
        }
        self.push_update(Guard::Entry, update.update_expression(expr).condition_expression(condition))
    }

    /// Removes a former viewer's inbox entry (reassignment took its visibility away),
    /// guarded by the unread count its counters are corrected by.
    pub fn entry_delete(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
        expected_unread: u64,
    ) -> Result<()> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(conversation_id)))
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)")
            .expression_attribute_values(":old", n(expected_unread))
            .build()
            .map_err(Error::internal)?;
        self.items.push(TransactWriteItem::builder().delete(delete).build());
        self.guards.push(Guard::Entry);
        Ok(())
    }

    /// Brings one viewer's inbox entry up to a new message: latest activity, preview, sender,
    /// counts. The summary is written only where the entry is new, so this never races
    /// with a concurrent assignment's summary; the sender's own unread count is zero.
    #[allow(clippy::too_many_arguments)]
    pub fn entry_add_message(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
        (summary, summary_version): (&Summary, u64),
        at: Timestamp,
        preview: &Sealed,
        sender: &SenderRef,
        priority: crate::domain::Priority,
        is_sender: bool,
        reply_due: Option<&ReplyDue>,
    ) -> Result<()> {
        // A sender's own message adds nothing unread; what it had not read stays unread.
        let update = self.message_update(
            practice_id,
            user_id,
            conversation_id,
            (summary, summary_version),
            (at, preview, sender, priority),
            !is_sender,
            reply_due,
        )?;
        self.push_update(Guard::Entry, update)
    }

    /// The update that brings an entry up to a new message (`entry_add_message`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn message_update(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
        (summary, summary_version): (&Summary, u64),
        (at, preview, sender, priority): (Timestamp, &Sealed, &SenderRef, crate::domain::Priority),
        adds_unread: bool,
        reply_due: Option<&ReplyDue>,
    ) -> Result<aws_sdk_dynamodb::types::builders::UpdateBuilder> {
        let unread = if adds_unread {
            "unread = if_not_exists(unread, :zero) + :one"
        } else {
            "unread = if_not_exists(unread, :zero)"
        };
        let urgent = priority == crate::domain::Priority::Urgent;
        // SLA-3: the entry shows the conversation's clock as this message leaves it.
        let due = if reply_due.is_some() {
            ", replyDue = :due, gsi4pk = :duePk, gsi4sk = :dueSort"
        } else {
            " REMOVE replyDue, gsi4pk, gsi4sk"
        };
        let update = self
            .user_item(practice_id, user_id, keys::entry_sk(conversation_id))
            .update_expression(format!(
                "SET summary = if_not_exists(summary, :summary), \
                 summaryVersion = if_not_exists(summaryVersion, :version), conversationId = :c, lastMessageAt = :at, \
                 gsi1pk = :inbox, gsi1sk = :sort, gsi2pk = :tab, gsi2sk = :sort, gsi3sk = :sort, \
                 preview = :preview, lastSender = :sender, urgent = :urgent, lastPriority = :priority, \
                 archived = :f, {unread}{due} ADD messageCount :one"
            ))
            .expression_attribute_values(":summary", to_value(summary)?)
            .expression_attribute_values(":version", n(summary_version))
            .expression_attribute_values(":c", s(conversation_id))
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":inbox", s(keys::inbox(practice_id, user_id, false)))
            .expression_attribute_values(":tab", s(keys::inbox_tab(practice_id, user_id, summary.kind.as_str(), false)))
            .expression_attribute_values(":sort", s(keys::inbox_sort(at, conversation_id)))
            .expression_attribute_values(":preview", to_value(preview)?)
            .expression_attribute_values(":sender", to_value(sender)?)
            .expression_attribute_values(":urgent", AttributeValue::Bool(urgent))
            .expression_attribute_values(":priority", s(priority.as_str()))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        Ok(match reply_due {
            Some(due) => update
                .expression_attribute_values(":due", to_value(due)?)
                .expression_attribute_values(":duePk", s(keys::inbox_due(practice_id, user_id)))
                .expression_attribute_values(":dueSort", s(keys::inbox_sort(due.at, conversation_id))),
            None => update,
        })
    }

    /// CONV-2: opening a conversation clears the caller's own unread count, nobody else's.
    pub fn entry_mark_read(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
        at: Timestamp,
        expected_unread: u64,
    ) -> Result<()> {
        let update = self
            .user_item(practice_id, user_id, keys::entry_sk(conversation_id))
            .update_expression("SET unread = :zero, lastReadAt = :at")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)")
            .expression_attribute_values(":old", n(expected_unread))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at));
        self.push_update(Guard::Entry, update)
    }

    /// A user's read position in a conversation it has no entry for, keeping its flags.
    pub fn own_state_mark_read(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
        read_count: u64,
        at: Timestamp,
    ) -> Result<()> {
        let update = self
            .user_item(practice_id, user_id, keys::own_state_sk(conversation_id))
            .update_expression("SET readCount = :count, #at = :at")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":count", n(read_count))
            .expression_attribute_values(":at", s(at));
        self.push_update(Guard::Presence, update)
    }

    /// A user's flags (and, marked unread, read position) in a conversation it has no entry
    /// for: only what changes, so a concurrent read mark or another flag is not overwritten.
    pub fn own_state_set(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
        starred: Option<bool>,
        archived: Option<bool>,
        read_count: Option<u64>,
    ) -> Result<()> {
        let mut sets = Vec::new();
        let mut update = self.user_item(practice_id, user_id, keys::own_state_sk(conversation_id));
        if let Some(v) = starred {
            sets.push("starred = :starred");
            update = update.expression_attribute_values(":starred", AttributeValue::Bool(v));
        }
        if let Some(v) = archived {
            sets.push("archived = :archived");
            update = update.expression_attribute_values(":archived", AttributeValue::Bool(v));
        }
        if let Some(v) = read_count {
            sets.push("readCount = :count");
            update = update.expression_attribute_values(":count", n(v));
        }
        self.push_update(Guard::Presence, update.update_expression(format!("SET {}", sets.join(", "))))
    }

    /// Records that a user's inbox (or a thread) reached it now: messages before are
    /// delivered to it.
    pub fn presence_seen(&mut self, practice_id: &PracticeId, user_id: &UserId, at: Timestamp) -> Result<()> {
        let update = self
            .user_item(practice_id, user_id, keys::PRESENCE_SK)
            .update_expression("SET inboxSeenAt = :at")
            .expression_attribute_values(":at", s(at));
        self.push_update(Guard::Presence, update)
    }

    /// Writes the current summary into a viewer's entry; a new viewer's entry is created
    /// with the conversation's latest activity so it sorts where it belongs.
    #[allow(clippy::too_many_arguments)]
    fn summary_update(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation: &Conversation,
        preview: &Sealed,
        last_sender: &SenderRef,
        visible_count: u64,
    ) -> Result<aws_sdk_dynamodb::types::builders::UpdateBuilder> {
        let c = &conversation.id;
        let at = &conversation.last_message_at;
        // A closed conversation's entry loses its due time (`Conversation::clock_stopped`,
        // SLA-2). Otherwise a joining viewer's entry takes the running
        // clock, and an existing one keeps what its last message wrote (this summary may have
        // been read before that message).
        let closed = conversation.clock_stopped();
        let due = match (&conversation.reply_clock, closed) {
            (_, true) => " REMOVE replyDue, gsi4pk, gsi4sk",
            (Some(_), false) => {
                ", replyDue = if_not_exists(replyDue, :due), gsi4pk = if_not_exists(gsi4pk, :duePk), \
                 gsi4sk = if_not_exists(gsi4sk, :dueSort)"
            }
            (None, false) => "",
        };
        let update = self
            .user_item(practice_id, user_id, keys::entry_sk(c))
            .update_expression(format!(
                "SET summary = :summary, summaryVersion = :version, conversationId = :c, \
                 lastMessageAt = if_not_exists(lastMessageAt, :at), \
                 gsi1pk = if_not_exists(gsi1pk, :inbox), gsi1sk = if_not_exists(gsi1sk, :sort), \
                 gsi2pk = if_not_exists(gsi2pk, :tab), gsi2sk = if_not_exists(gsi2sk, :sort), \
                 gsi3sk = if_not_exists(gsi3sk, :sort), \
                 preview = if_not_exists(preview, :preview), lastSender = if_not_exists(lastSender, :sender), \
                 messageCount = if_not_exists(messageCount, :count), unread = if_not_exists(unread, :count){due}"
            ))
            .expression_attribute_values(":summary", to_value(&conversation.summary)?)
            .expression_attribute_values(":version", n(conversation.version))
            .expression_attribute_values(":c", s(c))
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":inbox", s(keys::inbox(practice_id, user_id, false)))
            .expression_attribute_values(
                ":tab",
                s(keys::inbox_tab(practice_id, user_id, conversation.summary.kind.as_str(), false)),
            )
            .expression_attribute_values(":sort", s(keys::inbox_sort(*at, c)))
            .expression_attribute_values(":preview", to_value(preview)?)
            .expression_attribute_values(":sender", to_value(last_sender)?)
            .expression_attribute_values(":count", n(visible_count));
        Ok(match (&conversation.reply_clock, closed) {
            (Some(clock), false) => update
                .expression_attribute_values(":due", to_value(&clock.due)?)
                .expression_attribute_values(":duePk", s(keys::inbox_due(practice_id, user_id)))
                .expression_attribute_values(":dueSort", s(keys::inbox_sort(clock.due.at, c))),
            _ => update,
        })
    }

    pub fn entry_set_summary(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation: &Conversation,
        preview: &Sealed,
        last_sender: &SenderRef,
        visible_count: u64,
    ) -> Result<()> {
        let update = self.summary_update(practice_id, user_id, conversation, preview, last_sender, visible_count)?;
        self.push_update(Guard::Entry, update)
    }

    /// A late joiner's new entry (a membership change's audience larger than its transaction):
    /// as `entry_set_summary`, on the condition that the user has no entry yet, so the counts
    /// written beside it are counted once.
    pub fn entry_join(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation: &Conversation,
        preview: &Sealed,
        last_sender: &SenderRef,
        visible_count: u64,
    ) -> Result<()> {
        let update = self.summary_update(practice_id, user_id, conversation, preview, last_sender, visible_count)?;
        self.push_update(Guard::Entry, update.condition_expression("attribute_not_exists(pk)"))
    }
}
