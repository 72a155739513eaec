//! The key accesses of each operation, recorded for the scale model (issue 17): the demo
//! practice (the reference practice: its clinicians follow every conversation), and a group
//! of 150 provider-class users, once with everyone following everything (the design before
//! the followers' limit) and once as it is (past the limit of 15). Each operation runs with
//! [`crate::key_access::KeyAccessLog`] on, the notifier's and the audit chain's stream work
//! included (the stream is pumped before the log is read), and `bench/key-accesses.json`
//! keeps the result for `bench/scale_model.py`.

use crate::key_access::OperationAccesses;
use crate::Bench;
use carethread_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One request as the model counts it: the request, then everything the stream does for it.
async fn record(
    bench: &Bench,
    user: &User,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (Answer, OperationAccesses) {
    let app = &bench.app;
    app.pump().await;
    bench.accesses.drain(&app.dynamodb).await;
    bench.accesses.enable(true);
    let res = app.send(method, path, Some(&user.token), body.as_ref(), &[]).await;
    app.pump().await;
    bench.accesses.enable(false);
    assert!(res.status.is_success(), "{method} {path}: {} {}", res.status, res.body);
    (res, bench.accesses.drain(&app.dynamodb).await)
}

fn id_of(res: &Answer) -> String {
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

/// The operations of one practice shape: `staff` writes to `patient` (whose primary provider
/// it is), the patient answers and writes anew from the portal, and `staff` reads.
async fn operations(
    bench: &Bench,
    staff: &User,
    other: &User,
    patient: &User,
) -> BTreeMap<&'static str, OperationAccesses> {
    let mut ops = BTreeMap::new();
    let to_patient = json!({ "kind": "patient", "patientId": patient.id, "subject": "Results", "body": "All normal" });
    let (res, a) = record(bench, staff, "POST", "/conversations", Some(to_patient)).await;
    ops.insert("compose (staff to patient)", a);
    let cid = id_of(&res);
    let reply = json!({ "body": "Thank you" });
    let (_, a) = record(bench, patient, "POST", &format!("/conversations/{cid}/messages"), Some(reply)).await;
    ops.insert("reply (patient)", a);
    let reply = json!({ "body": "You're welcome" });
    let (_, a) = record(bench, staff, "POST", &format!("/conversations/{cid}/messages"), Some(reply)).await;
    ops.insert("reply (staff)", a);
    let portal = json!({ "subject": "Refill", "body": "Could I get one?" });
    let (_, a) = record(bench, patient, "POST", "/conversations", Some(portal)).await;
    ops.insert("compose (patient, portal)", a);
    for (name, path) in [
        ("list-inbox: all", "/inbox"),
        ("list-inbox: patient", "/inbox?tab=patient"),
        ("list-inbox: team", "/inbox?tab=team"),
        ("list-inbox: starred", "/inbox?tab=starred"),
        ("list-inbox: archived", "/inbox?tab=archived"),
    ] {
        let (_, a) = record(bench, staff, "GET", path, None).await;
        ops.insert(name, a);
    }
    let (_, a) = record(bench, staff, "GET", "/inbox?tab=practice", None).await;
    ops.insert("list-inbox: all practice", a);
    let (_, a) = record(bench, staff, "GET", "/inbox?q=results", None).await;
    ops.insert("list-inbox: search", a);
    let (_, a) = record(bench, staff, "GET", "/inbox/stats", None).await;
    ops.insert("stats", a);
    let (_, a) = record(bench, staff, "GET", &format!("/conversations/{cid}"), None).await;
    ops.insert("get-conversation", a);
    let assign = json!({ "assignees": [{ "type": "staff", "id": other.id }] });
    let (_, a) = record(bench, staff, "POST", &format!("/conversations/{cid}/assign"), Some(assign)).await;
    ops.insert("assign", a);
    ops
}

/// How many staff users the practice's directory holds (its reads grow with it).
async fn staff_count(app: &TestApp, admin: &User) -> usize {
    let res = app.get(&admin.token, "/staff").await;
    res.body["items"].as_array().map_or(0, Vec::len)
}

async fn set_followers_limit(app: &TestApp, admin: &User, limit: u32) {
    let body = json!({ "followAllConversationsUpTo": limit });
    let res = app.send("PUT", "/settings", Some(&admin.token), Some(&body), &[]).await;
    assert!(res.status.is_success(), "{}", res.body);
}

/// Records every shape and writes `bench/key-accesses.json`.
pub async fn record_all(bench: &Bench) {
    let app = &bench.app;
    eprintln!("scale model: recording the reference practice");
    let p = app.demo_practice().await;
    let mut reference = operations(bench, &p.doctor, &p.nurse, &p.jane).await;
    // A reply in a team thread of 20 (the doctor and 19 nurses).
    let mut team = Vec::new();
    for i in 0..19 {
        let s = app.add_staff(&p.id, &p.admin, &format!("Member{i}"), "nurse", json!({})).await;
        team.push(json!({ "type": "staff", "id": s.id }));
    }
    let twenty = json!({ "kind": "team", "recipients": team, "subject": "Team of 20", "body": "Hello all" });
    let res = app.post(&p.doctor.token, "/conversations", twenty).await;
    let path = format!("/conversations/{}/messages", id_of(&res));
    let (_, a) = record(bench, &p.doctor, "POST", &path, Some(json!({ "body": "To all of you" }))).await;
    reference.insert("reply (20 participants)", a);
    let reference_staff = staff_count(app, &p.admin).await;

    eprintln!("scale model: a group of 150 provider-class users (made through the API)");
    let (gid, admin) = app.new_practice("Valley Medical Group").await;
    let lead = app.add_staff(&gid, &admin, "Lead", "physician", json!({})).await;
    let colleague = app.add_staff(&gid, &admin, "Colleague", "physician", json!({})).await;
    for i in 0..148 {
        let unique = carethread_core::domain::new_id("").to_lowercase();
        let body = json!({ "firstName": format!("Provider{i}"), "lastName": "Group", "role": "physician",
                           "email": format!("provider.{unique}@group.example") });
        let res = app.post(&admin.token, "/staff", body).await;
        assert!(res.status.is_success(), "{}", res.body);
    }
    let patient = app.add_patient(&gid, &admin, "Ada", "Large", json!({ "primaryProviderId": lead.id })).await;
    set_followers_limit(app, &admin, 500).await;
    eprintln!("scale model: the group, everyone following everything");
    let follow_all = operations(bench, &lead, &colleague, &patient).await;
    set_followers_limit(app, &admin, 15).await;
    eprintln!("scale model: the group past the followers' limit");
    let group = operations(bench, &lead, &colleague, &patient).await;
    let group_staff = staff_count(app, &admin).await;

    let out = json!({
        "recordedAt": jiff::Timestamp::now().to_string(),
        "shapes": {
            "reference": { "staff": reference_staff, "followAll": true, "operations": reference },
            "group150FollowAll": { "staff": group_staff, "followAll": true, "operations": follow_all },
            "group150": { "staff": group_staff, "followAll": false, "operations": group },
        },
    });
    std::fs::write("bench/key-accesses.json", serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
    eprintln!("wrote bench/key-accesses.json");
}
