//! `make bench` (issue 8, in part): per operation, the AWS calls by service and operation (the
//! SDK's counting interceptor), KMS calls per 1,000 messages written and per 1,000 inbox pages
//! read on a warm function, and the CPU time of our process per request; then a monthly cost
//! model of the reference practice from those counts. A benchmark: it prints and records, it
//! asserts nothing. Writes `bench/results.json`.
//!
//! CPU per request: getrusage of this process (the emulator is another process) around each
//! request, minus the median of the same measure for a request that does nothing
//! (`/_local/health`: HTTP client and server overhead), so what remains is the function's
//! own work: authorizer claims, event parsing, the handler, crypto and SDK (de)serialization.

use carethread_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn cpu_micros() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let t = |tv: libc::timeval| tv.tv_sec * 1_000_000 + tv.tv_usec;
    t(usage.ru_utime) + t(usage.ru_stime)
}

fn median(mut v: Vec<i64>) -> i64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

struct Op {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    target: &'static str,
}

#[derive(serde::Serialize)]
struct OpResult {
    name: &'static str,
    requests: usize,
    calls_per_request: BTreeMap<String, f64>,
    cpu_us_median: i64,
    target: &'static str,
}

async fn measure(app: &TestApp, token: &str, op: &Op, n: usize, baseline: i64) -> OpResult {
    for _ in 0..3 {
        app.send(op.method, &op.path, Some(token), op.body.as_ref(), &[]).await;
    }
    let before = app.app().calls.snapshot();
    let mut cpu = Vec::with_capacity(n);
    for _ in 0..n {
        let start = cpu_micros();
        let res = app.send(op.method, &op.path, Some(token), op.body.as_ref(), &[]).await;
        cpu.push(cpu_micros() - start - baseline);
        assert!(res.status.is_success(), "{}: {} {}", op.name, res.status, res.body);
    }
    let calls = app.app().calls.since(&before).into_iter().map(|(k, v)| (k, v as f64 / n as f64)).collect();
    OpResult {
        name: op.name,
        requests: n,
        calls_per_request: calls,
        cpu_us_median: median(cpu).max(0),
        target: op.target,
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let doc = p.doctor.token.clone();

    // Baseline: a request that reaches no function.
    let mut idle = Vec::new();
    for _ in 0..n {
        let start = cpu_micros();
        app.http.get(format!("{}/_local/health", app.base)).send().await.unwrap();
        idle.push(cpu_micros() - start);
    }
    let baseline = median(idle);

    // A conversation of 2 (the doctor and Jane) with 20 messages, and a team one of 20.
    let two = app
        .post(
            &doc,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Bench", "body": "First" }),
        )
        .await;
    let two = two.body["conversation"]["id"].as_str().unwrap().to_string();
    for i in 0..19 {
        app.post(&doc, &format!("/conversations/{two}/messages"), json!({ "body": format!("Message {i}") })).await;
    }
    let mut team = Vec::new();
    for i in 0..19 {
        let s = app.add_staff(&p.id, &p.admin, &format!("Member{i}"), "nurse", json!({})).await;
        team.push(json!({ "type": "staff", "id": s.id }));
    }
    let twenty = app
        .post(
            &doc,
            "/conversations",
            json!({ "kind": "team", "recipients": team, "subject": "Team of 20", "body": "Hello all" }),
        )
        .await;
    let twenty = twenty.body["conversation"]["id"].as_str().unwrap().to_string();
    let thread = format!("/conversations/{two}");
    // Replies go to a conversation of their own, so the thread read keeps its 20 messages.
    let replies = app
        .post(
            &doc,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Replies", "body": "First" }),
        )
        .await;
    let replies = replies.body["conversation"]["id"].as_str().unwrap().to_string();

    let get = |name: &'static str, path: &str, target: &'static str| Op {
        name,
        method: "GET",
        path: path.to_string(),
        body: None,
        target,
    };
    let ops = vec![
        Op {
            name: "compose",
            method: "POST",
            path: "/conversations".into(),
            body: Some(
                json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Hello", "body": "A new message" }),
            ),
            target: "1 TransactWriteItems",
        },
        Op {
            name: "reply (2 participants)",
            method: "POST",
            path: format!("/conversations/{replies}/messages"),
            body: Some(json!({ "body": "A reply" })),
            target: "1 TransactWriteItems",
        },
        Op {
            name: "reply (20 participants)",
            method: "POST",
            path: format!("/conversations/{twenty}/messages"),
            body: Some(json!({ "body": "A reply to the team" })),
            target: "1 TransactWriteItems",
        },
        get("list-inbox: all", "/inbox", "1 Query + ≤1 BatchGetItem"),
        get("list-inbox: patient", "/inbox?tab=patient", "1 Query + ≤1 BatchGetItem"),
        get("list-inbox: team", "/inbox?tab=team", "1 Query + ≤1 BatchGetItem"),
        get("list-inbox: broadcasts", "/inbox?tab=broadcasts", "1 Query + ≤1 BatchGetItem"),
        get("list-inbox: starred", "/inbox?tab=starred", "1 Query + ≤1 BatchGetItem"),
        get("list-inbox: archived", "/inbox?tab=archived", "1 Query + ≤1 BatchGetItem"),
        get("list-inbox: search", "/inbox?q=bench", "1 Query + ≤1 BatchGetItem"),
        get("stats", "/inbox/stats", "-"),
        get("get-conversation (20 messages)", &thread, "-"),
        Op {
            name: "assign",
            method: "POST",
            path: format!("{thread}/assign"),
            body: Some(json!({ "assignees": [{ "type": "staff", "id": p.nurse.id }] })),
            target: "-",
        },
        Op {
            name: "attachment presign",
            method: "POST",
            path: "/attachments".into(),
            body: Some(json!({ "fileName": "scan.pdf", "contentType": "application/pdf", "size": 48213 })),
            target: "0 S3 calls",
        },
        get("directory lookup", "/patients?q=ja", "-"),
    ];
    let mut results = Vec::new();
    for op in &ops {
        let token = if op.name == "directory lookup" { &p.front_desk.token } else { &doc };
        results.push(measure(&app, token, op, n, baseline).await);
    }

    // KMS per 1,000 messages written and per 1,000 inbox pages read, warm.
    let kms =
        |r: &OpResult| r.calls_per_request.iter().filter(|(k, _)| k.starts_with("KMS.")).map(|(_, v)| v).sum::<f64>();
    let writes: Vec<&OpResult> =
        results.iter().filter(|r| r.name.starts_with("compose") || r.name.starts_with("reply")).collect();
    let kms_per_1000_messages = writes.iter().map(|r| kms(r)).sum::<f64>() / writes.len() as f64 * 1000.0;
    let pages: Vec<&OpResult> = results.iter().filter(|r| r.name.starts_with("list-inbox")).collect();
    let kms_per_1000_pages = pages.iter().map(|r| kms(r)).sum::<f64>() / pages.len() as f64 * 1000.0;

    let cost = cost_model(&results);
    print_report(&results, baseline, kms_per_1000_messages, kms_per_1000_pages, &cost);
    let out = json!({
        "measuredAt": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap(),
        "machine": machine(),
        "requestsPerOperation": n,
        "cpuBaselineMicros": baseline,
        "operations": results,
        "kmsPer1000Messages": kms_per_1000_messages,
        "kmsPer1000InboxPages": kms_per_1000_pages,
        "costModel": cost,
    });
    std::fs::write("bench/results.json", serde_json::to_string_pretty(&out).unwrap()).unwrap();
    println!("\nwrote bench/results.json");
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cpu}, {cores} cores")
}

