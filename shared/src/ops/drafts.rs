//! Drafts (COMPOSE-5): save, edit, list, delete and send. A draft is the body of
//! POST /conversations as its author left it (it may be incomplete), sealed whole, in the
//! author's own partition: no one else can reach it, whatever id they send.

use super::conversations::{compose_from_draft, ComposeRequest};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::DraftId;
use crate::domain::{Draft, Sealed};
use crate::error::{Error, Result};
use crate::store::place;
use crate::store::Guard;
use crate::views::{DraftAnswer, DraftView, Page};
use serde_json::Value;

fn parse_draft_id(raw: &str) -> Result<DraftId> {
    DraftId::parse("id", raw).map_err(|_| Error::NotFound("draft"))
}

/// Checks a draft's shape (the compose body, fields optional) and returns it as stored.
fn draft_content(body: &Value) -> Result<Value> {
    if !body.is_object() {
        return Err(Error::bad_request("a draft is a JSON object with the fields of POST /conversations"));
    }
    serde_json::from_value::<ComposeRequest>(body.clone())
        .map_err(|e| crate::api::json_error("malformed draft", &e))?;
    Ok(body.clone())
}

async fn seal(app: &App, ctx: &RequestCtx, id: &str, content: &Value) -> Result<Sealed> {
    let bytes = serde_json::to_vec(content).map_err(Error::internal)?;
    let record = format!("draft/{}/{id}", ctx.caller.user_id);
    Ok(Sealed(
        app.envelope
            .seal(Binding { practice_id: &ctx.caller.practice_id, record: &record, field: "content" }, &bytes)
            .await?,
    ))
}

async fn open(app: &App, ctx: &RequestCtx, d: &Draft) -> Result<Value> {
    let record = format!("draft/{}/{}", ctx.caller.user_id, d.id);
    let bytes = app
        .envelope
        .open(Binding { practice_id: &ctx.caller.practice_id, record: &record, field: "content" }, &d.content.0)
        .await?;
    serde_json::from_slice(&bytes).map_err(Error::internal)
}

fn view(d: &Draft, content: Value) -> DraftView {
    let mut content = match content {
        Value::Object(fields) => fields,
        _ => serde_json::Map::new(),
    };
    // The draft's own fields are its, whatever the stored body holds.
    for own in ["id", "createdAt", "updatedAt"] {
        content.remove(own);
    }
    DraftView { id: d.id.clone(), created_at: d.created_at, updated_at: d.updated_at, content }
}

fn event(ctx: &RequestCtx, action: &str, id: &str) -> crate::domain::AuditEvent {
    audit::event(ctx, action, AuditRecord { record_type: "draft", record_id: id, patient_id: None }, "success")
}

/// POST /drafts.
pub async fn save(app: &App, ctx: &RequestCtx, body: &Value) -> Result<super::Created<DraftAnswer>> {
    let content = draft_content(body)?;
    let id = DraftId::new();
    let now = ctx.now;
    let p = &ctx.caller.practice_id;
    let item =
        Draft { id: id.clone(), content: seal(app, ctx, &id, &content).await?, created_at: now, updated_at: now };
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.put_new(Guard::Draft, place::draft(p, &ctx.caller.user_id, &id), &item)?;
    tx.put_audit(&event(ctx, "draft.create", &id))?;
    let response = DraftAnswer { draft: view(&item, content) };
    super::claim_idempotency(app, ctx, &mut tx, &response, &id).await?;
    super::commit_created(app, ctx, tx, response, |_| Error::Conflict("draft id collision, retry".into())).await
}

