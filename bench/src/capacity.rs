//! DynamoDB capacity units per request, computed from the items themselves.
//!
//! moto answers `ReturnConsumedCapacity` with fixed numbers (0.5 or 1.0 whatever the item,
//! nothing for TransactWriteItems), so asking it would measure nothing. Instead an SDK
//! interceptor on the benchmark's DynamoDB client sizes every item read or written with
//! DynamoDB's rules and records the units:
//! - item size: attribute names plus values (strings and binaries by length, numbers about one
//!   byte per two digits plus one, lists and maps 3 bytes plus one per element);
//! - reads: 4 KB units, half a unit eventually consistent; a Query or Scan rounds the sum of
//!   the items it read once (scaled by ScannedCount where a filter dropped some), a GetItem or
//!   each key of a BatchGetItem rounds its own item, a missing item still costs the minimum;
//!   transactional reads cost double;
//! - writes: 1 KB units per item; transactional writes cost double; each of the table's three
//!   global secondary indexes (all projecting ALL) costs the item's units again when the
//!   item carries that index's key. Puts are sized from the request; Updates from the item as
//!   it is afterwards (the bench reads it back: [`CapacityProbe::settle`]); a Delete or a
//!   ConditionCheck is counted as one item of at most 1 KB with no index entry.
//!
//! Projected reads (a ProjectionExpression) are sized from what came back, which undercounts:
//! DynamoDB charges the whole item. The README says so.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type Item = HashMap<String, AttributeValue>;

const GSI_KEYS: [&str; 3] = ["gsi1pk", "gsi2pk", "gsi3pk"];

/// Units recorded since the last drain, plus the updated items still to be sized.
#[derive(Default, Debug, Clone)]
pub struct Tally {
    pub read_units: f64,
    pub write_units: f64,
    pending_updates: Vec<(String, Item, f64)>,
}

/// The interceptor (clone it into a client's config) and the bench's handle on its tally.
#[derive(Clone, Default, Debug)]
pub struct CapacityProbe {
    enabled: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
}

/// What the request said that the response does not: the read's consistency factor and the
/// keys asked for.
#[derive(Debug)]
struct Stash {
    factor: f64,
    keys: usize,
}

impl Storable for Stash {
    type Storer = StoreReplace<Self>;
}

impl CapacityProbe {
    pub fn enable(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// The units since the last call, with every updated item read back (through a client
    /// without this interceptor) and sized as it is now.
    pub async fn settle(&self, plain: &aws_sdk_dynamodb::Client) -> (f64, f64) {
        let tally = std::mem::take(&mut *self.tally.lock().unwrap());
        let mut write = tally.write_units;
        for (table, key, factor) in tally.pending_updates {
            let got = plain.get_item().table_name(&table).set_key(Some(key)).send().await;
            match got.ok().and_then(|o| o.item) {
                Some(item) => write += write_units(&item, factor),
                None => write += factor,
            }
        }
        (tally.read_units, write)
    }

    fn add(&self, read: f64, write: f64) {
        let mut t = self.tally.lock().unwrap();
        t.read_units += read;
        t.write_units += write;
    }

    fn record_input(&self, input: &aws_smithy_runtime_api::client::interceptors::context::Input, cfg: &mut ConfigBag) {
        use aws_sdk_dynamodb::operation as op;
        let ec = |consistent: Option<bool>| if consistent == Some(true) { 1.0 } else { 0.5 };
        if let Some(i) = input.downcast_ref::<op::put_item::PutItemInput>() {
            self.add(0.0, write_units(i.item.as_ref().unwrap_or(&HashMap::new()), 1.0));
        } else if let Some(i) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
            self.pending(i.table_name.clone().unwrap_or_default(), i.key.clone().unwrap_or_default(), 1.0);
        } else if input.downcast_ref::<op::delete_item::DeleteItemInput>().is_some() {
            self.add(0.0, 1.0);
        } else if let Some(i) = input.downcast_ref::<op::batch_write_item::BatchWriteItemInput>() {
            let mut w = 0.0;
            for req in i.request_items.iter().flat_map(|m| m.values()).flatten() {
                if let Some(put) = &req.put_request {
                    w += write_units(&put.item, 1.0);
                } else {
                    w += 1.0;
                }
            }
            self.add(0.0, w);
        } else if let Some(i) = input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>() {
            let mut w = 0.0;
            for item in i.transact_items.iter().flatten() {
                if let Some(put) = &item.put {
                    w += write_units(&put.item, 2.0);
                } else if let Some(update) = &item.update {
                    self.pending(update.table_name.clone(), update.key.clone(), 2.0);
                } else {
                    w += 2.0;
                }
            }
            self.add(0.0, w);
        } else if let Some(i) = input.downcast_ref::<op::get_item::GetItemInput>() {
            cfg.interceptor_state().store_put(Stash { factor: ec(i.consistent_read), keys: 1 });
        } else if let Some(i) = input.downcast_ref::<op::query::QueryInput>() {
            cfg.interceptor_state().store_put(Stash { factor: ec(i.consistent_read), keys: 0 });
        } else if let Some(i) = input.downcast_ref::<op::scan::ScanInput>() {
            cfg.interceptor_state().store_put(Stash { factor: ec(i.consistent_read), keys: 0 });
        } else if let Some(i) = input.downcast_ref::<op::batch_get_item::BatchGetItemInput>() {
            let keys = i.request_items.iter().flat_map(|m| m.values()).map(|k| k.keys.len()).sum();
            let consistent = i.request_items.iter().flat_map(|m| m.values()).any(|k| k.consistent_read == Some(true));
            cfg.interceptor_state().store_put(Stash { factor: ec(Some(consistent)), keys });
        } else if let Some(i) = input.downcast_ref::<op::transact_get_items::TransactGetItemsInput>() {
            let keys = i.transact_items.as_ref().map(Vec::len).unwrap_or(0);
            cfg.interceptor_state().store_put(Stash { factor: 2.0, keys });
        }
    }

