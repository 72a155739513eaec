//! The shapes stored in the table. PHI fields are ciphertexts (`Sealed`), never text. Key
//! attributes are set by the constructors in `store`, from `keys`.

use crate::domain::{ConversationKind, ConversationStatus, NotifyChannel, Priority, Recipient, Role};
use serde::{Deserialize, Serialize};

/// An envelope-encrypted value (see `crypto`), stored as a DynamoDB binary attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(#[serde(with = "serde_bytes")] pub Vec<u8>);

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
}

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
        }
    }
}

impl Settings {
    pub fn body_limits(&self) -> crate::domain::BodyLimits {
        crate::domain::BodyLimits { min_chars: self.body_min_chars, max_chars: self.body_max_chars }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PracticeItem {
    pub pk: String,
    pub sk: String,
    pub id: String,
    pub name: String,
    pub settings: Settings,
    /// The practice's blind-index key, wrapped by KMS.
    pub search_key: Sealed,
    pub created_at: String,
}

/// Marks that an auto-reply was sent in a conversation for one period (REPLY-5).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoReplyItem {
    pub pk: String,
    pub sk: String,
    pub expires_at: i64,
}

fn yes() -> bool {
    true
}

/// A practice's entry in the registry of practices.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PracticeRegistryItem {
    pub pk: String,
    pub sk: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffItem {
    pub pk: String,
    pub sk: String,
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub email: String,
    pub phone: String,
    pub active: bool,
    /// ROLE-5: a switched-off user cannot send to patients.
    pub portal_messaging: bool,
    pub created_at: String,
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
    pub totp_enrolled_at: Option<String>,
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
    pub proven_at: Option<String>,
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
    pub from: String,
    pub to: String,
    pub text: String,
}

impl StaffItem {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkgroupItem {
    pub pk: String,
    pub sk: String,
    pub id: String,
    pub name: String,
    pub member_ids: Vec<String>,
    pub created_at: String,
}

/// A patient; names and phone are sealed to the patient record.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientItem {
    pub pk: String,
    pub sk: String,
    pub gsi2pk: String,
    pub gsi2sk: String,
    pub id: String,
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
    pub totp_enrolled_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_provider_id: Option<String>,
    #[serde(default)]
    pub assigned_staff_ids: Vec<String>,
    pub portal_access: bool,
    pub active: bool,
    pub created_at: String,
}

/// A patient's rename in progress: the names it had, so the copies of them (finder tokens,
/// conversation search tokens) can be found and replaced. Written in the transaction that
/// renames the patient, deleted once every copy holds the new names; while it exists, the
/// next edit of the patient finishes it first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenameItem {
    pub pk: String,
    pub sk: String,
    pub first_name: Sealed,
    pub last_name: Sealed,
}

/// A blind-index entry of the patient finder: the token and a copy of the sealed names, so a
/// lookup is one Query.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientTokenItem {
    pub pk: String,
    pub sk: String,
    pub patient_id: String,
    pub first_name: Sealed,
    pub last_name: Sealed,
    pub active: bool,
}

/// The patient on a conversation, with names sealed to the patient record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientRef {
    pub id: String,
    pub first_name: Sealed,
    pub last_name: Sealed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextRef {
    pub kind: String,
    pub id: String,
    pub label: Sealed,
}

/// Who sent a message. Staff names are not patient PHI; a patient sender's name is read
/// from the conversation's sealed patient names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SenderRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub masked: bool,
}

