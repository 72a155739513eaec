//! The route table: every HTTP route and the function that serves it. template.yaml declares
//! the same routes (a test compares them), and the local gateway serves exactly these.

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    /// Whether the route honors an `Idempotency-Key` (the routes that create something): a
    /// retried request with the same key answers the first answer and writes nothing.
    pub idempotent: bool,
}

pub const ROUTES: &[Route] = &[
    Route { method: "POST", path: "/conversations", function: "compose", idempotent: true },
    Route { method: "POST", path: "/conversations/{id}/messages", function: "reply", idempotent: true },
    Route { method: "POST", path: "/conversations/{id}/withdraw", function: "reply", idempotent: false },
    Route { method: "GET", path: "/inbox", function: "list-inbox", idempotent: false },
    Route { method: "GET", path: "/inbox/stats", function: "list-inbox", idempotent: false },
    Route { method: "GET", path: "/conversations/{id}", function: "get-conversation", idempotent: false },
    Route { method: "POST", path: "/conversations/{id}/assign", function: "assign", idempotent: true },
    Route { method: "PUT", path: "/conversations/{id}/state", function: "conversation-state", idempotent: false },
    Route { method: "POST", path: "/attachments", function: "attachment-presign", idempotent: true },
    Route { method: "GET", path: "/attachments/{id}", function: "attachment-presign", idempotent: false },
    Route { method: "POST", path: "/staff", function: "directory", idempotent: true },
    Route { method: "POST", path: "/patients", function: "directory", idempotent: true },
    Route { method: "POST", path: "/workgroups", function: "directory", idempotent: true },
    Route { method: "GET", path: "/patients", function: "directory", idempotent: false },
    Route { method: "GET", path: "/staff", function: "directory", idempotent: false },
    Route { method: "GET", path: "/workgroups", function: "directory", idempotent: false },
    Route { method: "PATCH", path: "/workgroups/{id}", function: "directory", idempotent: false },
    Route { method: "PATCH", path: "/staff/{id}", function: "directory", idempotent: false },
    Route { method: "POST", path: "/staff/{id}/invitation", function: "directory", idempotent: false },
    Route { method: "GET", path: "/patients/{id}", function: "directory", idempotent: false },
    Route { method: "PATCH", path: "/patients/{id}", function: "directory", idempotent: false },
    Route { method: "POST", path: "/patients/{id}/invitation", function: "directory", idempotent: false },
    Route { method: "DELETE", path: "/staff/{id}/totp", function: "directory", idempotent: false },
    Route { method: "DELETE", path: "/patients/{id}/totp", function: "directory", idempotent: false },
    Route { method: "POST", path: "/drafts", function: "drafts", idempotent: true },
    Route { method: "GET", path: "/drafts", function: "drafts", idempotent: false },
    Route { method: "GET", path: "/drafts/{id}", function: "drafts", idempotent: false },
    Route { method: "PUT", path: "/drafts/{id}", function: "drafts", idempotent: false },
    Route { method: "DELETE", path: "/drafts/{id}", function: "drafts", idempotent: false },
    Route { method: "POST", path: "/drafts/{id}/send", function: "drafts", idempotent: true },
    Route { method: "POST", path: "/conversations/{id}/close", function: "conversation-state", idempotent: false },
    Route { method: "POST", path: "/conversations/{id}/reopen", function: "conversation-state", idempotent: false },
    Route { method: "GET", path: "/settings", function: "settings", idempotent: false },
    Route { method: "PUT", path: "/settings", function: "settings", idempotent: false },
    Route { method: "GET", path: "/me/out-of-office", function: "settings", idempotent: false },
    Route { method: "PUT", path: "/me/out-of-office", function: "settings", idempotent: false },
    Route { method: "GET", path: "/me/notifications", function: "settings", idempotent: false },
    Route { method: "PUT", path: "/me/notifications", function: "settings", idempotent: false },
    Route { method: "POST", path: "/me/notifications/verification", function: "settings", idempotent: false },
    Route { method: "GET", path: "/me/totp", function: "settings", idempotent: false },
    Route { method: "POST", path: "/me/totp", function: "settings", idempotent: false },
    Route { method: "GET", path: "/portal/banner", function: "settings", idempotent: false },
    Route { method: "GET", path: "/conversations/{id}/export", function: "get-conversation", idempotent: false },
    Route {
        method: "POST",
        path: "/conversations/{id}/messages/{messageId}/tasks",
        function: "tasks",
        idempotent: true,
    },
    Route { method: "GET", path: "/tasks", function: "tasks", idempotent: false },
    Route { method: "PATCH", path: "/tasks/{id}", function: "tasks", idempotent: false },
    Route { method: "GET", path: "/saved-replies", function: "saved-replies", idempotent: false },
    Route { method: "POST", path: "/saved-replies", function: "saved-replies", idempotent: true },
    Route { method: "POST", path: "/saved-replies/{id}/render", function: "saved-replies", idempotent: false },
    Route { method: "POST", path: "/conversations/{id}/forward", function: "assign", idempotent: true },
    Route { method: "POST", path: "/broadcasts", function: "broadcasts", idempotent: true },
    Route { method: "GET", path: "/reports/billing", function: "reports", idempotent: false },
    Route { method: "GET", path: "/reports/response-times", function: "reports", idempotent: false },
    Route { method: "POST", path: "/conversations/{id}/evisit", function: "evisits", idempotent: false },
    Route { method: "POST", path: "/conversations/{id}/evisit/time", function: "evisits", idempotent: false },
    Route { method: "GET", path: "/conversations/{id}/evisit", function: "evisits", idempotent: false },
    Route { method: "PATCH", path: "/conversations/{id}/evisit", function: "evisits", idempotent: false },
    Route { method: "GET", path: "/patients/{id}/evisit-consent", function: "evisits", idempotent: false },
    Route { method: "PUT", path: "/patients/{id}/evisit-consent", function: "evisits", idempotent: false },
    Route { method: "POST", path: "/patients/{id}/visits", function: "evisits", idempotent: false },
    Route { method: "GET", path: "/audit", function: "reports", idempotent: false },
    Route { method: "GET", path: "/audit/verification", function: "reports", idempotent: false },
    Route { method: "DELETE", path: "/conversations/{id}", function: "delete", idempotent: false },
    Route { method: "DELETE", path: "/conversations/{id}/messages/{messageId}", function: "delete", idempotent: false },
];

