//! Patrol check-in (巡查打卡): a grid worker's walk, recorded as one act in the full-process
//! record of the county it happened in.
//!
//! The phone collects the track (geolocation points) while the worker patrols and posts it
//! whole when they finish; there is no table of its own: the patrol is a record with no case,
//! in the county's hash chain, so it is as tamper-evident as every case act.

use chrono::{DateTime, Utc};
use onegrid_domain::access::{Capability, Role};
use onegrid_store::NewRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Principal;
use crate::{App, AppError, AppResult};

/// The most points one patrol keeps (one a few seconds over a long shift).
pub const MAX_PATROL_POINTS: usize = 5_000;

/// One point of a track, as the phone measured it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub lon: f64,
    pub lat: f64,
    pub at: DateTime<Utc>,
}

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolSummary {
    pub grid: Option<String>,
    pub county: String,
    pub points: usize,
    pub metres: f64,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

/// Great-circle distance in metres (haversine; the walk's length, not a survey).
fn metres_between(a: &TrackPoint, b: &TrackPoint) -> f64 {
    const EARTH_RADIUS_METRES: f64 = 6_371_008.8;
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.lon - a.lon).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_METRES * h.sqrt().asin()
}

impl App {
    /// Records a grid worker's patrol: the track must start inside one of their grids; the
    /// record names the grid, the distance and every point.
    pub async fn record_patrol(
        &self,
        principal: &Principal,
        points: &[TrackPoint],
        note: &str,
    ) -> AppResult<PatrolSummary> {
        if !principal.has_role(Role::GridWorker) {
            return Err(AppError::Forbidden("只有网格员可以巡查打卡".to_owned()));
        }
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Err(AppError::invalid("points: 轨迹至少需要一个定位点"));
        };
        if points.len() > MAX_PATROL_POINTS {
            return Err(AppError::invalid(format!(
                "points: 一次巡查最多 {MAX_PATROL_POINTS} 个定位点"
            )));
        }
        if points
            .iter()
            .any(|p| !(-180.0..=180.0).contains(&p.lon) || !(-90.0..=90.0).contains(&p.lat))
        {
            return Err(AppError::invalid("points: 经纬度超出范围"));
        }
        let located = self
            .atlas()
            .locate(first.lon, first.lat)
            .ok_or_else(|| AppError::invalid("points: 巡查起点不在本市任何区域内"))?;
        let chain: Vec<String> = located.chain.iter().map(|l| l.code.clone()).collect();
        let grid = located.grid.map(|g| g.code);
        let inside_own_grid = principal.assignments.iter().any(|a| {
            a.role == Role::GridWorker
                && a.role.may(Capability::ReportCases)
                && a.scope
                    .region()
                    .is_some_and(|code| chain.iter().any(|c| c == code.as_str()))
        });
        if !inside_own_grid {
            return Err(AppError::Forbidden("巡查起点不在您负责的网格内".to_owned()));
        }
        let county = chain
            .iter()
            .find(|code| code.len() == 6 && !code.ends_with("00"))
            .cloned()
            .ok_or_else(|| AppError::invalid("points: 起点所在区县未知"))?;
        let metres: f64 = points
            .windows(2)
            .map(|pair| metres_between(&pair[0], &pair[1]))
            .sum();
        let summary = PatrolSummary {
            grid,
            county: county.clone(),
            points: points.len(),
            metres: (metres * 10.0).round() / 10.0,
            started_at: first.at,
            ended_at: last.at,
        };
        let record = NewRecord {
            county,
            case_id: None,
            act: "patrol".to_owned(),
            actor: principal.actor(Role::GridWorker).name,
            role: Role::GridWorker.as_str().to_owned(),
            from_state: None,
            to_state: None,
            at: Utc::now(),
            note: note.trim().chars().take(500).collect(),
            attachments: Vec::new(),
            details: json!({
                "grid": summary.grid,
                "metres": summary.metres,
                "started_at": summary.started_at,
                "ended_at": summary.ended_at,
                "track": points.iter().map(|p| [p.lon, p.lat]).collect::<Vec<_>>(),
                "times": points.iter().map(|p| p.at).collect::<Vec<_>>(),
            }),
        };
        self.store().append_records(vec![record]).await?;
        Ok(summary)
    }
}
