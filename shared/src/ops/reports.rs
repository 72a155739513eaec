//! The billing report (REPLY-2): billable messages with their fee codes over a date range.
//! Admin class.

use crate::app::{App, RequestCtx};
use crate::audit::AuditRecord;
use crate::domain::RoleClass;
use crate::error::{Error, Result};
use serde_json::{json, Value};
use time::macros::format_description;
use time::Date;

fn parse_date(field: &str, raw: Option<&str>) -> Result<Date> {
    Date::parse(raw.unwrap_or(""), format_description!("[year]-[month]-[day]"))
        .map_err(|_| Error::invalid(field, format!("`{field}` must be a date such as 2026-12-01")))
}

/// The months (`YYYY-MM`) from one date to another, at most 24.
fn months(from: Date, to: Date) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (from.year(), u8::from(from.month()));
    while (y, m) <= (to.year(), u8::from(to.month())) && out.len() < 24 {
        out.push(format!("{y:04}-{m:02}"));
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    out
}

/// GET /reports/billing?from=YYYY-MM-DD&to=YYYY-MM-DD.
pub async fn billing(app: &App, ctx: &RequestCtx, from: Option<&str>, to: Option<&str>) -> Result<Value> {
    let caller = &ctx.caller;
    if caller.class() != RoleClass::Admin {
        return Err(Error::Forbidden("the billing report is for admin roles".into()));
    }
    let (from, to) = (parse_date("from", from)?, parse_date("to", to)?);
    if from > to {
        return Err(Error::invalid("from", "`from` is after `to`"));
    }
    if (to - from).whole_days() > 731 {
        return Err(Error::invalid("to", "a report covers at most two years"));
    }
    let p = caller.practice_id.as_str();
    let mut items = Vec::new();
    for month in months(from, to) {
        for b in app.store.billing_month(p, &month, &from.to_string(), &to.to_string()).await? {
            items.push(json!({
                "messageId": b.message_id, "conversationId": b.conversation_id, "patientId": b.patient_id,
                "staffId": b.staff_id, "feeCode": b.fee_code, "at": b.at,
            }));
        }
    }
    crate::ops::audit_read(
        app,
        ctx,
        "report.billing",
        AuditRecord { record_type: "report", record_id: "billing", patient_id: None },
    )
    .await?;
    Ok(json!({ "from": from.to_string(), "to": to.to_string(), "items": items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_span_the_range() {
        let d = |s: &str| Date::parse(s, format_description!("[year]-[month]-[day]")).unwrap();
        assert_eq!(months(d("2026-11-15"), d("2027-02-01")), vec!["2026-11", "2026-12", "2027-01", "2027-02"]);
        assert_eq!(months(d("2026-11-15"), d("2026-11-20")), vec!["2026-11"]);
    }
}
