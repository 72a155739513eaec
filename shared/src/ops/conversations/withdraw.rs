//! SLA-2: the patient's own "never mind". It posts a short message from the patient, so the
//! thread says what happened and staff see it, and that message stops the reply clock
//! instead of keeping it: the question needs no reply, and no reply time is recorded.

use super::post::{post_message, seal, Arrival, Posting};
use super::*;
use crate::store::Guard;

/// What the patient's "never mind" says in the thread.
pub const NEVER_MIND: &str = "Never mind: I no longer need a reply to this.";

/// POST /conversations/{id}/withdraw (the patient).
pub async fn withdraw(app: &App, ctx: &RequestCtx, conversation_id: &str) -> Result<MessagePosted> {
    let caller = &ctx.caller;
    if caller.is_staff() {
        return Err(Error::Forbidden("only the patient withdraws its question".into()));
    }
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (_, conversation, practice) = crate::ops::admit_with_conversation(app, ctx, &conversation_id).await?;
    if conversation.reply_clock.is_none() {
        return Err(Error::Conflict("no question here waits for a reply".into()));
    }
    let body = Body::parse(Some(NEVER_MIND), BodyLimits { min_chars: 1, max_chars: 20_000 })?;
    let sender = SenderRef { kind: SenderKind::Patient, id: caller.user_id.clone(), name: None, masked: false };
    let posting = Posting { withdraws: true, ..Posting::plain(sender, &body, ctx.now) };
    let posted = seal(app, &conversation, posting, &practice.settings).await?;
    let mut tx = app.store.tx();
    tx.check_patient_exists(p, &caller.user_id)?;
    let arrival = Arrival::Joins { patient_needs_open: true };
    post_message(app, ctx, &mut tx, &conversation, arrival, &posted, "message.withdraw").await?;
    match tx.commit().await? {
        Ok(()) => {}
        Err(Guard::Conversation) => return Err(Error::Conflict("this conversation does not accept replies".into())),
        Err(Guard::Actor) => return Err(Error::Unauthenticated),
        Err(_) => return Err(Error::Conflict("the conversation changed meanwhile; retry".into())),
    }
    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let patient = match &conversation.summary.patient {
        Some(pr) => Some(renderer.patient(pr).await?),
        None => None,
    };
    let message = renderer.message(&posted.message, patient.as_ref(), crate::domain::DeliveryStatus::Sent).await?;
    Ok(MessagePosted { message, reply_due_at: None })
}
