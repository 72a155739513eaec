//! E-visits (EVISIT-1..4): an e-visit with its time entries in one Query, a patient's
//! consent, and the e-visits of a month for the billing report.

use super::*;

impl Store {
    /// An e-visit and its time entries, oldest first.
    pub async fn evisit(
        &self,
        practice_id: &PracticeId,
        conversation_id: &ConversationId,
    ) -> Result<Option<((Key, EVisit), Vec<EVisitTime>)>> {
        let query = self
            .query()
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::evisit(practice_id, conversation_id)));
        let mut visit = None;
        let mut time = Vec::new();
        for item in self.query_all(query).await? {
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk == keys::EVISIT_SK => visit = Some(keyed_from_item(item)?),
                Some(AttributeValue::S(sk)) if sk.starts_with(keys::EVISIT_TIME_PREFIX) => time.push(from_item(item)?),
                _ => {}
            }
        }
        Ok(visit.map(|v| (v, time)))
    }

    /// A patient's recorded E/M visits, oldest first.
    pub async fn visits(&self, practice_id: &PracticeId, patient: &UserId) -> Result<Vec<Visit>> {
        let query = self
            .query()
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::patient(practice_id, patient)))
            .expression_attribute_values(":prefix", s(keys::VISIT_PREFIX));
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    pub async fn evisit_consent(&self, practice_id: &PracticeId, patient: &UserId) -> Result<Option<EVisitConsent>> {
        self.get(keys::patient(practice_id, patient), keys::EVISIT_CONSENT_SK).await
    }

    /// The patient's consent and the practice's latest request for it, in one Query.
    pub async fn evisit_consent_state(
        &self,
        practice_id: &PracticeId,
        patient: &UserId,
    ) -> Result<(Option<EVisitConsent>, Option<EVisitConsentRequest>)> {
        let query = self
            .query()
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::patient(practice_id, patient)))
            .expression_attribute_values(":prefix", s(keys::EVISIT_CONSENT_SK));
        let (mut consent, mut request) = (None, None);
        for item in self.query_all(query).await? {
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk == keys::EVISIT_CONSENT_SK => consent = Some(from_item(item)?),
                Some(AttributeValue::S(sk)) if sk == keys::EVISIT_CONSENT_REQUEST_SK => {
                    request = Some(from_item(item)?)
                }
                _ => {}
            }
        }
        Ok((consent, request))
    }

    /// EVISIT-2: e-visits whose window ended before `before` and whose suggestion is not
    /// recorded yet, soonest first (GSI1 may lag a write: the job reads each one again).
    pub async fn evisits_ending(
        &self,
        practice_id: &PracticeId,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<EVisit>> {
        let items =
            self.queue_before(keys::GSI1, &keys::evisits_ending(practice_id), &before.to_string(), limit).await?;
        items.into_iter().map(from_item).collect()
    }

    /// The e-visits opened in one month between two dates.
    pub async fn evisits_month(
        &self,
        practice_id: &PracticeId,
        month: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<EVisitRef>> {
        self.month_between(keys::evisits_month(practice_id, month), from, to).await
    }
}
