//! The world every matrix test runs in: the demo practice, a token per identity, and the
//! targets (conversations, messages, attachments, drafts, tasks, saved replies) in each practice.

use super::*;

/// The ids each target stands for, per practice.
#[derive(Clone, Default)]
pub(super) struct Ids {
    pub(super) conversation: String,
    pub(super) message: String,
    pub(super) attachment: String,
    pub(super) drafts: Vec<String>,
    pub(super) task: String,
    pub(super) saved_reply: String,
}

pub(super) struct World {
    pub(super) p: DemoPractice,
    pub(super) tokens: BTreeMap<Who, Option<String>>,
    pub(super) ids: BTreeMap<Target, Ids>,
    pub(super) other_patient: String,
}

pub(super) async fn created(res: Answer, what: &str, pointer: &str) -> String {
    assert_eq!(res.status, StatusCode::CREATED, "{what}: {}", res.body);
    res.body.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{what}: {}", res.body)).to_string()
}

pub(super) async fn attachment(app: &TestApp, token: &str, cid: &str) -> String {
    let bytes = b"%PDF-1.7 matrix".to_vec();
    let res = app
        .post(token, "/attachments", json!({ "fileName": "m.pdf", "contentType": "application/pdf", "size": bytes.len(), "conversationId": cid }))
        .await;
    let id = created(res.clone(), "attachment", "/attachment/id").await;
    let mut put = app.http.put(res.body["upload"]["url"].as_str().unwrap()).body(bytes);
    for (h, v) in res.body["upload"]["headers"].as_object().unwrap() {
        put = put.header(h.as_str(), v.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    let res = app
        .post(token, &format!("/conversations/{cid}/messages"), json!({ "body": "file", "attachmentIds": [id] }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    id
}

pub(super) async fn world(app: &TestApp) -> World {
    let p = app.demo_practice().await;
    let doc = p.doctor.token.clone();
    let mut ids = BTreeMap::new();

    let cid = created(
        app.post(&doc, "/conversations", json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Matrix", "body": "Hello Jane", "options": { "allowAttachments": true } })).await,
        "patient conversation",
        "/conversation/id",
    )
    .await;
    let tid = created(
        app.post(&doc, "/conversations", json!({ "kind": "team", "recipients": [{ "type": "staff", "id": p.nurse.id }], "subject": "Team", "body": "Between us" })).await,
        "team conversation",
        "/conversation/id",
    )
    .await;
    let mut drafts = Vec::new();
    for n in 0..3 {
        let body =
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": format!("Draft {n}"), "body": "Draft body" });
        drafts.push(created(app.post(&doc, "/drafts", body).await, "draft", "/draft/id").await);
    }
    for (target, conversation) in [(Target::PatientConversation, &cid), (Target::TeamConversation, &tid)] {
        let message = created(
            app.post(&doc, &format!("/conversations/{conversation}/messages"), json!({ "body": "A reply to delete" }))
                .await,
            "reply",
            "/message/id",
        )
        .await;
        let attachment = attachment(app, &doc, conversation).await;
        ids.insert(
            target,
            Ids {
                conversation: conversation.clone(),
                message,
                attachment,
                drafts: drafts.clone(),
                ..Default::default()
            },
        );
    }
    let task = created(
        app.post(
            &doc,
            &format!("/conversations/{cid}/messages/{}/tasks", ids[&Target::PatientConversation].message),
            json!({ "title": "Call back", "assigneeId": p.nurse.id, "dueDate": "2026-12-01" }),
        )
        .await,
        "task",
        "/task/id",
    )
    .await;
    let saved = created(
        app.post(
            &p.admin.token,
            "/saved-replies",
            json!({ "title": "Hi", "body": "Hello {{patient.firstName}}", "scope": "practice" }),
        )
        .await,
        "saved reply",
        "/savedReply/id",
    )
    .await;
    let own = Ids {
        conversation: cid.clone(),
        drafts: drafts.clone(),
        task,
        saved_reply: saved,
        ..ids[&Target::PatientConversation].clone()
    };
    ids.insert(Target::Own, own);
    ids.insert(Target::None, Ids { conversation: cid.clone(), ..Default::default() });

    // The other practice: the same kinds of things.
    let (other_id, other_admin) = app.new_practice("Other Practice").await;
    let other_patient = app.add_patient(&other_id, &other_admin, "Olive", "Other", json!({})).await;
    let ocid = created(
        app.post(&other_admin.token, "/conversations", json!({ "kind": "patient", "patientId": other_patient.id, "subject": "Theirs", "body": "Not yours", "options": { "allowAttachments": true } })).await,
        "other conversation",
        "/conversation/id",
    )
    .await;
    let omessage = created(
        app.post(&other_admin.token, &format!("/conversations/{ocid}/messages"), json!({ "body": "Theirs too" })).await,
        "other reply",
        "/message/id",
    )
    .await;
    let oattachment = attachment(app, &other_admin.token, &ocid).await;
    let mut odrafts = Vec::new();
    for n in 0..3 {
        let body = json!({ "kind": "patient", "patientId": other_patient.id, "subject": format!("Their draft {n}"), "body": "x" });
        odrafts.push(created(app.post(&other_admin.token, "/drafts", body).await, "other draft", "/draft/id").await);
    }
    let otask = created(
        app.post(
            &other_admin.token,
            &format!("/conversations/{ocid}/messages/{omessage}/tasks"),
            json!({ "title": "Theirs", "assigneeId": other_admin.id, "dueDate": "2026-12-01" }),
        )
        .await,
        "other task",
        "/task/id",
    )
    .await;
    let osaved = created(
        app.post(
            &other_admin.token,
            "/saved-replies",
            json!({ "title": "Theirs", "body": "Hello", "scope": "practice" }),
        )
        .await,
        "other saved reply",
        "/savedReply/id",
    )
    .await;
    ids.insert(
        Target::OtherPractice,
        Ids {
            conversation: ocid,
            message: omessage,
            attachment: oattachment,
            drafts: odrafts,
            task: otask,
            saved_reply: osaved,
        },
    );

    let deactivated = app.add_staff(&p.id, &p.admin, "Dee", "physician", json!({ "active": false })).await;
    // The doctor's token with its `exp` edited into the past: the signature no longer holds.
    let expired = carethread_tests::edit_claims(&p.doctor.token, |c| c["exp"] = serde_json::json!(1));
    let mut bad = p.doctor.token.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    let mut tokens = BTreeMap::new();
    tokens.insert(Who::NoToken, None);
    tokens.insert(Who::Expired, Some(expired));
    tokens.insert(Who::BadSignature, Some(bad));
    tokens.insert(Who::Deactivated, Some(deactivated.token));
    tokens.insert(Who::OtherPracticeAdmin, Some(other_admin.token));
    for (who, user) in [
        (Who::John, &p.john),
        (Who::Biller, &p.biller),
        (Who::FrontDesk, &p.front_desk),
        (Who::Nurse, &p.nurse),
        (Who::Doctor2, &p.doctor2),
        (Who::Manager, &p.manager),
        (Who::Admin, &p.admin),
        (Who::Jane, &p.jane),
        (Who::Doctor, &p.doctor),
    ] {
        tokens.insert(who, Some(user.token.clone()));
    }
    World { p, tokens, ids, other_patient: other_patient.id }
}

/// The concrete request of a route for one identity and target.
pub(super) fn request(r: &Route, who: Who, target: Target, w: &World) -> (String, Option<Value>) {
    let ids = &w.ids[&target];
    let draft = |n: usize| ids.drafts.get(n).cloned().unwrap_or_default();
    let id = if r.path.starts_with("/attachments/") {
        ids.attachment.clone()
    } else if r.path.starts_with("/drafts/") {
        match (r.method, r.path) {
            ("POST", _) => draft(1),
            ("DELETE", _) => draft(2),
            _ => draft(0),
        }
    } else if r.path.starts_with("/tasks/") {
        ids.task.clone()
    } else if r.path.starts_with("/saved-replies/") {
        ids.saved_reply.clone()
    } else {
        ids.conversation.clone()
    };
    let path = r.path.replace("{id}", &id).replace("{messageId}", &ids.message);
    let p = &w.p;
    let patient = if who == Who::OtherPracticeAdmin { w.other_patient.clone() } else { p.jane.id.clone() };
    let conversation = &w.ids[&Target::PatientConversation].conversation;
    let unique = carethread_core::domain::new_id("").to_lowercase();
    let body = match (r.method, r.path) {
        ("POST", "/conversations") if matches!(who, Who::Jane | Who::John) => {
            Some(json!({ "subject": "From me", "body": "A question" }))
        }
        ("POST", "/conversations") => {
            Some(json!({ "kind": "patient", "patientId": patient, "subject": "Hi", "body": "Hello" }))
        }
        ("POST", "/conversations/{id}/messages") => Some(json!({ "body": "A reply" })),
        ("POST", "/conversations/{id}/assign") => {
            Some(json!({ "assignees": [{ "type": "staff", "id": p.doctor.id }] }))
        }
        ("PUT", "/conversations/{id}/state") => Some(json!({ "starred": true })),
        ("POST", "/attachments") => Some(json!({ "fileName": "a.pdf", "contentType": "application/pdf", "size": 10 })),
        ("POST", "/staff") => Some(
            json!({ "firstName": "New", "lastName": "Staff", "role": "nurse", "email": format!("{unique}@x.example") }),
        ),
        ("POST", "/patients") => Some(json!({ "firstName": "New", "lastName": "Patient" })),
        ("POST", "/workgroups") => Some(json!({ "name": format!("Group {unique}"), "memberIds": [] })),
        ("POST", "/drafts") | ("PUT", "/drafts/{id}") => {
            Some(json!({ "kind": "patient", "patientId": patient, "subject": "Draft", "body": "Draft" }))
        }
        ("POST", "/conversations/{id}/evisit/time") => Some(json!({ "seconds": 60, "source": "active" })),
        ("PATCH", "/conversations/{id}/evisit") => Some(json!({ "evaluative": false })),
        ("POST", "/drafts/{id}/send")
        | ("POST", "/conversations/{id}/withdraw")
        | ("POST", "/conversations/{id}/evisit")
        | ("POST", "/conversations/{id}/close")
        | ("POST", "/conversations/{id}/reopen") => Some(json!({})),
        ("PUT", "/settings") => Some(json!({ "patientBanner": "Welcome." })),
        ("PUT", "/me/out-of-office") => Some(Value::Null),
        ("PUT", "/me/notifications") => Some(json!({ "channel": "none" })),
        ("POST", "/me/notifications/verification") => Some(json!({ "code": "123456" })),
        ("POST", "/me/totp") => Some(json!({})),
        ("POST", "/conversations/{id}/messages/{messageId}/tasks") => {
            Some(json!({ "title": "Task", "assigneeId": p.nurse.id, "dueDate": "2026-12-01" }))
        }
        ("PATCH", "/tasks/{id}") => Some(json!({ "done": true })),
        ("POST", "/saved-replies") => Some(json!({ "title": "Mine", "body": "Hello" })),
        ("POST", "/saved-replies/{id}/render") => {
            let c = if target == Target::OtherPractice { &ids.conversation } else { conversation };
            Some(json!({ "conversationId": c }))
        }
        ("POST", "/conversations/{id}/forward") => {
            Some(json!({ "messageIds": [ids.message], "recipients": [{ "type": "staff", "id": p.nurse.id }] }))
        }
        ("POST", "/broadcasts") => Some(json!({ "patientIds": [patient], "subject": "News", "body": "Hello all" })),
        _ => None,
    };
    let path = match (r.method, r.path) {
        ("GET", "/patients") => "/patients?q=ja".to_string(),
        ("GET", "/reports/billing") => "/reports/billing?from=2026-11-01&to=2026-11-30".to_string(),
        ("GET", "/reports/response-times") => "/reports/response-times?from=2026-11-01&to=2026-11-30".to_string(),
        ("GET", "/audit") => format!("/audit?conversationId={}", ids.conversation),
        ("GET", "/audit/verification") => format!("/audit/verification?conversationId={}", ids.conversation),
        _ => path,
    };
    (path, body)
}
