//! Reply-time promises (SLA-1..3): the practice's targets and holidays, the clock a patient's
//! question starts and what stops it, and the inbox's due filters. The business-time
//! arithmetic itself (weekends, holidays, DST) is unit-tested in `reply_clock`.

use carethread_core::domain::{SignedDuration, Timestamp};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn put_settings(app: &TestApp, user: &User, body: Value) -> Answer {
    app.send("PUT", "/settings", Some(&user.token), Some(&body), &[]).await
}

/// A practice that promises every question a reply within `normal` (every hour counts: no
/// business hours are set), and a question from Jane. Answers the conversation's id and the
/// compose answer.
async fn question_under(app: &TestApp, p: &DemoPractice, normal: Value) -> (String, Answer) {
    let targets = json!({ "normal": normal, "urgent": { "businessHours": 4 } });
    let res = put_settings(app, &p.admin, json!({ "replyTargets": targets })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app.post(&p.jane.token, "/conversations", json!({ "subject": "Refill", "body": "Is it ready?" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    (res.body["conversation"]["id"].as_str().unwrap().to_string(), res)
}

fn due_at(v: &Value) -> Timestamp {
    Timestamp::parse("at", v["replyDueAt"].as_str().unwrap_or_else(|| panic!("no replyDueAt in {v}"))).unwrap()
}

async fn inbox_row(app: &TestApp, user: &User, cid: &str, query: &str) -> Option<Value> {
    let res = app.get(&user.token, &format!("/inbox?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["items"].as_array().unwrap().iter().find(|i| i["conversation"]["id"] == cid).cloned()
}

#[tokio::test]
async fn sla_1_targets_and_holidays_are_practice_settings_validated_on_the_way_in() {
    let (app, p) = setup().await;
    let targets = json!({ "urgent": { "businessHours": 4 }, "normal": { "businessDays": 2 } });
    let body = json!({ "replyTargets": targets, "holidays": ["2026-12-25", "2026-01-01", "2026-12-25"] });
    let res = put_settings(&app, &p.admin, body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["settings"]["replyTargets"], targets);
    assert_eq!(res.body["settings"]["holidays"], json!(["2026-01-01", "2026-12-25"]), "sorted, once each");

    let res = put_settings(&app, &p.admin, json!({ "holidays": ["25/12/2026"] })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "holidays");
    let res = put_settings(&app, &p.admin, json!({ "replyTargets": { "normal": { "weeks": 1 } } })).await;
    assert!(res.status.is_client_error(), "{}", res.body);
    let res = put_settings(&app, &p.admin, json!({ "replyTargets": { "normal": { "businessDays": 0 } } })).await;
    assert!(res.status.is_client_error(), "{}", res.body);
    assert!(res.body["detail"].as_str().unwrap().contains("more than nothing"), "{}", res.body);
    assert_eq!(put_settings(&app, &p.nurse, json!({ "replyTargets": {} })).await.status, StatusCode::FORBIDDEN);
    // The refused changes left the settings as they were.
    let res = app.get(&p.nurse.token, "/settings").await;
    assert_eq!(res.body["settings"]["replyTargets"]["normal"]["businessDays"], 2);
}

#[tokio::test]
async fn sla_2_a_patient_question_is_answered_with_the_reply_it_may_expect() {
    let (app, p) = setup().await;
    let before = Timestamp::now();
    let (cid, composed) = question_under(&app, &p, json!({ "businessDays": 2 })).await;
    // Without business hours a business day is 24 hours.
    let due = due_at(&composed.body["conversation"]);
    let (low, high) = (before + SignedDuration::from_hours(48), Timestamp::now() + SignedDuration::from_hours(48));
    assert!(low <= due && due <= high, "due {due} outside {low}..{high}");
    assert!(composed.body["conversation"]["replyDueLocal"].as_str().unwrap().ends_with("+00:00"));
    assert!(composed.body["conversation"].get("replyOverdue").is_none(), "patients are not told 'overdue'");
    // The thread shows it to the patient; staff see it with its overdue state, in the inbox too.
    let thread = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_eq!(due_at(&thread.body["conversation"]), due);
    let row = inbox_row(&app, &p.doctor, &cid, "").await.expect("the doctor's inbox holds the question");
    assert_eq!(due_at(&row["conversation"]), due);
    assert_eq!(row["conversation"]["replyOverdue"], false);
}

#[tokio::test]
async fn sla_2_a_follow_up_from_the_patient_keeps_the_promise_and_an_internal_note_does_not_stop_it() {
    let (app, p) = setup().await;
    let (cid, composed) = question_under(&app, &p, json!({ "businessDays": 2 })).await;
    let due = due_at(&composed.body["conversation"]);
    let path = format!("/conversations/{cid}/messages");
    let res = app.post(&p.jane.token, &path, json!({ "body": "Any news?" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(due_at(&res.body), due, "a second message does not move the promise");
    let res = app.post(&p.doctor.token, &path, json!({ "body": "Check the chart", "internal": true })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let row = inbox_row(&app, &p.nurse, &cid, "").await.unwrap();
    assert_eq!(due_at(&row["conversation"]), due, "an internal note is not a reply");
}

#[tokio::test]
async fn sla_2_an_urgent_follow_up_brings_the_due_time_forward() {
    let (app, p) = setup().await;
    let (cid, composed) = question_under(&app, &p, json!({ "businessDays": 2 })).await;
    let due = due_at(&composed.body["conversation"]);
    let path = format!("/conversations/{cid}/messages");
    let res = app.post(&p.jane.token, &path, json!({ "body": "It got worse", "priority": "urgent" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let sooner = due_at(&res.body);
    assert!(sooner < due && sooner <= Timestamp::now() + SignedDuration::from_hours(4), "{sooner} vs {due}");
}

#[tokio::test]
async fn sla_2_a_staff_reply_to_the_patient_stops_the_clock_everywhere() {
    let (app, p) = setup().await;
    let (cid, _) = question_under(&app, &p, json!({ "businessDays": 2 })).await;
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Ready." })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["replyDueAt"], Value::Null, "{}", res.body);
    let thread = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["conversation"]["replyDueAt"], Value::Null);
    for staff in [&p.doctor, &p.nurse] {
        let row = inbox_row(&app, staff, &cid, "").await.unwrap();
        assert_eq!(row["conversation"]["replyDueAt"], Value::Null, "{row}");
        assert!(row["conversation"].get("replyOverdue").is_none(), "{row}");
    }
}

#[tokio::test]
async fn sla_2_closing_the_conversation_stops_the_clock() {
    let (app, p) = setup().await;
    let (cid, _) = question_under(&app, &p, json!({ "businessDays": 2 })).await;
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/close"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["conversation"]["replyDueAt"], Value::Null, "{}", res.body);
    let row = inbox_row(&app, &p.nurse, &cid, "").await.unwrap();
    assert_eq!(row["conversation"]["replyDueAt"], Value::Null, "{row}");
}

#[tokio::test]
async fn sla_2_no_promise_is_made_where_the_practice_sets_no_target() {
    let (app, p) = setup().await;
    let res = app.post(&p.jane.token, "/conversations", json!({ "subject": "Refill", "body": "Is it ready?" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["conversation"]["replyDueAt"], Value::Null, "{}", res.body);
}

#[tokio::test]
async fn sla_3_the_inbox_filters_conversations_due_soon_and_overdue() {
    let (app, p) = setup().await;
    let (cid, _) = question_under(&app, &p, json!({ "businessMinutes": 1 })).await;
    let (answered, _) = question_under(&app, &p, json!({ "businessMinutes": 1 })).await;
    let res =
        app.post(&p.doctor.token, &format!("/conversations/{answered}/messages"), json!({ "body": "Done" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert!(inbox_row(&app, &p.doctor, &cid, "due=soon").await.is_some(), "due in a minute is soon");
    assert!(inbox_row(&app, &p.doctor, &cid, "due=overdue").await.is_none());
    // The only way to be overdue is to wait: a minute of (round-the-clock) business time.
    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    let row = inbox_row(&app, &p.doctor, &cid, "due=overdue").await.expect("overdue now");
    assert_eq!(row["conversation"]["replyOverdue"], true);
    assert!(inbox_row(&app, &p.doctor, &cid, "due=soon").await.is_none());
    assert!(inbox_row(&app, &p.doctor, &answered, "due=overdue").await.is_none(), "answered: no clock");
}

#[tokio::test]
async fn sla_3_a_due_filter_is_refused_where_it_means_nothing() {
    let (app, p) = setup().await;
    let res = app.get(&p.doctor.token, "/inbox?due=yesterday").await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "due");
    let res = app.get(&p.admin.token, "/inbox?tab=practice&due=overdue").await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "due");
}

/// A question from Jane answered by `staff` under a practice promising two days; the
/// conversation's id.
async fn answered_question(app: &TestApp, p: &DemoPractice, staff: &User, priority: &str) -> String {
    let body = json!({ "subject": "Question", "body": "A question", "priority": priority });
    let res = app.post(&p.jane.token, "/conversations", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let res = app.post(&staff.token, &format!("/conversations/{cid}/messages"), json!({ "body": "An answer" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    cid
}

fn report_path(group_by: &str) -> String {
    let day = |t: Timestamp| t.date().to_string();
    let now = Timestamp::now();
    let (from, to) = (day(now - SignedDuration::from_hours(24)), day(now + SignedDuration::from_hours(24)));
    format!("/reports/response-times?from={from}&to={to}&groupBy={group_by}")
}

fn group<'a>(report: &'a Value, key: &str) -> &'a Value {
    let groups = report["groups"].as_array().unwrap();
    groups.iter().find(|g| g["key"] == key).unwrap_or_else(|| panic!("no group {key} in {report}"))
}

#[tokio::test]
async fn sla_5_reply_times_are_reported_per_staff_member_and_priority() {
    let (app, p) = setup().await;
    question_under(&app, &p, json!({ "businessDays": 2 })).await;
    answered_question(&app, &p, &p.doctor, "normal").await;
    answered_question(&app, &p, &p.doctor, "normal").await;
    answered_question(&app, &p, &p.nurse, "urgent").await;
    let res = app.get(&p.admin.token, &report_path("staff")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(group(&res.body, p.doctor.id.as_str())["replies"], 2);
    assert_eq!(group(&res.body, p.nurse.id.as_str())["replies"], 1);
    assert_eq!(group(&res.body, p.nurse.id.as_str())["withinTarget"], 1.0, "answered within four hours");
    let res = app.get(&p.admin.token, &report_path("priority")).await;
    assert_eq!(group(&res.body, "normal")["replies"], 2);
    assert_eq!(group(&res.body, "urgent")["replies"], 1);
    // The question still waiting is no reply; an internal note would not have been one either.
    assert_eq!(res.body["groups"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn sla_5_a_reply_time_is_recomputed_from_the_audit_log() {
    let (app, p) = setup().await;
    question_under(&app, &p, json!({ "businessDays": 2 })).await;
    let cid = answered_question(&app, &p, &p.nurse, "normal").await;
    // Without business hours, business time is the time between the two audited events.
    let log = app.get(&p.admin.token, &format!("/audit?conversationId={cid}")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let at = |action: &str| {
        let events = log.body["items"].as_array().unwrap();
        let e = events.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action} in {}", log.body));
        Timestamp::parse("at", e["at"].as_str().unwrap()).unwrap()
    };
    let waited = at("message.create").as_jiff().duration_since(at("conversation.create").as_jiff());
    let recomputed = (waited.as_secs() as f64 / 6.0).round() / 10.0;
    let report = app.get(&p.admin.token, &report_path("staff")).await;
    assert_eq!(group(&report.body, p.nurse.id.as_str())["medianMinutes"], recomputed);
}

#[tokio::test]
async fn sla_5_the_report_comes_as_csv_for_admins_only() {
    let (app, p) = setup().await;
    question_under(&app, &p, json!({ "businessDays": 2 })).await;
    answered_question(&app, &p, &p.doctor, "normal").await;
    let res = app.get_raw(&p.admin.token, &report_path("priority"), Some("text/csv")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "key,replies,medianMinutes,p90Minutes,withinTarget");
    assert!(lines[1].starts_with("normal,1,"), "{csv}");
    assert_eq!(app.get(&p.doctor.token, &report_path("staff")).await.status, StatusCode::FORBIDDEN);
    let res = app.get(&p.admin.token, &report_path("patient")).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "groupBy");
}

/// A practice that promises four hours (round the clock) and escalates at three quarters of
/// it to the Front Office; a question from Jane. Answers its id and the moment it was asked.
async fn escalating_question(app: &TestApp, p: &DemoPractice) -> (String, Timestamp) {
    let settings = json!({
        "replyTargets": { "normal": { "businessHours": 4 } },
        "escalation": { "atShare": 0.75, "to": { "type": "workgroup", "id": p.front_office_id } },
    });
    let res = put_settings(app, &p.admin, settings).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["settings"]["escalation"]["atShare"], 0.75);
    let res = app.post(&p.jane.token, "/conversations", json!({ "subject": "Rash", "body": "It spreads." })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let asked = Timestamp::parse("at", res.body["conversation"]["createdAt"].as_str().unwrap()).unwrap();
    (res.body["conversation"]["id"].as_str().unwrap().to_string(), asked)
}

async fn escalate_at(app: &TestApp, now: Timestamp) -> carethread_core::jobs::escalations::EscalationReport {
    carethread_core::jobs::escalations::escalate_due(app.function("reply-escalations"), now, 10).await.unwrap()
}

/// The escalation notes in a thread as `reader` sees it, and whether the workgroup is assigned.
async fn escalation_state(app: &TestApp, p: &DemoPractice, reader: &User, cid: &str) -> (usize, bool) {
    let thread = app.get(&reader.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.status, StatusCode::OK, "{}", thread.body);
    let notes = escalation_notes(&thread.body);
    let assigned = thread.body["conversation"]["assignees"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["type"] == "workgroup" && a["id"] == p.front_office_id);
    (notes, assigned)
}

#[tokio::test]
async fn sla_4_a_question_left_waiting_escalates_to_the_chosen_workgroup_once() {
    let (app, p) = setup().await;
    let (cid, asked) = escalating_question(&app, &p).await;
    // Two hours in: under three quarters of the target.
    assert_eq!(escalate_at(&app, asked + SignedDuration::from_hours(2)).await.escalated, 0);
    assert_eq!(escalation_state(&app, &p, &p.doctor, &cid).await, (0, false));
    // Past three hours, two overlapping runs: one escalation between them.
    let due = asked + SignedDuration::from_mins(181);
    let (a, b) = tokio::join!(escalate_at(&app, due), escalate_at(&app, due));
    assert_eq!(a.escalated + b.escalated, 1, "{a:?} {b:?}");
    assert_eq!(escalate_at(&app, due + SignedDuration::from_hours(1)).await.escalated, 0, "and never again");
    assert_eq!(escalation_state(&app, &p, &p.doctor, &cid).await, (1, true));
    // The Front Office has it in its inbox now; the note is staff-only.
    assert!(inbox_row(&app, &p.front_desk, &cid, "").await.is_some(), "the workgroup's member holds it");
    let thread = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().unwrap().len(), 1, "{}", thread.body);
}

#[tokio::test]
async fn sla_4_an_answered_or_closed_question_does_not_escalate() {
    let (app, p) = setup().await;
    let (answered, asked) = escalating_question(&app, &p).await;
    let res = app
        .post(&p.doctor.token, &format!("/conversations/{answered}/messages"), json!({ "body": "Send a photo" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let (closed, _) = escalating_question(&app, &p).await;
    let res = app.post(&p.doctor.token, &format!("/conversations/{closed}/close"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(escalate_at(&app, asked + SignedDuration::from_hours(5)).await.escalated, 0);
    assert_eq!(escalation_state(&app, &p, &p.doctor, &answered).await, (0, false));
    assert_eq!(escalation_state(&app, &p, &p.doctor, &closed).await, (0, false));
}

#[tokio::test]
async fn sla_4_an_escalation_target_must_be_of_the_practice() {
    let (app, p) = setup().await;
    let to = json!({ "type": "workgroup", "id": "wg_nosuchgroup" });
    let res = put_settings(&app, &p.admin, json!({ "escalation": { "atShare": 0.75, "to": to } })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "escalation.to");
    let res = put_settings(&app, &p.admin, json!({ "escalation": null })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["settings"]["escalation"], Value::Null);
}

#[tokio::test]
async fn sla_3_the_inbox_sorts_questions_owed_a_reply_soonest_due_first() {
    let (app, p) = setup().await;
    let targets =
        json!({ "urgent": { "businessHours": 1 }, "normal": { "businessDays": 2 }, "low": { "businessDays": 3 } });
    assert_eq!(put_settings(&app, &p.admin, json!({ "replyTargets": targets })).await.status, StatusCode::OK);
    let ask = |priority: &'static str| {
        let (app, jane) = (&app, &p.jane);
        async move {
            let body = json!({ "subject": format!("A {priority} question"), "body": "?", "priority": priority });
            let res = app.post(&jane.token, "/conversations", body).await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
            res.body["conversation"]["id"].as_str().unwrap().to_string()
        }
    };
    let (low, normal, urgent, answered) =
        (ask("low").await, ask("normal").await, ask("urgent").await, ask("normal").await);
    let res =
        app.post(&p.doctor.token, &format!("/conversations/{answered}/messages"), json!({ "body": "Done" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["conversation"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = app.get(&p.doctor.token, "/inbox?sort=due&limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(ids(&first.body), vec![urgent.clone(), normal.clone()]);
    let cursor = first.body["nextCursor"].as_str().expect("a second page").to_string();
    let second = app.get(&p.doctor.token, &format!("/inbox?sort=due&limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second.body), vec![low.clone()], "the answered question is owed nothing");
    // A cursor pages the order it came from, and the due order is the All tab's.
    assert!(app.get(&p.doctor.token, &format!("/inbox?limit=2&cursor={cursor}")).await.status.is_client_error());
    let res = app.get(&p.doctor.token, "/inbox?sort=due&tab=team").await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "sort");
}

#[tokio::test]
async fn sla_2_the_patients_never_mind_stops_the_clock_and_records_no_reply_time() {
    let (app, p) = setup().await;
    let (cid, _) = question_under(&app, &p, json!({ "businessDays": 2 })).await;
    let withdraw = format!("/conversations/{cid}/withdraw");
    assert_problem(&app.post(&p.doctor.token, &withdraw, json!({})).await, StatusCode::FORBIDDEN);
    let res = app.post(&p.jane.token, &withdraw, json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["replyDueAt"], Value::Null);
    assert!(res.body["message"]["body"].as_str().unwrap().starts_with("Never mind"));
    let row = inbox_row(&app, &p.doctor, &cid, "").await.unwrap();
    assert_eq!(row["conversation"]["replyDueAt"], Value::Null, "{row}");
    // Nothing waits now: a second one is refused, and the staff answer after it is no reply time.
    assert_problem(&app.post(&p.jane.token, &withdraw, json!({})).await, StatusCode::CONFLICT);
    let res =
        app.post(&p.doctor.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Glad to hear" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let report = app.get(&p.admin.token, &report_path("staff")).await;
    assert_eq!(report.body["groups"], json!([]), "{}", report.body);
}
