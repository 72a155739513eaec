//! Identity as in production (ACCT-1, ACCT-2, SEC-4): real ID tokens of the stack's user
//! pool, verified as API Gateway's JWT authorizer does, and the user lifecycle driven by the
//! directory.

use aws_sdk_cognitoidentityprovider::types::{AttributeType, UserStatusType};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The user as the pool holds it: enabled, status, and attributes by name.
async fn pool_user(app: &TestApp, username: &str) -> (bool, Option<UserStatusType>, Value) {
    let u = app.cognito.admin_get_user().user_pool_id(&app.pool_id).username(username).send().await.expect("user");
    let attrs: serde_json::Map<String, Value> =
        u.user_attributes().iter().map(|a: &AttributeType| (a.name().to_string(), json!(a.value()))).collect();
    (u.enabled(), u.user_status().cloned(), Value::Object(attrs))
}

#[tokio::test]
async fn acct_1_tokens_are_the_pools_id_tokens_and_the_user_id_is_the_username() {
    let (app, p) = setup().await;
    for user in [&p.doctor, &p.jane] {
        let claims = claims_of(&user.token);
        assert_eq!(claims["cognito:username"], json!(user.id));
        assert_eq!(claims["token_use"], "id");
        assert_ne!(claims["sub"], json!(user.id), "sub is Cognito's own id, never ours");
        assert!(claims["iss"].as_str().unwrap().ends_with(&format!("/{}", app.pool_id)));
    }
    assert_eq!(claims_of(&p.jane.token)["custom:patient_id"], json!(p.jane.id));
    // Staff and patient work end to end with them: compose, reply, inbox.
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id,
        "subject": "Results", "body": "Your results are in." }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let reply = app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Thanks!" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(app.inbox_ids(&p.jane).await, vec![cid.clone()]);
    assert!(app.inbox_ids(&p.doctor).await.contains(&cid));
}

#[tokio::test]
async fn sec_4_hs256_alg_none_edited_and_other_pool_tokens_are_401() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let (app, p) = setup().await;
    let claims = claims_of(&p.doctor.token);
    // HS256 under a guessable secret, with the very claims of a real token.
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let promoted = edit_claims(&p.nurse.token, |c| c["custom:role"] = json!("admin"));
    // A token of another user pool (same emulator, same signing key): its issuer is not ours.
    let other = app.cognito.create_user_pool().pool_name("elsewhere").send().await.unwrap();
    let other_pool = other.user_pool().unwrap().id().unwrap().to_string();
    let client =
        app.cognito.create_user_pool_client().user_pool_id(&other_pool).client_name("web").send().await.unwrap();
    let other_client = client.user_pool_client().unwrap().client_id().unwrap().to_string();
    let idp = &app.cognito;
    idp.admin_create_user().user_pool_id(&other_pool).username(&p.doctor.id).send().await.unwrap();
    let password = "Other-Passw0rd-2026";
    idp.admin_set_user_password()
        .user_pool_id(&other_pool)
        .username(&p.doctor.id)
        .password(password)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let signed_in = idp
        .initiate_auth()
        .client_id(&other_client)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", &p.doctor.id)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .unwrap();
    let foreign = signed_in.authentication_result().unwrap().id_token().unwrap().to_string();
    for (what, token) in [("hs256", hs256), ("alg none", none), ("edited role", promoted), ("other pool", foreign)] {
        let res = app.get(&token, "/inbox").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}: {}", res.body);
    }
    assert_eq!(app.get(&p.nurse.token, "/inbox").await.status, StatusCode::OK, "the unedited token still works");
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
async fn acct_1_the_app_client_cannot_write_the_directorys_claims() {
    let app = TestApp::spawn().await;
    let client = app
        .cognito
        .describe_user_pool_client()
        .user_pool_id(&app.pool_id)
        .client_id(&app.client_id)
        .send()
        .await
        .unwrap();
    let writable: Vec<String> = client.user_pool_client().unwrap().write_attributes().to_vec();
    // The template's list, read as text (its intrinsic tags are not plain YAML).
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let client_block = template.split("\n  UserPoolClient:\n").nth(1).unwrap();
    let declared: Vec<String> = client_block
        .split("      WriteAttributes:\n")
        .nth(1)
        .unwrap()
        .lines()
        .map_while(|l| l.strip_prefix("        - "))
        .map(str::to_string)
        .collect();
    assert_eq!(writable, declared, "the local client is the template's");
    assert!(!declared.is_empty());
    for claim in ["custom:practice_id", "custom:role", "custom:patient_id"] {
        assert!(!declared.iter().any(|a| a == claim), "{claim} is the directory's alone");
    }
}

