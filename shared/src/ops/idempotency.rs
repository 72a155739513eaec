//! `Idempotency-Key` (API.md): a creating request claims its key in the transaction that
//! creates, with the answer sealed beside it, so a retry of the same request gets the first
//! answer and a different request under the same key is refused; nothing is created twice.
//! Work that fans one request out (a broadcast's copies, an inbound text) derives its keys
//! here too.

use crate::app::{App, IdempotencyKey, RequestCtx};
use crate::crypto::sha256_hex;
use crate::crypto::Binding;
use crate::domain::{Sealed, StoredAnswer};
use crate::error::{Error, Result};
use crate::store::place;
use crate::store::{Guard, Tx};
use serde::{Serialize, Serializer};

/// What a creating operation answers: what it made, or, for a replayed `Idempotency-Key`, the
/// first answer exactly as it was stored (sent again as it was, not rebuilt from today's
/// records).
#[derive(Debug)]
pub enum Created<T> {
    Made(T),
    Replayed(serde_json::Value),
}

impl<T> Created<T> {
    pub fn is_made(&self) -> bool {
        matches!(self, Created::Made(_))
    }
}

impl<T: Serialize> Serialize for Created<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Created::Made(made) => made.serialize(serializer),
            Created::Replayed(first) => first.serialize(serializer),
        }
    }
}

/// How long an `Idempotency-Key` is remembered (API.md: 24 hours).
const TTL_SECONDS: i64 = 24 * 3600;

/// What the stored answer is sealed to: the caller and the key.
fn record(ctx: &RequestCtx, key: &IdempotencyKey) -> String {
    format!("idem/{}/{}", ctx.caller.user_id, key.key_hash)
}

/// The key of one copy of a fanned-out request (a broadcast's copy to one patient): a retry
/// of the request retries each copy under the same derived key.
pub fn for_copy(key: &IdempotencyKey, copy: &str) -> IdempotencyKey {
    IdempotencyKey {
        key_hash: sha256_hex(&[key.key_hash.as_bytes(), copy.as_bytes()]),
        request_hash: key.request_hash.clone(),
    }
}

/// The key of an event delivered at least once (an inbound text), from the delivery's own id:
/// a redelivery is a replay, and `request` tells a replay from a different event.
pub fn for_delivery(source: &str, delivery: &str, request: &[&[u8]]) -> IdempotencyKey {
    IdempotencyKey {
        key_hash: sha256_hex(&[source.as_bytes(), delivery.as_bytes()]),
        request_hash: sha256_hex(request),
    }
}

/// Adds the idempotency claim (with the response it will replay) to a creating write.
pub async fn claim_idempotency(
    app: &App,
    ctx: &RequestCtx,
    tx: &mut Tx<'_>,
    response: &impl Serialize,
    resource_id: &str,
) -> Result<()> {
    let Some(key) = &ctx.idempotency else {
        return Ok(());
    };
    let p = &ctx.caller.practice_id;
    let record = record(ctx, key);
    let body = serde_json::to_vec(response).map_err(Error::internal)?;
    let sealed = app.envelope.seal(Binding { practice_id: p, record: &record, field: "response" }, &body).await?;
    let now = ctx.epoch_seconds();
    let item = StoredAnswer {
        request_hash: key.request_hash.clone(),
        conversation_id: resource_id.to_string(),
        message_id: None,
        response: Some(Sealed(sealed)),
        expires_at: now + TTL_SECONDS,
    };
    tx.claim_idempotency_key(place::idempotency(p, &ctx.caller.user_id, &key.key_hash), &item, now)
}

/// The key of the answer `claim_idempotency` stores for this request, if it has a key: a
/// message keeps it so its deletion takes the stored answer (which holds its body) along.
pub fn answer_pk(ctx: &RequestCtx) -> Option<String> {
    ctx.idempotency.as_ref().map(|k| place::answer_reference(&ctx.caller.practice_id, &ctx.caller.user_id, &k.key_hash))
}

/// The first answer to a replayed `Idempotency-Key`, or 422 when the key came with
/// another request.
pub async fn replay(app: &App, ctx: &RequestCtx) -> Result<serde_json::Value> {
    let key = ctx.idempotency.as_ref().ok_or_else(|| Error::internal_msg("replay without a key"))?;
    let p = &ctx.caller.practice_id;
    let item = app
        .store
        .idempotency(p, &ctx.caller.user_id, &key.key_hash)
        .await?
        .ok_or_else(|| Error::Conflict("a request with this Idempotency-Key is still in progress".into()))?;
    if item.request_hash != key.request_hash {
        return Err(Error::invalid("Idempotency-Key", "this Idempotency-Key was used with a different request"));
    }
    let sealed = item.response.ok_or_else(|| Error::internal_msg("idempotency record without a response"))?;
    let record = record(ctx, key);
    let body = app.envelope.open(Binding { practice_id: p, record: &record, field: "response" }, &sealed.0).await?;
    serde_json::from_slice(&body).map_err(Error::internal)
}

/// Commits a creating write: what it made, or, for a replayed key, the first response.
pub async fn commit_created<T>(
    app: &App,
    ctx: &RequestCtx,
    tx: Tx<'_>,
    response: T,
    on_condition: impl Fn(Guard) -> Error,
) -> Result<Created<T>> {
    match tx.commit().await? {
        Ok(()) => Ok(Created::Made(response)),
        Err(Guard::Idempotency) => replay(app, ctx).await.map(Created::Replayed),
        Err(Guard::Actor) => Err(Error::Unauthenticated),
        Err(guard) => Err(on_condition(guard)),
    }
}
