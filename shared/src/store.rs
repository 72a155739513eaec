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

mod attachments;
mod audit;
mod budgets;
mod conversations;
mod directory;
mod guard;
mod inbox;
mod notifications;
mod renames;
mod retry;
mod stats;
mod traces;
mod workspace;

type Item = HashMap<String, AttributeValue>;

pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

pub use audit::AuditLink;
pub use directory::Directory;
pub use guard::Guard;
pub use inbox::{AssignedFilter, InboxPosition, InboxTab, InboxView, StateChange};
pub use stats::{InboxStats, StatsDelta};

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

    /// Reads records by key, 100 keys a BatchGetItem, resubmitting what DynamoDB leaves
    /// unprocessed. Absent keys are simply absent from the answer.
    async fn get_many(&self, keys_wanted: Vec<(String, String)>) -> Result<Vec<Item>> {
        self.batch_get(keys_wanted, false).await
    }

    /// `get_many`, read eventually or strongly consistent.
    async fn batch_get(&self, keys_wanted: Vec<(String, String)>, consistent: bool) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        for chunk in keys_wanted.chunks(100) {
            let list = chunk
                .iter()
                .map(|(pk, sk)| HashMap::from([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))]))
                .collect();
            let keys_and_attributes = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(list))
                .consistent_read(consistent)
                .build()
                .map_err(Error::internal)?;
            let request = HashMap::from([(self.table.clone(), keys_and_attributes)]);
            let got = retry::until_processed(request, 6, "keys", |request| {
                Box::pin(async move {
                    let out = self
                        .client
                        .batch_get_item()
                        .set_request_items(Some(request))
                        .send()
                        .await
                        .map_err(sdk_error)?;
                    let got = out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default();
                    Ok((got, out.unprocessed_keys.filter(|rest| !rest.is_empty())))
                })
            })
            .await?;
            found.extend(got);
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
        let requests = records
            .iter()
            .map(|r| {
                let put = PutRequest::builder().set_item(Some(to_item(r)?)).build().map_err(Error::internal)?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>>>()?;
        self.write_batch(requests).await
    }

    /// Deletes records by key in batches of 25, resubmitting what is left unprocessed.
    pub async fn delete_batch(&self, keys_to_delete: &[(String, String)]) -> Result<()> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let requests = keys_to_delete
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
        self.write_batch(requests).await
    }

    /// BatchWriteItem, 25 requests a call, resubmitting what DynamoDB leaves unprocessed with
    /// backoff (nine tries, `retry`).
    async fn write_batch(&self, requests: Vec<aws_sdk_dynamodb::types::WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(25) {
            let pending = HashMap::from([(self.table.clone(), chunk.to_vec())]);
            retry::until_processed(pending, 9, "writes", |pending| {
                Box::pin(async move {
                    let out = self
                        .client
                        .batch_write_item()
                        .set_request_items(Some(pending))
                        .send()
                        .await
                        .map_err(sdk_error)?;
                    Ok((Vec::<()>::new(), out.unprocessed_items.filter(|rest| !rest.is_empty())))
                })
            })
            .await?;
        }
        Ok(())
    }

    /// Commits a transaction. A failed condition comes back as `Ok(Err(guard))`, naming the
    /// write whose condition failed, so the caller can answer by meaning (a replayed
    /// idempotency key, a closed thread, a deactivated user). Conflicts with concurrent
    /// transactions are retried here with backoff.
    async fn commit(&self, tx: Tx<'_>) -> Result<std::result::Result<(), Guard>> {
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
                let guard = tx.guards.get(i).copied();
                return guard
                    .map(Err)
                    .ok_or_else(|| Error::internal_msg("a refused write the transaction does not hold"));
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
            retry::backoff(attempt).await;
            attempt += 1;
        }
    }
}

/// The writes of one operation, committed together or not at all, on the store that made it
/// (`Store::tx`).
pub struct Tx<'s> {
    store: &'s Store,
    items: Vec<TransactWriteItem>,
    guards: Vec<Guard>,
}

impl Store {
    /// A new, empty transaction on this store.
    pub fn tx(&self) -> Tx<'_> {
        Tx { store: self, items: Vec::new(), guards: Vec::new() }
    }
}

