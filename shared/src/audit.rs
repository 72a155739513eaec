//! Audit events (SEC-2): who did what to which record, when, with what outcome. Written in
//! the same transaction as the write they record; the API never updates or deletes one.

use crate::app::RequestCtx;
use crate::domain::PracticeId;
use crate::domain::{AuditEvent, AuditHead};

/// The record an event is about, and the patient whose chart it belongs to (if any).
pub struct AuditRecord<'a> {
    pub record_type: &'static str,
    pub record_id: &'a str,
    pub patient_id: Option<&'a str>,
}

impl<'a> AuditRecord<'a> {
    /// A conversation, filed also under the patient it is about (the audit log by patient).
    pub fn conversation(c: &'a crate::domain::Conversation) -> Self {
        let patient_id = c.summary.patient.as_ref().map(|p| p.id.as_str());
        AuditRecord { record_type: "conversation", record_id: &c.id, patient_id }
    }
}

pub fn event(ctx: &RequestCtx, action: &str, record: AuditRecord<'_>, outcome: &str) -> AuditEvent {
    let id = crate::domain::new_id("aud_");
    let at = ctx.now;
    let p = &ctx.caller.practice_id;
    AuditEvent {
        id,
        practice_id: p.clone(),
        actor_id: ctx.caller.user_id.to_string(),
        actor_role: ctx.caller.role.as_str().to_string(),
        action: action.to_string(),
        record_type: record.record_type.to_string(),
        record_id: record.record_id.to_string(),
        patient_id: record.patient_id.map(str::to_string),
        patients_shown: Vec::new(),
        outcome: outcome.to_string(),
        at,
        request_id: ctx.request_id.clone(),
        entity: "audit".into(),
        seq: None,
        prev_hash: None,
        hash: None,
    }
}

/// SEC-2: a refused attempt on a record (404 or 403) is audited under that record, so a
/// practice sees who probed what. `route` is the route's key, `raw_id` its `{id}` as sent.
pub async fn record_refusal(app: &crate::App, ctx: &RequestCtx, route: &str, raw_id: &str, refusal: &crate::Error) {
    if raw_id.is_empty() {
        return;
    }
    let record_type = match route.split('/').nth(1).unwrap_or("") {
        "conversations" => "conversation",
        "attachments" => "attachment",
        "tasks" => "task",
        "drafts" => "draft",
        "saved-replies" => "saved_reply",
        "staff" => "staff",
        "patients" => "patient",
        _ => "record",
    };
    // The id is the caller's: only a well-formed one names a chain; anything else is filed
    // under one placeholder, so junk cannot mint audit partitions.
    let well_formed = raw_id.len() <= 64
        && raw_id.split_once('_').is_some_and(|(prefix, rest)| {
            (2..=4).contains(&prefix.len()) && !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    let record_id = if well_formed { raw_id } else { "malformed-id" };
    let outcome = if matches!(refusal, crate::Error::NotFound(_)) { "denied-not-found" } else { "denied-forbidden" };
    let record = AuditRecord { record_type, record_id, patient_id: None };
    let event = event(ctx, route, record, outcome);
    if let Err(err) = app.store.put_audit(&event).await {
        tracing::warn!(error = %err, "a denied attempt could not be audited");
    }
}

/// The previous hash of a chain's first event.
pub const GENESIS: &str = "genesis";

/// What a link seals: SHA-256 over the previous link and every field that says what happened,
/// each length-prefixed so that no two different events encode alike.
pub fn link_digest(prev_hash: &str, seq: u64, stored_at: &crate::store::Key, e: &AuditEvent) -> Vec<u8> {
    let seq = seq.to_string();
    // The patients a list showed are hashed only where there are any, so the events written
    // before the field existed keep their digests (parts are length-prefixed: no ambiguity).
    let shown = e.patients_shown.join(",");
    let at = e.at.to_string();
    // Where the event is stored, as it was read, is sealed too: an event moved to another
    // place (another record's chain) no longer verifies.
    let stored_at = stored_at.table_key_parts();
    let mut parts: Vec<&[u8]> = vec![
        prev_hash.as_bytes(),
        seq.as_bytes(),
        stored_at.0.as_bytes(),
        stored_at.1.as_bytes(),
        e.id.as_bytes(),
        e.practice_id.as_bytes(),
        e.actor_id.as_bytes(),
        e.actor_role.as_bytes(),
        e.action.as_bytes(),
        e.record_type.as_bytes(),
        e.record_id.as_bytes(),
        e.patient_id.as_deref().unwrap_or("").as_bytes(),
        e.outcome.as_bytes(),
        at.as_bytes(),
        e.request_id.as_bytes(),
    ];
    if !shown.is_empty() {
        parts.push(shown.as_bytes());
    }
    crate::crypto::sha256_hex(&parts).into_bytes()
}

/// A keyed link: "mac:" and the hex HMAC-SHA-256 of the digest under the chain key.
const KEYED: &str = "mac:";

/// The audit chain's key (security finding 4): an HMAC key in KMS that only the audit-chain
/// function's role may use to make links, so whoever can write the table still cannot make
/// a rewritten chain agree again. Verification asks KMS to check each link.
pub struct ChainKey {
    pub kms: crate::sdk::OnFirstUse<aws_sdk_kms::Client>,
    pub key_id: String,
}

impl ChainKey {
    pub async fn link(&self, digest: &[u8]) -> crate::Result<String> {
        let out = self
            .kms
            .get()
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(aws_sdk_kms::types::MacAlgorithmSpec::HmacSha256)
            .message(aws_sdk_kms::primitives::Blob::new(digest))
            .send()
            .await
            .map_err(|e| crate::Error::Unavailable(Box::new(e)))?;
        let mac = out.mac.map(|m| m.into_inner()).unwrap_or_default();
        Ok(format!("{KEYED}{}", mac.iter().map(|b| format!("{b:02x}")).collect::<String>()))
    }

    /// Whether `hash` is this key's link for `digest`; an unkeyed hash never is.
    pub async fn verifies(&self, digest: &[u8], hash: &str) -> crate::Result<bool> {
        let Some(mac) = hash.strip_prefix(KEYED).and_then(from_hex) else { return Ok(false) };
        let out = self
            .kms
            .get()
            .verify_mac()
            .key_id(&self.key_id)
            .mac_algorithm(aws_sdk_kms::types::MacAlgorithmSpec::HmacSha256)
            .message(aws_sdk_kms::primitives::Blob::new(digest))
            .mac(aws_sdk_kms::primitives::Blob::new(mac))
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.mac_valid),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_kms_invalid_mac_exception()) => Ok(false),
            Err(e) => Err(crate::Error::Unavailable(Box::new(e))),
        }
    }
}

