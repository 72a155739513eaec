//! List cursors: one scheme for every paged list (the inbox, drafts, the audit log). A cursor
//! is the list's position, sealed with AES-GCM under a key derived from the practice's search
//! key and bound to the caller and the list (security finding 12), so a client can neither
//! read it, edit it, nor use it for another user or another list. Opening one needs no KMS
//! call once the practice's key is warm, so a forged cursor costs nothing but its refusal.

use crate::app::{App, RequestCtx};
use crate::crypto::Binding;
use crate::error::{Error, Result};
use crate::ops::search;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

const ENCODING: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The cursor of `position` in `list` (a name that also says the list's scope, such as
/// `inbox` or `audit/conversation/<id>`), for the caller only.
pub async fn seal<T: Serialize>(app: &App, ctx: &RequestCtx, list: &str, position: &T) -> Result<String> {
    let payload = serde_json::to_vec(position).map_err(Error::internal)?;
    let record = record(ctx);
    let index = search::practice_index(app, &ctx.caller.practice_id).await?;
    let sealed =
        index.seal_cursor(Binding { practice_id: &ctx.caller.practice_id, record: &record, field: list }, &payload)?;
    Ok(ENCODING.encode(sealed))
}

/// The position a cursor holds, checked by its tag before anything is read for it: a cursor
/// forged, edited, or made for another user or list is a 400 naming the field.
pub async fn open<T: DeserializeOwned>(app: &App, ctx: &RequestCtx, list: &str, cursor: &str) -> Result<T> {
    let raw = ENCODING.decode(cursor).map_err(|_| invalid())?;
    let record = record(ctx);
    let index = search::practice_index(app, &ctx.caller.practice_id).await?;
    let plain = index
        .open_cursor(Binding { practice_id: &ctx.caller.practice_id, record: &record, field: list }, &raw)
        .ok_or_else(invalid)?;
    serde_json::from_slice(&plain).map_err(|_| invalid())
}

fn record(ctx: &RequestCtx) -> String {
    format!("cursor/{}", ctx.caller.user_id)
}

/// The refusal of a cursor that is not one this list gave the caller.
fn invalid() -> Error {
    Error::BadRequest { detail: "cursor is not valid for this list".into(), field: Some("cursor".into()) }
}
