//! A patient's care team and primary provider, carried to the conversations about the
//! patient (ACCT-2: "changes to care teams change visibility and routing at once"). Each
//! conversation keeps a copy of both (visibility, ROLE-2; urgent-message routing, NOTIFY-2),
//! and its viewers' inbox entries follow from them: a staff member taken off the care team
//! loses the patient's conversations from its inbox and can no longer open them; one added
//! finds them there. Run after every PATCH of a patient, so a run cut short by a fault is
//! finished by the next edit (each conversation is its own transaction, and one already in
//! line is left alone).

use super::conversations::change_membership;
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::Directory;
use crate::domain::{Conversation, Patient};
use crate::error::Result;
use crate::store::Tx;

pub async fn carry_care_team(app: &App, ctx: &RequestCtx, dir: &Directory, patient: &Patient) -> Result<()> {
    let p = &ctx.caller.practice_id;
    for found in app.store.conversations_about(p, &patient.id).await? {
        let carry = |c: &mut Conversation| {
            let stale =
                c.care_team != patient.assigned_staff_ids || c.primary_provider_id != patient.primary_provider_id;
            c.care_team = patient.assigned_staff_ids.clone();
            c.primary_provider_id = patient.primary_provider_id.clone();
            stale
        };
        let audited = |tx: &mut Tx<'_>, c: &Conversation| {
            tx.put_audit(&audit::event(ctx, "conversation.care-team", AuditRecord::conversation(c), "success"))
        };
        change_membership(app, dir, found, ctx.now, carry, audited).await?;
    }
    Ok(())
}
