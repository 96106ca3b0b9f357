//! Tests of the working-day calendar: shipped data against an oracle, hand-computed deadlines,
//! alerts, parse errors, and properties of deadline / working-time arithmetic.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use onegrid_domain::calendar::{
    Alert, Calendar, CalendarError, DayKind, LimitUnit, SpecialDay, TimeLimit, WorkingHours,
    describe_remaining, parse_calendar_csv,
};
use proptest::prelude::*;

const CN_2025: &str = include_str!("../../../data/calendar/cn-2025.csv");
const CN_2026: &str = include_str!("../../../data/calendar/cn-2026.csv");

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A Shanghai (UTC+8) wall-clock time as the UTC instant stored.
fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    date(y, m, d).and_hms_opt(h, min, 0).unwrap().and_utc() - TimeDelta::hours(8)
}

fn days_of(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

// ---------------------------------------------------------------------------------------------
// Shipped data against the oracle
// ---------------------------------------------------------------------------------------------

/// The oracle's verdict; `None` where it has no data (it stops at 2026-12-25).
fn oracle(d: NaiveDate) -> Option<chinese_holiday::DayKind> {
    if d > date(2026, 12, 25) {
        return None;
    }
    let ymd = chinese_holiday::Ymd::new(d.year() as u16, d.month() as u8, d.day() as u8);
    Some(chinese_holiday::chinese_holiday(ymd))
}

#[test]
fn shipped_verdict_equals_chinese_holiday_for_every_day_of_2025_and_2026() {
    use chinese_holiday::DayKind as O;
    let cal = Calendar::shipped();
    let mut checked = 0;
    for d in days_of(date(2025, 1, 1), date(2026, 12, 31)) {
        match oracle(d) {
            Some(kind) => {
                assert_eq!(
                    cal.is_working_day(d),
                    kind.is_workday(),
                    "{d} ({:?}): shipped CSV and chinese_holiday ({kind:?}) disagree",
                    d.weekday()
                );
                // Beyond the verdict: a date is listed exactly when the oracle calls it special,
                // so every weekend day inside a holiday period is listed too.
                let listed = cal.special_day(d).map(|s| s.kind);
                let expected = match kind {
                    O::NormalWorkday | O::NormalHoliday => None,
                    k if k.is_workday() => Some(DayKind::Workday),
                    _ => Some(DayKind::Holiday),
                };
                assert_eq!(
                    listed, expected,
                    "{d}: listing differs from chinese_holiday ({kind:?})"
                );
                checked += 1;
            }
            None => {
                // 2026-12-26..31: no notice covers them yet (a 2027 元旦 period could; then
                // cn-2027.csv lists them). Until then the plain Monday–Friday rule holds.
                assert!(
                    cal.special_day(d).is_none(),
                    "{d} is listed but no notice covers it"
                );
                let weekday = !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
                assert_eq!(cal.is_working_day(d), weekday, "{d}");
            }
        }
    }
    assert_eq!(checked, 365 + 359);
}

#[test]
fn each_shipped_file_holds_its_year_with_known_names_and_whole_periods() {
    let names = [
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
        "国庆节、中秋节",
    ];
    for (year, text) in [(2025, CN_2025), (2026, CN_2026)] {
        let days = parse_calendar_csv(text).unwrap();
        assert!(
            days.windows(2).all(|w| w[0].date < w[1].date),
            "{year}: rows not sorted"
        );
        for day in &days {
            assert_eq!(day.date.year(), year, "{day:?}");
            assert!(names.contains(&day.name.as_str()), "{day:?}");
        }
        // Holidays of one name form one unbroken run of dates (weekend days included).
        let holidays: Vec<&SpecialDay> =
            days.iter().filter(|d| d.kind == DayKind::Holiday).collect();
        for w in holidays.windows(2) {
            if w[0].name == w[1].name {
                assert_eq!(
                    w[0].date.succ_opt().unwrap(),
                    w[1].date,
                    "gap in {year} {}",
                    w[0].name
                );
            }
        }
    }
}

#[test]
fn shipped_2026_holiday_periods() {
    let days = parse_calendar_csv(CN_2026).unwrap();
    let period = |name: &str| -> Vec<NaiveDate> {
        days.iter()
            .filter(|d| d.name == name && d.kind == DayKind::Holiday)
            .map(|d| d.date)
            .collect()
    };
    let run = |from: NaiveDate, to: NaiveDate| days_of(from, to).collect::<Vec<_>>();
    assert_eq!(period("元旦"), run(date(2026, 1, 1), date(2026, 1, 3)));
    assert_eq!(period("春节"), run(date(2026, 2, 15), date(2026, 2, 23)));
    assert_eq!(period("清明节"), run(date(2026, 4, 4), date(2026, 4, 6)));
    assert_eq!(period("劳动节"), run(date(2026, 5, 1), date(2026, 5, 5)));
    assert_eq!(period("端午节"), run(date(2026, 6, 19), date(2026, 6, 21)));
    assert_eq!(period("中秋节"), run(date(2026, 9, 25), date(2026, 9, 27)));
    assert_eq!(period("国庆节"), run(date(2026, 10, 1), date(2026, 10, 7)));
    let workdays: Vec<NaiveDate> = days
        .iter()
        .filter(|d| d.kind == DayKind::Workday)
        .map(|d| d.date)
        .collect();
    assert_eq!(
        workdays,
        [
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10)
        ]
    );
}

