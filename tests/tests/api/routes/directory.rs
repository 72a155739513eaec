//! The directory, the patient finder, idempotent creates and unknown routes (ROLE-1, ROLE-6).

use super::*;

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let (app, p) = setup().await;
    let body = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Once", "body": "Only once" });
    let key = [("idempotency-key", "compose-1")];
    let first = app.send("POST", "/conversations", Some(&p.doctor.token), Some(&body), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = app.send("POST", "/conversations", Some(&p.doctor.token), Some(&body), &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "the first answer, as it was");
    assert_eq!(app.inbox_ids(&p.jane).await.len(), 1, "one conversation");
    let other = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Twice", "body": "Different" });
    let res = app.send("POST", "/conversations", Some(&p.doctor.token), Some(&other), &key).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    // Keys are scoped to the caller: another user may use the same key.
    let res = app.send("POST", "/conversations", Some(&p.doctor2.token), Some(&other), &key).await;
    assert_eq!(res.status, StatusCode::CREATED);
}

#[tokio::test]
async fn directory_patient_finder_matches_name_prefixes_without_plaintext() {
    let (app, p) = setup().await;
    let jose = app.add_patient(&p.id, &p.admin, "José", "Álvarez", json!({})).await;
    let (other_pid, other_admin) = app.new_practice("Elsewhere").await;
    app.add_patient(&other_pid, &other_admin, "Josephine", "Other", json!({})).await;
    for q in ["JOS", "jose", "alv", "Álvarez", "jose alv"] {
        let res = app.get(&p.front_desk.token, &format!("/patients?q={}", urlencode(q))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let ids: Vec<&str> = res.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&jose.id.as_str()), "{q}");
        assert_eq!(ids.len(), 1, "{q}: only this practice's José ({ids:?})");
    }
    let res = app.get(&p.front_desk.token, "/patients?q=jo").await;
    assert_eq!(res.body["items"].as_array().unwrap().len(), 2, "José and John");
    let res = app.get(&p.front_desk.token, "/patients?q=ja").await;
    assert_eq!(res.body["items"][0]["firstName"], "Jane");
    assert_problem(&app.get(&p.front_desk.token, "/patients?q=j").await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_problem(&app.get(&p.jane.token, "/patients?q=jo").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn role_1_directory_changes_are_for_admin_roles() {
    let (app, p) = setup().await;
    let staff = json!({ "firstName": "New", "lastName": "Person", "role": "nurse", "email": "new@example.test" });
    assert_problem(&app.post(&p.nurse.token, "/staff", staff.clone()).await, StatusCode::FORBIDDEN);
    assert_problem(
        &app.post(&p.doctor.token, "/patients", json!({ "firstName": "A", "lastName": "B" })).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.post(&p.manager.token, "/staff", staff).await.status, StatusCode::CREATED);
    let res = app
        .post(
            &p.admin.token,
            "/staff",
            json!({ "firstName": "P", "lastName": "Q", "role": "patient", "email": "p@example.test" }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post(
            &p.admin.token,
            "/patients",
            json!({ "firstName": "A", "lastName": "B", "primaryProviderId": p.nurse.id }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "primaryProviderId");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problems() {
    let (app, p) = setup().await;
    assert_problem(&app.get(&p.doctor.token, "/nothing-here").await, StatusCode::NOT_FOUND);
    let res = app.send("DELETE", "/inbox", Some(&p.doctor.token), None, &[]).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_problem(&app.get(&p.doctor.token, "/conversations/..%2F..%2Fetc").await, StatusCode::NOT_FOUND);
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn role_6_staff_and_workgroup_lists_name_colleagues_for_staff_only() {
    let (app, p) = setup().await;
    let gone = app.add_staff(&p.id, &p.admin, "Gone", "nurse", json!({ "active": false })).await;
    let (_, other_admin) = app.new_practice("Other Practice").await;

    let staff = app.get(&p.nurse.token, "/staff").await;
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.body);
    let items = staff.body["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for user in [&p.admin, &p.manager, &p.doctor, &p.doctor2, &p.nurse, &p.front_desk, &p.biller] {
        assert!(ids.contains(&user.id.as_str()), "{} is listed", user.id);
    }
    assert!(!ids.contains(&gone.id.as_str()), "deactivated staff are not offered");
    assert!(!ids.contains(&other_admin.id.as_str()), "another practice's staff are not listed");
    let nurse = items.iter().find(|s| s["id"] == json!(p.nurse.id)).unwrap();
    assert_eq!(nurse["firstName"], "Sam");
    assert_eq!(nurse["role"], "nurse");
    let mut keys: Vec<&String> = nurse.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["firstName", "id", "lastName", "role"], "no emails or phones in the list");

    let groups = app.get(&p.front_desk.token, "/workgroups").await;
    assert_eq!(groups.status, StatusCode::OK, "{}", groups.body);
    let billing = groups.body["items"].as_array().unwrap().iter().find(|g| g["name"] == "Billing").unwrap();
    assert_eq!(billing["id"], json!(p.billing_id));
    assert_eq!(billing["memberIds"], json!([p.biller.id]));

    for path in ["/staff", "/workgroups"] {
        assert_problem(&app.get(&p.jane.token, path).await, StatusCode::FORBIDDEN);
    }
}
