//! The authorization matrix (issue 7, point 1; ROLE-2, ROLE-3, SEC-4), generated from the route
//! table: every route × every identity × every target, against the expected outcome. A route
//! added to `routes::ROUTES` without a line here fails the test. Invisible targets answer 404
//! exactly as missing ones and cost no KMS or S3 call; 403 only where the caller can see the
//! thing but may not do the action.

use carethread_core::routes::ROUTES;
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;

mod matrix;
mod world;

use matrix::*;
use world::*;

#[tokio::test]
async fn role_2_role_3_sec_4_every_route_every_identity_every_target() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let routes = matrix();
    // Generated from the route table: a route without a line here is a failure. The account
    // lifecycle routes name users, not the targets this matrix builds; their refusals (another
    // practice's admin 404, staff outside the admin class 403, patients 403) are proven in
    // tests/tests/api/accounts/ (the second-factor reset in findings/second_factor.rs); a
    // workgroup's change in tests/tests/api/workgroups.rs; a patient's e-visit consent and
    // visits in tests/tests/api/evisits.rs.
    let lifecycle = [
        "/patients/{id}/evisit-consent",
        "/patients/{id}/visits",
        "/workgroups/{id}",
        "/staff/{id}",
        "/staff/{id}/invitation",
        "/staff/{id}/totp",
        "/patients/{id}",
        "/patients/{id}/invitation",
        "/patients/{id}/totp",
    ];
    let routes_here: Vec<_> = ROUTES.iter().filter(|r| !lifecycle.contains(&r.path)).collect();
    for r in routes_here.iter() {
        assert!(
            routes.iter().any(|m| m.method == r.method && m.path == r.path),
            "{} {} is not in the authorization matrix",
            r.method,
            r.path
        );
    }
    assert_eq!(routes.len(), routes_here.len());

    let ordered = routes.iter().filter(|r| !r.destructive).chain(routes.iter().filter(|r| r.destructive));
    let (mut cases, mut mismatches) = (0, Vec::new());
    let mut hidden_with_side_calls = Vec::new();
    for r in ordered {
        for &target in r.targets {
            for who in EVERYONE {
                let (path, body) = request(r, who, target, &w);
                let expect = expected(r, who, target);
                let before = app.app().calls.snapshot();
                let token = w.tokens[&who].as_deref();
                let answer = app.send(r.method, &path, token, body.as_ref(), &[]).await;
                cases += 1;
                let got = outcome_of(answer.status);
                if got != Some(expect) {
                    mismatches.push(format!(
                        "{} {} as {who:?} on {target:?}: expected {expect:?}, got {} {}",
                        r.method,
                        r.path,
                        answer.status,
                        answer.body.get("detail").cloned().unwrap_or_default()
                    ));
                }
                if expect == Outcome::Hidden {
                    let side: Vec<String> = app
                        .app()
                        .calls
                        .since(&before)
                        .into_iter()
                        .filter(|(k, _)| k.starts_with("KMS.") || k.starts_with("S3."))
                        .map(|(k, n)| format!("{k}×{n}"))
                        .collect();
                    if !side.is_empty() {
                        hidden_with_side_calls
                            .push(format!("{} {} as {who:?} on {target:?}: {side:?}", r.method, r.path));
                    }
                }
            }
        }
    }
    println!(
        "authorization matrix: {cases} cases over {} routes × {} identities, {} mismatches",
        routes.len(),
        EVERYONE.len(),
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{} of {cases} cases differ:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(
        hidden_with_side_calls.is_empty(),
        "invisible targets cost KMS or S3 calls:\n{}",
        hidden_with_side_calls.join("\n")
    );
}

/// Every text of every item in the test's table (a test-side Scan of its own table).
async fn table_texts(app: &TestApp) -> Vec<String> {
    let mut texts = Vec::new();
    let mut start = None;
    loop {
        let out = app.dynamodb.scan().table_name(&app.table).set_exclusive_start_key(start).send().await.unwrap();
        for item in out.items.unwrap_or_default() {
            texts.extend(item_texts(&item));
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return texts,
        }
    }
}

#[tokio::test]
async fn mass_assignment_fields_that_set_practice_sender_patient_role_status_or_times_are_never_stored() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let fields = ["practiceId", "senderId", "sender", "patientId", "role", "status", "createdAt", "actorId", "id"];
    let (mut cases, mut refused) = (0, 0);
    for r in matrix().iter().filter(|r| r.method != "GET" && r.method != "DELETE" && !r.destructive) {
        let who = if r.need == Need::Author { Who::Doctor } else { Who::Admin };
        let target = r.targets.iter().copied().find(|t| *t != Target::OtherPractice).unwrap();
        let who = if r.path.starts_with("/drafts/") { Who::Doctor } else { who };
        let (path, body) = request(r, who, target, &w);
        let Some(Value::Object(body)) = body else { continue };
        for field in fields.iter().filter(|f| !body.contains_key(**f)) {
            let mut tampered = body.clone();
            tampered.insert(field.to_string(), json!(format!("evil-{field}")));
            let answer =
                app.send(r.method, &path, w.tokens[&who].as_deref(), Some(&Value::Object(tampered)), &[]).await;
            cases += 1;
            if answer.status.is_client_error() {
                refused += 1;
            } else {
                assert!(
                    !answer.body.to_string().contains("evil-"),
                    "{} {} echoed {field}: {}",
                    r.method,
                    r.path,
                    answer.body
                );
            }
        }
    }
    let stored: Vec<String> = table_texts(&app).await.into_iter().filter(|t| t.contains("evil-")).collect();
    assert!(stored.is_empty(), "stored: {stored:?}");
    println!("mass assignment: {cases} tampered bodies, {refused} refused, the rest ignored; none stored");
}

#[tokio::test]
async fn patients_never_receive_staff_only_fields() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let p = &w.p;
    let cid = &w.ids[&Target::PatientConversation].conversation;
    let att = &w.ids[&Target::PatientConversation].attachment;
    let note = app
        .post(
            &p.nurse.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "STAFFONLY note", "internal": true }),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    let assign = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/assign"),
            json!({ "assignees": [{ "type": "staff", "id": p.nurse.id }], "comment": "STAFFONLY comment" }),
        )
        .await;
    assert_eq!(assign.status, StatusCode::OK, "{}", assign.body);
    let staff_view = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await.body.to_string();
    assert!(staff_view.contains("STAFFONLY note"), "staff see the note");
    let reads = [
        format!("/conversations/{cid}"),
        "/inbox".to_string(),
        "/inbox?q=matrix".to_string(),
        "/inbox/stats".to_string(),
        format!("/attachments/{att}"),
        "/me/notifications".to_string(),
        "/portal/banner".to_string(),
        "/drafts".to_string(),
    ];
    let forbidden_text =
        ["STAFFONLY", "objectKey", "\"pk\"", "gsi1", "careTeam", "viewers", "assignments", p.nurse.id.as_str()];
    for path in &reads {
        let answer = app.get(&p.jane.token, path).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.status);
        let text = answer.body.to_string();
        for f in forbidden_text {
            assert!(!text.contains(f), "{path} gives the patient {f:?}: {text}");
        }
    }
    println!(
        "staff-only fields: {} patient reads checked for {} staff-only markers",
        reads.len(),
        forbidden_text.len()
    );
}
