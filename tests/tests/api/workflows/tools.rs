//! Saved replies (REPLY-6).

use super::*;

#[tokio::test]
async fn reply_6_saved_replies_practice_wide_and_personal_with_variables() {
    let (app, p) = setup().await;
    let cid = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Hi", "body": "Hello" }),
        )
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