#[test]
fn local_days_appended_later_override_national_ones() {
    let mut days = Calendar::shipped_days();
    let local = parse_calendar_csv(
        "date,kind,name\n2026-03-10,holiday,地方节日\n2026-02-28,holiday,取消调休\n",
    )
    .unwrap();
    days.extend(local);
    let cal = Calendar::new(days, WorkingHours::default());
    assert!(!cal.is_working_day(date(2026, 3, 10)));
    assert!(!cal.is_working_day(date(2026, 2, 28)));
    assert!(!cal.is_working_day(date(2026, 2, 17)), "national days stay");
}

// ---------------------------------------------------------------------------------------------
// Hand-computed deadlines (default hours 08:30–12:00, 14:30–18:00)
// ---------------------------------------------------------------------------------------------

#[test]
fn working_days_are_counted_from_the_day_after_the_start() {
    let cal = Calendar::shipped();
    let days = TimeLimit::working_days;
    // Friday 10:00, 1 working day → Monday 18:00.
    assert_eq!(
        cal.deadline(sh(2026, 3, 6, 10, 0), days(1)),
        sh(2026, 3, 9, 18, 0)
    );
    // Before hours on a working day: the start day still does not count.
    assert_eq!(
        cal.deadline(sh(2026, 3, 9, 7, 0), days(1)),
        sh(2026, 3, 10, 18, 0)
    );
    // After hours Friday, and on Saturday: Monday 18:00 either way.
    assert_eq!(
        cal.deadline(sh(2026, 3, 6, 20, 0), days(1)),
        sh(2026, 3, 9, 18, 0)
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 7, 11, 0), days(1)),
        sh(2026, 3, 9, 18, 0)
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 6, 10, 0), days(5)),
        sh(2026, 3, 13, 18, 0)
    );
}

#[test]
fn deadlines_across_spring_festival_2026() {
    let cal = Calendar::shipped();
    // Friday 2026-02-13: the next working day is Saturday 02-14 (调休), then 02-24 (after
    // 02-15..23 off), then 02-25, 26, 27, and Saturday 02-28 (调休).
    let start = sh(2026, 2, 13, 10, 0);
    assert_eq!(
        cal.deadline(start, TimeLimit::working_days(1)),
        sh(2026, 2, 14, 18, 0)
    );
    assert_eq!(
        cal.deadline(start, TimeLimit::working_days(2)),
        sh(2026, 2, 24, 18, 0)
    );
    assert_eq!(
        cal.deadline(start, TimeLimit::working_days(6)),
        sh(2026, 2, 28, 18, 0)
    );
    assert_eq!(
        cal.deadline(start, TimeLimit::working_days(7)),
        sh(2026, 3, 2, 18, 0)
    );
    // Saturday 02-14 16:00 + 4 working hours: 2 h that day, 2 h from 02-24 08:30.
    assert_eq!(
        cal.deadline(sh(2026, 2, 14, 16, 0), TimeLimit::working_hours(4)),
        sh(2026, 2, 24, 10, 30)
    );
    // Started inside the holiday: counts from 02-24 08:30.
    assert_eq!(
        cal.deadline(sh(2026, 2, 17, 9, 0), TimeLimit::working_hours(2)),
        sh(2026, 2, 24, 10, 30)
    );
    assert_eq!(
        cal.deadline(sh(2026, 2, 17, 9, 0), TimeLimit::working_days(1)),
        sh(2026, 2, 24, 18, 0)
    );
    // 02-13 17:00 → 02-24 09:00: 1 h + 7 h (02-14) + 0.5 h.
    assert_eq!(
        cal.working_seconds_between(sh(2026, 2, 13, 17, 0), sh(2026, 2, 24, 9, 0)),
        30_600
    );
}

