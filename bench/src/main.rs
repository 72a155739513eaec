//! `make bench` (issue 8): one report, every figure beside its target, raw results in
//! `bench/results.json`. A benchmark: it prints and records, it asserts nothing about time.
//!
//! - Package size of every function: the zips `cargo lambda build --release --arm64` made
//!   (bench/run.sh builds them first).
//! - Cold start and peak RSS of every function: the x86_64 release binaries against the
//!   benchmark's own Lambda runtime API ([`coldstart`]), beside a hello-world
//!   `lambda_runtime` binary of the same profile and a Python 3.11 function importing boto3.
//! - Per operation: the AWS calls by service and operation (the SDK's counting interceptor),
//!   the DynamoDB capacity units ([`capacity`]), and the CPU time of our process per request.
//! - KMS calls per 1,000 messages written and per 1,000 inbox pages read on a warm function.
//! - A load run ([`load`]): concurrent clients for a bounded time, errors and lost messages.
//! - A monthly cost model of the reference practice from the counted calls and units.
//!
//! CPU per request: getrusage of this process (the emulator is another process) around each
//! request, minus the median of the same measure for a request that does nothing
//! (`/_local/health`: HTTP client and server overhead), so what remains is the function's
//! own work: authorizer claims, event parsing, the handler, crypto and SDK (de)serialization.

mod capacity;
mod coldstart;
mod cost;
mod functions;
mod key_access;
mod load;
mod on_aws;
mod operations;
mod report;
mod scale;
mod sdk_cpu;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use carethread_core::app::{Config, Hooks};
use carethread_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cost::*;
use functions::*;
use operations::*;
use report::*;

