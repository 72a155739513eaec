//! Black-box tests of the HTTP API through the local gateway against the local AWS stack.
//! Each test is named after the requirement it proves (SPEC IDs).

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn compose_to(app: &TestApp, from: &User, patient: &User, subject: &str, body: &str) -> Value {
    let res = app
        .post(
            &from.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": patient.id, "subject": subject, "body": body }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body
}

fn id_of(v: &Value) -> String {
    v["conversation"]["id"].as_str().expect("conversation id").to_string()
}

#[tokio::test]
async fn compose_1_role_2_role_3_patient_message_reaches_exactly_those_who_may_see_it() {
    let (app, p) = setup().await;
    let (_, other_admin) = app.new_practice("Other Practice").await;
    let created = compose_to(&app, &p.doctor, &p.jane, "Lab results", "Your results are in.").await;
    let cid = id_of(&created);
    assert_eq!(created["conversation"]["subject"], "Lab results");
    assert_eq!(created["conversation"]["kind"], "patient");
    assert_eq!(created["conversation"]["patient"]["firstName"], "Jane");
    assert_eq!(created["message"]["body"], "Your results are in.");
    assert_eq!(created["message"]["priority"], "normal");
    assert_eq!(created["message"]["sender"]["id"], json!(p.doctor.id));

    for (who, user) in [
        ("sender", &p.doctor),
        ("patient", &p.jane),
        ("admin", &p.admin),
        ("manager", &p.manager),
        ("provider", &p.doctor2),
        ("care team nurse", &p.nurse),
    ] {
        assert!(app.inbox_ids(user).await.contains(&cid), "{who} should see it");
    }
    for (who, user) in [
        ("front desk", &p.front_desk),
        ("biller", &p.biller),
        ("another patient", &p.john),
        ("other practice", &other_admin),
    ] {
        assert!(!app.inbox_ids(user).await.contains(&cid), "{who} must not see it");
    }
    // ROLE-3: not visible answers exactly like a conversation that does not exist.
    let missing = app.get(&p.front_desk.token, "/conversations/cnv_00000000000000000000000000").await;
    assert_problem(&missing, StatusCode::NOT_FOUND);
    for user in [&p.front_desk, &p.john, &other_admin] {
        let res = app.get(&user.token, &format!("/conversations/{cid}")).await;
        assert_problem(&res, StatusCode::NOT_FOUND);
        assert_eq!(res.body["detail"], missing.body["detail"]);
        assert_eq!(res.body["type"], missing.body["type"]);
    }
    // Nor can they write to it.
    let res = app.post(&p.john.token, &format!("/conversations/{cid}/messages"), json!({ "body": "hi" })).await;
    assert_problem(&res, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn compose_2_role_6_team_message_reaches_recipients_and_workgroups_never_patients() {
    let (app, p) = setup().await;
    let res = app
        .post(
            &p.nurse.token,
            "/conversations",
            json!({ "kind": "team", "subject": "Coverage", "body": "Who covers Friday?",
                    "recipients": [{"type": "staff", "id": p.doctor2.id}, {"type": "workgroup", "id": p.billing_id}] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = id_of(&res.body);
    assert_eq!(res.body["conversation"]["patient"], Value::Null);
    for user in [&p.nurse, &p.doctor2, &p.biller, &p.admin, &p.manager] {
        assert!(app.inbox_ids(user).await.contains(&cid), "{} should see it", user.id);
    }
    // A provider sees team conversations only where it takes part (ROLE-2).
    for user in [&p.doctor, &p.front_desk, &p.jane, &p.john] {
        assert!(!app.inbox_ids(user).await.contains(&cid), "{} must not see it", user.id);
    }
    let res = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_problem(&res, StatusCode::NOT_FOUND);
    // A team message needs recipients, and they must exist in the practice.
    let res = app.post(&p.nurse.token, "/conversations", json!({ "kind": "team", "subject": "x", "body": "y" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "recipients");
    let res = app
        .post(&p.nurse.token, "/conversations", json!({ "kind": "team", "subject": "x", "body": "y", "recipients": [{"type": "staff", "id": "usr_nobody"}] }))
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn compose_3_portal_message_goes_to_the_primary_provider() {
    let (app, p) = setup().await;
    let res = app
        .post(&p.jane.token, "/conversations", json!({ "subject": "Refill", "body": "Could I get a refill?" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = id_of(&res.body);
    assert_eq!(res.body["message"]["sender"]["type"], "patient");
    assert_eq!(res.body["message"]["sender"]["displayName"], "Jane Smith");
    let inbox = app.get(&p.doctor.token, "/inbox").await;
    let row =
        inbox.body["items"].as_array().unwrap().iter().find(|i| i["conversation"]["id"] == json!(cid)).unwrap().clone();
    assert_eq!(row["unreadCount"], 1);
    assert_eq!(row["preview"], "Could I get a refill?");
    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    let participants: Vec<&str> = thread.body["conversation"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(participants, vec![p.doctor.id.as_str()]);
    // A patient cannot address another patient or a team conversation.
    let res = app.post(&p.jane.token, "/conversations", json!({ "kind": "team", "subject": "x", "body": "y" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let res =
        app.post(&p.jane.token, "/conversations", json!({ "patientId": p.john.id, "subject": "x", "body": "y" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn assign_4_portal_message_without_primary_provider_goes_to_every_active_provider_and_admin() {
    let (app, p) = setup().await;
    let orphan = app.add_patient(&p.id, &p.admin, "Olga", "Nobody", json!({})).await;
    let res = app.post(&orphan.token, "/conversations", json!({ "subject": "Question", "body": "Hello?" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let thread = app.get(&p.admin.token, &format!("/conversations/{}", id_of(&res.body))).await;
    let mut participants: Vec<String> = thread.body["conversation"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    participants.sort();
    let mut expected = vec![p.admin.id.clone(), p.manager.id.clone(), p.doctor.id.clone(), p.doctor2.id.clone()];
    expected.sort();
    assert_eq!(participants, expected);
}

#[tokio::test]
async fn role_5_inactive_patient_writes_only_to_billing_or_front_office() {
    let (app, p) = setup().await;
    let inactive = app
        .add_patient(&p.id, &p.admin, "Ruth", "Ellis", json!({ "primaryProviderId": p.doctor.id, "active": false }))
        .await;
    let res = app
        .post(&inactive.token, "/conversations", json!({ "subject": "Appointment", "body": "Can I come in?" }))
        .await;
    assert_problem(&res, StatusCode::FORBIDDEN);
    let res = app
        .post(
            &inactive.token,
            "/conversations",
            json!({ "subject": "Bill", "body": "About my bill", "recipients": [{"type": "staff", "id": p.doctor.id}] }),
        )
        .await;
    assert_problem(&res, StatusCode::FORBIDDEN);
    let res = app
        .post(&inactive.token, "/conversations", json!({ "subject": "Bill", "body": "About my bill", "recipients": [{"type": "workgroup", "id": p.billing_id}] }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(app.inbox_ids(&p.biller).await.contains(&id_of(&res.body)));
    let res = app
        .post(&inactive.token, "/conversations", json!({ "subject": "Address", "body": "New address", "recipients": [{"type": "workgroup", "id": p.front_office_id}] }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn role_5_staff_with_portal_messaging_off_cannot_write_to_patients() {
    let (app, p) = setup().await;
    let muted = app.add_staff(&p.id, &p.admin, "Muted", "medical_assistant", json!({ "portalMessaging": false })).await;
    let res = app
        .post(
            &muted.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Hi", "body": "Hello" }),
        )
        .await;
    assert_problem(&res, StatusCode::FORBIDDEN);
    // Team messages are still fine.
    let res = app
        .post(&muted.token, "/conversations", json!({ "kind": "team", "subject": "Hi", "body": "Hello", "recipients": [{"type": "staff", "id": p.nurse.id}] }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn compose_4_context_link_is_kept_and_defaults_the_subject() {
    let (app, p) = setup().await;
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "body": "About your visit",
                    "context": {"kind": "visit", "id": "vis_9", "label": "Follow Up (03/15/2026)"} }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["conversation"]["subject"], "Re: Follow Up (03/15/2026)");
    assert_eq!(
        res.body["conversation"]["context"],
        json!({"kind": "visit", "id": "vis_9", "label": "Follow Up (03/15/2026)"})
    );
    let thread = app.get(&p.jane.token, &format!("/conversations/{}", id_of(&res.body))).await;
    assert_eq!(thread.body["conversation"]["context"]["label"], "Follow Up (03/15/2026)");
}

#[tokio::test]
async fn compose_7_invalid_fields_are_named_and_nothing_is_stored() {
    let (app, p) = setup().await;
    let cases = [
        (
            json!({ "kind": "patient", "patientId": p.jane.id, "body": "no subject" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body",
        ),
        (
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "x".repeat(20_001) }),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
        ),
        (
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "b", "priority": "asap" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "priority",
        ),
        (json!({ "kind": "letter", "subject": "s", "body": "b" }), StatusCode::UNPROCESSABLE_ENTITY, "kind"),
        (
            json!({ "kind": "patient", "patientId": "pat_x#y", "subject": "s", "body": "b" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "patientId",
        ),
        (
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "b", "practiceId": "prc_other" }),
            StatusCode::BAD_REQUEST,
            "practiceId",
        ),
    ];
    for (body, status, field) in cases {
        let res = app.post(&p.doctor.token, "/conversations", body).await;
        assert_problem(&res, status);
        assert_eq!(res.body["field"], json!(field), "{}", res.body);
    }
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": "pat_doesnotexist", "subject": "s", "body": "b" }),
        )
        .await;
    assert_problem(&res, StatusCode::NOT_FOUND);
    // Not JSON, wrong content type.
    let res =
        app.send("POST", "/conversations", Some(&p.doctor.token), None, &[("content-type", "application/json")]).await;
    assert_problem(&res, StatusCode::BAD_REQUEST);
    let res = app.send("POST", "/conversations", Some(&p.doctor.token), None, &[("content-type", "text/plain")]).await;
    assert_problem(&res, StatusCode::BAD_REQUEST);
    assert!(app.inbox_ids(&p.doctor).await.is_empty(), "a refused request stores nothing");
    assert!(app.inbox_ids(&p.jane).await.is_empty());
}

#[tokio::test]
async fn reply_1_conv_5_replies_append_and_internal_notes_stay_with_staff() {
    let (app, p) = setup().await;
    let cid = id_of(&compose_to(&app, &p.doctor, &p.jane, "Follow-up", "How is the knee?").await);
    let path = format!("/conversations/{cid}/messages");
    let res = app.post(&p.jane.token, &path, json!({ "body": "Much better, thanks." })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["message"]["sender"]["type"], "patient");
    let res =
        app.post(&p.doctor.token, &path, json!({ "body": "Patient improving; stop PT.", "internal": true })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["message"]["internal"], true);
    let res = app.post(&p.doctor.token, &path, json!({ "body": "Come in Monday.", "priority": "urgent" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["message"]["priority"], "urgent");

    let staff_view = app.get(&p.nurse.token, &format!("/conversations/{cid}")).await;
    let bodies: Vec<&str> =
        staff_view.body["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        vec!["How is the knee?", "Much better, thanks.", "Patient improving; stop PT.", "Come in Monday."]
    );
    assert_eq!(staff_view.body["conversation"]["messageCount"], 4);

    let patient_view = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    let bodies: Vec<&str> =
        patient_view.body["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["How is the knee?", "Much better, thanks.", "Come in Monday."]);
    assert_eq!(patient_view.body["conversation"]["messageCount"], 3);
    assert!(patient_view.body.get("assignments").is_none());
    assert!(patient_view.body["conversation"].get("participants").is_none());

    // The patient's inbox row never previews the note; the urgent flag shows.
    let inbox = app.get(&p.jane.token, "/inbox").await;
    assert_eq!(inbox.body["items"][0]["preview"], "Come in Monday.");
    assert_eq!(inbox.body["items"][0]["urgent"], true);
    // A patient cannot write an internal note.
    let res = app.post(&p.jane.token, &path, json!({ "body": "secret", "internal": true })).await;
    assert_problem(&res, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn inbox_1_conv_2_newest_first_and_reading_clears_only_the_callers_unread() {
    let (app, p) = setup().await;
    let first = id_of(&compose_to(&app, &p.doctor, &p.jane, "First", "one").await);
    let second = id_of(&compose_to(&app, &p.doctor, &p.jane, "Second", "two").await);
    let inbox = app.get(&p.jane.token, "/inbox").await;
    let items = inbox.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["conversation"]["id"], json!(second), "newest first");
    assert_eq!(items[1]["conversation"]["id"], json!(first));
    assert_eq!(items[0]["unreadCount"], 1);
    assert_eq!(items[0]["lastSender"]["displayName"], "Maria Tester");
    assert_eq!(items[0]["conversation"]["patient"]["lastName"], "Smith");
    assert_eq!(items[0]["starred"], false);
    // The sender has nothing unread in its own message.
    let doctor_rows = app.get(&p.doctor.token, "/inbox").await;
    assert!(doctor_rows.body["items"].as_array().unwrap().iter().all(|i| i["unreadCount"] == 0));

    // A reply moves the older conversation to the top.
    let res = app.post(&p.doctor.token, &format!("/conversations/{first}/messages"), json!({ "body": "three" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let inbox = app.get(&p.jane.token, "/inbox").await;
    assert_eq!(inbox.body["items"][0]["conversation"]["id"], json!(first));
    assert_eq!(inbox.body["items"][0]["unreadCount"], 2);

    // CONV-2: Jane opens it; her count clears, the nurse's does not.
    let res = app.get(&p.jane.token, &format!("/conversations/{first}")).await;
    assert_eq!(res.status, StatusCode::OK);
    let unread = |body: &Value, cid: &str| {
        body["items"].as_array().unwrap().iter().find(|i| i["conversation"]["id"] == json!(cid)).unwrap()["unreadCount"]
            .clone()
    };
    assert_eq!(unread(&app.get(&p.jane.token, "/inbox").await.body, &first), 0);
    assert_eq!(unread(&app.get(&p.nurse.token, "/inbox").await.body, &first), 2);
    assert_eq!(unread(&app.get(&p.jane.token, "/inbox").await.body, &second), 1);

    let stats = app.get(&p.jane.token, "/inbox/stats").await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.body["totalConversations"], 2);
    assert_eq!(stats.body["unreadMessages"], 1);
    assert_eq!(stats.body["uniquePatients"], 1);
    assert_eq!(stats.body["totalMessages"], 3);
}

/// One cursor scheme for every list: a cursor opens only the list and the user it was made
/// for (drafts, the audit log of one conversation, the inbox), whatever the client does.
#[tokio::test]
async fn inbox_5_every_list_cursor_is_bound_to_its_user_and_its_list() {
    let (app, p) = setup().await;
    for subject in ["One", "Two"] {
        assert_eq!(
            app.post(&p.doctor.token, "/drafts", json!({ "subject": subject })).await.status,
            StatusCode::CREATED
        );
    }
    let drafts = app.get(&p.doctor.token, "/drafts?limit=1").await;
    let drafts_cursor = drafts.body["nextCursor"].as_str().expect("a second page of drafts").to_string();
    let page2 = app.get(&p.doctor.token, &format!("/drafts?limit=1&cursor={drafts_cursor}")).await;
    assert_eq!(page2.status, StatusCode::OK, "{}", page2.body);
    assert_eq!(page2.body["items"][0]["subject"], "One", "{}", page2.body);
    assert_problem(
        &app.get(&p.nurse.token, &format!("/drafts?limit=1&cursor={drafts_cursor}")).await,
        StatusCode::BAD_REQUEST,
    );
    assert_problem(
        &app.get(&p.doctor.token, &format!("/inbox?limit=1&cursor={drafts_cursor}")).await,
        StatusCode::BAD_REQUEST,
    );

    let cid = id_of(&compose_to(&app, &p.doctor, &p.jane, "Audited", "body").await);
    assert_eq!(app.get(&p.doctor.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    let log = app.get(&p.admin.token, &format!("/audit?conversationId={cid}&limit=1")).await;
    let audit_cursor = log.body["nextCursor"].as_str().expect("a second page of the log").to_string();
    let by_patient = format!("/audit?patientId={}&limit=1&cursor={audit_cursor}", p.jane.id);
    assert_problem(&app.get(&p.admin.token, &by_patient).await, StatusCode::BAD_REQUEST);
    let other = id_of(&compose_to(&app, &p.doctor, &p.john, "Elsewhere", "body").await);
    let other_log = format!("/audit?conversationId={other}&limit=1&cursor={audit_cursor}");
    assert_problem(&app.get(&p.admin.token, &other_log).await, StatusCode::BAD_REQUEST);
    let next = format!("/audit?conversationId={cid}&limit=1&cursor={audit_cursor}");
    assert_eq!(app.get(&p.admin.token, &next).await.status, StatusCode::OK);

    // Another tab of the inbox is another list: its cursor does not open there.
    let inbox = app.get(&p.doctor.token, "/inbox?limit=1").await;
    let all_cursor = inbox.body["nextCursor"].as_str().expect("a second inbox page").to_string();
    assert_eq!(app.get(&p.doctor.token, &format!("/inbox?limit=1&cursor={all_cursor}")).await.status, StatusCode::OK);
    let other_tab = format!("/inbox?tab=patient&limit=1&cursor={all_cursor}");
    assert_problem(&app.get(&p.doctor.token, &other_tab).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn inbox_5_cursor_pages_cannot_be_edited_or_reused_by_another_user() {
    let (app, p) = setup().await;
    for i in 0..5 {
        compose_to(&app, &p.doctor, &p.jane, &format!("Note {i}"), "body").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/inbox?limit=2&cursor={c}"),
            None => "/inbox?limit=2".to_string(),
        };
        let res = app.get(&p.jane.token, &path).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        pages += 1;
        for i in res.body["items"].as_array().unwrap() {
            seen.push(i["conversation"]["subject"].as_str().unwrap().to_string());
        }
        match res.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, vec!["Note 4", "Note 3", "Note 2", "Note 1", "Note 0"]);

    let first = app.get(&p.jane.token, "/inbox?limit=2").await;
    let c = first.body["nextCursor"].as_str().unwrap().to_string();
    let mut edited = c.clone().into_bytes();
    let mid = edited.len() / 2;
    edited[mid] = if edited[mid] == b'A' { b'B' } else { b'A' };
    let edited = String::from_utf8(edited).unwrap();
    assert_problem(&app.get(&p.jane.token, &format!("/inbox?limit=2&cursor={edited}")).await, StatusCode::BAD_REQUEST);
    assert_problem(&app.get(&p.john.token, &format!("/inbox?limit=2&cursor={c}")).await, StatusCode::BAD_REQUEST);
    assert_problem(&app.get(&p.jane.token, "/inbox?limit=2&cursor=not-a-cursor").await, StatusCode::BAD_REQUEST);
    assert_problem(&app.get(&p.jane.token, "/inbox?limit=0").await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_problem(&app.get(&p.jane.token, "/inbox?limit=101").await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_problem(&app.get(&p.jane.token, "/inbox?tab=bogus").await, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn assign_1_role_4_only_admin_and_provider_class_assign_and_assignees_join() {
    let (app, p) = setup().await;
    let cid = id_of(&compose_to(&app, &p.doctor, &p.jane, "Billing question", "About my invoice").await);
    let path = format!("/conversations/{cid}/assign");
    let body = json!({ "assignees": [{"type": "staff", "id": p.front_desk.id}], "comment": "Can you take this?" });
    // The nurse sees it (care team) but may not assign: 403. The patient: 403. Front desk
    // cannot see it at all: 404.
    assert_problem(&app.post(&p.nurse.token, &path, body.clone()).await, StatusCode::FORBIDDEN);
    assert_problem(&app.post(&p.jane.token, &path, body.clone()).await, StatusCode::FORBIDDEN);
    assert_problem(&app.post(&p.front_desk.token, &path, body.clone()).await, StatusCode::NOT_FOUND);
    assert!(!app.inbox_ids(&p.front_desk).await.contains(&cid));

    let res = app.post(&p.doctor2.token, &path, body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["conversation"]["assignees"], json!([{"type": "staff", "id": p.front_desk.id}]));
    assert!(app.inbox_ids(&p.front_desk).await.contains(&cid), "the assignee sees it");
    let thread = app.get(&p.front_desk.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.status, StatusCode::OK);
    assert_eq!(thread.body["assignments"][0]["comment"], "Can you take this?");
    let participants: Vec<&str> = thread.body["conversation"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert!(participants.contains(&p.front_desk.id.as_str()), "assignees become participants");
    // The patient never sees the assignment or its comment.
    let patient_view = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert!(!patient_view.body.to_string().contains("Can you take this?"));
    assert_eq!(patient_view.body["conversation"]["assignees"], json!([]));

    // Workgroups are assignees too (ROLE-6).
    let res =
        app.post(&p.admin.token, &path, json!({ "assignees": [{"type": "workgroup", "id": p.billing_id}] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(app.inbox_ids(&p.biller).await.contains(&cid));
    assert_problem(
        &app.post(&p.admin.token, &path, json!({ "assignees": [] })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
}

#[tokio::test]
async fn att_1_att_3_upload_and_download_through_presigned_urls() {
    let (app, p) = setup().await;
    let cid = id_of(&compose_to(&app, &p.doctor, &p.jane, "Your scan", "See attached.").await);
    let bytes = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let res = app
        .post(&p.doctor.token, "/attachments", json!({ "fileName": "knee scan.pdf", "contentType": "application/pdf", "size": bytes.len(), "conversationId": cid }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["attachment"]["status"], "pending");
    let att_id = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let upload = &res.body["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.contains("X-Amz-Expires="));
    // ATT-1: the signature binds the declared size and type; S3 refuses a PUT that differs.
    let signed = url.split("X-Amz-SignedHeaders=").nth(1).unwrap().split('&').next().unwrap();
    assert!(signed.contains("content-length") && signed.contains("content-type"), "{signed}");
    let mut put = app.http.put(url).body(bytes.clone());
    for (k, v) in upload["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    let put = put.send().await.unwrap();
    assert!(put.status().is_success(), "upload answered {}", put.status());

    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "Attached.", "attachmentIds": [att_id] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["message"]["attachments"][0]["fileName"], "knee scan.pdf");
    assert_eq!(res.body["message"]["attachments"][0]["size"], bytes.len());
    // Attached once only.
    let again = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "Again.", "attachmentIds": [att_id] }),
        )
        .await;
    assert_problem(&again, StatusCode::CONFLICT);

    let res = app.get(&p.jane.token, &format!("/attachments/{att_id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["attachment"]["status"], "ready");
    let download = app.http.get(res.body["download"]["url"].as_str().unwrap()).send().await.unwrap();
    assert!(download.status().is_success());
    let disposition =
        download.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(disposition.contains("knee scan.pdf"), "{disposition}");
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);

    // Whoever may not see the conversation gets 404, as for a missing attachment.
    assert_problem(&app.get(&p.john.token, &format!("/attachments/{att_id}")).await, StatusCode::NOT_FOUND);
    assert_problem(&app.get(&p.front_desk.token, &format!("/attachments/{att_id}")).await, StatusCode::NOT_FOUND);
    assert_problem(&app.get(&p.jane.token, "/attachments/att_missing").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn att_1_uploads_are_limited_by_size_and_type() {
    let (app, p) = setup().await;
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "big.pdf", "contentType": "application/pdf", "size": 10 * 1024 * 1024 + 1 }),
        )
        .await;
    assert_problem(&res, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.body["field"], "size");
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "run.exe", "contentType": "application/x-msdownload", "size": 10 }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "contentType");
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "../../etc/passwd", "contentType": "text/plain", "size": 10 }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "fileName");
    // ATT-2 (size part): a file that is not the declared size is rejected when attached.
    let res = app
        .post(&p.doctor.token, "/attachments", json!({ "fileName": "a.txt", "contentType": "text/plain", "size": 5 }))
        .await;
    let att_id = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let key = format!("unattached/{}/{}", p.id, att_id);
    app.s3
        .put_object()
        .bucket(&app.bucket)
        .key(&key)
        .body(b"much longer than five".to_vec().into())
        .send()
        .await
        .unwrap();
    let res = app.post(&p.doctor.token, "/conversations", json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "b", "attachmentIds": [att_id] })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.s3.head_object().bucket(&app.bucket).key(&key).send().await.is_err(),
        "the mismatching object is deleted"
    );
    assert!(app.inbox_ids(&p.jane).await.is_empty());
}

#[tokio::test]
async fn sec_1_no_plaintext_phi_is_stored() {
    let (app, p) = setup().await;
    let patient = app
        .add_patient(
            &p.id,
            &p.admin,
            "Quillonia",
            "Zephyrine",
            json!({ "phone": "+15557654321", "primaryProviderId": p.doctor.id }),
        )
        .await;
    let res = app
        .post(&p.doctor.token, "/conversations", json!({ "kind": "patient", "patientId": patient.id, "subject": "Zebraquartz results",
                   "body": "Xylophonic hemoglobin findings", "context": {"kind": "visit", "id": "vis_1", "label": "Mauvewood visit"} }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = id_of(&res.body);
    let res = app.post(&p.doctor.token, "/attachments", json!({ "fileName": "Ultramarinefile.pdf", "contentType": "application/pdf", "size": 10, "conversationId": cid })).await;
    let att = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let _ = app.get(&patient.token, &format!("/conversations/{cid}")).await;

    let partitions = [
        format!("PRAC#{}#CONV#{cid}", p.id),
        format!("PRAC#{}#USER#{}", p.id, p.doctor.id),
        format!("PRAC#{}#USER#{}", p.id, patient.id),
        format!("PRAC#{}#USER#{}", p.id, p.admin.id),
        format!("PRAC#{}#PAT#{}", p.id, patient.id),
        format!("PRAC#{}#ATT#{att}", p.id),
        format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id),
    ];
    let secrets =
        ["zebraquartz", "xylophonic", "hemoglobin", "quillonia", "zephyrine", "7654321", "mauvewood", "ultramarine"];
    let mut items = 0;
    for pk in &partitions {
        for item in app.raw_partition(pk).await {
            items += 1;
            for text in item_texts(&item) {
                let lower = text.to_lowercase();
                for s in secrets {
                    assert!(!lower.contains(s), "plaintext `{s}` stored in {pk}");
                }
            }
        }
    }
    assert!(items >= 8, "the check read the records ({items})");
}

#[tokio::test]
async fn sec_1_a_body_copied_onto_another_conversation_does_not_decrypt() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (app, p) = setup().await;
    let a = id_of(&compose_to(&app, &p.doctor, &p.jane, "A", "Body of A").await);
    let b = id_of(&compose_to(&app, &p.doctor, &p.jane, "B", "Body of B").await);
    let app = &app;
    let msg = |cid: String| {
        let pk = format!("PRAC#{}#CONV#{cid}", p.id);
        async move {
            app.raw_partition(&pk)
                .await
                .into_iter()
                .find(|i| matches!(i.get("sk"), Some(AttributeValue::S(s)) if s.starts_with("MSG#")))
                .unwrap()
        }
    };
    let from_a = msg(a.clone()).await;
    let mut into_b = msg(b.clone()).await;
    into_b.insert("body".into(), from_a["body"].clone());
    app.dynamodb.put_item().table_name(&app.table).set_item(Some(into_b)).send().await.unwrap();

    let res = app.get(&p.doctor.token, &format!("/conversations/{b}")).await;
    assert_problem(&res, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!res.body.to_string().contains("Body of A"));
    assert_eq!(res.body["detail"], "internal error", "no cause in the body");
    assert_eq!(app.get(&p.doctor.token, &format!("/conversations/{a}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn sec_1_sealed_values_are_bound_to_practice_record_and_field() {
    use carethread_core::crypto::Binding;
    let app = TestApp::spawn().await;
    let env = &app.app().envelope;
    let here = Binding { practice_id: "prc_a", record: "cnv_1", field: "body" };
    let sealed = env.seal_str(here, "secret text").await.unwrap();
    assert_eq!(env.open_string(here, &sealed).await.unwrap(), "secret text");
    for other in [
        Binding { practice_id: "prc_b", record: "cnv_1", field: "body" },
        Binding { practice_id: "prc_a", record: "cnv_2", field: "body" },
        Binding { practice_id: "prc_a", record: "cnv_1", field: "subject" },
    ] {
        assert!(env.open(other, &sealed).await.is_err(), "{other:?}");
    }
    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(env.open(here, &tampered).await.is_err());
    // A warm function makes no KMS call per message: the data key is cached.
    let before = app.app().calls.snapshot();
    for i in 0..50 {
        let s = env.seal_str(here, &format!("m{i}")).await.unwrap();
        env.open_string(here, &s).await.unwrap();
    }
    let kms: u64 = app.app().calls.since(&before).iter().filter(|(k, _)| k.starts_with("KMS.")).map(|(_, v)| v).sum();
    assert_eq!(kms, 0, "50 messages sealed and opened without a KMS call");
}

#[tokio::test]
async fn sec_2_phi_reads_and_writes_are_audited_in_their_own_transaction() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (app, p) = setup().await;
    let cid = id_of(&compose_to(&app, &p.doctor, &p.jane, "Audit me", "Private words").await);
    assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    let res = app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "reply" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let events = app.raw_partition(&format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id)).await;
    let field = |i: &std::collections::HashMap<String, AttributeValue>, k: &str| match i.get(k) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    };
    let actions: Vec<(String, String)> = events.iter().map(|e| (field(e, "action"), field(e, "actorId"))).collect();
    assert_eq!(
        actions,
        vec![
            ("conversation.create".to_string(), p.doctor.id.clone()),
            ("conversation.read".to_string(), p.jane.id.clone()),
            ("message.create".to_string(), p.jane.id.clone()),
        ]
    );
    for e in &events {
        assert_eq!(field(e, "outcome"), "success");
        assert!(field(e, "requestId").starts_with("req_"));
        assert_eq!(field(e, "patientId"), p.jane.id);
        assert!(!item_texts(e).iter().any(|t| t.contains("Private words") || t.contains("Audit me")));
    }
    // The patient's chart view of the audit log (GSI1) holds the same events.
    let by_patient = app
        .dynamodb
        .query()
        .table_name(&app.table)
        .index_name("gsi1")
        .key_condition_expression("gsi1pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("PRAC#{}#AUDITPAT#{}", p.id, p.jane.id)))
        .send()
        .await
        .unwrap();
    assert!(by_patient.count() >= 3);
}

#[tokio::test]
async fn sec_4_identity_comes_only_from_a_verified_token() {
    let (app, p) = setup().await;
    assert_problem(&app.send("GET", "/inbox", None, None, &[]).await, StatusCode::UNAUTHORIZED);
    let mut forged = p.doctor.token.clone();
    forged.pop();
    forged.push(if p.doctor.token.ends_with('A') { 'B' } else { 'A' });
    assert_problem(&app.get(&forged, "/inbox").await, StatusCode::UNAUTHORIZED);
    // The same token once its hour is over (the gateway's clock moved on by two hours).
    app.gateway.authorizer.shift_clock(2 * 3600);
    assert_problem(&app.get(&p.doctor.token, "/inbox").await, StatusCode::UNAUTHORIZED);
    app.gateway.authorizer.shift_clock(0);
    assert_eq!(app.get(&p.doctor.token, "/inbox").await.status, StatusCode::OK);
    // Headers cannot claim an identity.
    let res = app.send("GET", "/inbox", None, None, &[("x-user-id", &p.admin.id), ("x-practice-id", &p.id)]).await;
    assert_problem(&res, StatusCode::UNAUTHORIZED);
    // A deactivated user's still-valid token no longer acts.
    let gone = app.add_staff(&p.id, &p.admin, "Gone", "nurse", json!({ "active": false })).await;
    assert_problem(&app.get(&gone.token, "/inbox").await, StatusCode::UNAUTHORIZED);
    // A patient's token whose practice claim was edited is refused: the signature breaks.
    let stray = carethread_tests::edit_claims(&p.jane.token, |c| c["custom:practice_id"] = json!("prc_elsewhere"));
    assert_problem(&app.get(&stray, "/inbox").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let (app, p) = setup().await;
    let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Once", "body": "Only once" });
    let key = [("idempotency-key", "compose-1")];
    let first = app.send("POST", "/conversations", Some(&p.doctor.token), Some(&body), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = app.send("POST", "/conversations", Some(&p.doctor.token), Some(&body), &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "the first answer, as it was");
    assert_eq!(app.inbox_ids(&p.jane).await.len(), 1, "one conversation");
    let other = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Twice", "body": "Different" });
    let res = app.send("POST", "/conversations", Some(&p.doctor.token), Some(&other), &key).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    // Keys are scoped to the caller: another user may use the same key.
    let res = app.send("POST", "/conversations", Some(&p.doctor2.token), Some(&other), &key).await;
    assert_eq!(res.status, StatusCode::CREATED);
}

#[tokio::test]
async fn directory_patient_finder_matches_name_prefixes_without_plaintext() {
    let (app, p) = setup().await;
    let jose = app.add_patient(&p.id, &p.admin, "José", "Álvarez", json!({})).await;
    let (other_pid, other_admin) = app.new_practice("Elsewhere").await;
    app.add_patient(&other_pid, &other_admin, "Josephine", "Other", json!({})).await;
    for q in ["JOS", "jose", "alv", "Álvarez", "jose alv"] {
        let res = app.get(&p.front_desk.token, &format!("/patients?q={}", urlencode(q))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let ids: Vec<&str> = res.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&jose.id.as_str()), "{q}");
        assert_eq!(ids.len(), 1, "{q}: only this practice's José ({ids:?})");
    }
    let res = app.get(&p.front_desk.token, "/patients?q=jo").await;
    assert_eq!(res.body["items"].as_array().unwrap().len(), 2, "José and John");
    let res = app.get(&p.front_desk.token, "/patients?q=ja").await;
    assert_eq!(res.body["items"][0]["firstName"], "Jane");
    assert_problem(&app.get(&p.front_desk.token, "/patients?q=j").await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_problem(&app.get(&p.jane.token, "/patients?q=jo").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn role_1_directory_changes_are_for_admin_roles() {
    let (app, p) = setup().await;
    let staff = json!({ "firstName": "New", "lastName": "Person", "role": "nurse", "email": "new@example.test" });
    assert_problem(&app.post(&p.nurse.token, "/staff", staff.clone()).await, StatusCode::FORBIDDEN);
    assert_problem(
        &app.post(&p.doctor.token, "/patients", json!({ "firstName": "A", "lastName": "B" })).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.post(&p.manager.token, "/staff", staff).await.status, StatusCode::CREATED);
    let res = app
        .post(
            &p.admin.token,
            "/staff",
            json!({ "firstName": "P", "lastName": "Q", "role": "patient", "email": "p@example.test" }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post(
            &p.admin.token,
            "/patients",
            json!({ "firstName": "A", "lastName": "B", "primaryProviderId": p.nurse.id }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "primaryProviderId");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problems() {
    let (app, p) = setup().await;
    assert_problem(&app.get(&p.doctor.token, "/nothing-here").await, StatusCode::NOT_FOUND);
    let res = app.send("DELETE", "/inbox", Some(&p.doctor.token), None, &[]).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_problem(&app.get(&p.doctor.token, "/conversations/..%2F..%2Fetc").await, StatusCode::NOT_FOUND);
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn role_6_staff_and_workgroup_lists_name_colleagues_for_staff_only() {
    let (app, p) = setup().await;
    let gone = app.add_staff(&p.id, &p.admin, "Gone", "nurse", json!({ "active": false })).await;
    let (_, other_admin) = app.new_practice("Other Practice").await;

    let staff = app.get(&p.nurse.token, "/staff").await;
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.body);
    let items = staff.body["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for user in [&p.admin, &p.manager, &p.doctor, &p.doctor2, &p.nurse, &p.front_desk, &p.biller] {
        assert!(ids.contains(&user.id.as_str()), "{} is listed", user.id);
    }
    assert!(!ids.contains(&gone.id.as_str()), "deactivated staff are not offered");
    assert!(!ids.contains(&other_admin.id.as_str()), "another practice's staff are not listed");
    let nurse = items.iter().find(|s| s["id"] == json!(p.nurse.id)).unwrap();
    assert_eq!(nurse["firstName"], "Sam");
    assert_eq!(nurse["role"], "nurse");
    let mut keys: Vec<&String> = nurse.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["firstName", "id", "lastName", "role"], "no emails or phones in the list");

    let groups = app.get(&p.front_desk.token, "/workgroups").await;
    assert_eq!(groups.status, StatusCode::OK, "{}", groups.body);
    let billing = groups.body["items"].as_array().unwrap().iter().find(|g| g["name"] == "Billing").unwrap();
    assert_eq!(billing["id"], json!(p.billing_id));
    assert_eq!(billing["memberIds"], json!([p.biller.id]));

    for path in ["/staff", "/workgroups"] {
        assert_problem(&app.get(&p.jane.token, path).await, StatusCode::FORBIDDEN);
    }
}
