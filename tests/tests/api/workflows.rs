//! Care-team workflows (issue 4, in part): settings (SET-1), patient limits (REPLY-4), thread
//! controls (REPLY-2, REPLY-3), out-of-office (REPLY-5 settings), through the local gateway.

use carethread_core::domain::{SignedDuration, Timestamp};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn put(app: &TestApp, user: &User, path: &str, body: Value) -> Answer {
    app.send("PUT", path, Some(&user.token), Some(&body), &[]).await
}

async fn create(app: &TestApp, from: &User, body: Value) -> String {
    let res = app.post(&from.token, "/conversations", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn set_1_compose_7_settings_are_admin_only_validated_and_applied() {
    let (app, p) = setup().await;
    let res = app.get(&p.nurse.token, "/settings").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["settings"]["bodyMaxChars"], 20_000, "SPEC defaults");
    assert_eq!(res.body["settings"]["attachmentMaxBytes"], 10 * 1024 * 1024);
    assert_eq!(put(&app, &p.nurse, "/settings", json!({ "bodyMaxChars": 50 })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&p.jane.token, "/settings").await.status, StatusCode::FORBIDDEN);
    let res = put(&app, &p.admin, "/settings", json!({ "bodyMaxChars": 0 })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "bodyMaxChars");
    let res = put(&app, &p.admin, "/settings", json!({ "urgentPhone": "call us" })).await;
    assert_eq!(res.body["field"], "urgentPhone");
    assert_eq!(put(&app, &p.admin, "/settings", json!({ "retention": 3 })).await.status, StatusCode::BAD_REQUEST);
    let res =
        put(&app, &p.manager, "/settings", json!({ "bodyMaxChars": 50, "patientBanner": "We answer within a day." }))
            .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["settings"]["bodyMaxChars"], 50);

    // COMPOSE-7: the practice's maximum applies, and the error names the field.
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "x".repeat(51) }),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.body["field"], "body");
    // COMPOSE-3: the banner is there for the patient before writing.
    let res = app.get(&p.jane.token, "/portal/banner").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["banner"], "We answer within a day.");
}

#[tokio::test]
async fn reply_4_patient_limits_answer_429_or_413_with_the_urgent_phone_and_store_nothing() {
    let (app, p) = setup().await;
    let res = put(
        &app,
        &p.admin,
        "/settings",
        json!({ "patientMessagesPerDay": 2, "patientBodyMaxChars": 20, "urgentPhone": "+15550001111" }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // The portal says what is left before the patient writes: "2 of 2", then "1 of 2", then none.
    let left = |body: &Value| (body["limits"]["messagesLeftToday"].as_u64(), body["limits"]["messagesPerDay"].as_u64());
    assert_eq!(left(&app.get(&p.jane.token, "/portal/banner").await.body), (Some(2), Some(2)));
    assert_eq!(app.get(&p.jane.token, "/portal/banner").await.body["limits"]["bodyMaxChars"], 20);
    assert!(app.get(&p.doctor.token, "/portal/banner").await.body.get("limits").is_none(), "staff have no limits");
    let cid = create(&app, &p.jane, json!({ "subject": "Question", "body": "First one" })).await;
    assert_eq!(left(&app.get(&p.jane.token, "/portal/banner").await.body), (Some(1), Some(2)));
    let path = format!("/conversations/{cid}/messages");
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "Second one" })).await.status, StatusCode::CREATED);
    assert_eq!(left(&app.get(&p.jane.token, "/portal/banner").await.body), (Some(0), Some(2)));
    let res = app.post(&p.jane.token, &path, json!({ "body": "Third one" })).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(res.body["detail"].as_str().unwrap().contains("+15550001111"), "{}", res.body);
    let wait = res.retry_after.expect("the daily limit says when it lifts (Retry-After)");
    assert!((1..=86_400).contains(&wait), "the limit lifts at the next UTC midnight: Retry-After {wait}");
    let res = app.post(&p.jane.token, "/conversations", json!({ "subject": "Another", "body": "Fourth" })).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Too long: 413, with the urgent path too.
    let res = app.post(&p.john.token, "/conversations", json!({ "subject": "Long", "body": "x".repeat(21) })).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.body["detail"].as_str().unwrap().contains("+15550001111"));
    // Nothing was stored: two messages, one conversation; staff are not limited.
    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().unwrap().len(), 2);
    assert_eq!(app.inbox_ids(&p.jane).await.len(), 1);
    assert!(app.inbox_ids(&p.john).await.is_empty());
    assert_eq!(
        app.post(&p.doctor.token, &path, json!({ "body": "Staff are not limited by the patient cap." })).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn reply_3_send_and_close_then_reopen() {
    let (app, p) = setup().await;
    let cid = create(
        &app,
        &p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Results", "body": "In." }),
    )
    .await;
    let path = format!("/conversations/{cid}/messages");
    let res = app
        .post(&p.doctor.token, &path, json!({ "body": "All done, closing.", "options": { "sendAndClose": true } }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let thread = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["conversation"]["status"], "closed");
    assert_eq!(app.get(&p.jane.token, "/inbox").await.body["items"][0]["conversation"]["status"], "closed");
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "One more thing" })).await.status, StatusCode::CONFLICT);
    assert_eq!(
        app.post(&p.jane.token, &format!("/conversations/{cid}/reopen"), json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&p.front_desk.token, &format!("/conversations/{cid}/reopen"), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let res = app.post(&p.nurse.token, &format!("/conversations/{cid}/reopen"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["conversation"]["status"], "open");
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "One more thing" })).await.status, StatusCode::CREATED);
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/close"), json!({})).await;
    assert_eq!(res.body["conversation"]["status"], "closed");
}

