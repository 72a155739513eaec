//! E-visits over time (EVISIT-1..3): the window opens at the first clinician review of the
//! patient's question, a clinician corrects its own time by hand, the portal asks for the
//! patient's consent, and at the window's end the `evisit-windows` job records the code once
//! and notes it in the thread.

use carethread_core::domain::{SignedDuration, Timestamp};
use carethread_core::jobs::evisit_windows::{record_ended_in, WindowReport};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn question(app: &TestApp, p: &DemoPractice) -> String {
    let res = app.post(&p.jane.token, "/conversations", json!({ "subject": "Rash", "body": "Since Monday." })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

async fn open(app: &TestApp, who: &User, cid: &str) -> Value {
    let res = app.post(&who.token, &format!("/conversations/{cid}/evisit"), json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["evisit"].clone()
}

async fn spend(app: &TestApp, who: &User, cid: &str, body: Value) -> Answer {
    app.post(&who.token, &format!("/conversations/{cid}/evisit/time"), body).await
}

fn at(v: &Value, field: &str) -> Timestamp {
    Timestamp::parse(field, v[field].as_str().unwrap()).unwrap()
}

async fn read(app: &TestApp, who: &User, cid: &str) {
    assert_eq!(app.get(&who.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn evisit_2_the_window_opens_at_the_first_review_by_a_qualified_clinician() {
    let (app, p) = setup().await;
    let cid = question(&app, &p).await;
    // The nurse's reading is not a clinician review (clinical staff); the second physician's is.
    read(&app, &p.nurse, &cid).await;
    read(&app, &p.doctor2, &cid).await;
    read(&app, &p.doctor, &cid).await;
    let visit = open(&app, &p.doctor, &cid).await;
    let opens = at(&visit, "windowOpensAt");
    assert!(opens < at(&visit, "openedAt"), "the window opened at the review before the e-visit: {visit}");
    assert_eq!(at(&visit, "windowEndsAt"), opens + SignedDuration::from_hours(7 * 24));
    let log = app.get(&p.admin.token, &format!("/audit?conversationId={cid}")).await;
    let doctor2_read = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "conversation.read" && e["actorId"] == json!(p.doctor2.id))
        .map(|e| at(e, "at"))
        .min()
        .expect("the second physician's reading is audited");
    assert!(opens <= doctor2_read, "opened {opens}, reviewed {doctor2_read}");
}

#[tokio::test]
async fn evisit_2_a_patient_message_makes_the_next_review_the_one_that_counts() {
    let (app, p) = setup().await;
    let cid = question(&app, &p).await;
    read(&app, &p.doctor, &cid).await;
    let res =
        app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Worse today." })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    // Nobody reviewed the follow-up yet: opening the e-visit is its first review.
    let visit = open(&app, &p.doctor, &cid).await;
    assert_eq!(at(&visit, "windowOpensAt"), at(&visit, "openedAt"));
}

#[tokio::test]
async fn evisit_1_a_clinician_corrects_its_own_time_by_hand_with_a_reason() {
    let (app, p) = setup().await;
    let cid = question(&app, &p).await;
    open(&app, &p.doctor, &cid).await;
    assert_eq!(
        spend(&app, &p.doctor, &cid, json!({ "seconds": 720, "source": "active" })).await.status,
        StatusCode::CREATED
    );
    let res = spend(&app, &p.doctor, &cid, json!({ "seconds": -300, "source": "manual" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "reason");
    let res = spend(&app, &p.doctor, &cid, json!({ "seconds": -300, "source": "active" })).await;
    assert_eq!(res.body["field"], "seconds", "measured time is never negative");
    let correction = json!({ "seconds": -300, "source": "manual", "reason": "Left the thread open during a call" });
    let res = spend(&app, &p.doctor, &cid, correction).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let visit = &res.body["evisit"];
    assert_eq!((visit["totalMinutes"].clone(), visit["suggestedCode"].clone()), (json!(7), json!("99421")));
    let entries: Vec<(i64, &str)> = visit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["seconds"].as_i64().unwrap(), e["source"].as_str().unwrap()))
        .collect();
    assert_eq!(entries, vec![(720, "active"), (-300, "manual")]);
    // Never more than one's own time: 420 seconds are left to the physician, none to another.
    let res = spend(&app, &p.doctor, &cid, json!({ "seconds": -421, "source": "manual", "reason": "Too much" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "seconds");
    let res = spend(&app, &p.doctor2, &cid, json!({ "seconds": -60, "source": "manual", "reason": "Not mine" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let log = app.get(&p.admin.token, &format!("/audit?conversationId={cid}")).await;
    let manual = log.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "evisit.time_manual").count();
    assert_eq!(manual, 1, "the correction is audited; the refused ones stored nothing");
}

#[tokio::test]
async fn evisit_3_the_portal_asks_for_consent_an_evisit_lacks_until_the_patient_answers() {
    let (app, p) = setup().await;
    let path = format!("/patients/{}/evisit-consent", p.jane.id);
    let before = app.get(&p.jane.token, &path).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert_eq!(before.body, json!({ "consent": null, "current": false, "requested": false }));
    let cid = question(&app, &p).await;
    open(&app, &p.doctor, &cid).await;
    let asked = app.get(&p.jane.token, &path).await;
    assert_eq!((asked.body["requested"].clone(), asked.body["current"].clone()), (json!(true), json!(false)));
    let res = app.send("PUT", &path, Some(&p.jane.token), Some(&json!({ "given": true })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let answered = app.get(&p.doctor.token, &path).await;
    assert_eq!((answered.body["requested"].clone(), answered.body["current"].clone()), (json!(false), json!(true)));
    assert_eq!(answered.body["consent"]["given"], true);
    // Nobody reads another patient's consent; an unknown patient is as unknown to staff.
    assert_problem(
        &app.get(&p.jane.token, &format!("/patients/{}/evisit-consent", p.john.id)).await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(&app.get(&p.doctor.token, "/patients/usr_nobody/evisit-consent").await, StatusCode::NOT_FOUND);
}

/// The e-visit notes of a thread as `reader` sees it.
async fn evisit_notes(app: &TestApp, reader: &User, cid: &str) -> Vec<String> {
    let thread = app.get(&reader.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.status, StatusCode::OK, "{}", thread.body);
    thread.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .filter(|b| b.starts_with("E-visit window closed"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn evisit_2_at_the_windows_end_the_code_is_recorded_once_and_noted_in_the_thread() {
    let (app, p) = setup().await;
    let cid = question(&app, &p).await;
    let opened = open(&app, &p.doctor, &cid).await;
    assert_eq!(
        spend(&app, &p.doctor, &cid, json!({ "seconds": 780, "source": "active" })).await.status,
        StatusCode::CREATED
    );
    let job = app.function("evisit-windows");
    let ends = at(&opened, "windowEndsAt");
    let run = |now: Timestamp| record_ended_in(job, &p.id, now, 10);
    // A day before the end: nothing to record.
    assert_eq!(run(ends - SignedDuration::from_hours(24)).await.unwrap(), WindowReport::default());
    // Just after it, two overlapping runs: one records, the other finds it done.
    let after = ends + SignedDuration::from_mins(5);
    let (a, b) = tokio::join!(run(after), run(after));
    assert_eq!(a.unwrap().recorded + b.unwrap().recorded, 1);
    assert_eq!(run(after + SignedDuration::from_hours(1)).await.unwrap(), WindowReport::default(), "unlisted");
    let notes = evisit_notes(&app, &p.doctor, &cid).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("13 minutes") && notes[0].contains("99422") && notes[0].contains("no consent"),
        "{notes:?}"
    );
    assert!(evisit_notes(&app, &p.jane, &cid).await.is_empty(), "a staff-only note");
    // The record stands: consent given afterwards does not rewrite the billed flags.
    let consent = format!("/patients/{}/evisit-consent", p.jane.id);
    app.send("PUT", &consent, Some(&p.jane.token), Some(&json!({ "given": true })), &[]).await;
    let visit = app.get(&p.doctor.token, &format!("/conversations/{cid}/evisit")).await.body["evisit"].clone();
    assert_eq!(visit["status"], "closed");
    assert!(visit["recordedAt"].is_string(), "{visit}");
    assert_eq!((visit["suggestedCode"].clone(), visit["flags"].clone()), (json!("99422"), json!(["no-consent"])));
    let log = app.get(&p.admin.token, &format!("/audit?conversationId={cid}")).await;
    let recorded = log.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "evisit.record").count();
    assert_eq!(recorded, 1);
}

#[tokio::test]
async fn evisit_2_closing_the_conversation_ends_the_window_and_the_next_run_records_it() {
    let (app, p) = setup().await;
    let cid = question(&app, &p).await;
    open(&app, &p.doctor, &cid).await;
    assert_eq!(
        spend(&app, &p.doctor, &cid, json!({ "seconds": 330, "source": "active" })).await.status,
        StatusCode::CREATED
    );
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/close"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let visit = app.get(&p.doctor.token, &format!("/conversations/{cid}/evisit")).await.body["evisit"].clone();
    assert_eq!((visit["status"].clone(), visit["suggestedCode"].clone()), (json!("closed"), json!("99421")));
    let soon = Timestamp::now() + SignedDuration::from_mins(1);
    let report = record_ended_in(app.function("evisit-windows"), &p.id, soon, 10).await.unwrap();
    assert_eq!(report.recorded, 1, "closed six days before its window's end, recorded at the next run");
    assert_eq!(evisit_notes(&app, &p.doctor, &cid).await.len(), 1);
    let visit = app.get(&p.doctor.token, &format!("/conversations/{cid}/evisit")).await.body["evisit"].clone();
    assert!(visit["recordedAt"].is_string(), "{visit}");
}

#[tokio::test]
async fn evisit_2_a_conversation_reopened_before_the_run_keeps_its_window_to_the_end() {
    let (app, p) = setup().await;
    let cid = question(&app, &p).await;
    let opened = open(&app, &p.doctor, &cid).await;
    for action in ["close", "reopen"] {
        let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/{action}"), json!({})).await;
        assert_eq!(res.status, StatusCode::OK, "{action}: {}", res.body);
    }
    let job = app.function("evisit-windows");
    let soon = Timestamp::now() + SignedDuration::from_mins(1);
    assert_eq!(record_ended_in(job, &p.id, soon, 10).await.unwrap().recorded, 0);
    let visit = app.get(&p.doctor.token, &format!("/conversations/{cid}/evisit")).await.body["evisit"].clone();
    assert_eq!((visit["status"].clone(), visit["recordedAt"].clone()), (json!("open"), Value::Null));
    assert_eq!(
        spend(&app, &p.doctor, &cid, json!({ "seconds": 60, "source": "active" })).await.status,
        StatusCode::CREATED
    );
    let after = at(&opened, "windowEndsAt") + SignedDuration::from_mins(5);
    assert_eq!(record_ended_in(job, &p.id, after, 10).await.unwrap().recorded, 1, "listed at its window's end again");
}
