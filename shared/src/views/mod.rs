//! The response shapes of API.md, and their rendering from stored records (decrypting the
//! sealed fields the caller may see). Patients never receive staff-only fields.

use crate::crypto::{Binding, Envelope};
use crate::domain::*;
use crate::domain::{
    AttachmentStatus, Caller, ConversationKind, ConversationStatus, DeliveryStatus, Priority, Recipient, SenderKind,
    Timestamp,
};
use crate::error::Result;
use serde::Serialize;

mod attachments;
mod people;
mod reports;
mod settings;
mod workspace;

pub use attachments::*;
pub use people::*;
pub use reports::*;
pub use settings::*;
pub use workspace::*;

pub const MASKED_NAME: &str = "Clinic Staff";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientView {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextView {
    pub kind: crate::domain::ContextKind,
    pub id: String,
    pub label: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonView {
    #[serde(rename = "type")]
    pub kind: SenderKind,
    pub id: String,
    pub display_name: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: String,
    pub kind: ConversationKind,
    pub subject: String,
    pub patient: Option<PatientView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<PersonView>>,
    pub assignees: Vec<Recipient>,
    pub context: Option<ContextView>,
    pub status: ConversationStatus,
    pub created_at: crate::domain::Timestamp,
    pub last_message_at: crate::domain::Timestamp,
    pub message_count: u64,
    pub allow_response: bool,
    pub allow_attachments: bool,
    /// SLA-2: while a patient's question waits for a reply, when it is due; null when no
    /// reply is owed.
    pub reply_due_at: Option<Timestamp>,
    /// The same instant on the practice's wall clock (`2026-12-03T17:00:00-06:00`): what
    /// "expected reply by" is written in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_due_local: Option<String>,
    /// SLA-3, staff only: whether the due time has passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_overdue: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub id: crate::domain::AttachmentId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub status: AttachmentStatus,
    pub created_at: crate::domain::Timestamp,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub conversation_id: String,
    pub sender: PersonView,
    pub body: String,
    pub priority: Priority,
    pub internal: bool,
    pub attachments: Vec<AttachmentView>,
    /// ATT-4: documents of the patient's record, by reference.
    pub documents: Vec<ContextView>,
    pub created_at: crate::domain::Timestamp,
    pub status: DeliveryStatus,
    /// Per-recipient status (staff only, CONV-2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipts: Option<Vec<ReceiptView>>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptView {
    pub recipient_id: String,
    pub status: DeliveryStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxItemView {
    pub conversation: ConversationView,
    pub preview: String,
    pub last_sender: PersonView,
    pub unread_count: u64,
    pub starred: bool,
    pub archived: bool,
    pub urgent: bool,
}

/// POST /conversations (and a forward, a sent draft): the conversation and its first message.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadStarted {
    pub conversation: ConversationView,
    pub message: MessageView,
}

/// POST /conversations/{id}/messages.
#[derive(Clone, Debug, Serialize)]
pub struct MessagePosted {
    pub message: MessageView,
    /// SLA-2: when a reply is due, while a patient's question waits for one (else null).
    #[serde(rename = "replyDueAt")]
    pub reply_due_at: Option<Timestamp>,
}

/// A conversation after a change to it (assignment, status, controls).
#[derive(Clone, Debug, Serialize)]
pub struct ConversationChanged {
    pub conversation: ConversationView,
}

/// GET /conversations/{id}: the thread; for staff, its assignment history too (ASSIGN-1).
#[derive(Clone, Debug, Serialize)]
pub struct ThreadView {
    pub conversation: ConversationView,
    pub messages: Vec<MessageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignments: Option<Vec<AssignmentView>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AssignmentView {
    pub by: String,
    pub assignees: Vec<Recipient>,
    /// Staff-only; `null` where none was given.
    pub comment: Option<String>,
    pub at: crate::domain::Timestamp,
}

/// A page of a list (GET /inbox, /drafts, /audit), and the sealed cursor of the next page
/// if there is one (API.md's paging).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// GET /inbox/stats (INBOX-4).
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxStatsView {
    pub total_conversations: u64,
    pub unread_messages: u64,
    pub unique_patients: u64,
    pub total_messages: u64,
}

/// POST /broadcasts (COMPOSE-6): how many patients it reached.
#[derive(Clone, Debug, Serialize)]
pub struct BroadcastSent {
    pub broadcast: BroadcastView,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastView {
    pub id: String,
    pub recipient_count: usize,
}

/// Decrypts what a caller may see. Holds the practice the caller belongs to: every binding
/// names it, so a record of another practice could not be opened even by mistake.
pub struct Renderer<'a> {
    envelope: &'a Envelope,
    pub caller: &'a Caller,
    /// The request's clock reading: what is overdue is judged at it.
    now: Timestamp,
}

impl<'a> Renderer<'a> {
    pub fn new(envelope: &'a Envelope, caller: &'a Caller, now: Timestamp) -> Self {
        Renderer { envelope, caller, now }
    }

    fn show_reply_due(&self, view: &mut ConversationView, due: Option<&crate::reply_clock::ReplyDue>) {
        view.reply_due_at = due.map(|d| d.at);
        view.reply_due_local = due.map(|d| d.local.clone());
        view.reply_overdue = due.filter(|_| self.caller.is_staff()).map(|d| d.at <= self.now);
    }

    pub async fn open(&self, record: &str, field: &str, sealed: &Sealed) -> Result<String> {
        let binding = Binding { practice_id: &self.caller.practice_id, record, field };
        self.envelope.open_string(binding, &sealed.0).await
    }

    pub async fn patient(&self, p: &PatientRef) -> Result<PatientView> {
        Ok(PatientView {
            id: p.id.to_string(),
            first_name: self.open(&p.id, "firstName", &p.first_name).await?,
            last_name: self.open(&p.id, "lastName", &p.last_name).await?,
        })
    }

    async fn context(&self, conversation_id: &str, c: &ContextRef) -> Result<ContextView> {
        Ok(ContextView {
            kind: c.kind,
            id: c.id.clone(),
            label: self.open(conversation_id, "context", &c.label).await?,
        })
    }

    /// The sender as this caller may know it: "Clinic Staff" to a patient where masked.
    pub fn sender(&self, sender: &SenderRef, patient: Option<&PatientView>) -> PersonView {
        let display_name = if sender.kind == SenderKind::Patient {
            patient.map(|p| format!("{} {}", p.first_name, p.last_name)).unwrap_or_default()
        } else if sender.masked && !self.caller.is_staff() {
            MASKED_NAME.to_string()
        } else {
            sender.name.clone().unwrap_or_else(|| MASKED_NAME.to_string())
        };
        let id = if sender.masked && !self.caller.is_staff() { String::new() } else { sender.id.to_string() };
        PersonView { kind: sender.kind, id, display_name }
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn summary(
        &self,
        id: &str,
        s: &Summary,
        last_message_at: Timestamp,
        message_count: u64,
        participants: Option<Vec<PersonView>>,
    ) -> Result<(ConversationView, Option<PatientView>)> {
        let patient = match &s.patient {
            Some(p) => Some(self.patient(p).await?),
            None => None,
        };
        let context = match &s.context {
            Some(c) => Some(self.context(id, c).await?),
            None => None,
        };
        let staff = self.caller.is_staff();
        let view = ConversationView {
            id: id.to_string(),
            kind: s.kind,
            subject: self.open(id, "subject", &s.subject).await?,
            patient: patient.clone(),
            participants: if staff { participants } else { None },
            assignees: if staff { s.assignees.clone() } else { Vec::new() },
            context,
            status: s.status,
            created_at: s.created_at,
            last_message_at,
            message_count,
            allow_response: s.allow_response,
            allow_attachments: s.allow_attachments,
            reply_due_at: None,
            reply_due_local: None,
            reply_overdue: None,
        };
        Ok((view, patient))
    }

    pub async fn conversation(
        &self,
        c: &Conversation,
        staff_names: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<(ConversationView, Option<PatientView>)> {
        let count = if self.caller.is_staff() { c.message_count } else { c.patient_message_count };
        let participants = c
            .participants
            .iter()
            .map(|id| PersonView {
                kind: SenderKind::Staff,
                id: id.to_string(),
                display_name: staff_names(id).unwrap_or_default(),
            })
            .collect();
        let (mut view, patient) = self.summary(&c.id, &c.summary, c.last_message_at, count, Some(participants)).await?;
        self.show_reply_due(&mut view, c.reply_clock.as_ref().map(|clock| &clock.due));
        Ok((view, patient))
    }

    pub async fn attachment_ref(&self, a: &AttachmentRef) -> Result<AttachmentView> {
        Ok(AttachmentView {
            id: a.id.clone(),
            file_name: self.open(&a.id, "fileName", &a.file_name).await?,
            content_type: a.content_type.clone(),
            size: a.size,
            status: AttachmentStatus::Ready,
            created_at: a.attached_at,
        })
    }

    pub async fn attachment(&self, a: &Attachment) -> Result<AttachmentView> {
        Ok(AttachmentView {
            id: a.id.clone(),
            file_name: self.open(&a.id, "fileName", &a.file_name).await?,
            content_type: a.content_type.clone(),
            size: a.size,
            status: a.status,
            created_at: a.created_at,
        })
    }

    pub async fn message(
        &self,
        m: &Message,
        patient: Option<&PatientView>,
        status: DeliveryStatus,
    ) -> Result<MessageView> {
        let record = format!("{}/{}", m.conversation_id, m.id);
        let mut attachments = Vec::with_capacity(m.attachments.len());
        for a in &m.attachments {
            attachments.push(self.attachment_ref(a).await?);
        }
        let mut documents = Vec::with_capacity(m.documents.len());
        for (i, d) in m.documents.iter().enumerate() {
            let label = self.open(&record, &format!("document/{i}"), &d.label).await?;
            documents.push(ContextView { kind: d.kind, id: d.id.clone(), label });
        }
        Ok(MessageView {
            documents,
            id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            sender: self.sender(&m.sender, patient),
            body: self.open(&record, "body", &m.body).await?,
            priority: m.priority,
            internal: m.internal,
            attachments,
            created_at: m.created_at,
            status,
            receipts: None,
        })
    }

    pub async fn inbox_item(&self, e: &InboxEntry) -> Result<InboxItemView> {
        let (mut conversation, patient) =
            self.summary(&e.conversation_id, &e.summary, e.last_message_at, e.message_count, None).await?;
        self.show_reply_due(&mut conversation, e.reply_due.as_ref());
        // A practice-wide row of a conversation written before conversations kept their
        // latest message has no preview (nothing sealed), not a broken one.
        let preview = match e.preview.0.is_empty() {
            true => String::new(),
            false => self.open(&e.conversation_id, "preview", &e.preview).await?,
        };
        Ok(InboxItemView {
            preview,
            last_sender: self.sender(&e.last_sender, patient.as_ref()),
            unread_count: e.unread,
            starred: e.starred,
            archived: e.archived,
            urgent: e.urgent,
            conversation,
        })
    }
}
