//! The key design of the single table (docs/data-model.md lists each access pattern).
//! Every key of a practice's data begins with `PRAC#<practice>`, so a caller's practice,
//! which comes from its token, is part of every key it can reach (ROLE-3 by construction).

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2: &str = "gsi2";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
pub const GSI3: &str = "gsi3";
pub const GSI3PK: &str = "gsi3pk";
pub const GSI3SK: &str = "gsi3sk";
pub const GSI4: &str = "gsi4";
pub const GSI4PK: &str = "gsi4pk";
pub const GSI4SK: &str = "gsi4sk";

/// Practice profile, staff and workgroups share one partition: one Query loads the directory.
pub fn practice(p: &str) -> String {
    format!("PRAC#{p}")
}
pub const PRACTICE_SK: &str = "PRACTICE";
pub fn staff_sk(u: &str) -> String {
    format!("STAFF#{u}")
}
pub fn workgroup_sk(w: &str) -> String {
    format!("WG#{w}")
}
/// A staff user's or a workgroup's item: what the directory Query returns beside the practice.
pub fn is_directory_item(pk: &str, sk: &str) -> bool {
    let practice_partition = pk.strip_prefix("PRAC#").is_some_and(|p| !p.contains('#'));
    practice_partition && (sk.starts_with("STAFF#") || sk.starts_with("WG#"))
}

/// A patient has a partition of its own: patients grow with the practice, staff do not.
pub fn patient(p: &str, pat: &str) -> String {
    format!("PRAC#{p}#PAT#{pat}")
}
pub const PATIENT_SK: &str = "PATIENT";
/// A patient's rename not yet carried to every copy of its names (ACCT-2).
pub const RENAME_SK: &str = "RENAME";
/// GSI2: every patient of a practice, by id.
pub fn patients_index(p: &str) -> String {
    format!("PRAC#{p}#PATIENTS")
}
/// Blind-index items for the patient finder: one per name-prefix token.
pub fn patient_token(p: &str, token: &str) -> String {
    format!("PRAC#{p}#PTOK#{token}")
}
pub fn patient_token_sk(pat: &str) -> String {
    format!("PAT#{pat}")
}

/// A conversation's partition: its summary (`META`) and its messages, oldest first.
pub fn conversation(p: &str, c: &str) -> String {
    format!("PRAC#{p}#CONV#{c}")
}
pub const CONVERSATION_SK: &str = "META";
/// GSI2 for conversation summaries: a practice's conversations by latest activity.
pub fn practice_conversations(p: &str) -> String {
    format!("PRAC#{p}#CONVS")
}
/// The registry of practices (one item each), for jobs that visit every practice.
pub const PRACTICES: &str = "PRACTICES";
pub const MESSAGE_SK_PREFIX: &str = "MSG#";
pub fn message_sk(created_at: crate::domain::Timestamp, m: &str) -> String {
    format!("MSG#{created_at}#{m}")
}

/// A user's (staff or patient) partition: one inbox entry per conversation it can see.
pub fn user(p: &str, u: &str) -> String {
    format!("PRAC#{p}#USER#{u}")
}
pub fn entry_sk(c: &str) -> String {
    format!("CONV#{c}")
}
/// A user's drafts live in its own partition: private to their author by key (COMPOSE-5).
pub fn draft_sk(d: &str) -> String {
    format!("DRAFT#{d}")
}
pub const DRAFT_SK_PREFIX: &str = "DRAFT#";

/// A user's inbox counters (INBOX-4), and per patient how many of its conversations are
/// about that patient (so the count of unique patients moves exactly).
pub const STATS_SK: &str = "STATS";
pub fn patient_marker_sk(pat: &str) -> String {
    format!("{PATIENT_MARKER_SK_PREFIX}{pat}")
}
pub const PATIENT_MARKER_SK_PREFIX: &str = "PATIENT#";

/// A user's own state in a conversation it has no entry for (`OwnState`); "READ#" since
/// it first held only the read position.
pub fn own_state_sk(c: &str) -> String {
    format!("{OWN_STATE_SK_PREFIX}{c}")
}
pub const OWN_STATE_SK_PREFIX: &str = "READ#";

/// The mark that a message's late inbox entry was written to this user (`LateEntries`).
pub fn late_entry_sk(m: &str) -> String {
    format!("{LATE_ENTRY_SK_PREFIX}{m}")
}
pub const LATE_ENTRY_SK_PREFIX: &str = "LATE#";

