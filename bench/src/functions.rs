//! The functions measured: their deployed packages, the events that invoke each one, and
//! their cold starts beside the hello world and boto3.

use crate::*;

/// Every function crate: functions/<name>, whose binary is <name>.
pub(crate) fn function_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("functions")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[derive(serde::Serialize)]
pub(crate) struct Package {
    pub(crate) function: String,
    pub(crate) zip_bytes: u64,
    pub(crate) binary_bytes: u64,
}

/// The zips of `cargo lambda build --release --arm64 --output-format zip` (target/lambda).
pub(crate) fn packages() -> Vec<Package> {
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
pub(crate) fn zip_entry_size(path: &Path) -> u64 {
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

pub(crate) struct FunctionEvents<'a> {
    pub(crate) p: &'a DemoPractice,
    pub(crate) two: &'a str,
    pub(crate) replies: &'a str,
    pub(crate) ops: &'a [Op],
}

/// The payload-2.0 event API Gateway sends (the JWT authorizer's claims included), built by
/// the local gateway's own builder.
pub(crate) fn api_event(
    practice: &str,
    user: &User,
    method: &str,
    path_and_query: &str,
    body: Option<&Value>,
) -> Value {
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
    pub(crate) fn event(&self, function: &str) -> Value {
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
pub(crate) struct ColdStarts {
    pub(crate) starts: usize,
    pub(crate) hello_rust: Option<coldstart::ColdStart>,
    pub(crate) hello_python: Option<coldstart::ColdStart>,
    pub(crate) functions: Vec<coldstart::ColdStart>,
    /// The same functions and hello world built with `AWS_LC_SYS_NO_JITTER_ENTROPY=1`
    /// (BENCH_NOJITTER_BIN_DIR), when run.sh built them.
    pub(crate) no_jitter: Vec<coldstart::ColdStart>,
    pub(crate) failures: Vec<String>,
}

pub(crate) async fn cold_starts(bench: &Bench, events: &FunctionEvents<'_>) -> ColdStarts {
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
