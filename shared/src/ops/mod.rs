//! The operations of the API, one function per route: each checks who may do it, builds
//! its records and commits them in one transaction with their audit event.

pub mod accounts;
pub mod attachments;
pub mod budgets;
pub mod care_team;
pub mod conversations;
pub mod cursor;
pub mod directory;
pub mod drafts;
pub mod erasure;
pub mod export;
pub mod inbox;
pub mod notifications;
pub mod reminders;
pub mod renames;
pub mod reports;
pub mod saved_replies;
pub mod search;
pub mod second_factor;
pub mod settings;
pub mod sms;
pub mod tasks;

use crate::app::{App, RequestCtx};
use crate::crypto::Binding;
use crate::domain::Caller;
use crate::error::{Error, Result};
use crate::ids;
use crate::keys;
use crate::policy::{ConversationFacts, StaffMember};
use crate::records::{ConversationItem, IdempotencyItem, Sealed};
use crate::store::Guard;
use crate::store::{Directory, Tx};

/// How long an `Idempotency-Key` is remembered (API.md: 24 hours).
const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;

pub fn facts(c: &ConversationItem) -> ConversationFacts<'_> {
    ConversationFacts {
        practice_id: &c.practice_id,
        kind: c.summary.kind,
        patient_id: c.summary.patient.as_ref().map(|p| p.id.as_str()),
        participants: &c.participants,
        assignees: &c.assignee_ids,
        care_team: &c.care_team,
    }
}

pub fn staff_members(dir: &Directory) -> Vec<StaffMember> {
    dir.staff.iter().map(|s| StaffMember { id: s.id.clone(), role: s.role.clone(), active: s.active }).collect()
}

/// The active staff user behind a staff caller, or 401: a valid token of a user who has
/// since been deactivated (or removed) no longer acts.
pub fn active_staff<'a>(dir: &'a Directory, caller: &Caller) -> Result<&'a crate::records::StaffItem> {
    dir.staff_member(&caller.user_id).filter(|s| s.active).ok_or(Error::Unauthenticated)
}

/// A conversation the caller may see, or 404 exactly as if it did not exist (ROLE-3).
pub async fn visible_conversation(app: &App, caller: &Caller, conversation_id: &str) -> Result<ConversationItem> {
    let conversation =
        app.store.conversation(&caller.practice_id, conversation_id).await?.ok_or(Error::NotFound("conversation"))?;
    if !crate::policy::can_see(caller, &facts(&conversation)) {
        return Err(Error::NotFound("conversation"));
    }
    Ok(conversation)
}

/// Adds the idempotency claim (with the response it will replay) to a creating write.
pub async fn claim_idempotency(
    app: &App,
    ctx: &RequestCtx,
    tx: &mut Tx,
    response: &serde_json::Value,
    resource_id: &str,
) -> Result<()> {
    let Some(key) = &ctx.idempotency else {
        return Ok(());
    };
    let p = &ctx.caller.practice_id;
    let record = format!("idem/{}/{}", ctx.caller.user_id, key.key_hash);
    let body = serde_json::to_vec(response).map_err(Error::internal)?;
    let sealed = app.envelope.seal(Binding { practice_id: p, record: &record, field: "response" }, &body).await?;
    let now = ids::epoch_seconds();
    let item = IdempotencyItem {
        pk: keys::idempotency(p, &ctx.caller.user_id, &key.key_hash),
        sk: keys::IDEMPOTENCY_SK.into(),
        request_hash: key.request_hash.clone(),
        conversation_id: resource_id.to_string(),
        message_id: None,
        response: Some(Sealed(sealed)),
        expires_at: now + IDEMPOTENCY_TTL_SECONDS,
    };
    tx.claim_idempotency_key(&app.store, &item, now)
}

/// The key of the answer `claim_idempotency` stores for this request, if it has a key: a
/// message keeps it so its deletion takes the stored answer (which holds its body) along.
pub fn answer_pk(ctx: &RequestCtx) -> Option<String> {
    ctx.idempotency.as_ref().map(|k| keys::idempotency(&ctx.caller.practice_id, &ctx.caller.user_id, &k.key_hash))
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
    let record = format!("idem/{}/{}", ctx.caller.user_id, key.key_hash);
    let body = app.envelope.open(Binding { practice_id: p, record: &record, field: "response" }, &sealed.0).await?;
    serde_json::from_slice(&body).map_err(Error::internal)
}

