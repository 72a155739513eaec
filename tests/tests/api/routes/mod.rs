//! Black-box tests of the HTTP API through the local gateway against the local AWS stack.
//! Each test is named after the requirement it proves (SPEC IDs).

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

mod attachments;
mod compose;
mod directory;
mod phi;
mod threads;

async fn compose_to(app: &TestApp, from: &User, patient: &User, subject: &str, body: &str) -> Value {
    let res = app
        .post(
            &from.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": patient.id, "subject": subject, "body": body }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body
}

fn id_of(v: &Value) -> String {
    v["conversation"]["id"].as_str().expect("conversation id").to_string()
}
