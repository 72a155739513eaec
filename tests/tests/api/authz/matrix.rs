//! The matrix: who calls, which target, what each route needs, and the outcome expected.

use super::*;

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Who {
    NoToken,
    Expired,
    BadSignature,
    Deactivated,
    OtherPracticeAdmin,
    John,
    Biller,
    FrontDesk,
    Nurse,
    Doctor2,
    Manager,
    Admin,
    Jane,
    /// Last: the author, whose allowed deletes end the targets' lives.
    Doctor,
}

pub(super) const EVERYONE: [Who; 14] = [
    Who::NoToken,
    Who::Expired,
    Who::BadSignature,
    Who::Deactivated,
    Who::OtherPracticeAdmin,
    Who::John,
    Who::Biller,
    Who::FrontDesk,
    Who::Nurse,
    Who::Doctor2,
    Who::Manager,
    Who::Admin,
    Who::Jane,
    Who::Doctor,
];

impl Who {
    fn staff(self) -> bool {
        !matches!(self, Who::John | Who::Jane) && self.authenticated()
    }
    fn admin_class(self) -> bool {
        matches!(self, Who::Admin | Who::Manager | Who::OtherPracticeAdmin)
    }
    fn assigns(self) -> bool {
        self.admin_class() || matches!(self, Who::Doctor | Who::Doctor2)
    }
    fn authenticated(self) -> bool {
        !matches!(self, Who::NoToken | Who::Expired | Who::BadSignature | Who::Deactivated)
    }
}

/// What a target is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Target {
    /// No id in the path.
    None,
    /// The doctor's conversation with Jane (and its message, attachment).
    PatientConversation,
    /// A team conversation of the doctor and the nurse.
    TeamConversation,
    /// The other practice's conversation.
    OtherPractice,
    /// The doctor's draft / the task the doctor gave the nurse / the admin's practice-wide reply.
    Own,
}

