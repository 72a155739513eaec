//! The one error type of the core, and its single mapping to an HTTP problem.
//!
//! SDK errors are converted where they happen (the adapters) by meaning; the public
//! message of a variant never carries PHI, and `Internal` keeps its cause for the log only.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be read at all (bad JSON, bad cursor, bad query parameter).
    #[error("{detail}")]
    BadRequest { detail: String, field: Option<String> },
    /// No token, or a token without the claims we need.
    #[error("authentication required")]
    Unauthenticated,
    /// A valid token whose user was since deactivated or given another role (ACCT-2): the
    /// client signs in again, and gets a token with the directory's current values.
    #[error("your account changed since you signed in: sign in again")]
    SignInAgain,
    /// ACCT-3: the practice requires a TOTP second factor the caller has not set up yet.
    #[error(
        "this practice requires a second factor: set up an authenticator app (TOTP) with Cognito, then POST /me/totp"
    )]
    SecondFactorRequired,
    /// The caller may see the thing but may not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or not visible to the caller: the two are indistinguishable on purpose (ROLE-3).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// It existed and the caller may see it, but it is gone for good (retention, ATT-6).
    #[error("{0}")]
    Gone(String),
    #[error("{detail}")]
    TooLarge { detail: String, field: Option<String> },
    /// A well-formed request with a field that breaks a rule.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    /// A budget is spent; `retry_after` is the seconds until it refills, sent as
    /// `Retry-After` so a client waits exactly as long as it must.
    #[error("{detail}")]
    TooMany { detail: String, retry_after: Option<u64> },
    /// A dependency failed in a way a retry may fix; nothing was half-written.
    #[error("a dependency is unavailable, retry later")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Error::Invalid { field: field.to_string(), detail: detail.into() }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Error::BadRequest { detail: detail.into(), field: None }
    }
    pub fn too_many(detail: impl Into<String>, retry_after: Option<u64>) -> Self {
        Error::TooMany { detail: detail.into(), retry_after }
    }
    /// Seconds a client should wait before retrying, where the error knows.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::TooMany { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Internal(Box::new(e))
    }
    pub fn internal_msg(msg: &str) -> Self {
        Error::Internal(msg.to_string().into())
    }
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest { .. } => 400,
            Error::Unauthenticated | Error::SignInAgain => 401,
            Error::Forbidden(_) | Error::SecondFactorRequired => 403,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::TooLarge { .. } => 413,
            Error::Invalid { .. } => 422,
            Error::TooMany { .. } => 429,
            Error::Gone(_) => 410,
            Error::Unavailable(_) => 503,
            Error::Internal(_) => 500,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Error::BadRequest { .. } => "bad-request",
            Error::Unauthenticated => "unauthenticated",
            Error::SignInAgain => "sign-in-again",
            Error::Forbidden(_) => "forbidden",
            Error::SecondFactorRequired => "second-factor-required",
            Error::NotFound(_) => "not-found",
            Error::Conflict(_) => "conflict",
            Error::TooLarge { .. } => "too-large",
            Error::Invalid { .. } => "invalid-field",
            Error::TooMany { .. } => "rate-limited",
            Error::Gone(_) => "gone",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) => "internal",
        }
    }
    fn title(&self) -> &'static str {
        match self {
            Error::BadRequest { .. } => "Malformed request",
            Error::Unauthenticated | Error::SignInAgain => "Authentication required",
            Error::Forbidden(_) => "Not allowed",
            Error::SecondFactorRequired => "Second factor required",
            Error::NotFound(_) => "Not found",
            Error::Conflict(_) => "Conflict",
            Error::TooLarge { .. } => "Too large",
            Error::Invalid { .. } => "Invalid field",
            Error::TooMany { .. } => "Too many requests",
            Error::Gone(_) => "Gone",
            Error::Unavailable(_) => "Service unavailable",
            Error::Internal(_) => "Internal error",
        }
    }

    /// The problem document (RFC 9457) for this error. The only place errors become HTTP.
    pub fn to_problem(&self, request_id: &str) -> Problem {
        let field = match self {
            Error::BadRequest { field, .. } | Error::TooLarge { field, .. } => field.clone(),
            Error::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        Problem {
            kind: format!("https://carethread.dev/problems/{}", self.kind()),
            title: self.title(),
            status: self.status(),
            detail: self.to_string(),
            field,
            request_id: request_id.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause_from_the_body() {
        let e = Error::internal_msg("table carethread item for Jane Smith broke");
        let p = e.to_problem("req-1");
        assert_eq!(p.status, 500);
        assert_eq!(p.detail, "internal error");
        assert_eq!(p.request_id, "req-1");
    }

    #[test]
    fn invalid_field_names_the_field() {
        let p = Error::invalid("subject", "subject is required").to_problem("r");
        assert_eq!(p.status, 422);
        assert_eq!(p.field.as_deref(), Some("subject"));
    }
}
