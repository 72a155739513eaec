use super::*;

const PRACTICE: &str = "prc_a";
const OTHER: &str = "prc_b";

fn u(id: &str) -> UserId {
    UserId::from_stored(id)
}

fn caller(practice: &str, role: &str, id: &str) -> Caller {
    Caller {
        practice_id: crate::domain::PracticeId::from_stored(practice),
        user_id: u(id),
        role: Role::parse(role).unwrap(),
    }
}

/// ROLE-2 and ROLE-3: every role class × conversation kind × relation × practice.
#[test]
fn role_2_role_3_visibility_table() {
    let pat = u("pat_1");
    let me = u("usr_me");
    let mine = vec![me.clone()];
    let none: Vec<UserId> = vec![];
    // (relation, participants, assignees, staff assigned to the patient)
    type Relation<'a> = (&'a str, &'a [UserId], &'a [UserId], &'a [UserId]);
    let relations: [Relation; 4] = [
        ("participant", &mine, &none, &none),
        ("assignee", &none, &mine, &none),
        ("patient-assigned-to-me", &none, &none, &mine),
        ("none", &none, &none, &none),
    ];
    // (role, kind, relation) -> visible in the same practice
    let expected = |class: &str, kind: ConversationKind, rel: &str| -> bool {
        let patient_facing = kind != ConversationKind::Team;
        match class {
            "admin" => true,
            "provider" => patient_facing || rel == "participant" || rel == "assignee",
            "staff" => match rel {
                "participant" | "assignee" => true,
                "patient-assigned-to-me" => patient_facing,
                _ => false,
            },
            _ => unreachable!(),
        }
    };
    let mut cases = 0;
    for (role, class) in [
        ("admin", "admin"),
        ("practice_manager", "admin"),
        ("physician", "provider"),
        ("nurse_practitioner", "provider"),
        ("physician_assistant", "provider"),
        ("nurse", "staff"),
        ("front_desk", "staff"),
        ("biller", "staff"),
    ] {
        for kind in
            [ConversationKind::Patient, ConversationKind::Team, ConversationKind::Broadcast, ConversationKind::Sms]
        {
            for (rel, participants, assignees, care_team) in relations {
                let facts = ConversationFacts {
                    practice_id: PRACTICE,
                    kind,
                    patient_id: if kind == ConversationKind::Team { None } else { Some(&pat) },
                    participants,
                    assignees,
                    care_team,
                    primary_provider: None,
                };
                let same = can_see(&caller(PRACTICE, role, me.as_str()), &facts);
                assert_eq!(same, expected(class, kind, rel), "{role} {kind:?} {rel}");
                let other = can_see(&caller(OTHER, role, me.as_str()), &facts);
                assert!(!other, "ROLE-3: {role} of another practice sees {kind:?} {rel}");
                cases += 2;
            }
        }
    }
    // Patients: own patient-facing conversations only; never team; never another's.
    for kind in [ConversationKind::Patient, ConversationKind::Team, ConversationKind::Broadcast, ConversationKind::Sms]
    {
        let facts = ConversationFacts {
            practice_id: PRACTICE,
            kind,
            patient_id: Some(&pat),
            participants: &none,
            assignees: &none,
            care_team: &none,
            primary_provider: None,
        };
        assert_eq!(can_see(&caller(PRACTICE, "patient", "pat_1"), &facts), kind != ConversationKind::Team);
        assert!(!can_see(&caller(PRACTICE, "patient", "pat_2"), &facts));
        assert!(!can_see(&caller(OTHER, "patient", "pat_1"), &facts));
        cases += 3;
    }
    assert!(cases >= 200);
}

#[test]
fn role_2_patients_never_see_internal_notes() {
    assert!(!can_see_internal(&caller(PRACTICE, "patient", "pat_1")));
    assert!(can_see_internal(&caller(PRACTICE, "front_desk", "usr_1")));
}

#[test]
fn role_4_only_admin_and_provider_class_assign() {
    for (role, allowed) in [
        ("admin", true),
        ("practice_manager", true),
        ("physician", true),
        ("nurse_practitioner", true),
        ("physician_assistant", true),
        ("nurse", false),
        ("front_desk", false),
        ("biller", false),
        ("patient", false),
    ] {
        assert_eq!(can_assign(&caller(PRACTICE, role, "x")), allowed, "{role}");
    }
}

fn staff() -> Vec<StaffMember> {
    let m = |id: &str, role: &str, active: bool| StaffMember { id: u(id), role: Role::parse(role).unwrap(), active };
    vec![
        m("usr_admin", "admin", true),
        m("usr_pm", "practice_manager", true),
        m("usr_doc1", "physician", true),
        m("usr_doc2", "physician", true),
        m("usr_gone", "physician", false),
        m("usr_nurse", "nurse", true),
        m("usr_desk", "front_desk", true),
    ]
}

#[test]
fn role_5_inactive_patients_reach_billing_and_front_office_only() {
    assert!(inactive_patient_may_write_to("Billing"));
    assert!(inactive_patient_may_write_to("Front Office"));
    assert!(!inactive_patient_may_write_to("Nursing"));
}

#[test]
fn compose_3_portal_message_goes_to_primary_provider() {
    assert_eq!(route_portal_message(Some(&u("usr_doc2")), &staff()), vec![u("usr_doc2")]);
}

