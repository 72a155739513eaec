//! The HTTP edge shared by every function: identity from the verified JWT claims that API
//! Gateway's authorizer puts in the request context (SEC-4: never from a header or the body),
//! JSON bodies with limits, `Idempotency-Key`, and the one mapping of errors to
//! `application/problem+json`. `serve` is the one way a request is answered: authorize, run
//! the operation, answer (auditing a refusal).

use crate::app::{IdempotencyKey, RequestCtx};
use crate::crypto::sha256_hex;
use crate::domain::{parse_id, Caller, Role, PATIENT_ID};
use crate::error::{Error, Result};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;

/// Bodies above this are refused before parsing (413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The user id: the Cognito username the directory chose. `sub` is Cognito's own and is
/// never read as an id of ours (ACCT-1).
pub const CLAIM_USERNAME: &str = "cognito:username";
pub const CLAIM_PRACTICE: &str = "custom:practice_id";
pub const CLAIM_ROLE: &str = "custom:role";
pub const CLAIM_PATIENT: &str = "custom:patient_id";

/// The route key API Gateway matched (`POST /staff`), for functions serving several routes.
pub fn route_key(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// The caller, from the JWT authorizer's claims. Missing or malformed claims are 401.
pub fn caller(req: &Request) -> Result<Caller> {
    let claims = claims(req).ok_or(Error::Unauthenticated)?;
    let claim = |name: &str| claims.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let username = claim(CLAIM_USERNAME).ok_or(Error::Unauthenticated)?;
    let practice_id =
        crate::domain::PracticeId::parse("practice", claim(CLAIM_PRACTICE).ok_or(Error::Unauthenticated)?)
            .map_err(|_| Error::Unauthenticated)?;
    let role = Role::parse(claim(CLAIM_ROLE).ok_or(Error::Unauthenticated)?).map_err(|_| Error::Unauthenticated)?;
    let user_id = if role == Role::Patient {
        // A portal user's username is its patient id; both claims must say so.
        let patient = claim(CLAIM_PATIENT).filter(|p| *p == username).ok_or(Error::Unauthenticated)?;
        parse_id("patient", PATIENT_ID, patient).map_err(|_| Error::Unauthenticated)?
    } else {
        parse_id("username", crate::domain::STAFF_ID, username).map_err(|_| Error::Unauthenticated)?
    };
    Ok(Caller { practice_id, user_id: crate::domain::UserId::from_stored(user_id), role })
}

/// The raw body bytes, refused when too large.
pub fn body_bytes(req: &Request) -> Result<&[u8]> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::TooLarge {
            detail: format!("request body is larger than {MAX_BODY_BYTES} bytes"),
            field: None,
        });
    }
    Ok(bytes)
}

/// A JSON body of the expected shape. Unknown fields are refused by name, so a body can
/// never set what the server decides (practice, sender, status, timestamps).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T> {
    let content_type = req.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "application/json" {
        return Err(Error::BadRequest { detail: "the body must be application/json".into(), field: None });
    }
    let bytes = body_bytes(req)?;
    let text = std::str::from_utf8(bytes).map_err(|_| Error::bad_request("the body is not valid UTF-8"))?;
    serde_json::from_str(text).map_err(|e| json_error("malformed JSON body", &e))
}

/// A body that does not parse, described without any part of what was sent (SEC-3, security
/// finding 13): serde quotes the offending value ("Jane", `Jane`, `42`) in its messages. What
/// stays: the schema's own words (a missing or repeated field, the accepted names and values
/// after "expected"), an unknown field's name when it is an identifier, and the position.
pub fn json_error(what: &str, e: &serde_json::Error) -> Error {
    let msg = without_request_values(&e.to_string());
    let field = ["missing field `", "duplicate field `", "unknown field `"]
        .iter()
        .find_map(|p| msg.split_once(p))
        .and_then(|(_, rest)| rest.split('`').next())
        .map(str::to_string);
    Error::BadRequest { detail: format!("{what}: {msg}"), field }
}

