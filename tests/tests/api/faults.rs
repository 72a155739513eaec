//! Faults (issue 7, point 5): DynamoDB, S3 and KMS calls fail at every point of compose, reply,
//! assign and the attachment flow in turn. After each fault the request either succeeded or
//! answered a retryable 503 with nothing half-written, and a retry with the same
//! Idempotency-Key completes it: every message is stored exactly once.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

type Prepared<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Request> + 'a>>;

struct Flow {
    name: &'static str,
    /// The request under test, made fresh for each fault point (setup runs without faults).
    prepare: for<'a> fn(&'a TestApp, &'a DemoPractice, &'a str, usize) -> Prepared<'a>,
}

struct Request {
    method: &'static str,
    path: String,
    body: Value,
    /// The conversation the request writes to (after it is done).
    conversation: Option<String>,
    /// Text that the request's one new message (or assignment comment) carries.
    marker: String,
}

async fn conversation(app: &TestApp, p: &DemoPractice, subject: &str) -> String {
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": subject, "body": "Setup message" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

fn flows() -> Vec<Flow> {
    vec![
        Flow {
            name: "compose",
            prepare: |_app, p, _cid, k| {
                Box::pin(async move {
                    let marker = format!("compose fault {k}");
                    Request {
                        method: "POST",
                        path: "/conversations".into(),
                        body: json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Fault", "body": marker }),
                        conversation: None,
                        marker,
                    }
                })
            },
        },
        Flow {
            name: "reply",
            prepare: |_app, _p, cid, k| {
                Box::pin(async move {
                    let cid = cid.to_string();
                    let marker = format!("reply fault {k}");
                    Request {
                        method: "POST",
                        path: format!("/conversations/{cid}/messages"),
                        body: json!({ "body": marker, "priority": "urgent" }),
                        conversation: Some(cid),
                        marker,
                    }
                })
            },
        },
        Flow {
            name: "assign",
            prepare: |_app, p, cid, k| {
                Box::pin(async move {
                    let cid = cid.to_string();
                    // Each point changes the assignment: the nurse and the other physician in turn.
                    let assignee = if k % 2 == 0 { &p.nurse.id } else { &p.doctor2.id };
                    let marker = format!("assign fault {k}");
                    Request {
                        method: "POST",
                        path: format!("/conversations/{cid}/assign"),
                        body: json!({ "assignees": [{ "type": "staff", "id": assignee }], "comment": marker }),
                        conversation: Some(cid),
                        marker,
                    }
                })
            },
        },
        Flow {
            name: "attachment",
            prepare: |app, p, cid, k| {
                Box::pin(async move {
                    let cid = cid.to_string();
                    let bytes = b"%PDF-1.7 fault test".to_vec();
                    let res = app
                        .post(&p.doctor.token, "/attachments", json!({ "fileName": "a.pdf", "contentType": "application/pdf", "size": bytes.len(), "conversationId": cid }))
                        .await;
                    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
                    let mut put = app.http.put(res.body["upload"]["url"].as_str().unwrap()).body(bytes);
                    for (h, v) in res.body["upload"]["headers"].as_object().unwrap() {
                        put = put.header(h.as_str(), v.as_str().unwrap());
                    }
                    assert!(put.send().await.unwrap().status().is_success());
                    let marker = format!("attachment fault {k}");
                    Request {
                        method: "POST",
                        path: format!("/conversations/{cid}/messages"),
                        body: json!({ "body": marker, "attachmentIds": [res.body["attachment"]["id"]] }),
                        conversation: Some(cid),
                        marker,
                    }
                })
            },
        },
    ]
}

/// Nothing half-written: each conversation the request touched has as many messages as its
/// summary says and an entry per viewer with the count that viewer can see, and every counter
/// equals a recount (so no entry exists without its conversation either).
async fn assert_consistent(app: &TestApp, p: &DemoPractice, touched: &[String], context: &str) {
    let store = &app.app().store;
    for cid in touched {
        let cid = &carethread_core::domain::ConversationId::parse("cid", cid).unwrap();
        let (meta, messages) = store.thread(&p.id, cid).await.unwrap().expect("an entry without its conversation");
        assert_eq!(messages.len() as u64, meta.message_count, "{context}: {cid} messages vs summary");
        for viewer in &meta.viewers {
            let entry = store.entry(&p.id, viewer, cid).await.unwrap();
            let entry = entry.unwrap_or_else(|| panic!("{context}: {viewer} has no entry for {cid}"));
            let expected = if viewer == &p.jane.id { meta.patient_message_count } else { meta.message_count };
            assert_eq!(entry.message_count, expected, "{context}: {viewer}'s entry for {cid}");
        }
    }
    for u in [&p.doctor, &p.jane, &p.nurse, &p.admin] {
        let kept = store.stats(&p.id, &u.user_id()).await.unwrap();
        assert_eq!(kept, store.recount_stats(&p.id, &u.user_id()).await.unwrap(), "{context}: {}'s counters", u.id);
    }
}

/// How many messages (or assignments, by their comment) carrying the request's marker exist in
/// the conversations it touched: exactly one once the request has completed.
async fn copies(app: &TestApp, p: &DemoPractice, req: &Request, cids: &[String]) -> usize {
    let mut n = 0;
    for cid in cids {
        let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
        let carries = |items: &Value, field: &str| {
            items.as_array().into_iter().flatten().filter(|m| m[field] == req.marker.as_str()).count()
        };
        n += carries(&thread.body["messages"], "body") + carries(&thread.body["assignments"], "comment");
    }
    n
}

/// Every fault point of one flow, on a test app (and table) of its own.
async fn run_flow(flow: Flow) {
    let faults = AwsFaults::default();
    let app = TestApp::spawn_with(Options { aws_faults: Some(faults.clone()), ..Default::default() }).await;
    let p = app.demo_practice().await;
    let cid = conversation(&app, &p, flow.name).await;
    let (mut points, mut answered_503, mut lost, mut doubled) = (0, 0, 0, 0);
    let mut failed_calls = std::collections::BTreeSet::new();
    // How many AWS calls the request makes when nothing fails (with a key, as under test).
    let req = (flow.prepare)(&app, &p, &cid, 0).await;
    faults.arm(None);
    let key = format!("{}-0-{}", flow.name, carethread_core::domain::new_id(""));
    let ok =
        app.send(req.method, &req.path, Some(&p.doctor.token), Some(&req.body), &[("Idempotency-Key", &key)]).await;
    assert!(ok.status.is_success(), "{}: {} {}", flow.name, ok.status, ok.body);
    let calls = faults.calls();
    for k in 1..=calls {
        faults.arm(None);
        let req = (flow.prepare)(&app, &p, &cid, k).await;
        let before = app.inbox_ids(&p.doctor).await;
        let key = format!("{}-{k}-{}", flow.name, carethread_core::domain::new_id(""));
        let header = [("Idempotency-Key", key.as_str())];
        faults.arm(Some(k));
        let first = app.send(req.method, &req.path, Some(&p.doctor.token), Some(&req.body), &header).await;
        faults.arm(None);
        let context = format!("{} with call {k} of {calls} failing ({:?})", flow.name, faults.last_failed());
        failed_calls.extend(faults.last_failed());
        points += 1;
        match first.status {
            s if s.is_success() => {}
            StatusCode::SERVICE_UNAVAILABLE => answered_503 += 1,
            other => panic!("{context}: answered {other}, neither success nor a retryable 503: {}", first.body),
        }
        // What the request touched: its conversation, or any conversation that appeared.
        let touched = |now: Vec<String>| {
            let mut t: Vec<String> = now.into_iter().filter(|c| !before.contains(c)).collect();
            t.extend(req.conversation.clone());
            t
        };
        assert_consistent(&app, &p, &touched(app.inbox_ids(&p.doctor).await), &context).await;
        let retry = app.send(req.method, &req.path, Some(&p.doctor.token), Some(&req.body), &header).await;
        assert!(retry.status.is_success(), "{context}: the retry answered {} {}", retry.status, retry.body);
        let touched = touched(app.inbox_ids(&p.doctor).await);
        assert_consistent(&app, &p, &touched, &format!("{context}, after the retry")).await;
        match copies(&app, &p, &req, &touched).await {
            0 => lost += 1,
            1 => {}
            _ => doubled += 1,
        }
    }
    println!(
        "faults ({}): {points} fault points ({} injected) over {} distinct AWS operations {:?}, {answered_503} answered 503, \
         messages lost {lost}, stored twice {doubled}",
        flow.name,
        faults.injected(),
        failed_calls.len(),
        failed_calls,
    );
    assert_eq!((lost, doubled), (0, 0));
}

fn flow(name: &str) -> Flow {
    flows().into_iter().find(|f| f.name == name).expect("a flow of that name")
}

#[tokio::test]
async fn faults_at_every_aws_call_of_compose_lose_nothing() {
    run_flow(flow("compose")).await;
}

#[tokio::test]
async fn faults_at_every_aws_call_of_reply_lose_nothing() {
    run_flow(flow("reply")).await;
}

#[tokio::test]
async fn faults_at_every_aws_call_of_assign_lose_nothing() {
    run_flow(flow("assign")).await;
}

#[tokio::test]
async fn faults_at_every_aws_call_of_the_attachment_flow_lose_nothing() {
    run_flow(flow("attachment")).await;
}

/// ACCT-1: the Cognito user is made after the directory record commits. When that call fails,
/// the request answers 503, nobody can sign in without a record, and the retry with the same
/// Idempotency-Key completes the account: one record, one pool user.
#[tokio::test]
async fn acct_1_a_cognito_fault_after_the_directory_write_is_completed_by_the_retry() {
    let faults = AwsFaults::default();
    let app = TestApp::spawn_with(Options { aws_faults: Some(faults.clone()), ..Default::default() }).await;
    let p = app.demo_practice().await;
    let staff = |first: &str| json!({ "firstName": first, "lastName": "Fault", "role": "nurse", "email": format!("{}@example.test", first.to_lowercase()) });
    // The same request once without a fault, to count its calls: AdminCreateUser is the last.
    faults.arm(None);
    let counted = app
        .send("POST", "/staff", Some(&p.admin.token), Some(&staff("Counted")), &[("idempotency-key", "count-1")])
        .await;
    assert_eq!(counted.status, StatusCode::CREATED, "{}", counted.body);
    let last = faults.calls();
    faults.arm(Some(last));
    let key = [("idempotency-key", "nia-1")];
    let failed = app.send("POST", "/staff", Some(&p.admin.token), Some(&staff("Nia")), &key).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    assert_eq!(faults.last_failed().as_deref(), Some("Cognito Identity Provider.AdminCreateUser"));
    faults.arm(None);
    let listed = app.get(&p.admin.token, "/staff").await.body;
    let nias: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["firstName"] == "Nia")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(nias.len(), 1, "the directory record is there");
    let none = app.cognito.admin_get_user().user_pool_id(&app.pool_id).username(&nias[0]).send().await;
    assert!(none.is_err(), "and no pool user yet: nobody can sign in without a record");
    let retried = app.send("POST", "/staff", Some(&p.admin.token), Some(&staff("Nia")), &key).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    assert_eq!(retried.body["staff"]["id"], json!(nias[0]), "the first answer, replayed");
    let user = app
        .cognito
        .admin_get_user()
        .user_pool_id(&app.pool_id)
        .username(&nias[0])
        .send()
        .await
        .expect("now a pool user");
    assert!(user.enabled());
    let listed = app.get(&p.admin.token, "/staff").await.body;
    assert_eq!(listed["items"].as_array().unwrap().iter().filter(|s| s["firstName"] == "Nia").count(), 1, "one record");
}