/// AWS list prices, us-east-1, as published on 2026-11-01 (the date the model was written).
mod price {
    pub const DATE: &str = "2026-11-01, us-east-1";
    pub const LAMBDA_GB_SECOND_ARM: f64 = 0.000_013_333_4;
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    pub const KMS_REQUEST: f64 = 0.03 / 10_000.0;
    pub const KMS_KEY_MONTH: f64 = 1.0;
    pub const SNS_PUBLISH: f64 = 0.50 / 1e6;
    pub const SMS_US: f64 = 0.00581 + 0.00302; // SNS + typical US carrier fee
    pub const S3_GET: f64 = 0.0004 / 1000.0;
    pub const S3_PUT: f64 = 0.005 / 1000.0;
    pub const S3_GB_MONTH: f64 = 0.023;
    pub const API_GATEWAY_HTTP_REQUEST: f64 = 1.00 / 1e6;
}

/// The reference practice (issue 8): 10 staff, 2,000 patients, 300 messages a day, each staff
/// user loading the inbox 20 times an hour for 8 hours a day, 30 attachment downloads a day.
fn cost_model(results: &[OpResult]) -> Value {
    let per = |name: &str| results.iter().find(|r| r.name == name).expect("measured");
    let calls = |r: &OpResult, prefix: &str| {
        r.calls_per_request.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum::<f64>()
    };
    let days = 30.0;
    let messages = 300.0 * days;
    let pages = 10.0 * 20.0 * 8.0 * days;
    let downloads = 30.0 * days;
    // Per message: a third are new conversations, two thirds replies; each has ~1 page of
    // its thread read by the recipient and the stats badge polled with every page.
    let compose = per("compose");
    let reply = per("reply (2 participants)");
    let page = per("list-inbox: all");
    let stats = per("stats");
    let thread = per("get-conversation (20 messages)");
    let presign = per("attachment presign");
    let ops = [
        (compose, messages / 3.0),
        (reply, messages * 2.0 / 3.0),
        (thread, messages),
        (page, pages),
        (stats, pages),
        (presign, downloads),
    ];
    let requests: f64 = ops.iter().map(|(_, n)| n).sum();
    // Capacity units are estimated from the calls (not measured: see the README): a write
    // transaction of a message touches ~20 items of ≤1 KB at 2 WRU each; other writes 2 WRU;
    // a read call ≤4 KB eventually consistent 0.5 RRU, a page Query of 25 entries 4 RRU.
    let mut wru = 0.0;
    let mut rru = 0.0;
    for (r, n) in &ops {
        let tx = calls(r, "DynamoDB.TransactWriteItems");
        let is_message = std::ptr::eq(*r, compose) || std::ptr::eq(*r, reply);
        wru += n * tx * if is_message { 40.0 } else { 4.0 };
        wru += n
            * (calls(r, "DynamoDB.PutItem")
                + calls(r, "DynamoDB.UpdateItem")
                + calls(r, "DynamoDB.BatchWriteItem") * 10.0)
            * 1.0;
        rru += n
            * (calls(r, "DynamoDB.Query") * 4.0
                + calls(r, "DynamoDB.GetItem") * 0.5
                + calls(r, "DynamoDB.BatchGetItem") * 3.0);
    }
    let kms: f64 = ops.iter().map(|(r, n)| n * calls(r, "KMS.")).sum();
    // Lambda: 128 MB; duration ≈ the AWS round trips (~8 ms each in-region) + CPU.
    let gb_seconds: f64 = ops
        .iter()
        .map(|(r, n)| {
            let aws = r.calls_per_request.values().sum::<f64>();
            n * (aws * 0.008 + r.cpu_us_median as f64 / 1e6) * 0.125
        })
        .sum();
    let notifications = messages * 1.5;
    let lines = json!({
        "lambda": gb_seconds * price::LAMBDA_GB_SECOND_ARM + requests * price::LAMBDA_REQUEST,
        "apiGateway": requests * price::API_GATEWAY_HTTP_REQUEST,
        "dynamodb": wru * price::DYNAMODB_WRITE_UNIT + rru * price::DYNAMODB_READ_UNIT,
        "kms": kms * price::KMS_REQUEST + price::KMS_KEY_MONTH,
        "snsPublish": notifications * price::SNS_PUBLISH,
        "s3": downloads * price::S3_GET + downloads * price::S3_PUT + 2.0 * price::S3_GB_MONTH,
    });
    let total: f64 = lines.as_object().unwrap().values().filter_map(Value::as_f64).sum();
    let sms_share = 0.5;
    json!({
        "pricesAsOf": price::DATE,
        "assumptions": "10 staff, 2,000 patients, 300 messages/day (1/3 new conversations), 1,600 inbox pages/day each with a stats poll, every message's thread read once, 30 downloads/day, 2 GB stored, 128 MB arm64 functions; capacity units estimated from calls",
        "monthly": lines,
        "monthlyTotalBeforeSms": total,
        "perThousandMessages": total / messages * 1000.0,
        "sms": { "perSms": price::SMS_US, "shareOfPatientNotificationsBySms": sms_share, "monthly": messages * 0.5 * sms_share * price::SMS_US },
        "requestsPerMonth": requests,
        "estimatedWriteUnits": wru,
        "estimatedReadUnits": rru,
        "kmsRequests": kms,
    })
}

