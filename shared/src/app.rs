//! The state a function keeps for its whole life: clients and configuration, made once per
//! cold start in `main` and lent to every request (never made per request).

use crate::blobs::Blobs;
use crate::calls::CallCounter;
use crate::crypto::{Envelope, KeyCachePolicy};
use crate::domain::Caller;
use crate::domain::PracticeId;
use crate::domain::Staff;
use crate::error::{Error, Result};
use crate::identity::UserPool;
use crate::sdk::OnFirstUse;
use crate::store::{CallerRecord, Store};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

/// One service's client from the shared configuration: the call counter first, then the
/// hooks' interceptors and retry policy.
macro_rules! client {
    ($service:ident, $sdk:expr, $calls:expr, $interceptors:expr, $retry:expr) => {{
        let mut builder = $service::config::Builder::from($sdk).interceptor($calls.clone());
        for interceptor in $interceptors.iter() {
            builder.push_interceptor(interceptor.clone());
        }
        if let Some(retry) = $retry {
            builder.set_retry_config(Some(retry.clone()));
        }
        $service::Client::from_conf(builder.build())
    }};
}

pub struct App {
    pub store: Store,
    pub envelope: Envelope,
    pub blobs: Blobs,
    pub sns: OnFirstUse<aws_sdk_sns::Client>,
    pub topic_arn: String,
    /// The stack's Cognito user pool: only the directory's role may call it.
    pub users: UserPool,
    pub calls: CallCounter,
    /// The audit chain's HMAC key (SEC-2, security finding 4), where the environment names it.
    pub audit_key: Option<crate::audit::ChainKey>,
    /// Where the chains' heads are copied under Object Lock (security finding 4).
    pub audit_heads: Option<crate::audit::HeadCopies>,
    /// Each practice's wrapped search key, which never changes: kept for the life of the
    /// function so a search costs no read of the practice record.
    pub search_keys: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
    /// Each practice's settings as a request's rules need them, read at most once a minute:
    /// the second-factor rule (ACCT-3; only users without a second factor need it) and the
    /// time zone (SLA-3's `due=today`). A change of either takes hold within a minute instead
    /// of costing every request a read of the practice record.
    practice_rules: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, PracticeRules)>>,
}

/// The settings a request's rules read from the practice record.
#[derive(Clone, Debug)]
pub struct PracticeRules {
    /// Whom the practice requires to sign in with TOTP (ACCT-3).
    staff_totp: bool,
    patient_totp: bool,
    time_zone: String,
}

/// How long a function trusts its copy of a practice's rules.
const RULE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The configuration a function reads from its environment (declared in template.yaml).
#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    pub bucket_name: String,
    pub kms_key_id: String,
    pub topic_arn: String,
    pub user_pool_id: String,
    pub audit_chain_key_id: Option<String>,
    pub audit_heads_bucket: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Config> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| Error::internal_msg(&format!("environment variable {name} is not set")))
        };
        Ok(Config {
            table_name: var("TABLE_NAME")?,
            bucket_name: var("BUCKET_NAME")?,
            kms_key_id: var("KMS_KEY_ID")?,
            topic_arn: var("TOPIC_ARN").unwrap_or_default(),
            user_pool_id: var("USER_POOL_ID").unwrap_or_default(),
            audit_chain_key_id: var("AUDIT_CHAIN_KEY_ID").ok().filter(|k| !k.is_empty()),
            audit_heads_bucket: var("AUDIT_HEADS_BUCKET").ok().filter(|b| !b.is_empty()),
        })
    }
}

impl App {
    /// One `SdkConfig` from Lambda's environment (credentials, region, endpoint:
    /// `AWS_ENDPOINT_URL` points it at the local stack), then the clients made from it, each
    /// with the call counter.
    pub async fn from_env() -> Result<App> {
        let config = Config::from_env()?;
        let sdk = crate::sdk::from_lambda_environment().await;
        Ok(App::new(&sdk, config))
    }

    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> App {
        App::with_calls(sdk, config, CallCounter::default())
    }

    /// As `new`, counting calls in a counter shared with other apps (the local gateway runs
    /// every function in one process).
    pub fn with_calls(sdk: &aws_config::SdkConfig, config: Config, calls: CallCounter) -> App {
        App::with_hooks(sdk, config, calls, &Hooks::default())
    }

