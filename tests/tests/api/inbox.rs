//! The inbox (issue 3): tabs and filters (INBOX-2), personal state (CONV-3, CONV-4), and
//! reassignment seen from both sides (ASSIGN-2), through the local gateway.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn set_state(app: &TestApp, user: &User, cid: &str, body: Value) -> Answer {
    app.send("PUT", &format!("/conversations/{cid}/state"), Some(&user.token), Some(&body), &[]).await
}

#[tokio::test]
async fn inbox_2_conv_4_tabs_follow_kind_archive_and_star_for_each_user_alone() {
    let (app, p) = setup().await;
    let patient = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Results", "body": "In." }),
        )
        .await;
    let team = app.start_conversation(&p.doctor,
        json!({ "kind": "team", "subject": "Huddle", "body": "9am", "recipients": [{"type": "staff", "id": p.nurse.id}] }),
    )
    .await;
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=all").await, vec![team.clone(), patient.clone()]);
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=patient").await, vec![patient.clone()]);
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=team").await, vec![team.clone()]);
    assert!(app.inbox_query_ids(&p.doctor, "tab=broadcasts").await.is_empty());
    assert!(app.inbox_query_ids(&p.doctor, "tab=starred").await.is_empty());

    // Archive: out of All and its kind tab, into Archived, for the doctor only.
    let res = set_state(&app, &p.doctor, &patient, json!({ "archived": true })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["archived"], true);
    assert_eq!(res.body["conversation"]["id"], json!(patient));
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=all").await, vec![team.clone()]);
    assert!(app.inbox_query_ids(&p.doctor, "tab=patient").await.is_empty());
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=archived").await, vec![patient.clone()]);
    assert_eq!(
        app.inbox_query_ids(&p.nurse, "tab=all").await,
        vec![team.clone(), patient.clone()],
        "the nurse's inbox is hers"
    );

    // Star: the Starred tab, personal too.
    let res = set_state(&app, &p.doctor, &team, json!({ "starred": true })).await;
    assert_eq!(res.body["starred"], true);
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=starred").await, vec![team.clone()]);
    assert!(app.inbox_query_ids(&p.nurse, "tab=starred").await.is_empty());
    let res = set_state(&app, &p.doctor, &team, json!({ "starred": false })).await;
    assert_eq!(res.body["starred"], false);
    assert!(app.inbox_query_ids(&p.doctor, "tab=starred").await.is_empty());

    // Restore; and a new message brings an archived conversation back by itself.
    let res = set_state(&app, &p.doctor, &patient, json!({ "archived": false })).await;
    assert_eq!(res.body["archived"], false);
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=patient").await, vec![patient.clone()]);
    set_state(&app, &p.doctor, &patient, json!({ "archived": true })).await;
    let res =
        app.post(&p.jane.token, &format!("/conversations/{patient}/messages"), json!({ "body": "Thanks!" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(app.inbox_query_ids(&p.doctor, "tab=all").await, vec![patient.clone(), team.clone()]);
    assert!(app.inbox_query_ids(&p.doctor, "tab=archived").await.is_empty());

    // The patient never has a Team tab entry.
    assert!(app.inbox_query_ids(&p.jane, "tab=team").await.is_empty());
    assert_eq!(app.inbox_query_ids(&p.jane, "tab=patient").await, vec![patient.clone()]);
}

#[tokio::test]
async fn conv_3_mark_unread_only_where_the_thread_holds_an_incoming_patient_message() {
    let (app, p) = setup().await;
    let cid = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Hi", "body": "Hello" }),
        )
        .await;
    let res = set_state(&app, &p.doctor, &cid, json!({ "unread": true })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let res = app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "A question" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    let res = set_state(&app, &p.doctor, &cid, json!({ "unread": true })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["unreadCount"], 1);
    let res = set_state(&app, &p.doctor, &cid, json!({ "unread": false })).await;
    assert_eq!(res.body["unreadCount"], 0);
    // Nobody else's count moved: the nurse still has both messages unread.
    let nurse = app.get(&p.nurse.token, "/inbox").await;
    assert_eq!(nurse.body["items"][0]["unreadCount"], 2);
    // Invisible: 404; empty or unknown fields: refused.
    assert_eq!(set_state(&app, &p.front_desk, &cid, json!({ "starred": true })).await.status, StatusCode::NOT_FOUND);
    assert_eq!(set_state(&app, &p.doctor, &cid, json!({})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(set_state(&app, &p.doctor, &cid, json!({ "unreadCount": 5 })).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn inbox_2_assign_2_filters_unread_read_assigned_priority_and_dates() {
    let (app, p) = setup().await;
    let a = app.start_conversation(&p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "A", "body": "urgent one", "priority": "urgent" }),
    )
    .await;
    let b = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "B", "body": "two" }),
        )
        .await;
    let c = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.john.id, "subject": "C", "body": "three" }),
        )
        .await;

    assert_eq!(app.inbox_query_ids(&p.jane, "unread=true").await, vec![b.clone(), a.clone()]);
    app.get(&p.jane.token, &format!("/conversations/{a}")).await;
    assert_eq!(app.inbox_query_ids(&p.jane, "unread=true").await, vec![b.clone()]);
    assert_eq!(app.inbox_query_ids(&p.jane, "unread=false").await, vec![a.clone()]);
    assert_eq!(app.inbox_query_ids(&p.jane, "priority=urgent").await, vec![a.clone()]);
    assert_eq!(app.inbox_query_ids(&p.admin, "priority=normal").await, vec![c.clone(), b.clone()]);

    let res = app
        .post(
            &p.admin.token,
            &format!("/conversations/{b}/assign"),
            json!({ "assignees": [{"type": "staff", "id": p.doctor2.id}] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(app.inbox_query_ids(&p.doctor2, "assigned=me").await, vec![b.clone()]);
    assert!(app.inbox_query_ids(&p.doctor2, "assigned=others").await.is_empty());
    assert_eq!(app.inbox_query_ids(&p.admin, "assigned=others").await, vec![b.clone()]);
    assert!(app.inbox_query_ids(&p.admin, "assigned=me").await.is_empty());

    // ASSIGN-2: doctor2 hands it to the nurse: it leaves his "assigned to me", enters hers.
    let res = app
        .post(
            &p.doctor2.token,
            &format!("/conversations/{b}/assign"),
            json!({ "assignees": [{"type": "staff", "id": p.nurse.id}] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(app.inbox_query_ids(&p.doctor2, "assigned=me").await.is_empty());
    assert_eq!(app.inbox_query_ids(&p.doctor2, "assigned=others").await, vec![b.clone()]);
    assert_eq!(app.inbox_query_ids(&p.nurse, "assigned=me").await, vec![b.clone()]);

    // Date range on the latest activity.
    assert!(app.inbox_query_ids(&p.admin, "from=2999-01-01T00:00:00Z").await.is_empty());
    assert!(app.inbox_query_ids(&p.admin, "to=2000-01-01T00:00:00Z").await.is_empty());
    assert_eq!(app.inbox_query_ids(&p.admin, "from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z").await.len(), 3);
    let res = app.get(&p.admin.token, "/inbox?from=yesterday").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "from");
    let res = app.get(&p.admin.token, "/inbox?assigned=everyone").await;
    assert_eq!(res.body["field"], "assigned");
}

#[tokio::test]
async fn inbox_3_search_by_subject_names_id_and_preview_over_what_the_caller_may_see() {
    let (app, p) = setup().await;
    let jose = app.add_patient(&p.id, &p.admin, "José", "Álvarez", json!({ "primaryProviderId": p.doctor.id })).await;
    let for_jose = app.start_conversation(&p.doctor,
        json!({ "kind": "patient", "patientId": jose.id, "subject": "Thyroid panel", "body": "Levels look stable" }),
    )
    .await;
    let for_jane = app.start_conversation(&p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Thyroid follow-up", "body": "Please book a visit" }),
    )
    .await;
    let search = |user: &User, q: &str| {
        let app = &app;
        let token = user.token.clone();
        let q = q.to_string();
        async move {
            let res = app.get(&token, &format!("/inbox?q={q}")).await;
            assert_eq!(res.status, StatusCode::OK, "{q}: {}", res.body);
            res.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["conversation"]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // The admin sees the whole practice; the nurse only Jane's (her care team); the front
    // desk neither: a strict subset, from the same token partition.
    assert_eq!(search(&p.admin, "thy").await, vec![for_jane.clone(), for_jose.clone()]);
    assert_eq!(search(&p.nurse, "thy").await, vec![for_jane.clone()]);
    assert!(search(&p.front_desk, "thy").await.is_empty());
    assert_eq!(search(&p.jane, "THYROID").await, vec![for_jane.clone()], "a patient finds only its own");
    // Patient names, case- and accent-insensitive; the patient id; the preview text.
    assert_eq!(search(&p.doctor, "jos").await, vec![for_jose.clone()]);
    assert_eq!(search(&p.doctor, "ALVA").await, vec![for_jose.clone()]);
    assert_eq!(search(&p.doctor, "%C3%81lvarez").await, vec![for_jose.clone()]);
    assert_eq!(search(&p.doctor, &jose.id).await, vec![for_jose.clone()], "by patient id");
    assert_eq!(search(&p.doctor, &jose.id.to_uppercase()).await, vec![for_jose.clone()]);
    assert_eq!(search(&p.doctor, "stab").await, vec![for_jose.clone()]);
    // Later messages are searchable; internal notes never are.
    let res = app
        .post(&p.jane.token, &format!("/conversations/{for_jane}/messages"), json!({ "body": "Allergic reaction?" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{for_jane}/messages"),
            json!({ "body": "Zanzibarite note", "internal": true }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(search(&p.doctor, "allerg").await, vec![for_jane.clone()]);
    assert!(search(&p.jane, "zanzib").await.is_empty());
    // Search combines with a tab.
    assert_eq!(search(&p.admin, "thy&tab=team").await, Vec::<String>::new());
    let res = app.get(&p.doctor.token, "/inbox?q=t").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "q");
}

#[tokio::test]
async fn conv_2_read_receipts_show_sent_delivered_read_to_staff_only() {
    let (app, p) = setup().await;
    let cid = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Hi", "body": "Hello" }),
        )
        .await;
    let receipts = |user: &User| {
        let app = &app;
        let token = user.token.clone();
        let cid = cid.clone();
        async move {
            let res = app.get(&token, &format!("/conversations/{cid}")).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            res.body["messages"][0].clone()
        }
    };
    let jane_status = |m: &Value, who: &str| {
        m["receipts"].as_array().unwrap().iter().find(|r| r["recipientId"] == json!(who)).unwrap()["status"].clone()
    };
    let m = receipts(&p.doctor).await;
    assert_eq!(jane_status(&m, &p.jane.id), "sent");
    assert_eq!(m["status"], "sent");
    // Jane's inbox reaches her: delivered.
    app.get(&p.jane.token, "/inbox").await;
    assert_eq!(jane_status(&receipts(&p.doctor).await, &p.jane.id), "delivered");
    // She opens it: read. The patient's own view carries no receipts.
    let her_view = receipts(&p.jane).await;
    assert!(her_view.get("receipts").is_none());
    let m = receipts(&p.doctor).await;
    assert_eq!(jane_status(&m, &p.jane.id), "read");
    assert_eq!(m["status"], "read", "every recipient has read it");
}

#[tokio::test]
async fn inbox_4_stats_are_counters_that_match_a_full_recount_for_every_user() {
    let (app, p) = setup().await;
    let a = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "A", "body": "one" }),
        )
        .await;
    let b = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "B", "body": "two" }),
        )
        .await;
    let c = app
        .start_conversation(
            &p.doctor2,
            json!({ "kind": "patient", "patientId": p.john.id, "subject": "C", "body": "three" }),
        )
        .await;
    app.start_conversation(&p.nurse, json!({ "kind": "team", "subject": "T", "body": "team", "recipients": [{"type": "workgroup", "id": p.billing_id}] }))
        .await;
    assert_eq!(
        app.post(&p.jane.token, &format!("/conversations/{a}/messages"), json!({ "body": "reply" })).await.status,
        StatusCode::CREATED
    );
    let note = json!({ "body": "note", "internal": true });
    assert_eq!(
        app.post(&p.doctor.token, &format!("/conversations/{a}/messages"), note).await.status,
        StatusCode::CREATED
    );
    app.get(&p.jane.token, &format!("/conversations/{b}")).await;
    app.get(&p.doctor.token, &format!("/conversations/{a}")).await;
    assert_eq!(
        set_state(&app, &p.doctor, &a, json!({ "unread": true, "archived": true })).await.status,
        StatusCode::OK
    );
    // A new viewer joins (front desk), then the conversation moves on to the biller, and the
    // front desk keeps it as a participant.
    let assign = |to: &str| json!({ "assignees": [{"type": "staff", "id": to}] });
    assert_eq!(
        app.post(&p.admin.token, &format!("/conversations/{c}/assign"), assign(&p.front_desk.id)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.post(&p.admin.token, &format!("/conversations/{c}/assign"), assign(&p.biller.id)).await.status,
        StatusCode::OK
    );

    let mut checked = 0;
    for user in [&p.admin, &p.manager, &p.doctor, &p.doctor2, &p.nurse, &p.front_desk, &p.biller, &p.jane, &p.john] {
        let res = app.get(&user.token, "/inbox/stats").await;
        assert_eq!(res.status, StatusCode::OK);
        let truth = app.app().store.recount_stats(&p.id, &user.user_id()).await.unwrap();
        assert_eq!(res.body["totalConversations"], json!(truth.conversations), "{}: {}", user.role, res.body);
        assert_eq!(res.body["totalMessages"], json!(truth.messages), "{}: {}", user.role, res.body);
        assert_eq!(res.body["unreadMessages"], json!(truth.unread_messages), "{}: {}", user.role, res.body);
        assert_eq!(res.body["uniquePatients"], json!(truth.unique_patients), "{}: {}", user.role, res.body);
        checked += 1;
    }
    assert_eq!(checked, 9);
    // Spot values: the admin sees all four conversations, about two patients.
    let admin = app.get(&p.admin.token, "/inbox/stats").await.body;
    assert_eq!((admin["totalConversations"].clone(), admin["uniquePatients"].clone()), (json!(4), json!(2)));
    let jane = app.get(&p.jane.token, "/inbox/stats").await.body;
    assert_eq!(jane, json!({ "totalConversations": 2, "totalMessages": 3, "unreadMessages": 1, "uniquePatients": 1 }));
    // The stats cost one read, however large the inbox, the identity check every request
    // makes (SEC-4, ACCT-2) in the same BatchGetItem.
    let before = app.app().calls.snapshot();
    app.get(&p.admin.token, "/inbox/stats").await;
    assert_eq!(
        app.app().calls.since(&before).into_iter().collect::<Vec<_>>(),
        vec![("DynamoDB.BatchGetItem".to_string(), 1)]
    );
}
