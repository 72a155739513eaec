//! Patient records: renames carried everywhere, care-team changes, who reads a record, and search
//! after a delete (ACCT-2, CONV-6).

use super::*;

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