    /// As `with_calls`, with what a test or the bench adds to the clients (`Hooks`).
    pub fn with_hooks(sdk: &aws_config::SdkConfig, config: Config, calls: CallCounter, hooks: &Hooks) -> App {
        let dynamodb = client!(aws_sdk_dynamodb, sdk, calls, &hooks.dynamodb, &hooks.retry);
        // Every request reads the table; the other services' clients are made when first used.
        let lazy = |interceptors: &[SharedInterceptor]| ClientParts {
            sdk: sdk.clone(),
            calls: calls.clone(),
            interceptors: interceptors.to_vec(),
            retry: hooks.retry.clone(),
        };
        let s3 = |interceptors: &[SharedInterceptor]| {
            let c = lazy(interceptors);
            OnFirstUse::new(move || client!(aws_sdk_s3, &c.sdk, c.calls, &c.interceptors, &c.retry))
        };
        let kms = |interceptors: &[SharedInterceptor]| {
            let c = lazy(interceptors);
            OnFirstUse::new(move || client!(aws_sdk_kms, &c.sdk, c.calls, &c.interceptors, &c.retry))
        };
        let c = lazy(&hooks.sns);
        let sns = OnFirstUse::new(move || client!(aws_sdk_sns, &c.sdk, c.calls, &c.interceptors, &c.retry));
        let c = lazy(&hooks.cognito);
        let cognito = OnFirstUse::new(move || {
            client!(aws_sdk_cognitoidentityprovider, &c.sdk, c.calls, &c.interceptors, &c.retry)
        });
        // The audit chain's clients take no hooks: the fault tests aim at the request path.
        let audit_key = config.audit_chain_key_id.map(|key_id| crate::audit::ChainKey { kms: kms(&[]), key_id });
        let audit_heads = config.audit_heads_bucket.map(|bucket| crate::audit::HeadCopies { s3: s3(&[]), bucket });
        let key_cache = hooks.key_cache.unwrap_or_default();
        App {
            audit_key,
            audit_heads,
            store: Store::new(dynamodb, config.table_name),
            envelope: Envelope::new(kms(&hooks.kms), config.kms_key_id, key_cache),
            blobs: Blobs::new(s3(&hooks.s3), config.bucket_name),
            sns,
            topic_arn: config.topic_arn,
            users: UserPool::new(cognito, config.user_pool_id),
            calls,
            search_keys: Default::default(),
            practice_rules: Default::default(),
        }
    }
}

/// What a client made on first use is made from.
struct ClientParts {
    sdk: aws_config::SdkConfig,
    calls: CallCounter,
    interceptors: Vec<SharedInterceptor>,
    retry: Option<aws_config::retry::RetryConfig>,
}

/// What a test or the bench adds to the clients an `App` makes, after the call counter:
/// interceptors per service (fault switches, capacity probes), a retry policy, and the data-key
/// cache's policy. A deployed function has none (`Hooks::default()`).
#[derive(Clone, Default)]
pub struct Hooks {
    pub dynamodb: Vec<SharedInterceptor>,
    pub s3: Vec<SharedInterceptor>,
    pub kms: Vec<SharedInterceptor>,
    pub sns: Vec<SharedInterceptor>,
    pub cognito: Vec<SharedInterceptor>,
    pub retry: Option<aws_config::retry::RetryConfig>,
    pub key_cache: Option<KeyCachePolicy>,
}

impl App {
    /// SEC-4, ACCT-2: the token's user still exists, is active and has the role its token
    /// claims. An ID token stays valid until it expires, whatever happened to its user since;
    /// this read, on every request and never cached, is where deactivation and a role change
    /// take hold at once. A token that no longer matches asks the client to sign in again.
    /// ACCT-3: the same record says whether the user set up a second factor; one who did must
    /// have used it for this token, one who did not may go on only where the practice does
    /// not require it (or to set it up).
    ///
    /// A staff caller's record comes back, so that an operation needs not read it again.
    pub async fn ensure_active(&self, ctx: &RequestCtx, enrolling: bool) -> Result<Option<Staff>> {
        let (p, user) = (&ctx.caller.practice_id, &ctx.caller.user_id);
        let record = if ctx.caller.is_staff() {
            self.store.staff(p, user).await?.map(CallerRecord::Staff)
        } else {
            self.store.patient(p, user).await?.map(CallerRecord::Patient)
        };
        self.admit(ctx, record, enrolling).await
    }

