//! GeoJSON in and out: read area features with a full list of problems per feature, and write
//! shapes back as GeoJSON.
//!
//! Reading works on the raw JSON (not on the `geojson` crate's typed model) so that one broken
//! feature — a position with one number, a ring that is not closed — is reported in its own
//! [`RawFeature`] instead of failing the whole file, and so that ring closure and position
//! counts are checked on the positions as written: `geo_types::Polygon::new` silently closes
//! rings.
//!
//! Topology (self-intersection, holes, overlapping parts) is checked on the coordinates as
//! written, before any conversion to WGS-84: positions in the messages are the user's own, and
//! a vertex that exactly touches another ring in the input is not moved off it by the
//! non-linear GCJ-02 conversion's round-off before it is judged.

use std::collections::HashMap;

use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
use geo::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::{BoundingRect, Coord, Intersects, Line, LineString, MultiPolygon, Polygon, Validation};
use serde_json::{Map, Value};

use crate::crs::{Crs, to_wgs84};
use crate::pip::on_ring;

/// Names of the properties holding an area's code, name and parent code.
///
/// A name containing dots is also looked up as a path into nested objects ("props.code" finds
/// `{"props": {"code": …}}`) when no property has that literal name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNames {
    pub code: String,
    pub name: String,
    pub parent: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            code: "code".into(),
            name: "name".into(),
            parent: "parent".into(),
        }
    }
}

/// One feature as read, with every problem found in it.
///
/// `shape` is `None` when no faithful MultiPolygon can be built: the geometry is missing or not
/// a (Multi)Polygon, a position is malformed or out of range, a polygon has no ring, or a ring
/// has fewer than 4 positions. Otherwise it is `Some` even when `problems` lists topological
/// errors (so that a caller can draw what is wrong); a feature is acceptable only when
/// `problems` is empty.
///
/// Problems name polygons and rings by their 0-based index in the GeoJSON; ring 0 is the
/// shell and holes are numbered by their ring index (hole 1 is ring 1, the first hole).
#[derive(Debug, Clone, PartialEq)]
pub struct RawFeature {
    /// 0-based position in the `features` array.
    pub index: usize,
    pub code: Option<String>,
    pub name: Option<String>,
    pub parent: Option<String>,
    /// The geometry in WGS-84 (a Polygon becomes a one-polygon MultiPolygon).
    pub shape: Option<MultiPolygon<f64>>,
    pub problems: Vec<String>,
}

/// Why a whole file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("expected a GeoJSON FeatureCollection, found {found}")]
    NotFeatureCollection { found: String },
}

/// Read every feature of a GeoJSON FeatureCollection of areas. Only unparsable JSON or a
/// top level that is not a FeatureCollection fail the call; every feature gets its
/// [`RawFeature`], however broken. Coordinates are converted from `crs` to WGS-84.
pub fn read_area_features(
    text: &str,
    fields: &FieldNames,
    crs: Crs,
) -> Result<Vec<RawFeature>, ReadError> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        // serde_json appends " at line L column C"; the fields carry that already.
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        ReadError::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    })?;
    let found = match root.get("type") {
        Some(Value::String(t)) if t == "FeatureCollection" => None,
        Some(Value::String(t)) => Some(format!("a {t}")),
        _ => Some(format!("{} without a GeoJSON 'type'", json_kind(&root))),
    };
    if let Some(found) = found {
        return Err(ReadError::NotFeatureCollection { found });
    }
    let Some(features) = root.get("features").and_then(Value::as_array) else {
        return Err(ReadError::NotFeatureCollection {
            found: "a FeatureCollection without a 'features' array".into(),
        });
    };
    Ok(features
        .iter()
        .enumerate()
        .map(|(i, f)| read_feature(i, f, fields, crs))
        .collect())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn read_feature(index: usize, feature: &Value, fields: &FieldNames, crs: Crs) -> RawFeature {
    let mut problems = Vec::new();
    let empty = Map::new();
    let obj = match feature.as_object() {
        Some(obj) => obj,
        None => {
            problems.push(format!(
                "feature is {}, not a GeoJSON Feature",
                json_kind(feature)
            ));
            &empty
        }
    };
    if feature.is_object() {
        match obj.get("type") {
            Some(Value::String(t)) if t == "Feature" => {}
            Some(Value::String(t)) => {
                problems.push(format!("feature has type '{t}'; 'Feature' expected"))
            }
            _ => problems.push("feature has no type; 'Feature' expected".into()),
        }
    }
    let props = match obj.get("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => &empty,
        Some(other) => {
            problems.push(format!(
                "properties is {}; an object expected",
                json_kind(other)
            ));
            &empty
        }
    };

    let mut code = property_text(props, &fields.code, &mut problems);
    if code.is_none() && lookup(props, &fields.code).is_none_or(Value::is_null) {
        // The feature's own `id` stands in for an absent code property.
        code = match obj.get("id") {
            Some(id @ (Value::String(_) | Value::Number(_))) => text_of(id, "id", &mut problems),
            _ => None,
        };
        if code.is_none() {
            problems.push(format!("property '{}' is missing", fields.code));
        }
    }
    let name = property_text(props, &fields.name, &mut problems);
    let parent = property_text(props, &fields.parent, &mut problems);

    let shape = match obj.get("geometry") {
        None | Some(Value::Null) => {
            problems.push("geometry is missing".into());
            None
        }
        Some(geometry) => read_geometry(geometry, &mut problems),
    };
    let shape = shape.map(|s| to_crs_wgs84(s, crs));
    RawFeature {
        index,
        code,
        name,
        parent,
        shape,
        problems,
    }
}

