//! Inbox search over ciphertext (INBOX-3): keyed blind indexes. A conversation's tokens are
//! HMACs (under the practice's search key) of the normalized prefixes of the words of its
//! subject, its patient's names and id, and its patient-visible message previews. A search
//! reads one token partition and then the caller's own entries for the hits, so results hold
//! only what the caller may see. Internal notes are never indexed: a patient's search could
//! otherwise learn that a word appears in one.

use crate::app::App;
use crate::crypto::Binding;
use crate::crypto::BlindIndex;
use crate::domain::PracticeId;
use crate::domain::{Conversation, Message};
use crate::error::{Error, Result};
use crate::store::{place, Guard, Key, Tx};

const SCOPE: &str = "conversation";
/// Prefixes from 2 to 8 characters are indexed; a longer typed word is looked up by its
/// first 8 characters.
pub const MAX_SEARCH_PREFIX: usize = 8;

/// The practice's blind index, its wrapped key read once per warm function.
pub async fn practice_index(app: &App, practice_id: &PracticeId) -> Result<BlindIndex> {
    let cached = app.search_keys.lock().expect("search key cache").get(practice_id.as_str()).cloned();
    let wrapped = match cached {
        Some(w) => w,
        None => {
            let practice = app.store.practice(practice_id).await?.ok_or(Error::Unauthenticated)?;
            let w = practice.search_key.0;
            app.search_keys.lock().expect("search key cache").insert(practice_id.to_string(), w.clone());
            w
        }
    };
    app.envelope.blind_index(practice_id, &wrapped).await
}

const ID_SCOPE: &str = "patient-id";

/// The exact token of a patient id. Ids begin with their creation time, so their prefixes
/// would match every patient created about then: an id is found whole (as pasted).
pub fn patient_id_token(index: &BlindIndex, id: &str) -> String {
    index.token(ID_SCOPE, &id.trim().to_ascii_lowercase())
}

/// The token of what a user typed, or 422 below two characters.
pub fn query_token(index: &BlindIndex, typed: &str) -> Result<String> {
    let typed = typed.trim();
    // `get`, not a slice: the typed text is anybody's name in any script, and a byte offset
    // may fall inside a character (security finding 2).
    let head = typed.get(..crate::domain::PATIENT_ID.len());
    if typed.len() > crate::domain::PATIENT_ID.len()
        && head.is_some_and(|h| h.eq_ignore_ascii_case(crate::domain::PATIENT_ID))
    {
        return Ok(patient_id_token(index, typed));
    }
    index
        .query_token_upto(SCOPE, typed, MAX_SEARCH_PREFIX)
        .ok_or_else(|| Error::invalid("q", "type at least 2 letters or digits to search"))
}

/// The index entries a message adds to its conversation (INBOX-3): the tokens of these texts
/// (and of the patient's id), computed once before the message's transaction.
pub struct NewTokens(Vec<Key>);

pub async fn tokens_of(
    app: &App,
    practice_id: &PracticeId,
    conversation_id: &crate::domain::ConversationId,
    texts: &[&str],
    patient_id: Option<&str>,
) -> Result<NewTokens> {
    let items = tokens(app, practice_id, texts, patient_id)
        .await?
        .iter()
        .map(|t| place::search_token(practice_id, t, conversation_id))
        .collect();
    Ok(NewTokens(items))
}

impl NewTokens {
    /// Puts the tokens in the message's own transaction, the last of its writes, where they fit
    /// beside the rest (issue 18: a write is one read and one transaction; a short message's
    /// tokens fit beside a small audience): they commit with the message or not at all.
    ///
    /// Where they do not fit (up to seven prefixes a word, against TransactWriteItems' 100
    /// items beside a large audience), they are written now, before the transaction (25 to a
    /// BatchWriteItem), so a message never commits without its tokens: a failure here answers
    /// 503 with nothing committed, and the client's retry writes them again (token items are
    /// idempotent). When the transaction itself then fails, those tokens stay: a new
    /// conversation's name an id that never came to exist (no hit can show), a reply's make its
    /// conversation match the words of a message that was refused (the same conversation,
    /// which search shows only to whoever may open it).
    pub async fn write_with(&self, app: &App, tx: &mut Tx<'_>) -> Result<()> {
        if tx.len() + self.0.len() <= Tx::MAX_ITEMS {
            for token in &self.0 {
                tx.put_marker(Guard::SearchToken, token.clone())?;
            }
            return Ok(());
        }
        app.store.put_markers(&self.0).await
    }
}

