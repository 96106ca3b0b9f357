//! The working-day calendar (工作日历): which days are worked, and time limits counted in them.
//!
//! Every stage of a case has a time limit (时限) in working hours, working days or plain hours.
//! This module turns a start instant and a limit into a deadline, measures working time
//! between two instants, and grades how close a stage is to its deadline (the 红黄灯 alert).
//!
//! ## Days
//!
//! A date is a working day when it is Monday–Friday and not a listed holiday, or when it is
//! listed as a `workday` (调休: a weekend day worked in exchange for a holiday). The special
//! days are data — `data/calendar/cn-YYYY.csv`, from the State Council's yearly notices — so a
//! city can add its own. Dates outside the listed years follow the plain Monday–Friday rule.
//!
//! ## Time
//!
//! Instants are stored in UTC; business time is Asia/Shanghai, which has been UTC+8 without
//! daylight saving since 1991, so a [`FixedOffset`] is exact and needs no tz database.
//! Working time within a working day is [`WorkingHours`] (default 08:30–12:00 and 14:30–18:00).
//!
//! ## Cost
//!
//! Deadlines are recomputed on every act on a case, so [`Calendar::deadline`] and
//! [`Calendar::working_seconds_between`] walk day by day (one hash lookup a day, no
//! allocation), and jump whole weeks where no special day is listed.

use std::collections::HashMap;
use std::fmt;

use chrono::{
    DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc,
    Weekday,
};
use serde::{Deserialize, Serialize};

/// Offset of Asia/Shanghai from UTC, in seconds (no DST since 1991).
pub const BUSINESS_OFFSET_SECONDS: i32 = 8 * 3600;

/// The business time zone, Asia/Shanghai as a fixed UTC+8.
pub fn business_offset() -> FixedOffset {
    // 8 hours is well inside FixedOffset's ±24 h range, so this cannot fail.
    FixedOffset::east_opt(BUSINESS_OFFSET_SECONDS).expect("UTC+8 is a valid offset")
}

/// The local (Asia/Shanghai) date of an instant.
pub fn business_date(at: DateTime<Utc>) -> NaiveDate {
    to_local(at).date()
}

const OFFSET: TimeDelta = TimeDelta::seconds(BUSINESS_OFFSET_SECONDS as i64);

/// UTC → Shanghai wall-clock time. Saturates in the last 8 hours of chrono's range, which no
/// real case reaches, instead of panicking.
fn to_local(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
        .checked_add_signed(OFFSET)
        .unwrap_or(NaiveDateTime::MAX)
}

/// Shanghai wall-clock time → UTC, saturating like [`to_local`].
fn to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    local
        .checked_sub_signed(OFFSET)
        .unwrap_or(NaiveDateTime::MIN)
        .and_utc()
}

/// What a listed day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off (法定节假日 and the weekend days inside a holiday period).
    Holiday,
    /// A weekend day that is worked (调休上班).
    Workday,
}

impl DayKind {
    /// The spelling used in the CSV files and in serde.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// The Chinese name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            DayKind::Holiday => "放假",
            DayKind::Workday => "调休上班",
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of a calendar file: a date that does not follow the Monday–Friday rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialDay {
    /// Local (Asia/Shanghai) date.
    pub date: NaiveDate,
    pub kind: DayKind,
    /// The holiday the day belongs to (for a workday: whose 调休 it makes up), e.g. `春节`.
    pub name: String,
}

/// Why a calendar file or a working-hours setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar file is empty: its first line must be the header 'date,kind,name'")]
    Empty,
    #[error("line {line}: header must be 'date,kind,name', found '{found}'")]
    Header { line: usize, found: String },
    #[error("line {line}: expected 3 fields (date,kind,name), found {found}")]
    FieldCount { line: usize, found: usize },
    #[error("line {line}, field {field}: '{value}' {problem}")]
    Field {
        line: usize,
        field: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "line {second_line}, field date: {date} is listed twice (lines {first_line} and {second_line})"
    )]
    Duplicate {
        date: NaiveDate,
        first_line: usize,
        second_line: usize,
    },
    #[error("working hours: {0}")]
    Hours(String),
}

const HEADER: [&str; 3] = ["date", "kind", "name"];

