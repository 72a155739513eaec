//! INBOX-5 and issue 3 point 7: a page costs the same however large the practice is. With
//! 2,000 conversations in one user's inbox, the first page and a page 40 pages deep make the
//! same AWS calls, for every tab: one Query and one transaction (the actor check and the
//! audit event), and no KMS call on a warm function. Counted by the SDK interceptor.

use carethread_core::crypto::Binding;
use carethread_core::domain::ConversationKind as Kind;
use carethread_core::domain::UserId;
use carethread_core::domain::{InboxEntry, PatientRef, Sealed, SenderRef, Summary};
use carethread_core::store::place;
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const PAGE: usize = 10;
const DEPTH: usize = 40;

/// Seeds `n` inbox entries for one user straight into the table (in batches), as the write
/// path would have left them, with sealed fields.
async fn seed_entries(app: &TestApp, practice: &carethread_core::domain::PracticeId, user: &UserId, n: usize) {
    let env = &app.app().envelope;
    let patient_id = "pat_seeded";
    let first = Sealed(
        env.seal_str(Binding { practice_id: practice, record: patient_id, field: "firstName" }, "Seeded")
            .await
            .unwrap(),
    );
    let last = Sealed(
        env.seal_str(Binding { practice_id: practice, record: patient_id, field: "lastName" }, "Patient")
            .await
            .unwrap(),
    );
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let c = format!("cnv_seed{i:05}");
        let cid = carethread_core::domain::ConversationId::from_stored(&c);
        let kind = [Kind::Patient, Kind::Team, Kind::Patient, Kind::Broadcast, Kind::Team][i % 5];
        let archived = i % 5 == 4; // 400 archived team conversations
        let starred = i % 4 == 0;
        let at: carethread_core::domain::Timestamp = format!("2026-01-01T00:00:00.{:06}Z", i).parse().unwrap();
        let summary = Summary {
            kind,
            subject: Sealed(
                env.seal_str(Binding { practice_id: practice, record: &c, field: "subject" }, &format!("Subject {i}"))
                    .await
                    .unwrap(),
            ),
            patient: (kind != Kind::Team).then(|| PatientRef {
                id: UserId::from_stored(patient_id),
                first_name: first.clone(),
                last_name: last.clone(),
            }),
            assignees: vec![],
            assignee_ids: vec![],
            context: None,
            status: carethread_core::domain::ConversationStatus::Open,
            created_at: at,
            allow_response: true,
            allow_attachments: false,
        };
        let key = place::entry(practice, user, &cid, kind, at, archived, starred);
        entries.push((
            key,
            InboxEntry {
                conversation_id: cid,
                summary,
                summary_version: 0,
                last_message_at: at,
                preview: Sealed(
                    env.seal_str(Binding { practice_id: practice, record: &c, field: "preview" }, "preview text")
                        .await
                        .unwrap(),
                ),
                last_sender: SenderRef {
                    kind: carethread_core::domain::SenderKind::Staff,
                    id: UserId::from_stored("usr_x"),
                    name: Some("Seeder".into()),
                    masked: false,
                },
                urgent: false,
                last_priority: None,
                message_count: 1,
                unread: (i % 3) as u64,
                starred,
                archived,
                last_read_at: None,
                unposted: Vec::new(),
                reply_due: None,
            },
        ));
    }
    app.app().store.put_batch(&entries).await.unwrap();
    // Every active conversation is findable by the word "subject".
    let index = carethread_core::ops::search::practice_index(app.app(), practice).await.unwrap();
    let token = carethread_core::ops::search::query_token(&index, "subject").unwrap();
    let tokens: Vec<_> = entries
        .iter()
        .filter(|(_, e)| !e.archived)
        .map(|(_, e)| place::search_token(practice, &token, &e.conversation_id))
        .collect();
    app.app().store.put_markers(&tokens).await.unwrap();
}

fn by_service(calls: &BTreeMap<String, u64>, prefix: &str) -> u64 {
    calls.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum()
}

