//! The security battery (issue 7): audit chain, denied attempts, idempotency, concurrency.

use aws_sdk_dynamodb::types::AttributeValue;
use carethread_core::audit::verify_practice;
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn text(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}

async fn compose(app: &TestApp, p: &DemoPractice) -> String {
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Follow-up", "body": "How is the knee?" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

/// SEC-2 at the speed of a burst: the chainer links each chain of a stream batch with one
/// read, one transaction and one head copy, whatever the number of its events (a MAC each).
#[tokio::test]
async fn sec_2_a_chains_events_in_one_batch_are_linked_in_one_write() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    app.pump().await;
    let cid = compose(&app, &p).await;
    for _ in 0..6 {
        assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    }
    let chainer = &app.function("audit-chain").calls;
    let before = chainer.snapshot();

    let report = app.pump().await;

    let calls = chainer.since(&before);
    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert!(verified.broken.is_empty() && verified.unchained == 0, "{verified:?}");
    let conversation_chain = app.get(&p.admin.token, &format!("/audit?conversationId={cid}")).await;
    assert_eq!(conversation_chain.body["items"][0]["chain"]["seq"], 7, "{}", conversation_chain.body);
    let count = |op: &str| calls.get(op).copied().unwrap_or(0) as usize;
    assert_eq!(count("KMS.GenerateMac"), report.audit_events, "a MAC per event: {calls:?}");
    // The batch: the compose and the six reads, all of the conversation's chain.
    assert_eq!(report.audit_events, 7, "{report:?}");
    assert_eq!(count("DynamoDB.BatchGetItem"), 1, "one read: {calls:?}");
    assert_eq!(count("DynamoDB.TransactWriteItems"), 1, "one write: {calls:?}");
    assert_eq!(count("S3.PutObject"), 1, "one head copy: {calls:?}");
    assert_eq!(count("DynamoDB.GetItem"), 0, "{calls:?}");
}

#[tokio::test]
async fn sec_2_audit_events_are_hash_chained_and_verify_names_the_first_broken_link() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let cid = compose(&app, &p).await;
    let path = format!("/conversations/{cid}");
    for _ in 0..3 {
        assert_eq!(app.get(&p.jane.token, &path).await.status, StatusCode::OK);
    }
    let res = app.post(&p.jane.token, &format!("{path}/messages"), json!({ "body": "Better, thanks." })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let report = app.pump().await;
    assert_eq!(report.audit_pending, 0, "{report:?}");

    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert!(verified.broken.is_empty(), "{verified:?}");
    assert_eq!(verified.unchained, 0);
    assert!(verified.events >= 5, "{verified:?}");

    // The admin reads the conversation's chain, newest first; others may not.
    let log = app.get(&p.admin.token, &format!("/audit?conversationId={cid}")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "create, 3 reads, reply: {}", log.body);
    assert_eq!(items[0]["chain"]["seq"], 5);
    assert_eq!(items[4]["chain"]["prevHash"], "genesis");
    assert_eq!(items[0]["chain"]["prevHash"], items[1]["chain"]["hash"]);
    assert_eq!(app.get(&p.doctor.token, &format!("/audit?conversationId={cid}")).await.status, StatusCode::FORBIDDEN);
    let by_patient = app.get(&p.admin.token, &format!("/audit?patientId={}", p.jane.id)).await;
    assert!(by_patient.body["items"].as_array().unwrap().len() >= 5, "{}", by_patient.body);
    let paged = app.get(&p.admin.token, &format!("/audit?conversationId={cid}&limit=2")).await;
    let next = paged.body["nextCursor"].as_str().unwrap();
    let page2 = app.get(&p.admin.token, &format!("/audit?conversationId={cid}&limit=2&cursor={next}")).await;
    let seq = |v: &Value| v["chain"]["seq"].as_u64();
    assert_eq!(seq(&page2.body["items"][0]), seq(&paged.body["items"][1]).map(|s| s - 1), "{}", page2.body);

    // The administrators' screen verifies a conversation's chain through the API (the chain
    // key's VerifyMac only); others may not.
    let path_verify = format!("/audit/verification?conversationId={cid}");
    let res = app.get(&p.admin.token, &path_verify).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!((res.body["verified"].as_bool(), res.body["chains"].as_u64()), (Some(true), Some(1)), "{}", res.body);
    assert!(res.body["events"].as_u64() >= Some(5), "{}", res.body);
    assert_problem(&app.get(&p.doctor.token, &path_verify).await, StatusCode::FORBIDDEN);
    assert_eq!(app.pump().await.audit_pending, 0);

    // Someone edits an event in the table: verify names it.
    let chain = format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id);
    let events = app.raw_partition(&chain).await;
    let third = events.iter().find(|e| e.get("seq") == Some(&AttributeValue::N("3".into()))).unwrap();
    app.dynamodb
        .update_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S(chain.clone()))
        .key("sk", third["sk"].clone())
        .update_expression("SET actorId = :someone")
        .expression_attribute_values(":someone", AttributeValue::S(p.nurse.id.clone()))
        .send()
        .await
        .unwrap();
    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert_eq!(verified.broken.len(), 1, "{verified:?}");
    assert_eq!((verified.broken[0].seq, verified.broken[0].problem), (3, "the event was altered after it was chained"));
    assert_eq!(verified.broken[0].event_id, text(third, "id"));
    // The audit log's screen says so too, for the conversation and for its patient.
    for scope in [format!("conversationId={cid}"), format!("patientId={}", p.jane.id)] {
        let res = app.get(&p.admin.token, &format!("/audit/verification?{scope}")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["verified"], false, "{}", res.body);
        let broken = &res.body["broken"][0];
        assert_eq!(
            (broken["recordType"].as_str(), broken["recordId"].as_str()),
            (Some("conversation"), Some(cid.as_str()))
        );
        assert_eq!((broken["seq"].as_u64(), broken["eventId"].as_str()), (Some(3), Some(text(third, "id").as_str())));
    }

    // Or deletes one: the gap is named.
    let second = events.iter().find(|e| e.get("seq") == Some(&AttributeValue::N("2".into()))).unwrap();
    app.dynamodb
        .delete_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S(chain))
        .key("sk", second["sk"].clone())
        .send()
        .await
        .unwrap();
    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert_eq!((verified.broken[0].seq, verified.broken[0].problem), (2, "an event is missing before this one"));
    println!(
        "SEC-2 audit chain: {} chains, {} events verified, tampering found at the altered and at the deleted event",
        verified.chains, verified.events
    );
}

