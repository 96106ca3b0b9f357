//! Importing and exporting polygons of regions and grids (GeoJSON).
//!
//! An import is all or nothing. Every feature is checked — the geometry (closed rings, enough
//! positions, no self-intersection, holes inside shells, non-zero area, coordinates in range,
//! done in `onegrid-geo`), the code (present, well-formed for the level, unique), the parent
//! (stored, and agreeing with the code's digits) — and overlaps between the new polygons, and
//! between them and stored polygons of the same level, are errors naming each pair and its
//! overlap area. Only when nothing is wrong is anything written. Parts of a parent left
//! uncovered by its children are a warning with their total area.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use geo::{BoundingRect, MultiPolygon};
use onegrid_domain::{Level, RegionCode};
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::{
    ExportFeature, FieldNames, RawFeature, read_area_features, shape_to_geojson_geometry,
    write_feature_collection,
};
use onegrid_geo::validate::{area_m2, find_overlaps, uncovered_area_m2};
use onegrid_store::{AreaRecord, RegionUpsert};
use serde::Serialize;

use crate::atlas::parse_shape;
use crate::{App, AppError, AppResult, Problem};

/// Overlaps smaller than this, or than [`OVERLAP_TOLERANCE_SHARE`] of the smaller polygon, are
/// rounding at shared edges (boolean operations and coordinate conversions move vertices by
/// fractions of a millimetre), not an error.
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;
/// One millionth: 2 m² of a 2 km² grid, 100 m² of a 100 km² township — the noise of unions
/// and intersections along long, finely drawn shared borders (the demo city's generated
/// townships meet with at most 1.5 m² of it), far below a real drawing error (a one-metre strip
/// along one side of a 1.4 km grid is 1,400 m²).
pub const OVERLAP_TOLERANCE_SHARE: f64 = 1e-6;
/// Uncovered parts smaller than this are not worth a warning.
pub const GAP_TOLERANCE_M2: f64 = 1.0;

#[derive(Debug, Clone)]
pub struct AreaImportOptions {
    pub level: Level,
    pub fields: FieldNames,
    pub crs: Crs,
}

/// A part of a parent that its children leave uncovered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub parent: String,
    pub uncovered_m2: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaImportReport {
    pub level: Level,
    pub imported: usize,
    pub new_regions: usize,
    pub gaps: Vec<Gap>,
    pub gap_total_m2: f64,
    pub elapsed_ms: u128,
}

impl AreaImportReport {
    /// The warnings to show a person, in English for the command line.
    pub fn warnings(&self) -> Vec<String> {
        if self.gaps.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "{} parent area(s) are not fully covered by their children: {:.0} m² in all ({})",
            self.gaps.len(),
            self.gap_total_m2,
            self.gaps
                .iter()
                .take(10)
                .map(|g| format!("{} {:.0} m²", g.parent, g.uncovered_m2))
                .collect::<Vec<_>>()
                .join(", ")
        )]
    }
}

fn feature_location(index: usize, code: Option<&str>) -> String {
    match code {
        Some(code) => format!("feature {index} (code {code})"),
        None => format!("feature {index}"),
    }
}

/// A feature that passed every check of its own.
struct Checked {
    index: usize,
    code: RegionCode,
    name: String,
    parent: Option<RegionCode>,
    shape: MultiPolygon<f64>,
}

impl App {
    /// Imports a GeoJSON FeatureCollection of one level; nothing is stored unless every
    /// feature is right.
    pub async fn import_areas(
        &self,
        text: &str,
        options: &AreaImportOptions,
    ) -> AppResult<AreaImportReport> {
        let features = read_area_features(text, &options.fields, options.crs).map_err(|e| {
            AppError::Invalid {
                message: format!("the file is not a usable GeoJSON FeatureCollection: {e}"),
                problems: Vec::new(),
            }
        })?;
        self.import_area_features(options.level, features, &options.crs.to_string())
            .await
    }

