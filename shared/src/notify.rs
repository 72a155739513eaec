//! Notifications through SNS (NOTIFY-1 to NOTIFY-4): where each user is told (by its
//! preference, proven channels only), the text, publishing, and the SMS peers that match a
//! text back to its conversation. Every message is written with an outbox item in the same
//! transaction; `jobs::notifier` delivers it.
//!
//! The text of a notification is built from the practice's name, a fixed sentence and the
//! portal link only: `notification_text` takes nothing else, so no PHI can reach it (SEC-3).

use crate::app::App;
use crate::crypto::Binding;
use crate::domain::Directory;
use crate::domain::{ConversationId, NotifyChannel, PracticeId, Timestamp, UserId, PATIENT_ID, STAFF_ID};
use crate::domain::{Notice, NotifyPrefs, Patient, Sealed, Settings, SmsPeer, Staff};
use crate::error::{Error, Result};
use aws_sdk_sns::types::MessageAttributeValue;

/// Where one notification goes: a channel and an address (email or E.164 number).
#[derive(Clone, PartialEq, Eq)]
pub struct Destination {
    pub channel: NotifyChannel,
    pub address: String,
}

impl std::fmt::Debug for Destination {
    // The address is personal data: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Destination({:?}, <redacted>)", self.channel)
    }
}

pub(crate) const NOTIFICATION_SUBJECT: &str = "New secure message";

/// The whole text of a notification (NOTIFY-1).
pub fn notification_text(practice_name: &str, portal_url: &str, notice: Notice, urgent: bool) -> String {
    let (sentence, link) = match (notice, urgent) {
        (Notice::UnreadReminder, _) => ("A secure message you sent has not been read yet.", "Sign in to see it"),
        (Notice::NewMessage, true) => ("You have a new urgent secure message.", "Sign in to read it"),
        (Notice::NewMessage, false) => ("You have a new secure message.", "Sign in to read it"),
    };
    if portal_url.is_empty() {
        format!("{practice_name}: {sentence}")
    } else {
        format!("{practice_name}: {sentence} {link}: {portal_url}")
    }
}

/// A staff user's destination: their preference, else email to the address on file.
pub async fn staff_destination(app: &App, practice_id: &PracticeId, s: &Staff) -> Result<Option<Destination>> {
    if !s.active {
        return Ok(None);
    }
    let (channel, sealed) = match &s.notify {
        Some(n) => (n.channel, proven(n)),
        None => (NotifyChannel::Email, None),
    };
    let address = match (channel, sealed) {
        (NotifyChannel::None, _) => return Ok(None),
        (_, Some(d)) => open_destination(app, practice_id, &s.id, &d.0).await?,
        (NotifyChannel::Email, None) => s.email.clone(),
        (NotifyChannel::Sms, None) => s.phone.clone(),
    };
    Ok((!address.is_empty()).then_some(Destination { channel, address }))
}

/// A patient's destination: their preference, else email if the practice has an address,
/// else SMS if it has a phone number. A patient without portal access is not notified (ROLE-5).
pub async fn patient_destination(app: &App, practice_id: &PracticeId, pat: &Patient) -> Result<Option<Destination>> {
    if !pat.portal_access {
        return Ok(None);
    }
    let channel = match &pat.notify {
        Some(n) => n.channel,
        None if pat.email.is_some() => NotifyChannel::Email,
        None if pat.phone.is_some() => NotifyChannel::Sms,
        None => return Ok(None),
    };
    let (field, sealed) = match (channel, pat.notify.as_ref().and_then(proven)) {
        (NotifyChannel::None, _) => return Ok(None),
        (_, Some(d)) => ("notifyDestination", Some(d)),
        (NotifyChannel::Email, None) => ("email", pat.email.as_ref()),
        (NotifyChannel::Sms, None) => ("phone", pat.phone.as_ref()),
    };
    let Some(sealed) = sealed else { return Ok(None) };
    let address = app.envelope.open_string(Binding { practice_id, record: &pat.id, field }, &sealed.0).await?;
    Ok(Some(Destination { channel, address }))
}

/// ACCT-4: the user's own destination, only once proven by its one-time code; else the
/// address on file is used.
fn proven(prefs: &NotifyPrefs) -> Option<&Sealed> {
    prefs.destination.as_ref().filter(|_| prefs.proven_at.is_some())
}

/// ACCT-4: whether a number may reach this patient's conversations: the phone the practice
/// holds on the record, or an SMS destination the patient proved. Anything else (a number
/// typed but never proven, a number the patient has since replaced) is a stranger's.
pub async fn number_belongs_to(app: &App, practice_id: &PracticeId, pat: &Patient, number: &str) -> Result<bool> {
    if let Some(phone) = &pat.phone {
        let on_file =
            app.envelope.open_string(Binding { practice_id, record: &pat.id, field: "phone" }, &phone.0).await?;
        if on_file == number {
            return Ok(true);
        }
    }
    match pat.notify.as_ref().filter(|n| n.channel == NotifyChannel::Sms).and_then(proven) {
        Some(sealed) => Ok(open_destination(app, practice_id, &pat.id, &sealed.0).await? == number),
        None => Ok(false),
    }
}