/// Runs `request` and answers how many audit events it wrote.
async fn audit_delta<F: std::future::Future<Output = Answer>>(app: &TestApp, request: F) -> (Answer, Vec<Value>) {
    let before: Vec<String> = app.audit_events().await.iter().map(|e| text(e, "id")).collect();
    let answer = request.await;
    let new = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| !before.contains(&text(e, "id")))
        .map(|e| json!({ "action": text(&e, "action"), "outcome": text(&e, "outcome"), "actor": text(&e, "actorId") }))
        .collect();
    (answer, new)
}

#[tokio::test]
async fn sec_2_each_phi_read_and_write_appends_exactly_one_audit_event_and_denials_are_recorded() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = compose(&app, &p).await;
    let path = format!("/conversations/{cid}");
    let cases: Vec<(&str, &User, &str, &str, Option<Value>)> = vec![
        (
            "compose",
            &p.doctor,
            "POST",
            "/conversations",
            Some(json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Labs", "body": "Results are in." })),
        ),
        ("reply", &p.doctor, "POST", "messages", Some(json!({ "body": "One more thing." }))),
        ("internal note", &p.nurse, "POST", "messages", Some(json!({ "body": "Called her.", "internal": true }))),
        ("read thread", &p.jane, "GET", "thread", None),
        ("inbox page", &p.doctor, "GET", "/inbox", None),
        ("inbox search", &p.doctor, "GET", "/inbox?q=labs", None),
        ("export", &p.doctor, "GET", "export", None),
        ("patient finder", &p.front_desk, "GET", "/patients?q=ja", None),
        ("assign", &p.doctor, "POST", "assign", Some(json!({ "assignees": [{ "type": "staff", "id": p.nurse.id }] }))),
    ];
    let mut tried = 0;
    for (name, user, method, target, body) in cases {
        let url = match target {
            "messages" => format!("{path}/messages"),
            "thread" => path.clone(),
            "export" => format!("{path}/export"),
            "assign" => format!("{path}/assign"),
            other => other.to_string(),
        };
        let (answer, events) = audit_delta(&app, app.send(method, &url, Some(&user.token), body.as_ref(), &[])).await;
        assert!(answer.status.is_success(), "{name}: {} {}", answer.status, answer.body);
        assert_eq!(events.len(), 1, "{name} wrote {events:?}");
        assert_eq!(events[0]["outcome"], "success", "{name}");
        assert_eq!(events[0]["actor"], user.id.as_str(), "{name}");
        tried += 1;
    }
    // Denied attempts are recorded too: a patient probing another's conversation (404), and a
    // patient trying a staff action on her own (403).
    let other = compose(&app, &p).await;
    let (answer, events) = audit_delta(&app, app.get(&p.john.token, &format!("/conversations/{other}"))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        events,
        vec![json!({ "action": "GET /conversations/{id}", "outcome": "denied-not-found", "actor": p.john.id })]
    );
    let (answer, events) = audit_delta(
        &app,
        app.post(
            &p.jane.token,
            &format!("{path}/assign"),
            json!({ "assignees": [{ "type": "staff", "id": p.nurse.id }] }),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["outcome"], "denied-forbidden");
    println!("SEC-2 audit: {tried} PHI operations wrote exactly one event each; 2 denied attempts recorded");
}

/// SEC-2: a refused export is recorded like every other refusal (the export route once
/// answered outside the audited path).
#[tokio::test]
async fn sec_2_a_refused_export_is_audited() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let janes = compose(&app, &p).await;

    let export = format!("/conversations/{janes}/export?format=text");
    let (answer, events) = audit_delta(&app, app.get(&p.john.token, &export)).await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        events,
        vec![json!({ "action": "GET /conversations/{id}/export", "outcome": "denied-not-found", "actor": p.john.id })]
    );
}

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

