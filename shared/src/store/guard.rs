//! What each conditioned write of a transaction guards (the ops/store contract).

/// Which write of a transaction was refused by its condition: each conditioned write names
/// what it guards, and the operation answers by meaning (a replayed Idempotency-Key, a
/// deactivated caller, a record changed meanwhile). A typo is a compile error, not a silent 409.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// The Idempotency-Key was claimed already: a replay.
    Idempotency,
    /// The caller's directory record (gone or deactivated meanwhile).
    Actor,
    /// ROLE-5: the acting patient is inactive.
    Inactive,
    /// An audit event (new, never overwritten).
    Audit,
    /// A notification outbox item.
    Outbox,
    /// A conversation's summary.
    Conversation,
    /// A message.
    Message,
    /// A user's inbox entry for a conversation.
    Entry,
    /// A user's inbox stats.
    Stats,
    /// A patient's conversation marker.
    Marker,
    /// An automatic reply (sent at most once per window).
    Auto,
    /// A reply counted against the daily limit (REPLY-4).
    Limit,
    /// A saved reply.
    Reply,
    /// A draft.
    Draft,
    /// A task.
    Task,
    /// A reminder.
    Reminder,
    /// A staff record.
    Staff,
    /// A patient record.
    Patient,
    /// A workgroup.
    Workgroup,
    /// A user's directory record (staff or patient) an administrator edits.
    User,
    /// The practice record (its settings).
    Practice,
    /// A practice's SMS number, which one practice alone may have.
    SmsNumber,
    /// The SMS number a practice gives up.
    OldSmsNumber,
    /// An attachment.
    Attachment,
    /// A message's billing record (a patient message a clinician answers).
    Billing,
    /// A reply's wait, for the response-time report (SLA-5).
    ReplyTime,
    /// A waiting question's escalation (SLA-4): taken once.
    Escalation,
    /// An e-visit or one of its records (EVISIT).
    EVisit,
    /// A rename carried to the records that copy a name (ACCT-2).
    Rename,
    /// The list of every practice (the operator's jobs walk it).
    Registry,
    /// A notification destination awaiting its code (ACCT-4).
    Pending,
    /// Where a user's inbox was last seen (read receipts' delivered state).
    Presence,
    /// A patient's finder tokens (blind-index entries of a name).
    Token,
    /// A conversation's search tokens (INBOX-3; written unconditionally).
    SearchToken,
    /// A message's late inbox entry, written to a viewer once (`LateEntries`).
    LateEntry,
}
