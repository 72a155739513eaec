//! Black-box test support: `TestApp::spawn()` starts a local gateway in-process on a free
//! loopback port against the local AWS stack that `make test` started (its settings come
//! from the environment), and `DemoPractice` seeds a practice through the public API. Each
//! test makes its own practice, so tests never see each other's data.

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use carethread_core::app::{Config, Hooks};
use carethread_core::domain::PracticeId;
use carethread_core::App;
use local_gateway::{Gateway, Shared};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub struct TestApp {
    /// The user pool, with the operator's rights (set passwords, read users).
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub pool_id: String,
    pub client_id: String,
    /// The notifier's stream trigger, where the test asked for notifications.
    pub pump: Option<local_gateway::stream::StreamPump>,
    pub topic_arn: String,
    pub endpoint: String,
    pub base: String,
    pub http: reqwest::Client,
    pub gateway: Shared,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub table: String,
    pub bucket: String,
}

/// ACCT-3: the current code of a TOTP secret (RFC 6238: 30-second steps, HMAC-SHA1, six
/// digits), as an authenticator app shows it. Never within two seconds of a step's end, so
/// the code still holds when Cognito checks it.
pub async fn totp_now(base32_secret: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let seconds = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    if seconds() % 30 >= 28 {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut key, mut bits, mut held) = (Vec::new(), 0u32, 0u32);
    for c in base32_secret.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase()).expect("a base32 secret") as u32;
        bits = (bits << 5) | v;
        held += 5;
        if held >= 8 {
            held -= 8;
            key.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key);
    let tag = aws_lc_rs::hmac::sign(&key, &(seconds() / 30).to_be_bytes());
    let h = tag.as_ref();
    let at = (h[h.len() - 1] & 0x0f) as usize;
    let value = u32::from_be_bytes([h[at] & 0x7f, h[at + 1], h[at + 2], h[at + 3]]);
    format!("{:06}", value % 1_000_000)
}

/// A phone number no other test uses, so the SMS log can be read per test.
pub fn unique_phone() -> String {
    let digits: String =
        carethread_core::domain::new_id("").chars().filter(|c| c.is_ascii_digit()).rev().take(7).collect();
    format!("+1555{digits:0>7}")
}

/// The usual arrangement: an app of its own with the demo practice in it.
pub async fn setup() -> (TestApp, DemoPractice) {
    let app = TestApp::spawn().await;
    let practice = app.demo_practice().await;
    (app, practice)
}

/// An answer is an RFC 9457 problem with this status, and says what is wrong.
pub fn assert_problem(res: &Answer, status: StatusCode) {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(res.content_type, "application/problem+json");
    assert_eq!(res.body["status"], serde_json::json!(status.as_u16()));
    assert!(res.body["type"].is_string() && res.body["title"].is_string() && res.body["detail"].is_string());
}