/// ACCT-2: a rename rewrites many copies of the patient's names after its commit. With any one
/// of its AWS calls failing, the request answers 503 (or completes), and the next edit of the
/// patient carries the rename everywhere: the finder, both conversations in every inbox, search.
#[tokio::test]
async fn acct_2_a_fault_anywhere_in_a_rename_is_carried_by_the_next_edit() {
    let faults = AwsFaults::default();
    let app = TestApp::spawn_with(Options { aws_faults: Some(faults.clone()), ..Default::default() }).await;
    let p = app.demo_practice().await;
    let mut cids = vec![conversation(&app, &p, "First").await, conversation(&app, &p, "Second").await];
    cids.sort();
    let path = format!("/patients/{}", p.jane.id);
    // Names that share no search prefix with each other: Balo, Calo, ... then Bblo, Cblo, ...
    let name = |k: usize| format!("{}{}lo", (b'B' + (k % 20) as u8) as char, (b'a' + (k / 20) as u8) as char);
    let rename = |k: usize| json!({ "lastName": name(k) });
    faults.arm(None);
    let res = app.send("PATCH", &path, Some(&p.admin.token), Some(&rename(0)), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let calls = faults.calls();
    let found = |kind: &'static str, q: String| {
        let app = &app;
        let token = p.doctor.token.clone();
        async move {
            let res = app.get(&token, &format!("/{kind}?q={q}")).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            res.body["items"].as_array().unwrap().len()
        }
    };
    for k in 1..=calls {
        faults.arm(Some(k));
        let first = app.send("PATCH", &path, Some(&p.admin.token), Some(&rename(k)), &[]).await;
        faults.arm(None);
        let context = format!("the rename with call {k} of {calls} failing ({:?})", faults.last_failed());
        assert!(
            first.status.is_success() || first.status == StatusCode::SERVICE_UNAVAILABLE,
            "{context}: {} {}",
            first.status,
            first.body
        );
        let again = app.send("PATCH", &path, Some(&p.admin.token), Some(&rename(k)), &[]).await;
        assert_eq!(again.status, StatusCode::OK, "{context}: {}", again.body);
        let (new, old) = (name(k).to_lowercase(), name(k - 1).to_lowercase());
        assert_eq!(found("patients", new.clone()).await, 1, "{context}: the finder knows the new name");
        assert_eq!(found("patients", old.clone()).await, 0, "{context}: and not the old one");
        assert_eq!(found("inbox", new.clone()).await, 2, "{context}: search finds both by the new name");
        assert_eq!(found("inbox", old).await, 0, "{context}: and neither by the old one");
        for cid in &cids {
            let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
            assert_eq!(thread.body["conversation"]["patient"]["lastName"], json!(name(k)), "{context}");
        }
        let shown: Vec<Value> = app.get(&p.nurse.token, "/inbox").await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["conversation"]["patient"]["lastName"].clone())
            .collect();
        assert_eq!(shown, vec![json!(name(k)); 2], "{context}: the care team's entries");
    }
    println!("faults (rename): {calls} fault points, each carried by the next edit");
}

