//! Figures for any region, grid or unit over any period (一屏观全市), read from the rollups —
//! never by scanning cases — and rankings of a region's children.

use chrono::NaiveDate;
use onegrid_domain::RegionCode;
use onegrid_domain::case::Channel;
use onegrid_domain::metrics::{Counters, Figures};
use onegrid_store::Breakdown;
use serde::Serialize;

use crate::{App, AppError, AppResult, ChainLink};

/// A period of report dates (Asia/Shanghai), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> AppResult<Period> {
        if to < from {
            return Err(AppError::invalid(format!("period: {to} is before {from}")));
        }
        Ok(Period { from, to })
    }

    fn bounds(&self) -> (String, String) {
        let end = self.to.succ_opt().unwrap_or(self.to);
        (
            self.from.format("%Y-%m-%d").to_string(),
            end.format("%Y-%m-%d").to_string(),
        )
    }
}

/// One area's figures.
#[derive(Debug, Clone, Serialize)]
pub struct AreaFigures {
    pub area: ChainLink,
    pub figures: Figures,
}

/// A region's figures with its mixes and its children's figures.
#[derive(Debug, Clone, Serialize)]
pub struct RegionFigures {
    pub region: ChainLink,
    pub period: Period,
    pub figures: Figures,
    /// Cases reported per channel.
    pub channels: Vec<(Channel, i64)>,
    /// Cases reported per 大类 (code, name, count), most first.
    pub categories: Vec<(String, String, i64)>,
    pub children: Vec<AreaFigures>,
}

/// What a ranking orders by.
#[derive(Debug, Clone, PartialEq)]
pub enum RankBy {
    /// One figure, by name (e.g. `handle_rate`, `accepted`).
    Figure(String),
    /// A weighted sum of rates (each in [0, 1]): e.g. handle_rate 0.4, close_rate 0.3,
    /// satisfaction_rate 0.3.
    Composite(Vec<(String, f64)>),
}

/// One place in a ranking.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub area: ChainLink,
    pub score: Option<f64>,
    pub figures: Figures,
}

/// A figure by name, as a number (rates as their value in [0, 1]).
pub fn figure_value(figures: &Figures, name: &str) -> AppResult<Option<f64>> {
    let rate = |r: &onegrid_domain::metrics::Rate| r.value;
    Ok(match name {
        "accepted" => Some(figures.accepted as f64),
        "rejected" => Some(figures.rejected as f64),
        "registered" => Some(figures.registered as f64),
        "dispatched" => Some(figures.dispatched as f64),
        "handled" => Some(figures.handled as f64),
        "closed" => Some(figures.closed as f64),
        "overdue" => Some(figures.overdue as f64),
        "handle_rate" => rate(&figures.handle_rate),
        "on_time_handle_rate" => rate(&figures.on_time_handle_rate),
        "close_rate" => rate(&figures.close_rate),
        "on_time_close_rate" => rate(&figures.on_time_close_rate),
        "rework_rate" => rate(&figures.rework_rate),
        "extension_rate" => rate(&figures.extension_rate),
        "satisfaction_rate" => rate(&figures.satisfaction_rate),
        "grid_settlement_rate" => rate(&figures.grid_settlement_rate),
        "township_settlement_rate" => rate(&figures.township_settlement_rate),
        "mean_hours_to_handle" => figures.mean_hours_to_handle,
        other => {
            return Err(AppError::invalid(format!("figure '{other}' is unknown")));
        }
    })
}

/// Figures where less is better rank ascending.
fn lower_is_better(name: &str) -> bool {
    matches!(
        name,
        "rejected" | "overdue" | "rework_rate" | "extension_rate" | "mean_hours_to_handle"
    )
}

