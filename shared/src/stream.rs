//! The part of a DynamoDB stream event (Lambda's shape) the stream consumers read: the keys of
//! inserted items, and the partial batch response that makes Lambda retry from a failed record.

use crate::error::{Error, Result};
use crate::keys;
use serde::Deserialize;
use serde_json::{json, Value};

/// An inserted item, by its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inserted {
    pub pk: String,
    pub sk: String,
    pub sequence_number: String,
}

#[derive(Deserialize)]
struct StreamEvent {
    #[serde(rename = "Records", default)]
    records: Vec<StreamRecord>,
}

#[derive(Deserialize)]
struct StreamRecord {
    #[serde(rename = "eventName", default)]
    event_name: String,
    dynamodb: StreamData,
}

#[derive(Deserialize)]
struct StreamData {
    #[serde(rename = "Keys", default)]
    keys: std::collections::HashMap<String, Value>,
    #[serde(rename = "SequenceNumber", default)]
    sequence_number: String,
}

/// The inserted items of a batch, in stream order.
pub fn inserted(event: &Value) -> Result<Vec<Inserted>> {
    let event: StreamEvent =
        serde_json::from_value(event.clone()).map_err(|_| Error::bad_request("not a DynamoDB stream event"))?;
    let key = |data: &StreamData, name: &str| {
        data.keys.get(name).and_then(|v| v.get("S")).and_then(Value::as_str).unwrap_or("").to_string()
    };
    Ok(event
        .records
        .into_iter()
        .filter(|r| r.event_name == "INSERT")
        .map(|r| Inserted {
            pk: key(&r.dynamodb, keys::PK),
            sk: key(&r.dynamodb, keys::SK),
            sequence_number: r.dynamodb.sequence_number,
        })
        .collect())
}

/// Lambda's partial batch response (`ReportBatchItemFailures`): retry from `failed_at` on.
pub fn batch_response(failed_at: Option<&str>) -> Value {
    match failed_at {
        Some(seq) => json!({ "batchItemFailures": [{ "itemIdentifier": seq }] }),
        None => json!({ "batchItemFailures": [] }),
    }
}
