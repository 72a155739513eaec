//! Where each record lives: the `Key` a new record is stored under. A `Key` is opaque
//! outside `store` (its attributes and their formats are `keys`', private to `store`), so an
//! operation says *what* it stores ("a draft of this user") and cannot write, read or
//! misspell a key. The key attributes sit beside the record's own on the wire
//! (`#[serde(flatten)]`).

use super::keys;
use crate::domain::{
    AttachmentId, ConversationId, ConversationKind, DraftId, MessageId, PracticeId, SavedReplyId, TaskId, Timestamp,
    UserId, WorkgroupId,
};
use serde::{Deserialize, Serialize};

/// The table and index key attributes of one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub(in crate::store) pk: String,
    pub(in crate::store) sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::store) gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::store) gsi1sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::store) gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::store) gsi2sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::store) gsi3pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(in crate::store) gsi3sk: Option<String>,
}

impl Key {
    pub(in crate::store) fn new(pk: String, sk: impl Into<String>) -> Key {
        Key { pk, sk: sk.into(), gsi1pk: None, gsi1sk: None, gsi2pk: None, gsi2sk: None, gsi3pk: None, gsi3sk: None }
    }
    pub(in crate::store) fn gsi1(mut self, pk: String, sk: String) -> Key {
        (self.gsi1pk, self.gsi1sk) = (Some(pk), Some(sk));
        self
    }
    pub(in crate::store) fn gsi2(mut self, pk: String, sk: String) -> Key {
        (self.gsi2pk, self.gsi2sk) = (Some(pk), Some(sk));
        self
    }
    pub(in crate::store) fn gsi3(mut self, pk: String, sk: String) -> Key {
        (self.gsi3pk, self.gsi3sk) = (Some(pk), Some(sk));
        self
    }
    /// The table key's two values, read only to hash them: where an audit event was stored is
    /// part of what its chain seals (`audit::link_digest`).
    pub fn table_key_parts(&self) -> (&str, &str) {
        (&self.pk, &self.sk)
    }
}

/// The practice profile, in the directory partition.
pub fn practice(p: &PracticeId) -> Key {
    Key::new(keys::practice(p), keys::PRACTICE_SK)
}
/// A practice's line in the registry that jobs walk.
pub fn registry_entry(p: &PracticeId) -> Key {
    Key::new(keys::PRACTICES.into(), p.to_string())
}
/// A staff user, in the directory partition (one Query loads the directory).
pub fn staff(p: &PracticeId, user: &UserId) -> Key {
    Key::new(keys::practice(p), keys::staff_sk(user))
}
pub fn workgroup(p: &PracticeId, workgroup: &WorkgroupId) -> Key {
    Key::new(keys::practice(p), keys::workgroup_sk(workgroup))
}
/// A patient, in a partition of its own, listed in the practice's patient index.
pub fn patient(p: &PracticeId, patient: &UserId) -> Key {
    Key::new(keys::patient(p, patient), keys::PATIENT_SK).gsi2(keys::patients_index(p), patient.to_string())
}
/// A patient's rename not yet carried everywhere (ACCT-2), beside the patient.
pub fn rename(p: &PracticeId, patient: &UserId) -> Key {
    Key::new(keys::patient(p, patient), keys::RENAME_SK)
}
/// One blind-index token of the patient finder.
pub fn patient_token(p: &PracticeId, token: &str, patient: &UserId) -> Key {
    Key::new(keys::patient_token(p, token), keys::patient_token_sk(patient))
}

