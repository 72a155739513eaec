//! The audit chain is keyed, and only its function may make links (finding 4).

use super::*;

/// Finding 4 (SEC-2): the audit chain is keyed. Each link is an HMAC under a KMS key that only
/// the audit-chain function's role may use, so someone able to write the table who edits an
/// event and recomputes the chain (as the unkeyed SHA-256 chain allowed) is named by
/// `audit-verify`; every other function's role is denied changing or deleting audit items.
#[tokio::test]
async fn finding_04_the_audit_chain_is_keyed_and_only_its_function_may_make_links() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use carethread_core::audit::verify_practice;
    let app = TestApp::spawn_with(Options { notifications: true, ..Default::default() }).await;
    let p = app.demo_practice().await;
    let (cid, _) = about_jane(&app, &p, "Audit").await;
    for _ in 0..2 {
        assert_eq!(app.get(&p.jane.token, &format!("/conversations/{cid}")).await.status, StatusCode::OK);
    }
    assert_eq!(app.pump().await.audit_pending, 0);
    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    assert!(verified.broken.is_empty() && verified.events >= 3, "{verified:?}");
    let chain = format!("PRAC#{}#AUDIT#CONVERSATION#{cid}", p.id);
    let text = |e: &std::collections::HashMap<String, AttributeValue>, k: &str| {
        e.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
    };
    let mut events: Vec<_> =
        app.raw_partition(&chain).await.into_iter().filter(|e| e.contains_key("seq") && e.contains_key("id")).collect();
    events.sort_by_key(|e| e.get("seq").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok()));
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

    // Each head was also copied under Object Lock: taking the last event off the end of a
    // chain, and its head back with it, is still named; and the copy cannot be deleted.
    let (other, _) = about_jane(&app, &p, "Another").await;
    for _ in 0..2 {
        assert_eq!(app.get(&p.jane.token, &format!("/conversations/{other}")).await.status, StatusCode::OK);
    }
    assert_eq!(app.pump().await.audit_pending, 0);
    let other_chain = format!("PRAC#{}#AUDIT#CONVERSATION#{other}", p.id);
    let heads = app.app().audit_heads.as_ref().expect("head copies are configured");
    let copied = heads.furthest(&other_chain).await.unwrap().expect("the patient's chain is copied");
    let mut tail: Vec<_> = app
        .raw_partition(&other_chain)
        .await
        .into_iter()
        .filter(|e| e.contains_key("seq") && e.contains_key("id"))
        .collect();
    tail.sort_by_key(|e| e.get("seq").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok()));
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
        .key("pk", AttributeValue::S(other_chain.clone()))
        .key("sk", AttributeValue::S("~HEAD".into()))
        .update_expression("SET seq = :seq, #hash = :hash")
        .expression_attribute_names("#hash", "hash");
    for (name, value) in head {
        rewind = rewind.expression_attribute_values(format!(":{name}"), value);
    }
    rewind.send().await.unwrap();
    let verified = verify_practice(app.app(), &p.id).await.unwrap();
    let cut = verified.broken.iter().find(|b| b.chain == other_chain).expect("the shortened chain is named");
    assert_eq!(
        (cut.seq, cut.problem),
        (copied, "events are missing at the end of the chain: its locked head copy is further on")
    );
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

    // Only the audit-chain function's role may make a link.
    let key = |function: &str| app.function(function).audit_key.as_ref().expect("the chain key is configured");
    assert!(key("audit-chain").link(b"digest").await.is_ok());
    for function in ["compose", "list-inbox", "directory"] {
        assert!(key(function).link(b"digest").await.is_err(), "{function} may not make a link");
    }
    // And every other function's role denies changing or deleting audit items (template).
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let functions = template.matches("Type: AWS::Serverless::Function").count();
    assert_eq!(template.matches("- !Ref AuditAppendOnlyPolicy").count(), functions - 1);
}
