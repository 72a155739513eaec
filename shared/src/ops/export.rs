//! Transcript export for the chart (CONV-8, REPLY-3): plain text, or a FHIR R4 Bundle of
//! `Communication` resources. Staff only; internal notes are staff talk, not part of the
//! patient's transcript, and are left out.

use crate::app::{App, RequestCtx};
use crate::audit::AuditRecord;
use crate::domain::Priority;
use crate::error::{Error, Result};
use crate::receipts;
use crate::views::{MessageView, PatientView, Renderer};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Fhir,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Result<Format> {
        match raw.unwrap_or("text") {
            "text" => Ok(Format::Text),
            "fhir" => Ok(Format::Fhir),
            _ => Err(Error::invalid("format", "format must be `text` or `fhir`")),
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; charset=utf-8",
            Format::Fhir => "application/fhir+json",
        }
    }
}

/// GET /conversations/{id}/export?format=text|fhir.
pub async fn export(app: &App, ctx: &RequestCtx, conversation_id: &str, format: Format) -> Result<String> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    super::budgets::spend(app, ctx, super::budgets::Expensive::Export).await?;
    let (conversation, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    if !caller.is_staff() {
        return Err(Error::Forbidden("transcripts are exported by staff".into()));
    }
    let patient_id = conversation.summary.patient.as_ref().map(|p| p.id.clone());
    crate::ops::audit_read(app, ctx, "conversation.export", AuditRecord::conversation(&conversation)).await?;
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let (view, patient) = renderer.conversation(&conversation, &names).await?;
    let audience = receipts::audience(&conversation);
    let marks = app.store.receipt_marks(p, &audience, &conversation_id).await?;
    let mut rendered = Vec::new();
    for m in messages.iter().filter(|m| !m.internal) {
        let per_recipient = receipts::for_message(m, &audience, patient_id.as_ref(), &marks);
        let received =
            per_recipient.iter().filter(|r| r.status == crate::domain::DeliveryStatus::Read).filter_map(|r| r.at).min();
        let recipients: Vec<String> = per_recipient.iter().map(|r| r.recipient_id.clone()).collect();
        rendered.push((
            renderer.message(m, patient.as_ref(), receipts::overall(&per_recipient)).await?,
            recipients,
            received,
        ));
    }
    Ok(match format {
        Format::Text => text(&view.subject, patient.as_ref(), view.created_at, &rendered),
        Format::Fhir => {
            let mut bundle = fhir_bundle(&conversation_id, patient.as_ref(), &rendered, ctx.now);
            // EVISIT-4: an e-visit's charge goes with its transcript.
            if let Some(((_, visit), entries)) = app.store.evisit(p, &conversation_id).await? {
                let evisit = crate::ops::evisits::view(app, ctx, &conversation, &visit, &entries).await?;
                if let (Some(item), Some(list)) = (charge_item(&evisit), bundle["entry"].as_array_mut()) {
                    list.push(json!({ "resource": item }));
                }
            }
            serde_json::to_string_pretty(&bundle).map_err(Error::internal)?
        }
    })
}

fn text(
    subject: &str,
    patient: Option<&PatientView>,
    started: crate::domain::Timestamp,
    messages: &[(MessageView, Vec<String>, Option<crate::domain::Timestamp>)],
) -> String {
    let mut out = format!("Conversation: {subject}\n");
    if let Some(p) = patient {
        out.push_str(&format!("Patient: {} {} ({})\n", p.first_name, p.last_name, p.id));
    }
    out.push_str(&format!("Started: {started}\n\n"));
    for (m, _, _) in messages {
        let urgent = if m.priority == Priority::Urgent { " [URGENT]" } else { "" };
        out.push_str(&format!(
            "[{}] {} ({}){urgent}:\n{}\n",
            m.created_at,
            m.sender.display_name,
            m.sender.kind.as_str(),
            m.body
        ));
        for a in &m.attachments {
            out.push_str(&format!("  attachment: {} ({}, {} bytes)\n", a.file_name, a.content_type, a.size));
        }
        out.push('\n');
    }
    out
}

