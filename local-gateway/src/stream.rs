//! The local stand-in for Lambda's DynamoDB stream triggers (DESIGN.md): it reads the table's
//! stream through the DynamoDB Streams API of the local stack and hands each consumer the
//! records its template.yaml filter lets through, in Lambda's event shape, in-process: the
//! `notifier` (inserted outbox items) and `audit-chain` (inserted audit events). What a
//! consumer reports as failed stays pending for the next round, as Lambda's retries would
//! (ReportBatchItemFailures: the failed record and everything after it come again).

use crate::functions::Functions;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use carethread_core::jobs::stream::{BatchResponse, StreamEvent, StreamRecord};
use carethread_core::App;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use std::collections::HashMap;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The stream's consumers, each with its filter (template.yaml's FilterCriteria).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consumer {
    Notifier,
    AuditChain,
}

impl Consumer {
    const ALL: [Consumer; 2] = [Consumer::Notifier, Consumer::AuditChain];

    /// The function (and so the role) that consumes these records.
    fn function(self) -> &'static str {
        match self {
            Consumer::Notifier => "notifier",
            Consumer::AuditChain => "audit-chain",
        }
    }

    fn wants(self, r: &Record) -> bool {
        let inserted = r.event_name.as_ref().is_some_and(|n| n.as_str() == "INSERT");
        let data = r.dynamodb.as_ref();
        match self {
            // {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "OUTBOX#"}]}}}}
            Consumer::Notifier => {
                let pk = data.and_then(|d| d.keys.as_ref()).and_then(|k| k.get("pk"));
                inserted && matches!(pk, Some(AttributeValue::S(pk)) if pk.starts_with("OUTBOX#"))
            }
            // {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["audit"]}}}}
            Consumer::AuditChain => {
                let entity = data.and_then(|d| d.new_image.as_ref()).and_then(|i| i.get("entity"));
                inserted && matches!(entity, Some(AttributeValue::S(e)) if e == "audit")
            }
        }
    }

    async fn invoke(self, app: &App, event: StreamEvent) -> Result<BatchResponse, lambda_http::lambda_runtime::Error> {
        let event = LambdaEvent::new(event, Context::default());
        match self {
            Consumer::Notifier => notifier::handle(app, event).await,
            Consumer::AuditChain => audit_chain::handle(app, event).await,
        }
    }
}

pub struct StreamPump {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    state: tokio::sync::Mutex<PumpState>,
}

#[derive(Default)]
struct PumpState {
    /// Each shard's last sequence number read. Kept instead of an iterator: iterators expire
    /// (15 minutes in AWS), and moto replaces a table's shard object when a transaction fails.
    positions: HashMap<String, Option<String>>,
    /// Per consumer, the records it has not yet handled, oldest first.
    pending: HashMap<&'static str, Vec<StreamRecord>>,
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PumpReport {
    /// Records handed to the notifier (retries included).
    pub delivered: usize,
    /// Records left for the next round because the notifier reported a failure.
    pub pending: usize,
    /// Audit events handed to the chainer.
    pub audit_events: usize,
    /// Audit events left for the next round.
    pub audit_pending: usize,
}

fn name(c: Consumer) -> &'static str {
    match c {
        Consumer::Notifier => "notifier",
        Consumer::AuditChain => "audit-chain",
    }
}

