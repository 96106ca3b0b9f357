//! Importing polygons: every feature checked, all or nothing, overlaps and gaps, CRS, export.

mod common;

use common::{SMALL_DIVISIONS, collection, file, fresh_app, polygon_feature, square};
use onegrid_app::AppError;
use onegrid_app::areas::AreaImportOptions;
use onegrid_domain::Level;
use onegrid_geo::crs::{Crs, gcj02_to_wgs84};
use onegrid_geo::geojson_io::FieldNames;

fn options(level: Level) -> AreaImportOptions {
    AreaImportOptions {
        level,
        fields: FieldNames::default(),
        crs: Crs::Wgs84,
    }
}

async fn with_divisions() -> common::TestApp {
    let t = fresh_app().await;
    t.app
        .import_divisions(&[file("small.csv", SMALL_DIVISIONS)])
        .await
        .unwrap();
    t
}

/// Two grids side by side in village 001 and one in village 002.
fn three_grids() -> String {
    collection(&[
        polygon_feature("140702001001001", &square(112.70, 37.60, 0.01)),
        polygon_feature("140702001001002", &square(112.71, 37.60, 0.01)),
        polygon_feature("140702001002001", &square(112.72, 37.60, 0.01)),
    ])
}

async fn snapshot(t: &common::TestApp) -> (usize, String) {
    let regions = t.app.store().regions().await.unwrap().len();
    let grids = t.app.export_areas(Level::Grid).await.unwrap();
    (regions, grids)
}

#[tokio::test]
async fn grids_import_and_locate_deterministically_on_shared_edges() {
    let t = with_divisions().await;
    let report = t
        .app
        .import_areas(&three_grids(), &options(Level::Grid))
        .await
        .unwrap();
    assert_eq!(report.imported, 3);
    assert_eq!(report.new_regions, 3);
    let inside = t.app.locate(112.705, 37.605).unwrap();
    assert_eq!(inside.grid.unwrap().code, "140702001001001");
    let chain: Vec<String> = inside.chain.iter().map(|l| l.code.clone()).collect();
    assert_eq!(
        chain,
        [
            "140702001001001",
            "140702001001",
            "140702001",
            "140702",
            "140700",
            "140000"
        ]
    );
    // A point on the edge shared by 001 and 002 gets the same grid every time: the smaller code.
    for _ in 0..20 {
        let edge = t.app.locate(112.71, 37.605).unwrap();
        assert_eq!(edge.area.code, "140702001001001");
    }
    // A point in no area is NotFound.
    assert!(matches!(
        t.app.locate(100.0, 30.0),
        Err(AppError::NotFound { .. })
    ));
    // Grid names default to the village's name and the sequence.
    assert_eq!(
        t.app.atlas().region("140702001002001").unwrap().name,
        "乙社区第001网格"
    );
}

#[tokio::test]
async fn a_self_intersecting_ring_fails_names_the_feature_and_changes_nothing() {
    let t = with_divisions().await;
    t.app
        .import_areas(&three_grids(), &options(Level::Grid))
        .await
        .unwrap();
    let before = snapshot(&t).await;
    let bow_tie = "[[[112.80,37.60],[112.81,37.61],[112.81,37.60],[112.80,37.61],[112.80,37.60]]]";
    let text = collection(&[
        polygon_feature("140702001002002", &square(112.73, 37.60, 0.01)),
        polygon_feature("140702001002003", bow_tie),
    ]);
    let error = t
        .app
        .import_areas(&text, &options(Level::Grid))
        .await
        .unwrap_err();
    let AppError::Invalid { problems, .. } = &error else {
        panic!("expected Invalid, got {error:?}");
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].location, "feature 1 (code 140702001002003)");
    assert!(
        problems[0].message.contains("intersects itself"),
        "{}",
        problems[0].message
    );
    // The good feature 0 was not stored either, and nothing else changed.
    assert_eq!(snapshot(&t).await, before);
    assert!(t.app.atlas().region("140702001002002").is_none());
}

#[tokio::test]
async fn every_bad_feature_is_listed() {
    let t = with_divisions().await;
    let unclosed = "[[[112.80,37.60],[112.81,37.60],[112.81,37.61],[112.80,37.61]]]";
    let text = collection(&[
        polygon_feature("14070200100100", &square(112.70, 37.60, 0.01)),
        polygon_feature("140702001001002", unclosed),
        polygon_feature("140702001009001", &square(112.72, 37.60, 0.01)),
        polygon_feature("140702001001003", &square(112.73, 37.60, 0.01)),
        polygon_feature("140702001001003", &square(112.74, 37.60, 0.01)),
        polygon_feature("140702001001004", &square(200.0, 37.60, 0.01)),
    ]);
    let error = t
        .app
        .import_areas(&text, &options(Level::Grid))
        .await
        .unwrap_err();
    let AppError::Invalid { problems, .. } = &error else {
        panic!("expected Invalid, got {error:?}");
    };
    let text = error.to_string();
    let located: Vec<&str> = problems.iter().map(|p| p.location.as_str()).collect();
    assert!(
        located.contains(&"feature 0 (code 14070200100100)"),
        "{text}"
    );
    assert!(
        located.contains(&"feature 1 (code 140702001001002)"),
        "{text}"
    );
    assert!(text.contains("not closed"), "{text}");
    assert!(
        text.contains("parent 140702001009 is not a stored region"),
        "{text}"
    );
    assert!(text.contains("used again (first by feature 3)"), "{text}");
    assert!(
        located.contains(&"feature 5 (code 140702001001004)"),
        "{text}"
    );
    assert!(text.contains("out of range"), "{text}");
    assert!(t.app.store().areas(Level::Grid).await.unwrap().is_empty());
}

