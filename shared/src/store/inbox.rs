//! Each user's inbox (fan-out on write): its pages, search hits and entries as read; the
//! writes that move entries are in `entries`, the counters beside them in `stats`.

use super::*;
use crate::domain::{AssignedFilter, InboxPosition, InboxTab, InboxView};

/// Sort keys are `<lastMessageAt>#<conversation>`: a view's date range is a key range.
pub(super) fn with_date_range(
    mut q: QueryFluentBuilder,
    key_condition: &mut String,
    sk_attr: &str,
    view: &InboxView,
) -> QueryFluentBuilder {
    match (&view.from, &view.to) {
        (Some(from), Some(to)) => {
            key_condition.push_str(&format!(" AND {sk_attr} BETWEEN :from AND :to"));
            q = q.expression_attribute_values(":from", s(from)).expression_attribute_values(":to", s(format!("{to}~")));
        }
        (Some(from), None) => {
            key_condition.push_str(&format!(" AND {sk_attr} >= :from"));
            q = q.expression_attribute_values(":from", s(from));
        }
        (None, Some(to)) => {
            key_condition.push_str(&format!(" AND {sk_attr} <= :to"));
            q = q.expression_attribute_values(":to", s(format!("{to}~")));
        }
        (None, None) => {}
    }
    q
}

impl Store {
    pub async fn entry(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
    ) -> Result<Option<InboxEntry>> {
        self.get(keys::user(practice_id, user_id), &keys::entry_sk(conversation_id)).await
    }

    /// A user's own state in a conversation it has no entry for (the practice-wide view).
    pub async fn own_state(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversation_id: &ConversationId,
    ) -> Result<Option<OwnState>> {
        self.get(keys::user(practice_id, user_id), &keys::own_state_sk(conversation_id)).await
    }

    /// One page of a user's inbox, newest activity first: a single Query on the index of the
    /// view (tab), bounded by the date range in the key condition. Filters narrow the page
    /// after the read (DynamoDB applies `Limit` first), so a filtered page may be short and
    /// still carry a position to go on from.
    pub async fn inbox_page(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        view: &InboxView,
        limit: usize,
        after: Option<&InboxPosition>,
    ) -> Result<(Vec<InboxEntry>, Option<InboxPosition>)> {
        let (index, pk_attr, sk_attr, partition) = match view.tab {
            _ if view.by_due => (keys::GSI4, keys::GSI4PK, keys::GSI4SK, keys::inbox_due(practice_id, user_id)),
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
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_values(":pk", s(&partition))
            .scan_index_forward(view.by_due)
            .limit(limit as i32)
            .set_exclusive_start_key(start);
        // The date range bounds the newest-first sort key; due order is refused one (ops).
        let mut q = if view.by_due { q } else { with_date_range(q, &mut key_condition, sk_attr, view) };
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
        if let Some(w) = view.due {
            filters.push("replyDue.#dueAt <= :dueUntil");
            q = q.expression_attribute_names("#dueAt", "at").expression_attribute_values(":dueUntil", s(w.until));
            if let Some(after) = w.after {
                filters.push("replyDue.#dueAt > :dueAfter");
                q = q.expression_attribute_values(":dueAfter", s(after));
            }
        }
        if !filters.is_empty() {
            q = q.filter_expression(filters.join(" AND "));
        }
        let out = q.key_condition_expression(key_condition).send().await.map_err(sdk_error)?;
        let entries: Vec<InboxEntry> =
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
        user_id: &UserId,
        conversation_ids: &[ConversationId],
    ) -> Result<Vec<InboxEntry>> {
        let wanted = conversation_ids.iter().map(|c| (keys::user(practice_id, user_id), keys::entry_sk(c))).collect();
        self.get_many(wanted).await?.into_iter().map(from_item).collect()
    }

    /// Some users' entries for one conversation, by user.
    pub async fn entries_of(
        &self,
        practice_id: &PracticeId,
        users: &[UserId],
        conversation_id: &ConversationId,
    ) -> Result<Vec<(UserId, InboxEntry)>> {
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
