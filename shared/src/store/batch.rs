//! One BatchGetItem for everything an operation needs to read by key, the caller's own record
//! among it (issue 18: a request's reads in one call). An operation asks for slots, reads once,
//! and takes each value out of its slot; the keys stay here.

use super::{from_item, keys, Item, Store};
use crate::domain::{Caller, ConversationId, PracticeId, Timestamp, UserId};
use crate::domain::{Conversation, InboxEntry, Patient, Practice, Staff};
use crate::error::Result;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::marker::PhantomData;

/// Keys asked for so far; a key asked for twice is read once (BatchGetItem refuses duplicates).
pub struct Batch<'s> {
    store: &'s Store,
    wanted: Vec<(String, String)>,
    /// Where each key is in `wanted` (a batch of a large audience holds a hundred keys).
    positions: HashMap<(String, String), usize>,
}

/// Where one value will be once the batch is read.
pub struct Slot<T> {
    index: usize,
    kind: PhantomData<T>,
}

/// The caller's own record: a staff user's or a patient's (SEC-4, ACCT-2).
pub enum CallerRecord {
    Staff(Staff),
    Patient(Patient),
}

/// The slot of the caller's record, of whichever kind the caller is.
pub enum CallerSlot {
    Staff(Slot<Staff>),
    Patient(Slot<Patient>),
}

/// CONV-2: per user, when it last read the conversation and when it last looked at its inbox.
pub type ReceiptMarks = HashMap<UserId, (Option<Timestamp>, Option<Timestamp>)>;

/// The slots of the users' read marks: (user, entry, presence).
pub struct MarksSlot(Vec<(UserId, usize, usize)>);

/// The slots of users' counts of conversations about one patient (their patient markers).
pub struct PatientMarkersSlot(Vec<(UserId, usize)>);

/// Per user, how many of its conversations are about the patient (0 where it has none): a
/// new conversation about the patient counts the patient as new where this is 0 (INBOX-4).
pub type PatientMarkers = HashMap<UserId, u64>;

/// The slot of a user's inbox counters (INBOX-4).
pub struct StatsSlot(usize);

/// The items a batch found, by the position of their key.
pub struct Fetched {
    found: Vec<Option<Item>>,
}

impl Store {
    /// A batch read strongly consistent, as the caller's record must be read (a deactivation
    /// holds from the next request on).
    pub fn batch(&self) -> Batch<'_> {
        Batch { store: self, wanted: Vec::new(), positions: HashMap::new() }
    }
}