/// A conversation's summary, listed by latest activity in the practice's conversations.
pub fn conversation(p: &PracticeId, c: &ConversationId, last_message_at: Timestamp) -> Key {
    Key::new(keys::conversation(p, c), keys::CONVERSATION_SK)
        .gsi2(keys::practice_conversations(p), keys::inbox_sort(last_message_at, c))
}
/// The mark that an auto-reply was sent once for `dedupe_key`, in the conversation.
pub fn auto_reply_mark(p: &PracticeId, c: &ConversationId, dedupe_key: &str) -> Key {
    Key::new(keys::conversation(p, c), format!("AUTO#{dedupe_key}"))
}
/// A message, in its conversation's partition, oldest first.
pub fn message(p: &PracticeId, c: &ConversationId, at: Timestamp, m: &MessageId) -> Key {
    Key::new(keys::conversation(p, c), keys::message_sk(at, m))
}
/// Where a message of practice `p` lives, from the message itself.
pub fn message_of(p: &PracticeId, m: &crate::domain::Message) -> Key {
    message(p, &m.conversation_id, m.created_at, &m.id)
}
/// A user's inbox entry for a conversation, in its inbox (active or archived), its tab of
/// that kind, and its starred list while starred; newest first in each.
pub fn entry(
    p: &PracticeId,
    user: &UserId,
    c: &ConversationId,
    kind: ConversationKind,
    last_message_at: Timestamp,
    archived: bool,
    starred: bool,
) -> Key {
    let sort = keys::inbox_sort(last_message_at, c);
    let key = Key::new(keys::user(p, user), keys::entry_sk(c))
        .gsi1(keys::inbox(p, user, archived), sort.clone())
        .gsi2(keys::inbox_tab(p, user, kind.as_str(), archived), sort.clone());
    if starred {
        key.gsi3(keys::inbox_starred(p, user), sort)
    } else {
        Key { gsi3sk: Some(sort), ..key }
    }
}
/// A user's read position in a conversation it has no entry for, beside its entries.
pub fn own_state(p: &PracticeId, user: &UserId, c: &ConversationId) -> Key {
    Key::new(keys::user(p, user), keys::own_state_sk(c))
}
/// Page `page` of the back-fill a change of `workgroup`'s members at `at` started.
pub fn membership_backfill(workgroup: &WorkgroupId, at: Timestamp, page: u32) -> Key {
    Key::new(keys::outbox(&format!("{workgroup}#{at}")), keys::backfill_sk(page))
}
/// One blind-index token of inbox search (INBOX-3).
pub fn search_token(p: &PracticeId, token: &str, c: &ConversationId) -> Key {
    Key::new(keys::search_token(p, token), c.to_string())
}
/// A billable message in its month's report (REPLY-2), by time.
pub fn billing(p: &PracticeId, at: Timestamp, m: &MessageId) -> Key {
    Key::new(keys::billing_month(p, &at.month()), format!("{at}#{m}"))
}
/// A reply that stopped a reply clock (SLA-5), listed by time within its month.
pub fn reply_time(p: &PracticeId, at: Timestamp, m: &MessageId) -> Key {
    Key::new(keys::reply_times_month(p, &at.month()), format!("{at}#{m}"))
}
/// An e-visit (EVISIT-1), in its own partition; unlisted once its suggestion is recorded.
pub fn evisit(p: &PracticeId, c: &ConversationId) -> Key {
    Key::new(keys::evisit(p, c), keys::EVISIT_SK)
}
/// An e-visit listed by the end of its window, for the `evisit-windows` job (EVISIT-2).
pub fn evisit_ending(p: &PracticeId, c: &ConversationId, ends: Timestamp) -> Key {
    evisit(p, c).gsi1(keys::evisits_ending(p), format!("{ends}#{c}"))
}
/// One time entry of an e-visit, in its partition by time.
pub fn evisit_time(p: &PracticeId, c: &ConversationId, at: Timestamp) -> Key {
    Key::new(keys::evisit(p, c), format!("{}{at}#{}", keys::EVISIT_TIME_PREFIX, crate::domain::new_id("t")))
}
/// A patient's e-visit consent (EVISIT-3).
pub fn evisit_consent(p: &PracticeId, patient: &UserId) -> Key {
    Key::new(keys::patient(p, patient), keys::EVISIT_CONSENT_SK)
}
/// The practice's request for a patient's e-visit consent (EVISIT-3).
pub fn evisit_consent_request(p: &PracticeId, patient: &UserId) -> Key {
    Key::new(keys::patient(p, patient), keys::EVISIT_CONSENT_REQUEST_SK)
}
/// A patient's E/M visit on a date (EVISIT-3).
pub fn visit(p: &PracticeId, patient: &UserId, date: &str) -> Key {
    Key::new(keys::patient(p, patient), format!("{}{date}", keys::VISIT_PREFIX))
}
/// An e-visit in the list of its opening month (EVISIT-4).
pub fn evisit_in_month(p: &PracticeId, c: &ConversationId, opened: Timestamp) -> Key {
    Key::new(keys::evisits_month(p, &opened.month()), format!("{opened}#{c}"))
}
/// A waiting question's escalation (SLA-4), listed by the time it is due.
pub fn escalation(p: &PracticeId, c: &ConversationId, at: Timestamp) -> Key {
    Key::new(keys::escalation(p, c), keys::ESCALATION_SK).gsi1(keys::escalations_due(p), format!("{at}#{c}"))
}
/// The same, to delete it whatever its time.
pub fn escalation_of(p: &PracticeId, c: &ConversationId) -> Key {
    Key::new(keys::escalation(p, c), keys::ESCALATION_SK)
}
/// An unread reminder (NOTIFY-5), listed by due time.
pub fn reminder(p: &PracticeId, m: &MessageId, due: Timestamp) -> Key {
    Key::new(keys::reminder(p, m), keys::REMINDER_SK).gsi1(keys::reminders_due(p), format!("{due}#{m}"))
}
/// The notifications of a message, for the notifier.
pub fn outbox(m: &MessageId) -> Key {
    Key::new(keys::outbox(m), keys::OUTBOX_SK)
}
/// The entries a conversation's change at `version` still owes its summary.
pub fn summary_refresh(c: &ConversationId, version: u64) -> Key {
    Key::new(keys::outbox(&format!("{c}#v{version}")), keys::REFRESH_SK)
}
/// The entries a deleted conversation still has.
pub fn entry_removal(c: &ConversationId) -> Key {
    Key::new(keys::outbox(&format!("{c}#removal")), keys::REMOVAL_SK)
}
/// The entries of viewers a membership change at `version` took out and had no room for.
pub fn membership_removal(c: &ConversationId, version: u64) -> Key {
    Key::new(keys::outbox(&format!("{c}#v{version}#removal")), keys::REMOVAL_SK)
}
/// The entries a deleted message still counts in.
pub fn message_removal(m: &MessageId) -> Key {
    Key::new(keys::outbox(&format!("{m}#removal")), keys::UNPOST_SK)
}
/// The notification that a message is still unread (NOTIFY-5).
pub fn reminder_outbox(m: &MessageId) -> Key {
    Key::new(keys::outbox(&format!("{m}#reminder")), keys::OUTBOX_SK)
}

