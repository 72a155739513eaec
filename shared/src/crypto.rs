//! Envelope encryption of PHI fields (SEC-1) and keyed blind indexes for search.
//!
//! Each value is AES-256-GCM under a data key from KMS `GenerateDataKey`, whose encryption
//! context names the practice; the AES-GCM associated data names the record and field, so a
//! ciphertext copied onto another record or practice fails to decrypt. Data keys are cached
//! per practice with a bounded lifetime and use count, so a warm function makes close to
//! zero KMS calls (see docs/decisions/0001-envelope-encryption.md).
//!
//! Format (version 1): `0x01 | u16 wrapped-key length | wrapped key | 12-byte nonce | ct+tag`.

use crate::error::{Error, Result};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hmac;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FORMAT_V1: u8 = 1;
const CONTEXT_PRACTICE: &str = "practice";
const CONTEXT_PURPOSE: &str = "purpose";

/// How long, and for how many encryptions, one data key may be used before a new one is made.
#[derive(Clone, Copy, Debug)]
pub struct KeyCachePolicy {
    pub max_age: Duration,
    pub max_uses: u32,
    pub max_cached_unwrapped: usize,
}

impl Default for KeyCachePolicy {
    fn default() -> Self {
        KeyCachePolicy { max_age: Duration::from_secs(300), max_uses: 10_000, max_cached_unwrapped: 1_000 }
    }
}

/// What a value is bound to: its practice, its record, and the field within the record.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    pub practice_id: &'a str,
    pub record: &'a str,
    pub field: &'a str,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("carethread/v1|{}|{}|{}", self.practice_id, self.record, self.field).into_bytes()
    }
}

struct ActiveKey {
    key: [u8; 32],
    wrapped: Vec<u8>,
    created: Instant,
    uses: u32,
}

struct UnwrappedKey {
    key: [u8; 32],
    created: Instant,
}

#[derive(Default)]
struct Cache {
    /// The key each practice encrypts with now.
    active: HashMap<String, ActiveKey>,
    /// Keys met while decrypting, by practice and wrapped form.
    unwrapped: HashMap<Vec<u8>, UnwrappedKey>,
}

pub struct Envelope {
    kms: crate::sdk::OnFirstUse<aws_sdk_kms::Client>,
    key_id: String,
    policy: KeyCachePolicy,
    // A std Mutex: it is never held across an await, and the critical sections are lookups.
    cache: Mutex<Cache>,
}

impl Envelope {
    pub fn new(
        kms: impl Into<crate::sdk::OnFirstUse<aws_sdk_kms::Client>>,
        key_id: String,
        policy: KeyCachePolicy,
    ) -> Self {
        Envelope { kms: kms.into(), key_id, policy, cache: Mutex::new(Cache::default()) }
    }

