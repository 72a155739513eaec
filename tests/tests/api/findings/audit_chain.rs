//! Finding 4 (SEC-2): the audit chain is keyed. Each link is an HMAC under a KMS key that only
//! the audit-chain function's role may use, so someone able to write the table who edits an
//! event and recomputes the chain (as the unkeyed SHA-256 chain allowed) is named by
//! `audit-verify`; each chain's head is also copied under Object Lock, so a chain cut short is
//! named too; every other function's role is denied changing or deleting audit items.

use super::*;
use aws_sdk_dynamodb::types::AttributeValue;
use carethread_core::audit::verify_practice;
use std::collections::HashMap;

type RawItem = HashMap<String, AttributeValue>;

/// A conversation about Jane, read twice by her, its chain linked: the conversation's id and
/// its chain's partition.
async fn linked_conversation(app: &TestApp, p: &DemoPractice, subject: &str) -> (String, String) {
    let (cid, _) = about_jane(app, p, subject).await;
    for _ in 0..2 {
        assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    }
    assert_eq!(app.pump().await.audit_pending, 0);
    let chain = format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id);
    (cid, chain)
}

/// A chain's events as stored, in chain order.
async fn chain_events(app: &TestApp, chain: &str) -> Vec<RawItem> {
    let mut events: Vec<_> =
        app.raw_partition(chain).await.into_iter().filter(|e| e.contains_key("seq") && e.contains_key("id")).collect();
    events.sort_by_key(|e| e.get("seq").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok()));
    events
}

#[tokio::test]
async fn finding_04_a_chain_recomputed_without_the_key_is_named() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let (_, chain) = linked_conversation(&app, &p, "Audit").await;
    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert!(verified.broken.is_empty() && verified.events >= 3, "{verified:?}");
    let events = chain_events(&app, &chain).await;
    assert!(events.len() >= 3 && events.iter().all(|e| text(e, "hash").starts_with("mac:")), "keyed links");

    // Whoever can write the table, but not use the key, edits the first event and recomputes
    // every link the unkeyed way.
    let mut prev = "genesis".to_string();
    for (i, raw) in events.iter().enumerate() {
        let mut event: carethread_core::domain::AuditEvent = serde_dynamo::from_item(raw.clone()).unwrap();
        if i == 0 {
            event.actor_id = p.nurse.id.clone();
        }
        let stored_at: carethread_core::store::Key = serde_dynamo::from_item(raw.clone()).unwrap();
        let hash =
            String::from_utf8(carethread_core::audit::link_digest(&prev, i as u64 + 1, &stored_at, &event)).unwrap();
        app.dynamodb
            .update_item()
            .table_name(&app.table)
            .key("pk", AttributeValue::S(chain.clone()))
            .key("sk", raw["sk"].clone())
            .update_expression("SET actorId = :actor, prevHash = :prev, #hash = :hash")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":actor", AttributeValue::S(event.actor_id.clone()))
            .expression_attribute_values(":prev", AttributeValue::S(prev.clone()))
            .expression_attribute_values(":hash", AttributeValue::S(hash.clone()))
            .send()
            .await
            .unwrap();
        prev = hash;
    }
    app.dynamodb
        .update_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S(chain.clone()))
        .key("sk", AttributeValue::S("~HEAD".into()))
        .update_expression("SET #hash = :hash")
        .expression_attribute_names("#hash", "hash")
        .expression_attribute_values(":hash", AttributeValue::S(prev))
        .send()
        .await
        .unwrap();

    let verified = verify_practice(app.app(), &p.id).await.unwrap();

    let first = verified.broken.iter().find(|b| b.chain == chain).expect("the recomputed chain is named");
    assert_eq!((first.seq, first.problem), (1, "the link is not keyed: the chain was recomputed"));
}

/// Taking the last event off the end of a chain, and its head back with it, is still named:
/// the head's copy under Object Lock is further on.
#[tokio::test]
async fn finding_04_a_chain_cut_short_with_its_head_is_named_by_its_locked_head_copy() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let (_, chain) = linked_conversation(&app, &p, "Another").await;
    let heads = app.app().audit_heads.as_ref().expect("head copies are configured");
    let copied = heads.furthest(&chain).await.unwrap().expect("the patient's chain is copied");
    let mut tail = chain_events(&app, &chain).await;
    assert_eq!(tail.len() as u64, copied);

    let last = tail.pop().unwrap();
    app.dynamodb
        .delete_item()
        .table_name(&app.table)
        .key("pk", last["pk"].clone())
        .key("sk", last["sk"].clone())
        .send()
        .await
        .unwrap();
    let head = match tail.last() {
        Some(before) => vec![("seq", before["seq"].clone()), ("hash", before["hash"].clone())],
        None => Vec::new(),
    };
    let mut rewind = app
        .dynamodb
        .update_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S(chain.clone()))
        .key("sk", AttributeValue::S("~HEAD".into()))
        .update_expression("SET seq = :seq, #hash = :hash")
        .expression_attribute_names("#hash", "hash");
    for (name, value) in head {
        rewind = rewind.expression_attribute_values(format!(":{name}"), value);
    }
    rewind.send().await.unwrap();

    let verified = verify_practice(app.app(), &p.id).await.unwrap();

    let cut = verified.broken.iter().find(|b| b.chain == chain).expect("the shortened chain is named");
    assert_eq!(
        (cut.seq, cut.problem),
        (copied, "events are missing at the end of the chain: its locked head copy is further on")
    );
}

#[tokio::test]
async fn finding_04_a_locked_head_copy_cannot_be_deleted() {
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    linked_conversation(&app, &p, "Locked").await;
    let heads = app.app().audit_heads.as_ref().expect("head copies are configured");
    let versions = app.s3.list_object_versions().bucket(&heads.bucket).send().await.unwrap();
    let copy = versions.versions().first().expect("a head copy");

    let deleted = app
        .s3
        .delete_object()
        .bucket(&heads.bucket)
        .key(copy.key().unwrap())
        .version_id(copy.version_id().unwrap())
        .send()
        .await;

    assert!(deleted.is_err(), "a locked head copy cannot be deleted");
}

#[tokio::test]
async fn finding_04_only_the_audit_chain_function_may_make_a_link() {
    let app = TestApp::spawn().await;
    let key = |function: &str| app.function(function).audit_key.as_ref().expect("the chain key is configured");

    assert!(key("audit-chain").link(b"digest").await.is_ok());
    for function in ["compose", "list-inbox", "directory"] {
        assert!(key(function).link(b"digest").await.is_err(), "{function} may not make a link");
    }
}

/// Every other function's role is given the managed policy that denies changing or deleting
/// audit items (`security::iam` holds each role to it on the local stack).
#[test]
fn finding_04_every_function_but_the_chain_is_denied_changing_audit_items() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let functions = template.matches("Type: AWS::Serverless::Function").count();

    assert_eq!(template.matches("- !Ref AuditAppendOnlyPolicy").count(), functions - 1);
}
