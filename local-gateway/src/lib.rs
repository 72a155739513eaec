//! The local gateway: plays API Gateway (HTTP API, payload 2.0) on 127.0.0.1 for
//! development and the black-box tests. It serves exactly the routes of
//! `carethread_core::routes::ROUTES` (template.yaml declares the same; a test compares),
//! verifies the user pool's ID tokens as the JWT authorizer does (`auth`), builds the very
//! event API Gateway sends, and calls the function handlers in-process, each with its own
//! role's credentials (`functions`). Never deployed.

pub mod auth;
pub mod functions;
mod invitations;
pub mod stream;
mod web;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use carethread_core::api;
use carethread_core::routes;
use carethread_core::{App, Error};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub use auth::{Authorizer, Claims};
pub use functions::Functions;

pub struct Gateway {
    pub functions: Functions,
    pub authorizer: Authorizer,
}

pub type Shared = Arc<Gateway>;

impl Gateway {
    pub fn new(functions: Functions, authorizer: Authorizer) -> Shared {
        Arc::new(Gateway { functions, authorizer })
    }

    /// The app of one function (its own role's credentials).
    pub fn app(&self, function: &str) -> &App {
        self.functions.app(function)
    }

    async fn verify(&self, headers: &HeaderMap) -> Option<Claims> {
        let value = headers.get("authorization")?.to_str().ok()?;
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
        self.authorizer.verify(token).await
    }
}

pub fn router(gateway: Shared) -> Router {
    // API Gateway's HTTP API payload limit; below it, the functions' own limit answers.
    let limit = axum::extract::DefaultBodyLimit::max(10 * 1024 * 1024);
    Router::new().fallback(dispatch).layer(limit).with_state(gateway)
}

/// Serves until the listener closes (or the task is dropped).
pub async fn serve(listener: tokio::net::TcpListener, gateway: Shared) -> std::io::Result<()> {
    axum::serve(listener, router(gateway)).await
}

fn problem(err: Error) -> Response {
    to_axum(api::problem(&err, &carethread_core::domain::new_id("req_")))
}

fn to_axum(res: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = res.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(t) => t.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => Vec::new(),
    };
    let mut out = (parts.status, bytes).into_response();
    for (k, v) in parts.headers.iter() {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    out
}

async fn dispatch(State(gw): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    if let Some(local) = path.strip_prefix("/_local/") {
        return local_route(&gw, &method, local, &body).await;
    }
    if let Some(page) = web::serve(&method, &path, &headers).await {
        return page;
    }
    let (route, params) = match routes::find(method.as_str(), &path) {
        Ok(found) => found,
        Err(true) => return problem_status(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route"),
        Err(false) => return problem(Error::NotFound("route")),
    };
    // The JWT authorizer answers 401 before any function runs.
    let Some(claims) = gw.verify(&headers).await else {
        return problem(Error::Unauthenticated);
    };
    let event = api_gateway_event(route, &params, &method, &uri, &headers, &body, &claims);
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(_) => return problem(Error::bad_request("the request could not be represented as an API Gateway event")),
    };
    let app = gw.app(route.function);
    let result = match route.function {
        "compose" => compose::handle(app, request).await,
        "reply" => reply::handle(app, request).await,
        "list-inbox" => list_inbox::handle(app, request).await,
        "get-conversation" => get_conversation::handle(app, request).await,
        "assign" => assign::handle(app, request).await,
        "attachment-presign" => attachment_presign::handle(app, request).await,
        "directory" => directory::handle(app, request).await,
        "conversation-state" => conversation_state::handle(app, request).await,
        "drafts" => drafts::handle(app, request).await,
        "settings" => settings::handle(app, request).await,
        "tasks" => tasks::handle(app, request).await,
        "saved-replies" => saved_replies::handle(app, request).await,
        "broadcasts" => broadcasts::handle(app, request).await,
        "reports" => reports::handle(app, request).await,
        "evisits" => evisits::handle(app, request).await,
        "delete" => delete::handle(app, request).await,
        other => return problem(Error::internal_msg(&format!("no handler for function {other}"))),
    };
    match result {
        Ok(res) => to_axum(res),
        // A handler's Err is a bug; API Gateway would answer 500 here too.
        Err(e) => {
            tracing::error!(error = %e, "handler failed");
            problem(Error::internal_msg("handler failed"))
        }
    }
}

fn problem_status(status: StatusCode, detail: &str) -> Response {
    let body = json!({ "type": "about:blank", "title": status.canonical_reason(), "status": status.as_u16(), "detail": detail });
    (status, [("content-type", "application/problem+json")], body.to_string()).into_response()
}