pub(crate) fn cpu_micros() -> i64 {
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

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The local gateway in-process, as the black-box tests run it, except that its DynamoDB
/// client also carries the capacity probe, and it uses the stack's table itself.
struct Bench {
    app: Arc<TestApp>,
    probe: capacity::CapacityProbe,
    /// The partitions each operation touches (the scale model).
    accesses: key_access::KeyAccessLog,
    /// S3 requests actually sent (not presigned).
    s3_sent: capacity::SentCounter,
    /// CPU spent inside SDK calls, on every client of every function.
    sdk_cpu: sdk_cpu::SdkCpu,
    config: Config,
}

async fn spawn_bench() -> Bench {
    // The gateway's and the handlers' logs (RUST_LOG, `error` from run.sh) go to stderr.
    let _ = lambda_http::tracing::subscriber::fmt()
        .with_env_filter(lambda_http::tracing::subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("run through `make bench`: AWS_ENDPOINT_URL is not set");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "the benchmark talks only to 127.0.0.1");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = Config::from_env().expect("config from env");
    let probe = capacity::CapacityProbe::default();
    let accesses = key_access::KeyAccessLog::default();
    let s3_sent = capacity::SentCounter::default();
    let sdk_cpu = sdk_cpu::SdkCpu::default();
    let timed = || SharedInterceptor::new(sdk_cpu.clone());
    // Every function's app, each with the capacity probe on its DynamoDB client and the
    // sent-request counter on its S3 client.
    let hooks = Hooks {
        dynamodb: vec![
            SharedInterceptor::new(capacity::Gated(probe.clone())),
            SharedInterceptor::new(capacity::Gated(accesses.clone())),
            timed(),
        ],
        s3: vec![SharedInterceptor::new(s3_sent.clone()), timed()],
        kms: vec![timed()],
        sns: vec![timed()],
        cognito: vec![timed()],
        ..Hooks::default()
    };
    let functions = local_gateway::Functions::new(&sdk, &config, &hooks).await;
    let authorizer = local_gateway::Authorizer::from_env().expect("USER_POOL_ID and USER_POOL_CLIENT_ID");
    let gateway = local_gateway::Gateway::new(functions, authorizer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = gateway.clone();
    tokio::spawn(async move {
        let _ = local_gateway::serve(listener, served).await;
    });
    let pump = local_gateway::stream::StreamPump::for_table(&sdk, &config.table_name).await.expect("stream pump");
    let app = TestApp {
        pump: Some(pump),
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        pool_id: std::env::var("USER_POOL_ID").expect("USER_POOL_ID"),
        client_id: std::env::var("USER_POOL_CLIENT_ID").expect("USER_POOL_CLIENT_ID"),
        topic_arn: config.topic_arn.clone(),
        endpoint,
        base,
        http: reqwest::Client::new(),
        gateway,
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        s3: aws_sdk_s3::Client::new(&sdk),
        table: config.table_name.clone(),
        bucket: config.bucket_name.clone(),
    };
    Bench { app: Arc::new(app), probe, accesses, s3_sent, sdk_cpu, config }
}

// Single-threaded, as the functions' own runtime is (see functions/*/src/main.rs).
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = env_usize("BENCH_REQUESTS", 100);
    let bench = spawn_bench().await;
    // `make scale-model`: the key accesses alone.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("scale") {
        scale::record_all(&bench).await;
        return;
    }
    let app = bench.app.clone();
    let p = app.demo_practice().await;
    let doc = p.doctor.clone();

    // Baseline: a request that reaches no function.
    let mut idle = Vec::new();
    for _ in 0..n.max(100) {
        let start = cpu_micros();
        app.http.get(format!("{}/_local/health", app.base)).send().await.unwrap();
        idle.push(cpu_micros() - start);
    }
    let baseline = median(idle);

    // A conversation of 2 (the doctor and Jane) with 20 messages, and a team one of 20.
    let two = app
        .post(
            &doc.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Bench", "body": "First" }),
        )
        .await;
    let two = two.body["conversation"]["id"].as_str().unwrap().to_string();
    for i in 0..19 {
        app.post(&doc.token, &format!("/conversations/{two}/messages"), json!({ "body": format!("Message {i}") }))
            .await;
    }
    let mut team = Vec::new();
    for i in 0..19 {
        let s = app.add_staff(&p.id, &p.admin, &format!("Member{i}"), "nurse", json!({})).await;
        team.push(json!({ "type": "staff", "id": s.id }));
    }
    let twenty = app
        .post(
            &doc.token,
            "/conversations",
            json!({ "kind": "team", "recipients": team, "subject": "Team of 20", "body": "Hello all" }),
        )
        .await;
    let twenty = twenty.body["conversation"]["id"].as_str().unwrap().to_string();
    let thread = format!("/conversations/{two}");
    // Replies go to a conversation of their own, so the thread read keeps its 20 messages.
    let replies = app
        .post(
            &doc.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Replies", "body": "First" }),
        )
        .await;
    let replies = replies.body["conversation"]["id"].as_str().unwrap().to_string();

    let get = |name: &'static str, function: &'static str, path: &str, target: &'static str| Op {
        name,
        function,
        method: "GET",
        path: path.to_string(),
        body: None,
        user: doc.clone(),
        target,
    };
    let inbox_target = "1 Query + ≤1 BatchGetItem";
    let ops = vec![
        Op {
            name: "compose",
            function: "compose",
            method: "POST",
            path: "/conversations".into(),
            body: Some(
                json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Hello", "body": "A new message" }),
            ),
            user: doc.clone(),
            target: "1 TransactWriteItems",
        },
        Op {
            name: "reply (2 participants)",
            function: "reply",
            method: "POST",
            path: format!("/conversations/{replies}/messages"),
            body: Some(json!({ "body": "A reply" })),
            user: doc.clone(),
            target: "1 TransactWriteItems",
        },
        Op {
            name: "reply (20 participants)",
            function: "reply",
            method: "POST",
            path: format!("/conversations/{twenty}/messages"),
            body: Some(json!({ "body": "A reply to the team" })),
            user: doc.clone(),
            target: "1 TransactWriteItems",
        },
        get("list-inbox: all", "list-inbox", "/inbox", inbox_target),
        get("list-inbox: patient", "list-inbox", "/inbox?tab=patient", inbox_target),
        get("list-inbox: team", "list-inbox", "/inbox?tab=team", inbox_target),
        get("list-inbox: broadcasts", "list-inbox", "/inbox?tab=broadcasts", inbox_target),
        get("list-inbox: starred", "list-inbox", "/inbox?tab=starred", inbox_target),
        get("list-inbox: archived", "list-inbox", "/inbox?tab=archived", inbox_target),
        get("list-inbox: search", "list-inbox", "/inbox?q=bench", inbox_target),
        get("stats", "list-inbox", "/inbox/stats", "-"),
        get("get-conversation (20 messages)", "get-conversation", &thread, "-"),
        Op {
            name: "assign",
            function: "assign",
            method: "POST",
            path: format!("{thread}/assign"),
            body: Some(json!({ "assignees": [{ "type": "staff", "id": p.nurse.id }] })),
            user: doc.clone(),
            target: "-",
        },
        Op {
            name: "attachment presign",
            function: "attachment-presign",
            method: "POST",
            path: "/attachments".into(),
            body: Some(json!({ "fileName": "scan.pdf", "contentType": "application/pdf", "size": 48213 })),
            user: doc.clone(),
            target: "0 S3 calls",
        },
        Op { user: p.front_desk.clone(), ..get("directory lookup", "directory", "/patients?q=ja", "-") },
    ];
    // `BENCH_PROFILE_OPS=compose,list-inbox: all`: only these operations, printed, nothing
    // written (for a profiler run over the requests alone, README "Performance and cost").
    if let Ok(only) = std::env::var("BENCH_PROFILE_OPS") {
        for op in ops.iter().filter(|op| only.split(',').any(|o| op.name.starts_with(o.trim()))) {
            let r = measure(&bench, op, n, baseline).await;
            println!(
                "{}: median {} µs of CPU, {} µs in SDK calls, calls {:?}",
                r.name, r.cpu_us_median, r.sdk_cpu_us_median, r.calls_per_request
            );
        }
        return;
    }
    let mut results = Vec::new();
    for op in &ops {
        eprintln!("measuring {} ({n} requests)", op.name);
        results.push(measure(&bench, op, n, baseline).await);
    }

    // KMS per 1,000 messages written and per 1,000 inbox pages read, warm.
    let kms =
        |r: &OpResult| r.calls_per_request.iter().filter(|(k, _)| k.starts_with("KMS.")).map(|(_, v)| v).sum::<f64>();
    let writes: Vec<&OpResult> =
        results.iter().filter(|r| r.name.starts_with("compose") || r.name.starts_with("reply")).collect();
    let kms_per_1000_messages = writes.iter().map(|r| kms(r)).sum::<f64>() / writes.len() as f64 * 1000.0;
    let pages: Vec<&OpResult> = results.iter().filter(|r| r.name.starts_with("list-inbox")).collect();
    let kms_per_1000_pages = pages.iter().map(|r| kms(r)).sum::<f64>() / pages.len() as f64 * 1000.0;

    let packages = packages();

    // Cold starts: the first request of each function is one of the operations above (or,
    // for the functions the table does not cover, a cheap request of their own).
    let cold = if env_usize("BENCH_COLDSTART", 1) == 1 {
        let events = FunctionEvents { p: &p, two: &two, replies: &replies, ops: &ops };
        Some(cold_starts(&bench, &events).await)
    } else {
        None
    };

    let load = if env_usize("BENCH_LOAD_SECONDS", 60) > 0 {
        let clients = env_usize("BENCH_LOAD_CLIENTS", 50);
        let seconds = env_usize("BENCH_LOAD_SECONDS", 60);
        eprintln!("load run: {clients} clients for {seconds} s");
        Some(load::run(app.clone(), clients, std::time::Duration::from_secs(seconds as u64), baseline).await)
    } else {
        None
    };

    let cost = cost_model(&results);
    let report = Report {
        results: &results,
        baseline,
        kms_msgs: kms_per_1000_messages,
        kms_pages: kms_per_1000_pages,
        cost: &cost,
        packages: &packages,
        cold: cold.as_ref(),
        load: load.as_ref(),
    };
    report.print();
    let on_aws = on_aws::report(&bench, &results, n, cold.as_ref()).await;
    let out = json!({
        "measuredAt": jiff::Timestamp::now().to_string(),
        "machine": machine(),
        "requestsPerOperation": n,
        "cpuBaselineMicros": baseline,
        "operations": results,
        "kmsPer1000Messages": kms_per_1000_messages,
        "kmsPer1000InboxPages": kms_per_1000_pages,
        "packages": packages,
        "buildSeconds": {
            "arm64Packages": std::env::var("BENCH_ARM_BUILD_SECONDS").ok().and_then(|v| v.parse::<u64>().ok()),
            "x86_64Binaries": std::env::var("BENCH_X86_BUILD_SECONDS").ok().and_then(|v| v.parse::<u64>().ok()),
        },
        "coldStarts": cold,
        "load": load,
        "costModel": cost,
        "onAws": on_aws,
    });
    std::fs::write("bench/results.json", serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
    println!("\nwrote bench/results.json");
    scale::record_all(&bench).await;
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
