//! The reply-time promise (SLA-1, SLA-2): business time in the practice's time zone, hours
//! and holidays; what starts and stops the clock on a patient's question, and when the reply
//! is due. Pure functions, the clock passed in.
//!
//! A target is business time: minutes and hours of open time, or business days, a day being
//! the length of the practice's opening hours (9:00–17:00: eight hours). So "2 business days"
//! from Tuesday 10:00 is Thursday 10:00, and from Saturday it is Tuesday at closing time. A
//! practice without business hours counts every hour of every day except its holidays.

use crate::domain::{Priority, SenderKind, SignedDuration, Timestamp};
use crate::error::Result;
use crate::hours::BusinessHours;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How far ahead a due time is searched for: a calendar with no open day in two years
/// (every day a holiday) makes no promise rather than loop.
const SEARCH_DAYS: usize = 731;

/// An amount of business time as a practice writes it (API.md): `{"businessMinutes": 90}`,
/// `{"businessHours": 4}` or `{"businessDays": 2}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SpanFields", into = "SpanFields")]
pub struct BusinessSpan {
    amount: u32,
    unit: SpanUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpanUnit {
    Minutes,
    Hours,
    Days,
}

/// The wire form: exactly one of the three.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SpanFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    business_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    business_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    business_days: Option<u32>,
}

impl TryFrom<SpanFields> for BusinessSpan {
    type Error = String;
    fn try_from(f: SpanFields) -> std::result::Result<BusinessSpan, String> {
        let (amount, unit) = match (f.business_minutes, f.business_hours, f.business_days) {
            (Some(m), None, None) => (m, SpanUnit::Minutes),
            (None, Some(h), None) => (h, SpanUnit::Hours),
            (None, None, Some(d)) => (d, SpanUnit::Days),
            _ => return Err("a reply target is one of businessMinutes, businessHours or businessDays".into()),
        };
        BusinessSpan::new(amount, unit)
    }
}

impl From<BusinessSpan> for SpanFields {
    fn from(s: BusinessSpan) -> SpanFields {
        match s.unit {
            SpanUnit::Minutes => SpanFields { business_minutes: Some(s.amount), ..Default::default() },
            SpanUnit::Hours => SpanFields { business_hours: Some(s.amount), ..Default::default() },
            SpanUnit::Days => SpanFields { business_days: Some(s.amount), ..Default::default() },
        }
    }
}

impl BusinessSpan {
    fn new(amount: u32, unit: SpanUnit) -> std::result::Result<BusinessSpan, String> {
        let most = match unit {
            SpanUnit::Minutes => 60 * 24 * 60,
            SpanUnit::Hours => 24 * 60,
            SpanUnit::Days => 60,
        };
        if amount == 0 || amount > most {
            return Err("a reply target must be more than nothing and at most 60 business days".into());
        }
        Ok(BusinessSpan { amount, unit })
    }

    pub fn minutes(n: u32) -> std::result::Result<BusinessSpan, String> {
        BusinessSpan::new(n, SpanUnit::Minutes)
    }

    pub fn hours(n: u32) -> std::result::Result<BusinessSpan, String> {
        BusinessSpan::new(n, SpanUnit::Hours)
    }

    pub fn days(n: u32) -> std::result::Result<BusinessSpan, String> {
        BusinessSpan::new(n, SpanUnit::Days)
    }

    /// Its length in open time, a business day being `day` long.
    pub fn duration(self, day: SignedDuration) -> SignedDuration {
        let n = i64::from(self.amount);
        match self.unit {
            SpanUnit::Minutes => SignedDuration::from_mins(n),
            SpanUnit::Hours => SignedDuration::from_hours(n),
            SpanUnit::Days => SignedDuration::from_secs(day.as_secs() * n),
        }
    }
}

/// SLA-1: the reply a practice promises, per priority of the patient's message. A priority
/// without a target gets no promise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyTargets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<BusinessSpan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<BusinessSpan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<BusinessSpan>,
}

