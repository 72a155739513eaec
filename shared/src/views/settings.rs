//! What a user sees of its own settings and the practice's: practice settings, the portal
//! banner, out-of-office, the second factor and where notifications go.

use crate::domain::NotifyChannel;
use crate::domain::{OutOfOffice, Settings};
use serde::Serialize;

/// GET and PUT /settings.
#[derive(Clone, Debug, Serialize)]
pub struct SettingsView {
    pub settings: Settings,
}

/// PUT /me/out-of-office: the period in force, `null` once cleared.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutOfOfficeView {
    pub out_of_office: Option<OutOfOffice>,
}

/// GET /portal/banner.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BannerView {
    pub banner: String,
    pub practice_name: String,
    pub urgent_phone: String,
    /// For patients: what the practice's limits leave them (REPLY-4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<PatientLimits>,
}

/// REPLY-4, as a patient sees it before writing.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientLimits {
    pub messages_per_day: u32,
    pub messages_left_today: u32,
    pub body_max_chars: u32,
}

/// GET and POST /me/totp.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpView {
    pub totp: TotpState,
    /// After setting one up: the token in hand came from a sign-in without the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in_again: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpState {
    pub required: bool,
    pub enrolled_at: Option<crate::domain::Timestamp>,
}

/// GET and PUT /me/notifications, and a proven code: the caller's choice as the notifier
/// applies it.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationsView {
    pub notifications: NotificationSetting,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSetting {
    pub channel: NotifyChannel,
    /// `null` for `none`.
    pub destination: Option<String>,
    /// A destination waiting for its code (ACCT-4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingView>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingView {
    pub channel: NotifyChannel,
    pub destination: String,
    pub expires_at: crate::domain::Timestamp,
    pub attempts_left: u32,
}
