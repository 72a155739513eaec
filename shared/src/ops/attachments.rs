//! POST /attachments and GET /attachments/{id} (ATT-1, ATT-2, ATT-3, ATT-5). The upload goes
//! straight to S3 through a presigned PUT bound to the declared type and size; the object is
//! checked before it may be attached; a download URL is issued only to who may see it.

use super::{claim_idempotency, commit_created, visible_conversation, Created};
use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::blobs;
use crate::crypto::Binding;
use crate::domain::*;
use crate::domain::{Attachment, Sealed};
use crate::error::{Error, Result};
use crate::policy;
use crate::store::place;
use crate::store::Guard;
use crate::views::{AttachmentDownload, AttachmentUpload, Download, Renderer, Upload};
use serde::Deserialize;
use std::collections::BTreeMap;

/// ATT-1: the content types a practice may receive.
pub const ALLOWED_CONTENT_TYPES: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/webp",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresignRequest {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<u64>,
    pub conversation_id: Option<String>,
}

/// A file name as shown to people: no path, no control characters, at most 255 characters.
pub fn parse_file_name(raw: Option<&str>) -> Result<String> {
    let s = crate::domain::without_bidi_controls(raw.unwrap_or(""));
    let s = s.trim();
    let bad = s.is_empty()
        || s.chars().count() > 255
        || s.chars().any(|c| c.is_control() || c == '/' || c == '\\')
        || s == "."
        || s == "..";
    if bad {
        return Err(Error::invalid("fileName", "fileName must be a plain file name of 1 to 255 characters"));
    }
    Ok(s.to_string())
}

/// POST /attachments.
pub async fn create(app: &App, ctx: &RequestCtx, req: PresignRequest) -> Result<Created<AttachmentUpload>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let file_name = parse_file_name(req.file_name.as_deref())?;
    let content_type = req.content_type.as_deref().map(str::trim).unwrap_or("").to_ascii_lowercase();
    let size = req.size.ok_or_else(|| Error::invalid("size", "size is required"))?;
    // One read: the practice's settings and the caller's record (SEC-4).
    let mut batch = app.store.batch();
    let (me, practice) = (batch.caller(caller), batch.practice(p));
    let read = batch.read().await?;
    let practice = read.get(&practice)?.ok_or(Error::Unauthenticated)?;
    app.renew_practice_rules(&practice);
    app.admit(ctx, read.caller(&me)?, false).await?;
    let narrowed = &practice.settings.attachment_content_types;
    if !ALLOWED_CONTENT_TYPES.contains(&content_type.as_str())
        || !(narrowed.is_empty() || narrowed.contains(&content_type))
    {
        return Err(Error::invalid("contentType", "this practice does not accept files of this content type"));
    }
    if size == 0 {
        return Err(Error::invalid("size", "the file is empty"));
    }
    if size > practice.settings.attachment_max_bytes {
        return Err(Error::TooLarge {
            detail: format!("files may be at most {} bytes", practice.settings.attachment_max_bytes),
            field: Some("size".into()),
        });
    }
    let conversation_id = match req.conversation_id.as_deref() {
        Some(raw) => {
            let id = ConversationId::parse("conversationId", raw).map_err(|_| Error::NotFound("conversation"))?;
            let c = visible_conversation(app, caller, &id).await?;
            if !caller.is_staff() && !c.summary.allow_attachments {
                return Err(Error::Forbidden("this conversation does not accept attachments from patients".into()));
            }
            Some(id)
        }
        None => None,
    };
    let id = AttachmentId::new();
    let created_at = ctx.now;
    let object_key = match &conversation_id {
        Some(c) => format!("{p}/{c}/{id}"),
        None => format!("unattached/{p}/{id}"),
    };
    let sealed_name =
        Sealed(app.envelope.seal_str(Binding { practice_id: p, record: &id, field: "fileName" }, &file_name).await?);
    // Queued for the sweeper until attached (orphans go after 24 hours).
    let key = place::attachment(p, &id, Some(created_at));
    let item = Attachment {
        id: id.clone(),
        practice_id: p.clone(),
        conversation_id,
        uploader_id: caller.user_id.clone(),
        file_name: sealed_name,
        content_type: content_type.clone(),
        size,
        status: AttachmentStatus::Pending,
        internal: false,
        object_key: object_key.clone(),
        created_at,
        first_patient_download_at: None,
    };
    let upload = app.blobs.presign_upload(&object_key, &content_type, size).await?;
    let expires_at = ctx.now + crate::domain::SignedDuration::try_from(blobs::UPLOAD_TTL).map_err(Error::internal)?;

    let mut tx = app.store.tx();
    tx.check_caller(caller)?;
    tx.put_new(Guard::Attachment, key, &item)?;
    tx.put_audit(&audit::event(
        ctx,
        "attachment.create",
        AuditRecord { record_type: "attachment", record_id: &id, patient_id: None },
        "success",
    ))?;
    let view = Renderer::new(&app.envelope, caller, ctx.now).attachment(&item).await?;
    let upload =
        Upload { method: upload.method, url: upload.url, headers: upload.headers, fields: BTreeMap::new(), expires_at };
    let response = AttachmentUpload { attachment: view, upload };
    claim_idempotency(app, ctx, &mut tx, &response, &id).await?;
    commit_created(app, ctx, tx, response, |_| Error::Conflict("the attachment could not be created, retry".into()))
        .await
}

