//! One operation measured: its AWS calls by service and operation, the DynamoDB capacity
//! units of its items, and the CPU of our process per request.

use crate::*;

pub(crate) struct Op {
    pub(crate) name: &'static str,
    pub(crate) function: &'static str,
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) body: Option<Value>,
    pub(crate) user: User,
    pub(crate) target: &'static str,
}

#[derive(serde::Serialize)]
pub(crate) struct OpResult {
    pub(crate) name: &'static str,
    pub(crate) requests: usize,
    pub(crate) calls_per_request: BTreeMap<String, f64>,
    /// S3 requests that went out (the call counter also counts presigned operations).
    pub(crate) s3_requests_sent_per_request: f64,
    pub(crate) cpu_us_median: i64,
    pub(crate) cpu_us_p90: i64,
    /// Of it, inside SDK calls (`sdk_cpu`): median per request.
    pub(crate) sdk_cpu_us_median: i64,
    pub(crate) read_units_per_request: f64,
    pub(crate) write_units_per_request: f64,
    pub(crate) target: &'static str,
}

/// Requests whose capacity units are measured (each updated item is read back afterwards,
/// so this pass is separate from the timed one).
pub(crate) const CAPACITY_REQUESTS: usize = 5;

pub(crate) async fn measure(bench: &Bench, op: &Op, n: usize, baseline: i64) -> OpResult {
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
