//! Carethread core: the domain, its rules and the AWS adapters that every Lambda function
//! shares. An HTTP function's handler is one `api::serve` call: it parses its request with
//! `api`, calls one operation in `ops`, and `serve` authorizes before and answers after; the
//! other functions call one entry point in `jobs`.
//!
//! Pure values and rules (no I/O):
//! - `domain`: parsed values (roles, the caller, typed ids that sort by time, subject, body,
//!   priority...) and time: one `Timestamp` on jiff (the only time crate), read from the clock
//!   once per request (`RequestCtx::now`) or job run, and passed in; and what the practice
//!   keeps (conversations, messages, inbox entries, the directory, settings, drafts, the
//!   outbox...), as values with no key, PHI fields sealed.
//! - `hours`: business hours and time zones (REPLY-5).
//! - `reply_clock`: business time with holidays, and the reply-time promise's clock (SLA-1, SLA-2).
//! - `evisit`: the CPT code and the exclusions an e-visit's measured time supports (EVISIT-2, EVISIT-3).
//! - `policy`: who may see and do what (ROLE-2..6, COMPOSE-3, ACCT-3).
//! - `error`: the one error type, mapped to problem+json once.
//!
//! The table and the AWS adapters:
//! - `store`: the DynamoDB adapter of the single table, one file per aggregate under
//!   `store/`; a transaction (`Tx`) names each conditioned write with a `Guard`, and a refusal
//!   comes back as one. It stores the domain's values (`domain::Conversation`,
//!   `domain::Staff`...), which carry no key: key formats and key attribute names
//!   (`store::keys`) and the items on the wire are private to it, and a write names where a
//!   value goes with an opaque `store::Key` that only `store::place` makes ("a draft of this
//!   user"). The attribute names its expressions use are checked against the values' serde
//!   names (`store::attribute_names`, a test). What an
//!   operation reads by key comes in one `store::Batch` (the caller's record among it, which
//!   `App::admit` checks); a function keeps a copy of each practice's directory while the
//!   practice's `directoryVersion` says it is current (`Store::directory_as_of`).
//! - `crypto`: envelope encryption under KMS data keys, blind indexes and sealed list cursors
//!   (SEC-1), and the one request/event hash (`sha256_hex`).
//! - `blobs`: S3 presigned uploads and downloads.
//! - `identity`: the Cognito user pool, driven by the directory (ACCT-1..3).
//! - `calls`: the AWS call counter every client carries (tests, bench, the role check).
//! - `sdk`: a deployed function's SDK configuration: from Lambda's environment only, with the
//!   roots of Amazon Trust Services compiled in (cold start).
//!
//! What the operations are made of:
//! - `audit`: the audit events written with every PHI read and write, their chain's links and
//!   its verification (SEC-2).
//! - `notify`: where a user is told, the text, SNS publishing and SMS peers (NOTIFY-1..4).
//! - `receipts`: read receipts (CONV-2).
//! - `views`: every response shape of the API as a type, rendered from stored values; an operation
//!   returns one (a creating one, `ops::Created`: what it made, or the stored first answer of
//!   a replayed `Idempotency-Key`), and `api::answer` serializes it, once, at the edge.
//! - `ops`: the operations, one file per route family; `ops::cursor` and `ops::idempotency`
//!   hold the one cursor scheme and the one `Idempotency-Key` scheme every route uses,
//!   `ops::conversations::post` the one path by which every message enters a conversation
//!   (`promise`: what it does to the reply-time promise),
//!   `ops::conversations::late` what a change leaves to the notifier when its audience is
//!   larger than one transaction holds, and `ops::practice_view` the practice-wide view.
//! - `jobs`: the work no request starts: the stream consumers (notifier, audit chain), inbound
//!   texts and the scheduled jobs (reminders, escalations, retention, the attachment sweep), each taking
//!   its clock as a parameter.
//!
//! The edge:
//! - `api`: identity from JWT claims, JSON bodies, problem+json, and `serve`, the one way an
//!   HTTP function answers (authorize, operate, answer, audit a refusal).
//! - `routes`: every route, the function that serves it and whether it honors an
//!   `Idempotency-Key` (checked against template.yaml).
//! - `app`: the clients and configuration made once per cold start (`App::with_hooks` adds a
//!   test's or the bench's interceptors to them), and the per-request caller check (SEC-4).
//! - `logging`: the log subscriber and a panic hook that withholds panic messages.
//!
//! Layering: each group may use the groups above it, never one below (`ops` uses the table
//! and the adapters; `store` takes and returns domain values and knows nothing of `ops`;
//! `views` renders through the envelope alone, not the whole `App`; `jobs` uses `ops` for
//! what a job shares with a route, such as posting a text). No module outside `store` can
//! name a key attribute or write a key format: the compiler refuses it.

pub mod api;
pub mod app;
pub mod audit;
pub mod blobs;
pub mod calls;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod evisit;
pub mod hours;
pub mod identity;
pub mod jobs;

pub mod logging;
pub mod notify;
pub mod ops;
pub mod policy;
pub mod receipts;
pub mod reply_clock;
pub mod routes;
pub mod sdk;
pub mod store;
pub mod views;

pub use app::{App, RequestCtx};
pub use error::{Error, Result};
