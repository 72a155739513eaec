//! Saved replies (REPLY-6): practice-wide templates (admin class) and personal ones (any
//! staff user), with `{{patient.firstName}}`, `{{patient.lastName}}`, `{{practice.name}}` and
//! `{{staff.name}}` filled in when used.

use super::{active_staff, claim_idempotency, commit_created, visible_conversation, Created};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::crypto::Binding;
use crate::domain::{Caller, ConversationId, RoleClass, SavedReplyId, SavedReplyScope};
use crate::domain::{SavedReply, Sealed};
use crate::error::{Error, Result};
use crate::store::place;
use crate::store::Guard;
use crate::views::Renderer;
use crate::views::{RenderedReply, SavedReplyAnswer, SavedReplyList, SavedReplyView};
use serde::Deserialize;

pub const VARIABLES: &[&str] = &["patient.firstName", "patient.lastName", "practice.name", "staff.name"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedReplyRequest {
    pub title: Option<String>,
    pub body: Option<String>,
    /// `practice` (admin class) or `personal` (default).
    pub scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderRequest {
    pub conversation_id: String,
}

/// The `{{name}}` variables of a template, in order; unknown names are refused.
pub fn variables(template: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| Error::invalid("body", "a `{{` has no closing `}}`"))?;
        let name = after[..end].trim();
        if !VARIABLES.contains(&name) {
            return Err(Error::invalid(
                "body",
                format!("unknown variable `{{{{{name}}}}}`; known: {}", VARIABLES.join(", ")),
            ));
        }
        out.push(name.to_string());
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// Fills a template's variables from `value`.
pub fn fill(template: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                out.push_str(&value(after[..end].trim()));
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn require_staff(caller: &Caller) -> Result<()> {
    if caller.is_staff() {
        Ok(())
    } else {
        Err(Error::Forbidden("saved replies are for staff".into()))
    }
}

async fn view(app: &App, caller: &Caller, r: &SavedReply) -> Result<SavedReplyView> {
    let body = app
        .envelope
        .open_string(Binding { practice_id: &caller.practice_id, record: &r.id, field: "template" }, &r.body.0)
        .await?;
    Ok(SavedReplyView {
        id: r.id.clone(),
        title: r.title.clone(),
        body,
        scope: r.scope,
        created_by: r.created_by.clone(),
        created_at: r.created_at,
    })
}

/// POST /saved-replies.
pub async fn create(app: &App, ctx: &RequestCtx, req: SavedReplyRequest) -> Result<Created<SavedReplyAnswer>> {
    let caller = &ctx.caller;
    require_staff(caller)?;
    let p = &caller.practice_id;
    let title = req.title.as_deref().map(str::trim).unwrap_or("");
    if title.is_empty() || title.chars().count() > 100 {
        return Err(Error::invalid("title", "title must have 1 to 100 characters"));
    }
    let body = req.body.as_deref().unwrap_or("");
    if body.trim().is_empty() || body.chars().count() > 5_000 {
        return Err(Error::invalid("body", "body must have 1 to 5000 characters"));
    }
    variables(body)?;
    let scope = SavedReplyScope::parse(req.scope.as_deref().unwrap_or("personal"))?;
    if scope == SavedReplyScope::Practice && caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("only admin roles may save practice-wide replies".into()));
    }
    let practice_wide = scope == SavedReplyScope::Practice;
    let id = SavedReplyId::new();
    let key = place::saved_reply(p, (!practice_wide).then_some(&caller.user_id), &id);
    let item = SavedReply {
        id: id.clone(),
        title: title.to_string(),
        body: Sealed(app.envelope.seal_str(Binding { practice_id: p, record: &id, field: "template" }, body).await?),
        scope,
        created_by: caller.user_id.clone(),
        created_at: ctx.now,
    };
    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put_new(Guard::Reply, key, &item)?;
    tx.put_audit(&audit::event(
        ctx,
        "saved_reply.create",
        AuditRecord { record_type: "saved_reply", record_id: &id, patient_id: None },
        "success",
    ))?;
    let response = SavedReplyAnswer { saved_reply: view(app, caller, &item).await? };
    claim_idempotency(app, ctx, &mut tx, &response, &id).await?;
    commit_created(app, ctx, tx, response, |_| Error::Conflict("saved reply id collision, retry".into())).await
}

/// GET /saved-replies: the practice's and the caller's own.
pub async fn list(app: &App, ctx: &RequestCtx) -> Result<SavedReplyList> {
    let caller = &ctx.caller;
    require_staff(caller)?;
    let replies = app.store.saved_replies(&caller.practice_id, &caller.user_id).await?;
    let mut items = Vec::with_capacity(replies.len());
    for r in &replies {
        items.push(view(app, caller, r).await?);
    }
    Ok(SavedReplyList { items })
}

/// POST /saved-replies/{id}/render: the template filled in for one conversation.
pub async fn render(app: &App, ctx: &RequestCtx, reply_id: &str, req: RenderRequest) -> Result<RenderedReply> {
    let caller = &ctx.caller;
    require_staff(caller)?;
    let p = &caller.practice_id;
    let id = SavedReplyId::parse("id", reply_id).map_err(|_| Error::NotFound("saved reply"))?;
    let conversation_id =
        ConversationId::parse("conversationId", &req.conversation_id).map_err(|_| Error::NotFound("conversation"))?;
    let reply = app.store.saved_reply(p, &caller.user_id, &id).await?.ok_or(Error::NotFound("saved reply"))?;
    let conversation = visible_conversation(app, caller, &conversation_id).await?;
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    let me = active_staff(&dir, caller)?;
    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let patient = match &conversation.summary.patient {
        Some(pr) => Some(renderer.patient(pr).await?),
        None => None,
    };
    let template = renderer.open(&reply.id, "template", &reply.body).await?;
    let body = fill(&template, |name| match name {
        "patient.firstName" => patient.as_ref().map(|p| p.first_name.clone()).unwrap_or_default(),
        "patient.lastName" => patient.as_ref().map(|p| p.last_name.clone()).unwrap_or_default(),
        "practice.name" => dir.practice.name.clone(),
        "staff.name" => me.display_name(),
        _ => String::new(),
    });
    // The patient's names were decrypted for this (security finding 10).
    if conversation.summary.patient.is_some() {
        let record = AuditRecord::conversation(&conversation);
        super::audit_read(app, ctx, "saved_reply.render", record).await?;
    }
    Ok(RenderedReply { body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_6_variables_are_known_and_filled() {
        let t = "Hi {{patient.firstName}}, this is {{ staff.name }} at {{practice.name}}.";
        assert_eq!(variables(t).unwrap(), vec!["patient.firstName", "staff.name", "practice.name"]);
        let filled = fill(t, |n| format!("<{n}>"));
        assert_eq!(filled, "Hi <patient.firstName>, this is <staff.name> at <practice.name>.");
        assert!(variables("{{patient.ssn}}").is_err());
        assert!(variables("{{patient.firstName").is_err());
    }
}
