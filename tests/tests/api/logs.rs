//! SEC-3: no PHI in logs. This test captures every log line the functions write (at
//! debug level for our crates, more than production's `info`), drives them through writes,
//! reads, searches, uploads, errors, notifications and inbound texts full of PHI, and then
//! looks for every name, phone number, subject and body in what was logged.

use carethread_tests::*;
use lambda_http::tracing::subscriber::EnvFilter;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Mutex;

static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const FIRST: &str = "Zelphina";
const LAST: &str = "Quarrington";
const PHONE: &str = "+15550177777";
const SUBJECT: &str = "Biopsy of the left breast";
const BODY: &str = "The pathology shows a malignant lesion";
const FILE: &str = "zelphina-pathology.pdf";

#[tokio::test]
async fn sec_3_no_phi_in_any_log_line() {
    let filter = EnvFilter::new("debug,hyper=info,hyper_util=info,h2=info,rustls=info,aws_smithy_runtime=info,aws_config=info,aws_smithy_runtime_api=info,reqwest=info,tower=info");
    // This thread's subscriber: the test's gateway and functions all run on it (a
    // current-thread runtime), the other tests of the binary on theirs.
    let subscriber = lambda_http::tracing::subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Capture)
        .with_ansi(false)
        .finish();
    let _capturing = lambda_http::tracing::dispatcher::set_default(&lambda_http::tracing::Dispatch::new(subscriber));

    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    // A number of this run's own: the operator gives each number to one practice only.
    let practice_number = &unique_phone();
    carethread_core::ops::settings::assign_sms_number(app.app(), &p.id, Some(practice_number)).await.unwrap();
    let settings = json!({ "portalUrl": "https://portal.example" });
    assert_eq!(app.send("PUT", "/settings", Some(&p.admin.token), Some(&settings), &[]).await.status, StatusCode::OK);
    let patient = app
        .add_patient(&p.id, &p.admin, FIRST, LAST, json!({ "phone": PHONE, "primaryProviderId": p.doctor.id }))
        .await;

    // Writes and reads.
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": patient.id, "subject": SUBJECT, "body": BODY }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let path = format!("/conversations/{cid}/messages");
    assert_eq!(
        app.post(&patient.token, &path, json!({ "body": format!("{BODY}? Call {PHONE}") })).await.status,
        StatusCode::CREATED
    );
    app.get(&patient.token, &format!("/conversations/{cid}")).await;
    app.get(&p.doctor.token, &format!("/inbox?q={FIRST}")).await;
    app.get(&p.front_desk.token, &format!("/patients?q={}", &LAST[..4])).await;
    let upload = app
        .post(
            &p.doctor.token,
            "/attachments",
            json!({ "fileName": FILE, "contentType": "application/pdf", "size": 8, "conversationId": cid }),
        )
        .await;
    assert_eq!(upload.status, StatusCode::CREATED);

    // Refusals whose input is PHI: errors must not echo it.
    let long_subject = format!("{SUBJECT} {}", "x".repeat(300));
    for body in [
        json!({ "kind": "patient", "patientId": patient.id, "subject": long_subject, "body": BODY }),
        json!({ "kind": "patient", "patientId": patient.id, "subject": SUBJECT, "body": BODY, "phone": PHONE }),
        json!({ "kind": "patient", "patientId": patient.id, "subject": SUBJECT, "body": "" }),
    ] {
        let res = app.post(&p.doctor.token, "/conversations", body).await;
        assert!(res.status.is_client_error());
        assert!(!res.body.to_string().contains(FIRST) && !res.body.to_string().contains(SUBJECT), "{}", res.body);
    }
    let bad_phone = app
        .post(
            &p.admin.token,
            "/patients",
            json!({ "firstName": FIRST, "lastName": LAST, "phone": format!("{PHONE}x") }),
        )
        .await;
    assert_eq!(bad_phone.status, StatusCode::UNPROCESSABLE_ENTITY);
    let raw = app
        .http
        .post(format!("{}/conversations", app.base))
        .bearer_auth(&p.doctor.token)
        .header("content-type", "application/json")
        .body(format!("{{\"subject\": \"{SUBJECT}\", "))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    app.get(&p.john.token, &format!("/conversations/{cid}")).await;

    // Notifications (SMS to the patient) and an inbound text back.
    prefer_sms(&app, &patient).await;
    app.post(&p.doctor.token, &path, json!({ "body": BODY })).await;
    app.pump().await;
    let text = json!({ "originationNumber": PHONE, "destinationNumber": practice_number, "messageBody": format!("{BODY} — {FIRST}"), "inboundMessageId": "log-1" });
    let res = app.http.post(format!("{}/_local/sms", app.base)).body(text.to_string()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.pump().await;

    let log = String::from_utf8_lossy(&CAPTURED.lock().unwrap()).into_owned();
    assert!(log.contains("outbox delivered"), "the capture works: {} bytes", log.len());
    let lines = log.lines().count();
    for secret in [FIRST, LAST, PHONE, &PHONE[2..], SUBJECT, BODY, FILE] {
        let hits: Vec<&str> = log.lines().filter(|l| l.contains(secret)).take(3).collect();
        assert!(hits.is_empty(), "the log carries {secret:?}: {hits:#?}");
    }
    println!("SEC-3 logs: {lines} log lines captured at debug level, 0 carry a name, phone number, subject, body or file name");
}

async fn prefer_sms(app: &TestApp, user: &User) {
    let res = app.send("PUT", "/me/notifications", Some(&user.token), Some(&json!({ "channel": "sms" })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}