    /// `ensure_active` on a caller's record the operation read itself, in the one batch of
    /// what it needs (`store::Batch::caller`, strongly consistent). Only routes that
    /// `routes::checks_caller_in_its_read` may rely on it; `api::serve` checks the others first.
    pub async fn admit(
        &self,
        ctx: &RequestCtx,
        record: Option<CallerRecord>,
        enrolling: bool,
    ) -> Result<Option<Staff>> {
        let caller = &ctx.caller;
        let (current, enrolled_at, staff) = match record {
            Some(CallerRecord::Staff(s)) if caller.is_staff() => {
                (s.active && s.role == caller.role, s.totp_enrolled_at, Some(s))
            }
            // ROLE-5: an inactive patient may still write to billing and the front office;
            // one whose portal access was withdrawn may not sign in at all.
            Some(CallerRecord::Patient(pat)) if !caller.is_staff() => (pat.portal_access, pat.totp_enrolled_at, None),
            _ => return Err(Error::Unauthenticated),
        };
        if !current {
            return Err(Error::SignInAgain);
        }
        let enrolled_at = enrolled_at.map(|at| at.as_second());
        let required = match enrolled_at {
            Some(_) => true,
            None => {
                let rules = self.practice_rules(&caller.practice_id).await?;
                if caller.is_staff() {
                    rules.staff_totp
                } else {
                    rules.patient_totp
                }
            }
        };
        match crate::policy::second_factor(required, enrolled_at, ctx.signed_in_at, enrolling) {
            crate::policy::SecondFactor::Satisfied => {
                ctx.mark_admitted();
                Ok(staff)
            }
            crate::policy::SecondFactor::SignInAgain => Err(Error::SignInAgain),
            crate::policy::SecondFactor::SetUpFirst => Err(Error::SecondFactorRequired),
        }
    }