    /// Encrypts `plaintext` bound to `binding`.
    pub async fn seal(&self, binding: Binding<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        let (key, wrapped) = self.data_key_for(binding.practice_id).await?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::internal_msg("random source failed"))?;
        let sealing =
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).map_err(|_| Error::internal_msg("bad data key"))?);
        let mut buf = plaintext.to_vec();
        sealing
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(binding.aad()), &mut buf)
            .map_err(|_| Error::internal_msg("encryption failed"))?;
        let mut out = Vec::with_capacity(3 + wrapped.len() + NONCE_LEN + buf.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&(wrapped.len() as u16).to_be_bytes());
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub async fn seal_str(&self, binding: Binding<'_>, plaintext: &str) -> Result<Vec<u8>> {
        self.seal(binding, plaintext.as_bytes()).await
    }

    /// Decrypts a value sealed for exactly this binding; any other binding fails.
    pub async fn open(&self, binding: Binding<'_>, sealed: &[u8]) -> Result<Vec<u8>> {
        let (wrapped, nonce, ct) = split(sealed)?;
        let key = self.unwrap_key(binding.practice_id, wrapped, "field").await?;
        let opening =
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).map_err(|_| Error::internal_msg("bad data key"))?);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::internal_msg("bad nonce"))?;
        let mut buf = ct.to_vec();
        let plain = opening
            .open_in_place(nonce, Aad::from(binding.aad()), &mut buf)
            .map_err(|_| Error::internal_msg("ciphertext does not match its record"))?;
        Ok(plain.to_vec())
    }

    pub async fn open_string(&self, binding: Binding<'_>, sealed: &[u8]) -> Result<String> {
        String::from_utf8(self.open(binding, sealed).await?)
            .map_err(|_| Error::internal_msg("sealed value is not UTF-8"))
    }

    /// A new random search key for a practice, wrapped by KMS: stored with the practice.
    pub async fn new_search_key(&self, practice_id: &str) -> Result<Vec<u8>> {
        let (_, wrapped) = self.generate(practice_id, "search").await?;
        Ok(wrapped)
    }

    /// The blind-index function of a practice: HMAC-SHA256 under its unwrapped search key.
    pub async fn blind_index(&self, practice_id: &str, wrapped_search_key: &[u8]) -> Result<BlindIndex> {
        let key = self.unwrap_key(practice_id, wrapped_search_key, "search").await?;
        Ok(BlindIndex { key: hmac::Key::new(hmac::HMAC_SHA256, &key) })
    }

    async fn data_key_for(&self, practice_id: &str) -> Result<([u8; 32], Vec<u8>)> {
        {
            let mut cache = self.cache.lock().expect("key cache lock");
            if let Some(k) = cache.active.get_mut(practice_id) {
                if k.created.elapsed() < self.policy.max_age && k.uses < self.policy.max_uses {
                    k.uses += 1;
                    return Ok((k.key, k.wrapped.clone()));
                }
            }
        }
        let (key, wrapped) = self.generate(practice_id, "field").await?;
        let mut cache = self.cache.lock().expect("key cache lock");
        cache.active.insert(
            practice_id.to_string(),
            ActiveKey { key, wrapped: wrapped.clone(), created: Instant::now(), uses: 1 },
        );
        // Our own fresh key decrypts without a KMS round trip too.
        self.remember(&mut cache, cache_key(practice_id, &wrapped), key);
        Ok((key, wrapped))
    }

    async fn generate(&self, practice_id: &str, purpose: &str) -> Result<([u8; 32], Vec<u8>)> {
        let out = self
            .kms
            .get()
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT_PRACTICE, practice_id)
            .encryption_context(CONTEXT_PURPOSE, purpose)
            .send()
            .await
            .map_err(|e| Error::Unavailable(Box::new(e)))?;
        let plain = out.plaintext.ok_or_else(|| Error::internal_msg("KMS returned no plaintext key"))?;
        let wrapped = out.ciphertext_blob.ok_or_else(|| Error::internal_msg("KMS returned no wrapped key"))?;
        let key: [u8; 32] =
            plain.as_ref().try_into().map_err(|_| Error::internal_msg("KMS data key is not 32 bytes"))?;
        Ok((key, wrapped.into_inner()))
    }

    async fn unwrap_key(&self, practice_id: &str, wrapped: &[u8], purpose: &str) -> Result<[u8; 32]> {
        {
            let cache = self.cache.lock().expect("key cache lock");
            if let Some(k) = cache.unwrapped.get(&cache_key(practice_id, wrapped)) {
                if k.created.elapsed() < self.policy.max_age * 3 {
                    return Ok(k.key);
                }
            }
        }
        let out = self
            .kms
            .get()
            .decrypt()
            .ciphertext_blob(Blob::new(wrapped.to_vec()))
            .encryption_context(CONTEXT_PRACTICE, practice_id)
            .encryption_context(CONTEXT_PURPOSE, purpose)
            .send()
            .await
            .map_err(|e| {
                use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
                match &e {
                    // A wrapped key KMS refuses (another practice's, another purpose's, or
                    // bytes a client made up inside a cursor): never ours, never retryable.
                    SdkError::ServiceError(se)
                        if se.raw().status().is_client_error()
                            && !matches!(se.err().code(), Some("ThrottlingException" | "LimitExceededException")) =>
                    {
                        Error::internal_msg("data key does not belong to this practice")
                    }
                    _ => Error::Unavailable(Box::new(e)),
                }
            })?;
        let plain = out.plaintext.ok_or_else(|| Error::internal_msg("KMS returned no plaintext"))?;
        let key: [u8; 32] = plain.as_ref().try_into().map_err(|_| Error::internal_msg("data key is not 32 bytes"))?;
        let mut cache = self.cache.lock().expect("key cache lock");
        self.remember(&mut cache, cache_key(practice_id, wrapped), key);
        Ok(key)
    }

    fn remember(&self, cache: &mut Cache, wrapped: Vec<u8>, key: [u8; 32]) {
        if cache.unwrapped.len() >= self.policy.max_cached_unwrapped {
            let max_age = self.policy.max_age * 3;
            cache.unwrapped.retain(|_, k| k.created.elapsed() < max_age);
            if cache.unwrapped.len() >= self.policy.max_cached_unwrapped {
                cache.unwrapped.clear();
            }
        }
        cache.unwrapped.insert(wrapped, UnwrappedKey { key, created: Instant::now() });
    }
}

