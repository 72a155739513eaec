//! What a deletion leaves (nothing but its audit) and what a list names in its audit event
//! (findings 6, 10).

use super::*;

/// A small text file sent in a new message of the conversation; the attachment's id.
async fn attach(app: &TestApp, user: &User, cid: &str, name: &str) -> String {
    let file = upload(app, user, cid, name).await;
    let body = json!({ "body": "File", "attachmentIds": [file] });
    let res = app.post(&user.token, &format!("/conversations/{cid}/messages"), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    file
}

/// Every raw item of the test's table whose attributes mention `needle`.
async fn items_naming(app: &TestApp, needle: &str) -> Vec<String> {
    let scan = app.dynamodb.scan().table_name(&app.table).send().await.unwrap();
    scan.items()
        .iter()
        .filter(|item| item_texts(item).iter().any(|t| t.contains(needle)))
        .filter(|item| item.get("entity").and_then(|e| e.as_s().ok()).map(String::as_str) != Some("audit"))
        .map(|item| format!("{:?}/{:?}", item.get("pk"), item.get("sk")))
        .collect()
}

/// Finding 6 (CONV-6, SEC-5): a deleted message takes along its search tokens, the tasks made
/// on it, its attachments (file and record) and the stored answer of the request that wrote
/// it; before, the conversation still matched its words, the task kept its title, the
/// attachment record its sealed name, and replaying the key answered with the deleted body.
#[tokio::test]
async fn finding_06_a_deleted_message_leaves_no_trace_but_its_audit() {
    let (app, p) = setup().await;
    let (cid, _) = about_jane(&app, &p, "Plan").await;
    let file = upload(&app, &p.doctor, &cid, "scan.txt").await;
    let key = [("Idempotency-Key", "finding-6-reply")];
    let said = json!({ "body": "Zyxomycin dosage doubled", "attachmentIds": [file] });
    let path = format!("/conversations/{cid}/messages");
    let reply = app.send("POST", &path, Some(&p.doctor.token), Some(&said), &key).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let mid = id_of(&reply.body, "message");
    let task = json!({ "title": "Check zyxomycin", "assigneeId": p.nurse.id, "dueDate": "2026-12-02" });
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/messages/{mid}/tasks"), task).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let search = || app.get(&p.doctor.token, "/inbox?q=zyxomycin");
    assert_eq!(search().await.body["items"].as_array().unwrap().len(), 1, "found before");

    let gone =
        app.send("DELETE", &format!("/conversations/{cid}/messages/{mid}"), Some(&p.doctor.token), None, &[]).await;
    assert!(gone.status.is_success(), "{}", gone.body);
    assert_eq!(search().await.body["items"], json!([]), "no longer found by its words");
    assert_eq!(
        app.get(&p.doctor.token, "/inbox?q=plan").await.body["items"].as_array().unwrap().len(),
        1,
        "but by the rest"
    );
    assert_eq!(app.get(&p.nurse.token, "/tasks").await.body["items"], json!([]), "its task is gone");
    assert_eq!(app.get(&p.doctor.token, &format!("/attachments/{file}")).await.status, StatusCode::NOT_FOUND);
    assert!(
        items_naming(&app, &mid).await.is_empty(),
        "items of the message remain: {:?}",
        items_naming(&app, &mid).await
    );
    assert!(
        items_naming(&app, &file).await.is_empty(),
        "items of the file remain: {:?}",
        items_naming(&app, &file).await
    );
    let replayed = app
        .send("POST", &path, Some(&p.doctor.token), Some(&json!({ "body": "Zyxomycin dosage doubled" })), &key)
        .await;
    assert_ne!(replayed.body["message"]["id"], json!(mid), "the deleted answer is not replayed: {}", replayed.body);
}

/// Finding 6 for a whole conversation (and so the retention purge, which erases the same way):
/// its tasks and its attachments' records go with it.
#[tokio::test]
async fn finding_06_a_deleted_conversation_takes_its_tasks_and_attachment_records() {
    let (app, p) = setup().await;
    let (cid, first) = about_jane(&app, &p, "Scans").await;
    let file = attach(&app, &p.doctor, &cid, "scan.txt").await;
    let task = json!({ "title": "Read the scan", "assigneeId": p.nurse.id, "dueDate": "2026-12-02" });
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/messages/{first}/tasks"), task).await;
    let task_id = id_of(&res.body, "task");
    let gone = app.send("DELETE", &format!("/conversations/{cid}"), Some(&p.doctor.token), None, &[]).await;
    assert!(gone.status.is_success(), "{}", gone.body);
    for id in [&cid, &file, &task_id] {
        assert!(items_naming(&app, id).await.is_empty(), "{id}: {:?}", items_naming(&app, id).await);
    }
}

/// The newest audit event of an action by an actor, as stored.
async fn last_event(
    app: &TestApp,
    actor: &str,
    action: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    let mut events: Vec<_> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| text(e, "actorId") == actor && text(e, "action") == action)
        .collect();
    events.sort_by_key(|e| text(e, "at"));
    events.pop().unwrap_or_else(|| panic!("no {action} event by {actor}"))
}

fn shown(event: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Vec<String> {
    event
        .get("patientsShown")
        .and_then(|v| v.as_l().ok())
        .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
        .unwrap_or_default()
}

/// Finding 10 (SEC-2): inbox and search pages name the patients whose conversations they
/// showed, the patient finder the patients it found, a download and a saved reply's
/// rendering the patient whose file or names they gave out.
#[tokio::test]
async fn finding_10_lists_downloads_and_renderings_name_the_patients_they_showed() {
    let (app, p) = setup().await;
    let (cid, _) = about_jane(&app, &p, "Xray").await;
    assert_eq!(app.get(&p.doctor.token, "/inbox").await.status, StatusCode::OK);
    assert_eq!(shown(&last_event(&app, &p.doctor.id, "inbox.list").await), vec![p.jane.id.clone()]);
    assert_eq!(app.get(&p.nurse.token, "/inbox?q=xray").await.status, StatusCode::OK);
    assert_eq!(shown(&last_event(&app, &p.nurse.id, "inbox.list").await), vec![p.jane.id.clone()]);
    assert_eq!(app.get(&p.nurse.token, "/patients?q=jane").await.status, StatusCode::OK);
    assert_eq!(shown(&last_event(&app, &p.nurse.id, "patient.search").await), vec![p.jane.id.clone()]);

    let file = attach(&app, &p.doctor, &cid, "xray.txt").await;
    assert_eq!(app.get(&p.nurse.token, &format!("/attachments/{file}")).await.status, StatusCode::OK);
    let download = last_event(&app, &p.nurse.id, "attachment.download").await;
    assert_eq!(download.get("patientId").and_then(|v| v.as_s().ok()), Some(&p.jane.id));

    let saved = app
        .post(&p.doctor.token, "/saved-replies", json!({ "title": "Hello", "body": "Hello {{patient.firstName}}" }))
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let rid = id_of(&saved.body, "savedReply");
    let rendered =
        app.post(&p.doctor.token, &format!("/saved-replies/{rid}/render"), json!({ "conversationId": cid })).await;
    assert_eq!(rendered.body["body"], "Hello Jane", "{}", rendered.body);
    let render = last_event(&app, &p.doctor.id, "saved_reply.render").await;
    assert_eq!(render.get("patientId").and_then(|v| v.as_s().ok()), Some(&p.jane.id));
}