/// A user's presence: when its inbox last reached it (delivery receipts, CONV-2).
pub const PRESENCE_SK: &str = "PRESENCE";

/// A user's uses of a rate budget in one minute (security finding 12), in its own partition.
pub fn budget_sk(budget: &str, minute: i64) -> String {
    format!("BUDGET#{budget}#{minute}")
}

/// GSI1 for inbox entries: a user's active (not archived) or archived entries, newest first.
pub fn inbox(p: &str, u: &str, archived: bool) -> String {
    format!("PRAC#{p}#INBOX#{u}#{}", if archived { "ARCHIVED" } else { "ACTIVE" })
}
/// GSI2 for inbox entries: a user's tab of one kind (patient, team, broadcast). Archived
/// entries move to a partition no tab reads, so the key is always present and a summary
/// rewrite can keep it with `if_not_exists`.
pub fn inbox_tab(p: &str, u: &str, kind: &str, archived: bool) -> String {
    format!("PRAC#{p}#INBOX#{u}#{}#{kind}", if archived { "ARCHIVEDTAB" } else { "TAB" })
}
/// GSI3 for inbox entries: sparse, present only while the user has starred the entry.
pub fn inbox_starred(p: &str, u: &str) -> String {
    format!("PRAC#{p}#INBOX#{u}#STARRED")
}
/// GSI4 for inbox entries (SLA-3): sparse, present while a reply is owed, soonest due first.
pub fn inbox_due(p: &str, u: &str) -> String {
    format!("PRAC#{p}#INBOX#{u}#DUE")
}
pub fn inbox_sort(last_message_at: crate::domain::Timestamp, c: &str) -> String {
    format!("{last_message_at}#{c}")
}

/// Inbox search (INBOX-3): one item per blind-index token of a conversation, newest
/// conversation first (ids sort by creation time). Visibility is applied by reading the
/// caller's own entries for the hits.
pub fn search_token(p: &str, token: &str) -> String {
    format!("PRAC#{p}#STOK#{token}")
}

/// Audit events: a partition per record (conversation, patient, staff user...), so no write
/// of the practice funnels through one hot key; GSI1 lists them per patient.
/// The chain an audit event joins: one per record (`CONVERSATION#cnv_…`, `PATIENT#pat_…`).
pub fn audit_scope(record_type: &str, record_id: &str) -> String {
    format!("{}#{record_id}", record_type.to_uppercase())
}
pub const AUDIT_INFIX: &str = "#AUDIT#";
pub fn audit(p: &str, record: &str) -> String {
    format!("PRAC#{p}{AUDIT_INFIX}{record}")
}
/// The head of a record's audit chain, in the chain's own partition (sorts after events).
pub const AUDIT_HEAD_SK: &str = "~HEAD";
/// GSI2: every audit chain of a practice.
pub fn audit_chains(p: &str) -> String {
    format!("PRAC#{p}#AUDITCHAINS")
}
pub fn audit_by_patient(p: &str, pat: &str) -> String {
    format!("PRAC#{p}#AUDITPAT#{pat}")
}

/// A task linked to a message (CONV-7); GSI1 lists an assignee's tasks, open ones first, by
/// due date.
/// A task's mark in its conversation's partition (after `META`, before `MSG#`).
pub fn task_ref_sk(t: &str) -> String {
    format!("{TASK_REF_PREFIX}{t}")
}
pub const TASK_REF_PREFIX: &str = "TASK#";
pub fn task(p: &str, t: &str) -> String {
    format!("PRAC#{p}#TASK#{t}")
}
pub const TASK_SK: &str = "TASK";
pub fn tasks_of(p: &str, assignee: &str) -> String {
    format!("PRAC#{p}#TASKS#{assignee}")
}
pub fn task_sort(done: bool, due: &str, t: &str) -> String {
    format!("{}#{due}#{t}", if done { "1" } else { "0" })
}

/// Saved replies (REPLY-6): practice-wide ones in a practice partition, personal ones in
/// the user's own.
pub fn saved_replies(p: &str) -> String {
    format!("PRAC#{p}#SAVED")
}
pub fn saved_reply_sk(r: &str) -> String {
    format!("REPLY#{r}")
}

