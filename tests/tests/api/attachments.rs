//! Attachments (issue 5, in part): real bytes through presigned URLs against the local S3.

use carethread_core::domain::{SignedDuration, Timestamp};
use carethread_tests::*;
use jiff::tz::TimeZone;
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
    // The local stack plays GuardDuty: a verdict is written as the object is stored.
    let clean = upload(&app, &p.doctor, "scan.pdf", "application/pdf", b"%PDF-1.7 clean", Some(&cid)).await;
    let clean_key = format!("{}/{cid}/{clean}", p.id);
    assert_eq!(app.get(&p.doctor.token, &format!("/attachments/{clean}")).await.status, StatusCode::OK);
    // While a scan has not finished (no verdict yet), no link.
    app.s3.delete_object_tagging().bucket(&app.bucket).key(&clean_key).send().await.unwrap();
    let res = app.get(&p.doctor.token, &format!("/attachments/{clean}")).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "not scanned yet: {}", res.body);
    tag(clean_key, "NO_THREATS_FOUND").await;
    let res = app.get(&p.doctor.token, &format!("/attachments/{clean}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body["download"]["url"].is_string());

    let eicar = b"%PDF-1.7 X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    let bad = upload(&app, &p.doctor, "bad.pdf", "application/pdf", eicar, Some(&cid)).await;
    let key = format!("{}/{cid}/{bad}", p.id);
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

async fn settings(app: &TestApp, p: &DemoPractice, body: Value) {
    let res = app.send("PUT", "/settings", Some(&p.admin.token), Some(&body), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

async fn reply(app: &TestApp, user: &User, cid: &str, body: Value) -> Answer {
    app.post(&user.token, &format!("/conversations/{cid}/messages"), body).await
}

#[tokio::test]
async fn att_1_any_number_of_files_per_message_and_settings_narrow_the_types() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = conversation(&app, &p).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(upload(&app, &p.doctor, &format!("page {i}.txt"), "text/plain", b"page", Some(&cid)).await);
    }
    ids.push(upload(&app, &p.doctor, "photo.png", "image/png", b"\x89PNG\r\n\x1a\n....", Some(&cid)).await);
    let res = reply(&app, &p.doctor, &cid, json!({ "body": "Four files", "attachmentIds": ids })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["message"]["attachments"].as_array().unwrap().len(), 4);

    // The practice accepts only PDFs from now on; other allowed types are refused up front.
    settings(&app, &p, json!({ "attachmentContentTypes": ["application/pdf"] })).await;
    let ask = |name: &'static str, content_type: &'static str| {
        app.post(&p.doctor.token, "/attachments", json!({ "fileName": name, "contentType": content_type, "size": 4 }))
    };
    let res = ask("photo.png", "image/png").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.body["field"], "contentType");
    assert_eq!(ask("letter.pdf", "application/pdf").await.status, StatusCode::CREATED);
    // Settings can only narrow the allow-list, never widen it.
    let res = app
        .send(
            "PUT",
            "/settings",
            Some(&p.admin.token),
            Some(&json!({ "attachmentContentTypes": ["application/x-msdownload"] })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.body["field"], "attachmentContentTypes");
    settings(&app, &p, json!({ "attachmentContentTypes": [] })).await;
    assert_eq!(ask("photo.png", "image/png").await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn att_3_download_urls_expire_within_five_minutes_and_each_is_audited() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = conversation(&app, &p).await;
    let att = upload(&app, &p.doctor, "x-ray.png", "image/png", b"\x89PNG\r\n\x1a\nxray", Some(&cid)).await;
    assert_eq!(
        reply(&app, &p.doctor, &cid, json!({ "body": "X-ray", "attachmentIds": [att] })).await.status,
        StatusCode::CREATED
    );
    for _ in 0..2 {
        let res = app.get(&p.jane.token, &format!("/attachments/{att}")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let url = res.body["download"]["url"].as_str().unwrap();
        let param = |name: &str| url.split(&format!("{name}=")).nth(1).unwrap().split('&').next().unwrap().to_string();
        let expires: i64 = param("X-Amz-Expires").parse().unwrap();
        assert!((1..=300).contains(&expires), "{expires}");
        let signed_at = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", param("X-Amz-Date"))
            .unwrap()
            .to_zoned(TimeZone::UTC)
            .unwrap();
        let expires_at: jiff::Timestamp = res.body["download"]["expiresAt"].as_str().unwrap().parse().unwrap();
        let drift = expires_at.duration_since(signed_at.timestamp() + SignedDuration::from_secs(expires));
        assert!(drift.abs() <= SignedDuration::from_secs(2), "{drift:?}");
        assert!(url.contains("response-content-disposition="), "{url}");
    }
    let audit = app.raw_partition(&format!("PRAC#{}#AUDIT#ATTACHMENT#{att}", p.id)).await;
    let downloads = audit.iter().filter(|e| e.get("action") == Some(&AttributeValue::S("attachment.download".into())));
    assert_eq!(downloads.count(), 2, "one audit event per download URL issued");
}

#[tokio::test]
async fn att_5_patients_upload_only_where_the_thread_allows_attachments() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = conversation(&app, &p).await;
    let ask = || {
        app.post(
            &p.jane.token,
            "/attachments",
            json!({ "fileName": "rash.jpg", "contentType": "image/jpeg", "size": 8, "conversationId": cid }),
        )
    };
    let res = ask().await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    // An upload made outside the thread cannot be slipped into it either.
    let loose = upload(&app, &p.jane, "rash.jpg", "image/jpeg", b"\xff\xd8\xff\xe0jpeg", None).await;
    let res = reply(&app, &p.jane, &cid, json!({ "body": "Photo", "attachmentIds": [loose] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    // The care team opens the thread to attachments: now the patient may send files.
    let res =
        reply(&app, &p.doctor, &cid, json!({ "body": "Send a photo", "options": { "allowAttachments": true } })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let att = upload(&app, &p.jane, "rash.jpg", "image/jpeg", b"\xff\xd8\xff\xe0jpeg", Some(&cid)).await;
    let res = reply(&app, &p.jane, &cid, json!({ "body": "Photo", "attachmentIds": [att] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    // Another patient cannot even learn the thread exists.
    let res = app
        .post(
            &p.john.token,
            "/attachments",
            json!({ "fileName": "a.jpg", "contentType": "image/jpeg", "size": 8, "conversationId": cid }),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
}

#[tokio::test]
async fn att_6_files_expire_days_after_the_patients_first_download_by_the_sweeper() {
    use carethread_core::jobs::sweeper::sweep;
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    settings(&app, &p, json!({ "attachmentRetentionDays": 7 })).await;
    let cid = conversation(&app, &p).await;
    let seen = upload(&app, &p.doctor, "results.pdf", "application/pdf", b"%PDF-1.7 results", Some(&cid)).await;
    let unseen = upload(&app, &p.doctor, "later.pdf", "application/pdf", b"%PDF-1.7 later", Some(&cid)).await;
    let res = reply(&app, &p.doctor, &cid, json!({ "body": "Results", "attachmentIds": [seen, unseen] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    // Staff downloads do not start the clock; the patient's first one does (and later ones do not move it).
    assert_eq!(app.get(&p.nurse.token, &format!("/attachments/{unseen}")).await.status, StatusCode::OK);
    let downloaded_at = Timestamp::now();
    assert_eq!(app.get(&p.jane.token, &format!("/attachments/{seen}")).await.status, StatusCode::OK);
    assert_eq!(app.get(&p.jane.token, &format!("/attachments/{seen}")).await.status, StatusCode::OK);

    let early = sweep(app.function("attachment-sweeper"), downloaded_at + SignedDuration::from_hours(24 * 6), 10)
        .await
        .unwrap();
    assert_eq!(early.expired, 0, "six days after the first download it is still there");
    let report = sweep(
        app.function("attachment-sweeper"),
        downloaded_at + SignedDuration::from_hours(24 * 7) + SignedDuration::from_mins(5),
        10,
    )
    .await
    .unwrap();
    assert_eq!(report.expired, 1);
    let gone = format!("{}/{cid}/{seen}", p.id);
    assert!(app.s3.head_object().bucket(&app.bucket).key(&gone).send().await.is_err(), "the file is deleted");
    let res = app.get(&p.jane.token, &format!("/attachments/{seen}")).await;
    assert_eq!(res.status, StatusCode::GONE, "{}", res.body);
    let kept = format!("{}/{cid}/{unseen}", p.id);
    assert!(
        app.s3.head_object().bucket(&app.bucket).key(&kept).send().await.is_ok(),
        "never downloaded by the patient"
    );
    assert_eq!(
        app.get(&p.doctor.token, &format!("/conversations/{cid}")).await.status,
        StatusCode::OK,
        "the thread stays"
    );
    let again = sweep(app.function("attachment-sweeper"), downloaded_at + SignedDuration::from_hours(24 * 30), 10)
        .await
        .unwrap();
    assert_eq!(again.expired, 0, "expired once");
}

#[tokio::test]
async fn att_6_orphan_uploads_never_attached_are_swept_after_24_hours() {
    use carethread_core::jobs::sweeper::sweep;
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    let cid = conversation(&app, &p).await;
    let uploaded_at = Timestamp::now();
    let loose = upload(&app, &p.doctor, "draft.txt", "text/plain", b"never sent", None).await;
    let in_thread = upload(&app, &p.doctor, "also.txt", "text/plain", b"never sent either", Some(&cid)).await;
    let used = upload(&app, &p.doctor, "sent.txt", "text/plain", b"sent", Some(&cid)).await;
    assert_eq!(
        reply(&app, &p.doctor, &cid, json!({ "body": "Sent", "attachmentIds": [used] })).await.status,
        StatusCode::CREATED
    );

    let early =
        sweep(app.function("attachment-sweeper"), uploaded_at + SignedDuration::from_hours(23), 1).await.unwrap();
    assert_eq!(early.orphans, 0);
    // A batch of one still gets through the whole queue.
    let report =
        sweep(app.function("attachment-sweeper"), uploaded_at + SignedDuration::from_hours(25), 1).await.unwrap();
    assert_eq!(report.orphans, 2, "{report:?}");
    for key in [format!("unattached/{}/{loose}", p.id), format!("{}/{cid}/{in_thread}", p.id)] {
        assert!(app.s3.head_object().bucket(&app.bucket).key(&key).send().await.is_err(), "{key} deleted");
    }
    assert_eq!(app.get(&p.doctor.token, &format!("/attachments/{loose}")).await.status, StatusCode::NOT_FOUND);
    let sent = app.get(&p.jane.token, &format!("/attachments/{used}")).await;
    assert_eq!(sent.status, StatusCode::OK, "attached files are not orphans: {}", sent.body);
}
