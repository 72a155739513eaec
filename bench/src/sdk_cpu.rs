//! The CPU our process spends inside AWS SDK calls (issue 18, point 2: which part holds an
//! operation's CPU). An interceptor on every client of the measured functions notes the
//! process's CPU time when a call starts (`read_before_execution`) and adds what passed when it
//! ends (`read_after_execution`). The benchmark sends one request at a time and an operation
//! makes its calls one after another, and moto runs in a process of its own, so what passes in
//! between is the SDK's work for that call: building, signing and sending the request (its
//! HTTP client included) and turning the response into the call's output.
//!
//! This replaces charging every call at the price of one small GetItem: a call carrying 25
//! inbox rows or a 30-item transaction costs the SDK several times that, and the old split
//! counted the difference as our code.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Microseconds of process CPU spent inside SDK calls so far, over every client it is on.
#[derive(Clone, Default, Debug)]
pub struct SdkCpu(Arc<AtomicI64>);

impl SdkCpu {
    pub fn total_us(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The process's CPU time when the call started (kept in the call's own config bag).
#[derive(Debug, Clone, Copy)]
struct StartedAt(i64);

impl Storable for StartedAt {
    type Storer = StoreReplace<Self>;
}

impl Intercept for SdkCpu {
    fn name(&self) -> &'static str {
        "SdkCpu"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(StartedAt(crate::cpu_micros()));
        Ok(())
    }

    // Not reached by a presigned operation (it stops before transmit): signing a URL is
    // counted as the operation's own work.
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(StartedAt(at)) = cfg.load::<StartedAt>() {
            self.0.fetch_add(crate::cpu_micros() - at, Ordering::Relaxed);
        }
        Ok(())
    }
}
