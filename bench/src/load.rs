//! The load run: many concurrent clients composing, replying and listing against the local
//! stack (loopback only), for a bounded time. Then every message answered 201 is looked up in
//! the table. moto (one process, serialized) is the bottleneck; the point is that nothing
//! fails or goes missing under concurrency, and what our own process costs per request.

use carethread_tests::{TestApp, User};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, serde::Serialize)]
pub struct LoadResult {
    pub clients: usize,
    pub seconds: f64,
    pub requests: usize,
    pub requests_per_second: f64,
    pub by_operation: BTreeMap<String, usize>,
    pub errors: usize,
    /// 503s answered and retried (the request then counted once).
    pub retried_503: usize,
    pub error_statuses: BTreeMap<String, usize>,
    /// The first answer of each kind of error.
    pub error_examples: BTreeMap<String, String>,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub messages_created: usize,
    pub messages_lost: usize,
    pub cpu_ms_per_request: f64,
    pub cpu_ms_per_request_net: f64,
}

#[derive(Default)]
struct Shared {
    ops: BTreeMap<String, usize>,
    errors: BTreeMap<String, usize>,
    examples: BTreeMap<String, String>,
    retries: usize,
    latencies_us: Vec<u64>,
    /// (conversation id, message id) of every 201.
    created: Vec<(String, String)>,
}

/// A practice of the reference staff size is made (10 staff, a patient per client); `clients`
/// sessions of its staff (several per user, as with tabs and devices) each loop compose,
/// reply, list, reply, list... about their own patient until `duration` has passed. A 503
/// (a dependency busy, "retry later") is retried as a client should, up to 3 times with
/// backoff; only a request that still fails is an error. `baseline_us` is the HTTP
/// cost of a request that reaches no function, subtracted for the net figure.
pub async fn run(app: Arc<TestApp>, clients: usize, duration: Duration, baseline_us: i64) -> LoadResult {
    let (practice, admin) = app.new_practice("Load Practice").await;
    let practice = practice.as_str();
    let mut staff = Vec::new();
    for i in 0..10 {
        let role = if i % 2 == 0 { "physician" } else { "nurse" };
        staff.push(app.add_staff(practice, &admin, &format!("Load{i}"), role, json!({})).await);
    }
    let mut patients = Vec::new();
    for i in 0..clients {
        patients.push(app.add_patient(practice, &admin, &format!("Patient{i}"), "Load", json!({})).await);
    }
    let users: Vec<User> = (0..clients).map(|i| staff[i % staff.len()].clone()).collect();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let cpu0 = crate::cpu_micros();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for (i, user) in users.into_iter().enumerate() {
        let app = app.clone();
        let shared = shared.clone();
        let patient = patients[i % patients.len()].id.clone();
        tasks.push(tokio::spawn(async move {
            let mut conversation: Option<String> = None;
            let mut step = 0usize;
            while Instant::now() < deadline {
                let (name, method, path, body) = match (step % 5, &conversation) {
                    (0, _) | (_, None) => (
                        "compose",
                        "POST",
                        "/conversations".to_string(),
                        Some(json!({ "kind": "patient", "patientId": patient, "subject": "Load", "body": format!("Load test message {step}") })),
                    ),
                    (1 | 3, Some(c)) => (
                        "reply",
                        "POST",
                        format!("/conversations/{c}/messages"),
                        Some(json!({ "body": format!("Load test reply {step}") })),
                    ),
                    (_, Some(_)) => ("list-inbox", "GET", "/inbox".to_string(), None),
                };
                step += 1;
                let t = Instant::now();
                let key = format!("load-{i}-{step}");
                let mut tries = 0;
                let res = loop {
                    // An Idempotency-Key, so a retried write cannot land twice.
                    let res = app.send(method, &path, Some(&user.token), body.as_ref(), &[("Idempotency-Key", &key)]).await;
                    if res.status.as_u16() != 503 || tries == 3 {
                        break res;
                    }
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100 << tries)).await;
                };
                let took = t.elapsed().as_micros() as u64;
                let mut s = shared.lock().unwrap();
                s.retries += tries;
                *s.ops.entry(name.to_string()).or_default() += 1;
                s.latencies_us.push(took);
                if !res.status.is_success() {
                    let kind = format!("{name} {}", res.status.as_u16());
                    s.examples.entry(kind.clone()).or_insert_with(|| res.body.to_string());
                    *s.errors.entry(kind).or_default() += 1;
                    continue;
                }
                if res.status.as_u16() == 201 {
                    let (c, m) = created_ids(name, &res.body, conversation.as_deref());
                    if name == "compose" {
                        conversation = Some(c.clone());
                    }
                    s.created.push((c, m));
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("load client");
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = crate::cpu_micros() - cpu0;
    let s = std::mem::take(&mut *shared.lock().unwrap());
    let requests: usize = s.ops.values().sum();
    let errors: usize = s.errors.values().sum();
    let lost = lost_messages(&app, practice, &s.created).await;
    let mut lat = s.latencies_us.clone();
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0) as f64 / 1000.0;
    let per = cpu as f64 / requests.max(1) as f64;
    LoadResult {
        clients,
        seconds,
        requests,
        requests_per_second: requests as f64 / seconds,
        by_operation: s.ops,
        errors,
        retried_503: s.retries,
        error_statuses: s.errors,
        error_examples: s.examples,
        latency_ms_p50: pct(0.5),
        latency_ms_p99: pct(0.99),
        messages_created: s.created.len(),
        messages_lost: lost,
        cpu_ms_per_request: per / 1000.0,
        cpu_ms_per_request_net: (per - baseline_us as f64).max(0.0) / 1000.0,
    }
}

fn created_ids(name: &str, body: &Value, conversation: Option<&str>) -> (String, String) {
    let m = body["message"]["id"].as_str().unwrap_or_default().to_string();
    let c = match name {
        "compose" => body["conversation"]["id"].as_str().unwrap_or_default().to_string(),
        _ => conversation.unwrap_or_default().to_string(),
    };
    (c, m)
}

/// Messages answered 201 that the table does not hold: each conversation's partition is
/// read straight from the table (a client without the function's interceptors).
async fn lost_messages(app: &TestApp, practice: &str, created: &[(String, String)]) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut by_conversation: HashMap<&str, Vec<&str>> = HashMap::new();
    for (c, m) in created {
        by_conversation.entry(c.as_str()).or_default().push(m.as_str());
    }
    let mut lost = 0;
    for (c, wanted) in by_conversation {
        let mut found = HashSet::new();
        let mut start = None;
        loop {
            let out = app
                .dynamodb
                .query()
                .table_name(&app.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :msg)")
                .expression_attribute_values(":pk", AttributeValue::S(format!("PRAC#{practice}#CONV#{c}")))
                .expression_attribute_values(":msg", AttributeValue::S("MSG#".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("read a conversation back");
            for item in out.items.unwrap_or_default() {
                if let Some(AttributeValue::S(sk)) = item.get("sk") {
                    found.insert(sk.rsplit('#').next().unwrap_or_default().to_string());
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        lost += wanted.iter().filter(|m| m.is_empty() || !found.contains(**m)).count();
    }
    lost
}
