//! A patient's care team and primary provider, carried to the conversations about the
//! patient (ACCT-2: "changes to care teams change visibility and routing at once"). Each
//! conversation keeps a copy of both (visibility, ROLE-2; urgent-message routing, NOTIFY-2),
//! and its viewers' inbox entries follow from them: a staff member taken off the care team
//! loses the patient's conversations from its inbox and can no longer open them; one added
//! finds them there. Run after every PATCH of a patient, so a run cut short by a fault is
//! finished by the next edit (each conversation is its own transaction, and one already in
//! line is left alone).

use super::conversations::rewrite_membership;
use super::inbox_holders;
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::error::{Error, Result};
use crate::records::PatientItem;
use crate::store::Directory;
use crate::store::Guard;

pub async fn carry_care_team(app: &App, ctx: &RequestCtx, dir: &Directory, patient: &PatientItem) -> Result<()> {
    let p = &ctx.caller.practice_id;
    for found in app.store.conversations_about(p, &patient.id).await? {
        let mut conversation = found;
        for attempt in 0.. {
            if conversation.care_team == patient.assigned_staff_ids
                && conversation.primary_provider_id == patient.primary_provider_id
            {
                break;
            }
            let (expected, old_viewers) = (conversation.version, conversation.viewers.clone());
            conversation.care_team = patient.assigned_staff_ids.clone();
            conversation.primary_provider_id = patient.primary_provider_id.clone();
            conversation.viewers = inbox_holders(&conversation, dir);
            conversation.version += 1;
            let mut tx = app.store.tx();
            rewrite_membership(app, &mut tx, &mut conversation, expected, &old_viewers, ctx.now).await?;
            let record = AuditRecord::conversation(&conversation);
            tx.put(Guard::Audit, &audit::event(ctx, "conversation.care-team", record, "success"))?;
            match tx.commit().await? {
                Ok(()) => break,
                // Changed meanwhile (a reply, an assignment): read it again and redo.
                Err(_) if attempt < 3 => {
                    conversation = match app.store.conversation(p, &conversation.id).await? {
                        Some(c) => c,
                        None => break,
                    }
                }
                Err(_) => return Err(Error::Conflict("a conversation of the patient kept changing; retry".into())),
            }
        }
    }
    Ok(())
}