/// Copies of the chains' heads in a bucket under Object Lock (security finding 4): one object
/// per linking (the head it left), named by its chain and seq, which no function may
/// overwrite or delete before its retention ends. The verifier compares each chain with its furthest copy.
pub struct HeadCopies {
    pub s3: crate::sdk::OnFirstUse<aws_sdk_s3::Client>,
    pub bucket: String,
}

impl HeadCopies {
    fn prefix(chain: &str) -> String {
        format!("{}/", chain.replace('#', "/"))
    }

    pub async fn put(&self, chain: &str, seq: u64, hash: &str) -> crate::Result<()> {
        let body = serde_json::json!({ "chain": chain, "seq": seq, "hash": hash }).to_string();
        self.s3
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{}{seq:020}", Self::prefix(chain)))
            .content_type("application/json")
            .body(body.into_bytes().into())
            .send()
            .await
            .map_err(|e| crate::Error::Unavailable(Box::new(e)))?;
        Ok(())
    }

    /// The furthest seq copied for a chain.
    pub async fn furthest(&self, chain: &str) -> crate::Result<Option<u64>> {
        let mut furthest = None;
        let mut token = None;
        loop {
            let page = self
                .s3
                .get()
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(Self::prefix(chain))
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| crate::Error::Unavailable(Box::new(e)))?;
            for o in page.contents() {
                let seq = o.key().and_then(|k| k.rsplit('/').next()).and_then(|s| s.parse::<u64>().ok());
                furthest = furthest.max(seq);
            }
            match page.next_continuation_token {
                Some(t) => token = Some(t),
                None => return Ok(furthest),
            }
        }
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    s.len()
        .is_multiple_of(2)
        .then(|| (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect())
        .flatten()
}

/// A break in a chain: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenLink {
    pub chain: String,
    pub seq: u64,
    pub event_id: String,
    pub problem: &'static str,
}

/// What a verification found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    pub chains: u64,
    pub events: u64,
    /// Written but not yet linked (the chainer runs moments after each write).
    pub unchained: u64,
    /// The first broken link of each broken chain.
    pub broken: Vec<BrokenLink>,
}