impl Target {
    fn visible_to(self, who: Who) -> bool {
        match self {
            Target::None => true,
            Target::PatientConversation => {
                matches!(who, Who::Admin | Who::Manager | Who::Doctor | Who::Doctor2 | Who::Nurse | Who::Jane)
            }
            Target::TeamConversation => matches!(who, Who::Admin | Who::Manager | Who::Doctor | Who::Nurse),
            Target::OtherPractice => who == Who::OtherPracticeAdmin,
            Target::Own => unreachable!("depends on the route"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Need {
    Anyone,
    Staff,
    AdminClass,
    Assigner,
    /// Only the staff member who wrote it (the doctor).
    Author,
    /// Physicians and other E/M professionals (EVISIT-1).
    Provider,
    /// Staff who care for patients: providers and nurses (EVISIT-1 time).
    Clinician,
    /// The patient (SLA-2's "never mind").
    Patient,
}

impl Need {
    fn allows(self, who: Who, target: Target) -> bool {
        match self {
            Need::Anyone => true,
            Need::Staff => who.staff(),
            Need::AdminClass => who.admin_class(),
            Need::Assigner => who.assigns(),
            Need::Provider => matches!(who, Who::Doctor | Who::Doctor2),
            Need::Clinician => matches!(who, Who::Doctor | Who::Doctor2 | Who::Nurse),
            Need::Patient => matches!(who, Who::Jane | Who::John),
            // The doctor wrote this practice's targets; the other admin wrote its own.
            Need::Author => match target {
                Target::OtherPractice => who == Who::OtherPracticeAdmin,
                _ => who == Who::Doctor,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Unauthenticated,
    Hidden,
    Forbidden,
    /// Past authorization: any answer but 401, 403, 404 and 5xx (a 409 or 422 is the action's
    /// own rule speaking).
    Allowed,
}

pub(super) fn outcome_of(status: StatusCode) -> Option<Outcome> {
    match status.as_u16() {
        401 => Some(Outcome::Unauthenticated),
        404 => Some(Outcome::Hidden),
        403 => Some(Outcome::Forbidden),
        s if s >= 500 => None,
        _ => Some(Outcome::Allowed),
    }
}

pub(super) struct Route {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    pub(super) need: Need,
    /// The role is checked before the target is looked up (a patient gets 403 on any id).
    pub(super) role_first: bool,
    /// Ids: conversation targets, or the route's own kind of thing.
    pub(super) targets: &'static [Target],
    /// Deletes or consumes its target: run after every other route.
    pub(super) destructive: bool,
}

pub(super) const CONVERSATIONS: &[Target] =
    &[Target::PatientConversation, Target::TeamConversation, Target::OtherPractice];

pub(super) const NONE: &[Target] = &[Target::None];

pub(super) const OWN: &[Target] = &[Target::Own, Target::OtherPractice];

pub(super) fn route(method: &'static str, path: &'static str, need: Need, targets: &'static [Target]) -> Route {
    Route { method, path, need, role_first: false, targets, destructive: false }
}

pub(super) fn matrix() -> Vec<Route> {
    use Need::*;
    let mut r = vec![
        route("POST", "/conversations", Anyone, NONE),
        route("POST", "/conversations/{id}/messages", Anyone, CONVERSATIONS),
        route("GET", "/inbox", Anyone, NONE),
        route("GET", "/inbox/stats", Anyone, NONE),
        route("GET", "/conversations/{id}", Anyone, CONVERSATIONS),
        route("POST", "/conversations/{id}/assign", Assigner, CONVERSATIONS),
        route("PUT", "/conversations/{id}/state", Anyone, CONVERSATIONS),
        route("POST", "/attachments", Anyone, NONE),
        route("GET", "/attachments/{id}", Anyone, CONVERSATIONS),
        route("POST", "/staff", AdminClass, NONE),
        route("POST", "/patients", AdminClass, NONE),
        route("POST", "/workgroups", AdminClass, NONE),
        route("GET", "/patients", Staff, NONE),
        route("GET", "/staff", Staff, NONE),
        route("GET", "/workgroups", Staff, NONE),
        route("POST", "/drafts", Anyone, NONE),
        route("GET", "/drafts", Anyone, NONE),
        route("GET", "/drafts/{id}", Anyone, OWN),
        route("PUT", "/drafts/{id}", Anyone, OWN),
        route("POST", "/conversations/{id}/close", Staff, CONVERSATIONS),
        route("POST", "/conversations/{id}/reopen", Staff, CONVERSATIONS),
        route("GET", "/settings", Staff, NONE),
        route("PUT", "/settings", AdminClass, NONE),
        route("GET", "/me/out-of-office", Staff, NONE),
        route("PUT", "/me/out-of-office", Staff, NONE),
        route("GET", "/me/notifications", Anyone, NONE),
        route("PUT", "/me/notifications", Anyone, NONE),
        route("POST", "/me/notifications/verification", Anyone, NONE),
        route("GET", "/me/totp", Anyone, NONE),
        route("POST", "/me/totp", Anyone, NONE),
        route("GET", "/portal/banner", Anyone, NONE),
        route("GET", "/conversations/{id}/export", Staff, CONVERSATIONS),
        route("POST", "/conversations/{id}/messages/{messageId}/tasks", Staff, CONVERSATIONS),
        route("GET", "/tasks", Staff, NONE),
        route("GET", "/saved-replies", Staff, NONE),
        route("POST", "/saved-replies", Staff, NONE),
        route("POST", "/conversations/{id}/forward", Staff, CONVERSATIONS),
        route("POST", "/broadcasts", Staff, NONE),
        route("GET", "/reports/billing", AdminClass, NONE),
        route("GET", "/reports/response-times", AdminClass, NONE),
        route("GET", "/audit", AdminClass, NONE),
        route("GET", "/audit/verification", AdminClass, NONE),
    ];
    r.push(Route { role_first: true, ..route("PATCH", "/tasks/{id}", Staff, OWN) });
    r.push(Route { role_first: true, ..route("POST", "/conversations/{id}/evisit", Provider, CONVERSATIONS) });
    r.push(Route { role_first: true, ..route("POST", "/conversations/{id}/evisit/time", Clinician, CONVERSATIONS) });
    r.push(Route { role_first: true, ..route("GET", "/conversations/{id}/evisit", Staff, CONVERSATIONS) });
    r.push(Route { role_first: true, ..route("PATCH", "/conversations/{id}/evisit", Provider, CONVERSATIONS) });
    r.push(Route { role_first: true, ..route("POST", "/conversations/{id}/withdraw", Patient, CONVERSATIONS) });
    r.push(Route { role_first: true, ..route("POST", "/saved-replies/{id}/render", Staff, OWN) });
    r.push(Route { destructive: true, ..route("POST", "/drafts/{id}/send", Anyone, OWN) });
    r.push(Route { destructive: true, ..route("DELETE", "/drafts/{id}", Anyone, OWN) });
    r.push(Route {
        destructive: true,
        ..route("DELETE", "/conversations/{id}/messages/{messageId}", Author, CONVERSATIONS)
    });
    r.push(Route { destructive: true, ..route("DELETE", "/conversations/{id}", Author, CONVERSATIONS) });
    r
}

/// Who may see a route's `Own` target: the doctor's drafts are the doctor's; the task the
/// doctor gave the nurse is theirs and the admin class's; practice-wide saved replies are every
/// staff member's.
pub(super) fn own_visible(path: &str, who: Who) -> bool {
    if path.starts_with("/drafts/") {
        who == Who::Doctor
    } else if path.starts_with("/tasks/") {
        matches!(who, Who::Doctor | Who::Nurse | Who::Admin | Who::Manager)
    } else {
        // Rendering a practice-wide reply into the patient conversation: whoever sees it.
        who.staff() && Target::PatientConversation.visible_to(who)
    }
}

pub(super) fn expected(r: &Route, who: Who, target: Target) -> Outcome {
    if !who.authenticated() {
        return Outcome::Unauthenticated;
    }
    if r.role_first && !r.need.allows(who, target) {
        return Outcome::Forbidden;
    }
    let visible = match target {
        Target::Own => own_visible(r.path, who),
        t => t.visible_to(who),
    };
    if !visible {
        return Outcome::Hidden;
    }
    if r.need.allows(who, target) {
        Outcome::Allowed
    } else {
        Outcome::Forbidden
    }
}
