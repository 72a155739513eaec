//! The conversation routes, one file per route family; `message` parses what every message
//! request shares, `thread` begins a conversation and `post` is the one path by which every
//! message enters one. Compose (COMPOSE-1..4), reply (REPLY-1, CONV-5), read a thread (CONV-1,
//! CONV-2), assign (ASSIGN-1, ASSIGN-2, ROLE-4), state, forward, broadcasts, deletion and
//! retention, auto-replies and texts.

use super::{
    active_staff, claim_idempotency, commit_created, inbox_holders, search, staff_members, visible_conversation,
    Created,
};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::*;
use crate::error::{Error, Result};

use crate::domain::Directory;
use crate::domain::StatsDelta;
use crate::policy;
use crate::receipts;
use crate::store::{place, Key, Tx};
use crate::views::{
    AssignmentView, BroadcastSent, BroadcastView, ConversationChanged, InboxItemView, MessagePosted, Renderer,
    ThreadStarted, ThreadView,
};
use serde::Deserialize;

mod appended;
mod assign;
mod broadcast;
mod compose;
mod delete;
mod forward;
mod late;
mod message;
mod post;
mod promise;
mod read;
mod reply;
mod state;
mod thread;
mod withdraw;

pub(crate) use appended::*;
pub use assign::*;
pub use broadcast::*;
pub use compose::*;
pub use delete::*;
pub use forward::*;
pub use late::{refresh_summaries, remove_entries, remove_message, write_late_entries};
pub use message::*;
pub use read::*;
pub use reply::*;
pub use state::*;
pub use withdraw::*;
