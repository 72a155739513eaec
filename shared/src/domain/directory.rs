//! The directory: staff, workgroups, patients, and the patient finder's entries.

use super::Sealed;
use crate::domain::{NotifyChannel, Role};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Staff {
    pub id: crate::domain::UserId,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub email: String,
    pub phone: String,
    pub active: bool,
    /// ROLE-5: a switched-off user cannot send to patients.
    pub portal_messaging: bool,
    pub created_at: crate::domain::Timestamp,
    /// REPLY-5: an out-of-office period and its auto-reply text, set by the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_office: Option<OutOfOffice>,
    /// NOTIFY-1: unset = email to `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyPrefs>,
    /// ACCT-4: a destination waiting for its one-time code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_pending: Option<PendingDestination>,
    /// ACCT-3: when the user's TOTP second factor was confirmed (tokens from sign-ins
    /// before it are refused: they were made with the password alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_enrolled_at: Option<crate::domain::Timestamp>,
}

/// How a user wants to hear of new messages (NOTIFY-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyPrefs {
    pub channel: NotifyChannel,
    /// An email address or E.164 number sealed to the user's record (field `notifyDestination`);
    /// unset = the address or phone number the practice has on file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Sealed>,
    /// ACCT-4: when the owner proved `destination` with a one-time code. A destination
    /// without it (stored before ACCT-4) is not used: the one on file is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven_at: Option<crate::domain::Timestamp>,
}

/// ACCT-4: a destination a user asked for, not in use until its one-time code comes back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingDestination {
    pub channel: NotifyChannel,
    /// Sealed as `notifyDestination`, so that the proof moves it into place as it is.
    pub destination: Sealed,
    /// A keyed hash of the code (the practice's blind-index key): never the code itself.
    pub code_hash: String,
    /// Epoch seconds.
    pub expires_at: i64,
    pub attempts_left: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutOfOffice {
    pub from: crate::domain::Timestamp,
    pub to: crate::domain::Timestamp,
    pub text: String,
}

impl Staff {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workgroup {
    pub id: crate::domain::WorkgroupId,
    pub name: String,
    pub member_ids: Vec<crate::domain::UserId>,
    pub created_at: crate::domain::Timestamp,
}

/// A patient; names and phone are sealed to the patient record.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    pub id: crate::domain::UserId,
    pub first_name: Sealed,
    pub last_name: Sealed,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Sealed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Sealed>,
    /// NOTIFY-1: unset = email if the practice has an address, else SMS if it has a phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyPrefs>,
    /// ACCT-4: a destination waiting for its one-time code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_pending: Option<PendingDestination>,
    /// ACCT-3: when the user's TOTP second factor was confirmed (tokens from sign-ins
    /// before it are refused: they were made with the password alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_enrolled_at: Option<crate::domain::Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_provider_id: Option<crate::domain::UserId>,
    #[serde(default)]
    pub assigned_staff_ids: Vec<crate::domain::UserId>,
    pub portal_access: bool,
    pub active: bool,
    pub created_at: crate::domain::Timestamp,
}

/// A patient's rename in progress: the names it had, so the copies of them (finder tokens,
/// conversation search tokens) can be found and replaced. Written in the transaction that
/// renames the patient, deleted once every copy holds the new names; while it exists, the
/// next edit of the patient finishes it first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRename {
    pub first_name: Sealed,
    pub last_name: Sealed,
}

/// A blind-index entry of the patient finder: the token and a copy of the sealed names, so a
/// lookup is one Query.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientToken {
    pub patient_id: crate::domain::UserId,
    pub first_name: Sealed,
    pub last_name: Sealed,
    pub active: bool,
}

/// The practice, its staff and its workgroups: what routing and fan-out need.
#[derive(Clone, Debug)]
pub struct Directory {
    pub practice: super::Practice,
    pub staff: Vec<Staff>,
    pub workgroups: Vec<Workgroup>,
}

impl Directory {
    pub fn staff_member(&self, id: &str) -> Option<&Staff> {
        self.staff.iter().find(|s| s.id == id)
    }
    pub fn workgroup(&self, id: &str) -> Option<&Workgroup> {
        self.workgroups.iter().find(|w| w.id == id)
    }
}
