//! POST /conversations/{id}/forward (ASSIGN-3).

use super::thread::{start_thread, NewThread};
use super::*;

/// POST /conversations/{id}/forward.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardRequest {
    pub message_ids: Vec<String>,
    pub recipients: Vec<RecipientInput>,
    pub comment: Option<String>,
}

/// ASSIGN-3: chosen messages, to chosen staff, with an optional comment, as a new team
/// conversation whose first message holds copies of them (attachments copied in S3, under
/// the new conversation). The original is unchanged.
pub async fn forward(
    app: &App,
    ctx: &RequestCtx,
    conversation_id: &str,
    req: ForwardRequest,
) -> Result<Created<ThreadStarted>> {
    let caller = &ctx.caller;
    let p = &caller.practice_id;
    let conversation_id = crate::ops::conversation_id(conversation_id)?;
    let (original, messages) = crate::ops::visible_thread(app, caller, &conversation_id).await?;
    if !caller.is_staff() {
        return Err(Error::Forbidden("only staff may forward messages".into()));
    }
    if req.message_ids.is_empty() || req.message_ids.len() > 20 {
        return Err(Error::invalid("messageIds", "choose 1 to 20 messages"));
    }
    let mut chosen = Vec::new();
    for raw in &req.message_ids {
        let id = MessageId::parse("messageIds", raw)?;
        let m = messages
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| Error::invalid("messageIds", "a message is not in this conversation"))?;
        if !chosen.iter().any(|c: &&Message| c.id == m.id) {
            chosen.push(m);
        }
    }
    chosen.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    let recipients = parse_recipients("recipients", &req.recipients)?;
    if recipients.is_empty() {
        return Err(Error::invalid("recipients", "forward to at least one staff user or workgroup"));
    }
    let dir = app.store.directory(p).await?.ok_or(Error::Unauthenticated)?;
    let me = active_staff(&dir, caller)?;
    let participants = participants_with(&me.id, &dir, &recipients)?;

    let renderer = Renderer::new(&app.envelope, caller, ctx.now);
    let names = |id: &str| dir.staff_member(id).map(|s| s.display_name());
    let (original_view, patient) = renderer.conversation(&original, &names).await?;
    let mut text = req.comment.as_deref().map(str::trim).unwrap_or("").to_string();
    let mut copies = Vec::new();
    for m in &chosen {
        let view = renderer.message(m, patient.as_ref(), crate::domain::DeliveryStatus::Sent).await?;
        text.push_str(&format!(
            "\n\n---------- Forwarded message ----------\nFrom: {}\nDate: {}\nConversation: {}\n\n{}",
            view.sender.display_name, view.created_at, original_view.subject, view.body
        ));
        for a in &m.attachments {
            copies.push(a.clone());
        }
    }
    let body = Body::parse(Some(text.trim()), dir.practice.settings.body_limits())?;
    let subject = Subject::parse(Some(
        &format!("Fwd: {}", original_view.subject).chars().take(Subject::MAX_CHARS).collect::<String>(),
    ))?;

    // Copies of the attachments: new records over server-side copies of the objects, ready
    // to attach to the new message (an abandoned copy is swept like any unattached upload).
    let mut attachments = Vec::new();
    for a in &copies {
        let id = AttachmentId::new();
        let name = renderer.open(&a.id, "fileName", &a.file_name).await?;
        let Some(source) = app.store.attachment(p, &a.id).await? else { continue };
        let object_key = format!("unattached/{p}/{id}");
        app.blobs.copy(&source.object_key, &object_key).await?;
        attachments.push((
            place::attachment(p, &id, None),
            Attachment {
                id: id.clone(),
                practice_id: p.clone(),
                conversation_id: None,
                uploader_id: caller.user_id.clone(),
                file_name: Sealed(
                    app.envelope.seal_str(Binding { practice_id: p, record: &id, field: "fileName" }, &name).await?,
                ),
                content_type: a.content_type.clone(),
                size: a.size,
                status: crate::domain::AttachmentStatus::Ready,
                internal: false,
                object_key,
                created_at: ctx.now,
                first_patient_download_at: None,
            },
        ));
    }
    app.store.put_batch(&attachments).await?;
    let attachments = attachments.into_iter().map(|(_, a)| a).collect();

    let sender = SenderRef { kind: SenderKind::Staff, id: me.id.clone(), name: Some(me.display_name()), masked: false };
    let thread = NewThread {
        recipients,
        attachments,
        ..NewThread::new(ConversationKind::Team, subject, body, sender, participants)
    };
    start_thread(app, ctx, &dir, thread, None).await
}
