//! The figures of a region, unit, grid or category over a period (一屏观全市 and the periodic
//! reports), each with its formula and denominator written down here and nowhere else.
//!
//! Practice followed: GB/T 30428.4-2016 (数字化城市管理信息系统 第4部分：绩效评价) defines
//! 立案数, 结案数, 结案率 = 结案数 / 立案数, 按期结案率 = 按期结案数 / 应结案数, 返工率 =
//! 返工案件数 / 处置案件数 and similar rates over the cases registered in the period; city
//! evaluation rules for 全科网格 add 受理数 (valid reports), 处置率 = 处置数 / 立案数 and the
//! share of cases settled at grid tier (网格内解决率, "小事不出网格") and at or below the township
//! (乡镇内解决率, "大事不出乡镇").
//!
//! Figures are cohort figures: they count the cases *reported* in the period (by their
//! Asia/Shanghai date), each as it stands now. A case reported in March and closed in April
//! counts in March's 结案数 once it is closed. This makes every figure a sum of per-case
//! flags, so rollups can be kept exactly by adding the difference a change makes.

use serde::{Deserialize, Serialize};

use crate::case::{Case, CaseState, Channel, Satisfaction};
use crate::taxonomy::Tier;

/// What one case contributes to the figures: each field 0 or 1, except the seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Reported (every case).
    pub reported: i64,
    /// 受理数: accepted as valid (not rejected; voided cases count as accepted if they were).
    pub accepted: i64,
    /// 不予受理数.
    pub rejected: i64,
    /// 立案数: registered at least once, or settled on the spot (就地处置 registers and handles
    /// in one act).
    pub registered: i64,
    /// 派遣数: dispatched at least once.
    pub dispatched: i64,
    /// 处置数: handled — reported back (or settled on the spot) at least once and not sent back
    /// for rework since.
    pub handled: i64,
    /// Handled before its handling deadline (never overdue).
    pub handled_on_time: i64,
    /// 结案数.
    pub closed: i64,
    /// Closed without ever being overdue.
    pub closed_on_time: i64,
    /// Sent back for rework at least once (返工).
    pub reworked: i64,
    /// Extended at least once (延期).
    pub extended: i64,
    /// Overdue at some stage (超期).
    pub overdue: i64,
    /// Voided (作废).
    pub voided: i64,
    /// Rated at follow-up (回访).
    pub evaluated: i64,
    /// Rated satisfied or basically satisfied.
    pub satisfied: i64,
    /// Closed while at grid tier (网格内解决).
    pub settled_in_grid: i64,
    /// Closed at grid, village or township tier (乡镇内解决).
    pub settled_in_township: i64,
    /// Seconds from report to handling, summed over handled cases (for the mean).
    pub handle_seconds: i64,
}

impl Counters {
    /// The flags of one case as it stands.
    pub fn of(case: &Case) -> Counters {
        let state = case.state;
        let flag = |yes: bool| i64::from(yes);
        // A case voided before registration never got a category; one voided after did.
        let never_registered = matches!(
            state,
            CaseState::Reported | CaseState::Accepted | CaseState::Rejected
        ) || (state == CaseState::Voided && case.category.is_none());
        let past_registration = !never_registered;
        let closed = matches!(state, CaseState::Closed | CaseState::Evaluated);
        let handled = case.handled_at.is_some()
            && matches!(
                state,
                CaseState::ReportedBack
                    | CaseState::Verified
                    | CaseState::Closed
                    | CaseState::Evaluated
            );
        Counters {
            reported: 1,
            accepted: flag(state != CaseState::Reported && state != CaseState::Rejected),
            rejected: flag(state == CaseState::Rejected),
            registered: flag(past_registration),
            dispatched: flag(case.dispatched_at.is_some()),
            handled: flag(handled),
            handled_on_time: flag(handled && !case.overdue),
            closed: flag(closed),
            closed_on_time: flag(closed && !case.overdue),
            reworked: flag(case.counts.reworks > 0),
            extended: flag(case.counts.extensions > 0),
            overdue: flag(case.overdue),
            voided: flag(state == CaseState::Voided),
            evaluated: flag(case.satisfaction.is_some()),
            satisfied: flag(matches!(
                case.satisfaction,
                Some(Satisfaction::Satisfied | Satisfaction::BasicallySatisfied)
            )),
            settled_in_grid: flag(closed && case.tier == Tier::Grid),
            settled_in_township: flag(closed && case.tier <= Tier::Township),
            handle_seconds: match (handled, case.handled_at) {
                (true, Some(at)) => (at - case.created_at).num_seconds().max(0),
                _ => 0,
            },
        }
    }

    /// `self + other`, field by field.
    pub fn plus(self, other: Counters) -> Counters {
        self.zip(other, |a, b| a + b)
    }

