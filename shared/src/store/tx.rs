//! A transaction (TransactWriteItems): the writes of one operation, each named by the `Guard`
//! its condition answers to, and its commit with the retry of transaction conflicts.

use super::*;
use crate::policy::EnrolmentCondition;

impl Store {
    /// Commits a transaction. A failed condition comes back as `Ok(Err(guard))`, naming the
    /// write whose condition failed, so the caller can answer by meaning (a replayed
    /// idempotency key, a closed thread, a deactivated user). Conflicts with concurrent
    /// transactions are retried here with backoff.
    async fn commit(&self, mut tx: Tx<'_>) -> Result<std::result::Result<(), Guard>> {
        if tx.items.is_empty() {
            return Ok(Ok(()));
        }
        tx.move_directory_version()?;
        if tx.items.len() > Tx::MAX_ITEMS {
            return Err(Error::Conflict("this change touches more than 100 records at once".into()));
        }
        let mut attempt: u32 = 0;
        loop {
            let result = self.client.transact_write_items().set_transact_items(Some(tx.items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(Ok(())),
                Err(e) => e,
            };
            let reasons: Vec<Option<String>> = match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                    c.cancellation_reasons().iter().map(|r| r.code().map(str::to_string)).collect()
                }
                _ => return Err(sdk_error(err)),
            };
            if let Some(i) = reasons.iter().position(|r| r.as_deref() == Some("ConditionalCheckFailed")) {
                let guard = tx.guards.get(i).copied();
                return guard
                    .map(Err)
                    .ok_or_else(|| Error::internal_msg("a refused write the transaction does not hold"));
            }
            let conflict = reasons.iter().any(|r| {
                matches!(
                    r.as_deref(),
                    Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded")
                )
            });
            if !conflict || attempt >= 8 {
                return Err(sdk_error(err));
            }
            retry::backoff(attempt).await;
            attempt += 1;
        }
    }
}

/// The writes of one operation, committed together or not at all, on the store that made it
/// (`Store::tx`).
pub struct Tx<'s> {
    pub(super) store: &'s Store,
    pub(super) items: Vec<TransactWriteItem>,
    pub(super) guards: Vec<Guard>,
}

impl Store {
    /// A new, empty transaction on this store.
    pub fn tx(&self) -> Tx<'_> {
        Tx { store: self, items: Vec::new(), guards: Vec::new() }
    }
}

impl<'s> Tx<'s> {
    /// What one TransactWriteItems may hold.
    pub const MAX_ITEMS: usize = 100;

    /// How many writes it holds so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Commits it. A failed condition comes back as `Ok(Err(guard))` (see `Store::commit`).
    pub async fn commit(self) -> Result<std::result::Result<(), Guard>> {
        self.store.commit(self).await
    }

    /// Every write of a staff user or a workgroup moves its practice's `directoryVersion` in
    /// the same transaction, so no function keeps a copy of the directory that misses it
    /// (`Store::directory_as_of`). Here, in the one place every transaction passes, rather
    /// than in each operation that edits the directory. A transaction that writes the practice
    /// record itself is left as it is: only onboarding does, and a new practice has no copies.
    fn move_directory_version(&mut self) -> Result<()> {
        let key_of = |item: &TransactWriteItem| -> Option<(String, String)> {
            let key = match (item.put(), item.update(), item.delete()) {
                (Some(put), _, _) => put.item(),
                (_, Some(update), _) => update.key(),
                (_, _, Some(delete)) => delete.key(),
                _ => return None,
            };
            match (key.get(keys::PK), key.get(keys::SK)) {
                (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some((pk.clone(), sk.clone())),
                _ => None,
            }
        };
        let written: Vec<(String, String)> = self.items.iter().filter_map(key_of).collect();
        let practices: std::collections::BTreeSet<&String> = written
            .iter()
            .filter(|(pk, sk)| keys::is_directory_item(pk, sk))
            .map(|(pk, _)| pk)
            .filter(|pk| !written.iter().any(|(p, sk)| p == *pk && sk == keys::PRACTICE_SK))
            .collect();
        for pk in practices {
            let update = Update::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(pk.as_str()))
                .key(keys::SK, s(keys::PRACTICE_SK))
                .condition_expression("attribute_exists(pk)")
                .update_expression("ADD directoryVersion :one")
                .expression_attribute_values(":one", n(1));
            self.push_update(Guard::Practice, update)?;
        }
        Ok(())
    }

