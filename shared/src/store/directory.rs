//! Practices, staff and patients: the directory's reads, and its writes in a `Tx`.

use super::*;

/// The directories a function read, by practice: (the practice's `directoryVersion` read
/// before the copy, its staff, its workgroups).
pub(super) type Copies = std::sync::Mutex<HashMap<String, (u64, std::sync::Arc<(Vec<Staff>, Vec<Workgroup>)>)>>;

impl Store {
    /// The directory, from this function's copy while the practice record (read by the caller,
    /// strongly consistent, in its batch) says nothing in it changed since; otherwise read
    /// again (issue 18: a warm compose or assign makes no directory Query). The copy is kept
    /// under the version read *before* it, so a change that lands in between makes the next
    /// request read again rather than keep a copy older than its version.
    ///
    /// The staff records in a copy may lag a preference (out-of-office, notification choices
    /// and the like also move the version, so they do not lag for long); routing, fan-out and
    /// names use it. The caller's own record is never taken from it (SEC-4 reads it fresh).
    pub async fn directory_as_of(&self, practice: Practice) -> Result<Directory> {
        let key = practice.id.to_string();
        let copy = self.directories.lock().expect("directory copies").get(&key).cloned();
        if let Some((_, copy)) = copy.filter(|(v, _)| *v == practice.directory_version) {
            let (staff, workgroups) = copy.as_ref().clone();
            return Ok(Directory { practice, staff, workgroups });
        }
        let read = self.directory(&practice.id).await?.ok_or(Error::Unauthenticated)?;
        let copy = std::sync::Arc::new((read.staff.clone(), read.workgroups.clone()));
        self.directories.lock().expect("directory copies").insert(key, (practice.directory_version, copy));
        Ok(Directory { practice, ..read })
    }

    /// The active staff of this function's copy of the directory, however old (none before a
    /// first read): whom a new conversation about a patient may reach, to read their patient
    /// markers in the request's first batch. `post_message` reads any it did not.
    pub fn staff_hint(&self, practice_id: &PracticeId) -> Vec<UserId> {
        let copies = self.directories.lock().expect("directory copies");
        let staff = copies.get(practice_id.as_str()).map(|(_, copy)| &copy.0);
        staff.into_iter().flatten().filter(|s| s.active).map(|s| s.id.clone()).collect()
    }

    pub async fn practice(&self, practice_id: &PracticeId) -> Result<Option<Practice>> {
        self.get(keys::practice(practice_id), keys::PRACTICE_SK).await
    }

    /// Read consistently: it holds the caller's own record, which an operation that reads the
    /// directory anyway admits its caller by (`App::admit`, SEC-4).
    pub async fn directory(&self, practice_id: &PracticeId) -> Result<Option<Directory>> {
        let query = self
            .query()
            .consistent_read(true)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::practice(practice_id)));
        let items = self.query_all(query).await?;
        let mut practice = None;
        let mut staff = Vec::new();
        let mut workgroups = Vec::new();
        for item in items {
            let sk = match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) => sk.clone(),
                _ => continue,
            };
            if sk == keys::PRACTICE_SK {
                practice = Some(from_item(item)?);
            } else if sk.starts_with("STAFF#") {
                staff.push(from_item(item)?);
            } else if sk.starts_with("WG#") {
                workgroups.push(from_item(item)?);
            }
        }
        Ok(practice.map(|practice| Directory { practice, staff, workgroups }))
    }

    /// Read consistently: a deactivation or a role change must hold from the next request on.
    pub async fn staff(&self, practice_id: &PracticeId, user_id: &UserId) -> Result<Option<Staff>> {
        self.get_consistent(&keys::practice(practice_id), &keys::staff_sk(user_id)).await
    }

    /// Read consistently, as `staff`.
    pub async fn patient(&self, practice_id: &PracticeId, patient_id: &UserId) -> Result<Option<Patient>> {
        self.get_consistent(&keys::patient(practice_id, patient_id), keys::PATIENT_SK).await
    }

    /// REPLY-4: how many messages the patient sent on `day` (UTC), as `Tx::patient_daily_count`
    /// counted them.
    pub async fn patient_messages_on(&self, practice_id: &PracticeId, patient_id: &UserId, day: &str) -> Result<u32> {
        #[derive(serde::Deserialize)]
        struct Day {
            #[serde(default)]
            messages: u32,
        }
        let counted = self.get_consistent::<Day>(&keys::patient(practice_id, patient_id), &day_sk(day)).await?;
        Ok(counted.map_or(0, |d| d.messages))
    }

    /// The patient finder: the blind-index entries under one token (a name prefix).
    pub async fn patients_by_token(
        &self,
        practice_id: &PracticeId,
        token: &str,
        limit: i32,
    ) -> Result<Vec<PatientToken>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::patient_token(practice_id, token)))
            .limit(limit)
            .send()
            .await
            .map_err(sdk_error)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    /// Every practice's id (the registry; a job's walk, never a request's).
    pub async fn practice_ids(&self) -> Result<Vec<PracticeId>> {
        Ok(self
            .query_partition(keys::PRACTICES.to_string(), None)
            .await?
            .into_iter()
            .filter_map(|i| match i.get(keys::SK) {
                Some(AttributeValue::S(id)) => Some(PracticeId::from_stored(id)),
                _ => None,
            })
            .collect())
    }
}