#[tokio::test]
async fn inbox_5_a_page_costs_the_same_at_the_top_and_forty_pages_deep_for_every_tab() {
    let app = TestApp::spawn().await;
    let (pid, admin) = app.new_practice("Big Practice").await;
    seed_entries(&app, &pid, &admin.user_id(), 2_000).await;
    // Warm the function: the first request of a cold start may unwrap a data key.
    assert_eq!(app.get(&admin.token, "/inbox?limit=1").await.status, StatusCode::OK);

    let mut report = Vec::new();
    for tab in ["all", "patient", "team", "broadcasts", "starred", "archived", "all&q=subject"] {
        let page = |cursor: Option<String>, limit: usize| {
            let path = match cursor {
                Some(c) => format!("/inbox?tab={tab}&limit={limit}&cursor={c}"),
                None => format!("/inbox?tab={tab}&limit={limit}"),
            };
            let app = &app;
            let token = admin.token.clone();
            async move {
                let before = app.app().calls.snapshot();
                let res = app.get(&token, &path).await;
                let calls = app.app().calls.since(&before);
                assert_eq!(res.status, StatusCode::OK, "{tab}: {}", res.body);
                assert_eq!(res.body["items"].as_array().unwrap().len(), limit, "{tab}: a full page");
                (res.body["nextCursor"].as_str().map(str::to_string), calls)
            }
        };
        // A warm function: the first search of a cold one reads the practice's search key once.
        page(None, PAGE).await;
        let (_, top) = page(None, PAGE).await;
        // Walk to the start of page 40 in big steps (a cursor is bound to the tab, not the
        // page size), then read page 40 itself.
        let mut cursor = None;
        for step in [100, 100, 100, PAGE * (DEPTH - 1) - 300] {
            cursor = page(cursor, step).await.0;
            assert!(cursor.is_some(), "{tab} goes on");
        }
        let (_, deep) = page(cursor, PAGE).await;
        assert_eq!(top, deep, "{tab}: page 1 and page {DEPTH} make the same calls");
        // A search page also reads the caller's entries for its hits (one BatchGetItem):
        // that read is what keeps results to what the caller may see.
        // Plus the identity read of every request (SEC-4, ACCT-2: a deactivated user or a
        // changed role stops the token at once), one GetItem, the same on every page.
        // A search also counts against the caller's per-minute search budget (one
        // UpdateItem; security finding 12).
        let budget = if tab.contains("q=") { 5 } else { 3 };
        assert!(by_service(&deep, "DynamoDB.") <= budget, "{tab}: {deep:?}");
        assert_eq!(deep.get("DynamoDB.Query"), Some(&1), "{tab}: one Query in {deep:?}");
        assert_eq!(by_service(&deep, "KMS."), 0, "{tab}: no KMS call on a warm function");
        report.push(format!("{tab:<10} page 1: {top:?}  page {DEPTH}: {deep:?}"));
    }
    println!("inbox page cost with 2,000 conversations ({PAGE} per page):\n{}", report.join("\n"));
}

/// One request's AWS calls, by service and operation, and its answer.
async fn counted(app: &TestApp, method: &str, token: &str, path: &str, body: Option<Value>) -> (Answer, Vec<String>) {
    let before = app.app().calls.snapshot();
    let res = app.send(method, path, Some(token), body.as_ref(), &[]).await;
    let calls = app.app().calls.since(&before).into_iter().map(|(op, n)| format!("{op} {n}")).collect();
    (res, calls)
}

/// Issue 18, point 3: the calls of the busiest requests on a warm function. The caller's record
/// (SEC-4, ACCT-2) is read in the operation's own batch, or taken from the directory it reads
/// anyway, instead of a GetItem of its own before the operation. docs/data-model.md ("The
/// calls of the busiest requests") says why each remaining call is its own.
#[tokio::test]
async fn calls_per_request_of_the_busiest_operations() {
    let (app, p) = setup().await;
    let compose_body =
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Follow-up", "body": "How is the knee today?" });
    let presign_body = json!({ "fileName": "scan.pdf", "contentType": "application/pdf", "size": 1000 });
    let doctor = p.doctor.token.as_str();
    // Warm every function once: a cold one reads the practice's rules and unwraps data keys.
    let first = app.post(doctor, "/conversations", compose_body.clone()).await;
    let cid = first.body["conversation"]["id"].as_str().unwrap().to_string();
    let reply = json!({ "body": "Any swelling since Tuesday?" });
    let assign = json!({ "assignees": [{ "type": "staff", "id": p.nurse.id }] });
    let requests: Vec<(&str, &str, String, Option<Value>)> = vec![
        ("compose", "POST", "/conversations".into(), Some(compose_body)),
        ("reply", "POST", format!("/conversations/{cid}/messages"), Some(reply)),
        ("get-conversation", "GET", format!("/conversations/{cid}"), None),
        ("assign", "POST", format!("/conversations/{cid}/assign"), Some(assign)),
        ("stats", "GET", "/inbox/stats".into(), None),
        ("inbox page", "GET", "/inbox".into(), None),
        ("patient search", "GET", "/patients?q=ja".into(), None),
        ("presign", "POST", "/attachments".into(), Some(presign_body)),
    ];
    for (_, method, path, body) in &requests {
        let (res, _) = counted(&app, method, doctor, path, body.clone()).await;
        assert!(res.status.is_success(), "{path}: {}", res.body);
    }

    let mut report = Vec::new();
    for (name, method, path, body) in &requests {
        let (res, calls) = counted(&app, method, doctor, path, body.clone()).await;
        assert!(res.status.is_success(), "{name}: {}", res.body);
        report.push((*name, calls));
    }
    println!("{report:#?}");

    let expected = |calls: &[&str]| calls.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let want = [
        // The caller, the practice (its settings, and whether the function's copy of the
        // directory is current), the patient (care team) and the viewers' patient markers in
        // one read; the transaction, with the search tokens.
        ("compose", expected(&["DynamoDB.BatchGetItem 1", "DynamoDB.TransactWriteItems 1"])),
        // The caller, the conversation and the practice in one read; the transaction, with the
        // search tokens.
        ("reply", expected(&["DynamoDB.BatchGetItem 1", "DynamoDB.TransactWriteItems 1"])),
        // The thread; the caller, its entry, the read marks and the names; the audited mark.
        (
            "get-conversation",
            expected(&["DynamoDB.BatchGetItem 1", "DynamoDB.Query 1", "DynamoDB.TransactWriteItems 1"]),
        ),
        // The caller, the conversation and the practice in one read (the directory from the
        // function's copy); the transaction.
        ("assign", expected(&["DynamoDB.BatchGetItem 1", "DynamoDB.TransactWriteItems 1"])),
        ("stats", expected(&["DynamoDB.BatchGetItem 1"])),
        // The caller's rows; the audit event with the caller's check as its condition.
        ("inbox page", expected(&["DynamoDB.Query 1", "DynamoDB.TransactWriteItems 1"])),
        // The name tokens' hits; the audit event, its condition the caller's check.
        ("patient search", expected(&["DynamoDB.Query 1", "DynamoDB.TransactWriteItems 1"])),
        // The practice's settings and the caller; the transaction; the upload link is signed
        // here (counted as S3.PutObject by the SDK's interceptors, never sent).
        ("presign", expected(&["DynamoDB.BatchGetItem 1", "DynamoDB.TransactWriteItems 1", "S3.PutObject 1"])),
    ];
    for ((name, calls), (wanted_name, wanted)) in report.iter().zip(want.iter()) {
        assert_eq!(name, wanted_name);
        assert_eq!(calls, wanted, "{name}");
    }
}

