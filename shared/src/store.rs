//! The DynamoDB adapter: the only module that knows item shapes on the wire
//! (`AttributeValue` never leaves it). Reads are GetItem/Query/BatchGetItem on keys; there is
//! no Scan. Writes that belong together go through one `Tx` (TransactWriteItems).

use crate::error::{Error, Result};
use crate::keys;
use crate::records::*;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

mod budgets;
mod renames;
mod traces;

type Item = HashMap<String, AttributeValue>;

pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// The practice, its staff and its workgroups: what routing and fan-out need.
#[derive(Clone, Debug)]
pub struct Directory {
    pub practice: PracticeItem,
    pub staff: Vec<StaffItem>,
    pub workgroups: Vec<WorkgroupItem>,
}

impl Directory {
    pub fn staff_member(&self, id: &str) -> Option<&StaffItem> {
        self.staff.iter().find(|s| s.id == id)
    }
    pub fn workgroup(&self, id: &str) -> Option<&WorkgroupItem> {
        self.workgroups.iter().find(|w| w.id == id)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxStats {
    pub conversations: u64,
    pub unread_messages: u64,
    pub unique_patients: u64,
    pub messages: u64,
}

/// Which index partition an inbox page reads (INBOX-2 tabs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxTab {
    /// Everything not archived (the All tab).
    Active,
    Archived,
    /// One kind of conversation: `patient`, `team` or `broadcast`.
    Kind(&'static str),
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

/// A change to a user's inbox counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsDelta {
    pub conversations: i64,
    pub messages: i64,
    pub unread: i64,
    pub patients: i64,
}

/// A page position in the inbox: the last entry's sort key (GSI1) and its conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxPosition {
    pub sort: String,
    pub conversation_id: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn to_item<T: Serialize>(value: &T) -> Result<Item> {
    serde_dynamo::to_item(value).map_err(Error::internal)
}
fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(Error::internal)
}
fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(Error::internal)
}

