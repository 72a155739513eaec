//! The directory's answers: staff users, patients' records and workgroups, as the
//! administration routes and the staff's pickers show them.

use crate::domain::{Patient, Staff, Workgroup};
use crate::domain::{Role, UserId};
use crate::views::PatientView;
use serde::Serialize;

/// A staff user as POST /staff and PATCH /staff/{id} answer it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffView {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub email: String,
    pub phone: String,
    pub active: bool,
    pub portal_messaging: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct StaffAnswer {
    pub staff: StaffView,
}

impl StaffAnswer {
    pub fn of(s: &Staff) -> StaffAnswer {
        StaffAnswer {
            staff: StaffView {
                id: s.id.clone(),
                first_name: s.first_name.clone(),
                last_name: s.last_name.clone(),
                role: s.role.clone(),
                email: s.email.clone(),
                phone: s.phone.clone(),
                active: s.active,
                portal_messaging: s.portal_messaging,
            },
        }
    }
}

/// A patient's directory record as POST /patients and PATCH /patients/{id} answer it, its
/// names and contact details opened.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientRecordView {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub primary_provider_id: Option<UserId>,
    pub assigned_staff_ids: Vec<UserId>,
    pub portal_access: bool,
    pub active: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PatientAnswer {
    pub patient: PatientRecordView,
}

impl PatientAnswer {
    pub fn of(p: &Patient, first: String, last: String, phone: Option<String>, email: Option<String>) -> Self {
        PatientAnswer {
            patient: PatientRecordView {
                id: p.id.clone(),
                first_name: first,
                last_name: last,
                phone,
                email,
                primary_provider_id: p.primary_provider_id.clone(),
                assigned_staff_ids: p.assigned_staff_ids.clone(),
                portal_access: p.portal_access,
                active: p.active,
            },
        }
    }
}

/// POST /staff/{id}/invitation and POST /patients/{id}/invitation.
#[derive(Clone, Debug, Serialize)]
pub struct Invited {
    pub invited: UserId,
}

/// POST /workgroups.
#[derive(Clone, Debug, Serialize)]
pub struct WorkgroupAnswer {
    pub workgroup: WorkgroupView,
}

/// A workgroup with its members (ROLE-6).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkgroupView {
    pub id: crate::domain::WorkgroupId,
    pub name: String,
    pub member_ids: Vec<UserId>,
}

impl WorkgroupView {
    pub fn of(w: &Workgroup) -> WorkgroupView {
        WorkgroupView { id: w.id.clone(), name: w.name.clone(), member_ids: w.member_ids.clone() }
    }
}

/// GET /workgroups.
#[derive(Clone, Debug, Serialize)]
pub struct WorkgroupList {
    pub items: Vec<WorkgroupView>,
}

/// GET /staff: names and roles only (emails and phones stay out of the list).
#[derive(Clone, Debug, Serialize)]
pub struct StaffList {
    pub items: Vec<StaffEntry>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffEntry {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    /// Only in the administrators' full list (`?include=inactive`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub contact: Option<StaffContact>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StaffContact {
    pub email: String,
    pub phone: String,
    pub active: bool,
}

/// GET /patients?q=: the patients whose names match what was typed.
#[derive(Clone, Debug, Serialize)]
pub struct PatientList {
    pub items: Vec<PatientView>,
}
