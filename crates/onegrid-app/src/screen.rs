//! What the command-centre screen (一屏观全市) reads beside the figures: a region's trend by
//! day, week or month, its open overdue cases, and the change mark a live screen polls.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use onegrid_domain::access::Capability;
use onegrid_domain::case::{Case, CaseState};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::{Breakdown, CaseFilter};
use serde::Serialize;

use crate::access::Principal;
use crate::figures::Period;
use crate::{App, AppError, AppResult, ChainLink};

/// The width of one point of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendStep {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

impl TrendStep {
    pub fn parse(text: &str) -> AppResult<TrendStep> {
        match text {
            "day" => Ok(TrendStep::Day),
            "week" => Ok(TrendStep::Week),
            "month" => Ok(TrendStep::Month),
            other => Err(AppError::invalid(format!(
                "step: '{other}' is not day, week or month"
            ))),
        }
    }

    /// The step a chart of the period reads best in: days up to about six weeks, weeks up to
    /// about half a year, months beyond.
    pub fn for_period(period: Period) -> TrendStep {
        let days = (period.to - period.from).num_days() + 1;
        if days <= 45 {
            TrendStep::Day
        } else if days <= 190 {
            TrendStep::Week
        } else {
            TrendStep::Month
        }
    }

    /// The first day of the step that holds `date`.
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            TrendStep::Day => date,
            TrendStep::Week => {
                date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
            }
            TrendStep::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The first day of the step after the one that starts on `start`.
    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            TrendStep::Day => start + Duration::days(1),
            TrendStep::Week => start + Duration::days(7),
            TrendStep::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start + Duration::days(31)),
        }
    }

    fn label(self, start: NaiveDate) -> String {
        match self {
            TrendStep::Day => start.format("%Y-%m-%d").to_string(),
            TrendStep::Week => {
                let week = start.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            TrendStep::Month => start.format("%Y-%m").to_string(),
        }
    }
}

/// One point of a region's trend: the cases reported in one step, each as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendBucket {
    /// `2026-03-05`, `2026-W10` or `2026-03`.
    pub label: String,
    /// The step's first day (clipped to the period).
    pub start: NaiveDate,
    pub reported: i64,
    pub accepted: i64,
    pub handled: i64,
    pub closed: i64,
    pub overdue: i64,
}

/// A region's trend over a period, every step present (zero where nothing was reported).
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub region: ChainLink,
    pub period: Period,
    pub step: TrendStep,
    pub points: Vec<TrendBucket>,
}

/// An open case that ran past a deadline, with what a screen shows beside it.
#[derive(Debug, Clone)]
pub struct OverdueCase {
    pub case: Case,
    /// The 小类's name, when the case has one.
    pub category_name: Option<String>,
    /// The case's place from the deepest area up, by name.
    pub chain: Vec<ChainLink>,
    /// Working seconds past the current stage's deadline; `None` when the current stage has
    /// no deadline or is still within it (the case ran late at an earlier stage).
    pub overdue_seconds: Option<i64>,
    /// The same in Chinese working time (`已超期1天2小时`).
    pub overdue_text: Option<String>,
}

/// The open overdue cases of a region.
#[derive(Debug, Clone)]
pub struct OverdueList {
    /// Most overdue first.
    pub cases: Vec<OverdueCase>,
    /// Whether more open overdue cases exist than were listed.
    pub more: bool,
}

/// The most cases an overdue list holds.
pub const OVERDUE_LIST_MAX: u32 = 200;

