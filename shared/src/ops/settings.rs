//! Practice settings (SET-1), a staff user's out-of-office (REPLY-5), each user's
//! notification preferences (NOTIFY-1) and the patient banner (COMPOSE-3).

use super::active_staff;
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::{parse_email, parse_phone, NotifyChannel, RoleClass};
use crate::error::{Error, Result};
use crate::ids;
use crate::keys;
use crate::records::{NotifyPrefs, OutOfOffice, Sealed, Settings};
use crate::store::Tx;
use serde::Deserialize;
use serde_json::{json, Value};

/// PUT /settings: any subset of the settings.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    pub body_min_chars: Option<usize>,
    pub body_max_chars: Option<usize>,
    pub attachment_max_bytes: Option<u64>,
    pub patient_banner: Option<String>,
    pub urgent_phone: Option<String>,
    pub time_zone: Option<String>,
    pub patient_messages_per_day: Option<u32>,
    pub patient_body_max_chars: Option<usize>,
    pub broadcast_max_recipients: Option<u32>,
    /// `0` turns retention off.
    pub retention_days: Option<u32>,
    pub business_hours: Option<crate::hours::BusinessHours>,
    pub after_hours_text: Option<String>,
    pub malware_scanning: Option<bool>,
    /// `0` turns it off.
    pub attachment_retention_days: Option<u32>,
    /// A subset of the allowed types; `[]` accepts them all again.
    pub attachment_content_types: Option<Vec<String>>,
    pub portal_url: Option<String>,
    pub sms_number: Option<String>,
}

/// PUT /me/notifications: how the caller hears of new messages.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationsRequest {
    pub channel: Option<String>,
    /// An email address (channel `email`) or E.164 number (`sms`); absent = the one on file.
    pub destination: Option<String>,
}

/// PUT /me/out-of-office.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutOfOfficeRequest {
    pub from: String,
    pub to: String,
    pub text: String,
}

impl SettingsPatch {
    /// The settings after this patch, or 422 naming the first field that breaks a rule.
    pub fn apply(self, mut s: Settings) -> Result<Settings> {
        if let Some(v) = self.body_min_chars {
            s.body_min_chars = v;
        }
        if let Some(v) = self.body_max_chars {
            if !(1..=20_000).contains(&v) {
                return Err(Error::invalid("bodyMaxChars", "bodyMaxChars must be from 1 to 20000"));
            }
            s.body_max_chars = v;
        }
        if s.body_min_chars < 1 || s.body_min_chars > s.body_max_chars {
            return Err(Error::invalid("bodyMinChars", "bodyMinChars must be from 1 to bodyMaxChars"));
        }
        if let Some(v) = self.attachment_max_bytes {
            if !(1..=10 * 1024 * 1024).contains(&v) {
                return Err(Error::invalid("attachmentMaxBytes", "attachmentMaxBytes must be from 1 to 10485760"));
            }
            s.attachment_max_bytes = v;
        }
        if let Some(v) = self.patient_banner {
            if v.chars().count() > 2_000 {
                return Err(Error::invalid("patientBanner", "patientBanner is longer than 2000 characters"));
            }
            s.patient_banner = v;
        }
        if let Some(v) = self.urgent_phone {
            s.urgent_phone = if v.is_empty() { v } else { crate::domain::parse_phone("urgentPhone", &v)? };
        }
        if let Some(v) = self.time_zone {
            crate::hours::time_zone(&v)?;
            s.time_zone = v;
        }
        if let Some(v) = self.business_hours {
            v.validate()?;
            s.business_hours = Some(v);
        }
        if let Some(v) = self.after_hours_text {
            if v.chars().count() > 2_000 {
                return Err(Error::invalid("afterHoursText", "afterHoursText is longer than 2000 characters"));
            }
            s.after_hours_text = v;
        }
        if let Some(v) = self.patient_messages_per_day {
            if !(1..=1_000).contains(&v) {
                return Err(Error::invalid("patientMessagesPerDay", "patientMessagesPerDay must be from 1 to 1000"));
            }
            s.patient_messages_per_day = v;
        }
        if let Some(v) = self.patient_body_max_chars {
            if !(1..=20_000).contains(&v) {
                return Err(Error::invalid("patientBodyMaxChars", "patientBodyMaxChars must be from 1 to 20000"));
            }
            s.patient_body_max_chars = v;
        }
        if let Some(v) = self.attachment_retention_days {
            s.attachment_retention_days = match v {
                0 => None,
                1..=3_650 => Some(v),
                _ => {
                    return Err(Error::invalid(
                        "attachmentRetentionDays",
                        "attachmentRetentionDays must be from 0 (off) to 3650",
                    ))
                }
            };
        }
        if let Some(v) = self.attachment_content_types {
            let mut types: Vec<String> = v.iter().map(|t| t.trim().to_ascii_lowercase()).collect();
            if types.iter().any(|t| !crate::ops::attachments::ALLOWED_CONTENT_TYPES.contains(&t.as_str())) {
                return Err(Error::invalid(
                    "attachmentContentTypes",
                    "attachmentContentTypes may only narrow the accepted types (PDF, images, plain text, DOCX, XLSX)",
                ));
            }
            types.sort();
            types.dedup();
            s.attachment_content_types = types;
        }
        if let Some(v) = self.portal_url {
            let v = v.trim().to_string();
            let ok = v.is_empty() || (v.starts_with("https://") && v.len() <= 500 && !v.contains(char::is_whitespace));
            if !ok {
                return Err(Error::invalid(
                    "portalUrl",
                    "portalUrl must be an https:// address of at most 500 characters",
                ));
            }
            s.portal_url = v;
        }
        if let Some(v) = self.sms_number {
            s.sms_number = if v.is_empty() { v } else { parse_phone("smsNumber", &v)? };
        }
        if let Some(v) = self.malware_scanning {
            s.malware_scanning = v;
        }
        if let Some(v) = self.retention_days {
            s.retention_days = match v {
                0 => None,
                1..=36_500 => Some(v),
                _ => return Err(Error::invalid("retentionDays", "retentionDays must be from 0 (off) to 36500")),
            };
        }
        if let Some(v) = self.broadcast_max_recipients {
            if !(1..=5_000).contains(&v) {
                return Err(Error::invalid("broadcastMaxRecipients", "broadcastMaxRecipients must be from 1 to 5000"));
            }
            s.broadcast_max_recipients = v;
        }
        Ok(s)
    }
}