#[test]
fn assign_4_without_active_primary_goes_to_every_active_provider_and_admin() {
    let expected: Vec<UserId> = ["usr_admin", "usr_pm", "usr_doc1", "usr_doc2"].map(u).to_vec();
    assert_eq!(route_portal_message(None, &staff()), expected);
    assert_eq!(route_portal_message(Some(&u("usr_gone")), &staff()), expected, "inactive primary");
    assert_eq!(route_portal_message(Some(&u("usr_nurse")), &staff()), expected, "primary must be a provider");
}

fn facts_of<'a>(
    kind: ConversationKind,
    pat: &'a UserId,
    participants: &'a [UserId],
    care: &'a [UserId],
) -> ConversationFacts<'a> {
    ConversationFacts {
        practice_id: PRACTICE,
        kind,
        patient_id: if kind == ConversationKind::Team { None } else { Some(pat) },
        participants,
        assignees: &[],
        care_team: care,
        primary_provider: None,
    }
}

/// Below the threshold the fan-out set is exactly the set `can_see` admits, so inbox
/// entries and the authorization check never disagree (seed 000).
#[test]
fn role_2_viewers_match_can_see_while_the_classes_follow_all() {
    let (pat, participants, care) = (u("pat_1"), vec![u("usr_desk")], vec![u("usr_nurse")]);
    for kind in [ConversationKind::Patient, ConversationKind::Team] {
        let facts = facts_of(kind, &pat, &participants, &care);
        let v = viewers(&facts, &staff(), true);
        for s in staff() {
            let sees = s.active && can_see(&caller(PRACTICE, s.role.as_str(), s.id.as_str()), &facts);
            assert_eq!(v.contains(&s.id), sees, "{kind:?} {}", s.id);
        }
        assert_eq!(v.contains(&pat), kind == ConversationKind::Patient);
    }
}

/// Beyond it, admins and providers hold entries only for what concerns them, and never
/// for anything they may not open.
#[test]
fn role_2_beyond_the_threshold_inboxes_hold_what_concerns_the_user() {
    let (pat, participants, care) = (u("pat_1"), vec![u("usr_desk"), u("usr_doc2")], vec![u("usr_nurse")]);
    let facts = facts_of(ConversationKind::Patient, &pat, &participants, &care);
    assert_eq!(viewers(&facts, &staff(), false), ["usr_doc2", "usr_nurse", "usr_desk", "pat_1"].map(u).to_vec());
    let doc1 = u("usr_doc1");
    let of_doc1 = ConversationFacts { primary_provider: Some(&doc1), ..facts.clone() };
    assert!(viewers(&of_doc1, &staff(), false).contains(&doc1), "the primary provider is concerned (NOTIFY-2)");
    let team = facts_of(ConversationKind::Team, &pat, &participants, &care);
    assert_eq!(
        viewers(&team, &staff(), false),
        ["usr_doc2", "usr_desk"].map(u).to_vec(),
        "no care team in a team thread"
    );
    for s in staff() {
        let c = caller(PRACTICE, s.role.as_str(), s.id.as_str());
        if viewers(&facts, &staff(), false).contains(&s.id) {
            assert!(can_see(&c, &facts), "{}", s.id);
        }
    }
}

/// The classes follow everything up to the limit of active admin- and provider-class
/// users, counted without the inactive ones and without other staff.
#[test]
fn role_2_the_classes_follow_all_up_to_the_practice_limit() {
    // Four active followers: the admin, the practice manager and two physicians.
    assert!(class_follows_all(&staff(), 4));
    assert!(!class_follows_all(&staff(), 3));
    assert!(!class_follows_all(&staff(), 0));
}

#[test]
fn acct_3_a_required_factor_must_be_set_up_before_anything_else() {
    assert_eq!(second_factor(true, None, Some(100), false), SecondFactor::SetUpFirst);
    assert_eq!(second_factor(true, None, Some(100), true), SecondFactor::Satisfied, "setting it up is open");
    assert_eq!(second_factor(false, None, Some(100), false), SecondFactor::Satisfied);
}

#[test]
fn acct_3_a_token_from_before_the_factor_must_sign_in_again() {
    for required in [true, false] {
        assert_eq!(second_factor(required, Some(200), Some(199), false), SecondFactor::SignInAgain);
        assert_eq!(second_factor(required, Some(200), None, false), SecondFactor::SignInAgain);
        assert_eq!(second_factor(required, Some(200), Some(200), false), SecondFactor::SignInAgain);
        assert_eq!(second_factor(required, Some(200), Some(201), false), SecondFactor::Satisfied);
        assert_eq!(second_factor(required, Some(200), Some(201), true), SecondFactor::Satisfied);
    }
}

#[test]
fn acct_3_the_enrolment_condition_admits_exactly_what_second_factor_admits() {
    for required in [false, true] {
        for signed_in_at in [None, Some(199), Some(200), Some(201)] {
            let condition = enrolment_condition(required, signed_in_at);
            for enrolled_at in [None, Some(150), Some(199), Some(200), Some(201), Some(250)] {
                let satisfied = second_factor(required, enrolled_at, signed_in_at, false) == SecondFactor::Satisfied;
                assert_eq!(
                    condition.is_some_and(|c| c.holds(enrolled_at)),
                    satisfied,
                    "required {required}, signed in {signed_in_at:?}, enrolled {enrolled_at:?}: {condition:?}"
                );
            }
        }
    }
    assert_eq!(enrolment_condition(true, None), None, "no token without a sign-in time passes a required factor");
}
