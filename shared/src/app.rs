//! The state a function keeps for its whole life: clients and configuration, made once per
//! cold start in `main` and lent to every request (never made per request).

use crate::blobs::Blobs;
use crate::calls::CallCounter;
use crate::crypto::{Envelope, KeyCachePolicy};
use crate::domain::Caller;
use crate::error::{Error, Result};
use crate::identity::UserPool;
use crate::store::Store;

pub struct App {
    pub store: Store,
    pub envelope: Envelope,
    pub blobs: Blobs,
    pub sns: aws_sdk_sns::Client,
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
}

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
    /// One `SdkConfig` (credentials, region, endpoint: `AWS_ENDPOINT_URL` points it at the
    /// local stack), then the four clients made from it, each with the call counter.
    pub async fn from_env() -> Result<App> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
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
        let s3 =
            aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).interceptor(calls.clone()).build());
        let kms =
            aws_sdk_kms::Client::from_conf(aws_sdk_kms::config::Builder::from(sdk).interceptor(calls.clone()).build());
        let sns =
            aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(sdk).interceptor(calls.clone()).build());
        let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
            aws_sdk_cognitoidentityprovider::config::Builder::from(sdk).interceptor(calls.clone()).build(),
        );
        let audit_key = config.audit_chain_key_id.map(|key_id| crate::audit::ChainKey { kms: kms.clone(), key_id });
        let audit_heads = config.audit_heads_bucket.map(|bucket| crate::audit::HeadCopies { s3: s3.clone(), bucket });
        App {
            audit_key,
            audit_heads,
            store: Store::new(dynamodb, config.table_name),
            envelope: Envelope::new(kms, config.kms_key_id, KeyCachePolicy::default()),
            blobs: Blobs::new(s3, config.bucket_name),
            sns,
            topic_arn: config.topic_arn,
            users: UserPool::new(cognito, config.user_pool_id),
            calls,
            search_keys: Default::default(),
        }
    }
}

impl App {
    /// SEC-4, ACCT-2: the token's user still exists, is active and has the role its token
    /// claims. An ID token stays valid until it expires, whatever happened to its user since;
    /// this read, on every request and never cached, is where deactivation and a role change
    /// take hold at once. A token that no longer matches asks the client to sign in again.
    pub async fn ensure_active(&self, caller: &Caller) -> Result<()> {
        let current = if caller.is_staff() {
            self.store
                .staff(&caller.practice_id, &caller.user_id)
                .await?
                .map(|s| s.active && crate::domain::Role::parse(&s.role).ok().as_ref() == Some(&caller.role))
        } else {
            // ROLE-5: an inactive patient may still write to billing and the front office;
            // one whose portal access was withdrawn may not sign in at all.
            self.store.patient(&caller.practice_id, &caller.user_id).await?.map(|p| p.portal_access)
        };
        match current {
            Some(true) => Ok(()),
            Some(false) => Err(Error::SignInAgain),
            None => Err(Error::Unauthenticated),
        }
    }
}

/// One request as the core sees it: who is calling (from the verified token), the gateway's
/// request id (for audit and errors), and the idempotency key of a creating POST.
#[derive(Clone, Debug)]
pub struct RequestCtx {
    pub caller: Caller,
    pub request_id: String,
    pub idempotency: Option<IdempotencyKey>,
}

/// An `Idempotency-Key` as stored: hashes of the key and of the request it came with.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub key_hash: String,
    pub request_hash: String,
}

pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