/// The payload-2.0 event API Gateway would send for this request (the benchmark starts
/// functions with the same events).
pub fn api_gateway_event(
    route: &routes::Route,
    params: &[(String, String)],
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    claims: &Claims,
) -> serde_json::Value {
    let jwt_claims = auth::claim_strings(claims);
    let mut header_map = serde_json::Map::new();
    for (k, v) in headers {
        let v = v.to_str().unwrap_or("");
        let key = k.as_str().to_ascii_lowercase();
        let joined = match header_map.get(&key).and_then(|x| x.as_str()) {
            Some(prev) => format!("{prev},{v}"),
            None => v.to_string(),
        };
        header_map.insert(key, json!(joined));
    }
    let raw_query = uri.query().unwrap_or("");
    let mut query = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        let joined = match query.get(k.as_ref()).and_then(|x| x.as_str()) {
            Some(prev) => format!("{prev},{v}"),
            None => v.to_string(),
        };
        query.insert(k.to_string(), json!(joined));
    }
    let path_params: serde_json::Map<String, serde_json::Value> =
        params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let route_key = format!("{} {}", route.method, route.path);
    let now = carethread_core::domain::Timestamp::now();
    let (body_text, is_base64) = match std::str::from_utf8(body) {
        Ok(t) => (t.to_string(), false),
        Err(_) => {
            use base64_engine::Engine;
            (base64_engine::STANDARD.encode(body), true)
        }
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "127",
            "http": { "method": method.as_str(), "path": uri.path(), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": header_map_get(headers, "user-agent") },
            "requestId": carethread_core::domain::new_id("req_"),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.to_string(),
            "timeEpoch": now.as_jiff().as_millisecond(),
            "authorizer": { "jwt": { "claims": jwt_claims, "scopes": null } },
        },
        "isBase64Encoded": is_base64,
    });
    if !query.is_empty() {
        event["queryStringParameters"] = json!(query);
    }
    if !path_params.is_empty() {
        event["pathParameters"] = json!(path_params);
    }
    if !body.is_empty() {
        event["body"] = json!(body_text);
    }
    event
}

fn header_map_get(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

mod base64_engine {
    pub use base64::engine::general_purpose::STANDARD;
    pub use base64::Engine;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvitationRequest {
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PracticeRequest {
    name: String,
    admin_first_name: Option<String>,
    admin_last_name: Option<String>,
    admin_email: Option<String>,
    /// The operator's `practice sms-number`, in the same call.
    sms_number: Option<String>,
    /// The operator's `--staff-totp optional` (ACCT-3): false for a practice whose staff sign
    /// in with a password alone (the demo practice). Absent = required.
    totp_required_for_staff: Option<bool>,
}

/// Development-only routes (API.md "Local development only").
async fn local_route(gw: &Gateway, method: &Method, route: &str, body: &Bytes) -> Response {
    match (method.as_str(), route) {
        // The sign-in picker of the web app (local only): the seeded demo users with their
        // usernames and passwords; the page signs in with them at the user pool.
        ("GET", "demo-users") => web::demo_users(),
        ("GET", "health") => {
            (StatusCode::OK, [("content-type", "application/json")], r#"{"status":"ok"}"#).into_response()
        }
        ("POST", "practices") => match serde_json::from_slice::<PracticeRequest>(body) {
            Ok(p) => {
                // The operator command's local face: the same code, with the operator's rights.
                let operator = &gw.functions.operator;
                let result = async {
                    let (practice_id, admin_id) = carethread_core::ops::onboarding::create_practice(
                        operator,
                        &p.name,
                        p.admin_first_name.as_deref().unwrap_or("Practice"),
                        p.admin_last_name.as_deref().unwrap_or("Admin"),
                        p.admin_email.as_deref().unwrap_or("admin@example.test"),
                        p.totp_required_for_staff.unwrap_or(true),
                    )
                    .await?;
                    carethread_core::ops::accounts::sync_staff_by_id(operator, &practice_id, &admin_id).await?;
                    if let Some(number) = p.sms_number.as_deref() {
                        carethread_core::ops::settings::assign_sms_number(operator, &practice_id, Some(number)).await?;
                    }
                    Ok::<_, Error>((practice_id, admin_id))
                }
                .await;
                match result {
                    Ok((practice_id, admin_id)) => (
                        StatusCode::CREATED,
                        [("content-type", "application/json")],
                        json!({ "practiceId": practice_id, "adminId": admin_id }).to_string(),
                    )
                        .into_response(),
                    Err(e) => problem(e),
                }
            }
            Err(e) => problem(Error::bad_request(format!("malformed practice request: {e}"))),
        },
        // The invitation e-mail's temporary password (invitations.rs).
        ("POST", "invitations") => match serde_json::from_slice::<InvitationRequest>(body) {
            Ok(r) => match gw.functions.mailbox.temporary_password(&r.username).await {
                Ok(password) => (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    json!({ "username": r.username, "temporaryPassword": password }).to_string(),
                )
                    .into_response(),
                Err(e) => problem(e),
            },
            Err(e) => problem(Error::bad_request(format!("malformed invitation request: {e}"))),
        },
        // NOTIFY-4: an inbound text, as End User Messaging would publish it to the inbound
        // topic: `{originationNumber, destinationNumber, messageBody, inboundMessageId}`.
        ("POST", "sms") => {
            let message = String::from_utf8_lossy(body).into_owned();
            let delivery = carethread_core::jobs::sms_inbound::sns_delivery(message);
            let invocation = lambda_http::lambda_runtime::LambdaEvent::new(delivery, Default::default());
            match sms_inbound::handle(gw.app("sms-inbound"), invocation).await {
                Ok(received) => {
                    let body = serde_json::to_string(&received).unwrap_or_default();
                    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
                }
                Err(e) => problem(Error::bad_request(format!("inbound text not taken: {e}"))),
            }
        }
        _ => problem(Error::NotFound("route")),
    }
}
