//! Idempotency under concurrency, exact counts under concurrent writes, and bad input.

use super::*;

#[tokio::test]
async fn idempotency_twenty_concurrent_requests_with_one_key_create_one_conversation() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Once", "body": "Only once, please." });
    let key = format!("key-{}", carethread_core::domain::new_id(""));
    let header = [("Idempotency-Key", key.as_str())];
    let sends = (0..20).map(|_| app.send("POST", "/conversations", Some(&p.doctor.token), Some(&body), &header));
    let answers = futures::future::join_all(sends).await;
    let mut created = std::collections::BTreeSet::new();
    for a in &answers {
        match a.status {
            StatusCode::CREATED => {
                created.insert(a.body["conversation"]["id"].as_str().unwrap().to_string());
            }
            // Still in progress when it arrived: the client retries later with the same key.
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    let again =
        app.send("POST", "/conversations", Some(&p.doctor.token), Some(&body), &[("Idempotency-Key", &key)]).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["conversation"]["id"].as_str(), created.iter().next().map(String::as_str));
    assert_eq!(app.inbox_ids(&p.jane).await.len(), 1, "one conversation was created");
    let other_body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Twice", "body": "Different." });
    let refused = app
        .send("POST", "/conversations", Some(&p.doctor.token), Some(&other_body), &[("Idempotency-Key", &key)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let conflicts = answers.iter().filter(|a| a.status == StatusCode::CONFLICT).count();
    println!("idempotency: 20 concurrent requests, 1 conversation created, {conflicts} answered 409 in progress");
}

/// Sends a reply until it is stored: a 409 in progress or a 503 is retried with the same key,
/// as a client would.
async fn reply_until_stored(app: &TestApp, user: &User, cid: &str, n: usize) -> u32 {
    let key = format!("reply-{}-{n}", user.id);
    let body = json!({ "body": format!("Reply {n} from {}", user.id) });
    for attempt in 0..20 {
        let a = app
            .send(
                "POST",
                &format!("/conversations/{cid}/messages"),
                Some(&user.token),
                Some(&body),
                &[("Idempotency-Key", &key)],
            )
            .await;
        match a.status {
            StatusCode::CREATED => return attempt,
            StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            other => panic!("reply answered {other}: {}", a.body),
        }
    }
    panic!("reply {n} of {} never stored", user.id)
}

#[tokio::test]
async fn concurrency_fifty_replies_from_five_users_leave_exact_counts() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = compose(&app, &p).await;
    let users = [&p.doctor, &p.jane, &p.nurse, &p.admin, &p.doctor2];
    let sends =
        users.iter().flat_map(|u| (0..10).map(move |n| (*u, n))).map(|(u, n)| reply_until_stored(&app, u, &cid, n));
    let retries: u32 = futures::future::join_all(sends).await.into_iter().sum();

    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().map(Vec::len), Some(51), "the first message and 50 replies");
    assert_eq!(thread.body["conversation"]["messageCount"], 51, "{}", thread.body["conversation"]);
    let everyone = [&p.doctor, &p.jane, &p.nurse, &p.admin, &p.doctor2, &p.manager];
    for u in everyone {
        let kept = app.app().store.stats(&p.id, &u.user_id()).await.unwrap();
        let recounted = app.app().store.recount_stats(&p.id, &u.user_id()).await.unwrap();
        assert_eq!(kept, recounted, "{}'s counters", u.id);
    }
    println!(
        "concurrency: 50 replies by 5 users, 51 messages, counters exact for {} users, {retries} client retries",
        everyone.len()
    );
}

/// Concurrent conversations about one patient move the same viewers' counts of conversations
/// about that patient: each is written again with fresh counts, so the client sees none of
/// it (at most 8 attempts: each lost attempt means another compose was stored, so six
/// concurrent composes always succeed), and the counters stay exact (INBOX-4).
#[tokio::test]
async fn concurrency_six_composes_about_one_patient_all_succeed_with_exact_counts() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let composes = (0..6).map(|n| {
        let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": format!("Visit {n}"), "body": "Please call." });
        app.post(&p.doctor.token, "/conversations", body)
    });

    let answers = futures::future::join_all(composes).await;

    for a in &answers {
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
    for u in [&p.doctor, &p.nurse, &p.admin, &p.jane] {
        let kept = app.app().store.stats(&p.id, &u.user_id()).await.unwrap();
        let recounted = app.app().store.recount_stats(&p.id, &u.user_id()).await.unwrap();
        assert_eq!(kept, recounted, "{}'s counters", u.id);
    }
}

#[tokio::test]
async fn bad_input_oversized_deep_invalid_utf8_wrong_type_and_path_tricks_get_clear_4xx() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let url = format!("{}/conversations", app.base);
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.http.post(&url).bearer_auth(&p.doctor.token).header("content-type", content_type).body(body).send()
    };
    let mut cases = Vec::new();
    let huge = format!("{{\"subject\":\"s\",\"body\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    cases.push(("a 2 MB body", post(huge.into_bytes(), "application/json").await.unwrap()));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    cases.push(("JSON nested 100,000 deep", post(deep.into_bytes(), "application/json").await.unwrap()));
    cases.push((
        "invalid UTF-8",
        post(b"{\"subject\":\"\xff\xfe\",\"body\":\"x\"}".to_vec(), "application/json").await.unwrap(),
    ));
    cases
        .push(("a text/plain body", post(b"{\"subject\":\"s\",\"body\":\"b\"}".to_vec(), "text/plain").await.unwrap()));
    cases.push(("truncated JSON", post(b"{\"subject\":".to_vec(), "application/json").await.unwrap()));
    for (name, res) in cases {
        let status = res.status();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_client_error(), "{name}: {status} {body}");
        assert_eq!(content_type, "application/problem+json", "{name}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{name}: a clear detail: {body}");
    }
    for path in [
        "/conversations/..%2F..%2Fetc%2Fpasswd",
        "/conversations/cnv_%00abc",
        "/conversations/%2e%2e",
        "/conversations/cnv_abc%20OR%201=1",
        "/conversations/cnv_01234567890123456789012345678901234567890123456789012345678901234567890",
        "/attachments/..%5C..%5Cwin.ini",
    ] {
        let res = app.get(&p.doctor.token, path).await;
        assert!(res.status.is_client_error(), "{path}: {}", res.status);
        assert_ne!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    println!("bad input: 5 malformed bodies and 6 path tricks, all clear 4xx problem+json answers");
}
