//! Posting a message: the one path every message takes into a conversation, whether it
//! begins one (compose, forward, a broadcast copy, a first text) or joins one (reply, a later
//! text, an auto-reply). Who gets an inbox entry and a count (`fan_out`), who is notified
//! (`outbox`), and what a message adds to the billing report and the reminders are decided
//! here and nowhere else. Checks on the sender (active, daily limit) stay with the route,
//! which knows who the sender is.

use super::*;
use crate::store::Guard;
use std::collections::HashMap;

/// A message as its sender wrote it, before it is sealed.
pub(super) struct Posting<'a> {
    pub(super) sender: SenderRef,
    pub(super) body: &'a Body,
    /// Its moment: the request's, or its own for a message that follows another in the same
    /// request (an auto-reply must sort, and count as unread, after what triggered it).
    pub(super) at: crate::domain::Timestamp,
    pub(super) priority: Priority,
    /// CONV-5: an internal note, never the patient's.
    pub(super) internal: bool,
    pub(super) attachments: &'a [Attachment],
    /// ATT-4: documents of the patient's record, linked by reference.
    pub(super) documents: &'a [ContextLink],
    pub(super) fee_code: Option<String>,
    pub(super) notify_if_unread_hours: Option<u32>,
    /// The stored answer of the request that posts it (deleted with the message).
    pub(super) answer_pk: Option<String>,
    /// SLA-2: the patient's "never mind", which stops the reply clock.
    pub(super) withdraws: bool,
}

impl<'a> Posting<'a> {
    /// A plain message: normal priority, nothing attached or linked, no billing.
    pub(super) fn plain(sender: SenderRef, body: &'a Body, at: crate::domain::Timestamp) -> Self {
        Posting {
            sender,
            body,
            at,
            priority: Priority::Normal,
            internal: false,
            attachments: &[],
            documents: &[],
            fee_code: None,
            notify_if_unread_hours: None,
            answer_pk: None,
            withdraws: false,
        }
    }
}

/// A sealed message, the preview its viewers' inbox rows show, the uploads it attaches and
/// what it does to the reply clock.
pub(super) struct Posted {
    pub(super) message: Message,
    pub(super) preview: Sealed,
    attachments: Vec<Attachment>,
    promise: super::promise::PromiseChange,
}

impl Posted {
    /// SLA-2: the conversation's reply clock once this message is in it.
    pub(super) fn reply_clock_after(&self, c: &Conversation) -> Option<crate::reply_clock::ReplyClock> {
        self.promise.clock_after(c)
    }
}

/// How a message reaches its conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Arrival<'a> {
    /// It begins the conversation: the conversation item is written new, counting it.
    /// `known`: viewers' patient markers the request read already (in its first batch).
    Begins { known: Option<&'a crate::store::PatientMarkers> },
    /// It joins one. `patient_needs_open`: a patient writing through the portal may write
    /// only into an open conversation that accepts replies (a text cannot be refused).
    Joins { patient_needs_open: bool },
}

/// Seals a message's body, preview and document labels to the conversation (SEC-1), and
/// works out what it does to the reply clock under the practice's `settings` (SLA-2).
pub(super) async fn seal(app: &App, c: &Conversation, m: Posting<'_>, settings: &Settings) -> Result<Posted> {
    let p = &c.practice_id;
    let id = MessageId::new();
    let env = &app.envelope;
    let record = format!("{}/{id}", c.id);
    let body = Sealed(env.seal_str(Binding { practice_id: p, record: &record, field: "body" }, m.body.as_str()).await?);
    let preview =
        Sealed(env.seal_str(Binding { practice_id: p, record: &c.id, field: "preview" }, &m.body.preview()).await?);
    let documents = sealed_documents(app, p, &c.id, &id, m.documents).await?;
    let message = Message {
        id,
        conversation_id: c.id.clone(),
        sender: m.sender,
        body,
        priority: m.priority,
        internal: m.internal,
        attachments: m.attachments.iter().map(|a| attachment_ref(a, m.at)).collect(),
        created_at: m.at,
        fee_code: m.fee_code,
        notify_if_unread_hours: m.notify_if_unread_hours,
        documents,
        answer_pk: m.answer_pk,
    };
    let promise = super::promise::after(c, &message, m.withdraws, settings)?;
    Ok(Posted { message, preview, attachments: m.attachments.to_vec(), promise })
}

