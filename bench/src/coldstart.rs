//! Cold starts and peak memory: the benchmark's own Lambda runtime API.
//!
//! Each start gets a fresh runtime API server on a loopback port of its own (so nothing of a
//! previous process can take the next event), then the function is exec'd with the
//! environment Lambda gives it and the timer runs from just before the exec:
//! - init: until its first `GET /2018-06-01/runtime/invocation/next` arrives;
//! - first response: until the answer to the first event is posted.
//!
//! After the last event the process is idle in its next `GET /next`; its peak resident set
//! (VmHWM from /proc/<pid>/status) is read then, and it is killed.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

#[derive(Debug)]
enum Mark {
    Next(Instant),
    Done { at: Instant, ok: bool, body: String },
    InitError(String),
}

struct Api {
    queue: Mutex<VecDeque<Value>>,
    ready: Notify,
    marks: mpsc::UnboundedSender<Mark>,
    seq: std::sync::atomic::AtomicU64,
}

async fn next(State(api): State<Arc<Api>>) -> impl IntoResponse {
    let _ = api.marks.send(Mark::Next(Instant::now()));
    let event = loop {
        let ready = api.ready.notified();
        if let Some(e) = api.queue.lock().unwrap().pop_front() {
            break e;
        }
        ready.await;
    };
    let n = api.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", format!("bench-{n}").parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", deadline.to_string().parse().unwrap());
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:bench".parse().unwrap(),
    );
    headers.insert("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    (StatusCode::OK, headers, event.to_string())
}

async fn response(State(api): State<Arc<Api>>, Path(_id): Path<String>, body: String) -> StatusCode {
    let _ = api.marks.send(Mark::Done { at: Instant::now(), ok: true, body });
    StatusCode::ACCEPTED
}

async fn error(State(api): State<Arc<Api>>, Path(_id): Path<String>, body: String) -> StatusCode {
    let _ = api.marks.send(Mark::Done { at: Instant::now(), ok: false, body });
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<Arc<Api>>, body: String) -> StatusCode {
    let _ = api.marks.send(Mark::InitError(body));
    StatusCode::ACCEPTED
}

/// What to run: a program, its arguments and its environment (nothing else is inherited).
#[derive(Clone, Debug)]
pub struct Program {
    pub name: String,
    pub path: std::path::PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub log: std::path::PathBuf,
}

/// One start: times in microseconds, the answers' status codes (HTTP events) or "ok"/"error".
#[derive(Debug, Default)]
pub struct Start {
    pub init_us: u64,
    pub first_response_us: u64,
    pub outcomes: Vec<String>,
    pub vm_hwm_kb: u64,
}

/// Starts `program`, hands it `events` one after the other, and stops it.
pub async fn run_once(program: &Program, events: Vec<Value>) -> Result<Start, String> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let n = events.len();
    let api =
        Arc::new(Api { queue: Mutex::new(events.into()), ready: Notify::new(), marks: tx, seq: Default::default() });
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    api.ready.notify_waiters();

    let log = std::fs::OpenOptions::new().create(true).append(true).open(&program.log).map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(&program.path);
    cmd.args(&program.args)
        .env_clear()
        .envs(program.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &program.name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", program.name))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", program.path.display()))?;
    let pid = child.id();

    let result = async {
        let mut start = Start::default();
        let mut nexts = 0;
        let mut answered = 0;
        loop {
            let mark = tokio::time::timeout(Duration::from_secs(60), rx.recv())
                .await
                .map_err(|_| format!("{}: no progress in 60 s", program.name))?
                .ok_or("runtime API closed")?;
            match mark {
                Mark::Next(at) => {
                    nexts += 1;
                    if nexts == 1 {
                        start.init_us = (at - t0).as_micros() as u64;
                    }
                    if answered == n {
                        break;
                    }
                    api.ready.notify_waiters();
                }
                Mark::Done { at, ok, body } => {
                    answered += 1;
                    if answered == 1 {
                        start.first_response_us = (at - t0).as_micros() as u64;
                    }
                    start.outcomes.push(outcome(ok, &body));
                }
                Mark::InitError(body) => return Err(format!("{}: init error {body}", program.name)),
            }
        }
        start.vm_hwm_kb = vm_hwm_kb(pid);
        Ok(start)
    }
    .await;
    // std's process API (the workspace's tokio has no `process` feature, and adding it would
    // change the functions' build): kill and reap are immediate.
    let _ = child.kill();
    let _ = child.wait();
    server.abort();
    result
}

