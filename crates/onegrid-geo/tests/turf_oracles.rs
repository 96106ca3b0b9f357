//! turf's fixtures as oracles for validation (`read_area_features` problems) and for point
//! location (`AreaIndex::locate`, `covers_interior`).

use std::fs;
use std::path::{Path, PathBuf};

use geo::{LineString, MultiPolygon, Polygon};
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::{FieldNames, RawFeature, read_area_features};
use onegrid_geo::index::{AreaIndex, covers, covers_interior};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/turf")
}

fn geojson_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "geojson"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// Wrap a bare geometry or feature into a FeatureCollection and give every feature a code,
/// so that only geometry problems are reported.
fn as_collection(v: Value) -> Value {
    let features = match v["type"].as_str() {
        Some("FeatureCollection") => v["features"].as_array().expect("features").clone(),
        Some("Feature") => vec![v],
        _ => vec![json!({"type": "Feature", "properties": {}, "geometry": v})],
    };
    let features: Vec<Value> = features
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            f["properties"]["code"] = json!(format!("f{i}"));
            f
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

fn read(v: &Value) -> Vec<RawFeature> {
    read_area_features(&v.to_string(), &FieldNames::default(), Crs::Wgs84).expect("collection")
}

#[test]
fn boolean_valid_polygon_and_multipolygon_fixtures_agree() {
    let mut checked = 0;
    for expected in [true, false] {
        for kind in ["Polygon", "MultiPolygon"] {
            let dir = fixtures().join(format!("turf-boolean-valid/test/{expected}/{kind}"));
            for file in geojson_files(&dir) {
                let features = read(&as_collection(load(&file)));
                assert_eq!(features.len(), 1, "{}", file.display());
                let problems = &features[0].problems;
                assert_eq!(
                    problems.is_empty(),
                    expected,
                    "{}: problems {problems:?}",
                    file.display()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 14);
}

/// The specific wording for each invalid fixture, so a regression in one check cannot hide
/// behind another.
#[test]
fn boolean_valid_false_fixtures_report_the_right_problem() {
    let cases = [
        (
            "Polygon/not-closing-ring",
            "ring 0 of polygon 0 is not closed (first position differs from last)",
        ),
        (
            "Polygon/not-enough-coords",
            "ring 0 of polygon 0 has 3 positions; at least 4 are needed",
        ),
        // The hole touches the shell at two points, cutting the interior in two. geo's
        // Validation does not check interior connectivity (documented in geo); our own check
        // does.
        (
            "Polygon/polygon-with-hole-2-vertices-touching",
            "polygon 0 has its interior cut into pieces",
        ),
        (
            "Polygon/polygon-with-puncture",
            "ring 0 of polygon 0 intersects itself",
        ),
        (
            "Polygon/polygon-with-spike",
            "ring 0 of polygon 0 intersects itself",
        ),
        (
            "MultiPolygon/multipoly-with-2-vertices-touching",
            "polygon 0 has its interior cut into pieces",
        ),
        (
            "MultiPolygon/multipolygons-overlap",
            "polygons 0 and 1 overlap",
        ),
        (
            "MultiPolygon/not-enough-coords",
            "ring 0 of polygon 0 has 3 positions; at least 4 are needed",
        ),
    ];
    for (name, start) in cases {
        let file = fixtures().join(format!("turf-boolean-valid/test/false/{name}.geojson"));
        let features = read(&as_collection(load(&file)));
        let problems = &features[0].problems;
        assert!(
            problems.iter().any(|p| p.starts_with(start)),
            "{name}: expected a problem starting with {start:?}, got {problems:?}"
        );
    }
}

fn shape_of(geometry: &Value) -> MultiPolygon<f64> {
    let text = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "x"}, "geometry": geometry}
    ]});
    let f = read(&text);
    assert!(f[0].problems.is_empty(), "{:?}", f[0].problems);
    f[0].shape.clone().expect("shape")
}

