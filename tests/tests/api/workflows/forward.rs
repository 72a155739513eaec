//! Forwarding (ASSIGN-3): chosen messages and their attachments copied into a new team
//! conversation, which the patient never sees; the original stays as it was.

use super::*;

const SCAN: &[u8] = b"%PDF-1.4 invoice scan bytes";

/// Jane's message with an uploaded invoice in a billing conversation: (conversation,
/// attachment, message).
async fn message_with_invoice(app: &TestApp, p: &DemoPractice) -> (String, String, String) {
    let cid = app.start_conversation(&p.doctor,
        json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Billing", "body": "About your invoice", "options": { "allowAttachments": true } }),
    )
    .await;
    let res = app
        .post(
            &p.jane.token,
            "/attachments",
            json!({ "fileName": "invoice.pdf", "contentType": "application/pdf", "size": SCAN.len() }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let att = res.body["attachment"]["id"].as_str().unwrap().to_string();
    let mut put = app.http.put(res.body["upload"]["url"].as_str().unwrap()).body(SCAN.to_vec());
    for (k, v) in res.body["upload"]["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    let res = app
        .post(
            &p.jane.token,
            &format!("/conversations/{cid}/messages"),
            json!({ "body": "I was charged twice", "attachmentIds": [att] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    (cid, att, res.body["message"]["id"].as_str().unwrap().to_string())
}

fn to_billing(p: &DemoPractice, message: &str) -> Value {
    json!({ "messageIds": [message], "recipients": [{"type": "workgroup", "id": p.billing_id}], "comment": "Can billing check this?" })
}

/// The doctor forwards Jane's message to billing: (original conversation, original attachment,
/// the forward's answer).
async fn forwarded(app: &TestApp, p: &DemoPractice) -> (String, String, Answer) {
    let (cid, att, message) = message_with_invoice(app, p).await;
    let res = app.post(&p.doctor.token, &format!("/conversations/{cid}/forward"), to_billing(p, &message)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    (cid, att, res)
}

#[tokio::test]
async fn assign_3_forward_copies_chosen_messages_and_attachments_to_a_new_team_conversation() {
    let (app, p) = setup().await;

    let (_, att, res) = forwarded(&app, &p).await;

    assert_eq!(res.body["conversation"]["kind"], "team");
    assert_eq!(res.body["conversation"]["subject"], "Fwd: Billing");
    let body = res.body["message"]["body"].as_str().unwrap();
    assert!(
        body.starts_with("Can billing check this?")
            && body.contains("I was charged twice")
            && body.contains("From: Jane Smith")
    );
    let copy = &res.body["message"]["attachments"][0];
    assert_eq!(copy["fileName"], "invoice.pdf");
    assert_ne!(copy["id"], json!(att), "a copy, not the original");
}

/// The biller sees the forward and downloads the copy; the patient never sees it.
#[tokio::test]
async fn assign_3_a_forward_reaches_its_recipients_and_never_the_patient() {
    let (app, p) = setup().await;
    let (_, _, res) = forwarded(&app, &p).await;
    let new_id = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let copy = res.body["message"]["attachments"][0]["id"].as_str().unwrap().to_string();

    let download = app.get(&p.biller.token, &format!("/attachments/{copy}")).await;

    assert!(app.inbox_ids(&p.biller).await.contains(&new_id));
    assert!(!app.inbox_ids(&p.jane).await.contains(&new_id));
    assert_eq!(download.status, StatusCode::OK, "{}", download.body);
    let url = download.body["download"]["url"].as_str().unwrap();
    let got = app.http.get(url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.to_vec(), SCAN);
}

#[tokio::test]
async fn assign_3_the_original_conversation_is_unchanged_by_a_forward() {
    let (app, p) = setup().await;

    let (cid, att, _) = forwarded(&app, &p).await;

    let original = app.get(&p.doctor.token, &format!("/conversations/{cid}")).await;
    assert_eq!(original.body["messages"].as_array().unwrap().len(), 2);
    assert_eq!(original.body["messages"][1]["attachments"][0]["id"], json!(att));
}

#[tokio::test]
async fn assign_3_patients_cannot_forward_and_staff_who_cannot_see_the_conversation_get_404() {
    let (app, p) = setup().await;
    let (cid, _, message) = message_with_invoice(&app, &p).await;
    let path = format!("/conversations/{cid}/forward");

    let by_patient = app.post(&p.jane.token, &path, to_billing(&p, &message)).await;
    let by_front_desk = app.post(&p.front_desk.token, &path, to_billing(&p, &message)).await;

    assert_eq!(by_patient.status, StatusCode::FORBIDDEN);
    assert_eq!(by_front_desk.status, StatusCode::NOT_FOUND);
}
