//! How each user hears of new messages (NOTIFY-1), and the proof of a new destination
//! (ACCT-4, security finding 1): an address or number the user types is used only after a
//! one-time code sent to it comes back, so nobody can have the practice text a stranger or
//! receive a stranger's texts to the practice. Addresses the practice holds on the user's
//! record need no proof.
//!
//! The code: six digits, ten minutes, five attempts, kept as a keyed hash (the practice's
//! blind-index key), every step audited.

use super::budgets::{self, Expensive};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::{parse_email, parse_phone, Caller, NotifyChannel, PracticeId, UserId};
use crate::domain::{NotifyPrefs, PendingDestination, Practice, Sealed};
use crate::error::{Error, Result};
use crate::notify::{self, Destination, Published};
use crate::views::{NotificationSetting, NotificationsView, PendingView};
use serde::Deserialize;

const CODE_SECONDS: i64 = 10 * 60;
const CODE_ATTEMPTS: u32 = 5;

/// PUT /me/notifications: how the caller hears of new messages.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationsRequest {
    pub channel: Option<String>,
    /// An email address (channel `email`) or E.164 number (`sms`); absent = the one on file.
    pub destination: Option<String>,
}

impl std::fmt::Debug for NotificationsRequest {
    // A phone number or an address is personal data: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NotificationsRequest({:?}, <redacted>)", self.channel)
    }
}

/// POST /me/notifications/verification: the code sent to the pending destination.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerificationRequest {
    pub code: String,
}

impl std::fmt::Debug for VerificationRequest {
    // A live code is a credential: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationRequest(<redacted>)")
    }
}

/// What the caller's record holds about notifications.
struct Own {
    notify: Option<NotifyPrefs>,
    pending: Option<PendingDestination>,
    /// The addresses the practice holds for the user, which need no proof.
    on_file: Vec<(NotifyChannel, String)>,
}

