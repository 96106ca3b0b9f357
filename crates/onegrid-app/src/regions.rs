//! Reading regions, grids and their polygons; locating a point.

use onegrid_domain::{Region, RegionCode};
use serde_json::{Value, json};

use crate::atlas::parse_shape;
use crate::{App, AppError, AppResult, ChainLink, Located};

/// A region with what a client shows beside it.
#[derive(Debug, Clone)]
pub struct RegionDetails {
    pub region: Region,
    pub chain: Vec<ChainLink>,
    pub history: Vec<Region>,
    pub area_m2: Option<f64>,
    pub children: Vec<Region>,
}

impl App {
    /// The grid containing the point, or the deepest area that does, with its chain.
    pub fn locate(&self, lon: f64, lat: f64) -> AppResult<Located> {
        self.atlas().locate(lon, lat).ok_or_else(|| {
            AppError::not_found(format!("no area containing the point ({lon}, {lat})"))
        })
    }

    pub async fn region_details(&self, code: &RegionCode) -> AppResult<RegionDetails> {
        let atlas = self.atlas();
        let region = atlas
            .region(code.as_str())
            .cloned()
            .ok_or_else(|| AppError::not_found(format!("region {code}")))?;
        let history = self.store().region_history(code).await?;
        let area_m2 = self.store().area(code).await?.map(|area| area.area_m2);
        Ok(RegionDetails {
            chain: atlas.chain(code.as_str()),
            children: atlas.children(code.as_str()).into_iter().cloned().collect(),
            region,
            history,
            area_m2,
        })
    }

    /// The children's polygons of a region as GeoJSON features (code, name, level).
    pub async fn children_outlines(&self, code: &RegionCode) -> AppResult<Vec<Value>> {
        let atlas = self.atlas();
        if atlas.region(code.as_str()).is_none() {
            return Err(AppError::not_found(format!("region {code}")));
        }
        let areas = self.store().child_areas(code).await?;
        let mut features = Vec::with_capacity(areas.len());
        for area in areas {
            let region = atlas.region(area.code.as_str());
            features.push(feature(
                area.code.as_str(),
                region,
                &area.geometry,
                area.area_m2,
                None,
            )?);
        }
        Ok(features)
    }

    /// One stored area as a GeoJSON feature with its chain.
    pub async fn area_feature(&self, code: &RegionCode) -> AppResult<Value> {
        let atlas = self.atlas();
        let area = self
            .store()
            .area(code)
            .await?
            .ok_or_else(|| AppError::not_found(format!("{} {code}", code.level().label())))?;
        let chain = atlas.chain(code.as_str());
        feature(
            code.as_str(),
            atlas.region(code.as_str()),
            &area.geometry,
            area.area_m2,
            Some(&chain),
        )
    }
}

fn feature(
    code: &str,
    region: Option<&Region>,
    geometry: &str,
    area_m2: f64,
    chain: Option<&[ChainLink]>,
) -> AppResult<Value> {
    // Parsed and written back rather than spliced as text, so a corrupt row is an error here
    // and not a broken document at the client.
    let shape = parse_shape(geometry).map_err(|message| {
        AppError::Store(onegrid_store::StoreError::Corrupt(format!(
            "stored polygon of {code}: {message}"
        )))
    })?;
    let geometry = onegrid_geo::geojson_io::shape_to_geojson_geometry(&shape);
    let mut properties = json!({
        "code": code,
        "name": region.map(|r| r.name.as_str()),
        "level": region.map(|r| r.level().as_str()),
        "parent": region.and_then(|r| r.parent.as_ref()).map(ToString::to_string),
        "area_m2": area_m2,
    });
    if let Some(chain) = chain {
        properties["chain"] = json!(chain);
    }
    Ok(json!({
        "type": "Feature",
        "id": code,
        "properties": properties,
        "geometry": geometry,
    }))
}