#[tokio::test]
async fn reply_2_allow_response_attachments_and_mask_name() {
    let (app, p) = setup().await;
    let cid =
        create(&app, &p.doctor, json!({ "kind": "patient", "patientId": p.jane.id, "subject": "FYI", "body": "Note" }))
            .await;
    let path = format!("/conversations/{cid}/messages");
    // Mask name: the patient sees "Clinic Staff"; staff still see who.
    let res =
        app.post(&p.doctor.token, &path, json!({ "body": "From the team", "options": { "maskName": true } })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let patient_view = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_eq!(patient_view.body["messages"][1]["sender"]["displayName"], "Clinic Staff");
    assert!(!patient_view.body["messages"][1].to_string().contains(&p.doctor.id), "no id behind the mask");
    let staff_view = app.get(&p.nurse.token, &format!("/conversations/{cid}")).await;
    assert_eq!(staff_view.body["messages"][1]["sender"]["displayName"], "Maria Tester");
    // Allow response off: the thread is closed to patient replies; back on, open again.
    let res = app
        .post(&p.doctor.token, &path, json!({ "body": "No reply needed", "options": { "allowResponse": false } }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(app.get(&p.jane.token, "/inbox").await.body["items"][0]["conversation"]["allowResponse"], false);
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "But..." })).await.status, StatusCode::CONFLICT);
    let res = app
        .post(
            &p.doctor.token,
            &path,
            json!({ "body": "Go ahead", "options": { "allowResponse": true, "allowAttachments": true } }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "Thanks" })).await.status, StatusCode::CREATED);
    // Patients cannot set thread options.
    let res = app.post(&p.jane.token, &path, json!({ "body": "x", "options": { "allowResponse": true } })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn reply_5_out_of_office_is_set_by_each_staff_user_for_themselves() {
    let (app, p) = setup().await;
    let ooo = json!({ "from": "2026-12-20T00:00:00Z", "to": "2027-01-02T00:00:00Z", "text": "Away until January 2." });
    let res = put(&app, &p.doctor, "/me/out-of-office", ooo.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["outOfOffice"]["text"], "Away until January 2.");
    // Each reads back its own (the screen shows it), and only its own.
    let res = app.get(&p.doctor.token, "/me/out-of-office").await;
    assert!(
        res.body["outOfOffice"]["from"].as_str().is_some_and(|f| f.starts_with("2026-12-20T00:00:00")),
        "{}",
        res.body
    );
    assert_eq!(app.get(&p.nurse.token, "/me/out-of-office").await.body["outOfOffice"], Value::Null);
    assert_eq!(app.get(&p.jane.token, "/me/out-of-office").await.status, StatusCode::FORBIDDEN);
    assert_eq!(put(&app, &p.jane, "/me/out-of-office", ooo).await.status, StatusCode::FORBIDDEN);
    let res = put(
        &app,
        &p.doctor,
        "/me/out-of-office",
        json!({ "from": "2027-01-02T00:00:00Z", "to": "2026-12-20T00:00:00Z", "text": "x" }),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "to");
    let res = put(&app, &p.doctor, "/me/out-of-office", Value::Null).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["outOfOffice"], Value::Null);
}

