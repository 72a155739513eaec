//! Drafts (COMPOSE-5): saved, edited and listed by their author alone, sent once.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// The doctor's draft to Jane, saved with a subject only, then edited into a complete one.
async fn complete_draft(app: &TestApp, p: &DemoPractice) -> String {
    let res = app
        .post(&p.doctor.token, "/drafts", json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Draft" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["draft"]["subject"], "Draft");
    let id = res.body["draft"]["id"].as_str().unwrap().to_string();
    let complete =
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Lab results", "body": "All normal." });
    let res = app.send("PUT", &format!("/drafts/{id}"), Some(&p.doctor.token), Some(&complete), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["draft"]["body"], "All normal.");
    id
}

/// A draft with a subject and nothing else.
async fn incomplete_draft(app: &TestApp, p: &DemoPractice) -> String {
    let res = app.post(&p.doctor.token, "/drafts", json!({ "subject": "Another" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["draft"]["id"].as_str().unwrap().to_string()
}

async fn send_draft(app: &TestApp, user: &User, id: &str) -> Answer {
    app.send("POST", &format!("/drafts/{id}/send"), Some(&user.token), None, &[]).await
}

#[tokio::test]
async fn compose_5_drafts_are_listed_newest_first_in_pages() {
    let (app, p) = setup().await;
    let first = complete_draft(&app, &p).await;
    let second = incomplete_draft(&app, &p).await;

    let page = app.get(&p.doctor.token, "/drafts?limit=1").await;
    let next = page.body["nextCursor"].as_str().unwrap();
    let page2 = app.get(&p.doctor.token, &format!("/drafts?limit=1&cursor={next}")).await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["items"][0]["id"], json!(second), "newest first");
    assert_eq!(page2.body["items"][0]["id"], json!(first));
}

/// Private to the author: another user, even an admin, gets 404 and an empty list; and a
/// draft is in nobody's inbox.
#[tokio::test]
async fn compose_5_a_draft_is_private_to_its_author_and_in_nobodys_inbox() {
    let (app, p) = setup().await;
    let id = complete_draft(&app, &p).await;

    assert_eq!(app.get(&p.admin.token, &format!("/drafts/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&p.admin.token, "/drafts").await.body["items"], json!([]));
    assert_eq!(send_draft(&app, &p.admin, &id).await.status, StatusCode::NOT_FOUND);
    assert!(app.inbox_ids(&p.jane).await.is_empty());
}

/// Send: the conversation exists, the draft is gone, and a second send finds nothing.
#[tokio::test]
async fn compose_5_a_sent_draft_becomes_its_conversation_once() {
    let (app, p) = setup().await;
    let id = complete_draft(&app, &p).await;

    let sent = send_draft(&app, &p.doctor, &id).await;

    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    assert_eq!(sent.body["conversation"]["subject"], "Lab results");
    assert_eq!(app.inbox_ids(&p.jane).await, vec![sent.body["conversation"]["id"].as_str().unwrap().to_string()]);
    assert_eq!(app.get(&p.doctor.token, &format!("/drafts/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send_draft(&app, &p.doctor, &id).await.status, StatusCode::NOT_FOUND);
}

/// An incomplete draft can be saved but not sent; deleting removes it, once.
#[tokio::test]
async fn compose_5_an_incomplete_draft_is_not_sent_and_deleting_removes_it() {
    let (app, p) = setup().await;
    let id = incomplete_draft(&app, &p).await;

    let refused = send_draft(&app, &p.doctor, &id).await;
    let deleted = app.send("DELETE", &format!("/drafts/{id}"), Some(&p.doctor.token), None, &[]).await;

    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&p.doctor.token, "/drafts").await.body["items"], json!([]));
    let again = app.send("DELETE", &format!("/drafts/{id}"), Some(&p.doctor.token), None, &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn compose_5_drafts_take_the_compose_fields_only() {
    let (app, p) = setup().await;

    let res = app.post(&p.doctor.token, "/drafts", json!({ "sender": "usr_x" })).await;

    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
}