#[test]
fn deadlines_across_national_day_2025() {
    let cal = Calendar::shipped();
    // Tuesday 2025-09-30 15:00; 10-01..08 off, Saturday 10-11 worked (调休).
    let start = sh(2025, 9, 30, 15, 0);
    assert_eq!(
        cal.deadline(start, TimeLimit::working_days(1)),
        sh(2025, 10, 9, 18, 0)
    );
    assert_eq!(
        cal.deadline(start, TimeLimit::working_days(3)),
        sh(2025, 10, 11, 18, 0)
    );
    assert_eq!(
        cal.deadline(start, TimeLimit::working_days(4)),
        sh(2025, 10, 13, 18, 0)
    );
    // 3 h on 09-30, 3.5 h on 10-09 morning, 1.5 h after 14:30.
    assert_eq!(
        cal.deadline(start, TimeLimit::working_hours(8)),
        sh(2025, 10, 9, 16, 0)
    );
    // Calendar hours ignore the holiday.
    assert_eq!(
        cal.deadline(start, TimeLimit::calendar_hours(24)),
        sh(2025, 10, 1, 15, 0)
    );
}

#[test]
fn deadline_lands_on_an_adjusted_workday() {
    let cal = Calendar::shipped();
    // Friday 2025-09-26 17:00 + 2 working hours: 1 h, then Sunday 09-28 (调休) 08:30 + 1 h.
    assert_eq!(
        cal.deadline(sh(2025, 9, 26, 17, 0), TimeLimit::working_hours(2)),
        sh(2025, 9, 28, 9, 30)
    );
    // Sunday 2026-01-04 is worked after 元旦: Wednesday 12-31 + 1 working day → 01-04 18:00.
    assert_eq!(
        cal.deadline(sh(2025, 12, 31, 10, 0), TimeLimit::working_days(1)),
        sh(2026, 1, 4, 18, 0)
    );
}

#[test]
fn working_hours_across_lunch_and_overnight() {
    let cal = Calendar::shipped();
    let hours = TimeLimit::working_hours;
    // Tuesday 2026-03-03.
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 11, 0), hours(1)),
        sh(2026, 3, 3, 12, 0),
        "ends at noon"
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 11, 0), hours(2)),
        sh(2026, 3, 3, 15, 30)
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 17, 0), hours(3)),
        sh(2026, 3, 4, 10, 30)
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 8, 30), hours(7)),
        sh(2026, 3, 3, 18, 0)
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 8, 30), hours(8)),
        sh(2026, 3, 4, 9, 30)
    );
    // Friday 17:00 + 2 h → Monday 09:30.
    assert_eq!(
        cal.deadline(sh(2026, 3, 6, 17, 0), hours(2)),
        sh(2026, 3, 9, 9, 30)
    );
    assert_eq!(
        cal.working_seconds_between(sh(2026, 3, 3, 11, 0), sh(2026, 3, 3, 15, 30)),
        7200
    );
    assert_eq!(
        cal.working_seconds_between(sh(2026, 3, 3, 15, 30), sh(2026, 3, 3, 11, 0)),
        -7200
    );
    assert_eq!(
        cal.working_seconds_between(sh(2026, 3, 3, 12, 10), sh(2026, 3, 3, 14, 0)),
        0
    );
}

