//! Two-way SMS (NOTIFY-4): texts join the conversation they answer, unknown numbers go to
//! triage, staff replies go out as texts, and a number belongs to one practice.

use super::*;

/// A practice with a two-way SMS number, assigned by the operator (ACCT-4) as
/// `carethread-admin practice sms-number` does: the practice and its number.
async fn texting_practice(app: &TestApp) -> (DemoPractice, String) {
    let p = notifying_practice(app).await;
    let number = unique_phone();
    carethread_core::ops::settings::assign_sms_number(app.app(), &p.id, Some(&number)).await.unwrap();
    (p, number)
}

/// A text from a number nobody knows: the number and the triage conversation it started.
async fn triage_conversation(app: &TestApp, practice_number: &str) -> (String, String) {
    let stranger = unique_phone();
    let first = app.text_in(&stranger, practice_number, "Is the clinic open Saturday?", "in-2").await;
    assert_eq!(first["outcome"], "started");
    (stranger, first["conversationId"].as_str().unwrap().to_string())
}

/// The practice texts Jane (a notification); her answer by SMS is matched to it, once however
/// often SNS delivers it, and staff are told of it.
#[tokio::test]
async fn notify_4_a_patients_text_joins_the_conversation_it_answers_once() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let (p, practice_number) = texting_practice(&app).await;
    let (jane_phone, doctor_email) = (unique_phone(), unique_email("doctor"));
    prefer(&app, &p.jane, "sms", &jane_phone).await;
    prefer(&app, &p.doctor, "email", &doctor_email).await;
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Visit", "body": "Can you come Thursday?" }),
        )
        .await;
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    app.pump().await;
    assert_eq!(sms_to(&app.published().await, &jane_phone).len(), 1);

    let got = app.text_in(&jane_phone, &practice_number, "Yes, Thursday works.", "in-1").await;
    let again = app.text_in(&jane_phone, &practice_number, "Yes, Thursday works.", "in-1").await;

    assert_eq!(got, json!({ "outcome": "appended", "conversationId": cid }));
    assert_eq!(again["conversationId"], cid);
    let thread = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    let messages = thread.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "stored once: {}", thread.body);
    assert_eq!(messages[1]["body"], "Yes, Thursday works.");
    assert_eq!(messages[1]["sender"]["id"], p.jane.id);
    app.pump().await;
    assert_eq!(emails_to(&app.published().await, &doctor_email).len(), 1, "staff are notified of the text");
}

/// A number nobody knows: a triage conversation the admins see, never dropped, and its next
/// text joins it; the thread does not show the number.
#[tokio::test]
async fn notify_4_a_text_from_an_unknown_number_starts_a_triage_conversation_its_next_text_joins() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let (p, practice_number) = texting_practice(&app).await;
    let stranger = unique_phone();

    let first = app.text_in(&stranger, &practice_number, "Is the clinic open Saturday?", "in-2").await;
    let triage = first["conversationId"].as_str().unwrap().to_string();
    let second = app.text_in(&stranger, &practice_number, "Hello?", "in-3").await;

    assert_eq!((first["outcome"].as_str(), first["patientMatched"].as_bool()), (Some("started"), Some(false)));
    assert_eq!(second, json!({ "outcome": "appended", "conversationId": triage }));
    assert!(app.inbox_ids(&p.admin).await.contains(&triage), "triage reaches the admins");
    let view = app.get(&p.doctor.token, &format!("/conversations/{triage}")).await;
    assert_eq!(view.body["conversation"]["kind"], "sms", "{}", view.body);
    assert!(!view.body.to_string().contains(&stranger), "the number is not shown in the thread");
}

/// A staff reply in an SMS conversation goes out as an SMS, from the practice's number, and
/// the answer joins the same conversation, matched by the latest outbound SMS.
#[tokio::test]
async fn notify_4_a_staff_reply_in_an_sms_conversation_goes_out_as_an_sms_and_the_answer_joins_it() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let (p, practice_number) = texting_practice(&app).await;
    let (stranger, triage) = triage_conversation(&app, &practice_number).await;

    let res = app
        .post(&p.doctor.token, &format!("/conversations/{triage}/messages"), json!({ "body": "Yes, 9 to 12." }))
        .await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(app.pump().await.pending, 0);
    let to_stranger = sms_to(&app.published().await, &stranger).iter().map(|m| m.message.clone()).collect::<Vec<_>>();
    assert_eq!(to_stranger, vec!["Yes, 9 to 12.".to_string()]);
    assert_eq!(app.text_in(&stranger, &practice_number, "Thanks!", "in-4").await["conversationId"], triage);
}

#[tokio::test]
async fn notify_4_a_text_to_a_number_no_practice_owns_is_acknowledged_and_stored_nowhere() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let before = app.item_count().await;

    let answer = app.text_in(&unique_phone(), &unique_phone(), "Wrong number", "in-5").await;

    assert_eq!(answer["outcome"], "notOurNumber");
    assert_eq!(app.item_count().await, before, "nothing stored");
}

/// Another practice cannot be given a number a practice has, and no administrator can claim
/// one: only the operator assigns them (ACCT-4).
#[tokio::test]
async fn notify_4_a_number_belongs_to_one_practice_and_only_the_operator_assigns_it() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let (_, practice_number) = texting_practice(&app).await;
    let (other, other_admin) = app.new_practice("Other Practice").await;

    let taken = carethread_core::ops::settings::assign_sms_number(app.app(), &other, Some(&practice_number)).await;
    let claimed = app
        .send("PUT", "/settings", Some(&other_admin.token), Some(&json!({ "smsNumber": unique_phone() })), &[])
        .await;

    assert!(matches!(taken, Err(carethread_core::Error::Conflict(_))), "{taken:?}");
    assert_eq!(claimed.status, StatusCode::FORBIDDEN, "{}", claimed.body);
}
