//! Tasks, saved replies and forwarding (CONV-7, REPLY-6, ASSIGN-3).

use super::*;

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