impl Batch<'_> {
    fn slot<T>(&mut self, pk: String, sk: String) -> Slot<T> {
        let key = (pk, sk);
        let index = match self.positions.get(&key) {
            Some(&i) => i,
            None => {
                self.wanted.push(key.clone());
                self.positions.insert(key, self.wanted.len() - 1);
                self.wanted.len() - 1
            }
        };
        Slot { index, kind: PhantomData }
    }

    pub fn caller(&mut self, caller: &Caller) -> CallerSlot {
        if caller.is_staff() {
            CallerSlot::Staff(self.staff(&caller.practice_id, &caller.user_id))
        } else {
            CallerSlot::Patient(self.patient(&caller.practice_id, &caller.user_id))
        }
    }

    pub fn staff(&mut self, practice_id: &PracticeId, user_id: &UserId) -> Slot<Staff> {
        self.slot(keys::practice(practice_id), keys::staff_sk(user_id))
    }

    pub fn patient(&mut self, practice_id: &PracticeId, patient_id: &UserId) -> Slot<Patient> {
        self.slot(keys::patient(practice_id, patient_id), keys::PATIENT_SK.to_string())
    }

    pub fn practice(&mut self, practice_id: &PracticeId) -> Slot<Practice> {
        self.slot(keys::practice(practice_id), keys::PRACTICE_SK.to_string())
    }

    pub fn conversation(&mut self, practice_id: &PracticeId, id: &ConversationId) -> Slot<Conversation> {
        self.slot(keys::conversation(practice_id, id), keys::CONVERSATION_SK.to_string())
    }

    pub fn entry(&mut self, practice_id: &PracticeId, user_id: &UserId, id: &ConversationId) -> Slot<InboxEntry> {
        self.slot(keys::user(practice_id, user_id), keys::entry_sk(id))
    }

    pub fn receipt_marks(&mut self, practice_id: &PracticeId, users: &[UserId], id: &ConversationId) -> MarksSlot {
        let slots = users.iter().map(|u| {
            let entry: Slot<()> = self.slot(keys::user(practice_id, u), keys::entry_sk(id));
            let presence: Slot<()> = self.slot(keys::user(practice_id, u), keys::PRESENCE_SK.to_string());
            (u.clone(), entry.index, presence.index)
        });
        MarksSlot(slots.collect())
    }

    pub fn stats(&mut self, practice_id: &PracticeId, user_id: &UserId) -> StatsSlot {
        let slot: Slot<()> = self.slot(keys::user(practice_id, user_id), keys::STATS_SK.to_string());
        StatsSlot(slot.index)
    }

    pub fn patient_markers(
        &mut self,
        practice_id: &PracticeId,
        users: &[UserId],
        patient_id: &UserId,
    ) -> PatientMarkersSlot {
        let slots = users.iter().map(|u| {
            let slot: Slot<()> = self.slot(keys::user(practice_id, u), keys::patient_marker_sk(patient_id));
            (u.clone(), slot.index)
        });
        PatientMarkersSlot(slots.collect())
    }

    /// How many keys it asks for so far.
    pub fn len(&self) -> usize {
        self.wanted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wanted.is_empty()
    }

    /// One BatchGetItem (one per hundred keys).
    pub async fn read(self) -> Result<Fetched> {
        let mut found = vec![None; self.wanted.len()];
        for item in self.store.batch_get(self.wanted, true).await? {
            let position = match (item.get(keys::PK), item.get(keys::SK)) {
                (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
                    self.positions.get(&(pk.clone(), sk.clone())).copied()
                }
                _ => None,
            };
            if let Some(i) = position {
                found[i] = Some(item);
            }
        }
        Ok(Fetched { found })
    }
}

impl Fetched {
    pub fn get<T: DeserializeOwned>(&self, slot: &Slot<T>) -> Result<Option<T>> {
        self.found[slot.index].clone().map(from_item).transpose()
    }

    pub fn caller(&self, slot: &CallerSlot) -> Result<Option<CallerRecord>> {
        Ok(match slot {
            CallerSlot::Staff(s) => self.get(s)?.map(CallerRecord::Staff),
            CallerSlot::Patient(s) => self.get(s)?.map(CallerRecord::Patient),
        })
    }

    pub fn stats(&self, slot: &StatsSlot) -> crate::domain::InboxStats {
        super::stats::parse_stats(self.found[slot.0].as_ref())
    }

    pub fn patient_markers(&self, slot: &PatientMarkersSlot) -> PatientMarkers {
        let count = |index: usize| match self.found[index].as_ref().and_then(|i| i.get("conversations")) {
            Some(AttributeValue::N(c)) => c.parse().unwrap_or(0),
            _ => 0,
        };
        slot.0.iter().map(|(user, index)| (user.clone(), count(*index))).collect()
    }

    pub fn receipt_marks(&self, slot: &MarksSlot) -> ReceiptMarks {
        // Written by the store from a `Timestamp`: one that does not parse is no mark.
        let mark = |index: usize, attribute: &str| match self.found[index].as_ref().and_then(|i| i.get(attribute)) {
            Some(AttributeValue::S(v)) => Timestamp::parse(attribute, v).ok(),
            _ => None,
        };
        slot.0
            .iter()
            .map(|(user, entry, presence)| (user.clone(), (mark(*entry, "lastReadAt"), mark(*presence, "inboxSeenAt"))))
            .collect()
    }
}