/// Billable replies (REPLY-2) by month (`YYYY-MM`), sorted by time.
pub fn billing_month(p: &str, month: &str) -> String {
    format!("PRAC#{p}#BILLING#{month}")
}
/// SLA-5: the replies that stopped a reply clock, by the month of the reply.
pub fn reply_times_month(p: &str, month: &str) -> String {
    format!("PRAC#{p}#REPLYTIMES#{month}")
}

pub fn attachment(p: &str, a: &str) -> String {
    format!("PRAC#{p}#ATT#{a}")
}
pub const ATTACHMENT_SK: &str = "META";
/// GSI3 queues of the attachment sweeper: uploads not yet attached, and files due to expire.
pub fn attachments_pending(p: &str) -> String {
    format!("PRAC#{p}#ATTPENDING")
}
pub fn attachments_due(p: &str) -> String {
    format!("PRAC#{p}#ATTDUE")
}

/// NOTIFY-4: a practice's two-way SMS number, claimed by one practice only.
pub fn sms_number(number: &str) -> String {
    format!("SMSNUMBER#{number}")
}
pub const SMS_NUMBER_SK: &str = "SMSNUMBER";
/// NOTIFY-4: the latest SMS exchanged with a phone number, by the number's blind token.
pub fn sms_peer(p: &str, token: &str) -> String {
    format!("PRAC#{p}#SMSPEER#{token}")
}
pub const SMS_PEER_SK: &str = "SMSPEER";

/// NOTIFY-5: a reminder due if the patient has not read a message; GSI1 lists a practice's
/// reminders by due time.
pub fn reminder(p: &str, m: &str) -> String {
    format!("PRAC#{p}#REMINDER#{m}")
}
pub const REMINDER_SK: &str = "REMINDER";
pub fn reminders_due(p: &str) -> String {
    format!("PRAC#{p}#REMINDERS")
}

/// EVISIT: an e-visit's partition: its `META` and its clinicians' `TIME#<at>#<id>` entries.
pub fn evisit(p: &str, c: &str) -> String {
    format!("PRAC#{p}#EVISIT#{c}")
}
pub const EVISIT_SK: &str = "META";
pub const EVISIT_TIME_PREFIX: &str = "TIME#";
/// EVISIT-3: a patient's consent, beside its record.
pub const EVISIT_CONSENT_SK: &str = "EVCONSENT";
pub const EVISIT_CONSENT_REQUEST_SK: &str = "EVCONSENTASK";
/// EVISIT-3: a patient's E/M visits by date, beside its record.
pub const VISIT_PREFIX: &str = "VISIT#";
/// EVISIT-2: the e-visits whose window has not been recorded, by its end (GSI1).
pub fn evisits_ending(p: &str) -> String {
    format!("PRAC#{p}#EVISITS_ENDING")
}
/// EVISIT-4: the e-visits opened in a month.
pub fn evisits_month(p: &str, month: &str) -> String {
    format!("PRAC#{p}#EVISITS#{month}")
}

/// SLA-4: a waiting question's escalation; GSI1 lists a practice's by escalation time.
pub fn escalation(p: &str, c: &str) -> String {
    format!("PRAC#{p}#ESCALATE#{c}")
}
pub const ESCALATION_SK: &str = "ESCALATE";
pub fn escalations_due(p: &str) -> String {
    format!("PRAC#{p}#ESCALATIONS")
}

pub const OUTBOX_PREFIX: &str = "OUTBOX#";
pub fn outbox(m: &str) -> String {
    format!("{OUTBOX_PREFIX}{m}")
}
pub const OUTBOX_SK: &str = "OUTBOX";
/// A summary refresh (`SummaryRefresh`) and an entry removal (`EntryRemoval`),
/// beside the outbox items in the stream.
pub const REFRESH_SK: &str = "REFRESH";
pub const REMOVAL_SK: &str = "REMOVE";
/// A deleted message's removal (`MessageRemoval`).
pub const UNPOST_SK: &str = "UNPOST";
/// One page of a workgroup's membership back-fill (`MembershipBackfill`).
pub const BACKFILL_SK_PREFIX: &str = "BACKFILL#";
pub fn backfill_sk(page: u32) -> String {
    format!("{BACKFILL_SK_PREFIX}{page:06}")
}

pub fn idempotency(p: &str, caller: &str, key_hash: &str) -> String {
    format!("PRAC#{p}#IDEM#{caller}#{key_hash}")
}
pub const IDEMPOTENCY_SK: &str = "IDEM";
