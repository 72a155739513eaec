//! Bounded fuzzing (issue 7, point 6) of what the API parses from callers: JSON bodies,
//! list cursors and bearer tokens. Valid inputs are mutated (bytes flipped, cut, repeated,
//! spliced with junk) by a seeded generator and sent through the gateway; no answer may be a
//! server error. `FUZZ_ITERATIONS` sets the count per target (default 300).
//!
//! cargo-fuzz needs a nightly toolchain, which the machines this runs on do not have; this
//! runs on stable, against the real handlers, in the test command.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// xorshift64*: reproducible from its seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const JUNK: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"null",
    b"1e999",
    b"-",
    b".",
    b"%",
    b"=",
    b"../",
    b"\xe2\x80\xae",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.truncate(at),
            2 => {
                let end = (at + rng.below(16)).min(out.len());
                let piece = out[at..end].to_vec();
                out.splice(at..at, piece.iter().cycle().take(piece.len() * (1 + rng.below(64))).copied());
            }
            3 => {
                let junk = JUNK[rng.below(JUNK.len())];
                out.splice(at..at, junk.iter().copied());
            }
            _ => {
                let end = (at + rng.below(8)).min(out.len());
                out.drain(at..end);
            }
        }
    }
    out
}

fn iterations() -> usize {
    std::env::var("FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

#[tokio::test]
async fn fuzz_bodies_cursors_and_tokens_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    for n in 0..30 {
        let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": format!("S{n}"), "body": "B" });
        app.post(&p.doctor.token, "/conversations", body).await;
    }
    let cursor = app.get(&p.doctor.token, "/inbox?limit=5").await.body["nextCursor"].as_str().unwrap().to_string();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut tried = [0usize; 4];
    let mut server_errors = Vec::new();

    // Values no error body may quote, whole or in part (security finding 13).
    let (subject, text) = ("Zelphinaqx", "Quarringtonqx");
    let echoes = |answer: &str| {
        [subject, text]
            .iter()
            .any(|v| v.as_bytes().windows(6).any(|w| answer.contains(std::str::from_utf8(w).unwrap())))
    };
    let mut echoed = Vec::new();
    let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": subject, "body": text, "priority": "urgent", "options": { "allowResponse": true } }).to_string();
    for _ in 0..iterations() {
        let input = mutate(&mut rng, body.as_bytes());
        let res = app
            .http
            .post(format!("{}/conversations", app.base))
            .bearer_auth(&p.doctor.token)
            .header("content-type", "application/json")
            .body(input.clone())
            .send()
            .await
            .unwrap();
        tried[0] += 1;
        let status = res.status();
        if status.is_server_error() {
            server_errors.push(format!("body {:?} → {}", String::from_utf8_lossy(&input), status));
        }
        // A key the mutation made is a field name the client sent, which an error may name
        // (API.md: `field` where one field is at fault): only the rest of the answer counts.
        let mut answer = res.text().await.unwrap_or_default();
        let named = serde_json::from_str::<Value>(&answer).ok().and_then(|a| a["field"].as_str().map(str::to_string));
        if let Some(field) = named {
            let sent = String::from_utf8_lossy(&input);
            if sent.contains(&format!("{{\"{field}\"")) || sent.contains(&format!(",\"{field}\"")) {
                answer = answer.replace(&field, "");
            }
        }
        if status.is_client_error() && echoes(&answer) {
            echoed.push(answer);
        }
    }
    // Search in every script (security finding 2): multi-byte names, emoji, combining accents,
    // mutated, into the inbox search and the patient finder. 200 or 422, never a panic's 500.
    let names = ["José", "Renée", "Rene\u{301}e", "李小龍", "Zoë 🙂", "pat_é", "Ångström", "Ñandú", "دينا"];
    // The inbox search spreads over seven users: each may search 120 times a minute (security
    // finding 12), and the patient finder is not budgeted.
    let searchers = [&p.doctor, &p.doctor2, &p.nurse, &p.admin, &p.manager, &p.jane, &p.john];
    for n in 0..iterations() {
        let searcher = searchers[n % searchers.len()];
        let seed = names[n % names.len()];
        let input = if n < names.len() { seed.as_bytes().to_vec() } else { mutate(&mut rng, seed.as_bytes()) };
        let encoded = url_escape(&input);
        for (path, user) in [("/inbox?q=", searcher), ("/patients?q=", &p.doctor)] {
            let res =
                app.http.get(format!("{}{path}{encoded}", app.base)).bearer_auth(&user.token).send().await.unwrap();
            tried[3] += 1;
            let status = res.status();
            if status.is_server_error() {
                server_errors.push(format!("search {encoded} → {status}"));
            }
            // 429 only in long runs (FUZZ_ITERATIONS), past a user's search budget.
            let expected = [
                StatusCode::OK,
                StatusCode::UNPROCESSABLE_ENTITY,
                StatusCode::BAD_REQUEST,
                StatusCode::TOO_MANY_REQUESTS,
            ];
            assert!(expected.contains(&status), "{path}{encoded} → {status}");
        }
    }
    for _ in 0..iterations() {
        let input = mutate(&mut rng, cursor.as_bytes());
        let encoded: String = url_escape(&input);
        let res = app
            .http
            .get(format!("{}/inbox?limit=5&cursor={encoded}", app.base))
            .bearer_auth(&p.doctor.token)
            .send()
            .await
            .unwrap();
        tried[1] += 1;
        let status = res.status();
        if status.is_server_error() {
            server_errors.push(format!("cursor {encoded} → {status}"));
        }
        assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "cursor {encoded} → {status}");
    }
    for _ in 0..iterations() {
        let input = mutate(&mut rng, p.doctor.token.as_bytes());
        let Ok(header) = reqwest::header::HeaderValue::from_bytes(&[b"Bearer ".as_slice(), &input].concat()) else {
            continue;
        };
        let res =
            app.http.get(format!("{}/inbox/stats", app.base)).header("authorization", header).send().await.unwrap();
        tried[2] += 1;
        let status = res.status();
        if status.is_server_error() {
            server_errors.push(format!("token {:?} → {status}", String::from_utf8_lossy(&input)));
        }
        assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "token → {status}");
    }
    println!(
        "fuzz: {} bodies, {} cursors, {} tokens mutated and sent, {} server errors",
        tried[0],
        tried[1],
        tried[2],
        server_errors.len()
    );
    println!(
        "fuzz: {} search queries in many scripts, {} error bodies quoting a request value",
        tried[3],
        echoed.len()
    );
    assert!(server_errors.is_empty(), "{server_errors:#?}");
    assert!(echoed.is_empty(), "error bodies quote request values: {echoed:#?}");
}

fn url_escape(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (*b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