/// ATT-2: a pending upload becomes `ready` once the stored object is there with the declared
/// size; one of another size is rejected and deleted.
pub async fn ensure_checked(app: &App, mut a: Attachment) -> Result<Attachment> {
    match a.status {
        AttachmentStatus::Ready => return Ok(a),
        AttachmentStatus::Rejected => {
            return Err(Error::invalid("attachmentIds", "this attachment was rejected by its check"))
        }
        AttachmentStatus::Pending | AttachmentStatus::Expired => {}
    }
    match app.blobs.stored_size(&a.object_key).await? {
        None => Err(Error::Conflict("the file has not been uploaded yet".into())),
        Some(size) if size == a.size => {
            // The real type, from the first bytes (a ranged GET), must be the declared one.
            let head = app.blobs.head_bytes(&a.object_key, size.min(512)).await?;
            if !blobs::content_matches(&a.content_type, &head) {
                app.store
                    .update_attachment_status(
                        &a.practice_id,
                        &a.id,
                        AttachmentStatus::Pending,
                        AttachmentStatus::Rejected,
                    )
                    .await?;
                app.blobs.delete(&a.object_key).await?;
                return Err(Error::invalid("attachmentIds", "the uploaded file is not of its declared type"));
            }
            app.store
                .update_attachment_status(&a.practice_id, &a.id, AttachmentStatus::Pending, AttachmentStatus::Ready)
                .await?;
            a.status = AttachmentStatus::Ready;
            Ok(a)
        }
        Some(_) => {
            app.store
                .update_attachment_status(&a.practice_id, &a.id, AttachmentStatus::Pending, AttachmentStatus::Rejected)
                .await?;
            app.blobs.delete(&a.object_key).await?;
            Err(Error::invalid("attachmentIds", "the uploaded file does not match its declared size"))
        }
    }
}

/// GET /attachments/{id}: metadata and a download URL of at most five minutes, audited.
pub async fn get(app: &App, ctx: &RequestCtx, attachment_id: &str) -> Result<AttachmentDownload> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let id = AttachmentId::parse("id", attachment_id).map_err(|_| Error::NotFound("attachment"))?;
    let a = app.store.attachment(p, &id).await?.ok_or(Error::NotFound("attachment"))?;
    // Visible to its uploader, and to whoever may see the conversation it belongs to
    // (attachments of internal notes: staff only). The conversation's patient is named in the
    // download's audit event (security finding 10).
    let uploader = a.uploader_id == caller.user_id;
    let (visible, patient_id) = match &a.conversation_id {
        Some(c) => match visible_conversation(app, caller, c).await {
            Ok(conversation) => (
                uploader || !a.internal || policy::can_see_internal(caller),
                conversation.summary.patient.map(|pr| pr.id),
            ),
            Err(Error::NotFound(_)) => (uploader, None),
            Err(e) => return Err(e),
        },
        None => (uploader, None),
    };
    if !visible {
        return Err(Error::NotFound("attachment"));
    }
    if a.status == AttachmentStatus::Expired {
        return Err(Error::Gone("this file was deleted under the practice's attachment retention policy".into()));
    }
    let a = ensure_checked(app, a).await.map_err(|e| match e {
        Error::Invalid { detail, .. } => Error::Conflict(detail),
        other => other,
    })?;
    // Where the practice scans uploads, no link until the scan said the file is clean.
    let settings = app.store.practice(p).await?.map(|pr| pr.settings).unwrap_or_default();
    let scanning = settings.malware_scanning;
    if scanning {
        match app.blobs.scan_status(&a.object_key).await?.as_deref() {
            Some("NO_THREATS_FOUND") => {}
            Some("THREATS_FOUND") => {
                app.store
                    .update_attachment_status(p, &a.id, AttachmentStatus::Ready, AttachmentStatus::Rejected)
                    .await?;
                app.blobs.delete(&a.object_key).await?;
                return Err(Error::Conflict("the file did not pass the malware scan and was removed".into()));
            }
            _ => return Err(Error::Conflict("the file's malware scan has not finished; try again shortly".into())),
        }
    }
    // ATT-6: the patient's first download starts the file's retention clock.
    if let (false, Some(days), None) =
        (caller.is_staff(), settings.attachment_retention_days, &a.first_patient_download_at)
    {
        let now = ctx.now;
        let due = now + crate::domain::SignedDuration::from_hours(24 * i64::from(days));
        app.store.attachment_first_patient_download(p, &a.id, now, due).await?;
    }
    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let view = renderer.attachment(&a).await?;
    let download = app.blobs.presign_download(&a.object_key, &view.file_name, &a.content_type).await?;
    let expires_at = ctx.now + crate::domain::SignedDuration::try_from(blobs::DOWNLOAD_TTL).map_err(Error::internal)?;

    crate::ops::audit_read(
        app,
        ctx,
        "attachment.download",
        AuditRecord { record_type: "attachment", record_id: &id, patient_id: patient_id.as_deref() },
    )
    .await?;
    Ok(AttachmentDownload { attachment: view, download: Download { url: download.url, expires_at } })
}
