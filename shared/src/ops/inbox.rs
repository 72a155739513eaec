//! GET /inbox and GET /inbox/stats (INBOX-1, INBOX-4, INBOX-5). A page is one Query on the
//! caller's own inbox index plus one transaction (the audit event, with the SEC-4 check of
//! the caller as its condition): two calls, whatever the size of the practice.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::InboxEntry;
use crate::domain::Timestamp;
use crate::domain::{AssignedFilter, DueWindow, InboxPosition, InboxTab, InboxView};
use crate::domain::{ConversationId, ConversationKind, Priority, UserId};
use crate::error::{Error, Result};
use crate::ops::{cursor, search};
use crate::views::{InboxItemView, InboxStatsView, Page, Renderer};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;

/// The tabs of INBOX-2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tab {
    All,
    Patient,
    Team,
    Broadcasts,
    Starred,
    Archived,
    /// ROLE-2 at scale: every conversation the caller may open (admin and provider class).
    Practice,
}

impl Tab {
    fn parse(s: &str) -> Result<Tab> {
        Ok(match s {
            "all" => Tab::All,
            "patient" => Tab::Patient,
            "team" => Tab::Team,
            "broadcasts" => Tab::Broadcasts,
            "starred" => Tab::Starred,
            "archived" => Tab::Archived,
            "practice" => Tab::Practice,
            _ => {
                return Err(Error::invalid(
                    "tab",
                    "tab must be one of all, patient, team, broadcasts, starred, archived, practice",
                ))
            }
        })
    }

    fn index(self) -> InboxTab {
        match self {
            Tab::All | Tab::Practice => InboxTab::Active,
            Tab::Patient => InboxTab::Kind(ConversationKind::Patient),
            Tab::Team => InboxTab::Kind(ConversationKind::Team),
            Tab::Broadcasts => InboxTab::Kind(ConversationKind::Broadcast),
            Tab::Starred => InboxTab::Starred,
            Tab::Archived => InboxTab::Archived,
        }
    }
}

#[derive(Clone, Debug)]
pub struct InboxQuery {
    pub tab: Tab,
    pub view: InboxView,
    /// INBOX-3: what the user typed, searched by prefix over what the caller may see.
    pub search: Option<String>,
    pub limit: usize,
    pub cursor: Option<String>,
    /// SLA-3: only conversations whose reply is due in this window (made a `DueWindow` when
    /// the request's clock and the practice's zone are known).
    pub due: Option<DueFilter>,
}

/// SLA-3: `due=overdue` (the due time has passed), `today` (due later today, in the
/// practice's time zone) or `soon` (due within the next four hours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueFilter {
    Overdue,
    Today,
    Soon,
}

impl DueFilter {
    fn parse(v: &str) -> Result<DueFilter> {
        match v {
            "overdue" => Ok(DueFilter::Overdue),
            "today" => Ok(DueFilter::Today),
            "soon" => Ok(DueFilter::Soon),
            _ => Err(Error::invalid("due", "due must be one of overdue, today, soon")),
        }
    }

    /// The window of due times it means at `now` for a practice in `tz`.
    pub fn window(self, now: Timestamp, tz: &jiff::tz::TimeZone) -> Result<DueWindow> {
        Ok(match self {
            DueFilter::Overdue => DueWindow { after: None, until: now },
            DueFilter::Soon => {
                DueWindow { after: Some(now), until: now + crate::domain::SignedDuration::from_hours(4) }
            }
            DueFilter::Today => {
                let tomorrow = now.as_jiff().to_zoned(tz.clone()).date().tomorrow().map_err(Error::internal)?;
                let midnight = tomorrow.at(0, 0, 0, 0).to_zoned(tz.clone()).map_err(Error::internal)?.timestamp();
                DueWindow { after: Some(now), until: Timestamp::from_jiff(midnight) }
            }
        })
    }
}

fn parse_bool(field: &str, v: &str) -> Result<bool> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid(field, format!("`{field}` must be true or false"))),
    }
}

