//! Domain values: parsed once at the boundary ("parse, don't validate"), so the core never
//! handles an unchecked string. Nothing here knows AWS or HTTP.
//!
//! - `people`: roles, the caller, names, phone numbers, email, notification channels.
//! - `id`: opaque ids and their prefixes. Every stored thing's id has a type of its own
//!   (`PracticeId`, `ConversationId`, `MessageId`, `UserId` for staff or patient,
//!   `AttachmentId`, `WorkgroupId`, `DraftId`, `TaskId`, `SavedReplyId`), so one cannot be
//!   passed for another:
//!
//! ```
//! use carethread_core::domain::{ConversationId, PracticeId};
//! fn open(_practice: &PracticeId, _conversation: &ConversationId) {}
//! let (practice, conversation) = (PracticeId::new(), ConversationId::new());
//! open(&practice, &conversation);
//! ```
//!
//! ```compile_fail,E0308
//! use carethread_core::domain::{ConversationId, PracticeId};
//! fn open(_practice: &PracticeId, _conversation: &ConversationId) {}
//! let (practice, conversation) = (PracticeId::new(), ConversationId::new());
//! open(&conversation, &practice); // the wrong way round does not compile
//! ```
//!
//! ```compile_fail,E0308
//! use carethread_core::domain::{PracticeId, UserId};
//! fn inbox_of(_practice: &PracticeId, _user: &UserId) {}
//! let practice = PracticeId::new();
//! inbox_of(&practice, &practice); // a practice is not a user
//! ```
//! - `inbox`: what an inbox page asks for (tab, filters, position), the caller's own flags,
//!   and the inbox counters.
//! - `time`: `Timestamp`, stored and answered as fixed-width RFC 3339 UTC, and calendar dates.
//! - `message`: conversation kind and status, priority, subject, body, recipients, context, delivery
//!   status, attachment status,
//!   saved-reply scope.
//!
//! What the practice keeps, as the store keeps it: each a value with no key, PHI fields sealed
//! (`Sealed`). Where one lives in the table (its key, its indexes) is the store's alone: a
//! `store::Key` is opaque, `store::place` says where a value of each kind goes, and the store
//! writes the key attributes beside the value's own and drops them on reading it back.
//! - `conversation`: a conversation, its messages, every viewer's inbox entry and own state,
//!   attachments, billable messages, reply times and pending escalations.
//! - `directory`: staff, workgroups, patients, a patient's pending rename and finder tokens.
//! - `practice`: the practice and its settings.
//! - `workspace`: a user's drafts, tasks and saved replies, and the stored first answer of an
//!   `Idempotency-Key`.
//! - `delivery`: notifications to send (the outbox), reminders, SMS numbers and peers, and what
//!   a change leaves to the notifier (late entries, summary refreshes, removals, back-fills).
//! - `evisits`: e-visits, their time entries, consent and visits (EVISIT-1..4).
//! - `audit_trail`: audit events and the head of their chain (SEC-2).

mod audit_trail;
mod conversation;
mod delivery;
mod directory;
mod evisits;
mod id;
mod inbox;
mod message;
mod people;
mod practice;
mod time;
mod workspace;

pub use audit_trail::*;
pub use conversation::*;
pub use delivery::*;
pub use directory::*;
pub use evisits::*;
pub use id::*;
pub use inbox::*;
pub use message::*;
pub use people::*;
pub use practice::*;
pub use time::*;
pub use workspace::*;

