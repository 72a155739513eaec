//! Whose inbox holds a conversation (ROLE-2, INBOX-1). While a practice has at most
//! `followAllConversationsUpTo` admin- and provider-class users (15 unless it says otherwise),
//! they follow every conversation they may open, as in seed 000; beyond it, an inbox holds what
//! concerns its user and the practice-wide view reaches the rest, with the user's own flags
//! written only when it acts.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Group {
    admin: User,
    doctor: User,
    bystander: User,
    nurse: User,
    patient: User,
}

/// A practice with two physicians, a nurse on the patient's care team, and a patient of the
/// first physician; its followers' limit set to `limit`.
async fn group(app: &TestApp, limit: u32) -> Group {
    let (pid, admin) = app.new_practice("Riverside Group").await;
    let doctor = app.add_staff(&pid, &admin, "Doc", "physician", json!({})).await;
    let bystander = app.add_staff(&pid, &admin, "Other", "physician", json!({})).await;
    let nurse = app.add_staff(&pid, &admin, "Nina", "nurse", json!({})).await;
    let care = json!({ "primaryProviderId": doctor.id, "assignedStaffIds": [nurse.id] });
    let patient = app.add_patient(&pid, &admin, "Pia", "River", care).await;
    set_limit(app, &admin, limit).await;
    Group { admin, doctor, bystander, nurse, patient }
}

async fn set_limit(app: &TestApp, admin: &User, limit: u32) {
    let body = json!({ "followAllConversationsUpTo": limit });
    let res = app.send("PUT", "/settings", Some(&admin.token), Some(&body), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["settings"]["followAllConversationsUpTo"], limit);
}

