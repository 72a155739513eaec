//! The second factor (ACCT-3, security finding 5). Cognito holds it: the user sets up an
//! authenticator app with Cognito's own API (AssociateSoftwareToken, VerifySoftwareToken,
//! SetUserMFAPreference with TOTP preferred), and from then on Cognito asks for a code at
//! every sign-in. The directory records when that happened, so that the per-request check
//! (`App::ensure_active`) can require it where the practice does (staff by default) and
//! refuse tokens from sign-ins before it, which the password alone made.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::error::{Error, Result};
use crate::views::{TotpState, TotpView};

/// GET /me/totp: whether the practice requires a second factor of the caller, and when the
/// caller set one up.
pub async fn status(app: &App, ctx: &RequestCtx) -> Result<TotpView> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let settings = app.store.practice(p).await?.ok_or(Error::Unauthenticated)?.settings;
    let (required, enrolled_at) = if caller.is_staff() {
        let staff = app.store.staff(p, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
        (settings.totp_required_for_staff, staff.totp_enrolled_at)
    } else {
        let patient = app.store.patient(p, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
        (settings.totp_required_for_patients, patient.totp_enrolled_at)
    };
    Ok(TotpView { totp: TotpState { required, enrolled_at }, sign_in_again: None })
}

/// POST /me/totp: the caller has set up an authenticator app with Cognito; the directory
/// checks that with Cognito and records it. The token used here came from a sign-in without
/// the code, so the answer asks the client to sign in again (with the code).
pub async fn confirm(app: &App, ctx: &RequestCtx) -> Result<TotpView> {
    let caller = &ctx.caller;
    if !app.users.totp_in_use(&caller.user_id).await? {
        return Err(Error::Conflict(
            "no authenticator app is set up with Cognito yet: AssociateSoftwareToken, VerifySoftwareToken, \
             then SetUserMFAPreference with TOTP enabled and preferred"
                .into(),
        ));
    }
    let at = ctx.now;
    let record = if caller.is_staff() {
        AuditRecord { record_type: "staff", record_id: &caller.user_id, patient_id: None }
    } else {
        AuditRecord { record_type: "patient", record_id: &caller.user_id, patient_id: Some(&caller.user_id) }
    };
    let mut tx = app.store.tx();
    tx.user_totp_enrolled(caller, at)?;
    tx.put_audit(&audit::event(ctx, "user.totp_enrolled", record, "success"))?;
    if tx.commit().await?.is_err() {
        return Err(Error::Unauthenticated);
    }
    let view = status(app, ctx).await?;
    Ok(TotpView { sign_in_again: Some(true), ..view })
}
