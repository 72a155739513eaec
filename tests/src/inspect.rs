//! Reading back what the functions left: the test's table (raw items, scans, counts), the
//! audit events, one round of the notifier's stream trigger, and what SNS was asked to deliver.

use crate::TestApp;
use serde_json::Value;

impl TestApp {
    /// Every audit event of this test's table (a test-side Scan: the table is the test's own).
    pub async fn audit_events(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.scan_where("entity", "audit").await
    }

    /// Every item of this test's table whose attribute `name` is the string `value` (a
    /// test-side Scan: the table is the test's own).
    pub async fn scan_where(
        &self,
        name: &str,
        value: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .filter_expression("#name = :value")
                .expression_attribute_names("#name", name)
                .expression_attribute_values(":value", AttributeValue::S(value.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan the test table");
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return items,
            }
        }
    }

    /// One round of the notifier's stream trigger.
    pub async fn pump(&self) -> local_gateway::stream::PumpReport {
        self.pump
            .as_ref()
            .expect("spawned without notifications")
            .pump(&self.gateway.functions)
            .await
            .expect("stream pump")
    }

    /// Everything SNS was asked to deliver for this test: SMS (moto's SMS log) and the
    /// messages published to this test's topic.
    pub async fn published(&self) -> Published {
        let data: Value = self
            .http
            .get(format!("{}/moto-api/data.json", self.endpoint))
            .send()
            .await
            .expect("moto dashboard data")
            .json()
            .await
            .expect("moto dashboard json");
        let sms = data["sns"]["SMS"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Sms {
                phone: m["phone_number"].as_str().unwrap_or_default().to_string(),
                message: m["message"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let mut topic = Vec::new();
        for t in data["sns"]["Topic"].as_array().into_iter().flatten().filter(|t| t["arn"] == self.topic_arn.as_str()) {
            for n in t["sent_notifications"].as_array().into_iter().flatten() {
                topic.push(TopicMessage {
                    message: n[1].as_str().unwrap_or_default().to_string(),
                    subject: n[2].as_str().unwrap_or_default().to_string(),
                    attributes: n[3].clone(),
                });
            }
        }
        Published { sms, topic }
    }

    /// How many items this test's table holds (a test-side Scan: the table is the test's own).
    pub async fn item_count(&self) -> usize {
        let (mut count, mut start) = (0, None);
        loop {
            let out = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            count += out.count() as usize;
            start = out.last_evaluated_key;
            if start.is_none() {
                return count;
            }
        }
    }

    /// Every raw item of a partition, straight from the table.
    pub async fn raw_partition(
        &self,
        pk: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let out = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
            .send()
            .await
            .unwrap();
        out.items.unwrap_or_default()
    }
}

/// What SNS was asked to deliver.
#[derive(Clone, Debug, Default)]
pub struct Published {
    pub sms: Vec<Sms>,
    pub topic: Vec<TopicMessage>,
}

#[derive(Clone, Debug)]
pub struct Sms {
    pub phone: String,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct TopicMessage {
    pub message: String,
    pub subject: String,
    pub attributes: Value,
}

/// SLA-4: how many escalation notes a thread (GET /conversations/{id}) holds.
pub fn escalation_notes(thread: &Value) -> usize {
    let messages = thread["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    messages
        .iter()
        .filter(|m| m["body"].as_str().unwrap_or_default().starts_with("No reply to the patient yet"))
        .count()
}

/// A string attribute of a raw item ("" where it has none).
pub fn text(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

/// Every text (S, and B read as UTF-8 lossily) anywhere in an item, nested included.
pub fn item_texts(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Vec<String> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    fn walk(v: &A, out: &mut Vec<String>) {
        match v {
            A::S(s) => out.push(s.clone()),
            A::B(b) => out.push(String::from_utf8_lossy(b.as_ref()).into_owned()),
            A::L(l) => l.iter().for_each(|x| walk(x, out)),
            A::M(m) => m.values().for_each(|x| walk(x, out)),
            A::Ss(s) => out.extend(s.iter().cloned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in item {
        out.push(k.clone());
        walk(v, &mut out);
    }
    out
}
