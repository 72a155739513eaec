//! What a message does to the reply-time promise (SLA-2, SLA-4, SLA-5): the clock's change,
//! the record of the wait a reply ends, and the escalation of a question that starts one.
//! Worked out when the message is sealed (under the practice's settings) and written in the
//! message's own transaction by `post_message`.

use super::*;
use crate::reply_clock::{Calendar, ClockChange, ClockEvent, ReplyClock, ReplyTargets};
use crate::store::{Guard, Key};

/// What one message changes.
pub(super) struct PromiseChange {
    pub(super) clock: ClockChange,
    /// SLA-5: the wait this message ends, when it is the reply that stops the clock.
    reply_time: Option<(Key, ReplyTime)>,
    /// SLA-4: the escalation of the question this message starts to wait.
    escalation: Option<(Key, PendingEscalation)>,
}

/// The change message `m` makes to conversation `c`'s promise.
pub(super) fn after(c: &Conversation, m: &Message, withdraws: bool, settings: &Settings) -> Result<PromiseChange> {
    // A practice that promises nothing, and no question waiting: nothing to work out (and no
    // calendar to build for every message).
    if settings.reply_targets.is_none() && c.reply_clock.is_none() {
        return Ok(PromiseChange { clock: ClockChange::Keep, reply_time: None, escalation: None });
    }
    let calendar = settings.calendar()?;
    let clock = clock_change(c, m, withdraws, settings.reply_targets.as_ref(), &calendar);
    // A withdrawn question was not answered: it has no reply time.
    let reply_time = match (&clock, &c.reply_clock) {
        (ClockChange::Stop, Some(running)) if !withdraws => Some(reply_time(c, m, running, settings, &calendar)),
        _ => None,
    };
    let escalation = match (&clock, &c.reply_clock) {
        (ClockChange::Run(started), None) => escalation(c, started, settings, &calendar),
        _ => None,
    };
    Ok(PromiseChange { clock, reply_time, escalation })
}

impl PromiseChange {
    /// The conversation's clock once the message is in it.
    pub(super) fn clock_after(&self, c: &Conversation) -> Option<ReplyClock> {
        match &self.clock {
            ClockChange::Keep => c.reply_clock.clone(),
            ClockChange::Run(clock) => Some(clock.clone()),
            ClockChange::Stop => None,
        }
    }

    /// Adds its records to the message's transaction: the reply's wait, the new escalation,
    /// or the removal of the one a stopped clock leaves moot.
    pub(super) fn write(&self, tx: &mut Tx<'_>, c: &Conversation) -> Result<()> {
        if let Some((key, r)) = &self.reply_time {
            tx.put(Guard::ReplyTime, key.clone(), r)?;
        }
        match (&self.escalation, &self.clock) {
            (Some((key, e)), _) => tx.put(Guard::Escalation, key.clone(), e),
            (None, ClockChange::Stop) => {
                tx.delete_if_any(Guard::Escalation, &place::escalation_of(&c.practice_id, &c.id))
            }
            _ => Ok(()),
        }
    }
}

/// SLA-4: when a question whose clock just started escalates, if the practice escalates. A
/// question brought forward by a more urgent message keeps the escalation it started with.
fn escalation(
    c: &Conversation,
    started: &ReplyClock,
    settings: &Settings,
    calendar: &Calendar,
) -> Option<(Key, PendingEscalation)> {
    let span = settings.reply_targets.as_ref()?.for_priority(started.priority)?;
    let at = settings.escalation.as_ref()?.time(started.since, span, calendar)?;
    Some((
        place::escalation(&c.practice_id, &c.id, at),
        PendingEscalation { conversation_id: c.id.clone(), since: started.since, escalate_at: at, taken: false },
    ))
}

/// SLA-2: what a message does to its conversation's reply clock.
fn clock_change(
    c: &Conversation,
    m: &Message,
    withdraws: bool,
    targets: Option<&ReplyTargets>,
    calendar: &Calendar,
) -> ClockChange {
    let event =
        ClockEvent { at: m.created_at, priority: m.priority, sender: m.sender.kind, internal: m.internal, withdraws };
    crate::reply_clock::after_message(
        c.reply_clock.as_ref(),
        event,
        c.summary.kind.is_patient_facing(),
        targets,
        calendar,
    )
}

/// SLA-5: the record of a reply that stopped the clock: the wait in business time and the
/// target of the question's priority, for the response-time report.
fn reply_time(
    c: &Conversation,
    m: &Message,
    running: &ReplyClock,
    settings: &Settings,
    calendar: &Calendar,
) -> (Key, ReplyTime) {
    let target = settings.reply_targets.as_ref().and_then(|t| t.for_priority(running.priority));
    let record = ReplyTime {
        conversation_id: c.id.clone(),
        message_id: m.id.clone(),
        staff_id: m.sender.id.clone(),
        workgroup_ids: c
            .summary
            .assignees
            .iter()
            .filter(|a| a.kind == RecipientKind::Workgroup)
            .map(|a| a.id.clone())
            .collect(),
        priority: running.priority,
        asked_at: running.since,
        replied_at: m.created_at,
        business_seconds: calendar.elapsed(running.since, m.created_at).as_secs(),
        target_seconds: target.map(|t| t.duration(calendar.day_length()).as_secs()),
    };
    (place::reply_time(&c.practice_id, m.created_at, &m.id), record)
}
