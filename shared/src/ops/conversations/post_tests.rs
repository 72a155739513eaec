//! The fan-out and notification rules of `post`, for every kind of message.

use super::*;

const PATIENT: &str = "pat_1";
const PROVIDER: &str = "usr_provider";
const NURSE: &str = "usr_nurse";
const ADMIN: &str = "usr_admin";

fn u(id: &str) -> UserId {
    UserId::from_stored(id)
}

fn sender(kind: SenderKind, id: &str) -> SenderRef {
    SenderRef { kind, id: u(id), name: None, masked: false }
}

/// A conversation of `kind` whose viewers are the three staff users and, for a
/// patient-facing kind, the patient; the provider and the nurse take part.
fn conversation(kind: ConversationKind) -> Conversation {
    let patient = kind.is_patient_facing().then(|| PatientRef {
        id: u(PATIENT),
        first_name: Sealed(Vec::new()),
        last_name: Sealed(Vec::new()),
    });
    let mut viewers = vec![u(PROVIDER), u(NURSE), u(ADMIN)];
    if patient.is_some() {
        viewers.push(u(PATIENT));
    }
    let (practice, id) = (PracticeId::from_stored("prc_1"), ConversationId::from_stored("cnv_1"));
    Conversation {
        id,
        practice_id: practice,
        summary: Summary {
            kind,
            subject: Sealed(Vec::new()),
            patient,
            assignees: Vec::new(),
            assignee_ids: Vec::new(),
            context: None,
            status: ConversationStatus::Open,
            created_at: "2026-12-01T09:00:00.000000Z".parse().unwrap(),
            allow_response: true,
            allow_attachments: true,
        },
        created_by: u(PROVIDER),
        participants: vec![u(PROVIDER), u(NURSE)],
        recipients: Vec::new(),
        assignee_ids: Vec::new(),
        care_team: Vec::new(),
        primary_provider_id: None,
        sms_peer: None,
        viewers,
        patient_portal_access: true,
        assignments: Vec::new(),
        latest: None,
        last_message_at: "2026-12-01T09:00:00.000000Z".parse().unwrap(),
        message_count: 1,
        patient_message_count: 1,
        from_patient_count: 0,
        version: 0,
        reply_clock: None,
        reviewed_at: None,
    }
}

fn message(c: &Conversation, from: SenderRef, internal: bool) -> Message {
    Message {
        id: MessageId::from_stored("msg_1"),
        conversation_id: c.id.clone(),
        sender: from,
        body: Sealed(Vec::new()),
        priority: Priority::Normal,
        internal,
        attachments: Vec::new(),
        created_at: "2026-12-01T10:00:00.000000Z".parse().unwrap(),
        documents: Vec::new(),
        fee_code: None,
        notify_if_unread_hours: None,
        answer_pk: None,
    }
}

/// Every viewer's write of a message, in the order they are written (all of them fit here).
fn fan_out<'a>(
    c: &'a Conversation,
    sender_id: &UserId,
    internal: bool,
    begins: bool,
    markers: &HashMap<UserId, u64>,
) -> Vec<ViewerWrite<'a>> {
    entry_order(c, sender_id, internal)
        .into_iter()
        .map(|viewer| viewer_write(&c.summary, viewer, sender_id, begins, markers.get(viewer).copied()))
        .collect()
}

fn viewers<'a>(writes: &[ViewerWrite<'a>]) -> Vec<&'a str> {
    writes.iter().map(|w| w.viewer.as_str()).collect()
}

fn write<'a, 'b>(writes: &'b [ViewerWrite<'a>], viewer: &str) -> &'b ViewerWrite<'a> {
    writes.iter().find(|w| w.viewer == viewer).expect("the viewer has a write")
}

#[test]
fn inbox_4_a_patient_message_begins_a_conversation_and_a_patient_for_those_who_had_none() {
    let c = conversation(ConversationKind::Patient);
    // The provider already has a conversation about this patient; the others have none.
    let markers = HashMap::from([(u(PROVIDER), 2), (u(NURSE), 0)]);

    let writes = fan_out(&c, &u(PATIENT), false, true, &markers);

    assert_eq!(viewers(&writes), [PATIENT, PROVIDER, NURSE, ADMIN]);
    let provider = write(&writes, PROVIDER);
    assert_eq!(provider.delta, StatsDelta { conversations: 1, messages: 1, unread: 1, patients: 0 });
    assert_eq!(provider.patient_marker, Some(2));
    let admin = write(&writes, ADMIN);
    assert_eq!(admin.delta, StatsDelta { conversations: 1, messages: 1, unread: 1, patients: 1 });
    assert_eq!(admin.patient_marker, Some(0), "no marker read counts as none");
    let patient = write(&writes, PATIENT);
    assert!(patient.is_sender);
    assert_eq!(patient.delta.unread, 0, "the sender's own message is not unread");
}

