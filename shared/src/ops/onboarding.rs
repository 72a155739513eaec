//! Onboarding a practice, the operator's action (the `carethread-admin` command, and
//! `POST /_local/practices` locally): the practice and its first administrator.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::*;
use crate::error::{Error, Result};
use crate::store::place;
use crate::store::Guard;

/// An operator's action (and `POST /_local/practices` locally): a new practice with its
/// first admin's directory record. Not an API route in AWS. The admin's sign-in follows with
/// `accounts::sync_staff`, which the operator can run again if it failed.
pub async fn create_practice(
    app: &App,
    name: &str,
    admin_first: &str,
    admin_last: &str,
    admin_email: &str,
    staff_totp_required: bool,
) -> Result<(PracticeId, UserId)> {
    let name = parse_name("name", Some(name))?;
    let practice_id = PracticeId::new();
    let admin_id = UserId::new();
    let ctx = RequestCtx::operator(&practice_id);
    let at = ctx.now;
    let search_key = Sealed(app.envelope.new_search_key(&practice_id).await?);
    let practice = Practice {
        id: practice_id.clone(),
        name,
        settings: Settings { totp_required_for_staff: staff_totp_required, ..Settings::default() },
        search_key,
        created_at: at,
        directory_version: 0,
    };
    let admin = Staff {
        id: admin_id.clone(),
        first_name: parse_name("firstName", Some(admin_first))?,
        last_name: parse_name("lastName", Some(admin_last))?,
        role: Role::Admin,
        email: parse_email("email", admin_email)?,
        phone: String::new(),
        active: true,
        portal_messaging: true,
        created_at: at,
        out_of_office: None,
        notify: None,
        notify_pending: None,
        totp_enrolled_at: None,
    };
    let mut tx = app.store.tx();
    tx.put_new(Guard::Practice, place::practice(&practice_id), &practice)?;
    tx.put_marker(Guard::Registry, place::registry_entry(&practice_id))?;
    tx.put_new(Guard::Staff, place::staff(&practice_id, &admin_id), &admin)?;
    tx.put_audit(&audit::event(
        &ctx,
        "practice.create",
        AuditRecord { record_type: "practice", record_id: &practice_id, patient_id: None },
        "success",
    ))?;
    if tx.commit().await?.is_err() {
        return Err(Error::Conflict("practice id collision, retry".into()));
    }
    Ok((practice_id, admin_id))
}