/// Parses a calendar file (`date,kind,name`, one row per special day).
///
/// Rules: the first non-blank line is the header `date,kind,name`; blank lines are skipped;
/// fields are trimmed; quoting is not supported, so a name may not contain a comma; `date` is
/// `YYYY-MM-DD`; `kind` is `holiday` or `workday`, and a `workday` must fall on a Saturday or
/// Sunday (a weekday is worked anyway, so listing one is a typo); `name` is not empty; a date
/// may be listed once. Line numbers in errors count from 1, blank lines included.
pub fn parse_calendar_csv(text: &str) -> Result<Vec<SpecialDay>, CalendarError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty());

    let (header_line, header) = lines.next().ok_or(CalendarError::Empty)?;
    if !header.split(',').map(str::trim).eq(HEADER) {
        return Err(CalendarError::Header {
            line: header_line,
            found: header.to_owned(),
        });
    }

    let mut days: Vec<SpecialDay> = Vec::new();
    let mut first_seen: HashMap<NaiveDate, usize> = HashMap::new();
    for (line, text) in lines {
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        let [date, kind, name] = fields[..] else {
            return Err(CalendarError::FieldCount {
                line,
                found: fields.len(),
            });
        };
        let field_error =
            |field: &'static str, value: &str, problem: String| CalendarError::Field {
                line,
                field,
                value: value.to_owned(),
                problem,
            };

        let date_value = parse_date(date).ok_or_else(|| {
            field_error(
                "date",
                date,
                "is not a date (expected YYYY-MM-DD)".to_owned(),
            )
        })?;
        let kind_value = match kind {
            "holiday" => DayKind::Holiday,
            "workday" => DayKind::Workday,
            _ => {
                return Err(field_error(
                    "kind",
                    kind,
                    "is neither 'holiday' nor 'workday'".to_owned(),
                ));
            }
        };
        if kind_value == DayKind::Workday && !is_weekend(date_value) {
            return Err(field_error(
                "kind",
                kind,
                format!(
                    "marks a weekend day worked (调休), but {date_value} is a {}",
                    weekday_name(date_value.weekday())
                ),
            ));
        }
        if name.is_empty() {
            return Err(field_error("name", name, "must not be empty".to_owned()));
        }
        if name.contains('"') {
            return Err(field_error(
                "name",
                name,
                "contains a quote; quoting is not supported".to_owned(),
            ));
        }
        if let Some(&first_line) = first_seen.get(&date_value) {
            return Err(CalendarError::Duplicate {
                date: date_value,
                first_line,
                second_line: line,
            });
        }
        first_seen.insert(date_value, line);
        days.push(SpecialDay {
            date: date_value,
            kind: kind_value,
            name: name.to_owned(),
        });
    }
    Ok(days)
}

/// Strict `YYYY-MM-DD`: chrono's `%m`/`%d` would also take `2026-2-3`, which we refuse so the
/// files stay uniform and sortable.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    // The shape check above guarantees these slices are ASCII digits of the right length.
    let year: i32 = text[0..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The working time of a working day, local (Asia/Shanghai) wall-clock times.
///
/// The default, 08:30–12:00 and 14:30–18:00 (7 hours), is common for 街道 and 区 offices; it is
/// configurable because cities differ (summer hours, a 13:30 afternoon start). Each period is
/// half-open `[start, end)`; the morning must end no later than the afternoon starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    pub morning: (NaiveTime, NaiveTime),
    pub afternoon: (NaiveTime, NaiveTime),
}

impl Default for WorkingHours {
    fn default() -> WorkingHours {
        WorkingHours {
            morning: (hm(8, 30), hm(12, 0)),
            afternoon: (hm(14, 30), hm(18, 0)),
        }
    }
}

/// A constant wall-clock time for the defaults.
fn hm(hour: u32, minute: u32) -> NaiveTime {
    // Only called with literal hours < 24 and minutes < 60, so this cannot fail.
    NaiveTime::from_hms_opt(hour, minute, 0).expect("literal time is valid")
}

impl WorkingHours {
    /// Checks that each period is non-empty and the morning ends before the afternoon starts.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let (m0, m1) = self.morning;
        let (a0, a1) = self.afternoon;
        if m0 >= m1 {
            return Err(CalendarError::Hours(format!(
                "morning {m0}–{m1} does not end after it starts"
            )));
        }
        if a0 >= a1 {
            return Err(CalendarError::Hours(format!(
                "afternoon {a0}–{a1} does not end after it starts"
            )));
        }
        if m1 > a0 {
            return Err(CalendarError::Hours(format!(
                "morning ends at {m1}, after the afternoon starts at {a0}"
            )));
        }
        Ok(())
    }

    /// Working time in one working day.
    pub fn per_day(&self) -> TimeDelta {
        (self.morning.1 - self.morning.0) + (self.afternoon.1 - self.afternoon.0)
    }

    /// When working time ends on a working day (the afternoon's end).
    pub fn end_of_day(&self) -> NaiveTime {
        self.afternoon.1
    }
}

