//! A workgroup's members change (ROLE-6, `PATCH /workgroups/{id}`): a member added later
//! joins the workgroup's existing conversations, addressed or assigned to it, by a resumable
//! back-fill from the table's stream; only the admin class may change a workgroup.

use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::json;

struct Office {
    admin: User,
    doctor: User,
    first: User,
    hired: User,
    patient: User,
    workgroup: String,
}

async fn office(app: &TestApp) -> Office {
    let (pid, admin) = app.new_practice("Lakeside Clinic").await;
    let doctor = app.add_staff(&pid, &admin, "Doc", "physician", json!({})).await;
    let first = app.add_staff(&pid, &admin, "Finn", "front_desk", json!({})).await;
    let hired = app.add_staff(&pid, &admin, "Hana", "front_desk", json!({})).await;
    let patient = app.add_patient(&pid, &admin, "Pete", "Lake", json!({ "primaryProviderId": doctor.id })).await;
    let res = app.post(&admin.token, "/workgroups", json!({ "name": "Billing", "memberIds": [first.id] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let workgroup = res.body["workgroup"]["id"].as_str().unwrap().to_string();
    Office { admin, doctor, first, hired, patient, workgroup }
}

async fn set_members(app: &TestApp, by: &User, workgroup: &str, members: &[&User]) -> Answer {
    let ids: Vec<&str> = members.iter().map(|u| u.id.as_str()).collect();
    app.send("PATCH", &format!("/workgroups/{workgroup}"), Some(&by.token), Some(&json!({ "memberIds": ids })), &[])
        .await
}

/// ROLE-6, ROLE-2: a front-desk user added to Billing finds the patient's message to Billing
/// and the team thread assigned to Billing in its inbox, unread, and may open them; it could
/// not before. Carried out again (a retried stream batch), the back-fill changes nothing.
#[tokio::test]
async fn role_6_a_member_added_to_a_workgroup_joins_its_conversations() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let o = office(&app).await;
    let to_billing = json!({ "subject": "Invoice", "body": "Charged twice?", "recipients": [{ "type": "workgroup", "id": o.workgroup }] });
    let res = app.post(&o.patient.token, "/conversations", to_billing).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let addressed = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let team = json!({ "kind": "team", "recipients": [{ "type": "staff", "id": o.admin.id }], "subject": "Codes", "body": "Which one?" });
    let res = app.post(&o.doctor.token, "/conversations", team).await;
    let assigned = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let to_group = json!({ "assignees": [{ "type": "workgroup", "id": o.workgroup }] });
    let res = app.post(&o.doctor.token, &format!("/conversations/{assigned}/assign"), to_group).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(app.get(&o.hired.token, &format!("/conversations/{addressed}")).await.status, StatusCode::NOT_FOUND);

    let res = set_members(&app, &o.admin, &o.workgroup, &[&o.first, &o.hired]).await;
    app.pump().await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["workgroup"]["memberIds"], json!([o.first.id, o.hired.id]), "{}", res.body);
    let mut inbox = app.inbox_ids(&o.hired).await;
    inbox.sort();
    let mut expected = vec![addressed.clone(), assigned.clone()];
    expected.sort();
    assert_eq!(inbox, expected, "both, at once after the back-fill");
    assert_eq!(app.inbox_query_ids(&o.hired, "assigned=me").await, vec![assigned.clone()]);
    assert_eq!(app.get(&o.hired.token, &format!("/conversations/{addressed}")).await.status, StatusCode::OK);
    let stats = app.get(&o.hired.token, "/inbox/stats").await.body;
    assert_eq!(stats["totalConversations"], 2, "{stats}");

    let notifier = app.function("notifier");
    let items = app.scan_where("sk", "BACKFILL#000000").await;
    assert_eq!(items.len(), 1, "one back-fill, one page");
    let last = app.scan_where("sk", "BACKFILL#000001").await;
    assert_eq!(last.len(), 1, "then one pass over what moved meanwhile");
    let text = |name: &str| items[0][name].as_s().unwrap().clone();
    let carethread_core::store::place::Streamed::MembershipBackfill(key) =
        carethread_core::store::place::streamed(text("pk"), text("sk"))
    else {
        panic!("a back-fill page is streamed to the notifier as one")
    };
    let again =
        carethread_core::ops::workgroups::backfill_workgroup(notifier, &key, carethread_core::domain::Timestamp::now())
            .await
            .unwrap();
    assert_eq!(again, 0, "nothing left to add");
}

/// ROLE-6, ROLE-3: only the admin class changes a workgroup (staff 403, a patient 403), another
/// practice's admin finds no such workgroup (404), and a member who is nobody of the practice
/// is named as the fault (422); nothing changes.
#[tokio::test]
async fn role_6_only_the_admin_class_changes_a_workgroup() {
    let app = TestApp::spawn().await;
    let o = office(&app).await;
    let (_other, stranger) = app.new_practice("Elsewhere Clinic").await;

    let by_staff = set_members(&app, &o.first, &o.workgroup, &[&o.hired]).await;
    let by_patient = set_members(&app, &o.patient, &o.workgroup, &[&o.hired]).await;
    let by_stranger = set_members(&app, &stranger, &o.workgroup, &[&o.hired]).await;
    let nobody = set_members(&app, &o.admin, &o.workgroup, &[&stranger]).await;

    assert_problem(&by_staff, StatusCode::FORBIDDEN);
    assert_problem(&by_patient, StatusCode::FORBIDDEN);
    assert_problem(&by_stranger, StatusCode::NOT_FOUND);
    assert_problem(&nobody, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(nobody.body["field"], "memberIds");
    let groups = app.get(&o.admin.token, "/workgroups").await.body;
    assert_eq!(groups["items"][0]["memberIds"], json!([o.first.id]), "{groups}");
}

/// ASSIGN-1, ACCT-2, INBOX-4 (issue 17: no limit from the transaction size): assigning a
/// thread to a workgroup of 40 gives every member its entry (those that fit at once, the rest
/// moments later); 40 care-team members join a patient's thread and leave it again the same
/// way; every count stays exact.
#[tokio::test]
async fn assign_1_acct_2_forty_join_and_leave_a_thread_at_once() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let o = office(&app).await;
    let mut members = Vec::new();
    for i in 0..40 {
        members.push(app.add_staff("", &o.admin, &format!("Member{i}"), "nurse", json!({})).await);
    }
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let res = app.post(&o.admin.token, "/workgroups", json!({ "name": "Nursing pool", "memberIds": ids })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let pool = res.body["workgroup"]["id"].as_str().unwrap().to_string();
    let about =
        json!({ "kind": "patient", "patientId": o.patient.id, "subject": "Wound care", "body": "Daily dressing" });
    let cid = id_of(&app.post(&o.doctor.token, "/conversations", about).await);

    let to_pool = json!({ "assignees": [{ "type": "workgroup", "id": pool }] });
    let res = app.post(&o.doctor.token, &format!("/conversations/{cid}/assign"), to_pool).await;
    // A reply before the notifier has written the late joiners' entries: they count it once.
    let reply = app.post(&o.doctor.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Thanks" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    app.pump().await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    for m in &members {
        assert_eq!(app.inbox_query_ids(m, "assigned=me").await, vec![cid.clone()], "{}", m.id);
    }
    for m in [&members[0], &members[39]] {
        let stats = app.get(&m.token, "/inbox/stats").await.body;
        assert_eq!(
            (stats["totalMessages"].clone(), stats["totalConversations"].clone()),
            (json!(2), json!(1)),
            "{stats}"
        );
        assert_stats_exact(&app, m).await;
    }

    // Taken off the care team of a patient whose thread they were given through it, all 40
    // leave that thread (the assigned one they took part in stays theirs).
    let patient = app.add_patient("", &o.admin, "Cara", "Team", json!({ "primaryProviderId": o.doctor.id })).await;
    let about = json!({ "kind": "patient", "patientId": patient.id, "subject": "Follow-up", "body": "How is it?" });
    let followed = id_of(&app.post(&o.doctor.token, "/conversations", about).await);
    let care = |ids: Vec<&str>| json!({ "assignedStaffIds": ids });
    let path = format!("/patients/{}", patient.id);
    let res = app.send("PATCH", &path, Some(&o.admin.token), Some(&care(ids.clone())), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    app.pump().await;
    assert!(app.inbox_ids(&members[39]).await.contains(&followed), "the care team joined");

    let res = app.send("PATCH", &path, Some(&o.admin.token), Some(&care(vec![])), &[]).await;
    app.pump().await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    for m in [&members[0], &members[20], &members[39]] {
        assert_eq!(app.inbox_ids(m).await, vec![cid.clone()], "{} left the care team's thread", m.id);
        assert_stats_exact(&app, m).await;
    }
}

fn id_of(res: &Answer) -> String {
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["conversation"]["id"].as_str().unwrap().to_string()
}

async fn assert_stats_exact(app: &TestApp, user: &User) {
    let res = app.get(&user.token, "/inbox/stats").await;
    let practice = carethread_core::domain::PracticeId::from_stored(
        claims_of(&user.token)["custom:practice_id"].as_str().unwrap(),
    );
    let truth = app.app().store.recount_stats(&practice, &user.user_id()).await.unwrap();
    assert_eq!(res.body["totalMessages"], json!(truth.messages), "{}", res.body);
    assert_eq!(res.body["unreadMessages"], json!(truth.unread_messages), "{}", res.body);
    assert_eq!(res.body["totalConversations"], json!(truth.conversations), "{}", res.body);
}