/// The status code of an API Gateway answer, else "ok" or "error".
fn outcome(ok: bool, body: &str) -> String {
    if !ok {
        return format!("error {}", body.chars().take(200).collect::<String>());
    }
    match serde_json::from_str::<Value>(body).ok().and_then(|v| v.get("statusCode").and_then(Value::as_u64)) {
        Some(code) => code.to_string(),
        None => "ok".into(),
    }
}

fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The results for one program: `starts` cold starts of one event each, then one start
/// that serves `rss_events` for the peak resident set.
#[derive(Debug, serde::Serialize)]
pub struct ColdStart {
    pub name: String,
    pub starts: usize,
    pub init_ms_median: f64,
    pub first_response_ms_median: f64,
    pub first_response_status: String,
    pub rss_invocations: usize,
    pub rss_outcomes: std::collections::BTreeMap<String, usize>,
    pub peak_rss_mb: f64,
}

/// One program to start: the event of each cold start, and the events of the long run that
/// measures its peak resident set.
pub struct Entry<'a> {
    pub program: Program,
    pub first: &'a dyn Fn() -> Value,
    pub rss_events: Vec<Value>,
}

/// `starts` cold starts of each program, taken in rounds (every program's first start, then
/// every program's second...), so that a slow spell of this shared machine falls on all of
/// them alike instead of on whichever program was being started then; then each program's
/// long run. A program that fails once is left out of the later rounds.
pub async fn measure_interleaved(entries: &[Entry<'_>], starts: usize) -> Vec<Result<ColdStart, String>> {
    struct Tally {
        init: Vec<u64>,
        resp: Vec<u64>,
        statuses: std::collections::BTreeMap<String, usize>,
        failed: Option<String>,
    }
    let mut tallies: Vec<Tally> = entries
        .iter()
        .map(|_| Tally { init: Vec::new(), resp: Vec::new(), statuses: Default::default(), failed: None })
        .collect();
    for _ in 0..starts {
        for (entry, tally) in entries.iter().zip(tallies.iter_mut()) {
            if tally.failed.is_some() {
                continue;
            }
            match run_once(&entry.program, vec![(entry.first)()]).await {
                Ok(s) => {
                    tally.init.push(s.init_us);
                    tally.resp.push(s.first_response_us);
                    for o in s.outcomes {
                        *tally.statuses.entry(o).or_default() += 1;
                    }
                }
                Err(e) => tally.failed = Some(e),
            }
        }
    }
    let mut out = Vec::new();
    for (entry, tally) in entries.iter().zip(tallies) {
        if let Some(e) = tally.failed {
            out.push(Err(e));
            continue;
        }
        let long = match run_once(&entry.program, entry.rss_events.clone()).await {
            Ok(long) => long,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let mut rss_outcomes = std::collections::BTreeMap::<String, usize>::new();
        for o in long.outcomes {
            *rss_outcomes.entry(o).or_default() += 1;
        }
        out.push(Ok(ColdStart {
            name: entry.program.name.clone(),
            starts,
            init_ms_median: median_ms(tally.init),
            first_response_ms_median: median_ms(tally.resp),
            first_response_status: tally
                .statuses
                .iter()
                .map(|(k, v)| format!("{k}×{v}"))
                .collect::<Vec<_>>()
                .join(", "),
            rss_invocations: entry.rss_events.len(),
            rss_outcomes,
            peak_rss_mb: long.vm_hwm_kb as f64 / 1024.0,
        }));
    }
    out
}

fn median_ms(mut v: Vec<u64>) -> f64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0) as f64 / 1000.0
}