/// How a time limit is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    /// 工作小时: hours of [`WorkingHours`] on working days.
    WorkingHours,
    /// 工作日: see [`Calendar::deadline`] for how the days are counted.
    WorkingDays,
    /// 小时 (自然小时): plain elapsed hours, nights and holidays included.
    CalendarHours,
}

/// A time limit (时限), e.g. 2 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeLimit {
    pub amount: u32,
    pub unit: LimitUnit,
}

impl TimeLimit {
    pub const fn working_hours(amount: u32) -> TimeLimit {
        TimeLimit {
            amount,
            unit: LimitUnit::WorkingHours,
        }
    }

    pub const fn working_days(amount: u32) -> TimeLimit {
        TimeLimit {
            amount,
            unit: LimitUnit::WorkingDays,
        }
    }

    pub const fn calendar_hours(amount: u32) -> TimeLimit {
        TimeLimit {
            amount,
            unit: LimitUnit::CalendarHours,
        }
    }
}

impl fmt::Display for TimeLimit {
    /// `2个工作日`, `4个工作小时`, `24小时`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            LimitUnit::WorkingHours => write!(f, "{}个工作小时", self.amount),
            LimitUnit::WorkingDays => write!(f, "{}个工作日", self.amount),
            LimitUnit::CalendarHours => write!(f, "{}小时", self.amount),
        }
    }
}

/// The 红黄灯 grade of a running stage. Ordered: `Normal < Yellow < Red`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    Normal,
    Yellow,
    Red,
}

impl Alert {
    /// The Chinese name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Alert::Normal => "正常",
            Alert::Yellow => "黄灯",
            Alert::Red => "红灯",
        }
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The shipped national calendar files, compiled in so the binary needs no data directory.
const SHIPPED: [(&str, &str); 2] = [
    (
        "cn-2025.csv",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/calendar/cn-2025.csv"
        )),
    ),
    (
        "cn-2026.csv",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/calendar/cn-2026.csv"
        )),
    ),
];

/// Special days plus working hours: answers "is this a working day" and computes deadlines.
///
/// Build it once at start-up and share it; it is read-only afterwards.
#[derive(Debug, Clone)]
pub struct Calendar {
    days: HashMap<NaiveDate, SpecialDay>,
    /// Earliest and latest listed date: outside them whole weeks can be jumped, since every
    /// 7 consecutive plain days hold exactly 5 working days.
    listed: Option<(NaiveDate, NaiveDate)>,
    hours: WorkingHours,
}

impl Calendar {
    /// Builds a calendar. A later entry for the same date overrides an earlier one, so a
    /// city's local days appended after the national ones take precedence.
    ///
    /// # Panics
    ///
    /// If `hours` fail [`WorkingHours::validate`]: with no working time a deadline would never
    /// be reached. Use [`Calendar::try_new`] for hours that come from configuration.
    pub fn new(days: Vec<SpecialDay>, hours: WorkingHours) -> Calendar {
        match Calendar::try_new(days, hours) {
            Ok(calendar) => calendar,
            Err(err) => panic!("Calendar::new: {err}"),
        }
    }

    /// Like [`Calendar::new`], but refuses invalid working hours instead of panicking.
    pub fn try_new(days: Vec<SpecialDay>, hours: WorkingHours) -> Result<Calendar, CalendarError> {
        hours.validate()?;
        let listed = days
            .iter()
            .fold(None, |range: Option<(NaiveDate, NaiveDate)>, day| {
                Some(match range {
                    None => (day.date, day.date),
                    Some((lo, hi)) => (lo.min(day.date), hi.max(day.date)),
                })
            });
        let days = days.into_iter().map(|day| (day.date, day)).collect();
        Ok(Calendar {
            days,
            listed,
            hours,
        })
    }