/// An upload. `pending_since`: queued for the sweeper until attached (orphans go after 24
/// hours); a copy made for a forward is ready at once.
pub fn attachment(p: &PracticeId, id: &AttachmentId, pending_since: Option<Timestamp>) -> Key {
    let key = Key::new(keys::attachment(p, id), keys::ATTACHMENT_SK);
    match pending_since {
        Some(at) => key.gsi3(keys::attachments_pending(p), format!("{at}#{id}")),
        None => key,
    }
}

/// A draft, in its author's partition: private to them by key (COMPOSE-5).
pub fn draft(p: &PracticeId, author: &UserId, id: &DraftId) -> Key {
    Key::new(keys::user(p, author), keys::draft_sk(id))
}
/// A saved reply: practice-wide ones in the practice's partition, personal ones in their
/// owner's (REPLY-6).
pub fn saved_reply(p: &PracticeId, owner: Option<&UserId>, id: &SavedReplyId) -> Key {
    let pk = match owner {
        Some(user) => keys::user(p, user),
        None => keys::saved_replies(p),
    };
    Key::new(pk, keys::saved_reply_sk(id))
}
/// A task, listed in its assignee's tasks, open ones first, by due date (CONV-7).
pub fn task(p: &PracticeId, id: &TaskId, assignee: &UserId, done: bool, due: &str) -> Key {
    Key::new(keys::task(p, id), keys::TASK_SK).gsi1(keys::tasks_of(p, assignee), keys::task_sort(done, due, id))
}
/// A task's table key, for deleting it with its conversation.
pub fn task_by_id(p: &PracticeId, id: &TaskId) -> Key {
    Key::new(keys::task(p, id), keys::TASK_SK)
}
/// A task's mark in its conversation's partition.
pub fn task_ref(p: &PracticeId, c: &ConversationId, task: &TaskId) -> Key {
    Key::new(keys::conversation(p, c), keys::task_ref_sk(task))
}
/// A practice's claim on a two-way SMS number (NOTIFY-4).
pub fn sms_number(number: &str) -> Key {
    Key::new(keys::sms_number(number), keys::SMS_NUMBER_SK)
}
/// The latest SMS exchanged with a phone number, by the number's blind token (NOTIFY-4).
pub fn sms_peer(p: &PracticeId, token: &str) -> Key {
    Key::new(keys::sms_peer(p, token), keys::SMS_PEER_SK)
}

