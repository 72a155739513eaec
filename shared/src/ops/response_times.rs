//! SLA-5: reply times over a period, per staff member, workgroup or priority: how long
//! patients waited for the reply that stopped each clock, in the practice's business time
//! (median and 90th percentile, nearest rank), and the share answered within the target.
//! Every figure comes from the replies' records, each of which the audit log can recompute:
//! the patient's message and the reply are audited events with their times.

use super::reports::{months, period};
use crate::app::{App, RequestCtx};
use crate::audit::AuditRecord;
use crate::domain::ReplyTime;
use crate::domain::RoleClass;
use crate::error::{Error, Result};
use crate::views::{ResponseTimeGroup, ResponseTimesReport};
use std::collections::BTreeMap;

/// What the report's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Staff,
    Workgroup,
    Priority,
}

impl GroupBy {
    pub fn parse(raw: Option<&str>) -> Result<GroupBy> {
        match raw.unwrap_or("staff") {
            "staff" => Ok(GroupBy::Staff),
            "workgroup" => Ok(GroupBy::Workgroup),
            "priority" => Ok(GroupBy::Priority),
            _ => Err(Error::invalid("groupBy", "groupBy must be one of staff, workgroup, priority")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            GroupBy::Staff => "staff",
            GroupBy::Workgroup => "workgroup",
            GroupBy::Priority => "priority",
        }
    }

    /// The rows a reply counts in: its author, each workgroup the conversation was assigned
    /// to (or `unassigned`), or its question's priority.
    fn keys(self, r: &ReplyTime) -> Vec<String> {
        match self {
            GroupBy::Staff => vec![r.staff_id.to_string()],
            GroupBy::Workgroup if r.workgroup_ids.is_empty() => vec!["unassigned".to_string()],
            GroupBy::Workgroup => r.workgroup_ids.clone(),
            GroupBy::Priority => vec![r.priority.as_str().to_string()],
        }
    }
}

/// GET /reports/response-times?from=YYYY-MM-DD&to=YYYY-MM-DD&groupBy=staff|workgroup|priority
/// (admin class): replies made from `from` to `to` (UTC dates, inclusive).
pub async fn report(
    app: &App,
    ctx: &RequestCtx,
    from: Option<&str>,
    to: Option<&str>,
    group_by: GroupBy,
) -> Result<ResponseTimesReport> {
    let caller = &ctx.caller;
    if caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("the response-time report is for admin roles".into()));
    }
    let (from, to) = period(from, to)?;
    let p = &caller.practice_id;
    let mut replies = Vec::new();
    for month in months(from, to) {
        replies.extend(app.store.reply_times_month(p, &month, &from.to_string(), &to.to_string()).await?);
    }
    let record = AuditRecord { record_type: "report", record_id: "response-times", patient_id: None };
    crate::ops::audit_read(app, ctx, "report.response_times", record).await?;
    Ok(ResponseTimesReport {
        from: from.to_string(),
        to: to.to_string(),
        group_by: group_by.as_str(),
        groups: summarize(&replies, group_by),
    })
}

/// The rows of the report, by key.
pub fn summarize(replies: &[ReplyTime], group_by: GroupBy) -> Vec<ResponseTimeGroup> {
    let mut groups: BTreeMap<String, Vec<&ReplyTime>> = BTreeMap::new();
    for r in replies {
        for key in group_by.keys(r) {
            groups.entry(key).or_default().push(r);
        }
    }
    groups
        .into_iter()
        .map(|(key, rs)| {
            let mut waits: Vec<i64> = rs.iter().map(|r| r.business_seconds).collect();
            waits.sort_unstable();
            let targeted: Vec<bool> =
                rs.iter().filter_map(|r| r.target_seconds.map(|t| r.business_seconds <= t)).collect();
            let within = targeted.iter().filter(|w| **w).count();
            ResponseTimeGroup {
                key,
                replies: rs.len(),
                median_minutes: minutes(nearest_rank(&waits, 50)),
                p90_minutes: minutes(nearest_rank(&waits, 90)),
                within_target: (!targeted.is_empty())
                    .then(|| (within as f64 / targeted.len() as f64 * 1000.0).round() / 1000.0),
            }
        })
        .collect()
}

/// The `pct`th percentile of sorted values by the nearest-rank method: the value at rank
/// ⌈pct/100 × n⌉, a value that occurred (no interpolation).
fn nearest_rank(sorted: &[i64], pct: usize) -> i64 {
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or(0)
}

/// Seconds as minutes to a tenth.
fn minutes(seconds: i64) -> f64 {
    (seconds as f64 / 6.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConversationId, MessageId, Priority, Timestamp, UserId};

    fn reply(staff: &str, workgroups: &[&str], priority: Priority, minutes: i64, target: Option<i64>) -> ReplyTime {
        let at = Timestamp::parse("t", "2026-12-01T10:00:00Z").unwrap();
        ReplyTime {
            conversation_id: ConversationId::new(),
            message_id: MessageId::new(),
            staff_id: UserId::from_stored(staff),
            workgroup_ids: workgroups.iter().map(|w| w.to_string()).collect(),
            priority,
            asked_at: at,
            replied_at: at,
            business_seconds: minutes * 60,
            target_seconds: target.map(|t| t * 60),
        }
    }

    #[test]
    fn sla_5_median_and_p90_are_nearest_rank_over_business_minutes() {
        // Ten replies of 1..=10 minutes: median is the 5th, p90 the 9th.
        let replies: Vec<_> = (1..=10).map(|m| reply("stf_a", &[], Priority::Normal, m, Some(6))).collect();
        let rows = summarize(&replies, GroupBy::Staff);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].replies, rows[0].median_minutes, rows[0].p90_minutes), (10, 5.0, 9.0));
        assert_eq!(rows[0].within_target, Some(0.6), "1..=6 minutes are within a 6-minute target");
        // One reply: it is both.
        let one = summarize(&[reply("stf_a", &[], Priority::Normal, 7, None)], GroupBy::Staff);
        assert_eq!((one[0].median_minutes, one[0].p90_minutes, one[0].within_target), (7.0, 7.0, None));
    }

    #[test]
    fn sla_5_replies_count_in_each_group_they_belong_to() {
        let replies = vec![
            reply("stf_a", &["wg_front"], Priority::Urgent, 30, Some(240)),
            reply("stf_b", &["wg_front", "wg_nurses"], Priority::Normal, 600, Some(480)),
            reply("stf_b", &[], Priority::Normal, 60, Some(480)),
        ];
        let keys = |g: GroupBy| summarize(&replies, g).into_iter().map(|r| (r.key, r.replies)).collect::<Vec<_>>();
        assert_eq!(keys(GroupBy::Staff), vec![("stf_a".into(), 1), ("stf_b".into(), 2)]);
        assert_eq!(
            keys(GroupBy::Workgroup),
            vec![("unassigned".into(), 1), ("wg_front".into(), 2), ("wg_nurses".into(), 1)]
        );
        assert_eq!(keys(GroupBy::Priority), vec![("normal".into(), 2), ("urgent".into(), 1)]);
        let by_priority = summarize(&replies, GroupBy::Priority);
        assert_eq!(by_priority[0].within_target, Some(0.5), "600 > 480, 60 <= 480");
    }

    #[test]
    fn sla_5_group_by_is_one_of_three() {
        assert_eq!(GroupBy::parse(None).unwrap(), GroupBy::Staff);
        assert_eq!(GroupBy::parse(Some("workgroup")).unwrap(), GroupBy::Workgroup);
        assert!(GroupBy::parse(Some("patient")).is_err());
    }
}
