//! Per-user budgets for the routes that cost the most (security finding 12): a search reads
//! up to 2,000 index items, an export decrypts a whole conversation, a broadcast writes a
//! conversation per patient. API Gateway's stage throttling bounds the whole API; these bound
//! one user, so a stolen or scripted session cannot run up the practice's bill or starve
//! its colleagues.

use crate::app::{App, RequestCtx};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expensive {
    Search,
    Export,
    Broadcast,
    /// A one-time code texted or mailed to a destination (ACCT-4).
    VerificationCode,
}

impl Expensive {
    /// Uses per user and minute: well above what a person does by hand.
    pub fn per_minute(self) -> u64 {
        match self {
            Expensive::Search => 120,
            Expensive::Export => 10,
            Expensive::Broadcast => 5,
            Expensive::VerificationCode => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Expensive::Search => "search",
            Expensive::Export => "export",
            Expensive::Broadcast => "broadcast",
            Expensive::VerificationCode => "verification code",
        }
    }
}

/// Spends one use of the caller's budget, or answers 429 until the minute is over.
pub async fn spend(app: &App, ctx: &RequestCtx, what: Expensive) -> Result<()> {
    let minute = ctx.epoch_seconds().div_euclid(60);
    let caller = &ctx.caller;
    if app.store.spend_budget(&caller.practice_id, &caller.user_id, what.name(), minute, what.per_minute()).await? {
        return Ok(());
    }
    Err(Error::too_many(
        format!("at most {} {} requests a minute per user; try again in a minute", what.per_minute(), what.name()),
        Some(ctx.seconds_left_in(60)),
    ))
}