    /// The checks and the write behind `import_areas`, for features already read (the demo
    /// city passes its generated polygons here).
    pub async fn import_area_features(
        &self,
        level: Level,
        features: Vec<RawFeature>,
        source_crs: &str,
    ) -> AppResult<AreaImportReport> {
        let started = Instant::now();
        let atlas = self.atlas();
        let mut problems = Vec::new();
        let mut checked = Vec::new();
        let mut first_index: HashMap<String, usize> = HashMap::new();
        if features.is_empty() {
            return Err(AppError::invalid("the FeatureCollection has no features"));
        }
        for feature in features {
            let location = feature_location(feature.index, feature.code.as_deref());
            for message in &feature.problems {
                problems.push(Problem {
                    location: location.clone(),
                    message: message.clone(),
                });
            }
            let Some(code_text) = feature.code.as_deref() else {
                continue;
            };
            let code = match RegionCode::parse_at(level, code_text) {
                Ok(code) => code,
                Err(error) => {
                    problems.push(Problem {
                        location,
                        message: error.to_string(),
                    });
                    continue;
                }
            };
            if let Some(first) = first_index.get(code.as_str()) {
                problems.push(Problem {
                    location,
                    message: format!("code {code} is used again (first by feature {first})"),
                });
                continue;
            }
            first_index.insert(code.to_string(), feature.index);
            let expected_parent = code.parent();
            let parent = match feature.parent.as_deref().filter(|p| !p.is_empty()) {
                None => expected_parent.clone(),
                Some(text) => match level.parent().map(|l| RegionCode::parse_at(l, text)) {
                    Some(Ok(parent)) => Some(parent),
                    Some(Err(error)) => {
                        problems.push(Problem {
                            location,
                            message: format!("parent: {error}"),
                        });
                        continue;
                    }
                    None => None,
                },
            };
            if let (Some(parent), Some(expected)) = (&parent, &expected_parent)
                && parent.as_str() != expected.as_str()
            {
                problems.push(Problem {
                    location,
                    message: format!(
                        "parent {parent} does not match the code, whose digits say {expected}"
                    ),
                });
                continue;
            }
            if let Some(parent) = &parent
                && !atlas
                    .region(parent.as_str())
                    .is_some_and(|r| r.is_current())
            {
                problems.push(Problem {
                    location,
                    message: format!(
                        "parent {parent} is not a stored region; import the divisions first"
                    ),
                });
                continue;
            }
            let stored = atlas.region(code.as_str());
            let name = match (feature.name.filter(|n| !n.is_empty()), stored) {
                (Some(name), _) => name,
                (None, Some(region)) => region.name.clone(),
                (None, None) if level == Level::Grid => {
                    let village = parent
                        .as_ref()
                        .and_then(|p| atlas.region(p.as_str()))
                        .map_or("", |r| r.name.as_str());
                    format!("{village}第{}网格", &code.as_str()[12..])
                }
                (None, None) => {
                    problems.push(Problem {
                        location,
                        message: "the region is not stored and the feature has no name".to_owned(),
                    });
                    continue;
                }
            };
            let Some(shape) = feature.shape else { continue };
            if !feature.problems.is_empty() {
                continue;
            }
            checked.push(Checked {
                index: feature.index,
                code,
                name,
                parent,
                shape,
            });
        }

        // Overlaps: among the new polygons, and with stored polygons of this level that the
        // import does not replace.
        let stored_same_level = self.store().areas(level).await?;
        let mut kept_stored: Vec<(String, MultiPolygon<f64>)> = Vec::new();
        for area in &stored_same_level {
            if first_index.contains_key(area.code.as_str()) {
                continue;
            }
            let shape = parse_shape(&area.geometry).map_err(|message| {
                AppError::Store(onegrid_store::StoreError::Corrupt(format!(
                    "stored polygon of {}: {message}",
                    area.code
                )))
            })?;
            kept_stored.push((area.code.to_string(), shape));
        }
        let mut all: Vec<(&str, &MultiPolygon<f64>)> = checked
            .iter()
            .map(|c| (c.code.as_str(), &c.shape))
            .collect();
        all.extend(
            kept_stored
                .iter()
                .map(|(code, shape)| (code.as_str(), shape)),
        );
        let index_of: HashMap<&str, usize> =
            checked.iter().map(|c| (c.code.as_str(), c.index)).collect();
        let describe = |code: &str| match index_of.get(code) {
            Some(index) => feature_location(*index, Some(code)),
            None => format!("stored area {code}"),
        };
        let areas: HashMap<&str, f64> = all
            .iter()
            .map(|(code, shape)| (*code, area_m2(shape)))
            .collect();
        for overlap in find_overlaps(&all, OVERLAP_TOLERANCE_M2) {
            if !index_of.contains_key(overlap.a.as_str())
                && !index_of.contains_key(overlap.b.as_str())
            {
                continue; // Two stored areas: not this import's doing.
            }
            let smaller = areas[overlap.a.as_str()].min(areas[overlap.b.as_str()]);
            if overlap.area_m2 <= smaller * OVERLAP_TOLERANCE_SHARE {
                continue;
            }
            problems.push(Problem {
                location: describe(&overlap.a),
                message: format!(
                    "overlaps {} by {:.1} m²",
                    describe(&overlap.b),
                    overlap.area_m2
                ),
            });
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid {
                message: format!(
                    "the area import has {} problem(s); nothing was stored",
                    problems.len()
                ),
                problems,
            });
        }