    /// `self − other`, field by field: the change a case's update makes.
    pub fn minus(self, other: Counters) -> Counters {
        self.zip(other, |a, b| a - b)
    }

    pub fn is_zero(&self) -> bool {
        *self == Counters::default()
    }

    /// The fields in a fixed order, with their names (for storage and CSV).
    pub fn fields(&self) -> [(&'static str, i64); 18] {
        [
            ("reported", self.reported),
            ("accepted", self.accepted),
            ("rejected", self.rejected),
            ("registered", self.registered),
            ("dispatched", self.dispatched),
            ("handled", self.handled),
            ("handled_on_time", self.handled_on_time),
            ("closed", self.closed),
            ("closed_on_time", self.closed_on_time),
            ("reworked", self.reworked),
            ("extended", self.extended),
            ("overdue", self.overdue),
            ("voided", self.voided),
            ("evaluated", self.evaluated),
            ("satisfied", self.satisfied),
            ("settled_in_grid", self.settled_in_grid),
            ("settled_in_township", self.settled_in_township),
            ("handle_seconds", self.handle_seconds),
        ]
    }

    /// The inverse of `fields`.
    pub fn from_values(values: [i64; 18]) -> Counters {
        let [
            reported,
            accepted,
            rejected,
            registered,
            dispatched,
            handled,
            handled_on_time,
            closed,
            closed_on_time,
            reworked,
            extended,
            overdue,
            voided,
            evaluated,
            satisfied,
            settled_in_grid,
            settled_in_township,
            handle_seconds,
        ] = values;
        Counters {
            reported,
            accepted,
            rejected,
            registered,
            dispatched,
            handled,
            handled_on_time,
            closed,
            closed_on_time,
            reworked,
            extended,
            overdue,
            voided,
            evaluated,
            satisfied,
            settled_in_grid,
            settled_in_township,
            handle_seconds,
        }
    }

    fn zip(self, other: Counters, op: impl Fn(i64, i64) -> i64) -> Counters {
        let a = self.fields();
        let b = other.fields();
        let mut values = [0i64; 18];
        for (i, value) in values.iter_mut().enumerate() {
            *value = op(a[i].1, b[i].1);
        }
        Counters::from_values(values)
    }
}

/// A rate with its numerator and denominator kept, so that a report can show both and a
/// ranking can weigh them. `None` when the denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub numerator: i64,
    pub denominator: i64,
    /// numerator / denominator, in [0, 1]; absent when the denominator is 0.
    pub value: Option<f64>,
}

impl Rate {
    pub fn new(numerator: i64, denominator: i64) -> Rate {
        Rate {
            numerator,
            denominator,
            value: (denominator > 0).then(|| numerator as f64 / denominator as f64),
        }
    }

    /// As a whole percentage for prose, rounded half up (92%).
    pub fn percent(&self) -> Option<i64> {
        self.value.map(|v| (v * 100.0 + 0.5).floor() as i64)
    }
}

/// The figures, computed from counters. Each rate's denominator is named in its doc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub counters: Counters,
    /// 受理数 = accepted.
    pub accepted: i64,
    /// 不予受理数.
    pub rejected: i64,
    /// 立案数.
    pub registered: i64,
    /// 派遣数.
    pub dispatched: i64,
    /// 处置数.
    pub handled: i64,
    /// 结案数.
    pub closed: i64,
    /// 超期数.
    pub overdue: i64,
    /// 处置率 = 处置数 / 受理数 (the city's headline: 处置334146 / 受理363041 = 92%).
    pub handle_rate: Rate,
    /// 按期处置率 = handled on time / 处置数.
    pub on_time_handle_rate: Rate,
    /// 结案率 = 结案数 / 立案数 (GB/T 30428.4).
    pub close_rate: Rate,
    /// 按期结案率 = closed on time / 结案数.
    pub on_time_close_rate: Rate,
    /// 返工率 = reworked / 处置数 (GB/T 30428.4).
    pub rework_rate: Rate,
    /// 延期率 = extended / 立案数.
    pub extension_rate: Rate,
    /// 满意率 = satisfied or basically satisfied / rated at follow-up.
    pub satisfaction_rate: Rate,
    /// 网格内解决率 = closed at grid tier / 结案数.
    pub grid_settlement_rate: Rate,
    /// 乡镇内解决率 = closed at or below township tier / 结案数.
    pub township_settlement_rate: Rate,
    /// Mean hours from report to handling, over handled cases.
    pub mean_hours_to_handle: Option<f64>,
}