/// PUT /drafts/{id}: replaces the draft's content.
pub async fn update(app: &App, ctx: &RequestCtx, raw_id: &str, body: &Value) -> Result<DraftAnswer> {
    let id = parse_draft_id(raw_id)?;
    let content = draft_content(body)?;
    let p = &ctx.caller.practice_id;
    let mut item = app.store.draft(p, &ctx.caller.user_id, &id).await?.ok_or(Error::NotFound("draft"))?;
    item.content = seal(app, ctx, &id, &content).await?;
    item.updated_at = ctx.now;
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.put(Guard::Draft, place::draft(p, &ctx.caller.user_id, &id), &item)?;
    tx.put_audit(&event(ctx, "draft.update", &id))?;
    match tx.commit().await? {
        Ok(()) => Ok(DraftAnswer { draft: view(&item, content) }),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// GET /drafts/{id}.
pub async fn get(app: &App, ctx: &RequestCtx, raw_id: &str) -> Result<DraftAnswer> {
    let id = parse_draft_id(raw_id)?;
    let item =
        app.store.draft(&ctx.caller.practice_id, &ctx.caller.user_id, &id).await?.ok_or(Error::NotFound("draft"))?;
    super::audit_read(app, ctx, "draft.read", AuditRecord { record_type: "draft", record_id: &id, patient_id: None })
        .await?;
    let content = open(app, ctx, &item).await?;
    Ok(DraftAnswer { draft: view(&item, content) })
}

/// GET /drafts: the caller's drafts, newest first, paged.
pub async fn list(app: &App, ctx: &RequestCtx, limit: usize, cursor: Option<&str>) -> Result<Page<DraftView>> {
    let after: Option<String> = match cursor {
        Some(c) => Some(super::cursor::open(app, ctx, "drafts", c).await?),
        None => None,
    };
    // The cursor names a draft in the caller's own partition (from its token), so editing it
    // can never reach another user's drafts.
    let (drafts, next) =
        app.store.drafts(&ctx.caller.practice_id, &ctx.caller.user_id, limit, after.as_deref()).await?;
    let record = AuditRecord { record_type: "draft", record_id: &ctx.caller.user_id, patient_id: None };
    super::audit_read(app, ctx, "draft.list", record).await?;
    let mut items = Vec::with_capacity(drafts.len());
    for d in &drafts {
        items.push(view(d, open(app, ctx, d).await?));
    }
    let next_cursor = match next {
        Some(n) => Some(super::cursor::seal(app, ctx, "drafts", &n).await?),
        None => None,
    };
    Ok(Page { items, next_cursor })
}

/// DELETE /drafts/{id}.
pub async fn delete(app: &App, ctx: &RequestCtx, raw_id: &str) -> Result<()> {
    let id = parse_draft_id(raw_id)?;
    let p = &ctx.caller.practice_id;
    let mut tx = app.store.tx();
    tx.check_caller(&ctx.caller)?;
    tx.delete_existing(Guard::Draft, &place::draft(p, &ctx.caller.user_id, &id))?;
    tx.put_audit(&event(ctx, "draft.delete", &id))?;
    match tx.commit().await? {
        Ok(()) => Ok(()),
        Err(Guard::Draft) => Err(Error::NotFound("draft")),
        Err(_) => Err(Error::Unauthenticated),
    }
}

/// POST /drafts/{id}/send: composes from the draft and deletes it in the same transaction.
pub async fn send(app: &App, ctx: &RequestCtx, raw_id: &str) -> Result<super::Created<crate::views::ThreadStarted>> {
    let id = parse_draft_id(raw_id)?;
    let item = app.store.draft(&ctx.caller.practice_id, &ctx.caller.user_id, &id).await?;
    let item = match item {
        Some(i) => i,
        // Already sent: a retry with the same Idempotency-Key gets the first answer.
        None if ctx.idempotency.is_some() => {
            return super::replay(app, ctx).await.map(super::Created::Replayed).map_err(|_| Error::NotFound("draft"))
        }
        None => return Err(Error::NotFound("draft")),
    };
    let content = open(app, ctx, &item).await?;
    let request: ComposeRequest = serde_json::from_value(content).map_err(Error::internal)?;
    compose_from_draft(app, ctx, request, Some(&id)).await
}
