//! Audit events and their chains (SEC-2).

use super::*;

impl Store {
    /// An audit event on its own (a denied attempt: no other write to join).
    pub async fn put_audit(&self, event: &AuditItem) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(event)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// One audit event, read consistently (the chainer runs right after its write).
    pub async fn audit_event(&self, pk: &str, sk: &str) -> Result<Option<AuditItem>> {
        self.get_consistent(pk, sk).await
    }

    pub async fn audit_head(&self, pk: &str) -> Result<Option<AuditHeadItem>> {
        self.get_consistent(pk, keys::AUDIT_HEAD_SK).await
    }

    /// Links an event into its chain and moves the head, atomically; refused if another
    /// linking got there first (the head moved, or the event is linked).
    pub async fn audit_link(&self, event: &AuditItem, prev_seq: u64, prev_hash: &str, hash: &str) -> Result<()> {
        let seq = prev_seq + 1;
        let practice_id = event.practice_id.as_str();
        let link = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&event.pk))
            .key(keys::SK, s(&event.sk))
            .update_expression("SET seq = :seq, prevHash = :prev, #hash = :hash")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#hash)")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":seq", AttributeValue::N(seq.to_string()))
            .expression_attribute_values(":prev", s(prev_hash))
            .expression_attribute_values(":hash", s(hash))
            .build()
            .map_err(Error::internal)?;
        let head = AuditHeadItem {
            pk: event.pk.clone(),
            sk: keys::AUDIT_HEAD_SK.into(),
            gsi2pk: keys::audit_chains(practice_id),
            gsi2sk: event.pk.clone(),
            seq,
            hash: hash.to_string(),
        };
        let (condition, values) = if prev_seq == 0 {
            ("attribute_not_exists(pk)", vec![])
        } else {
            ("seq = :prev_seq", vec![(":prev_seq".to_string(), AttributeValue::N(prev_seq.to_string()))])
        };
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&head)?))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then(|| values.into_iter().collect()))
            .build()
            .map_err(Error::internal)?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(link).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_error)
    }

    /// A page of audit events, newest first, below `before`: a record's partition, or GSI1
    /// (a patient's events). The next page starts below the last sort key answered.
    pub async fn audit_page(
        &self,
        index: Option<&str>,
        partition: &str,
        before: &str,
        limit: usize,
    ) -> Result<(Vec<AuditItem>, Option<String>)> {
        let (pk_name, sk_name) = match index {
            Some(_) => (keys::GSI1PK, keys::GSI1SK),
            None => (keys::PK, keys::SK),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#sk", sk_name)
            .expression_attribute_values(":pk", s(partition))
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
    pub async fn audit_chains(&self, practice_id: &str) -> Result<Vec<String>> {
        let mut chains = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression("gsi2pk = :pk")
                .expression_attribute_values(":pk", s(keys::audit_chains(practice_id)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            chains.extend(out.items.unwrap_or_default().into_iter().filter_map(|i| match i.get(keys::PK) {
                Some(AttributeValue::S(pk)) => Some(pk.clone()),
                _ => None,
            }));
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(chains),
            }
        }
    }

    /// A chain's events and its head.
    pub async fn audit_chain(&self, pk: &str) -> Result<(Vec<AuditItem>, Option<AuditHeadItem>)> {
        let mut events = Vec::new();
        let mut head = None;
        for item in self.query_partition(pk.to_string(), None).await? {
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk == keys::AUDIT_HEAD_SK => head = Some(from_item(item)?),
                _ => events.push(from_item(item)?),
            }
        }
        Ok((events, head))
    }
}
