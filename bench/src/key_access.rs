//! Which DynamoDB partitions each operation touches, as the code really touches them (issue
//! 17's scale model). An SDK interceptor on the benchmark's DynamoDB client records, for
//! every item a request reads or writes, the partition key of the table or of the index it
//! lands in, with its ids replaced by their kind (`PRAC#{prc}#USER#{usr}`), and the capacity
//! units it costs (1 KB write units, 4 KB read units, transactional doubled, as
//! [`crate::capacity`] sizes them). An updated item is read back afterwards, so the index
//! partitions it moved into count too. `bench/scale_model.py` turns these per-operation
//! accesses and a workload into the busiest partition of each pattern at peak.

use crate::capacity::{item_size, read_units};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type Item = HashMap<String, AttributeValue>;

const INDEXES: [(&str, &str); 3] = [("gsi1", "gsi1pk"), ("gsi2", "gsi2pk"), ("gsi3", "gsi3pk")];

/// One partition an operation touched: where (`table` or an index), its key pattern, and
/// what it cost there.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Touch {
    pub read_units: f64,
    pub write_units: f64,
    /// Items written (a transaction's item limit is counted in these).
    pub items_written: f64,
    /// How many distinct partitions of this pattern the operation touched.
    pub partitions: usize,
    #[serde(skip)]
    keys: std::collections::BTreeSet<String>,
}

/// The recorder (put it in a client's config as `capacity::Gated`) and the bench's handle on
/// what it saw.
#[derive(Clone, Default, Debug)]
pub struct KeyAccessLog {
    enabled: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default, Debug)]
struct Seen {
    touches: BTreeMap<String, Touch>,
    /// Updated items to read back: (table, key, factor).
    updates: Vec<(String, Item, f64)>,
    /// The most items one TransactWriteItems held.
    largest_transaction: usize,
}

/// The partition a read's request named, kept until its answer sizes it.
#[derive(Debug)]
struct ReadStash {
    place: (String, String),
    factor: f64,
}

impl Storable for ReadStash {
    type Storer = StoreReplace<Self>;
}

/// What one operation touched, per `place` (`table PRAC#{prc}#USER#{usr}`).
#[derive(Clone, Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationAccesses {
    pub partitions: BTreeMap<String, Touch>,
    pub largest_transaction: usize,
}

impl KeyAccessLog {
    pub fn enable(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// Everything since the last call, with updated items read back through `plain` (a client
    /// without this interceptor) and counted in the partitions they now occupy.
    pub async fn drain(&self, plain: &aws_sdk_dynamodb::Client) -> OperationAccesses {
        let seen = std::mem::take(&mut *self.seen.lock().unwrap());
        let mut partitions = seen.touches;
        for (table, key, factor) in seen.updates {
            let got = plain.get_item().table_name(&table).set_key(Some(key.clone())).send().await;
            let item = got.ok().and_then(|o| o.item).unwrap_or(key);
            for (place, units) in write_places(&item, factor) {
                add(&mut partitions, place, Touch { write_units: units, items_written: 1.0, ..Default::default() });
            }
        }
        OperationAccesses { partitions, largest_transaction: seen.largest_transaction }
    }

    fn write(&self, item: &Item, factor: f64) {
        let mut seen = self.seen.lock().unwrap();
        for (place, units) in write_places(item, factor) {
            add(&mut seen.touches, place, Touch { write_units: units, items_written: 1.0, ..Default::default() });
        }
    }

    /// A delete or a condition check: one small item in the table's partition.
    fn touch_key(&self, key: &Item, factor: f64) {
        let mut seen = self.seen.lock().unwrap();
        let t = Touch { write_units: factor, items_written: 1.0, ..Default::default() };
        add(&mut seen.touches, place("table", &pk_of(key, "pk")), t);
    }

    fn update(&self, table: String, key: Item, factor: f64) {
        self.seen.lock().unwrap().updates.push((table, key, factor));
    }

    fn read_keys(&self, keys: &[Item], factor: f64) {
        let mut seen = self.seen.lock().unwrap();
        for key in keys {
            // Sized by the minimum: these reads fetch small items (entries, marks, records).
            add(
                &mut seen.touches,
                place("table", &pk_of(key, "pk")),
                Touch { read_units: factor, ..Default::default() },
            );
        }
    }

    fn record_input(&self, input: &aws_smithy_runtime_api::client::interceptors::context::Input, cfg: &mut ConfigBag) {
        use aws_sdk_dynamodb::operation as op;
        let ec = |consistent: Option<bool>| if consistent == Some(true) { 1.0 } else { 0.5 };
        if let Some(i) = input.downcast_ref::<op::put_item::PutItemInput>() {
            self.write(i.item.as_ref().unwrap_or(&HashMap::new()), 1.0);
        } else if let Some(i) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
            self.update(i.table_name.clone().unwrap_or_default(), i.key.clone().unwrap_or_default(), 1.0);
        } else if let Some(i) = input.downcast_ref::<op::delete_item::DeleteItemInput>() {
            self.touch_key(i.key.as_ref().unwrap_or(&HashMap::new()), 1.0);
        } else if let Some(i) = input.downcast_ref::<op::batch_write_item::BatchWriteItemInput>() {
            for req in i.request_items.iter().flat_map(|m| m.values()).flatten() {
                if let Some(put) = &req.put_request {
                    self.write(&put.item, 1.0);
                } else if let Some(delete) = &req.delete_request {
                    self.touch_key(&delete.key, 1.0);
                }
            }
        } else if let Some(i) = input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>() {
            let items = i.transact_items.as_deref().unwrap_or(&[]);
            {
                let mut seen = self.seen.lock().unwrap();
                seen.largest_transaction = seen.largest_transaction.max(items.len());
            }
            for item in items {
                if let Some(put) = &item.put {
                    self.write(&put.item, 2.0);
                } else if let Some(update) = &item.update {
                    self.update(update.table_name.clone(), update.key.clone(), 2.0);
                } else if let Some(delete) = &item.delete {
                    self.touch_key(&delete.key, 2.0);
                } else if let Some(check) = &item.condition_check {
                    self.touch_key(&check.key, 2.0);
                }
            }
        } else if let Some(i) = input.downcast_ref::<op::get_item::GetItemInput>() {
            self.read_keys(&[i.key.clone().unwrap_or_default()], ec(i.consistent_read));
        } else if let Some(i) = input.downcast_ref::<op::batch_get_item::BatchGetItemInput>() {
            for keys in i.request_items.iter().flat_map(|m| m.values()) {
                self.read_keys(&keys.keys, ec(keys.consistent_read));
            }
        } else if let Some(i) = input.downcast_ref::<op::query::QueryInput>() {
            let index = i.index_name.clone().unwrap_or_else(|| "table".into());
            let partition =
                query_partition(i.key_condition_expression.as_deref(), i.expression_attribute_values.as_ref());
            cfg.interceptor_state()
                .store_put(ReadStash { place: place(&index, &partition), factor: ec(i.consistent_read) });
        }
    }

