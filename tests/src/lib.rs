//! Black-box test support: `TestApp::spawn()` starts a local gateway in-process on a free
//! loopback port against the local AWS stack that `make test` started (its settings come
//! from the environment), and `DemoPractice` seeds a practice through the public API. Each
//! test makes its own practice, so tests never see each other's data.

//!
//! - `requests`: signing in, requests and answers, tokens, TOTP codes;
//! - `practices`: a practice through the operator command, staff and patients, the demo practice;
//! - `inspect`: what the functions left (table items, audit events, the stream, SNS);
//! - `faults`: fault switches in the SDK clients' request path.

mod faults;
mod inspect;
mod practices;
mod requests;

pub use faults::*;
pub use inspect::*;
pub use practices::*;
pub use requests::*;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use carethread_core::app::{Config, Hooks};
use carethread_core::App;
use local_gateway::{Gateway, Shared};

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

    /// The operator's app (every right): for reading back what the functions did.
    pub fn app(&self) -> &App {
        &self.gateway.functions.operator
    }

    /// One function's app, under its own role: for running a job as Lambda would.
    pub fn function(&self, name: &str) -> &App {
        self.gateway.app(name)
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
