//! Who may see and do what: pure functions, no I/O (ROLE-2, ROLE-3, ROLE-4, ROLE-5,
//! COMPOSE-3). The storage layer materialises `viewers` as inbox entries; `can_see` is the
//! authority every request checks, and a test proves the two agree.

use crate::domain::{Caller, ConversationKind, Role, RoleClass, UserId};

/// The facts about a conversation that visibility depends on.
#[derive(Clone, Debug)]
pub struct ConversationFacts<'a> {
    pub practice_id: &'a str,
    pub kind: ConversationKind,
    pub patient_id: Option<&'a UserId>,
    /// Staff who take part (senders, recipients, members of recipient workgroups).
    pub participants: &'a [UserId],
    /// Staff the conversation is assigned to (workgroups expanded to members).
    pub assignees: &'a [UserId],
    /// Staff assigned to the patient (the patient's care team) when the conversation began.
    pub care_team: &'a [UserId],
    /// The patient's primary provider (COMPOSE-3), who is concerned by every conversation
    /// about its patient.
    pub primary_provider: Option<&'a UserId>,
}

/// How a staff caller relates to a conversation, in the order that decides visibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Participant,
    Assignee,
    PatientAssignedToMe,
    None,
}

pub fn relation(user_id: &UserId, c: &ConversationFacts<'_>) -> Relation {
    let has = |list: &[UserId]| list.contains(user_id);
    if has(c.participants) {
        Relation::Participant
    } else if has(c.assignees) {
        Relation::Assignee
    } else if c.kind.is_patient_facing() && (has(c.care_team) || c.primary_provider == Some(user_id)) {
        Relation::PatientAssignedToMe
    } else {
        Relation::None
    }
}

/// ROLE-2 and ROLE-3: may this caller see this conversation at all?
pub fn can_see(caller: &Caller, c: &ConversationFacts<'_>) -> bool {
    if caller.practice_id != c.practice_id {
        return false;
    }
    let patient_facing = c.kind.is_patient_facing();
    match caller.class() {
        RoleClass::Admin => true,
        RoleClass::Provider => patient_facing || relation(&caller.user_id, c) != Relation::None,
        RoleClass::Staff => relation(&caller.user_id, c) != Relation::None,
        RoleClass::Patient => patient_facing && c.patient_id == Some(&caller.user_id),
    }
}

/// A patient never sees internal notes (ROLE-2, CONV-5).
pub fn can_see_internal(caller: &Caller) -> bool {
    caller.is_staff()
}

/// ROLE-4: only admin and provider class may assign or reassign.
pub fn can_assign(caller: &Caller) -> bool {
    matches!(caller.class(), RoleClass::Admin | RoleClass::Provider)
}

/// The directory as far as routing and fan-out need it.
#[derive(Clone, Debug)]
pub struct StaffMember {
    pub id: UserId,
    pub role: Role,
    pub active: bool,
}

/// Whether the practice's admin and provider classes follow every conversation they may open
/// (an inbox entry each), or only those that concern them: while the practice has at most
/// `limit` active users in those classes (seed 000's small practice, where providers see every
/// patient message). Beyond it, a message would be written into the inbox of every clinician
/// of a group who never opens it; they reach those through the practice-wide view instead.
pub fn class_follows_all(staff: &[StaffMember], limit: u32) -> bool {
    let followers =
        staff.iter().filter(|s| s.active && matches!(s.role.class(), RoleClass::Admin | RoleClass::Provider)).count();
    followers <= limit as usize
}

/// Everyone (staff ids, and the patient id) whose inbox holds an entry for a conversation:
/// every active staff user who may see it while `class_follows_all`, otherwise those it
/// concerns (participants, assignees, the patient's care team). Always a subset of what
/// `can_see` admits; inactive staff keep no entries; visibility is re-checked on read.
pub fn viewers(c: &ConversationFacts<'_>, staff: &[StaffMember], class_follows_all: bool) -> Vec<UserId> {
    let mut out: Vec<UserId> = Vec::new();
    for s in staff.iter().filter(|s| s.active) {
        let caller = Caller {
            practice_id: crate::domain::PracticeId::from_stored(c.practice_id),
            user_id: s.id.clone(),
            role: s.role.clone(),
        };
        let concerned = class_follows_all || relation(&s.id, c) != Relation::None;
        if concerned && can_see(&caller, c) {
            out.push(s.id.clone());
        }
    }
    if c.kind.is_patient_facing() {
        if let Some(p) = c.patient_id {
            out.push(p.clone());
        }
    }
    out
}

/// COMPOSE-3 / ASSIGN-4: a portal message goes to the patient's primary provider when that
/// provider is active; otherwise to every active provider and admin of the practice.
pub fn route_portal_message(primary_provider_id: Option<&UserId>, staff: &[StaffMember]) -> Vec<UserId> {
    let primary = primary_provider_id
        .and_then(|id| staff.iter().find(|s| &s.id == id && s.active && s.role.class() == RoleClass::Provider));
    match primary {
        Some(p) => vec![p.id.clone()],
        None => staff
            .iter()
            .filter(|s| s.active && matches!(s.role.class(), RoleClass::Provider | RoleClass::Admin))
            .map(|s| s.id.clone())
            .collect(),
    }
}

/// ROLE-5: an inactive patient may still write to the billing and front-office workgroups.
pub fn inactive_patient_may_write_to(workgroup_name: &str) -> bool {
    let name: String = workgroup_name.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    name == "billing" || name == "frontoffice" || name == "frontdesk"
}

/// ACCT-3: what a request's second factor allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// Go on.
    Satisfied,
    /// The token comes from a sign-in before the factor was set up: the password alone.
    SignInAgain,
    /// The practice requires a factor this user has not set up; only setting it up is open.
    SetUpFirst,
}

/// `enrolled_at` and `signed_in_at` in epoch seconds; `enrolling` for the routes that set the
/// factor up. A user who set one up needs it whatever the practice requires: Cognito asks
/// for it at every sign-in from then on, and an older token did not pass that test.
pub fn second_factor(
    required: bool,
    enrolled_at: Option<i64>,
    signed_in_at: Option<i64>,
    enrolling: bool,
) -> SecondFactor {
    match enrolled_at {
        // Tokens carry whole seconds: one from the very second of the set-up may predate it.
        Some(at) if signed_in_at.is_none_or(|t| t <= at) => SecondFactor::SignInAgain,
        Some(_) => SecondFactor::Satisfied,
        None if required && !enrolling => SecondFactor::SetUpFirst,
        None => SecondFactor::Satisfied,
    }
}

#[cfg(test)]
mod tests {
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
        for kind in
            [ConversationKind::Patient, ConversationKind::Team, ConversationKind::Broadcast, ConversationKind::Sms]
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
        let m =
            |id: &str, role: &str, active: bool| StaffMember { id: u(id), role: Role::parse(role).unwrap(), active };
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
}
