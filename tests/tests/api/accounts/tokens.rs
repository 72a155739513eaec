//! ID tokens as the pool issues them and as API Gateway verifies them (ACCT-1, SEC-4).

use super::*;

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
