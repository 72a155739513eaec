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

pub const PRACTICE_ID: &str = "prc_";
pub const STAFF_ID: &str = "usr_";
pub const PATIENT_ID: &str = "pat_";
pub const WORKGROUP_ID: &str = "wg_";
pub const CONVERSATION_ID: &str = "cnv_";
pub const MESSAGE_ID: &str = "msg_";
pub const ATTACHMENT_ID: &str = "att_";
