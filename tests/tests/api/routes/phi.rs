//! PHI sealed at rest, bound to where it belongs, audited, and identity from verified tokens only
//! (SEC-1, SEC-2, SEC-4).

use super::*;

#[tokio::test]
async fn sec_1_no_plaintext_phi_is_stored() {
    let (app, p) = setup().await;
    let patient = app
        .add_patient(
            &p.id,
            &p.admin,
            "Quillonia",
            "Zephyrine",
            json!({ "phone": "+15557654321", "primaryProviderId": p.doctor.id }),
        )
        .await;
    let res = app
        .post(&p.doctor.token, "/conversations", json!({ "kind": "patient", "patientId": patient.id, "subject": "Zebraquartz results",
                   "body": "Xylophonic hemoglobin findings", "context": {"kind": "visit", "id": "vis_1", "label": "Mauvewood visit"} }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = id_of(&res.body);
    let res = app.post(&p.doctor.token, "/attachments", json!({ "fileName": "Ultramarinefile.pdf", "contentType": "application/pdf", "size": 10, "conversationId": cid })).await;
    let att = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let _ = app.get(&patient.token, &format!("/conversations/{cid}")).await;

    let partitions = [
        format!("PRAC#{}#CONV#{cid}", p.id),
        format!("PRAC#{}#USER#{}", p.id, p.doctor.id),
        format!("PRAC#{}#USER#{}", p.id, patient.id),
        format!("PRAC#{}#USER#{}", p.id, p.admin.id),
        format!("PRAC#{}#PAT#{}", p.id, patient.id),
        format!("PRAC#{}#ATT#{att}", p.id),
        format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id),
    ];
    let secrets =
        ["zebraquartz", "xylophonic", "hemoglobin", "quillonia", "zephyrine", "7654321", "mauvewood", "ultramarine"];
    let mut items = 0;
    for pk in &partitions {
        for item in app.raw_partition(pk).await {
            items += 1;
            for text in item_texts(&item) {
                let lower = text.to_lowercase();
                for s in secrets {
                    assert!(!lower.contains(s), "plaintext `{s}` stored in {pk}");
                }
            }
        }
    }
    assert!(items >= 8, "the check read the records ({items})");
}

#[tokio::test]
async fn sec_1_a_body_copied_onto_another_conversation_does_not_decrypt() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (app, p) = setup().await;
    let a = id_of(&compose_to(&app, &p.doctor, &p.jane, "A", "Body of A").await);
    let b = id_of(&compose_to(&app, &p.doctor, &p.jane, "B", "Body of B").await);
    let app = &app;
    let msg = |cid: String| {
        let pk = format!("PRAC#{}#CONV#{cid}", p.id);
        async move {
            app.raw_partition(&pk)
                .await
                .into_iter()
                .find(|i| matches!(i.get("sk"), Some(AttributeValue::S(s)) if s.starts_with("MSG#")))
                .unwrap()
        }
    };
    let from_a = msg(a.clone()).await;
    let mut into_b = msg(b.clone()).await;
    into_b.insert("body".into(), from_a["body"].clone());
    app.dynamodb.put_item().table_name(&app.table).set_item(Some(into_b)).send().await.unwrap();

    let res = app.get(&p.doctor.token, &format!("/conversations/{b}")).await;
    assert_problem(&res, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!res.body.to_string().contains("Body of A"));
    assert_eq!(res.body["detail"], "internal error", "no cause in the body");
    assert_eq!(app.get(&p.doctor.token, &format!("/conversations/{a}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn sec_1_sealed_values_are_bound_to_practice_record_and_field() {
    use carethread_core::crypto::Binding;
    let app = TestApp::spawn().await;
    let env = &app.app().envelope;
    let here = Binding { practice_id: "prc_a", record: "cnv_1", field: "body" };
    let sealed = env.seal_str(here, "secret text").await.unwrap();
    assert_eq!(env.open_string(here, &sealed).await.unwrap(), "secret text");
    for other in [
        Binding { practice_id: "prc_b", record: "cnv_1", field: "body" },
        Binding { practice_id: "prc_a", record: "cnv_2", field: "body" },
        Binding { practice_id: "prc_a", record: "cnv_1", field: "subject" },
    ] {
        assert!(env.open(other, &sealed).await.is_err(), "{other:?}");
    }
    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(env.open(here, &tampered).await.is_err());
    // A warm function makes no KMS call per message: the data key is cached.
    let before = app.app().calls.snapshot();
    for i in 0..50 {
        let s = env.seal_str(here, &format!("m{i}")).await.unwrap();
        env.open_string(here, &s).await.unwrap();
    }
    let kms: u64 = app.app().calls.since(&before).iter().filter(|(k, _)| k.starts_with("KMS.")).map(|(_, v)| v).sum();
    assert_eq!(kms, 0, "50 messages sealed and opened without a KMS call");
}

#[tokio::test]
async fn sec_2_phi_reads_and_writes_are_audited_in_their_own_transaction() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (app, p) = setup().await;
    let cid = id_of(&compose_to(&app, &p.doctor, &p.jane, "Audit me", "Private words").await);
    assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    let res = app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": "reply" })).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let events = app.raw_partition(&format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id)).await;
    let field = |i: &std::collections::HashMap<String, AttributeValue>, k: &str| match i.get(k) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    };
    let actions: Vec<(String, String)> = events.iter().map(|e| (field(e, "action"), field(e, "actorId"))).collect();
    assert_eq!(
        actions,
        vec![
            ("conversation.create".to_string(), p.doctor.id.clone()),
            ("conversation.read".to_string(), p.jane.id.clone()),
            ("message.create".to_string(), p.jane.id.clone()),
        ]
    );
    for e in &events {
        assert_eq!(field(e, "outcome"), "success");
        assert!(field(e, "requestId").starts_with("req_"));
        assert_eq!(field(e, "patientId"), p.jane.id);
        assert!(!item_texts(e).iter().any(|t| t.contains("Private words") || t.contains("Audit me")));
    }
    // The patient's chart view of the audit log (GSI1) holds the same events.
    let by_patient = app
        .dynamodb
        .query()
        .table_name(&app.table)
        .index_name("gsi1")
        .key_condition_expression("gsi1pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("PRAC#{}#AUDITPAT#{}", p.id, p.jane.id)))
        .send()
        .await
        .unwrap();
    assert!(by_patient.count() >= 3);
}

#[tokio::test]
async fn sec_4_identity_comes_only_from_a_verified_token() {
    let (app, p) = setup().await;
    assert_problem(&app.send("GET", "/inbox", None, None, &[]).await, StatusCode::UNAUTHORIZED);
    let mut forged = p.doctor.token.clone();
    forged.pop();
    forged.push(if p.doctor.token.ends_with('A') { 'B' } else { 'A' });
    assert_problem(&app.get(&forged, "/inbox").await, StatusCode::UNAUTHORIZED);
    // The same token once its hour is over (the gateway's clock moved on by two hours).
    app.gateway.authorizer.shift_clock(2 * 3600);
    assert_problem(&app.get(&p.doctor.token, "/inbox").await, StatusCode::UNAUTHORIZED);
    app.gateway.authorizer.shift_clock(0);
    assert_eq!(app.get(&p.doctor.token, "/inbox").await.status, StatusCode::OK);
    // Headers cannot claim an identity.
    let res = app.send("GET", "/inbox", None, None, &[("x-user-id", &p.admin.id), ("x-practice-id", &p.id)]).await;
    assert_problem(&res, StatusCode::UNAUTHORIZED);
    // A deactivated user's still-valid token no longer acts.
    let gone = app.add_staff(&p.id, &p.admin, "Gone", "nurse", json!({ "active": false })).await;
    assert_problem(&app.get(&gone.token, "/inbox").await, StatusCode::UNAUTHORIZED);
    // A patient's token whose practice claim was edited is refused: the signature breaks.
    let stray = carethread_tests::edit_claims(&p.jane.token, |c| c["custom:practice_id"] = json!("prc_elsewhere"));
    assert_problem(&app.get(&stray, "/inbox").await, StatusCode::UNAUTHORIZED);
}