        // Gaps: per parent that has a polygon, what its children (new and kept) leave open.
        let mut children_of: BTreeMap<String, Vec<&MultiPolygon<f64>>> = BTreeMap::new();
        for item in &checked {
            if let Some(parent) = &item.parent {
                children_of
                    .entry(parent.to_string())
                    .or_default()
                    .push(&item.shape);
            }
        }
        for (code, shape) in &kept_stored {
            if let Some(parent) = atlas.region(code).and_then(|r| r.parent.as_ref())
                && let Some(children) = children_of.get_mut(parent.as_str())
            {
                children.push(shape);
            }
        }
        let mut gaps = Vec::new();
        for (parent, children) in &children_of {
            let Ok(parent_code) = RegionCode::parse(parent) else {
                continue;
            };
            let Some(parent_area) = self.store().area(&parent_code).await? else {
                continue;
            };
            let Ok(parent_shape) = parse_shape(&parent_area.geometry) else {
                continue;
            };
            let uncovered = uncovered_area_m2(&parent_shape, children);
            if uncovered > GAP_TOLERANCE_M2 {
                gaps.push(Gap {
                    parent: parent.clone(),
                    uncovered_m2: uncovered,
                });
            }
        }

        let mut regions = Vec::new();
        let mut records = Vec::new();
        let mut new_regions = 0;
        for item in &checked {
            let stored = atlas.region(item.code.as_str());
            if stored.is_none() {
                new_regions += 1;
            }
            regions.push(RegionUpsert {
                code: item.code.clone(),
                name: item.name.clone(),
                parent: item.parent.clone(),
            });
            let bbox = item.shape.bounding_rect().map_or([0.0; 4], |rect| {
                [rect.min().x, rect.min().y, rect.max().x, rect.max().y]
            });
            records.push(AreaRecord {
                code: item.code.clone(),
                geometry: shape_to_geojson_geometry(&item.shape).to_string(),
                area_m2: area_m2(&item.shape),
                bbox,
                source_crs: source_crs.to_owned(),
            });
        }
        let imported = records.len();
        self.store().put_areas(regions, records).await?;
        self.reload_atlas().await?;
        let gap_total_m2 = gaps.iter().map(|g| g.uncovered_m2).sum();
        Ok(AreaImportReport {
            level,
            imported,
            new_regions,
            gaps,
            gap_total_m2,
            elapsed_ms: started.elapsed().as_millis(),
        })
    }

    /// The stored polygons of one level as a GeoJSON FeatureCollection.
    pub async fn export_areas(&self, level: Level) -> AppResult<String> {
        let atlas = self.atlas();
        let areas = self.store().areas(level).await?;
        let mut shapes = Vec::with_capacity(areas.len());
        for area in &areas {
            let shape = parse_shape(&area.geometry).map_err(|message| {
                AppError::Store(onegrid_store::StoreError::Corrupt(format!(
                    "stored polygon of {}: {message}",
                    area.code
                )))
            })?;
            shapes.push(shape);
        }
        let features: Vec<ExportFeature> = areas
            .iter()
            .zip(&shapes)
            .map(|(area, shape)| {
                let region = atlas.region(area.code.as_str());
                ExportFeature {
                    code: area.code.as_str(),
                    name: region.map_or("", |r| r.name.as_str()),
                    parent: region.and_then(|r| r.parent.as_ref()).map(|p| p.as_str()),
                    level: level.as_str(),
                    shape,
                }
            })
            .collect();
        Ok(write_feature_collection(&features))
    }
}