impl Tx<'_> {
    /// NOTIFY-4: claims a two-way SMS number for a practice; refused if another has it.
    pub fn claim_sms_number(&mut self, number: &str, practice_id: &PracticeId) -> Result<()> {
        let item = SmsNumberOwner { practice_id: practice_id.clone() };
        self.push_put(
            Guard::SmsNumber,
            to_item(&place::sms_number(number), &item)?,
            Some(("attribute_not_exists(pk) OR practiceId = :p", vec![(":p", s(practice_id))])),
        )
    }

    /// Replaces a practice's settings (SET-1).
    /// `sms_number_read` is the practice's SMS number as the caller read it: the operator may
    /// assign a new one meanwhile (ACCT-4), and a settings edit must not put the old one back.
    pub fn practice_settings(
        &mut self,
        practice_id: &PracticeId,
        settings: &Settings,
        sms_number_read: &str,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::practice(practice_id)))
            .key(keys::SK, s(keys::PRACTICE_SK))
            .update_expression("SET settings = :s")
            .condition_expression(
                "attribute_exists(pk) AND (settings.smsNumber = :n OR attribute_not_exists(settings.smsNumber))",
            )
            .expression_attribute_values(":s", to_value(settings)?)
            .expression_attribute_values(":n", s(sms_number_read));
        self.push_update(Guard::Practice, update)
    }

    /// Sets or clears a staff user's out-of-office (REPLY-5); only while the user is active.
    pub fn staff_out_of_office(
        &mut self,
        practice_id: &PracticeId,
        user_id: &UserId,
        ooo: Option<&OutOfOffice>,
    ) -> Result<()> {
        let mut update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::practice(practice_id)))
            .key(keys::SK, s(keys::staff_sk(user_id)))
            .condition_expression("active = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true));
        update = match ooo {
            Some(o) => update.update_expression("SET outOfOffice = :o").expression_attribute_values(":o", to_value(o)?),
            None => update.update_expression("REMOVE outOfOffice"),
        };
        self.push_update(Guard::Actor, update)
    }

    /// A user's notification preference (NOTIFY-1) that needs no proof (none, or the address
    /// on file): on the staff record (active only) or on the patient's record. A destination
    /// still waiting for its code is dropped.
    pub fn user_notify(&mut self, caller: &crate::domain::Caller, prefs: &NotifyPrefs) -> Result<()> {
        let (update, condition) = user_record(self.store, caller);
        let update = update
            .condition_expression(condition)
            .update_expression("SET notify = :n REMOVE notifyPending")
            .expression_attribute_values(":n", to_value(prefs)?);
        self.push_update(Guard::Actor, update)
    }

    /// ACCT-3: the caller's TOTP second factor is set up, as of `at`.
    pub fn user_totp_enrolled(&mut self, caller: &crate::domain::Caller, at: Timestamp) -> Result<()> {
        let (update, condition) = user_record(self.store, caller);
        let update = update
            .condition_expression(condition)
            .update_expression("SET totpEnrolledAt = :at")
            .expression_attribute_values(":at", s(at));
        self.push_update(Guard::Actor, update)
    }

    /// ACCT-3: an administrator takes a user's second factor away (a lost phone).
    pub fn totp_forget(&mut self, practice_id: &PracticeId, user_id: &UserId, staff: bool) -> Result<()> {
        let update = user_update(self.store, practice_id, user_id, staff)
            .condition_expression("attribute_exists(pk)")
            .update_expression("REMOVE totpEnrolledAt");
        self.push_update(Guard::User, update)
    }

    /// ACCT-4: a destination waiting for its one-time code (replaces any earlier one).
    pub fn user_notify_pending(&mut self, caller: &crate::domain::Caller, pending: &PendingDestination) -> Result<()> {
        let (update, condition) = user_record(self.store, caller);
        let update = update
            .condition_expression(condition)
            .update_expression("SET notifyPending = :p")
            .expression_attribute_values(":p", to_value(pending)?);
        self.push_update(Guard::Actor, update)
    }

    /// ACCT-4: the right code: the pending destination becomes the preference. Refused
    /// ("pending") if the code was replaced or used meanwhile.
    pub fn user_notify_proven(
        &mut self,
        caller: &crate::domain::Caller,
        prefs: &NotifyPrefs,
        code_hash: &str,
    ) -> Result<()> {
        let (update, condition) = user_record(self.store, caller);
        let update = update
            .condition_expression(format!("{condition} AND notifyPending.codeHash = :h"))
            .update_expression("SET notify = :n REMOVE notifyPending")
            .expression_attribute_values(":n", to_value(prefs)?)
            .expression_attribute_values(":h", s(code_hash));
        self.push_update(Guard::Pending, update)
    }

    /// ACCT-4: an expired code drops its pending destination (unless replaced meanwhile).
    pub fn user_notify_expired(&mut self, caller: &crate::domain::Caller, code_hash: &str) -> Result<()> {
        let (update, condition) = user_record(self.store, caller);
        let update = update
            .condition_expression(format!("{condition} AND notifyPending.codeHash = :h"))
            .update_expression("REMOVE notifyPending")
            .expression_attribute_values(":h", s(code_hash));
        self.push_update(Guard::Pending, update)
    }

    /// ACCT-4: a wrong code spends one attempt, conditioned on the count read, so parallel
    /// guesses cannot share an attempt; the last one (or an expired code) drops the pending
    /// destination. Refused ("pending") if the count moved meanwhile.
    pub fn user_notify_attempt(
        &mut self,
        caller: &crate::domain::Caller,
        code_hash: &str,
        attempts_left: u32,
    ) -> Result<()> {
        let (update, condition) = user_record(self.store, caller);
        let remaining = attempts_left.saturating_sub(1);
        let update = update
            .condition_expression(format!(
                "{condition} AND notifyPending.codeHash = :h AND notifyPending.attemptsLeft = :a"
            ))
            .update_expression(if remaining == 0 {
                "REMOVE notifyPending"
            } else {
                "SET notifyPending.attemptsLeft = :r"
            })
            .expression_attribute_values(":h", s(code_hash))
            .expression_attribute_values(":a", AttributeValue::N(attempts_left.to_string()));
        let update = if remaining == 0 {
            update
        } else {
            update.expression_attribute_values(":r", AttributeValue::N(remaining.to_string()))
        };
        self.push_update(Guard::Pending, update)
    }

    /// Counts one message of a patient's day (REPLY-4), refused at the practice's limit.
    pub fn patient_daily_count(
        &mut self,
        practice_id: &PracticeId,
        patient_id: &UserId,
        day: &str,
        limit: u32,
        expires_at: i64,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.store.table)
            .key(keys::PK, s(keys::patient(practice_id, patient_id)))
            .key(keys::SK, s(day_sk(day)))
            .update_expression("ADD messages :one SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(messages) OR messages < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(u64::from(limit)))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at.to_string()));
        self.push_update(Guard::Limit, update)
    }
}

/// The sort key of a patient's counter of messages sent on a day (REPLY-4).
fn day_sk(day: &str) -> String {
    format!("DAY#{day}")
}

/// An update of a staff user's or a patient's record.
fn user_update(
    store: &Store,
    practice_id: &PracticeId,
    user_id: &UserId,
    staff: bool,
) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    let update = Update::builder().table_name(&store.table);
    if staff {
        update.key(keys::PK, s(keys::practice(practice_id))).key(keys::SK, s(keys::staff_sk(user_id)))
    } else {
        update.key(keys::PK, s(keys::patient(practice_id, user_id))).key(keys::SK, s(keys::PATIENT_SK))
    }
}

/// The caller's own record (staff: active only), for the caller's own preference updates.
fn user_record(
    store: &Store,
    caller: &crate::domain::Caller,
) -> (aws_sdk_dynamodb::types::builders::UpdateBuilder, &'static str) {
    let update = user_update(store, &caller.practice_id, &caller.user_id, caller.is_staff());
    if caller.is_staff() {
        (update.expression_attribute_values(":t", AttributeValue::Bool(true)), "active = :t")
    } else {
        (update, "attribute_exists(pk)")
    }
}
