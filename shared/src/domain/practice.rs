//! Practices: their settings, their registry entry, the auto-reply marks.

use super::Sealed;
use serde::{Deserialize, Serialize};

/// Practice settings (SET-1). Defaults are the SPEC's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub body_min_chars: usize,
    pub body_max_chars: usize,
    pub attachment_max_bytes: u64,
    pub patient_banner: String,
    pub urgent_phone: String,
    pub time_zone: String,
    /// SEC-5: conversations whose last activity is older are purged; none while unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// REPLY-4: how many messages a patient may send a day, and how long one may be.
    pub patient_messages_per_day: u32,
    pub patient_body_max_chars: usize,
    /// COMPOSE-6: the most patients one broadcast may reach.
    pub broadcast_max_recipients: u32,
    /// REPLY-5: opening hours (in `time_zone`) and the auto-reply sent outside them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<crate::hours::BusinessHours>,
    pub after_hours_text: String,
    /// ATT-2: the bucket scans uploads (S3 Malware Protection); downloads wait for a clean tag.
    pub malware_scanning: bool,
    /// ATT-6: attachments expire this many days after the patient first downloads them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_retention_days: Option<u32>,
    /// ATT-1: the practice may narrow the accepted content types; empty = every allowed type.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachment_content_types: Vec<String>,
    /// NOTIFY-1: the portal address put in every notification ("" = none).
    pub portal_url: String,
    /// NOTIFY-4: the practice's two-way SMS number (E.164): outbound SMS come from it and
    /// inbound SMS to it belong to this practice ("" = no SMS number).
    pub sms_number: String,
    /// ACCT-3: staff sign in with a TOTP second factor. On for every practice made since
    /// (`Default`, and the operator command unless `--staff-totp optional`); a practice
    /// stored before it has no such field and reads as off, so an upgrade locks nobody out
    /// of a client that cannot set a factor up yet.
    #[serde(default)]
    pub totp_required_for_staff: bool,
    /// ACCT-3: patients too (off unless the practice turns it on; a patient may enrol anyway).
    pub totp_required_for_patients: bool,
    /// ROLE-2: while the practice has at most this many active admin- and provider-class
    /// users, each of them follows (holds an inbox entry for) every conversation it may open;
    /// beyond it, their inboxes hold what concerns them and the practice-wide view the rest
    /// (`policy::class_follows_all`).
    pub follow_all_conversations_up_to: u32,
    /// SLA-1: the reply promised to a patient's question, per priority, in business time
    /// (`business_hours`, `time_zone`, `holidays`). None: no promise is made or shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_targets: Option<crate::reply_clock::ReplyTargets>,
    /// SLA-1: closed days (`YYYY-MM-DD` in `time_zone`), whatever their weekday.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<String>,
    /// SLA-4: who else takes a question still unanswered at a share of its target.
    pub escalation: Option<crate::reply_clock::Escalation>,
}

/// Fifteen: a small practice's clinicians all read every patient message (seed 000), and a
/// message to fifteen followers, the patient and a few others is written in its own
/// transaction; past it, most of a group's clinicians never open most threads, and each extra
/// follower costs every message a write (README, "Who has a conversation in the inbox").
pub const DEFAULT_FOLLOW_ALL_UP_TO: u32 = 15;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            body_min_chars: 1,
            body_max_chars: 20_000,
            attachment_max_bytes: 10 * 1024 * 1024,
            patient_banner: "For emergencies call 911. Messages are answered within one business day.".into(),
            urgent_phone: String::new(),
            time_zone: "UTC".into(),
            retention_days: None,
            patient_messages_per_day: 10,
            patient_body_max_chars: 5_000,
            broadcast_max_recipients: 500,
            business_hours: None,
            after_hours_text: String::new(),
            // Security finding 9: on unless a practice turns it off (GuardDuty scans the
            // attachment bucket; the template's AttachmentMalwareScanning).
            malware_scanning: true,
            attachment_retention_days: None,
            attachment_content_types: Vec::new(),
            portal_url: String::new(),
            sms_number: String::new(),
            totp_required_for_staff: true,
            totp_required_for_patients: false,
            follow_all_conversations_up_to: DEFAULT_FOLLOW_ALL_UP_TO,
            reply_targets: None,
            holidays: Vec::new(),
            escalation: None,
        }
    }
}

impl Settings {
    pub fn body_limits(&self) -> crate::domain::BodyLimits {
        crate::domain::BodyLimits { min_chars: self.body_min_chars, max_chars: self.body_max_chars }
    }

    /// The practice's business time (SLA-1).
    pub fn calendar(&self) -> crate::error::Result<crate::reply_clock::Calendar> {
        crate::reply_clock::Calendar::new(&self.time_zone, self.business_hours.as_ref(), &self.holidays)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Practice {
    pub id: crate::domain::PracticeId,
    pub name: String,
    pub settings: Settings,
    /// The practice's blind-index key, wrapped by KMS.
    pub search_key: Sealed,
    pub created_at: crate::domain::Timestamp,
    /// Moves with every write of a staff user or a workgroup (`Tx::commit`): a function's copy
    /// of the directory is current while this is as it was when the copy was read.
    #[serde(default)]
    pub directory_version: u64,
}

/// Marks that an auto-reply was sent in a conversation for one period (REPLY-5).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoReplyMark {
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn acct_3_new_practices_require_totp_of_staff_and_older_ones_keep_working() {
        assert!(Settings::default().totp_required_for_staff);
        assert!(!Settings::default().totp_required_for_patients);
        let stored_before: Settings = serde_json::from_str(r#"{"bodyMaxChars": 5000}"#).unwrap();
        assert!(!stored_before.totp_required_for_staff, "an upgrade locks nobody out");
        assert_eq!(stored_before.body_max_chars, 5000);
    }
}