/// A response: status, headers and the JSON body (Null when empty or not JSON).
#[derive(Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    /// `Retry-After`, in seconds, where the answer has one.
    pub retry_after: Option<u64>,
    pub body: Value,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        // Logs go through the test harness, so a failing test shows its server-side cause.
        let _ = lambda_http::tracing::subscriber::fmt()
            .with_env_filter(lambda_http::tracing::subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("run through `make test`: AWS_ENDPOINT_URL is not set");
        assert!(endpoint.starts_with("http://127.0.0.1:"), "tests talk only to 127.0.0.1");
        let sdk = aws_config_for_tests().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let mut config = Config::from_env().expect("config from env");
        config.table_name = clone_table(&dynamodb, &config.table_name, options.notifications).await;
        if options.notifications {
            // A topic of its own, so what the test reads back was published by this test.
            let sns = aws_sdk_sns::Client::new(&sdk);
            let topic = sns.create_topic().name(format!("{}-notifications", config.table_name)).send().await;
            config.topic_arn = topic.expect("create the test topic").topic_arn.expect("topic arn");
        }
        // Every function's app, each under its own role; the fault tests add their switches
        // to every client of every app.
        let mut hooks = Hooks::default();
        if let Some(faults) = &options.aws_faults {
            faults.hook_into(&mut hooks);
        }
        if let Some(faults) = &options.sns_faults {
            hooks.sns.push(SharedInterceptor::new(faults.clone()));
        }
        let functions = local_gateway::Functions::new(&sdk, &config, &hooks).await;
        let pump = match options.notifications {
            true => {
                Some(local_gateway::stream::StreamPump::for_table(&sdk, &config.table_name).await.expect("stream pump"))
            }
            false => None,
        };
        let authorizer = local_gateway::Authorizer::from_env().expect("USER_POOL_ID and USER_POOL_CLIENT_ID");
        let gateway = Gateway::new(functions, authorizer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served = gateway.clone();
        tokio::spawn(async move {
            let _ = local_gateway::serve(listener, served).await;
        });
        TestApp {
            pump,
            cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
            pool_id: std::env::var("USER_POOL_ID").expect("USER_POOL_ID"),
            client_id: std::env::var("USER_POOL_CLIENT_ID").expect("USER_POOL_CLIENT_ID"),
            topic_arn: config.topic_arn,
            endpoint,
            base,
            http: reqwest::Client::new(),
            gateway,
            dynamodb,
            s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).build()),
            table: config.table_name,
            bucket: std::env::var("BUCKET_NAME").unwrap(),
        }
    }

    /// Every audit event of this test's table (a test-side Scan: the table is the test's own).
    pub async fn audit_events(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.scan_where("entity", "audit").await
    }

    /// Every item of this test's table whose attribute `name` is the string `value` (a
    /// test-side Scan: the table is the test's own).
    pub async fn scan_where(
        &self,
        name: &str,
        value: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .filter_expression("#name = :value")
                .expression_attribute_names("#name", name)
                .expression_attribute_values(":value", AttributeValue::S(value.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan the test table");
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return items,
            }
        }
    }

    /// One round of the notifier's stream trigger.
    pub async fn pump(&self) -> local_gateway::stream::PumpReport {
        self.pump
            .as_ref()
            .expect("spawned without notifications")
            .pump(&self.gateway.functions)
            .await
            .expect("stream pump")
    }

    /// Everything SNS was asked to deliver for this test: SMS (moto's SMS log) and the
    /// messages published to this test's topic.
    pub async fn published(&self) -> Published {
        let data: Value = self
            .http
            .get(format!("{}/moto-api/data.json", self.endpoint))
            .send()
            .await
            .expect("moto dashboard data")
            .json()
            .await
            .expect("moto dashboard json");
        let sms = data["sns"]["SMS"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Sms {
                phone: m["phone_number"].as_str().unwrap_or_default().to_string(),
                message: m["message"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let mut topic = Vec::new();
        for t in data["sns"]["Topic"].as_array().into_iter().flatten().filter(|t| t["arn"] == self.topic_arn.as_str()) {
            for n in t["sent_notifications"].as_array().into_iter().flatten() {
                topic.push(TopicMessage {
                    message: n[1].as_str().unwrap_or_default().to_string(),
                    subject: n[2].as_str().unwrap_or_default().to_string(),
                    attributes: n[3].clone(),
                });
            }
        }
        Published { sms, topic }
    }

    /// The operator's app (every right): for reading back what the functions did.
    pub fn app(&self) -> &App {
        &self.gateway.functions.operator
    }

    /// One function's app, under its own role: for running a job as Lambda would.
    pub fn function(&self, name: &str) -> &App {
        self.gateway.app(name)
    }

    /// An ID token of the user pool for `username`, as a client gets one: the operator sets a
    /// password (as an administrator's invitation would lead the user to), then the user signs
    /// in with it through the app client (USER_PASSWORD_AUTH).
    pub async fn sign_in(&self, username: &str) -> String {
        let password = "Test-Passw0rd-2026";
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(username)
            .password(password)
            .permanent(true)
            .send()
            .await
            .expect("set the test password");
        self.password_sign_in(username, password).await.expect("sign in")
    }

    /// Signs in with a password; the Cognito error's code when refused.
    pub async fn password_sign_in(&self, username: &str, password: &str) -> Result<String, String> {
        let out = self
            .cognito
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(|e| {
                aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata::code(&e).unwrap_or("?").to_string()
            })?;
        Ok(out.authentication_result().and_then(|r| r.id_token()).expect("an ID token").to_string())
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.http.request(method.parse().unwrap(), format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let retry_after = res.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
        let text = res.text().await.unwrap_or_default();
        Answer { status, content_type, retry_after, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    pub async fn get(&self, token: &str, path: &str) -> Answer {
        self.send("GET", path, Some(token), None, &[]).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(token), Some(&body), &[]).await
    }

    /// ACCT-4: chooses a notification destination and proves it as its owner would, with the
    /// code read from what SNS was asked to send there.
    pub async fn prove_destination(&self, user: &User, channel: &str, destination: &str) {
        let body = json!({ "channel": channel, "destination": destination });
        let res = self.send("PUT", "/me/notifications", Some(&user.token), Some(&body), &[]).await;
        assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
        assert_eq!(res.body["notifications"]["pending"]["destination"], destination, "{}", res.body);
        let code = self.code_sent_to(destination).await.expect("a code was sent to the destination");
        let res = self.post(&user.token, "/me/notifications/verification", json!({ "code": code })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["notifications"], json!({ "channel": channel, "destination": destination }));
    }

    /// The latest one-time code SNS was asked to send to a number or an address.
    pub async fn code_sent_to(&self, destination: &str) -> Option<String> {
        let published = self.published().await;
        let texts = published.sms.iter().filter(|m| m.phone == destination).map(|m| &m.message).chain(
            published.topic.iter().filter(|m| m.attributes["destination"]["Value"] == destination).map(|m| &m.message),
        );
        texts
            .filter_map(|t| t.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).map(str::to_string))
            .next_back()
    }

    /// NOTIFY-4: an inbound text, as End User Messaging publishes it; the `sms-inbound`
    /// function's answer (where the text went).
    pub async fn text_in(&self, from: &str, to: &str, body: &str, inbound_id: &str) -> Value {
        let message = json!({ "originationNumber": from, "destinationNumber": to, "messageBody": body, "inboundMessageId": inbound_id });
        let res = self.http.post(format!("{}/_local/sms", self.base)).body(message.to_string()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()[0].clone()
    }

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

    /// Every raw item of a partition, straight from the table.
    /// How many items this test's table holds (a test-side Scan: the table is the test's own).
    pub async fn item_count(&self) -> usize {
        let (mut count, mut start) = (0, None);
        loop {
            let out = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            count += out.count() as usize;
            start = out.last_evaluated_key;
            if start.is_none() {
                return count;
            }
        }
    }

    pub async fn raw_partition(
        &self,
        pk: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let out = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
            .send()
            .await
            .unwrap();
        out.items.unwrap_or_default()
    }
}

/// A table of its own for each test, with the keys and indexes of the one `make test` created
/// from template.yaml. moto deep-copies the whole table, stream records included, for every
/// item of a transaction; small tables without a stream keep the suite fast and its memory
/// bounded. Each is deleted when its test ends.
async fn clone_table(client: &aws_sdk_dynamodb::Client, template_table: &str, with_stream: bool) -> String {
    use aws_sdk_dynamodb::types::{GlobalSecondaryIndex, KeySchemaElement, Projection};
    let desc = client.describe_table().table_name(template_table).send().await.expect("describe the template table");
    let t = desc.table.expect("table description");
    let name = format!("{template_table}-{}", carethread_core::domain::new_id(""));
    let gsis: Vec<GlobalSecondaryIndex> = t
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            GlobalSecondaryIndex::builder()
                .index_name(g.index_name().unwrap())
                .set_key_schema(Some(
                    g.key_schema()
                        .iter()
                        .map(|k| {
                            KeySchemaElement::builder()
                                .attribute_name(k.attribute_name())
                                .key_type(k.key_type().clone())
                                .build()
                                .unwrap()
                        })
                        .collect(),
                ))
                .projection(
                    Projection::builder()
                        .set_projection_type(g.projection().and_then(|p| p.projection_type().cloned()))
                        .build(),
                )
                .build()
                .unwrap()
        })
        .collect();
    client
        .create_table()
        .table_name(&name)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(t.attribute_definitions().to_vec()))
        .set_key_schema(Some(t.key_schema().to_vec()))
        .set_global_secondary_indexes(Some(gsis))
        .set_stream_specification(with_stream.then(|| {
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::NewImage)
                .build()
                .unwrap()
        }))
        .send()
        .await
        .expect("create the test table");
    name
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.gateway.functions.record_operations();
        let table = self.table.clone();
        let topic = (self.pump.is_some()).then(|| self.topic_arn.clone());
        // Drop cannot await; a short-lived runtime on its own thread deletes the table.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let sdk = aws_config_for_tests().await;
                let _ = aws_sdk_dynamodb::Client::new(&sdk).delete_table().table_name(table).send().await;
                if let Some(topic) = topic {
                    let _ = aws_sdk_sns::Client::new(&sdk).delete_topic().topic_arn(topic).send().await;
                }
            });
        })
        .join();
    }
}

