//! Attachments (issue 5, in part): real bytes through presigned URLs against the local S3.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn upload(
    app: &TestApp,
    user: &User,
    name: &str,
    content_type: &str,
    bytes: &[u8],
    conversation: Option<&str>,
) -> String {
    let mut body = json!({ "fileName": name, "contentType": content_type, "size": bytes.len() });
    if let Some(c) = conversation {
        body["conversationId"] = json!(c);
    }
    let res = app.post(&user.token, "/attachments", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let mut put = app.http.put(res.body["upload"]["url"].as_str().unwrap()).body(bytes.to_vec());
    for (k, v) in res.body["upload"]["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    res.body["attachment"]["id"].as_str().unwrap().to_string()
}

async fn conversation(app: &TestApp, p: &DemoPractice) -> String {
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Files", "body": "See files." }),
        )
        .await;
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn att_2_a_file_that_lies_about_its_type_is_rejected_and_deleted() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = conversation(&app, &p).await;
    let liar = upload(
        &app,
        &p.doctor,
        "report.pdf",
        "application/pdf",
        b"MZ\x90\x00 this is really an executable",
        Some(&cid),
    )
    .await;
    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "x", "attachmentIds": [liar] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.body["field"], "attachmentIds");
    let key = format!("{}/{cid}/{liar}", p.id);
    assert!(app.s3.head_object().bucket(&app.bucket).key(&key).send().await.is_err(), "the object is deleted");
    let meta = app.get(&p.doctor.token, &format!("/attachments/{liar}")).await;
    assert_eq!(meta.status, StatusCode::CONFLICT, "no download for a rejected file: {}", meta.body);
    // An honest one passes.
    let honest = upload(&app, &p.doctor, "notes.txt", "text/plain", "Grüße, plain text".as_bytes(), Some(&cid)).await;
    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "x", "attachmentIds": [honest] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn att_2_with_malware_scanning_no_link_until_the_scan_says_clean() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let res = app.send("PUT", "/settings", Some(&p.admin.token), Some(&json!({ "malwareScanning": true })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let cid = conversation(&app, &p).await;
    let tag = |key: String, verdict: &'static str| {
        let app = &app;
        async move {
            let tagging = aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder().key("GuardDutyMalwareScanStatus").value(verdict).build().unwrap(),
                )
                .build()
                .unwrap();
            app.s3.put_object_tagging().bucket(&app.bucket).key(key).tagging(tagging).send().await.unwrap();
        }
    };
    let clean = upload(&app, &p.doctor, "scan.pdf", "application/pdf", b"%PDF-1.7 clean", Some(&cid)).await;
    let res = app.get(&p.doctor.token, &format!("/attachments/{clean}")).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "not scanned yet: {}", res.body);
    tag(format!("{}/{cid}/{clean}", p.id), "NO_THREATS_FOUND").await;
    let res = app.get(&p.doctor.token, &format!("/attachments/{clean}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body["download"]["url"].is_string());

    let bad = upload(&app, &p.doctor, "bad.pdf", "application/pdf", b"%PDF-1.7 eicar", Some(&cid)).await;
    let key = format!("{}/{cid}/{bad}", p.id);
    tag(key.clone(), "THREATS_FOUND").await;
    let res: Value = app.get(&p.doctor.token, &format!("/attachments/{bad}")).await.body;
    assert_eq!(res["status"], 409);
    assert!(app.s3.head_object().bucket(&app.bucket).key(&key).send().await.is_err(), "the infected object is removed");
}

#[tokio::test]
async fn att_4_messages_link_documents_of_the_record_without_copying_them() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = conversation(&app, &p).await;
    let doc = json!({ "kind": "document", "id": "doc_441", "label": "MRI report 2026-10-02" });
    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "See the report.", "documents": [doc] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(
        res.body["message"]["documents"][0],
        json!({ "kind": "document", "id": "doc_441", "label": "MRI report 2026-10-02" })
    );
    let thread = app.get(&p.jane.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"][1]["documents"][0]["id"], "doc_441");
    assert!(thread.body["messages"][1]["attachments"].as_array().unwrap().is_empty(), "a link, not a copy");
    // The label is sealed like any PHI.
    let raw = app.raw_partition(&format!("PRAC#{}#CONV#{cid}", p.id)).await;
    assert!(raw.iter().all(|i| item_texts(i).iter().all(|t| !t.contains("MRI report"))));
    let bad = json!({ "body": "x", "documents": [{ "kind": "spreadsheet", "id": "x", "label": "y" }] });
    assert_eq!(
        app.post(&p.doctor.token, &format!("/conversations/{cid}/messages"), bad).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let by_patient = json!({ "body": "x", "documents": [doc] });
    assert_eq!(
        app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), by_patient).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn att_1_keys_keep_practices_and_conversations_apart_once_attached() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    // Uploaded before the conversation exists, then attached when composing.
    let att = upload(&app, &p.doctor, "plan.txt", "text/plain", b"care plan", None).await;
    let res = app
        .post(&p.doctor.token, "/conversations", json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Plan", "body": "Attached.", "attachmentIds": [att] }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap();
    let key = format!("{}/{cid}/{att}", p.id);
    assert!(app.s3.head_object().bucket(&app.bucket).key(&key).send().await.is_ok(), "moved under its conversation");
    let old = format!("unattached/{}/{att}", p.id);
    assert!(app.s3.head_object().bucket(&app.bucket).key(&old).send().await.is_err(), "the upload area is emptied");
    let res = app.get(&p.jane.token, &format!("/attachments/{att}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let got = app.http.get(res.body["download"]["url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], b"care plan");
    // The download link names the file and expires within five minutes (ATT-3).
    let url = res.body["download"]["url"].as_str().unwrap();
    let expires: u64 = url.split("X-Amz-Expires=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
    assert!(expires <= 300, "{expires}");
}