async fn open_destination(app: &App, practice_id: &PracticeId, user_id: &UserId, sealed: &[u8]) -> Result<String> {
    app.envelope.open_string(Binding { practice_id, record: user_id, field: "notifyDestination" }, sealed).await
}

pub(crate) async fn destination_of(app: &App, dir: &Directory, recipient_id: &UserId) -> Result<Option<Destination>> {
    let p = &dir.practice.id;
    if recipient_id.starts_with(STAFF_ID) {
        match dir.staff_member(recipient_id) {
            Some(s) => staff_destination(app, p, s).await,
            None => Ok(None),
        }
    } else if recipient_id.starts_with(PATIENT_ID) {
        match app.store.patient(p, recipient_id).await? {
            Some(pat) => patient_destination(app, p, &pat).await,
            None => Ok(None),
        }
    } else {
        Ok(None)
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue> {
    MessageAttributeValue::builder().data_type("String").string_value(value).build().map_err(Error::internal)
}

/// Publishes one text: SMS straight to the number (transactional, from the practice's number
/// when it has one); email through the topic, whose mail relay subscription delivers it to
/// the `destination` attribute. `notification_id` lets a subscriber drop a duplicate too.
pub async fn publish(
    app: &App,
    settings: &Settings,
    to: &Destination,
    subject: &str,
    text: &str,
    notification_id: &str,
) -> Result<Published> {
    let outcome = match to.channel {
        NotifyChannel::None => return Ok(Published::Sent),
        NotifyChannel::Sms => {
            let mut request = app
                .sns
                .get()
                .publish()
                .phone_number(&to.address)
                .message(text)
                .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional")?);
            if !settings.sms_number.is_empty() {
                request =
                    request.message_attributes("AWS.MM.SMS.OriginationNumber", string_attribute(&settings.sms_number)?);
            }
            request.send().await
        }
        NotifyChannel::Email => {
            app.sns
                .get()
                .publish()
                .topic_arn(&app.topic_arn)
                .subject(subject)
                .message(text)
                .message_attributes("channel", string_attribute("email")?)
                .message_attributes("destination", string_attribute(&to.address)?)
                .message_attributes("notificationId", string_attribute(notification_id)?)
                .send()
                .await
        }
    };
    match outcome {
        Ok(_) => Ok(Published::Sent),
        // A number or address SNS refuses will never work: give up on it, do not block the rest.
        Err(e) if e.as_service_error().is_some_and(|se| se.is_invalid_parameter_exception()) => {
            tracing::warn!(channel = ?to.channel, "SNS refused the destination; notification dropped");
            Ok(Published::Undeliverable)
        }
        Err(e) => Err(Error::Unavailable(Box::new(e))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    Sent,
    Undeliverable,
}

/// The blind token of a phone number in a practice (NOTIFY-4): the key of its SMS peer record,
/// so the table never holds the number itself.
pub async fn sms_peer_token(app: &App, dir: &Directory, number: &str) -> Result<String> {
    let index = app.envelope.blind_index(&dir.practice.id, &dir.practice.search_key.0).await?;
    Ok(index.token("sms-peer", number))
}

/// Records the latest SMS exchanged with a number: a text back from it is matched to it.
pub async fn remember_sms_peer(
    app: &App,
    dir: &Directory,
    number: &str,
    patient_id: Option<&UserId>,
    conversation_id: &ConversationId,
    at: Timestamp,
) -> Result<()> {
    let token = sms_peer_token(app, dir, number).await?;
    let peer = SmsPeer { patient_id: patient_id.cloned(), conversation_id: conversation_id.clone(), at };
    app.store.put_sms_peer(&dir.practice.id, &token, &peer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_1_the_text_says_nothing_but_practice_sentence_and_link() {
        let text = notification_text("Maple Clinic", "https://portal.example", Notice::NewMessage, false);
        assert_eq!(text, "Maple Clinic: You have a new secure message. Sign in to read it: https://portal.example");
        let urgent = notification_text("Maple Clinic", "", Notice::NewMessage, true);
        assert_eq!(urgent, "Maple Clinic: You have a new urgent secure message.");
        let reminder = notification_text("Maple Clinic", "", Notice::UnreadReminder, false);
        assert!(reminder.contains("has not been read"));
    }

    #[test]
    fn destinations_never_print_their_address() {
        let d = Destination { channel: NotifyChannel::Sms, address: "+15550001111".into() };
        assert!(!format!("{d:?}").contains("555"));
    }
}
