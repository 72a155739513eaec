//! The security battery (issue 7): audit chain, denied attempts, idempotency, concurrency.

use aws_sdk_dynamodb::types::AttributeValue;
use carethread_core::audit::verify_practice;
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

mod audit;
mod concurrency;
mod iam;

async fn compose(app: &TestApp, p: &DemoPractice) -> String {
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Follow-up", "body": "How is the knee?" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}
