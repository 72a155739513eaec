//! The chart transcript of a conversation, as text and as FHIR R4 Communications (CONV-8).

use super::*;

/// A patient conversation with a patient reply, an internal note and an urgent staff message,
/// which the patient has read.
async fn conversation_to_export(app: &TestApp, p: &DemoPractice) -> String {
    let cid = app
        .start_conversation(
            &p.doctor,
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Knee", "body": "How is the knee?" }),
        )
        .await;
    let path = format!("/conversations/{cid}/messages");
    assert_eq!(app.post(&p.jane.token, &path, json!({ "body": "Better." })).await.status, StatusCode::CREATED);
    assert_eq!(
        app.post(&p.doctor.token, &path, json!({ "body": "Staff-only note", "internal": true })).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&p.doctor.token, &path, json!({ "body": "Come Monday.", "priority": "urgent" })).await.status,
        StatusCode::CREATED
    );
    app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    cid
}

#[tokio::test]
async fn conv_8_the_text_transcript_holds_what_the_patient_saw_and_no_internal_note() {
    let (app, p) = setup().await;
    let cid = conversation_to_export(&app, &p).await;

    let res = app.get_raw(&p.doctor.token, &format!("/conversations/{cid}/export?format=text"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains("Conversation: Knee") && text.contains("Patient: Jane Smith") && text.contains("Better."));
    assert!(text.contains("[URGENT]"));
    assert!(!text.contains("Staff-only note"), "internal notes are not part of the chart transcript");
}

#[tokio::test]
async fn conv_8_the_fhir_export_is_a_bundle_of_r4_communications_in_reply_order() {
    let (app, p) = setup().await;
    let cid = conversation_to_export(&app, &p).await;

    let res = app.get_raw(&p.doctor.token, &format!("/conversations/{cid}/export?format=fhir"), None).await;
    assert_eq!(res.headers()["content-type"], "application/fhir+json");
    let bundle: Value = res.json().await.unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let fhir_id = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    let event_status =
        ["preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"];
    let request_priority = ["routine", "urgent", "asap", "stat"];
    for (i, e) in entries.iter().enumerate() {
        let c = &e["resource"];
        assert_eq!(c["resourceType"], "Communication");
        assert!(fhir_id(c["id"].as_str().unwrap()), "{}", c["id"]);
        assert!(event_status.contains(&c["status"].as_str().unwrap()), "status is required and from event-status");
        assert!(request_priority.contains(&c["priority"].as_str().unwrap()));
        assert_eq!(
            c["category"][0]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/communication-category"
        );
        assert_eq!(c["subject"]["reference"], json!(format!("Patient/{}", p.jane.id.replace('_', "-"))));
        assert!(c["sender"]["reference"].as_str().unwrap().split('/').nth(1).is_some_and(fhir_id));
        assert!(!c["recipient"].as_array().unwrap().is_empty());
        assert!(c["sent"].as_str().unwrap().ends_with('Z'));
        assert!(c["payload"][0]["contentString"].is_string());
        if i > 0 {
            assert!(c["inResponseTo"][0]["reference"].as_str().unwrap().starts_with("Communication/"));
        }
    }
    assert_eq!(
        entries[0]["resource"]["sender"]["reference"],
        json!(format!("Practitioner/{}", p.doctor.id.replace('_', "-")))
    );
    assert_eq!(
        entries[1]["resource"]["sender"]["reference"],
        json!(format!("Patient/{}", p.jane.id.replace('_', "-")))
    );
    assert_eq!(entries[2]["resource"]["priority"], "urgent");
    assert!(entries[0]["resource"]["received"].is_string(), "Jane read it");
}

#[tokio::test]
async fn conv_8_staff_who_see_the_conversation_export_it_others_are_refused_and_formats_are_named() {
    let (app, p) = setup().await;
    let cid = conversation_to_export(&app, &p).await;

    // Staff only; invisible is 404; a bad format is 422.
    assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}/export")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&p.front_desk.token, &format!("/conversations/{cid}/export")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&p.doctor.token, &format!("/conversations/{cid}/export?format=pdf")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