impl ReplyTargets {
    pub fn for_priority(&self, p: Priority) -> Option<BusinessSpan> {
        match p {
            Priority::Urgent => self.urgent,
            Priority::Normal => self.normal,
            Priority::Low => self.low,
        }
    }
}

/// SLA-4: a question still unanswered after this share of its target's business time goes
/// to `to` as well (co-assigned), once. The share is kept in thousandths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Escalation {
    #[serde(with = "share")]
    pub at_share: u16,
    pub to: crate::domain::Recipient,
}

/// A share between 0 and 1 on the wire (`0.75`), thousandths inside.
mod share {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(per_mille: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(f64::from(*per_mille) / 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let share = f64::deserialize(d)?;
        if !(share > 0.0 && share <= 1.0) {
            return Err(serde::de::Error::custom("escalation.atShare must be more than 0 and at most 1"));
        }
        Ok((share * 1000.0).round().max(1.0) as u16)
    }
}

impl Escalation {
    /// When a question asked at `since` under a target of `span` escalates.
    pub fn time(&self, since: Timestamp, span: BusinessSpan, calendar: &Calendar) -> Option<Timestamp> {
        let target = span.duration(calendar.day_length());
        let part = SignedDuration::from_secs(target.as_secs() * i64::from(self.at_share) / 1000);
        calendar.add(since, part)
    }
}

/// The practice's business time: its zone, its open hours (none: all day, every day) and its
/// holidays, which are closed whatever the weekday.
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: jiff::tz::TimeZone,
    hours: Option<OpenHours>,
    holidays: Vec<Date>,
}

/// Opening hours as wall-clock (hour, minute) pairs.
#[derive(Clone, Debug)]
struct OpenHours {
    days: Vec<u8>,
    open: (i8, i8),
    close: (i8, i8),
}

impl Calendar {
    /// `holidays`: `YYYY-MM-DD` dates in the practice's zone (checked when they were set).
    pub fn new(time_zone: &str, hours: Option<&BusinessHours>, holidays: &[String]) -> Result<Calendar> {
        let tz = crate::hours::time_zone(time_zone)?;
        let hours = match hours {
            Some(h) => {
                let (open, close) = h.open_close_minutes()?;
                let hm = |m: u16| ((m / 60) as i8, (m % 60) as i8);
                Some(OpenHours { days: h.days.clone(), open: hm(open), close: hm(close) })
            }
            None => None,
        };
        let holidays = holidays.iter().map(|d| crate::domain::parse_date("holidays", d)).collect::<Result<Vec<_>>>()?;
        Ok(Calendar { tz, hours, holidays })
    }

    /// The length of a business day: the open hours' length, or 24 hours.
    pub fn day_length(&self) -> SignedDuration {
        match &self.hours {
            Some(OpenHours { open: (oh, om), close: (ch, cm), .. }) => {
                SignedDuration::from_mins(i64::from(*ch) * 60 + i64::from(*cm) - i64::from(*oh) * 60 - i64::from(*om))
            }
            None => SignedDuration::from_hours(24),
        }
    }