/// A property by name, or by dotted path into nested objects.
fn lookup<'a>(props: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = props.get(name) {
        return Some(v);
    }
    if !name.contains('.') {
        return None;
    }
    let mut parts = name.split('.');
    let mut current = props.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// The text of a string or integer property; absent and null give `None` silently, other
/// values give `None` and a problem.
fn property_text(
    props: &Map<String, Value>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    match lookup(props, name) {
        None | Some(Value::Null) => None,
        Some(v) => text_of(v, &format!("property '{name}'"), problems),
    }
}

fn text_of(v: &Value, what: &str, problems: &mut Vec<String>) -> Option<String> {
    match v {
        Value::String(s) if s.trim().is_empty() => {
            problems.push(format!("{what} is empty"));
            None
        }
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i.to_string())
            } else if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else {
                match n.as_f64() {
                    // An integral float such as 140702.0, small enough to print exactly.
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(format!("{f:.0}")),
                    _ => {
                        problems.push(format!("{what} is the number {n}, not an integer"));
                        None
                    }
                }
            }
        }
        other => {
            problems.push(format!(
                "{what} is {}; a string or a number expected",
                json_kind(other)
            ));
            None
        }
    }
}

fn to_crs_wgs84(shape: MultiPolygon<f64>, crs: Crs) -> MultiPolygon<f64> {
    match crs {
        Crs::Wgs84 | Crs::Cgcs2000 => shape,
        Crs::Gcj02 => geo::MapCoords::map_coords(&shape, |c| {
            let (x, y) = to_wgs84(crs, c.x, c.y);
            Coord { x, y }
        }),
    }
}

/// Parse and validate a geometry object. Problems are appended; the shape is in the input's
/// coordinate system.
fn read_geometry(geometry: &Value, problems: &mut Vec<String>) -> Option<MultiPolygon<f64>> {
    let kind = match geometry.get("type") {
        Some(Value::String(t)) => t.as_str(),
        _ => {
            problems.push(format!(
                "geometry is {} without a GeoJSON 'type'",
                json_kind(geometry)
            ));
            return None;
        }
    };
    let coords = geometry.get("coordinates");
    let polygons: Vec<&Value> = match (kind, coords) {
        ("Polygon", Some(c @ Value::Array(_))) => vec![c],
        ("MultiPolygon", Some(Value::Array(polys))) => polys.iter().collect(),
        ("Polygon" | "MultiPolygon", _) => {
            problems.push(format!(
                "geometry is a {kind} without a 'coordinates' array"
            ));
            return None;
        }
        (other, _) => {
            problems.push(format!(
                "geometry is a {other}; Polygon or MultiPolygon expected"
            ));
            return None;
        }
    };
    if polygons.is_empty() {
        problems.push("geometry is an empty MultiPolygon".into());
        return None;
    }

    let before = problems.len();
    let mut built = Vec::with_capacity(polygons.len());
    for (pi, poly) in polygons.iter().enumerate() {
        let Some(rings) = poly.as_array() else {
            problems.push(format!(
                "polygon {pi} is {}; an array of rings expected",
                json_kind(poly)
            ));
            continue;
        };
        if rings.is_empty() {
            problems.push(format!("polygon {pi} has no rings"));
            continue;
        }
        let mut geo_rings = Vec::with_capacity(rings.len());
        for (ri, ring) in rings.iter().enumerate() {
            if let Some(ls) = read_ring(ring, pi, ri, problems) {
                geo_rings.push(ls);
            }
        }
        if geo_rings.len() == rings.len() {
            let mut it = geo_rings.into_iter();
            if let Some(exterior) = it.next() {
                built.push(Polygon::new(exterior, it.collect()));
            }
        }
    }
    // Structural problems other than unclosed rings make the shape unusable.
    let unusable = problems[before..].iter().any(|p| !p.ends_with(UNCLOSED));
    if unusable || built.len() != polygons.len() {
        return None;
    }
    let shape = MultiPolygon(built);
    check_topology(&shape, problems);
    Some(shape)
}

