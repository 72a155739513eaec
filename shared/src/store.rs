//! The DynamoDB adapter: the only module that knows item shapes on the wire
//! (`AttributeValue` never leaves it). Reads are GetItem/Query/BatchGetItem on keys; there is
//! no Scan. Writes that belong together go through one `Tx` (TransactWriteItems).
//!
//! The values it stores carry no key (`domain::Conversation`, `domain::Message`...): a write
//! names where the value goes with a `Key` from `place` ("a draft of this user"), and the
//! store sets the key attributes beside the value's own. A `Key` is opaque outside the store:
//!
//! ```compile_fail,E0616
//! let key = carethread_core::store::place::outbox(&carethread_core::domain::MessageId::new());
//! let _partition = key.pk; // a key's attributes are the store's
//! ```
//!
//! ```compile_fail,E0603
//! let _ = carethread_core::store::keys::PK; // and so are the key formats
//! ```

use crate::domain::{ConversationId, PracticeId, Timestamp, UserId};
use crate::error::{Error, Result};
mod keys;
pub mod place;
use crate::domain::*;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

mod attachments;
#[cfg(test)]
mod attribute_names;
mod audit;
mod batch;
mod budgets;
mod conversations;
mod directory;
mod entries;
mod evisits;
mod guard;
mod inbox;
mod late_entries;
mod notifications;
mod practice_view;
mod renames;
mod retry;
mod stats;
mod traces;
mod tx;
mod workspace;

type Item = HashMap<String, AttributeValue>;

pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Each practice's staff and workgroups as last read, with the practice's
    /// `directoryVersion` then (`Store::directory_as_of`).
    directories: directory::Copies,
}

pub use attachments::SweepQueue;
pub use audit::{AuditLink, AuditTrail};
pub use batch::{
    Batch, CallerRecord, CallerSlot, Fetched, MarksSlot, PatientMarkers, PatientMarkersSlot, ReceiptMarks, Slot,
    StatsSlot,
};
pub use guard::Guard;
pub use late_entries::LateViewer;
pub use place::Key;
pub use practice_view::OwnStates;
pub use tx::Tx;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The item a record is stored as: its attributes, and beside them the key attributes of
/// where it lives. Records carry no key; reading one back drops the key attributes.
fn to_item<T: Serialize>(key: &Key, record: &T) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(record).map_err(Error::internal)?;
    item.extend(key_attributes(key)?);
    Ok(item)
}
fn key_attributes(key: &Key) -> Result<Item> {
    serde_dynamo::to_item(key).map_err(Error::internal)
}
/// A record read with the key it was found under, for a caller that will write or delete
/// that very item again.
fn keyed_from_item<T: DeserializeOwned>(item: Item) -> Result<(Key, T)> {
    let key_names =
        [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK, keys::GSI2PK, keys::GSI2SK, keys::GSI3PK, keys::GSI3SK];
    let key: Item = key_names.iter().filter_map(|k| item.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    Ok((from_item(key)?, from_item(item)?))
}
fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(Error::internal)
}
fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(Error::internal)
}

/// A conditional UpdateItem: whether its condition held (and it wrote).
async fn update_if(
    update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
) -> Result<bool> {
    match update.send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(false),
        Err(e) => Err(sdk_error(e)),
    }
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
        Store { client, table, directories: Default::default() }
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

    /// A query on the table (the caller adds the index and conditions).
    fn query(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.table)
    }

    /// Every item a query matches, following its pages: for jobs, reports and verification,
    /// never for a page a user waits on.
    async fn query_all(&self, query: QueryFluentBuilder) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = query.clone().set_exclusive_start_key(start.take()).send().await.map_err(sdk_error)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// All items of one partition (optionally under a sort-key prefix), following pages.
    async fn query_partition(&self, pk: String, sk_prefix: Option<&str>) -> Result<Vec<Item>> {
        let q = self.query().expression_attribute_values(":pk", s(&pk));
        let q = match sk_prefix {
            Some(prefix) => q
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
            None => q.key_condition_expression("pk = :pk"),
        };
        self.query_all(q).await
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
    fn user_of(practice_id: &PracticeId, item: &Item) -> Option<UserId> {
        match item.get(keys::PK) {
            Some(AttributeValue::S(pk)) => pk.strip_prefix(&keys::user(practice_id, "")).map(UserId::from_stored),
            _ => None,
        }
    }

    pub async fn idempotency(
        &self,
        practice_id: &PracticeId,
        caller: &str,
        key_hash: &str,
    ) -> Result<Option<StoredAnswer>> {
        self.get(keys::idempotency(practice_id, caller, key_hash), keys::IDEMPOTENCY_SK).await
    }

    /// Writes many independent records in batches of 25 (BatchWriteItem), resubmitting what
    /// DynamoDB leaves unprocessed. For bulk loads (seeding, migrations), never for writes
    /// that must happen together.
    pub async fn put_batch<T: Serialize>(&self, records: &[(Key, T)]) -> Result<()> {
        let items = records.iter().map(|(key, r)| to_item(key, r)).collect::<Result<Vec<_>>>()?;
        self.put_items(items).await
    }

    /// `put_batch` of items that are their key alone (search tokens).
    pub async fn put_markers(&self, markers: &[Key]) -> Result<()> {
        self.put_items(markers.iter().map(key_attributes).collect::<Result<Vec<_>>>()?).await
    }

    async fn put_items(&self, items: Vec<Item>) -> Result<()> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let requests = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build().map_err(Error::internal)?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>>>()?;
        self.write_batch(requests).await
    }

    /// Deletes records by key in batches of 25, resubmitting what is left unprocessed.
    pub async fn delete_batch(&self, keys_to_delete: &[Key]) -> Result<()> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let requests = keys_to_delete
            .iter()
            .map(|key| {
                let d = DeleteRequest::builder()
                    .key(keys::PK, s(&key.pk))
                    .key(keys::SK, s(&key.sk))
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
}
