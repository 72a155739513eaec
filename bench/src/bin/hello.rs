//! The hello-world `lambda_runtime` function the cold-start figures are compared with: the
//! runtime, the default tracing subscriber (as every Carethread function has), one handler
//! that answers at once. Built with the workspace's release profile, like the functions.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<Value, lambda_runtime::Error>(json!({ "statusCode": 200, "body": "hello" }))
    }))
    .await
}