/// Recomputes one chain from its first event; the first broken link, if any. Each link is
/// checked against the chain key: an event edited afterwards, or a chain recomputed by
/// someone without the key (unkeyed, or keyed otherwise), breaks at the first such link.
pub async fn verify_events(
    key: &ChainKey,
    chain: &str,
    events: &[(crate::store::Key, AuditEvent)],
    head: Option<&AuditHead>,
) -> crate::Result<(u64, Option<BrokenLink>)> {
    let mut linked: Vec<(&crate::store::Key, &AuditEvent)> =
        events.iter().filter(|(_, e)| e.seq.is_some()).map(|(k, e)| (k, e)).collect();
    linked.sort_by_key(|(_, e)| e.seq);
    let unchained = (events.len() - linked.len()) as u64;
    let mut prev = GENESIS.to_string();
    let broken = |seq: u64, id: &str, problem: &'static str| {
        Some(BrokenLink { chain: chain.to_string(), seq, event_id: id.to_string(), problem })
    };
    for (i, (stored_at, e)) in linked.iter().enumerate() {
        let seq = e.seq.unwrap_or_default();
        if seq != i as u64 + 1 {
            return Ok((unchained, broken(i as u64 + 1, &e.id, "an event is missing before this one")));
        }
        if e.prev_hash.as_deref() != Some(prev.as_str()) {
            return Ok((unchained, broken(seq, &e.id, "prevHash does not match the event before")));
        }
        let hash = e.hash.clone().unwrap_or_default();
        if !hash.starts_with(KEYED) {
            return Ok((unchained, broken(seq, &e.id, "the link is not keyed: the chain was recomputed")));
        }
        if !key.verifies(&link_digest(&prev, seq, stored_at, e), &hash).await? {
            return Ok((unchained, broken(seq, &e.id, "the event was altered after it was chained")));
        }
        prev = hash;
    }
    let last_seq = linked.len() as u64;
    match head {
        Some(h) if h.seq != last_seq || h.hash != prev => {
            let id = linked.last().map(|(_, e)| e.id.clone()).unwrap_or_default();
            Ok((unchained, broken(last_seq + 1, &id, "events are missing at the end of the chain")))
        }
        _ => Ok((unchained, None)),
    }
}

/// Verifies every audit chain of a practice (the verify command).
pub async fn verify_practice(app: &crate::App, practice_id: &PracticeId) -> crate::Result<ChainReport> {
    let mut report = ChainReport::default();
    for pk in app.store.audit_chains(practice_id).await? {
        verify_chain(app, &pk, &mut report).await?;
    }
    Ok(report)
}

/// Verifies the chains of some records (`(record type, record id)`), as the audit log's
/// screen asks for them (GET /audit/verification).
pub async fn verify_records(
    app: &crate::App,
    practice_id: &PracticeId,
    records: &[(String, String)],
) -> crate::Result<ChainReport> {
    let mut report = ChainReport::default();
    for (record_type, record_id) in records {
        verify_chain(app, &crate::store::Store::record_chain(practice_id, record_type, record_id), &mut report).await?;
    }
    Ok(report)
}

/// Recomputes one chain and adds what it found to `report`. A chain with no event yet (a
/// record nobody touched since) is not counted.
async fn verify_chain(app: &crate::App, pk: &str, report: &mut ChainReport) -> crate::Result<()> {
    // The locked copy first, the table after: the chain job links in the table before it
    // copies the head, so whatever was copied before this read of the table is in it, unless
    // someone took it away. (Read the other way round, a link made in between looked like
    // events missing from the table.)
    let copied = match &app.audit_heads {
        Some(heads) => heads.furthest(pk).await?,
        None => None,
    };
    let (events, head) = app.store.audit_chain(pk).await?;
    if events.is_empty() && head.is_none() && copied.is_none() {
        return Ok(());
    }
    report.chains += 1;
    report.events += events.len() as u64;
    let key = app.audit_key.as_ref().ok_or_else(|| crate::Error::internal_msg("AUDIT_CHAIN_KEY_ID is not set"))?;
    let (unchained, mut broken) = verify_events(key, pk, &events, head.as_ref()).await?;
    // The table's chain may have lost its end, head included: the locked copy is further on.
    let linked = events.iter().filter(|(_, e)| e.seq.is_some()).count() as u64;
    if broken.is_none() && copied.is_some_and(|copied| copied > linked) {
        let problem = "events are missing at the end of the chain: its locked head copy is further on";
        broken = Some(BrokenLink { chain: pk.to_string(), seq: linked + 1, event_id: String::new(), problem });
    }
    report.unchained += unchained;
    report.broken.extend(broken);
    Ok(())
}