/// SLA-4: an escalation run with each of its AWS calls failing in turn, then run again:
/// every question escalates exactly once (one co-assignment, one note), whatever failed.
#[tokio::test]
async fn sla_4_faults_at_every_aws_call_of_an_escalation_run_escalate_once() {
    use carethread_core::domain::{SignedDuration, Timestamp};
    use carethread_core::jobs::escalations::escalate_due;
    let faults = AwsFaults::default();
    let app = TestApp::spawn_with(Options { aws_faults: Some(faults.clone()), ..Default::default() }).await;
    let p = app.demo_practice().await;
    let settings = json!({
        "replyTargets": { "normal": { "businessHours": 4 } },
        "escalation": { "atShare": 0.75, "to": { "type": "workgroup", "id": p.front_office_id } },
        // A question for every fault point, from one patient.
        "patientMessagesPerDay": 1000,
    });
    assert_eq!(app.send("PUT", "/settings", Some(&p.admin.token), Some(&settings), &[]).await.status, StatusCode::OK);
    let job = app.function("reply-escalations");
    let ask = |n: usize| {
        let (app, jane) = (&app, &p.jane);
        async move {
            let res = app.post(&jane.token, "/conversations", json!({ "subject": format!("Q{n}"), "body": "?" })).await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
            res.body["conversation"]["id"].as_str().unwrap().to_string()
        }
    };
    let later = || Timestamp::now() + SignedDuration::from_hours(5);
    faults.arm(None);
    let first = ask(0).await;
    escalate_due(job, later(), 10).await.unwrap();
    let calls = faults.calls();
    let mut cids = vec![first];
    for k in 1..=calls {
        faults.arm(None);
        let cid = ask(k).await;
        faults.arm(Some(k));
        let failed = escalate_due(job, later(), 10).await;
        faults.arm(None);
        escalate_due(job, later(), 10).await.unwrap_or_else(|e| panic!("call {k}: the retry failed: {e}"));
        let _ = failed;
        cids.push(cid);
    }
    for cid in &cids {
        let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
        let notes = escalation_notes(&thread.body);
        let escalations = thread.body["assignments"].as_array().map_or(0, |a| a.len());
        assert_eq!((notes, escalations), (1, 1), "{cid} after {calls} fault points: {}", thread.body);
    }
    println!("escalation faults: {calls} fault points ({} injected), every question escalated once", faults.injected());
}