#[test]
fn compose_2_a_team_conversation_counts_no_patient() {
    let c = conversation(ConversationKind::Team);

    let writes = fan_out(&c, &u(PROVIDER), false, true, &HashMap::new());

    assert_eq!(viewers(&writes), [PROVIDER, NURSE, ADMIN]);
    assert!(writes.iter().all(|w| w.patient_marker.is_none() && w.delta.patients == 0));
    assert_eq!(write(&writes, NURSE).delta, StatsDelta { conversations: 1, messages: 1, unread: 1, patients: 0 });
    assert_eq!(write(&writes, PROVIDER).delta.unread, 0);
}

#[test]
fn conv_5_an_internal_note_reaches_every_viewer_but_the_patient() {
    let c = conversation(ConversationKind::Patient);
    let note = message(&c, sender(SenderKind::Staff, NURSE), true);

    let writes = fan_out(&c, &u(NURSE), true, false, &HashMap::new());
    let notified = outbox(&c, &note).unwrap().recipient_ids;

    assert_eq!(viewers(&writes), [NURSE, PROVIDER, ADMIN]);
    assert!(writes.iter().all(|w| w.delta.conversations == 0 && w.patient_marker.is_none()));
    assert_eq!(notified, [PROVIDER], "participants but the sender; never the patient");
}

#[test]
fn reply_1_a_staff_reply_notifies_the_patient_and_the_other_participants() {
    let c = conversation(ConversationKind::Patient);
    let reply = message(&c, sender(SenderKind::Staff, NURSE), false);

    let writes = fan_out(&c, &u(NURSE), false, false, &HashMap::new());
    let out = outbox(&c, &reply).unwrap();

    assert_eq!(viewers(&writes), [NURSE, PATIENT, PROVIDER, ADMIN]);
    assert_eq!(write(&writes, PATIENT).delta, StatsDelta { messages: 1, unread: 1, ..Default::default() });
    assert_eq!(out.recipient_ids, [PROVIDER, PATIENT], "the admin only views; it is not told");
    assert!(!out.sms_reply);
    assert_eq!(out.expires_at - reply.created_at.as_second(), 7 * 86_400);
}

#[test]
fn compose_6_a_broadcast_copy_is_one_patients_conversation() {
    let mut c = conversation(ConversationKind::Broadcast);
    c.participants = vec![u(PROVIDER)];
    let copy = message(&c, sender(SenderKind::Staff, PROVIDER), false);

    let writes = fan_out(&c, &u(PROVIDER), false, true, &HashMap::new());
    let out = outbox(&c, &copy).unwrap();

    assert_eq!(write(&writes, PATIENT).delta, StatsDelta { conversations: 1, messages: 1, unread: 1, patients: 1 });
    assert_eq!(write(&writes, PROVIDER).delta.unread, 0);
    assert_eq!(out.recipient_ids, [PATIENT]);
}

#[test]
fn notify_4_a_text_from_an_unknown_number_is_unread_for_every_viewer() {
    let mut c = conversation(ConversationKind::Sms);
    c.summary.patient = None;
    c.viewers.retain(|v| v != PATIENT);
    let text = message(&c, sender(SenderKind::Sms, "sms"), false);

    let writes = fan_out(&c, &u("sms"), false, true, &HashMap::new());
    let out = outbox(&c, &text).unwrap();

    assert!(writes.iter().all(|w| !w.is_sender && w.delta.unread == 1 && w.patient_marker.is_none()));
    assert_eq!(out.recipient_ids, [PROVIDER, NURSE]);
    assert!(!out.sms_reply, "a text in is not sent back out");
}