/// GET /settings (staff).
pub async fn get(app: &App, ctx: &RequestCtx) -> Result<Value> {
    if !ctx.caller.is_staff() {
        return Err(Error::Forbidden("practice settings are for staff".into()));
    }
    let practice = app.store.practice(&ctx.caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
    Ok(json!({ "settings": practice.settings }))
}

/// PUT /settings (admin class).
pub async fn put(app: &App, ctx: &RequestCtx, patch: SettingsPatch) -> Result<Value> {
    let caller = &ctx.caller;
    if caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("only admin roles may change practice settings".into()));
    }
    let p = caller.practice_id.as_str();
    let practice = app.store.practice(p).await?.ok_or(Error::Unauthenticated)?;
    let old_sms_number = practice.settings.sms_number.clone();
    let settings = patch.apply(practice.settings)?;
    let mut tx = Tx::new();
    tx.check_caller(&app.store, caller)?;
    tx.practice_settings(&app.store, p, &settings)?;
    if settings.sms_number != old_sms_number {
        if !settings.sms_number.is_empty() {
            tx.claim_sms_number(&app.store, &settings.sms_number, p)?;
        }
        if !old_sms_number.is_empty() {
            tx.delete_existing(
                &app.store,
                "old-sms-number",
                keys::sms_number(&old_sms_number),
                keys::SMS_NUMBER_SK.into(),
            )?;
        }
    }
    tx.put(
        &app.store,
        "audit",
        &audit::event(
            ctx,
            "settings.update",
            AuditRecord { record_type: "practice", record_id: p, patient_id: None },
            "success",
        ),
    )?;
    match app.store.commit(tx).await? {
        Ok(()) => Ok(json!({ "settings": settings })),
        Err("sms-number") => Err(Error::Conflict("this SMS number belongs to another practice".into())),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// PUT /me/out-of-office: the caller's own period and text, or `null` to clear it.
pub async fn put_out_of_office(app: &App, ctx: &RequestCtx, req: Option<OutOfOfficeRequest>) -> Result<Value> {
    let caller = &ctx.caller;
    if !caller.is_staff() {
        return Err(Error::Forbidden("out-of-office is for staff".into()));
    }
    let p = caller.practice_id.as_str();
    let ooo = match req {
        Some(r) => {
            let from = ids::parse_time("from", &r.from)?;
            let to = ids::parse_time("to", &r.to)?;
            if to <= from {
                return Err(Error::invalid("to", "`to` must be after `from`"));
            }
            let text = r.text.trim();
            if text.is_empty() || text.chars().count() > 2_000 {
                return Err(Error::invalid("text", "text must have 1 to 2000 characters"));
            }
            Some(OutOfOffice { from: ids::format_time(from), to: ids::format_time(to), text: text.to_string() })
        }
        None => None,
    };
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, caller)?;
    let mut tx = Tx::new();
    tx.staff_out_of_office(&app.store, p, &caller.user_id, ooo.as_ref())?;
    tx.put(
        &app.store,
        "audit",
        &audit::event(
            ctx,
            "staff.out_of_office",
            AuditRecord { record_type: "staff", record_id: &caller.user_id, patient_id: None },
            "success",
        ),
    )?;
    match app.store.commit(tx).await? {
        Ok(()) => Ok(json!({ "outOfOffice": ooo })),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// GET /portal/banner: the text a patient sees before writing (COMPOSE-3).
pub async fn banner(app: &App, ctx: &RequestCtx) -> Result<Value> {
    let practice = app.store.practice(&ctx.caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
    Ok(json!({
        "banner": practice.settings.patient_banner,
        "practiceName": practice.name,
        "urgentPhone": practice.settings.urgent_phone,
    }))
}

/// GET /me/notifications: the caller's preference as the notifier will apply it.
pub async fn get_notifications(app: &App, ctx: &RequestCtx) -> Result<Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let destination = if caller.is_staff() {
        let staff = app.store.staff(p, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
        crate::notify::staff_destination(app, p, &staff).await?
    } else {
        let patient = app.store.patient(p, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
        crate::notify::patient_destination(app, p, &patient).await?
    };
    Ok(notifications_view(destination.map(|d| (d.channel, d.address))))
}

fn notifications_view(destination: Option<(NotifyChannel, String)>) -> Value {
    match destination {
        Some((channel, address)) => json!({ "notifications": { "channel": channel, "destination": address } }),
        None => json!({ "notifications": { "channel": NotifyChannel::None, "destination": null } }),
    }
}

/// PUT /me/notifications (NOTIFY-1): staff and patients choose email, SMS or none, and may
/// give a destination other than the one on file. The destination is sealed to their record.
pub async fn put_notifications(app: &App, ctx: &RequestCtx, req: NotificationsRequest) -> Result<Value> {
    let caller = &ctx.caller;
    let p = caller.practice_id.as_str();
    let channel = NotifyChannel::parse(req.channel.as_deref().unwrap_or(""))?;
    let destination = match (channel, req.destination.as_deref()) {
        (NotifyChannel::None, Some(_)) => {
            return Err(Error::invalid("destination", "no destination with channel `none`"));
        }
        (_, None) => None,
        (NotifyChannel::Email, Some(d)) => Some(parse_email("destination", d)?),
        (NotifyChannel::Sms, Some(d)) => Some(parse_phone("destination", d)?),
    };
    let sealed = match &destination {
        Some(d) => Some(Sealed(
            app.envelope
                .seal_str(Binding { practice_id: p, record: &caller.user_id, field: "notifyDestination" }, d)
                .await?,
        )),
        None => None,
    };
    let prefs = NotifyPrefs { channel, destination: sealed };
    let (record_type, patient_id) =
        if caller.is_staff() { ("staff", None) } else { ("patient", Some(caller.user_id.as_str())) };
    let mut tx = Tx::new();
    tx.user_notify(&app.store, caller, &prefs)?;
    tx.put(
        &app.store,
        "audit",
        &audit::event(
            ctx,
            "user.notifications",
            AuditRecord { record_type, record_id: &caller.user_id, patient_id },
            "success",
        ),
    )?;
    if app.store.commit(tx).await?.is_err() {
        return Err(Error::Unauthenticated);
    }
    get_notifications(app, ctx).await
}
