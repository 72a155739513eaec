//! From what the benchmark measures here to what a practice would see on AWS (issue 18):
//! - where each operation's CPU goes: our code, the SDK's per-call machinery, the HTTP client;
//! - each function's expected median duration and cost per million requests at the memory
//!   sizes a practice would consider, and the size template.yaml gives it;
//! - an end-to-end estimate per operation (API Gateway, Lambda warm and cold, the AWS calls)
//!   beside the anchors a user compares with.
//!
//! The split is measured per request: the CPU spent inside the operation's SDK calls
//! (`sdk_cpu`, an interceptor on every client) against the rest, which is ours. Within the
//! calls, the HTTP client's share is estimated from one bare HTTP request on a kept-alive
//! connection (measured here beside one small SDK call, a GetItem of a missing key), charged
//! once per call.

use crate::{cpu_micros, median, OpResult};
use serde::Serialize;
use serde_json::{json, Value};

/// Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU ("Configure
/// Lambda function memory", AWS Lambda Developer Guide, read 2026-11-30).
const FULL_VCPU_MB: f64 = 1769.0;
pub const SIZES_MB: [f64; 5] = [128.0, 256.0, 512.0, 1024.0, 1769.0];

/// Service latencies of one call, in-region, median. DynamoDB publishes "single-digit
/// millisecond" (aws.amazon.com/dynamodb, read 2026-11-30): 5 ms for a read or a batch, 10 ms
/// for a transaction (two phases). KMS and API Gateway publish no figure: the values are
/// assumptions, marked as such in the report.
pub mod latency {
    pub const SOURCE: &str = "DynamoDB: 'single-digit millisecond' (aws.amazon.com/dynamodb, read 2026-11-30), \
5 ms a call, 10 ms a transaction; KMS 8 ms and API Gateway HTTP API 10 ms: assumptions (not published); \
Lambda warm invoke 1 ms: assumption";
    pub const DYNAMODB_MS: f64 = 5.0;
    pub const DYNAMODB_TRANSACTION_MS: f64 = 10.0;
    pub const KMS_MS: f64 = 8.0;
    pub const S3_MS: f64 = 20.0;
    pub const SNS_MS: f64 = 15.0;
    pub const API_GATEWAY_MS: f64 = 10.0;
    pub const LAMBDA_INVOKE_MS: f64 = 1.0;
}

/// The CPU of one AWS call, measured in this run.
#[derive(Serialize, Clone, Copy, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PerCall {
    /// A whole SDK call (the SDK's machinery and its HTTP client).
    pub sdk_call_us: i64,
    /// A bare HTTP request of the same size on a kept-alive connection (reqwest on hyper, as
    /// the SDK's client is hyper): the HTTP client's part of an SDK call.
    pub http_request_us: i64,
    /// One boto3 call (bench/python_per_call.py): the Python peer's price of a call.
    pub boto3_call_us: Option<i64>,
}

pub async fn per_call(dynamodb: &aws_sdk_dynamodb::Client, table: &str, n: usize) -> PerCall {
    use aws_sdk_dynamodb::types::AttributeValue;
    let get = || {
        dynamodb
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S("BENCH#rust".into()))
            .key("sk", AttributeValue::S("none".into()))
            .send()
    };
    for _ in 0..10 {
        get().await.expect("GetItem");
    }
    let mut sdk = Vec::with_capacity(n);
    for _ in 0..n {
        let start = cpu_micros();
        get().await.expect("GetItem");
        sdk.push(cpu_micros() - start);
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("the bench's stack");
    let http = reqwest::Client::new();
    let body = json!({ "TableName": table, "Key": { "pk": { "S": "BENCH#rust" }, "sk": { "S": "none" } } }).to_string();
    let post = || {
        http.post(&endpoint)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDB_20120810.GetItem")
            .body(body.clone())
            .send()
    };
    for _ in 0..10 {
        post().await.expect("POST").bytes().await.expect("body");
    }
    let mut bare = Vec::with_capacity(n);
    for _ in 0..n {
        let start = cpu_micros();
        post().await.expect("POST").bytes().await.expect("body");
        bare.push(cpu_micros() - start);
    }
    PerCall { sdk_call_us: median(sdk), http_request_us: median(bare), boto3_call_us: boto3_per_call(n) }
}

fn boto3_per_call(n: usize) -> Option<i64> {
    let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| ".venv/bin/python".into());
    let out = std::process::Command::new(python).args(["bench/python_per_call.py", &n.to_string()]).output().ok()?;
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    v["cpuMicrosPerCall"].as_i64()
}

