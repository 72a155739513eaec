//! The security review's findings (issue 15), one test each, named `finding_NN_…` after the
//! finding it covers; each fails on the code the review read. `make security-report` lists
//! them with their results. Findings proven elsewhere: 13 in `fuzz.rs` and `shared/src/api.rs`.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

mod access;
mod audit_chain;
mod destinations;
mod files;
mod search;
mod second_factor;
mod traces;

fn id_of(body: &Value, what: &str) -> String {
    body[what]["id"].as_str().unwrap_or_else(|| panic!("no {what} id in {body}")).to_string()
}

/// A conversation the doctor starts with Jane: its id and its first message's id.
async fn about_jane(app: &TestApp, p: &DemoPractice, subject: &str) -> (String, String) {
    let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": subject, "body": "First" });
    let created = app.post(&p.doctor.token, "/conversations", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    (id_of(&created.body, "conversation"), id_of(&created.body, "message"))
}

/// A log writer into a shared buffer, for one thread's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Asks for an upload and sends the bytes as the answer says (its URL and signed headers), as
/// the web app does; the attachment's id.
async fn send_file(app: &TestApp, user: &User, request: Value, bytes: &[u8]) -> String {
    let res = app.post(&user.token, "/attachments", request).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let mut put = app.http.put(res.body["upload"]["url"].as_str().unwrap()).body(bytes.to_vec());
    for (k, v) in res.body["upload"]["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    id_of(&res.body, "attachment")
}

/// A small text file for a conversation.
async fn upload(app: &TestApp, user: &User, cid: &str, name: &str) -> String {
    let request = json!({ "fileName": name, "contentType": "text/plain", "size": 4, "conversationId": cid });
    send_file(app, user, request, b"note").await
}

/// A six-digit code other than `code`.
fn not(code: &str) -> String {
    if code == "000000" { "111111" } else { "000000" }.to_string()
}

fn actions(events: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>]) -> Vec<String> {
    events.iter().filter_map(|e| e.get("action").and_then(|a| a.as_s().ok()).cloned()).collect()
}
