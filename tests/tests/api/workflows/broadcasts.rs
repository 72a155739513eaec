//! Broadcasts (COMPOSE-6): one message to many patients, each given a private copy where
//! replies land.

use super::*;

/// The conversations of a user's Broadcasts tab.
async fn broadcast_tab(app: &TestApp, user: &User) -> Vec<Value> {
    let res = app.get(&user.token, "/inbox?tab=broadcasts").await;
    res.body["items"].as_array().unwrap().iter().map(|i| i["conversation"].clone()).collect()
}

/// The doctor's flu-shot broadcast to Jane and John (Jane named twice): the answer.
async fn flu_broadcast(app: &TestApp, p: &DemoPractice) -> Answer {
    let body = json!({ "patientIds": [p.jane.id, p.john.id, p.jane.id], "subject": "Flu shots", "body": "Flu shots are available." });
    app.send("POST", "/broadcasts", Some(&p.doctor.token), Some(&body), &[("idempotency-key", "flu-1")]).await
}

#[tokio::test]
async fn compose_6_a_broadcast_gives_each_patient_one_private_copy_even_when_retried() {
    let (app, p) = setup().await;

    let res = flu_broadcast(&app, &p).await;
    let again = flu_broadcast(&app, &p).await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["broadcast"]["recipientCount"], 2);
    assert_eq!(again.status, StatusCode::CREATED, "a retry with the same key answers as the first");
    let (jane, john) = (broadcast_tab(&app, &p.jane).await, broadcast_tab(&app, &p.john).await);
    assert_eq!((jane.len(), john.len()), (1, 1), "one private copy each, even after the retry");
    assert_eq!(jane[0]["kind"], "broadcast");
    assert_ne!(jane[0]["id"], john[0]["id"]);
    assert_eq!(jane[0]["patient"]["id"], json!(p.jane.id), "Jane's copy names only Jane");
    assert_eq!(broadcast_tab(&app, &p.doctor).await.len(), 2);
}

#[tokio::test]
async fn compose_6_patients_cannot_broadcast() {
    let (app, p) = setup().await;
    let body = json!({ "patientIds": [p.john.id], "subject": "Hello", "body": "Hello all." });

    let res = app.post(&p.jane.token, "/broadcasts", body).await;

    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
}

#[tokio::test]
async fn compose_6_a_patients_reply_lands_in_their_own_copy() {
    let (app, p) = setup().await;
    flu_broadcast(&app, &p).await;
    let jane_copy = broadcast_tab(&app, &p.jane).await[0]["id"].as_str().unwrap().to_string();

    let res = app
        .post(&p.jane.token, &format!("/conversations/{jane_copy}/messages"), json!({ "body": "Can I come Tuesday?" }))
        .await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(broadcast_tab(&app, &p.john).await[0]["messageCount"], 1, "John's copy is untouched");
    assert_eq!(app.get(&p.john.token, &format!("/conversations/{jane_copy}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn compose_6_a_broadcast_without_replies_refuses_them() {
    let (app, p) = setup().await;
    let fyi =
        json!({ "patientIds": [p.john.id], "subject": "FYI", "body": "No reply needed.", "allowResponse": false });
    assert_eq!(app.post(&p.doctor.token, "/broadcasts", fyi).await.status, StatusCode::CREATED);
    let copy = broadcast_tab(&app, &p.john).await.into_iter().find(|c| c["subject"] == "FYI").unwrap();

    let res = app
        .post(
            &p.john.token,
            &format!("/conversations/{}/messages", copy["id"].as_str().unwrap()),
            json!({ "body": "ok" }),
        )
        .await;

    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
}

#[tokio::test]
async fn compose_6_the_practice_caps_a_broadcasts_recipients() {
    let (app, p) = setup().await;
    let cap = json!({ "broadcastMaxRecipients": 1 });
    assert_eq!(app.send("PUT", "/settings", Some(&p.admin.token), Some(&cap), &[]).await.status, StatusCode::OK);

    let res = app
        .post(
            &p.doctor.token,
            "/broadcasts",
            json!({ "patientIds": [p.jane.id, p.john.id], "subject": "s", "body": "b" }),
        )
        .await;

    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.body["field"], "patientIds");
}
