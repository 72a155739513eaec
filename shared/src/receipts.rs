//! Message status and read receipts (CONV-2), derived rather than stored per message: a
//! message is read by a recipient once its entry's `lastReadAt` is at or after the message,
//! delivered once the recipient's inbox (or the thread) reached it after the message, and
//! otherwise sent. No write per message per recipient.

use crate::domain::{Conversation, Message};
use crate::domain::{DeliveryStatus, Timestamp, UserId};
use crate::views::ReceiptView;
use std::collections::HashMap;

/// Who a conversation's messages are addressed to: its participants, assignees and patient.
pub fn audience(c: &Conversation) -> Vec<UserId> {
    let mut out: Vec<UserId> = Vec::new();
    let patient = c.summary.patient.as_ref().map(|p| p.id.clone());
    for id in c.participants.iter().chain(c.assignee_ids.iter()).cloned().chain(patient) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Each recipient's status for one message (not its sender; not the patient for a note).
pub fn for_message(
    m: &Message,
    audience: &[UserId],
    patient_id: Option<&UserId>,
    marks: &HashMap<UserId, (Option<Timestamp>, Option<Timestamp>)>,
) -> Vec<ReceiptView> {
    audience
        .iter()
        .filter(|r| **r != m.sender.id && !(m.internal && Some(*r) == patient_id))
        .map(|r| {
            let (read, seen) = marks.get(r).cloned().unwrap_or_default();
            let after = |t: &Option<Timestamp>| t.filter(|t| *t >= m.created_at);
            match (after(&read), after(&seen)) {
                (Some(at), _) => {
                    ReceiptView { recipient_id: r.to_string(), status: DeliveryStatus::Read, at: Some(at) }
                }
                (None, Some(at)) => {
                    ReceiptView { recipient_id: r.to_string(), status: DeliveryStatus::Delivered, at: Some(at) }
                }
                (None, None) => ReceiptView { recipient_id: r.to_string(), status: DeliveryStatus::Sent, at: None },
            }
        })
        .collect()
}

/// A message's overall status: read once every recipient read it, delivered once it reached
/// every recipient, else sent (also when it has no recipient).
pub fn overall(receipts: &[ReceiptView]) -> DeliveryStatus {
    receipts.iter().map(|r| r.status).min().unwrap_or(DeliveryStatus::Sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, SenderKind};
    use crate::domain::{Sealed, SenderRef};

    fn u(id: &str) -> UserId {
        UserId::from_stored(id)
    }

    fn message(sender: &str, at: &str, internal: bool) -> Message {
        Message {
            id: crate::domain::MessageId::from_stored("msg_1"),
            conversation_id: crate::domain::ConversationId::from_stored("cnv_1"),
            sender: SenderRef { kind: SenderKind::Staff, id: u(sender), name: None, masked: false },
            body: Sealed::default(),
            priority: Priority::Normal,
            internal,
            attachments: vec![],
            created_at: at.parse().unwrap(),
            fee_code: None,
            notify_if_unread_hours: None,
            answer_pk: None,
            documents: vec![],
        }
    }

    #[test]
    fn conv_2_status_moves_sent_delivered_read_per_recipient() {
        let audience = vec![u("usr_doc"), u("pat_1"), u("usr_nurse")];
        let m = message("usr_doc", "2026-01-01T10:00:00.000000Z", false);
        let mut marks = HashMap::new();
        let r = for_message(&m, &audience, Some(&u("pat_1")), &marks);
        assert_eq!(
            r.iter().map(|x| x.status).collect::<Vec<_>>(),
            vec![DeliveryStatus::Sent; 2],
            "the sender is no recipient"
        );
        assert_eq!(overall(&r), DeliveryStatus::Sent);
        marks.insert(u("pat_1"), (None, Some("2026-01-01T10:05:00.000000Z".parse().unwrap())));
        marks.insert(
            u("usr_nurse"),
            (
                Some("2026-01-01T09:00:00.000000Z".parse().unwrap()),
                Some("2026-01-01T11:00:00.000000Z".parse().unwrap()),
            ),
        );
        let r = for_message(&m, &audience, Some(&u("pat_1")), &marks);
        assert_eq!(
            r.iter().map(|x| x.status).collect::<Vec<_>>(),
            vec![DeliveryStatus::Delivered; 2],
            "a read before the message is no read"
        );
        assert_eq!(overall(&r), DeliveryStatus::Delivered);
        marks.insert(u("pat_1"), (Some("2026-01-01T10:06:00.000000Z".parse().unwrap()), None));
        marks.insert(u("usr_nurse"), (Some("2026-01-01T10:07:00.000000Z".parse().unwrap()), None));
        assert_eq!(overall(&for_message(&m, &audience, Some(&u("pat_1")), &marks)), DeliveryStatus::Read);
        // A note is never addressed to the patient.
        let note = message("usr_doc", "2026-01-01T10:00:00.000000Z", true);
        assert_eq!(for_message(&note, &audience, Some(&u("pat_1")), &marks).len(), 1);
    }
}