fn print_report(results: &[OpResult], baseline: i64, kms_msgs: f64, kms_pages: f64, cost: &Value) {
    println!("\nPer operation ({} requests each, warm; CPU = median of our process's CPU per request, minus a {baseline} µs HTTP baseline)", results.first().map(|r| r.requests).unwrap_or(0));
    println!("{:<34} {:>8}  {:<58} {}", "operation", "CPU µs", "AWS calls per request", "target");
    for r in results {
        let calls: Vec<String> = r.calls_per_request.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
        println!("{:<34} {:>8}  {:<58} {}", r.name, r.cpu_us_median, calls.join(", "), r.target);
    }
    println!("\nKMS calls per 1,000 messages written (warm): {kms_msgs:.1}   target < 10");
    println!("KMS calls per 1,000 inbox pages read (warm): {kms_pages:.1}   target 0");
    println!("\nMonthly cost of the reference practice (prices {}):", cost["pricesAsOf"].as_str().unwrap_or(""));
    for (k, v) in cost["monthly"].as_object().unwrap() {
        println!("  {k:<12} ${:.4}", v.as_f64().unwrap_or(0.0));
    }
    println!("  {:<12} ${:.2}   target < $5", "total", cost["monthlyTotalBeforeSms"].as_f64().unwrap_or(0.0));
    println!("  per 1,000 messages: ${:.4}", cost["perThousandMessages"].as_f64().unwrap_or(0.0));
    println!(
        "  SMS on its own line: ${:.5} per SMS; ${:.2}/month if {}% of patient notifications go by SMS",
        cost["sms"]["perSms"].as_f64().unwrap_or(0.0),
        cost["sms"]["monthly"].as_f64().unwrap_or(0.0),
        cost["sms"]["shareOfPatientNotificationsBySms"].as_f64().unwrap_or(0.0) * 100.0
    );
}
