//! What the PostgreSQL stories of the binary share: a small city with cases in many states,
//! built through the use cases, and the store tests' fresh-database helper.

#![allow(dead_code)] // Each test binary uses a different part of this module.

// The store's tests own the one helper that makes and drops a database per story; the
// binary's stories use the very same file rather than a copy of it.
#[path = "../../../onegrid-store/tests/support/mod.rs"]
pub mod support;

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use onegrid_app::App;
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::cases::{Actor, ReportInput};
use onegrid_app::divisions::DivisionFile;
use onegrid_domain::Level;
use onegrid_domain::case::{ActInput, Case, Channel};
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;
use onegrid_store::Location;
use serde_json::{Value, json};

pub const DIVISIONS: &str = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
140702,榆次区,140700,county
140703,太谷区,140700,county
140702001,北关街道,140702,township
140702001001,甲社区,140702001,village
";

const COUNTY: &str = r#"{"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"code":"140702"},"geometry":{"type":"Polygon",
     "coordinates":[[[112.6,37.5],[112.9,37.5],[112.9,37.8],[112.6,37.8],[112.6,37.5]]]}}]}"#;
const GRID: &str = r#"{"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"code":"140702001001001","name":"甲一网格"},"geometry":{"type":"Polygon",
     "coordinates":[[[112.7,37.6],[112.8,37.6],[112.8,37.7],[112.7,37.7],[112.7,37.6]]]}}]}"#;

/// The regions and polygons of the small city: 榆次区 with one township, one village and one
/// grid (112.7–112.8 E, 37.6–37.7 N), and 太谷区 without polygons.
pub async fn seed_regions(app: &App) {
    app.import_divisions(&[DivisionFile {
        name: "divisions.csv".to_owned(),
        text: DIVISIONS.to_owned(),
    }])
    .await
    .unwrap();
    for (level, text) in [(Level::County, COUNTY), (Level::Grid, GRID)] {
        let options = AreaImportOptions {
            level,
            fields: FieldNames::default(),
            crs: Crs::Wgs84,
        };
        app.import_areas(text, &options).await.unwrap();
    }
}

/// An app over the store at `location`.
pub async fn app_at(location: &Location) -> App {
    let store = onegrid_store::open(location).await.unwrap();
    App::load(store).await.unwrap()
}

/// An app over a fresh SQLite store in `dir`, with the small city's regions.
pub async fn sqlite_city(dir: &Path) -> App {
    let app = app_at(&Location::Directory(dir.to_owned())).await;
    seed_regions(&app).await;
    app
}

/// The role that takes each act in these stories.
pub fn role_for(act: &str) -> &'static str {
    match act {
        "accept" | "reject" | "register" | "follow_up" => "centre_intake",
        "dispatch" | "close" => "centre_dispatcher",
        "sign" | "return" | "handle" | "report_back" => "unit_handler",
        "verify_pass" | "verify_fail" | "settle_on_spot" => "grid_worker",
        _ => "centre_lead",
    }
}

pub fn actor(role: &str) -> Actor {
    Actor {
        name: format!("测试{role}"),
        role: role.to_owned(),
    }
}

/// Reports a case at a point.
pub async fn report(app: &App, channel: Channel, text: &str, lon: f64, lat: f64) -> Case {
    let input = ReportInput {
        description: text.to_owned(),
        lon: Some(lon),
        lat: Some(lat),
        grid: None,
        address: None,
        channel,
        category: None,
        urgency: None,
        reporter: Default::default(),
        attachments: vec![],
    };
    app.report_case(input, &actor("grid_worker"), None)
        .await
        .unwrap()
        .0
}

/// Takes the acts in order (each `{"act": …, …fields}`), in the role that takes each.
pub async fn acts(app: &App, mut case: Case, acts: &[Value]) -> Case {
    for fields in acts {
        let act = fields["act"].as_str().unwrap();
        let input: ActInput = serde_json::from_value(fields.clone()).unwrap();
        case = app
            .act_on_case(&case.id, case.version, input, &actor(role_for(act)))
            .await
            .unwrap_or_else(|e| panic!("{fields}: {e}"));
    }
    case
}

