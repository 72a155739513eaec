//! Audit events and their chains (SEC-2).

use super::*;

/// One event's link, as the chainer made it.
pub struct AuditLink {
    /// Where the event is stored, as it was read.
    pub key: Key,
    pub event: AuditEvent,
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
}

/// Whose audit events a page lists.
#[derive(Clone, Copy, Debug)]
pub enum AuditTrail<'a> {
    /// One record's chain (a conversation, a patient, a staff user...).
    Record { record_type: &'a str, record_id: &'a str },
    /// Every event about a patient, whatever record it is in.
    Patient(&'a str),
}

impl Store {
    /// An audit event on its own (a denied attempt: no other write to join).
    pub async fn put_audit(&self, event: &AuditEvent) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&place::audit_event_of(event), event)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// A chain's events by sort key, in the order asked for (absent ones left out), and its
    /// head: one consistent BatchGetItem (the chainer runs right after the writes).
    pub async fn audit_events(&self, pk: &str, sks: &[String]) -> Result<(Vec<(Key, AuditEvent)>, Option<AuditHead>)> {
        let wanted = sks.iter().map(|sk| (pk.to_string(), sk.clone()));
        let wanted = wanted.chain([(pk.to_string(), keys::AUDIT_HEAD_SK.to_string())]).collect();
        let mut found: HashMap<String, Item> = HashMap::new();
        for item in self.batch_get(wanted, true).await? {
            if let Some(AttributeValue::S(sk)) = item.get(keys::SK) {
                found.insert(sk.clone(), item);
            }
        }
        let head = found.remove(keys::AUDIT_HEAD_SK).map(from_item).transpose()?;
        let events = sks.iter().filter_map(|sk| found.remove(sk)).map(keyed_from_item).collect::<Result<_>>()?;
        Ok((events, head))
    }

    /// Links events into their chain and moves its head, in one transaction; refused if
    /// another linking got there first (the head moved from `prev_seq`, or an event is linked).
    pub async fn audit_link(&self, pk: &str, prev_seq: u64, links: &[AuditLink]) -> Result<()> {
        let Some(last) = links.last() else { return Ok(()) };
        let mut request = self.client.transact_write_items();
        for link in links {
            let update = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(&link.key.pk))
                .key(keys::SK, s(&link.key.sk))
                .update_expression("SET seq = :seq, prevHash = :prev, #hash = :hash")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(#hash)")
                .expression_attribute_names("#hash", "hash")
                .expression_attribute_values(":seq", n(link.seq))
                .expression_attribute_values(":prev", s(&link.prev_hash))
                .expression_attribute_values(":hash", s(&link.hash))
                .build()
                .map_err(Error::internal)?;
            request = request.transact_items(TransactWriteItem::builder().update(update).build());
        }
        let head = AuditHead { seq: last.seq, hash: last.hash.clone() };
        let head_key = Key::new(pk.to_string(), keys::AUDIT_HEAD_SK)
            .gsi2(keys::audit_chains(&last.event.practice_id), pk.to_string());
        let (condition, values) = if prev_seq == 0 {
            ("attribute_not_exists(pk)", None)
        } else {
            ("seq = :prev_seq", Some(HashMap::from([(":prev_seq".to_string(), n(prev_seq))])))
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&head_key, &head)?))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .build()
            .map_err(Error::internal)?;
        request
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// A page of audit events, newest first, below `before`: a record's chain, or GSI1 (a
    /// patient's events). The next page starts below the last sort key answered.
    pub async fn audit_page(
        &self,
        practice_id: &PracticeId,
        trail: AuditTrail<'_>,
        before: &str,
        limit: usize,
    ) -> Result<(Vec<AuditEvent>, Option<String>)> {
        let (index, partition, pk_name, sk_name) = match trail {
            AuditTrail::Record { record_type, record_id } => {
                (None, keys::audit(practice_id, &keys::audit_scope(record_type, record_id)), keys::PK, keys::SK)
            }
            AuditTrail::Patient(patient) => {
                (Some(keys::GSI1), keys::audit_by_patient(practice_id, patient), keys::GSI1PK, keys::GSI1SK)
            }
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#sk", sk_name)
            .expression_attribute_values(":pk", s(&partition))
            .expression_attribute_values(":before", s(before))
            .scan_index_forward(false)
            .limit(limit as i32)
            .send()
            .await
            .map_err(sdk_error)?;
        let items = out.items.unwrap_or_default();
        let next = match (&out.last_evaluated_key, items.last()) {
            (Some(k), Some(last)) if !k.is_empty() => match last.get(sk_name) {
                Some(AttributeValue::S(sk)) => Some(sk.clone()),
                _ => None,
            },
            _ => None,
        };
        Ok((items.into_iter().map(from_item).collect::<Result<_>>()?, next))
    }

    /// Every audit chain of a practice (GSI2 over chain heads).
    pub async fn audit_chains(&self, practice_id: &PracticeId) -> Result<Vec<String>> {
        let query = self
            .query()
            .index_name(keys::GSI2)
            .key_condition_expression("gsi2pk = :pk")
            .expression_attribute_values(":pk", s(keys::audit_chains(practice_id)));
        let heads = self.query_all(query).await?;
        Ok(heads
            .into_iter()
            .filter_map(|i| match i.get(keys::PK) {
                Some(AttributeValue::S(pk)) => Some(pk.clone()),
                _ => None,
            })
            .collect())
    }

    /// The chain of a record's audit events (the name `verify_records` checks).
    pub fn record_chain(practice_id: &PracticeId, record_type: &str, record_id: &str) -> String {
        keys::audit(practice_id, &keys::audit_scope(record_type, record_id))
    }

    /// A chain's events and its head.
    pub async fn audit_chain(&self, pk: &str) -> Result<(Vec<(Key, AuditEvent)>, Option<AuditHead>)> {
        let mut events = Vec::new();
        let mut head = None;
        for item in self.query_partition(pk.to_string(), None).await? {
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk == keys::AUDIT_HEAD_SK => head = Some(from_item(item)?),
                _ => events.push(keyed_from_item(item)?),
            }
        }
        Ok((events, head))
    }
}