/// A FHIR id: letters, digits, `-` and `.` (our ids' `_` becomes `-`).
fn fhir_id(id: &str) -> String {
    id.replace('_', "-")
}

fn reference(kind: &str, id: &str) -> String {
    let resource =
        if id.starts_with(crate::domain::PATIENT_ID) || kind == "patient" { "Patient" } else { "Practitioner" };
    format!("{resource}/{}", fhir_id(id))
}

/// EVISIT-4: a FHIR R4 `ChargeItem` for an e-visit whose time supports a code: `billable`
/// without flags, `planned` (for a person to decide) with them, each flag a note.
pub fn charge_item(v: &crate::views::EVisitView) -> Option<Value> {
    let code = v.suggested_code.as_deref()?;
    let mut item = json!({
        "resourceType": "ChargeItem",
        "id": fhir_id(&format!("evisit-{}", v.conversation_id)),
        "status": if v.flags.is_empty() { "billable" } else { "planned" },
        "code": { "coding": [{ "system": "http://www.ama-assn.org/go/cpt", "code": code }] },
        "subject": { "reference": reference("patient", &v.patient_id) },
        "occurrencePeriod": { "start": v.window_opens_at, "end": v.window_ends_at },
        "performer": v.minutes_by_clinician.iter()
            .map(|m| json!({ "actor": { "reference": reference("", &m.id) } }))
            .collect::<Vec<_>>(),
        "quantity": { "value": 1 },
        "supportingInformation": [{ "reference": format!("Bundle/{}", fhir_id(&format!("transcript-{}", v.conversation_id))) }],
    });
    let mut notes = vec![json!({ "text": format!("cumulative time: {} min", v.total_minutes) })];
    for f in &v.flags {
        let name = serde_json::to_value(f).unwrap_or_default();
        notes.push(json!({ "text": format!("flag: {}", name.as_str().unwrap_or_default()) }));
    }
    item["note"] = json!(notes);
    Some(item)
}

/// A FHIR R4 `Bundle` (type `collection`) with one `Communication` per message.
pub fn fhir_bundle(
    conversation_id: &str,
    patient: Option<&PatientView>,
    messages: &[(MessageView, Vec<String>, Option<crate::domain::Timestamp>)],
    at: crate::domain::Timestamp,
) -> Value {
    let mut entries = Vec::new();
    let mut previous: Option<&str> = None;
    for (m, recipients, received) in messages {
        let mut payload = vec![json!({ "contentString": m.body })];
        for a in &m.attachments {
            payload.push(
                json!({ "contentAttachment": { "contentType": a.content_type, "title": a.file_name, "size": a.size } }),
            );
        }
        let mut c = json!({
            "resourceType": "Communication",
            "id": fhir_id(&m.id),
            "identifier": [{ "system": "urn:carethread:message", "value": m.id }],
            "status": "completed",
            "category": [{ "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/communication-category",
                "code": "notification",
            }] }],
            "priority": if m.priority == Priority::Urgent { "urgent" } else { "routine" },
            "sent": m.created_at,
            "sender": { "reference": reference(m.sender.kind.as_str(), &m.sender.id), "display": m.sender.display_name },
            "recipient": recipients.iter().map(|r| json!({ "reference": reference("", r) })).collect::<Vec<_>>(),
            "payload": payload,
        });
        if let Some(p) = patient {
            c["subject"] = json!({ "reference": reference("patient", &p.id), "display": format!("{} {}", p.first_name, p.last_name) });
        }
        if let Some(r) = received {
            c["received"] = json!(r);
        }
        if let Some(prev) = previous {
            c["inResponseTo"] = json!([{ "reference": format!("Communication/{}", fhir_id(prev)) }]);
        }
        previous = Some(&m.id);
        entries.push(json!({ "resource": c }));
    }
    json!({
        "resourceType": "Bundle",
        "id": fhir_id(&format!("transcript-{conversation_id}")),
        "type": "collection",
        "timestamp": at,
        "entry": entries,
    })
}
