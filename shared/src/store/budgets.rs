//! A user's spend of a rate budget: one counter item per user, budget and minute, which
//! expires (TTL) soon after its minute.

use super::keys;
use super::{n, s, update_if, PracticeId, Store, UserId};
use crate::error::Result;

impl Store {
    /// Counts one more use of `budget` by this user in this minute, unless `limit` uses were
    /// counted already: `false` then, and nothing is written.
    pub async fn spend_budget(
        &self,
        practice_id: &PracticeId,
        user_id: &UserId,
        budget: &str,
        minute: i64,
        limit: u64,
    ) -> Result<bool> {
        update_if(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(keys::user(practice_id, user_id)))
                .key(keys::SK, s(keys::budget_sk(budget, minute)))
                .update_expression("ADD used :one SET expiresAt = :expires")
                .condition_expression("attribute_not_exists(used) OR used < :limit")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":limit", n(limit))
                .expression_attribute_values(":expires", n((minute as u64 + 2) * 60)),
        )
        .await
    }
}
