//! EVISIT-2: the end of an e-visit's window. An e-visit is listed by the end of its seven
//! days (or, once its conversation is closed, by the time of closing) until its suggestion is
//! recorded; the scheduled `evisit-windows` function takes the ended ones: it posts a
//! staff-only note in the thread with the minutes, the code the time supports and the flags
//! (which notifies the clinicians of the conversation), then records that suggestion on the
//! e-visit as its billing record, which unlists it.
//!
//! Once, whatever retries and overlapping runs happen: the note is posted once per e-visit
//! (its dedupe mark); the record is written on the condition that the e-visit is as read (not
//! recorded, still listed), so a second run's is refused; the record comes after the note, so
//! a run that stopped between the two is finished by the next.

use crate::app::{App, RequestCtx};
use crate::audit::{self, AuditRecord};
use crate::domain::Directory;
use crate::domain::{ConversationId, ConversationStatus, PracticeId, SenderKind, Timestamp, UserId};
use crate::domain::{EVisit, RecordedSuggestion, SenderRef};
use crate::error::{Error, Result};
use crate::evisit::{Flag, Suggestion, WINDOW};
use crate::ops::conversations::{append_message, AppendedMessage};
use crate::store::{place, Guard};

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowReport {
    pub recorded: u64,
    /// Recorded by another run meanwhile, or the e-visit is gone.
    pub moot: u64,
}

/// Records every e-visit whose window ended before `now`, in every practice.
pub async fn record_ended(app: &App, now: Timestamp, batch: usize) -> Result<WindowReport> {
    let mut report = WindowReport::default();
    for p in app.store.practice_ids().await? {
        let done = record_ended_in(app, &p, now, batch).await?;
        (report.recorded, report.moot) = (report.recorded + done.recorded, report.moot + done.moot);
    }
    Ok(report)
}

/// `record_ended` for one practice.
pub async fn record_ended_in(app: &App, p: &PracticeId, now: Timestamp, batch: usize) -> Result<WindowReport> {
    let mut report = WindowReport::default();
    let mut dir: Option<Directory> = None;
    loop {
        let ended = app.store.evisits_ending(p, now, batch).await?;
        if ended.is_empty() {
            break;
        }
        if dir.is_none() {
            dir = app.store.directory(p).await?;
        }
        let Some(dir) = &dir else { break };
        let mut moved = false;
        for listed in ended {
            match record(app, dir, p, &listed.conversation_id, now).await? {
                true => (report.recorded, moved) = (report.recorded + 1, true),
                false => report.moot += 1,
            }
        }
        // Every listed one was moot: the index lags the records; the next run sees them.
        if !moved {
            break;
        }
    }
    Ok(report)
}

/// Notes and records one e-visit; false when there is nothing to record any more.
async fn record(app: &App, dir: &Directory, p: &PracticeId, c: &ConversationId, now: Timestamp) -> Result<bool> {
    let Some(((listed, visit), entries)) = app.store.evisit(p, c).await? else { return Ok(false) };
    if visit.recorded.is_some() {
        return Ok(false);
    }
    let conversation = app.store.conversation_now(p, c).await?;
    let closed = conversation.as_ref().is_none_or(|c| c.summary.status == ConversationStatus::Closed);
    let ends = visit.window_opens_at + WINDOW;
    if ends > now && !closed {
        // Listed as due by a close, then reopened: its window runs to its end again.
        let mut tx = app.store.tx();
        tx.update_relisted(Guard::EVisit, (&listed, &visit), (&place::evisit_ending(p, c, ends), &visit))?;
        // Changed meanwhile (closed again, recorded by another run): the next run sees it as is.
        tx.commit().await?.ok();
        return Ok(false);
    }
    let s = crate::ops::evisits::suggestion(app, p, &visit, &entries).await?;
    let ctx = RequestCtx { now, ..RequestCtx::operator(p) };
    if let Some(conversation) = conversation {
        let sender = SenderRef {
            kind: SenderKind::System,
            id: UserId::from_stored("system"),
            name: Some("E-visit".into()),
            masked: false,
        };
        let note = AppendedMessage {
            dedupe_key: &format!("EVISIT#{}", visit.window_opens_at),
            text: &note_text(&s),
            sender,
            expires: now.as_second() + 30 * 86_400,
            action: "message.evisit_note",
            settings: &dir.practice.settings,
            internal: true,
        };
        append_message(app, &ctx, &conversation, note).await?;
    }
    let recorded = RecordedSuggestion {
        at: now,
        total_minutes: s.total_minutes,
        suggested_code: s.suggested_code.map(str::to_string),
        flags: s.flags,
    };
    let after = EVisit { recorded: Some(recorded), ..visit.clone() };
    let mut tx = app.store.tx();
    tx.update_relisted(Guard::EVisit, (&listed, &visit), (&place::evisit(p, c), &after))?;
    let record = AuditRecord { record_type: "conversation", record_id: c, patient_id: Some(visit.patient_id.as_str()) };
    tx.put_audit(&audit::event(&ctx, "evisit.record", record, "success"))?;
    match tx.commit().await? {
        Ok(()) => Ok(true),
        Err(Guard::EVisit) => Ok(false),
        Err(_) => Err(Error::internal_msg("an e-visit's suggestion could not be recorded")),
    }
}

/// The note: figures, codes and flag names only (a staff-only note, sealed like any message).
fn note_text(s: &Suggestion) -> String {
    let code = match s.suggested_code {
        Some(code) => format!("the time supports {code}"),
        None => "under 5 minutes: nothing to report".to_string(),
    };
    let flags: Vec<&str> = s
        .flags
        .iter()
        .map(|f| match f {
            Flag::VisitBefore => "a visit in the 7 days before",
            Flag::VisitWithin => "a visit within the window",
            Flag::ClinicalStaffTime => "clinical staff time left out",
            Flag::NoConsent => "no consent on record this year",
            Flag::NotEvaluative => "marked not evaluative",
        })
        .collect();
    let flags = if flags.is_empty() { String::new() } else { format!(" Check before billing: {}.", flags.join("; ")) };
    format!("E-visit window closed: {} minutes of clinician time; {code}.{flags}", s.total_minutes)
}
