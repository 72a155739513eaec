//! Each user's inbox counters (INBOX-4): one `STATS` item per user, moved by `ADD` in the
//! transactions that move its entries, and their recount from the entries (verification).

use super::*;
use crate::domain::{InboxStats, StatsDelta};

/// Counters as stored; one never written reads as zero.
pub(super) fn parse_stats(item: Option<&Item>) -> InboxStats {
    let num = |k: &str| match item.and_then(|i| i.get(k)) {
        Some(AttributeValue::N(v)) => v.parse::<i64>().unwrap_or(0).max(0) as u64,
        _ => 0,
    };
    InboxStats {
        conversations: num("conversations"),
        messages: num("messages"),
        unread_messages: num("unreadMessages"),
        unique_patients: num("uniquePatients"),
    }
}

impl Store {
    /// A user's inbox counters (INBOX-4): one read, whatever the size of its inbox.
    pub async fn stats(&self, practice_id: &PracticeId, user_id: &UserId) -> Result<InboxStats> {
        let mut batch = self.batch();
        let stats = batch.stats(practice_id, user_id);
        Ok(batch.read().await?.stats(&stats))
    }

    /// The counters recomputed from a user's entries (a full read of its inbox): what the
    /// counters must equal. For verification and repair, never for a request.
    pub async fn recount_stats(&self, practice_id: &PracticeId, user_id: &UserId) -> Result<InboxStats> {
        let mut stats = InboxStats::default();
        let mut patients = std::collections::HashSet::new();
        let query = self
            .query()
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::user(practice_id, user_id)))
            .expression_attribute_values(":prefix", s("CONV#"))
            .projection_expression("unread, messageCount, summary, gsi1pk");
        for item in self.query_all(query).await? {
            if !item.contains_key(keys::GSI1PK) {
                continue;
            }
            let num = |k: &str| match item.get(k) {
                Some(AttributeValue::N(v)) => v.parse::<u64>().unwrap_or(0),
                _ => 0,
            };
            stats.conversations += 1;
            stats.messages += num("messageCount");
            let unread = num("unread");
            stats.unread_messages += unread;
            if let Some(AttributeValue::M(summary)) = item.get("summary") {
                if let Some(AttributeValue::M(patient)) = summary.get("patient") {
                    if let Some(AttributeValue::S(id)) = patient.get("id") {
                        patients.insert(id.clone());
                    }
                }
            }
        }
        stats.unique_patients = patients.len() as u64;
        Ok(stats)
    }
}

impl Tx<'_> {
    /// Adds to a user's inbox counters (INBOX-4); negative numbers subtract.
    pub fn stats_add(&mut self, practice_id: &PracticeId, user_id: &UserId, d: StatsDelta) -> Result<()> {
        if d == StatsDelta::default() {
            return Ok(());
        }
        let signed = |v: i64| AttributeValue::N(v.to_string());
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::user(practice_id, user_id)))
            .key(keys::SK, s(keys::STATS_SK))
            .update_expression("ADD conversations :c, messages :m, unreadMessages :u, uniquePatients :p")
            .expression_attribute_values(":c", signed(d.conversations))
            .expression_attribute_values(":m", signed(d.messages))
            .expression_attribute_values(":u", signed(d.unread))
            .expression_attribute_values(":p", signed(d.patients));
        self.push_update(Guard::Stats, update)
    }
}