async fn aws_config_for_tests() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// How a test app is made.
#[derive(Clone, Default)]
pub struct Options {
    /// A table with a stream, a topic of its own and the notifier's stream trigger.
    pub notifications: bool,
    /// SNS calls fail while this says so.
    pub sns_faults: Option<SnsFaults>,
    /// DynamoDB, S3 and KMS calls fail where this is armed.
    pub aws_faults: Option<AwsFaults>,
}

/// A fault at a chosen point of a request, in the request path of the DynamoDB, S3 and KMS
/// clients (the SDK's interceptor layer): armed with `k`, the k-th AWS call from then on is
/// sent to a closed port on 127.0.0.1, so it fails as an outage would (connection refused,
/// after the SDK's own retries).
#[derive(Clone, Debug, Default)]
pub struct AwsFaults {
    state: std::sync::Arc<std::sync::Mutex<FaultState>>,
}

#[derive(Debug, Default)]
struct FaultState {
    armed_at: Option<usize>,
    calls: usize,
    injected: usize,
    /// The call that failed: `Service.Operation`.
    failed: Vec<String>,
}

#[derive(Debug)]
struct FailThisCall;

impl aws_smithy_types::config_bag::Storable for FailThisCall {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl AwsFaults {
    /// Fail the `k`-th call (1-based) from now; `None` counts calls without failing any.
    pub fn arm(&self, k: Option<usize>) {
        let mut s = self.state.lock().unwrap();
        s.armed_at = k;
        s.calls = 0;
    }
    /// Calls counted since the last `arm`.
    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().calls
    }
    pub fn injected(&self) -> usize {
        self.state.lock().unwrap().injected
    }
    pub fn last_failed(&self) -> Option<String> {
        self.state.lock().unwrap().failed.last().cloned()
    }
}

