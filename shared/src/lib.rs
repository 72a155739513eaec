//! Carethread core: the domain, its rules and the AWS adapters that every Lambda function
//! shares. A function crate parses its request with `api`, calls one operation in `ops`,
//! and shapes the response with `api` again.
//!
//! - `domain`: parsed values (roles, ids, subject, body, priority...), no I/O.
//! - `policy`: who may see and do what (ROLE-2..6, COMPOSE-3) as pure functions.
//! - `crypto`: envelope encryption under KMS data keys and blind indexes (SEC-1).
//! - `keys`, `records`, `store`: the single-table design and its DynamoDB adapter.
//! - `blobs`: S3 presigned uploads and downloads.
//! - `identity`: the Cognito user pool, driven by the directory (ACCT-1, ACCT-2).
//! - `audit`: the audit events written with every PHI read and write (SEC-2).
//! - `views`: the response shapes of API.md, rendered from records.
//! - `ops`: the operations, one per route.
//! - `api`: identity from JWT claims, JSON bodies, problem+json.
//! - `app`: the clients and configuration made once per cold start.
//! - `logging`: the log subscriber and a panic hook that withholds panic messages.

pub mod api;
pub mod app;
pub mod audit;
pub mod blobs;
pub mod calls;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod hours;
pub mod identity;
pub mod ids;
pub mod keys;
pub mod logging;
pub mod notify;
pub mod ops;
pub mod policy;
pub mod receipts;
pub mod records;
pub mod routes;
pub mod store;
pub mod stream;
pub mod views;

pub use app::{App, RequestCtx};
pub use error::{Error, Result};