const UNCLOSED: &str = "is not closed (first position differs from last)";

/// Read one ring's positions, checking them as written (closure, count, range).
fn read_ring(
    ring: &Value,
    pi: usize,
    ri: usize,
    problems: &mut Vec<String>,
) -> Option<LineString<f64>> {
    let Some(positions) = ring.as_array() else {
        problems.push(format!(
            "ring {ri} of polygon {pi} is {}; an array of positions expected",
            json_kind(ring)
        ));
        return None;
    };
    let mut coords = Vec::with_capacity(positions.len());
    let mut ok = true;
    for (k, pos) in positions.iter().enumerate() {
        let pair = pos.as_array().and_then(|a| {
            if a.len() < 2 {
                return None;
            }
            Some((a[0].as_f64()?, a[1].as_f64()?))
        });
        match pair {
            None => {
                problems.push(format!(
                    "position {k} of ring {ri} of polygon {pi} is not a [lon, lat] pair of numbers"
                ));
                ok = false;
            }
            Some((lon, lat))
                if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) =>
            {
                problems.push(format!("position {k} of ring {ri} of polygon {pi} is out of range (lon {lon}, lat {lat})"));
                ok = false;
            }
            Some((lon, lat)) => coords.push(Coord { x: lon, y: lat }),
        }
    }
    if positions.len() < 4 {
        problems.push(format!(
            "ring {ri} of polygon {pi} has {} positions; at least 4 are needed",
            positions.len()
        ));
        ok = false;
    }
    // Both `None` only for an empty ring, already reported as too short.
    if ok && coords.first() != coords.last() {
        problems.push(format!("ring {ri} of polygon {pi} {UNCLOSED}"));
    }
    ok.then_some(LineString(coords))
}

/// Whether all positions of a ring lie on one line (exact predicate), so that it encloses
/// no area at all. (A shoelace sum would also be zero for a symmetric bow-tie.)
fn all_collinear(ring: &LineString<f64>) -> bool {
    let Some(&p0) = ring.0.first() else {
        return true;
    };
    let Some(&p1) = ring.0.iter().find(|&&c| c != p0) else {
        return true;
    };
    let rc = |c: Coord<f64>| robust::Coord { x: c.x, y: c.y };
    ring.0
        .iter()
        .all(|&c| robust::orient2d(rc(p0), rc(p1), rc(c)) == 0.0)
}

fn ring_name(role: RingRole, pi: usize) -> String {
    match role {
        RingRole::Exterior => format!("ring 0 of polygon {pi}"),
        RingRole::Interior(k) => format!("ring {} of polygon {pi}", k + 1),
    }
}

fn ring_of(poly: &Polygon<f64>, role: RingRole) -> Option<&LineString<f64>> {
    match role {
        RingRole::Exterior => Some(poly.exterior()),
        RingRole::Interior(k) => poly.interiors().get(k),
    }
}

fn near(c: Coord<f64>) -> String {
    format!("near ({:.5}, {:.5})", c.x, c.y)
}

