//! No practice is too large to write to (issue 17). A message's own transaction holds at most
//! 100 writes; the inbox entries of a larger audience are written moments later by the
//! notifier, from the table's stream, once each, before anyone is notified. A group this size
//! is past the default followers' limit (15): its clinicians' inboxes hold what concerns them;
//! the first tests set the limit to 500 so that every one of them follows everything.

use carethread_core::domain::InboxEntry;
use carethread_core::domain::{ConversationStatus, MessageId, PracticeId};
use carethread_core::store::place;
use carethread_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Provider-class users added through the API (not signed in: only their inboxes matter).
async fn add_providers(app: &TestApp, admin: &User, n: usize) {
    for i in 0..n {
        let unique = carethread_core::domain::new_id("").to_lowercase();
        let body = json!({
            "firstName": format!("Provider{i}"),
            "lastName": "Group",
            "role": if i % 3 == 0 { "nurse_practitioner" } else { "physician" },
            "email": format!("provider.{unique}@group.example"),
        });
        let res = app.post(&admin.token, "/staff", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
}

/// Every inbox entry of a conversation, straight from the test's own table: its viewers'
/// copies of the summary.
async fn entries_of(app: &TestApp, conversation: &str) -> Vec<InboxEntry> {
    let items = app.scan_where("sk", &format!("CONV#{conversation}")).await;
    items.into_iter().map(|item| serde_dynamo::from_item(item).unwrap()).collect()
}

/// A group of 150 provider-class users (a lead physician, 148 more, the newest nurse
/// practitioner), its admin and a patient of the lead.
struct Group {
    pid: PracticeId,
    admin: User,
    lead: User,
    newest: User,
    patient: User,
}

async fn large_group(app: &TestApp) -> Group {
    let (pid, admin) = app.new_practice("Valley Medical Group").await;
    let lead = app.add_staff(&pid, &admin, "Lead", "physician", json!({})).await;
    add_providers(app, &admin, 148).await;
    let newest = app.add_staff(&pid, &admin, "Newest", "nurse_practitioner", json!({})).await;
    let patient = app.add_patient(&pid, &admin, "Ada", "Large", json!({ "primaryProviderId": lead.id })).await;
    set_followers_limit(app, &admin, 500).await;
    Group { pid, admin, lead, newest, patient }
}

async fn set_followers_limit(app: &TestApp, admin: &User, limit: u32) {
    let body = json!({ "followAllConversationsUpTo": limit });
    let res = app.send("PUT", "/settings", Some(&admin.token), Some(&body), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

fn item_of<'a>(page: &'a Value, conversation: &str) -> Option<&'a Value> {
    page["items"].as_array().unwrap().iter().find(|i| i["conversation"]["id"] == conversation)
}

async fn assert_stats_exact(app: &TestApp, practice: &PracticeId, user: &User) {
    let res = app.get(&user.token, "/inbox/stats").await;
    let truth = app.app().store.recount_stats(practice, &user.user_id()).await.unwrap();
    assert_eq!(res.body["totalMessages"], json!(truth.messages), "{}", res.body);
    assert_eq!(res.body["unreadMessages"], json!(truth.unread_messages), "{}", res.body);
    assert_eq!(res.body["totalConversations"], json!(truth.conversations), "{}", res.body);
    assert_eq!(res.body["uniquePatients"], json!(truth.unique_patients), "{}", res.body);
}

/// ROLE-2, INBOX-4: 150 provider-class users and an admin may see a patient's messages; far
/// more than one transaction holds. The patient writes, a physician answers, everyone who may
/// see it finds it in the inbox with the right unread count, and every count stays exact.
async fn composes_replies_and_lists(app: &TestApp, group: &Group) {
    let Group { pid, admin, lead, newest, patient } = group;

    let res =
        app.post(&patient.token, "/conversations", json!({ "subject": "Refill", "body": "Could I get one?" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    // The sender and the people in the thread have it with the message; bystanders after.
    assert!(app.inbox_ids(patient).await.contains(&cid));
    assert!(app.inbox_ids(lead).await.contains(&cid), "the primary provider takes part");
    app.pump().await;
    for user in [&newest, &admin] {
        let page = app.get(&user.token, "/inbox?limit=10").await.body;
        let item = item_of(&page, &cid).unwrap_or_else(|| panic!("{} has it: {page}", user.role));
        assert_eq!(item["unreadCount"], 1, "{item}");
    }

    let res = app.post(&lead.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Sent it." })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let reply = res.body["message"]["id"].as_str().unwrap().to_string();
    app.pump().await;

    let page = app.get(&newest.token, "/inbox?limit=10").await.body;
    let item = item_of(&page, &cid).expect("the reply's late entry");
    assert_eq!(item["unreadCount"], 2, "{item}");
    assert_eq!(item["conversation"]["lastMessageAt"], res.body["message"]["createdAt"], "{item}");
    assert_eq!(item_of(&app.get(&patient.token, "/inbox").await.body, &cid).unwrap()["unreadCount"], 1);
    for user in [&newest, &lead, &admin, &patient] {
        assert_stats_exact(app, pid, user).await;
    }

    // Closing it and assigning it reach every entry too: the people in the thread with the
    // change, the rest by the notifier.
    let res = app.post(&lead.token, &format!("/conversations/{cid}/close"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let assignees = json!({ "assignees": [{ "type": "staff", "id": newest.id }], "comment": "Yours" });
    let res = app.post(&lead.token, &format!("/conversations/{cid}/assign"), assignees).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    app.pump().await;
    let entries = entries_of(app, &cid).await;
    assert_eq!(entries.len(), 152, "150 providers, the admin and the patient");
    let current =
        |e: &InboxEntry| e.summary.status == ConversationStatus::Closed && e.summary.assignee_ids == [newest.user_id()];
    assert!(entries.iter().all(current), "every copy of the summary is the latest");
    let row = |page: Value| item_of(&page, &cid).cloned().expect("still listed");
    let seen_by_admin = row(app.get(&admin.token, "/inbox?limit=10").await.body);
    assert_eq!(seen_by_admin["conversation"]["status"], "closed", "{seen_by_admin}");
    assert_eq!(seen_by_admin["conversation"]["assignees"][0]["id"], json!(newest.id), "{seen_by_admin}");
    assert_eq!(app.inbox_query_ids(newest, "assigned=me").await, vec![cid.clone()]);
    assert_eq!(row(app.get(&patient.token, "/inbox").await.body)["conversation"]["status"], "closed");

    // A stream record delivered twice (Lambda retries a batch) writes nobody's entry twice.
    let notifier = app.function("notifier");
    let outbox = notifier.store.outbox(&place::outbox(&MessageId::from_stored(reply))).await.unwrap().unwrap();
    assert!(outbox.late_entries.as_ref().is_some_and(|late| late.viewers.len() > 100), "most are late");
    let again = carethread_core::ops::conversations::write_late_entries(notifier, &outbox).await.unwrap();
    assert_eq!(again, 0);
    assert_eq!(item_of(&app.get(&newest.token, "/inbox").await.body, &cid).unwrap()["unreadCount"], 2);
    assert_stats_exact(app, pid, newest).await;
}

/// CONV-6, INBOX-4: a message and then a conversation 150 providers may see are deleted from
/// every inbox, and every count they were part of moves back.
async fn deletes_from_every_inbox(app: &TestApp, group: &Group) {
    let Group { pid, admin, lead, newest, patient } = group;
    let about = json!({ "kind": "patient", "patientId": patient.id, "subject": "Results", "body": "All normal." });
    let res = app.post(&lead.token, "/conversations", about).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    app.pump().await;
    assert_eq!(entries_of(app, &cid).await.len(), 152);

    // A reply sent by mistake is deleted (CONV-6): every entry counts one message again and
    // shows the first one's preview.
    let res =
        app.post(&lead.token, &format!("/conversations/{cid}/messages"), json!({ "body": "Wrong patient" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let reply = res.body["message"]["id"].as_str().unwrap().to_string();
    app.pump().await;
    let res = app.send("DELETE", &format!("/conversations/{cid}/messages/{reply}"), Some(&lead.token), None, &[]).await;
    assert!(res.status.is_success(), "{}", res.body);
    app.pump().await;
    let entries = entries_of(app, &cid).await;
    assert!(entries.iter().all(|e| e.message_count == 1), "the deleted reply counts nowhere");
    let row = item_of(&app.get(&newest.token, "/inbox").await.body, &cid).cloned().unwrap();
    assert_eq!(row["unreadCount"], 1, "{row}");
    assert_eq!(row["preview"], "All normal.", "{row}");
    assert_stats_exact(app, pid, newest).await;
    // Carried out twice (a retried stream batch), it takes the reply out once.
    let notifier = app.function("notifier");
    let again = carethread_core::ops::conversations::remove_message(
        notifier,
        &place::message_removal(&MessageId::from_stored(reply)),
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
    assert_stats_exact(app, pid, newest).await;

    let res = app.send("DELETE", &format!("/conversations/{cid}"), Some(&lead.token), None, &[]).await;
    assert!(res.status.is_success(), "{}", res.body);
    app.pump().await;

    assert!(entries_of(app, &cid).await.is_empty(), "no inbox keeps it");
    for user in [&newest, &lead, &admin, &patient] {
        assert!(!app.inbox_ids(user).await.contains(&cid));
        assert_stats_exact(app, pid, user).await;
    }
}

/// ROLE-2 past the followers' limit: a patient's message to its physician is written to the
/// people it concerns only (sender, physician, patient), in the message's own transaction;
/// the newest nurse practitioner finds it in the practice-wide view, unread, at once.
async fn beyond_the_limit_writes_only_to_those_concerned(app: &TestApp, group: &Group) {
    let Group { pid, admin, lead, newest, patient } = group;
    set_followers_limit(app, admin, 15).await;

    let res = app.post(&patient.token, "/conversations", json!({ "subject": "Dose", "body": "Half or whole?" })).await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cid = res.body["conversation"]["id"].as_str().unwrap().to_string();
    let items = app.scan_where("sk", &format!("CONV#{cid}")).await;
    let mut holders: Vec<String> =
        items.iter().map(|i| i["pk"].as_s().unwrap().rsplit('#').next().unwrap().into()).collect();
    holders.sort();
    let mut expected = [lead, patient].map(|u| u.id.clone()).to_vec();
    expected.sort();
    assert_eq!(holders, expected, "no entry for the 149 others");
    let page = app.get(&newest.token, "/inbox?tab=practice&limit=5").await.body;
    assert_eq!(item_of(&page, &cid).expect("reached from the practice view")["unreadCount"], 1, "{page}");
    assert!(!app.inbox_ids(newest).await.contains(&cid));
    assert_stats_exact(app, pid, lead).await;
}

/// Issue 17: both of the above in one group of 150 providers (made through the API, the
/// expensive part of the test, so it is made once).
#[tokio::test]
async fn role_2_inbox_4_conv_6_a_practice_of_150_providers_writes_changes_and_deletes_everywhere() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let group = large_group(&app).await;
    composes_replies_and_lists(&app, &group).await;
    deletes_from_every_inbox(&app, &group).await;
    beyond_the_limit_writes_only_to_those_concerned(&app, &group).await;
}