    /// The national days shipped in `data/calendar/` (2025 and 2026), in file order; append a
    /// city's own days and pass the lot to [`Calendar::new`].
    pub fn shipped_days() -> Vec<SpecialDay> {
        let mut days = Vec::new();
        for (file, text) in SHIPPED {
            // The shipped files are parsed by this crate's tests, so a parse error here means
            // the data was broken after testing: fail loudly rather than run without holidays.
            let parsed = parse_calendar_csv(text)
                .unwrap_or_else(|err| panic!("shipped data/calendar/{file} is invalid: {err}"));
            days.extend(parsed);
        }
        days
    }

    /// The national calendar for 2025–2026 with the default working hours.
    pub fn shipped() -> Calendar {
        Calendar::new(Calendar::shipped_days(), WorkingHours::default())
    }

    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// The listed entry for a date, if any.
    pub fn special_day(&self, date: NaiveDate) -> Option<&SpecialDay> {
        self.days.get(&date)
    }

    /// Earliest and latest listed dates; outside them the Monday–Friday rule applies.
    pub fn listed_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.listed
    }

    /// Monday–Friday and not a listed holiday, or a listed workday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some(day) => day.kind == DayKind::Workday,
            None => !is_weekend(date),
        }
    }

    /// Whether `at` falls inside working hours of a working day.
    pub fn is_working_time(&self, at: DateTime<Utc>) -> bool {
        let local = to_local(at);
        self.is_working_day(local.date())
            && self
                .periods(local.date())
                .iter()
                .any(|&(start, end)| start <= local && local < end)
    }

    /// The deadline of `limit` started at `start`. A zero amount gives `start` itself for
    /// every unit. Results past chrono's range saturate at [`DateTime::<Utc>::MAX_UTC`].
    ///
    /// - **Working hours**: working time is counted forward from `start`; a start outside
    ///   working time (night, lunch, weekend, holiday) counts from the next working moment.
    ///   A deadline that uses up a period exactly is that period's end (12:00, not 14:30).
    /// - **Working days**: the deadline is the end of working time (18:00 by default) of the
    ///   N-th working day *after* the start's local date. The start day never counts, whether
    ///   the case came in at 07:00, 10:00 or 20:00, on a working day or a holiday. Started
    ///   Friday 10:00 with 1 working day → Monday 18:00 (if Monday is a working day); started
    ///   Saturday with 1 working day → Monday 18:00 too.
    /// - **Calendar hours**: `start` plus N hours.
    pub fn deadline(&self, start: DateTime<Utc>, limit: TimeLimit) -> DateTime<Utc> {
        if limit.amount == 0 {
            return start;
        }
        let start_local = to_local(start);
        let end = match limit.unit {
            LimitUnit::WorkingHours => {
                self.add_working_time(start_local, TimeDelta::hours(i64::from(limit.amount)))
            }
            LimitUnit::WorkingDays => self
                .add_working_days(start_local.date(), limit.amount)
                .map(|date| date.and_time(self.hours.end_of_day())),
            LimitUnit::CalendarHours => {
                return start
                    .checked_add_signed(TimeDelta::hours(i64::from(limit.amount)))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
        };
        end.map(to_utc).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Working time from `from` to `to` in whole seconds (sub-second parts truncated);
    /// negative when `to` is before `from`.
    pub fn working_seconds_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to < from {
            return -self.working_seconds_between(to, from);
        }
        self.working_time(to_local(from), to_local(to))
            .num_seconds()
    }

    /// Working seconds left from `now` to `deadline`; negative (working seconds overdue) once
    /// `now` is past it. Overdue time on a weekend counts 0, so use [`Calendar::alert`] or
    /// `now > deadline` for *whether* a stage is overdue, and this for *how much*.
    pub fn remaining_working_seconds(&self, now: DateTime<Utc>, deadline: DateTime<Utc>) -> i64 {
        self.working_seconds_between(now, deadline)
    }

    /// The 红黄灯 grade at `now` of a stage that started at `start` and is due at `deadline`.
    ///
    /// Red once `now > deadline`. Otherwise Yellow when the share of the stage's time used,
    /// `working(start → now) / working(start → deadline)`, reaches `yellow_share` (e.g. 0.8),
    /// else Normal. The share is measured in working seconds for every limit unit, so a
    /// calendar-hours limit does not turn yellow overnight; only when no working time lies
    /// between start and deadline (a short calendar-hours limit over a weekend) plain elapsed
    /// seconds are used instead. A `yellow_share` ≤ 0 makes every running stage yellow; one
    /// above 1 (or NaN) leaves it Normal until Red.
    pub fn alert(
        &self,
        start: DateTime<Utc>,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
        yellow_share: f64,
    ) -> Alert {
        if now > deadline {
            return Alert::Red;
        }
        let mut total = self.working_seconds_between(start, deadline);
        let mut used = self.working_seconds_between(start, now);
        if total <= 0 {
            total = (deadline - start).num_seconds();
            used = (now - start).num_seconds();
        }
        let share = if total > 0 {
            used as f64 / total as f64
        } else {
            // A stage due at its own start: all of its (zero) time is used.
            1.0
        };
        if share >= yellow_share {
            Alert::Yellow
        } else {
            Alert::Normal
        }
    }

    /// Like [`describe_remaining`], but counts days as working days of this calendar's
    /// working hours: 10 working hours left with 7-hour days → `剩余1个工作日3小时`.
    pub fn describe_remaining_working(&self, seconds: i64) -> String {
        describe(seconds, self.hours.per_day().num_seconds(), "个工作日")
    }

    /// The two working periods of `date` as local date-times.
    fn periods(&self, date: NaiveDate) -> [(NaiveDateTime, NaiveDateTime); 2] {
        let (m0, m1) = self.hours.morning;
        let (a0, a1) = self.hours.afternoon;
        [
            (date.and_time(m0), date.and_time(m1)),
            (date.and_time(a0), date.and_time(a1)),
        ]
    }

    /// How many whole weeks from `date` on (at most `wanted`) hold no listed day, so that each
    /// holds exactly 5 working days.
    fn plain_weeks(&self, date: NaiveDate, wanted: i64) -> i64 {
        if wanted <= 0 {
            return 0;
        }
        match self.listed {
            None => wanted,
            Some((_, last)) if date > last => wanted,
            Some((first, _)) if date < first => wanted.min((first - date).num_days() / 7),
            Some(_) => 0,
        }
    }

    /// Working time between two local instants, `from <= to`.
    fn working_time(&self, from: NaiveDateTime, to: NaiveDateTime) -> TimeDelta {
        let week = self.hours.per_day() * 5;
        let mut total = TimeDelta::zero();
        let mut date = from.date();
        while date <= to.date() {
            if date > from.date() {
                // Days strictly between here and `to`'s date are whole: jump plain weeks.
                let weeks = self.plain_weeks(date, (to.date() - date).num_days() / 7);
                if weeks > 0 {
                    // weeks ≤ days to `to` / 7 (< 14 million in chrono's range), so the
                    // casts are exact and `date` stays at or before `to.date()`.
                    total += week * weeks as i32;
                    date = date + Days::new(7 * weeks as u64);
                    continue;
                }
            }
            if self.is_working_day(date) {
                for (start, end) in self.periods(date) {
                    let start = start.max(from);
                    let end = end.min(to);
                    if start < end {
                        total += end - start;
                    }
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// The local instant when `remaining` (> 0) working time after `start` is used up;
    /// `None` past chrono's range.
    fn add_working_time(
        &self,
        start: NaiveDateTime,
        mut remaining: TimeDelta,
    ) -> Option<NaiveDateTime> {
        let per_day = self.hours.per_day();
        let week = per_day * 5;
        let mut date = start.date();
        let mut cursor = start;
        loop {
            if self.is_working_day(date) {
                for (period_start, period_end) in self.periods(date) {
                    let from = period_start.max(cursor);
                    if from < period_end {
                        let available = period_end - from;
                        if remaining <= available {
                            return Some(from + remaining);
                        }
                        remaining -= available;
                    }
                }
            }
            date = date.succ_opt()?;
            cursor = date.and_time(NaiveTime::MIN);
            // Jump whole plain weeks but keep some time left, so the loop ends inside a day.
            let whole_weeks = (remaining.num_seconds() - 1) / week.num_seconds();
            let weeks = self.plain_weeks(date, whole_weeks);
            if weeks > 0 {
                remaining -= week * i32::try_from(weeks).ok()?;
                date = date.checked_add_days(Days::new(7 * weeks as u64))?;
                cursor = date.and_time(NaiveTime::MIN);
            }
        }
    }

    /// The `n`-th (> 0) working day after `date`; `None` past chrono's range.
    fn add_working_days(&self, mut date: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut left = i64::from(n);
        while left > 0 {
            let next = date.succ_opt()?;
            // Keep at least one day to count, so `date` ends on a working day.
            let weeks = self.plain_weeks(next, (left - 1) / 5);
            if weeks > 0 {
                date = date.checked_add_days(Days::new(7 * weeks as u64))?;
                left -= 5 * weeks;
                continue;
            }
            date = next;
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        Some(date)
    }
}

/// Remaining (positive) or overdue (negative) time in Chinese, days of 24 hours:
/// `剩余1天3小时`, `剩余2小时15分钟`, `已超期2小时`, `剩余不足1分钟`, and `已到期` for 0.
/// Lower units are truncated; minutes are shown only below one day. For working seconds
/// use [`Calendar::describe_remaining_working`], whose days are working days.
pub fn describe_remaining(seconds: i64) -> String {
    describe(seconds, 24 * 3600, "天")
}

fn describe(seconds: i64, day_seconds: i64, day_unit: &str) -> String {
    use std::fmt::Write as _;

    if seconds == 0 {
        return "已到期".to_owned();
    }
    let mut out = String::from(if seconds > 0 { "剩余" } else { "已超期" });
    let abs = seconds.unsigned_abs();
    // WorkingHours::validate guarantees a positive working day; guard anyway for 24 h.
    let day = u64::try_from(day_seconds).unwrap_or(1).max(1);
    let (days, rest) = (abs / day, abs % day);
    let (hours, minutes) = (rest / 3600, rest % 3600 / 60);
    // Writing to a String cannot fail.
    let _ = match (days, hours, minutes) {
        (0, 0, 0) => write!(out, "不足1分钟"),
        (0, 0, m) => write!(out, "{m}分钟"),
        (0, h, 0) => write!(out, "{h}小时"),
        (0, h, m) => write!(out, "{h}小时{m}分钟"),
        (d, 0, _) => write!(out, "{d}{day_unit}"),
        (d, h, _) => write!(out, "{d}{day_unit}{h}小时"),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A Shanghai wall-clock time as a UTC instant.
    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        to_utc(date(y, m, d).and_hms_opt(h, min, 0).unwrap())
    }

    #[test]
    fn shipped_calendar_parses_and_knows_spring_festival() {
        let cal = Calendar::shipped();
        assert!(!cal.is_working_day(date(2026, 2, 17)));
        assert!(cal.is_working_day(date(2026, 2, 14)), "Saturday 调休");
        assert!(
            !cal.is_working_day(date(2026, 2, 21)),
            "Saturday inside the holiday"
        );
        assert!(cal.is_working_day(date(2026, 2, 24)));
        assert_eq!(cal.special_day(date(2026, 2, 17)).unwrap().name, "春节");
        assert_eq!(
            cal.listed_range(),
            Some((date(2025, 1, 1), date(2026, 10, 10)))
        );
    }

    #[test]
    fn local_conversion_is_utc_plus_8() {
        let at = sh(2026, 3, 2, 8, 30);
        assert_eq!(at.to_rfc3339(), "2026-03-02T00:30:00+00:00");
        assert_eq!(business_date(sh(2026, 3, 2, 0, 5)), date(2026, 3, 2));
        assert_eq!(
            to_local(at),
            date(2026, 3, 2).and_hms_opt(8, 30, 0).unwrap()
        );
    }

    #[test]
    fn zero_limit_is_start() {
        let cal = Calendar::shipped();
        let start = sh(2026, 2, 15, 3, 0);
        for limit in [
            TimeLimit::working_hours(0),
            TimeLimit::working_days(0),
            TimeLimit::calendar_hours(0),
        ] {
            assert_eq!(cal.deadline(start, limit), start);
        }
    }

    /// Day-by-day reference for `add_working_time`, without the week jumps.
    fn add_working_time_slowly(
        cal: &Calendar,
        start: NaiveDateTime,
        mut remaining: TimeDelta,
    ) -> NaiveDateTime {
        let mut date = start.date();
        let mut cursor = start;
        loop {
            if cal.is_working_day(date) {
                for (s, e) in cal.periods(date) {
                    let s = s.max(cursor);
                    if s < e {
                        if remaining <= e - s {
                            return s + remaining;
                        }
                        remaining -= e - s;
                    }
                }
            }
            date = date.succ_opt().unwrap();
            cursor = date.and_time(NaiveTime::MIN);
        }
    }

    /// Day-by-day reference for `add_working_days`.
    fn add_working_days_slowly(cal: &Calendar, mut date: NaiveDate, mut n: u32) -> NaiveDate {
        while n > 0 {
            date = date.succ_opt().unwrap();
            if cal.is_working_day(date) {
                n -= 1;
            }
        }
        date
    }

    #[test]
    fn week_jumps_agree_with_day_by_day() {
        // The shipped calendar jumps before 2025 and after 2026-10-10; an empty one everywhere.
        let shipped = Calendar::shipped();
        let plain = Calendar::new(Vec::new(), WorkingHours::default());
        let starts = [
            sh(2024, 11, 13, 9, 15),
            sh(2026, 9, 30, 16, 45),
            sh(2026, 12, 26, 11, 0),
            sh(2027, 3, 3, 12, 30),
            sh(2030, 6, 7, 17, 59),
        ];
        for cal in [&shipped, &plain] {
            for start in starts {
                for n in [1, 6, 7, 34, 35, 36, 70, 71, 500, 3000] {
                    let fast = cal.deadline(start, TimeLimit::working_hours(n));
                    let slow = add_working_time_slowly(
                        cal,
                        to_local(start),
                        TimeDelta::hours(i64::from(n)),
                    );
                    assert_eq!(to_local(fast), slow, "{n} working hours from {start}");
                    assert_eq!(
                        cal.working_seconds_between(start, fast),
                        i64::from(n) * 3600
                    );

                    let fast = cal.deadline(start, TimeLimit::working_days(n));
                    let slow = add_working_days_slowly(cal, business_date(start), n);
                    assert_eq!(
                        to_local(fast),
                        slow.and_time(hm(18, 0)),
                        "{n} working days from {start}"
                    );
                }
            }
        }
    }

    #[test]
    fn saturates_instead_of_panicking() {
        let cal = Calendar::shipped();
        let start = sh(2026, 3, 2, 9, 0);
        assert_eq!(
            cal.deadline(DateTime::<Utc>::MAX_UTC, TimeLimit::calendar_hours(1)),
            DateTime::<Utc>::MAX_UTC
        );
        let far = cal.deadline(start, TimeLimit::working_hours(u32::MAX));
        assert_eq!(far, DateTime::<Utc>::MAX_UTC);
        let far_days = cal.deadline(start, TimeLimit::working_days(u32::MAX));
        assert!(far_days > sh(9999, 1, 1, 0, 0));
    }

    #[test]
    fn describe_formats() {
        assert_eq!(describe_remaining(27 * 3600), "剩余1天3小时");
        assert_eq!(describe_remaining(-2 * 3600), "已超期2小时");
        assert_eq!(
            describe_remaining(2 * 3600 + 15 * 60 + 59),
            "剩余2小时15分钟"
        );
        assert_eq!(describe_remaining(59), "剩余不足1分钟");
        assert_eq!(describe_remaining(45 * 60), "剩余45分钟");
        assert_eq!(describe_remaining(48 * 3600 + 59 * 60), "剩余2天");
        assert_eq!(describe_remaining(0), "已到期");
        let cal = Calendar::shipped();
        assert_eq!(
            cal.describe_remaining_working(10 * 3600),
            "剩余1个工作日3小时"
        );
        assert_eq!(
            cal.describe_remaining_working(-14 * 3600),
            "已超期2个工作日"
        );
    }

    #[test]
    fn display_and_serde_names() {
        assert_eq!(TimeLimit::working_days(2).to_string(), "2个工作日");
        assert_eq!(TimeLimit::working_hours(4).to_string(), "4个工作小时");
        assert_eq!(TimeLimit::calendar_hours(24).to_string(), "24小时");
        assert_eq!(Alert::Yellow.to_string(), "黄灯");
        assert_eq!(Alert::Normal.label(), "正常");
        assert_eq!(Alert::Red.label(), "红灯");
        assert!(Alert::Normal < Alert::Yellow && Alert::Yellow < Alert::Red);
    }

    #[test]
    fn invalid_hours_are_refused() {
        let bad = WorkingHours {
            morning: (hm(9, 0), hm(15, 0)),
            afternoon: (hm(14, 0), hm(18, 0)),
        };
        let err = Calendar::try_new(Vec::new(), bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "working hours: morning ends at 15:00:00, after the afternoon starts at 14:00:00"
        );
        let empty = WorkingHours {
            morning: (hm(9, 0), hm(9, 0)),
            afternoon: (hm(14, 0), hm(18, 0)),
        };
        assert!(empty.validate().is_err());
        assert_eq!(WorkingHours::default().per_day(), TimeDelta::hours(7));
    }
}