/// OGC validity of a structurally sound shape, in the crate's wording, plus the checks geo
/// leaves out (zero area, interior split by touching rings).
fn check_topology(shape: &MultiPolygon<f64>, problems: &mut Vec<String>) {
    for (pi, poly) in shape.0.iter().enumerate() {
        if all_collinear(poly.exterior()) {
            problems.push(format!("polygon {pi} has zero area"));
        }
    }
    let mut invalid_polygons = vec![false; shape.0.len()];
    for err in shape.validation_errors() {
        let text = match err {
            InvalidMultiPolygon::InvalidPolygon(idx, err) => {
                let pi = idx.0;
                if let Some(flag) = invalid_polygons.get_mut(pi) {
                    *flag = true;
                }
                let poly = &shape.0[pi];
                polygon_problem(poly, pi, &err)
            }
            InvalidMultiPolygon::ElementsOverlaps(a, b) => {
                format!("polygons {} and {} overlap", a.0, b.0)
            }
            InvalidMultiPolygon::ElementsTouchOnALine(a, b) => {
                format!("polygons {} and {} touch along a line", a.0, b.0)
            }
        };
        problems.push(text);
    }
    // Connectivity is only meaningful for polygons whose rings are otherwise valid.
    let sound = shape
        .0
        .iter()
        .enumerate()
        .filter(|(pi, _)| !invalid_polygons[*pi]);
    for (pi, poly) in sound {
        if let Some(at) = interior_split_point(poly) {
            problems.push(format!(
                "polygon {pi} has its interior cut into pieces by rings touching each other at two or more points, {}",
                near(at)
            ));
        }
    }
}

fn polygon_problem(poly: &Polygon<f64>, pi: usize, err: &InvalidPolygon) -> String {
    match err {
        InvalidPolygon::TooFewPointsInRing(role) => {
            format!(
                "{} has fewer than 3 distinct positions",
                ring_name(*role, pi)
            )
        }
        InvalidPolygon::SelfIntersection(role) => {
            let at = ring_of(poly, *role).and_then(self_intersection_point);
            match at {
                Some(at) => format!("{} intersects itself {}", ring_name(*role, pi), near(at)),
                None => format!("{} intersects itself", ring_name(*role, pi)),
            }
        }
        InvalidPolygon::NonFiniteCoord(role, idx) => {
            format!(
                "position {} of {} is not a finite number",
                idx.0,
                ring_name(*role, pi)
            )
        }
        InvalidPolygon::InteriorRingNotContainedInExteriorRing(role) => match role {
            RingRole::Interior(k) => {
                format!("hole {} of polygon {pi} is not inside its shell", k + 1)
            }
            RingRole::Exterior => format!("{} is not inside its shell", ring_name(*role, pi)),
        },
        InvalidPolygon::IntersectingRingsOnALine(a, b) => match (a, b) {
            (RingRole::Exterior, RingRole::Interior(k))
            | (RingRole::Interior(k), RingRole::Exterior) => {
                format!(
                    "hole {} of polygon {pi} touches its shell along a line",
                    k + 1
                )
            }
            _ => format!(
                "{} and {} touch along a line",
                ring_name(*a, pi),
                ring_name(*b, pi)
            ),
        },
        InvalidPolygon::IntersectingRingsOnAnArea(a, b) => {
            format!("{} and {} overlap", ring_name(*a, pi), ring_name(*b, pi))
        }
    }
}

/// Where a ring intersects itself, by the same rule geo's validation uses (two distinct edges
/// meet, other than consecutive edges at their shared vertex). A sweep over edges sorted by
/// their left end keeps this near O(n log n) for real boundaries.
fn self_intersection_point(ring: &LineString<f64>) -> Option<Coord<f64>> {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let mut order: Vec<usize> = (0..lines.len()).collect();
    let min_x = |l: &Line<f64>| l.start.x.min(l.end.x);
    let max_x = |l: &Line<f64>| l.start.x.max(l.end.x);
    order.sort_by(|&a, &b| min_x(&lines[a]).total_cmp(&min_x(&lines[b])));
    for (oi, &i) in order.iter().enumerate() {
        let li = lines[i];
        for &j in &order[oi + 1..] {
            let lj = lines[j];
            if min_x(&lj) > max_x(&li) {
                break;
            }
            if li.start == lj.end || li.end == lj.start || !li.intersects(&lj) {
                continue;
            }
            return Some(match line_intersection(li, lj) {
                Some(LineIntersection::SinglePoint { intersection, .. }) => intersection,
                Some(LineIntersection::Collinear { intersection }) => intersection.start,
                None => li.start,
            });
        }
    }
    None
}

