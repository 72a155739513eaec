//! Who a new conversation reaches, and what a compose refuses (COMPOSE-1..4, COMPOSE-7, ROLE-2,
//! ROLE-3, ROLE-5, ROLE-6, ASSIGN-4).

use super::*;

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