    pub(super) fn push_put(
        &mut self,
        guard: Guard,
        item: Item,
        condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<()> {
        let mut put = Put::builder().table_name(&self.store.table).set_item(Some(item));
        if let Some((expr, values)) = condition {
            put = put.condition_expression(expr);
            for (k, v) in values {
                put = put.expression_attribute_values(k, v);
            }
        }
        self.items.push(TransactWriteItem::builder().put(put.build().map_err(Error::internal)?).build());
        self.guards.push(guard);
        Ok(())
    }

    /// Writes a record that must not exist yet.
    pub fn put_new<T: Serialize>(&mut self, guard: Guard, key: Key, record: &T) -> Result<()> {
        self.push_put(guard, to_item(&key, record)?, Some(("attribute_not_exists(pk)", vec![])))
    }

    /// Writes (or replaces) an item that is its key alone: a marker (a search token, a
    /// practice's line in the registry).
    pub fn put_marker(&mut self, guard: Guard, key: Key) -> Result<()> {
        self.push_put(guard, key_attributes(&key)?, None)
    }

    /// An edit of a record read as `before`: sets only the attributes that differ in `after`,
    /// on the condition that each still holds the value read. Two edits of one record cannot
    /// undo each other (a lost update), and attributes the edit did not touch (the user's own
    /// out-of-office, say) are left as they are. False when nothing differs (nothing pushed).
    pub fn update_changed<T: Serialize>(&mut self, guard: Guard, key: &Key, before: &T, after: &T) -> Result<bool> {
        self.update_relisted(guard, (key, before), (key, after))
    }

    /// `update_changed` of a record whose index keys move too (an e-visit listed by another
    /// time): `before` is the key it was read under, `after` the key it is to have; their
    /// table keys are the same.
    pub fn update_relisted<T: Serialize>(
        &mut self,
        guard: Guard,
        before: (&Key, &T),
        after: (&Key, &T),
    ) -> Result<bool> {
        let (old, new) = (to_item(before.0, before.1)?, to_item(after.0, after.1)?);
        let mut names: Vec<&String> = old.keys().chain(new.keys()).filter(|k| old.get(*k) != new.get(*k)).collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Ok(false);
        }
        let (pk, sk) = (old.get(keys::PK).cloned(), old.get(keys::SK).cloned());
        let mut update = Update::builder().table_name(&self.store.table).set_key(Some(HashMap::from([
            (keys::PK.to_string(), pk.ok_or_else(|| Error::internal_msg("no pk"))?),
            (keys::SK.to_string(), sk.ok_or_else(|| Error::internal_msg("no sk"))?),
        ])));
        let (mut sets, mut removes, mut conditions) =
            (Vec::new(), Vec::new(), vec!["attribute_exists(pk)".to_string()]);
        for (i, name) in names.iter().enumerate() {
            update = update.expression_attribute_names(format!("#a{i}"), name.as_str());
            match new.get(*name) {
                Some(v) => {
                    sets.push(format!("#a{i} = :n{i}"));
                    update = update.expression_attribute_values(format!(":n{i}"), v.clone());
                }
                None => removes.push(format!("#a{i}")),
            }
            match old.get(*name) {
                Some(v) => {
                    conditions.push(format!("#a{i} = :o{i}"));
                    update = update.expression_attribute_values(format!(":o{i}"), v.clone());
                }
                None => conditions.push(format!("attribute_not_exists(#a{i})")),
            }
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression.push_str(&format!("SET {}", sets.join(", ")));
        }
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let update = update.update_expression(expression.trim()).condition_expression(conditions.join(" AND "));
        self.push_update(guard, update)?;
        Ok(true)
    }

    /// Writes (or replaces) a record.
    pub fn put<T: Serialize>(&mut self, guard: Guard, key: Key, record: &T) -> Result<()> {
        self.push_put(guard, to_item(&key, record)?, None)
    }

    /// Appends an audit event (SEC-2) to its record's chain.
    pub fn put_audit(&mut self, event: &AuditEvent) -> Result<()> {
        self.put(Guard::Audit, place::audit_event_of(event), event)
    }

    /// Claims an idempotency key: absent, or expired (TTL deletion can lag by a day or two).
    pub fn claim_idempotency_key(&mut self, key: Key, record: &StoredAnswer, now_epoch: i64) -> Result<()> {
        self.push_put(
            Guard::Idempotency,
            to_item(&key, record)?,
            Some((
                "attribute_not_exists(pk) OR expiresAt < :now",
                vec![(":now", AttributeValue::N(now_epoch.to_string()))],
            )),
        )?;
        // First, so that a replay is recognised before any other condition of the retry.
        let item = self.items.pop().expect("just pushed");
        let guard = self.guards.pop().expect("just pushed");
        self.items.insert(0, item);
        self.guards.insert(0, guard);
        Ok(())
    }

    /// Deletes a record that must exist (a draft being sent or deleted).
    pub fn delete_existing(&mut self, guard: Guard, key: &Key) -> Result<()> {
        self.push_delete(guard, key, true)
    }

    /// Deletes a record if there is one (an escalation the clock's stop makes moot).
    pub fn delete_if_any(&mut self, guard: Guard, key: &Key) -> Result<()> {
        self.push_delete(guard, key, false)
    }