/// The part of a conversation every inbox row shows that changes only when the
/// conversation itself changes (assignment, status); per-message fields live beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub kind: ConversationKind,
    pub subject: Sealed,
    #[serde(default)]
    pub patient: Option<PatientRef>,
    #[serde(default)]
    pub assignees: Vec<Recipient>,
    /// The assignees expanded to staff ids, for the "assigned to me / to others" filters.
    #[serde(default)]
    pub assignee_ids: Vec<String>,
    #[serde(default)]
    pub context: Option<ContextRef>,
    pub status: ConversationStatus,
    pub created_at: String,
    pub allow_response: bool,
    #[serde(default)]
    pub allow_attachments: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationItem {
    pub pk: String,
    pub sk: String,
    /// GSI2: every conversation of the practice by latest activity (retention, SEC-5).
    #[serde(default)]
    pub gsi2pk: String,
    #[serde(default)]
    pub gsi2sk: String,
    pub id: String,
    pub practice_id: String,
    pub summary: Summary,
    pub created_by: String,
    /// Staff taking part: senders, recipients, members of recipient workgroups.
    pub participants: Vec<String>,
    /// Recipient refs as addressed (staff and workgroups), for display.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// Assignees expanded to staff ids.
    #[serde(default)]
    pub assignee_ids: Vec<String>,
    /// The patient's assigned staff when the conversation began (ROLE-2 staff visibility).
    #[serde(default)]
    pub care_team: Vec<String>,
    /// The patient's primary provider when the conversation began: told of urgent messages
    /// with the care team (NOTIFY-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_provider_id: Option<String>,
    /// NOTIFY-4: an SMS conversation's phone number, sealed (field `smsPeer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_peer: Option<Sealed>,
    /// Everyone holding an inbox entry for it (see `policy::viewers`).
    pub viewers: Vec<String>,
    pub last_message_at: String,
    pub message_count: u64,
    /// Messages a patient can see (internal notes excluded).
    pub patient_message_count: u64,
    /// Messages the patient sent: staff may mark a thread unread only where there is one
    /// (CONV-3).
    #[serde(default)]
    pub from_patient_count: u64,
    /// ROLE-5: whether the patient had portal access when the conversation began; a patient
    /// without it is never notified (the notifier checks the current record again).
    #[serde(default = "yes")]
    pub patient_portal_access: bool,
    /// Who assigned whom, with the staff-only comment (ASSIGN-1).
    #[serde(default)]
    pub assignments: Vec<AssignmentRecord>,
    /// Bumped by writes that rewrite the summary (assign, close), for optimistic locking.
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentRecord {
    pub by: String,
    pub assignees: Vec<Recipient>,
    #[serde(default)]
    pub comment: Option<Sealed>,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRef {
    pub id: String,
    pub file_name: Sealed,
    pub content_type: String,
    pub size: u64,
    pub attached_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    pub pk: String,
    pub sk: String,
    pub id: String,
    pub conversation_id: String,
    pub sender: SenderRef,
    pub body: Sealed,
    pub priority: Priority,
    pub internal: bool,
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    pub created_at: String,
    /// ATT-4: documents of the patient's record linked by reference (labels sealed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<ContextRef>,
    /// REPLY-2: a billable reply's fee code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_code: Option<String>,
    /// REPLY-2 / NOTIFY-5: remind the sender if the patient has not read it in this many hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_if_unread_hours: Option<u32>,
    /// The key of the stored answer to the request that wrote it (its Idempotency-Key), which
    /// holds its body for a day: deleted with the message (CONV-6, security finding 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_pk: Option<String>,
}

/// A billable reply (REPLY-2), kept per month for the billing report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingItem {
    pub pk: String,
    pub sk: String,
    pub message_id: String,
    pub conversation_id: String,
    pub patient_id: String,
    pub staff_id: String,
    pub fee_code: String,
    pub at: String,
}

/// One user's inbox row for one conversation: a copy of the summary, the latest message it
/// may see, and its own state (unread, starred, archived).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    #[serde(default)]
    pub gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
    pub conversation_id: String,
    pub summary: Summary,
    pub last_message_at: String,
    pub preview: Sealed,
    pub last_sender: SenderRef,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub last_priority: Option<Priority>,
    #[serde(default)]
    pub message_count: u64,
    #[serde(default)]
    pub unread: u64,
    #[serde(default)]
    pub starred: bool,
    #[serde(default)]
    pub archived: bool,
    /// When the user last opened the conversation (read receipts, CONV-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_at: Option<String>,
}

/// A blind-index token of a conversation (INBOX-3): the HMAC of a normalized word prefix of
/// its subject, patient names or id, or a patient-visible message preview.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchTokenItem {
    pub pk: String,
    pub sk: String,
}

