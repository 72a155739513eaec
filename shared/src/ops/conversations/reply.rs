//! POST /conversations/{id}/messages (REPLY-1, CONV-5).

use super::post::{post_message, seal, Arrival, Posting};
use super::*;
use crate::store::Guard;

/// POST /conversations/{id}/messages.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyRequest {
    pub body: Option<String>,
    pub priority: Option<String>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// ATT-4: documents of the patient's record, linked by reference.
    #[serde(default)]
    pub documents: Vec<ContextInput>,
    pub options: Option<MessageOptions>,
}

/// POST /conversations/{id}/messages (REPLY-1, CONV-5).
pub async fn reply(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    req: ReplyRequest,
) -> Result<Created<MessagePosted>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (me, conversation, practice) = crate::ops::admit_with_conversation(app, ctx, &conversation_id).await?;
    let by_patient = !caller.is_staff();
    let body = if by_patient {
        crate::ops::patient_body(req.body.as_deref(), &practice.settings)?
    } else {
        Body::parse(req.body.as_deref(), practice.settings.body_limits())?
    };
    let priority = parse_priority(req.priority.as_deref())?;
    let options = req.options.unwrap_or_default();
    let send_and_close = options.send_and_close.unwrap_or(false);
    let kind = conversation.summary.kind;
    if by_patient {
        if req.internal {
            return Err(Error::Forbidden("patients cannot write internal notes".into()));
        }
        if options.allow_response.is_some()
            || options.allow_attachments.is_some()
            || options.mask_name.is_some()
            || options.send_and_close.is_some()
        {
            return Err(Error::Forbidden("thread options are for staff".into()));
        }
        if conversation.summary.status != ConversationStatus::Open || !conversation.summary.allow_response {
            return Err(Error::Conflict("this conversation does not accept replies".into()));
        }
        if !req.attachment_ids.is_empty() && !conversation.summary.allow_attachments {
            return Err(Error::Forbidden("this conversation does not accept attachments from patients".into()));
        }
    }
    if req.internal && !kind.is_patient_facing() {
        return Err(Error::invalid(
            "internal",
            "internal notes belong to patient conversations; team messages are internal already",
        ));
    }
    let attachments = attachments_for(app, caller, &req.attachment_ids).await?;
    let extras = staff_extras(&options, caller, kind, req.internal)?;
    let documents = parse_documents(caller, &req.documents)?;

    let sender = if by_patient {
        SenderRef { kind: SenderKind::Patient, id: caller.user_id.clone(), name: None, masked: false }
    } else {
        let me = me.ok_or(Error::Unauthenticated)?;
        if kind.is_patient_facing() && !req.internal && !me.portal_messaging {
            return Err(Error::Forbidden("portal messaging is switched off for this user".into()));
        }
        SenderRef {
            kind: SenderKind::Staff,
            id: me.id.clone(),
            name: Some(me.display_name()),
            masked: options.mask_name.unwrap_or(false),
        }
    };

    let conversation =
        if by_patient { conversation } else { super::assign::join_sender(app, ctx, conversation).await? };
    let (attachments, moved) = relocate(app, p, &conversation_id, attachments).await?;
    let posting = Posting {
        priority,
        internal: req.internal,
        attachments: &attachments,
        documents: &documents,
        fee_code: extras.0,
        notify_if_unread_hours: extras.1,
        answer_pk: crate::ops::answer_pk(ctx),
        ..Posting::plain(sender, &body, ctx.now)
    };
    let posted = seal(app, &conversation, posting, &practice.settings).await?;
    let mut tx = app.store.tx();
    if by_patient {
        // ROLE-5 on replies too (security finding 8): an inactive patient answers only a
        // conversation with Billing or the Front Office; the condition holds it atomically.
        if inactive_patient_may_reply(app, p, &conversation).await? {
            tx.check_patient_exists(p, &caller.user_id)?;
        } else {
            tx.check_patient_active(p, &caller.user_id)?;
        }
        crate::ops::count_patient_message(ctx, &mut tx, practice.settings.patient_messages_per_day)?;
    } else {
        tx.check_staff_active(p, &caller.user_id, kind.is_patient_facing() && !req.internal)?;
    }
    let action = if req.internal { "note.create" } else { "message.create" };
    let arrival = Arrival::Joins { patient_needs_open: by_patient };
    post_message(app, ctx, &mut tx, &conversation, arrival, &posted, action).await?;

    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let patient_view = match &conversation.summary.patient {
        Some(pr) => Some(renderer.patient(pr).await?),
        None => None,
    };
    let response = MessagePosted {
        message: renderer.message(&posted.message, patient_view.as_ref(), crate::domain::DeliveryStatus::Sent).await?,
        reply_due_at: posted.reply_clock_after(&conversation).map(|c| c.due.at),
    };
    claim_idempotency(app, ctx, &mut tx, &response, &posted.message.id).await?;
    // Internal notes are never indexed (see ops::search).
    if !req.internal {
        search::tokens_of(app, p, &conversation_id, &[&body.preview()], None).await?.write_with(app, &mut tx).await?;
    }
    let answer = commit_created(app, ctx, tx, response, |guard| match guard {
        Guard::Conversation => Error::Conflict("this conversation does not accept replies".into()),
        Guard::Attachment => Error::Conflict("an attachment is already attached or not yet checked".into()),
        Guard::Limit => crate::ops::daily_limit_reached(ctx, &practice.settings),
        Guard::Inactive => Error::Forbidden(INACTIVE_PATIENT.into()),
        _ => Error::Conflict("the message could not be stored, retry".into()),
    })
    .await?;
    let fresh = answer.is_made();
    if fresh {
        forget_objects(app, &moved).await;
    }
    if fresh && by_patient {
        auto_replies(app, ctx, &conversation_id).await;
    }
    // REPLY-2, REPLY-3: the message is stored first; a failed control change leaves it sent
    // with the thread as it was, and the change can be repeated.
    let controls = Controls {
        open: send_and_close.then_some(false),
        allow_response: options.allow_response,
        allow_attachments: options.allow_attachments,
    };
    if fresh && (controls.open.is_some() || controls.allow_response.is_some() || controls.allow_attachments.is_some()) {
        set_controls(app, ctx, &conversation_id, controls).await?;
    }
    Ok(answer)
}
