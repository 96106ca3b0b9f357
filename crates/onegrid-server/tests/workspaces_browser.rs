//! The workspaces in a real browser. The server runs on a port with the demo city; headless
//! Chromium, driven through chromedriver, plays each person in turn:
//!
//! 1. a resident reports with a photo and a point clicked on the city map and gets a tracking
//!    code; the centre accepts, registers (the suggested category) and dispatches (the
//!    suggested unit); the department signs, asks for more time and reports back with an
//!    evidence photo; the grid worker verifies; the centre closes; the resident rates it by the
//!    tracking code — and the store's record says who did each step, in which role;
//! 2. a grid worker reports while the server is down: the report waits in the phone's queue
//!    (the page reloads from the service worker's cache, still showing it), and when the
//!    server is back the queue is sent — twice at once, on purpose — and exactly one case
//!    exists.
//!
//! Screenshots of every workspace at phone (360×780) and desktop (1440×900) size go to
//! `target/screenshots/`. Needs Debian's `chromium` and `chromium-driver`; without them the
//! tests fail and say so.

mod browser;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use browser::{browser_binaries, open_browser, start_driver, wait_for_js};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::{Client, Locator};
use onegrid_app::App;
use onegrid_app::access::{Principal, parse_assignment_list};
use onegrid_domain::case::{CaseState, Satisfaction};
use onegrid_store::CaseFilter;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

const PASSWORD: &str = "Workspace#2026ui";
/// A point in 榆次区 (the README's locate example), inside grid 140702201207002.
const POINT: (f64, f64) = (112.75, 37.69);

/// The server on a fixed port, which a test may stop and start again (the network "going
/// away" for the page, while the store stays).
struct Server {
    app: App,
    port: u16,
    running: Option<(
        tokio::sync::oneshot::Sender<()>,
        JoinHandle<std::io::Result<()>>,
    )>,
}

impl Server {
    async fn start(app: App) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut server = Server {
            app,
            port,
            running: None,
        };
        server.run(listener);
        server
    }

    fn run(&mut self, listener: tokio::net::TcpListener) {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(onegrid_server::serve(listener, self.app.clone(), async {
            let _ = stopped.await;
        }));
        self.running = Some((stop, handle));
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn stop(&mut self) {
        if let Some((stop, handle)) = self.running.take() {
            let _ = stop.send(());
            // Graceful shutdown waits for open connections; the browser keeps some alive.
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_ok()
        {
            assert!(Instant::now() < deadline, "the server did not stop");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "rebinding {}: {error}",
                        self.port
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        self.run(listener);
    }
}

async fn demo_app(dir: &Path) -> App {
    let store = onegrid_store::open(&onegrid_store::Location::Directory(dir.to_owned()))
        .await
        .unwrap();
    let app = App::load(store).await.unwrap();
    app.load_demo_city().await.unwrap();
    app
}

async fn account(app: &App, login: &str, name: &str, roles: &[&str]) -> String {
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    let assignments = parse_assignment_list(&roles, "").unwrap();
    app.create_account(
        &Principal::system(),
        login,
        name,
        Some(PASSWORD),
        assignments,
    )
    .await
    .unwrap()
    .id
}

async fn wait_for_state(browser: &Client, state: &str) {
    wait_for_js(
        browser,
        &format!(
            "const c = document.getElementById('case'); return c && c.dataset.state === '{state}'"
        ),
        40,
        &format!("the case to be {state}"),
    )
    .await;
}

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .text()
        .await
        .unwrap()
}

async fn click(browser: &Client, css: &str) {
    let element = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"));
    browser
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&element).unwrap()],
        )
        .await
        .unwrap();
    element
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking {css}: {error}"));
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    let element = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"));
    element.clear().await.unwrap();
    element
        .send_keys(text)
        .await
        .unwrap_or_else(|error| panic!("typing into {css}: {error}"));
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
                width + (width - inner_width.min(width)),
                height + (height - inner_height.min(height)),
            )
            .await
            .unwrap();
    }
}

