//! Each user's inbox entries (fan-out on write), their pages and search hits; the counters
//! beside them are in `stats`.

use super::*;
use crate::domain::ConversationKind;

/// Which index partition an inbox page reads (INBOX-2 tabs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxTab {
    /// Everything not archived (the All tab).
    Active,
    Archived,
    /// One kind of conversation: `patient`, `team` or `broadcast`.
    Kind(ConversationKind),
    Starred,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignedFilter {
    Me,
    Others,
}

/// A tab with its filters (INBOX-2). Dates are RFC 3339 bounds on the latest activity.
#[derive(Clone, Debug)]
pub struct InboxView {
    pub tab: InboxTab,
    pub unread: Option<bool>,
    pub assigned: Option<AssignedFilter>,
    pub priority: Option<crate::domain::Priority>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The caller's own flags to change (PUT /conversations/{id}/state).
#[derive(Clone, Copy, Debug, Default)]
pub struct StateChange {
    pub starred: Option<bool>,
    pub archived: Option<bool>,
    pub unread: Option<bool>,
}

impl StateChange {
    /// The unread count this change leaves, if it changes it: marked unread shows at least
    /// one unread message, and a higher count stays.
    pub fn unread_count(&self, current: u64) -> Option<u64> {
        self.unread.map(|u| if u { current.max(1) } else { 0 })
    }
}

/// A page position in the inbox: the last entry's sort key (GSI1) and its conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxPosition {
    pub sort: String,
    pub conversation_id: String,
}

impl Store {
    pub async fn entry(
        &self,
        practice_id: &PracticeId,
        user_id: &str,
        conversation_id: &ConversationId,
    ) -> Result<Option<EntryItem>> {
        self.get(keys::user(practice_id, user_id), &keys::entry_sk(conversation_id)).await
    }