#[test]
fn start_outside_working_hours_counts_from_the_next_working_moment() {
    let cal = Calendar::shipped();
    let hours = TimeLimit::working_hours;
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 7, 0), hours(1)),
        sh(2026, 3, 3, 9, 30),
        "before work"
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 12, 30), hours(1)),
        sh(2026, 3, 3, 15, 30),
        "lunch"
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 20, 0), hours(1)),
        sh(2026, 3, 4, 9, 30),
        "evening"
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 18, 0), hours(1)),
        sh(2026, 3, 4, 9, 30),
        "18:00 sharp"
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 7, 10, 0), hours(1)),
        sh(2026, 3, 9, 9, 30),
        "Saturday"
    );
    // On a holiday (国庆 2026-10-03) → Thursday 10-08, the first working day after.
    assert_eq!(
        cal.deadline(sh(2026, 10, 3, 10, 0), hours(2)),
        sh(2026, 10, 8, 10, 30)
    );
    assert_eq!(
        cal.deadline(sh(2026, 10, 3, 10, 0), TimeLimit::working_days(1)),
        sh(2026, 10, 8, 18, 0)
    );
    // Midnight local is 16:00 UTC the day before: the local date decides.
    let just_after_midnight = sh(2026, 3, 9, 0, 5);
    assert_eq!(just_after_midnight.date_naive(), date(2026, 3, 8));
    assert_eq!(
        cal.deadline(just_after_midnight, hours(1)),
        sh(2026, 3, 9, 9, 30)
    );
}

#[test]
fn custom_working_hours() {
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let hours = WorkingHours {
        morning: (t(9, 0), t(12, 0)),
        afternoon: (t(13, 30), t(17, 30)),
    };
    let cal = Calendar::try_new(Calendar::shipped_days(), hours).unwrap();
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 11, 0), TimeLimit::working_hours(2)),
        sh(2026, 3, 3, 14, 30)
    );
    assert_eq!(
        cal.deadline(sh(2026, 3, 3, 11, 0), TimeLimit::working_days(1)),
        sh(2026, 3, 4, 17, 30)
    );
    assert_eq!(
        cal.describe_remaining_working(8 * 3600),
        "剩余1个工作日1小时"
    );
}

// ---------------------------------------------------------------------------------------------
// Alerts and remaining time
// ---------------------------------------------------------------------------------------------

#[test]
fn alert_thresholds() {
    let cal = Calendar::shipped();
    // Tuesday 08:30 + 10 working hours → Wednesday 11:30.
    let start = sh(2026, 3, 3, 8, 30);
    let deadline = cal.deadline(start, TimeLimit::working_hours(10));
    assert_eq!(deadline, sh(2026, 3, 4, 11, 30));
    let at = |now| cal.alert(start, deadline, now, 0.8);
    assert_eq!(at(sh(2026, 3, 3, 8, 30)), Alert::Normal);
    assert_eq!(
        at(sh(2026, 3, 3, 22, 0)),
        Alert::Normal,
        "7 of 10 h used, night does not count"
    );
    assert_eq!(at(sh(2026, 3, 4, 9, 29)), Alert::Normal);
    assert_eq!(
        at(sh(2026, 3, 4, 9, 30)),
        Alert::Yellow,
        "8 of 10 h reaches 0.8"
    );
    assert_eq!(at(deadline), Alert::Yellow, "due now is not yet overdue");
    assert_eq!(at(deadline + TimeDelta::seconds(1)), Alert::Red);
    assert_eq!(at(sh(2026, 3, 2, 9, 0)), Alert::Normal, "before the start");
    assert_eq!(
        cal.alert(start, deadline, sh(2026, 3, 3, 9, 0), 0.0),
        Alert::Yellow
    );
    assert_eq!(
        cal.alert(start, deadline, sh(2026, 3, 4, 11, 0), 1.5),
        Alert::Normal
    );

    // 24 calendar hours over a weekend hold no working time: elapsed time is used instead.
    let sat = sh(2026, 3, 7, 10, 0);
    let due = cal.deadline(sat, TimeLimit::calendar_hours(24));
    assert_eq!(
        cal.alert(sat, due, sh(2026, 3, 7, 12, 0), 0.8),
        Alert::Normal
    );
    assert_eq!(
        cal.alert(sat, due, sh(2026, 3, 8, 6, 0), 0.8),
        Alert::Yellow
    );
    assert_eq!(cal.alert(sat, due, sh(2026, 3, 8, 10, 1), 0.8), Alert::Red);
}

