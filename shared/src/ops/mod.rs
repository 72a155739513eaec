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
pub mod evisit_patients;
pub mod evisits;
pub mod export;
pub mod idempotency;
pub mod inbox;
pub mod notifications;
pub mod onboarding;
pub mod practice_view;
pub mod renames;
pub mod reports;
pub mod response_times;
pub mod saved_replies;
pub mod search;
pub mod second_factor;
pub mod settings;
pub mod tasks;
pub mod workgroups;

pub use idempotency::{answer_pk, claim_idempotency, commit_created, replay, Created};

use crate::app::{App, RequestCtx};
use crate::domain::Conversation;
use crate::domain::Directory;
use crate::domain::{Caller, ConversationId};
use crate::error::{Error, Result};
use crate::policy::{ConversationFacts, StaffMember};

pub fn facts(c: &Conversation) -> ConversationFacts<'_> {
    ConversationFacts {
        practice_id: &c.practice_id,
        kind: c.summary.kind,
        patient_id: c.summary.patient.as_ref().map(|p| &p.id),
        participants: &c.participants,
        assignees: &c.assignee_ids,
        care_team: &c.care_team,
        primary_provider: c.primary_provider_id.as_ref(),
    }
}

pub fn staff_members(dir: &Directory) -> Vec<StaffMember> {
    dir.staff.iter().map(|s| StaffMember { id: s.id.clone(), role: s.role.clone(), active: s.active }).collect()
}

/// Whose inboxes hold an entry for `c` in this practice as it is now (ROLE-2, INBOX-1).
pub fn inbox_holders(c: &Conversation, dir: &Directory) -> Vec<crate::domain::UserId> {
    let staff = staff_members(dir);
    let follows_all = crate::policy::class_follows_all(&staff, dir.practice.settings.follow_all_conversations_up_to);
    crate::policy::viewers(&facts(c), &staff, follows_all)
}

/// What a message into a conversation reads, in one BatchGetItem (issue 18): the caller's
/// record, admitted here (SEC-4; a staff caller's comes back), the conversation if the caller
/// may see it (404 otherwise, ROLE-2) and the practice's record (settings, limits).
pub async fn admit_with_conversation(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &ConversationId,
) -> Result<(Option<crate::domain::Staff>, Conversation, crate::domain::Practice)> {
    let (caller, p) = (&ctx.caller, &ctx.caller.practice_id);
    let mut batch = app.store.batch();
    let (me, conversation, practice) =
        (batch.caller(caller), batch.conversation(p, conversation_id), batch.practice(p));
    let read = batch.read().await?;
    let practice = read.get(&practice)?.ok_or(Error::Unauthenticated)?;
    app.renew_practice_rules(&practice);
    let me = app.admit(ctx, read.caller(&me)?, false).await?;
    let conversation = visible_to(caller, read.get(&conversation)?)?;
    Ok((me, conversation, practice))
}

/// The active staff user behind a staff caller, or 401: a valid token of a user who has
/// since been deactivated (or removed) no longer acts.
pub fn active_staff<'a>(dir: &'a Directory, caller: &Caller) -> Result<&'a crate::domain::Staff> {
    dir.staff_member(&caller.user_id).filter(|s| s.active).ok_or(Error::Unauthenticated)
}

/// A conversation the caller may see, or 404 exactly as if it did not exist (ROLE-3).
pub async fn visible_conversation(
    app: &App,
    caller: &Caller,
    conversation_id: &ConversationId,
) -> Result<Conversation> {
    visible_to(caller, app.store.conversation(&caller.practice_id, conversation_id).await?)
}

/// The conversation read, if the caller may see it (ROLE-2); 404 for both absent and hidden.
pub fn visible_to(caller: &Caller, conversation: Option<Conversation>) -> Result<Conversation> {
    match conversation {
        Some(c) if crate::policy::can_see(caller, &facts(&c)) => Ok(c),
        _ => Err(Error::NotFound("conversation")),
    }
}

/// REPLY-4: where a patient should turn when a message cannot be taken.
fn urgent_path(settings: &crate::domain::Settings) -> String {
    if settings.urgent_phone.is_empty() {
        "For anything urgent, call the practice.".to_string()
    } else {
        format!("For anything urgent, call {}.", settings.urgent_phone)
    }
}

/// A patient's message body under the practice's patient limit (REPLY-4): too long is 413,
/// with the urgent path.
pub fn patient_body(raw: Option<&str>, settings: &crate::domain::Settings) -> Result<crate::domain::Body> {
    let limits = patient_body_limits(settings);
    crate::domain::Body::parse(raw, limits).map_err(|e| match e {
        Error::TooLarge { field, .. } => Error::TooLarge {
            detail: format!("Messages may have at most {} characters. {}", limits.max_chars, urgent_path(settings)),
            field,
        },
        other => other,
    })
}

/// REPLY-4: the length a patient's message may have (the practice's message limit, and its
/// stricter one for patients).
pub fn patient_body_limits(settings: &crate::domain::Settings) -> crate::domain::BodyLimits {
    crate::domain::BodyLimits {
        min_chars: settings.body_min_chars,
        max_chars: settings.body_max_chars.min(settings.patient_body_max_chars),
    }
}

/// REPLY-4: the day a patient's messages count against: the UTC date.
pub fn patient_day(ctx: &RequestCtx) -> String {
    ctx.now.date().to_string()
}

/// REPLY-4: the daily limit was reached; nothing was stored.
pub fn daily_limit_reached(ctx: &RequestCtx, settings: &crate::domain::Settings) -> Error {
    Error::too_many(
        format!(
            "You have sent the {} messages a day this practice accepts. {}",
            settings.patient_messages_per_day,
            urgent_path(settings)
        ),
        // The limit counts per UTC day (`count_patient_message`): it lifts at the next midnight.
        Some(ctx.seconds_left_in(86_400)),
    )
}

/// REPLY-4: counts the calling patient's message against its day (UTC) in `tx`, refused at
/// `limit`; a day's counter is kept three days.
pub fn count_patient_message(ctx: &RequestCtx, tx: &mut crate::store::Tx<'_>, limit: u32) -> Result<()> {
    let (p, patient) = (&ctx.caller.practice_id, &ctx.caller.user_id);
    tx.patient_daily_count(p, patient, &patient_day(ctx), limit, ctx.epoch_seconds() + 3 * 86_400)
}

/// A conversation id from a path; a malformed one is just a conversation that is not there.
pub fn conversation_id(raw: &str) -> Result<crate::domain::ConversationId> {
    crate::domain::ConversationId::parse("id", raw).map_err(|_| Error::NotFound("conversation"))
}

/// Records a read of PHI (SEC-2) in its own transaction with the check that the caller
/// still acts (`App::commit_admitted`); a caller who no longer does gets 401 and reads nothing.
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
    app.commit_admitted(ctx, |tx| tx.put_audit(&event)).await
}

/// A thread (summary and messages) the caller may see, or 404 exactly as if it did not exist
/// (ROLE-3).
pub async fn visible_thread(
    app: &App,
    caller: &Caller,
    conversation_id: &ConversationId,
) -> Result<(Conversation, Vec<crate::domain::Message>)> {
    let (conversation, messages) =
        app.store.thread(&caller.practice_id, conversation_id).await?.ok_or(Error::NotFound("conversation"))?;
    if !crate::policy::can_see(caller, &facts(&conversation)) {
        return Err(Error::NotFound("conversation"));
    }
    Ok((conversation, messages))
}