/// (point, area) from a two-feature collection of a Point and a (Multi)Polygon, either order.
fn point_and_area(path: &Path) -> ((f64, f64), MultiPolygon<f64>) {
    let v = load(path);
    let features = v["features"].as_array().expect("features");
    let mut point = None;
    let mut area = None;
    for f in features {
        let g = &f["geometry"];
        match g["type"].as_str() {
            Some("Point") => {
                point = Some((
                    g["coordinates"][0].as_f64().expect("x"),
                    g["coordinates"][1].as_f64().expect("y"),
                ))
            }
            Some("Polygon" | "MultiPolygon") => area = Some(shape_of(g)),
            other => panic!("{}: unexpected {other:?}", path.display()),
        }
    }
    (point.expect("a point"), area.expect("an area"))
}

/// within(point, area) and contains(area, point): `true` folders are interior points; in the
/// `false` folders the files named "…Boundary" hold boundary points, which `locate` covers
/// (it assigns boundary points) while `covers_interior` does not; the others are outside.
#[test]
fn within_and_contains_point_fixtures_agree() {
    let dirs = [
        ("turf-boolean-within/test/true/Point/Polygon", true),
        ("turf-boolean-within/test/true/Point/MultiPolygon", true),
        ("turf-boolean-within/test/false/Point/Polygon", false),
        ("turf-boolean-within/test/false/Point/MultiPolygon", false),
        ("turf-boolean-contains/test/true/Point/Polygon", true),
        ("turf-boolean-contains/test/false/Point/Polygon", false),
    ];
    let mut boundary_cases = 0;
    for (dir, expected) in dirs {
        for file in geojson_files(&fixtures().join(dir)) {
            let ((x, y), area) = point_and_area(&file);
            let on_boundary = file
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().contains("Boundary"))
                && !expected;
            assert_eq!(covers_interior(&area, x, y), expected, "{}", file.display());
            let idx = AreaIndex::build(vec![("a".into(), 5, area.clone())]);
            let located = idx.locate(x, y);
            if expected || on_boundary {
                assert_eq!(located, Some(("a", 5)), "{}", file.display());
            } else {
                assert_eq!(located, None, "{}", file.display());
            }
            assert_eq!(covers(&area, x, y), located.is_some());
            if on_boundary {
                boundary_cases += 1;
                assert!(idx.interior_codes_at_depth(x, y, 5).is_empty());
            }
        }
    }
    assert_eq!(boundary_cases, 3);
}

/// The polygons of `turf-boolean-point-in-polygon/test/in/` with the probe points and answers
/// of turf's `test.ts` (same package).
#[test]
fn point_in_polygon_with_holes_fixtures_agree() {
    let in_hole = (-86.69208526611328, 36.20373274711739);
    let in_poly = (-86.72229766845702, 36.20258997094334);
    let outside_or_poly2 = (-86.75079345703125, 36.18527313913089);
    let outside_multi = (-86.75302505493164, 36.23015046460186);

    let dir = fixtures().join("turf-boolean-point-in-polygon/test/in");
    let poly = shape_of(&load(&dir.join("poly-with-hole.geojson"))["geometry"]);
    let multi = shape_of(&load(&dir.join("multipoly-with-hole.geojson"))["geometry"]);
    let idx = AreaIndex::build(vec![("p".into(), 4, poly), ("m".into(), 5, multi)]);

    assert_eq!(idx.locate_at_depth(in_hole.0, in_hole.1, 4), None);
    assert_eq!(idx.locate_at_depth(in_poly.0, in_poly.1, 4), Some("p"));
    assert_eq!(
        idx.locate_at_depth(outside_or_poly2.0, outside_or_poly2.1, 4),
        None
    );

    assert_eq!(idx.locate_at_depth(in_hole.0, in_hole.1, 5), None);
    assert_eq!(idx.locate_at_depth(in_poly.0, in_poly.1, 5), Some("m"));
    assert_eq!(
        idx.locate_at_depth(outside_or_poly2.0, outside_or_poly2.1, 5),
        Some("m")
    );
    assert_eq!(
        idx.locate_at_depth(outside_multi.0, outside_multi.1, 5),
        None
    );
    assert_eq!(idx.locate(in_poly.0, in_poly.1), Some(("m", 5)));
    assert_eq!(idx.locate(in_hole.0, in_hole.1), None);
}

