//! The practice-wide view (ROLE-2 at scale, `GET /inbox?tab=practice`): the admin and provider
//! classes reach every conversation they may open from the practice's index, so a user who
//! joins either class finds everything at once, with its own unread state.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Clinic {
    pid: carethread_core::domain::PracticeId,
    admin: User,
    doctor: User,
    nurse: User,
    patient: User,
    /// The patient conversations, newest first.
    threads: Vec<String>,
}

/// A practice with `patient_threads` patient conversations and 2 team conversations between
/// the nurse and the admin.
async fn clinic_with_history(app: &TestApp, patient_threads: usize) -> Clinic {
    let (pid, admin) = app.new_practice("Hillside Clinic").await;
    let doctor = app.add_staff(&pid, &admin, "Doc", "physician", json!({})).await;
    let nurse = app.add_staff(&pid, &admin, "Nora", "nurse", json!({})).await;
    let patient = app.add_patient(&pid, &admin, "Pat", "Long", json!({ "primaryProviderId": doctor.id })).await;
    let mut threads = Vec::new();
    for i in 0..patient_threads {
        let body =
            json!({ "kind": "patient", "patientId": patient.id, "subject": format!("Visit {i}"), "body": "Notes" });
        let res = app.post(&doctor.token, "/conversations", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        threads.push(res.body["conversation"]["id"].as_str().unwrap().to_string());
    }
    for i in 0..2 {
        let team = json!({ "kind": "team", "recipients": [{ "type": "staff", "id": admin.id }],
                           "subject": format!("Rota {i}"), "body": "Swap?" });
        let res = app.post(&nurse.token, "/conversations", team).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    threads.reverse();
    Clinic { pid, admin, doctor, nurse, patient, threads }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["conversation"]["id"].as_str().unwrap().to_string()).collect()
}

fn unread_of(page: &Value, conversation: &str) -> Value {
    page["items"].as_array().unwrap().iter().find(|i| i["conversation"]["id"] == conversation).unwrap()["unreadCount"]
        .clone()
}

/// ROLE-2: a physician hired after 50 conversations exist has none of them in its own inbox,
/// and finds every patient conversation (not the team conversations it takes no part in) in
/// the practice-wide view at once, each unread until it opens it, and unread again when a
/// new message arrives.
#[tokio::test]
async fn role_2_a_physician_hired_later_finds_every_patient_conversation_at_once() {
    let app = TestApp::spawn().await;
    let clinic = clinic_with_history(&app, 48).await;
    let hired = app.add_staff("", &clinic.admin, "Hired", "physician", json!({})).await;

    let page = app.get(&hired.token, "/inbox?tab=practice&limit=50").await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(ids(&page.body), clinic.threads, "every patient conversation, newest first; no team one");
    assert!(page.body["items"].as_array().unwrap().iter().all(|i| i["unreadCount"] == 1 && i["preview"] == "Notes"));
    let opened = &clinic.threads[3];
    assert_eq!(app.get(&hired.token, &format!("/conversations/{opened}")).await.status, StatusCode::OK);
    let page = app.get(&hired.token, "/inbox?tab=practice&limit=50").await.body;
    assert_eq!(unread_of(&page, opened), 0, "opened: read");
    let reply = app
        .post(&clinic.patient.token, &format!("/conversations/{opened}/messages"), json!({ "body": "Thanks" }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let page = app.get(&hired.token, "/inbox?tab=practice&limit=50&unread=true").await.body;
    assert_eq!(ids(&page)[0], *opened, "newest activity first");
    assert_eq!(unread_of(&page, opened), 1, "the new message is unread");

    // CONV-6: a message deleted leaves no trace in the row: it shows the one before again.
    let path = format!("/conversations/{opened}/messages");
    let oops = app.post(&clinic.doctor.token, &path, json!({ "body": "Wrong chart" })).await;
    let oops = oops.body["message"]["id"].as_str().unwrap().to_string();
    let gone = app.send("DELETE", &format!("{path}/{oops}"), Some(&clinic.doctor.token), None, &[]).await;
    assert!(gone.status.is_success(), "{}", gone.body);
    let page = app.get(&hired.token, "/inbox?tab=practice&limit=5").await.body;
    let row = &page["items"][0];
    assert_eq!((row["preview"].as_str(), row["unreadCount"].as_u64()), (Some("Thanks"), Some(1)), "{row}");
}

/// ROLE-2, ACCT-2: a nurse may not use the practice-wide view (403: it exists, but not for
/// the staff class); promoted to nurse practitioner and signed in again, she finds every
/// patient conversation at once. The admin sees the team conversations too.
#[tokio::test]
async fn role_2_a_nurse_promoted_to_nurse_practitioner_finds_every_patient_conversation_at_once() {
    let app = TestApp::spawn().await;
    let clinic = clinic_with_history(&app, 12).await;
    assert_problem(&app.get(&clinic.nurse.token, "/inbox?tab=practice").await, StatusCode::FORBIDDEN);

    let res = app
        .send(
            "PATCH",
            &format!("/staff/{}", clinic.nurse.id),
            Some(&clinic.admin.token),
            Some(&json!({ "role": "nurse_practitioner" })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let promoted = app.sign_in(&clinic.nurse.id).await;

    let page = app.get(&promoted, "/inbox?tab=practice&limit=50").await.body;
    let listed = ids(&page);
    assert_eq!(listed.len(), 12 + 2, "the patient conversations and her own team ones: {page}");
    assert!(clinic.threads.iter().all(|t| listed.contains(t)));
    let admin_page = app.get(&clinic.admin.token, "/inbox?tab=practice&limit=50").await.body;
    assert_eq!(ids(&admin_page).len(), 12 + 2, "the admin class sees everything");
    // The doctor's own entries keep their exact state in the practice-wide view.
    let doctor_page = app.get(&clinic.doctor.token, "/inbox?tab=practice&limit=50").await.body;
    assert!(doctor_page["items"].as_array().unwrap().iter().all(|i| i["unreadCount"] == 0), "its own messages");
}

/// INBOX-5 at scale: a practice-wide page costs one Query of the practice's index and one
/// BatchGetItem of the caller's own state, however many conversations the practice has; its
/// cursor leads to the next page and is the caller's own.
#[tokio::test]
async fn inbox_5_a_practice_wide_page_is_one_query_and_one_batch_read() {
    let app = TestApp::spawn().await;
    let clinic = clinic_with_history(&app, 30).await;

    let counter = &app.function("list-inbox").calls;
    let before = counter.snapshot();
    let first = app.get(&clinic.doctor.token, "/inbox?tab=practice&limit=20").await.body;
    let calls = counter.since(&before);

    assert_eq!(calls.get("DynamoDB.Query"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("DynamoDB.BatchGetItem"), Some(&1), "{calls:?}");
    let cursor = first["nextCursor"].as_str().expect("more than one page");
    let second = app.get(&clinic.doctor.token, &format!("/inbox?tab=practice&limit=20&cursor={cursor}")).await.body;
    // A page may be short where the index held what the caller may not open (the team
    // conversations); the next one continues where it ended, without gaps or repeats.
    let read: Vec<String> = ids(&first).into_iter().chain(ids(&second)).collect();
    assert_eq!(read, clinic.threads[..read.len()].to_vec());
    assert!(read.len() >= 28, "{}", read.len());
    let stolen = app.get(&clinic.admin.token, &format!("/inbox?tab=practice&limit=20&cursor={cursor}")).await;
    assert_problem(&stolen, StatusCode::BAD_REQUEST);
    assert_problem(
        &app.get(&clinic.doctor.token, "/inbox?tab=practice&limit=51").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
}

/// ROLE-2 at scale, after an upgrade: a conversation written before conversations kept their
/// latest message is still listed in the practice-wide view (with no preview), not a 500.
#[tokio::test]
async fn role_2_a_conversation_from_before_the_practice_wide_view_is_listed_without_a_preview() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let app = TestApp::spawn().await;
    let clinic = clinic_with_history(&app, 2).await;
    let old = &clinic.threads[1];
    app.dynamodb
        .update_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S(format!("PRAC#{}#CONV#{old}", clinic.pid)))
        .key("sk", AttributeValue::S("META".into()))
        .update_expression("REMOVE latest")
        .send()
        .await
        .unwrap();
    let hired = app.add_staff("", &clinic.admin, "Hired", "physician", json!({})).await;

    let page = app.get(&hired.token, "/inbox?tab=practice").await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(ids(&page.body), clinic.threads);
    let row = &page.body["items"][1];
    assert_eq!((row["preview"].as_str(), row["unreadCount"].as_u64()), (Some(""), Some(1)), "{row}");
    assert_eq!(page.body["items"][0]["preview"], "Notes");
}
