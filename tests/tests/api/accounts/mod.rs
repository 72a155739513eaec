//! Identity as in production (ACCT-1, ACCT-2, SEC-4): real ID tokens of the stack's user
//! pool, verified as API Gateway's JWT authorizer does, and the user lifecycle driven by the
//! directory.

use aws_sdk_cognitoidentityprovider::types::{AttributeType, UserStatusType};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

mod lifecycle;
mod patients;
mod tokens;
