//! `audit-chain`: the table stream's inserted audit events, linked into their record's
//! hash chain (SEC-2), and the head copied out of the table.

use super::stream::{self, BatchResponse, StreamEvent};
use crate::audit::{link_digest, GENESIS};
use crate::store::place::Streamed;
use crate::store::AuditLink;

/// Events linked per write: their updates and the head's move fill one TransactWriteItems
/// (100 items at most).
const LINKS_PER_WRITE: usize = 99;

/// Links new events into their record's chain, in the order given (the `audit-chain`
/// function, per record partition of a stream batch, in stream order). Chains are per record
/// partition, and the stream hands a partition's inserts to one invocation at a time in write
/// order, so concurrent writers never race for a chain's head and no practice-wide key is
/// hot. Per 99 events: one read (the events and the head), a MAC per event, one transaction,
/// one copy of the new head. Idempotent: a linked event is left alone.
pub async fn chain(app: &crate::App, pk: &str, sks: &[String]) -> crate::Result<()> {
    let key = app.audit_key.as_ref().ok_or_else(|| crate::Error::internal_msg("AUDIT_CHAIN_KEY_ID is not set"))?;
    for part in sks.chunks(LINKS_PER_WRITE) {
        let (events, head) = app.store.audit_events(pk, part).await?;
        let (mut seq, mut hash) = head.map(|h| (h.seq, h.hash)).unwrap_or((0, GENESIS.to_string()));
        let head_seq = seq;
        let mut links = Vec::new();
        // An event already linked (by an earlier delivery) is left alone.
        for (stored_at, event) in events.into_iter().filter(|(_, e)| e.hash.is_none()) {
            seq += 1;
            let link = key.link(&link_digest(&hash, seq, &stored_at, &event)).await?;
            links.push(AuditLink {
                key: stored_at,
                event,
                seq,
                prev_hash: std::mem::replace(&mut hash, link.clone()),
                hash: link,
            });
        }
        app.store.audit_link(pk, head_seq, &links).await?;
        // Also when nothing was linked: an earlier delivery may have failed before its copy.
        if seq > 0 {
            copy_head(app, pk, seq, &hash).await?;
        }
    }
    Ok(())
}

async fn copy_head(app: &crate::App, chain: &str, seq: u64, hash: &str) -> crate::Result<()> {
    match &app.audit_heads {
        Some(heads) => heads.put(chain, seq, hash).await,
        None => Ok(()),
    }
}

/// The `audit-chain` function: a batch of the table stream's audit inserts, chain by chain
/// (in the order each chain first appears). On a failure the batch is retried from that
/// chain's first record: everything after it comes again, and what is linked is left alone.
pub async fn handle_stream(app: &crate::App, event: &StreamEvent) -> BatchResponse {
    let inserted = stream::inserted(event);
    let mut chains: Vec<(&str, &str, Vec<String>)> = Vec::new();
    for item in &inserted {
        let Streamed::AuditEvent { chain, sort } = &item.item else { continue };
        match chains.iter_mut().find(|(c, _, _)| c == chain) {
            Some((_, _, sorts)) => sorts.push(sort.clone()),
            None => chains.push((chain, &item.sequence_number, vec![sort.clone()])),
        }
    }
    for (pk, first, sks) in &chains {
        if let Err(e) = chain(app, pk, sks).await {
            tracing::warn!(error = %e, "audit chaining failed; the batch is retried from this chain's first record");
            return stream::batch_response(Some(first));
        }
    }
    stream::batch_response(None)
}