fn poly(rings: &[&[(f64, f64)]]) -> MultiPolygon<f64> {
    let mut it = rings.iter().map(|r| LineString::from(r.to_vec()));
    let exterior = it.next().expect("a ring");
    MultiPolygon(vec![Polygon::new(exterior, it.collect())])
}

/// turf's "Boundary test" table (test.ts): `isBoundaryIncluded` rows are boundary points —
/// covered by `locate`, not by `covers_interior`.
#[test]
fn turf_boundary_table() {
    let p1 = poly(&[&[(10., 10.), (30., 20.), (50., 10.), (30., 0.), (10., 10.)]]);
    let p2 = poly(&[&[(10., 0.), (30., 20.), (50., 0.), (30., 10.), (10., 0.)]]);
    let p3 = poly(&[&[(10., 0.), (30., 20.), (50., 0.), (30., -20.), (10., 0.)]]);
    let p4 = poly(&[&[
        (0., 0.),
        (0., 20.),
        (50., 20.),
        (50., 0.),
        (40., 0.),
        (30., 10.),
        (30., 0.),
        (20., 10.),
        (10., 10.),
        (10., 0.),
        (0., 0.),
    ]]);
    let p5 = poly(&[
        &[(0., 20.), (20., 40.), (40., 20.), (20., 0.), (0., 20.)],
        &[(10., 20.), (20., 30.), (30., 20.), (20., 10.), (10., 20.)],
    ]);
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum E {
        Boundary,
        In,
        Out,
    }
    use E::*;
    let table: Vec<(&MultiPolygon<f64>, (f64, f64), E)> = vec![
        (&p1, (10., 10.), Boundary),
        (&p1, (30., 20.), Boundary),
        (&p1, (50., 10.), Boundary),
        (&p1, (30., 10.), In),
        (&p1, (0., 10.), Out),
        (&p1, (60., 10.), Out),
        (&p1, (30., -10.), Out),
        (&p1, (30., 30.), Out),
        (&p2, (30., 0.), Out),
        (&p2, (0., 0.), Out),
        (&p2, (60., 0.), Out),
        (&p3, (30., 0.), In),
        (&p3, (0., 0.), Out),
        (&p3, (60., 0.), Out),
        (&p4, (0., 20.), Boundary),
        (&p4, (10., 20.), Boundary),
        (&p4, (50., 20.), Boundary),
        (&p4, (0., 10.), Boundary),
        (&p4, (5., 10.), In),
        (&p4, (25., 10.), In),
        (&p4, (35., 10.), In),
        (&p4, (0., 0.), Boundary),
        (&p4, (20., 0.), Out),
        (&p4, (35., 0.), Out),
        (&p4, (50., 0.), Boundary),
        (&p4, (50., 10.), Boundary),
        (&p4, (5., 0.), Boundary),
        (&p4, (10., 0.), Boundary),
        (&p5, (20., 30.), Boundary),
        (&p5, (25., 25.), Boundary),
        (&p5, (30., 20.), Boundary),
        (&p5, (25., 15.), Boundary),
        (&p5, (20., 10.), Boundary),
        (&p5, (15., 15.), Boundary),
        (&p5, (10., 20.), Boundary),
        (&p5, (15., 25.), Boundary),
        (&p5, (20., 20.), Out),
    ];
    for (i, (shape, (x, y), e)) in table.into_iter().enumerate() {
        let idx = AreaIndex::build(vec![("s".into(), 0, shape.clone())]);
        let got = match (idx.locate(x, y).is_some(), covers_interior(shape, x, y)) {
            (true, true) => In,
            (true, false) => Boundary,
            (false, false) => Out,
            (false, true) => panic!("row {i}: interior but not located"),
        };
        assert_eq!(got, e, "row {i}: ({x}, {y})");
    }
}