/// AWS calls an operation sends (a presigned S3 operation sends nothing).
fn calls_sent(r: &OpResult) -> f64 {
    r.calls_per_request.iter().filter(|(k, _)| !k.starts_with("S3.")).map(|(_, v)| v).sum::<f64>()
        + r.s3_requests_sent_per_request
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CpuSplit {
    pub operation: &'static str,
    pub total_us: i64,
    pub ours_us: i64,
    pub sdk_us: i64,
    pub http_us: i64,
    pub calls: f64,
    /// Reads: 1,000 µs; writes: 2,000 µs.
    pub target_us: i64,
}

pub fn is_write(operation: &str) -> bool {
    ["compose", "reply", "assign", "attachment presign"].iter().any(|w| operation.starts_with(w))
}

pub fn cpu_split(results: &[OpResult], per: &PerCall) -> Vec<CpuSplit> {
    results
        .iter()
        .map(|r| {
            let calls = calls_sent(r);
            let in_calls = r.sdk_cpu_us_median.min(r.cpu_us_median);
            let http_us = ((calls * per.http_request_us as f64) as i64).min(in_calls);
            CpuSplit {
                operation: r.name,
                total_us: r.cpu_us_median,
                ours_us: r.cpu_us_median - in_calls,
                sdk_us: in_calls - http_us,
                http_us,
                calls,
                target_us: if is_write(r.name) { 2000 } else { 1000 },
            }
        })
        .collect()
}

/// The time an operation waits on AWS, from its calls and the latencies above.
fn aws_wait_ms(r: &OpResult) -> f64 {
    r.calls_per_request
        .iter()
        .map(|(k, n)| {
            let each = match k.as_str() {
                "DynamoDB.TransactWriteItems" | "DynamoDB.TransactGetItems" => latency::DYNAMODB_TRANSACTION_MS,
                k if k.starts_with("DynamoDB.") => latency::DYNAMODB_MS,
                k if k.starts_with("KMS.") => latency::KMS_MS,
                k if k.starts_with("SNS.") => latency::SNS_MS,
                _ => 0.0,
            };
            each * n
        })
        .sum::<f64>()
        + r.s3_requests_sent_per_request * latency::S3_MS
}

/// Expected median duration at `mb`: CPU measured here (one core of this machine taken as one
/// vCPU) scaled by the memory's share of a vCPU, plus the wait on AWS.
pub fn duration_ms(r: &OpResult, mb: f64) -> f64 {
    let share = (mb / FULL_VCPU_MB).min(1.0);
    r.cpu_us_median as f64 / 1000.0 / share + aws_wait_ms(r)
}

/// Lambda's price per request at `mb` (arm64, billed by the millisecond).
pub fn cost_per_million(duration_ms: f64, mb: f64) -> f64 {
    let gb_seconds = duration_ms.ceil() / 1000.0 * mb / 1024.0;
    (gb_seconds * crate::price::LAMBDA_GB_SECOND_ARM + crate::price::LAMBDA_REQUEST) * 1e6
}

/// The size template.yaml should give: the smallest whose median duration is within 20% of
/// the duration at a full vCPU (past it, doubling the memory doubles the price for under a
/// fifth less time).
pub fn chosen_size(r: &OpResult) -> f64 {
    let fastest = duration_ms(r, FULL_VCPU_MB);
    SIZES_MB.into_iter().find(|mb| duration_ms(r, *mb) <= fastest * 1.2).unwrap_or(FULL_VCPU_MB)
}

/// The operation that stands for a function in the sizing table (its most frequent request).
pub const FUNCTION_OPERATIONS: [(&str, &str); 7] = [
    ("compose", "compose"),
    ("reply", "reply (2 participants)"),
    ("list-inbox", "list-inbox: all"),
    ("get-conversation", "get-conversation (20 messages)"),
    ("assign", "assign"),
    ("attachment-presign", "attachment presign"),
    ("directory", "directory lookup"),
];

pub fn sizing(results: &[OpResult]) -> Value {
    let rows: Vec<Value> = FUNCTION_OPERATIONS
        .iter()
        .filter_map(|(function, op)| {
            let r = results.iter().find(|r| r.name == *op)?;
            let sizes: Vec<Value> = SIZES_MB
                .iter()
                .map(|mb| {
                    let d = duration_ms(r, *mb);
                    json!({ "memoryMb": mb, "durationMs": d, "costPerMillion": cost_per_million(d, *mb) })
                })
                .collect();
            Some(json!({ "function": function, "operation": op, "sizes": sizes, "chosenMb": chosen_size(r) }))
        })
        .collect();
    json!({ "latencies": latency::SOURCE, "functions": rows })
}

/// End to end on AWS: API Gateway, the warm invoke, the duration at the chosen size; cold:
/// the measured init scaled to that size in front of it.
pub fn end_to_end(results: &[OpResult], per: &PerCall, init_ms: Option<f64>, python_init_ms: Option<f64>) -> Value {
    let rows: Vec<Value> = results
        .iter()
        .map(|r| {
            let mb = chosen_size(r);
            let share = (mb / FULL_VCPU_MB).min(1.0);
            let warm = latency::API_GATEWAY_MS + latency::LAMBDA_INVOKE_MS + duration_ms(r, mb);
            let cold = init_ms.map(|i| warm + i / share);
            // The same calls from a boto3 function at 1,769 MB: its per-call CPU, nothing of
            // ours (a lower bound for Python).
            let python = per.boto3_call_us.map(|b| {
                latency::API_GATEWAY_MS + latency::LAMBDA_INVOKE_MS + calls_sent(r) * b as f64 / 1000.0 + aws_wait_ms(r)
            });
            json!({
                "operation": r.name, "memoryMb": mb, "warmMs": warm, "coldMs": cold,
                "pythonPeerWarmMs": python,
                "pythonPeerColdMs": python.zip(python_init_ms).map(|(w, i)| w + i),
            })
        })
        .collect();
    json!({
        "anchors": { "zulipSendMs": 40, "zulipHistoryMs": 70, "source": "Zulip's published figures (issue 18)" },
        "operations": rows,
    })
}

pub fn print(per: &PerCall, split: &[CpuSplit], sizing: &Value, e2e: &Value) {
    println!(
        "\nWhere the CPU goes (median per request: inside its SDK calls, of it the HTTP client, and the rest, ours; connections kept alive)\n  one small SDK call (GetItem) {} µs, of it the HTTP client {} µs; one boto3 call {}",
        per.sdk_call_us,
        per.http_request_us,
        per.boto3_call_us.map(|b| format!("{b} µs")).unwrap_or_else(|| "not measured".into())
    );
    println!("  targets: reads ≤ 1,000 µs, writes ≤ 2,000 µs (compose, reply, assign, presign)");
    println!(
        "  {:<31} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}  verdict",
        "operation", "calls", "total µs", "ours µs", "SDK µs", "HTTP µs", "target"
    );
    for s in split {
        let holder = if s.total_us <= s.target_us {
            "ok".to_string()
        } else if s.sdk_us + s.http_us >= s.ours_us {
            format!("MISSED (the AWS calls: {} µs in {} calls)", s.sdk_us + s.http_us, crate::trim_num(s.calls))
        } else {
            format!("MISSED (our code: {} µs)", s.ours_us)
        };
        println!(
            "  {:<31} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}  {holder}",
            s.operation,
            crate::trim_num(s.calls),
            s.total_us,
            s.ours_us,
            s.sdk_us,
            s.http_us,
            s.target_us
        );
    }
    println!("\nMemory sizing (expected median duration ms / Lambda cost per million requests, arm64)");
    println!("  {}", sizing["latencies"].as_str().unwrap_or(""));
    print!("  {:<20} {:<31}", "function", "request");
    for mb in SIZES_MB {
        print!(" {:>16}", format!("{mb} MB"));
    }
    println!("  chosen");
    for f in sizing["functions"].as_array().into_iter().flatten() {
        print!("  {:<20} {:<31}", f["function"].as_str().unwrap_or(""), f["operation"].as_str().unwrap_or(""));
        for s in f["sizes"].as_array().into_iter().flatten() {
            let cell = format!(
                "{:.1} / ${:.2}",
                s["durationMs"].as_f64().unwrap_or(0.0),
                s["costPerMillion"].as_f64().unwrap_or(0.0)
            );
            print!(" {cell:>16}");
        }
        println!("  {} MB", f["chosenMb"]);
    }
    println!("\nEnd to end on AWS, estimated (API Gateway + invoke + duration at the chosen size; cold adds the scaled init)");
    println!("  anchors: Zulip send ~40 ms, history ~70 ms; the Python peer is boto3 making the same calls");
    println!(
        "  {:<31} {:>7} {:>9} {:>9} {:>13} {:>13}",
        "operation", "MB", "warm ms", "cold ms", "Python warm", "Python cold"
    );
    let ms = |v: &Value| v.as_f64().map(|m| format!("{m:.1}")).unwrap_or_else(|| "-".into());
    for o in e2e["operations"].as_array().into_iter().flatten() {
        println!(
            "  {:<31} {:>7} {:>9} {:>9} {:>13} {:>13}",
            o["operation"].as_str().unwrap_or(""),
            o["memoryMb"],
            ms(&o["warmMs"]),
            ms(&o["coldMs"]),
            ms(&o["pythonPeerWarmMs"]),
            ms(&o["pythonPeerColdMs"])
        );
    }
}

/// Measures, models and prints; the JSON goes into bench/results.json.
pub async fn report(bench: &crate::Bench, results: &[OpResult], n: usize, cold: Option<&crate::ColdStarts>) -> Value {
    eprintln!("measuring the CPU of one AWS call");
    let per = per_call(&bench.app.dynamodb, &bench.config.table_name, n.max(100)).await;
    let split = cpu_split(results, &per);
    let sizing = sizing(results);
    let init = cold.and_then(|c| {
        let inits: Vec<f64> = c.functions.iter().map(|f| f.init_ms_median).collect();
        inits.into_iter().reduce(f64::max)
    });
    let python_init = cold.and_then(|c| c.hello_python.as_ref().map(|p| p.init_ms_median));
    let e2e = end_to_end(results, &per, init, python_init);
    print(&per, &split, &sizing, &e2e);
    json!({ "perCall": per, "cpuSplit": split, "memorySizing": sizing, "endToEnd": e2e })
}