async fn own(app: &App, caller: &Caller) -> Result<Own> {
    let p = &caller.practice_id;
    if caller.is_staff() {
        let staff = app.store.staff(p, &caller.user_id).await?.filter(|s| s.active).ok_or(Error::Unauthenticated)?;
        let on_file = [(NotifyChannel::Email, staff.email), (NotifyChannel::Sms, staff.phone)]
            .into_iter()
            .filter(|(_, a)| !a.is_empty())
            .collect();
        return Ok(Own { notify: staff.notify, pending: staff.notify_pending, on_file });
    }
    let patient = app.store.patient(p, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
    let mut on_file = Vec::new();
    for (channel, field, sealed) in
        [(NotifyChannel::Email, "email", &patient.email), (NotifyChannel::Sms, "phone", &patient.phone)]
    {
        if let Some(sealed) = sealed {
            let address =
                app.envelope.open_string(Binding { practice_id: p, record: &patient.id, field }, &sealed.0).await?;
            on_file.push((channel, address));
        }
    }
    Ok(Own { notify: patient.notify, pending: patient.notify_pending, on_file })
}

/// GET /me/notifications: the caller's preference as the notifier will apply it, and the
/// destination waiting for its code, if any.
pub async fn get_notifications(app: &App, ctx: &RequestCtx) -> Result<NotificationsView> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let (current, pending) = if caller.is_staff() {
        let staff = app.store.staff(p, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
        let pending = pending_view(app, ctx, staff.notify_pending.as_ref()).await?;
        (notify::staff_destination(app, p, &staff).await?, pending)
    } else {
        let patient = app.store.patient(p, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
        let pending = pending_view(app, ctx, patient.notify_pending.as_ref()).await?;
        (notify::patient_destination(app, p, &patient).await?, pending)
    };
    let (channel, destination) = match current {
        Some(d) => (d.channel, Some(d.address)),
        None => (NotifyChannel::None, None),
    };
    Ok(NotificationsView { notifications: NotificationSetting { channel, destination, pending } })
}

async fn pending_view(
    app: &App,
    ctx: &RequestCtx,
    pending: Option<&PendingDestination>,
) -> Result<Option<PendingView>> {
    let Some(pending) = pending.filter(|pd| pd.expires_at > ctx.epoch_seconds()) else { return Ok(None) };
    let (p, user_id) = (&ctx.caller.practice_id, &ctx.caller.user_id);
    let address = open_destination(app, p, user_id, &pending.destination).await?;
    Ok(Some(PendingView {
        channel: pending.channel,
        destination: address,
        expires_at: crate::domain::Timestamp::from_second(pending.expires_at).map_err(Error::internal)?,
        attempts_left: pending.attempts_left,
    }))
}

async fn open_destination(app: &App, p: &PracticeId, user_id: &UserId, sealed: &Sealed) -> Result<String> {
    app.envelope.open_string(Binding { practice_id: p, record: user_id, field: "notifyDestination" }, &sealed.0).await
}

/// PUT /me/notifications (NOTIFY-1, ACCT-4): `200` when the choice takes effect now (`none`,
/// an address on file, or the destination already proven); `202` when the destination waits
/// for the code just sent to it, and until then the previous choice stays in force.
pub async fn put_notifications(
    app: &App,
    ctx: &RequestCtx,
    req: NotificationsRequest,
) -> Result<(u16, NotificationsView)> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let channel = NotifyChannel::parse(req.channel.as_deref().unwrap_or(""))?;
    let destination = match (channel, req.destination.as_deref()) {
        (NotifyChannel::None, Some(_)) => {
            return Err(Error::invalid("destination", "no destination with channel `none`"));
        }
        (_, None) => None,
        (NotifyChannel::Email, Some(d)) => Some(parse_email("destination", d)?),
        (NotifyChannel::Sms, Some(d)) => Some(parse_phone("destination", d)?),
    };
    let own = own(app, caller).await?;
    let prefs = match destination {
        None => NotifyPrefs { channel, destination: None, proven_at: None },
        Some(d) if own.on_file.iter().any(|(c, a)| *c == channel && a.eq_ignore_ascii_case(&d)) => {
            NotifyPrefs { channel, destination: None, proven_at: None }
        }
        Some(d) => match proven_already(app, p, &caller.user_id, &own, channel, &d).await? {
            Some(prefs) => prefs,
            None => return send_code(app, ctx, channel, &d).await.map(|v| (202, v)),
        },
    };
    let mut tx = app.store.tx();
    tx.user_notify(caller, &prefs)?;
    tx.put_audit(&audit::event(ctx, "user.notifications", own_record(caller), "success"))?;
    if tx.commit().await?.is_err() {
        return Err(Error::Unauthenticated);
    }
    get_notifications(app, ctx).await.map(|v| (200, v))
}

/// The caller's current preference, if it already uses `address` on `channel` with proof.
async fn proven_already(
    app: &App,
    p: &PracticeId,
    user_id: &UserId,
    own: &Own,
    channel: NotifyChannel,
    address: &str,
) -> Result<Option<NotifyPrefs>> {
    let Some(prefs) = own.notify.as_ref().filter(|n| n.channel == channel && n.proven_at.is_some()) else {
        return Ok(None);
    };
    let Some(sealed) = &prefs.destination else { return Ok(None) };
    let current = open_destination(app, p, user_id, sealed).await?;
    Ok(current.eq_ignore_ascii_case(address).then(|| prefs.clone()))
}

fn own_record(caller: &Caller) -> AuditRecord<'_> {
    if caller.is_staff() {
        AuditRecord { record_type: "staff", record_id: &caller.user_id, patient_id: None }
    } else {
        AuditRecord { record_type: "patient", record_id: &caller.user_id, patient_id: Some(&caller.user_id) }
    }
}

/// Sends a fresh code to `address` and records it as pending (replacing an earlier one).
/// The code goes out before anything is stored: if SNS fails, nothing changed.
async fn send_code(app: &App, ctx: &RequestCtx, channel: NotifyChannel, address: &str) -> Result<NotificationsView> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    // Each code is a text or an e-mail to someone who may not want it: a small budget.
    budgets::spend(app, ctx, Expensive::VerificationCode).await?;
    let practice = app.store.practice(p).await?.ok_or(Error::Unauthenticated)?;
    let code = new_code()?;
    let expires_at = ctx.epoch_seconds() + CODE_SECONDS;
    let code_hash = code_hash(app, &practice, &caller.user_id, expires_at, &code).await?;
    let to = Destination { channel, address: address.to_string() };
    let text = format!(
        "{}: your code to receive notifications here is {code}. It expires in 10 minutes. \
         If you did not ask for it, ignore this message.",
        practice.name
    );
    let notification_id = format!("otp:{}:{expires_at}", caller.user_id);
    if notify::publish(app, &practice.settings, &to, "Your verification code", &text, &notification_id).await?
        == Published::Undeliverable
    {
        return Err(Error::invalid("destination", "this destination cannot receive messages"));
    }
    let sealed = app
        .envelope
        .seal_str(Binding { practice_id: p, record: &caller.user_id, field: "notifyDestination" }, address)
        .await?;
    let pending = PendingDestination {
        channel,
        destination: Sealed(sealed),
        code_hash,
        expires_at,
        attempts_left: CODE_ATTEMPTS,
    };
    let mut tx = app.store.tx();
    tx.user_notify_pending(caller, &pending)?;
    tx.put_audit(&audit::event(ctx, "user.notifications.code_sent", own_record(caller), "success"))?;
    if tx.commit().await?.is_err() {
        return Err(Error::Unauthenticated);
    }
    get_notifications(app, ctx).await
}