    /// One page of a user's inbox, newest activity first: a single Query on the index of the
    /// view (tab), bounded by the date range in the key condition. Filters narrow the page
    /// after the read (DynamoDB applies `Limit` first), so a filtered page may be short and
    /// still carry a position to go on from.
    pub async fn inbox_page(
        &self,
        practice_id: &PracticeId,
        user_id: &str,
        view: &InboxView,
        limit: usize,
        after: Option<&InboxPosition>,
    ) -> Result<(Vec<EntryItem>, Option<InboxPosition>)> {
        let (index, pk_attr, sk_attr, partition) = match view.tab {
            InboxTab::Active => (keys::GSI1, keys::GSI1PK, keys::GSI1SK, keys::inbox(practice_id, user_id, false)),
            InboxTab::Archived => (keys::GSI1, keys::GSI1PK, keys::GSI1SK, keys::inbox(practice_id, user_id, true)),
            InboxTab::Kind(kind) => {
                (keys::GSI2, keys::GSI2PK, keys::GSI2SK, keys::inbox_tab(practice_id, user_id, kind.as_str(), false))
            }
            InboxTab::Starred => (keys::GSI3, keys::GSI3PK, keys::GSI3SK, keys::inbox_starred(practice_id, user_id)),
        };
        let start = after.map(|a| {
            HashMap::from([
                (keys::PK.to_string(), s(keys::user(practice_id, user_id))),
                (keys::SK.to_string(), s(keys::entry_sk(&a.conversation_id))),
                (pk_attr.to_string(), s(&partition)),
                (sk_attr.to_string(), s(&a.sort)),
            ])
        });
        let mut key_condition = format!("{pk_attr} = :pk");
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_values(":pk", s(&partition))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start);
        // Sort keys are `<lastMessageAt>#<conversation>`: a date range is a key range.
        match (&view.from, &view.to) {
            (Some(from), Some(to)) => {
                key_condition.push_str(&format!(" AND {sk_attr} BETWEEN :from AND :to"));
                q = q
                    .expression_attribute_values(":from", s(from.as_str()))
                    .expression_attribute_values(":to", s(format!("{to}~")));
            }
            (Some(from), None) => {
                key_condition.push_str(&format!(" AND {sk_attr} >= :from"));
                q = q.expression_attribute_values(":from", s(from.as_str()));
            }
            (None, Some(to)) => {
                key_condition.push_str(&format!(" AND {sk_attr} <= :to"));
                q = q.expression_attribute_values(":to", s(format!("{to}~")));
            }
            (None, None) => {}
        }
        let mut filters: Vec<&str> = Vec::new();
        match view.unread {
            Some(true) => filters.push("unread > :zero"),
            Some(false) => filters.push("(attribute_not_exists(unread) OR unread = :zero)"),
            None => {}
        }
        if view.unread.is_some() {
            q = q.expression_attribute_values(":zero", n(0));
        }
        match view.assigned {
            Some(AssignedFilter::Me) => filters.push("contains(summary.assigneeIds, :me)"),
            Some(AssignedFilter::Others) => {
                filters.push("size(summary.assigneeIds) > :zero2 AND NOT contains(summary.assigneeIds, :me)")
            }
            None => {}
        }
        if let Some(a) = view.assigned {
            q = q.expression_attribute_values(":me", s(user_id));
            if a == AssignedFilter::Others {
                q = q.expression_attribute_values(":zero2", n(0));
            }
        }
        if let Some(p) = view.priority {
            filters.push("lastPriority = :priority");
            q = q.expression_attribute_values(":priority", s(p.as_str()));
        }
        if !filters.is_empty() {
            q = q.filter_expression(filters.join(" AND "));
        }
        let out = q.key_condition_expression(key_condition).send().await.map_err(sdk_error)?;
        let entries: Vec<EntryItem> =
            out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_>>()?;
        let next = match out.last_evaluated_key {
            Some(k) if !k.is_empty() => match (k.get(sk_attr), k.get(keys::SK)) {
                (Some(AttributeValue::S(sort)), Some(AttributeValue::S(sk))) => sk
                    .strip_prefix("CONV#")
                    .map(|c| InboxPosition { sort: sort.clone(), conversation_id: c.to_string() }),
                _ => None,
            },
            _ => None,
        };
        Ok((entries, next))
    }

    /// Conversations under one search token, newest first, one page (INBOX-3).
    pub async fn search_hits(
        &self,
        practice_id: &PracticeId,
        token: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<ConversationId>, Option<String>)> {
        let pk = keys::search_token(practice_id, token);
        let start = after.map(|c| HashMap::from([(keys::PK.to_string(), s(&pk)), (keys::SK.to_string(), s(c))]));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&pk))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        let hits: Vec<ConversationId> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| match i.get(keys::SK) {
                Some(AttributeValue::S(c)) => Some(ConversationId::from_stored(c)),
                _ => None,
            })
            .collect();
        let next = match out.last_evaluated_key {
            Some(k) if !k.is_empty() => hits.last().map(ToString::to_string),
            _ => None,
        };
        Ok((hits, next))
    }

    /// A user's entries for some conversations; absent ones are the conversations the user
    /// may not see.
    pub async fn entries(
        &self,
        practice_id: &PracticeId,
        user_id: &str,
        conversation_ids: &[ConversationId],
    ) -> Result<Vec<EntryItem>> {
        let wanted = conversation_ids.iter().map(|c| (keys::user(practice_id, user_id), keys::entry_sk(c))).collect();
        self.get_many(wanted).await?.into_iter().map(from_item).collect()
    }

    /// Some users' entries for one conversation, by user.
    pub async fn entries_of(
        &self,
        practice_id: &PracticeId,
        users: &[String],
        conversation_id: &ConversationId,
    ) -> Result<Vec<(String, EntryItem)>> {
        let wanted = users.iter().map(|u| (keys::user(practice_id, u), keys::entry_sk(conversation_id))).collect();
        let mut out = Vec::new();
        for item in self.get_many(wanted).await? {
            if let Some(u) = Self::user_of(practice_id, &item) {
                out.push((u, from_item(item)?));
            }
        }
        Ok(out)
    }
}

