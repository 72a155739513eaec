//! The S3 adapter for attachments: presigned uploads and downloads (ATT-1, ATT-3) and the
//! server-side check of what was uploaded (ATT-2). Presigning is local: no S3 call.

use crate::error::{Error, Result};
use aws_sdk_s3::presigning::PresigningConfig;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct Blobs {
    client: crate::sdk::OnFirstUse<aws_sdk_s3::Client>,
    bucket: String,
}

/// ATT-2: whether a file's first bytes are what its declared content type says.
pub fn content_matches(content_type: &str, head: &[u8]) -> bool {
    let starts = |magic: &[u8]| head.starts_with(magic);
    match content_type {
        "application/pdf" => starts(b"%PDF-"),
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => starts(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "image/webp" => starts(b"RIFF") && head.get(8..12) == Some(b"WEBP"),
        "image/heic" => {
            head.get(4..8) == Some(b"ftyp") && matches!(head.get(8..12), Some(b"heic" | b"heix" | b"mif1" | b"msf1"))
        }
        // DOCX and XLSX are ZIP containers.
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => starts(b"PK\x03\x04"),
        // Text: no NUL bytes, and UTF-8 up to a character cut at the end of the sample.
        "text/plain" => {
            !head.contains(&0)
                && match std::str::from_utf8(head) {
                    Ok(_) => true,
                    Err(e) => e.error_len().is_none(),
                }
        }
        _ => false,
    }
}

pub struct PresignedRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
}

pub const UPLOAD_TTL: Duration = Duration::from_secs(10 * 60);
pub const DOWNLOAD_TTL: Duration = Duration::from_secs(5 * 60);

fn presign_config(ttl: Duration) -> Result<PresigningConfig> {
    PresigningConfig::expires_in(ttl).map_err(Error::internal)
}

impl Blobs {
    pub fn new(client: impl Into<crate::sdk::OnFirstUse<aws_sdk_s3::Client>>, bucket: String) -> Self {
        Blobs { client: client.into(), bucket }
    }

    /// A PUT whose signature covers the content type and length, so the client cannot
    /// upload something else under this URL.
    pub async fn presign_upload(&self, key: &str, content_type: &str, size: u64) -> Result<PresignedRequest> {
        let req = self
            .client
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(size as i64)
            .presigned(presign_config(UPLOAD_TTL)?)
            .await
            .map_err(Error::internal)?;
        Ok(PresignedRequest {
            method: req.method().to_string(),
            url: req.uri().to_string(),
            headers: req.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        })
    }

    /// A short-lived GET that names the file for the browser (ATT-3).
    pub async fn presign_download(&self, key: &str, file_name: &str, content_type: &str) -> Result<PresignedRequest> {
        let shown = crate::domain::without_bidi_controls(file_name);
        let safe: String =
            shown.chars().map(|c| if c == '"' || c == '\\' || c.is_control() { '_' } else { c }).collect();
        let req = self
            .client
            .get()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(format!("attachment; filename=\"{safe}\""))
            .response_content_type(content_type)
            .presigned(presign_config(DOWNLOAD_TTL)?)
            .await
            .map_err(Error::internal)?;
        Ok(PresignedRequest { method: "GET".into(), url: req.uri().to_string(), headers: BTreeMap::new() })
    }

    /// The stored object's size, or None when nothing was uploaded.
    pub async fn stored_size(&self, key: &str) -> Result<Option<u64>> {
        match self.client.get().head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(out.content_length.unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(None),
            Err(e) => Err(Error::Unavailable(Box::new(e))),
        }
    }

    /// A server-side copy (forwarding copies attachments: ASSIGN-3).
    pub async fn copy(&self, from: &str, to: &str) -> Result<()> {
        self.client
            .get()
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, from))
            .key(to)
            // The copy keeps the original's malware scan verdict (its GuardDuty tag).
            .tagging_directive(aws_sdk_s3::types::TaggingDirective::Copy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::Unavailable(Box::new(e)))
    }

    /// The first bytes of a stored object (a ranged GET), to check its real type (ATT-2).
    pub async fn head_bytes(&self, key: &str, n: u64) -> Result<Vec<u8>> {
        let out = self
            .client
            .get()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", n.saturating_sub(1)))
            .send()
            .await
            .map_err(|e| Error::Unavailable(Box::new(e)))?;
        let bytes = out.body.collect().await.map_err(|e| Error::Unavailable(Box::new(e)))?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// The malware-scan verdict S3 Malware Protection (GuardDuty) tagged the object with.
    pub async fn scan_status(&self, key: &str) -> Result<Option<String>> {
        let out = self
            .client
            .get()
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| Error::Unavailable(Box::new(e)))?;
        Ok(out.tag_set().iter().find(|t| t.key() == "GuardDutyMalwareScanStatus").map(|t| t.value().to_string()))
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .get()
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::Unavailable(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::content_matches;

    #[test]
    fn att_2_real_types_are_recognised_and_lies_are_not() {
        assert!(content_matches("application/pdf", b"%PDF-1.7 ..."));
        assert!(!content_matches("application/pdf", b"MZ\x90\x00 an exe"));
        assert!(content_matches("image/png", b"\x89PNG\r\n\x1a\n...."));
        assert!(!content_matches("image/png", b"%PDF-1.7"));
        assert!(content_matches("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(content_matches("text/plain", "Grüße".as_bytes()));
        assert!(!content_matches("text/plain", b"bin\x00ary"));
        assert!(content_matches(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04..."
        ));
        assert!(!content_matches("application/x-msdownload", b"MZ"));
    }
}