/// An append-only audit event (SEC-2). It names records, never their content.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditItem {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    pub id: String,
    pub practice_id: String,
    pub actor_id: String,
    pub actor_role: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    /// The patients whose conversations or names a list showed (an inbox or search page, the
    /// patient finder; security finding 10), so "who saw this patient" covers lists too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patients_shown: Vec<String>,
    pub outcome: String,
    pub at: String,
    pub request_id: String,
    /// Marks audit events for the chainer's stream filter (template.yaml).
    #[serde(default = "audit_entity")]
    pub entity: String,
    /// The hash chain (SEC-2), set by the `audit-chain` function moments after the write:
    /// position in the record's chain, the previous event's hash, and this event's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

fn audit_entity() -> String {
    "audit".into()
}

/// The head of one record's audit chain: its length and last hash. GSI2 lists a practice's
/// chains, for the verify command.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditHeadItem {
    pub pk: String,
    pub sk: String,
    pub gsi2pk: String,
    pub gsi2sk: String,
    pub seq: u64,
    pub hash: String,
}

/// NOTIFY-5: remind the sender if the patient has not read the message by `due_at`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub practice_id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub message_at: String,
    pub sender_id: String,
    pub patient_id: String,
    pub due_at: String,
}

/// NOTIFY-4: which practice a two-way SMS number belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsNumberItem {
    pub pk: String,
    pub sk: String,
    pub practice_id: String,
}

/// NOTIFY-4: the latest SMS a practice exchanged with a number (keyed by its blind token):
/// whose number it is, if known, and the conversation a text from it belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsPeerItem {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    pub conversation_id: String,
    pub at: String,
}

/// A message's notifications, written with the message and sent by the notifier (NOTIFY-3).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    pub pk: String,
    pub sk: String,
    pub practice_id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub recipient_ids: Vec<String>,
    pub urgent: bool,
    pub created_at: String,
    pub expires_at: i64,
    #[serde(default)]
    pub notice: Notice,
    /// NOTIFY-4: a staff reply in an SMS conversation: the message itself also goes to the
    /// conversation's number as an SMS.
    #[serde(default)]
    pub sms_reply: bool,
    /// Recipients already notified: a retry skips them (the dedup of NOTIFY-3).
    #[serde(default)]
    pub sent: Vec<String>,
}

/// What a notification says; never anything about the message itself (SEC-3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Notice {
    #[default]
    NewMessage,
    /// NOTIFY-5: to the sender, the patient has not read it yet.
    UnreadReminder,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentItem {
    pub pk: String,
    pub sk: String,
    pub id: String,
    pub practice_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    pub uploader_id: String,
    pub file_name: Sealed,
    pub content_type: String,
    pub size: u64,
    pub status: String,
    /// Set when attached to a message: an attachment of an internal note is staff-only.
    #[serde(default)]
    pub internal: bool,
    pub object_key: String,
    pub created_at: String,
    /// GSI3 while it waits for the sweeper: unattached (`ATTPENDING`), or due to expire after
    /// the patient downloaded it (`ATTDUE`, ATT-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_patient_download_at: Option<String>,
}

/// A draft (COMPOSE-5): the compose request as its author left it, sealed whole.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftItem {
    pub pk: String,
    pub sk: String,
    pub id: String,
    pub content: Sealed,
    pub created_at: String,
    pub updated_at: String,
}

/// A task linked to a message (CONV-7); the title is sealed to the task.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub title: Sealed,
    pub assignee_id: String,
    pub due_date: String,
    pub done: bool,
    pub created_by: String,
    pub created_at: String,
}

/// A task's mark in its conversation's partition, so deleting the message or the
/// conversation finds its tasks (CONV-6, security finding 6).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRefItem {
    pub pk: String,
    pub sk: String,
    pub task_id: String,
    pub message_id: String,
}

/// A saved reply (REPLY-6); its template is sealed like a message body.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedReplyItem {
    pub pk: String,
    pub sk: String,
    pub id: String,
    pub title: String,
    pub body: Sealed,
    pub scope: String,
    pub created_by: String,
    pub created_at: String,
}

/// The first answer to an `Idempotency-Key`: which request it was, and what it made.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyItem {
    pub pk: String,
    pub sk: String,
    pub request_hash: String,
    pub conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The first response, sealed (it holds PHI), replayed as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Sealed>,
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
