//! What an inbox page asks for and what an inbox holds (INBOX-2, INBOX-4): a tab and its
//! filters, a page position, the caller's own flags, and the counters. The store answers
//! these; it does not define them.

use super::{ConversationKind, Priority, Timestamp};

/// Which index partition an inbox page reads (INBOX-2 tabs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxTab {
    /// Everything not archived (the All tab).
    Active,
    Archived,
    /// One kind of conversation: `patient`, `team` or `broadcast`.
    Kind(ConversationKind),
    Starred,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignedFilter {
    Me,
    Others,
}

/// A tab with its filters (INBOX-2). Dates are RFC 3339 bounds on the latest activity.
#[derive(Clone, Debug)]
pub struct InboxView {
    pub tab: InboxTab,
    pub unread: Option<bool>,
    pub assigned: Option<AssignedFilter>,
    pub priority: Option<Priority>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// SLA-3: conversations whose reply falls due in this window.
    pub due: Option<DueWindow>,
    /// SLA-3: the soonest due first (only conversations owed a reply), instead of the newest
    /// activity first.
    pub by_due: bool,
}

/// A window of reply due times: after `after` (when set), up to and including `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueWindow {
    pub after: Option<Timestamp>,
    pub until: Timestamp,
}

/// The caller's own flags to change (PUT /conversations/{id}/state).
#[derive(Clone, Copy, Debug, Default)]
pub struct StateChange {
    pub starred: Option<bool>,
    pub archived: Option<bool>,
    pub unread: Option<bool>,
}

impl StateChange {
    /// The unread count this change leaves, if it changes it: marked unread shows at least
    /// one unread message, and a higher count stays.
    pub fn unread_count(&self, current: u64) -> Option<u64> {
        self.unread.map(|u| if u { current.max(1) } else { 0 })
    }
}

/// A page position in the inbox: the last entry's sort key (GSI1) and its conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxPosition {
    pub sort: String,
    pub conversation_id: String,
}

/// A user's inbox counters (INBOX-4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxStats {
    pub conversations: u64,
    pub unread_messages: u64,
    pub unique_patients: u64,
    pub messages: u64,
}

/// A change to a user's inbox counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsDelta {
    pub conversations: i64,
    pub messages: i64,
    pub unread: i64,
    pub patients: i64,
}
