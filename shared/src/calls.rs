//! Counts AWS calls by service and operation, through an SDK interceptor on every client.
//! It costs one short lock per call; tests and the benchmark read it to prove what a request
//! costs (INBOX-5, "no KMS call for an invisible target") where times are too noisy.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    /// The parts of each transaction (`DynamoDB.TransactWriteItems:Update`): IAM authorizes a
    /// transaction item by item, so the role check needs them. Kept apart from `counts`, which
    /// counts requests.
    parts: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Where the calls are also counted: the whole process's total, when several functions
    /// run in one (the local gateway).
    parent: Option<Arc<Mutex<BTreeMap<String, u64>>>>,
    /// Calls the service refused with 403 (its IAM said no): a test that proves a role may
    /// not do something makes them on purpose, and they are not operations the role needs.
    refused: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounter {
    /// A counter of its own whose calls also count in this one.
    pub fn child(&self) -> CallCounter {
        CallCounter {
            counts: Default::default(),
            parts: Default::default(),
            parent: Some(self.counts.clone()),
            refused: Default::default(),
        }
    }

    /// The transaction parts seen so far, by `Service.Operation:Kind`.
    pub fn parts(&self) -> BTreeMap<String, u64> {
        self.parts.lock().expect("counter lock").clone()
    }

    /// A copy of the counts so far, keyed `Service.Operation` (e.g. `DynamoDB.Query`).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().expect("counter lock").clone()
    }

    /// The operations performed at least once without being refused for want of a permission.
    pub fn performed(&self) -> Vec<String> {
        let refused = self.refused.lock().expect("counter lock").clone();
        self.snapshot().into_iter().filter(|(k, n)| refused.get(k).copied().unwrap_or(0) < *n).map(|(k, _)| k).collect()
    }

    /// Calls made since `before` was taken, by `Service.Operation`, without zero rows.
    pub fn since(&self, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.snapshot()
            .into_iter()
            .filter_map(|(k, v)| {
                let d = v - before.get(&k).copied().unwrap_or(0);
                (d > 0).then_some((k, d))
            })
            .collect()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    // Not `read_before_execution`: client interceptors run that before the operation's own
    // configuration (which names it) is in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = match cfg.load::<Metadata>() {
            Some(meta) => format!("{}.{}", meta.service(), meta.name()),
            None => "unnamed".to_string(),
        };
        if let Some(tx) = context.input().downcast_ref::<TransactWriteItemsInput>() {
            let mut parts = self.parts.lock().expect("counter lock");
            for item in tx.transact_items() {
                let kind = match () {
                    _ if item.put().is_some() => "Put",
                    _ if item.update().is_some() => "Update",
                    _ if item.delete().is_some() => "Delete",
                    _ => "ConditionCheck",
                };
                *parts.entry(format!("{key}:{kind}")).or_default() += 1;
            }
        }
        if let Some(parent) = &self.parent {
            *parent.lock().expect("counter lock").entry(key.clone()).or_default() += 1;
        }
        *self.counts.lock().expect("counter lock").entry(key).or_default() += 1;
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.response().is_some_and(|r| r.status().as_u16() == 403) {
            if let Some(meta) = cfg.load::<Metadata>() {
                let key = format!("{}.{}", meta.service(), meta.name());
                *self.refused.lock().expect("counter lock").entry(key).or_default() += 1;
            }
        }
        Ok(())
    }
}
