//! Tasks linked to a message (CONV-7): title, assignee, due date, done; listed per assignee.
//! Staff only. A task is visible to its assignee, its creator and the admin class.

use super::{active_staff, claim_idempotency, commit_created, facts, Created};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::{Caller, ConversationId, MessageId, RoleClass, TaskId, UserId};
use crate::domain::{Sealed, Task, TaskRef};
use crate::error::{Error, Result};
use crate::policy;
use crate::store::place;
use crate::store::Guard;
use crate::views::{TaskAnswer, TaskList, TaskView};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskRequest {
    pub title: Option<String>,
    pub assignee_id: Option<String>,
    pub due_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskPatch {
    pub done: bool,
}

fn require_staff(caller: &Caller) -> Result<()> {
    if caller.is_staff() {
        Ok(())
    } else {
        Err(Error::Forbidden("tasks are for staff".into()))
    }
}

/// A due date `YYYY-MM-DD`.
fn parse_due(raw: Option<&str>) -> Result<String> {
    let s = raw.unwrap_or("");
    crate::domain::parse_date("dueDate", s)?;
    Ok(s.to_string())
}

async fn view(app: &App, caller: &Caller, t: &Task) -> Result<TaskView> {
    let title = app
        .envelope
        .open_string(Binding { practice_id: &caller.practice_id, record: &t.id, field: "title" }, &t.title.0)
        .await?;
    Ok(TaskView {
        id: t.id.clone(),
        conversation_id: t.conversation_id.clone(),
        message_id: t.message_id.clone(),
        title,
        assignee_id: t.assignee_id.clone(),
        due_date: t.due_date.clone(),
        done: t.done,
        created_by: t.created_by.clone(),
        created_at: t.created_at,
    })
}

/// POST /conversations/{id}/messages/{messageId}/tasks.
pub async fn create(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    message_id: &str,
    req: TaskRequest,
) -> Result<Created<TaskAnswer>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let message_id = MessageId::parse("messageId", message_id).map_err(|_| Error::NotFound("message"))?;
    let (conversation, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    require_staff(caller)?;
    if !messages.iter().any(|m| m.id == message_id) {
        return Err(Error::NotFound("message"));
    }
    let title = req.title.as_deref().map(str::trim).unwrap_or("");
    if title.is_empty() || title.chars().count() > 200 {
        return Err(Error::invalid("title", "title must have 1 to 200 characters"));
    }
    let due_date = parse_due(req.due_date.as_deref())?;
    let assignee_id = UserId::parse_staff("assigneeId", req.assignee_id.as_deref().unwrap_or(""))?;
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    active_staff(&dir, caller)?;
    let assignee = dir
        .staff_member(&assignee_id)
        .filter(|s| s.active)
        .ok_or_else(|| Error::invalid("assigneeId", "no active staff user with this id in the practice"))?;
    let assignee_caller = Caller { practice_id: p.clone(), user_id: assignee.id.clone(), role: assignee.role.clone() };
    if !policy::can_see(&assignee_caller, &facts(&conversation)) {
        return Err(Error::invalid(
            "assigneeId",
            "the assignee cannot see this conversation; assign the conversation first",
        ));
    }
    let id = TaskId::new();
    let sealed = Sealed(app.envelope.seal_str(Binding { practice_id: p, record: &id, field: "title" }, title).await?);
    let key = place::task(p, &id, &assignee_id, false, &due_date);
    let task = Task {
        id: id.clone(),
        conversation_id: conversation_id.clone(),
        message_id,
        title: sealed,
        assignee_id,
        due_date,
        done: false,
        created_by: caller.user_id.clone(),
        created_at: ctx.now,
    };
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put_new(Guard::Task, key, &task)?;
    let mark = TaskRef { task_id: id.clone(), message_id: task.message_id.clone() };
    tx.put(Guard::Task, place::task_ref(p, &conversation_id, &id), &mark)?;
    tx.put_audit(&audit::event(ctx, "task.create", AuditRecord::conversation(&conversation), "success"))?;
    let response = TaskAnswer { task: view(app, caller, &task).await? };
    claim_idempotency(app, ctx, &mut tx, &response, &id).await?;
    commit_created(app, ctx, tx, response, |_| Error::Conflict("task id collision, retry".into())).await
}

/// GET /tasks?assignee=me (or a staff id, for admin and provider roles).
pub async fn list(app: &App, ctx: &RequestCtx, assignee: Option<&str>) -> Result<TaskList> {
    let caller = &ctx.caller;
    require_staff(caller)?;
    let assignee = match assignee.unwrap_or("me") {
        "me" => caller.user_id.clone(),
        other => {
            let id = UserId::parse_staff("assignee", other)?;
            if id != caller.user_id && !matches!(caller.class(), RoleClass::Admin | RoleClass::Provider) {
                return Err(Error::Forbidden("only admin and provider roles may list another user's tasks".into()));
            }
            id
        }
    };
    let tasks = app.store.tasks_of(&caller.practice_id, &assignee, 100).await?;
    // Security finding 7: of another user's tasks, a provider sees those it created, the
    // admin class all of them; and anyone only those on conversations it may open now (its
    // inbox entries are exactly those, one BatchGetItem for the page).
    let mut conversations: Vec<ConversationId> = tasks.iter().map(|t| t.conversation_id.clone()).collect();
    conversations.sort();
    conversations.dedup();
    let visible: Vec<ConversationId> = app
        .store
        .entries(&caller.practice_id, &caller.user_id, &conversations)
        .await?
        .into_iter()
        .map(|e| e.conversation_id)
        .collect();
    let may_list = |t: &Task| {
        let own =
            t.assignee_id == caller.user_id || t.created_by == caller.user_id || caller.class() == RoleClass::Admin;
        own && visible.contains(&t.conversation_id)
    };
    let tasks: Vec<Task> = tasks.into_iter().filter(may_list).collect();
    crate::ops::audit_read(
        app,
        ctx,
        "task.list",
        AuditRecord { record_type: "tasks", record_id: &assignee, patient_id: None },
    )
    .await?;
    let mut items = Vec::with_capacity(tasks.len());
    for t in &tasks {
        items.push(view(app, caller, t).await?);
    }
    Ok(TaskList { items })
}

/// PATCH /tasks/{id}: `{done}`; by its assignee, its creator or the admin class.
pub async fn patch(app: &App, ctx: &RequestCtx, task_id: &str, req: TaskPatch) -> Result<TaskAnswer> {
    let caller = &ctx.caller;
    require_staff(caller)?;
    let p = &caller.practice_id;
    let id = TaskId::parse("id", task_id).map_err(|_| Error::NotFound("task"))?;
    let mut task = app.store.task(p, &id).await?.ok_or(Error::NotFound("task"))?;
    let mine =
        task.assignee_id == caller.user_id || task.created_by == caller.user_id || caller.class() == RoleClass::Admin;
    if !mine {
        return Err(Error::NotFound("task"));
    }
    task.done = req.done;
    let key = place::task(p, &task.id, &task.assignee_id, task.done, &task.due_date);
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put(Guard::Task, key, &task)?;
    tx.put_audit(&audit::event(
        ctx,
        "task.update",
        AuditRecord { record_type: "task", record_id: &id, patient_id: None },
        "success",
    ))?;
    if tx.commit().await?.is_err() {
        return Err(Error::Unauthenticated);
    }
    Ok(TaskAnswer { task: view(app, caller, &task).await? })
}
