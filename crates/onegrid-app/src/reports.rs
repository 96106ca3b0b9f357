//! The periodic report of a region (`onegrid report`, `/api/v1/reports/…`): its figures in
//! Chinese prose, the high-frequency categories, the trend and the ranking of its children,
//! as text, JSON or CSV. The prose is written from the same figures the tables show.

use chrono::Datelike;
use onegrid_domain::metrics::{Figures, Rate};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::Breakdown;
use serde::Serialize;

use crate::figures::{Period, RankBy, Ranked};
use crate::{App, AppResult, ChainLink};

/// One point of the trend: a month (or week) and its counts.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    /// `2026-03` or `2026-W10`.
    pub label: String,
    pub reported: i64,
    pub accepted: i64,
    pub handled: i64,
    pub closed: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub region: ChainLink,
    pub period: Period,
    pub figures: Figures,
    /// The report's sentences, in order.
    pub prose: Vec<String>,
    /// 大类 by cases reported, most first: (code, name, count).
    pub top_categories: Vec<(String, String, i64)>,
    pub trend: Vec<TrendPoint>,
    /// The children ranked by the composite score.
    pub ranking: Vec<Ranked>,
}

/// The default composite: 处置率 40%, 按期结案率 30%, 满意率 30%.
pub fn default_weights() -> Vec<(String, f64)> {
    vec![
        ("handle_rate".to_owned(), 0.4),
        ("on_time_close_rate".to_owned(), 0.3),
        ("satisfaction_rate".to_owned(), 0.3),
    ]
}

/// How a region speaks of itself: 全市, 全区, 全县, 全镇, 全街道, or its name.
fn scope_word(region: &ChainLink) -> String {
    let name = region.name.as_str();
    match region.level {
        Level::Province => "全省".to_owned(),
        Level::City => "全市".to_owned(),
        Level::County | Level::Township => {
            for suffix in ["街道", "区", "县", "市", "镇", "乡", "旗"] {
                if name.ends_with(suffix) {
                    return format!("全{suffix}");
                }
            }
            name.to_owned()
        }
        Level::Village | Level::Grid => name.to_owned(),
    }
}

fn percent(rate: &Rate) -> String {
    match rate.percent() {
        Some(p) => format!("{p}%"),
        None => "—".to_owned(),
    }
}

/// The report's sentences, from the figures alone.
pub fn prose(region: &ChainLink, figures: &Figures, top: &[(String, String, i64)]) -> Vec<String> {
    let scope = scope_word(region);
    let mut sentences = vec![format!(
        "{scope}网格共受理各类有效事件{}件，处置{}件，处置率达{}。",
        figures.accepted,
        figures.handled,
        percent(&figures.handle_rate)
    )];
    sentences.push(format!(
        "立案{}件，结案{}件，结案率{}，按期结案率{}；不予受理{}件，超期{}件。",
        figures.registered,
        figures.closed,
        percent(&figures.close_rate),
        percent(&figures.on_time_close_rate),
        figures.rejected,
        figures.overdue
    ));
    sentences.push(format!(
        "网格内解决率{}，乡镇内解决率{}，返工率{}，群众满意率{}。",
        percent(&figures.grid_settlement_rate),
        percent(&figures.township_settlement_rate),
        percent(&figures.rework_rate),
        percent(&figures.satisfaction_rate)
    ));
    if !top.is_empty() {
        let listed: Vec<String> = top
            .iter()
            .take(3)
            .map(|(_, name, count)| format!("{name}（{count}件）"))
            .collect();
        sentences.push(format!("高发事件类别为{}。", listed.join("、")));
    }
    sentences
}

impl App {
    pub async fn report(&self, code: &RegionCode, period: Period) -> AppResult<Report> {
        let figures = self.region_figures(code, period).await?;
        let ranking = self
            .rank_children(code, period, &RankBy::Composite(default_weights()))
            .await?;
        let days = self
            .breakdown(code.as_str(), Breakdown::Day, period)
            .await?;
        // Months for periods longer than ~two months, ISO weeks otherwise.
        let monthly = (period.to - period.from).num_days() > 62;
        let mut trend: Vec<TrendPoint> = Vec::new();
        for (day, counters) in days {
            let Ok(date) = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
                continue;
            };
            let label = if monthly {
                format!("{}-{:02}", date.year(), date.month())
            } else {
                let week = date.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            };
            match trend.last_mut() {
                Some(last) if last.label == label => {
                    last.reported += counters.reported;
                    last.accepted += counters.accepted;
                    last.handled += counters.handled;
                    last.closed += counters.closed;
                }
                _ => trend.push(TrendPoint {
                    label,
                    reported: counters.reported,
                    accepted: counters.accepted,
                    handled: counters.handled,
                    closed: counters.closed,
                }),
            }
        }
        Ok(Report {
            prose: prose(&figures.region, &figures.figures, &figures.categories),
            region: figures.region,
            period,
            figures: figures.figures,
            top_categories: figures.categories,
            trend,
            ranking,
        })
    }
}

impl Report {
    /// Plain text: title, prose, then the tables.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}网格化服务管理运行情况（{} 至 {}）\n\n",
            self.region.name, self.period.from, self.period.to
        );
        for sentence in &self.prose {
            text.push_str(sentence);
        }
        text.push_str("\n\n排名（综合得分 = 处置率40% + 按期结案率30% + 满意率30%）\n");
        for ranked in &self.ranking {
            text.push_str(&format!(
                "{:>3}. {}  受理{} 处置{} 处置率{} 得分{}\n",
                ranked.rank,
                ranked.area.name,
                ranked.figures.accepted,
                ranked.figures.handled,
                percent(&ranked.figures.handle_rate),
                ranked
                    .score
                    .map_or("—".to_owned(), |s| format!("{:.1}", s * 100.0))
            ));
        }
        if !self.trend.is_empty() {
            text.push_str("\n趋势\n");
            for point in &self.trend {
                text.push_str(&format!(
                    "{}  上报{} 受理{} 处置{} 结案{}\n",
                    point.label, point.reported, point.accepted, point.handled, point.closed
                ));
            }
        }
        text
    }

    /// CSV: one row for the region and one per child, every counter and rate.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "区划代码,名称,层级,受理数,不予受理数,立案数,派遣数,处置数,处置率,按期处置率,结案数,结案率,按期结案率,返工率,延期率,超期数,满意率,网格内解决率,乡镇内解决率,平均处置时长(小时)\n",
        );
        let row = |area: &ChainLink, f: &Figures| {
            let rate = |r: &Rate| r.value.map_or(String::new(), |v| format!("{v:.4}"));
            format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                area.code,
                area.name,
                area.level_label,
                f.accepted,
                f.rejected,
                f.registered,
                f.dispatched,
                f.handled,
                rate(&f.handle_rate),
                rate(&f.on_time_handle_rate),
                f.closed,
                rate(&f.close_rate),
                rate(&f.on_time_close_rate),
                rate(&f.rework_rate),
                rate(&f.extension_rate),
                f.overdue,
                rate(&f.satisfaction_rate),
                rate(&f.grid_settlement_rate),
                rate(&f.township_settlement_rate),
                f.mean_hours_to_handle
                    .map_or(String::new(), |h| format!("{h:.2}"))
            )
        };
        out.push_str(&row(&self.region, &self.figures));
        for ranked in &self.ranking {
            out.push_str(&row(&ranked.area, &ranked.figures));
        }
        out
    }
}
