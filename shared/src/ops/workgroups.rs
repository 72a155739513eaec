//! A workgroup's members and name change (ROLE-6), and the job that gives new members the
//! workgroup's existing conversations (issue 17: gaining access takes effect). A conversation
//! addressed or assigned to a workgroup lists the members it had then; a member added later
//! joins it (and its inbox holds it) through the back-fill, a page of the practice's
//! conversations at a time from the table's stream, resumable and idempotent. A member taken
//! out keeps the conversations it already took part in: it may have written in them.

use super::active_staff;
use super::conversations::{change_membership, Membership};
use super::directory::{require_admin, staff_ids_in};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::{parse_name, RecipientKind, UserId, WorkgroupId};
use crate::domain::{Conversation, MembershipBackfill, Workgroup};
use crate::domain::{InboxPosition, InboxTab, InboxView};
use crate::error::{Error, Result};
use crate::store::{place, Guard, Key};
use crate::views::{WorkgroupAnswer, WorkgroupView};
use serde::Deserialize;

/// Conversations read per page of the back-fill (one Query; each conversation that names the
/// workgroup is then one transaction).
pub const BACKFILL_PAGE: usize = 100;

/// PATCH /workgroups/{id}: any subset.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkgroupPatch {
    pub name: Option<String>,
    pub member_ids: Option<Vec<String>>,
}

/// PATCH /workgroups/{id} (admin class, ROLE-6): renames it or sets its members. New members
/// reach the workgroup's existing conversations moments later (the back-fill); new
/// conversations address the members as they are now.
pub async fn update_workgroup(
    app: &App,
    ctx: &RequestCtx,
    raw_id: &str,
    req: WorkgroupPatch,
) -> Result<WorkgroupAnswer> {
    let caller = &ctx.caller;
    require_admin(caller)?;
    let p = &caller.practice_id;
    let id = WorkgroupId::parse("id", raw_id).map_err(|_| Error::NotFound("workgroup"))?;
    if req.name.is_none() && req.member_ids.is_none() {
        return Err(Error::invalid("memberIds", "name at least one of name, memberIds"));
    }
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, caller)?;
    let before: Workgroup = dir.workgroup(&id).cloned().ok_or(Error::NotFound("workgroup"))?;
    let mut after = before.clone();
    if let Some(name) = &req.name {
        let name = parse_name("name", Some(name))?;
        if dir.workgroups.iter().any(|w| w.id != id && w.name.eq_ignore_ascii_case(&name)) {
            return Err(Error::Conflict("a workgroup with this name exists".into()));
        }
        after.name = name;
    }
    if let Some(raw) = &req.member_ids {
        after.member_ids = staff_ids_in(&dir, "memberIds", raw)?;
    }
    let joined = after.member_ids.iter().any(|m| !before.member_ids.contains(m));
    let mut tx = app.store.tx();
    tx.check_staff_active(p, &caller.user_id, false)?;
    if !tx.update_changed(Guard::Workgroup, &place::workgroup(p, &id), &before, &after)? {
        return Ok(WorkgroupAnswer { workgroup: WorkgroupView::of(&after) });
    }
    let record = AuditRecord { record_type: "workgroup", record_id: &id, patient_id: None };
    tx.put_audit(&audit::event(ctx, "workgroup.update", record, "success"))?;
    if joined {
        let (key, page) = backfill_page(p, &id, ctx.now, 0, None, false);
        tx.put(Guard::Outbox, key, &page)?;
    }
    match tx.commit().await? {
        Ok(()) => Ok(WorkgroupAnswer { workgroup: WorkgroupView::of(&after) }),
        Err(Guard::Actor) => Err(Error::Unauthenticated),
        Err(_) => Err(Error::Conflict("the workgroup was changed by someone else; reload and retry".into())),
    }
}