/// A DynamoDB client that signs as one function's own role (the template's, as the local
/// stack creates it), so a test can ask IAM what that function may do.
async fn client_of_role(binary: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&config_of_role(binary).await)
}

async fn config_of_role(binary: &str) -> aws_config::SdkConfig {
    let operator = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let role = format!("{}{binary}", std::env::var("FUNCTION_ROLE_PREFIX").unwrap());
    local_gateway::functions::role_config(&operator, &role, "iam-items").await
}

fn item_key(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [("pk".to_string(), AttributeValue::S(pk.into())), ("sk".to_string(), AttributeValue::S("IAM".into()))]
        .into_iter()
        .collect()
}

fn refused_by_iam<E: std::fmt::Debug, R: std::fmt::Debug>(result: Result<R, aws_sdk_dynamodb::error::SdkError<E>>) {
    let refused = result.expect_err("IAM refuses it");
    assert_eq!(refused.raw_response().map(|r| r.status().as_u16()), Some(403), "{refused:?}");
}

/// IAM has no permission for a transaction as such: each of its items needs its own action
/// (a Put PutItem, a Delete DeleteItem). The local stack holds them to the function's role
/// item by item, as AWS does: the e-visit job's role may put, not delete, in a transaction.
#[tokio::test]
async fn iam_each_item_of_a_transaction_is_held_to_the_functions_role() {
    use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
    let app = TestApp::spawn().await;
    let job = client_of_role("evisit-windows").await;
    let id = carethread_core::domain::new_id("iam");
    let put = |pk: &str| {
        TransactWriteItem::builder()
            .put(Put::builder().table_name(&app.table).set_item(Some(item_key(pk))).build().unwrap())
            .build()
    };
    let delete = |pk: &str| {
        TransactWriteItem::builder()
            .delete(Delete::builder().table_name(&app.table).set_key(Some(item_key(pk))).build().unwrap())
            .build()
    };
    let write = |items: Vec<TransactWriteItem>| job.transact_write_items().set_transact_items(Some(items)).send();
    write(vec![put(&format!("{id}#a"))]).await.expect("PutItem is in the job's role");
    refused_by_iam(write(vec![put(&format!("{id}#b")), delete(&format!("{id}#a"))]).await);
    // Refused whole: nothing of it was written.
    let read = |pk: String| app.dynamodb.get_item().table_name(&app.table).set_key(Some(item_key(&pk))).send();
    assert!(read(format!("{id}#a")).await.unwrap().item.is_some());
    assert!(read(format!("{id}#b")).await.unwrap().item.is_none());
}

