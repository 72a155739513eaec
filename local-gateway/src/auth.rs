//! API Gateway's JWT authorizer, played locally against the stack's Cognito user pool
//! (DESIGN.md, Identity): RS256 only, the key named by `kid` from the pool's JWKS (cached,
//! fetched again on an unknown `kid`), `iss` the pool as AWS names it, `aud` the app client,
//! `exp`, and `token_use` = id. Anything else is a 401 before any function runs.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// The claims of a verified token, as the authorizer hands them to the function.
pub type Claims = Map<String, Value>;

/// An unknown `kid` fetches the JWKS again at most this often, so junk tokens cannot make
/// the gateway hammer the key endpoint.
const REFETCH_AFTER: Duration = Duration::from_secs(10);

pub struct Authorizer {
    issuer: String,
    audience: String,
    jwks_url: String,
    http: reqwest::Client,
    keys: tokio::sync::Mutex<KeyCache>,
    /// Seconds added to the clock when checking `exp`: lets a test see a token expire.
    clock_offset: AtomicI64,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

impl Authorizer {
    /// `endpoint` serves the JWKS (moto: `<endpoint>/<pool>/.well-known/jwks.json`); the
    /// issuer is written as AWS writes it, which moto's tokens name too.
    pub fn new(endpoint: &str, region: &str, pool_id: &str, client_id: &str) -> Authorizer {
        Authorizer {
            issuer: format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"),
            audience: client_id.to_string(),
            jwks_url: format!("{}/{pool_id}/.well-known/jwks.json", endpoint.trim_end_matches('/')),
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().expect("HTTP client"),
            keys: Default::default(),
            clock_offset: AtomicI64::new(0),
        }
    }

    /// From the environment `make dev` and `make test` write: AWS_ENDPOINT_URL, AWS_REGION,
    /// USER_POOL_ID and USER_POOL_CLIENT_ID.
    pub fn from_env() -> Result<Authorizer, String> {
        let var = |n: &str| std::env::var(n).map_err(|_| format!("{n} is not set"));
        Ok(Authorizer::new(
            &var("AWS_ENDPOINT_URL")?,
            &var("AWS_REGION")?,
            &var("USER_POOL_ID")?,
            &var("USER_POOL_CLIENT_ID")?,
        ))
    }

    pub fn shift_clock(&self, seconds: i64) {
        self.clock_offset.store(seconds, Ordering::SeqCst);
    }

    /// The claims of a valid ID token of the pool, or None (401).
    pub async fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let kid = header.kid?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        // `exp` is checked below, against the (test-shiftable) clock, with no leeway.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation).ok()?.claims;
        let now = jsonwebtoken::get_current_timestamp() as i64 + self.clock_offset.load(Ordering::SeqCst);
        let exp = claims.get("exp")?.as_i64()?;
        let id_token = claims.get("token_use").and_then(Value::as_str) == Some("id");
        (exp > now && id_token).then_some(claims)
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        let mut cache = self.keys.lock().await;
        if let Some(k) = cache.keys.get(kid) {
            return Some(k.clone());
        }
        if cache.fetched.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
            return None;
        }
        cache.fetched = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => cache.keys = keys,
            Err(e) => tracing::warn!(error = %e, "the user pool's JWKS could not be fetched"),
        }
        cache.keys.get(kid).cloned()
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, Box<dyn std::error::Error + Send + Sync>> {
        let set: jsonwebtoken::jwk::JwkSet =
            self.http.get(&self.jwks_url).send().await?.error_for_status()?.json().await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            if let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) {
                keys.insert(kid, key);
            }
        }
        Ok(keys)
    }
}

/// A claim as API Gateway passes it to the function: every value a string.
pub fn claim_strings(claims: &Claims) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}
