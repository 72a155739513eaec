//! Attachments' answers: where to upload a file, and a link to download one.

use super::AttachmentView;
use serde::Serialize;
use std::collections::BTreeMap;

/// POST /attachments (ATT-1): the record, and where and how to upload the file before the
/// link expires.
#[derive(Clone, Debug, Serialize)]
pub struct AttachmentUpload {
    pub attachment: AttachmentView,
    pub upload: Upload,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Upload {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    /// Form fields of a POST upload; a PUT upload has none.
    pub fields: BTreeMap<String, String>,
    pub expires_at: crate::domain::Timestamp,
}

/// GET /attachments/{id}: the record and an expiring download link (ATT-3).
#[derive(Clone, Debug, Serialize)]
pub struct AttachmentDownload {
    pub attachment: AttachmentView,
    pub download: Download,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Download {
    pub url: String,
    pub expires_at: crate::domain::Timestamp,
}