impl Figures {
    pub fn from_counters(c: Counters) -> Figures {
        Figures {
            accepted: c.accepted,
            rejected: c.rejected,
            registered: c.registered,
            dispatched: c.dispatched,
            handled: c.handled,
            closed: c.closed,
            overdue: c.overdue,
            handle_rate: Rate::new(c.handled, c.accepted),
            on_time_handle_rate: Rate::new(c.handled_on_time, c.handled),
            close_rate: Rate::new(c.closed, c.registered),
            on_time_close_rate: Rate::new(c.closed_on_time, c.closed),
            rework_rate: Rate::new(c.reworked, c.handled),
            extension_rate: Rate::new(c.extended, c.registered),
            satisfaction_rate: Rate::new(c.satisfied, c.evaluated),
            grid_settlement_rate: Rate::new(c.settled_in_grid, c.closed),
            township_settlement_rate: Rate::new(c.settled_in_township, c.closed),
            mean_hours_to_handle: (c.handled > 0)
                .then(|| c.handle_seconds as f64 / c.handled as f64 / 3600.0),
            counters: c,
        }
    }
}

/// The channel mix is kept beside the counters: cases reported per channel.
pub fn channel_index(channel: Channel) -> usize {
    match channel {
        Channel::GridPatrol => 0,
        Channel::Resident => 1,
        Channel::Hotline => 2,
        Channel::OtherNetwork => 3,
        Channel::Open311 => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_citys_headline_rounds_to_92_percent() {
        // 受理有效事件363041件，处置334146件，处置率达92%.
        let rate = Rate::new(334_146, 363_041);
        assert_eq!(rate.percent(), Some(92));
        assert!(Rate::new(0, 0).value.is_none());
    }

    #[test]
    fn counters_add_and_subtract_field_by_field() {
        let a = Counters {
            reported: 1,
            closed: 1,
            handle_seconds: 60,
            ..Counters::default()
        };
        let b = Counters {
            reported: 1,
            rejected: 1,
            ..Counters::default()
        };
        let sum = a.plus(b);
        assert_eq!(
            (sum.reported, sum.closed, sum.rejected, sum.handle_seconds),
            (2, 1, 1, 60)
        );
        assert_eq!(sum.minus(b), a);
        assert!(a.minus(a).is_zero());
        let values = sum.fields().map(|(_, v)| v);
        assert_eq!(Counters::from_values(values), sum);
    }
}

/// One row of the rollups: the counters of the cases reported on `day` (Asia/Shanghai) in
/// `area` — a region or grid code, or `unit:{unit}` for a unit — optionally narrowed to one
/// 大类 (`category`) or one `channel` ("" for all).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RollupKey {
    pub day: String,
    pub area: String,
    pub category: String,
    pub channel: String,
}

/// The rows a case counts in: every area of its chain from the grid up to its county, for
/// all categories and channels, by 大类 and by channel (the mixes and the high-frequency
/// categories); the unit it is dispatched to.
///
/// Cities and provinces have no rows of their own: their figures are the sum of their
/// counties' rows (11 counties × 365 days for 晋中市's year). Every case of a province would
/// otherwise update the same city and province rows, and on a distributed store every write
/// would queue behind one row lock; this way writes in different counties never meet.
pub fn rollup_keys(case: &Case) -> Vec<RollupKey> {
    let day = crate::calendar::business_date(case.created_at)
        .format("%Y-%m-%d")
        .to_string();
    let key = |area: &str, category: &str, channel: &str| RollupKey {
        day: day.clone(),
        area: area.to_owned(),
        category: category.to_owned(),
        channel: channel.to_owned(),
    };
    // Codes below the county are longer than 6 digits; the county is the case's own.
    let mut areas: Vec<&str> = case
        .chain
        .iter()
        .filter(|area| area.len() > 6)
        .map(String::as_str)
        .collect();
    areas.push(&case.county);
    let major = case
        .category
        .as_deref()
        .and_then(|c| c.get(..2))
        .unwrap_or("00");
    let mut keys = Vec::with_capacity(areas.len() * 3 + 1);
    for area in areas {
        keys.push(key(area, "", ""));
        keys.push(key(area, major, ""));
        keys.push(key(area, "", case.channel.as_str()));
    }
    if let Some(unit) = &case.unit {
        keys.push(key(&format!("unit:{unit}"), "", ""));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// What a change of one case (`before` → `after`; `None` before a new case) does to the
/// rollups: the counters to add to each row, zero rows left out.
pub fn rollup_changes(before: Option<&Case>, after: &Case) -> Vec<(RollupKey, Counters)> {
    let mut changes: std::collections::BTreeMap<RollupKey, Counters> = Default::default();
    if let Some(before) = before {
        let counters = Counters::of(before);
        for key in rollup_keys(before) {
            let entry = changes.entry(key).or_default();
            *entry = entry.minus(counters);
        }
    }
    let counters = Counters::of(after);
    for key in rollup_keys(after) {
        let entry = changes.entry(key).or_default();
        *entry = entry.plus(counters);
    }
    changes.into_iter().filter(|(_, c)| !c.is_zero()).collect()
}
