//! A user's own things: drafts, tasks, saved replies; and the billing month.

use super::*;
use crate::domain::{DraftId, SavedReplyId, TaskId};

impl Store {
    pub async fn draft(&self, practice_id: &PracticeId, user_id: &UserId, draft_id: &DraftId) -> Result<Option<Draft>> {
        self.get(keys::user(practice_id, user_id), &keys::draft_sk(draft_id)).await
    }

    /// A page of a user's drafts, newest first.
    pub async fn drafts(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Draft>, Option<String>)> {
        let pk = keys::user(practice_id, user_id);
        let start = after
            .map(|d| HashMap::from([(keys::PK.to_string(), s(&pk)), (keys::SK.to_string(), s(keys::draft_sk(d)))]));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":prefix", s(keys::DRAFT_SK_PREFIX))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        let drafts: Vec<Draft> = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_>>()?;
        let next = match out.last_evaluated_key {
            Some(k) if !k.is_empty() => drafts.last().map(|d| d.id.to_string()),
            _ => None,
        };
        Ok((drafts, next))
    }

    pub async fn task(&self, practice_id: &PracticeId, task_id: &TaskId) -> Result<Option<Task>> {
        self.get(keys::task(practice_id, task_id), keys::TASK_SK).await
    }

    /// An assignee's tasks, open ones first by due date (one Query on GSI1).
    pub async fn tasks_of(&self, practice_id: &PracticeId, assignee: &UserId, limit: usize) -> Result<Vec<Task>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(keys::tasks_of(practice_id, assignee)))
            .limit(limit as i32)
            .send()
            .await
            .map_err(sdk_error)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    /// The practice's saved replies and the user's own (two Queries).
    pub async fn saved_replies(&self, practice_id: &PracticeId, user_id: &UserId) -> Result<Vec<SavedReply>> {
        let mut out = Vec::new();
        for pk in [keys::saved_replies(practice_id), keys::user(practice_id, user_id)] {
            for item in self.query_partition(pk, Some("REPLY#")).await? {
                out.push(from_item(item)?);
            }
        }
        Ok(out)
    }

    /// One saved reply the user may use: the practice's, or its own.
    pub async fn saved_reply(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        reply_id: &SavedReplyId,
    ) -> Result<Option<SavedReply>> {
        let wanted = vec![
            (keys::saved_replies(practice_id), keys::saved_reply_sk(reply_id)),
            (keys::user(practice_id, user_id), keys::saved_reply_sk(reply_id)),
        ];
        self.get_many(wanted).await?.into_iter().next().map(from_item).transpose()
    }

    /// Billable messages of one month between two dates (REPLY-2 report).
    pub async fn billing_month(
        &self,
        practice_id: &PracticeId,
        month: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<BillableMessage>> {
        self.month_between(keys::billing_month(practice_id, month), from, to).await
    }

    /// Replies that stopped a reply clock in one month between two dates (SLA-5 report).
    pub async fn reply_times_month(
        &self,
        practice_id: &PracticeId,
        month: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<ReplyTime>> {
        self.month_between(keys::reply_times_month(practice_id, month), from, to).await
    }

    /// The items of a month partition sorted by time, from one date to another inclusive.
    pub(super) async fn month_between<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        from: &str,
        to: &str,
    ) -> Result<Vec<T>> {
        let query = self
            .query()
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(format!("{to}~")));
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }
}
