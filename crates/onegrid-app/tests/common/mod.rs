//! Shared set-up for the use-case tests: each test gets its own fresh store in a temporary
//! directory.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use onegrid_app::App;
use onegrid_app::divisions::DivisionFile;

pub struct TestApp {
    pub app: App,
    pub dir: tempfile::TempDir,
}

pub async fn fresh_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = onegrid_store::open(&onegrid_store::Location::Directory(dir.path().to_owned()))
        .await
        .expect("open store");
    let app = App::load(store).await.expect("load app");
    TestApp { app, dir }
}

pub fn file(name: &str, text: &str) -> DivisionFile {
    DivisionFile {
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

/// A province, a city, a county, a township and two villages in plain layout.
pub const SMALL_DIVISIONS: &str = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
140702,榆次区,140700,county
140702001,北关街道,140702,township
140702001001,甲社区,140702001,village
140702001002,乙社区,140702001,village
";

/// A closed square ring as GeoJSON coordinates.
pub fn square(x0: f64, y0: f64, size: f64) -> String {
    let (x1, y1) = (x0 + size, y0 + size);
    format!("[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]")
}

pub fn polygon_feature(code: &str, coordinates: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{{"type":"Polygon","coordinates":{coordinates}}}}}"#
    )
}

pub fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}