/// Unwrapped keys are cached per practice too, so the cache never skips the practice binding
/// that KMS would check.
fn cache_key(practice_id: &str, wrapped: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(practice_id.len() + 1 + wrapped.len());
    k.extend_from_slice(practice_id.as_bytes());
    k.push(0);
    k.extend_from_slice(wrapped);
    k
}

fn split(sealed: &[u8]) -> Result<(&[u8], &[u8], &[u8])> {
    let bad = || Error::internal_msg("sealed value is malformed");
    let (&version, rest) = sealed.split_first().ok_or_else(bad)?;
    if version != FORMAT_V1 || rest.len() < 2 {
        return Err(bad());
    }
    let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
    let rest = &rest[2..];
    if rest.len() < len + NONCE_LEN + 16 {
        return Err(bad());
    }
    let (wrapped, rest) = rest.split_at(len);
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    Ok((wrapped, nonce, ct))
}

/// Keyed blind-index tokens: truncated HMACs of normalized words and their prefixes. The same
/// text always gives the same tokens under one practice's key, and nothing without the key.
pub struct BlindIndex {
    key: hmac::Key,
}

/// Bits kept of each token: few enough that a token names many possible words (leaking
/// less), enough that false hits, dropped after decryption, stay rare in a practice.
pub const TOKEN_BYTES: usize = 8;
pub const MIN_PREFIX: usize = 2;
pub const MAX_PREFIX: usize = 12;

impl BlindIndex {
    /// Seals a list cursor under a key derived from the practice's search key (security
    /// finding 12): opening one needs no KMS call, so a forged cursor costs nothing but its
    /// refusal. Bound to the binding like a sealed field.
    pub fn seal_cursor(&self, binding: Binding<'_>, payload: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::internal_msg("random source failed"))?;
        let mut buf = payload.to_vec();
        self.cursor_key()?
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(binding.aad()), &mut buf)
            .map_err(|_| Error::internal_msg("cursor seal failed"))?;
        Ok([nonce.as_slice(), &buf].concat())
    }

    /// The payload of a cursor this practice sealed for this binding; `None` for anything else.
    pub fn open_cursor(&self, binding: Binding<'_>, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = ct.to_vec();
        let plain = self.cursor_key().ok()?.open_in_place(nonce, Aad::from(binding.aad()), &mut buf).ok()?;
        Some(plain.to_vec())
    }

    fn cursor_key(&self) -> Result<LessSafeKey> {
        let derived = hmac::sign(&self.key, b"carethread/v1|cursor-key");
        let key = UnboundKey::new(&AES_256_GCM, derived.as_ref()).map_err(|_| Error::internal_msg("bad cursor key"))?;
        Ok(LessSafeKey::new(key))
    }

    pub fn token(&self, scope: &str, normalized: &str) -> String {
        let tag = hmac::sign(&self.key, format!("{scope}\u{1f}{normalized}").as_bytes());
        tag.as_ref()[..TOKEN_BYTES].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Tokens for every prefix (from `MIN_PREFIX` to `MAX_PREFIX` characters) of every word.
    pub fn prefix_tokens(&self, scope: &str, text: &str) -> Vec<String> {
        self.prefix_tokens_upto(scope, text, MAX_PREFIX)
    }

    /// Tokens for the prefixes of every word from `MIN_PREFIX` to `max` characters.
    pub fn prefix_tokens_upto(&self, scope: &str, text: &str, max: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for word in normalize_words(text) {
            let chars: Vec<char> = word.chars().collect();
            for n in MIN_PREFIX..=chars.len().min(max) {
                let t = self.token(scope, &chars[..n].iter().collect::<String>());
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// The token to look up for what a user typed: its first word's prefix, capped.
    pub fn query_token(&self, scope: &str, typed: &str) -> Option<String> {
        self.query_token_upto(scope, typed, MAX_PREFIX)
    }

    pub fn query_token_upto(&self, scope: &str, typed: &str, max: usize) -> Option<String> {
        let word = normalize_words(typed).into_iter().next()?;
        let chars: Vec<char> = word.chars().take(max).collect();
        (chars.len() >= MIN_PREFIX).then(|| self.token(scope, &chars.iter().collect::<String>()))
    }
}

/// Lower-case words of letters and digits, with common accents folded (é → e). A combining
/// accent (e followed by U+0301, as some keyboards and copied names write é) is dropped
/// rather than cutting the word, so both spellings of a name give the same words.
pub fn normalize_words(text: &str) -> Vec<String> {
    let text: String = text.chars().filter(|c| !('\u{0300}'..='\u{036f}').contains(c)).collect();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).map(fold_accent).collect())
        .collect()
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// SHA-256 of several parts, each prefixed by its length (so `("ab", "c")` and `("a", "bc")`
/// differ), in lowercase hex: the hash of idempotency keys, requests and audit events.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
