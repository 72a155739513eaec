//! SLA-4: escalation of questions left waiting. When a patient's question starts its reply
//! clock in a practice that escalates, an escalation item is written beside it, listed by the
//! time the practice's share of the target is used up (business time); a staff reply or
//! closing the conversation deletes it. The scheduled `reply-escalations` function takes the
//! due ones: it co-assigns the practice's chosen workgroup or person (who then has the
//! conversation in their inbox) and posts a staff-only note that notifies them.
//!
//! Once, whatever retries and overlapping runs happen: the co-assignment is written in the
//! transaction that marks the escalation taken, on the condition that it was not (a second
//! run's is refused whole); the note is posted once per question (its dedupe mark); the item
//! is deleted only after the note, so a run that stopped between the two is finished by the
//! next.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::Directory;
use crate::domain::{AssignmentRecord, Conversation, PendingEscalation, SenderRef};
use crate::domain::{PracticeId, SenderKind, Timestamp, UserId};
use crate::error::{Error, Result};
use crate::ops::conversations::{append_message, change_membership, expand_recipients, AppendedMessage, Membership};
use crate::store::Guard;

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationReport {
    pub escalated: u64,
    /// Answered, closed or deleted before it was due, or no longer escalated by the practice.
    pub moot: u64,
}

/// Takes every escalation due before `now`, in every practice.
pub async fn escalate_due(app: &App, now: Timestamp, batch: usize) -> Result<EscalationReport> {
    let mut report = EscalationReport::default();
    for p in app.store.practice_ids().await? {
        let mut dir: Option<Directory> = None;
        loop {
            let due = app.store.escalations_due(&p, now, batch).await?;
            if due.is_empty() {
                break;
            }
            if dir.is_none() {
                dir = app.store.directory(&p).await?;
            }
            let Some(dir) = &dir else { break };
            for (key, e) in due {
                match escalate(app, dir, &p, &key, &e, now).await? {
                    true => report.escalated += 1,
                    false => report.moot += 1,
                }
                let mut tx = app.store.tx();
                tx.delete_if_any(Guard::Escalation, &key)?;
                tx.commit().await?.map_err(|_| Error::internal_msg("an escalation could not be deleted"))?;
            }
        }
    }
    Ok(report)
}

/// Co-assigns and notes one escalation; false when there is nothing to escalate any more.
async fn escalate(
    app: &App,
    dir: &Directory,
    p: &PracticeId,
    key: &crate::store::Key,
    e: &PendingEscalation,
    now: Timestamp,
) -> Result<bool> {
    let Some(conversation) = app.store.conversation_now(p, &e.conversation_id).await? else { return Ok(false) };
    let same_question = conversation.reply_clock.as_ref().is_some_and(|c| c.since == e.since);
    let Some(rule) = dir.practice.settings.escalation.clone() else { return Ok(false) };
    if !same_question {
        return Ok(false);
    }
    // An assignee that left the practice since the setting was made: nobody to escalate to.
    let Ok(to_ids) = expand_recipients("escalation.to", dir, std::slice::from_ref(&rule.to)) else {
        tracing::warn!("escalation target no longer active; escalation skipped");
        return Ok(false);
    };
    let ctx = RequestCtx { now, ..RequestCtx::operator(p) };
    let system = UserId::from_stored("system");
    let conversation = if e.taken {
        conversation
    } else {
        let add = |c: &mut Conversation| {
            if !c.summary.assignees.contains(&rule.to) {
                c.summary.assignees.push(rule.to.clone());
            }
            for id in &to_ids {
                if !c.assignee_ids.contains(id) {
                    c.assignee_ids.push(id.clone());
                }
                if !c.participants.contains(id) {
                    c.participants.push(id.clone());
                }
            }
            c.summary.assignee_ids = c.assignee_ids.clone();
            let record =
                AssignmentRecord { by: system.clone(), assignees: vec![rule.to.clone()], comment: None, at: now };
            c.assignments.push(record);
            true
        };
        let taken = |tx: &mut crate::store::Tx<'_>, c: &Conversation| {
            tx.escalation_taken(key)?;
            tx.put_audit(&audit::event(&ctx, "conversation.escalate", AuditRecord::conversation(c), "success"))
        };
        match change_membership(app, dir, conversation, now, add, taken).await? {
            Membership::Changed(c) | Membership::Unchanged(c) => c,
            // Another run took it and posts its note.
            Membership::TakenMeanwhile => return Ok(false),
            Membership::Gone => return Ok(false),
        }
    };
    let target = match rule.to.kind {
        crate::domain::RecipientKind::Workgroup => dir.workgroup(&rule.to.id).map(|w| w.name.clone()),
        crate::domain::RecipientKind::Staff => dir.staff_member(&rule.to.id).map(|s| s.display_name()),
    }
    .unwrap_or_default();
    let text = format!(
        "No reply to the patient yet after {}% of the reply target: {target} now has this conversation as well.",
        rule.at_share / 10
    );
    let sender = SenderRef {
        kind: SenderKind::System,
        id: system.clone(),
        name: Some("Reply-time escalation".into()),
        masked: false,
    };
    let note = AppendedMessage {
        dedupe_key: &format!("ESC#{}", e.since),
        text: &text,
        sender,
        expires: now.as_second() + 30 * 86_400,
        action: "message.escalation_note",
        settings: &dir.practice.settings,
        internal: true,
    };
    append_message(app, &ctx, &conversation, note).await?;
    Ok(!e.taken)
}
