//! Practice settings, patient limits, out-of-office and auto-replies (SET-1, REPLY-4, REPLY-5,
//! ROLE-5).

use super::*;

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
    let cid = app.start_conversation(&p.jane, json!({ "subject": "Question", "body": "First one" })).await;
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
async fn reply_5_out_of_office_and_after_hours_auto_replies_once_per_conversation_per_period() {
    let (app, p) = setup().await;
    let now = Timestamp::now();
    let fmt = |t: Timestamp| t.to_string();
    let ooo = json!({ "from": fmt(now - SignedDuration::from_hours(1)), "to": fmt(now + SignedDuration::from_hours(24)), "text": "Dr. Tester is away until tomorrow." });
    assert_eq!(put(&app, &p.doctor, "/me/out-of-office", ooo).await.status, StatusCode::OK);
    // Jane writes to her primary provider, who is away: one auto-reply, once.
    let cid = app.start_conversation(&p.jane, json!({ "subject": "Question", "body": "Is my refill ready?" })).await;
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
    let first = app.start_conversation(&p.john, json!({ "subject": "Late", "body": "Writing late" })).await;
    let path = format!("/conversations/{first}/messages");
    assert_eq!(app.post(&p.john.token, &path, json!({ "body": "Again" })).await.status, StatusCode::CREATED);
    let bodies: Vec<String> = app.get(&p.john.token, &format!("/conversations/{first}")).await.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies, vec!["Writing late", "We are closed; we answer tomorrow.", "Again"]);
    let second = app.start_conversation(&p.john, json!({ "subject": "Other", "body": "Another topic" })).await;
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