/// Screenshots of the page as it stands, at phone and at desktop size; the viewport is left
/// at phone size (the size the tests drive at).
async fn screenshots(browser: &Client, name: &str) {
    for (suffix, width, height) in [("desktop", 1440, 900), ("phone", 360, 780)] {
        set_viewport(browser, width, height).await;
        browser
            .execute("window.scrollTo(0, 0)", vec![])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        let png = browser.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
        std::fs::write(screenshot_dir().join(format!("{name}-{suffix}.png")), png).unwrap();
    }
}

async fn sign_in(browser: &Client, base: &str, login: &str, totp: Option<&str>) {
    browser.goto(&format!("{base}/signout")).await.unwrap();
    browser.goto(&format!("{base}/signin")).await.unwrap();
    type_into(browser, "#login", login).await;
    type_into(browser, "#password", PASSWORD).await;
    if let Some(code) = totp {
        type_into(browser, "#totp", code).await;
    }
    click(browser, "#signin-form button[type=submit]").await;
    wait_for_js(
        browser,
        "return location.pathname.startsWith('/ui/') && location.pathname",
        40,
        &format!("{login} to be signed in"),
    )
    .await;
}

/// Clicks the city map (a real pointer click) where `lon`, `lat` is drawn.
async fn click_map(browser: &Client, lon: f64, lat: f64) {
    let at = browser
        .execute(
            "const svg = document.querySelector('svg.map[data-pickable]');
             svg.scrollIntoView({block: 'center'});
             const d = svg.dataset;
             const p = svg.createSVGPoint();
             p.x = (arguments[0] - Number(d.minLon)) * Number(d.cosLat) * Number(d.scale);
             p.y = (Number(d.maxLat) - arguments[1]) * Number(d.scale);
             const s = p.matrixTransform(svg.getScreenCTM());
             return [s.x, s.y];",
            vec![json!(lon), json!(lat)],
        )
        .await
        .unwrap();
    let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    let mouse = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveTo {
            duration: None,
            x: x.round(),
            y: y.round(),
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    browser.perform_actions(mouse).await.unwrap();
}

/// A real PNG to attach as a photo: what the browser shows now.
async fn photo_file(browser: &Client, dir: &Path, name: &str) -> PathBuf {
    let png = browser.screenshot().await.unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    path
}

async fn attach(browser: &Client, css: &str, file: &Path) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .send_keys(&file.display().to_string())
        .await
        .unwrap_or_else(|error| panic!("attaching to {css}: {error}"));
}