/// For a polygon geo found valid: a point where its rings touch such that the interior is
/// no longer connected (OGC requires a connected interior; geo does not check it), if any.
///
/// Rings and touch points form a graph (a ring is linked to every point where it touches
/// another ring); the interior is split exactly when that graph has a cycle, e.g. a hole
/// touching the shell at two points.
fn interior_split_point(poly: &Polygon<f64>) -> Option<Coord<f64>> {
    let rings: Vec<&LineString<f64>> = std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .collect();
    if rings.len() < 2 {
        return None;
    }
    let boxes: Vec<_> = rings.iter().map(|r| r.bounding_rect()).collect();
    // Touch point (by exact coordinate bits) → the rings it lies on.
    let mut touches: HashMap<(u64, u64), (Coord<f64>, Vec<usize>)> = HashMap::new();
    for a in 0..rings.len() {
        for b in 0..rings.len() {
            if a == b {
                continue;
            }
            let (Some(ba), Some(bb)) = (boxes[a], boxes[b]) else {
                continue;
            };
            if !ba.intersects(&bb) {
                continue;
            }
            // Vertices of ring a lying on ring b. Touches of valid rings are at a vertex of
            // at least one of them, so scanning both directions finds them all.
            for &v in &rings[a].0 {
                if bb.intersects(&v) && on_ring(&rings[b].0, v) {
                    let entry = touches
                        .entry((v.x.to_bits(), v.y.to_bits()))
                        .or_insert((v, Vec::new()));
                    for r in [a, b] {
                        if !entry.1.contains(&r) {
                            entry.1.push(r);
                        }
                    }
                }
            }
        }
    }
    // Union-find over rings (0..n) and touch points (n..); a union inside one set is a cycle.
    let n = rings.len();
    let mut parent: Vec<usize> = (0..n + touches.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut points: Vec<_> = touches.into_values().collect();
    // Deterministic order, so the reported point does not depend on hashing.
    points.sort_by(|a, b| {
        (a.0.x, a.0.y)
            .partial_cmp(&(b.0.x, b.0.y))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for (k, (at, on)) in points.iter().enumerate() {
        let node = n + k;
        for &r in on {
            let (x, y) = (find(&mut parent, node), find(&mut parent, r));
            if x == y {
                return Some(*at);
            }
            parent[x] = y;
        }
    }
    None
}

/// A shape as a GeoJSON geometry: one polygon as "Polygon", otherwise "MultiPolygon".
/// Coordinates are written as the f64 values unchanged.
pub fn shape_to_geojson_geometry(shape: &MultiPolygon<f64>) -> geojson::Geometry {
    fn rings(p: &Polygon<f64>) -> Vec<Vec<[f64; 2]>> {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect())
            .collect()
    }
    let value = match shape.0.as_slice() {
        [single] => geojson::GeometryValue::new_polygon(rings(single)),
        many => geojson::GeometryValue::new_multi_polygon(many.iter().map(rings)),
    };
    geojson::Geometry::new(value)
}

/// One area to export.
#[derive(Debug, Clone, Copy)]
pub struct ExportFeature<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub parent: Option<&'a str>,
    pub level: &'a str,
    pub shape: &'a MultiPolygon<f64>,
}

/// A FeatureCollection of the areas, each with properties `code`, `name`, `parent` (null when
/// absent) and `level`. [`read_area_features`] with default [`FieldNames`] reads it back.
pub fn write_feature_collection(features: &[ExportFeature]) -> String {
    let features = features.iter().map(|f| {
        let mut props = Map::new();
        props.insert("code".into(), Value::from(f.code));
        props.insert("name".into(), Value::from(f.name));
        props.insert("parent".into(), f.parent.map_or(Value::Null, Value::from));
        props.insert("level".into(), Value::from(f.level));
        geojson::Feature {
            bbox: None,
            geometry: Some(shape_to_geojson_geometry(f.shape)),
            id: None,
            properties: Some(props),
            foreign_members: None,
        }
    });
    geojson::FeatureCollection::new(features).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn read(text: &str) -> Vec<RawFeature> {
        read_area_features(text, &FieldNames::default(), Crs::Wgs84).expect("a FeatureCollection")
    }

    /// A FeatureCollection of one feature with the given geometry JSON and code "1".
    fn one(geometry: &str) -> RawFeature {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"1"}},"geometry":{geometry}}}]}}"#
        );
        let mut all = read(&text);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    const SQUARE: &str = "[[112.5,37.6],[112.6,37.6],[112.6,37.7],[112.5,37.7],[112.5,37.6]]";

    #[test]
    fn valid_polygon() {
        let f = one(&format!(r#"{{"type":"Polygon","coordinates":[{SQUARE}]}}"#));
        assert_eq!(f.problems, Vec::<String>::new());
        assert_eq!(f.code.as_deref(), Some("1"));
        assert_eq!(f.shape.map(|s| s.0.len()), Some(1));
    }

    #[test]
    fn unclosed_ring() {
        let f = one(
            r#"{"type":"Polygon","coordinates":[[[112.5,37.6],[112.6,37.6],[112.6,37.7],[112.5,37.7]]]}"#,
        );
        assert_eq!(
            f.problems,
            vec!["ring 0 of polygon 0 is not closed (first position differs from last)"]
        );
        // Still drawable: geo closes it.
        assert!(f.shape.is_some());
    }

    #[test]
    fn three_positions() {
        let f = one(&format!(
            r#"{{"type":"Polygon","coordinates":[{SQUARE},[[112.52,37.62],[112.53,37.62],[112.52,37.62]]]}}"#
        ));
        assert_eq!(
            f.problems,
            vec!["ring 1 of polygon 0 has 3 positions; at least 4 are needed"]
        );
        assert!(f.shape.is_none());
    }

    #[test]
    fn bow_tie() {
        let f = one(
            r#"{"type":"Polygon","coordinates":[[[112.5,37.6],[112.52,37.64],[112.52,37.6],[112.5,37.64],[112.5,37.6]]]}"#,
        );
        assert_eq!(
            f.problems,
            vec!["ring 0 of polygon 0 intersects itself near (112.51000, 37.62000)"]
        );
    }

    #[test]
    fn hole_outside_shell() {
        let f = one(&format!(
            r#"{{"type":"Polygon","coordinates":[{SQUARE},[[113.0,38.0],[113.1,38.0],[113.1,38.1],[113.0,38.0]]]}}"#
        ));
        assert_eq!(
            f.problems,
            vec!["hole 1 of polygon 0 is not inside its shell"]
        );
    }

    #[test]
    fn zero_area() {
        let f = one(
            r#"{"type":"Polygon","coordinates":[[[112.5,37.6],[112.6,37.6],[112.7,37.6],[112.5,37.6]]]}"#,
        );
        assert_eq!(f.problems[0], "polygon 0 has zero area");
    }

    #[test]
    fn out_of_range() {
        let f = one(
            r#"{"type":"Polygon","coordinates":[[[112.5,37.6],[112.6,37.6],[112.6,37.7],[112.5,37.7],[112.5,37.71],[200,37],[112.5,37.6]]]}"#,
        );
        assert_eq!(
            f.problems,
            vec!["position 5 of ring 0 of polygon 0 is out of range (lon 200, lat 37)"]
        );
        assert!(f.shape.is_none());
    }

    #[test]
    fn wrong_type_and_missing_geometry() {
        let f = one(r#"{"type":"LineString","coordinates":[[112.5,37.6],[112.6,37.6]]}"#);
        assert_eq!(
            f.problems,
            vec!["geometry is a LineString; Polygon or MultiPolygon expected"]
        );
        let f = one("null");
        assert_eq!(f.problems, vec!["geometry is missing"]);
        assert!(f.shape.is_none());
    }

    #[test]
    fn overlapping_parts() {
        let f = one(&format!(
            r#"{{"type":"MultiPolygon","coordinates":[[{SQUARE}],[[[112.55,37.65],[112.65,37.65],[112.65,37.75],[112.55,37.65]]]]}}"#
        ));
        assert_eq!(f.problems, vec!["polygons 0 and 1 overlap"]);
    }

    #[test]
    fn properties_and_every_feature_reported() {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[
              {{"type":"Feature","properties":{{"name":"甲"}},"geometry":{{"type":"Polygon","coordinates":[{SQUARE}]}}}},
              {{"type":"Feature","id":140702,"properties":{{"name":"乙","parent":1407}},"geometry":{{"type":"Polygon","coordinates":[{SQUARE}]}}}},
              {{"type":"Feature","properties":{{"props":{{"c":"x1"}},"code":true}},"geometry":{{"type":"Point","coordinates":[1,2]}}}},
              {{"type":"Feature","properties":{{"code":140702000000.0}},"geometry":{{"type":"Polygon","coordinates":[{SQUARE}]}}}}
            ]}}"#
        );
        let all = read(&text);
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].problems, vec!["property 'code' is missing"]);
        assert_eq!(all[0].name.as_deref(), Some("甲"));
        assert_eq!(all[1].code.as_deref(), Some("140702"));
        assert_eq!(all[1].parent.as_deref(), Some("1407"));
        assert!(all[1].problems.is_empty());
        assert_eq!(
            all[2].problems,
            vec![
                "property 'code' is a boolean; a string or a number expected",
                "geometry is a Point; Polygon or MultiPolygon expected"
            ]
        );
        assert_eq!(all[3].code.as_deref(), Some("140702000000"));
        assert_eq!(
            all.iter().map(|f| f.index).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );

        let nested = FieldNames {
            code: "props.c".into(),
            ..FieldNames::default()
        };
        let all = read_area_features(&text, &nested, Crs::Wgs84).expect("reads");
        assert_eq!(all[2].code.as_deref(), Some("x1"));
    }

    #[test]
    fn file_level_errors() {
        let err =
            read_area_features("{\n \"type\": ", &FieldNames::default(), Crs::Wgs84).unwrap_err();
        assert!(matches!(err, ReadError::Json { line: 2, .. }), "{err:?}");
        let err = read_area_features(r#"{"type":"Feature"}"#, &FieldNames::default(), Crs::Wgs84)
            .unwrap_err();
        assert_eq!(
            err,
            ReadError::NotFeatureCollection {
                found: "a Feature".into()
            }
        );
        let err = read_area_features("[]", &FieldNames::default(), Crs::Wgs84).unwrap_err();
        assert!(matches!(err, ReadError::NotFeatureCollection { .. }));
    }

    #[test]
    fn gcj02_input_is_converted() {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"1"}},"geometry":{{"type":"Polygon","coordinates":[{SQUARE}]}}}}]}}"#
        );
        let f = read_area_features(&text, &FieldNames::default(), Crs::Gcj02).expect("reads");
        let shape = f[0].shape.as_ref().expect("shape");
        let c = shape.0[0].exterior().0[0];
        let (lon, lat) = crate::crs::gcj02_to_wgs84(112.5, 37.6);
        assert_eq!((c.x, c.y), (lon, lat));
        assert!((c.x - 112.5).abs() > 1e-4);
    }

    #[test]
    fn write_then_read_round_trips() {
        let a = MultiPolygon(vec![polygon!(
            exterior: [(x: 112.1234567890123, y: 37.1), (x: 112.2, y: 37.1), (x: 112.2, y: 37.2), (x: 112.1234567890123, y: 37.2)],
            interiors: [[(x: 112.15, y: 37.15), (x: 112.16, y: 37.15), (x: 112.16, y: 37.16)]],
        )]);
        let b = MultiPolygon(vec![
            polygon![(x: 113.0, y: 38.0), (x: 113.1, y: 38.0), (x: 113.1, y: 38.1 + 1e-13)],
            polygon![(x: 114.0, y: 38.0), (x: 114.1, y: 38.0), (x: 114.1, y: 38.1)],
        ]);
        let text = write_feature_collection(&[
            ExportFeature {
                code: "140702",
                name: "榆次区",
                parent: Some("1407"),
                level: "county",
                shape: &a,
            },
            ExportFeature {
                code: "14",
                name: "山西省",
                parent: None,
                level: "province",
                shape: &b,
            },
        ]);
        assert!(text.contains(r#""type":"Polygon""#) && text.contains(r#""type":"MultiPolygon""#));
        let back = read(&text);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].code.as_deref(), Some("140702"));
        assert_eq!(back[0].name.as_deref(), Some("榆次区"));
        assert_eq!(back[0].parent.as_deref(), Some("1407"));
        assert_eq!(back[1].code.as_deref(), Some("14"));
        assert_eq!(back[1].parent, None);
        assert_eq!(back[0].shape.as_ref(), Some(&a));
        assert_eq!(back[1].shape.as_ref(), Some(&b));
        assert!(back.iter().all(|f| f.problems.is_empty()), "{back:?}");
    }
}