#[test]
fn notify_4_a_staff_reply_to_a_text_goes_out_as_a_text_but_a_note_does_not() {
    let c = conversation(ConversationKind::Sms);

    let reply = outbox(&c, &message(&c, sender(SenderKind::Staff, PROVIDER), false)).unwrap();
    let note = outbox(&c, &message(&c, sender(SenderKind::Staff, PROVIDER), true)).unwrap();

    assert!(reply.sms_reply);
    assert!(!note.sms_reply);
}

#[test]
fn reply_5_an_auto_reply_is_unread_for_everyone_and_begins_nothing() {
    let c = conversation(ConversationKind::Patient);

    let writes = fan_out(&c, &u("auto-reply"), false, false, &HashMap::new());

    assert_eq!(writes.len(), c.viewers.len());
    assert!(writes.iter().all(|w| w.delta == StatsDelta { messages: 1, unread: 1, ..Default::default() }));
}

#[test]
fn notify_2_an_urgent_message_also_reaches_the_care_team_and_role_5_not_a_patient_without_portal() {
    let mut c = conversation(ConversationKind::Patient);
    c.participants = vec![u(PROVIDER)];
    c.care_team = vec![u(NURSE)];
    c.patient_portal_access = false;
    let mut urgent = message(&c, sender(SenderKind::Staff, PROVIDER), false);
    urgent.priority = Priority::Urgent;
    let normal = message(&c, sender(SenderKind::Staff, PROVIDER), false);

    assert_eq!(outbox(&c, &urgent).unwrap().recipient_ids, [NURSE]);
    assert!(outbox(&c, &normal).unwrap().recipient_ids.is_empty());
}

#[test]
fn reply_2_billing_and_reminders_follow_staff_messages_to_a_patient_only() {
    let c = conversation(ConversationKind::Patient);
    let mut billed = message(&c, sender(SenderKind::Staff, PROVIDER), false);
    billed.fee_code = Some("99421".into());
    billed.notify_if_unread_hours = Some(24);
    let mut note = billed.clone();
    note.internal = true;

    let bill = billing(&c, &billed).expect("a billable message is billed");
    let due = reminder(&c, &billed).expect("a reminder is due").due_at;

    assert_eq!((bill.fee_code.as_str(), bill.patient_id.as_str()), ("99421", PATIENT));
    assert_eq!(due.to_string(), "2026-12-02T10:00:00.000000Z");
    assert!(reminder(&c, &note).is_none(), "a patient is not reminded of a note it cannot see");
    assert!(billing(&c, &message(&c, sender(SenderKind::Staff, PROVIDER), false)).is_none());
}

/// A large audience: the sender, the patient and the staff taking part are written with the
/// message; bystanders (here, 150 providers who only may see it) are the ones written late.
#[test]
fn inbox_4_entries_are_written_sender_patient_participants_first() {
    let mut c = conversation(ConversationKind::Patient);
    let bystanders: Vec<UserId> = (0..150).map(|i| u(&format!("usr_p{i:03}"))).collect();
    c.viewers = bystanders.iter().cloned().chain(c.viewers.clone()).collect();

    let order = entry_order(&c, &u(NURSE), false);

    assert_eq!(order.len(), 154);
    assert_eq!(order[..2].iter().map(|v| v.as_str()).collect::<Vec<_>>(), [NURSE, PATIENT]);
    assert_eq!(order[2].as_str(), PROVIDER, "a participant before those who only may see it");
    assert!(order[3..].iter().all(|v| v.as_str() == ADMIN || v.as_str().starts_with("usr_p")));
    assert!(!entry_order(&c, &u(NURSE), true).iter().any(|v| v.as_str() == PATIENT), "a note is not the patient's");
}

/// A transaction holds 100 writes: whatever the audience, a message's own stays within it.
#[test]
fn inbox_4_a_message_transaction_never_passes_its_limit() {
    for (items, counts_patient) in [(3, true), (3, false), (25, true), (40, false)] {
        let room = entries_with_room(items, counts_patient);
        let per_viewer = if counts_patient { 3 } else { 2 };
        assert!(items + room * per_viewer + 8 <= 100, "{items} {counts_patient}");
        assert!(items + (room + 1) * per_viewer + 8 > 100, "as many as fit");
    }
    assert_eq!(entries_with_room(3, false), 44, "a reply: 44 viewers in its own transaction");
    assert_eq!(entries_with_room(200, true), 0, "nothing fits: everyone is written late");
}
