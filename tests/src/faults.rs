//! Fault switches in the SDK clients' request path (the interceptor layer): a chosen AWS call
//! goes to a closed port, or every SNS call fails before it is sent, as an outage would.

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use carethread_core::app::Hooks;

/// A fault at a chosen point of a request, in the request path of the DynamoDB, S3 and KMS
/// clients (the SDK's interceptor layer): armed with `k`, the k-th AWS call from then on is
/// sent to a closed port on 127.0.0.1, so it fails as an outage would (connection refused,
/// after the SDK's own retries).
#[derive(Clone, Debug, Default)]
pub struct AwsFaults {
    state: std::sync::Arc<std::sync::Mutex<FaultState>>,
}

#[derive(Debug, Default)]
struct FaultState {
    armed_at: Option<usize>,
    calls: usize,
    injected: usize,
    /// The call that failed: `Service.Operation`.
    failed: Vec<String>,
}

#[derive(Debug)]
struct FailThisCall;

impl aws_smithy_types::config_bag::Storable for FailThisCall {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl AwsFaults {
    /// Fail the `k`-th call (1-based) from now; `None` counts calls without failing any.
    pub fn arm(&self, k: Option<usize>) {
        let mut s = self.state.lock().unwrap();
        s.armed_at = k;
        s.calls = 0;
    }
    /// Calls counted since the last `arm`.
    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().calls
    }
    pub fn injected(&self) -> usize {
        self.state.lock().unwrap().injected
    }
    pub fn last_failed(&self) -> Option<String> {
        self.state.lock().unwrap().failed.last().cloned()
    }
}

impl AwsFaults {
    /// The switch on the DynamoDB, S3, KMS and Cognito clients, one attempt per call (a retry
    /// would hide the fault), and no data key reused, so every sealed field is a KMS call that
    /// can fail too (unwrapped keys stay cached for reading).
    pub(crate) fn hook_into(&self, hooks: &mut Hooks) {
        for service in [&mut hooks.dynamodb, &mut hooks.s3, &mut hooks.kms, &mut hooks.cognito] {
            service.push(SharedInterceptor::new(self.clone()));
        }
        hooks.retry = Some(aws_config::retry::RetryConfig::standard().with_max_attempts(1));
        hooks.key_cache = Some(carethread_core::crypto::KeyCachePolicy {
            max_age: std::time::Duration::ZERO,
            max_uses: 1,
            max_cached_unwrapped: 1_000,
        });
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for AwsFaults {
    fn name(&self) -> &'static str {
        "AwsFaults"
    }
    fn read_before_serialization(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let mut s = self.state.lock().unwrap();
        s.calls += 1;
        if s.armed_at == Some(s.calls) {
            s.injected += 1;
            let name = cfg
                .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
                .map(|m| format!("{}.{}", m.service(), m.name()))
                .unwrap_or_default();
            s.failed.push(name);
            cfg.interceptor_state().store_put(FailThisCall);
        }
        Ok(())
    }
    fn modify_before_transmit(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if cfg.load::<FailThisCall>().is_some() {
            // The discard port: nothing listens there, every attempt is refused.
            context.request_mut().set_uri("http://127.0.0.1:9/")?;
        }
        Ok(())
    }
}

/// A fault switch in the SNS client's request path (the SDK's interceptor layer): while on,
/// every SNS call fails before it is sent, as an outage would.
#[derive(Clone, Debug, Default)]
pub struct SnsFaults {
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    injected: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SnsFaults {
    pub fn fail(&self, on: bool) {
        self.failing.store(on, std::sync::atomic::Ordering::SeqCst);
    }
    /// How many SNS calls were failed so far.
    pub fn injected(&self) -> usize {
        self.injected.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for SnsFaults {
    fn name(&self) -> &'static str {
        "SnsFaults"
    }
    fn read_before_transmit(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            self.injected.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err("injected SNS fault".into());
        }
        Ok(())
    }
}
