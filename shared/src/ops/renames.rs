//! A patient's rename (PATCH /patients/{id} with `firstName` or `lastName`, ACCT-2). The
//! names are copied, sealed, into the patient finder's tokens, into every conversation about
//! the patient and its viewers' inbox entries, and into the conversations' search tokens, so
//! that a page shows them without reading the patient. The rename commits the patient with a
//! pending `PendingRename` (the old names); `carry_rename` then rewrites every copy, each write
//! idempotent, and deletes the item last. A failure on the way leaves the item, and the next
//! edit of the patient carries it before anything else.

use crate::app::App;
use crate::crypto::Binding;
use crate::domain::{Patient, PatientRef, PatientToken, PendingRename};
use crate::domain::{PracticeId, UserId};
use crate::error::Result;
use crate::store::{place, Key};

/// The rename a patient's last edit left pending, carried now.
pub async fn carry_pending(app: &App, practice_id: &PracticeId, patient: &Patient) -> Result<()> {
    match app.store.pending_rename(practice_id, &patient.id).await? {
        Some(rename) => carry_rename(app, practice_id, patient, &rename).await,
        None => Ok(()),
    }
}

/// Brings every copy of the patient's names in line with `patient` (as committed, with the
/// new names), then deletes the pending rename.
pub async fn carry_rename(
    app: &App,
    practice_id: &PracticeId,
    patient: &Patient,
    rename: &PendingRename,
) -> Result<()> {
    let p = practice_id;
    let open = |field: &'static str, sealed: &crate::domain::Sealed| {
        let text = sealed.0.clone();
        async move { app.envelope.open_string(Binding { practice_id: p, record: &patient.id, field }, &text).await }
    };
    let (old_first, old_last) =
        (open("firstName", &rename.first_name).await?, open("lastName", &rename.last_name).await?);
    let (first, last) = (open("firstName", &patient.first_name).await?, open("lastName", &patient.last_name).await?);

    // The finder: every token of the new names, with the new sealed names; then the tokens
    // only the old names had.
    let index = super::search::practice_index(app, p).await?;
    let now = super::directory::finder_tokens(&index, &first, &last);
    let items: Vec<(Key, PatientToken)> = now
        .iter()
        .map(|t| {
            let item = PatientToken {
                patient_id: patient.id.clone(),
                first_name: patient.first_name.clone(),
                last_name: patient.last_name.clone(),
                active: patient.active,
            };
            (place::patient_token(p, t, &patient.id), item)
        })
        .collect();
    app.store.put_batch(&items).await?;
    let stale: Vec<Key> = super::directory::finder_tokens(&index, &old_first, &old_last)
        .into_iter()
        .filter(|t| !now.contains(t))
        .map(|t| place::patient_token(p, &t, &patient.id))
        .collect();
    app.store.delete_batch(&stale).await?;

    // The conversations, their entries and their search tokens.
    let names = PatientRef {
        id: patient.id.clone(),
        first_name: patient.first_name.clone(),
        last_name: patient.last_name.clone(),
    };
    for mut conversation in app.store.conversations_about(p, &patient.id).await? {
        let mut users: Vec<UserId> = conversation.viewers.clone();
        users.extend(conversation.participants.iter().cloned());
        users.push(patient.id.clone());
        users.sort();
        users.dedup();
        app.store.rename_in_conversation(&conversation, &users, &names).await?;
        conversation.summary.patient = Some(names.clone());
        let messages = match app.store.thread(p, &conversation.id).await? {
            Some((_, messages)) => messages,
            None => continue,
        };
        super::search::reindex_renamed(app, &conversation, &messages, &[&old_first, &old_last]).await?;
    }
    app.store.finish_rename(p, &patient.id).await
}
