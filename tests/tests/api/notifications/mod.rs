//! Notifications (issue 6): the outbox written with each message, the notifier fed by the
//! table's stream (the gateway's stream trigger, as Lambda would), SNS on the local stack.
//! What SNS was asked to send is read back from moto: its SMS log and the test's own topic.

use carethread_core::domain::{SignedDuration, Timestamp};
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::json;

mod sms;

const PORTAL: &str = "https://portal.test-practice.example";

fn unique_email(who: &str) -> String {
    format!("{who}.{}@mail.example", carethread_core::domain::new_id("").to_lowercase())
}

async fn prefer(app: &TestApp, user: &User, channel: &str, destination: &str) {
    app.prove_destination(user, channel, destination).await;
}

/// ACCT-4's one-time codes are SNS messages too; the counts below are of notifications.
fn is_code(text: &str) -> bool {
    text.contains("your code to receive notifications here")
}

async fn notifying_practice(app: &TestApp) -> DemoPractice {
    let p = app.demo_practice().await;
    let res = app.send("PUT", "/settings", Some(&p.admin.token), Some(&json!({ "portalUrl": PORTAL })), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    p
}

fn sms_to<'a>(published: &'a Published, phone: &str) -> Vec<&'a Sms> {
    published.sms.iter().filter(|m| m.phone == phone && !is_code(&m.message)).collect()
}

fn emails_to<'a>(published: &'a Published, address: &str) -> Vec<&'a TopicMessage> {
    published.topic.iter().filter(|m| m.attributes["destination"]["Value"] == address && !is_code(&m.message)).collect()
}

fn new_message_text() -> String {
    format!("Test Practice: You have a new secure message. Sign in to read it: {PORTAL}")
}

#[tokio::test]
async fn notify_1_each_recipient_is_notified_by_preference_and_no_notification_carries_phi() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = notifying_practice(&app).await;
    let jane_phone = unique_phone();
    let doctor_email = unique_email("doctor");
    let john_email = unique_email("john");
    prefer(&app, &p.jane, "sms", &jane_phone).await;
    prefer(&app, &p.doctor, "email", &doctor_email).await;
    prefer(&app, &p.john, "email", &john_email).await;

    let subject = "Knee MRI results";
    let body = "Your MRI shows a small meniscus tear; call me at +15550104444.";
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": subject, "body": body }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let reply = "Thank you Dr. Tester, does Smith family history matter?";
    let res = app.post(&p.jane.token, &format!("/conversations/{cid}/messages"), json!({ "body": reply })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);

    let report = app.pump().await;
    assert_eq!(report.pending, 0, "{report:?}");
    let published = app.published().await;
    let to_jane = sms_to(&published, &jane_phone);
    assert_eq!(to_jane.len(), 1, "the patient hears of the doctor's message by SMS, once");
    assert_eq!(to_jane[0].message, new_message_text());
    let to_doctor = emails_to(&published, &doctor_email);
    assert_eq!(to_doctor.len(), 1, "the doctor hears of the patient's reply by email, once");
    assert_eq!(to_doctor[0].message, new_message_text());
    assert_eq!(to_doctor[0].attributes["channel"]["Value"], "email");
    assert!(emails_to(&published, &john_email).is_empty(), "another patient hears nothing");
    let notified = published.topic.iter().filter(|m| !is_code(&m.message)).count();
    assert_eq!(notified, 1, "nobody else was notified: {:?}", published.topic);

    // SEC-3: nothing seeded or written appears in any notification: text, subject, attributes
    // (the `destination` attribute is the recipient's own address, which delivery needs).
    let phi = ["Jane", "Smith", "John", "Doe", "Maria", "Tester", "+15550109999", "+15550104444", subject, body, reply];
    for text in published_texts(&published, &[&jane_phone]) {
        for secret in phi {
            assert!(!text.contains(secret), "a notification carries {secret:?}: {text}");
        }
    }
}

/// Every text of every notification this test published, attributes but the address included.
fn published_texts(published: &Published, own_phones: &[&str]) -> Vec<String> {
    let mut texts = Vec::new();
    for m in published.sms.iter().filter(|m| own_phones.contains(&m.phone.as_str())) {
        texts.push(m.message.clone());
    }
    for m in &published.topic {
        texts.push(m.message.clone());
        texts.push(m.subject.clone());
        let mut attributes = m.attributes.clone();
        if let Some(a) = attributes.as_object_mut() {
            a.remove("destination");
        }
        texts.push(attributes.to_string());
    }
    texts
}

