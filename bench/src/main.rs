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
mod key_access;
mod load;
mod on_aws;
mod scale;
mod sdk_cpu;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use carethread_core::app::{Config, Hooks};
use carethread_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

struct Op {
    name: &'static str,
    function: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    user: User,
    target: &'static str,
}

#[derive(serde::Serialize)]
struct OpResult {
    name: &'static str,
    requests: usize,
    calls_per_request: BTreeMap<String, f64>,
    /// S3 requests that went out (the call counter also counts presigned operations).
    s3_requests_sent_per_request: f64,
    cpu_us_median: i64,
    cpu_us_p90: i64,
    /// Of it, inside SDK calls (`sdk_cpu`): median per request.
    sdk_cpu_us_median: i64,
    read_units_per_request: f64,
    write_units_per_request: f64,
    target: &'static str,
}

/// Requests whose capacity units are measured (each updated item is read back afterwards,
/// so this pass is separate from the timed one).
const CAPACITY_REQUESTS: usize = 5;

async fn measure(bench: &Bench, op: &Op, n: usize, baseline: i64) -> OpResult {
    let app = &bench.app;
    let token = op.user.token.as_str();
    for _ in 0..3 {
        app.send(op.method, &op.path, Some(token), op.body.as_ref(), &[]).await;
    }
    let before = app.app().calls.snapshot();
    let s3_before = bench.s3_sent.0.load(std::sync::atomic::Ordering::Relaxed);
    let mut cpu = Vec::with_capacity(n);
    let mut in_sdk = Vec::with_capacity(n);
    for _ in 0..n {
        let (start, sdk_start) = (cpu_micros(), bench.sdk_cpu.total_us());
        let res = app.send(op.method, &op.path, Some(token), op.body.as_ref(), &[]).await;
        cpu.push(cpu_micros() - start - baseline);
        in_sdk.push(bench.sdk_cpu.total_us() - sdk_start);
        assert!(res.status.is_success(), "{}: {} {}", op.name, res.status, res.body);
    }
    let calls = app.app().calls.since(&before).into_iter().map(|(k, v)| (k, v as f64 / n as f64)).collect();
    let s3_sent = (bench.s3_sent.0.load(std::sync::atomic::Ordering::Relaxed) - s3_before) as f64 / n as f64;
    let (mut rru, mut wru) = (0.0, 0.0);
    bench.probe.settle(&app.dynamodb).await;
    for _ in 0..CAPACITY_REQUESTS {
        bench.probe.enable(true);
        let res = app.send(op.method, &op.path, Some(token), op.body.as_ref(), &[]).await;
        bench.probe.enable(false);
        assert!(res.status.is_success(), "{}: {} {}", op.name, res.status, res.body);
        let (r, w) = bench.probe.settle(&app.dynamodb).await;
        rru += r;
        wru += w;
    }
    cpu.sort_unstable();
    OpResult {
        name: op.name,
        requests: n,
        calls_per_request: calls,
        s3_requests_sent_per_request: s3_sent,
        cpu_us_median: median(cpu.clone()).max(0),
        cpu_us_p90: cpu.get(n * 9 / 10).copied().unwrap_or(0).max(0),
        sdk_cpu_us_median: median(in_sdk),
        read_units_per_request: rru / CAPACITY_REQUESTS as f64,
        write_units_per_request: wru / CAPACITY_REQUESTS as f64,
        target: op.target,
    }
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

/// Every function crate: functions/<name>, whose binary is <name>.
fn function_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("functions")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[derive(serde::Serialize)]
struct Package {
    function: String,
    zip_bytes: u64,
    binary_bytes: u64,
}

/// The zips of `cargo lambda build --release --arm64 --output-format zip` (target/lambda).
fn packages() -> Vec<Package> {
    let dir = PathBuf::from(std::env::var("BENCH_LAMBDA_DIR").unwrap_or_else(|_| "target/lambda".into()));
    function_names()
        .into_iter()
        .filter_map(|f| {
            let zip = std::fs::metadata(dir.join(&f).join("bootstrap.zip")).ok()?;
            Some(Package {
                binary_bytes: zip_entry_size(&dir.join(&f).join("bootstrap.zip")),
                zip_bytes: zip.len(),
                function: f,
            })
        })
        .collect()
}

/// The uncompressed size of the zip's single entry, from its central directory.
fn zip_entry_size(path: &Path) -> u64 {
    let Ok(bytes) = std::fs::read(path) else { return 0 };
    // End of central directory record: signature 0x06054b50, offset of the directory at +16.
    let Some(eocd) = (0..bytes.len().saturating_sub(21)).rev().find(|&i| bytes[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
    else {
        return 0;
    };
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as u64;
    let cd = u32_at(eocd + 16) as usize;
    // Central directory file header: uncompressed size at +24.
    if bytes.get(cd..cd + 4) != Some(&[0x50, 0x4b, 0x01, 0x02]) {
        return 0;
    }
    u32_at(cd + 24)
}

struct FunctionEvents<'a> {
    p: &'a DemoPractice,
    two: &'a str,
    replies: &'a str,
    ops: &'a [Op],
}

/// The payload-2.0 event API Gateway sends (the JWT authorizer's claims included), built by
/// the local gateway's own builder.
fn api_event(practice: &str, user: &User, method: &str, path_and_query: &str, body: Option<&Value>) -> Value {
    let uri: axum::http::Uri = path_and_query.parse().expect("a request path");
    let (route, params) = carethread_core::routes::find(method, uri.path()).expect("a route of the table");
    // The claims of the user's own ID token, as the authorizer passes them on.
    let claims: local_gateway::Claims = match carethread_tests::claims_of(&user.token) {
        Value::Object(map) => map,
        _ => unreachable!("a token's claims are an object"),
    };
    let _ = practice;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("content-type", axum::http::HeaderValue::from_static("application/json"));
    headers.insert("user-agent", axum::http::HeaderValue::from_static("carethread-bench"));
    let method: axum::http::Method = method.parse().expect("an HTTP method");
    let body = body.map(|b| axum::body::Bytes::from(b.to_string())).unwrap_or_default();
    local_gateway::api_gateway_event(route, &params, &method, &uri, &headers, &body, &claims)
}

impl FunctionEvents<'_> {
    /// The event a function is started with: an operation of the table where it has one,
    /// else a cheap request of its own; an empty batch for the stream and SNS consumers; the
    /// sample schedule event (events/) for the scheduled ones.
    fn event(&self, function: &str) -> Value {
        let p = self.p;
        if let Some(op) = self.ops.iter().find(|o| o.function == function) {
            return api_event(&p.id, &op.user, op.method, &op.path, op.body.as_ref());
        }
        let two = self.two;
        let _ = self.replies;
        match function {
            "conversation-state" => api_event(
                &p.id,
                &p.doctor,
                "PUT",
                &format!("/conversations/{two}/state"),
                Some(&json!({ "starred": true })),
            ),
            "drafts" => api_event(&p.id, &p.doctor, "GET", "/drafts", None),
            "settings" => api_event(&p.id, &p.doctor, "GET", "/me/notifications", None),
            "tasks" => api_event(&p.id, &p.doctor, "GET", "/tasks", None),
            "saved-replies" => api_event(&p.id, &p.doctor, "GET", "/saved-replies", None),
            "broadcasts" => api_event(
                &p.id,
                &p.manager,
                "POST",
                "/broadcasts",
                Some(
                    &json!({ "patientIds": [p.jane.id], "subject": "Clinic hours", "body": "We open at 9 tomorrow." }),
                ),
            ),
            "reports" => api_event(&p.id, &p.admin, "GET", "/reports/billing?from=2026-01-01&to=2026-12-31", None),
            // A conversation that does not exist: a 404 after its lookup.
            "delete" => api_event(&p.id, &p.admin, "DELETE", "/conversations/cnv_00000000000000000000000000", None),
            "notifier" | "audit-chain" | "sms-inbound" => json!({ "Records": [] }),
            other => std::fs::read_to_string(format!("events/{other}.json"))
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_else(|| json!({})),
        }
    }
}

#[derive(serde::Serialize)]
struct ColdStarts {
    starts: usize,
    hello_rust: Option<coldstart::ColdStart>,
    hello_python: Option<coldstart::ColdStart>,
    functions: Vec<coldstart::ColdStart>,
    /// The same functions and hello world built with `AWS_LC_SYS_NO_JITTER_ENTROPY=1`
    /// (BENCH_NOJITTER_BIN_DIR), when run.sh built them.
    no_jitter: Vec<coldstart::ColdStart>,
    failures: Vec<String>,
}

async fn cold_starts(bench: &Bench, events: &FunctionEvents<'_>) -> ColdStarts {
    let starts = env_usize("BENCH_COLD_STARTS", 20);
    let rss_invocations = env_usize("BENCH_RSS_INVOCATIONS", 20);
    let bin_dir = PathBuf::from(std::env::var("BENCH_BIN_DIR").unwrap_or_else(|_| "target/release".into()));
    let log_dir = PathBuf::from(".local/bench/coldstart");
    let _ = std::fs::create_dir_all(&log_dir);
    let c = &bench.config;
    let mut env: Vec<(String, String)> = vec![
        ("TABLE_NAME".into(), c.table_name.clone()),
        ("BUCKET_NAME".into(), c.bucket_name.clone()),
        ("KMS_KEY_ID".into(), c.kms_key_id.clone()),
        ("TOPIC_ARN".into(), c.topic_arn.clone()),
        ("RUST_LOG".into(), "info".into()),
    ];
    // What Lambda puts in every function's environment, and the local stack's endpoint.
    for k in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.into(), v));
        }
    }
    env.push(("AWS_DEFAULT_REGION".into(), std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())));
    env.push(("LANG".into(), "en_US.UTF-8".into()));
    env.push(("TZ".into(), ":UTC".into()));
    let program = |name: &str, path: PathBuf, args: Vec<String>| coldstart::Program {
        name: name.to_string(),
        path,
        args,
        env: env.clone(),
        log: log_dir.join(format!("{name}.log")),
    };
    let mut out = ColdStarts {
        starts,
        hello_rust: None,
        hello_python: None,
        functions: Vec::new(),
        no_jitter: Vec::new(),
        failures: Vec::new(),
    };
    let hello_event = || json!({ "hello": "world" });
    let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| ".venv/bin/python".into());
    // The hello worlds first, then every function, in rounds (`measure_interleaved`).
    let mut entries = vec![
        coldstart::Entry {
            program: program("bench-hello", bin_dir.join("bench-hello"), vec![]),
            first: &hello_event,
            rss_events: vec![hello_event(); rss_invocations],
        },
        coldstart::Entry {
            program: program("python-boto3", PathBuf::from(python), vec!["bench/python_hello.py".into()]),
            first: &hello_event,
            rss_events: vec![hello_event(); rss_invocations],
        },
    ];
    let firsts: Vec<(String, Box<dyn Fn() -> Value + '_>)> = function_names()
        .into_iter()
        .map(|f| {
            let name = f.clone();
            (f, Box::new(move || events.event(&name)) as Box<dyn Fn() -> Value + '_>)
        })
        .collect();
    for (f, first) in &firsts {
        let path = bin_dir.join(f);
        if !path.exists() {
            out.failures.push(format!("{f}: no binary at {}", path.display()));
            continue;
        }
        let rss_events: Vec<Value> = (0..rss_invocations).map(|_| events.event(f)).collect();
        entries.push(coldstart::Entry { program: program(f, path, vec![]), first: first.as_ref(), rss_events });
    }
    eprintln!("cold starts: {} programs, {starts} rounds", entries.len());
    for (i, result) in coldstart::measure_interleaved(&entries, starts).await.into_iter().enumerate() {
        match (i, result) {
            (0, Ok(r)) => out.hello_rust = Some(r),
            (1, Ok(r)) => out.hello_python = Some(r),
            (_, Ok(r)) => out.functions.push(r),
            (_, Err(e)) => out.failures.push(e),
        }
    }
    if let Ok(dir) = std::env::var("BENCH_NOJITTER_BIN_DIR") {
        let dir = PathBuf::from(dir);
        for f in ["bench-hello", "compose", "list-inbox"] {
            let path = dir.join(f);
            if !path.exists() {
                continue;
            }
            eprintln!("cold starts: {f} (no jitter entropy)");
            let prog = program(&format!("{f} (no jitter entropy)"), path, vec![]);
            let first = || if f == "bench-hello" { hello_event() } else { events.event(f) };
            let entry = coldstart::Entry { program: prog, first: &first, rss_events: vec![first(); 5] };
            match coldstart::measure_interleaved(&[entry], starts).await.pop() {
                Some(Ok(r)) => out.no_jitter.push(r),
                Some(Err(e)) => out.failures.push(e),
                None => {}
            }
        }
    }
    out
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
    // Capacity units as measured per operation (see capacity.rs).
    let wru: f64 = ops.iter().map(|(r, n)| n * r.write_units_per_request).sum();
    let rru: f64 = ops.iter().map(|(r, n)| n * r.read_units_per_request).sum();
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
        "assumptions": "10 staff, 2,000 patients, 300 messages/day (1/3 new conversations), 1,600 inbox pages/day each with a stats poll, every message's thread read once, 30 downloads/day, 2 GB stored, 128 MB arm64 functions; capacity units as measured per operation",
        "monthly": lines,
        "monthlyTotalBeforeSms": total,
        "perThousandMessages": total / messages * 1000.0,
        "sms": { "perSms": price::SMS_US, "shareOfPatientNotificationsBySms": sms_share, "monthly": messages * 0.5 * sms_share * price::SMS_US },
        "requestsPerMonth": requests,
        "writeUnits": wru,
        "readUnits": rru,
        "kmsRequests": kms,
    })
}

