//! Messages that arrive outside their sender's request: auto-replies (REPLY-5) and texts
//! (NOTIFY-4).

use super::post::{post_message, seal, Arrival, Posting};
use super::thread::{created_id, start_thread, NewThread};
use super::*;
use crate::store::Guard;

/// REPLY-5: the automatic answers to a patient's message: each staff participant or assignee
/// who is out of office answers with their text, and outside the practice's hours (in its
/// time zone) the practice answers with its after-hours text; each at most once per
/// conversation per period (the out-of-office period; the local day). Best effort: the
/// patient's message is stored already, so a failure here is logged, not returned.
pub(super) async fn auto_replies(app: &App, ctx: &RequestCtx, conversation_id: &ConversationId) {
    if let Err(e) = try_auto_replies(app, ctx, conversation_id).await {
        tracing::warn!(error = %e, "auto-reply not sent");
    }
}

pub(super) async fn try_auto_replies(app: &App, ctx: &RequestCtx, conversation_id: &ConversationId) -> Result<()> {
    let p = &ctx.caller.practice_id;
    let (conversation, dir) = tokio::try_join!(app.store.conversation(p, conversation_id), app.store.directory(p))?;
    let (Some(conversation), Some(dir)) = (conversation, dir) else { return Ok(()) };
    let settings = &dir.practice.settings;
    let now = ctx.now;
    let mut replies: Vec<(String, String, SenderRef, i64)> = Vec::new();
    let mut staff: Vec<&UserId> = conversation.participants.iter().collect();
    staff.extend(conversation.assignee_ids.iter().filter(|a| !conversation.participants.contains(a)));
    for id in staff {
        let Some(member) = dir.staff_member(id) else { continue };
        let Some(ooo) = &member.out_of_office else { continue };
        if ooo.from <= now && now < ooo.to {
            let expires = ooo.to.as_second() + 86_400;
            let sender = SenderRef {
                kind: SenderKind::System,
                id: UserId::from_stored("auto-reply"),
                name: Some(format!("{} (auto-reply)", member.display_name())),
                masked: false,
            };
            replies.push((format!("OOO#{}#{}", member.id, ooo.from), ooo.text.clone(), sender, expires));
        }
    }
    if let (Some(hours), false) = (&settings.business_hours, settings.after_hours_text.trim().is_empty()) {
        let tz = crate::hours::time_zone(&settings.time_zone)?;
        let (after, day) = crate::hours::after_hours(hours, &tz, ctx.now.as_jiff())?;
        if after {
            let sender = SenderRef {
                kind: SenderKind::System,
                id: UserId::from_stored("auto-reply"),
                name: Some(dir.practice.name.clone()),
                masked: false,
            };
            replies.push((
                format!("AFTER#{day}"),
                settings.after_hours_text.clone(),
                sender,
                ctx.epoch_seconds() + 3 * 86_400,
            ));
        }
    }
    for (key, text, sender, expires) in replies {
        let message = AppendedMessage {
            dedupe_key: &key,
            text: &text,
            sender,
            expires,
            action: "message.auto_reply",
            settings,
            internal: false,
        };
        append_message(app, ctx, &conversation, message).await?;
    }
    Ok(())
}

/// NOTIFY-4: a thread begun by a text message from `number`, routed like a portal message
/// (ASSIGN-4): to the patient's primary provider, or, for a number of nobody known, to every
/// active provider and admin (the triage conversation). Answers the conversation's id.
pub(crate) async fn start_sms_thread(
    app: &App,
    ctx: &RequestCtx,
    dir: &Directory,
    patient: Option<&Patient>,
    number: &str,
    text: &str,
    sender: SenderRef,
) -> Result<ConversationId> {
    let primary = patient.and_then(|pat| pat.primary_provider_id.as_ref());
    let subject = if patient.is_some() { "Text message" } else { "Text message from an unknown number" };
    let thread = NewThread {
        patient,
        allow_attachments: false,
        sms_peer: Some(number.to_string()),
        ..NewThread::new(
            ConversationKind::Sms,
            Subject::parse(Some(subject))?,
            Body::parse(Some(text), BodyLimits { min_chars: 1, max_chars: 20_000 })?,
            sender,
            policy::route_portal_message(primary, &staff_members(dir)),
        )
    };
    created_id(&start_thread(app, ctx, dir, thread, None).await?)
}

/// A message that arrives from outside a request of its sender: an auto-reply (REPLY-5) or a
/// text message (NOTIFY-4).
pub(crate) struct AppendedMessage<'a> {
    /// Once per key: a second append with it is a no-op (a retried delivery).
    pub dedupe_key: &'a str,
    pub text: &'a str,
    pub sender: SenderRef,
    /// When the dedupe key may be forgotten (epoch seconds).
    pub expires: i64,
    pub action: &'static str,
    /// The practice's, for the reply clock (SLA-2).
    pub settings: &'a Settings,
    /// CONV-5: staff-only (an escalation's note).
    pub internal: bool,
}

/// Appends a message to a conversation, once per dedupe key, with its inbox entries,
/// counters, audit event and outbox in one transaction.
pub(crate) async fn append_message(
    app: &App,
    ctx: &RequestCtx,
    conversation: &Conversation,
    m: AppendedMessage<'_>,
) -> Result<()> {
    let AppendedMessage { dedupe_key, text, sender, expires, action, settings, internal } = m;
    let body = Body::parse(Some(text), BodyLimits { min_chars: 1, max_chars: 20_000 })?;
    // Its own moment, a microsecond after the request's: an auto-reply follows the message
    // that triggered it in the same request, and must sort, and count as unread, after it.
    let at = ctx.now + crate::domain::SignedDuration::from_micros(1);
    let posted = seal(app, conversation, Posting { internal, ..Posting::plain(sender, &body, at) }, settings).await?;
    let mut tx = app.store.tx();
    let once = AutoReplyMark { expires_at: expires };
    tx.put_new(Guard::Auto, place::auto_reply_mark(&conversation.practice_id, &conversation.id, dedupe_key), &once)?;
    let arrival = Arrival::Joins { patient_needs_open: false };
    post_message(app, ctx, &mut tx, conversation, arrival, &posted, action).await?;
    match tx.commit().await? {
        Ok(()) | Err(Guard::Auto) => Ok(()),
        Err(guard) => Err(Error::Conflict(format!("message not stored ({guard:?}); retry"))),
    }
}
