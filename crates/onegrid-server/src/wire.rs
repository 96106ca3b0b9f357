//! The wire types of the JSON API: what clients send and receive. They are not storage rows
//! and not domain types; every field's doc comment feeds the OpenAPI document.

use chrono::{DateTime, Utc};
use onegrid_app::ChainLink;
use onegrid_domain::Region;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    pub status: &'static str,
    /// The storage engine in use: `sqlite` or `postgres`.
    pub engine: &'static str,
    /// Regions known (current and retired).
    pub regions: usize,
    /// Polygons in the point → area index.
    pub indexed_areas: usize,
}

/// One area of a chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaLink {
    /// The area's code: 6 digits to county level, 9 for a township/street, 12 for a
    /// village/community, 15 for a grid.
    pub code: String,
    /// Its name, e.g. `榆次区`.
    pub name: String,
    /// `province`, `city`, `county`, `township`, `village` or `grid`.
    pub level: String,
    /// The level's Chinese name, e.g. `乡镇（街道）`.
    pub level_label: String,
}

impl From<&ChainLink> for AreaLink {
    fn from(link: &ChainLink) -> AreaLink {
        AreaLink {
            code: link.code.clone(),
            name: link.name.clone(),
            level: link.level.as_str().to_owned(),
            level_label: link.level_label.to_owned(),
        }
    }
}

impl From<&Region> for AreaLink {
    fn from(region: &Region) -> AreaLink {
        AreaLink {
            code: region.code.to_string(),
            name: region.name.clone(),
            level: region.level().as_str().to_owned(),
            level_label: region.level().label().to_owned(),
        }
    }
}

/// The query of `GET /api/v1/locate`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LocateQuery {
    /// Longitude, WGS-84 (CGCS2000), degrees east.
    pub lon: f64,
    /// Latitude, WGS-84 (CGCS2000), degrees north.
    pub lat: f64,
}

/// Where a point lies.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocateResponse {
    /// The longitude asked about.
    pub lon: f64,
    /// The latitude asked about.
    pub lat: f64,
    /// The grid that contains the point; `null` where no grid covers it.
    pub grid: Option<AreaLink>,
    /// The deepest area that contains the point: the grid when there is one.
    pub area: AreaLink,
    /// The whole chain from that area up to the province.
    pub chain: Vec<AreaLink>,
}

/// A region with its place in the chain, its children and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionResponse {
    /// The region's code.
    pub code: String,
    /// Its current name (or its last name, when retired).
    pub name: String,
    /// Its level.
    pub level: String,
    /// The level's Chinese name.
    pub level_label: String,
    /// The parent's code; `null` for a province.
    pub parent: Option<String>,
    /// The chain from this region up to the province.
    pub chain: Vec<AreaLink>,
    /// Since when this version of the region is valid (UTC).
    pub valid_from: DateTime<Utc>,
    /// When the code stopped being used (UTC); `null` while current.
    pub valid_to: Option<DateTime<Utc>>,
    /// The code that replaced this one, when it was retired and a successor is known
    /// (太谷县 140726 → 太谷区 140703).
    pub successor: Option<String>,
    /// Earlier versions of this region (a name or parent that changed).
    pub history: Vec<RegionVersion>,
    /// Whether a polygon is stored for it.
    pub has_polygon: bool,
    /// Its area in square metres, when a polygon is stored.
    pub area_m2: Option<f64>,
    /// The current children, by code.
    pub children: Vec<AreaLink>,
}

/// An earlier version of a region.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionVersion {
    /// The name it had then.
    pub name: String,
    /// The parent it had then.
    pub parent: Option<String>,
    /// Valid from (UTC).
    pub valid_from: DateTime<Utc>,
    /// Valid until (UTC).
    pub valid_to: Option<DateTime<Utc>>,
}

/// The JSON error shape every failing request answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code: `bad_request`, `invalid`, `not_found`, `conflict`,
    /// `internal`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Every problem found, where there are several (location and message each).
    pub details: serde_json::Value,
}
