//! The practice-wide view (ROLE-2 at scale): the admin and provider classes reach every
//! conversation they may open from the practice's own index of conversations (newest
//! activity first), not from entries of their own, and their own state in each (an entry
//! where they have one, else a read position) in one read beside it.

use super::*;
use crate::domain::ConversationKind;
use crate::domain::{AssignedFilter, InboxPosition, InboxView};
use crate::store::inbox::with_date_range;

/// The caller's own state in the conversations of a practice-wide page.
#[derive(Clone, Debug, Default)]
pub struct OwnStates {
    pub entries: HashMap<ConversationId, InboxEntry>,
    pub marks: HashMap<ConversationId, OwnState>,
}

impl Store {
    /// A page of a practice's conversations, newest activity first. `provider`: the caller
    /// is of the provider class, which sees every patient-facing conversation and the team
    /// conversations it takes part in or is assigned to (ROLE-2); the admin class sees all.
    /// The assigned, priority and date filters apply here; unread is the caller's own.
    pub async fn practice_page(
        &self,
        practice_id: &PracticeId,
        caller: &UserId,
        provider: bool,
        view: &InboxView,
        limit: usize,
        after: Option<&InboxPosition>,
    ) -> Result<(Vec<Conversation>, Option<InboxPosition>)> {
        let partition = keys::practice_conversations(practice_id);
        let start = after.map(|a| {
            HashMap::from([
                (keys::PK.to_string(), s(keys::conversation(practice_id, &a.conversation_id))),
                (keys::SK.to_string(), s(keys::CONVERSATION_SK)),
                (keys::GSI2PK.to_string(), s(&partition)),
                (keys::GSI2SK.to_string(), s(&a.sort)),
            ])
        });
        let mut key_condition = String::from("gsi2pk = :pk");
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .expression_attribute_values(":pk", s(&partition))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start);
        let mut q = with_date_range(q, &mut key_condition, keys::GSI2SK, view);
        let mut filters: Vec<&str> = Vec::new();
        let mut needs_me = false;
        if provider {
            filters.push("(summary.#kind <> :team OR contains(participants, :me) OR contains(assigneeIds, :me))");
            q = q
                .expression_attribute_names("#kind", "kind")
                .expression_attribute_values(":team", s(ConversationKind::Team.as_str()));
            needs_me = true;
        }
        match view.assigned {
            Some(AssignedFilter::Me) => {
                filters.push("contains(assigneeIds, :me)");
                needs_me = true;
            }
            Some(AssignedFilter::Others) => {
                filters.push("size(assigneeIds) > :zero AND NOT contains(assigneeIds, :me)");
                q = q.expression_attribute_values(":zero", n(0));
                needs_me = true;
            }
            None => {}
        }
        if let Some(priority) = view.priority {
            filters.push("latest.#priority = :priority");
            q = q
                .expression_attribute_names("#priority", "priority")
                .expression_attribute_values(":priority", s(priority.as_str()));
        }
        if needs_me {
            q = q.expression_attribute_values(":me", s(caller));
        }
        if !filters.is_empty() {
            q = q.filter_expression(filters.join(" AND "));
        }
        let out = q.key_condition_expression(key_condition).send().await.map_err(sdk_error)?;
        let conversations: Vec<Conversation> =
            out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_>>()?;
        let next = match out.last_evaluated_key {
            Some(k) if !k.is_empty() => match (k.get(keys::GSI2SK), k.get(keys::PK)) {
                (Some(AttributeValue::S(sort)), Some(AttributeValue::S(pk))) => Some(InboxPosition {
                    sort: sort.clone(),
                    conversation_id: pk.rsplit('#').next().unwrap_or_default().to_string(),
                }),
                _ => None,
            },
            _ => None,
        };
        Ok((conversations, next))
    }

    /// The caller's entries and read positions for some conversations, in one BatchGetItem
    /// (two keys each: a page holds at most 50).
    pub async fn own_states(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversations: &[ConversationId],
    ) -> Result<OwnStates> {
        Ok(self.conversations_and_own_states(practice_id, user_id, conversations, false).await?.1)
    }

    /// Search hits in the practice-wide view: the conversations themselves (when `with_records`)
    /// and the caller's own state in each, read together (three keys each, 100 keys a call).
    pub async fn conversations_and_own_states(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        conversations: &[ConversationId],
        with_records: bool,
    ) -> Result<(HashMap<ConversationId, Conversation>, OwnStates)> {
        let pk = keys::user(practice_id, user_id);
        let mut wanted: Vec<(String, String)> = Vec::new();
        for c in conversations {
            wanted.push((pk.clone(), keys::entry_sk(c)));
            wanted.push((pk.clone(), keys::own_state_sk(c)));
            if with_records {
                wanted.push((keys::conversation(practice_id, c), keys::CONVERSATION_SK.to_string()));
            }
        }
        let mut records = HashMap::new();
        let mut states = OwnStates::default();
        for item in self.get_many(wanted).await? {
            if matches!(item.get(keys::PK), Some(AttributeValue::S(p)) if *p != pk) {
                let c: Conversation = from_item(item)?;
                records.insert(c.id.clone(), c);
                continue;
            }
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk.starts_with(keys::OWN_STATE_SK_PREFIX) => {
                    let c = ConversationId::from_stored(&sk[keys::OWN_STATE_SK_PREFIX.len()..]);
                    states.marks.insert(c, from_item(item)?);
                }
                Some(AttributeValue::S(_)) => {
                    let entry: InboxEntry = from_item(item)?;
                    states.entries.insert(entry.conversation_id.clone(), entry);
                }
                _ => {}
            }
        }
        Ok((records, states))
    }
}
