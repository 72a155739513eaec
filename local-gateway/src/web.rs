//! The web app (issue 9), served at `/` as CloudFront serves it from the bucket in AWS:
//! the files of `web/dist` (WEB_ROOT), and a `config.json` that tells the app to sign in
//! with a username and password at the local stack's user pool. Only `/`, `/config.json` and files under `/assets/` are
//! served, so no page can shadow an API route; the app routes with the URL's hash. The page
//! at `/` is for browsers (Accept: text/html): an API client there gets the API's 404, as
//! from API Gateway, whose domain has no web app.

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::path::{Component, Path, PathBuf};

fn web_root() -> PathBuf {
    std::env::var_os("WEB_ROOT").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("web/dist"))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The page or asset for this request, or None when the path is not the web app's.
pub async fn serve(method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    let wants_page =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    serve_from(&web_root(), method, path, wants_page).await
}

async fn serve_from(root: &Path, method: &Method, path: &str, wants_page: bool) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let relative = match path {
        "/" | "/index.html" if wants_page => "index.html",
        "/config.json" => return Some(local_config()),
        p if p.starts_with("/assets/") => &p[1..],
        _ => return None,
    };
    // Asset names are Vite's hashed file names: no `..`, no absolute parts.
    let relative = Path::new(relative);
    if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return Some(not_found());
    }
    let file = root.join(relative);
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            // index.html names the hashed assets, so it must not be cached; the assets may.
            let cache = if relative == Path::new("index.html") { "no-cache" } else { "public, max-age=31536000, immutable" };
            Some(
                (
                    StatusCode::OK,
                    [
                        ("content-type", content_type(&file)),
                        ("cache-control", cache),
                        ("x-content-type-options", "nosniff"),
                        ("content-security-policy", CSP),
                    ],
                    bytes,
                )
                    .into_response(),
            )
        }
        Err(_) if relative == Path::new("index.html") => Some(
            (
                StatusCode::OK,
                [("content-type", "text/html; charset=utf-8")],
                "<!doctype html><title>Carethread</title><p>The web app is not built: run <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code> (make dev does).",
            )
                .into_response(),
        ),
        Err(_) => Some(not_found()),
    }
}

/// The same policy CloudFront's response-headers policy sets in template.yaml. `blob:` and
/// the S3 endpoint are for uploads and downloads through presigned URLs.
const CSP: &str = "default-src 'self'; connect-src 'self' http://127.0.0.1:* http://localhost:*; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [("content-type", "text/plain")], "not found").into_response()
}

fn local_config() -> Response {
    let var = |n: &str| std::env::var(n).unwrap_or_default();
    let cognito = json!({ "endpoint": var("AWS_ENDPOINT_URL"), "clientId": var("USER_POOL_CLIENT_ID"), "region": var("AWS_REGION") });
    let config = json!({ "auth": "local", "apiBaseUrl": "", "cognito": cognito });
    (StatusCode::OK, [("content-type", "application/json"), ("cache-control", "no-cache")], config.to_string())
        .into_response()
}

/// The demo users `infra/seed.py` wrote to LOCAL_SEED_FILE, with the demo passwords it set
/// and without tokens: `{practices: [{key, id, name, users: [{key, id, username, password,
/// name, role, patientId, active, portalAccess}]}]}`. Local only: demo accounts of a
/// throwaway stack, for the sign-in page's shortcuts.
pub fn demo_users() -> Response {
    let seeded: Option<Value> = std::env::var_os("LOCAL_SEED_FILE")
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut practices = Vec::new();
    if let Some(Value::Object(map)) = seeded.as_ref().and_then(|s| s.get("practices")) {
        for (key, practice) in map {
            let mut users = Vec::new();
            if let Some(Value::Object(us)) = practice.get("users") {
                for (ukey, u) in us {
                    let role = u.get("role").and_then(Value::as_str).unwrap_or("");
                    users.push(json!({
                        "key": ukey,
                        "id": u.get("id"),
                        "username": u.get("username"),
                        "password": u.get("password"),
                        "name": u.get("name"),
                        "role": role,
                        "patientId": if role == "patient" { u.get("id").cloned() } else { None },
                        "active": u.get("active").cloned().unwrap_or(Value::Bool(true)),
                        "portalAccess": u.get("portalAccess").cloned().unwrap_or(Value::Bool(true)),
                    }));
                }
            }
            practices
                .push(json!({ "key": key, "id": practice.get("id"), "name": practice.get("name"), "users": users }));
        }
    }
    // The demo practice (the one with the most users) first.
    practices.sort_by_key(|p| std::cmp::Reverse(p["users"].as_array().map_or(0, Vec::len)));
    (StatusCode::OK, [("content-type", "application/json")], json!({ "practices": practices }).to_string())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(root: &Path, method: Method, path: &str) -> Option<(StatusCode, String, Vec<u8>)> {
        let res = serve_from(root, &method, path, true).await?;
        let status = res.status();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec();
        Some((status, ct, body))
    }

    #[tokio::test]
    async fn serves_the_app_and_its_assets_and_nothing_else() {
        let root = std::env::temp_dir().join(format!("carethread-web-{}", std::process::id()));
        std::fs::create_dir_all(root.join("assets")).unwrap();
        std::fs::write(root.join("index.html"), "<!doctype html><title>t</title>").unwrap();
        std::fs::write(root.join("assets/app-1.js"), "console.log(1)").unwrap();
        std::fs::write(root.join("secret.txt"), "not served").unwrap();

        let (status, ct, body) = answer(&root, Method::GET, "/").await.unwrap();
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "text/html; charset=utf-8"));
        assert!(body.starts_with(b"<!doctype html>"));
        let (status, ct, _) = answer(&root, Method::GET, "/assets/app-1.js").await.unwrap();
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "text/javascript; charset=utf-8"));
        let (_, _, config) = answer(&root, Method::GET, "/config.json").await.unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&config).unwrap()["auth"], "local");

        // Path tricks never leave the assets folder; other paths are the API's.
        for trick in ["/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets//etc/passwd", "/assets/missing.js"]
        {
            let (status, _, _) = answer(&root, Method::GET, trick).await.unwrap();
            assert_eq!(status, StatusCode::NOT_FOUND, "{trick}");
        }
        assert!(answer(&root, Method::GET, "/secret.txt").await.is_none());
        assert!(answer(&root, Method::GET, "/inbox").await.is_none());
        assert!(answer(&root, Method::POST, "/").await.is_none());
        // An API client (no Accept: text/html) at `/` gets the API's answer, not the page.
        assert!(serve_from(&root, &Method::GET, "/", false).await.is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
