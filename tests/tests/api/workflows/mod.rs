//! Care-team workflows (issue 4, in part): settings (SET-1), patient limits (REPLY-4), thread
//! controls (REPLY-2, REPLY-3), out-of-office (REPLY-5 settings), through the local gateway.

use carethread_core::domain::{SignedDuration, Timestamp};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

mod broadcasts;
mod export;
mod forward;
mod settings;
mod tasks;
mod thread_controls;
mod tools;

async fn put(app: &TestApp, user: &User, path: &str, body: Value) -> Answer {
    app.send("PUT", path, Some(&user.token), Some(&body), &[]).await
}
