//! Who may do what, and what a refusal or a panic says (findings 2, 5, 7, 8, 11, 13, 14, 15).

use super::*;

/// Finding 2, the log: every function installs a panic hook that logs where a panic happened
/// and never its message, which quotes values (here a patient's name).
#[test]
fn finding_02_a_panic_logs_its_place_never_its_message() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        lambda_http::tracing::subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    carethread_core::logging::install_panic_hook();
    let dispatch = lambda_http::tracing::Dispatch::new(subscriber);
    lambda_http::tracing::dispatcher::with_default(&dispatch, || {
        let outcome = std::panic::catch_unwind(|| {
            let name = String::from("Renée Quarrington");
            let _ = &name[..4];
        });
        assert!(outcome.is_err(), "the slice panics");
    });
    let _ = std::panic::take_hook();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("panicked") && log.contains("findings/access.rs"), "the place is logged: {log}");
    assert!(!log.contains("Ren") && !log.contains("Quarrington"), "the message is not: {log}");
}

/// Finding 7: of another user's tasks, a provider lists only those it created, the admin class
/// all of them, and both only on conversations they may open; before, any provider or
/// administrator listed all of them.
#[tokio::test]
async fn finding_07_another_users_tasks_are_listed_only_to_their_creator_and_only_where_visible() {
    let (app, p) = setup().await;
    let task = |title: &str| json!({ "title": title, "assigneeId": p.nurse.id, "dueDate": "2026-12-02" });
    // On Jane's conversation (the doctor's patient), by the doctor.
    let (cid, mid) = about_jane(&app, &p, "Refill").await;
    let res =
        app.post(&p.doctor.token, &format!("/conversations/{cid}/messages/{mid}/tasks"), task("Jane's refill")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    // On a team conversation of the second doctor and the nurse, by the second doctor.
    let team = app
        .post(
            &p.doctor2.token,
            "/conversations",
            json!({ "kind": "team", "subject": "Rota", "body": "Rota",
            "recipients": [{ "type": "staff", "id": p.nurse.id }] }),
        )
        .await;
    let (tid, tmid) = (id_of(&team.body, "conversation"), id_of(&team.body, "message"));
    let res = app.post(&p.doctor2.token, &format!("/conversations/{tid}/messages/{tmid}/tasks"), task("Rota")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);

    let titles = |body: &Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect()
    };
    let of_nurse = format!("/tasks?assignee={}", p.nurse.id);
    assert_eq!(titles(&app.get(&p.nurse.token, "/tasks").await.body).len(), 2, "the assignee sees both");
    assert_eq!(titles(&app.get(&p.doctor2.token, &of_nurse).await.body), vec!["Rota"]);
    assert_eq!(titles(&app.get(&p.doctor.token, &of_nurse).await.body), vec!["Jane's refill"]);
    // The admin class lists all of another user's tasks.
    assert_eq!(titles(&app.get(&p.manager.token, &of_nurse).await.body).len(), 2);
    // Once nobody may open Jane's conversation (deleted), nobody lists its task.
    let gone = app.send("DELETE", &format!("/conversations/{cid}"), Some(&p.doctor.token), None, &[]).await;
    assert!(gone.status.is_success(), "{}", gone.body);
    assert_eq!(titles(&app.get(&p.nurse.token, "/tasks").await.body), vec!["Rota"]);
    assert!(titles(&app.get(&p.doctor.token, &of_nurse).await.body).is_empty());
}

