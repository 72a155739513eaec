//! POST /broadcasts: one conversation per patient.

use super::thread::{start_thread, NewThread};
use super::*;

/// POST /broadcasts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BroadcastRequest {
    pub patient_ids: Vec<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub allow_response: Option<bool>,
}

/// COMPOSE-6: one message to an explicit list of patients (no "all patients" shortcut), each
/// getting a private copy: a conversation of its own, of kind `broadcast` (the Broadcasts
/// tab), where its replies land. Each copy is its own transaction, keyed for idempotency by
/// the broadcast's key and the patient, so a retried broadcast completes without doubles.
pub async fn broadcast(app: &App, ctx: &RequestCtx, req: BroadcastRequest) -> Result<BroadcastSent> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    if !caller.is_staff() {
        return Err(Error::Forbidden("broadcasts are sent by staff".into()));
    }
    crate::ops::budgets::spend(app, ctx, crate::ops::budgets::Expensive::Broadcast).await?;
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    let me = active_staff(&dir, caller)?;
    if !me.portal_messaging {
        return Err(Error::Forbidden("portal messaging is switched off for this user".into()));
    }
    let settings = &dir.practice.settings;
    let subject = Subject::parse(req.subject.as_deref())?;
    let body = Body::parse(req.body.as_deref(), settings.body_limits())?;
    let mut patient_ids: Vec<UserId> = Vec::new();
    for raw in &req.patient_ids {
        let id = UserId::parse_patient("patientIds", raw)?;
        if !patient_ids.contains(&id) {
            patient_ids.push(id);
        }
    }
    if patient_ids.is_empty() {
        return Err(Error::invalid("patientIds", "name at least one patient"));
    }
    if patient_ids.len() > settings.broadcast_max_recipients as usize {
        return Err(Error::invalid(
            "patientIds",
            format!("a broadcast may reach at most {} patients", settings.broadcast_max_recipients),
        ));
    }
    let mut patients = Vec::with_capacity(patient_ids.len());
    for id in &patient_ids {
        let patient = app.store.patient(p, id).await?;
        patients.push(
            patient.ok_or_else(|| Error::invalid("patientIds", "a patient id is not a patient of this practice"))?,
        );
    }
    let broadcast_id = crate::domain::new_id("bc_");
    let mut sent = 0usize;
    for patient in &patients {
        // Each copy under its own idempotency key (the broadcast's key and the patient).
        let copy_ctx = RequestCtx {
            idempotency: ctx.idempotency.as_ref().map(|k| crate::ops::idempotency::for_copy(k, &patient.id)),
            signed_in_at: ctx.signed_in_at,
            ..ctx.clone()
        };
        let sender =
            SenderRef { kind: SenderKind::Staff, id: me.id.clone(), name: Some(me.display_name()), masked: false };
        let thread = NewThread {
            patient: Some(patient),
            allow_response: req.allow_response.unwrap_or(true),
            allow_attachments: false,
            ..NewThread::new(ConversationKind::Broadcast, subject.clone(), body.clone(), sender, vec![me.id.clone()])
        };
        start_thread(app, &copy_ctx, &dir, thread, None).await?;
        sent += 1;
    }
    Ok(BroadcastSent { broadcast: BroadcastView { id: broadcast_id, recipient_count: sent } })
}