#[tokio::test]
async fn conv_6_search_a_new_conversation_is_searchable_and_a_delete_leaves_only_its_audit() {
    let (app, p) = setup().await;
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id,
        "subject": "Allergy plan", "body": "Penicillin alternatives" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let found = app.get(&p.doctor.token, "/inbox?q=penicillin").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let ids: Vec<&str> =
        found.body["items"].as_array().unwrap().iter().map(|i| i["conversation"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![cid.as_str()]);
    // A reply too, so more than one message's tokens and outbox items are at stake.
    let reply = app
        .post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Amoxicillin worked" }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let gone = app.send("DELETE", &format!("/conversations/{cid}"), Some(&p.doctor.token), None, &[]).await;
    assert!(gone.status.is_success(), "{}", gone.body);
    let scan = app.dynamodb.scan().table_name(&app.table).send().await.unwrap();
    let left: Vec<String> = scan
        .items()
        .iter()
        .filter(|item| item_texts(item).iter().any(|t| t.contains(&cid)))
        .filter(|item| item.get("entity").and_then(|e| e.as_s().ok()).map(String::as_str) != Some("audit"))
        .map(|item| format!("{:?}", item.get("pk")))
        .collect();
    assert!(left.is_empty(), "items of the deleted conversation remain: {left:?}");
    let found = app.get(&p.doctor.token, "/inbox?q=amoxi").await;
    assert_eq!(found.body["items"], json!([]), "{}", found.body);
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

/// The names of conversations' patients as one user's inbox shows them.
async fn inbox_patient_names(app: &TestApp, token: &str) -> Vec<String> {
    let res = app.get(token, "/inbox?limit=100").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["conversation"]["patient"]["lastName"].as_str().map(str::to_string))
        .collect()
}

/// ACCT-2: a patient's new name reaches every copy of it: the finder, the conversations and
/// their entries in every viewer's inbox, the patient's own name on its messages, and search.
/// The old name finds nothing any more, except where the conversation's own words hold it.
#[tokio::test]
async fn acct_2_a_renamed_patient_is_found_and_shown_by_the_new_name_everywhere() {
    let (app, p) = setup().await;
    let about = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Lab results", "body": "All normal" });
    let res = app.post(&p.doctor.token, "/conversations", about).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let reply =
        app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Thank you" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    // A second conversation whose subject holds the old name: it keeps matching that word.
    let smith = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Smith referral", "body": "Sent" });
    let kept = app.post(&p.doctor.token, "/conversations", smith).await;
    let kept = kept.body["conversation"]["id"].as_str().unwrap().to_string();

    let path = format!("/patients/{}", p.jane.id);
    let res = app.send("PATCH", &path, Some(&p.admin.token), Some(&json!({ "lastName": "Okafor" })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        (&res.body["patient"]["firstName"], &res.body["patient"]["lastName"]),
        (&json!("Jane"), &json!("Okafor"))
    );

    let finder = |q: &'static str| {
        let app = &app;
        let token = p.doctor.token.clone();
        async move {
            let res = app.get(&token, &format!("/patients?q={q}")).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            res.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["lastName"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(finder("okaf").await, vec!["Okafor"]);
    assert_eq!(finder("jane%20ok").await, vec!["Okafor"]);
    assert!(finder("smith").await.is_empty(), "the finder no longer knows the old name");
    for token in [&p.doctor.token, &p.nurse.token, &p.jane.token] {
        let names = inbox_patient_names(&app, token).await;
        assert!(!names.is_empty() && names.iter().all(|n| n == "Okafor"), "{names:?}");
    }
    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["conversation"]["patient"]["lastName"], "Okafor", "{}", thread.body);
    let jane_said =
        thread.body["messages"].as_array().unwrap().iter().find(|m| m["sender"]["type"] == "patient").cloned();
    assert!(jane_said.is_some(), "{}", thread.body["messages"]);
    assert_eq!(jane_said.unwrap()["sender"]["displayName"], "Jane Okafor");

    let search = |q: &'static str| {
        let app = &app;
        let token = p.doctor.token.clone();
        async move {
            let res = app.get(&token, &format!("/inbox?q={q}")).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let mut ids: Vec<String> = res.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["conversation"]["id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    let mut both = vec![cid.clone(), kept.clone()];
    both.sort();
    assert_eq!(search("okafor").await, both);
    assert_eq!(search("smith").await, vec![kept.clone()], "only where its own words hold the old name");
    let rename = app.raw_partition(&format!("PRAC#{}#PAT#{}", p.id, p.jane.id)).await;
    assert!(rename.iter().all(|i| i.get("sk").and_then(|s| s.as_s().ok()).map(String::as_str) != Some("RENAME")));
    let renamed = app.audit_events().await.iter().any(|e| {
        e.get("recordId").and_then(|v| v.as_s().ok()) == Some(&p.jane.id)
            && e.get("action").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("patient.rename")
    });
    assert!(renamed, "the rename is audited");
}

/// ACCT-2, ROLE-2: a care-team change reaches the conversations already about the patient at
/// once: a nurse taken off loses them from the inbox and cannot open them; a member added
/// finds them, unread, with its counts.
#[tokio::test]
async fn acct_2_a_care_team_change_moves_existing_conversations_at_once() {
    let (app, p) = setup().await;
    let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Wound care", "body": "Change daily" });
    let res = app.post(&p.doctor.token, "/conversations", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    assert!(app.inbox_ids(&p.nurse).await.contains(&cid), "the nurse is on Jane's care team");
    let assistant = app.add_staff(&p.id, &p.admin, "Ama", "medical_assistant", json!({})).await;
    assert!(!app.inbox_ids(&assistant).await.contains(&cid));

    let path = format!("/patients/{}", p.jane.id);
    let change = json!({ "assignedStaffIds": [assistant.id] });
    let res = app.send("PATCH", &path, Some(&p.admin.token), Some(&change), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(!app.inbox_ids(&p.nurse).await.contains(&cid), "off the care team, off the inbox");
    assert_eq!(app.get(&p.nurse.token, &format!("/conversations/{cid}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&p.nurse.token, "/inbox/stats").await.body["totalConversations"], 0);
    let inbox = app.get(&assistant.token, "/inbox").await;
    let item = inbox.body["items"].as_array().unwrap().iter().find(|i| i["conversation"]["id"] == json!(cid)).cloned();
    let item = item.expect("on the care team, in the inbox");
    assert_eq!(item["unreadCount"], 1, "{item}");
    assert_eq!(app.get(&assistant.token, "/inbox/stats").await.body["totalConversations"], 1);
    assert_eq!(app.get(&assistant.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn acct_2_administrators_list_deactivated_staff_with_their_contact_others_do_not() {
    let (app, p) = setup().await;
    let res = app
        .send("PATCH", &format!("/staff/{}", p.nurse.id), Some(&p.admin.token), Some(&json!({ "active": false })), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let row = |list: &Value, id: &str| list["items"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned();
    // The everyday list: active staff, names and roles only.
    let everyday = app.get(&p.doctor.token, "/staff").await;
    assert_eq!(everyday.status, StatusCode::OK);
    assert!(row(&everyday.body, &p.nurse.id).is_none(), "deactivated: not addressable");
    assert!(row(&everyday.body, &p.doctor.id).unwrap().get("email").is_none(), "no contact in the everyday list");
    // The administrators' full list: the deactivated nurse too, with email, phone and status.
    let full = app.get(&p.admin.token, "/staff?include=inactive").await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    let nurse = row(&full.body, &p.nurse.id).expect("the deactivated nurse is listed");
    assert_eq!(nurse["active"], false);
    assert!(nurse["email"].as_str().is_some_and(|e| e.contains('@')), "{nurse}");
    assert_eq!(row(&full.body, &p.doctor.id).unwrap()["active"], true);
    assert_problem(&app.get(&p.doctor.token, "/staff?include=inactive").await, StatusCode::FORBIDDEN);
    let res = app.get(&p.admin.token, "/staff?include=everyone").await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "include");
}

#[tokio::test]
async fn acct_2_administrators_read_a_patients_record_others_get_403_or_404() {
    let (app, p) = setup().await;
    let path = format!("/patients/{}", p.jane.id);
    let res = app.get(&p.admin.token, &path).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let patient = &res.body["patient"];
    assert_eq!(patient["id"], p.jane.id.as_str());
    assert_eq!(patient["primaryProviderId"], p.doctor.id.as_str());
    assert_eq!(patient["assignedStaffIds"], json!([p.nurse.id]));
    assert_eq!(patient["active"], true);
    assert!(patient["firstName"].as_str().is_some_and(|n| !n.is_empty()), "names opened: {patient}");
    // A read of PHI is audited, naming the patient shown.
    use aws_sdk_dynamodb::types::AttributeValue;
    let text =
        |e: &std::collections::HashMap<String, AttributeValue>, k: &str| e.get(k).and_then(|v| v.as_s().ok()).cloned();
    let events = app.audit_events().await;
    let viewed = events.iter().any(|e| {
        text(e, "action").as_deref() == Some("patient.view")
            && text(e, "patientId").as_deref() == Some(p.jane.id.as_str())
    });
    assert!(viewed, "the read is audited with the patient");
    // Staff who are not administrators may not; the patient itself may not; nobody elsewhere
    // learns the patient exists.
    assert_problem(&app.get(&p.doctor.token, &path).await, StatusCode::FORBIDDEN);
    assert_problem(&app.get(&p.jane.token, &path).await, StatusCode::FORBIDDEN);
    let (_, stranger) = app.new_practice("Elsewhere Clinic").await;
    assert_problem(&app.get(&stranger.token, &path).await, StatusCode::NOT_FOUND);
    assert_problem(&app.get(&p.admin.token, "/patients/pat_nobody").await, StatusCode::NOT_FOUND);
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

/// The inbox page admits its caller as a condition of its audit transaction, not by a read:
/// a role changed since sign-in fails that condition just as a deactivation does, and the
/// page answers only once the caller signs in again.
#[tokio::test]
async fn acct_2_sec_4_an_inbox_page_refuses_a_token_of_a_role_the_caller_no_longer_has() {
    let (app, p) = setup().await;
    assert_eq!(app.get(&p.nurse.token, "/inbox").await.status, StatusCode::OK);
    let change = json!({ "role": "medical_assistant" });
    let res = app.send("PATCH", &format!("/staff/{}", p.nurse.id), Some(&p.admin.token), Some(&change), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let before = app.audit_events().await.len();

    let res = app.get(&p.nurse.token, "/inbox").await;

    assert_problem(&res, StatusCode::UNAUTHORIZED);
    assert!(res.body["type"].as_str().unwrap().ends_with("/sign-in-again"), "{}", res.body);
    assert_eq!(app.audit_events().await.len(), before, "no page, no audit event of one");
    let token = app.sign_in(&p.nurse.id).await;
    assert_eq!(app.get(&token, "/inbox").await.status, StatusCode::OK, "the new token's role is current");
}