/// Other work in the centre's queues, so that the pages look as they do on a working day:
/// cases waiting to be registered and dispatched, and one overdue in handling (urged by the
/// sweep, run as of a month from now).
async fn other_cases(app: &App) {
    use onegrid_app::cases::{Actor, ReportInput};
    use onegrid_domain::case::{ActInput, Channel};
    let act = |name: &str, fields: Value| -> ActInput {
        let mut body = fields;
        body["act"] = json!(name);
        serde_json::from_value(body).unwrap()
    };
    let actor = |role: &str| Actor {
        name: "演示".to_owned(),
        role: role.to_owned(),
    };
    let seeds = [
        ("楼道堆放杂物，堵塞消防通道", 112.742, 37.702, 2),
        ("路面坑洼积水，车辆绕行", 112.761, 37.683, 1),
        ("商铺占道经营，影响行人通行", 112.735, 37.694, 4),
    ];
    for (description, lon, lat, steps) in seeds {
        let input = ReportInput {
            description: description.to_owned(),
            lon: Some(lon),
            lat: Some(lat),
            grid: None,
            address: None,
            channel: Channel::Hotline,
            category: None,
            urgency: None,
            reporter: Default::default(),
            attachments: Vec::new(),
        };
        let (mut case, _) = app
            .report_case(input, &actor("centre_intake"), None)
            .await
            .unwrap();
        let category = app.rules().taxonomy.suggest(description)[0].code.clone();
        for step in 0..steps {
            let (role, input) = match step {
                0 => ("centre_intake", act("accept", json!({}))),
                1 => (
                    "centre_intake",
                    act("register", json!({"category": category})),
                ),
                2 => {
                    let unit = app.dispatch_suggestions(&case)[0].unit.clone();
                    ("centre_dispatcher", act("dispatch", json!({"unit": unit})))
                }
                _ => ("unit_handler", act("sign", json!({}))),
            };
            case = app
                .act_on_case(&case.id, case.version, input, &actor(role))
                .await
                .unwrap();
        }
    }
    app.sweep_overdue(chrono::Utc::now() + chrono::Duration::days(30))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_residents_report_goes_round_the_loop_through_every_workspace() {
    let (chromium, driver_binary) = browser_binaries();
    let dir = tempfile::tempdir().unwrap();
    let app = demo_app(&dir.path().join("data")).await;
    account(
        &app,
        "centre",
        "王受理",
        &[
            "centre_intake@140702",
            "centre_dispatcher@140702",
            "centre_lead@140702",
        ],
    )
    .await;
    account(&app, "handler", "赵城管", &["unit_handler@140702:城管局"]).await;
    let admin_id = account(&app, "admin", "钱系统", &["system_admin@140700"]).await;
    let totp_secret = app
        .enroll_totp(&Principal::system(), &admin_id)
        .await
        .unwrap();
    other_cases(&app).await;
    let server = Server::start(app.clone()).await;
    let base = server.base();
    let driver = start_driver(&driver_binary).await;
    let browser = open_browser(&driver, &chromium, &dir.path().join("profile"), (1440, 900)).await;
    set_viewport(&browser, 360, 780).await;

    // The resident: the portal, then a report with a photo and a point clicked on the map.
    browser.goto(&format!("{base}/portal")).await.unwrap();
    screenshots(&browser, "portal-home").await;
    let photo = photo_file(&browser, dir.path(), "scene.png").await;
    browser
        .goto(&format!("{base}/portal/report"))
        .await
        .unwrap();
    let description = "小区东门路灯不亮，晚上很黑";
    type_into(&browser, "#description", description).await;
    type_into(&browser, "#name", "张三").await;
    type_into(&browser, "#phone", "13812341234").await;
    attach(&browser, "#photo", &photo).await;
    click_map(&browser, POINT.0, POINT.1).await;
    let place = wait_for_js(
        &browser,
        "const t = document.getElementById('position-text').textContent;
         return t.startsWith('已选位置') && t",
        30,
        "the clicked point to be located",
    )
    .await;
    assert!(
        place.as_str().unwrap().contains("榆次区"),
        "the clicked point lies in 榆次区: {place}"
    );
    // The keyboard moves the point too: right, then back left.
    let lon_of = "return Number(document.getElementById('lon').value)";
    let clicked_lon = browser.execute(lon_of, vec![]).await.unwrap();
    let map = browser
        .find(Locator::Css("svg.map[data-pickable]"))
        .await
        .unwrap();
    map.send_keys("\u{E014}").await.unwrap();
    let moved_lon = browser.execute(lon_of, vec![]).await.unwrap();
    assert!(
        moved_lon.as_f64().unwrap() > clicked_lon.as_f64().unwrap(),
        "ArrowRight moves east: {clicked_lon} → {moved_lon}"
    );
    map.send_keys("\u{E012}").await.unwrap();
    let back_lon = browser.execute(lon_of, vec![]).await.unwrap();
    assert!((back_lon.as_f64().unwrap() - clicked_lon.as_f64().unwrap()).abs() < 1e-5);
    screenshots(&browser, "portal-report").await;
    click(&browser, "#report-form button[type=submit]").await;
    let code = wait_for_js(
        &browser,
        "const c = document.getElementById('tracking-code'); return c && c.textContent",
        40,
        "the tracking code",
    )
    .await;
    let code = code.as_str().unwrap().to_owned();
    screenshots(&browser, "portal-reported").await;
    let reported = app
        .case_by_tracking_code(&code, "test")
        .await
        .expect("the tracking code the page shows finds the case");
    let case_id = reported.case.id.clone();
    assert_eq!(reported.case.state, CaseState::Reported);
    assert_eq!(reported.case.description, description);
    assert_eq!(reported.case.attachments.len(), 1, "the photo came along");
    // The point is where the map was clicked, to within a pixel of the drawing (on a phone
    // the whole city is 360 px wide: a pixel is about 0.01°).
    let (lon, lat) = (reported.case.lon.unwrap(), reported.case.lat.unwrap());
    assert!(
        (lon - POINT.0).abs() < 0.02 && (lat - POINT.1).abs() < 0.02,
        "clicked {POINT:?}, stored ({lon}, {lat})"
    );
    let grid = reported
        .case
        .grid
        .clone()
        .expect("the point lies in a grid");
    assert_eq!(
        app.locate(lon, lat).unwrap().grid.map(|g| g.code),
        Some(grid.clone())
    );
    // The grid worker of that grid.
    account(&app, "worker", "李网格", &[&format!("grid_worker@{grid}")]).await;

    // The centre: the intake queue suggests the category and the unit; accept, register,
    // dispatch.
    sign_in(&browser, &base, "centre", None).await;
    assert!(browser.current_url().await.unwrap().path() == "/ui/centre");
    let row = format!("#q-intake li[data-case-id='{case_id}']");
    let suggested = text_of(&browser, &format!("{row} .suggested-category")).await;
    assert_eq!(suggested, "公共设施/路灯损坏");
    let unit = text_of(&browser, &format!("{row} .suggested-unit")).await;
    assert!(unit.contains("城市管理局"), "suggested unit: {unit}");
    screenshots(&browser, "centre-queues").await;
    // Accepted right in the queue; the row says so.
    click(&browser, &format!("{row} form[data-act=accept] button")).await;
    let accepted = wait_for_js(
        &browser,
        &format!("const f = document.querySelector(\"{row} .flash\"); return f && f.textContent"),
        30,
        "the row to say the case is accepted",
    )
    .await;
    assert!(accepted.as_str().unwrap().contains("待立案"), "{accepted}");
    click(&browser, &format!("{row} a.case-link")).await;
    wait_for_state(&browser, "accepted").await;
    screenshots(&browser, "centre-case").await;
    let selected = browser
        .execute(
            "return document.querySelector('form[data-act=register] select[name=category]').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        selected,
        json!("1103"),
        "the suggested category is preselected"
    );
    click(&browser, "form[data-act=register] button[type=submit]").await;
    wait_for_state(&browser, "registered").await;
    let unit_choice = browser
        .execute(
            "return document.querySelector('form[data-act=dispatch] select[name=unit]').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unit_choice, json!("140702:城管局|county"));
    click(&browser, "form[data-act=dispatch] button[type=submit]").await;
    wait_for_state(&browser, "dispatched").await;
    let case = app.case_view(&case_id).await.unwrap().case;
    assert_eq!(case.unit.as_deref(), Some("140702:城管局"));
    assert_eq!(case.category.as_deref(), Some("1103"));

    // The department: the inbox, sign, ask for more time, report back with evidence.
    sign_in(&browser, &base, "handler", None).await;
    assert!(browser.current_url().await.unwrap().path() == "/ui/unit");
    screenshots(&browser, "unit-inbox").await;
    click(
        &browser,
        &format!("#u-sign li[data-case-id='{case_id}'] a.case-link"),
    )
    .await;
    click(&browser, "form[data-act=sign] button[type=submit]").await;
    wait_for_state(&browser, "handling").await;
    click(
        &browser,
        "details:has(form[data-act=extension_request]) summary",
    )
    .await;
    type_into(
        &browser,
        "form[data-act=extension_request] [name=amount]",
        "3",
    )
    .await;
    type_into(
        &browser,
        "form[data-act=extension_request] [name=reason]",
        "需更换灯杆，配件三天后到货",
    )
    .await;
    click(
        &browser,
        "form[data-act=extension_request] button[type=submit]",
    )
    .await;
    wait_for_js(
        &browser,
        "return document.querySelector('.flash') && document.querySelector('.flash').textContent.includes('申请延期')",
        30,
        "the extension request to be recorded",
    )
    .await;
    // The centre's lead sees the request and grants it; the deadline moves.
    let deadline_before = app.case_view(&case_id).await.unwrap().case.stage_deadline;
    sign_in(&browser, &base, "centre", None).await;
    let request = text_of(&browser, &format!("#q-extend li[data-case-id='{case_id}']")).await;
    assert!(request.contains("处置中"), "{request}");
    click(
        &browser,
        &format!("#q-extend li[data-case-id='{case_id}'] a.case-link"),
    )
    .await;
    click(&browser, "details:has(form[data-act=extend]) summary").await;
    type_into(&browser, "form[data-act=extend] [name=amount]", "3").await;
    type_into(
        &browser,
        "form[data-act=extend] [name=reason]",
        "同意：配件到货需三个工作日",
    )
    .await;
    click(&browser, "form[data-act=extend] button[type=submit]").await;
    wait_for_js(
        &browser,
        "return document.querySelector('.flash') && document.querySelector('.flash').textContent.includes('批准延期')",
        30,
        "the extension to be granted",
    )
    .await;
    let deadline_after = app.case_view(&case_id).await.unwrap().case.stage_deadline;
    assert!(
        deadline_after > deadline_before,
        "{deadline_before:?} → {deadline_after:?}"
    );
    sign_in(&browser, &base, "handler", None).await;
    browser
        .goto(&format!("{base}/ui/cases/{case_id}"))
        .await
        .unwrap();
    // Another picture than the resident's (what the handler's screen shows now).
    let evidence = photo_file(&browser, dir.path(), "evidence.png").await;
    attach(
        &browser,
        "form[data-act=report_back] input[type=file]",
        &evidence,
    )
    .await;
    wait_for_js(
        &browser,
        "return document.querySelector('form[data-act=report_back] input[name=attachments]').value",
        30,
        "the evidence photo to be uploaded",
    )
    .await;
    type_into(
        &browser,
        "form[data-act=report_back] [name=note]",
        "已更换灯泡，夜间复亮",
    )
    .await;
    click(&browser, "form[data-act=report_back] button[type=submit]").await;
    wait_for_state(&browser, "reported_back").await;
    // Both photos, the resident's and the evidence, load through the case's attachment URL.
    let photos = wait_for_js(
        &browser,
        "const imgs = [...document.querySelectorAll('.photos img')];
         return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0) && imgs.length",
        30,
        "the case's two photos to load",
    )
    .await;
    assert_eq!(photos, json!(2));
    screenshots(&browser, "unit-case").await;

    // The grid worker: the task list shows it to verify.
    sign_in(&browser, &base, "worker", None).await;
    assert!(browser.current_url().await.unwrap().path() == "/ui/worker");
    let task = text_of(&browser, &format!("li[data-case-id='{case_id}']")).await;
    assert!(task.contains("待核查"), "{task}");
    screenshots(&browser, "worker-tasks").await;
    click(
        &browser,
        &format!("li[data-case-id='{case_id}'] a.case-link"),
    )
    .await;
    click(&browser, "form[data-act=verify_pass] button[type=submit]").await;
    wait_for_state(&browser, "verified").await;
    browser
        .goto(&format!("{base}/ui/worker/report"))
        .await
        .unwrap();
    screenshots(&browser, "worker-report").await;
    browser
        .goto(&format!("{base}/ui/worker/patrol"))
        .await
        .unwrap();
    // The phone's position comes from a stand-in for its GPS: three fixes walking east
    // inside the worker's grid. Everything after it is the page's own code.
    let records_before = app.store().record_count().await.unwrap();
    browser
        .execute(
            "const fixes = arguments[0];
             Object.defineProperty(navigator, 'geolocation', { configurable: true, value: {
               watchPosition(success) {
                 fixes.forEach((f, i) => setTimeout(() => success({
                   coords: { longitude: f[0], latitude: f[1], accuracy: 5 },
                   timestamp: Date.now() + i * 1000 }), 50 * (i + 1)));
                 return 1;
               },
               clearWatch() {},
               getCurrentPosition(success) { success({ coords: { longitude: fixes[0][0], latitude: fixes[0][1] } }); },
             }});",
            vec![json!([[lon, lat], [lon + 0.001, lat], [lon + 0.002, lat]])],
        )
        .await
        .unwrap();
    click(&browser, "#patrol-start").await;
    wait_for_js(
        &browser,
        "return document.getElementById('patrol-points').textContent.includes('3 个')",
        20,
        "three track points",
    )
    .await;
    screenshots(&browser, "worker-patrol").await;
    click(&browser, "#patrol-stop").await;
    let recorded = wait_for_js(
        &browser,
        "const t = document.getElementById('patrol-state').textContent; return t.startsWith('巡查已记录') && t",
        30,
        "the patrol to be recorded",
    )
    .await;
    assert!(
        recorded.as_str().unwrap().contains("3 个定位点"),
        "{recorded}"
    );
    assert_eq!(
        app.store().record_count().await.unwrap(),
        records_before + 1,
        "one patrol record"
    );

    // The centre closes it.
    sign_in(&browser, &base, "centre", None).await;
    browser
        .goto(&format!("{base}/ui/cases/{case_id}"))
        .await
        .unwrap();
    click(&browser, "form[data-act=close] button[type=submit]").await;
    wait_for_state(&browser, "closed").await;

    // The resident rates it by the tracking code (signed out: no account).
    browser.goto(&format!("{base}/signout")).await.unwrap();
    browser.goto(&format!("{base}/portal/track")).await.unwrap();
    type_into(&browser, "#code", &code).await;
    click(&browser, ".track-form button[type=submit]").await;
    wait_for_js(
        &browser,
        "const p = document.getElementById('progress'); return p && p.dataset.state === 'closed'",
        30,
        "the progress of the closed case",
    )
    .await;
    let progress = text_of(&browser, "#progress").await;
    assert!(
        !progress.contains("赵城管") && !progress.contains("13812341234"),
        "no staff names or phone numbers on the public page: {progress}"
    );
    screenshots(&browser, "portal-track").await;
    click(&browser, ".rate-form input[value=satisfied]").await;
    type_into(&browser, "#rate-note", "修得很快，谢谢").await;
    click(&browser, ".rate-form button[type=submit]").await;
    wait_for_js(
        &browser,
        "const p = document.getElementById('progress'); return p && p.dataset.state === 'evaluated'",
        30,
        "the case to be rated",
    )
    .await;
    let view = app.case_view(&case_id).await.unwrap();
    assert_eq!(view.case.state, CaseState::Evaluated);
    assert_eq!(view.case.satisfaction, Some(Satisfaction::Satisfied));
    let steps: Vec<(String, String)> = view
        .records
        .iter()
        .map(|r| (r.act.clone(), r.role.clone()))
        .collect();
    let expected = [
        ("report", "resident"),
        ("accept", "centre_intake"),
        ("register", "centre_intake"),
        ("dispatch", "centre_dispatcher"),
        ("sign", "unit_handler"),
        ("handle", "unit_handler"),
        ("extend", "centre_lead"),
        ("report_back", "unit_handler"),
        ("verify_pass", "grid_worker"),
        ("close", "centre_dispatcher"),
        ("follow_up", "resident"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, r)| ((*a).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(steps, expected, "the record names each act and its role");
    assert!(view.records[5].note.starts_with("申请延期 3 个工作日"));
    assert_eq!(view.records[7].attachments.len(), 1, "the evidence photo");
    assert!(view.records[1].actor.contains("centre"));
    assert!(app.verify_audit().await.unwrap().is_intact());

    // Published results show it, masked.
    browser
        .goto(&format!("{base}/portal/results"))
        .await
        .unwrap();
    let published = text_of(&browser, &format!("li[data-number='{}']", view.case.number)).await;
    assert!(published.contains("满意"), "{published}");
    screenshots(&browser, "portal-results").await;

    // Administration: a wrong TOTP code is refused next to its field; then the pages.
    browser.goto(&format!("{base}/signin")).await.unwrap();
    screenshots(&browser, "signin").await;
    type_into(&browser, "#login", "admin").await;
    type_into(&browser, "#password", PASSWORD).await;
    type_into(&browser, "#totp", "000000").await;
    click(&browser, "#signin-form button[type=submit]").await;
    let refused = wait_for_js(
        &browser,
        "const e = document.getElementById('err-totp'); return !e.hidden && e.textContent",
        30,
        "the TOTP refusal next to its field",
    )
    .await;
    assert!(refused.as_str().unwrap().contains("动态口令"), "{refused}");
    let now = chrono::Utc::now().timestamp();
    let good = onegrid_app::secrets::totp_code(&totp_secret, now).unwrap();
    sign_in(&browser, &base, "admin", Some(&good)).await;
    assert!(browser.current_url().await.unwrap().path() == "/ui/admin/accounts");
    // A role that does not exist: the error sits next to the roles field, nothing is made.
    type_into(&browser, "#new-login", "sunwu").await;
    type_into(&browser, "#new-name", "孙五").await;
    type_into(&browser, "#new-roles", "mayor@140702").await;
    click(
        &browser,
        "form[hx-post='/ui/admin/accounts'] button[type=submit]",
    )
    .await;
    wait_for_js(
        &browser,
        "const e = document.getElementById('err-roles'); return e && e.textContent",
        30,
        "the role error next to the roles field",
    )
    .await;
    assert!(
        app.store()
            .account_by_login("sunwu")
            .await
            .unwrap()
            .is_none()
    );
    type_into(&browser, "#new-login", "sunwu").await;
    type_into(&browser, "#new-name", "孙五").await;
    type_into(&browser, "#new-roles", "grid_worker@140702201207002").await;
    click(
        &browser,
        "form[hx-post='/ui/admin/accounts'] button[type=submit]",
    )
    .await;
    wait_for_js(
        &browser,
        "const f = document.querySelector('.flash'); return f && f.textContent.includes('sunwu')",
        30,
        "the new account",
    )
    .await;
    let made = app
        .store()
        .account_by_login("sunwu")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(made.assignments.len(), 1);
    assert_eq!(made.assignments[0].role, "grid_worker");
    screenshots(&browser, "admin-accounts").await;
    browser
        .goto(&format!("{base}/ui/admin/taxonomy"))
        .await
        .unwrap();
    screenshots(&browser, "admin-taxonomy").await;
    browser
        .goto(&format!("{base}/ui/admin/calendar"))
        .await
        .unwrap();
    screenshots(&browser, "admin-calendar").await;
    // A grid file with two bad features: both named, nothing stored.
    browser
        .goto(&format!("{base}/ui/admin/grids"))
        .await
        .unwrap();
    let grids_before = app
        .store()
        .areas(onegrid_domain::Level::Grid)
        .await
        .unwrap()
        .len();
    let bad = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"12345"},"geometry":{"type":"Polygon","coordinates":[[[112.7,37.6],[112.71,37.6],[112.71,37.61],[112.7,37.61],[112.7,37.6]]]}},
      {"type":"Feature","properties":{"code":"140702201207901"},"geometry":{"type":"Polygon","coordinates":[[[112.7,37.6],[112.71,37.6]]]}}]}"#;
    browser
        .execute(
            "document.getElementById('grids-text').value = arguments[0]",
            vec![json!(bad)],
        )
        .await
        .unwrap();
    click(&browser, "#grids-form button[type=submit]").await;
    let problems = wait_for_js(
        &browser,
        "const l = document.querySelectorAll('#grids-result ol.problems li'); return l.length > 0 && l.length",
        40,
        "the grid file's problems",
    )
    .await;
    assert!(
        problems.as_u64().unwrap() >= 2,
        "every problem is listed: {problems}"
    );
    let listed = text_of(&browser, "#grids-result").await;
    assert!(listed.contains("未写入任何数据"), "{listed}");
    assert_eq!(
        app.store()
            .areas(onegrid_domain::Level::Grid)
            .await
            .unwrap()
            .len(),
        grids_before,
        "nothing stored"
    );
    screenshots(&browser, "admin-grids").await;

    browser.close().await.unwrap();
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_made_offline_is_sent_once_when_the_network_returns() {
    let (chromium, driver_binary) = browser_binaries();
    let dir = tempfile::tempdir().unwrap();
    let app = demo_app(&dir.path().join("data")).await;
    account(&app, "worker", "李网格", &["grid_worker@140702201207002"]).await;
    let mut server = Server::start(app.clone()).await;
    let base = server.base();
    let driver = start_driver(&driver_binary).await;
    let browser = open_browser(&driver, &chromium, &dir.path().join("profile"), (1440, 900)).await;
    set_viewport(&browser, 360, 780).await;

    sign_in(&browser, &base, "worker", None).await;
    browser
        .goto(&format!("{base}/ui/worker/report"))
        .await
        .unwrap();
    // The service worker has taken the page and kept a copy of it.
    let kept = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready
               .then(() => caches.match('/ui/worker/report'))
               .then((r) => done(Boolean(r)), (e) => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        kept,
        json!(true),
        "the service worker keeps the report page"
    );

    // The network goes away.
    server.stop().await;
    let description = "离线上报：广场东侧井盖缺失，有行人跌倒风险";
    type_into(&browser, "#description", description).await;
    browser
        .find(Locator::Css("#grid"))
        .await
        .unwrap()
        .select_by_value("140702201207002")
        .await
        .unwrap();
    click(&browser, "#report-form button[type=submit]").await;
    wait_for_js(
        &browser,
        "const s = document.getElementById('queue-status'); return !s.hidden && s.textContent.includes('保存在本机') && s.textContent",
        40,
        "the report to wait in the phone's queue",
    )
    .await;
    let cases_like = |app: App| async move {
        let page = app
            .list_cases(&CaseFilter::default(), None, 500)
            .await
            .unwrap();
        page.cases
            .into_iter()
            .filter(|c| c.description == description)
            .collect::<Vec<_>>()
    };
    assert!(cases_like(app.clone()).await.is_empty(), "nothing sent yet");

    // Reopened without network: the page comes from the service worker, the queue from
    // IndexedDB.
    browser
        .goto(&format!("{base}/ui/worker/report"))
        .await
        .unwrap();
    wait_for_js(
        &browser,
        "const s = document.getElementById('queue-status'); return s && !s.hidden && s.textContent.includes('1 条')",
        40,
        "the reopened offline page to show the queued report",
    )
    .await;
    screenshots(&browser, "worker-offline").await;

    // What the phone will send: its key and body.
    let queued = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.onegridQueue.queued().then((items) => done(items.map((i) => [i.key, i.body])));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(queued.as_array().unwrap().len(), 1, "{queued}");
    let (key, body) = (queued[0][0].clone(), queued[0][1].clone());

    // The network comes back. Two sends of the same queued report at once (as a flaky
    // network makes happen): the Idempotency-Key makes them one case.
    server.restart().await;
    let outcome = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             Promise.all([window.onegridQueue.flush(), window.onegridQueue.flush()])
               .then(() => done(window.onegridQueue.stats), (e) => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    wait_for_js(
        &browser,
        "const r = document.getElementById('report-result'); return r && !r.hidden && r.dataset.number",
        60,
        "the queued report to be sent",
    )
    .await;
    let left = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.onegridQueue.queued().then((items) => done(items.length));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(left, json!(0), "the queue is empty");
    assert_eq!(
        outcome["sent"],
        json!(1),
        "one send created the case: {outcome}"
    );
    // The phone sends again what it already sent (its answer lost on the way): the same key
    // answers the same case, marked as a replay.
    let again = browser
        .execute_async(
            "const [key, body, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
             fetch('/api/v1/cases', { method: 'POST', credentials: 'same-origin',
               headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key,
                          'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content },
               body: JSON.stringify(Object.assign({}, body, { attachments: [] })) })
             .then(async (r) => done([r.status, r.headers.get('idempotent-replayed'), (await r.json()).id]));",
            vec![key, body],
        )
        .await
        .unwrap();
    let cases = cases_like(app.clone()).await;
    assert_eq!(cases.len(), 1, "exactly one case: {outcome}");
    assert_eq!(
        again,
        json!([201, "true", cases[0].id]),
        "the resend is a replay"
    );
    assert_eq!(cases[0].grid.as_deref(), Some("140702201207002"));
    assert_eq!(cases[0].channel, onegrid_domain::case::Channel::GridPatrol);
    let shown = text_of(&browser, "#report-result").await;
    assert!(shown.contains(&cases[0].number), "{shown}");
    screenshots(&browser, "worker-sent").await;

    browser.close().await.unwrap();
    drop(driver);
    server.stop().await;
}