struct Report<'a> {
    results: &'a [OpResult],
    baseline: i64,
    kms_msgs: f64,
    kms_pages: f64,
    cost: &'a Value,
    packages: &'a [Package],
    cold: Option<&'a ColdStarts>,
    load: Option<&'a load::LoadResult>,
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

impl Report<'_> {
    fn print(&self) {
        self.print_packages();
        self.print_cold();
        self.print_ops();
        self.print_load();
        self.print_cost();
    }

    fn print_packages(&self) {
        println!("\nPackage size (cargo lambda build --release --arm64, zipped)   target < 5 MB each");
        if self.packages.is_empty() {
            println!("  not measured: no target/lambda/*/bootstrap.zip (bench/run.sh builds them)");
            return;
        }
        println!("  {:<22} {:>9} {:>11}", "function", "zip MB", "binary MB");
        for p in self.packages {
            let mb = p.zip_bytes as f64 / 1e6;
            println!(
                "  {:<22} {:>9.2} {:>11.2}  {}",
                p.function,
                mb,
                p.binary_bytes as f64 / 1e6,
                mark(p.zip_bytes < 5_000_000)
            );
        }
        let max = self.packages.iter().map(|p| p.zip_bytes).max().unwrap_or(0) as f64 / 1e6;
        println!("  largest: {max:.2} MB   target < 5 MB   {}", mark(max < 5.0));
        if let Ok(s) = std::env::var("BENCH_ARM_BUILD_SECONDS") {
            println!(
                "  build time: arm64 packages {s} s, x86_64 binaries {} s (this run; 0 = up to date)",
                std::env::var("BENCH_X86_BUILD_SECONDS").unwrap_or_default()
            );
        }
    }

    fn print_cold(&self) {
        let Some(c) = self.cold else {
            println!("\nCold starts: not measured (BENCH_COLDSTART=0)");
            return;
        };
        let hello = c.hello_rust.as_ref().map(|h| h.init_ms_median).unwrap_or(0.0);
        println!(
            "\nCold start (x86_64 release binaries, local runtime API, median of {} starts; init = exec → first GET /next)",
            c.starts
        );
        println!("  target: init within 1.5× of hello-world Rust; peak RSS < 48 MB");
        println!(
            "  {:<32} {:>8} {:>8} {:>12} {:<16} {:>8}  targets",
            "function", "init ms", "× hello", "1st resp ms", "1st status", "RSS MB"
        );
        let row = |r: &coldstart::ColdStart, judge: bool| {
            let ratio = if hello > 0.0 { r.init_ms_median / hello } else { 0.0 };
            let verdict = if judge {
                format!("init {}, RSS {}", mark(ratio <= 1.5), mark(r.peak_rss_mb < 48.0))
            } else {
                String::new()
            };
            println!(
                "  {:<32} {:>8.2} {:>8.2} {:>12.2} {:<16} {:>8.1}  {}",
                r.name,
                r.init_ms_median,
                ratio,
                r.first_response_ms_median,
                r.first_response_status,
                r.peak_rss_mb,
                verdict
            );
        };
        if let Some(h) = &c.hello_rust {
            row(h, false);
        }
        if let Some(h) = &c.hello_python {
            row(h, false);
        }
        for f in &c.functions {
            row(f, true);
        }
        if !c.no_jitter.is_empty() {
            println!("  built with AWS_LC_SYS_NO_JITTER_ENTROPY=1:");
            for f in &c.no_jitter {
                row(f, false);
            }
        }
        if let Some(worst) = c.functions.iter().map(|f| f.init_ms_median).reduce(f64::max) {
            let rss = c.functions.iter().map(|f| f.peak_rss_mb).reduce(f64::max).unwrap_or(0.0);
            println!(
                "  slowest init {:.2} ms = {:.2}× hello world   target ≤ 1.5×   {}",
                worst,
                worst / hello.max(f64::EPSILON),
                mark(worst / hello.max(f64::EPSILON) <= 1.5)
            );
            println!(
                "  largest peak RSS {rss:.1} MB ({} invocations)   target < 48 MB   {}",
                c.functions.first().map(|f| f.rss_invocations).unwrap_or(0),
                mark(rss < 48.0)
            );
            if let (Some(py), true) = (&c.hello_python, hello > 0.0) {
                println!(
                    "  Python 3.11 + boto3 init {:.2} ms = {:.1}× hello-world Rust",
                    py.init_ms_median,
                    py.init_ms_median / hello
                );
            }
        }
        for f in &c.failures {
            println!("  FAILED: {f}");
        }
    }

    fn print_ops(&self) {
        let results = self.results;
        let baseline = self.baseline;
        println!(
            "\nPer operation ({} requests each, warm; CPU = median of our process's CPU per request minus a {baseline} µs HTTP baseline)",
            results.first().map(|r| r.requests).unwrap_or(0)
        );
        println!("  CPU target < 1,000 µs; RRU/WRU = DynamoDB read/write capacity units per request (computed from the items)");
        println!(
            "  {:<31} {:>7} {:>7} {:<6} {:>5} {:>6}  {:<64} calls target",
            "operation", "CPU µs", "p90 µs", "CPU", "RRU", "WRU", "AWS calls per request"
        );
        for r in results {
            let calls: Vec<String> = r
                .calls_per_request
                .iter()
                .map(|(k, v)| format!("{} {}", k.replace("DynamoDB.", ""), trim_num(*v)))
                .collect();
            println!(
                "  {:<31} {:>7} {:>7} {:<6} {:>5.1} {:>6.1}  {:<64} {}",
                r.name,
                r.cpu_us_median,
                r.cpu_us_p90,
                mark(r.cpu_us_median < 1000),
                r.read_units_per_request,
                r.write_units_per_request,
                calls.join(", "),
                calls_verdict(r)
            );
        }
        let worst = results.iter().map(|r| r.cpu_us_median).max().unwrap_or(0);
        println!("  slowest median CPU {worst} µs   target < 1,000 µs   {}", mark(worst < 1000));
        println!(
            "\n  KMS calls per 1,000 messages written (warm): {:.1}   target < 10   {}",
            self.kms_msgs.abs(),
            mark(self.kms_msgs < 10.0)
        );
        println!(
            "  KMS calls per 1,000 inbox pages read (warm): {:.1}   target 0   {}",
            self.kms_pages.abs(),
            mark(self.kms_pages == 0.0)
        );
    }

    fn print_load(&self) {
        let Some(l) = self.load else {
            println!("\nLoad run: not run (BENCH_LOAD_SECONDS=0)");
            return;
        };
        println!("\nLoad run ({} clients, {:.0} s, loopback)", l.clients, l.seconds);
        let ops: Vec<String> = l.by_operation.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  requests: {} ({:.1}/s; {})", l.requests, l.requests_per_second, ops.join(", "));
        println!(
            "  latency p50 {:.0} ms, p99 {:.0} ms (moto, serialized, is the bottleneck)",
            l.latency_ms_p50, l.latency_ms_p99
        );
        println!(
            "  errors: {}   target 0   {} {:?} ({} answers of 503 \"retry later\" were retried)",
            l.errors,
            mark(l.errors == 0),
            l.error_statuses,
            l.retried_503
        );
        for (kind, body) in &l.error_examples {
            println!("    first {kind}: {}", body.chars().take(300).collect::<String>());
        }
        println!(
            "  messages lost: {} of {} answered 201   target 0   {}",
            l.messages_lost,
            l.messages_created,
            mark(l.messages_lost == 0)
        );
        println!(
            "  our process's CPU per request: {:.2} ms ({:.2} ms net of the HTTP baseline; includes the load clients)",
            l.cpu_ms_per_request, l.cpu_ms_per_request_net
        );
    }

    fn print_cost(&self) {
        let cost = self.cost;
        println!("\nMonthly cost of the reference practice (prices {}):", cost["pricesAsOf"].as_str().unwrap_or(""));
        for (k, v) in cost["monthly"].as_object().unwrap() {
            println!("  {k:<12} ${:.4}", v.as_f64().unwrap_or(0.0));
        }
        let total = cost["monthlyTotalBeforeSms"].as_f64().unwrap_or(0.0);
        println!("  {:<12} ${:.2}   target < $5   {}", "total", total, mark(total < 5.0));
        println!("  per 1,000 messages: ${:.4}", cost["perThousandMessages"].as_f64().unwrap_or(0.0));
        println!(
            "  DynamoDB: {:.0} write units and {:.0} read units a month (measured per operation)",
            cost["writeUnits"].as_f64().unwrap_or(0.0),
            cost["readUnits"].as_f64().unwrap_or(0.0)
        );
        println!(
            "  SMS on its own line: ${:.5} per SMS; ${:.2}/month if {}% of patient notifications go by SMS",
            cost["sms"]["perSms"].as_f64().unwrap_or(0.0),
            cost["sms"]["monthly"].as_f64().unwrap_or(0.0),
            cost["sms"]["shareOfPatientNotificationsBySms"].as_f64().unwrap_or(0.0) * 100.0
        );
    }
}

/// The call-count target of an operation, judged on the calls it names.
fn calls_verdict(r: &OpResult) -> String {
    let c = |k: &str| r.calls_per_request.get(k).copied().unwrap_or(0.0);
    let verdict = match r.target {
        "1 TransactWriteItems" => c("DynamoDB.TransactWriteItems") == 1.0,
        "1 Query + ≤1 BatchGetItem" => c("DynamoDB.Query") == 1.0 && c("DynamoDB.BatchGetItem") <= 1.0,
        "0 S3 calls" => {
            return format!(
                "0 S3 calls: {} sent {}",
                trim_num(r.s3_requests_sent_per_request),
                mark(r.s3_requests_sent_per_request == 0.0)
            )
        }
        _ => return "-".into(),
    };
    format!("{} {}", r.target, mark(verdict))
}

fn trim_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
    }
}
