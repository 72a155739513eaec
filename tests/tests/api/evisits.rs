//! E-visits (EVISIT-1..4): opened on a patient's question by a qualified clinician, time of
//! several clinicians adding up to the code it supports, consent, refusals, the audit trail
//! and the billing report. The code rules themselves are unit-tested from a table of cases
//! (`evisit`).

use carethread_core::domain::{SignedDuration, Timestamp};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Jane's question, and an e-visit the physician opened on it.
async fn evisit_on_a_question(app: &TestApp, p: &DemoPractice) -> (String, Value) {
    let res =
        app.post(&p.jane.token, "/conversations", json!({ "subject": "Sore throat", "body": "For a week now." })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/evisit"), json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    (cid, res.body["evisit"].clone())
}

async fn spend(app: &TestApp, who: &User, cid: &str, body: Value) -> Answer {
    app.post(&who.token, &format!("/conversations/{cid}/evisit/time"), body).await
}

#[tokio::test]
async fn evisit_1_evisit_2_time_of_two_physicians_adds_up_to_the_code_it_supports() {
    let (app, p) = setup().await;
    let (cid, opened) = evisit_on_a_question(&app, &p).await;
    assert_eq!(opened["status"], "open");
    let at = |v: &Value, f: &str| Timestamp::parse(f, v[f].as_str().unwrap()).unwrap();
    assert_eq!(at(&opened, "windowEndsAt"), at(&opened, "openedAt") + SignedDuration::from_hours(7 * 24));
    assert_eq!(opened["suggestedCode"], Value::Null);
    let res = spend(&app, &p.doctor, &cid, json!({ "seconds": 360, "source": "active" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(
        (res.body["evisit"]["totalMinutes"].clone(), res.body["evisit"]["suggestedCode"].clone()),
        (json!(6), json!("99421"))
    );
    let res = spend(&app, &p.doctor2, &cid, json!({ "seconds": 300, "source": "active" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let visit = &res.body["evisit"];
    assert_eq!((visit["totalMinutes"].clone(), visit["suggestedCode"].clone()), (json!(11), json!("99422")));
    assert_eq!(visit["minutesByClinician"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn evisit_3_clinical_staff_time_and_missing_consent_are_flagged_not_counted() {
    let (app, p) = setup().await;
    let (cid, opened) = evisit_on_a_question(&app, &p).await;
    assert_eq!(opened["flags"], json!(["no-consent"]));
    let res = spend(&app, &p.nurse, &cid, json!({ "seconds": 1200, "source": "active" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["evisit"]["totalMinutes"], 0);
    assert_eq!(res.body["evisit"]["flags"], json!(["clinical-staff-time", "no-consent"]));
    // Jane gives her consent in the portal; it holds for the year.
    let jane_id = p.jane.id.clone();
    let res = app
        .send(
            "PUT",
            &format!("/patients/{jane_id}/evisit-consent"),
            Some(&p.jane.token),
            Some(&json!({ "given": true })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app.get(&p.doctor.token, &format!("/conversations/{cid}/evisit")).await;
    assert_eq!(res.body["evisit"]["flags"], json!(["clinical-staff-time"]));
    // Nobody records another patient's consent.
    let john_id = p.john.id.clone();
    let res = app
        .send(
            "PUT",
            &format!("/patients/{john_id}/evisit-consent"),
            Some(&p.jane.token),
            Some(&json!({ "given": true })),
            &[],
        )
        .await;
    assert_problem(&res, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn evisit_1_only_a_patients_question_and_only_a_qualified_clinician() {
    let (app, p) = setup().await;
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Results", "body": "Normal." }),
        )
        .await;
    let staff_started = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let res = app.post(&p.doctor.token, &format!("/conversations/{staff_started}/evisit"), json!({})).await;
    assert_problem(&res, StatusCode::CONFLICT);
    let (cid, _) = evisit_on_a_question(&app, &p).await;
    assert_problem(
        &app.post(&p.doctor.token, &format!("/conversations/{cid}/evisit"), json!({})).await,
        StatusCode::CONFLICT,
    );
    let res = app.post(&p.jane.token, "/conversations", json!({ "subject": "Another", "body": "?" })).await;
    let other = res.body["conversation"]["id"].as_str().unwrap().to_string();
    assert_problem(
        &app.post(&p.nurse.token, &format!("/conversations/{other}/evisit"), json!({})).await,
        StatusCode::FORBIDDEN,
    );
    // E-visit records are the staff's; front-desk staff record no clinical time.
    assert_problem(&app.get(&p.jane.token, &format!("/conversations/{cid}/evisit")).await, StatusCode::FORBIDDEN);
    let res = spend(&app, &p.front_desk, &cid, json!({ "seconds": 60, "source": "active" })).await;
    assert_problem(&res, StatusCode::FORBIDDEN);
    // A conversation that is not an e-visit answers null, and takes no time.
    assert_eq!(app.get(&p.doctor.token, &format!("/conversations/{other}/evisit")).await.body["evisit"], Value::Null);
    let res = spend(&app, &p.doctor, &other, json!({ "seconds": 60, "source": "active" })).await;
    assert_problem(&res, StatusCode::CONFLICT);
}

#[tokio::test]
async fn evisit_1_time_entered_by_hand_needs_a_reason_and_every_entry_is_audited() {
    let (app, p) = setup().await;
    let (cid, _) = evisit_on_a_question(&app, &p).await;
    let res = spend(&app, &p.doctor, &cid, json!({ "seconds": 300, "source": "manual" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "reason");
    let res = spend(&app, &p.doctor, &cid, json!({ "seconds": 0, "source": "active" })).await;
    assert_eq!(res.body["field"], "seconds");
    let res =
        spend(&app, &p.doctor, &cid, json!({ "seconds": 300, "source": "manual", "reason": "Reviewed the chart" }))
            .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let log = app.get(&p.admin.token, &format!("/audit?conversationId={cid}")).await;
    let actions: Vec<&str> =
        log.body["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"evisit.open") && actions.contains(&"evisit.time_manual"), "{actions:?}");
}

#[tokio::test]
async fn evisit_4_the_billing_report_lists_evisits_with_code_time_and_flags() {
    let (app, p) = setup().await;
    let (cid, _) = evisit_on_a_question(&app, &p).await;
    assert_eq!(
        spend(&app, &p.doctor, &cid, json!({ "seconds": 1320, "source": "active" })).await.status,
        StatusCode::CREATED
    );
    let day = |t: Timestamp| t.date().to_string();
    let now = Timestamp::now();
    let path = format!(
        "/reports/billing?from={}&to={}",
        day(now - SignedDuration::from_hours(24)),
        day(now + SignedDuration::from_hours(24))
    );
    let res = app.get(&p.admin.token, &path).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let visits = res.body["evisits"].as_array().unwrap();
    let visit = visits.iter().find(|v| v["conversationId"] == cid).expect("the e-visit is listed");
    assert_eq!((visit["totalMinutes"].clone(), visit["suggestedCode"].clone()), (json!(22), json!("99423")));
    assert_eq!(visit["flags"], json!(["no-consent"]));
}

#[tokio::test]
async fn evisit_3_a_recorded_visit_before_or_within_the_window_is_flagged() {
    let (app, p) = setup().await;
    let (cid, _) = evisit_on_a_question(&app, &p).await;
    let jane_id = p.jane.id.clone();
    let day = |hours: i64| (Timestamp::now() + SignedDuration::from_hours(hours)).date().to_string();
    let visits = format!("/patients/{jane_id}/visits");
    let res = app.post(&p.nurse.token, &visits, json!({ "date": day(-72) })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let flags = |v: &Value| {
        v["evisit"]["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let res = app.get(&p.doctor.token, &format!("/conversations/{cid}/evisit")).await;
    assert!(flags(&res.body).contains(&"visit-before".to_string()), "{}", res.body);
    assert_eq!(app.post(&p.nurse.token, &visits, json!({ "date": day(48) })).await.status, StatusCode::CREATED);
    let res = app.get(&p.doctor.token, &format!("/conversations/{cid}/evisit")).await;
    assert!(flags(&res.body).contains(&"visit-within".to_string()), "{}", res.body);
    // Staff record visits; a date is a date.
    assert_problem(&app.post(&p.jane.token, &visits, json!({ "date": day(0) })).await, StatusCode::FORBIDDEN);
    let res = app.post(&p.nurse.token, &visits, json!({ "date": "next week" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "date");
}

#[tokio::test]
async fn evisit_4_the_fhir_export_carries_the_evisit_as_a_charge_item() {
    let (app, p) = setup().await;
    let (cid, _) = evisit_on_a_question(&app, &p).await;
    assert_eq!(
        spend(&app, &p.doctor, &cid, json!({ "seconds": 720, "source": "active" })).await.status,
        StatusCode::CREATED
    );
    let res = app.get_raw(&p.doctor.token, &format!("/conversations/{cid}/export?format=fhir"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bundle: Value = res.json().await.unwrap();
    let entries = bundle["entry"].as_array().unwrap();
    let charge =
        entries.iter().map(|e| &e["resource"]).find(|r| r["resourceType"] == "ChargeItem").expect("a ChargeItem");
    assert_eq!(charge["code"]["coding"][0]["code"], "99422");
    assert_eq!(charge["code"]["coding"][0]["system"], "http://www.ama-assn.org/go/cpt");
    assert_eq!(charge["status"], "planned", "flagged (no consent): a person decides");
    assert_eq!(charge["subject"]["reference"], format!("Patient/{}", p.jane.id.replace('_', "-")));
    assert_eq!(charge["note"][0]["text"], "cumulative time: 12 min");
    assert_eq!(charge["note"][1]["text"], "flag: no-consent");
}

#[tokio::test]
async fn evisit_4_the_billing_report_comes_as_csv() {
    let (app, p) = setup().await;
    let (cid, _) = evisit_on_a_question(&app, &p).await;
    assert_eq!(
        spend(&app, &p.doctor, &cid, json!({ "seconds": 300, "source": "active" })).await.status,
        StatusCode::CREATED
    );
    let day = |hours: i64| (Timestamp::now() + SignedDuration::from_hours(hours)).date().to_string();
    let res = app
        .get_raw(&p.admin.token, &format!("/reports/billing?from={}&to={}", day(-24), day(24)), Some("text/csv"))
        .await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().next(), Some("kind,at,conversationId,patientId,staffIds,code,minutes,flags"));
    let line = csv.lines().find(|l| l.starts_with("evisit,") && l.contains(&cid)).expect("the e-visit's line");
    assert!(line.ends_with(",99421,5,no-consent"), "{line}");
}

#[tokio::test]
async fn evisit_3_a_physician_marks_an_exchange_not_evaluative() {
    let (app, p) = setup().await;
    let (cid, _) = evisit_on_a_question(&app, &p).await;
    let path = format!("/conversations/{cid}/evisit");
    let res = app.send("PATCH", &path, Some(&p.doctor.token), Some(&json!({ "evaluative": false })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["evisit"]["flags"], json!(["no-consent", "not-evaluative"]));
    let res = app.send("PATCH", &path, Some(&p.nurse.token), Some(&json!({ "evaluative": true })), &[]).await;
    assert_problem(&res, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&p.doctor.token, &path).await.body["evisit"]["flags"], json!(["no-consent", "not-evaluative"]));
}