impl App {
    fn link(&self, code: &str) -> AppResult<ChainLink> {
        self.atlas()
            .chain(code)
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found(format!("region {code}")))
    }

    /// The rollup rows that make up an area: a city or province is the sum of its counties
    /// (see `metrics::rollup_keys`); anything else has rows of its own.
    fn rollup_areas(&self, area: &str) -> Vec<String> {
        let Ok(code) = RegionCode::parse(area) else {
            return vec![area.to_owned()];
        };
        if code.level() > onegrid_domain::Level::City {
            return vec![area.to_owned()];
        }
        let prefix = match code.level() {
            onegrid_domain::Level::Province => &area[..2],
            _ => &area[..4],
        };
        let atlas = self.atlas();
        let mut counties: Vec<String> = atlas
            .all_regions()
            .filter(|r| r.level() == onegrid_domain::Level::County)
            .map(|r| r.code.to_string())
            .filter(|c| c.starts_with(prefix))
            .collect();
        counties.sort();
        counties
    }

    /// The counters of each area (region or grid codes, or `unit:…`) over a period, from one
    /// question to the store: every rollup row the areas are made of, each asked once (a city
    /// and its counties share the same rows).
    pub async fn counters(&self, areas: &[String], period: Period) -> AppResult<Vec<Counters>> {
        let (from, to) = period.bounds();
        let parts: Vec<Vec<String>> = areas.iter().map(|area| self.rollup_areas(area)).collect();
        let mut distinct: Vec<String> = parts.iter().flatten().cloned().collect();
        distinct.sort();
        distinct.dedup();
        let sums: std::collections::HashMap<String, Counters> = self
            .store()
            .rollup_sums(&distinct, "", "", &from, &to)
            .await?
            .into_iter()
            .collect();
        Ok(parts
            .iter()
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| sums.get(row))
                    .fold(Counters::default(), |total, c| total.plus(*c))
            })
            .collect())
    }

    /// One area's rollups broken down by 大类, channel or day; a city or province sums its
    /// counties' (in one query).
    pub async fn breakdown(
        &self,
        area: &str,
        by: Breakdown,
        period: Period,
    ) -> AppResult<Vec<(String, Counters)>> {
        let (from, to) = period.bounds();
        Ok(self
            .store()
            .rollup_breakdown(&self.rollup_areas(area), by, &from, &to)
            .await?)
    }

    /// The cases reported in one area by 大类, channel or day (a mix needs only the count).
    pub async fn mix(
        &self,
        area: &str,
        by: Breakdown,
        period: Period,
    ) -> AppResult<Vec<(String, i64)>> {
        let (from, to) = period.bounds();
        Ok(self
            .store()
            .rollup_mix(&self.rollup_areas(area), by, &from, &to)
            .await?)
    }

    /// A region's (or grid's) figures, its channel and category mix, and its children's
    /// figures.
    pub async fn region_figures(
        &self,
        code: &RegionCode,
        period: Period,
    ) -> AppResult<RegionFigures> {
        let region = self.link(code.as_str())?;
        let atlas = self.atlas();
        let children: Vec<String> = atlas
            .children(code.as_str())
            .iter()
            .map(|r| r.code.to_string())
            .collect();
        let mut areas = vec![code.to_string()];
        areas.extend(children.iter().cloned());
        // Three questions to the store, asked at once: the totals of the region and of every
        // child, the channel mix, the 大类 mix.
        let (counters, channels, categories) = tokio::try_join!(
            self.counters(&areas, period),
            self.mix(code.as_str(), Breakdown::Channel, period),
            self.mix(code.as_str(), Breakdown::Category, period),
        )?;
        let channels = channels
            .into_iter()
            .filter_map(|(channel, reported)| Some((channel.parse::<Channel>().ok()?, reported)))
            .collect();
        let rules = self.rules();
        let mut categories: Vec<(String, String, i64)> = categories
            .into_iter()
            .map(|(major, reported)| {
                let name = rules
                    .taxonomy
                    .major(&major)
                    .map_or_else(|| "未分类".to_owned(), |m| m.name.clone());
                (major, name, reported)
            })
            .collect();
        categories.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        let mut children_figures = Vec::with_capacity(children.len());
        for (child, counters) in children.iter().zip(counters.iter().skip(1)) {
            children_figures.push(AreaFigures {
                area: self.link(child)?,
                figures: Figures::from_counters(*counters),
            });
        }
        Ok(RegionFigures {
            region,
            period,
            figures: Figures::from_counters(counters[0]),
            channels,
            categories,
            children: children_figures,
        })
    }

    /// The figures of a unit's cases over a period.
    pub async fn unit_figures(&self, unit: &str, period: Period) -> AppResult<Figures> {
        let counters = self.counters(&[format!("unit:{unit}")], period).await?;
        Ok(Figures::from_counters(counters[0]))
    }

    /// The children of a region ranked by one figure or a composite score; ties share no
    /// rank (order by code), areas without a value come last.
    pub async fn rank_children(
        &self,
        code: &RegionCode,
        period: Period,
        by: &RankBy,
    ) -> AppResult<Vec<Ranked>> {
        let figures = self.region_figures(code, period).await?;
        let mut scored: Vec<(Option<f64>, AreaFigures)> = Vec::new();
        for child in figures.children {
            let score = match by {
                RankBy::Figure(name) => figure_value(&child.figures, name)?,
                RankBy::Composite(weights) => {
                    let mut total = 0.0;
                    for (name, weight) in weights {
                        let value = figure_value(&child.figures, name)?.unwrap_or(0.0);
                        let value = if lower_is_better(name) {
                            1.0 - value
                        } else {
                            value
                        };
                        total += weight * value;
                    }
                    Some(total)
                }
            };
            scored.push((score, child));
        }
        let descending = !matches!(by, RankBy::Figure(name) if lower_is_better(name));
        scored.sort_by(|(a, x), (b, y)| {
            let order = match (a, b) {
                (Some(a), Some(b)) => {
                    let order = a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
                    if descending { order.reverse() } else { order }
                }
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            order.then_with(|| x.area.code.cmp(&y.area.code))
        });
        Ok(scored
            .into_iter()
            .enumerate()
            .map(|(i, (score, child))| Ranked {
                rank: i + 1,
                area: child.area,
                score,
                figures: child.figures,
            })
            .collect())
    }

    /// Recomputes the rollups from the cases.
    pub async fn rebuild_rollups(&self) -> AppResult<u64> {
        Ok(self.store().rebuild_rollups().await?)
    }
}