impl App {
    /// The region a screen shows, by its code; not found when the atlas has no such region.
    pub fn screen_region(&self, code: &RegionCode) -> AppResult<ChainLink> {
        self.atlas()
            .chain(code.as_str())
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found(format!("region {code}")))
    }

    /// The region `/screen` opens on: the city with the most grids (a store holds the division
    /// codes of the whole country but governs one city), else the first city by code, else
    /// the first province or county.
    pub fn screen_home(&self) -> AppResult<RegionCode> {
        let atlas = self.atlas();
        let mut grids_per_city: std::collections::BTreeMap<&str, usize> = Default::default();
        for region in atlas.all_regions() {
            if region.level() == Level::Grid
                && region.valid_to.is_none()
                && let Some(city) = region.code.as_str().get(..4)
            {
                *grids_per_city.entry(city).or_default() += 1;
            }
        }
        let busiest = grids_per_city
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(city, _)| format!("{city}00"));
        if let Some(city) = busiest.and_then(|code| atlas.region(&code).map(|r| r.code.clone())) {
            return Ok(city);
        }
        for level in [Level::City, Level::Province, Level::County] {
            let first = atlas
                .all_regions()
                .filter(|region| region.level() == level && region.valid_to.is_none())
                .map(|region| region.code.clone())
                .min_by(|a, b| a.as_str().cmp(b.as_str()));
            if let Some(code) = first {
                return Ok(code);
            }
        }
        Err(AppError::not_found("any city, province or county"))
    }

    /// A region's (or grid's) cases reported in each day, week or month of the period.
    pub async fn trend(
        &self,
        code: &RegionCode,
        period: Period,
        step: TrendStep,
    ) -> AppResult<Trend> {
        let region = self.screen_region(code)?;
        let days = self
            .breakdown(code.as_str(), Breakdown::Day, period)
            .await?;
        let mut points = Vec::new();
        let mut start = step.start_of(period.from);
        while start <= period.to {
            points.push(TrendBucket {
                label: step.label(start),
                start: start.max(period.from),
                reported: 0,
                accepted: 0,
                handled: 0,
                closed: 0,
                overdue: 0,
            });
            start = step.next(start);
        }
        for (day, counters) in days {
            let Ok(date) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
                continue;
            };
            let label = step.label(step.start_of(date));
            let Some(point) = points.iter_mut().find(|p| p.label == label) else {
                continue;
            };
            point.reported += counters.reported;
            point.accepted += counters.accepted;
            point.handled += counters.handled;
            point.closed += counters.closed;
            point.overdue += counters.overdue;
        }
        Ok(Trend {
            region,
            period,
            step,
            points,
        })
    }

    /// The newest open cases of a region that ran past a deadline (at most `limit`, up to
    /// [`OVERDUE_LIST_MAX`]), most overdue first. Suspended cases count as open.
    pub async fn overdue_cases(
        &self,
        code: &RegionCode,
        limit: u32,
        now: DateTime<Utc>,
    ) -> AppResult<OverdueList> {
        self.overdue_cases_as(&Principal::system(), code, limit, now)
            .await
    }

    /// The same for a person: only where they may read figures and reports, and only the
    /// cases inside those scopes.
    pub async fn overdue_cases_as(
        &self,
        principal: &Principal,
        code: &RegionCode,
        limit: u32,
        now: DateTime<Utc>,
    ) -> AppResult<OverdueList> {
        let atlas = self.atlas();
        if atlas.region(code.as_str()).is_none() {
            return Err(AppError::not_found(format!("region {code}")));
        }
        self.authorize_region(principal, Capability::ReadReports, code)?;
        let limit = limit.clamp(1, OVERDUE_LIST_MAX);
        let filter = CaseFilter {
            region: Some(code.clone()),
            states: CaseState::ALL
                .into_iter()
                .filter(|state| state.is_open())
                .collect(),
            overdue: Some(true),
            scope: principal.case_scope(Capability::ReadReports),
            ..CaseFilter::default()
        };
        let page = self.store().list_cases(&filter, None, limit).await?;
        let rules = self.rules();
        let mut cases: Vec<OverdueCase> = page
            .cases
            .into_iter()
            .map(|case| {
                let overdue_seconds = case
                    .stage_deadline
                    .map(|deadline| -rules.calendar.remaining_working_seconds(now, deadline))
                    .filter(|seconds| *seconds > 0);
                let category_name = case
                    .category
                    .as_deref()
                    .and_then(|code| rules.taxonomy.minor(code))
                    .map(|(_, minor)| minor.name.clone());
                let deepest = case.chain.first().cloned().unwrap_or_default();
                let overdue_text = overdue_seconds
                    .map(|seconds| rules.calendar.describe_remaining_working(-seconds));
                OverdueCase {
                    overdue_text,
                    chain: atlas.chain(&deepest),
                    category_name,
                    overdue_seconds,
                    case,
                }
            })
            .collect();
        cases.sort_by(|a, b| {
            b.overdue_seconds
                .unwrap_or(0)
                .cmp(&a.overdue_seconds.unwrap_or(0))
                .then_with(|| b.case.id.cmp(&a.case.id))
        });
        Ok(OverdueList {
            cases,
            more: page.next_cursor.is_some(),
        })
    }

    /// A number that changes whenever a case in the region's county (or, for a city or
    /// province, in any of its counties) changes: the sum of those counties' record-chain
    /// positions. It reads one small table, so a screen may poll it every few seconds; it
    /// moves for changes made by any process writing the same store. It may move for a change
    /// elsewhere in the same county, so a screen refetches a little more often than it must,
    /// never less.
    pub async fn change_mark(&self, code: &RegionCode) -> AppResult<i64> {
        let level = code.level();
        let code = code.as_str();
        let within = |county: &str| match level {
            Level::Province => county.get(..2) == code.get(..2),
            Level::City => county.get(..4) == code.get(..4),
            _ => Some(county) == code.get(..6),
        };
        Ok(self
            .store()
            .chain_positions()
            .await?
            .into_iter()
            .filter(|(county, _)| within(county))
            .map(|(_, seq)| seq)
            .sum())
    }
}