fn backfill_page(
    p: &crate::domain::PracticeId,
    workgroup: &WorkgroupId,
    started_at: crate::domain::Timestamp,
    page: u32,
    after: Option<InboxPosition>,
    final_pass: bool,
) -> (Key, MembershipBackfill) {
    let key = place::membership_backfill(workgroup, started_at, page);
    let item = MembershipBackfill {
        practice_id: p.clone(),
        workgroup_id: workgroup.clone(),
        started_at,
        page,
        after_sort: after.as_ref().map(|a| a.sort.clone()),
        after_conversation: after.map(|a| a.conversation_id),
        final_pass,
        expires_at: started_at.as_second() + 7 * 86_400,
    };
    (key, item)
}

/// One page of a workgroup's back-fill (the notifier, from the stream): every conversation of
/// the page addressed or assigned to the workgroup takes its current members, with their
/// inbox entries; the next page is left as a new item. Answers how many conversations it
/// changed. Done twice, a page changes nothing the second time.
pub async fn backfill_workgroup(app: &App, key: &Key, now: crate::domain::Timestamp) -> Result<usize> {
    let Some(item) = app.store.membership_backfill(key).await? else { return Ok(0) };
    let p = &item.practice_id;
    let Some(dir) = app.store.directory(p).await? else { return Ok(0) };
    let Some(workgroup) = dir.workgroup(&item.workgroup_id) else { return Ok(0) };
    let after = match (&item.after_sort, &item.after_conversation) {
        (Some(sort), Some(c)) => Some(InboxPosition { sort: sort.clone(), conversation_id: c.clone() }),
        _ => None,
    };
    // Every conversation of the practice, as the admin class reads them (no filter that
    // names a caller).
    let (as_admin, nobody) = (false, UserId::from_stored(""));
    let every = InboxView {
        tab: InboxTab::Active,
        unread: None,
        assigned: None,
        priority: None,
        from: item.final_pass.then_some(item.started_at),
        to: None,
        due: None,
        by_due: false,
    };
    let (page, next) = app.store.practice_page(p, &nobody, as_admin, &every, BACKFILL_PAGE, after.as_ref()).await?;
    let mut changed = 0;
    for conversation in page {
        let take = |c: &mut Conversation| with_members(c, workgroup, &dir);
        let done = change_membership(app, &dir, conversation, now, take, |_, _| Ok(())).await?;
        changed += usize::from(matches!(done, Membership::Changed(_)));
    }
    // The next page; after the last, one pass over what moved meanwhile.
    let following = match (next, item.final_pass) {
        (Some(next), final_pass) => Some((Some(next), final_pass)),
        (None, false) => Some((None, true)),
        (None, true) => None,
    };
    if let Some((after, final_pass)) = following {
        let (key, next_page) = backfill_page(p, &item.workgroup_id, item.started_at, item.page + 1, after, final_pass);
        let mut tx = app.store.tx();
        tx.put(Guard::Outbox, key, &next_page)?;
        tx.commit().await?.map_err(|_| Error::internal_msg("the next back-fill page was not written"))?;
    }
    Ok(changed)
}

/// Adds the workgroup's active members to a conversation that names it: as participants
/// where it is a recipient, as assignees where it is assigned. False when nothing changes.
fn with_members(c: &mut Conversation, workgroup: &Workgroup, dir: &crate::domain::Directory) -> bool {
    let names = |list: &[crate::domain::Recipient]| {
        list.iter().any(|r| r.kind == RecipientKind::Workgroup && r.id == workgroup.id.as_str())
    };
    let (recipient, assignee) = (names(&c.recipients), names(&c.summary.assignees));
    let mut changed = false;
    let active = |m: &&UserId| dir.staff_member(m).is_some_and(|s| s.active);
    for member in workgroup.member_ids.iter().filter(active) {
        if (recipient || assignee) && !c.participants.contains(member) {
            c.participants.push(member.clone());
            changed = true;
        }
        if assignee && !c.assignee_ids.contains(member) {
            c.assignee_ids.push(member.clone());
            c.summary.assignee_ids.push(member.clone());
            changed = true;
        }
    }
    changed
}
