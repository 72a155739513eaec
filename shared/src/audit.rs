//! Audit events (SEC-2): who did what to which record, when, with what outcome. Written in
//! the same transaction as the write they record; the API never updates or deletes one.

use crate::app::RequestCtx;
use crate::ids;
use crate::keys;
use crate::records::{AuditHeadItem, AuditItem};

/// The record an event is about, and the patient whose chart it belongs to (if any).
pub struct AuditRecord<'a> {
    pub record_type: &'static str,
    pub record_id: &'a str,
    pub patient_id: Option<&'a str>,
}

pub fn event(ctx: &RequestCtx, action: &str, record: AuditRecord<'_>, outcome: &str) -> AuditItem {
    let id = ids::new_id("aud_");
    let at = ids::now();
    let p = &ctx.caller.practice_id;
    let scope = format!("{}#{}", record.record_type.to_uppercase(), record.record_id);
    AuditItem {
        pk: keys::audit(p, &scope),
        sk: format!("{at}#{id}"),
        gsi1pk: record.patient_id.map(|pat| keys::audit_by_patient(p, pat)),
        gsi1sk: record.patient_id.map(|_| format!("{at}#{id}")),
        id,
        practice_id: p.clone(),
        actor_id: ctx.caller.user_id.clone(),
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

/// The previous hash of a chain's first event.
pub const GENESIS: &str = "genesis";

/// The hash of an event at `seq` in its chain: SHA-256 over the previous hash and every field
/// that says what happened, each length-prefixed so that no two different events encode alike.
pub fn link_hash(prev_hash: &str, seq: u64, e: &AuditItem) -> String {
    let seq = seq.to_string();
    // The patients a list showed are hashed only where there are any, so the events written
    // before the field existed keep their hashes (parts are length-prefixed: no ambiguity).
    let shown = e.patients_shown.join(",");
    let mut parts: Vec<&[u8]> = vec![
        prev_hash.as_bytes(),
        seq.as_bytes(),
        e.pk.as_bytes(),
        e.sk.as_bytes(),
        e.id.as_bytes(),
        e.practice_id.as_bytes(),
        e.actor_id.as_bytes(),
        e.actor_role.as_bytes(),
        e.action.as_bytes(),
        e.record_type.as_bytes(),
        e.record_id.as_bytes(),
        e.patient_id.as_deref().unwrap_or("").as_bytes(),
        e.outcome.as_bytes(),
        e.at.as_bytes(),
        e.request_id.as_bytes(),
    ];
    if !shown.is_empty() {
        parts.push(shown.as_bytes());
    }
    crate::app::sha256_hex(&parts)
}

/// Links one new event into its record's chain (the `audit-chain` function, per inserted
/// event, in stream order). Chains are per record partition, and the stream hands a
/// partition's inserts to one invocation at a time in write order, so concurrent writers
/// never race for a chain's head and no practice-wide key is hot. Idempotent: a linked event
/// is left alone.
pub async fn chain(app: &crate::App, pk: &str, sk: &str) -> crate::Result<bool> {
    let Some(event) = app.store.audit_event(pk, sk).await? else { return Ok(false) };
    if event.hash.is_some() {
        return Ok(false);
    }
    let head = app.store.audit_head(pk).await?;
    let (prev_seq, prev_hash) = head.map(|h| (h.seq, h.hash)).unwrap_or((0, GENESIS.to_string()));
    let seq = prev_seq + 1;
    let hash = link_hash(&prev_hash, seq, &event);
    app.store.audit_link(&event, prev_seq, &prev_hash, &hash).await?;
    Ok(true)
}

/// The `audit-chain` function: a batch of the table stream's audit inserts.
pub async fn handle_stream(app: &crate::App, event: &serde_json::Value) -> crate::Result<serde_json::Value> {
    for item in crate::stream::inserted(event)?.iter().filter(|i| i.pk.contains("#AUDIT#")) {
        if let Err(e) = chain(app, &item.pk, &item.sk).await {
            tracing::warn!(error = %e, "audit chaining failed; the batch is retried from this record");
            return Ok(crate::stream::batch_response(Some(&item.sequence_number)));
        }
    }
    Ok(crate::stream::batch_response(None))
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

/// Recomputes one chain from its first event; the first broken link, if any.
pub fn verify_events(chain: &str, events: &[AuditItem], head: Option<&AuditHeadItem>) -> (u64, Option<BrokenLink>) {
    let mut linked: Vec<&AuditItem> = events.iter().filter(|e| e.seq.is_some()).collect();
    linked.sort_by_key(|e| e.seq);
    let unchained = (events.len() - linked.len()) as u64;
    let mut prev = GENESIS.to_string();
    let broken = |seq: u64, id: &str, problem: &'static str| {
        Some(BrokenLink { chain: chain.to_string(), seq, event_id: id.to_string(), problem })
    };
    for (i, e) in linked.iter().enumerate() {
        let seq = e.seq.unwrap_or_default();
        if seq != i as u64 + 1 {
            return (unchained, broken(i as u64 + 1, &e.id, "an event is missing before this one"));
        }
        if e.prev_hash.as_deref() != Some(prev.as_str()) {
            return (unchained, broken(seq, &e.id, "prevHash does not match the event before"));
        }
        let hash = link_hash(&prev, seq, e);
        if e.hash.as_deref() != Some(hash.as_str()) {
            return (unchained, broken(seq, &e.id, "the event was altered after it was chained"));
        }
        prev = hash;
    }
    let last_seq = linked.len() as u64;
    match head {
        Some(h) if h.seq != last_seq || h.hash != prev => {
            let id = linked.last().map(|e| e.id.clone()).unwrap_or_default();
            (unchained, broken(last_seq + 1, &id, "events are missing at the end of the chain"))
        }
        _ => (unchained, None),
    }
}

/// Verifies every audit chain of a practice (the verify command).
pub async fn verify_practice(app: &crate::App, practice_id: &str) -> crate::Result<ChainReport> {
    let mut report = ChainReport::default();
    for pk in app.store.audit_chains(practice_id).await? {
        let (events, head) = app.store.audit_chain(&pk).await?;
        report.chains += 1;
        report.events += events.len() as u64;
        let (unchained, broken) = verify_events(&pk, &events, head.as_ref());
        report.unchained += unchained;
        report.broken.extend(broken);
    }
    Ok(report)
}
