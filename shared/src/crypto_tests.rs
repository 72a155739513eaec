use super::*;

#[test]
fn words_are_lowercased_and_accent_folded() {
    assert_eq!(normalize_words("José  O'Neil-Smith"), vec!["jose", "o", "neil", "smith"]);
}

#[test]
fn malformed_envelopes_are_refused() {
    assert!(split(&[]).is_err());
    assert!(split(&[2, 0, 0]).is_err());
    assert!(split(&[1, 0, 4, 1, 2]).is_err());
}

#[test]
fn blind_tokens_cover_prefixes_and_depend_on_the_key() {
    let a = BlindIndex { key: hmac::Key::new(hmac::HMAC_SHA256, &[1u8; 32]) };
    let b = BlindIndex { key: hmac::Key::new(hmac::HMAC_SHA256, &[2u8; 32]) };
    let tokens = a.prefix_tokens("name", "Jane");
    assert_eq!(tokens.len(), 3); // ja, jan, jane
    assert_eq!(a.query_token("name", "JA"), Some(tokens[0].clone()));
    assert_ne!(b.query_token("name", "ja"), Some(tokens[0].clone()));
    assert_eq!(a.query_token("name", "j"), None);
    assert_eq!(tokens[0].len(), TOKEN_BYTES * 2);
}
