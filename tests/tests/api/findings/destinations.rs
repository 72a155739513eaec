//! Notification destinations: used only once proven, and an SMS number only the operator assigns
//! (findings 1, 15).

use super::*;

/// Finding 1 (ACCT-4): a destination typed into the preferences waits for the code sent to
/// it, and until then the practice keeps using the one on file. Wrong codes are counted (the
/// fifth drops the destination), an expired code is refused, the code is stored only as a
/// keyed hash, and every step is audited.
#[tokio::test]
async fn finding_01_acct_4_a_new_destination_is_used_only_after_its_code_comes_back() {
    let (app, p) = setup().await;
    let number = unique_phone();
    let choose = json!({ "channel": "sms", "destination": number });
    let res = app.send("PUT", "/me/notifications", Some(&p.jane.token), Some(&choose), &[]).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    let on_file = json!({ "channel": "sms", "destination": "+15550109999" });
    assert_eq!(res.body["notifications"]["destination"], on_file["destination"], "{}", res.body);
    assert_eq!(res.body["notifications"]["pending"]["destination"], number);
    assert_eq!(res.body["notifications"]["pending"]["attemptsLeft"], 5);
    let code = app.code_sent_to(&number).await.expect("a code texted to the new number");
    let record = format!("PRAC#{}#PAT#{}", p.id, p.jane.id);
    let raw = app.raw_partition(&record).await;
    assert!(raw.iter().flat_map(item_texts).all(|t| !t.contains(&code) && !t.contains(&number)), "hashed and sealed");

    let verify = |code: String| {
        let app = &app;
        let token = p.jane.token.clone();
        async move { app.post(&token, "/me/notifications/verification", json!({ "code": code })).await }
    };
    let wrong = not(&code);
    for left in ["4 attempts", "3 attempts", "2 attempts", "1 attempt "] {
        let res = verify(wrong.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert_eq!(res.body["field"], "code");
        assert!(format!("{} ", res.body["detail"].as_str().unwrap_or_default()).contains(left), "{}", res.body);
    }
    assert_eq!(verify(wrong.clone()).await.status, StatusCode::TOO_MANY_REQUESTS, "the fifth wrong code");
    assert_eq!(verify(code).await.status, StatusCode::CONFLICT, "the destination was dropped with its code");
    assert_eq!(app.get(&p.jane.token, "/me/notifications").await.body["notifications"], on_file);

    // A code past its ten minutes is refused and drops the destination.
    let res = app.send("PUT", "/me/notifications", Some(&p.jane.token), Some(&choose), &[]).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    let code = app.code_sent_to(&number).await.unwrap();
    app.dynamodb
        .update_item()
        .table_name(&app.table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(record.clone()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("PATIENT".into()))
        .update_expression("SET notifyPending.expiresAt = :past")
        .expression_attribute_values(":past", aws_sdk_dynamodb::types::AttributeValue::N("1000".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(verify(code).await.status, StatusCode::GONE);
    assert_eq!(app.get(&p.jane.token, "/me/notifications").await.body["notifications"], on_file);

    // The owner of the number proves it: from now on it is used.
    app.prove_destination(&p.jane, "sms", &number).await;
    let mut seen = actions(&app.audit_events().await);
    seen.retain(|a| a.starts_with("user.notifications."));
    seen.sort();
    let mut expected = vec!["user.notifications.code_sent"; 3];
    expected.extend(["user.notifications.code_expired"]);
    expected.extend(vec!["user.notifications.code_wrong"; 5]);
    expected.push("user.notifications.proven");
    expected.sort();
    assert_eq!(seen, expected);
}

/// Findings 1 and 15: a number that was typed and never proven receives nothing from the
/// practice, and a text from it lands in triage, never in the patient's conversation; a
/// number the patient has given up is a stranger's again, spoofed or not.
#[tokio::test]
async fn finding_15_acct_4_an_unproven_or_given_up_number_never_reaches_the_patients_conversation() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let practice_number = unique_phone();
    carethread_core::ops::settings::assign_sms_number(app.app(), &p.id, Some(&practice_number)).await.unwrap();
    let victim = unique_phone();
    let typed = json!({ "channel": "sms", "destination": victim });
    let res = app.send("PUT", "/me/notifications", Some(&p.jane.token), Some(&typed), &[]).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    let (cid, _) = about_jane(&app, &p, "Results").await;
    app.pump().await;
    let to_victim = app.published().await.sms.iter().filter(|m| m.phone == victim).count();
    assert_eq!(to_victim, 1, "the code only, no notification");
    let got = app.text_in(&victim, &practice_number, "Who is this?", "spoof-1").await;
    assert_eq!(got["outcome"], "started", "{got}");
    assert_eq!(got["patientMatched"], false);
    assert_ne!(got["conversationId"], json!(cid));

    // Jane proves a number of her own: texts from it join her conversation.
    let own = unique_phone();
    app.prove_destination(&p.jane, "sms", &own).await;
    let res =
        app.post(&p.doctor.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Any news?" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    app.pump().await;
    let got = app.text_in(&own, &practice_number, "All good", "own-1").await;
    assert_eq!(got, json!({ "outcome": "appended", "conversationId": cid }));
    // She gives it up: a text from it (or spoofed as it) is a stranger's.
    let res = app.send("PUT", "/me/notifications", Some(&p.jane.token), Some(&json!({ "channel": "none" })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let got = app.text_in(&own, &practice_number, "It is me, honestly", "own-2").await;
    assert_eq!(got["outcome"], "started", "{got}");
    assert_eq!(got["patientMatched"], false);
    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().map(Vec::len), Some(3), "{}", thread.body);
}

/// Finding 1: no administrator can claim an SMS number (texts to it would reach that
/// practice); the operator assigns each number to one practice only.
#[tokio::test]
async fn finding_01_acct_4_only_the_operator_assigns_a_practice_its_sms_number() {
    let (app, p) = setup().await;
    let number = unique_phone();
    let res = app.send("PUT", "/settings", Some(&p.admin.token), Some(&json!({ "smsNumber": number })), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    carethread_core::ops::settings::assign_sms_number(app.app(), &p.id, Some(&number)).await.unwrap();
    let (other, _) = app.new_practice("Other Practice").await;
    let taken = carethread_core::ops::settings::assign_sms_number(app.app(), &other, Some(&number)).await;
    assert!(matches!(taken, Err(carethread_core::Error::Conflict(_))), "{taken:?}");
    // An admin's later settings edit keeps the operator's number.
    let res = app.send("PUT", "/settings", Some(&p.admin.token), Some(&json!({ "patientBanner": "Hi" })), &[]).await;
    assert_eq!(res.body["settings"]["smsNumber"], number, "{}", res.body);
}
