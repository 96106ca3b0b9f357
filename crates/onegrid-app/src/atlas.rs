//! The atlas: every region in memory with its chain, and the R-tree point → area index over the
//! stored polygons. It is rebuilt from the store after every import, so it stays in step with
//! it, and read without locks by the lookups (see `App::atlas`).

use std::collections::HashMap;
use std::str::FromStr;

use geo::MultiPolygon;
use onegrid_domain::{Level, Region};
use onegrid_geo::index::AreaIndex;
use onegrid_store::Store;
use serde::Serialize;

use crate::{AppError, AppResult};

/// One link of a chain: an area with its level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainLink {
    pub code: String,
    pub name: String,
    pub level: Level,
    /// The level's Chinese name (网格, 村（社区）, …).
    pub level_label: &'static str,
}

/// The answer to "where is this point".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located {
    pub lon: f64,
    pub lat: f64,
    /// The grid that contains the point, when one does.
    pub grid: Option<ChainLink>,
    /// The deepest area that contains the point (the grid itself when there is one).
    pub area: ChainLink,
    /// The whole chain from that area up to the province.
    pub chain: Vec<ChainLink>,
}

pub struct Atlas {
    regions: HashMap<String, Region>,
    children: HashMap<String, Vec<String>>,
    index: AreaIndex,
}

impl Atlas {
    pub async fn load(store: &dyn Store) -> AppResult<Atlas> {
        let mut regions = HashMap::new();
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for region in store.regions().await? {
            if region.is_current()
                && let Some(parent) = &region.parent
            {
                children
                    .entry(parent.to_string())
                    .or_default()
                    .push(region.code.to_string());
            }
            regions.insert(region.code.to_string(), region);
        }
        let mut items = Vec::new();
        for level in Level::ALL {
            for area in store.areas(level).await? {
                let shape = parse_shape(&area.geometry).map_err(|message| {
                    AppError::Store(onegrid_store::StoreError::Corrupt(format!(
                        "stored polygon of {}: {message}",
                        area.code
                    )))
                })?;
                items.push((area.code.to_string(), level.depth(), shape));
            }
        }
        Ok(Atlas {
            regions,
            children,
            index: AreaIndex::build(items),
        })
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.get(code)
    }

    /// Current children of `code`, by code.
    pub fn children(&self, code: &str) -> Vec<&Region> {
        let mut found: Vec<&Region> = self
            .children
            .get(code)
            .into_iter()
            .flatten()
            .filter_map(|child| self.regions.get(child))
            .collect();
        found.sort_by(|a, b| a.code.cmp(&b.code));
        found
    }

    /// Every region, current and retired, in no particular order.
    pub fn all_regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    pub fn region_count(&self) -> usize {
        self.regions.len()
    }

    pub fn indexed_areas(&self) -> usize {
        self.index.len()
    }

    pub fn index(&self) -> &AreaIndex {
        &self.index
    }

    /// `code` and its ancestors up to the province, by the stored parent links.
    pub fn chain(&self, code: &str) -> Vec<ChainLink> {
        let mut chain = Vec::new();
        let mut next = self.regions.get(code);
        while let Some(region) = next {
            chain.push(link(region));
            if chain.len() > Level::ALL.len() {
                break; // A cycle in stored parent links; the chain is as long as any can be.
            }
            next = region
                .parent
                .as_ref()
                .and_then(|parent| self.regions.get(parent.as_str()));
        }
        chain
    }

    /// The grid containing the point, or the deepest area that does, with its chain.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<Located> {
        let (code, _depth) = self.index.locate(lon, lat)?;
        let chain = self.chain(code);
        let area = chain.first()?.clone();
        let grid = (area.level == Level::Grid).then(|| area.clone());
        Some(Located {
            lon,
            lat,
            grid,
            area,
            chain,
        })
    }
}

fn link(region: &Region) -> ChainLink {
    ChainLink {
        code: region.code.to_string(),
        name: region.name.clone(),
        level: region.level(),
        level_label: region.level().label(),
    }
}

/// Reads a stored GeoJSON geometry (Polygon or MultiPolygon) back into a shape.
pub fn parse_shape(text: &str) -> Result<MultiPolygon<f64>, String> {
    let geometry = geojson::Geometry::from_str(text).map_err(|e| e.to_string())?;
    let geometry: geo::Geometry<f64> = geometry
        .try_into()
        .map_err(|e: geojson::Error| e.to_string())?;
    match geometry {
        geo::Geometry::Polygon(polygon) => Ok(MultiPolygon::new(vec![polygon])),
        geo::Geometry::MultiPolygon(shape) => Ok(shape),
        _ => Err("not a Polygon or MultiPolygon".to_owned()),
    }
}
