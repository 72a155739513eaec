//! Thread controls, billing, deletion for good and retention (REPLY-2, REPLY-3, CONV-6, SEC-5).

use super::*;

#[tokio::test]
async fn reply_3_send_and_close_then_reopen() {
    let (app, p) = setup().await;
    let cid = app
        .start_conversation(
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
    let cid = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "FYI", "body": "Note" }),
        )
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
async fn reply_2_billable_replies_feed_the_billing_report() {
    let (app, p) = setup().await;
    let cid = app
        .start_conversation(
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

/// A patient conversation the doctor started ("First"), Jane's question, and a message the
/// doctor sent by mistake: (conversation, first message, wrong message).
async fn thread_with_a_wrong_message(app: &TestApp, p: &DemoPractice) -> (String, String, String) {
    let cid = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Results", "body": "First" }),
        )
        .await;
    let path = format!("/conversations/{cid}/messages");
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "Patient question" })).await.status, StatusCode::CREATED);
    let res = app.post(&p.doctor.token, &path, json!({ "body": "Wrong patient info, oops" })).await;
    let wrong = res.body["message"]["id"].as_str().unwrap().to_string();
    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    let first = thread.body["messages"][0]["id"].as_str().unwrap().to_string();
    (cid, first, wrong)
}

async fn delete(app: &TestApp, user: &User, path: &str) -> StatusCode {
    app.send("DELETE", path, Some(&user.token), None, &[]).await.status
}

/// The actions of a conversation's audit events.
async fn audited_actions(app: &TestApp, p: &DemoPractice, cid: &str) -> Vec<String> {
    let audit = app.raw_partition(&format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id)).await;
    audit.iter().filter_map(|e| e.get("action").and_then(|a| a.as_s().ok()).cloned()).collect()
}

/// Not its author: 403; cannot see it: 404; the first message goes only with the thread: 409.
#[tokio::test]
async fn conv_6_only_its_author_deletes_a_message_and_the_first_goes_only_with_its_thread() {
    let (app, p) = setup().await;
    let (cid, first, wrong) = thread_with_a_wrong_message(&app, &p).await;
    let msg_path = |m: &str| format!("/conversations/{cid}/messages/{m}");

    assert_eq!(delete(&app, &p.doctor2, &msg_path(&wrong)).await, StatusCode::FORBIDDEN);
    assert_eq!(delete(&app, &p.jane, &msg_path(&wrong)).await, StatusCode::FORBIDDEN);
    assert_eq!(delete(&app, &p.front_desk, &msg_path(&wrong)).await, StatusCode::NOT_FOUND);
    assert_eq!(delete(&app, &p.doctor, &msg_path(&first)).await, StatusCode::CONFLICT);
    let thread = app.get(&p.nurse.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().unwrap().len(), 3, "nothing deleted");
}

/// A deleted message is gone for good: the thread, the preview it was and the counts move
/// back, every counter stays exact, and the audit keeps that it happened.
#[tokio::test]
async fn conv_6_a_deleted_message_is_gone_for_good_and_every_count_moves_back() {
    let (app, p) = setup().await;
    let (cid, _, wrong) = thread_with_a_wrong_message(&app, &p).await;
    let path = format!("/conversations/{cid}/messages/{wrong}");

    assert_eq!(delete(&app, &p.doctor, &path).await, StatusCode::NO_CONTENT);

    let thread = app.get(&p.nurse.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().unwrap().len(), 2);
    assert!(!thread.body.to_string().contains("oops"));
    let jane_row = &app.get(&p.jane.token, "/inbox").await.body["items"][0];
    assert_eq!(jane_row["preview"], "Patient question", "the preview moves back");
    assert_eq!(jane_row["conversation"]["messageCount"], 2);
    assert_eq!(delete(&app, &p.doctor, &path).await, StatusCode::NOT_FOUND, "gone");
    for user in [&p.doctor, &p.nurse, &p.jane, &p.admin] {
        let stats = app.get(&user.token, "/inbox/stats").await.body;
        let truth = app.app().store.recount_stats(&p.id, &user.user_id()).await.unwrap();
        assert_eq!(stats["unreadMessages"], json!(truth.unread_messages), "{}", user.role);
        assert_eq!(stats["totalMessages"], json!(truth.messages), "{}", user.role);
    }
    assert!(audited_actions(&app, &p, &cid).await.contains(&"message.delete".to_string()));
}

/// The whole thread: only its starter may delete it; afterwards nothing of it is left but its
/// audit events.
#[tokio::test]
async fn conv_6_only_its_starter_deletes_a_thread_and_nothing_is_left_but_its_audit() {
    let (app, p) = setup().await;
    let (cid, _, _) = thread_with_a_wrong_message(&app, &p).await;
    let path = format!("/conversations/{cid}");

    assert_eq!(delete(&app, &p.admin, &path).await, StatusCode::FORBIDDEN);
    assert_eq!(delete(&app, &p.doctor, &path).await, StatusCode::NO_CONTENT);

    assert_eq!(app.get(&p.doctor.token, &path).await.status, StatusCode::NOT_FOUND);
    assert!(app.inbox_ids(&p.jane).await.is_empty());
    assert!(app.raw_partition(&format!("PRAC#{}#CONV#{cid}", p.id)).await.is_empty(), "no message left");
    let stats = app.get(&p.jane.token, "/inbox/stats").await.body;
    assert_eq!(stats, json!({ "totalConversations": 0, "totalMessages": 0, "unreadMessages": 0, "uniquePatients": 0 }));
    assert!(audited_actions(&app, &p, &cid).await.contains(&"conversation.delete".to_string()));
}

#[tokio::test]
async fn sec_5_retention_purges_idle_conversations_with_their_files_and_audits_it() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use carethread_core::jobs::retention::purge_expired;
    let (app, p) = setup().await;
    let (other_pid, other_admin) = app.new_practice("Keeps Everything").await;
    let other_patient = app.add_patient(&other_pid, &other_admin, "Kim", "Keep", json!({})).await;
    assert_eq!(put(&app, &p.admin, "/settings", json!({ "retentionDays": 30 })).await.status, StatusCode::OK);

    let cid = app.start_conversation(&p.doctor,
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
    let kept = app
        .start_conversation(
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