/// SEC-4 as the inbox page's transaction condition holds for a patient too (portal access,
/// second factor): a warm patient's page is its Query and its transaction. A condition that
/// never held would still answer, by the read check's fallback, but with two more calls.
#[tokio::test]
async fn sec_4_a_patients_inbox_page_admits_her_in_its_transaction() {
    let (app, p) = setup().await;
    let jane = p.jane.token.as_str();
    let (warm, _) = counted(&app, "GET", jane, "/inbox", None).await;
    assert_eq!(warm.status, StatusCode::OK, "{}", warm.body);

    let (res, calls) = counted(&app, "GET", jane, "/inbox", None).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(calls, ["DynamoDB.Query 1", "DynamoDB.TransactWriteItems 1"]);
}

/// Issue 18: compose and assign take the directory from their function's copy while the
/// practice's `directoryVersion` (read in their one batch) says it is current. A change made
/// through another function (a new staff user, a deactivation, a new workgroup) moves the
/// version in its own transaction, so the very next request routes by it.
#[tokio::test]
async fn role_6_directory_copies_see_a_new_staff_user_a_deactivation_and_a_new_workgroup_at_once() {
    let (app, p) = setup().await;
    let team_to = |recipient: serde_json::Value| json!({ "kind": "team", "subject": "Coverage", "body": "Can you cover Friday?", "recipients": [recipient] });
    let doctor = p.doctor.token.as_str();
    // Warm both functions' copies.
    let first = app.post(doctor, "/conversations", team_to(json!({ "type": "staff", "id": p.nurse.id }))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let cid = first.body["conversation"]["id"].as_str().unwrap().to_string();
    let assign_to = |id: &str| json!({ "assignees": [{ "type": "staff", "id": id }] });
    let res = app.post(doctor, &format!("/conversations/{cid}/assign"), assign_to(&p.nurse.id)).await;
    assert!(res.status.is_success(), "{}", res.body);

    let hired = app.add_staff(p.id.as_str(), &p.admin, "Quinn", "nurse", json!({})).await;
    let res = app.post(doctor, "/conversations", team_to(json!({ "type": "staff", "id": hired.id }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "a new staff user is a recipient at once: {}", res.body);
    let res = app.post(doctor, &format!("/conversations/{cid}/assign"), assign_to(&hired.id)).await;
    assert!(res.status.is_success(), "a new staff user is an assignee at once: {}", res.body);

    let res = app.post(&p.admin.token, "/workgroups", json!({ "name": "Weekend", "memberIds": [hired.id] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let workgroup = res.body["workgroup"]["id"].as_str().unwrap().to_string();
    let res = app.post(doctor, "/conversations", team_to(json!({ "type": "workgroup", "id": workgroup }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "a new workgroup is a recipient at once: {}", res.body);

    let off = json!({ "active": false });
    let res = app.send("PATCH", &format!("/staff/{}", hired.id), Some(&p.admin.token), Some(&off), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app.post(doctor, "/conversations", team_to(json!({ "type": "staff", "id": hired.id }))).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.post(doctor, &format!("/conversations/{cid}/assign"), assign_to(&hired.id)).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
}
