//! A user lifecycle driven by the directory: onboarding, deactivation, role changes, portal access,
//! concurrent edits (ACCT-1, ACCT-2, SEC-4).

use super::*;

/// The user as the pool holds it: enabled, status, and attributes by name.
async fn pool_user(app: &TestApp, username: &str) -> (bool, Option<UserStatusType>, Value) {
    let u = app.cognito.admin_get_user().user_pool_id(&app.pool_id).username(username).send().await.expect("user");
    let attrs: serde_json::Map<String, Value> =
        u.user_attributes().iter().map(|a: &AttributeType| (a.name().to_string(), json!(a.value()))).collect();
    (u.enabled(), u.user_status().cloned(), Value::Object(attrs))
}

#[tokio::test]
async fn acct_1_onboarding_creates_enabled_pool_users_with_the_directorys_attributes() {
    let (app, p) = setup().await;
    let (enabled, _, attrs) = pool_user(&app, &p.admin.id).await;
    assert!(enabled);
    assert_eq!(attrs["custom:role"], "admin");
    assert_eq!(attrs["custom:practice_id"], json!(p.id));
    let added = app
        .post(
            &p.admin.token,
            "/staff",
            json!({ "firstName": "Nia", "lastName": "Lee", "role": "nurse",
        "email": "nia@example.test" }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let nia = added.body["staff"]["id"].as_str().unwrap().to_string();
    let (enabled, status_new, attrs) = pool_user(&app, &nia).await;
    assert!(enabled);
    assert_eq!(status_new, Some(UserStatusType::ForceChangePassword), "invited: a temporary password by e-mail");
    assert_eq!((attrs["custom:role"].as_str(), attrs["email"].as_str()), (Some("nurse"), Some("nia@example.test")));
    assert_eq!(attrs["custom:practice_id"], json!(p.id));
    assert!(attrs.get("custom:patient_id").is_none());
    // A portal patient: its username is its patient id, and the claim says so; one with only a
    // phone is invited by SMS.
    let (enabled, _, attrs) = pool_user(&app, &p.jane.id).await;
    assert!(enabled);
    assert_eq!(
        (attrs["custom:role"].as_str(), attrs["custom:patient_id"].as_str()),
        (Some("patient"), Some(p.jane.id.as_str()))
    );
    // A patient without portal access has no sign-in at all.
    let offline = app.add_patient(&p.id, &p.admin, "Omar", "Nasser", json!({ "portalAccess": false })).await;
    let missing = app.cognito.admin_get_user().user_pool_id(&app.pool_id).username(&offline.id).send().await;
    assert!(missing.is_err(), "no pool user for a patient without portal access");
}

#[tokio::test]
async fn acct_2_deactivation_disables_the_user_and_stops_its_live_token_at_once() {
    let (app, p) = setup().await;
    assert_eq!(app.get(&p.nurse.token, "/inbox").await.status, StatusCode::OK);
    let res = app
        .send("PATCH", &format!("/staff/{}", p.nurse.id), Some(&p.admin.token), Some(&json!({ "active": false })), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["staff"]["active"], false);
    let refused = app.get(&p.nurse.token, "/inbox").await;
    assert_problem(&refused, StatusCode::UNAUTHORIZED);
    assert!(refused.body["type"].as_str().unwrap().ends_with("/sign-in-again"), "{}", refused.body);
    assert!(!pool_user(&app, &p.nurse.id).await.0, "disabled in the pool");
    assert_eq!(
        app.password_sign_in(&p.nurse.id, "Test-Passw0rd-2026").await.err().as_deref(),
        Some("NotAuthorizedException")
    );
    // Reactivation: enabled again, and a new sign-in works.
    let res = app
        .send("PATCH", &format!("/staff/{}", p.nurse.id), Some(&p.admin.token), Some(&json!({ "active": true })), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(pool_user(&app, &p.nurse.id).await.0);
    let token = app.sign_in(&p.nurse.id).await;
    assert_eq!(app.get(&token, "/inbox").await.status, StatusCode::OK);
    // Both changes are audited, on the user's record, by the administrator who made them.
    let events = app.audit_events().await;
    let actions: Vec<(String, String)> = events
        .iter()
        .filter(|e| e.get("recordId").and_then(|v| v.as_s().ok()) == Some(&p.nurse.id))
        .filter_map(|e| Some((e.get("action")?.as_s().ok()?.clone(), e.get("actorId")?.as_s().ok()?.clone())))
        .collect();
    for action in ["staff.deactivate", "staff.reactivate"] {
        assert!(actions.iter().any(|(a, by)| a == action && by == &p.admin.id), "{action} audited: {actions:?}");
    }
    // An administrator cannot lock themself out.
    let own = app
        .send("PATCH", &format!("/staff/{}", p.admin.id), Some(&p.admin.token), Some(&json!({ "active": false })), &[])
        .await;
    assert_problem(&own, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn acct_2_role_2_a_role_change_reaches_the_pool_and_visibility_at_once() {
    let (app, p) = setup().await;
    let cid = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.john.id,
        "subject": "Refill", "body": "Your refill is ready." }),
        )
        .await
        .body["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The front desk may not open a patient conversation it has no part in (ROLE-2).
    assert_eq!(app.get(&p.front_desk.token, &format!("/conversations/{cid}")).await.status, StatusCode::NOT_FOUND);
    let res = app
        .send(
            "PATCH",
            &format!("/staff/{}", p.front_desk.id),
            Some(&p.admin.token),
            Some(&json!({ "role": "nurse_practitioner" })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(pool_user(&app, &p.front_desk.id).await.2["custom:role"], "nurse_practitioner");
    // The old token names the old role: refused, with the instruction to sign in again.
    let stale = app.get(&p.front_desk.token, &format!("/conversations/{cid}")).await;
    assert_problem(&stale, StatusCode::UNAUTHORIZED);
    assert!(stale.body["type"].as_str().unwrap().ends_with("/sign-in-again"));
    let fresh = app.sign_in(&p.front_desk.id).await;
    assert_eq!(claims_of(&fresh)["custom:role"], "nurse_practitioner");
    assert_eq!(app.get(&fresh, &format!("/conversations/{cid}")).await.status, StatusCode::OK, "a provider now");
}

#[tokio::test]
async fn acct_2_another_practices_admin_gets_404_on_every_lifecycle_route() {
    let (app, p) = setup().await;
    let (_, stranger) = app.new_practice("Elsewhere").await;
    let body = json!({ "active": false });
    for (method, path, body) in [
        ("PATCH", format!("/staff/{}", p.nurse.id), Some(&body)),
        ("POST", format!("/staff/{}/invitation", p.nurse.id), None),
        ("PATCH", format!("/patients/{}", p.jane.id), Some(&body)),
        ("POST", format!("/patients/{}/invitation", p.jane.id), None),
    ] {
        let res = app.send(method, &path, Some(&stranger.token), body, &[]).await;
        assert_problem(&res, StatusCode::NOT_FOUND);
    }
    // Nothing changed: the nurse and Jane still act.
    assert_eq!(app.get(&p.nurse.token, "/inbox").await.status, StatusCode::OK);
    assert_eq!(app.get(&p.jane.token, "/inbox").await.status, StatusCode::OK);
    // Staff who are not administrators may not change the directory.
    let res = app.send("PATCH", &format!("/staff/{}", p.nurse.id), Some(&p.doctor.token), Some(&body), &[]).await;
    assert_problem(&res, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn acct_2_portal_access_revoked_stops_the_patient_and_regranted_invites_again() {
    let (app, p) = setup().await;
    let path = format!("/patients/{}", p.jane.id);
    let res = app.send("PATCH", &path, Some(&p.admin.token), Some(&json!({ "portalAccess": false })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_problem(&app.get(&p.jane.token, "/inbox").await, StatusCode::UNAUTHORIZED);
    assert!(!pool_user(&app, &p.jane.id).await.0);
    let res = app.send("PATCH", &path, Some(&p.admin.token), Some(&json!({ "portalAccess": true })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(pool_user(&app, &p.jane.id).await.0);
    let invited = app.send("POST", &format!("{path}/invitation"), Some(&p.admin.token), None, &[]).await;
    assert_problem(&invited, StatusCode::CONFLICT); // she set a password already: reset it instead
    let token = app.sign_in(&p.jane.id).await;
    assert_eq!(app.get(&token, "/inbox").await.status, StatusCode::OK);
    // A care-team change is routing at once: John's new primary provider gets his next message.
    let res = app
        .send(
            "PATCH",
            &format!("/patients/{}", p.john.id),
            Some(&p.admin.token),
            Some(&json!({ "primaryProviderId": p.doctor.id })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let sent =
        app.post(&p.john.token, "/conversations", json!({ "subject": "Question", "body": "Is it ready?" })).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let cid = sent.body["conversation"]["id"].as_str().unwrap().to_string();
    assert!(app.inbox_ids(&p.doctor).await.contains(&cid), "COMPOSE-3: routed to the new primary provider");
}

#[tokio::test]
async fn acct_2_the_last_active_administrator_stays() {
    let (app, p) = setup().await;
    // The practice manager (admin class) may edit users, but not remove the only administrator.
    let path = format!("/staff/{}", p.admin.id);
    for change in [json!({ "active": false }), json!({ "role": "nurse" })] {
        let res = app.send("PATCH", &path, Some(&p.manager.token), Some(&change), &[]).await;
        assert_problem(&res, StatusCode::CONFLICT);
    }
    assert_eq!(app.get(&p.admin.token, "/inbox").await.status, StatusCode::OK, "still the administrator");
    // With a second administrator, the first may go.
    let res = app
        .send(
            "PATCH",
            &format!("/staff/{}", p.manager.id),
            Some(&p.admin.token),
            Some(&json!({ "role": "admin" })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let manager = app.sign_in(&p.manager.id).await;
    let res = app.send("PATCH", &path, Some(&manager), Some(&json!({ "active": false })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

/// Two administrators edit one user from the same read: edits of different fields both stay,
/// and an edit of a field the other changed meanwhile is refused, never silently lost.
#[tokio::test]
async fn acct_2_edits_made_from_one_read_keep_each_other() {
    let (app, p) = setup().await;
    let store = &app.app().store;
    let read = store.staff(&p.id, &p.nurse.user_id()).await.unwrap().expect("the nurse");
    let key = carethread_core::store::place::staff(&p.id, &p.nurse.user_id());
    let mut phone = read.clone();
    phone.phone = "+15550001111".into();
    let mut tx = store.tx();
    assert!(tx.update_changed(carethread_core::store::Guard::Staff, &key, &read, &phone).unwrap());
    assert!(tx.commit().await.unwrap().is_ok());
    // From the same (now stale) read: deactivation touches another field, and stands.
    let mut off = read.clone();
    off.active = false;
    let mut tx = store.tx();
    tx.update_changed(carethread_core::store::Guard::Staff, &key, &read, &off).unwrap();
    assert!(tx.commit().await.unwrap().is_ok());
    let now = store.staff(&p.id, &p.nurse.user_id()).await.unwrap().unwrap();
    assert_eq!((now.phone.as_str(), now.active), ("+15550001111", false), "both edits kept");
    // A third edit of the phone from the first read is refused: it changed since.
    let mut other = read.clone();
    other.phone = "+15550002222".into();
    let mut tx = store.tx();
    tx.update_changed(carethread_core::store::Guard::Staff, &key, &read, &other).unwrap();
    assert!(tx.commit().await.unwrap().is_err(), "a stale edit of a changed field is refused");
    assert_eq!(store.staff(&p.id, &p.nurse.user_id()).await.unwrap().unwrap().phone, "+15550001111");
}

/// SEC-4, ACCT-2 where the operation reads the caller's record itself (in its one batch, or
/// from the directory it reads anyway): a deactivated user's live token is refused on each such
/// route, before anything is written, and a refusal on the way (a 404) does not answer first.
#[tokio::test]
async fn acct_2_sec_4_routes_that_read_the_caller_with_their_data_refuse_a_deactivated_user_and_write_nothing() {
    let (app, p) = setup().await;
    let cid = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Knee", "body": "How is it?" }),
        )
        .await
        .body["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deactivate = json!({ "active": false });
    let res = app.send("PATCH", &format!("/staff/{}", p.doctor.id), Some(&p.admin.token), Some(&deactivate), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let before = app.item_count().await;

    let requests = [
        (
            "POST",
            "/conversations".to_string(),
            Some(json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Again", "body": "Hello" })),
        ),
        ("POST", format!("/conversations/{cid}/messages"), Some(json!({ "body": "Still there?" }))),
        ("GET", format!("/conversations/{cid}"), None),
        (
            "POST",
            format!("/conversations/{cid}/assign"),
            Some(json!({ "assignees": [{ "type": "staff", "id": p.nurse.id }] })),
        ),
        ("GET", "/inbox/stats".to_string(), None),
        // The inbox page and the patient search check their caller in their transaction
        // (`App::commit_admitted`).
        ("GET", "/inbox".to_string(), None),
        ("GET", "/inbox?tab=team&unread=true".to_string(), None),
        ("GET", "/inbox?tab=practice".to_string(), None),
        ("GET", "/inbox?q=knee".to_string(), None),
        ("GET", "/inbox?tab=nonsense".to_string(), None),
        ("GET", "/patients?q=ja".to_string(), None),
        ("GET", "/patients?q=j".to_string(), None),
        (
            "POST",
            "/attachments".to_string(),
            Some(json!({ "fileName": "a.pdf", "contentType": "application/pdf", "size": 10 })),
        ),
        // Refused on the way (no such conversation): still the sign-in problem, not a 404.
        ("GET", "/conversations/cnv_01JZZZZZZZZZZZZZZZZZZZZZZZ".to_string(), None),
    ];
    for (method, path, body) in &requests {
        let res = app.send(method, path, Some(&p.doctor.token), body.as_ref(), &[]).await;
        assert_problem(&res, StatusCode::UNAUTHORIZED);
        assert!(res.body["type"].as_str().unwrap().ends_with("/sign-in-again"), "{method} {path}: {}", res.body);
    }
    assert_eq!(app.item_count().await, before, "nothing written for a refused caller");
}