/// An envelope-encrypted value (see `crypto`), stored as a DynamoDB binary attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Sealed(#[serde(with = "serde_bytes")] pub Vec<u8>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn role_1_classes() {
        for (role, class) in [
            ("admin", RoleClass::Admin),
            ("practice_manager", RoleClass::Admin),
            ("physician", RoleClass::Provider),
            ("nurse_practitioner", RoleClass::Provider),
            ("physician_assistant", RoleClass::Provider),
            ("nurse", RoleClass::Staff),
            ("medical_assistant", RoleClass::Staff),
            ("front_desk", RoleClass::Staff),
            ("biller", RoleClass::Staff),
            ("therapist", RoleClass::Staff),
            ("patient", RoleClass::Patient),
        ] {
            assert_eq!(Role::parse(role).unwrap().class(), class, "{role}");
            assert_eq!(Role::parse(role).unwrap().as_str(), role);
        }
        assert!(Role::parse("Admin").is_err());
        assert!(Role::parse("").is_err());
    }

    #[test]
    fn typed_ids_parse_by_their_own_prefix() {
        assert_eq!(PracticeId::parse("p", "prc_abc").unwrap(), "prc_abc");
        assert!(PracticeId::parse("p", "cnv_abc").is_err(), "a conversation id is not a practice id");
        assert!(ConversationId::parse("c", "cnv_a#b").is_err());
        assert!(ConversationId::new().starts_with(ConversationId::PREFIX));
        assert!(MessageId::parse("m", "msg_1").is_ok() && MessageId::parse("m", "cnv_1").is_err());
    }

    #[test]
    fn a_user_id_is_a_staff_or_a_patient_id() {
        assert!(UserId::parse("u", "usr_1").is_ok() && UserId::parse("u", "pat_1").is_ok());
        assert!(UserId::parse("u", "prc_1").is_err(), "a practice is not a user");
        assert!(UserId::parse_staff("u", "pat_1").is_err() && UserId::parse_patient("u", "usr_1").is_err());
        assert!(UserId::new_patient().is_patient() && !UserId::new().is_patient());
    }

    /// Stored and answered as the words they always were: the type changed, the wire did not.
    #[test]
    fn sender_kinds_keep_their_stored_names() {
        for kind in [SenderKind::Staff, SenderKind::Patient, SenderKind::System, SenderKind::Sms] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(serde_json::from_value::<SenderKind>(kind.as_str().into()).unwrap(), kind);
        }
    }

    #[test]
    fn every_kind_of_id_has_its_own_prefix() {
        assert!(AttachmentId::parse("a", "att_1").is_ok() && AttachmentId::parse("a", "drf_1").is_err());
        assert!(DraftId::parse("d", "drf_1").is_ok() && DraftId::parse("d", "tsk_1").is_err());
        assert!(TaskId::parse("t", "tsk_1").is_ok() && TaskId::parse("t", "rpl_1").is_err());
        assert!(SavedReplyId::parse("r", "rpl_1").is_ok() && SavedReplyId::parse("r", "wg_1").is_err());
        assert!(WorkgroupId::parse("w", "wg_1").is_ok() && WorkgroupId::parse("w", "usr_1").is_err());
        assert!(TaskId::new().starts_with("tsk_") && DraftId::new().starts_with("drf_"));
    }

    /// The enums are stored and answered as the words the strings were.
    #[test]
    fn stored_enums_keep_their_words() {
        let words = |v: serde_json::Value| v.as_str().unwrap().to_string();
        for s in
            [AttachmentStatus::Pending, AttachmentStatus::Ready, AttachmentStatus::Rejected, AttachmentStatus::Expired]
        {
            assert_eq!(words(serde_json::to_value(s).unwrap()), s.as_str());
        }
        for k in [ContextKind::Visit, ContextKind::Invoice, ContextKind::Document] {
            assert_eq!(ContextKind::parse(&words(serde_json::to_value(k).unwrap())).unwrap(), k);
        }
        assert!(ContextKind::parse("lab").is_err());
        for scope in [SavedReplyScope::Personal, SavedReplyScope::Practice] {
            assert_eq!(SavedReplyScope::parse(&words(serde_json::to_value(scope).unwrap())).unwrap(), scope);
        }
        assert_eq!(serde_json::to_value(DeliveryStatus::Delivered).unwrap(), "delivered");
    }

    /// CONV-2: a message is as far along as its least advanced recipient.
    #[test]
    fn conv_2_delivery_statuses_are_ordered() {
        assert!(DeliveryStatus::Sent < DeliveryStatus::Delivered && DeliveryStatus::Delivered < DeliveryStatus::Read);
    }

    #[test]
    fn ids_cannot_carry_key_separators_or_paths() {
        assert!(parse_id("id", CONVERSATION_ID, "cnv_01ABC").is_ok());
        for bad in ["cnv_", "cnv_a#b", "cnv_../x", "msg_1", "cnv_a/b", "cnv_ a"] {
            assert!(parse_id("id", CONVERSATION_ID, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compose_7_subject_is_required_and_named() {
        let e = Subject::parse(Some("   ")).unwrap_err();
        assert!(matches!(e, Error::Invalid { ref field, .. } if field == "subject"));
        assert_eq!(Subject::parse(Some(" Lab results ")).unwrap().as_str(), "Lab results");
    }

    #[test]
    fn compose_7_body_limits_apply() {
        let limits = BodyLimits { min_chars: 2, max_chars: 5 };
        assert!(matches!(Body::parse(Some("a"), limits), Err(Error::Invalid { .. })));
        assert!(matches!(Body::parse(Some("abcdef"), limits), Err(Error::TooLarge { .. })));
        assert!(Body::parse(Some("abc"), limits).is_ok());
    }

    #[test]
    fn phi_types_do_not_debug_print_their_text() {
        let b = Body::parse(Some("Jane has diabetes"), BodyLimits::default()).unwrap();
        assert!(!format!("{b:?}").contains("Jane"));
        let s = Subject::parse(Some("Jane Smith labs")).unwrap();
        assert!(!format!("{s:?}").contains("Jane"));
    }
}