impl InboxQuery {
    /// Parses the query string of GET /inbox (API.md).
    pub fn parse(params: &[(String, String)]) -> Result<InboxQuery> {
        let mut tab = Tab::All;
        let mut view = InboxView {
            tab: InboxTab::Active,
            unread: None,
            assigned: None,
            priority: None,
            from: None,
            to: None,
            due: None,
            by_due: false,
        };
        let mut due = None;
        let mut limit = DEFAULT_LIMIT;
        let mut cursor = None;
        let mut search = None;
        for (k, v) in params {
            match k.as_str() {
                "tab" => tab = Tab::parse(v)?,
                "unread" => view.unread = Some(parse_bool("unread", v)?),
                "assigned" => {
                    view.assigned = Some(match v.as_str() {
                        "me" => AssignedFilter::Me,
                        "others" => AssignedFilter::Others,
                        _ => return Err(Error::invalid("assigned", "assigned must be `me` or `others`")),
                    })
                }
                "priority" => view.priority = Some(Priority::parse(v)?),
                "due" => due = Some(DueFilter::parse(v)?),
                "sort" => {
                    view.by_due = match v.as_str() {
                        "latest" => false,
                        "due" => true,
                        _ => return Err(Error::invalid("sort", "sort must be `latest` or `due`")),
                    }
                }
                "from" => view.from = Some(crate::domain::Timestamp::parse("from", v)?),
                "to" => view.to = Some(crate::domain::Timestamp::parse("to", v)?),
                "q" => search = Some(v.clone()),
                "limit" => {
                    limit = v.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                        Error::invalid("limit", format!("limit must be a number from 1 to {MAX_LIMIT}"))
                    })?
                }
                "cursor" => cursor = Some(v.clone()),
                other => {
                    return Err(Error::BadRequest {
                        detail: format!("unknown query parameter `{other}`"),
                        field: Some(other.to_string()),
                    })
                }
            }
        }
        if let (Some(f), Some(t)) = (&view.from, &view.to) {
            if f > t {
                return Err(Error::invalid("from", "`from` is after `to`"));
            }
        }
        // SLA-3: the due order is of the conversations owed a reply, across the caller's tabs.
        if view.by_due && (tab != Tab::All || view.from.is_some() || view.to.is_some() || search.is_some()) {
            return Err(Error::invalid("sort", "sort=due lists the All tab, without from, to or q"));
        }
        view.tab = tab.index();
        Ok(InboxQuery { tab, view, search, limit, cursor, due })
    }
}

/// What an inbox cursor holds: the last row's sort key and conversation. Its list is the
/// tab (`inbox/<tab>`), so a cursor of one tab does not open another's.
#[derive(Serialize, Deserialize)]
struct CursorPayload {
    sort: String,
    conversation: String,
}

impl InboxQuery {
    /// The list a cursor of this query pages: its tab and its order, so that a cursor of one
    /// does not open another.
    fn cursor_list(&self) -> String {
        format!("inbox/{:?}{}", self.tab, if self.view.by_due { "/due" } else { "" })
    }
}

async fn seal_cursor(app: &App, ctx: &RequestCtx, q: &InboxQuery, pos: &InboxPosition) -> Result<String> {
    let payload = CursorPayload { sort: pos.sort.clone(), conversation: pos.conversation_id.clone() };
    cursor::seal(app, ctx, &q.cursor_list(), &payload).await
}

pub(super) async fn open_cursor(app: &App, ctx: &RequestCtx, q: &InboxQuery, raw: &str) -> Result<InboxPosition> {
    let payload: CursorPayload = cursor::open(app, ctx, &q.cursor_list(), raw).await?;
    Ok(InboxPosition { sort: payload.sort, conversation_id: payload.conversation })
}