/// SEC-2: the audit log is append-only. Every function but the audit chain carries the
/// template's `AuditAppendOnlyPolicy`, whose Deny outweighs the function's own table-wide
/// write grant: compose may add an audit event but neither rewrite nor delete one.
#[tokio::test]
async fn sec_2_iam_the_audit_log_is_append_only_for_every_function_but_the_chain() {
    let app = TestApp::spawn().await;
    let compose = client_of_role("compose").await;
    let id = carethread_core::domain::new_id("iam");
    let audit = item_key(&format!("PRAC#{id}#AUDIT#2026-12"));
    let rewrite = |key: std::collections::HashMap<String, AttributeValue>| {
        compose
            .update_item()
            .table_name(&app.table)
            .set_key(Some(key))
            .update_expression("SET rewritten = :yes")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
    };

    compose.put_item().table_name(&app.table).set_item(Some(audit.clone())).send().await.expect("appending is allowed");
    refused_by_iam(rewrite(audit.clone()).await);
    refused_by_iam(compose.delete_item().table_name(&app.table).set_key(Some(audit.clone())).send().await);

    let stored = app.dynamodb.get_item().table_name(&app.table).set_key(Some(audit)).send().await.unwrap().item;
    assert!(stored.is_some_and(|item| !item.contains_key("rewritten")), "the event is there, untouched");
    // The same update outside the audit partitions is the function's own grant at work.
    rewrite(item_key(&format!("PRAC#{id}#CONV#c"))).await.expect("compose updates conversations");
}

/// A grant conditioned on `dynamodb:LeadingKeys` holds only in its partitions: the notifier
/// may write a late inbox entry in a viewer's partition, not a conversation item.
#[tokio::test]
async fn iam_a_partition_conditioned_grant_holds_only_in_its_partitions() {
    let app = TestApp::spawn().await;
    let notifier = client_of_role("notifier").await;
    let id = carethread_core::domain::new_id("iam");
    let put = |pk: String| notifier.put_item().table_name(&app.table).set_item(Some(item_key(&pk))).send();

    put(format!("PRAC#{id}#USER#u")).await.expect("a viewer's partition is granted");
    refused_by_iam(put(format!("PRAC#{id}#CONV#c")).await);

    let conversation = item_key(&format!("PRAC#{id}#CONV#c"));
    assert!(app
        .dynamodb
        .get_item()
        .table_name(&app.table)
        .set_key(Some(conversation))
        .send()
        .await
        .unwrap()
        .item
        .is_none());
}

/// The functions that read the record cannot change it: reports write only their audit
/// events, and opening a thread writes only audit events, the reader's own marks and an
/// e-visit's "reviewed" mark (template.yaml, each role's statements). A bug there could
/// at worst misplace a read mark, never rewrite or delete a message.
#[tokio::test]
async fn iam_the_functions_that_read_the_record_cannot_change_it() {
    let app = TestApp::spawn().await;
    let (reports, reader) = (client_of_role("reports").await, client_of_role("get-conversation").await);
    let id = carethread_core::domain::new_id("iam");
    let message = item_key(&format!("PRAC#{id}#CONV#c"));

    reader
        .put_item()
        .table_name(&app.table)
        .set_item(Some(item_key(&format!("PRAC#{id}#AUDIT#r"))))
        .send()
        .await
        .expect("its audit event");
    refused_by_iam(reports.put_item().table_name(&app.table).set_item(Some(message.clone())).send().await);
    refused_by_iam(reader.put_item().table_name(&app.table).set_item(Some(message.clone())).send().await);
    refused_by_iam(reader.delete_item().table_name(&app.table).set_key(Some(message.clone())).send().await);

    assert!(app.dynamodb.get_item().table_name(&app.table).set_key(Some(message)).send().await.unwrap().item.is_none());
}

/// An S3 grant holds for its own bucket: compose may store attachment files, not the audit
/// chain's head copies (SEC-2: only the audit-chain function writes those).
#[tokio::test]
async fn sec_2_iam_an_s3_grant_holds_only_for_its_bucket() {
    let app = TestApp::spawn().await;
    let config = config_of_role("compose").await;
    let compose = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).build());
    let heads = std::env::var("AUDIT_HEADS_BUCKET").unwrap();
    let key = format!("iam/{}", carethread_core::domain::new_id("iam"));
    let put = |bucket: String| compose.put_object().bucket(bucket).key(&key).body(b"x".to_vec().into()).send();

    put(app.bucket.clone()).await.expect("the attachment bucket is compose's");
    refused_by_iam(put(heads.clone()).await);

    assert!(app.s3.head_object().bucket(heads).key(&key).send().await.is_err(), "nothing was stored");
}