/// Commits a creating write; a replayed key answers with the first response.
pub async fn commit_created(
    app: &App,
    ctx: &RequestCtx,
    tx: Tx,
    response: serde_json::Value,
    on_condition: impl Fn(Guard) -> Error,
) -> Result<serde_json::Value> {
    commit_created_fresh(app, ctx, tx, response, on_condition).await.map(|(body, _)| body)
}

/// As `commit_created`, also telling whether this request created the thing (`true`) or
/// replayed an earlier answer (`false`), for work that must follow only a real creation.
pub async fn commit_created_fresh(
    app: &App,
    ctx: &RequestCtx,
    tx: Tx,
    response: serde_json::Value,
    on_condition: impl Fn(Guard) -> Error,
) -> Result<(serde_json::Value, bool)> {
    match app.store.commit(tx).await? {
        Ok(()) => Ok((response, true)),
        Err(Guard::Idempotency) => replay(app, ctx).await.map(|body| (body, false)),
        Err(Guard::Actor) => Err(Error::Unauthenticated),
        Err(guard) => Err(on_condition(guard)),
    }
}

/// REPLY-4: where a patient should turn when a message cannot be taken.
fn urgent_path(settings: &crate::records::Settings) -> String {
    if settings.urgent_phone.is_empty() {
        "For anything urgent, call the practice.".to_string()
    } else {
        format!("For anything urgent, call {}.", settings.urgent_phone)
    }
}

/// A patient's message body under the practice's patient limit (REPLY-4): too long is 413,
/// with the urgent path.
pub fn patient_body(raw: Option<&str>, settings: &crate::records::Settings) -> Result<crate::domain::Body> {
    let limits = crate::domain::BodyLimits {
        min_chars: settings.body_min_chars,
        max_chars: settings.body_max_chars.min(settings.patient_body_max_chars),
    };
    crate::domain::Body::parse(raw, limits).map_err(|e| match e {
        Error::TooLarge { field, .. } => Error::TooLarge {
            detail: format!("Messages may have at most {} characters. {}", limits.max_chars, urgent_path(settings)),
            field,
        },
        other => other,
    })
}

/// REPLY-4: the daily limit was reached; nothing was stored.
pub fn daily_limit_reached(settings: &crate::records::Settings) -> Error {
    let seconds_into_day = ids::epoch_seconds().rem_euclid(86_400) as u64;
    Error::too_many(
        format!(
            "You have sent the {} messages a day this practice accepts. {}",
            settings.patient_messages_per_day,
            urgent_path(settings)
        ),
        Some(86_400 - seconds_into_day),
    )
}

/// The day a patient's message counts against (UTC).
pub fn message_day() -> String {
    ids::now()[..10].to_string()
}

/// A conversation id from a path; a malformed one is just a conversation that is not there.
pub fn conversation_id(raw: &str) -> Result<String> {
    crate::domain::parse_id("id", crate::domain::CONVERSATION_ID, raw).map_err(|_| Error::NotFound("conversation"))
}

/// Records a read of PHI (SEC-2) in its own transaction with the check that the caller
/// still acts; a caller who no longer does gets 401 and reads nothing.
pub async fn audit_read(
    app: &App,
    ctx: &RequestCtx,
    action: &str,
    record: crate::audit::AuditRecord<'_>,
) -> Result<()> {
    audit_list(app, ctx, action, record, Vec::new()).await
}

/// `audit_read` for a list, naming the patients it showed (security finding 10).
pub async fn audit_list(
    app: &App,
    ctx: &RequestCtx,
    action: &str,
    record: crate::audit::AuditRecord<'_>,
    patients_shown: Vec<String>,
) -> Result<()> {
    let mut event = crate::audit::event(ctx, action, record, "success");
    event.patients_shown = patients_shown;
    let mut tx = Tx::new();
    tx.check_caller(&app.store, &ctx.caller)?;
    tx.put(&app.store, Guard::Audit, &event)?;
    match app.store.commit(tx).await? {
        Ok(()) => Ok(()),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// A thread (summary and messages) the caller may see, or 404 exactly as if it did not exist
/// (ROLE-3).
pub async fn visible_thread(
    app: &App,
    caller: &Caller,
    conversation_id: &str,
) -> Result<(ConversationItem, Vec<crate::records::MessageItem>)> {
    let (conversation, messages) =
        app.store.thread(&caller.practice_id, conversation_id).await?.ok_or(Error::NotFound("conversation"))?;
    if !crate::policy::can_see(caller, &facts(&conversation)) {
        return Err(Error::NotFound("conversation"));
    }
    Ok((conversation, messages))
}
