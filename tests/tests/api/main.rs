//! The black-box tests: one binary with a module per part of the product (a test binary links
//! the AWS SDKs, so each extra binary costs CI a link of its own). Every test drives the local
//! gateway over HTTP against the local AWS stack, proves one behaviour, and is named after
//! the requirement it proves (SPEC ids) or the security finding it closes (`finding_NN_…`).
//! The shared fixture (`TestApp`, `setup`, the demo practice, fault switches) is the
//! `carethread-tests` library, `tests/src/lib.rs`.
//!
//! `cargo test -p carethread-tests --test api -- findings::` runs one module.

mod accounts;
mod attachments;
mod authz;
mod cost;
mod drafts;
mod evisit_windows;
mod evisits;
mod faults;
mod findings;
mod followers;
mod fuzz;
mod inbox;
mod logs;
mod no_scan;
mod notifications;
mod practice_view;
mod reply_times;
mod routes;
mod scale;
mod security;
mod workflows;
mod workgroups;