    fn pending(&self, table: String, key: Item, factor: f64) {
        self.tally.lock().unwrap().pending_updates.push((table, key, factor));
    }

    fn record_output(&self, output: &aws_smithy_runtime_api::client::interceptors::context::Output, cfg: &ConfigBag) {
        use aws_sdk_dynamodb::operation as op;
        let Some(stash) = cfg.load::<Stash>() else { return };
        let f = stash.factor;
        if let Some(o) = output.downcast_ref::<op::get_item::GetItemOutput>() {
            self.add(o.item.as_ref().map(|i| read_units(item_size(i), f)).unwrap_or(f), 0.0);
        } else if let Some(o) = output.downcast_ref::<op::query::QueryOutput>() {
            self.add(scanned_units(o.items.as_deref(), o.count, o.scanned_count, f), 0.0);
        } else if let Some(o) = output.downcast_ref::<op::scan::ScanOutput>() {
            self.add(scanned_units(o.items.as_deref(), o.count, o.scanned_count, f), 0.0);
        } else if let Some(o) = output.downcast_ref::<op::batch_get_item::BatchGetItemOutput>() {
            let found: Vec<&Item> = o.responses.iter().flat_map(|m| m.values()).flatten().collect();
            let missing = stash.keys.saturating_sub(found.len()) as f64;
            self.add(found.iter().map(|i| read_units(item_size(i), f)).sum::<f64>() + missing * f, 0.0);
        } else if let Some(o) = output.downcast_ref::<op::transact_get_items::TransactGetItemsOutput>() {
            let found: Vec<&Item> = o.responses.iter().flatten().filter_map(|r| r.item.as_ref()).collect();
            let missing = stash.keys.saturating_sub(found.len()) as f64;
            self.add(found.iter().map(|i| read_units(item_size(i), 1.0) * 2.0).sum::<f64>() + missing * 2.0, 0.0);
        }
    }
}

/// What a probe of requests and answers does (the capacity units, the partitions touched),
/// behind one interceptor that calls it only while it is on ([`Gated`]).
pub trait Probe: std::fmt::Debug + Send + Sync + 'static {
    fn is_on(&self) -> bool;
    fn on_input(&self, input: &aws_smithy_runtime_api::client::interceptors::context::Input, cfg: &mut ConfigBag);
    fn on_output(&self, output: &aws_smithy_runtime_api::client::interceptors::context::Output, cfg: &ConfigBag);
}

/// A probe as an SDK interceptor.
#[derive(Clone, Debug)]
pub struct Gated<P>(pub P);

impl<P: Probe> Intercept for Gated<P> {
    fn name(&self) -> &'static str {
        "Probe"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.0.is_on() {
            self.0.on_input(context.input(), cfg);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.0.is_on() {
            if let Ok(output) = context.output_or_error() {
                self.0.on_output(output, cfg);
            }
        }
        Ok(())
    }
}

impl Probe for CapacityProbe {
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

/// A read of items totalling `bytes`: 4 KB units, at `factor` (0.5 eventually consistent).
pub(crate) fn read_units(bytes: usize, factor: f64) -> f64 {
    (bytes.div_ceil(4096).max(1)) as f64 * factor
}

/// A Query or Scan: the items it read, rounded once. Where a filter dropped items, the ones
/// read are `scanned`, sized like the ones returned (or 100 bytes each if none came back).
fn scanned_units(items: Option<&[Item]>, count: i32, scanned: i32, factor: f64) -> f64 {
    let items = items.unwrap_or(&[]);
    let returned: usize = items.iter().map(item_size).sum();
    let bytes = if scanned > count {
        let avg = if items.is_empty() { 100 } else { returned / items.len() };
        returned + avg * (scanned - count) as usize
    } else {
        returned
    };
    read_units(bytes, factor)
}

/// A write of one item: 1 KB units at `factor` on the table, plus once per index it is in.
fn write_units(item: &Item, factor: f64) -> f64 {
    let units = item_size(item).div_ceil(1024).max(1) as f64;
    let indexes = GSI_KEYS.iter().filter(|k| item.contains_key(**k)).count() as f64;
    units * factor + units * indexes
}

pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn number_size(n: &str) -> usize {
    let digits = n.chars().filter(char::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, x)| 1 + k.len() + value_size(x)).sum::<usize>(),
        _ => 1,
    }
}

/// Counts the requests a client actually sends (a presigned URL is made without one, though
/// the call counter sees an operation).
#[derive(Clone, Default, Debug)]
pub struct SentCounter(pub Arc<std::sync::atomic::AtomicU64>);

impl Intercept for SentCounter {
    fn name(&self) -> &'static str {
        "SentCounter"
    }

    // After transmit: a presigning run also passes `read_before_transmit` and stops there.
    fn read_after_transmit(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<
            '_,
        >,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