/// Adds everything a posted message writes to `tx`: the conversation (new, or counting one
/// more message), the message, each viewer's inbox entry and counters, the attachments, the
/// audit event, the notifications, and the billing and reminder records.
pub(super) async fn post_message(
    app: &App,
    ctx: &RequestCtx,
    tx: &mut Tx<'_>,
    c: &Conversation,
    arrival: Arrival<'_>,
    posted: &Posted,
    action: &'static str,
) -> Result<()> {
    let store = &app.store;
    let p = &c.practice_id;
    let m = &posted.message;
    let patient_id = c.summary.patient.as_ref().map(|pat| &pat.id);
    let begins = matches!(arrival, Arrival::Begins { .. });
    let latest = LatestMessage { preview: posted.preview.clone(), sender: m.sender.clone(), priority: m.priority };
    let clock = posted.reply_clock_after(c);
    match arrival {
        Arrival::Begins { .. } => tx.put_new(
            Guard::Conversation,
            place::conversation(p, &c.id, c.last_message_at),
            &Conversation { latest: Some(latest), reply_clock: clock.clone(), ..c.clone() },
        )?,
        Arrival::Joins { patient_needs_open } => tx.conversation_add_message(
            p,
            &c.id,
            (m, &latest),
            !m.internal && c.summary.kind.is_patient_facing(),
            patient_needs_open,
            &posted.promise.clock,
        )?,
    }
    tx.put_new(Guard::Message, place::message_of(p, m), m)?;
    // The entries that fit in this transaction are written in it; the rest, by the notifier
    // before it notifies anyone (`LateEntries`), so no audience is too large to write to.
    let audience = entry_order(c, &m.sender.id, m.internal);
    let room = entries_with_room(tx.len() + posted.attachments.len(), begins && patient_id.is_some());
    let (now, late) = audience.split_at(room.min(audience.len()));
    // The patient-marker counts are read only where they can change: a new conversation.
    let markers = match (arrival, patient_id) {
        (Arrival::Begins { known }, Some(pat)) => {
            let mut markers = known.cloned().unwrap_or_default();
            let unread: Vec<UserId> = now.iter().filter(|v| !markers.contains_key(**v)).map(|v| (*v).clone()).collect();
            if !unread.is_empty() {
                markers.extend(store.patient_markers(p, &unread, pat).await?);
            }
            markers
        }
        _ => HashMap::new(),
    };
    for w in now.iter().map(|v| viewer_write(&c.summary, v, &m.sender.id, begins, markers.get(*v).copied())) {
        tx.entry_add_message(
            p,
            w.viewer,
            &c.id,
            (&c.summary, c.version),
            m.created_at,
            &posted.preview,
            &m.sender,
            m.priority,
            w.is_sender,
            clock.as_ref().map(|c| &c.due),
        )?;
        tx.stats_add(p, w.viewer, w.delta)?;
        if let (Some(known), Some(pat)) = (w.patient_marker, patient_id) {
            tx.patient_marker(p, w.viewer, pat, known, 1)?;
        }
    }
    for a in &posted.attachments {
        tx.attachment_attach(a, &c.id, m.internal)?;
    }
    let record = AuditRecord::conversation(c);
    tx.put_audit(&audit::event(ctx, action, record, "success"))?;
    let mut outbox = outbox(c, m)?;
    if !late.is_empty() {
        outbox.late_entries = Some(LateEntries {
            viewers: late.iter().map(|v| (*v).clone()).collect(),
            preview: posted.preview.clone(),
            sender: m.sender.clone(),
            priority: m.priority,
            at: m.created_at,
            begins,
        });
    }
    tx.put(Guard::Outbox, place::outbox(&m.id), &outbox)?;
    if let Some(b) = billing(c, m) {
        tx.put(Guard::Billing, place::billing(p, m.created_at, &m.id), &b)?;
    }
    if let Some(r) = reminder(c, m) {
        tx.put(Guard::Reminder, place::reminder(p, &m.id, r.due_at), &r)?;
    }
    posted.promise.write(tx, c)?;
    Ok(())
}