    fn record_output(&self, output: &aws_smithy_runtime_api::client::interceptors::context::Output, cfg: &ConfigBag) {
        let Some(stash) = cfg.load::<ReadStash>() else { return };
        if let Some(o) = output.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>() {
            let bytes: usize = o.items.as_deref().unwrap_or(&[]).iter().map(item_size).sum();
            let units = read_units(bytes, stash.factor);
            let mut seen = self.seen.lock().unwrap();
            add(&mut seen.touches, stash.place.clone(), Touch { read_units: units, ..Default::default() });
        }
    }
}

impl crate::capacity::Probe for KeyAccessLog {
    fn is_on(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }
    fn on_input(&self, input: &aws_smithy_runtime_api::client::interceptors::context::Input, cfg: &mut ConfigBag) {
        self.record_input(input, cfg)
    }
    fn on_output(&self, output: &aws_smithy_runtime_api::client::interceptors::context::Output, cfg: &ConfigBag) {
        self.record_output(output, cfg)
    }
}

/// Adds a touch of the partition `raw` (a real key) to its pattern's totals.
fn add(map: &mut BTreeMap<String, Touch>, (place, raw): (String, String), t: Touch) {
    let e = map.entry(place).or_default();
    e.read_units += t.read_units;
    e.write_units += t.write_units;
    e.items_written += t.items_written;
    e.keys.insert(raw);
    e.partitions = e.keys.len();
}

/// An item write: the table's partition and each index partition the item is in, with the
/// 1 KB units it costs in each (`factor` 2 in a transaction; index copies are not doubled).
fn write_places(item: &Item, factor: f64) -> Vec<((String, String), f64)> {
    let units = item_size(item).div_ceil(1024).max(1) as f64;
    let mut out = vec![(place("table", &pk_of(item, "pk")), units * factor)];
    for (index, attribute) in INDEXES {
        if item.contains_key(attribute) {
            out.push((place(index, &pk_of(item, attribute)), units));
        }
    }
    out
}

/// A partition as the model counts it (`table PRAC#{prc}#USER#{usr}`), and the real key.
fn place(index: &str, key: &str) -> (String, String) {
    (format!("{index} {}", pattern(key)), format!("{index} {key}"))
}

fn pk_of(item: &Item, attribute: &str) -> String {
    match item.get(attribute) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => "?".into(),
    }
}

/// The partition value a Query's key condition names (`gsi2pk = :pk`).
fn query_partition(condition: Option<&str>, values: Option<&HashMap<String, AttributeValue>>) -> String {
    let Some(condition) = condition else { return "?".into() };
    let placeholder = condition
        .split(" AND ")
        .find(|part| part.contains("pk = ") || part.contains("pk= "))
        .and_then(|part| part.split('=').nth(1))
        .map(str::trim);
    match placeholder.and_then(|p| values.and_then(|v| v.get(p))) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => "?".into(),
    }
}

/// A partition key with its variable parts named: ids by their kind (`{usr}`), search tokens
/// (`{token}`), phone numbers, months and minutes.
pub fn pattern(key: &str) -> String {
    // One per change (a message's notifications, a back-fill page): never a hot partition.
    if key.starts_with("OUTBOX#") {
        return "OUTBOX#{change}".into();
    }
    let parts: Vec<String> = key
        .split('#')
        .enumerate()
        .map(|(i, part)| {
            let previous = if i == 0 { "" } else { key.split('#').nth(i - 1).unwrap_or("") };
            if let Some((prefix, _)) = part
                .split_once('_')
                .filter(|(p, rest)| p.len() <= 4 && p.chars().all(|c| c.is_ascii_lowercase()) && !rest.is_empty())
            {
                format!("{{{prefix}}}")
            } else if matches!(previous, "PTOK" | "STOK") {
                "{token}".into()
            } else if matches!(previous, "SMSPEER" | "SMSNUMBER") {
                "{phone}".into()
            } else if previous == "BILLING" {
                "{month}".into()
            } else {
                part.to_string()
            }
        })
        .collect();
    parts.join("#")
}