    /// Commits the transaction of an audited read (`writes`: its audit event, marks) with the
    /// SEC-4 check of the caller as its condition (`Tx::admit_caller`) instead of a read of the
    /// caller's record first: an inbox page or a patient search is two calls, not three. The
    /// condition is `admit`'s verdict (active, the token's role, the second factor of ACCT-3
    /// with the practice's rule from this function's copy); where it fails, `ensure_active`
    /// reads the record and says why, and if the record passes by then, the transaction is
    /// made again with the plain check. Not for the routes that set the factor up.
    pub async fn commit_admitted(
        &self,
        ctx: &RequestCtx,
        writes: impl Fn(&mut crate::store::Tx<'_>) -> Result<()>,
    ) -> Result<()> {
        let rules = self.practice_rules(&ctx.caller.practice_id).await?;
        let required = if ctx.caller.is_staff() { rules.staff_totp } else { rules.patient_totp };
        let admission = crate::policy::enrolment_condition(required, ctx.signed_in_at);
        if admission.is_none() {
            // No record can pass: the read check answers why.
            self.ensure_active(ctx, false).await?;
        }
        let commit = |admission: Option<crate::policy::EnrolmentCondition>| {
            let mut tx = self.store.tx();
            let built = match admission {
                Some(condition) => tx.admit_caller(&ctx.caller, condition),
                None => tx.check_caller(&ctx.caller),
            }
            .and_then(|()| writes(&mut tx));
            async move {
                built?;
                tx.commit().await
            }
        };
        if commit(admission).await?.is_err() {
            self.ensure_active(ctx, false).await?;
            if commit(None).await?.is_err() {
                return Err(Error::Unauthenticated);
            }
        }
        ctx.mark_admitted();
        Ok(())
    }

    async fn practice_rules(&self, practice_id: &PracticeId) -> Result<PracticeRules> {
        let cached = self.practice_rules.lock().expect("rule cache lock").get(practice_id.as_str()).cloned();
        if let Some((_, rules)) = cached.filter(|(read_at, _)| read_at.elapsed() < RULE_TTL) {
            return Ok(rules);
        }
        let practice = self.store.practice(practice_id).await?.ok_or(Error::Unauthenticated)?;
        Ok(self.renew_practice_rules(&practice))
    }

    /// A practice record a request read anyway (in its batch) renews this function's copy of
    /// the practice's rules, so that admitting the caller makes no read of its own.
    pub fn renew_practice_rules(&self, practice: &crate::domain::Practice) -> PracticeRules {
        let settings = &practice.settings;
        let rules = PracticeRules {
            staff_totp: settings.totp_required_for_staff,
            patient_totp: settings.totp_required_for_patients,
            time_zone: settings.time_zone.clone(),
        };
        self.practice_rules
            .lock()
            .expect("rule cache lock")
            .insert(practice.id.to_string(), (std::time::Instant::now(), rules.clone()));
        rules
    }

    /// The practice's time zone, as read within the last minute.
    pub async fn practice_time_zone(&self, practice_id: &PracticeId) -> Result<jiff::tz::TimeZone> {
        crate::hours::time_zone(&self.practice_rules(practice_id).await?.time_zone)
    }
}

/// One request as the core sees it: who is calling (from the verified token), the gateway's
/// request id (for audit and errors), and the idempotency key of a creating POST.
#[derive(Clone, Debug)]
pub struct RequestCtx {
    pub caller: Caller,
    pub request_id: String,
    pub idempotency: Option<IdempotencyKey>,
    /// When the caller signed in (the token's `auth_time`, epoch seconds): ACCT-3 refuses a
    /// token from a sign-in before the caller's second factor was set up.
    pub signed_in_at: Option<i64>,
    /// The request's one reading of the clock: everything it writes (created, sent, read,
    /// audited) carries this time, and rules about time (budgets, expiries) use it too.
    pub now: crate::domain::Timestamp,
    /// Set once the caller passed the SEC-4 check (`App::admit`), so `api::serve` can tell
    /// whether an operation that reads the caller itself did.
    pub admitted: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl RequestCtx {
    /// The caller passed the SEC-4 check: `App::admit`, or a committed transaction that held
    /// `Tx::admit_caller` (`App::commit_admitted`).
    pub fn mark_admitted(&self) {
        self.admitted.store(true, std::sync::atomic::Ordering::Release);
    }

    /// `now` in epoch seconds (budget minutes, TTL attributes, code expiries).
    pub fn epoch_seconds(&self) -> i64 {
        self.now.as_second()
    }

    /// Seconds from `now` to the end of the current UTC period of `period` seconds (a
    /// minute's budget, a day's message limit): a refused client's `Retry-After`.
    pub fn seconds_left_in(&self, period: i64) -> u64 {
        (period - self.epoch_seconds().rem_euclid(period)) as u64
    }

    /// The operator command's own context (ACCT-1): its writes are audited as `operator`.
    pub fn operator(practice_id: &PracticeId) -> RequestCtx {
        RequestCtx {
            caller: Caller {
                practice_id: practice_id.clone(),
                user_id: crate::domain::UserId::from_stored("operator"),
                role: crate::domain::Role::Admin,
            },
            request_id: crate::domain::new_id("op_"),
            idempotency: None,
            signed_in_at: None,
            now: crate::domain::Timestamp::now(),
            admitted: Default::default(),
        }
    }
}

/// An `Idempotency-Key` as stored: hashes of the key and of the request it came with.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub key_hash: String,
    pub request_hash: String,
}

#[cfg(test)]
mod tests {
    use super::RequestCtx;

    #[test]
    fn reply_4_finding_12_retry_after_is_the_rest_of_the_period() {
        let mut ctx = RequestCtx::operator(&crate::domain::PracticeId::from_stored("prc_x"));
        ctx.now = "2026-12-01T23:59:15Z".parse().unwrap();
        assert_eq!(ctx.seconds_left_in(60), 45, "a minute's budget refills at the next minute");
        assert_eq!(ctx.seconds_left_in(86_400), 45, "a day's limit lifts at UTC midnight");
        ctx.now = "2026-12-01T00:00:00Z".parse().unwrap();
        assert_eq!(ctx.seconds_left_in(60), 60, "never 0: a client told to wait 0 s would spin");
    }
}
