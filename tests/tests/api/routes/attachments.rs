//! Uploads and downloads through presigned URLs, and their limits (ATT-1, ATT-3).

use super::*;

#[tokio::test]
async fn att_1_att_3_upload_and_download_through_presigned_urls() {
    let (app, p) = setup().await;
    let cid = id_of(&compose_to(&app, &p.doctor, &p.jane, "Your scan", "See attached.").await);
    let bytes = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let res = app
        .post(&p.doctor.token, "/attachments", json!({ "fileName": "knee scan.pdf", "contentType": "application/pdf", "size": bytes.len(), "conversationId": cid }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["attachment"]["status"], "pending");
    let att_id = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let upload = &res.body["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.contains("X-Amz-Expires="));
    // ATT-1: the signature binds the declared size and type; S3 refuses a PUT that differs.
    let signed = url.split("X-Amz-SignedHeaders=").nth(1).unwrap().split('&').next().unwrap();
    assert!(signed.contains("content-length") && signed.contains("content-type"), "{signed}");
    let mut put = app.http.put(url).body(bytes.clone());
    for (k, v) in upload["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    let put = put.send().await.unwrap();
    assert!(put.status().is_success(), "upload answered {}", put.status());

    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "Attached.", "attachmentIds": [att_id] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["message"]["attachments"][0]["fileName"], "knee scan.pdf");
    assert_eq!(res.body["message"]["attachments"][0]["size"], bytes.len());
    // Attached once only.
    let again = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "Again.", "attachmentIds": [att_id] }),
        )
        .await;
    assert_problem(&again, StatusCode::CONFLICT);

    let res = app.get(&p.jane.token, &format!("/attachments/{att_id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["attachment"]["status"], "ready");
    let download = app.http.get(res.body["download"]["url"].as_str().unwrap()).send().await.unwrap();
    assert!(download.status().is_success());
    let disposition =
        download.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(disposition.contains("knee scan.pdf"), "{disposition}");
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);

    // Whoever may not see the conversation gets 404, as for a missing attachment.
    assert_problem(&app.get(&p.john.token, &format!("/attachments/{att_id}")).await, StatusCode::NOT_FOUND);
    assert_problem(&app.get(&p.front_desk.token, &format!("/attachments/{att_id}")).await, StatusCode::NOT_FOUND);
    assert_problem(&app.get(&p.jane.token, "/attachments/att_missing").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn att_1_uploads_are_limited_by_size_and_type() {
    let (app, p) = setup().await;
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "big.pdf", "contentType": "application/pdf", "size": 10 * 1024 * 1024 + 1 }),
        )
        .await;
    assert_problem(&res, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.body["field"], "size");
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "run.exe", "contentType": "application/x-msdownload", "size": 10 }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "contentType");
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "../../etc/passwd", "contentType": "text/plain", "size": 10 }),
        )
        .await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["field"], "fileName");
    // ATT-2 (size part): a file that is not the declared size is rejected when attached.
    let res = app
        .post(&p.doctor.token, "/attachments", json!({ "fileName": "a.txt", "contentType": "text/plain", "size": 5 }))
        .await;
    let att_id = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let key = format!("unattached/{}/{}", p.id, att_id);
    app.s3
        .put_object()
        .bucket(&app.bucket)
        .key(&key)
        .body(b"much longer than five".to_vec().into())
        .send()
        .await
        .unwrap();
    let res = app.post(&p.doctor.token, "/conversations", json!({ "kind": "patient", "patientId": p.jane.id, "subject": "s", "body": "b", "attachmentIds": [att_id] })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.s3.head_object().bucket(&app.bucket).key(&key).send().await.is_err(),
        "the mismatching object is deleted"
    );
    assert!(app.inbox_ids(&p.jane).await.is_empty());
}
