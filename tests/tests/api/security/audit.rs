//! The audit log: chained per record, one event per PHI read and write, denials recorded (SEC-2).

use super::*;

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

/// Where an event is stored is part of what its link seals: an event moved to another place in
/// the table, its fields untouched, no longer verifies.
#[tokio::test]
async fn sec_2_an_audit_event_moved_in_the_table_no_longer_verifies() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let cid = compose(&app, &p).await;
    assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    assert_eq!(app.pump().await.audit_pending, 0);
    assert!(verify_practice(app.app(), &p.id).await.unwrap().broken.is_empty());

    let chain = format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id);
    let events = app.raw_partition(&chain).await;
    let first = events.iter().find(|e| e.get("seq") == Some(&AttributeValue::N("1".into()))).unwrap();
    let mut moved = first.clone();
    moved.insert("sk".into(), AttributeValue::S(format!("{}0", text(first, "sk"))));
    app.dynamodb.put_item().table_name(&app.table).set_item(Some(moved)).send().await.unwrap();
    let original = app.dynamodb.delete_item().table_name(&app.table).key("pk", AttributeValue::S(chain.clone()));
    original.key("sk", first["sk"].clone()).send().await.unwrap();

    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert_eq!(verified.broken.len(), 1, "{verified:?}");
    assert_eq!((verified.broken[0].seq, verified.broken[0].problem), (1, "the event was altered after it was chained"));
    assert_eq!(verified.broken[0].event_id, text(first, "id"));
}

/// A conversation whose chain holds five linked events: its creation, three reads by the
/// patient and the patient's reply.
async fn chained_conversation(app: &TestApp, p: &DemoPractice) -> String {
    let cid = compose(app, p).await;
    let path = format!("/conversations/{cid}");
    for _ in 0..3 {
        assert_eq!(app.get(&p.jane.token, &path).await.status, StatusCode::OK);
    }
    let res = app.post(&p.jane.token, &format!("{path}/messages"), json!({ "body": "Better, thanks." })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let report = app.pump().await;
    assert_eq!(report.audit_pending, 0, "{report:?}");
    cid
}

/// The raw event of a conversation's chain with this sequence number.
async fn chained_event(
    app: &TestApp,
    p: &DemoPractice,
    cid: &str,
    seq: u64,
) -> std::collections::HashMap<String, AttributeValue> {
    let chain = format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id);
    let events = app.raw_partition(&chain).await;
    events.into_iter().find(|e| e.get("seq") == Some(&AttributeValue::N(seq.to_string()))).unwrap()
}

#[tokio::test]
async fn sec_2_audit_events_are_hash_chained_and_the_chain_verifies() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    chained_conversation(&app, &p).await;

    let verified = verify_practice(app.app(), &p.id).await.unwrap();

    assert!(verified.broken.is_empty(), "{verified:?}");
    assert_eq!(verified.unchained, 0);
    assert!(verified.events >= 5, "{verified:?}");
}

#[tokio::test]
async fn sec_2_administrators_read_a_chain_newest_first_by_record_or_by_patient_in_pages() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let cid = chained_conversation(&app, &p).await;

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
}

/// The administrators' screen verifies a conversation's chain through the API (the chain
/// key's VerifyMac only); others may not.
#[tokio::test]
async fn sec_2_administrators_verify_a_chain_through_the_api() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let cid = chained_conversation(&app, &p).await;
    let path_verify = format!("/audit/verification?conversationId={cid}");

    let res = app.get(&p.admin.token, &path_verify).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!((res.body["verified"].as_bool(), res.body["chains"].as_u64()), (Some(true), Some(1)), "{}", res.body);
    assert!(res.body["events"].as_u64() >= Some(5), "{}", res.body);
    assert_problem(&app.get(&p.doctor.token, &path_verify).await, StatusCode::FORBIDDEN);
    assert_eq!(app.pump().await.audit_pending, 0, "verifying appends no event to a chain");
}

/// Someone edits an event in the table: verification names it, in the verify command and on
/// the audit log's screen, for the conversation and for its patient.
#[tokio::test]
async fn sec_2_verification_names_an_event_edited_in_the_table() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let cid = chained_conversation(&app, &p).await;
    let third = chained_event(&app, &p, &cid, 3).await;

    app.dynamodb
        .update_item()
        .table_name(&app.table)
        .key("pk", third["pk"].clone())
        .key("sk", third["sk"].clone())
        .update_expression("SET actorId = :someone")
        .expression_attribute_values(":someone", AttributeValue::S(p.nurse.id.clone()))
        .send()
        .await
        .unwrap();

    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert_eq!(verified.broken.len(), 1, "{verified:?}");
    assert_eq!((verified.broken[0].seq, verified.broken[0].problem), (3, "the event was altered after it was chained"));
    assert_eq!(verified.broken[0].event_id, text(&third, "id"));
    for scope in [format!("conversationId={cid}"), format!("patientId={}", p.jane.id)] {
        let res = app.get(&p.admin.token, &format!("/audit/verification?{scope}")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["verified"], false, "{}", res.body);
        let broken = &res.body["broken"][0];
        assert_eq!(
            (broken["recordType"].as_str(), broken["recordId"].as_str()),
            (Some("conversation"), Some(cid.as_str()))
        );
        assert_eq!((broken["seq"].as_u64(), broken["eventId"].as_str()), (Some(3), Some(text(&third, "id").as_str())));
    }
}

/// Someone deletes an event: verification names the gap.
#[tokio::test]
async fn sec_2_verification_names_an_event_deleted_from_the_table() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let cid = chained_conversation(&app, &p).await;
    let (second, third) = (chained_event(&app, &p, &cid, 2).await, chained_event(&app, &p, &cid, 3).await);

    app.dynamodb
        .delete_item()
        .table_name(&app.table)
        .key("pk", second["pk"].clone())
        .key("sk", second["sk"].clone())
        .send()
        .await
        .unwrap();

    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert_eq!(verified.broken.len(), 1, "{verified:?}");
    assert_eq!((verified.broken[0].seq, verified.broken[0].problem), (2, "an event is missing before this one"));
    assert_eq!(verified.broken[0].event_id, text(&third, "id"), "the event after the gap");
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
