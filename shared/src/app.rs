//! The state a function keeps for its whole life: clients and configuration, made once per
//! cold start in `main` and lent to every request (never made per request).

use crate::blobs::Blobs;
use crate::calls::CallCounter;
use crate::crypto::{Envelope, KeyCachePolicy};
use crate::domain::Caller;
use crate::domain::PracticeId;
use crate::error::{Error, Result};
use crate::identity::UserPool;
use crate::sdk::OnFirstUse;
use crate::store::Store;

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
struct PracticeRules {
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
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(calls.clone()).build(),
        );
        // Every request reads the table; the other services' clients are made when first used.
        let s3 = || {
            let (sdk, calls) = (sdk.clone(), calls.clone());
            OnFirstUse::new(move || {
                aws_sdk_s3::Client::from_conf(
                    aws_sdk_s3::config::Builder::from(&sdk).interceptor(calls.clone()).build(),
                )
            })
        };
        let kms = || {
            let (sdk, calls) = (sdk.clone(), calls.clone());
            OnFirstUse::new(move || {
                aws_sdk_kms::Client::from_conf(
                    aws_sdk_kms::config::Builder::from(&sdk).interceptor(calls.clone()).build(),
                )
            })
        };
        let (sns_sdk, sns_calls) = (sdk.clone(), calls.clone());
        let sns = OnFirstUse::new(move || {
            aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(&sns_sdk).interceptor(sns_calls.clone()).build(),
            )
        });
        let (cognito_sdk, cognito_calls) = (sdk.clone(), calls.clone());
        let cognito = OnFirstUse::new(move || {
            aws_sdk_cognitoidentityprovider::Client::from_conf(
                aws_sdk_cognitoidentityprovider::config::Builder::from(&cognito_sdk)
                    .interceptor(cognito_calls.clone())
                    .build(),
            )
        });
        let audit_key = config.audit_chain_key_id.map(|key_id| crate::audit::ChainKey { kms: kms(), key_id });
        let audit_heads = config.audit_heads_bucket.map(|bucket| crate::audit::HeadCopies { s3: s3(), bucket });
        App {
            audit_key,
            audit_heads,
            store: Store::new(dynamodb, config.table_name),
            envelope: Envelope::new(kms(), config.kms_key_id, KeyCachePolicy::default()),
            blobs: Blobs::new(s3(), config.bucket_name),
            sns,
            topic_arn: config.topic_arn,
            users: UserPool::new(cognito, config.user_pool_id),
            calls,
            search_keys: Default::default(),
            practice_rules: Default::default(),
        }
    }
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
    pub async fn ensure_active(&self, ctx: &RequestCtx, enrolling: bool) -> Result<Option<crate::records::StaffItem>> {
        let caller = &ctx.caller;
        let p = &caller.practice_id;
        let mut staff = None;
        let (current, enrolled_at) = if caller.is_staff() {
            match self.store.staff(p, &caller.user_id).await? {
                Some(s) => {
                    let checked = (s.active && s.role == caller.role, s.totp_enrolled_at);
                    staff = Some(s);
                    checked
                }
                None => return Err(Error::Unauthenticated),
            }
        } else {
            // ROLE-5: an inactive patient may still write to billing and the front office;
            // one whose portal access was withdrawn may not sign in at all.
            match self.store.patient(p, &caller.user_id).await? {
                Some(pat) => (pat.portal_access, pat.totp_enrolled_at),
                None => return Err(Error::Unauthenticated),
            }
        };
        if !current {
            return Err(Error::SignInAgain);
        }
        let enrolled_at = enrolled_at.map(|at| at.as_second());
        let required = match enrolled_at {
            Some(_) => true,
            None => {
                let rules = self.practice_rules(p).await?;
                if caller.is_staff() {
                    rules.staff_totp
                } else {
                    rules.patient_totp
                }
            }
        };
        match crate::policy::second_factor(required, enrolled_at, ctx.signed_in_at, enrolling) {
            crate::policy::SecondFactor::Satisfied => Ok(staff),
            crate::policy::SecondFactor::SignInAgain => Err(Error::SignInAgain),
            crate::policy::SecondFactor::SetUpFirst => Err(Error::SecondFactorRequired),
        }
    }

    async fn practice_rules(&self, practice_id: &PracticeId) -> Result<PracticeRules> {
        let cached = self.practice_rules.lock().expect("rule cache lock").get(practice_id.as_str()).cloned();
        if let Some((_, rules)) = cached.filter(|(read_at, _)| read_at.elapsed() < RULE_TTL) {
            return Ok(rules);
        }
        let settings = self.store.practice(practice_id).await?.ok_or(Error::Unauthenticated)?.settings;
        let rules = PracticeRules {
            staff_totp: settings.totp_required_for_staff,
            patient_totp: settings.totp_required_for_patients,
            time_zone: settings.time_zone,
        };
        self.practice_rules
            .lock()
            .expect("rule cache lock")
            .insert(practice_id.to_string(), (std::time::Instant::now(), rules.clone()));
        Ok(rules)
    }

    /// The practice's time zone, as read within the last minute.
    pub async fn practice_time_zone(&self, practice_id: &PracticeId) -> Result<jiff::tz::TimeZone> {
        crate::hours::time_zone(&self.practice_rules(practice_id).await?.time_zone)
    }
}

/// One request as the core sees it: who is calling (from the verified token), the gateway's
/// request id (for audit and errors), and the idempotency key of a creating POST.
#[derive(Clone)]
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
    /// A staff caller's record as the per-request check read it (SEC-4): active, with the
    /// token's role. `None` for patients and for work no request started.
    pub staff: Option<std::sync::Arc<crate::records::StaffItem>>,
}

/// By hand, so that the caller's staff record (name, e-mail, phone) never reaches a log line
/// through `{:?}`: only its id is shown (SEC-3).
impl std::fmt::Debug for RequestCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestCtx")
            .field("caller", &self.caller)
            .field("request_id", &self.request_id)
            .field("idempotency", &self.idempotency)
            .field("signed_in_at", &self.signed_in_at)
            .field("now", &self.now)
            .field("staff", &self.staff.as_ref().map(|s| &s.id))
            .finish()
    }
}

impl RequestCtx {
    /// `now` as stored: RFC 3339 UTC with microseconds, fixed width.
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
            staff: None,
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
    fn sec_3_a_context_s_debug_shows_the_staff_record_s_id_and_nothing_of_the_person() {
        let p = crate::domain::PracticeId::from_stored("prc_x");
        let user = crate::domain::UserId::from_stored("usr_renee");
        let mut ctx = RequestCtx::operator(&p);
        ctx.staff = Some(std::sync::Arc::new(crate::records::StaffItem {
            key: crate::store::place::staff(&p, &user),
            id: user,
            first_name: "Renée".into(),
            last_name: "Okafor".into(),
            role: crate::domain::Role::Physician,
            email: "renee@example.org".into(),
            phone: "+15550100".into(),
            active: true,
            portal_messaging: true,
            created_at: ctx.now,
            out_of_office: None,
            notify: None,
            notify_pending: None,
            totp_enrolled_at: None,
        }));

        let shown = format!("{ctx:?}");

        assert!(shown.contains("usr_renee"), "{shown}");
        for phi in ["Renée", "Okafor", "renee@example.org", "+15550100"] {
            assert!(!shown.contains(phi), "{phi} in {shown}");
        }
    }

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
