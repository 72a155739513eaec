//! Uploads: bound to their type and size, scanned, and copies keep their verdict (findings 9, 15).

use super::*;

/// Finding 15: a presigned upload binds what was asked for: another Content-Type or another
/// size is refused by the bucket (the local stack recomputes the URL's signature as S3 does).
#[tokio::test]
async fn finding_15_a_presigned_upload_binds_its_type_and_size() {
    let (app, p) = setup().await;
    let (cid, _) = about_jane(&app, &p, "Up").await;
    let res = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": "a.txt", "contentType": "text/plain", "size": 4, "conversationId": cid }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let url = res.body["upload"]["url"].as_str().unwrap().to_string();
    let signed: Vec<(String, String)> = res.body["upload"]["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let put = |content_type: &'static str, body: &'static [u8]| {
        let (app, url, signed) = (&app, url.clone(), signed.clone());
        async move {
            let mut req = app.http.put(url).body(body.to_vec());
            for (k, v) in &signed {
                if !k.eq_ignore_ascii_case("content-type") && !k.eq_ignore_ascii_case("content-length") {
                    req = req.header(k.as_str(), v.as_str());
                }
            }
            req.header("content-type", content_type).send().await.unwrap().status()
        }
    };
    assert_eq!(put("text/html", b"note").await, StatusCode::FORBIDDEN, "another type");
    assert_eq!(put("text/plain", b"a much longer body").await, StatusCode::FORBIDDEN, "another size");
    assert_eq!(put("text/plain", b"note").await, StatusCode::OK, "as signed");
}

/// Finding 9 (ATT-2): malware scanning is on by default, GuardDuty Malware Protection for S3
/// guards the attachment bucket in template.yaml (the local stack plays it), an infected file
/// never gets a link, and a copy made when a file is attached keeps its original's verdict.
#[tokio::test]
async fn finding_09_uploads_are_scanned_by_default_and_copies_keep_their_verdict() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let plan = template.split("\n  AttachmentMalwareProtection:\n").nth(1).expect("a malware protection plan");
    assert!(
        plan.contains("Type: AWS::GuardDuty::MalwareProtectionPlan")
            && plan.contains("BucketName: !Ref AttachmentBucket")
    );
    let (app, p) = setup().await;
    let settings = app.get(&p.admin.token, "/settings").await;
    assert_eq!(settings.body["settings"]["malwareScanning"], true, "{}", settings.body);
    let (cid, _) = about_jane(&app, &p, "Scan").await;

    // An upload made before its conversation existed is copied into the conversation's keys
    // when attached; the copy carries the original's tags, the verdict among them.
    let plan = json!({ "fileName": "plan.txt", "contentType": "text/plain", "size": 4 });
    let file = send_file(&app, &p.doctor, plan, b"plan").await;
    let listed = app.s3.list_objects_v2().bucket(&app.bucket).send().await.unwrap();
    let original = listed.contents().iter().filter_map(|o| o.key()).find(|k| k.ends_with(&file)).unwrap().to_string();
    let tags = |key: String| {
        let app = &app;
        async move {
            let out = app.s3.get_object_tagging().bucket(&app.bucket).key(key).send().await.unwrap();
            out.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect::<Vec<_>>()
        }
    };
    let mut marked = tags(original.clone()).await;
    assert!(marked.contains(&("GuardDutyMalwareScanStatus".into(), "NO_THREATS_FOUND".into())), "{marked:?}");
    marked.push(("scanned-as".into(), "original".into()));
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .set_tag_set(Some(
            marked.iter().map(|(k, v)| aws_sdk_s3::types::Tag::builder().key(k).value(v).build().unwrap()).collect(),
        ))
        .build()
        .unwrap();
    app.s3.put_object_tagging().bucket(&app.bucket).key(&original).tagging(tagging).send().await.unwrap();
    let res = app
        .post(
            &p.doctor.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "Plan", "attachmentIds": [file] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let copy = format!("{}/{cid}/{file}", p.id);
    assert!(tags(copy).await.contains(&("scanned-as".into(), "original".into())), "the copy keeps the original's tags");
    assert_eq!(app.get(&p.nurse.token, &format!("/attachments/{file}")).await.status, StatusCode::OK);

    // The EICAR test file: found, no link, removed.
    let eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    let request =
        json!({ "fileName": "eicar.txt", "contentType": "text/plain", "size": eicar.len(), "conversationId": cid });
    let bad = send_file(&app, &p.doctor, request, eicar).await;
    let res = app.get(&p.doctor.token, &format!("/attachments/{bad}")).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body["detail"].as_str().unwrap().contains("malware scan"), "{}", res.body);
}
