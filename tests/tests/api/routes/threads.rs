//! Replies, the inbox order and unread counts, list cursors and assignment (REPLY-1, CONV-2,
//! CONV-5, INBOX-1, INBOX-5, ASSIGN-1, ROLE-4).

use super::*;

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