/// What a message does to one viewer's inbox.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ViewerWrite<'a> {
    pub(super) viewer: &'a UserId,
    /// The sender's own entry: its unread count does not grow.
    pub(super) is_sender: bool,
    pub(super) delta: StatsDelta,
    /// A new conversation about a patient: the viewer's count of conversations about that
    /// patient before it, which the marker write is conditioned on.
    pub(super) patient_marker: Option<u64>,
}

/// Items a route may still add to a message's transaction after its entries: the audit
/// event, the outbox, billing, a reminder, a reply time, an escalation (or its removal), the
/// consumed draft and the Idempotency-Key's answer.
const ITEMS_AFTER_ENTRIES: usize = 8;

/// How many viewers' entries fit in a message's transaction that already holds `items`
/// (and its attachments): each takes its entry and its counts, and for a new conversation
/// about a patient its count of conversations about that patient.
pub(super) fn entries_with_room(items: usize, counts_patient: bool) -> usize {
    let per_viewer = 2 + usize::from(counts_patient);
    Tx::MAX_ITEMS.saturating_sub(items + ITEMS_AFTER_ENTRIES) / per_viewer
}

/// The fan-out rule (INBOX-4, CONV-5): every viewer of the conversation gets the message in
/// its inbox, but the patient never gets an internal note (`entry_order`); it is unread for all
/// but its sender, and a new conversation counts as one more conversation, and as one more
/// patient for a viewer who had none about that patient (`viewer_write`).
///
/// Who gets an inbox entry for a message, in the order the entries are written: the sender,
/// the patient, the staff taking part (participants, assignees, the care team), then everyone
/// else who may see it. When an audience is larger than a transaction holds, the last are the
/// ones written moments later (`LateEntries`): bystanders, not the people in the thread.
pub(super) fn entry_order<'a>(c: &'a Conversation, sender_id: &UserId, internal: bool) -> Vec<&'a UserId> {
    let patient_id = c.summary.patient.as_ref().map(|pat| &pat.id);
    let rank = |v: &UserId| {
        if v == sender_id {
            0
        } else if Some(v) == patient_id {
            1
        } else if c.participants.contains(v)
            || c.assignee_ids.contains(v)
            || c.care_team.contains(v)
            || c.primary_provider_id.as_ref() == Some(v)
        {
            2
        } else {
            3
        }
    };
    let mut order: Vec<&UserId> = c.viewers.iter().filter(|v| !(internal && Some(*v) == patient_id)).collect();
    order.sort_by_key(|v| rank(v));
    order
}

/// What a message does to one viewer's inbox. `known`: for a new conversation about a
/// patient, how many conversations about that patient the viewer had (none read: none).
pub(super) fn viewer_write<'a>(
    summary: &Summary,
    viewer: &'a UserId,
    sender_id: &UserId,
    begins: bool,
    known: Option<u64>,
) -> ViewerWrite<'a> {
    let is_sender = viewer == sender_id;
    let known = summary.patient.as_ref().filter(|_| begins).map(|_| known.unwrap_or(0));
    ViewerWrite {
        viewer,
        is_sender,
        delta: StatsDelta {
            conversations: i64::from(begins),
            messages: 1,
            unread: i64::from(!is_sender),
            patients: i64::from(known == Some(0)),
        },
        patient_marker: known,
    }
}

