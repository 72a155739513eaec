//! Each function held to its own role, item by item, as IAM holds it (SEC-2 and the least-privilege
//! roles).

use super::*;

/// A DynamoDB client that signs as one function's own role (the template's, as the local
/// stack creates it), so a test can ask IAM what that function may do.
async fn client_of_role(binary: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&config_of_role(binary).await)
}

async fn config_of_role(binary: &str) -> aws_config::SdkConfig {
    let operator = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let role = format!("{}{binary}", std::env::var("FUNCTION_ROLE_PREFIX").unwrap());
    local_gateway::functions::role_config(&operator, &role, "iam-items").await
}

fn item_key(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [("pk".to_string(), AttributeValue::S(pk.into())), ("sk".to_string(), AttributeValue::S("IAM".into()))]
        .into_iter()
        .collect()
}

fn refused_by_iam<E: std::fmt::Debug, R: std::fmt::Debug>(result: Result<R, aws_sdk_dynamodb::error::SdkError<E>>) {
    let refused = result.expect_err("IAM refuses it");
    assert_eq!(refused.raw_response().map(|r| r.status().as_u16()), Some(403), "{refused:?}");
}

/// IAM has no permission for a transaction as such: each of its items needs its own action
/// (a Put PutItem, a Delete DeleteItem). The local stack holds them to the function's role
/// item by item, as AWS does: the e-visit job's role may put, not delete, in a transaction.
#[tokio::test]
async fn iam_each_item_of_a_transaction_is_held_to_the_functions_role() {
    use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
    let app = TestApp::spawn().await;
    let job = client_of_role("evisit-windows").await;
    let id = carethread_core::domain::new_id("iam");
    let put = |pk: &str| {
        TransactWriteItem::builder()
            .put(Put::builder().table_name(&app.table).set_item(Some(item_key(pk))).build().unwrap())
            .build()
    };
    let delete = |pk: &str| {
        TransactWriteItem::builder()
            .delete(Delete::builder().table_name(&app.table).set_key(Some(item_key(pk))).build().unwrap())
            .build()
    };
    let write = |items: Vec<TransactWriteItem>| job.transact_write_items().set_transact_items(Some(items)).send();
    write(vec![put(&format!("{id}#a"))]).await.expect("PutItem is in the job's role");
    refused_by_iam(write(vec![put(&format!("{id}#b")), delete(&format!("{id}#a"))]).await);
    // Refused whole: nothing of it was written.
    let read = |pk: String| app.dynamodb.get_item().table_name(&app.table).set_key(Some(item_key(&pk))).send();
    assert!(read(format!("{id}#a")).await.unwrap().item.is_some());
    assert!(read(format!("{id}#b")).await.unwrap().item.is_none());
}

/// SEC-2: the audit log is append-only. Every function but the audit chain carries the
/// template's `AuditAppendOnlyPolicy`, whose Deny outweighs the function's own table-wide
/// write grant: compose may add an audit event but neither rewrite nor delete one.
#[tokio::test]
async fn sec_2_iam_the_audit_log_is_append_only_for_every_function_but_the_chain() {
    let app = TestApp::spawn().await;
    let compose = client_of_role("compose").await;
    let id = carethread_core::domain::new_id("iam");
    let audit = item_key(&format!("PRAC#{id}#AUDIT#2026-12"));
    let rewrite = |key: std::collections::HashMap<String, AttributeValue>| {
        compose
            .update_item()
            .table_name(&app.table)
            .set_key(Some(key))
            .update_expression("SET rewritten = :yes")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
    };

    compose.put_item().table_name(&app.table).set_item(Some(audit.clone())).send().await.expect("appending is allowed");
    refused_by_iam(rewrite(audit.clone()).await);
    refused_by_iam(compose.delete_item().table_name(&app.table).set_key(Some(audit.clone())).send().await);

    let stored = app.dynamodb.get_item().table_name(&app.table).set_key(Some(audit)).send().await.unwrap().item;
    assert!(stored.is_some_and(|item| !item.contains_key("rewritten")), "the event is there, untouched");
    // The same update outside the audit partitions is the function's own grant at work.
    rewrite(item_key(&format!("PRAC#{id}#CONV#c"))).await.expect("compose updates conversations");
}

/// A grant conditioned on `dynamodb:LeadingKeys` holds only in its partitions: the notifier
/// may write a late inbox entry in a viewer's partition, not a conversation item.
#[tokio::test]
async fn iam_a_partition_conditioned_grant_holds_only_in_its_partitions() {
    let app = TestApp::spawn().await;
    let notifier = client_of_role("notifier").await;
    let id = carethread_core::domain::new_id("iam");
    let put = |pk: String| notifier.put_item().table_name(&app.table).set_item(Some(item_key(&pk))).send();

    put(format!("PRAC#{id}#USER#u")).await.expect("a viewer's partition is granted");
    refused_by_iam(put(format!("PRAC#{id}#CONV#c")).await);

    let conversation = item_key(&format!("PRAC#{id}#CONV#c"));
    assert!(app
        .dynamodb
        .get_item()
        .table_name(&app.table)
        .set_key(Some(conversation))
        .send()
        .await
        .unwrap()
        .item
        .is_none());
}

/// The functions that read the record cannot change it: reports write only their audit
/// events, and opening a thread writes only audit events, the reader's own marks and an
/// e-visit's "reviewed" mark (template.yaml, each role's statements). A bug there could
/// at worst misplace a read mark, never rewrite or delete a message.
#[tokio::test]
async fn iam_the_functions_that_read_the_record_cannot_change_it() {
    let app = TestApp::spawn().await;
    let (reports, reader) = (client_of_role("reports").await, client_of_role("get-conversation").await);
    let id = carethread_core::domain::new_id("iam");
    let message = item_key(&format!("PRAC#{id}#CONV#c"));

    reader
        .put_item()
        .table_name(&app.table)
        .set_item(Some(item_key(&format!("PRAC#{id}#AUDIT#r"))))
        .send()
        .await
        .expect("its audit event");
    refused_by_iam(reports.put_item().table_name(&app.table).set_item(Some(message.clone())).send().await);
    refused_by_iam(reader.put_item().table_name(&app.table).set_item(Some(message.clone())).send().await);
    refused_by_iam(reader.delete_item().table_name(&app.table).set_key(Some(message.clone())).send().await);

    assert!(app.dynamodb.get_item().table_name(&app.table).set_key(Some(message)).send().await.unwrap().item.is_none());
}

/// An S3 grant holds for its own bucket: compose may store attachment files, not the audit
/// chain's head copies (SEC-2: only the audit-chain function writes those).
#[tokio::test]
async fn sec_2_iam_an_s3_grant_holds_only_for_its_bucket() {
    let app = TestApp::spawn().await;
    let config = config_of_role("compose").await;
    let compose = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).build());
    let heads = std::env::var("AUDIT_HEADS_BUCKET").unwrap();
    let key = format!("iam/{}", carethread_core::domain::new_id("iam"));
    let put = |bucket: String| compose.put_object().bucket(bucket).key(&key).body(b"x".to_vec().into()).send();

    put(app.bucket.clone()).await.expect("the attachment bucket is compose's");
    refused_by_iam(put(heads.clone()).await);

    assert!(app.s3.head_object().bucket(heads).key(&key).send().await.is_err(), "nothing was stored");
}