    /// The open interval of a local date, as instants (a DST change inside the hours makes
    /// the day an hour shorter or longer).
    fn open_on(&self, date: Date) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
        if self.holidays.contains(&date) {
            return None;
        }
        let at = |h: i8, m: i8| date.at(h, m, 0, 0).to_zoned(self.tz.clone()).ok().map(|z| z.timestamp());
        match &self.hours {
            None => Some((at(0, 0)?, date.tomorrow().ok()?.at(0, 0, 0, 0).to_zoned(self.tz.clone()).ok()?.timestamp())),
            Some(OpenHours { days, open: (oh, om), close: (ch, cm) }) => {
                let weekday = date.weekday().to_monday_one_offset() as u8;
                days.contains(&weekday).then_some(())?;
                Some((at(*oh, *om)?, at(*ch, *cm)?))
            }
        }
    }

    fn local_date(&self, t: jiff::Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }

    /// The instant at which `span` of business time has passed since `start`; `None` when
    /// the calendar has no open time within two years.
    pub fn add(&self, start: Timestamp, span: SignedDuration) -> Option<Timestamp> {
        let start = start.as_jiff();
        let mut left = span;
        let mut date = self.local_date(start);
        for _ in 0..SEARCH_DAYS {
            if let Some((open, close)) = self.open_on(date) {
                let from = open.max(start);
                if from < close {
                    let available = close.duration_since(from);
                    if left <= available {
                        return Some(Timestamp::from_jiff(from + left));
                    }
                    left -= available;
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The business time between two instants (zero when `to` is not after `from`).
    pub fn elapsed(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let (from, to) = (from.as_jiff(), to.as_jiff());
        let mut total = SignedDuration::ZERO;
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last && from < to {
            if let Some((open, close)) = self.open_on(date) {
                let (a, b) = (open.max(from), close.min(to));
                if a < b {
                    total += b.duration_since(a);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }

    /// An instant as the practice's wall clock shows it, with its offset
    /// (`2026-12-03T17:00:00-06:00`): what "expected reply by" is written in.
    pub fn local(&self, t: Timestamp) -> String {
        let z = t.as_jiff().to_zoned(self.tz.clone());
        z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// A running reply clock: since when the patient has waited, at which priority, and when
/// the reply is due, as an instant and on the practice's wall clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyClock {
    pub since: Timestamp,
    pub priority: Priority,
    pub due: ReplyDue,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyDue {
    pub at: Timestamp,
    pub local: String,
}

/// A message as the clock sees it.
#[derive(Clone, Copy, Debug)]
pub struct ClockEvent {
    pub at: Timestamp,
    pub priority: Priority,
    pub sender: SenderKind,
    /// CONV-5: an internal note, which the patient never sees.
    pub internal: bool,
    /// SLA-2: the patient's own "never mind": the question needs no reply any more.
    pub withdraws: bool,
}

/// What a message does to a conversation's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockChange {
    Keep,
    /// Started, or brought forward by a more urgent question.
    Run(ReplyClock),
    Stop,
}

/// SLA-2: a patient message (from the portal or a text) starts the clock, or brings it
/// forward when its priority's target falls due sooner; a staff message the patient sees,
/// or the patient's own "never mind", stops it; an internal note or an automatic answer (out of office, after hours) changes
/// nothing. Only conversations with a patient have a clock (`patient_facing`).
pub fn after_message(
    running: Option<&ReplyClock>,
    event: ClockEvent,
    patient_facing: bool,
    targets: Option<&ReplyTargets>,
    calendar: &Calendar,
) -> ClockChange {
    if !patient_facing || event.internal {
        return ClockChange::Keep;
    }
    if event.withdraws {
        return if running.is_some() { ClockChange::Stop } else { ClockChange::Keep };
    }
    match event.sender {
        SenderKind::Patient | SenderKind::Sms => {}
        SenderKind::Staff if running.is_some() => return ClockChange::Stop,
        SenderKind::Staff | SenderKind::System => return ClockChange::Keep,
    }
    let Some(span) = targets.and_then(|t| t.for_priority(event.priority)) else {
        return ClockChange::Keep;
    };
    let Some(due) = calendar.add(event.at, span.duration(calendar.day_length())) else {
        return ClockChange::Keep;
    };
    match running {
        Some(r) if r.due.at <= due => ClockChange::Keep,
        _ => ClockChange::Run(ReplyClock {
            since: running.map_or(event.at, |r| r.since),
            priority: event.priority,
            due: ReplyDue { at: due, local: calendar.local(due) },
        }),
    }
}

#[cfg(test)]
#[path = "reply_clock_tests.rs"]
mod tests;