/// The notifications of a message (NOTIFY-1): everyone who takes part in it but its sender;
/// for an urgent one also the care team: assignees, assigned staff and the patient's primary
/// provider (NOTIFY-2). Only viewers, so nobody hears of what they may not see, and never the
/// patient of an internal note. A staff reply in an SMS conversation also goes to the
/// patient's phone as an SMS (NOTIFY-4). Kept a week, from the message's moment.
pub(super) fn outbox(c: &Conversation, m: &Message) -> Result<OutboxEntry> {
    let urgent = m.priority == Priority::Urgent;
    let patient_id = c.summary.patient.as_ref().map(|p| &p.id);
    let is_patient = |v: &UserId| Some(v) == patient_id;
    let care_team = |v: &UserId| {
        urgent && (c.care_team.contains(v) || c.primary_provider_id.as_ref() == Some(v) || c.assignee_ids.contains(v))
    };
    let recipient_ids = c
        .viewers
        .iter()
        .filter(|v| *v != &m.sender.id && !(m.internal && is_patient(v)))
        .filter(|v| c.participants.contains(v) || c.assignee_ids.contains(v) || is_patient(v) || care_team(v))
        // ROLE-5: a patient without portal access is not notified.
        .filter(|v| c.patient_portal_access || !is_patient(v))
        .cloned()
        .collect();
    let sms_reply = c.summary.kind == ConversationKind::Sms && m.sender.kind == SenderKind::Staff && !m.internal;
    let sent_at = m.created_at;
    Ok(OutboxEntry {
        practice_id: c.practice_id.clone(),
        conversation_id: c.id.clone(),
        message_id: m.id.clone(),
        recipient_ids,
        urgent,
        created_at: m.created_at,
        expires_at: sent_at.as_second() + 7 * 24 * 3600,
        notice: Notice::NewMessage,
        sms_reply,
        sent: Vec::new(),
        late_entries: None,
    })
}

/// REPLY-2: the billing report's record of a billable message.
pub(super) fn billing(c: &Conversation, m: &Message) -> Option<BillableMessage> {
    let fee_code = m.fee_code.clone()?;
    Some(BillableMessage {
        message_id: m.id.clone(),
        conversation_id: c.id.clone(),
        patient_id: c.summary.patient.as_ref().map(|p| p.id.clone()).unwrap_or_default(),
        staff_id: m.sender.id.clone(),
        fee_code,
        at: m.created_at,
    })
}

/// NOTIFY-5: a staff message to a patient sent with notify-if-unread.
pub(super) fn reminder(c: &Conversation, m: &Message) -> Option<Reminder> {
    let hours = m.notify_if_unread_hours?;
    let patient = c.summary.patient.as_ref()?;
    if m.internal || m.sender.kind != SenderKind::Staff {
        return None;
    }
    let p = &c.practice_id;
    let due = m.created_at + crate::domain::SignedDuration::from_hours(i64::from(hours));
    Some(Reminder {
        practice_id: p.clone(),
        conversation_id: c.id.clone(),
        message_id: m.id.clone(),
        message_at: m.created_at,
        sender_id: m.sender.id.clone(),
        patient_id: patient.id.clone(),
        due_at: due,
    })
}

fn attachment_ref(a: &Attachment, at: Timestamp) -> AttachmentRef {
    AttachmentRef {
        id: a.id.clone(),
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size: a.size,
        attached_at: at,
    }
}

/// Document links with their labels sealed to the message.
async fn sealed_documents(
    app: &App,
    p: &PracticeId,
    cid: &ConversationId,
    mid: &str,
    docs: &[ContextLink],
) -> Result<Vec<ContextRef>> {
    let record = format!("{cid}/{mid}");
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let field = format!("document/{i}");
        let label =
            Sealed(app.envelope.seal_str(Binding { practice_id: p, record: &record, field: &field }, &d.label).await?);
        out.push(ContextRef { kind: d.kind, id: d.id.clone(), label });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "post_tests.rs"]
mod tests;
