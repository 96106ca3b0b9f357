//! Tile-less maps: GeoJSON polygons drawn as SVG on the server (no map service, no internet),
//! with the case's point. The projection is plain: longitude scaled by the cosine of the middle
//! latitude, so that shapes keep their proportions at this city's latitude; the page script
//! inverts it (from the `data-*` attributes) to turn a click into a point.

use maud::{Markup, html};
use serde_json::Value;

/// One shape to draw.
pub struct Shape<'a> {
    pub geometry: &'a Value,
    pub label: Option<String>,
    pub code: Option<String>,
    pub class: &'static str,
}

/// The width of the drawing in SVG units; the height follows from the shapes.
const WIDTH: f64 = 1000.0;
const PADDING: f64 = 12.0;

fn rings(geometry: &Value) -> Vec<Vec<(f64, f64)>> {
    let coordinates = &geometry["coordinates"];
    let polygons: Vec<&Value> = match geometry["type"].as_str() {
        Some("Polygon") => vec![coordinates],
        Some("MultiPolygon") => coordinates
            .as_array()
            .map(|list| list.iter().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    polygons
        .iter()
        .filter_map(|polygon| polygon.as_array())
        .flatten()
        .filter_map(|ring| ring.as_array())
        .map(|ring| {
            ring.iter()
                .filter_map(|position| Some((position[0].as_f64()?, position[1].as_f64()?)))
                .collect()
        })
        .collect()
}

struct Projection {
    min_lon: f64,
    max_lat: f64,
    cos_lat: f64,
    scale: f64,
    height: f64,
}

impl Projection {
    fn fit(points: impl Iterator<Item = (f64, f64)>) -> Option<Projection> {
        let (mut min_lon, mut min_lat, mut max_lon, mut max_lat) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for (lon, lat) in points {
            min_lon = min_lon.min(lon);
            max_lon = max_lon.max(lon);
            min_lat = min_lat.min(lat);
            max_lat = max_lat.max(lat);
        }
        if !min_lon.is_finite() {
            return None;
        }
        let cos_lat = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let span_x = ((max_lon - min_lon) * cos_lat).max(1e-6);
        let span_y = (max_lat - min_lat).max(1e-6);
        let scale = (WIDTH - 2.0 * PADDING) / span_x;
        Some(Projection {
            min_lon: min_lon - PADDING / scale / cos_lat,
            max_lat: max_lat + PADDING / scale,
            cos_lat,
            scale,
            height: span_y * scale + 2.0 * PADDING,
        })
    }

    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.min_lon) * self.cos_lat * self.scale,
            (self.max_lat - lat) * self.scale,
        )
    }
}

fn path(projection: &Projection, geometry: &Value) -> String {
    let mut d = String::new();
    for ring in rings(geometry) {
        for (i, (lon, lat)) in ring.iter().enumerate() {
            let (x, y) = projection.xy(*lon, *lat);
            d.push_str(if i == 0 { "M" } else { "L" });
            d.push_str(&format!("{x:.1},{y:.1}"));
        }
        d.push('Z');
    }
    d
}

/// Draws `shapes` with an optional point; `pickable` lets a click choose the point.
pub fn map(shapes: &[Shape], point: Option<(f64, f64)>, pickable: bool, title: &str) -> Markup {
    let mut all: Vec<(f64, f64)> = shapes
        .iter()
        .flat_map(|shape| rings(shape.geometry).into_iter().flatten())
        .collect();
    if let Some(point) = point {
        all.push(point);
    }
    let Some(projection) = Projection::fit(all.into_iter()) else {
        return html! { p.muted { "暂无地图数据" } };
    };
    let view_box = format!("0 0 {WIDTH} {:.1}", projection.height);
    html! {
        svg.map viewBox=(view_box) role="img" aria-label=(title)
            data-pickable=[pickable.then_some("true")] tabindex=[pickable.then_some("0")]
            data-min-lon=(projection.min_lon) data-max-lat=(projection.max_lat)
            data-cos-lat=(projection.cos_lat) data-scale=(projection.scale) {
            title { (title) }
            @for shape in shapes {
                path class=(shape.class) d=(path(&projection, shape.geometry)) data-code=[shape.code.as_deref()] {
                    @if let Some(label) = &shape.label { title { (label) } }
                }
            }
            @for shape in shapes.iter().filter(|s| s.label.is_some()) {
                @if let Some((x, y)) = label_anchor(&projection, shape.geometry) {
                    text.map-label x=(format!("{x:.1}")) y=(format!("{y:.1}")) { (shape.label.clone().unwrap_or_default()) }
                }
            }
            g.pin hidden[point.is_none()] {
                @let (x, y) = point.map_or((0.0, 0.0), |(lon, lat)| projection.xy(lon, lat));
                circle.pin-halo cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="18" {}
                circle.pin-dot cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="8" {}
            }
        }
    }
}

/// Where a shape's label goes: the middle of its outer ring's box.
fn label_anchor(projection: &Projection, geometry: &Value) -> Option<(f64, f64)> {
    let ring = rings(geometry).into_iter().max_by_key(Vec::len)?;
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for (lon, lat) in ring {
        let (x, y) = projection.xy(lon, lat);
        min_x = min_x.min(x);
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    }
    Some(((min_x + max_x) / 2.0, (min_y + max_y) / 2.0))
}