impl StreamPump {
    /// The pump of `table`'s stream (the table must have one).
    pub async fn for_table(sdk: &aws_config::SdkConfig, table: &str) -> Result<StreamPump, BoxError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let described = dynamodb.describe_table().table_name(table).send().await?;
        let stream_arn =
            described.table.and_then(|t| t.latest_stream_arn).ok_or_else(|| format!("table {table} has no stream"))?;
        Ok(StreamPump { client: aws_sdk_dynamodbstreams::Client::new(sdk), stream_arn, state: Default::default() })
    }

    /// One round: everything new on the stream, after what is still pending, to each
    /// consumer in batches of its template BatchSize.
    pub async fn pump(&self, functions: &Functions) -> Result<PumpReport, BoxError> {
        let mut state = self.state.lock().await;
        self.read_new(&mut state).await?;
        let mut report = PumpReport::default();
        for consumer in Consumer::ALL {
            let pending = state.pending.entry(name(consumer)).or_default();
            let batch_size = if consumer == Consumer::Notifier { 25 } else { 100 };
            let handed = feed(functions.app(consumer.function()), consumer, pending, batch_size).await;
            match consumer {
                Consumer::Notifier => (report.delivered, report.pending) = (handed, pending.len()),
                Consumer::AuditChain => (report.audit_events, report.audit_pending) = (handed, pending.len()),
            }
        }
        Ok(report)
    }

    async fn read_new(&self, state: &mut PumpState) -> Result<(), BoxError> {
        let described = self.client.describe_stream().stream_arn(&self.stream_arn).send().await?;
        for shard in described.stream_description.map(|d| d.shards.unwrap_or_default()).unwrap_or_default() {
            let Some(id) = shard.shard_id else { continue };
            let after = state.positions.get(&id).cloned().flatten();
            let request = self.client.get_shard_iterator().stream_arn(&self.stream_arn).shard_id(&id);
            let request = match &after {
                Some(seq) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(seq),
                None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            let mut iterator = request.send().await?.shard_iterator;
            let mut last = after;
            while let Some(it) = iterator {
                let out = self.client.get_records().shard_iterator(it).limit(1000).send().await?;
                let records = out.records.unwrap_or_default();
                if records.is_empty() {
                    break;
                }
                if let Some(seq) =
                    records.last().and_then(|r| r.dynamodb.as_ref()).and_then(|d| d.sequence_number.clone())
                {
                    last = Some(seq);
                }
                for consumer in Consumer::ALL {
                    let wanted = records.iter().filter(|r| consumer.wants(r)).map(lambda_record);
                    state.pending.entry(name(consumer)).or_default().extend(wanted);
                }
                iterator = out.next_shard_iterator;
            }
            state.positions.insert(id, last);
        }
        Ok(())
    }
}

/// Hands `pending` to a consumer batch by batch until it is empty or a batch fails; answers
/// how many records were handled.
async fn feed(app: &App, consumer: Consumer, pending: &mut Vec<StreamRecord>, batch_size: usize) -> usize {
    let mut handled = 0;
    while !pending.is_empty() {
        let batch: Vec<StreamRecord> = pending.iter().take(batch_size).cloned().collect();
        let mut event = StreamEvent::default();
        event.records = batch.clone();
        let failed_from = match consumer.invoke(app, event).await {
            Ok(answer) => first_failure(&answer, &batch),
            // A function error retries the whole batch.
            Err(e) => {
                tracing::warn!(error = %e, consumer = name(consumer), "stream consumer failed; the batch stays pending");
                Some(0)
            }
        };
        let done = failed_from.unwrap_or(batch.len());
        handled += done;
        pending.drain(..done);
        if failed_from.is_some() {
            break;
        }
    }
    handled
}

/// The index in `batch` of the first record the consumer reported as failed.
fn first_failure(answer: &BatchResponse, batch: &[StreamRecord]) -> Option<usize> {
    let failed: Vec<&str> = answer.batch_item_failures.iter().filter_map(|f| f.item_identifier.as_deref()).collect();
    batch.iter().position(|r| r.change.sequence_number.as_deref().is_some_and(|s| failed.contains(&s)))
}

/// A stream record as Lambda hands it to a function (keys only: consumers read the item).
fn lambda_record(r: &Record) -> StreamRecord {
    let data = r.dynamodb.as_ref();
    let keys = data.and_then(|d| d.keys.as_ref()).into_iter().flatten().filter_map(|(name, value)| match value {
        AttributeValue::S(s) => Some((name.clone(), s.clone())),
        _ => None,
    });
    let event_name = r.event_name.as_ref().map(|n| n.as_str()).unwrap_or_default();
    let sequence_number = data.and_then(|d| d.sequence_number.as_deref()).unwrap_or_default();
    let mut record = carethread_core::jobs::stream::record(event_name, keys, sequence_number);
    record.event_id = r.event_id.clone().unwrap_or_default();
    record
}