/// The first answer to an `Idempotency-Key`, in the caller's own key space.
pub fn idempotency(p: &PracticeId, caller: &UserId, key_hash: &str) -> Key {
    Key::new(keys::idempotency(p, caller, key_hash), keys::IDEMPOTENCY_SK)
}
/// How a message refers to the answer that holds its body (`Message::answer_pk`), so
/// deleting the message takes it along.
pub fn answer_reference(p: &PracticeId, caller: &UserId, key_hash: &str) -> String {
    keys::idempotency(p, caller, key_hash)
}

/// The answer a message refers to (`answer_reference`).
pub fn answer(reference: &str) -> Key {
    Key::new(reference.to_string(), keys::IDEMPOTENCY_SK)
}

/// Where a new audit event goes, from the event itself: its record's chain, sorted by time,
/// listed per patient where it concerns one.
pub(super) fn audit_event_of(e: &crate::domain::AuditEvent) -> Key {
    audit_event(&e.practice_id, &e.record_type, &e.record_id, e.patient_id.as_deref(), &format!("{}#{}", e.at, e.id))
}
fn audit_event(p: &PracticeId, record_type: &str, record_id: &str, patient: Option<&str>, sort: &str) -> Key {
    let key = Key::new(keys::audit(p, &keys::audit_scope(record_type, record_id)), sort.to_string());
    match patient {
        Some(pat) => key.gsi1(keys::audit_by_patient(p, pat), sort.to_string()),
        None => key,
    }
}

/// What an inserted item is, by the keys a stream record carries: the stream consumers take
/// only what concerns them (template.yaml filters the same way before Lambda is invoked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Streamed {
    /// A message's (or a reminder's) notifications, for the notifier.
    Outbox(Key),
    /// A conversation's summary for the entries its change had no room for, for the notifier.
    SummaryRefresh(Key),
    /// A deleted conversation's entries its transaction had no room for, for the notifier.
    EntryRemoval(Key),
    /// A deleted message, for the entries its transaction had no room for, for the notifier.
    MessageRemoval(Key),
    /// A page of a workgroup's membership back-fill, for the notifier.
    MembershipBackfill(Key),
    /// An audit event, for the audit chain: its chain and its place in the chain.
    AuditEvent {
        chain: String,
        sort: String,
    },
    Other,
}

