//! Practice settings (SET-1), the practice's SMS number (operator only), a staff user's
//! out-of-office (REPLY-5) and the patient banner (COMPOSE-3).

use super::active_staff;
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::PracticeId;
use crate::domain::{parse_phone, RoleClass};
use crate::domain::{OutOfOffice, Settings};
use crate::error::{Error, Result};
use crate::store::place;
use crate::store::Guard;
use crate::views::{BannerView, OutOfOfficeView, PatientLimits, SettingsView};
use serde::Deserialize;

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
    pub totp_required_for_staff: Option<bool>,
    pub totp_required_for_patients: Option<bool>,
    pub follow_all_conversations_up_to: Option<u32>,
    /// `{}` (no target for any priority) takes the promise away.
    pub reply_targets: Option<crate::reply_clock::ReplyTargets>,
    /// The whole list, replacing the one before.
    pub holidays: Option<Vec<String>>,
    /// `null` turns escalation off.
    #[serde(default, deserialize_with = "present")]
    pub escalation: Option<Option<crate::reply_clock::Escalation>>,
}

/// A field that may be `null` (to clear it) as well as absent (to leave it).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Holidays a practice may list: a few years of them.
const MOST_HOLIDAYS: usize = 200;

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
        if self.sms_number.is_some() {
            // ACCT-4: a number a practice claims would receive its patients' texts.
            return Err(Error::Forbidden(
                "smsNumber is assigned by the operator (carethread-admin practice sms-number)".into(),
            ));
        }
        if let Some(v) = self.malware_scanning {
            s.malware_scanning = v;
        }
        if let Some(v) = self.totp_required_for_staff {
            s.totp_required_for_staff = v;
        }
        if let Some(v) = self.totp_required_for_patients {
            s.totp_required_for_patients = v;
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
        if let Some(v) = self.follow_all_conversations_up_to {
            // Past a few hundred followers every message becomes hundreds of late writes.
            if v > 500 {
                return Err(Error::invalid(
                    "followAllConversationsUpTo",
                    "followAllConversationsUpTo must be from 0 to 500",
                ));
            }
            s.follow_all_conversations_up_to = v;
        }
        if let Some(v) = self.escalation {
            s.escalation = v;
        }
        if let Some(v) = self.reply_targets {
            s.reply_targets = (v != Default::default()).then_some(v);
        }
        if let Some(v) = self.holidays {
            if v.len() > MOST_HOLIDAYS {
                return Err(Error::invalid("holidays", format!("holidays may list at most {MOST_HOLIDAYS} dates")));
            }
            let mut dates =
                v.iter().map(|d| crate::domain::parse_date("holidays", d.trim())).collect::<Result<Vec<_>>>()?;
            dates.sort();
            dates.dedup();
            s.holidays = dates.iter().map(|d| d.to_string()).collect();
        }
        Ok(s)
    }
}