#[tokio::test]
async fn overlapping_grids_are_named_in_pairs_with_their_overlap() {
    let t = with_divisions().await;
    let text = collection(&[
        polygon_feature("140702001001001", &square(112.70, 37.60, 0.01)),
        polygon_feature("140702001001002", &square(112.705, 37.60, 0.01)),
    ]);
    let error = t
        .app
        .import_areas(&text, &options(Level::Grid))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(
            "feature 0 (code 140702001001001): overlaps feature 1 (code 140702001001002) by"
        ),
        "{text}"
    );
    // Half a 0.01° square at 37.6° N is about 0.5 × 1113 m × 882 m ≈ 491,000 m².
    let AppError::Invalid { problems, .. } = &error else {
        unreachable!()
    };
    let area: f64 = problems[0]
        .message
        .split(" by ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap();
    assert!((area - 491_000.0).abs() < 15_000.0, "{area}");
    // Overlap with an already stored grid is found too.
    t.app
        .import_areas(
            &collection(&[polygon_feature(
                "140702001001001",
                &square(112.70, 37.60, 0.01),
            )]),
            &options(Level::Grid),
        )
        .await
        .unwrap();
    let error = t
        .app
        .import_areas(
            &collection(&[polygon_feature(
                "140702001002001",
                &square(112.709, 37.60, 0.01),
            )]),
            &options(Level::Grid),
        )
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("stored area 140702001001001"),
        "{error}"
    );
}

#[tokio::test]
async fn gaps_inside_a_parent_are_a_warning_with_their_area() {
    let t = with_divisions().await;
    // The village polygon is 0.02° wide; its grids cover only the western half.
    let village = collection(&[polygon_feature(
        "140702001001",
        "[[[112.70,37.60],[112.72,37.60],[112.72,37.61],[112.70,37.61],[112.70,37.60]]]",
    )]);
    t.app
        .import_areas(&village, &options(Level::Village))
        .await
        .unwrap();
    let grids = collection(&[polygon_feature(
        "140702001001001",
        &square(112.70, 37.60, 0.01),
    )]);
    let report = t
        .app
        .import_areas(&grids, &options(Level::Grid))
        .await
        .unwrap();
    assert_eq!(report.gaps.len(), 1);
    assert_eq!(report.gaps[0].parent, "140702001001");
    let half = 0.01 * 111_195.0 * 0.01 * 111_195.0 * 37.605_f64.to_radians().cos();
    assert!(
        (report.gap_total_m2 - half).abs() / half < 0.01,
        "{} vs {half}",
        report.gap_total_m2
    );
    assert_eq!(report.warnings().len(), 1);
    // Where grids cover no grid, the village answers the point.
    let located = t.app.locate(112.715, 37.605).unwrap();
    assert!(located.grid.is_none());
    assert_eq!(located.area.code, "140702001001");
}

#[tokio::test]
async fn gcj02_input_is_stored_in_wgs84() {
    let t = with_divisions().await;
    let text = collection(&[polygon_feature(
        "140702001001001",
        &square(112.70, 37.60, 0.01),
    )]);
    let options = AreaImportOptions {
        crs: Crs::Gcj02,
        ..options(Level::Grid)
    };
    t.app.import_areas(&text, &options).await.unwrap();
    let exported: serde_json::Value =
        serde_json::from_str(&t.app.export_areas(Level::Grid).await.unwrap()).unwrap();
    let first = &exported["features"][0]["geometry"]["coordinates"][0][0];
    let (lon, lat) = gcj02_to_wgs84(112.70, 37.60);
    assert!((first[0].as_f64().unwrap() - lon).abs() < 1e-9, "{first}");
    assert!((first[1].as_f64().unwrap() - lat).abs() < 1e-9, "{first}");
    // The offset is real: hundreds of metres, not nothing.
    assert!((lon - 112.70).abs() > 0.001);
}

#[tokio::test]
async fn export_then_import_gives_back_the_same_polygons() {
    let t = with_divisions().await;
    t.app
        .import_areas(&three_grids(), &options(Level::Grid))
        .await
        .unwrap();
    let exported = t.app.export_areas(Level::Grid).await.unwrap();
    let other = with_divisions().await;
    other
        .app
        .import_areas(&exported, &options(Level::Grid))
        .await
        .unwrap();
    assert_eq!(other.app.export_areas(Level::Grid).await.unwrap(), exported);
}
