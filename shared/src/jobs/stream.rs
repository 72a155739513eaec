//! The part of a DynamoDB stream event (Lambda's, typed by `aws_lambda_events`) the stream
//! consumers read: the keys of inserted items, and the partial batch response that makes
//! Lambda retry from a failed record.

use crate::store::place::{self, Streamed};
pub use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord as StreamRecord};
pub use aws_lambda_events::event::streams::DynamoDbEventResponse as BatchResponse;

/// An inserted item, by what its keys say it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inserted {
    pub item: Streamed,
    pub sequence_number: String,
}

/// The inserted items of a batch, in stream order.
pub fn inserted(event: &StreamEvent) -> Vec<Inserted> {
    let key = |record: &StreamRecord, name: &str| match record.change.keys.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    };
    event
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT")
        .map(|r| Inserted {
            item: place::streamed(key(r, "pk"), key(r, "sk")),
            sequence_number: r.change.sequence_number.clone().unwrap_or_default(),
        })
        .collect()
}

/// Lambda's partial batch response (`ReportBatchItemFailures`): retry from `failed_at` on.
pub fn batch_response(failed_at: Option<&str>) -> BatchResponse {
    let mut response = BatchResponse::default();
    if let Some(seq) = failed_at {
        let mut failure = aws_lambda_events::event::streams::DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(seq.to_string());
        response.batch_item_failures.push(failure);
    }
    response
}

/// A stream record as Lambda hands one to a consumer: an item's keys (consumers read the item
/// itself), its event name and sequence number. For the local stream trigger and tests.
pub fn record(
    event_name: &str,
    keys: impl IntoIterator<Item = (String, String)>,
    sequence_number: &str,
) -> StreamRecord {
    let keys: std::collections::HashMap<String, serde_dynamo::AttributeValue> =
        keys.into_iter().map(|(name, value)| (name, serde_dynamo::AttributeValue::S(value))).collect();
    let mut record = StreamRecord::default();
    record.event_name = event_name.to_string();
    record.event_source = Some("aws:dynamodb".into());
    record.change.keys = keys.into();
    record.change.sequence_number = Some(sequence_number.to_string());
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_stream_event_yields_its_inserts_in_order() {
        let event: StreamEvent = serde_json::from_value(serde_json::json!({ "Records": [
            { "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
              "dynamodb": { "Keys": { "pk": { "S": "OUTBOX#m1" }, "sk": { "S": "OUTBOX" } },
                            "SequenceNumber": "100", "SizeBytes": 26, "StreamViewType": "NEW_IMAGE" } },
            { "eventID": "2", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
              "dynamodb": { "Keys": { "pk": { "S": "OUTBOX#m0" }, "sk": { "S": "OUTBOX" } },
                            "SequenceNumber": "101", "SizeBytes": 26, "StreamViewType": "NEW_IMAGE" } }
        ]}))
        .unwrap();
        let inserted = inserted(&event);
        assert!(matches!(inserted[0].item, Streamed::Outbox(_)));
        assert_eq!(
            inserted,
            vec![Inserted {
                item: place::streamed("OUTBOX#m1".into(), "OUTBOX".into()),
                sequence_number: "100".into()
            }]
        );
    }

    #[test]
    fn a_failure_names_the_record_to_retry_from() {
        let json = serde_json::to_value(batch_response(Some("101"))).unwrap();
        assert_eq!(json, serde_json::json!({ "batchItemFailures": [{ "itemIdentifier": "101" }] }));
        assert_eq!(serde_json::to_value(batch_response(None)).unwrap(), serde_json::json!({ "batchItemFailures": [] }));
    }

    /// The README's sample events (`cargo lambda invoke --data-file events/<fn>.json`) are what
    /// the typed handlers take.
    #[test]
    fn the_sample_events_parse_as_their_functions_take_them() {
        for stream in [include_str!("../../../events/notifier.json"), include_str!("../../../events/audit-chain.json")]
        {
            let event: StreamEvent = serde_json::from_str(stream).unwrap();
            assert_eq!(inserted(&event).len(), 1);
        }
        let sms: crate::jobs::sms_inbound::InboundSmsEvent =
            serde_json::from_str(include_str!("../../../events/sms-inbound.json")).unwrap();
        let text = crate::jobs::sms_inbound::parse_inbound(&sms.records[0].sns.message).unwrap();
        assert_eq!(text.destination_number, "+15550100000");
        for schedule in [
            include_str!("../../../events/attachment-sweeper.json"),
            include_str!("../../../events/retention-purge.json"),
            include_str!("../../../events/unread-reminders.json"),
            include_str!("../../../events/reply-escalations.json"),
            include_str!("../../../events/evisit-windows.json"),
        ] {
            let event: aws_lambda_events::event::eventbridge::EventBridgeEvent =
                serde_json::from_str(schedule).unwrap();
            assert_eq!(event.detail_type, "Scheduled Event");
        }
    }
}
