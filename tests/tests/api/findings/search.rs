//! Search answers in any script and reveals nothing the caller cannot see (findings 2, 3, 12).

use super::*;

/// Finding 2: a search for a name in any script answers (the query was sliced at a byte
/// offset: "Renée" panicked and its panic message carried the name to the log), and a name
/// typed with a combining accent finds the same patient as the precomposed one.
#[tokio::test]
async fn finding_02_search_in_any_script_answers_and_finds_both_spellings() {
    let (app, p) = setup().await;
    let renee = app.add_patient(&p.id, &p.admin, "Renée", "Zoë", json!({ "primaryProviderId": p.doctor.id })).await;
    let about = json!({ "kind": "patient", "patientId": renee.id, "subject": "Café visit", "body": "See you" });
    let created = app.post(&p.doctor.token, "/conversations", about).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let cid = id_of(&created.body, "conversation");
    for q in ["Ren%C3%A9e", "Rene%CC%81e", "Zo%C3%AB", "Caf%C3%A9", "%E6%9D%8E%E5%B0%8F%E9%BE%8D", "%F0%9F%99%82"] {
        let res = app.get(&p.doctor.token, &format!("/inbox?q={q}")).await;
        assert!(res.status == StatusCode::OK || res.status == StatusCode::UNPROCESSABLE_ENTITY, "{q}: {}", res.status);
        if q.starts_with("Ren") || q.starts_with("Caf") {
            let ids: Vec<&str> =
                res.body["items"].as_array().unwrap().iter().filter_map(|i| i["conversation"]["id"].as_str()).collect();
            assert_eq!(ids, vec![cid.as_str()], "{q}");
        }
    }
    for q in ["Ren%C3%A9e", "Rene%CC%81e", "renee"] {
        let res = app.get(&p.doctor.token, &format!("/patients?q={q}")).await;
        assert_eq!(res.status, StatusCode::OK, "{q}: {}", res.body);
        assert_eq!(res.body["items"][0]["id"], json!(renee.id), "{q}: {}", res.body);
    }
}

/// Finding 3: a search page and its cursor depend only on what the caller may see. Before, a
/// patient asking for another patient's name with `limit=1` got an empty page with a
/// `nextCursor` (somebody else matches) and could count the matches by paging.
#[tokio::test]
async fn finding_03_search_pages_and_cursors_reveal_nothing_the_caller_cannot_see() {
    let (app, p) = setup().await;
    for n in 0..3 {
        let about =
            json!({ "kind": "patient", "patientId": p.john.id, "subject": format!("Visit {n}"), "body": "Fine" });
        assert_eq!(app.post(&p.doctor2.token, "/conversations", about).await.status, StatusCode::CREATED);
    }
    let mine = json!({ "kind": "patient", "patientId": p.jane.id, "subject": "Doe family history", "body": "Noted" });
    let jane_doe = app.post(&p.doctor.token, "/conversations", mine).await;
    let jane_doe = id_of(&jane_doe.body, "conversation");
    // Jane's only hit for "doe" is her own conversation, whatever the practice holds.
    for limit in [1, 2, 10] {
        let page = app.get(&p.jane.token, &format!("/inbox?q=doe&limit={limit}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let ids: Vec<&str> =
            page.body["items"].as_array().unwrap().iter().filter_map(|i| i["conversation"]["id"].as_str()).collect();
        assert_eq!(ids, vec![jane_doe.as_str()], "limit {limit}");
        assert!(
            page.body.get("nextCursor").is_none(),
            "limit {limit}: no cursor past the last visible hit: {}",
            page.body
        );
    }
    let page = app.get(&p.jane.token, "/inbox?q=john&limit=1").await;
    assert_eq!((page.body["items"].clone(), page.body.get("nextCursor")), (json!([]), None), "{}", page.body);
    // Staff who see all four page through exactly them, a full page at a time.
    let mut seen = Vec::new();
    let mut path = "/inbox?q=doe&limit=2".to_string();
    loop {
        let page = app.get(&p.doctor.token, &path).await;
        let items = page.body["items"].as_array().unwrap();
        assert!(!items.is_empty(), "a cursor never leads to an empty page");
        seen.extend(items.iter().map(|i| i["conversation"]["id"].as_str().unwrap().to_string()));
        match page.body["nextCursor"].as_str() {
            Some(c) => path = format!("/inbox?q=doe&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
}

/// Finding 12: expensive routes have a per-user budget (search here: 120 a minute), answered
/// 429 with the rate-limited problem once spent, for that user only; and a forged or edited
/// cursor is refused by its tag without any KMS call (it used to cost a Decrypt each).
#[tokio::test]
async fn finding_12_search_has_a_per_user_budget_and_a_forged_cursor_costs_no_kms_call() {
    let (app, p) = setup().await;
    for n in 0..3 {
        let about = json!({ "kind": "patient", "patientId": p.jane.id, "subject": format!("Budget {n}"), "body": "B" });
        assert_eq!(app.post(&p.doctor.token, "/conversations", about).await.status, StatusCode::CREATED);
    }
    let cursor = app.get(&p.doctor.token, "/inbox?limit=1").await.body["nextCursor"].as_str().unwrap().to_string();
    // An edit near the start: where the old format carried its KMS-wrapped data key.
    let mut forged = cursor.into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let before = app.app().calls.snapshot();
    let res = app.get(&p.doctor.token, &format!("/inbox?limit=1&cursor={forged}")).await;
    let calls = app.app().calls.since(&before);
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert_eq!(res.body["field"], "cursor");
    let kms: u64 = calls.iter().filter(|(k, _)| k.starts_with("KMS.")).map(|(_, v)| v).sum();
    assert_eq!(kms, 0, "a forged cursor costs no KMS call: {calls:?}");

    // 241 searches span at most two minutes' budgets of 120: one of them must be refused.
    let mut refused = None;
    for _ in 0..241 {
        let res = app.get(&p.nurse.token, "/inbox?q=budget").await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(res);
            break;
        }
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }
    let refused = refused.expect("the budget runs out");
    assert!(refused.body["type"].as_str().unwrap().ends_with("/rate-limited"), "{}", refused.body);
    let wait = refused.retry_after.expect("a spent budget says when it refills (Retry-After)");
    assert!((1..=60).contains(&wait), "the budget refills within the minute: Retry-After {wait}");
    assert_eq!(
        app.get(&p.doctor.token, "/inbox?q=budget").await.status,
        StatusCode::OK,
        "another user's budget is its own"
    );
    assert_eq!(app.get(&p.nurse.token, "/inbox").await.status, StatusCode::OK, "the inbox itself is not budgeted");
}