/// GET /settings (staff).
pub async fn get(app: &App, ctx: &RequestCtx) -> Result<SettingsView> {
    if !ctx.caller.is_staff() {
        return Err(Error::Forbidden("practice settings are for staff".into()));
    }
    let practice = app.store.practice(&ctx.caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
    Ok(SettingsView { settings: practice.settings })
}

/// PUT /settings (admin class).
pub async fn put(app: &App, ctx: &RequestCtx, patch: SettingsPatch) -> Result<SettingsView> {
    let caller = &ctx.caller;
    if caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("only admin roles may change practice settings".into()));
    }
    let p = &caller.practice_id;
    let practice = app.store.practice(p).await?.ok_or(Error::Unauthenticated)?;
    let sms_number_read = practice.settings.sms_number.clone();
    if let Some(Some(e)) = &patch.escalation {
        // SLA-4: escalation goes to an active staff user or a workgroup of this practice.
        let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
        crate::ops::conversations::expand_recipients("escalation.to", &dir, std::slice::from_ref(&e.to))?;
    }
    let settings = patch.apply(practice.settings)?;
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.practice_settings(p, &settings, &sms_number_read)?;
    tx.put_audit(&audit::event(
        ctx,
        "settings.update",
        AuditRecord { record_type: "practice", record_id: p, patient_id: None },
        "success",
    ))?;
    match tx.commit().await? {
        Ok(()) => Ok(SettingsView { settings }),
        Err(Guard::Practice) => Err(Error::Conflict("the settings changed meanwhile; read them and try again".into())),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// The operator assigns a practice its two-way SMS number (NOTIFY-4, ACCT-4), or takes it
/// away (`None`): texts to the number reach that practice, so no admin may claim one. Refused
/// (409) when another practice has it.
pub async fn assign_sms_number(app: &App, practice_id: &PracticeId, number: Option<&str>) -> Result<()> {
    let number = number.map(|n| parse_phone("number", n.trim())).transpose()?.unwrap_or_default();
    let practice = app.store.practice(practice_id).await?.ok_or(Error::NotFound("practice"))?;
    let old = practice.settings.sms_number.clone();
    let settings = Settings { sms_number: number.clone(), ..practice.settings };
    let ctx = RequestCtx::operator(practice_id);
    let mut tx = app.store.tx();
    tx.practice_settings(practice_id, &settings, &old)?;
    if number != old {
        if !number.is_empty() {
            tx.claim_sms_number(&number, practice_id)?;
        }
        if !old.is_empty() {
            tx.delete_existing(Guard::OldSmsNumber, &place::sms_number(&old))?;
        }
    }
    tx.put_audit(&audit::event(
        &ctx,
        "settings.sms_number",
        AuditRecord { record_type: "practice", record_id: practice_id, patient_id: None },
        "success",
    ))?;
    match tx.commit().await? {
        Ok(()) => Ok(()),
        Err(Guard::SmsNumber) => Err(Error::Conflict("this SMS number belongs to another practice".into())),
        Err(_) => Err(Error::Conflict("the practice changed meanwhile; run again".into())),
    }
}

/// PUT /me/out-of-office: the caller's own period and text, or `null` to clear it.
pub async fn put_out_of_office(
    app: &App,
    ctx: &RequestCtx,
    req: Option<OutOfOfficeRequest>,
) -> Result<OutOfOfficeView> {
    let caller = &ctx.caller;
    if !caller.is_staff() {
        return Err(Error::Forbidden("out-of-office is for staff".into()));
    }
    let p = &caller.practice_id;
    let ooo = match req {
        Some(r) => {
            let from = crate::domain::Timestamp::parse("from", &r.from)?;
            let to = crate::domain::Timestamp::parse("to", &r.to)?;
            if to <= from {
                return Err(Error::invalid("to", "`to` must be after `from`"));
            }
            let text = r.text.trim();
            if text.is_empty() || text.chars().count() > 2_000 {
                return Err(Error::invalid("text", "text must have 1 to 2000 characters"));
            }
            Some(OutOfOffice { from, to, text: text.to_string() })
        }
        None => None,
    };
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, caller)?;
    let mut tx = app.store.tx();
    tx.staff_out_of_office(p, &caller.user_id, ooo.as_ref())?;
    tx.put_audit(&audit::event(
        ctx,
        "staff.out_of_office",
        AuditRecord { record_type: "staff", record_id: &caller.user_id, patient_id: None },
        "success",
    ))?;
    match tx.commit().await? {
        Ok(()) => Ok(OutOfOfficeView { out_of_office: ooo }),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// GET /me/out-of-office (staff, REPLY-5): the caller's out-of-office as set, or null.
pub async fn get_out_of_office(app: &App, ctx: &RequestCtx) -> Result<OutOfOfficeView> {
    let caller = &ctx.caller;
    if !caller.is_staff() {
        return Err(Error::Forbidden("out-of-office is for staff".into()));
    }
    let staff = app.store.staff(&caller.practice_id, &caller.user_id).await?.ok_or(Error::Unauthenticated)?;
    Ok(OutOfOfficeView { out_of_office: staff.out_of_office })
}

/// GET /portal/banner: the text a patient sees before writing (COMPOSE-3).
/// A patient also gets what its limits leave it today (REPLY-4): "2 of 5 messages left".
pub async fn banner(app: &App, ctx: &RequestCtx) -> Result<BannerView> {
    let caller = &ctx.caller;
    let practice = app.store.practice(&caller.practice_id).await?.ok_or(Error::Unauthenticated)?;
    let s = &practice.settings;
    let limits = match caller.is_staff() {
        true => None,
        false => {
            let day = crate::ops::patient_day(ctx);
            let sent = app.store.patient_messages_on(&caller.practice_id, &caller.user_id, &day).await?;
            Some(PatientLimits {
                messages_per_day: s.patient_messages_per_day,
                messages_left_today: s.patient_messages_per_day.saturating_sub(sent),
                body_max_chars: crate::ops::patient_body_limits(s).max_chars as u32,
            })
        }
    };
    Ok(BannerView {
        banner: practice.settings.patient_banner,
        practice_name: practice.name,
        urgent_phone: practice.settings.urgent_phone,
        limits,
    })
}
