use super::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse("t", s).unwrap()
}

const OPENED: &str = "2026-12-01T09:00:00Z";

fn spent(who: &str, professional: Professional, at: &str, seconds: i32) -> TimeSpent {
    TimeSpent { clinician: UserId::from_stored(who), professional, at: t(at), seconds }
}

fn fine() -> Context<'static> {
    Context { visits: &[], consent: true, evaluative: true }
}

#[test]
fn evisit_2_codes_follow_the_cpt_bands_at_their_boundaries() {
    use Professional::*;
    let table: &[(i32, Professional, Option<&str>)] = &[
        (4 * 60 + 59, EvaluationAndManagement, None),
        (5 * 60, EvaluationAndManagement, Some("99421")),
        (10 * 60 + 59, EvaluationAndManagement, Some("99421")),
        (11 * 60, EvaluationAndManagement, Some("99422")),
        (20 * 60 + 59, EvaluationAndManagement, Some("99422")),
        (21 * 60, EvaluationAndManagement, Some("99423")),
        (90 * 60, EvaluationAndManagement, Some("99423")),
        (4 * 60 + 59, NonPhysician, None),
        (5 * 60, NonPhysician, Some("98970")),
        (11 * 60, NonPhysician, Some("98971")),
        (21 * 60, NonPhysician, Some("98972")),
        (30 * 60, ClinicalStaff, None),
    ];
    for (seconds, professional, code) in table {
        let s = suggest(t(OPENED), &[spent("usr_a", *professional, OPENED, *seconds)], fine());
        assert_eq!(s.suggested_code, *code, "{seconds} s of {professional:?}");
    }
}

#[test]
fn evisit_1_time_of_two_clinicians_adds_up_within_the_window_only() {
    let time = [
        spent("usr_a", Professional::EvaluationAndManagement, "2026-12-01T09:10:00Z", 3 * 60),
        spent("usr_b", Professional::EvaluationAndManagement, "2026-12-04T14:00:00Z", 3 * 60),
        spent("usr_a", Professional::EvaluationAndManagement, "2026-12-07T08:59:00Z", 5 * 60),
        // The window closes seven days after it opened: this is the eighth day.
        spent("usr_b", Professional::EvaluationAndManagement, "2026-12-08T09:00:00Z", 30 * 60),
    ];
    let s = suggest(t(OPENED), &time, fine());
    assert_eq!(s.total_minutes, 11);
    assert_eq!(s.suggested_code, Some("99422"), "3 + 3 + 5 minutes of two clinicians");
    assert_eq!(s.minutes_by_clinician, vec![(UserId::from_stored("usr_a"), 8), (UserId::from_stored("usr_b"), 3)]);
}

#[test]
fn evisit_3_clinical_staff_time_is_left_out_and_flagged() {
    let time = [
        spent("usr_doc", Professional::EvaluationAndManagement, OPENED, 4 * 60),
        spent("usr_rn", Professional::ClinicalStaff, OPENED, 20 * 60),
    ];
    let s = suggest(t(OPENED), &time, fine());
    assert_eq!((s.total_minutes, s.suggested_code), (4, None));
    assert_eq!(s.flags, vec![Flag::ClinicalStaffTime]);
}

#[test]
fn evisit_3_visits_before_and_within_the_window_are_flagged() {
    let time = [spent("usr_a", Professional::EvaluationAndManagement, OPENED, 12 * 60)];
    let on_day_6 = [t("2026-12-07T10:00:00Z")];
    let s = suggest(t(OPENED), &time, Context { visits: &on_day_6, ..fine() });
    assert_eq!(s.flags, vec![Flag::VisitWithin]);
    assert_eq!(s.suggested_code, Some("99422"), "flagged, not withheld: a person decides");
    let three_days_before = [t("2026-11-28T10:00:00Z")];
    assert_eq!(
        suggest(t(OPENED), &time, Context { visits: &three_days_before, ..fine() }).flags,
        vec![Flag::VisitBefore]
    );
    let long_before = [t("2026-11-20T10:00:00Z")];
    assert!(suggest(t(OPENED), &time, Context { visits: &long_before, ..fine() }).flags.is_empty());
}

#[test]
fn evisit_3_missing_consent_and_non_evaluative_messages_are_flagged() {
    let time = [spent("usr_a", Professional::EvaluationAndManagement, OPENED, 6 * 60)];
    let s = suggest(t(OPENED), &time, Context { visits: &[], consent: false, evaluative: false });
    assert_eq!(s.flags, vec![Flag::NoConsent, Flag::NotEvaluative]);
}

#[test]
fn evisit_1_a_correction_by_hand_takes_time_off_its_clinician_only() {
    let time = [
        spent("usr_a", Professional::EvaluationAndManagement, OPENED, 12 * 60),
        spent("usr_b", Professional::EvaluationAndManagement, OPENED, 3 * 60),
        // usr_a left the thread open over lunch: 8 minutes were not care.
        spent("usr_a", Professional::EvaluationAndManagement, "2026-12-01T13:00:00Z", -8 * 60),
    ];
    let s = suggest(t(OPENED), &time, fine());
    assert_eq!(s.minutes_by_clinician, vec![(UserId::from_stored("usr_a"), 4), (UserId::from_stored("usr_b"), 3)]);
    assert_eq!((s.total_minutes, s.suggested_code), (7, Some("99421")));
    // A correction larger than the time leaves nothing, not less than nothing.
    let over = [spent("usr_a", Professional::EvaluationAndManagement, OPENED, -60), time[1].clone()];
    assert_eq!(suggest(t(OPENED), &over, fine()).total_minutes, 3);
}