/// GET /inbox.
pub async fn list(app: &App, ctx: &RequestCtx, mut q: InboxQuery) -> Result<Page<InboxItemView>> {
    if q.search.is_some() {
        // Only a caller who still acts spends a search budget (a write before the page).
        app.ensure_active(ctx, false).await?;
    }
    if q.tab == Tab::Practice {
        if q.due.is_some() {
            return Err(Error::invalid("due", "due filters apply to your own inbox, not the practice view"));
        }
        return super::practice_view::list(app, ctx, q).await;
    }
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    if let Some(due) = q.due {
        let tz = app.practice_time_zone(p).await?;
        q.view.due = Some(due.window(ctx.now, &tz)?);
    }
    let after = match &q.cursor {
        Some(c) => Some(open_cursor(app, ctx, &q, c).await?),
        None => None,
    };
    let (entries, next) = match &q.search {
        Some(typed) => {
            super::budgets::spend(app, ctx, super::budgets::Expensive::Search).await?;
            search_page(app, ctx, typed, q.limit, after.as_ref(), own_entry_rows(app, caller, &q.view)).await?
        }
        None => app.store.inbox_page(p, &caller.user_id, &q.view, q.limit, after.as_ref()).await?,
    };

    answer_page(app, ctx, &q, &entries, next).await
}

/// Answers a page of inbox rows of `tab`, after its audit event (the patients it showed),
/// the check that the caller still acts and the mark that its inbox reached it: what was
/// sent before now is delivered (CONV-2).
pub(super) async fn answer_page(
    app: &App,
    ctx: &RequestCtx,
    q: &InboxQuery,
    rows: &[InboxEntry],
    next: Option<InboxPosition>,
) -> Result<Page<InboxItemView>> {
    let caller = &ctx.caller;
    let record = AuditRecord { record_type: "inbox", record_id: &caller.user_id, patient_id: None };
    let mut event = audit::event(ctx, "inbox.list", record, "success");
    event.patients_shown = rows.iter().filter_map(|e| e.summary.patient.as_ref().map(|p| p.id.to_string())).collect();
    event.patients_shown.sort();
    event.patients_shown.dedup();
    // SEC-4 as the transaction's condition (GET /inbox is in `routes::checks_caller_in_its_read`):
    // the rows read so far are answered only if it commits.
    app.commit_admitted(ctx, |tx| {
        tx.put_audit(&event)?;
        tx.presence_seen(&caller.practice_id, &caller.user_id, ctx.now)
    })
    .await?;
    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(renderer.inbox_item(row).await?);
    }
    let next_cursor = match next {
        Some(pos) => Some(seal_cursor(app, ctx, q, &pos).await?),
        None => None,
    };
    Ok(Page { items, next_cursor })
}

/// How much of a token's partition one search page may read, in reads of up to 200 hits,
/// each followed by the caller's entries for them (BatchGetItem). The first read asks for one
/// more than the page, which is all a page takes where the caller sees its hits.
const SEARCH_SCAN_MOST: usize = 2_000;
const SEARCH_SCAN_HITS: usize = 200;

/// The rows a batch of search hits gives the caller, in the hits' order: only what it may see
/// and what passes the page's filters.
pub(super) type HitRows<'a> = Box<
    dyn FnMut(Vec<ConversationId>) -> Pin<Box<dyn Future<Output = Result<Vec<InboxEntry>>> + Send + 'a>> + Send + 'a,
>;

