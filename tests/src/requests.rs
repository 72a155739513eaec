//! Talking to the API as a client does: signing in through the user pool, requests and their
//! answers, tokens taken apart and edited, TOTP codes, and proving a notification destination.

use crate::{TestApp, User};
use reqwest::StatusCode;
use serde_json::{json, Value};

impl TestApp {
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

    /// POST /conversations by `from`, which must succeed: the new conversation's id.
    pub async fn start_conversation(&self, from: &User, body: Value) -> String {
        let res = self.post(&from.token, "/conversations", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body["conversation"]["id"].as_str().unwrap().to_string()
    }

    /// A GET whose answer is read as it comes (a transcript, a CSV, a FHIR bundle), with
    /// `accept` as its Accept header where given.
    pub async fn get_raw(&self, token: &str, path: &str, accept: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request.send().await.expect("an answer")
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
