//! Practices made through the operator command and the public API: a new practice with its
//! first administrator, staff and patients added as an administrator adds them, and the demo
//! practice most tests use.

use crate::TestApp;
use carethread_core::domain::PracticeId;
use reqwest::StatusCode;
use serde_json::{json, Value};

impl TestApp {
    /// A new practice with its first admin, through the local-only route. Its staff sign in
    /// with a password alone, as the operator's `--staff-totp optional` makes it; the tests
    /// of the second factor (ACCT-3) use `new_practice_with_totp`.
    pub async fn new_practice(&self, name: &str) -> (PracticeId, User) {
        self.practice_through_operator(name, false).await
    }

    /// A new practice as the operator command makes it by default: staff need TOTP.
    pub async fn new_practice_with_totp(&self, name: &str) -> (PracticeId, User) {
        self.practice_through_operator(name, true).await
    }

    async fn practice_through_operator(&self, name: &str, staff_totp: bool) -> (PracticeId, User) {
        let admin_email = format!("admin@{}.test", name.to_lowercase().replace(' ', "-"));
        let res = self
            .http
            .post(format!("{}/_local/practices", self.base))
            .json(&json!({ "name": name, "adminEmail": admin_email, "totpRequiredForStaff": staff_totp }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let v: Value = res.json().await.unwrap();
        let pid = PracticeId::parse("practiceId", v["practiceId"].as_str().unwrap()).unwrap();
        let admin_id = v["adminId"].as_str().unwrap().to_string();
        let token = self.sign_in(&admin_id).await;
        (pid, User { id: admin_id, token, role: "admin".into() })
    }

    pub async fn add_staff(&self, _pid: &str, admin: &User, first: &str, role: &str, extra: Value) -> User {
        let mut body = json!({ "firstName": first, "lastName": "Tester", "role": role, "email": format!("{}@example.test", first.to_lowercase()) });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        // A user created inactive cannot sign in; tests want the still-valid token of a
        // deactivated user, so it signs in while active and is deactivated after.
        let inactive = body.get("active") == Some(&json!(false));
        if let Some(b) = body.as_object_mut() {
            b.remove("active");
        }
        let res = self.post(&admin.token, "/staff", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let id = res.body["staff"]["id"].as_str().unwrap().to_string();
        let token = self.sign_in(&id).await;
        if inactive {
            let off = self
                .send("PATCH", &format!("/staff/{id}"), Some(&admin.token), Some(&json!({ "active": false })), &[])
                .await;
            assert_eq!(off.status, StatusCode::OK, "{}", off.body);
        }
        User { token, id, role: role.into() }
    }

    /// A patient; with portal access (the default), also its portal user (invited by SMS to
    /// its phone), signed in.
    pub async fn add_patient(&self, _pid: &str, admin: &User, first: &str, last: &str, extra: Value) -> User {
        let mut body = json!({ "firstName": first, "lastName": last, "phone": "+15550109999" });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let res = self.post(&admin.token, "/patients", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let id = res.body["patient"]["id"].as_str().unwrap().to_string();
        let created = &res.body["patient"];
        let portal =
            created["portalAccess"] == json!(true) && (created["email"].is_string() || created["phone"].is_string());
        let token = if portal { self.sign_in(&id).await } else { String::new() };
        User { token, id, role: "patient".into() }
    }

    /// The demo practice of issue 2, made through the API.
    pub async fn demo_practice(&self) -> DemoPractice {
        let (id, admin) = self.new_practice("Test Practice").await;
        let manager = self.add_staff(&id, &admin, "Priya", "practice_manager", json!({})).await;
        let doctor = self.add_staff(&id, &admin, "Maria", "physician", json!({})).await;
        let doctor2 = self.add_staff(&id, &admin, "David", "physician", json!({})).await;
        let nurse = self.add_staff(&id, &admin, "Sam", "nurse", json!({})).await;
        let front_desk = self.add_staff(&id, &admin, "Alex", "front_desk", json!({})).await;
        let biller = self.add_staff(&id, &admin, "Jordan", "biller", json!({})).await;
        let billing =
            self.post(&admin.token, "/workgroups", json!({ "name": "Billing", "memberIds": [biller.id] })).await;
        assert_eq!(billing.status, StatusCode::CREATED);
        let front_office = self
            .post(&admin.token, "/workgroups", json!({ "name": "Front Office", "memberIds": [front_desk.id] }))
            .await;
        let jane = self
            .add_patient(
                &id,
                &admin,
                "Jane",
                "Smith",
                json!({ "primaryProviderId": doctor.id, "assignedStaffIds": [nurse.id] }),
            )
            .await;
        let john = self.add_patient(&id, &admin, "John", "Doe", json!({ "primaryProviderId": doctor2.id })).await;
        DemoPractice {
            id,
            admin,
            manager,
            doctor,
            doctor2,
            nurse,
            front_desk,
            biller,
            billing_id: billing.body["workgroup"]["id"].as_str().unwrap().to_string(),
            front_office_id: front_office.body["workgroup"]["id"].as_str().unwrap().to_string(),
            jane,
            john,
        }
    }

    /// Ids of the conversations in a user's inbox (first page of 100).
    pub async fn inbox_ids(&self, user: &User) -> Vec<String> {
        self.inbox_query_ids(user, "limit=100").await
    }

    /// Ids of the conversations of an inbox page (`query`: tab, filters, limit, cursor).
    pub async fn inbox_query_ids(&self, user: &User, query: &str) -> Vec<String> {
        let res = self.get(&user.token, &format!("/inbox?{query}")).await;
        assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.body);
        res.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["conversation"]["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The usual arrangement: an app of its own with the demo practice in it.
pub async fn setup() -> (TestApp, DemoPractice) {
    let app = TestApp::spawn().await;
    let practice = app.demo_practice().await;
    (app, practice)
}

/// A phone number no other test uses, so the SMS log can be read per test.
pub fn unique_phone() -> String {
    let digits: String =
        carethread_core::domain::new_id("").chars().filter(|c| c.is_ascii_digit()).rev().take(7).collect();
    format!("+1555{digits:0>7}")
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
    pub role: String,
}

impl User {
    /// The id as the core types it, for calls straight into the store.
    pub fn user_id(&self) -> carethread_core::domain::UserId {
        carethread_core::domain::UserId::from_stored(&self.id)
    }
}

pub struct DemoPractice {
    pub id: PracticeId,
    pub admin: User,
    pub manager: User,
    pub doctor: User,
    pub doctor2: User,
    pub nurse: User,
    pub front_desk: User,
    pub biller: User,
    pub billing_id: String,
    pub front_office_id: String,
    /// Primary provider: doctor; assigned staff: nurse.
    pub jane: User,
    /// Primary provider: doctor2.
    pub john: User,
}