#[tokio::test]
async fn conv_8_transcript_exports_as_text_and_as_fhir_r4_communications() {
    let (app, p) = setup().await;
    let cid = create(
        &app,
        &p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Knee", "body": "How is the knee?" }),
    )
    .await;
    let path = format!("/conversations/{cid}/messages");
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "Better." })).await.status, StatusCode::CREATED);
    assert_eq!(
        app.post(&p.doctor.token, &path, json!({ "body": "Staff-only note", "internal": true })).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&p.doctor.token, &path, json!({ "body": "Come Monday.", "priority": "urgent" })).await.status,
        StatusCode::CREATED
    );
    app.get(&p.jane.token, &format!("/conversations/{cid}")).await;

    let res = app
        .http
        .get(format!("{}/conversations/{cid}/export?format=text", app.base))
        .bearer_auth(&p.doctor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains("Conversation: Knee") && text.contains("Patient: Jane Smith") && text.contains("Better."));
    assert!(text.contains("[URGENT]"));
    assert!(!text.contains("Staff-only note"), "internal notes are not part of the chart transcript");

    let res = app
        .http
        .get(format!("{}/conversations/{cid}/export?format=fhir", app.base))
        .bearer_auth(&p.doctor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/fhir+json");
    let bundle: Value = res.json().await.unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let fhir_id = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    let event_status =
        ["preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"];
    let request_priority = ["routine", "urgent", "asap", "stat"];
    for (i, e) in entries.iter().enumerate() {
        let c = &e["resource"];
        assert_eq!(c["resourceType"], "Communication");
        assert!(fhir_id(c["id"].as_str().unwrap()), "{}", c["id"]);
        assert!(event_status.contains(&c["status"].as_str().unwrap()), "status is required and from event-status");
        assert!(request_priority.contains(&c["priority"].as_str().unwrap()));
        assert_eq!(
            c["category"][0]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/communication-category"
        );
        assert_eq!(c["subject"]["reference"], json!(format!("Patient/{}", p.jane.id.replace('_', "-"))));
        assert!(c["sender"]["reference"].as_str().unwrap().split('/').nth(1).is_some_and(fhir_id));
        assert!(!c["recipient"].as_array().unwrap().is_empty());
        assert!(c["sent"].as_str().unwrap().ends_with('Z'));
        assert!(c["payload"][0]["contentString"].is_string());
        if i > 0 {
            assert!(c["inResponseTo"][0]["reference"].as_str().unwrap().starts_with("Communication/"));
        }
    }
    assert_eq!(
        entries[0]["resource"]["sender"]["reference"],
        json!(format!("Practitioner/{}", p.doctor.id.replace('_', "-")))
    );
    assert_eq!(
        entries[1]["resource"]["sender"]["reference"],
        json!(format!("Patient/{}", p.jane.id.replace('_', "-")))
    );
    assert_eq!(entries[2]["resource"]["priority"], "urgent");
    assert!(entries[0]["resource"]["received"].is_string(), "Jane read it");
    // Staff only; invisible is 404; a bad format is 422.
    assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}/export")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&p.front_desk.token, &format!("/conversations/{cid}/export")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&p.doctor.token, &format!("/conversations/{cid}/export?format=pdf")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn conv_7_tasks_link_to_a_message_and_are_listed_per_assignee() {
    let (app, p) = setup().await;
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Refill", "body": "Need a refill" }),
        )
        .await;
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let mid = res.body["message"]["id"].as_str().unwrap().to_string();
    let path = format!("/conversations/{cid}/messages/{mid}/tasks");
    let task = |title: &str, who: &str, due: &str| json!({ "title": title, "assigneeId": who, "dueDate": due });
    let res = app.post(&p.doctor.token, &path, task("Call pharmacy", &p.nurse.id, "2026-12-02")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["task"]["title"], "Call pharmacy");
    let first = res.body["task"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.post(&p.doctor.token, &path, task("Check labs", &p.nurse.id, "2026-12-01")).await.status,
        StatusCode::CREATED
    );
    // The front desk cannot see the conversation, so cannot be given a task on it.
    let res = app.post(&p.doctor.token, &path, task("x", &p.front_desk.id, "2026-12-01")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "assigneeId");
    assert_eq!(app.post(&p.doctor.token, &path, task("x", &p.nurse.id, "tomorrow")).await.body["field"], "dueDate");
    assert_eq!(
        app.post(&p.jane.token, &path, task("x", &p.nurse.id, "2026-12-01")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&p.front_desk.token, &path, task("x", &p.nurse.id, "2026-12-01")).await.status,
        StatusCode::NOT_FOUND
    );
    let other = format!("/conversations/{cid}/messages/msg_nothere/tasks");
    assert_eq!(
        app.post(&p.doctor.token, &other, task("x", &p.nurse.id, "2026-12-01")).await.status,
        StatusCode::NOT_FOUND
    );

    let titles = |v: &Value| {
        v["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let mine = app.get(&p.nurse.token, "/tasks?assignee=me").await;
    assert_eq!(titles(&mine.body), vec!["Check labs", "Call pharmacy"], "open tasks by due date");
    let res =
        app.send("PATCH", &format!("/tasks/{first}"), Some(&p.nurse.token), Some(&json!({ "done": true })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["task"]["done"], true);
    let mine = app.get(&p.nurse.token, "/tasks").await;
    assert_eq!(titles(&mine.body), vec!["Check labs", "Call pharmacy"]);
    assert_eq!(mine.body["items"][1]["done"], true, "done tasks after open ones");
    assert!(app.get(&p.biller.token, "/tasks").await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(
        app.get(&p.biller.token, &format!("/tasks?assignee={}", p.nurse.id)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(titles(&app.get(&p.doctor.token, &format!("/tasks?assignee={}", p.nurse.id)).await.body).len(), 2);
    let res = app
        .send("PATCH", &format!("/tasks/{first}"), Some(&p.biller.token), Some(&json!({ "done": false })), &[])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reply_6_saved_replies_practice_wide_and_personal_with_variables() {
    let (app, p) = setup().await;
    let cid =
        create(&app, &p.doctor, json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Hi", "body": "Hello" }))
            .await;
    let practice_wide = json!({ "title": "Welcome", "body": "Hi {{patient.firstName}}, this is {{staff.name}} at {{practice.name}}.", "scope": "practice" });
    assert_eq!(app.post(&p.nurse.token, "/saved-replies", practice_wide.clone()).await.status, StatusCode::FORBIDDEN);
    let res = app.post(&p.admin.token, "/saved-replies", practice_wide).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let welcome = res.body["savedReply"]["id"].as_str().unwrap().to_string();
    let res = app
        .post(&p.nurse.token, "/saved-replies", json!({ "title": "Mine", "body": "Take care, {{patient.lastName}}." }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let mine = res.body["savedReply"]["id"].as_str().unwrap().to_string();
    let res = app.post(&p.nurse.token, "/saved-replies", json!({ "title": "Bad", "body": "{{patient.ssn}}" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "body");

    let titles = |v: &Value| {
        let mut t: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_string()).collect();
        t.sort();
        t
    };
    assert_eq!(titles(&app.get(&p.nurse.token, "/saved-replies").await.body), vec!["Mine", "Welcome"]);
    assert_eq!(
        titles(&app.get(&p.doctor.token, "/saved-replies").await.body),
        vec!["Welcome"],
        "personal ones are personal"
    );

    let res =
        app.post(&p.nurse.token, &format!("/saved-replies/{welcome}/render"), json!({ "conversationId": cid })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["body"], "Hi Jane, this is Sam Tester at Test Practice.");
    let res =
        app.post(&p.nurse.token, &format!("/saved-replies/{mine}/render"), json!({ "conversationId": cid })).await;
    assert_eq!(res.body["body"], "Take care, Smith.");
    assert_eq!(
        app.post(&p.doctor.token, &format!("/saved-replies/{mine}/render"), json!({ "conversationId": cid }))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&p.front_desk.token, &format!("/saved-replies/{welcome}/render"), json!({ "conversationId": cid }))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&p.jane.token, "/saved-replies").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn assign_3_forward_copies_chosen_messages_and_attachments_to_a_new_team_conversation() {
    let (app, p) = setup().await;
    let cid = create(
        &app,
        &p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Billing", "body": "About your invoice", "options": { "allowAttachments": true } }),
    )
    .await;
    let bytes = b"%PDF-1.4 invoice scan bytes".to_vec();
    let res = app
        .post(
            &p.jane.token,
            "/attachments",
            json!({ "fileName": "invoice.pdf", "contentType": "application/pdf", "size": bytes.len() }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let att = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let mut put = app.http.put(res.body["upload"]["url"].as_str().unwrap()).body(bytes.clone());
    for (k, v) in res.body["upload"]["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    let res = app
        .post(
            &p.jane.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "I was charged twice", "attachmentIds": [att] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let jane_msg = res.body["message"]["id"].as_str().unwrap().to_string();

    let fwd = json!({ "messageIds": [jane_msg], "recipients": [{"type": "workgroup", "id": p.billing_id}], "comment": "Can billing check this?" });
    assert_eq!(
        app.post(&p.jane.token, &format!("/conversations/{cid}/forward"), fwd.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&p.front_desk.token, &format!("/conversations/{cid}/forward"), fwd.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/forward"), fwd).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let new_id = res.body["conversation"]["id"].as_str().unwrap().to_string();
    assert_eq!(res.body["conversation"]["kind"], "team");
    assert_eq!(res.body["conversation"]["subject"], "Fwd: Billing");
    let body = res.body["message"]["body"].as_str().unwrap();
    assert!(
        body.starts_with("Can billing check this?")
            && body.contains("I was charged twice")
            && body.contains("From: Jane Smith")
    );
    let copy = res.body["message"]["attachments"][0].clone();
    assert_eq!(copy["fileName"], "invoice.pdf");
    assert_ne!(copy["id"], json!(att), "a copy, not the original");

    // The biller sees the forward and can download the copy; the patient never sees it.
    assert!(app.inbox_ids(&p.biller).await.contains(&new_id));
    assert!(!app.inbox_ids(&p.jane).await.contains(&new_id));
    let res = app.get(&p.biller.token, &format!("/attachments/{}", copy["id"].as_str().unwrap())).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let got = app.http.get(res.body["download"]["url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.to_vec(), bytes);
    // The original is unchanged.
    let original = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    assert_eq!(original.body["messages"].as_array().unwrap().len(), 2);
    assert_eq!(original.body["messages"][1]["attachments"][0]["id"], json!(att));
}

#[tokio::test]
async fn compose_6_broadcast_gives_each_patient_a_private_copy_where_replies_land() {
    let (app, p) = setup().await;
    let body = json!({ "patientIds": [p.jane.id, p.john.id, p.jane.id], "subject": "Flu shots", "body": "Flu shots are available." });
    assert_eq!(app.post(&p.jane.token, "/broadcasts", body.clone()).await.status, StatusCode::FORBIDDEN);
    let res =
        app.send("POST", "/broadcasts", Some(&p.doctor.token), Some(&body), &[("idempotency-key", "flu-1")]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["broadcast"]["recipientCount"], 2);
    // A retry with the same key sends nothing new.
    let again =
        app.send("POST", "/broadcasts", Some(&p.doctor.token), Some(&body), &[("idempotency-key", "flu-1")]).await;
    assert_eq!(again.status, StatusCode::CREATED);

    let tab = |user: &User| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let res = app.get(&token, "/inbox?tab=broadcasts").await;
            res.body["items"].as_array().unwrap().iter().map(|i| i["conversation"].clone()).collect::<Vec<_>>()
        }
    };
    let jane = tab(&p.jane).await;
    let john = tab(&p.john).await;
    assert_eq!((jane.len(), john.len()), (1, 1), "one private copy each, even after the retry");
    assert_eq!(jane[0]["kind"], "broadcast");
    assert_ne!(jane[0]["id"], john[0]["id"]);
    assert_eq!(jane[0]["patient"]["id"], json!(p.jane.id), "Jane's copy names only Jane");
    assert_eq!(tab(&p.doctor).await.len(), 2);
    // Jane's reply lands in her own copy.
    let jane_copy = jane[0]["id"].as_str().unwrap();
    assert_eq!(
        app.post(
            &p.jane.token,
            &format!("/conversations/{jane_copy}/messages"),
            json!({ "body": "Can I come Tuesday?" })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(tab(&p.john).await[0]["messageCount"], 1);
    assert_eq!(app.get(&p.john.token, &format!("/conversations/{jane_copy}")).await.status, StatusCode::NOT_FOUND);

    // Replies off: refused. The practice caps the list.
    let res = app
        .post(
            &p.doctor.token,
            "/broadcasts",
            json!({ "patientIds": [p.john.id], "subject": "FYI", "body": "No reply needed.", "allowResponse": false }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let fyi = tab(&p.john).await.into_iter().find(|c| c["subject"] == "FYI").unwrap();
    let res = app
        .post(
            &p.john.token,
            &format!("/conversations/{}/messages", fyi["id"].as_str().unwrap()),
            json!({ "body": "ok" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(
        app.send("PUT", "/settings", Some(&p.admin.token), Some(&json!({ "broadcastMaxRecipients": 1 })), &[])
            .await
            .status,
        StatusCode::OK
    );
    let res = app
        .post(
            &p.doctor.token,
            "/broadcasts",
            json!({ "patientIds": [p.jane.id, p.john.id], "subject": "s", "body": "b" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "patientIds");
}

#[tokio::test]
async fn reply_2_billable_replies_feed_the_billing_report() {
    let (app, p) = setup().await;
    let cid = create(
        &app,
        &p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Consult", "body": "Let's talk." }),
    )
    .await;
    let path = format!("/conversations/{cid}/messages");
    let billable = json!({ "body": "Here is my advice.", "options": { "billable": { "feeCode": "99421" }, "notifyIfUnreadHours": 24 } });
    let res = app.post(&p.doctor.token, &path, billable).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let day = res.body["message"]["createdAt"].as_str().unwrap()[..10].to_string();
    assert_eq!(app.post(&p.doctor.token, &path, json!({ "body": "Not billed" })).await.status, StatusCode::CREATED);
    let res = app
        .post(&p.doctor.token, &path, json!({ "body": "x", "options": { "billable": { "feeCode": "99 421!" } } }))
        .await;
    assert_eq!(res.body["field"], "options.billable.feeCode");
    let res = app
        .post(
            &p.doctor.token,
            &path,
            json!({ "body": "x", "internal": true, "options": { "billable": { "feeCode": "99421" } } }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "a note is not billable");
    assert_eq!(
        app.post(&p.jane.token, &path, json!({ "body": "x", "options": { "notifyIfUnreadHours": 2 } })).await.status,
        StatusCode::FORBIDDEN
    );

    let res = app.get(&p.admin.token, "/reports/billing?from=2020-01-01&to=2030-12-31").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "at most two years");
    let res = app.get(&p.admin.token, &format!("/reports/billing?from={day}&to={day}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let items = res.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["feeCode"], "99421");
    assert_eq!(items[0]["patientId"], json!(p.jane.id));
    assert_eq!(items[0]["staffId"], json!(p.doctor.id));
    assert_eq!(
        app.get(&p.doctor.token, &format!("/reports/billing?from={day}&to={day}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(app.get(&p.admin.token, "/reports/billing?from=2020-01-01&to=2020-12-31").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn conv_6_authors_delete_messages_and_starters_delete_threads_for_good_and_the_audit_stays() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (app, p) = setup().await;
    let cid = create(
        &app,
        &p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Results", "body": "First" }),
    )
    .await;
    let path = format!("/conversations/{cid}/messages");
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "Patient question" })).await.status, StatusCode::CREATED);
    let res = app.post(&p.doctor.token, &path, json!({ "body": "Wrong patient info, oops" })).await;
    let wrong = res.body["message"]["id"].as_str().unwrap().to_string();
    let first = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await.body["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let del = |user: &User, path: String| {
        let app = &app;
        let token = user.token.clone();
        async move { app.send("DELETE", &path, Some(&token), None, &[]).await }
    };
    let msg_path = |m: &str| format!("/conversations/{cid}/messages/{m}");
    // Not its author: 403; cannot see it: 404; the first message goes with the thread: 409.
    assert_eq!(del(&p.doctor2, msg_path(&wrong)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(del(&p.jane, msg_path(&wrong)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(del(&p.front_desk, msg_path(&wrong)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(del(&p.doctor, msg_path(&first)).await.status, StatusCode::CONFLICT);

    assert_eq!(del(&p.doctor, msg_path(&wrong)).await.status, StatusCode::NO_CONTENT);
    let thread = app.get(&p.nurse.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().unwrap().len(), 2);
    assert!(!thread.body.to_string().contains("oops"));
    let jane_row = &app.get(&p.jane.token, "/inbox").await.body["items"][0];
    assert_eq!(jane_row["preview"], "Patient question", "the preview moves back");
    assert_eq!(jane_row["conversation"]["messageCount"], 2);
    assert_eq!(del(&p.doctor, msg_path(&wrong)).await.status, StatusCode::NOT_FOUND);
    // Counters stay exact.
    for user in [&p.doctor, &p.nurse, &p.jane, &p.admin] {
        let stats = app.get(&user.token, "/inbox/stats").await.body;
        let truth = app.app().store.recount_stats(&p.id, &user.user_id()).await.unwrap();
        assert_eq!(stats["unreadMessages"], json!(truth.unread_messages), "{}", user.role);
        assert_eq!(stats["totalMessages"], json!(truth.messages), "{}", user.role);
    }

    // The whole thread: only its starter may; afterwards nothing of it is left but the audit.
    assert_eq!(del(&p.admin, format!("/conversations/{cid}")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(del(&p.doctor, format!("/conversations/{cid}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&p.doctor.token, &format!("/conversations/{cid}")).await.status, StatusCode::NOT_FOUND);
    assert!(app.inbox_ids(&p.jane).await.is_empty());
    assert!(app.raw_partition(&format!("PRAC#{}#CONV#{cid}", p.id)).await.is_empty(), "no message left");
    let stats = app.get(&p.jane.token, "/inbox/stats").await.body;
    assert_eq!(stats, json!({ "totalConversations": 0, "totalMessages": 0, "unreadMessages": 0, "uniquePatients": 0 }));
    let audit = app.raw_partition(&format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id)).await;
    let actions: Vec<String> = audit
        .iter()
        .filter_map(|e| match e.get("action") {
            Some(AttributeValue::S(a)) => Some(a.clone()),
            _ => None,
        })
        .collect();
    assert!(
        actions.contains(&"message.delete".to_string()) && actions.contains(&"conversation.delete".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn sec_5_retention_purges_idle_conversations_with_their_files_and_audits_it() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use carethread_core::jobs::retention::purge_expired;
    let (app, p) = setup().await;
    let (other_pid, other_admin) = app.new_practice("Keeps Everything").await;
    let other_patient = app.add_patient(&other_pid, &other_admin, "Kim", "Keep", json!({})).await;
    assert_eq!(put(&app, &p.admin, "/settings", json!({ "retentionDays": 30 })).await.status, StatusCode::OK);

    let cid = create(
        &app,
        &p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Old", "body": "Old news", "options": { "allowAttachments": true } }),
    )
    .await;
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "old.txt", "contentType": "text/plain", "size": 3, "conversationId": cid }),
        )
        .await;
    let att = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let key = format!("{}/{cid}/{att}", p.id);
    app.s3.put_object().bucket(&app.bucket).key(&key).body(b"old".to_vec().into()).send().await.unwrap();
    assert_eq!(
        app.post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "file", "attachmentIds": [att] })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let kept = create(
        &app,
        &other_admin,
        json!({ "kind": "patient", "patientId": other_patient.id, "subject": "Kept", "body": "Stays" }),
    )
    .await;

    let now = Timestamp::now();
    let early =
        purge_expired(app.function("retention-purge"), now + SignedDuration::from_hours(24 * 29), 10).await.unwrap();
    assert_eq!(early.conversations, 0, "not yet 30 days idle");
    let report =
        purge_expired(app.function("retention-purge"), now + SignedDuration::from_hours(24 * 31), 10).await.unwrap();
    assert_eq!((report.practices, report.conversations), (1, 1));

    assert_eq!(app.get(&p.doctor.token, &format!("/conversations/{cid}")).await.status, StatusCode::NOT_FOUND);
    assert!(app.inbox_ids(&p.jane).await.is_empty());
    assert!(app.s3.head_object().bucket(&app.bucket).key(&key).send().await.is_err(), "its files are deleted too");
    assert_eq!(
        app.get(&other_admin.token, &format!("/conversations/{kept}")).await.status,
        StatusCode::OK,
        "no retention, no purge"
    );
    let audit = app.raw_partition(&format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id)).await;
    let purged = audit.iter().any(|e| e.get("action") == Some(&AttributeValue::S("conversation.purge".into())));
    assert!(purged, "the audit log keeps that the purge happened");
}

#[tokio::test]
async fn reply_5_out_of_office_and_after_hours_auto_replies_once_per_conversation_per_period() {
    let (app, p) = setup().await;
    let now = Timestamp::now();
    let fmt = |t: Timestamp| t.to_string();
    let ooo = json!({ "from": fmt(now - SignedDuration::from_hours(1)), "to": fmt(now + SignedDuration::from_hours(24)), "text": "Dr. Tester is away until tomorrow." });
    assert_eq!(put(&app, &p.doctor, "/me/out-of-office", ooo).await.status, StatusCode::OK);
    // Jane writes to her primary provider, who is away: one auto-reply, once.
    let cid = create(&app, &p.jane, json!({ "subject": "Question", "body": "Is my refill ready?" })).await;
    let thread = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    let messages = thread.body["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 2, "{}", thread.body);
    assert_eq!(messages[1]["body"], "Dr. Tester is away until tomorrow.");
    assert_eq!(messages[1]["sender"]["type"], "system");
    assert_eq!(messages[1]["sender"]["displayName"], "Maria Tester (auto-reply)");
    let moment = |m: &Value| m["createdAt"].as_str().unwrap().to_string();
    assert!(moment(&messages[1]) > moment(&messages[0]), "an auto-reply comes after what it answers");
    assert_eq!(
        app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Thanks" })).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.get(&p.jane.token, &format!("/conversations/{cid}")).await.body["messages"].as_array().unwrap().len(),
        3
    );
    // Staff messages get no auto-reply.
    assert_eq!(
        app.post(&p.nurse.token, &format!("/conversations/{cid}/messages"), json!({ "body": "On it" })).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.get(&p.jane.token, &format!("/conversations/{cid}")).await.body["messages"].as_array().unwrap().len(),
        4
    );

    // After hours, in the practice's time zone: a practice closed every day answers once per
    // conversation per day.
    let hours = json!({ "timeZone": "America/Chicago", "businessHours": { "days": [], "open": "09:00", "close": "17:00" }, "afterHoursText": "We are closed; we answer tomorrow." });
    let res = put(&app, &p.admin, "/settings", hours).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(put(&app, &p.admin, "/settings", json!({ "timeZone": "Mars/Olympus" })).await.body["field"], "timeZone");
    let first = create(&app, &p.john, json!({ "subject": "Late", "body": "Writing late" })).await;
    let path = format!("/conversations/{first}/messages");
    assert_eq!(app.post(&p.john.token, &path, json!({ "body": "Again" })).await.status, StatusCode::CREATED);
    let bodies: Vec<String> = app.get(&p.john.token, &format!("/conversations/{first}")).await.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies, vec!["Writing late", "We are closed; we answer tomorrow.", "Again"]);
    let second = create(&app, &p.john, json!({ "subject": "Other", "body": "Another topic" })).await;
    assert_eq!(
        app.get(&p.john.token, &format!("/conversations/{second}")).await.body["messages"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn role_5_a_patient_without_portal_access_is_not_notified() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (app, p) = setup().await;
    let offline = app
        .add_patient(
            &p.id,
            &p.admin,
            "Noor",
            "Haddad",
            json!({ "portalAccess": false, "primaryProviderId": p.doctor.id }),
        )
        .await;
    let recipients = |body: Value| {
        let app = &app;
        let p = &p;
        async move {
            let res = app.post(&p.doctor.token, "/conversations", body).await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
            let message = res.body["message"]["id"].as_str().unwrap().to_string();
            let outbox = app.raw_partition(&format!("OUTBOX#{message}")).await;
            match outbox[0].get("recipientIds") {
                Some(AttributeValue::L(l)) => l.iter().filter_map(|v| v.as_s().ok().cloned()).collect::<Vec<_>>(),
                _ => vec![],
            }
        }
    };
    let to_offline =
        recipients(json!({ "kind": "patient", "patientId": offline.id, "subject": "s", "body": "b" })).await;
    assert!(!to_offline.contains(&offline.id), "{to_offline:?}");
    let to_jane = recipients(json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "b" })).await;
    assert!(to_jane.contains(&p.jane.id), "{to_jane:?}");
}