/// Whether the route of a route key (`POST /conversations`) honors an `Idempotency-Key`.
pub fn honors_idempotency(route_key: &str) -> bool {
    ROUTES.iter().any(|r| r.idempotent && route_key.split_once(' ') == Some((r.method, r.path)))
}

/// The routes whose operation reads the caller's record in the one batch of what it needs and
/// admits the caller itself (`App::admit`), or checks it as a condition of its transaction
/// (`App::commit_admitted`: the inbox page, the patient search), instead of a GetItem of its own before the
/// operation (issue 18: calls per request). The operation admits before it writes anything
/// or answers; `api::serve` checks any request it did not admit before answering, so a
/// refusal on the way (a 404, a 422) still cannot reach a caller who no longer acts.
const CALLER_READ_BY_OPERATION: &[&str] = &[
    "POST /conversations",
    "GET /inbox",
    "GET /inbox/stats",
    "GET /patients",
    "POST /attachments",
    "GET /conversations/{id}",
    "POST /conversations/{id}/messages",
    "POST /conversations/{id}/withdraw",
    "POST /conversations/{id}/assign",
];

pub fn checks_caller_in_its_read(route_key: &str) -> bool {
    CALLER_READ_BY_OPERATION.contains(&route_key)
}

/// Matches a concrete path against a route template, returning the path parameters.
pub fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    for (ts, ps) in t.iter().zip(&p) {
        if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if ps.is_empty() {
                return None;
            }
            params.push((name.to_string(), ps.to_string()));
        } else if ts != ps {
            return None;
        }
    }
    Some(params)
}

/// The path parameters of a matched route, by name (`id`, `messageId`).
pub type PathParams = Vec<(String, String)>;

/// The route for a method and path: `Ok(route, params)`, or `Err(true)` when the path exists
/// under another method (405), `Err(false)` when it does not exist (404).
pub fn find(method: &str, path: &str) -> Result<(&'static Route, PathParams), bool> {
    let mut path_exists = false;
    // Literal segments win over parameters (`/inbox/stats` before `/inbox/{x}`): the
    // table lists no overlapping templates, so the first match is the only one.
    for r in ROUTES {
        if let Some(params) = match_path(r.path, path) {
            if r.method == method {
                return Ok((r, params));
            }
            path_exists = true;
        }
    }
    Err(path_exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_parameters() {
        let (r, params) = find("POST", "/conversations/cnv_1/messages").unwrap();
        assert_eq!(r.function, "reply");
        assert_eq!(params, vec![("id".to_string(), "cnv_1".to_string())]);
        assert_eq!(find("GET", "/inbox/stats").unwrap().0.path, "/inbox/stats");
        assert_eq!(find("DELETE", "/inbox").err(), Some(true));
        assert_eq!(find("GET", "/nope").err(), Some(false));
        assert!(find("GET", "/conversations//").is_err());
    }

    #[test]
    fn only_routes_that_create_something_honor_an_idempotency_key() {
        assert!(honors_idempotency("POST /conversations"));
        assert!(honors_idempotency("POST /conversations/{id}/messages/{messageId}/tasks"));
        assert!(!honors_idempotency("PUT /conversations/{id}/state"));
        assert!(!honors_idempotency("GET /conversations/{id}"));
        assert!(ROUTES.iter().filter(|r| r.idempotent).all(|r| r.method == "POST"));
    }

    /// SEC-4: a misspelt entry would only cost a GetItem, but the list must name real routes
    /// for the check it moves into the operation to be where the list says it is.
    #[test]
    fn sec_4_the_routes_that_admit_their_caller_in_their_read_exist() {
        for key in CALLER_READ_BY_OPERATION {
            assert!(ROUTES.iter().any(|r| format!("{} {}", r.method, r.path) == *key), "{key} is no route");
            assert!(checks_caller_in_its_read(key));
        }
        assert!(!checks_caller_in_its_read("GET /staff"), "the staff list is checked before it is read");
    }
}
