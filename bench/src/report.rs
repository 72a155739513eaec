//! The printed report: every figure beside its goal, and what each missed goal is held by.

use crate::*;

pub(crate) struct Report<'a> {
    pub(crate) results: &'a [OpResult],
    pub(crate) baseline: i64,
    pub(crate) kms_msgs: f64,
    pub(crate) kms_pages: f64,
    pub(crate) cost: &'a Value,
    pub(crate) packages: &'a [Package],
    pub(crate) cold: Option<&'a ColdStarts>,
    pub(crate) load: Option<&'a load::LoadResult>,
}

pub(crate) fn mark(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

impl Report<'_> {
    pub(crate) fn print(&self) {
        self.print_packages();
        self.print_cold();
        self.print_ops();
        self.print_load();
        self.print_cost();
    }

    pub(crate) fn print_packages(&self) {
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

    pub(crate) fn print_cold(&self) {
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

    pub(crate) fn print_ops(&self) {
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

    pub(crate) fn print_load(&self) {
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

    pub(crate) fn print_cost(&self) {
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
pub(crate) fn calls_verdict(r: &OpResult) -> String {
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

pub(crate) fn trim_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
    }
}