/// Cases in many states: closed and rated, settled on the spot, rejected, registered,
/// returned, in handling, one outside the grid, one reported with an idempotency key (and
/// retried), one with an attachment; then the overdue sweep a month on marks, escalates and
/// urges what is left open, and a checkpoint chains the heads. Returns how many were reported.
pub async fn cases_in_many_states(app: &App) -> usize {
    let (lon, lat) = (112.75, 37.65);
    let a = report(app, Channel::Resident, "邻里噪音纠纷", lon, lat).await;
    acts(
        app,
        a,
        &[
            json!({"act": "accept"}),
            json!({"act": "register", "category": "0401"}),
            json!({"act": "dispatch", "unit": "140702001:gov"}),
            json!({"act": "sign"}),
            json!({"act": "report_back", "note": "调解完毕"}),
            json!({"act": "verify_pass"}),
            json!({"act": "close"}),
            json!({"act": "follow_up", "satisfaction": "satisfied"}),
        ],
    )
    .await;
    let b = report(app, Channel::GridPatrol, "井盖松动", lon, lat).await;
    acts(
        app,
        b,
        &[
            json!({"act": "settle_on_spot", "note": "已复位"}),
            json!({"act": "verify_pass"}),
            json!({"act": "close"}),
        ],
    )
    .await;
    let c = report(app, Channel::Hotline, "无效来电", lon, lat).await;
    acts(
        app,
        c,
        &[json!({"act": "reject", "reason": {"kind": "invalid"}})],
    )
    .await;
    let d = report(app, Channel::Resident, "门口占道摆摊", lon, lat).await;
    acts(
        app,
        d,
        &[
            json!({"act": "accept"}),
            json!({"act": "register", "category": "0901"}),
        ],
    )
    .await;
    let f = report(app, Channel::Resident, "楼道堆放杂物", lon, lat).await;
    acts(
        app,
        f,
        &[
            json!({"act": "accept"}),
            json!({"act": "register", "category": "0401"}),
            json!({"act": "dispatch", "unit": "140702001:gov"}),
            json!({"act": "sign"}),
            json!({"act": "handle", "note": "上门调解"}),
        ],
    )
    .await;
    let g = report(app, Channel::Resident, "广告牌松动", lon, lat).await;
    acts(
        app,
        g,
        &[
            json!({"act": "accept"}),
            json!({"act": "register", "category": "0901"}),
            json!({"act": "dispatch", "unit": "140702001:gov"}),
            json!({"act": "return", "reason": "不属本单位职责"}),
        ],
    )
    .await;
    // Outside the grid, inside the county.
    report(app, Channel::Resident, "村口路灯不亮", 112.65, 37.55).await;
    // With an idempotency key, sent twice: one case.
    let keyed = ReportInput {
        description: "垃圾清运不及时".to_owned(),
        lon: Some(lon),
        lat: Some(lat),
        grid: None,
        address: None,
        channel: Channel::Open311,
        category: None,
        urgency: None,
        reporter: Default::default(),
        attachments: vec![],
    };
    let first = app
        .report_case(keyed.clone(), &actor("resident"), Some("key-1"))
        .await
        .unwrap();
    let again = app
        .report_case(keyed, &actor("resident"), Some("key-1"))
        .await
        .unwrap();
    assert!(again.1, "the retry answers the first case");
    assert_eq!(first.0.id, again.0.id);
    // With a photo.
    let photo = app
        .store()
        .put_attachment("image/jpeg", b"\xff\xd8\xff\xe0 photo".to_vec())
        .await
        .unwrap();
    let input = ReportInput {
        description: "墙面涂鸦".to_owned(),
        lon: Some(lon),
        lat: Some(lat),
        grid: None,
        address: None,
        channel: Channel::Resident,
        category: None,
        urgency: None,
        reporter: Default::default(),
        attachments: vec![photo],
    };
    app.report_case(input, &actor("resident"), None)
        .await
        .unwrap();
    let swept = app
        .sweep_overdue(Utc::now() + Duration::days(30))
        .await
        .unwrap();
    assert!(
        swept.marked > 0 && swept.escalated > 0 && swept.urged > 0,
        "{swept:?}"
    );
    9
}

/// Today in Asia/Shanghai.
pub fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// Everything the dashboard and the report show for the small city over a period that holds
/// every case: figures at city, county, township, village and grid, the city's ranking and
/// its report, as JSON.
pub async fn dashboard(app: &App) -> Value {
    let period = onegrid_app::figures::Period::new(
        today() - Duration::days(1),
        today() + Duration::days(60),
    )
    .unwrap();
    let mut out = serde_json::Map::new();
    for code in [
        "140700",
        "140702",
        "140703",
        "140702001",
        "140702001001",
        "140702001001001",
    ] {
        let code = onegrid_domain::RegionCode::parse(code).unwrap();
        let figures = app.region_figures(&code, period).await.unwrap();
        out.insert(
            format!("figures {code}"),
            serde_json::to_value(figures).unwrap(),
        );
    }
    let city = onegrid_domain::RegionCode::parse("140700").unwrap();
    let ranking = app
        .rank_children(
            &city,
            period,
            &onegrid_app::figures::RankBy::Figure("handle_rate".to_owned()),
        )
        .await
        .unwrap();
    out.insert("ranking".to_owned(), serde_json::to_value(ranking).unwrap());
    let report = app.report(&city, period).await.unwrap();
    out.insert("report".to_owned(), serde_json::to_value(report).unwrap());
    let unit = app.unit_figures("140702001:gov", period).await.unwrap();
    out.insert("unit".to_owned(), serde_json::to_value(unit).unwrap());
    Value::Object(out)
}

/// Every case, newest first, each with its whole record, as JSON.
pub async fn all_cases(app: &App) -> Value {
    let page = app
        .list_cases(&Default::default(), None, 500)
        .await
        .unwrap();
    let mut out = Vec::new();
    for case in page.cases {
        let view = app.case_view(&case.id).await.unwrap();
        out.push(json!({
            "case": serde_json::to_value(&view.case).unwrap(),
            "records": serde_json::to_value(&view.records).unwrap(),
        }));
    }
    Value::Array(out)
}

/// The secret key the stories give every process (PostgreSQL requires one, shared by every
/// server of a database).
pub const SECRET_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// `onegrid` with the environment's own settings removed, and the stories' secret key.
pub fn onegrid() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_onegrid"));
    command
        .env_remove("ONEGRID_DATA")
        .env_remove("ONEGRID_DATABASE_URL")
        .env_remove("ONEGRID_REPLICA_URL")
        .env("ONEGRID_SECRET_KEY", SECRET_KEY)
        .env("ONEGRID_LOG", "error");
    command
}

/// An account holding `roles` (`role@scope`, comma-separated) and an API token for it, made
/// through the command line on the store `store_args` names; the token.
pub fn make_token(store_args: &[&str], login: &str, roles: &str) -> String {
    let out = onegrid()
        .args(store_args)
        .args(["user", "create", login, "--role", roles])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onegrid()
        .args(store_args)
        .args(["token", "create", login])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .last()
        .expect("the token is the last word")
        .to_owned()
}

/// Keeps a store alive for the length of a story.
pub type Shared = Arc<dyn onegrid_store::Store>;