#[tokio::test]
async fn notify_2_urgent_messages_also_notify_the_care_team() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = notifying_practice(&app).await;
    let doctor = unique_email("doctor");
    let nurse = unique_email("nurse");
    let doctor2 = unique_email("doctor2");
    prefer(&app, &p.doctor, "email", &doctor).await;
    prefer(&app, &p.nurse, "email", &nurse).await;
    prefer(&app, &p.doctor2, "email", &doctor2).await;

    // Jane writes to the practice: routed to her primary provider. Not urgent: the nurse of
    // her care team can see it but is not told.
    let res = app
        .post(&p.jane.token, "/conversations", json!({ "subject": "Refill", "body": "Could I get a refill?" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    app.pump().await;
    let published = app.published().await;
    assert_eq!(emails_to(&published, &doctor).len(), 1);
    assert!(emails_to(&published, &nurse).is_empty());

    // An urgent one reaches the care team as well: the assigned nurse and the primary provider.
    let res = app
        .post(
            &p.jane.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "It got worse overnight", "priority": "urgent" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    app.pump().await;
    let published = app.published().await;
    let urgent = "Test Practice: You have a new urgent secure message. Sign in to read it: ".to_string() + PORTAL;
    for who in [&doctor, &nurse] {
        let last = emails_to(&published, who).last().map(|m| m.message.clone());
        assert_eq!(last.as_deref(), Some(urgent.as_str()), "{who}");
    }
    assert!(emails_to(&published, &doctor2).is_empty(), "outside the care team: not told");
}

#[tokio::test]
async fn notify_3_an_sns_outage_loses_no_notification_and_sends_none_twice() {
    let faults = SnsFaults::default();
    let app =
        TestApp::spawn_with(Options { notifications: true, sns_faults: Some(faults.clone()), ..Default::default() })
            .await;
    let p = notifying_practice(&app).await;
    let jane_phone = unique_phone();
    let doctor_email = unique_email("doctor");
    prefer(&app, &p.jane, "sms", &jane_phone).await;
    prefer(&app, &p.doctor, "email", &doctor_email).await;

    faults.fail(true);
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Plan", "body": "Message 1" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "SNS down does not fail the API: {}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let path = format!("/conversations/{cid}/messages");
    for i in 2..=5 {
        let res = app.post(&p.doctor.token, &path, json!({ "body": format!("Message {i}") })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    for i in 1..=3 {
        let res = app.post(&p.jane.token, &path, json!({ "body": format!("Answer {i}") })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    // Two rounds of the trigger during the outage: nothing goes out, everything waits.
    for _ in 0..2 {
        let report = app.pump().await;
        assert!(report.pending > 0, "{report:?}");
    }
    assert!(faults.injected() > 0);
    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    assert_eq!(thread.body["messages"].as_array().map(Vec::len), Some(8), "every message is stored");
    assert!(sms_to(&app.published().await, &jane_phone).is_empty());

    // SNS is back: each notification goes out once; later rounds send nothing more.
    faults.fail(false);
    let report = app.pump().await;
    assert_eq!(report.pending, 0, "{report:?}");
    for _ in 0..2 {
        assert_eq!(app.pump().await.delivered, 0);
    }
    // A stream batch delivered again (Lambda retries at least once) sends nothing again.
    let mut batch = carethread_core::jobs::stream::StreamEvent::default();
    batch.records = thread.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("OUTBOX#{}", m["id"].as_str().unwrap()))
        .map(|pk| {
            carethread_core::jobs::stream::record("INSERT", [("pk".into(), pk), ("sk".into(), "OUTBOX".into())], "1")
        })
        .collect();
    assert_eq!(batch.records.len(), 8);
    let answer = carethread_core::jobs::notifier::handle_stream(app.function("notifier"), &batch).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");

    let published = app.published().await;
    let sms = sms_to(&published, &jane_phone).len();
    let emails = emails_to(&published, &doctor_email).len();
    let (expected_sms, expected_emails): (usize, usize) = (5, 3);
    let lost = expected_sms.saturating_sub(sms) + expected_emails.saturating_sub(emails);
    let twice = sms.saturating_sub(expected_sms) + emails.saturating_sub(expected_emails);
    println!(
        "NOTIFY-3 fault test: {} SNS calls failed, {} notifications expected, {lost} lost, {twice} sent twice",
        faults.injected(),
        expected_sms + expected_emails
    );
    assert_eq!((lost, twice), (0, 0));
}

#[tokio::test]
async fn notify_1_preferences_are_validated_and_default_sensibly() {
    let app = TestApp::spawn().await;
    let p = app.demo_practice().await;
    // Defaults: staff by email to the address on file; a patient with only a phone by SMS.
    let res = app.get(&p.doctor.token, "/me/notifications").await;
    assert_eq!(res.body["notifications"], json!({ "channel": "email", "destination": "maria@example.test" }));
    let res = app.get(&p.jane.token, "/me/notifications").await;
    assert_eq!(res.body["notifications"], json!({ "channel": "sms", "destination": "+15550109999" }));
    for (body, field) in [
        (json!({ "channel": "pigeon" }), "channel"),
        (json!({ "channel": "sms", "destination": "not a number" }), "destination"),
        (json!({ "channel": "email", "destination": "+15550101234" }), "destination"),
        (json!({ "channel": "none", "destination": "a@b.example" }), "destination"),
    ] {
        let res = app.send("PUT", "/me/notifications", Some(&p.jane.token), Some(&body), &[]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
        assert_eq!(res.body["field"], field);
    }
    let res = app.send("PUT", "/me/notifications", Some(&p.jane.token), Some(&json!({ "channel": "none" })), &[]).await;
    assert_eq!(res.body["notifications"]["channel"], "none");
    // The destination is stored sealed, never as text.
    let raw = app.raw_partition(&format!("PRAC#{}#PAT#{}", p.id, p.jane.id)).await;
    assert!(!raw.is_empty());
    prefer(&app, &p.jane, "email", "jane.private@mail.example").await;
    let raw = app.raw_partition(&format!("PRAC#{}#PAT#{}", p.id, p.jane.id)).await;
    assert!(raw.iter().flat_map(item_texts).all(|t| !t.contains("jane.private")));
}

#[tokio::test]
async fn notify_5_a_message_left_unread_reminds_its_sender_once() {
    use carethread_core::jobs::reminders::send_due;
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = notifying_practice(&app).await;
    let doctor_email = unique_email("doctor");
    prefer(&app, &p.doctor, "email", &doctor_email).await;
    let sent_at = Timestamp::now();
    let mut ids = Vec::new();
    for patient in [&p.jane, &p.john] {
        let res = app
            .post(
                &p.doctor.token,
                "/conversations",
                json!({ "kind": "patient", "patientId": patient.id, "subject": "Lab work", "body": "Please book a blood test.", "options": { "notifyIfUnreadHours": 2 } }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        ids.push(res.body["conversation"]["id"].as_str().unwrap().to_string());
    }
    // John reads his; Jane does not.
    assert_eq!(app.get(&p.john.token, &format!("/conversations/{}", ids[1])).await.status, StatusCode::OK);

    let early = send_due(app.function("unread-reminders"), sent_at + SignedDuration::from_hours(1), 10).await.unwrap();
    assert_eq!((early.reminded, early.already_read), (0, 0), "not due yet");
    let due = send_due(app.function("unread-reminders"), sent_at + SignedDuration::from_hours(3), 10).await.unwrap();
    assert_eq!((due.reminded, due.already_read), (1, 1));
    assert_eq!(app.pump().await.pending, 0);
    let reminders =
        emails_to(&app.published().await, &doctor_email).iter().map(|m| m.message.clone()).collect::<Vec<_>>();
    assert_eq!(
        reminders,
        vec![format!("Test Practice: A secure message you sent has not been read yet. Sign in to see it: {PORTAL}")]
    );
    let later = send_due(app.function("unread-reminders"), sent_at + SignedDuration::from_hours(30), 10).await.unwrap();
    assert_eq!((later.reminded, later.already_read), (0, 0), "once per message");
    app.pump().await;
    assert_eq!(emails_to(&app.published().await, &doctor_email).len(), 1);
}