pub fn streamed(pk: String, sk: String) -> Streamed {
    if pk.starts_with(keys::OUTBOX_PREFIX) && sk == keys::REFRESH_SK {
        Streamed::SummaryRefresh(Key::new(pk, sk))
    } else if pk.starts_with(keys::OUTBOX_PREFIX) && sk == keys::REMOVAL_SK {
        Streamed::EntryRemoval(Key::new(pk, sk))
    } else if pk.starts_with(keys::OUTBOX_PREFIX) && sk == keys::UNPOST_SK {
        Streamed::MessageRemoval(Key::new(pk, sk))
    } else if pk.starts_with(keys::OUTBOX_PREFIX) && sk.starts_with(keys::BACKFILL_SK_PREFIX) {
        Streamed::MembershipBackfill(Key::new(pk, sk))
    } else if pk.starts_with(keys::OUTBOX_PREFIX) {
        Streamed::Outbox(Key::new(pk, sk))
    } else if pk.contains(keys::AUDIT_INFIX) {
        Streamed::AuditEvent { chain: pk, sort: sk }
    } else {
        Streamed::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Sealed, Task};

    fn task_key(done: bool) -> Key {
        let p = PracticeId::from_stored("prc_1");
        task(&p, &crate::domain::TaskId::from_stored("tsk_1"), &UserId::from_stored("usr_a"), done, "2026-12-02")
    }

    fn task_item(done: bool) -> Task {
        Task {
            id: crate::domain::TaskId::from_stored("tsk_1"),
            conversation_id: ConversationId::from_stored("cnv_1"),
            message_id: MessageId::from_stored("msg_1"),
            title: Sealed(vec![0, 159, 146, 150]),
            assignee_id: UserId::from_stored("usr_a"),
            due_date: "2026-12-02".into(),
            done,
            created_by: UserId::from_stored("usr_b"),
            created_at: "2026-12-01T10:00:00.000000Z".parse().unwrap(),
        }
    }

    /// The key attributes are stored beside the record's own, named as the table and its
    /// indexes name them, and a stored item reads back whole, key and record (numbers,
    /// binary, booleans intact).
    #[test]
    fn a_keyed_record_is_stored_flat_and_reads_back_whole() {
        let item = crate::store::to_item(&task_key(true), &task_item(true)).unwrap();
        for attribute in ["pk", "sk", "gsi1pk", "gsi1sk", "id", "title", "done", "dueDate"] {
            assert!(item.contains_key(attribute), "{attribute} missing");
        }
        assert!(!item.contains_key("key") && !item.contains_key("gsi2pk"));
        let (key, back): (Key, Task) = crate::store::keyed_from_item(item).unwrap();
        assert_eq!(key, task_key(true));
        assert_eq!((back.title, back.done), (task_item(true).title, true));
    }

    /// A task's place in its assignee's list moves when it is done (open ones first).
    #[test]
    fn a_done_task_sorts_after_open_ones() {
        let (open, done) = (task_key(false), task_key(true));
        assert_eq!((&open.pk, &open.gsi1pk), (&done.pk, &done.gsi1pk));
        assert!(open.gsi1sk < done.gsi1sk);
    }

    #[test]
    fn stream_records_are_told_apart_by_their_keys() {
        let outbox = outbox(&MessageId::from_stored("msg_1"));
        assert_eq!(streamed(outbox.pk.clone(), outbox.sk.clone()), Streamed::Outbox(outbox));
        let refresh = summary_refresh(&ConversationId::from_stored("cnv_1"), 7);
        assert_eq!(streamed(refresh.pk.clone(), refresh.sk.clone()), Streamed::SummaryRefresh(refresh));
        let removal = entry_removal(&ConversationId::from_stored("cnv_1"));
        assert_eq!(streamed(removal.pk.clone(), removal.sk.clone()), Streamed::EntryRemoval(removal));
        let unpost = message_removal(&MessageId::from_stored("msg_1"));
        assert_eq!(streamed(unpost.pk.clone(), unpost.sk.clone()), Streamed::MessageRemoval(unpost));
        let event = audit_event(&PracticeId::from_stored("prc_1"), "conversation", "cnv_1", None, "t#aud_1");
        assert!(matches!(streamed(event.pk, event.sk), Streamed::AuditEvent { .. }));
        assert_eq!(streamed("PRAC#prc_1#CONV#cnv_1".into(), "META".into()), Streamed::Other);
    }
}