/// Finding 8 (ROLE-5): an inactive patient could still reply to a provider's thread; it may
/// write only to Billing and the Front Office, on every path.
#[tokio::test]
async fn finding_08_an_inactive_patient_replies_only_to_billing_and_the_front_office() {
    let (app, p) = setup().await;
    let (doctor_thread, _) = about_jane(&app, &p, "Results").await;
    let billing = app
        .post(
            &p.jane.token,
            "/conversations",
            json!({ "subject": "Bill", "body": "About my bill",
            "recipients": [{ "type": "workgroup", "id": p.billing_id }] }),
        )
        .await;
    let billing_thread = id_of(&billing.body, "conversation");
    let res = app
        .send(
            "PATCH",
            &format!("/patients/{}", p.jane.id),
            Some(&p.admin.token),
            Some(&json!({ "active": false })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    let reply = |cid: String| {
        let (app, token) = (&app, p.jane.token.clone());
        async move { app.post(&token, &format!("/conversations/{cid}/messages"), json!({ "body": "Thanks" })).await }
    };
    let refused = reply(doctor_thread.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("Billing"), "{}", refused.body);
    let thread = app.get(&p.doctor.token, &format!("/conversations/{doctor_thread}")).await;
    assert_eq!(thread.body["messages"].as_array().unwrap().len(), 1, "nothing stored");
    let res = reply(billing_thread).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

/// Finding 11 (ACCT-2): a token's role is compared with the directory's on every request; a
/// role change makes the old token answer 401 with the sign-in-again problem.
#[tokio::test]
async fn finding_11_a_token_whose_role_changed_must_sign_in_again() {
    let (app, p) = setup().await;
    let path = format!("/staff/{}", p.nurse.id);
    let res = app.send("PATCH", &path, Some(&p.admin.token), Some(&json!({ "role": "front_desk" })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let stale = app.get(&p.nurse.token, "/inbox").await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED, "{}", stale.body);
    assert!(stale.body["type"].as_str().unwrap().ends_with("/sign-in-again"), "{}", stale.body);
    let fresh = app.sign_in(&p.nurse.id).await;
    assert_eq!(claims_of(&fresh)["custom:role"], "front_desk");
    assert_eq!(app.get(&fresh, "/inbox").await.status, StatusCode::OK);
}

/// Finding 13: a draft's malformed field no longer echoes its value (drafts passed serde's
/// raw message through).
#[tokio::test]
async fn finding_13_a_malformed_draft_is_described_without_its_value() {
    let (app, p) = setup().await;
    let res =
        app.post(&p.doctor.token, "/drafts", json!({ "kind": "team", "options": { "allowResponse": 5550177 } })).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    let text = res.body.to_string();
    assert!(!text.contains("5550177"), "{text}");
    assert!(text.contains("invalid type"), "what is wrong is named: {text}");
}

/// Finding 14: no `*` origin by default (the API and the attachment bucket answer the web
/// app's origins and the one a practice names), and the table's stream carries new images
/// only, which is all its consumers read.
#[tokio::test]
async fn finding_14_origins_are_named_and_the_stream_keeps_no_old_images() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let parameter = template.split("\n  AllowedOrigin:\n").nth(1).unwrap();
    assert!(parameter.lines().any(|l| l.trim() == "Default: \"\""), "AllowedOrigin defaults to none");
    // Every origin list (the API's AllowOrigins, the bucket's AllowedOrigins), item by item.
    let mut origins: Vec<&str> = Vec::new();
    for block in template.split("AllowOrigins:\n").skip(1).chain(template.split("AllowedOrigins:\n").skip(1)) {
        let items = block.lines().take_while(|l| l.trim_start().starts_with("- ") || l.trim_start().starts_with('#'));
        origins.extend(items.filter(|l| l.trim_start().starts_with("- ")));
    }
    assert!(origins.len() >= 4 && origins.iter().all(|o| o.trim() != "- \"*\""), "{origins:?}");
    assert!(template.contains("StreamViewType: NEW_IMAGE\n") && !template.contains("NEW_AND_OLD_IMAGES"));
    // The local bucket holds the template's rule: a page of another origin may not use it.
    // (moto's server adds a blanket Access-Control-Allow-Origin to every answer, so the
    // preflight's status is what tells: a browser goes on only after a 2xx.)
    let app = TestApp::spawn().await;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let preflight = |origin: &'static str| {
        let (app, url) = (&app, format!("{endpoint}/{}/probe", app.bucket));
        async move {
            let res = app
                .http
                .request(reqwest::Method::OPTIONS, url)
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "PUT")
                .send()
                .await
                .unwrap();
            res.status()
        }
    };
    assert_eq!(preflight("https://evil.example").await, StatusCode::FORBIDDEN);
    assert_eq!(preflight("http://127.0.0.1:3000").await, StatusCode::OK);
}

/// Finding 15: bidirectional override and isolate controls are taken out of subjects, names
/// and file names, so "invoice\u{202E}fdp.exe" cannot show as "invoiceexe.pdf".
#[tokio::test]
async fn finding_15_bidi_controls_never_reorder_what_is_shown() {
    let (app, p) = setup().await;
    let subject = "Results \u{202E}fdp.exe";
    let created = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": subject, "body": "B" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let cid = id_of(&created.body, "conversation");
    let thread = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["conversation"]["subject"], "Results fdp.exe", "{}", thread.body);
    let file = upload(&app, &p.doctor, &cid, "invoice\u{2067}\u{202E}fdp.exe").await;
    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "F", "attachmentIds": [file] }),
        )
        .await;
    assert_eq!(res.body["message"]["attachments"][0]["fileName"], "invoicefdp.exe", "{}", res.body);
    let patient = app.add_patient(&p.id, &p.admin, "Ev\u{202E}e", "Doe", json!({})).await;
    let found = app.get(&p.doctor.token, "/patients?q=eve").await;
    assert!(
        found.body["items"].as_array().unwrap().iter().any(|i| i["id"] == json!(patient.id) && i["firstName"] == "Eve"),
        "{}",
        found.body
    );
}
