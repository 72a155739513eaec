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

/// ACCT-3 as a condition on the caller's record, for a request that checks its caller in its
/// transaction rather than by reading the record first: what the record's `totpEnrolledAt`
/// must be for `second_factor(required, enrolled_at, signed_in_at, false)` to be `Satisfied`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrolmentCondition {
    /// Set up before the sign-in (`signed_in_at`, epoch seconds).
    EnrolledBefore(i64),
    /// Not set up, or set up before the sign-in.
    NoneOrEnrolledBefore(i64),
    /// Not set up (the token carries no sign-in time).
    NotEnrolled,
}

/// `None` where no record passes: the practice requires a factor and the token carries no
/// sign-in time.
pub fn enrolment_condition(required: bool, signed_in_at: Option<i64>) -> Option<EnrolmentCondition> {
    match (required, signed_in_at) {
        (true, Some(t)) => Some(EnrolmentCondition::EnrolledBefore(t)),
        (true, None) => None,
        (false, Some(t)) => Some(EnrolmentCondition::NoneOrEnrolledBefore(t)),
        (false, None) => Some(EnrolmentCondition::NotEnrolled),
    }
}

impl EnrolmentCondition {
    /// Whether a record set up at `enrolled_at` (epoch seconds, as `second_factor` takes it)
    /// meets the condition. Whole seconds: a factor set up at 200.4 is "before" 201, not 200.
    pub fn holds(self, enrolled_at: Option<i64>) -> bool {
        match (self, enrolled_at) {
            (EnrolmentCondition::EnrolledBefore(t) | EnrolmentCondition::NoneOrEnrolledBefore(t), Some(at)) => at < t,
            (EnrolmentCondition::NoneOrEnrolledBefore(_) | EnrolmentCondition::NotEnrolled, None) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
