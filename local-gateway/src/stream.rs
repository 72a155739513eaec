//! The local stand-in for Lambda's DynamoDB stream trigger of the `notifier` (DESIGN.md): it
//! reads the table's stream through the DynamoDB Streams API of the local stack, hands the
//! records to the notifier in-process in Lambda's event shape, and keeps what the notifier
//! reported as failed for the next round, as Lambda's retries would (ReportBatchItemFailures:
//! the failed record and everything after it come again).

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use carethread_core::App;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
    /// Records the notifier has not yet handled, oldest first.
    pending: Vec<Value>,
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PumpReport {
    /// Records handed to the notifier (retries included).
    pub delivered: usize,
    /// Records left for the next round because the notifier reported a failure.
    pub pending: usize,
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

    /// One round: everything new on the stream, after what is still pending, in batches of
    /// 25 (the template's BatchSize).
    pub async fn pump(&self, app: &App) -> Result<PumpReport, BoxError> {
        let mut state = self.state.lock().await;
        self.read_new(&mut state).await?;
        let mut report = PumpReport::default();
        while !state.pending.is_empty() {
            let batch: Vec<Value> = state.pending.iter().take(25).cloned().collect();
            let event = LambdaEvent::new(json!({ "Records": batch }), Context::default());
            let failed_from = match notifier::handle(app, event).await {
                Ok(answer) => first_failure(&answer, &batch),
                // A function error retries the whole batch.
                Err(e) => {
                    tracing::warn!(error = %e, "notifier failed; the batch stays pending");
                    Some(0)
                }
            };
            match failed_from {
                Some(i) => {
                    report.delivered += i;
                    state.pending.drain(..i);
                    break;
                }
                None => {
                    report.delivered += batch.len();
                    state.pending.drain(..batch.len());
                }
            }
        }
        report.pending = state.pending.len();
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
                state.pending.extend(records.iter().filter(|r| passes_filter(r)).map(lambda_record));
                iterator = out.next_shard_iterator;
            }
            state.positions.insert(id, last);
        }
        Ok(())
    }
}

/// The event source mapping's filter of template.yaml: only inserted outbox items reach the
/// notifier (its own marks on those items are MODIFY records and never do).
fn passes_filter(r: &Record) -> bool {
    let inserted = r.event_name.as_ref().is_some_and(|n| n.as_str() == "INSERT");
    let pk = r.dynamodb.as_ref().and_then(|d| d.keys.as_ref()).and_then(|k| k.get("pk"));
    inserted && matches!(pk, Some(AttributeValue::S(pk)) if pk.starts_with("OUTBOX#"))
}

/// The index in `batch` of the first record the notifier reported as failed.
fn first_failure(answer: &Value, batch: &[Value]) -> Option<usize> {
    let failed: Vec<&str> = answer["batchItemFailures"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["itemIdentifier"].as_str()).collect())
        .unwrap_or_default();
    batch.iter().position(|r| r["dynamodb"]["SequenceNumber"].as_str().is_some_and(|s| failed.contains(&s)))
}

/// A stream record as Lambda hands it to a function (keys only: the notifier reads the item).
fn lambda_record(r: &Record) -> Value {
    let data = r.dynamodb.as_ref();
    let mut keys = Map::new();
    for (name, value) in data.and_then(|d| d.keys.as_ref()).into_iter().flatten() {
        if let AttributeValue::S(s) = value {
            keys.insert(name.clone(), json!({ "S": s }));
        }
    }
    json!({
        "eventID": r.event_id,
        "eventName": r.event_name.as_ref().map(|n| n.as_str()),
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": keys,
            "SequenceNumber": data.and_then(|d| d.sequence_number.clone()),
        },
    })
}