    fn push_delete(&mut self, guard: Guard, key: &Key, must_exist: bool) -> Result<()> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(&key.pk))
            .key(keys::SK, s(&key.sk))
            .set_condition_expression(must_exist.then(|| "attribute_exists(pk)".to_string()))
            .build()
            .map_err(Error::internal)?;
        self.items.push(TransactWriteItem::builder().delete(delete).build());
        self.guards.push(guard);
        Ok(())
    }

    pub(super) fn push_update(
        &mut self,
        guard: Guard,
        update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
    ) -> Result<()> {
        self.items.push(TransactWriteItem::builder().update(update.build().map_err(Error::internal)?).build());
        self.guards.push(guard);
        Ok(())
    }

    pub(super) fn push_check(
        &mut self,
        guard: Guard,
        check: aws_sdk_dynamodb::types::builders::ConditionCheckBuilder,
    ) -> Result<()> {
        self.items.push(TransactWriteItem::builder().condition_check(check.build().map_err(Error::internal)?).build());
        self.guards.push(guard);
        Ok(())
    }

    /// The acting staff user still exists and is active (and, when it writes to a patient,
    /// still has portal messaging on: ROLE-5), checked atomically with the write.
    pub fn check_staff_active(&mut self, practice_id: &PracticeId, user_id: &UserId, to_patient: bool) -> Result<()> {
        let expr = if to_patient { "active = :t AND portalMessaging = :t" } else { "active = :t" };
        self.push_check(
            Guard::Actor,
            ConditionCheck::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(keys::practice(practice_id)))
                .key(keys::SK, s(keys::staff_sk(user_id)))
                .condition_expression(expr)
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
        )
    }

    /// The caller still acts: an active staff user, or a patient still on record.
    pub fn check_caller(&mut self, caller: &crate::domain::Caller) -> Result<()> {
        if caller.is_staff() {
            self.check_staff_active(&caller.practice_id, &caller.user_id, false)
        } else {
            self.check_patient_exists(&caller.practice_id, &caller.user_id)
        }
    }

    /// The caller passes the SEC-4 check (`App::admit`) as a condition rather than a read: a
    /// staff user active in the role of the token, or a patient with portal access, whose
    /// second factor meets `enrolment` (ACCT-3). A failure is `Guard::Actor`, and says only
    /// that the record does not pass: `App::ensure_active` tells why.
    pub fn admit_caller(&mut self, caller: &crate::domain::Caller, enrolment: EnrolmentCondition) -> Result<()> {
        let mut check = ConditionCheck::builder().table_name(&self.store.table);
        let who = if caller.is_staff() {
            check = check
                .key(keys::PK, s(keys::practice(&caller.practice_id)))
                .key(keys::SK, s(keys::staff_sk(&caller.user_id)))
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(caller.role.as_str()));
            "active = :t AND #role = :role"
        } else {
            check = check
                .key(keys::PK, s(keys::patient(&caller.practice_id, &caller.user_id)))
                .key(keys::SK, s(keys::PATIENT_SK));
            "portalAccess = :t"
        };
        // Stored times are fixed-width RFC 3339 in UTC, so their order is the strings' order.
        let signed_in = |t: i64| Timestamp::from_second(t).map(|t| s(t.to_string()));
        let factor = match enrolment {
            EnrolmentCondition::EnrolledBefore(t) => {
                check = check.expression_attribute_values(":signedIn", signed_in(t)?);
                "totpEnrolledAt < :signedIn"
            }
            EnrolmentCondition::NoneOrEnrolledBefore(t) => {
                check = check.expression_attribute_values(":signedIn", signed_in(t)?);
                "(attribute_not_exists(totpEnrolledAt) OR totpEnrolledAt < :signedIn)"
            }
            EnrolmentCondition::NotEnrolled => "attribute_not_exists(totpEnrolledAt)",
        };
        self.push_check(
            Guard::Actor,
            check
                .condition_expression(format!("{who} AND {factor}"))
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
        )
    }

    /// The acting patient still exists in this practice.
    pub fn check_patient_exists(&mut self, practice_id: &PracticeId, patient_id: &UserId) -> Result<()> {
        self.push_check(
            Guard::Actor,
            ConditionCheck::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(keys::patient(practice_id, patient_id)))
                .key(keys::SK, s(keys::PATIENT_SK))
                .condition_expression("attribute_exists(pk)"),
        )
    }

    /// The acting patient exists and is active (ROLE-5: an inactive patient writes only to
    /// Billing and the Front Office); a failure is `Guard::Inactive`.
    pub fn check_patient_active(&mut self, practice_id: &PracticeId, patient_id: &UserId) -> Result<()> {
        self.push_check(
            Guard::Inactive,
            ConditionCheck::builder()
                .table_name(&self.store.table)
                .key(keys::PK, s(keys::patient(practice_id, patient_id)))
                .key(keys::SK, s(keys::PATIENT_SK))
                .condition_expression("attribute_exists(pk) AND active = :t")
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
        )
    }
}