/// serde's message with every quoted or backticked word replaced by "a value", except those
/// that come from the schema (a missing or repeated field's name, what is "expected") and an
/// unknown field's name when it is an identifier.
fn without_request_values(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let Some(len) = after[1..].find(quote) else {
            out.push_str("a value");
            return out;
        };
        let inner = &after[1..1 + len];
        // An unknown field is named when it looks like one (API.md: `field` where one field
        // is at fault); anything else in its place could be a value moved into a key.
        let field_name = inner.len() <= 40
            && inner.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let schema_word = quote == '`'
            && (out.ends_with("missing field ")
                || out.ends_with("duplicate field ")
                || (out.ends_with("unknown field ") && field_name)
                || out.contains("expected"));
        if schema_word {
            out.push('`');
            out.push_str(inner);
            out.push('`');
        } else {
            out.push_str("a value");
        }
        rest = &after[len + 2..];
    }
    out.push_str(rest);
    out
}

/// The `Idempotency-Key` of a creating POST, scoped to the caller and bound to the request.
pub fn idempotency(req: &Request) -> Result<Option<IdempotencyKey>> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key =
        value.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x21..0x7f).contains(&b)));
    let key = key.ok_or_else(|| Error::BadRequest {
        detail: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
        field: Some("Idempotency-Key".into()),
    })?;
    let route = route_key(req);
    let path = req.uri().path().to_string();
    let body = body_bytes(req)?;
    Ok(Some(IdempotencyKey {
        key_hash: sha256_hex(&[key.as_bytes()]),
        request_hash: sha256_hex(&[route.as_bytes(), path.as_bytes(), body]),
    }))
}

pub fn path_param(req: &Request, name: &str) -> String {
    req.path_parameters_ref().and_then(|p| p.first(name)).unwrap_or("").to_string()
}

pub fn query_params(req: &Request) -> Vec<(String, String)> {
    req.query_string_parameters_ref()
        .map(|q| q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .unwrap_or_default()
}

/// The `limit` of a list (API.md: default 25, at most 100).
pub fn limit_param(req: &Request) -> Result<usize> {
    match query_param(req, "limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| Error::invalid("limit", "limit must be a number from 1 to 100")),
        None => Ok(25),
    }
}

/// Whether the request's `Accept` header names `media` (a report asked for as CSV).
pub fn accepts(req: &Request, media: &str) -> bool {
    req.headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| m.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case(media)))
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name).map(str::to_string))
}

/// The request's context, its caller checked now (SEC-4) unless the operation reads the
/// caller's record itself (`check_now` false).
async fn authorized(app: &crate::App, req: &Request, with_idempotency: bool, check_now: bool) -> Result<RequestCtx> {
    let ctx = context(req, with_idempotency)?;
    // ACCT-3: the routes that set up the second factor are open to a caller who has none yet.
    let enrolling = matches!(route_key(req).as_str(), "GET /me/totp" | "POST /me/totp");
    if check_now {
        app.ensure_active(&ctx, enrolling).await?;
    }
    Ok(ctx)
}

fn context(req: &Request, with_idempotency: bool) -> Result<RequestCtx> {
    Ok(RequestCtx {
        caller: caller(req)?,
        request_id: request_id(req),
        idempotency: if with_idempotency { idempotency(req)? } else { None },
        signed_in_at: claims(req).and_then(|c| c.get("auth_time")).and_then(|t| t.parse().ok()),
        now: crate::domain::Timestamp::now(),
        admitted: Default::default(),
    })
}

fn claims(req: &Request) -> Option<&std::collections::HashMap<String, String>> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|j| &j.claims)
        }
        _ => None,
    }
}

fn json_response(status: u16, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body.to_string()))
        .expect("static response parts")
}

/// A 200 with a body of another type (a transcript: text or FHIR JSON).
fn document_response(content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body))
        .expect("static response parts")
}

