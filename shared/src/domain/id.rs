//! Opaque ids and their prefixes.

use crate::error::{Error, Result};

/// Opaque ids: a known prefix and a short run of safe characters, so an id from a path or
/// body can never smuggle a key separator (`#`) or a path trick into a key.
pub fn parse_id(field: &str, prefix: &str, raw: &str) -> Result<String> {
    let rest = raw.strip_prefix(prefix).unwrap_or("");
    let ok = !rest.is_empty()
        && raw.len() <= 64
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(Error::invalid(field, format!("`{field}` is not a valid id")))
    }
}

/// A new id: the prefix, then 48 bits of milliseconds and 80 random bits in Crockford
/// base32, like a ULID. Ids sort by creation time, so keys that embed them stay in creation
/// order.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

pub fn new_id(prefix: &str) -> String {
    let millis = jiff::Timestamp::now().as_millisecond() as u128;
    let mut random = [0u8; 10];
    aws_lc_rs::rand::fill(&mut random).expect("system random source");
    let mut value: u128 = millis << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
    let mut out = String::with_capacity(prefix.len() + 26);
    out.push_str(prefix);
    for i in (0..26).rev() {
        out.push(ALPHABET[((value >> (5 * i)) & 31) as usize] as char);
    }
    out
}

pub const PRACTICE_ID: &str = "prc_";
pub const STAFF_ID: &str = "usr_";
pub const PATIENT_ID: &str = "pat_";
pub const WORKGROUP_ID: &str = "wg_";
pub const CONVERSATION_ID: &str = "cnv_";
pub const MESSAGE_ID: &str = "msg_";
pub const ATTACHMENT_ID: &str = "att_";
pub const DRAFT_ID: &str = "drf_";
pub const TASK_ID: &str = "tsk_";
pub const SAVED_REPLY_ID: &str = "rpl_";

/// A typed id: its prefix, parsing (`parse_id`), a fresh one (`new`), and the stored string.
/// It reads as a `&str` where text is wanted (keys, formats, logs of ids), but one kind of id
/// cannot be passed where another is asked for: a store method that takes a practice and a
/// conversation cannot be given them the wrong way round.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:expr) => {
        typed_id!($(#[$doc])* $name, $prefix, [$prefix]);
    };
    ($(#[$doc:meta])* $name:ident, $prefix:expr, [$($accepted:expr),+]) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix of a new id.
            pub const PREFIX: &'static str = $prefix;

            /// An id from a request: refused by name of the field unless well formed, with
            /// one of the kind's prefixes.
            pub fn parse(field: &str, raw: &str) -> Result<Self> {
                let prefix = [$($accepted),+].into_iter().find(|p| raw.starts_with(*p)).unwrap_or($prefix);
                parse_id(field, prefix, raw).map(Self)
            }

            /// A new id, sortable by time.
            pub fn new() -> Self {
                Self(new_id($prefix))
            }

            /// An id read back from the table or a token, where it was written well formed.
            pub fn from_stored(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }
    };
}

typed_id!(
    /// A practice (the tenant every key begins with).
    PracticeId,
    PRACTICE_ID
);
typed_id!(
    /// A conversation of a practice.
    ConversationId,
    CONVERSATION_ID
);
typed_id!(
    /// A message of a conversation.
    MessageId,
    MESSAGE_ID
);
typed_id!(
    /// An uploaded file (ATT-1), attached to at most one message.
    AttachmentId,
    ATTACHMENT_ID
);
typed_id!(
    /// A workgroup of staff (GROUP-1), addressed like a user.
    WorkgroupId,
    WORKGROUP_ID
);
typed_id!(
    /// An unsent message of one author (COMPOSE-5).
    DraftId,
    DRAFT_ID
);
typed_id!(
    /// A task on a conversation (CONV-7).
    TaskId,
    TASK_ID
);
typed_id!(
    /// A saved reply template (REPLY-6).
    SavedReplyId,
    SAVED_REPLY_ID
);
typed_id!(
    /// A user: a staff user (`usr_`) or a patient (`pat_`). Both take part in conversations
    /// (viewers, senders, readers), so one type carries either; `is_patient` tells them apart.
    UserId,
    STAFF_ID,
    [STAFF_ID, PATIENT_ID]
);

impl UserId {
    pub fn is_patient(&self) -> bool {
        self.0.starts_with(PATIENT_ID)
    }
    /// A staff user's id from a request (`usr_` only).
    pub fn parse_staff(field: &str, raw: &str) -> Result<Self> {
        parse_id(field, STAFF_ID, raw).map(Self)
    }
    /// A patient's id from a request (`pat_` only).
    pub fn parse_patient(field: &str, raw: &str) -> Result<Self> {
        parse_id(field, PATIENT_ID, raw).map(Self)
    }
    /// A new patient's id (`new` makes a staff user's).
    pub fn new_patient() -> Self {
        Self(new_id(PATIENT_ID))
    }
}
