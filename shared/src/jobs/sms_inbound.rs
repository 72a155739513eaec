//! NOTIFY-4: text messages from patients. AWS End User Messaging two-way SMS publishes each
//! inbound text to an SNS topic; `sms-inbound` receives it here. The practice is the owner of
//! the number texted; the sender's number is matched, by its blind token, to the latest SMS
//! that practice exchanged with it: the text joins that conversation, or starts an SMS
//! conversation with that patient, or, from a number of nobody known, a triage conversation.
//! A number reaches a patient only while it is on the patient's record or proven by the
//! patient (ACCT-4): a number someone typed, or spoofs, lands in triage.
//! Nothing is dropped, and the outbox of each message notifies the staff.

use crate::app::{App, RequestCtx};
use crate::crypto::sha256_hex;
use crate::domain::SenderRef;
use crate::domain::{parse_phone, Caller, ConversationId, Role, SenderKind, UserId};
use crate::error::{Error, Result};
use crate::notify;
use crate::ops::conversations::{append_message, start_sms_thread, AppendedMessage};
use serde::{Deserialize, Serialize};

/// The inbound text as End User Messaging publishes it (the SNS message, JSON).
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSms {
    pub origination_number: String,
    pub destination_number: String,
    #[serde(default)]
    pub message_body: String,
    #[serde(default)]
    pub inbound_message_id: String,
}

impl std::fmt::Debug for InboundSms {
    // Numbers and text are PHI: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InboundSms({})", self.inbound_message_id)
    }
}

/// Where a text went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Received {
    /// Added to the conversation of the latest SMS with that number.
    Appended { conversation_id: ConversationId },
    /// A new SMS conversation (with the matched patient, or a triage one).
    Started { conversation_id: ConversationId, patient_matched: bool },
    /// Texted to a number no practice here owns: nobody to give it to.
    NotOurNumber,
}

/// Takes one inbound text.
pub async fn receive(app: &App, sms: &InboundSms) -> Result<Received> {
    let number = parse_phone("originationNumber", sms.origination_number.trim())?;
    let Some(p) = app.store.sms_number_owner(sms.destination_number.trim()).await? else {
        tracing::warn!("a text to a number no practice owns; ignored");
        return Ok(Received::NotOurNumber);
    };
    let dir = app.store.directory(&p).await?.ok_or(Error::NotFound("practice"))?;
    let token = notify::sms_peer_token(app, &dir, &number).await?;
    let peer = app.store.sms_peer(&p, &token).await?;
    let patient = match peer.as_ref().and_then(|peer| peer.patient_id.as_ref()) {
        Some(id) => app.store.patient(&p, id).await?,
        None => None,
    };
    // ACCT-4: the latest exchange is not enough; the number must still be the patient's.
    // Otherwise the text is a stranger's: a triage conversation, never the patient's thread.
    let (peer, patient) = match patient {
        Some(pat) if !notify::number_belongs_to(app, &p, &pat, &number).await? => (None, None),
        patient => (peer, patient),
    };
    let text = match sms.message_body.trim() {
        "" => "(an empty text message)",
        t => t,
    };
    // SNS delivers at least once: the inbound id makes a second delivery a no-op.
    let delivery = match sms.inbound_message_id.trim() {
        "" => crate::domain::new_id("sms_"),
        id => id.to_string(),
    };
    let sender = match &patient {
        Some(pat) => SenderRef { kind: SenderKind::Patient, id: pat.id.clone(), name: None, masked: false },
        None => SenderRef {
            kind: SenderKind::Sms,
            id: UserId::from_stored("sms"),
            name: Some("Unknown number".into()),
            masked: false,
        },
    };
    let ctx = RequestCtx {
        caller: Caller { practice_id: p.clone(), user_id: sender.id.clone(), role: Role::Patient },
        request_id: format!("sms-{}", sha256_hex(&[delivery.as_bytes()]).get(..16).unwrap_or_default()),
        idempotency: Some(crate::ops::idempotency::for_delivery(
            "sms-inbound",
            &delivery,
            &[number.as_bytes(), text.as_bytes()],
        )),
        signed_in_at: None,
        admitted: Default::default(),
        now: crate::domain::Timestamp::now(),
    };
    if let Some(peer) = &peer {
        if let Some(conversation) = app.store.conversation(&p, &peer.conversation_id).await? {
            let appended = AppendedMessage {
                dedupe_key: &format!(
                    "SMS#{}",
                    ctx.idempotency.as_ref().map(|k| k.key_hash.as_str()).unwrap_or_default()
                ),
                text,
                sender,
                expires: ctx.epoch_seconds() + 7 * 86_400,
                action: "message.sms_inbound",
                settings: &dir.practice.settings,
                internal: false,
            };
            append_message(app, &ctx, &conversation, appended).await?;
            return Ok(Received::Appended { conversation_id: conversation.id });
        }
    }
    let conversation_id = start_sms_thread(app, &ctx, &dir, patient.as_ref(), &number, text, sender).await?;
    let patient_id = patient.as_ref().map(|pat| &pat.id);
    notify::remember_sms_peer(app, &dir, &number, patient_id, &conversation_id, ctx.now).await?;
    Ok(Received::Started { conversation_id, patient_matched: patient.is_some() })
}

/// The `sms-inbound` event: SNS records whose messages are inbound texts. The envelope is
/// typed; the message is parsed here, so that one that is not an inbound text fails with a
/// fixed error rather than a parser's error, which can quote the text (SEC-3).
pub type InboundSmsEvent = aws_lambda_events::event::sns::SnsEvent;

/// Stores each text of an SNS delivery. One failure fails the batch (SNS retries it, and what
/// was stored is not stored twice).
pub async fn handle_sns_event(app: &App, event: &InboundSmsEvent) -> Result<Vec<Received>> {
    let mut out = Vec::with_capacity(event.records.len());
    for record in &event.records {
        out.push(receive(app, &parse_inbound(&record.sns.message)?).await?);
    }
    Ok(out)
}

/// An SNS message as an inbound text; the error never quotes it.
pub fn parse_inbound(message: &str) -> Result<InboundSms> {
    serde_json::from_str(message).map_err(|_| Error::bad_request("the SNS message is not an inbound SMS"))
}

/// One SNS message as SNS delivers it to `sms-inbound`: for the local stand-in of the topic.
pub fn sns_delivery(message: String) -> InboundSmsEvent {
    let mut sns = aws_lambda_events::event::sns::SnsMessage::default();
    sns.sns_message_type = "Notification".into();
    sns.message = message;
    let mut record = aws_lambda_events::event::sns::SnsRecord::default();
    record.event_source = "aws:sns".into();
    record.event_version = "1.0".into();
    record.sns = sns;
    let mut event = InboundSmsEvent::default();
    event.records.push(record);
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SEC-3: a message that is not an inbound text fails without quoting it (a parser's error
    /// would: `invalid type: string "…"`), so the function's error log carries no PHI.
    #[test]
    fn sec_3_a_message_that_is_not_a_text_fails_without_quoting_it() {
        let err = parse_inbound(r#""Jane Smith: my biopsy results?""#).expect_err("not an inbound text");
        assert!(!format!("{err} {err:?}").contains("biopsy"), "{err:?}");
        let text = parse_inbound(
            r#"{"originationNumber":"+15550100001","destinationNumber":"+15550100000","messageBody":"Hi"}"#,
        );
        assert_eq!(text.unwrap().message_body, "Hi");
    }
}
