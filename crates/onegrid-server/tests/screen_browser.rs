//! The command-centre screen in a real browser: the server runs on a port with the demo city
//! and cases reported through the app, headless Chromium loads `/screen` through chromedriver,
//! and the test checks what the page drew against what the app says — the map's regions, the
//! counters, the ranking, the overdue list — then changes a case and waits for the counter to
//! follow live, drills down and back up, and saves screenshots under `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install chromium chromium-driver`;
//! `.ci/run` and `scripts/test-postgres.sh` install them). Without them the test fails and
//! says so: it never passes without having looked.

mod browser;

use std::path::{Path, PathBuf};

use browser::{browser_binaries, open_browser, start_driver, wait_for_js};
use chrono::{Datelike, Utc};
use fantoccini::{Client, Locator};
use onegrid_app::App;
use onegrid_app::cases::{Actor, ReportInput};
use onegrid_app::figures::{Period, RankBy};
use onegrid_domain::case::{ActInput, Case, Channel};
use onegrid_domain::{Level, RegionCode};
use serde_json::{Value, json};

const CITY: &str = "140700";
const PASSWORD: &str = "Daping#2026screen";

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .text()
        .await
        .unwrap()
}

/// A count as the page writes it (zh-CN grouping: 12,345).
fn grouped(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn save_screenshot(browser: &Client, name: &str) -> PathBuf {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    let path = screenshot_dir().join(name);
    std::fs::write(&path, png).unwrap();
    path
}

/// Sets the page's viewport (not the window) to `width` × `height`.
async fn set_viewport(browser: &Client, width: u32, height: u32) {
    browser.set_window_size(width, height).await.unwrap();
    let inner = browser
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .unwrap();
    let inner_width = inner[0].as_u64().unwrap() as u32;
    let inner_height = inner[1].as_u64().unwrap() as u32;
    if (inner_width, inner_height) != (width, height) {
        browser
            .set_window_size(
                width + (width - inner_width),
                height + (height - inner_height),
            )
            .await
            .unwrap();
    }
}

fn act(name: &str, fields: Value) -> ActInput {
    let mut body = fields;
    body["act"] = json!(name);
    serde_json::from_value(body).unwrap()
}

async fn take(app: &App, case: Case, role: &str, name: &str, fields: Value) -> Case {
    let actor = Actor {
        name: "测试".to_owned(),
        role: role.to_owned(),
    };
    app.act_on_case(&case.id, case.version, act(name, fields), &actor)
        .await
        .unwrap_or_else(|error| panic!("{name} on {}: {error}", case.number))
}

/// Cases in every county of the demo city, in several states; some left waiting, so that the
/// sweep (run as of a month from now) marks them overdue. Returns one more case, reported
/// after the sweep and not yet accepted, for the live change.
async fn report_cases(app: &App) -> Case {
    let atlas = app.atlas();
    let mut grids: Vec<String> = atlas
        .all_regions()
        .filter(|region| region.level() == Level::Grid && region.code.as_str().starts_with("1407"))
        .map(|region| region.code.to_string())
        .collect();
    grids.sort();
    let counties: Vec<String> = atlas
        .children(CITY)
        .iter()
        .map(|county| county.code.to_string())
        .collect();
    let reporter = Actor {
        name: "网格员".to_owned(),
        role: "grid_worker".to_owned(),
    };
    let descriptions = [
        "小区门口占道经营",
        "路灯不亮",
        "井盖松动",
        "邻里噪音纠纷",
        "楼道堆放杂物",
    ];
    let categories = ["0401", "0901", "0401", "0901", "0401"];
    let channels = [Channel::GridPatrol, Channel::Resident, Channel::Hotline];
    let mut last_grid = None;
    for (i, county) in counties.iter().enumerate() {
        // More cases in the first counties, so that the map has a range of colours.
        let count = 2 + (counties.len() - i) % 5;
        let county_grids: Vec<&String> = grids
            .iter()
            .filter(|g| g.starts_with(county.as_str()))
            .collect();
        for n in 0..count {
            let grid = county_grids[(n * 7) % county_grids.len()].clone();
            let input = ReportInput {
                description: descriptions[n % descriptions.len()].to_owned(),
                lon: None,
                lat: None,
                grid: Some(grid),
                address: None,
                channel: channels[(i + n) % channels.len()],
                category: None,
                urgency: None,
                reporter: Default::default(),
                attachments: Vec::new(),
            };
            let (case, _) = app.report_case(input, &reporter, None).await.unwrap();
            if last_grid.is_none() {
                last_grid = case.grid.clone();
            }
            let case = take(app, case, "centre_intake", "accept", json!({})).await;
            let case = take(
                app,
                case,
                "centre_intake",
                "register",
                json!({"category": categories[n % categories.len()]}),
            )
            .await;
            if n % 3 == 1 {
                continue; // Left waiting for dispatch: the sweep will find it overdue.
            }
            let unit = app.dispatch_suggestions(&case)[0].unit.clone();
            let case = take(
                app,
                case,
                "centre_dispatcher",
                "dispatch",
                json!({"unit": unit}),
            )
            .await;
            let case = take(app, case, "unit_handler", "sign", json!({})).await;
            if n % 4 == 3 {
                continue; // Left in handling.
            }
            let case = take(
                app,
                case,
                "unit_handler",
                "report_back",
                json!({"note": "已处置"}),
            )
            .await;
            let case = take(app, case, "grid_worker", "verify_pass", json!({})).await;
            let case = take(app, case, "centre_dispatcher", "close", json!({})).await;
            if n % 2 == 0 {
                take(
                    app,
                    case,
                    "centre_intake",
                    "follow_up",
                    json!({"satisfaction": "satisfied"}),
                )
                .await;
            }
        }
    }
    app.sweep_overdue(Utc::now() + chrono::Duration::days(30))
        .await
        .unwrap();
    // Reported after the sweep, so that it is still waiting to be accepted.
    let input = ReportInput {
        description: "广场路面破损".to_owned(),
        lon: None,
        lat: None,
        grid: last_grid,
        address: None,
        channel: Channel::Resident,
        category: None,
        urgency: None,
        reporter: Default::default(),
        attachments: Vec::new(),
    };
    app.report_case(input, &reporter, None).await.unwrap().0
}

fn this_year() -> Period {
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let first = today.with_ordinal(1).unwrap();
    Period::new(first, today).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_draws_the_city_follows_a_change_live_and_drills_down() {
    let (chromium, driver_binary) = browser_binaries();

    let dir = tempfile::tempdir().unwrap();
    let store = onegrid_store::open(&onegrid_store::Location::Directory(
        dir.path().join("store"),
    ))
    .await
    .unwrap();
    let app = App::load(store).await.unwrap();
    app.load_demo_city().await.unwrap();
    let waiting = report_cases(&app).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(onegrid_server::serve(listener, app.clone(), async {
        let _ = stopped.await;
    }));

    let driver = start_driver(&driver_binary).await;
    let browser = open_browser(
        &driver,
        &chromium,
        &dir.path().join("chromium-profile"),
        (1920, 1080),
    )
    .await;
    set_viewport(&browser, 1920, 1080).await;

    // `/screen` opens the city; its data is for signed-in staff, so the page asks first.
    let system = onegrid_app::access::Principal::system();
    let assignments =
        onegrid_app::access::parse_assignment_list(&["leader@140700".to_owned()], "").unwrap();
    app.create_account(
        &system,
        "dapingzhiban",
        "大屏值班",
        Some(PASSWORD),
        assignments,
    )
    .await
    .unwrap();
    browser.goto(&format!("{base}/screen")).await.unwrap();
    wait_for_js(
        &browser,
        "return !document.getElementById('signin').hidden",
        30,
        "the sign-in form",
    )
    .await;
    assert_eq!(
        text_of(&browser, "#count-accepted").await,
        "—",
        "no figures before signing in"
    );
    save_screenshot(&browser, "screen-signin-1920x1080.png").await;
    browser
        .find(Locator::Id("signin-login"))
        .await
        .unwrap()
        .send_keys("dapingzhiban")
        .await
        .unwrap();
    browser
        .find(Locator::Id("signin-password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Id("signin-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_js(
        &browser,
        "return document.body.dataset.ready === '1'",
        60,
        "the city's screen to load",
    )
    .await;
    let url = browser.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        format!("/screen/{CITY}"),
        "/screen redirects to the demo city"
    );
    assert_eq!(text_of(&browser, "#region-title").await, "晋中市");

    // The map drew the eleven counties, coloured by 受理数, from the GeoJSON the API serves.
    let city = RegionCode::parse(CITY).unwrap();
    let period = this_year();
    let figures = app.region_figures(&city, period).await.unwrap();
    let map = browser
        .execute(
            "const chart = echarts.getInstanceByDom(document.getElementById('map-chart'));
             const series = chart.getOption().series[0];
             const canvas = document.querySelector('#map-chart canvas');
             return {
               type: series.type,
               names: series.data.map(d => d.areaName),
               values: series.data.map(d => [d.name, d.value]),
               features: echarts.getMap(series.map).geoJSON.features.length,
               canvas: canvas ? [canvas.width, canvas.height] : null,
             };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(map["type"], "map");
    assert_eq!(map["features"], 11, "one outline per county: {map}");
    let mut drawn: Vec<String> = map["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap().to_owned())
        .collect();
    drawn.sort();
    let mut counties: Vec<String> = figures
        .children
        .iter()
        .map(|c| c.area.name.clone())
        .collect();
    counties.sort();
    assert_eq!(drawn, counties, "the map's regions are the city's counties");
    assert!(counties.iter().any(|name| name == "榆次区"));
    for child in &figures.children {
        let value = map["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|pair| pair[0] == child.area.code)
            .unwrap_or_else(|| panic!("{} on the map", child.area.name));
        assert_eq!(
            value[1],
            json!(child.figures.accepted),
            "{}'s colour value",
            child.area.name
        );
    }
    let canvas = &map["canvas"];
    assert!(
        canvas[0].as_u64().unwrap() > 400 && canvas[1].as_u64().unwrap() > 300,
        "the map's canvas is drawn at size: {canvas}"
    );

    // The counters show what the API's figures say.
    let totals = &figures.figures;
    assert!(
        totals.accepted > 0 && totals.overdue > 0,
        "the fixture has accepted and overdue cases"
    );
    for (id, value) in [
        ("#count-accepted", totals.accepted),
        ("#count-registered", totals.registered),
        ("#count-handled", totals.handled),
        ("#count-closed", totals.closed),
        ("#count-overdue", totals.overdue),
    ] {
        assert_eq!(text_of(&browser, id).await, grouped(value), "{id}");
    }
    let handle_rate = totals.handle_rate.value.unwrap();
    assert_eq!(
        text_of(&browser, "#rate-handle").await,
        format!("{:.1}%", handle_rate * 100.0)
    );

    // The ranking lists every county in the order the API ranks them.
    let ranking = app
        .rank_children(&city, period, &RankBy::Figure("accepted".to_owned()))
        .await
        .unwrap();
    let rows = browser
        .find_all(Locator::Css("#ranking-body tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), ranking.len());
    let first = text_of(&browser, "#ranking-body tr:first-child td:nth-child(2)").await;
    assert_eq!(first, ranking[0].area.name);

    // The overdue list holds the open overdue cases the app lists, most overdue first.
    let overdue = app.overdue_cases(&city, 50, Utc::now()).await.unwrap();
    assert!(!overdue.cases.is_empty());
    let listed = browser
        .find_all(Locator::Css("#overdue-body tr"))
        .await
        .unwrap();
    assert_eq!(listed.len(), overdue.cases.len());
    assert_eq!(
        text_of(&browser, "#overdue-body tr:first-child td:first-child").await,
        overdue.cases[0].case.number
    );

    // The trend has one point per month of the year so far, the category chart its 大类.
    let charts = browser
        .execute(
            "const trend = echarts.getInstanceByDom(document.getElementById('trend-chart')).getOption();
             const categories = echarts.getInstanceByDom(document.getElementById('category-chart')).getOption();
             return {months: trend.xAxis[0].data.length, accepted: trend.series[0].data.reduce((a, b) => a + b, 0),
                     categories: categories.yAxis[0].data};",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(charts["months"], json!(period.to.month()));
    assert_eq!(charts["accepted"], json!(totals.accepted));
    let category_names: Vec<&str> = figures.categories.iter().map(|c| c.1.as_str()).collect();
    for name in charts["categories"].as_array().unwrap() {
        assert!(
            category_names.contains(&name.as_str().unwrap()),
            "{name} is a 大类 of the figures"
        );
    }

    let wall = save_screenshot(&browser, "screen-1920x1080.png").await;

    // A case changes (accepted by the centre, as another user would): the counter follows
    // without a reload, through the event stream.
    let refreshes_before = browser
        .execute("return Number(document.body.dataset.refreshes)", vec![])
        .await
        .unwrap();
    take(&app, waiting, "centre_intake", "accept", json!({})).await;
    let expected = grouped(totals.accepted + 1);
    wait_for_js(
        &browser,
        &format!("return document.getElementById('count-accepted').textContent === '{expected}'"),
        20,
        "the 受理 counter to show the accepted case",
    )
    .await;
    let refreshes_after = browser
        .execute("return Number(document.body.dataset.refreshes)", vec![])
        .await
        .unwrap();
    assert!(refreshes_after.as_u64() > refreshes_before.as_u64());
    assert_eq!(text_of(&browser, "#live").await, "● 实时");

    // Drill down by the ranking (the keyboard's way to what a map click does), then back up.
    let target = &ranking[0].area;
    browser
        .find(Locator::Css("#ranking-body tr:first-child a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_js(
        &browser,
        &format!(
            "return location.pathname === '/screen/{}' && document.body.dataset.ready === '1'",
            target.code
        ),
        60,
        "the county's screen",
    )
    .await;
    assert_eq!(text_of(&browser, "#region-title").await, target.name);
    let county = RegionCode::parse(&target.code).unwrap();
    let county_figures = app.region_figures(&county, period).await.unwrap();
    let drawn = browser
        .execute(
            "return echarts.getInstanceByDom(document.getElementById('map-chart')).getOption().series[0].data.map(d => d.areaName)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        drawn.as_array().unwrap().len(),
        county_figures.children.len(),
        "the county's map shows its townships"
    );
    assert_eq!(
        text_of(&browser, "#count-accepted").await,
        grouped(county_figures.figures.accepted)
    );
    assert!(text_of(&browser, "#breadcrumb").await.contains("晋中市"));
    browser
        .find(Locator::Id("go-up"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_js(
        &browser,
        &format!(
            "return location.pathname === '/screen/{CITY}' && document.body.dataset.ready === '1'"
        ),
        60,
        "the way back up to the city",
    )
    .await;

    // A laptop's screen: the same page, reflowed.
    set_viewport(&browser, 1366, 768).await;
    wait_for_js(
        &browser,
        "return document.getElementById('map-chart').querySelector('canvas').width <= 1366",
        10,
        "the map to fit the laptop's width",
    )
    .await;
    let laptop = save_screenshot(&browser, "screen-1366x768.png").await;
    eprintln!("screenshots: {} {}", wall.display(), laptop.display());

    browser.close().await.unwrap();
    drop(driver);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