/// A page of search results. The token's partition is practice-wide, so its hits are read
/// page by page and kept only where `rows` gives the caller a row (its own entry in an inbox
/// tab, which exists exactly where `policy::can_see` admits it; in the practice-wide view the
/// conversation itself, checked with `can_see`) that passes the tab and filters, until the
/// page is full and one more such row shows that a next page exists (security finding 3:
/// neither a page nor its cursor may depend on what the caller cannot see). The cursor is the
/// last conversation returned. Only when 2,000 hits were read without filling the page does
/// the cursor point where the reading stopped: that says no more than "the word is common".
pub(super) async fn search_page(
    app: &App,
    ctx: &RequestCtx,
    typed: &str,
    limit: usize,
    after: Option<&InboxPosition>,
    mut rows: HitRows<'_>,
) -> Result<(Vec<InboxEntry>, Option<InboxPosition>)> {
    let p = &ctx.caller.practice_id;
    let index = search::practice_index(app, p).await?;
    let token = search::query_token(&index, typed)?;
    let position = |c: &str| InboxPosition { sort: "search".into(), conversation_id: c.to_string() };
    let mut entries: Vec<InboxEntry> = Vec::new();
    let mut read_to = after.map(|a| a.conversation_id.clone());
    let mut read = 0;
    while read < SEARCH_SCAN_MOST {
        let want = if read == 0 { limit + 1 } else { SEARCH_SCAN_HITS };
        let (hits, more) = app.store.search_hits(p, &token, want, read_to.as_deref()).await?;
        read += hits.len().max(1);
        let last_hit = hits.last().cloned();
        for e in rows(hits).await? {
            if entries.len() == limit {
                let last = entries.last().map(|l| position(&l.conversation_id));
                return Ok((entries, last));
            }
            entries.push(e);
        }
        match (more, last_hit) {
            (Some(_), Some(last)) => read_to = Some(last.to_string()),
            _ => return Ok((entries, None)),
        }
    }
    Ok((entries, read_to.as_deref().map(position)))
}

/// The caller's own entries for a batch of hits, in the tab and its filters.
fn own_entry_rows<'a>(app: &'a App, caller: &'a crate::domain::Caller, view: &'a InboxView) -> HitRows<'a> {
    Box::new(move |hits: Vec<ConversationId>| {
        Box::pin(async move {
            let found = app.store.entries(&caller.practice_id, &caller.user_id, &hits).await?;
            Ok(hits
                .iter()
                .filter_map(|c| found.iter().find(|e| &e.conversation_id == c))
                .filter(|e| in_tab(e, view) && passes_filters(e, view, &caller.user_id))
                .cloned()
                .collect())
        })
    })
}

/// Whether an entry belongs to a tab (for search results, which do not come from a tab's
/// index).
fn in_tab(e: &InboxEntry, view: &InboxView) -> bool {
    match view.tab {
        InboxTab::Active => !e.archived,
        InboxTab::Archived => e.archived,
        InboxTab::Kind(kind) => e.summary.kind == kind && !e.archived,
        InboxTab::Starred => e.starred,
    }
}

/// Whether a row passes the filters of a page: unread, assigned, priority, dates.
pub(super) fn passes_filters(e: &InboxEntry, view: &InboxView, user_id: &UserId) -> bool {
    let unread = view.unread.is_none_or(|u| u == (e.unread > 0));
    let assigned = match view.assigned {
        None => true,
        Some(AssignedFilter::Me) => e.summary.assignee_ids.iter().any(|a| a == user_id),
        Some(AssignedFilter::Others) => {
            !e.summary.assignee_ids.is_empty() && !e.summary.assignee_ids.iter().any(|a| a == user_id)
        }
    };
    let priority = view.priority.is_none_or(|p| e.last_priority.unwrap_or_default() == p);
    let from = view.from.is_none_or(|f| e.last_message_at >= f);
    let to = view.to.is_none_or(|t| e.last_message_at <= t);
    unread && assigned && priority && from && to
}

/// GET /inbox/stats (INBOX-4).
pub async fn stats(app: &App, ctx: &RequestCtx) -> Result<InboxStatsView> {
    let caller = &ctx.caller;
    // One read: the counters and the caller's record (SEC-4).
    let mut batch = app.store.batch();
    let (me, stats) = (batch.caller(caller), batch.stats(&caller.practice_id, &caller.user_id));
    let read = batch.read().await?;
    app.admit(ctx, read.caller(&me)?, false).await?;
    let s = read.stats(&stats);
    Ok(InboxStatsView {
        total_conversations: s.conversations,
        unread_messages: s.unread_messages,
        unique_patients: s.unique_patients,
        total_messages: s.messages,
    })
}
