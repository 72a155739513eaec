use super::*;

fn weekdays_9_to_5() -> BusinessHours {
    BusinessHours { days: vec![1, 2, 3, 4, 5], open: "09:00".into(), close: "17:00".into() }
}

fn chicago(holidays: &[&str]) -> Calendar {
    let holidays: Vec<String> = holidays.iter().map(|d| d.to_string()).collect();
    Calendar::new("America/Chicago", Some(&weekdays_9_to_5()), &holidays).unwrap()
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse("t", s).unwrap()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

#[test]
fn sla_1_a_target_counts_only_open_hours_of_the_same_day() {
    // Monday 2026-11-23 10:00 CST + 4 business hours = 14:00 CST.
    let due = chicago(&[]).add(t("2026-11-23T10:00:00-06:00"), hours(4)).unwrap();
    assert_eq!(due, t("2026-11-23T14:00:00-06:00"));
}

#[test]
fn sla_2_the_clock_pauses_over_the_weekend() {
    // Friday 16:00: one hour on Friday, three on Monday from 09:00.
    let due = chicago(&[]).add(t("2026-11-20T16:00:00-06:00"), hours(4)).unwrap();
    assert_eq!(due, t("2026-11-23T12:00:00-06:00"));
}

#[test]
fn sla_2_a_message_after_hours_starts_the_clock_at_the_next_opening() {
    let cal = chicago(&[]);
    // Monday 20:00: the clock starts Tuesday 09:00.
    assert_eq!(cal.add(t("2026-11-23T20:00:00-06:00"), hours(4)).unwrap(), t("2026-11-24T13:00:00-06:00"));
    // Saturday: two business days (sixteen open hours) end Tuesday at closing time.
    let two_days = BusinessSpan::days(2).unwrap().duration(cal.day_length());
    assert_eq!(cal.add(t("2026-11-28T11:00:00-06:00"), two_days).unwrap(), t("2026-12-01T17:00:00-06:00"));
}

#[test]
fn sla_1_holidays_are_closed_whatever_the_weekday() {
    // Thanksgiving, Thursday 2026-11-26: Wednesday 15:00 + 4h runs on to Friday 11:00.
    let cal = chicago(&["2026-11-26"]);
    assert_eq!(cal.add(t("2026-11-25T15:00:00-06:00"), hours(4)).unwrap(), t("2026-11-27T11:00:00-06:00"));
    // Without the holiday it would be Thursday 11:00.
    assert_eq!(chicago(&[]).add(t("2026-11-25T15:00:00-06:00"), hours(4)).unwrap(), t("2026-11-26T11:00:00-06:00"));
}

#[test]
fn sla_2_hours_follow_the_wall_clock_across_a_dst_change() {
    // Friday 2026-03-06 16:00 CST (UTC-6) + 4h: Monday 2026-03-09 12:00 CDT (UTC-5), after
    // the spring change of Sunday 2026-03-08.
    let due = chicago(&[]).add(t("2026-03-06T16:00:00-06:00"), hours(4)).unwrap();
    assert_eq!(due, t("2026-03-09T12:00:00-05:00"));
    // And back in autumn: Friday 2026-10-30 16:00 CDT + 4h = Monday 2026-11-02 12:00 CST.
    let due = chicago(&[]).add(t("2026-10-30T16:00:00-05:00"), hours(4)).unwrap();
    assert_eq!(due, t("2026-11-02T12:00:00-06:00"));
}

/// A line open midnight to 06:00 every day, whose hours contain the DST change itself.
fn night_line() -> Calendar {
    let hours = BusinessHours { days: vec![1, 2, 3, 4, 5, 6, 7], open: "00:00".into(), close: "06:00".into() };
    Calendar::new("America/New_York", Some(&hours), &[]).unwrap()
}

#[test]
fn sla_2_a_day_whose_hours_lose_an_hour_to_dst_counts_five_hours() {
    // Sunday 2026-03-08, 02:00 → 03:00: the six-hour opening is five hours long.
    let cal = night_line();
    let (open, close) = (t("2026-03-08T00:00:00-05:00"), t("2026-03-08T06:00:00-04:00"));
    assert_eq!(cal.elapsed(open, close), hours(5));
    // So six business hours from Sunday's opening end at Monday 01:00.
    assert_eq!(cal.add(open, hours(6)).unwrap(), t("2026-03-09T01:00:00-04:00"));
}

#[test]
fn sla_2_a_day_whose_hours_gain_an_hour_to_dst_counts_seven_hours() {
    // Sunday 2026-11-01, 02:00 → 01:00: the opening is seven hours long.
    let cal = night_line();
    let (open, close) = (t("2026-11-01T00:00:00-04:00"), t("2026-11-01T06:00:00-05:00"));
    assert_eq!(cal.elapsed(open, close), hours(7));
    assert_eq!(cal.add(open, hours(6)).unwrap(), t("2026-11-01T05:00:00-05:00"));
}

#[test]
fn sla_5_elapsed_business_time_undoes_add() {
    let cal = chicago(&["2026-11-26"]);
    for start in ["2026-11-20T16:30:00-06:00", "2026-11-25T09:00:00-06:00", "2026-11-23T12:15:00-06:00"] {
        for h in [1, 4, 8, 20] {
            let due = cal.add(t(start), hours(h)).unwrap();
            assert_eq!(cal.elapsed(t(start), due), hours(h), "from {start} plus {h}h");
        }
    }
    // Outside hours nothing accrues: Friday 18:00 to Monday 08:00.
    assert_eq!(cal.elapsed(t("2026-11-20T18:00:00-06:00"), t("2026-11-23T08:00:00-06:00")), SignedDuration::ZERO);
    assert_eq!(cal.elapsed(t("2026-11-23T12:00:00-06:00"), t("2026-11-23T11:00:00-06:00")), SignedDuration::ZERO);
}

#[test]
fn sla_1_without_hours_every_hour_counts_and_a_closed_calendar_promises_nothing() {
    let always = Calendar::new("UTC", None, &["2026-12-25".to_string()]).unwrap();
    assert_eq!(always.add(t("2026-11-28T10:00:00Z"), hours(30)).unwrap(), t("2026-11-29T16:00:00Z"));
    // Christmas is still a holiday.
    assert_eq!(always.add(t("2026-12-24T20:00:00Z"), hours(6)).unwrap(), t("2026-12-26T02:00:00Z"));
    let never = BusinessHours { days: vec![], open: "09:00".into(), close: "17:00".into() };
    let closed = Calendar::new("UTC", Some(&never), &[]).unwrap();
    assert_eq!(closed.add(t("2026-11-28T10:00:00Z"), hours(1)), None);
}

#[test]
fn sla_1_targets_are_written_as_business_minutes_hours_or_days() {
    for (json, mins) in
        [(r#"{"businessMinutes":90}"#, 90), (r#"{"businessHours":4}"#, 240), (r#"{"businessDays":2}"#, 960)]
    {
        let span: BusinessSpan = serde_json::from_str(json).unwrap();
        assert_eq!(span.duration(hours(8)), SignedDuration::from_mins(mins));
        assert_eq!(serde_json::to_string(&span).unwrap(), json);
    }
    for bad in [
        r#"{}"#,
        r#"{"businessHours":0}"#,
        r#"{"businessDays":61}"#,
        r#"{"businessHours":4,"businessDays":1}"#,
        r#"{"weeks":1}"#,
        r#"{"businessHours":-1}"#,
        r#""4h""#,
    ] {
        assert!(serde_json::from_str::<BusinessSpan>(bad).is_err(), "{bad} accepted");
    }
    let targets: ReplyTargets =
        serde_json::from_str(r#"{"urgent": {"businessHours": 4}, "normal": {"businessDays": 2}}"#).unwrap();
    assert_eq!(targets.for_priority(Priority::Low), None);
    assert_eq!(
        serde_json::to_string(&targets).unwrap(),
        r#"{"urgent":{"businessHours":4},"normal":{"businessDays":2}}"#
    );
}

fn targets() -> ReplyTargets {
    ReplyTargets {
        urgent: Some(BusinessSpan::hours(4).unwrap()),
        normal: Some(BusinessSpan::days(2).unwrap()),
        low: None,
    }
}

fn patient(at: &str, priority: Priority) -> ClockEvent {
    ClockEvent { at: t(at), priority, sender: SenderKind::Patient, internal: false, withdraws: false }
}

fn staff(at: &str, internal: bool) -> ClockEvent {
    ClockEvent { at: t(at), priority: Priority::Normal, sender: SenderKind::Staff, internal, withdraws: false }
}

fn run(change: ClockChange) -> ReplyClock {
    match change {
        ClockChange::Run(clock) => clock,
        other => panic!("expected the clock to run, got {other:?}"),
    }
}

#[test]
fn sla_2_a_patient_message_starts_the_clock_and_a_staff_reply_stops_it() {
    let cal = chicago(&[]);
    let tg = Some(targets());
    let clock =
        run(after_message(None, patient("2026-11-23T10:00:00-06:00", Priority::Normal), true, tg.as_ref(), &cal));
    assert_eq!(clock.since, t("2026-11-23T10:00:00-06:00"));
    assert_eq!(clock.due.at, t("2026-11-25T10:00:00-06:00"));
    assert_eq!(clock.due.local, "2026-11-25T10:00:00-06:00");
    // A second patient message while it runs keeps the first one's promise.
    let again = patient("2026-11-23T11:00:00-06:00", Priority::Normal);
    assert_eq!(after_message(Some(&clock), again, true, tg.as_ref(), &cal), ClockChange::Keep);
    // An internal note does not stop it; a reply the patient sees does.
    let note = staff("2026-11-23T12:00:00-06:00", true);
    assert_eq!(after_message(Some(&clock), note, true, tg.as_ref(), &cal), ClockChange::Keep);
    let reply = staff("2026-11-23T12:00:00-06:00", false);
    assert_eq!(after_message(Some(&clock), reply, true, tg.as_ref(), &cal), ClockChange::Stop);
    // Nor does an auto-reply (out of office, after hours).
    let auto = ClockEvent { sender: SenderKind::System, ..reply };
    assert_eq!(after_message(Some(&clock), auto, true, tg.as_ref(), &cal), ClockChange::Keep);
    // A text from the patient's phone starts it like a portal message.
    let text = ClockEvent { sender: SenderKind::Sms, ..patient("2026-11-23T10:00:00-06:00", Priority::Normal) };
    assert!(matches!(after_message(None, text, true, tg.as_ref(), &cal), ClockChange::Run(_)));
    // A staff message with no clock running changes nothing.
    assert_eq!(after_message(None, reply, true, tg.as_ref(), &cal), ClockChange::Keep);
}

#[test]
fn sla_2_an_urgent_follow_up_brings_the_due_time_forward() {
    let cal = chicago(&[]);
    let tg = Some(targets());
    let first =
        run(after_message(None, patient("2026-11-23T10:00:00-06:00", Priority::Normal), true, tg.as_ref(), &cal));
    let urgent = patient("2026-11-23T11:00:00-06:00", Priority::Urgent);
    let sooner = run(after_message(Some(&first), urgent, true, tg.as_ref(), &cal));
    assert_eq!(sooner.since, first.since, "the patient has waited since the first message");
    assert_eq!(sooner.due.at, t("2026-11-23T15:00:00-06:00"));
    assert_eq!(sooner.priority, Priority::Urgent);
    // A normal message never pushes an urgent promise back.
    let normal = patient("2026-11-23T12:00:00-06:00", Priority::Normal);
    assert_eq!(after_message(Some(&sooner), normal, true, tg.as_ref(), &cal), ClockChange::Keep);
}

#[test]
fn sla_2_no_promise_without_a_target_or_outside_patient_conversations() {
    let cal = chicago(&[]);
    let tg = Some(targets());
    let low = patient("2026-11-23T10:00:00-06:00", Priority::Low);
    assert_eq!(after_message(None, low, true, tg.as_ref(), &cal), ClockChange::Keep);
    let normal = patient("2026-11-23T10:00:00-06:00", Priority::Normal);
    assert_eq!(after_message(None, normal, true, None, &cal), ClockChange::Keep);
    assert_eq!(after_message(None, normal, false, tg.as_ref(), &cal), ClockChange::Keep);
}

#[test]
fn sla_4_a_question_escalates_at_a_share_of_its_target_in_business_time() {
    let e: Escalation =
        serde_json::from_str(r#"{"atShare": 0.75, "to": {"type": "workgroup", "id": "wg_1"}}"#).unwrap();
    assert_eq!(e.at_share, 750);
    // Friday 16:00 with a 4-hour target: three business hours later is Monday 11:00.
    let at = e.time(t("2026-11-20T16:00:00-06:00"), BusinessSpan::hours(4).unwrap(), &chicago(&[])).unwrap();
    assert_eq!(at, t("2026-11-23T11:00:00-06:00"));
    assert_eq!(serde_json::to_value(&e).unwrap()["atShare"], 0.75);
    for bad in ["0", "1.5", "-0.2"] {
        let json = format!(r#"{{"atShare": {bad}, "to": {{"type": "staff", "id": "usr_1"}}}}"#);
        assert!(serde_json::from_str::<Escalation>(&json).is_err(), "{bad} accepted");
    }
}

#[test]
fn sla_2_the_patients_never_mind_stops_the_clock() {
    let cal = chicago(&[]);
    let tg = Some(targets());
    let clock =
        run(after_message(None, patient("2026-11-23T10:00:00-06:00", Priority::Normal), true, tg.as_ref(), &cal));
    let never_mind = ClockEvent { withdraws: true, ..patient("2026-11-23T11:00:00-06:00", Priority::Normal) };
    assert_eq!(after_message(Some(&clock), never_mind, true, tg.as_ref(), &cal), ClockChange::Stop);
    assert_eq!(after_message(None, never_mind, true, tg.as_ref(), &cal), ClockChange::Keep, "and starts none");
}