#[test]
fn remaining_time_and_its_description() {
    let cal = Calendar::shipped();
    let deadline = sh(2026, 3, 4, 11, 30);
    let left = cal.remaining_working_seconds(sh(2026, 3, 4, 9, 30), deadline);
    assert_eq!(left, 7200);
    assert_eq!(describe_remaining(left), "剩余2小时");
    let over = cal.remaining_working_seconds(sh(2026, 3, 4, 15, 0), deadline);
    assert_eq!(over, -3600, "11:30–12:00 and 14:30–15:00");
    assert_eq!(describe_remaining(over), "已超期1小时");
    let long = cal.remaining_working_seconds(sh(2026, 3, 2, 8, 30), deadline);
    assert_eq!(cal.describe_remaining_working(long), "剩余2个工作日3小时");
    assert_eq!(describe_remaining(27 * 3600), "剩余1天3小时");
    assert_eq!(describe_remaining(-2 * 3600), "已超期2小时");
}

#[test]
fn limits_and_alerts_serialize_in_snake_case() {
    let limit = TimeLimit {
        amount: 2,
        unit: LimitUnit::WorkingDays,
    };
    let json = serde_json::to_string(&limit).unwrap();
    assert_eq!(json, r#"{"amount":2,"unit":"working_days"}"#);
    assert_eq!(serde_json::from_str::<TimeLimit>(&json).unwrap(), limit);
    assert_eq!(
        serde_json::to_string(&LimitUnit::WorkingHours).unwrap(),
        r#""working_hours""#
    );
    assert_eq!(
        serde_json::to_string(&LimitUnit::CalendarHours).unwrap(),
        r#""calendar_hours""#
    );
    assert_eq!(
        serde_json::to_string(&Alert::Yellow).unwrap(),
        r#""yellow""#
    );
    assert_eq!(limit.to_string(), "2个工作日");
    let hours: WorkingHours =
        serde_json::from_str(&serde_json::to_string(&WorkingHours::default()).unwrap()).unwrap();
    assert_eq!(hours, WorkingHours::default());
}

// ---------------------------------------------------------------------------------------------
// Parse errors name line and field
// ---------------------------------------------------------------------------------------------

fn parse_err(text: &str) -> String {
    parse_calendar_csv(text).unwrap_err().to_string()
}

#[test]
fn parse_errors_name_line_and_field() {
    let head = "date,kind,name\n";
    assert_eq!(
        parse_err(&format!(
            "{head}2026-02-15,holiday,春节\n\n2026-02-30,holiday,春节\n"
        )),
        "line 4, field date: '2026-02-30' is not a date (expected YYYY-MM-DD)"
    );
    assert_eq!(
        parse_err(&format!("{head}2026-2-15,holiday,春节\n")),
        "line 2, field date: '2026-2-15' is not a date (expected YYYY-MM-DD)"
    );
    assert_eq!(
        parse_err(&format!("{head}2026-02-15,Holiday,春节\n")),
        "line 2, field kind: 'Holiday' is neither 'holiday' nor 'workday'"
    );
    assert_eq!(
        parse_err(&format!("{head}2026-02-16,workday,春节\n")),
        "line 2, field kind: 'workday' marks a weekend day worked (调休), but 2026-02-16 is a Monday"
    );
    assert_eq!(
        parse_err(&format!("{head}2026-02-15,holiday,\n")),
        "line 2, field name: '' must not be empty"
    );
    assert_eq!(
        parse_err(&format!("{head}2026-02-15,holiday\n")),
        "line 2: expected 3 fields (date,kind,name), found 2"
    );
    assert_eq!(
        parse_err(&format!("{head}2026-02-15,holiday,春节,除夕\n")),
        "line 2: expected 3 fields (date,kind,name), found 4"
    );
    assert_eq!(
        parse_err(&format!(
            "{head}2026-02-15,holiday,春节\n2026-02-16,holiday,春节\n2026-02-15,holiday,春节\n"
        )),
        "line 4, field date: 2026-02-15 is listed twice (lines 2 and 4)"
    );
    assert_eq!(
        parse_err("date,type,name\n"),
        "line 1: header must be 'date,kind,name', found 'date,type,name'"
    );
    assert_eq!(
        parse_calendar_csv("\n \n").unwrap_err(),
        CalendarError::Empty
    );
    let err = parse_calendar_csv(&format!("{head}2026-02-30,holiday,春节\n")).unwrap_err();
    assert!(
        matches!(
            err,
            CalendarError::Field {
                line: 2,
                field: "date",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn parse_accepts_bom_crlf_spaces_and_blank_lines() {
    let days =
        parse_calendar_csv("\u{feff}date, kind ,name\r\n\r\n2026-02-14 , workday , 春节\r\n")
            .unwrap();
    assert_eq!(
        days,
        [SpecialDay {
            date: date(2026, 2, 14),
            kind: DayKind::Workday,
            name: "春节".to_owned()
        }]
    );
    assert_eq!(parse_calendar_csv("date,kind,name").unwrap(), []);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// A start inside working time: a working day of 2024-12..2027-01 and an offset into its 7 h.
fn working_start(cal: &Calendar, day: u32, offset_secs: u32) -> DateTime<Utc> {
    let mut d = date(2024, 12, 1) + TimeDelta::days(i64::from(day));
    while !cal.is_working_day(d) {
        d = d.succ_opt().unwrap();
    }
    let hours = cal.hours();
    let morning = (hours.morning.1 - hours.morning.0).num_seconds() as u32;
    let (from, offset) = if offset_secs < morning {
        (hours.morning.0, offset_secs)
    } else {
        (hours.afternoon.0, offset_secs - morning)
    };
    let local = d.and_time(from) + TimeDelta::seconds(i64::from(offset));
    local.and_utc() - TimeDelta::hours(8)
}

/// Any instant from 2024-06 to 2027-06, to the second.
fn any_instant(secs: i64) -> DateTime<Utc> {
    sh(2024, 6, 1, 0, 0) + TimeDelta::seconds(secs)
}

const THREE_YEARS: i64 = 3 * 366 * 86_400;

proptest! {
    #[test]
    fn working_hours_deadline_spends_exactly_n_hours(
        day in 0u32..760,
        offset in 0u32..(7 * 3600),
        n in 0u32..400,
    ) {
        let cal = Calendar::shipped();
        let start = working_start(&cal, day, offset);
        prop_assert!(cal.is_working_time(start));
        let deadline = cal.deadline(start, TimeLimit::working_hours(n));
        prop_assert_eq!(cal.working_seconds_between(start, deadline), i64::from(n) * 3600);
        prop_assert_eq!(cal.working_seconds_between(deadline, start), -i64::from(n) * 3600);
    }

    #[test]
    fn deadline_is_monotonic_in_n(secs in 0..THREE_YEARS, n in 0u32..600) {
        let cal = Calendar::shipped();
        let start = any_instant(secs);
        for unit in [LimitUnit::WorkingHours, LimitUnit::WorkingDays, LimitUnit::CalendarHours] {
            let a = cal.deadline(start, TimeLimit { amount: n, unit });
            let b = cal.deadline(start, TimeLimit { amount: n + 1, unit });
            prop_assert!(start <= a && a < b, "{:?}: {} then {}", unit, a, b);
        }
    }

    #[test]
    fn working_days_deadline_is_end_of_a_working_day(secs in 0..THREE_YEARS, n in 1u32..60) {
        let cal = Calendar::shipped();
        let start = any_instant(secs);
        let deadline = cal.deadline(start, TimeLimit::working_days(n));
        let local = deadline + TimeDelta::hours(8);
        prop_assert!(cal.is_working_day(local.date_naive()));
        prop_assert_eq!(local.time(), cal.hours().end_of_day());
        let start_day = (start + TimeDelta::hours(8)).date_naive();
        let counted = days_of(start_day.succ_opt().unwrap(), local.date_naive())
            .filter(|d| cal.is_working_day(*d))
            .count();
        prop_assert_eq!(counted, n as usize);
    }

    #[test]
    fn working_seconds_add_up(a in 0..THREE_YEARS, b in 0..THREE_YEARS, c in 0..THREE_YEARS) {
        let cal = Calendar::shipped();
        let (a, b, c) = (any_instant(a), any_instant(b), any_instant(c));
        prop_assert_eq!(
            cal.working_seconds_between(a, b) + cal.working_seconds_between(b, c),
            cal.working_seconds_between(a, c)
        );
    }
}