impl Tx<'_> {
    /// A user's own flags on one entry (CONV-3, CONV-4), moving it between the index
    /// partitions of its views; guarded by the unread count it was read with, so the stats
    /// delta written beside it stays exact.
    pub fn entry_set_state(
        &mut self,
        practice_id: &PracticeId,
        user_id: &str,
        entry: &EntryItem,
        change: &StateChange,
    ) -> Result<()> {
        let mut sets: Vec<&str> = Vec::new();
        let mut removes: Vec<&str> = Vec::new();
        let mut u = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(&entry.conversation_id)))
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)")
            .expression_attribute_values(":old", n(entry.unread));
        if let Some(starred) = change.starred {
            sets.push("starred = :starred");
            u = u.expression_attribute_values(":starred", AttributeValue::Bool(starred));
            if starred {
                sets.push("gsi3pk = :star, gsi3sk = :sort");
                u = u
                    .expression_attribute_values(":star", s(keys::inbox_starred(practice_id, user_id)))
                    .expression_attribute_values(":sort", s(&entry.gsi1sk));
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
        user_id: &str,
        conversation_id: &ConversationId,
        expected_unread: u64,
        was_unread: bool,
        replacement: Option<&(Sealed, SenderRef)>,
    ) -> Result<()> {
        let mut expr = String::from("SET messageCount = messageCount - :one, unread = :unread");
        let mut update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(conversation_id)))
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)")
            .expression_attribute_values(":old", n(expected_unread))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":unread", n(expected_unread.saturating_sub(u64::from(was_unread))));
        if let Some((preview, sender)) = replacement {
            expr.push_str(", preview = :preview, lastSender = :sender");
            update = update
                .expression_attribute_values(":preview", to_value(preview)?)
                .expression_attribute_values(":sender", to_value(sender)?);
        }
        self.push_update(Guard::Entry, update.update_expression(expr))
    }

    /// Removes a former viewer's inbox entry (reassignment took its visibility away),
    /// guarded by the unread count its counters are corrected by.
    pub fn entry_delete(
        &mut self,
        practice_id: &PracticeId,
        user_id: &str,
        conversation_id: &ConversationId,
        expected_unread: u64,
    ) -> Result<()> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(conversation_id)))
            .condition_expression("attribute_not_exists(unread) OR unread = :old")
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
        user_id: &str,
        conversation_id: &ConversationId,
        summary: &Summary,
        at: &str,
        preview: &Sealed,
        sender: &SenderRef,
        priority: crate::domain::Priority,
        is_sender: bool,
    ) -> Result<()> {
        // A sender's own message adds nothing unread; what it had not read stays unread.
        let unread = if is_sender {
            "unread = if_not_exists(unread, :zero)"
        } else {
            "unread = if_not_exists(unread, :zero) + :one"
        };
        let urgent = priority == crate::domain::Priority::Urgent;
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(conversation_id)))
            .update_expression(format!(
                "SET summary = if_not_exists(summary, :summary), conversationId = :c, lastMessageAt = :at, \
                 gsi1pk = :inbox, gsi1sk = :sort, gsi2pk = :tab, gsi2sk = :sort, gsi3sk = :sort, \
                 preview = :preview, lastSender = :sender, urgent = :urgent, lastPriority = :priority, \
                 archived = :f, {unread} ADD messageCount :one"
            ))
            .expression_attribute_values(":summary", to_value(summary)?)
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
        self.push_update(Guard::Entry, update)
    }

    /// CONV-2: opening a conversation clears the caller's own unread count, nobody else's.
    pub fn entry_mark_read(
        &mut self,
        practice_id: &PracticeId,
        user_id: &str,
        conversation_id: &ConversationId,
        at: &str,
        expected_unread: u64,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(conversation_id)))
            .update_expression("SET unread = :zero, lastReadAt = :at")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)")
            .expression_attribute_values(":old", n(expected_unread))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at));
        self.push_update(Guard::Entry, update)
    }

    /// Records that a user's inbox (or a thread) reached it now: messages before are
    /// delivered to it.
    pub fn presence_seen(&mut self, practice_id: &PracticeId, user_id: &str, at: &str) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::PRESENCE_SK))
            .update_expression("SET inboxSeenAt = :at")
            .expression_attribute_values(":at", s(at));
        self.push_update(Guard::Presence, update)
    }

    /// Writes the current summary into a viewer's entry; a new viewer's entry is created
    /// with the conversation's latest activity so it sorts where it belongs.
    #[allow(clippy::too_many_arguments)]
    pub fn entry_set_summary(
        &mut self,
        practice_id: &PracticeId,
        user_id: &str,
        conversation: &ConversationItem,
        preview: &Sealed,
        last_sender: &SenderRef,
        visible_count: u64,
    ) -> Result<()> {
        let c = &conversation.id;
        let at = &conversation.last_message_at;
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(c)))
            .update_expression(
                "SET summary = :summary, conversationId = :c, lastMessageAt = if_not_exists(lastMessageAt, :at), \
                 gsi1pk = if_not_exists(gsi1pk, :inbox), gsi1sk = if_not_exists(gsi1sk, :sort), \
                 gsi2pk = if_not_exists(gsi2pk, :tab), gsi2sk = if_not_exists(gsi2sk, :sort), \
                 gsi3sk = if_not_exists(gsi3sk, :sort), \
                 preview = if_not_exists(preview, :preview), lastSender = if_not_exists(lastSender, :sender), \
                 messageCount = if_not_exists(messageCount, :count), unread = if_not_exists(unread, :count)",
            )
            .expression_attribute_values(":summary", to_value(&conversation.summary)?)
            .expression_attribute_values(":c", s(c))
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":inbox", s(keys::inbox(practice_id, user_id, false)))
            .expression_attribute_values(
                ":tab",
                s(keys::inbox_tab(practice_id, user_id, conversation.summary.kind.as_str(), false)),
            )
            .expression_attribute_values(":sort", s(keys::inbox_sort(at, c)))
            .expression_attribute_values(":preview", to_value(preview)?)
            .expression_attribute_values(":sender", to_value(last_sender)?)
            .expression_attribute_values(":count", n(visible_count));
        self.push_update(Guard::Entry, update)
    }
}