/// Maps an SDK error by meaning: throttling, timeouts and server faults may pass with a
/// retry (503); anything else is our bug (500). The cause goes to the log, not the body.
pub(crate) fn sdk_error<E, R>(e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let retryable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => matches!(
            se.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionInProgressException"
                    // Cognito's throttling and faults
                    | "TooManyRequestsException"
                    | "InternalErrorException"
                    | "LimitExceededException"
            )
        ),
        _ => false,
    };
    if retryable {
        Error::Unavailable(Box::new(e))
    } else {
        Error::internal(e)
    }
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Store { client, table }
    }

    async fn get<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .send()
            .await
            .map_err(sdk_error)?;
        out.item.map(from_item).transpose()
    }

    /// All items of one partition (optionally under a sort-key prefix), following pages.
    async fn query_partition(&self, pk: String, sk_prefix: Option<&str>) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(&pk))
                .set_exclusive_start_key(start.take());
            q = match sk_prefix {
                Some(prefix) => q
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(prefix)),
                None => q.key_condition_expression("pk = :pk"),
            };
            let out = q.send().await.map_err(sdk_error)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    pub async fn practice(&self, practice_id: &str) -> Result<Option<PracticeItem>> {
        self.get(keys::practice(practice_id), keys::PRACTICE_SK).await
    }

    pub async fn directory(&self, practice_id: &str) -> Result<Option<Directory>> {
        let items = self.query_partition(keys::practice(practice_id), None).await?;
        let mut practice = None;
        let mut staff = Vec::new();
        let mut workgroups = Vec::new();
        for item in items {
            let sk = match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) => sk.clone(),
                _ => continue,
            };
            if sk == keys::PRACTICE_SK {
                practice = Some(from_item(item)?);
            } else if sk.starts_with("STAFF#") {
                staff.push(from_item(item)?);
            } else if sk.starts_with("WG#") {
                workgroups.push(from_item(item)?);
            }
        }
        Ok(practice.map(|practice| Directory { practice, staff, workgroups }))
    }

    /// Read consistently: a deactivation or a role change must hold from the next request on.
    pub async fn staff(&self, practice_id: &str, user_id: &str) -> Result<Option<StaffItem>> {
        self.get_consistent(&keys::practice(practice_id), &keys::staff_sk(user_id)).await
    }

    /// Read consistently, as `staff`.
    pub async fn patient(&self, practice_id: &str, patient_id: &str) -> Result<Option<PatientItem>> {
        self.get_consistent(&keys::patient(practice_id, patient_id), keys::PATIENT_SK).await
    }

    /// The patient finder: the blind-index entries under one token (a name prefix).
    pub async fn patients_by_token(&self, practice_id: &str, token: &str, limit: i32) -> Result<Vec<PatientTokenItem>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::patient_token(practice_id, token)))
            .limit(limit)
            .send()
            .await
            .map_err(sdk_error)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    pub async fn conversation(&self, practice_id: &str, conversation_id: &str) -> Result<Option<ConversationItem>> {
        self.get(keys::conversation(practice_id, conversation_id), keys::CONVERSATION_SK).await
    }

    /// A conversation and its messages, oldest first, in one Query of its partition.
    pub async fn thread(
        &self,
        practice_id: &str,
        conversation_id: &str,
    ) -> Result<Option<(ConversationItem, Vec<MessageItem>)>> {
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

    pub async fn entry(&self, practice_id: &str, user_id: &str, conversation_id: &str) -> Result<Option<EntryItem>> {
        self.get(keys::user(practice_id, user_id), &keys::entry_sk(conversation_id)).await
    }

    /// One page of a user's inbox, newest activity first: a single Query on the index of the
    /// view (tab), bounded by the date range in the key condition. Filters narrow the page
    /// after the read (DynamoDB applies `Limit` first), so a filtered page may be short and
    /// still carry a position to go on from.
    pub async fn inbox_page(
        &self,
        practice_id: &str,
        user_id: &str,
        view: &InboxView,
        limit: usize,
        after: Option<&InboxPosition>,
    ) -> Result<(Vec<EntryItem>, Option<InboxPosition>)> {
        let (index, pk_attr, sk_attr, partition) = match view.tab {
            InboxTab::Active => (keys::GSI1, keys::GSI1PK, keys::GSI1SK, keys::inbox(practice_id, user_id, false)),
            InboxTab::Archived => (keys::GSI1, keys::GSI1PK, keys::GSI1SK, keys::inbox(practice_id, user_id, true)),
            InboxTab::Kind(kind) => {
                (keys::GSI2, keys::GSI2PK, keys::GSI2SK, keys::inbox_tab(practice_id, user_id, kind, false))
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

    /// A user's inbox counters (INBOX-4): one GetItem, whatever the size of its inbox.
    pub async fn stats(&self, practice_id: &str, user_id: &str) -> Result<InboxStats> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::STATS_SK))
            .send()
            .await
            .map_err(sdk_error)?;
        let item = out.item.unwrap_or_default();
        let num = |k: &str| match item.get(k) {
            Some(AttributeValue::N(v)) => v.parse::<i64>().unwrap_or(0).max(0) as u64,
            _ => 0,
        };
        Ok(InboxStats {
            conversations: num("conversations"),
            messages: num("messages"),
            unread_messages: num("unreadMessages"),
            unique_patients: num("uniquePatients"),
        })
    }

    /// The counters recomputed from a user's entries (a full read of its inbox): what the
    /// counters must equal. For verification and repair, never for a request.
    pub async fn recount_stats(&self, practice_id: &str, user_id: &str) -> Result<InboxStats> {
        let mut stats = InboxStats::default();
        let mut patients = std::collections::HashSet::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(keys::user(practice_id, user_id)))
                .expression_attribute_values(":prefix", s("CONV#"))
                .projection_expression("unread, messageCount, summary, gsi1pk")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            for item in out.items.unwrap_or_default() {
                if !item.contains_key(keys::GSI1PK) {
                    continue;
                }
                let num = |k: &str| match item.get(k) {
                    Some(AttributeValue::N(v)) => v.parse::<u64>().unwrap_or(0),
                    _ => 0,
                };
                stats.conversations += 1;
                stats.messages += num("messageCount");
                let unread = num("unread");
                stats.unread_messages += unread;
                if let Some(AttributeValue::M(summary)) = item.get("summary") {
                    if let Some(AttributeValue::M(patient)) = summary.get("patient") {
                        if let Some(AttributeValue::S(id)) = patient.get("id") {
                            patients.insert(id.clone());
                        }
                    }
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        stats.unique_patients = patients.len() as u64;
        Ok(stats)
    }

    /// Conversations under one search token, newest first, one page (INBOX-3).
    pub async fn search_hits(
        &self,
        practice_id: &str,
        token: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>)> {
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
        let hits: Vec<String> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| match i.get(keys::SK) {
                Some(AttributeValue::S(c)) => Some(c.clone()),
                _ => None,
            })
            .collect();
        let next = match out.last_evaluated_key {
            Some(k) if !k.is_empty() => hits.last().cloned(),
            _ => None,
        };
        Ok((hits, next))
    }

    pub async fn draft(&self, practice_id: &str, user_id: &str, draft_id: &str) -> Result<Option<DraftItem>> {
        self.get(keys::user(practice_id, user_id), &keys::draft_sk(draft_id)).await
    }

    /// A page of a user's drafts, newest first.
    pub async fn drafts(
        &self,
        practice_id: &str,
        user_id: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<DraftItem>, Option<String>)> {
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
        let drafts: Vec<DraftItem> = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_>>()?;
        let next = match out.last_evaluated_key {
            Some(k) if !k.is_empty() => drafts.last().map(|d| d.id.clone()),
            _ => None,
        };
        Ok((drafts, next))
    }

    pub async fn task(&self, practice_id: &str, task_id: &str) -> Result<Option<TaskItem>> {
        self.get(keys::task(practice_id, task_id), keys::TASK_SK).await
    }

    /// An assignee's tasks, open ones first by due date (one Query on GSI1).
    pub async fn tasks_of(&self, practice_id: &str, assignee: &str, limit: usize) -> Result<Vec<TaskItem>> {
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
    pub async fn saved_replies(&self, practice_id: &str, user_id: &str) -> Result<Vec<SavedReplyItem>> {
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
        practice_id: &str,
        user_id: &str,
        reply_id: &str,
    ) -> Result<Option<SavedReplyItem>> {
        let wanted = vec![
            (keys::saved_replies(practice_id), keys::saved_reply_sk(reply_id)),
            (keys::user(practice_id, user_id), keys::saved_reply_sk(reply_id)),
        ];
        self.get_many(wanted).await?.into_iter().next().map(from_item).transpose()
    }

    /// Billable messages of one month between two times (REPLY-2 report).
    pub async fn billing_month(
        &self,
        practice_id: &str,
        month: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<BillingItem>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::billing_month(practice_id, month)))
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(format!("{to}~")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            for item in out.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// An outbox item, read consistently: the notifier must see the marks of an earlier try.
    pub async fn outbox(&self, pk: &str) -> Result<Option<OutboxItem>> {
        self.get_consistent(pk, keys::OUTBOX_SK).await
    }

    /// Records that a recipient of an outbox item has been notified (NOTIFY-3).
    pub async fn outbox_mark_sent(&self, pk: &str, recipient: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(keys::OUTBOX_SK))
            .update_expression("SET sent = list_append(if_not_exists(sent, :none), :r)")
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":r", AttributeValue::L(vec![s(recipient)]))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// NOTIFY-4: the practice a two-way SMS number belongs to.
    pub async fn sms_number_owner(&self, number: &str) -> Result<Option<String>> {
        let item: Option<SmsNumberItem> = self.get(keys::sms_number(number), keys::SMS_NUMBER_SK).await?;
        Ok(item.map(|i| i.practice_id))
    }

    pub async fn sms_peer(&self, practice_id: &str, token: &str) -> Result<Option<SmsPeerItem>> {
        self.get(keys::sms_peer(practice_id, token), keys::SMS_PEER_SK).await
    }

    pub async fn put_sms_peer(&self, peer: &SmsPeerItem) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(peer)?))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// NOTIFY-5: a practice's reminders due before `before` (GSI1), oldest first.
    pub async fn reminders_due(&self, practice_id: &str, before: &str, limit: usize) -> Result<Vec<ReminderItem>> {
        let items = self.queue_before(keys::GSI1, &keys::reminders_due(practice_id), before, limit).await?;
        items.into_iter().map(from_item).collect()
    }

    /// An audit event on its own (a denied attempt: no other write to join).
    pub async fn put_audit(&self, event: &AuditItem) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(event)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// One audit event, read consistently (the chainer runs right after its write).
    pub async fn audit_event(&self, pk: &str, sk: &str) -> Result<Option<AuditItem>> {
        self.get_consistent(pk, sk).await
    }

    pub async fn audit_head(&self, pk: &str) -> Result<Option<AuditHeadItem>> {
        self.get_consistent(pk, keys::AUDIT_HEAD_SK).await
    }

    async fn get_consistent<T: DeserializeOwned>(&self, pk: &str, sk: &str) -> Result<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        out.item.map(from_item).transpose()
    }

    /// Links an event into its chain and moves the head, atomically; refused if another
    /// linking got there first (the head moved, or the event is linked).
    pub async fn audit_link(&self, event: &AuditItem, prev_seq: u64, prev_hash: &str, hash: &str) -> Result<()> {
        let seq = prev_seq + 1;
        let practice_id = event.practice_id.as_str();
        let link = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&event.pk))
            .key(keys::SK, s(&event.sk))
            .update_expression("SET seq = :seq, prevHash = :prev, #hash = :hash")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#hash)")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":seq", AttributeValue::N(seq.to_string()))
            .expression_attribute_values(":prev", s(prev_hash))
            .expression_attribute_values(":hash", s(hash))
            .build()
            .map_err(Error::internal)?;
        let head = AuditHeadItem {
            pk: event.pk.clone(),
            sk: keys::AUDIT_HEAD_SK.into(),
            gsi2pk: keys::audit_chains(practice_id),
            gsi2sk: event.pk.clone(),
            seq,
            hash: hash.to_string(),
        };
        let (condition, values) = if prev_seq == 0 {
            ("attribute_not_exists(pk)", vec![])
        } else {
            ("seq = :prev_seq", vec![(":prev_seq".to_string(), AttributeValue::N(prev_seq.to_string()))])
        };
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&head)?))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then(|| values.into_iter().collect()))
            .build()
            .map_err(Error::internal)?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(link).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// A page of audit events, newest first, below `before`: a record's partition, or GSI1
    /// (a patient's events). The next page starts below the last sort key answered.
    pub async fn audit_page(
        &self,
        index: Option<&str>,
        partition: &str,
        before: &str,
        limit: usize,
    ) -> Result<(Vec<AuditItem>, Option<String>)> {
        let (pk_name, sk_name) = match index {
            Some(_) => (keys::GSI1PK, keys::GSI1SK),
            None => (keys::PK, keys::SK),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#sk", sk_name)
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":before", s(before))
            .scan_index_forward(false)
            .limit(limit as i32)
            .send()
            .await
            .map_err(sdk_error)?;
        let items = out.items.unwrap_or_default();
        let next = match (&out.last_evaluated_key, items.last()) {
            (Some(k), Some(last)) if !k.is_empty() => match last.get(sk_name) {
                Some(AttributeValue::S(sk)) => Some(sk.clone()),
                _ => None,
            },
            _ => None,
        };
        Ok((items.into_iter().map(from_item).collect::<Result<_>>()?, next))
    }

    /// Every audit chain of a practice (GSI2 over chain heads).
    pub async fn audit_chains(&self, practice_id: &str) -> Result<Vec<String>> {
        let mut chains = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression("gsi2pk = :pk")
                .expression_attribute_values(":pk", s(keys::audit_chains(practice_id)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            chains.extend(out.items.unwrap_or_default().into_iter().filter_map(|i| match i.get(keys::PK) {
                Some(AttributeValue::S(pk)) => Some(pk.clone()),
                _ => None,
            }));
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(chains),
            }
        }
    }

    /// A chain's events and its head.
    pub async fn audit_chain(&self, pk: &str) -> Result<(Vec<AuditItem>, Option<AuditHeadItem>)> {
        let mut events = Vec::new();
        let mut head = None;
        for item in self.query_partition(pk.to_string(), None).await? {
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk == keys::AUDIT_HEAD_SK => head = Some(from_item(item)?),
                _ => events.push(from_item(item)?),
            }
        }
        Ok((events, head))
    }

    /// A job's queue on an index (`<index>pk` / `<index>sk`): the items of partition `pk`
    /// whose sort key is below `before`, up to `limit`, oldest first.
    async fn queue_before(&self, index: &str, pk: &str, before: &str, limit: usize) -> Result<Vec<Item>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#pk", format!("{index}pk"))
            .expression_attribute_names("#sk", format!("{index}sk"))
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":before", s(before))
            .limit(limit as i32)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.items.unwrap_or_default())
    }

    /// Every practice's id (the registry; a job's walk, never a request's).
    pub async fn practice_ids(&self) -> Result<Vec<String>> {
        Ok(self
            .query_partition(keys::PRACTICES.to_string(), None)
            .await?
            .into_iter()
            .filter_map(|i| match i.get(keys::SK) {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            })
            .collect())
    }

    /// Conversations of a practice whose latest activity is before `cutoff` (GSI2), up to
    /// `limit`, oldest first.
    pub async fn conversations_idle_since(&self, practice_id: &str, cutoff: &str, limit: usize) -> Result<Vec<String>> {
        let items = self.queue_before(keys::GSI2, &keys::practice_conversations(practice_id), cutoff, limit).await?;
        Ok(items
            .into_iter()
            .filter_map(|i| match i.get("id") {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            })
            .collect())
    }

    /// ATT-6: the first download by the patient starts the file's retention clock (once).
    pub async fn attachment_first_patient_download(
        &self,
        practice_id: &str,
        attachment_id: &str,
        at: &str,
        due: &str,
    ) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::attachment(practice_id, attachment_id)))
            .key(keys::SK, s(keys::ATTACHMENT_SK))
            .update_expression("SET firstPatientDownloadAt = :at, gsi3pk = :due_pk, gsi3sk = :due_sk")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(firstPatientDownloadAt)")
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":due_pk", s(keys::attachments_due(practice_id)))
            .expression_attribute_values(":due_sk", s(format!("{due}#{attachment_id}")))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }

    /// Attachments in one of the sweeper's queues whose time is before `before`.
    pub async fn attachments_queued(&self, queue_pk: &str, before: &str, limit: usize) -> Result<Vec<AttachmentItem>> {
        let items = self.queue_before(keys::GSI3, queue_pk, before, limit).await?;
        items.into_iter().map(from_item).collect()
    }

    /// Marks an attachment expired (its file is deleted) and takes it off the queues.
    pub async fn attachment_expired(&self, practice_id: &str, attachment_id: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::attachment(practice_id, attachment_id)))
            .key(keys::SK, s(keys::ATTACHMENT_SK))
            .update_expression("SET #status = :expired REMOVE gsi3pk, gsi3sk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expired", s("expired"))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    pub async fn attachment(&self, practice_id: &str, attachment_id: &str) -> Result<Option<AttachmentItem>> {
        self.get(keys::attachment(practice_id, attachment_id), keys::ATTACHMENT_SK).await
    }

    /// Reads records by key, 100 keys a BatchGetItem, resubmitting what DynamoDB leaves
    /// unprocessed. Absent keys are simply absent from the answer.
    async fn get_many(&self, keys_wanted: Vec<(String, String)>) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        for chunk in keys_wanted.chunks(100) {
            let list = chunk
                .iter()
                .map(|(pk, sk)| HashMap::from([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))]))
                .collect();
            let keys_and_attributes = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(list))
                .build()
                .map_err(Error::internal)?;
            let mut request = HashMap::from([(self.table.clone(), keys_and_attributes)]);
            let mut attempt = 0;
            loop {
                let out =
                    self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(sdk_error)?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                match out.unprocessed_keys {
                    Some(rest) if !rest.is_empty() && attempt < 5 => {
                        request = rest;
                        tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                        attempt += 1;
                    }
                    Some(rest) if !rest.is_empty() => {
                        return Err(Error::Unavailable("unprocessed keys after retries".into()))
                    }
                    _ => break,
                }
            }
        }
        Ok(found)
    }

    /// The user whose partition an item is in.
    fn user_of(practice_id: &str, item: &Item) -> Option<String> {
        match item.get(keys::PK) {
            Some(AttributeValue::S(pk)) => pk.strip_prefix(&keys::user(practice_id, "")).map(str::to_string),
            _ => None,
        }
    }

    /// A user's entries for some conversations; absent ones are the conversations the user
    /// may not see.
    pub async fn entries(
        &self,
        practice_id: &str,
        user_id: &str,
        conversation_ids: &[String],
    ) -> Result<Vec<EntryItem>> {
        let wanted = conversation_ids.iter().map(|c| (keys::user(practice_id, user_id), keys::entry_sk(c))).collect();
        self.get_many(wanted).await?.into_iter().map(from_item).collect()
    }

    /// Some users' entries for one conversation, by user.
    pub async fn entries_of(
        &self,
        practice_id: &str,
        users: &[String],
        conversation_id: &str,
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

    /// How many of each user's conversations are about this patient (0 where none).
    pub async fn patient_markers(
        &self,
        practice_id: &str,
        users: &[String],
        patient_id: &str,
    ) -> Result<HashMap<String, u64>> {
        let mut out: HashMap<String, u64> = users.iter().map(|u| (u.clone(), 0)).collect();
        let wanted = users.iter().map(|u| (keys::user(practice_id, u), keys::patient_marker_sk(patient_id))).collect();
        for item in self.get_many(wanted).await? {
            if let (Some(u), Some(AttributeValue::N(c))) =
                (Self::user_of(practice_id, &item), item.get("conversations"))
            {
                out.insert(u, c.parse().unwrap_or(0));
            }
        }
        Ok(out)
    }

    /// For each user: when it last read this conversation and when its inbox last reached it
    /// (entries and presence items in one read), for read receipts.
    pub async fn receipt_marks(
        &self,
        practice_id: &str,
        users: &[String],
        conversation_id: &str,
    ) -> Result<HashMap<String, (Option<String>, Option<String>)>> {
        let wanted = users
            .iter()
            .flat_map(|u| {
                [
                    (keys::user(practice_id, u), keys::entry_sk(conversation_id)),
                    (keys::user(practice_id, u), keys::PRESENCE_SK.to_string()),
                ]
            })
            .collect();
        let mut marks: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
        for item in self.get_many(wanted).await? {
            let Some(user) = Self::user_of(practice_id, &item) else { continue };
            let text = |k: &str| match item.get(k) {
                Some(AttributeValue::S(v)) => Some(v.clone()),
                _ => None,
            };
            let slot = marks.entry(user).or_default();
            if item.get(keys::SK) == Some(&s(keys::PRESENCE_SK)) {
                slot.1 = text("inboxSeenAt");
            } else {
                slot.0 = text("lastReadAt");
            }
        }
        Ok(marks)
    }

    pub async fn attachments(&self, practice_id: &str, ids: &[String]) -> Result<Vec<AttachmentItem>> {
        let wanted =
            ids.iter().map(|id| (keys::attachment(practice_id, id), keys::ATTACHMENT_SK.to_string())).collect();
        self.get_many(wanted).await?.into_iter().map(from_item).collect()
    }

    pub async fn idempotency(
        &self,
        practice_id: &str,
        caller: &str,
        key_hash: &str,
    ) -> Result<Option<IdempotencyItem>> {
        self.get(keys::idempotency(practice_id, caller, key_hash), keys::IDEMPOTENCY_SK).await
    }

    /// Writes many independent records in batches of 25 (BatchWriteItem), resubmitting what
    /// DynamoDB leaves unprocessed. For bulk loads (seeding, migrations), never for writes
    /// that must happen together.
    pub async fn put_batch<T: Serialize>(&self, records: &[T]) -> Result<()> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in records.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for r in chunk {
                let put = PutRequest::builder().set_item(Some(to_item(r)?)).build().map_err(Error::internal)?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            let mut pending = HashMap::from([(self.table.clone(), requests)]);
            for attempt in 0.. {
                let out =
                    self.client.batch_write_item().set_request_items(Some(pending)).send().await.map_err(sdk_error)?;
                match out.unprocessed_items {
                    Some(rest) if !rest.is_empty() && attempt < 8 => {
                        pending = rest;
                        tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                    }
                    Some(rest) if !rest.is_empty() => {
                        return Err(Error::Unavailable("unprocessed items after retries".into()))
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// Deletes records by key in batches of 25, resubmitting what is left unprocessed.
    pub async fn delete_batch(&self, keys_to_delete: &[(String, String)]) -> Result<()> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        for chunk in keys_to_delete.chunks(25) {
            let requests = chunk
                .iter()
                .map(|(pk, sk)| {
                    let d = DeleteRequest::builder()
                        .key(keys::PK, s(pk))
                        .key(keys::SK, s(sk))
                        .build()
                        .map_err(Error::internal)?;
                    Ok(WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<Vec<_>>>()?;
            let mut pending = HashMap::from([(self.table.clone(), requests)]);
            for attempt in 0.. {
                let out =
                    self.client.batch_write_item().set_request_items(Some(pending)).send().await.map_err(sdk_error)?;
                match out.unprocessed_items {
                    Some(rest) if !rest.is_empty() && attempt < 8 => {
                        pending = rest;
                        tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                    }
                    Some(rest) if !rest.is_empty() => {
                        return Err(Error::Unavailable("unprocessed deletes after retries".into()))
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// Commits a transaction. A failed condition comes back as `Ok(Err(label))`, naming the
    /// write whose condition failed, so the caller can answer by meaning (a replayed
    /// idempotency key, a closed thread, a deactivated user). Conflicts with concurrent
    /// transactions are retried here with backoff.
    pub async fn commit(&self, tx: Tx) -> Result<std::result::Result<(), &'static str>> {
        if tx.items.is_empty() {
            return Ok(Ok(()));
        }
        if tx.items.len() > 100 {
            return Err(Error::Conflict("this change touches more than 100 records at once".into()));
        }
        let mut attempt: u32 = 0;
        loop {
            let result = self.client.transact_write_items().set_transact_items(Some(tx.items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(Ok(())),
                Err(e) => e,
            };
            let reasons: Vec<Option<String>> = match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                    c.cancellation_reasons().iter().map(|r| r.code().map(str::to_string)).collect()
                }
                _ => return Err(sdk_error(err)),
            };
            if let Some(i) = reasons.iter().position(|r| r.as_deref() == Some("ConditionalCheckFailed")) {
                return Ok(Err(tx.labels.get(i).copied().unwrap_or("unknown")));
            }
            let conflict = reasons.iter().any(|r| {
                matches!(
                    r.as_deref(),
                    Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded")
                )
            });
            if !conflict || attempt >= 8 {
                return Err(sdk_error(err));
            }
            attempt += 1;
            let jitter = u64::from(aws_lc_rs_jitter()) % (10 << attempt.min(5));
            tokio::time::sleep(Duration::from_millis(5 + jitter)).await;
        }
    }

    /// A conditional single write, for records that stand alone (an attachment's status).
    pub async fn update_attachment_status(
        &self,
        practice_id: &str,
        attachment_id: &str,
        from: &str,
        to: &str,
    ) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::attachment(practice_id, attachment_id)))
            .key(keys::SK, s(keys::ATTACHMENT_SK))
            .update_expression("SET #status = :to")
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":from", s(from))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(sdk_error(e)),
        }
    }
}

fn aws_lc_rs_jitter() -> u16 {
    let mut b = [0u8; 2];
    let _ = aws_lc_rs::rand::fill(&mut b);
    u16::from_be_bytes(b)
}

/// The writes of one operation, committed together or not at all.
#[derive(Default)]
pub struct Tx {
    items: Vec<TransactWriteItem>,
    labels: Vec<&'static str>,
}

impl Tx {
    pub fn new() -> Self {
        Tx::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push_put(
        &mut self,
        label: &'static str,
        item: Item,
        condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
        table: &str,
    ) -> Result<()> {
        let mut put = Put::builder().table_name(table).set_item(Some(item));
        if let Some((expr, values)) = condition {
            put = put.condition_expression(expr);
            for (k, v) in values {
                put = put.expression_attribute_values(k, v);
            }
        }
        self.items.push(TransactWriteItem::builder().put(put.build().map_err(Error::internal)?).build());
        self.labels.push(label);
        Ok(())
    }

    /// Writes a record that must not exist yet.
    pub fn put_new<T: Serialize>(&mut self, store: &Store, label: &'static str, record: &T) -> Result<()> {
        self.push_put(label, to_item(record)?, Some(("attribute_not_exists(pk)", vec![])), &store.table)
    }

    /// An edit of a record read as `before`: sets only the attributes that differ in `after`,
    /// on the condition that each still holds the value read. Two edits of one record cannot
    /// undo each other (a lost update), and attributes the edit did not touch (the user's own
    /// out-of-office, say) are left as they are. False when nothing differs (nothing pushed).
    pub fn update_changed<T: Serialize>(
        &mut self,
        store: &Store,
        label: &'static str,
        before: &T,
        after: &T,
    ) -> Result<bool> {
        let (old, new) = (to_item(before)?, to_item(after)?);
        let mut names: Vec<&String> = old.keys().chain(new.keys()).filter(|k| old.get(*k) != new.get(*k)).collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Ok(false);
        }
        let (pk, sk) = (old.get(keys::PK).cloned(), old.get(keys::SK).cloned());
        let mut update = Update::builder().table_name(&store.table).set_key(Some(HashMap::from([
            (keys::PK.to_string(), pk.ok_or_else(|| Error::internal_msg("no pk"))?),
            (keys::SK.to_string(), sk.ok_or_else(|| Error::internal_msg("no sk"))?),
        ])));
        let (mut sets, mut removes, mut conditions) =
            (Vec::new(), Vec::new(), vec!["attribute_exists(pk)".to_string()]);
        for (i, name) in names.iter().enumerate() {
            update = update.expression_attribute_names(format!("#a{i}"), name.as_str());
            match new.get(*name) {
                Some(v) => {
                    sets.push(format!("#a{i} = :n{i}"));
                    update = update.expression_attribute_values(format!(":n{i}"), v.clone());
                }
                None => removes.push(format!("#a{i}")),
            }
            match old.get(*name) {
                Some(v) => {
                    conditions.push(format!("#a{i} = :o{i}"));
                    update = update.expression_attribute_values(format!(":o{i}"), v.clone());
                }
                None => conditions.push(format!("attribute_not_exists(#a{i})")),
            }
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression.push_str(&format!("SET {}", sets.join(", ")));
        }
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let update = update.update_expression(expression.trim()).condition_expression(conditions.join(" AND "));
        self.push_update(label, update)?;
        Ok(true)
    }

    /// Writes (or replaces) a record.
    pub fn put<T: Serialize>(&mut self, store: &Store, label: &'static str, record: &T) -> Result<()> {
        self.push_put(label, to_item(record)?, None, &store.table)
    }

    /// NOTIFY-4: claims a two-way SMS number for a practice; refused if another has it.
    pub fn claim_sms_number(&mut self, store: &Store, number: &str, practice_id: &str) -> Result<()> {
        let item = SmsNumberItem {
            pk: keys::sms_number(number),
            sk: keys::SMS_NUMBER_SK.into(),
            practice_id: practice_id.to_string(),
        };
        self.push_put(
            "sms-number",
            to_item(&item)?,
            Some(("attribute_not_exists(pk) OR practiceId = :p", vec![(":p", s(practice_id))])),
            &store.table,
        )
    }

    /// Claims an idempotency key: absent, or expired (TTL deletion can lag by a day or two).
    pub fn claim_idempotency_key(&mut self, store: &Store, record: &IdempotencyItem, now_epoch: i64) -> Result<()> {
        self.push_put(
            "idempotency",
            to_item(record)?,
            Some((
                "attribute_not_exists(pk) OR expiresAt < :now",
                vec![(":now", AttributeValue::N(now_epoch.to_string()))],
            )),
            &store.table,
        )?;
        // First, so that a replay is recognised before any other condition of the retry.
        let item = self.items.pop().expect("just pushed");
        let label = self.labels.pop().expect("just pushed");
        self.items.insert(0, item);
        self.labels.insert(0, label);
        Ok(())
    }

    /// Deletes a record that must exist (a draft being sent or deleted).
    pub fn delete_existing(&mut self, store: &Store, label: &'static str, pk: String, sk: String) -> Result<()> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&store.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(Error::internal)?;
        self.items.push(TransactWriteItem::builder().delete(delete).build());
        self.labels.push(label);
        Ok(())
    }

    /// A user's own flags on one entry (CONV-3, CONV-4), moving it between the index
    /// partitions of its views; guarded by the unread count it was read with, so the stats
    /// delta written beside it stays exact.
    pub fn entry_set_state(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        entry: &EntryItem,
        change: &StateChange,
    ) -> Result<()> {
        let mut sets: Vec<&str> = Vec::new();
        let mut removes: Vec<&str> = Vec::new();
        let mut u = Update::builder()
            .table_name(&store.table)
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
                    s(keys::inbox_tab(practice_id, user_id, &entry.summary.kind, archived)),
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
        self.push_update("entry", u.update_expression(expr))
    }

    /// Adds to a user's inbox counters (INBOX-4); negative numbers subtract.
    pub fn stats_add(&mut self, store: &Store, practice_id: &str, user_id: &str, d: StatsDelta) -> Result<()> {
        if d == StatsDelta::default() {
            return Ok(());
        }
        let signed = |v: i64| AttributeValue::N(v.to_string());
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::STATS_SK))
            .update_expression("ADD conversations :c, messages :m, unreadMessages :u, uniquePatients :p")
            .expression_attribute_values(":c", signed(d.conversations))
            .expression_attribute_values(":m", signed(d.messages))
            .expression_attribute_values(":u", signed(d.unread))
            .expression_attribute_values(":p", signed(d.patients));
        self.push_update("stats", update)
    }

    /// Counts one more (or one fewer) of a user's conversations about a patient. `known` is
    /// the count read before: the write is conditional on it, and the first conversation
    /// creates the marker, the last removes it (so `uniquePatients` moves exactly then).
    pub fn patient_marker(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        patient_id: &str,
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
            return self.push_put("marker", item, Some(("attribute_not_exists(pk)", vec![])), &store.table);
        }
        if after <= 0 {
            let delete = aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&store.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .condition_expression("conversations = :known")
                .expression_attribute_values(":known", n(known))
                .build()
                .map_err(Error::internal)?;
            self.items.push(TransactWriteItem::builder().delete(delete).build());
            self.labels.push("marker");
            return Ok(());
        }
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("SET conversations = :after")
            .condition_expression("conversations = :known")
            .expression_attribute_values(":after", n(after as u64))
            .expression_attribute_values(":known", n(known));
        self.push_update("marker", update)
    }

    /// Replaces a practice's settings (SET-1).
    /// `sms_number_read` is the practice's SMS number as the caller read it: the operator may
    /// assign a new one meanwhile (ACCT-4), and a settings edit must not put the old one back.
    pub fn practice_settings(
        &mut self,
        store: &Store,
        practice_id: &str,
        settings: &Settings,
        sms_number_read: &str,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::practice(practice_id)))
            .key(keys::SK, s(keys::PRACTICE_SK))
            .update_expression("SET settings = :s")
            .condition_expression(
                "attribute_exists(pk) AND (settings.smsNumber = :n OR attribute_not_exists(settings.smsNumber))",
            )
            .expression_attribute_values(":s", to_value(settings)?)
            .expression_attribute_values(":n", s(sms_number_read));
        self.push_update("practice", update)
    }

    /// Sets or clears a staff user's out-of-office (REPLY-5); only while the user is active.
    pub fn staff_out_of_office(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        ooo: Option<&OutOfOffice>,
    ) -> Result<()> {
        let mut update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::practice(practice_id)))
            .key(keys::SK, s(keys::staff_sk(user_id)))
            .condition_expression("active = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true));
        update = match ooo {
            Some(o) => update.update_expression("SET outOfOffice = :o").expression_attribute_values(":o", to_value(o)?),
            None => update.update_expression("REMOVE outOfOffice"),
        };
        self.push_update("actor", update)
    }

    /// A user's notification preference (NOTIFY-1) that needs no proof (none, or the address
    /// on file): on the staff record (active only) or on the patient's record. A destination
    /// still waiting for its code is dropped.
    pub fn user_notify(&mut self, store: &Store, caller: &crate::domain::Caller, prefs: &NotifyPrefs) -> Result<()> {
        let (update, condition) = user_record(store, caller);
        let update = update
            .condition_expression(condition)
            .update_expression("SET notify = :n REMOVE notifyPending")
            .expression_attribute_values(":n", to_value(prefs)?);
        self.push_update("actor", update)
    }

    /// ACCT-3: the caller's TOTP second factor is set up, as of `at`.
    pub fn user_totp_enrolled(&mut self, store: &Store, caller: &crate::domain::Caller, at: &str) -> Result<()> {
        let (update, condition) = user_record(store, caller);
        let update = update
            .condition_expression(condition)
            .update_expression("SET totpEnrolledAt = :at")
            .expression_attribute_values(":at", s(at));
        self.push_update("actor", update)
    }

    /// ACCT-4: a destination waiting for its one-time code (replaces any earlier one).
    pub fn user_notify_pending(
        &mut self,
        store: &Store,
        caller: &crate::domain::Caller,
        pending: &PendingDestination,
    ) -> Result<()> {
        let (update, condition) = user_record(store, caller);
        let update = update
            .condition_expression(condition)
            .update_expression("SET notifyPending = :p")
            .expression_attribute_values(":p", to_value(pending)?);
        self.push_update("actor", update)
    }

    /// ACCT-4: the right code: the pending destination becomes the preference. Refused
    /// ("pending") if the code was replaced or used meanwhile.
    pub fn user_notify_proven(
        &mut self,
        store: &Store,
        caller: &crate::domain::Caller,
        prefs: &NotifyPrefs,
        code_hash: &str,
    ) -> Result<()> {
        let (update, condition) = user_record(store, caller);
        let update = update
            .condition_expression(format!("{condition} AND notifyPending.codeHash = :h"))
            .update_expression("SET notify = :n REMOVE notifyPending")
            .expression_attribute_values(":n", to_value(prefs)?)
            .expression_attribute_values(":h", s(code_hash));
        self.push_update("pending", update)
    }

    /// ACCT-4: an expired code drops its pending destination (unless replaced meanwhile).
    pub fn user_notify_expired(
        &mut self,
        store: &Store,
        caller: &crate::domain::Caller,
        code_hash: &str,
    ) -> Result<()> {
        let (update, condition) = user_record(store, caller);
        let update = update
            .condition_expression(format!("{condition} AND notifyPending.codeHash = :h"))
            .update_expression("REMOVE notifyPending")
            .expression_attribute_values(":h", s(code_hash));
        self.push_update("pending", update)
    }

    /// ACCT-4: a wrong code spends one attempt, conditioned on the count read, so parallel
    /// guesses cannot share an attempt; the last one (or an expired code) drops the pending
    /// destination. Refused ("pending") if the count moved meanwhile.
    pub fn user_notify_attempt(
        &mut self,
        store: &Store,
        caller: &crate::domain::Caller,
        code_hash: &str,
        attempts_left: u32,
    ) -> Result<()> {
        let (update, condition) = user_record(store, caller);
        let remaining = attempts_left.saturating_sub(1);
        let update = update
            .condition_expression(format!(
                "{condition} AND notifyPending.codeHash = :h AND notifyPending.attemptsLeft = :a"
            ))
            .update_expression(if remaining == 0 {
                "REMOVE notifyPending"
            } else {
                "SET notifyPending.attemptsLeft = :r"
            })
            .expression_attribute_values(":h", s(code_hash))
            .expression_attribute_values(":a", AttributeValue::N(attempts_left.to_string()));
        let update = if remaining == 0 {
            update
        } else {
            update.expression_attribute_values(":r", AttributeValue::N(remaining.to_string()))
        };
        self.push_update("pending", update)
    }

    /// Counts one message of a patient's day (REPLY-4), refused at the practice's limit.
    pub fn patient_daily_count(
        &mut self,
        store: &Store,
        practice_id: &str,
        patient_id: &str,
        day: &str,
        limit: u32,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::patient(practice_id, patient_id)))
            .key(keys::SK, s(format!("DAY#{day}")))
            .update_expression("ADD messages :one SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(messages) OR messages < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(u64::from(limit)))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((crate::ids::epoch_seconds() + 3 * 86_400).to_string()),
            );
        self.push_update("limit", update)
    }

    /// Uncounts a deleted message on its conversation (CONV-6).
    pub fn conversation_remove_message(
        &mut self,
        store: &Store,
        practice_id: &str,
        conversation_id: &str,
        patient_visible: bool,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::conversation(practice_id, conversation_id)))
            .key(keys::SK, s(keys::CONVERSATION_SK))
            .update_expression("ADD messageCount :minus, patientMessageCount :pv")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
            .expression_attribute_values(":pv", AttributeValue::N(if patient_visible { "-1" } else { "0" }.into()));
        self.push_update("conversation", update)
    }

    /// Uncounts a deleted message on one viewer's entry, and where it was the latest, puts
    /// back the one before it (CONV-6). Guarded by the unread count it was read with.
    #[allow(clippy::too_many_arguments)]
    pub fn entry_remove_message(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        conversation_id: &str,
        expected_unread: u64,
        was_unread: bool,
        replacement: Option<&(Sealed, SenderRef)>,
    ) -> Result<()> {
        let mut expr = String::from("SET messageCount = messageCount - :one, unread = :unread");
        let mut update = Update::builder()
            .table_name(&store.table)
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
        self.push_update("entry", update.update_expression(expr))
    }

    /// Removes a former viewer's inbox entry (reassignment took its visibility away),
    /// guarded by the unread count its counters are corrected by.
    pub fn entry_delete(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        conversation_id: &str,
        expected_unread: u64,
    ) -> Result<()> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(conversation_id)))
            .condition_expression("attribute_not_exists(unread) OR unread = :old")
            .expression_attribute_values(":old", n(expected_unread))
            .build()
            .map_err(Error::internal)?;
        self.items.push(TransactWriteItem::builder().delete(delete).build());
        self.labels.push("entry");
        Ok(())
    }

    /// Attaches a checked upload to a message, once (a concurrent second attach fails).
    pub fn attachment_attach(
        &mut self,
        store: &Store,
        a: &AttachmentItem,
        conversation_id: &str,
        internal: bool,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(&a.pk))
            .key(keys::SK, s(&a.sk))
            .update_expression(
                "SET conversationId = :c, internal = :internal, attached = :t, objectKey = :key REMOVE gsi3pk, gsi3sk",
            )
            .condition_expression("#status = :ready AND attribute_not_exists(attached)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":c", s(conversation_id))
            .expression_attribute_values(":key", s(&a.object_key))
            .expression_attribute_values(":internal", AttributeValue::Bool(internal))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":ready", s("ready"));
        self.push_update("attachment", update)
    }

    fn push_update(
        &mut self,
        label: &'static str,
        update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
    ) -> Result<()> {
        self.items.push(TransactWriteItem::builder().update(update.build().map_err(Error::internal)?).build());
        self.labels.push(label);
        Ok(())
    }

    fn push_check(
        &mut self,
        label: &'static str,
        check: aws_sdk_dynamodb::types::builders::ConditionCheckBuilder,
    ) -> Result<()> {
        self.items.push(TransactWriteItem::builder().condition_check(check.build().map_err(Error::internal)?).build());
        self.labels.push(label);
        Ok(())
    }

    /// The acting staff user still exists and is active (and, when it writes to a patient,
    /// still has portal messaging on: ROLE-5), checked atomically with the write.
    pub fn check_staff_active(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        to_patient: bool,
    ) -> Result<()> {
        let expr = if to_patient { "active = :t AND portalMessaging = :t" } else { "active = :t" };
        self.push_check(
            "actor",
            ConditionCheck::builder()
                .table_name(&store.table)
                .key(keys::PK, s(keys::practice(practice_id)))
                .key(keys::SK, s(keys::staff_sk(user_id)))
                .condition_expression(expr)
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
        )
    }

    /// The caller still acts: an active staff user, or a patient still on record.
    pub fn check_caller(&mut self, store: &Store, caller: &crate::domain::Caller) -> Result<()> {
        if caller.is_staff() {
            self.check_staff_active(store, &caller.practice_id, &caller.user_id, false)
        } else {
            self.check_patient_exists(store, &caller.practice_id, &caller.user_id)
        }
    }

    /// The acting patient still exists in this practice.
    pub fn check_patient_exists(&mut self, store: &Store, practice_id: &str, patient_id: &str) -> Result<()> {
        self.push_check(
            "actor",
            ConditionCheck::builder()
                .table_name(&store.table)
                .key(keys::PK, s(keys::patient(practice_id, patient_id)))
                .key(keys::SK, s(keys::PATIENT_SK))
                .condition_expression("attribute_exists(pk)"),
        )
    }

    /// The acting patient exists and is active (ROLE-5: an inactive patient writes only to
    /// Billing and the Front Office); a failure is labelled `inactive`.
    pub fn check_patient_active(&mut self, store: &Store, practice_id: &str, patient_id: &str) -> Result<()> {
        self.push_check(
            "inactive",
            ConditionCheck::builder()
                .table_name(&store.table)
                .key(keys::PK, s(keys::patient(practice_id, patient_id)))
                .key(keys::SK, s(keys::PATIENT_SK))
                .condition_expression("attribute_exists(pk) AND active = :t")
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
        )
    }

    /// Counts a new message on its conversation. A patient may write only into an open
    /// conversation that allows responses; the condition makes that atomic with the write.
    pub fn conversation_add_message(
        &mut self,
        store: &Store,
        practice_id: &str,
        conversation_id: &str,
        at: &str,
        patient_visible: bool,
        by_patient: bool,
    ) -> Result<()> {
        let mut condition = String::from("attribute_exists(pk)");
        if by_patient {
            condition.push_str(" AND summary.#status = :open AND summary.allowResponse = :t");
        }
        let mut update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::conversation(practice_id, conversation_id)))
            .key(keys::SK, s(keys::CONVERSATION_SK))
            .update_expression(
                "SET lastMessageAt = :at, gsi2sk = :sort ADD messageCount :one, patientMessageCount :pv, fromPatientCount :fp",
            )
            .condition_expression(condition)
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":pv", n(u64::from(patient_visible)))
            .expression_attribute_values(":fp", n(u64::from(by_patient)))
            .expression_attribute_values(":sort", s(keys::inbox_sort(at, conversation_id)));
        if by_patient {
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":open", s("open"))
                .expression_attribute_values(":t", AttributeValue::Bool(true));
        }
        self.push_update("conversation", update)
    }

    /// Brings one viewer's inbox entry up to a new message: latest activity, preview, sender,
    /// counts. The summary is written only where the entry is new, so this never races
    /// with a concurrent assignment's summary; the sender's own unread count is zero.
    #[allow(clippy::too_many_arguments)]
    pub fn entry_add_message(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        conversation_id: &str,
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
            .table_name(&store.table)
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
            .expression_attribute_values(":tab", s(keys::inbox_tab(practice_id, user_id, &summary.kind, false)))
            .expression_attribute_values(":sort", s(keys::inbox_sort(at, conversation_id)))
            .expression_attribute_values(":preview", to_value(preview)?)
            .expression_attribute_values(":sender", to_value(sender)?)
            .expression_attribute_values(":urgent", AttributeValue::Bool(urgent))
            .expression_attribute_values(":priority", s(priority.as_str()))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        self.push_update("entry", update)
    }

    /// CONV-2: opening a conversation clears the caller's own unread count, nobody else's.
    pub fn entry_mark_read(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        conversation_id: &str,
        at: &str,
        expected_unread: u64,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::entry_sk(conversation_id)))
            .update_expression("SET unread = :zero, lastReadAt = :at")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(unread) OR unread = :old)")
            .expression_attribute_values(":old", n(expected_unread))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at));
        self.push_update("entry", update)
    }

    /// Records that a user's inbox (or a thread) reached it now: messages before are
    /// delivered to it.
    pub fn presence_seen(&mut self, store: &Store, practice_id: &str, user_id: &str, at: &str) -> Result<()> {
        let update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::PRESENCE_SK))
            .update_expression("SET inboxSeenAt = :at")
            .expression_attribute_values(":at", s(at));
        self.push_update("presence", update)
    }

    /// Rewrites a conversation's summary and membership (assignment), guarded by its version
    /// so two concurrent assignments cannot interleave.
    pub fn conversation_replace_membership(
        &mut self,
        store: &Store,
        conversation: &ConversationItem,
        expected_version: u64,
    ) -> Result<()> {
        // The care team and primary provider too: a care-team change (ACCT-2) rewrites them.
        let provider = match &conversation.primary_provider_id {
            Some(_) => ", primaryProviderId = :provider",
            None => " REMOVE primaryProviderId",
        };
        let mut update = Update::builder()
            .table_name(&store.table)
            .key(keys::PK, s(&conversation.pk))
            .key(keys::SK, s(&conversation.sk))
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
        self.push_update("conversation", update)
    }

    /// Writes the current summary into a viewer's entry; a new viewer's entry is created
    /// with the conversation's latest activity so it sorts where it belongs.
    #[allow(clippy::too_many_arguments)]
    pub fn entry_set_summary(
        &mut self,
        store: &Store,
        practice_id: &str,
        user_id: &str,
        conversation: &ConversationItem,
        preview: &Sealed,
        last_sender: &SenderRef,
        visible_count: u64,
    ) -> Result<()> {
        let c = &conversation.id;
        let at = &conversation.last_message_at;
        let update = Update::builder()
            .table_name(&store.table)
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
                s(keys::inbox_tab(practice_id, user_id, &conversation.summary.kind, false)),
            )
            .expression_attribute_values(":sort", s(keys::inbox_sort(at, c)))
            .expression_attribute_values(":preview", to_value(preview)?)
            .expression_attribute_values(":sender", to_value(last_sender)?)
            .expression_attribute_values(":count", n(visible_count));
        self.push_update("entry", update)
    }
}

/// The caller's own record (staff: active only), for the notification preference updates.
fn user_record(
    store: &Store,
    caller: &crate::domain::Caller,
) -> (aws_sdk_dynamodb::types::builders::UpdateBuilder, &'static str) {
    let p = caller.practice_id.as_str();
    let update = Update::builder().table_name(&store.table);
    if caller.is_staff() {
        let update = update
            .key(keys::PK, s(keys::practice(p)))
            .key(keys::SK, s(keys::staff_sk(&caller.user_id)))
            .expression_attribute_values(":t", AttributeValue::Bool(true));
        (update, "active = :t")
    } else {
        let update = update.key(keys::PK, s(keys::patient(p, &caller.user_id))).key(keys::SK, s(keys::PATIENT_SK));
        (update, "attribute_exists(pk)")
    }
}