impl<'s> Tx<'s> {
    /// Commits it. A failed condition comes back as `Ok(Err(guard))` (see `Store::commit`).
    pub async fn commit(self) -> Result<std::result::Result<(), Guard>> {
        self.store.commit(self).await
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push_put(
        &mut self,
        guard: Guard,
        item: Item,
        condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<()> {
        let mut put = Put::builder().table_name(&self.store.table).set_item(Some(item));
        if let Some((expr, values)) = condition {
            put = put.condition_expression(expr);
            for (k, v) in values {
                put = put.expression_attribute_values(k, v);
            }
        }
        self.items.push(TransactWriteItem::builder().put(put.build().map_err(Error::internal)?).build());
        self.guards.push(guard);
        Ok(())
    }

    /// Writes a record that must not exist yet.
    pub fn put_new<T: Serialize>(&mut self, guard: Guard, record: &T) -> Result<()> {
        self.push_put(guard, to_item(record)?, Some(("attribute_not_exists(pk)", vec![])))
    }

    /// An edit of a record read as `before`: sets only the attributes that differ in `after`,
    /// on the condition that each still holds the value read. Two edits of one record cannot
    /// undo each other (a lost update), and attributes the edit did not touch (the user's own
    /// out-of-office, say) are left as they are. False when nothing differs (nothing pushed).
    pub fn update_changed<T: Serialize>(&mut self, guard: Guard, before: &T, after: &T) -> Result<bool> {
        let (old, new) = (to_item(before)?, to_item(after)?);
        let mut names: Vec<&String> = old.keys().chain(new.keys()).filter(|k| old.get(*k) != new.get(*k)).collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Ok(false);
        }
        let (pk, sk) = (old.get(keys::PK).cloned(), old.get(keys::SK).cloned());
        let mut update = Update::builder().table_name(&self.store.table).set_key(Some(HashMap::from([
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
        self.push_update(guard, update)?;
        Ok(true)
    }

    /// Writes (or replaces) a record.
    pub fn put<T: Serialize>(&mut self, guard: Guard, record: &T) -> Result<()> {
        self.push_put(guard, to_item(record)?, None)
    }

    /// Claims an idempotency key: absent, or expired (TTL deletion can lag by a day or two).
    pub fn claim_idempotency_key(&mut self, record: &IdempotencyItem, now_epoch: i64) -> Result<()> {
        self.push_put(
            Guard::Idempotency,
            to_item(record)?,
            Some((
                "attribute_not_exists(pk) OR expiresAt < :now",
                vec![(":now", AttributeValue::N(now_epoch.to_string()))],
            )),
        )?;
        // First, so that a replay is recognised before any other condition of the retry.
        let item = self.items.pop().expect("just pushed");
        let guard = self.guards.pop().expect("just pushed");
        self.items.insert(0, item);
        self.guards.insert(0, guard);
        Ok(())
    }

    /// Deletes a record that must exist (a draft being sent or deleted).
    pub fn delete_existing(&mut self, guard: Guard, pk: String, sk: String) -> Result<()> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(Error::internal)?;
        self.items.push(TransactWriteItem::builder().delete(delete).build());
        self.guards.push(guard);
        Ok(())
    }

    fn push_update(&mut self, guard: Guard, update: aws_sdk_dynamodb::types::builders::UpdateBuilder) -> Result<()> {
        self.items.push(TransactWriteItem::builder().update(update.build().map_err(Error::internal)?).build());
        self.guards.push(guard);
        Ok(())
    }

    fn push_check(
        &mut self,
        guard: Guard,
        check: aws_sdk_dynamodb::types::builders::ConditionCheckBuilder,
    ) -> Result<()> {
        self.items.push(TransactWriteItem::builder().condition_check(check.build().map_err(Error::internal)?).build());
        self.guards.push(guard);
        Ok(())
    }

    /// The acting staff user still exists and is active (and, when it writes to a patient,
    /// still has portal messaging on: ROLE-5), checked atomically with the write.
    pub fn check_staff_active(&mut self, practice_id: &str, user_id: &str, to_patient: bool) -> Result<()> {
        let expr = if to_patient { "active = :t AND portalMessaging = :t" } else { "active = :t" };
        self.push_check(
            Guard::Actor,
            ConditionCheck::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(keys::practice(practice_id)))
                .key(keys::SK, s(keys::staff_sk(user_id)))
                .condition_expression(expr)
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
        )
    }

    /// The caller still acts: an active staff user, or a patient still on record.
    pub fn check_caller(&mut self, caller: &crate::domain::Caller) -> Result<()> {
        if caller.is_staff() {
            self.check_staff_active(&caller.practice_id, &caller.user_id, false)
        } else {
            self.check_patient_exists(&caller.practice_id, &caller.user_id)
        }
    }

    /// The acting patient still exists in this practice.
    pub fn check_patient_exists(&mut self, practice_id: &str, patient_id: &str) -> Result<()> {
        self.push_check(
            Guard::Actor,
            ConditionCheck::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(keys::patient(practice_id, patient_id)))
                .key(keys::SK, s(keys::PATIENT_SK))
                .condition_expression("attribute_exists(pk)"),
        )
    }

    /// The acting patient exists and is active (ROLE-5: an inactive patient writes only to
    /// Billing and the Front Office); a failure is `Guard::Inactive`.
    pub fn check_patient_active(&mut self, practice_id: &str, patient_id: &str) -> Result<()> {
        self.push_check(
            Guard::Inactive,
            ConditionCheck::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(keys::patient(practice_id, patient_id)))
                .key(keys::SK, s(keys::PATIENT_SK))
                .condition_expression("attribute_exists(pk) AND active = :t")
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
        )
    }
}
