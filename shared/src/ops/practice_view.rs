//! GET /inbox?tab=practice (ROLE-2 at scale): every conversation the caller may open, for the
//! admin and provider classes, from the practice's index of conversations. A page is one
//! Query of that index and one BatchGetItem of the caller's own state in its conversations
//! (its entry where it has one, else its read position), whatever the size of the practice;
//! a user who joined the class today finds everything at once. Search (`q`) reads the
//! practice's token partition as the inbox's search does and keeps every hit the caller may
//! open, with its own state.

use super::inbox::{answer_page, open_cursor, passes_filters, HitRows, InboxQuery};
use crate::app::{App, RequestCtx};
use crate::domain::InboxView;
use crate::domain::{Caller, ConversationId, RoleClass};
use crate::domain::{Conversation, InboxEntry, LatestMessage, OwnState};
use crate::error::{Error, Result};
use crate::store::OwnStates;
use crate::views::{InboxItemView, Page};

/// Two keys of own state per row must fit in one BatchGetItem (100 keys).
pub const MAX_LIMIT: usize = 50;

pub async fn list(app: &App, ctx: &RequestCtx, q: InboxQuery) -> Result<Page<InboxItemView>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let provider = match caller.class() {
        RoleClass::Admin => false,
        RoleClass::Provider => true,
        _ => return Err(Error::Forbidden("the practice-wide view is for the admin and provider classes".into())),
    };
    if q.limit > MAX_LIMIT {
        return Err(Error::invalid("limit", format!("limit must be a number from 1 to {MAX_LIMIT} with tab=practice")));
    }
    let after = match &q.cursor {
        Some(c) => Some(open_cursor(app, ctx, &q, c).await?),
        None => None,
    };
    if let Some(typed) = &q.search {
        super::budgets::spend(app, ctx, super::budgets::Expensive::Search).await?;
        let rows = practice_rows(app, caller, &q.view);
        let (rows, next) = super::inbox::search_page(app, ctx, typed, q.limit, after.as_ref(), rows).await?;
        return answer_page(app, ctx, &q, &rows, next).await;
    }
    let (found, next) = app.store.practice_page(p, &caller.user_id, provider, &q.view, q.limit, after.as_ref()).await?;
    let ids: Vec<ConversationId> = found.iter().map(|c| c.id.clone()).collect();
    let mut own = app.store.own_states(p, &caller.user_id, &ids).await?;
    let rows: Vec<InboxEntry> = own_rows(caller, found.iter(), &mut own)
        .into_iter()
        .filter(|row| q.view.unread.is_none_or(|unread| unread == (row.unread > 0)))
        .collect();
    answer_page(app, ctx, &q, &rows, next).await
}

/// Search hits in the practice-wide view (INBOX-3 over ROLE-2): every hit the caller may open,
/// its own entry where it has one, else the conversation's row with its own state.
fn practice_rows<'a>(app: &'a App, caller: &'a Caller, view: &'a InboxView) -> HitRows<'a> {
    Box::new(move |hits: Vec<ConversationId>| {
        Box::pin(async move {
            let p = &caller.practice_id;
            let (records, mut own) = app.store.conversations_and_own_states(p, &caller.user_id, &hits, true).await?;
            let rows = own_rows(caller, hits.iter().filter_map(|c| records.get(c)), &mut own);
            Ok(rows.into_iter().filter(|row| passes_filters(row, view, &caller.user_id)).collect())
        })
    })
}

/// The caller's row of each conversation it may open (ROLE-2's own rule decides, whatever
/// an index's filter narrowed): its own entry where it has one, else the conversation's row
/// with its own state.
fn own_rows<'c>(
    caller: &Caller,
    conversations: impl Iterator<Item = &'c Conversation>,
    own: &mut OwnStates,
) -> Vec<InboxEntry> {
    conversations
        .filter(|c| crate::policy::can_see(caller, &super::facts(c)))
        .map(|c| match own.entries.remove(&c.id) {
            Some(entry) => entry,
            None => row_without_entry(c, own.marks.get(&c.id)),
        })
        .collect()
}

/// The row of a conversation the caller has no entry for: the conversation's own summary and
/// latest message, its own flags, and as unread every message since the caller last opened
/// it (all of them, if never).
pub(crate) fn row_without_entry(c: &Conversation, own: Option<&OwnState>) -> InboxEntry {
    let read_count = own.map_or(0, |r| r.read_count);
    let latest = c.latest.clone();
    InboxEntry {
        conversation_id: c.id.clone(),
        summary: c.summary.clone(),
        summary_version: c.version,
        last_message_at: c.last_message_at,
        preview: latest.as_ref().map(|l| l.preview.clone()).unwrap_or_default(),
        last_sender: latest.as_ref().map(|l| l.sender.clone()).unwrap_or_else(|| system_sender(c)),
        urgent: latest.as_ref().is_some_and(|l| l.priority == crate::domain::Priority::Urgent),
        last_priority: latest.as_ref().map(|l: &LatestMessage| l.priority),
        message_count: c.message_count,
        unread: c.message_count.saturating_sub(read_count),
        starred: own.is_some_and(|o| o.starred),
        archived: own.is_some_and(|o| o.archived),
        last_read_at: own.and_then(|o| o.at),
        unposted: Vec::new(),
        reply_due: c.reply_clock.as_ref().map(|clock| clock.due.clone()),
    }
}

/// A conversation written before conversations kept their latest message: its creator.
fn system_sender(c: &Conversation) -> crate::domain::SenderRef {
    crate::domain::SenderRef {
        kind: if c.created_by.is_patient() {
            crate::domain::SenderKind::Patient
        } else {
            crate::domain::SenderKind::Staff
        },
        id: c.created_by.clone(),
        name: None,
        masked: false,
    }
}