/// The only place an error becomes a response. Server faults are logged with their cause
/// chain (SDK errors name operations and codes, never item contents); bodies carry only the
/// problem type and the request id.
pub fn problem(err: &Error, request_id: &str) -> Response<Body> {
    let problem = err.to_problem(request_id);
    if problem.status >= 500 {
        let mut chain = String::new();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            chain.push_str(" <- ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(request_id, status = problem.status, cause = %chain, "request failed");
    } else {
        tracing::info!(request_id, status = problem.status, kind = %problem.kind, "request refused");
    }
    let mut response = Response::builder()
        .status(problem.status)
        .header(http::header::CONTENT_TYPE, "application/problem+json")
        .header(http::header::CACHE_CONTROL, "no-store");
    if problem.status == 401 {
        response = response.header(http::header::WWW_AUTHENTICATE, "Bearer");
    }
    if let Some(seconds) = err.retry_after() {
        response = response.header(http::header::RETRY_AFTER, seconds);
    }
    response
        .body(Body::Text(serde_json::to_string(&problem).expect("problem serializes")))
        .expect("static response parts")
}

/// What an operation answers: JSON with a status (`204` with no body), or a document of
/// another type (a transcript: text or FHIR JSON).
pub enum Answer {
    Json(u16, serde_json::Value),
    Document { content_type: &'static str, body: String },
}

/// A JSON answer with its status: the operation's typed view, serialized here, once.
pub fn answer(status: u16, body: impl serde::Serialize) -> Result<Answer> {
    serde_json::to_value(body).map(|json| Answer::Json(status, json)).map_err(Error::internal)
}

/// Serves one HTTP request the same way on every route: the caller authorized (SEC-4), with
/// its `Idempotency-Key` where the route honors one (`routes`), then the operation, then the
/// answer, a refused attempt on a named record audited (SEC-2). Every HTTP function's
/// handler is one call of this, so no route can skip a step.
pub async fn serve<Operation, Answered>(app: &crate::App, req: &Request, operation: Operation) -> Response<Body>
where
    // A closure returning a future rather than an async closure: the future stays `Send`, as
    // the local gateway's router requires.
    Operation: FnOnce(RequestCtx) -> Answered,
    Answered: std::future::Future<Output = Result<Answer>>,
{
    let route = route_key(req);
    let idempotent = crate::routes::honors_idempotency(&route);
    let checked_by_operation = crate::routes::checks_caller_in_its_read(&route);
    let outcome = match authorized(app, req, idempotent, !checked_by_operation).await {
        Ok(ctx) => {
            // Only an operation that admits its caller itself needs the context again after.
            let probe = checked_by_operation.then(|| ctx.clone());
            let outcome = operation(ctx).await;
            match probe.filter(|p| !p.admitted.load(std::sync::atomic::Ordering::Acquire)) {
                None => outcome,
                // It answered before admitting its caller (a 404 or a 422 on the way): nothing
                // is answered to a caller who no longer acts.
                Some(probe) => match (app.ensure_active(&probe, false).await, outcome) {
                    (Err(e), _) => Err(e),
                    (Ok(_), Ok(_)) => {
                        tracing::error!(route, "an operation answered without admitting its caller");
                        Err(Error::internal_msg("the caller was not checked"))
                    }
                    (Ok(_), outcome) => outcome,
                },
            }
        }
        Err(e) => Err(e),
    };
    let request_id = request_id(req);
    if let Err(e @ (Error::NotFound(_) | Error::Forbidden(_))) = &outcome {
        if let Ok(ctx) = context(req, false) {
            crate::audit::record_refusal(app, &ctx, &route_key(req), &path_param(req, "id"), e).await;
        }
    }
    match outcome {
        Ok(Answer::Json(204, _)) => Response::builder().status(204).body(Body::Empty).expect("static response parts"),
        Ok(Answer::Json(status, body)) => json_response(status, &body),
        Ok(Answer::Document { content_type, body }) => document_response(content_type, body),
        Err(e) => problem(&e, &request_id),
    }
}

pub fn not_found_route() -> Error {
    Error::NotFound("route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_3_json_errors_never_echo_values() {
        let e = serde_json::from_str::<bool>("\"Jane Smith\"").unwrap_err();
        let cleaned = without_request_values(&e.to_string());
        assert!(!cleaned.contains("Jane"), "{cleaned}");
        assert!(cleaned.contains("invalid type"));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        priority: Option<Level>,
        count: Option<String>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Level {
        Normal,
        Urgent,
    }

    /// Security finding 13: backticked values (unknown variants, numbers) are request values
    /// too; the schema's words stay so the client can fix its request.
    #[test]
    fn finding_13_json_errors_name_the_schema_and_never_the_value() {
        for (body, secret, kept) in [
            (r#"{"priority": "Quarrington"}"#, "Quarrington", "`normal`"),
            (r#"{"count": 5550177}"#, "5550177", "invalid type"),
            (r#"{"zelphina": 1}"#, "", "unknown field `zelphina`"),
            (r#"{"Zelphina Quarrington": 1}"#, "Quarrington", "`priority`"),
            (r#"{"count": "unterminated"#, "unterminated", "EOF"),
        ] {
            let e = serde_json::from_str::<Shape>(body).unwrap_err();
            let Error::BadRequest { detail, .. } = json_error("malformed JSON body", &e) else { panic!("400") };
            assert!(secret.is_empty() || !detail.contains(secret), "{detail}");
            assert!(detail.contains(kept), "{detail}");
        }
    }
}