/// The tokens of these texts and of the patient id, each once.
async fn tokens(app: &App, practice_id: &PracticeId, texts: &[&str], patient_id: Option<&str>) -> Result<Vec<String>> {
    let index = practice_index(app, practice_id).await?;
    let mut tokens: Vec<String> = patient_id.map(|id| patient_id_token(&index, id)).into_iter().collect();
    for text in texts {
        for t in index.prefix_tokens_upto(SCOPE, text, MAX_SEARCH_PREFIX) {
            if !tokens.contains(&t) {
                tokens.push(t);
            }
        }
    }
    Ok(tokens)
}

/// Removes a conversation from the index with the conversation itself (CONV-6, SEC-5): the
/// tokens are computed again from what it holds (subject, patient, the previews of its
/// messages that are not internal notes), so nothing needs to remember them. A message
/// deleted earlier on its own took its own tokens along (`forget`).
pub async fn unindex_conversation(app: &App, conversation: &Conversation, messages: &[Message]) -> Result<()> {
    let p = &conversation.practice_id;
    let keys: Vec<Key> = conversation_tokens(app, conversation, messages)
        .await?
        .iter()
        .map(|t| place::search_token(p, t, &conversation.id))
        .collect();
    app.store.delete_batch(&keys).await
}

/// A renamed patient's conversation found by the new names and no longer by the old ones
/// (ACCT-2). `conversation` already carries the new names; a token of an old name that the
/// conversation still earns otherwise (a word of its subject or of a message) stays.
pub async fn reindex_renamed(
    app: &App,
    conversation: &Conversation,
    messages: &[Message],
    old_names: &[&str],
) -> Result<()> {
    let p = &conversation.practice_id;
    let now = forget(app, conversation, messages, old_names).await?;
    let items: Vec<Key> = now.iter().map(|t| place::search_token(p, t, &conversation.id)).collect();
    app.store.put_markers(&items).await
}

/// Takes away the tokens of texts a conversation no longer holds (a deleted message's
/// preview, a patient's old name), except those its remaining content still earns; returns
/// the tokens it earns now.
pub async fn forget(
    app: &App,
    conversation: &Conversation,
    messages: &[Message],
    gone: &[&str],
) -> Result<Vec<String>> {
    let p = &conversation.practice_id;
    let now = conversation_tokens(app, conversation, messages).await?;
    let stale: Vec<Key> = tokens(app, p, gone, None)
        .await?
        .into_iter()
        .filter(|t| !now.contains(t))
        .map(|t| place::search_token(p, &t, &conversation.id))
        .collect();
    app.store.delete_batch(&stale).await?;
    Ok(now)
}

/// Every token a conversation earns from what it holds: its subject, its patient's names and
/// id, the previews of its messages that are not internal notes.
async fn conversation_tokens(app: &App, conversation: &Conversation, messages: &[Message]) -> Result<Vec<String>> {
    let p = &conversation.practice_id;
    let env = &app.envelope;
    let mut texts: Vec<String> = Vec::new();
    let subject = Binding { practice_id: p, record: &conversation.id, field: "subject" };
    texts.push(env.open_string(subject, &conversation.summary.subject.0).await?);
    if let Some(patient) = &conversation.summary.patient {
        for (field, sealed) in [("firstName", &patient.first_name), ("lastName", &patient.last_name)] {
            texts.push(env.open_string(Binding { practice_id: p, record: &patient.id, field }, &sealed.0).await?);
        }
    }
    for m in messages.iter().filter(|m| !m.internal) {
        let record = format!("{}/{}", m.conversation_id, m.id);
        let body = env.open_string(Binding { practice_id: p, record: &record, field: "body" }, &m.body.0).await?;
        texts.push(crate::domain::preview_of(&body));
    }
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let patient_id = conversation.summary.patient.as_ref().map(|pr| pr.id.as_str());
    tokens(app, p, &texts, patient_id).await
}