impl AwsFaults {
    /// The switch on the DynamoDB, S3, KMS and Cognito clients, one attempt per call (a retry
    /// would hide the fault), and no data key reused, so every sealed field is a KMS call that
    /// can fail too (unwrapped keys stay cached for reading).
    fn hook_into(&self, hooks: &mut Hooks) {
        for service in [&mut hooks.dynamodb, &mut hooks.s3, &mut hooks.kms, &mut hooks.cognito] {
            service.push(SharedInterceptor::new(self.clone()));
        }
        hooks.retry = Some(aws_config::retry::RetryConfig::standard().with_max_attempts(1));
        hooks.key_cache = Some(carethread_core::crypto::KeyCachePolicy {
            max_age: std::time::Duration::ZERO,
            max_uses: 1,
            max_cached_unwrapped: 1_000,
        });
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for AwsFaults {
    fn name(&self) -> &'static str {
        "AwsFaults"
    }
    fn read_before_serialization(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let mut s = self.state.lock().unwrap();
        s.calls += 1;
        if s.armed_at == Some(s.calls) {
            s.injected += 1;
            let name = cfg
                .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
                .map(|m| format!("{}.{}", m.service(), m.name()))
                .unwrap_or_default();
            s.failed.push(name);
            cfg.interceptor_state().store_put(FailThisCall);
        }
        Ok(())
    }
    fn modify_before_transmit(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if cfg.load::<FailThisCall>().is_some() {
            // The discard port: nothing listens there, every attempt is refused.
            context.request_mut().set_uri("http://127.0.0.1:9/")?;
        }
        Ok(())
    }
}

/// What SNS was asked to deliver.
#[derive(Clone, Debug, Default)]
pub struct Published {
    pub sms: Vec<Sms>,
    pub topic: Vec<TopicMessage>,
}

#[derive(Clone, Debug)]
pub struct Sms {
    pub phone: String,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct TopicMessage {
    pub message: String,
    pub subject: String,
    pub attributes: Value,
}

/// A fault switch in the SNS client's request path (the SDK's interceptor layer): while on,
/// every SNS call fails before it is sent, as an outage would.
#[derive(Clone, Debug, Default)]
pub struct SnsFaults {
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    injected: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SnsFaults {
    pub fn fail(&self, on: bool) {
        self.failing.store(on, std::sync::atomic::Ordering::SeqCst);
    }
    /// How many SNS calls were failed so far.
    pub fn injected(&self) -> usize {
        self.injected.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for SnsFaults {
    fn name(&self) -> &'static str {
        "SnsFaults"
    }
    fn read_before_transmit(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            self.injected.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err("injected SNS fault".into());
        }
        Ok(())
    }
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

/// SLA-4: how many escalation notes a thread (GET /conversations/{id}) holds.
pub fn escalation_notes(thread: &Value) -> usize {
    let messages = thread["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    messages
        .iter()
        .filter(|m| m["body"].as_str().unwrap_or_default().starts_with("No reply to the patient yet"))
        .count()
}

/// Every text (S, and B read as UTF-8 lossily) anywhere in an item, nested included.
pub fn item_texts(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Vec<String> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    fn walk(v: &A, out: &mut Vec<String>) {
        match v {
            A::S(s) => out.push(s.clone()),
            A::B(b) => out.push(String::from_utf8_lossy(b.as_ref()).into_owned()),
            A::L(l) => l.iter().for_each(|x| walk(x, out)),
            A::M(m) => m.values().for_each(|x| walk(x, out)),
            A::Ss(s) => out.extend(s.iter().cloned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in item {
        out.push(k.clone());
        walk(v, &mut out);
    }
    out
}

/// A token with its claims edited and its header and signature kept: what an attacker who
/// holds a valid token can make. The gateway must refuse it (SEC-4).
pub fn edit_claims(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url")).expect("claims");
    edit(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{}.{}", parts[0], payload, parts[2])
}

/// The claims of a token, unverified (tests read what Cognito put in it).
pub fn claims_of(token: &str) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}