async fn patient_writes(app: &TestApp, patient: &User, subject: &str) -> String {
    let res = app.post(&patient.token, "/conversations", json!({ "subject": subject, "body": "A question" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

fn row<'a>(page: &'a Value, conversation: &str) -> &'a Value {
    let items = page["items"].as_array().unwrap();
    items.iter().find(|i| i["conversation"]["id"] == conversation).unwrap_or_else(|| panic!("listed: {page}"))
}

/// ROLE-2: beyond the limit, the primary provider and the care team hold the patient's
/// message; the other physician and the admin do not, and find it in the practice-wide view,
/// unread. Back within the limit, everyone who may open a new conversation follows it.
#[tokio::test]
async fn role_2_beyond_the_followers_limit_an_inbox_holds_what_concerns_its_user() {
    let app = TestApp::spawn().await;
    let g = group(&app, 2).await; // three followers: the admin and two physicians

    let cid = patient_writes(&app, &g.patient, "Rash").await;

    for concerned in [&g.doctor, &g.nurse, &g.patient] {
        assert!(app.inbox_ids(concerned).await.contains(&cid), "{} holds it", concerned.role);
    }
    for other in [&g.bystander, &g.admin] {
        assert!(!app.inbox_ids(other).await.contains(&cid), "{} does not follow it", other.role);
        let page = app.get(&other.token, "/inbox?tab=practice").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(row(&page.body, &cid)["unreadCount"], 1, "{} reaches it", other.role);
    }

    // A physician writes about the patient: the patient's primary provider is concerned too
    // (NOTIFY-2 reaches it), the admin is not.
    let about = json!({ "kind": "patient", "patientId": g.patient.id, "subject": "Labs", "body": "Normal" });
    let res = app.post(&g.bystander.token, "/conversations", about).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let labs = res.body["conversation"]["id"].as_str().unwrap().to_string();
    assert!(app.inbox_ids(&g.doctor).await.contains(&labs), "the primary provider holds it");
    assert!(!app.inbox_ids(&g.admin).await.contains(&labs));

    // Replying from the practice-wide view, the admin takes part: the thread joins its inbox.
    let res = app.post(&g.admin.token, &format!("/conversations/{cid}/messages"), json!({ "body": "On it" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(app.inbox_ids(&g.admin).await.contains(&cid), "it takes part now");

    set_limit(&app, &g.admin, 3).await;
    let within = patient_writes(&app, &g.patient, "Cough").await;
    for user in [&g.doctor, &g.nurse, &g.bystander, &g.admin] {
        assert!(app.inbox_ids(user).await.contains(&within), "{} follows it", user.role);
    }
}

/// CONV-3, CONV-4: a physician stars, archives and marks unread a conversation outside its
/// inbox; the practice-wide view shows its flags (and nobody else's row changes), opening
/// the thread keeps them.
#[tokio::test]
async fn conv_4_flags_on_a_conversation_outside_the_inbox_are_the_users_own() {
    let app = TestApp::spawn().await;
    let g = group(&app, 0).await;
    let cid = patient_writes(&app, &g.patient, "Rash").await;
    let state = |body: Value| {
        let (app, token, path) = (&app, g.bystander.token.clone(), format!("/conversations/{cid}/state"));
        async move { app.send("PUT", &path, Some(&token), Some(&body), &[]).await }
    };

    let res = state(json!({ "starred": true, "archived": true })).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!((res.body["starred"].clone(), res.body["archived"].clone()), (json!(true), json!(true)));
    assert_eq!(res.body["unreadCount"], 1, "flagging is not reading");
    let page = app.get(&g.bystander.token, "/inbox?tab=practice").await.body;
    assert_eq!(row(&page, &cid)["starred"], true, "{page}");
    assert_eq!(row(&page, &cid)["archived"], true, "{page}");
    assert_eq!(row(&app.get(&g.doctor.token, "/inbox").await.body, &cid)["starred"], false, "only its own");

    assert_eq!(app.get(&g.bystander.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    let page = app.get(&g.bystander.token, "/inbox?tab=practice").await.body;
    assert_eq!((row(&page, &cid)["unreadCount"].clone(), row(&page, &cid)["starred"].clone()), (json!(0), json!(true)));

    let res = state(json!({ "unread": true, "starred": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let page = app.get(&g.bystander.token, "/inbox?tab=practice").await.body;
    assert_eq!(
        (row(&page, &cid)["unreadCount"].clone(), row(&page, &cid)["starred"].clone()),
        (json!(1), json!(false))
    );
    assert!(!app.inbox_ids(&g.bystander).await.contains(&cid), "still not in its inbox");
}

/// SET-1: the limit is a practice setting from 0 to 500, 15 unless the practice changes it.
#[tokio::test]
async fn set_1_the_followers_limit_is_fifteen_and_bounded() {
    let app = TestApp::spawn().await;
    let (_pid, admin) = app.new_practice("Bounded Clinic").await;

    let res = app.get(&admin.token, "/settings").await;
    let refused = app
        .send("PUT", "/settings", Some(&admin.token), Some(&json!({ "followAllConversationsUpTo": 501 })), &[])
        .await;

    assert_eq!(res.body["settings"]["followAllConversationsUpTo"], 15, "{}", res.body);
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.to_string().contains("followAllConversationsUpTo"), "{}", refused.body);
}

/// INBOX-3, ROLE-2: beyond the limit, searching the All practice tab finds a patient
/// conversation outside the physician's inbox (its own search of the inbox does not), and
/// never a team conversation it may not open.
#[tokio::test]
async fn inbox_3_search_in_the_practice_tab_finds_what_the_user_may_open() {
    let app = TestApp::spawn().await;
    let g = group(&app, 0).await;
    let cid = patient_writes(&app, &g.patient, "Rash on arm").await;
    let team = json!({ "kind": "team", "recipients": [{ "type": "staff", "id": g.nurse.id }], "subject": "Rash rota", "body": "Swap?" });
    let res = app.post(&g.admin.token, "/conversations", team).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let hidden = res.body["conversation"]["id"].as_str().unwrap().to_string();

    let practice = app.get(&g.bystander.token, "/inbox?tab=practice&q=rash").await;
    let inbox = app.get(&g.bystander.token, "/inbox?q=rash").await;
    let admin = app.get(&g.admin.token, "/inbox?tab=practice&q=rash&limit=1").await;

    assert_eq!(practice.status, StatusCode::OK, "{}", practice.body);
    let found: Vec<&str> =
        practice.body["items"].as_array().unwrap().iter().map(|i| i["conversation"]["id"].as_str().unwrap()).collect();
    assert_eq!(found, [cid.as_str()], "the patient's, not the admins' team thread");
    assert_eq!(row(&practice.body, &cid)["unreadCount"], 1);
    assert!(inbox.body["items"].as_array().unwrap().is_empty(), "not in its inbox: {}", inbox.body);
    assert_eq!(admin.body["items"][0]["conversation"]["id"], json!(hidden), "newest first: {}", admin.body);
    let next = admin.body["nextCursor"].as_str().expect("a second page");
    let page2 = app.get(&g.admin.token, &format!("/inbox?tab=practice&q=rash&limit=1&cursor={next}")).await;
    assert_eq!(page2.body["items"][0]["conversation"]["id"], json!(cid), "{}", page2.body);
}
