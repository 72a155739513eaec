//! Tasks on a message (CONV-7): assigned to staff who can see the conversation, listed per
//! assignee, open ones first by due date.

use super::*;

fn task(title: &str, who: &str, due: &str) -> Value {
    json!({ "title": title, "assigneeId": who, "dueDate": due })
}

/// A patient conversation the doctor started: the tasks path of its first message.
async fn tasks_path(app: &TestApp, p: &DemoPractice) -> String {
    let res = app
        .post(
            &p.doctor.token,
            "/conversations",
            json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Refill", "body": "Need a refill" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let (cid, mid) = (res.body["conversation"]["id"].as_str().unwrap(), res.body["message"]["id"].as_str().unwrap());
    format!("/conversations/{cid}/messages/{mid}/tasks")
}

/// Two tasks for the nurse, the later-due one first: the first task's id.
async fn nurses_tasks(app: &TestApp, p: &DemoPractice) -> String {
    let path = tasks_path(app, p).await;
    let res = app.post(&p.doctor.token, &path, task("Call pharmacy", &p.nurse.id, "2026-12-02")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["task"]["title"], "Call pharmacy");
    let res = app.post(&p.doctor.token, &path, task("Check labs", &p.nurse.id, "2026-12-01")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    app.get(&p.nurse.token, "/tasks").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Call pharmacy")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn titles(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn conv_7_tasks_are_listed_to_their_assignee_open_first_by_due_date() {
    let (app, p) = setup().await;
    let first = nurses_tasks(&app, &p).await;

    let open = app.get(&p.nurse.token, "/tasks?assignee=me").await;
    let done =
        app.send("PATCH", &format!("/tasks/{first}"), Some(&p.nurse.token), Some(&json!({ "done": true })), &[]).await;
    let after = app.get(&p.nurse.token, "/tasks").await;

    assert_eq!(titles(&open.body), vec!["Check labs", "Call pharmacy"], "open tasks by due date");
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["task"]["done"], true);
    assert_eq!(titles(&after.body), vec!["Check labs", "Call pharmacy"]);
    assert_eq!(after.body["items"][1]["done"], true, "done tasks after open ones");
}

/// A task needs a message the caller sees, an assignee who can see the conversation (the front
/// desk cannot) and a date; patients may not make one.
#[tokio::test]
async fn conv_7_a_task_is_refused_where_its_message_or_its_assignee_cannot_see_the_conversation() {
    let (app, p) = setup().await;
    let path = tasks_path(&app, &p).await;
    let unknown_message = format!("{}/msg_nothere/tasks", path.rsplit_once("/msg_").unwrap().0);

    let unseen = app.post(&p.doctor.token, &path, task("x", &p.front_desk.id, "2026-12-01")).await;
    let bad_date = app.post(&p.doctor.token, &path, task("x", &p.nurse.id, "tomorrow")).await;

    assert_eq!((unseen.status, unseen.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("assigneeId")));
    assert_eq!(bad_date.body["field"], "dueDate");
    let valid = task("x", &p.nurse.id, "2026-12-01");
    assert_eq!(app.post(&p.jane.token, &path, valid.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post(&p.front_desk.token, &path, valid.clone()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post(&p.doctor.token, &unknown_message, valid).await.status, StatusCode::NOT_FOUND);
    assert!(app.get(&p.nurse.token, "/tasks").await.body["items"].as_array().unwrap().is_empty(), "none stored");
}

/// Staff list their own tasks; the admin and provider classes list a colleague's; nobody
/// else reads or changes another's task.
#[tokio::test]
async fn conv_7_only_the_admin_and_provider_classes_list_a_colleagues_tasks() {
    let (app, p) = setup().await;
    let first = nurses_tasks(&app, &p).await;

    let own = app.get(&p.biller.token, "/tasks").await;
    let colleague = app.get(&p.biller.token, &format!("/tasks?assignee={}", p.nurse.id)).await;
    let by_doctor = app.get(&p.doctor.token, &format!("/tasks?assignee={}", p.nurse.id)).await;
    let changed = app
        .send("PATCH", &format!("/tasks/{first}"), Some(&p.biller.token), Some(&json!({ "done": false })), &[])
        .await;

    assert!(own.body["items"].as_array().unwrap().is_empty());
    assert_eq!(colleague.status, StatusCode::FORBIDDEN);
    assert_eq!(titles(&by_doctor.body).len(), 2);
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
}