/// Six decimal digits from the system's random source.
fn new_code() -> Result<String> {
    let mut bytes = [0u8; 4];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::internal_msg("random source failed"))?;
    Ok(format!("{:06}", u32::from_be_bytes(bytes) % 1_000_000))
}

/// Keyed with the practice's blind-index key: a copy of the table alone cannot try the
/// million codes against it.
async fn code_hash(app: &App, practice: &Practice, user_id: &UserId, expires_at: i64, code: &str) -> Result<String> {
    let index = app.envelope.blind_index(&practice.id, &practice.search_key.0).await?;
    Ok(index.token("notify-code", &format!("{user_id}\u{1f}{expires_at}\u{1f}{code}")))
}

/// POST /me/notifications/verification (ACCT-4): the right code puts the pending destination
/// in use; a wrong one spends an attempt (422 while some are left, 429 at the last, which
/// drops the destination); an expired code answers 410; nothing pending answers 409.
pub async fn verify_destination(app: &App, ctx: &RequestCtx, req: VerificationRequest) -> Result<NotificationsView> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let code = req.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("code", "the code is the six digits that were sent"));
    }
    let own = own(app, caller).await?;
    let Some(pending) = own.pending else {
        return Err(Error::Conflict(
            "no destination is waiting for a code; choose one with PUT /me/notifications".into(),
        ));
    };
    let mut tx = app.store.tx();
    let now = ctx.epoch_seconds();
    if pending.expires_at <= now {
        tx.user_notify_expired(caller, &pending.code_hash)?;
        tx.put_audit(&audit::event(ctx, "user.notifications.code_expired", own_record(caller), "failure"))?;
        tx.commit().await?.map_err(|_| replaced())?;
        return Err(Error::Gone("the code has expired; ask for a new one".into()));
    }
    let practice = app.store.practice(p).await?.ok_or(Error::Unauthenticated)?;
    let expected = code_hash(app, &practice, &caller.user_id, pending.expires_at, code).await?;
    let right =
        aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), pending.code_hash.as_bytes()).is_ok();
    if right {
        let prefs = NotifyPrefs {
            channel: pending.channel,
            destination: Some(pending.destination.clone()),
            proven_at: Some(ctx.now),
        };
        tx.user_notify_proven(caller, &prefs, &pending.code_hash)?;
        tx.put_audit(&audit::event(ctx, "user.notifications.proven", own_record(caller), "success"))?;
        tx.commit().await?.map_err(|_| replaced())?;
        return get_notifications(app, ctx).await;
    }
    tx.user_notify_attempt(caller, &pending.code_hash, pending.attempts_left)?;
    tx.put_audit(&audit::event(ctx, "user.notifications.code_wrong", own_record(caller), "failure"))?;
    tx.commit().await?.map_err(|_| replaced())?;
    match pending.attempts_left.saturating_sub(1) {
        0 => Err(Error::too_many("too many wrong codes; ask for a new one", None)),
        1 => Err(Error::invalid("code", "the code is not right; 1 attempt left")),
        left => Err(Error::invalid("code", format!("the code is not right; {left} attempts left"))),
    }
}

fn replaced() -> Error {
    Error::Conflict("the code was replaced or used meanwhile; try again".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acct_4_codes_are_six_digits() {
        for _ in 0..200 {
            let code = new_code().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn acct_4_a_verification_request_never_prints_its_code() {
        let req = VerificationRequest { code: "123456".into() };
        assert!(!format!("{req:?}").contains("123456"));
    }

    #[test]
    fn sec_3_a_notification_request_never_prints_its_destination() {
        let req = NotificationsRequest { channel: Some("sms".into()), destination: Some("+15550101234".into()) };
        assert!(!format!("{req:?}").contains("0101234"));
    }
}
