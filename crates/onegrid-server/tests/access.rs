//! Who may see and do what, through the HTTP API: the access matrix — every role × (own scope,
//! sibling scope, parent scope) × (read, act, list, export) for cases, reports and attachments —
//! and the three administrators' separation of powers.
//!
//! The expectations are written here, role by role, from the issue's rules; they are not read
//! from the code's own capability table.

mod common;

use axum::http::StatusCode;
use common::call;
use onegrid_app::App;
use onegrid_app::access::{Principal, parse_assignment_list};
use onegrid_app::areas::AreaImportOptions;
use onegrid_app::cases::Actor;
use onegrid_app::divisions::DivisionFile;
use onegrid_domain::Level;
use onegrid_domain::case::ActInput;
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::FieldNames;
use serde_json::{Value, json};

/// Three counties; in 榆次区 three townships, in the first of them three villages, in the first
/// village three grids; one grid in each other township and county.
const DIVISIONS: &str = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
140702,榆次区,140700,county
140703,太谷区,140700,county
140721,榆社县,140700,county
140702001,北关街道,140702,township
140702002,西关街道,140702,township
140702003,东关街道,140702,township
140703001,明星镇,140703,township
140721001,箕城镇,140721,township
140702001001,甲社区,140702001,village
140702001002,乙社区,140702001,village
140702001003,丙社区,140702001,village
140702002001,丁社区,140702002,village
140702003001,戊社区,140702003,village
140703001001,己村,140703001,village
140721001001,庚村,140721001,village
";

const GRIDS: [&str; 9] = [
    "140702001001001",
    "140702001001002",
    "140702001001003",
    "140702001002001",
    "140702001003001",
    "140702002001001",
    "140702003001001",
    "140703001001001",
    "140721001001001",
];

fn grid_features() -> String {
    let features: Vec<String> = GRIDS
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let west = 112.0 + 0.1 * i as f64;
            let east = west + 0.1;
            format!(
                r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[[[{west},37.0],[{east},37.0],[{east},37.1],[{west},37.1],[{west},37.0]]]}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

struct World {
    server: common::TestServer,
}

impl World {
    async fn new() -> World {
        let server = common::server().await;
        let app = &server.app;
        app.import_divisions(&[DivisionFile {
            name: "d.csv".to_owned(),
            text: DIVISIONS.to_owned(),
        }])
        .await
        .unwrap();
        app.import_areas(
            &grid_features(),
            &AreaImportOptions {
                level: Level::Grid,
                fields: FieldNames::default(),
                crs: Crs::Wgs84,
            },
        )
        .await
        .unwrap();
        World { server }
    }

    fn app(&self) -> &App {
        &self.server.app
    }

    async fn token(&self, login: &str, role: &str) -> String {
        let system = Principal::system();
        let assignments = parse_assignment_list(&[role.to_owned()], "").unwrap();
        self.app()
            .create_account(&system, login, login, Some("Matrix#2026x"), assignments)
            .await
            .unwrap();
        let token = self
            .app()
            .create_token(&system, login, "matrix", None)
            .await
            .unwrap()
            .token;
        format!("Bearer {token}")
    }

    /// A case in `grid` with a photo, brought by the system to the state `prepare` names.
    async fn case_in(&self, grid: &str, prepare: Prepare) -> (Value, String) {
        let app = self.app();
        let photo = app
            .store()
            .put_attachment(
                "image/png",
                format!("photo of a case in {grid} {prepare:?} {}", uuid()).into_bytes(),
            )
            .await
            .unwrap();
        let (case, _) = app
            .report_case(
                onegrid_app::cases::ReportInput {
                    description: format!("{grid} 的事件"),
                    lon: None,
                    lat: None,
                    grid: Some(grid.to_owned()),
                    address: None,
                    channel: onegrid_domain::case::Channel::GridPatrol,
                    category: app
                        .rules()
                        .taxonomy
                        .minors()
                        .next()
                        .map(|(_, minor)| minor.code.clone()),
                    urgency: None,
                    reporter: Default::default(),
                    attachments: vec![photo.clone()],
                },
                &Actor::system(),
                None,
            )
            .await
            .unwrap();
        let mut case = case;
        let system = Actor::system();
        let steps: Vec<ActInput> = match &prepare {
            Prepare::Reported => vec![],
            Prepare::Registered => vec![
                ActInput::Accept {
                    note: String::new(),
                },
                ActInput::Register {
                    category: None,
                    urgency: None,
                    note: String::new(),
                },
            ],
            Prepare::DispatchedTo(unit) => vec![
                ActInput::Accept {
                    note: String::new(),
                },
                ActInput::Register {
                    category: None,
                    urgency: None,
                    note: String::new(),
                },
                ActInput::Dispatch {
                    unit: (*unit).to_owned(),
                    tier: None,
                    note: String::new(),
                },
            ],
        };
        for step in steps {
            case = app
                .act_on_case(&case.id, case.version, step, &system)
                .await
                .unwrap();
        }
        let value = json!({"id": case.id, "number": case.number, "version": case.version});
        (value, photo)
    }
}

/// A number unique in this test process, so that no two photos are the same bytes.
fn uuid() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[derive(Debug, Clone, Copy)]
enum Prepare {
    Reported,
    Registered,
    DispatchedTo(&'static str),
}

/// One row of the matrix: a role in its scope, the three places its objects lie, the act it
/// should be able to take on its own case, and what it may do.
struct Row {
    role: &'static str,
    /// `role@scope` as granted.
    grant: &'static str,
    /// Grids of the own, sibling and parent-scope cases.
    grids: [&'static str; 3],
    /// How each case is prepared (own, sibling, parent).
    prepare: [Prepare; 3],
    /// The act tried on each case, with its fields.
    act: Value,
    /// Regions asked for reports: own, sibling, parent.
    report_regions: [&'static str; 3],
    reads_cases: bool,
    /// The act is allowed on its own case.
    acts: bool,
    lists: bool,
    exports_cases: bool,
    reads_reports: bool,
    exports_reports: bool,
}

fn rows() -> Vec<Row> {
    let grid_scope = ["140702001001001", "140702001001002", "140702001001003"];
    let village_scope = ["140702001001001", "140702001002001", "140702001003001"];
    let county_scope = ["140702001001001", "140703001001001", "140721001001001"];
    let reported = [Prepare::Reported; 3];
    let registered = [Prepare::Registered; 3];
    let accept = json!({"act": "accept"});
    let county_reports = ["140702", "140703", "140700"];
    let row = |role: &'static str, grant: &'static str| Row {
        role,
        grant,
        grids: county_scope,
        prepare: reported,
        act: accept.clone(),
        report_regions: county_reports,
        reads_cases: false,
        acts: false,
        lists: false,
        exports_cases: false,
        reads_reports: false,
        exports_reports: false,
    };
    vec![
        Row {
            grids: grid_scope,
            act: json!({"act": "escalate", "reason": "需上级处理"}),
            report_regions: ["140702001001001", "140702001001002", "140702001001"],
            reads_cases: true,
            acts: true,
            lists: true,
            reads_reports: true,
            ..row("grid_worker", "grid_worker@140702001001001")
        },
        Row {
            grids: village_scope,
            report_regions: ["140702001001", "140702001002", "140702001"],
            reads_cases: true,
            acts: true,
            lists: true,
            reads_reports: true,
            ..row("community_staff", "community_staff@140702001001")
        },
        Row {
            reads_cases: true,
            acts: true,
            lists: true,
            exports_cases: true,
            reads_reports: true,
            exports_reports: true,
            ..row("centre_intake", "centre_intake@140702")
        },
        Row {
            prepare: registered,
            act: json!({"act": "dispatch", "unit": "140702:城管局"}),
            reads_cases: true,
            acts: true,
            lists: true,
            exports_cases: true,
            reads_reports: true,
            exports_reports: true,
            ..row("centre_dispatcher", "centre_dispatcher@140702")
        },
        Row {
            reads_cases: true,
            acts: true,
            lists: true,
            exports_cases: true,
            reads_reports: true,
            exports_reports: true,
            ..row("centre_lead", "centre_lead@140702")
        },
        Row {
            prepare: [
                Prepare::DispatchedTo("140702:城管局"),
                Prepare::DispatchedTo("140703:城管局"),
                Prepare::DispatchedTo("140700:城管局"),
            ],
            act: json!({"act": "sign"}),
            reads_cases: true,
            acts: true,
            lists: true,
            ..row("unit_handler", "unit_handler@140702:城管局")
        },
        Row {
            prepare: registered,
            act: json!({"act": "urge", "due": "2030-01-01T00:00:00Z", "note": "请加快办理"}),
            reads_cases: true,
            acts: true,
            lists: true,
            exports_cases: true,
            reads_reports: true,
            exports_reports: true,
            ..row("leader", "leader@140702")
        },
        Row {
            reads_cases: true,
            lists: true,
            reads_reports: true,
            ..row("procurator", "procurator@140702")
        },
        Row {
            reads_cases: true,
            lists: true,
            reads_reports: true,
            ..row("enforcement_supervisor", "enforcement_supervisor@140702")
        },
        row("system_admin", "system_admin@140702"),
        row("security_admin", "security_admin@140702"),
        row("audit_admin", "audit_admin@140702"),
    ]
}

/// Status of a request made with `auth`.
async fn status(
    world: &World,
    auth: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, body, _) =
        call(&world.server, method, uri, body, &[("authorization", auth)]).await;
    (status, body)
}

/// Every id and number in a body, as text, to see whether an object leaked into it.
fn mentions(body: &Value, case: &Value) -> bool {
    let text = body.to_string();
    text.contains(case["id"].as_str().unwrap()) || text.contains(case["number"].as_str().unwrap())
}

#[tokio::test]
async fn every_role_sees_and_does_only_what_its_scope_allows() {
    let world = World::new().await;
    let day = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    let mut checked = 0;
    for row in rows() {
        let auth = world.token(&format!("m-{}", row.role), row.grant).await;
        let mut cases = Vec::new();
        for (grid, prepare) in row.grids.iter().zip(row.prepare) {
            cases.push(world.case_in(grid, prepare).await);
        }
        let denied = |allowed: bool| {
            if allowed {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::FORBIDDEN
            }
        };
        for (place, (case, photo)) in ["own", "sibling", "parent"].iter().zip(&cases) {
            let own = *place == "own";
            let id = case["id"].as_str().unwrap();
            let context = format!("{} on the {place} case", row.role);
            // read
            let (got, body) =
                status(&world, &auth, "GET", &format!("/api/v1/cases/{id}"), None).await;
            let expected = if own && row.reads_cases {
                StatusCode::OK
            } else {
                denied(row.reads_cases)
            };
            assert_eq!(got, expected, "read: {context}: {body}");
            if got != StatusCode::OK {
                // Only the error shape comes back: nothing of the case beyond the id asked for.
                assert!(
                    body.get("state").is_none() && body["error"].is_object(),
                    "read: {context} leaked: {body}"
                );
            }
            // attachment
            let (got, body) = status(
                &world,
                &auth,
                "GET",
                &format!("/api/v1/cases/{id}/attachments/{photo}"),
                None,
            )
            .await;
            assert_eq!(got, expected, "attachment: {context}: {body}");
            // act
            let mut act = row.act.clone();
            act["version"] = case["version"].clone();
            let (got, body) = status(
                &world,
                &auth,
                "POST",
                &format!("/api/v1/cases/{id}/acts"),
                Some(act),
            )
            .await;
            let expected = match (own, row.reads_cases, row.acts) {
                (true, true, true) => StatusCode::OK,
                (true, true, false) => StatusCode::FORBIDDEN,
                (_, false, _) => StatusCode::FORBIDDEN,
                (false, true, _) => StatusCode::NOT_FOUND,
            };
            assert_eq!(got, expected, "act {}: {context}: {body}", row.act);
            checked += 3;
        }
        // list: asked at the parent region, only the own case comes back.
        let parent = row.report_regions[2];
        let (got, body) = status(
            &world,
            &auth,
            "GET",
            &format!("/api/v1/cases?region={parent}&limit=500"),
            None,
        )
        .await;
        if row.lists {
            assert_eq!(got, StatusCode::OK, "list: {}: {body}", row.role);
            assert!(
                mentions(&body, &cases[0].0),
                "list: {} misses its own case",
                row.role
            );
            assert!(
                !mentions(&body, &cases[1].0),
                "list: {} sees a sibling case",
                row.role
            );
            assert!(
                !mentions(&body, &cases[2].0),
                "list: {} sees a parent-scope case",
                row.role
            );
        } else {
            assert_eq!(got, StatusCode::FORBIDDEN, "list: {}: {body}", row.role);
        }
        // export of cases
        let (got, body, _) = call(
            &world.server,
            "GET",
            &format!("/api/v1/cases/export.csv?region={parent}"),
            None,
            &[("authorization", &auth)],
        )
        .await;
        if row.exports_cases {
            assert_eq!(got, StatusCode::OK, "export: {}", row.role);
        } else {
            assert_eq!(got, StatusCode::FORBIDDEN, "export: {}: {body}", row.role);
        }
        // reports and their export: own region, sibling, parent.
        for (place, region) in ["own", "sibling", "parent"].iter().zip(row.report_regions) {
            let own = *place == "own";
            for (format, allowed) in [("json", row.reads_reports), ("csv", row.exports_reports)] {
                let (got, body) = status(
                    &world,
                    &auth,
                    "GET",
                    &format!("/api/v1/reports/{region}?from={day}&to={day}&format={format}"),
                    None,
                )
                .await;
                let expected = if own && allowed {
                    StatusCode::OK
                } else {
                    denied(allowed)
                };
                assert_eq!(
                    got, expected,
                    "report {format}: {} on the {place} region {region}: {body}",
                    row.role
                );
            }
            let (got, _) = status(
                &world,
                &auth,
                "GET",
                &format!("/api/v1/regions/{region}/figures?from={day}&to={day}"),
                None,
            )
            .await;
            let expected = if own && row.reads_reports {
                StatusCode::OK
            } else {
                denied(row.reads_reports)
            };
            assert_eq!(got, expected, "figures: {} on the {place} region", row.role);
        }
    }
    assert_eq!(checked, 12 * 3 * 3);
    // With the resident's own test below, every role of the contract is covered.
    let mut covered: Vec<&str> = rows().iter().map(|row| row.role).collect();
    covered.push("resident");
    covered.sort_unstable();
    let mut all: Vec<&str> = onegrid_domain::access::Role::ALL
        .iter()
        .map(|role| role.as_str())
        .collect();
    all.sort_unstable();
    assert_eq!(covered, all);
}

/// Residents report signed in, see their own cases and nobody else's — not by guessing ids, not
/// by numbers, not by the list — and follow a case by its tracking code only with the right one.
#[tokio::test]
async fn residents_see_only_their_own_cases() {
    let world = World::new().await;
    let one = world.token("resident-one", "resident").await;
    let two = world.token("resident-two", "resident").await;
    let report = |auth: String, text: &'static str| {
        let world = &world;
        async move {
            let (got, body) = status(
                world,
                &auth,
                "POST",
                "/api/v1/cases",
                Some(json!({"description": text, "grid": "140702001001001",
                            "channel": "resident",
                            "reporter": {"name": "赵六", "phone": "13912345678"}})),
            )
            .await;
            assert_eq!(got, StatusCode::CREATED, "{body}");
            body
        }
    };
    let mine = report(one.clone(), "我家楼下路灯坏了").await;
    let theirs = report(two.clone(), "小区门口占道经营").await;
    assert!(mine["tracking_code"].is_string(), "{mine}");
    let mine_id = mine["id"].as_str().unwrap();
    let theirs_id = theirs["id"].as_str().unwrap();
    let (got, _) = status(
        &world,
        &one,
        "GET",
        &format!("/api/v1/cases/{mine_id}"),
        None,
    )
    .await;
    assert_eq!(got, StatusCode::OK);
    for probe in [
        theirs_id.to_owned(),
        theirs["number"].as_str().unwrap().to_owned(),
        // Neighbouring ids: UUIDv7 is time-ordered, its tail is random.
        format!("{}{}", &theirs_id[..30], "000000"),
    ] {
        let (got, body) =
            status(&world, &one, "GET", &format!("/api/v1/cases/{probe}"), None).await;
        assert_eq!(got, StatusCode::NOT_FOUND, "{probe}: {body}");
        assert!(!body.to_string().contains("占道经营"), "{body}");
        assert!(body.get("state").is_none(), "{body}");
    }
    let (got, list) = status(&world, &one, "GET", "/api/v1/cases?limit=500", None).await;
    assert_eq!(got, StatusCode::OK);
    assert_eq!(list["cases"].as_array().unwrap().len(), 1, "{list}");
    assert!(mentions(&list, &mine) && !mentions(&list, &theirs));
    // Tracking codes: the right one shows the progress, masked; guesses find nothing.
    let code = mine["tracking_code"].as_str().unwrap();
    let (got, public) = status(
        &world,
        "anonymous",
        "GET",
        &format!("/api/v1/public/cases/{code}"),
        None,
    )
    .await;
    assert_eq!(got, StatusCode::OK, "{public}");
    assert_eq!(public["number"], mine["number"]);
    let mut guesses = vec![
        theirs_id.to_owned(),
        mine_id.to_owned(),
        "AAAA-AAAA-AAAA-AAAA-AAAA".to_owned(),
    ];
    let mut altered: Vec<char> = code.chars().collect();
    altered[0] = if altered[0] == 'A' { 'B' } else { 'A' };
    guesses.push(altered.into_iter().collect());
    for guess in guesses {
        let (got, body) = status(
            &world,
            "anonymous",
            "GET",
            &format!("/api/v1/public/cases/{guess}"),
            None,
        )
        .await;
        assert_eq!(got, StatusCode::NOT_FOUND, "{guess}: {body}");
    }
    // Residents export nothing and read no reports.
    let day = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    for uri in [
        "/api/v1/cases/export.csv".to_owned(),
        format!("/api/v1/reports/140702001001001?from={day}&to={day}"),
        format!("/api/v1/reports/140702?from={day}&to={day}&format=csv"),
        format!("/api/v1/regions/140700/figures?from={day}&to={day}"),
    ] {
        let (got, body) = status(&world, &one, "GET", &uri, None).await;
        assert_eq!(got, StatusCode::FORBIDDEN, "{uri}: {body}");
    }
    // Residents take no acts on cases, not even their own.
    let (got, _) = status(
        &world,
        &one,
        "POST",
        &format!("/api/v1/cases/{mine_id}/acts"),
        Some(json!({"act": "accept", "version": 1})),
    )
    .await;
    assert_eq!(got, StatusCode::FORBIDDEN);
}

/// 三权分立: the system administrator cannot read the record nor grant roles to themselves or
/// administrators' roles; the audit administrator reads the record and changes nothing; the
/// security administrator manages accounts and cannot act on cases.
#[tokio::test]
async fn the_three_administrators_keep_apart() {
    let world = World::new().await;
    let system_admin = world.token("sysadmin", "system_admin@140700").await;
    let security_admin = world.token("secadmin", "security_admin@140700").await;
    let audit_admin = world.token("auditor", "audit_admin@140700").await;
    let events = "/api/v1/audit/events";
    let (got, _) = status(&world, &system_admin, "GET", events, None).await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    let (got, _) = status(&world, &system_admin, "GET", "/api/v1/audit/verify", None).await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    let (got, body) = status(&world, &audit_admin, "GET", events, None).await;
    assert_eq!(got, StatusCode::OK, "{body}");
    assert!(
        body.as_array()
            .unwrap()
            .iter()
            .any(|e| e["act"] == "account_created")
    );
    // The system administrator makes a grid worker, but no administrator and not themselves.
    let (got, body) = status(
        &world,
        &system_admin,
        "POST",
        "/api/v1/accounts",
        Some(json!({"login": "new-worker", "display_name": "新网格员",
                    "password": "Grid#Worker2026", "roles": ["grid_worker@140702001001001"]})),
    )
    .await;
    assert_eq!(got, StatusCode::CREATED, "{body}");
    let (got, _) = status(
        &world,
        &system_admin,
        "POST",
        "/api/v1/accounts",
        Some(json!({"login": "new-auditor", "display_name": "x",
                    "password": "Grid#Worker2026", "roles": ["audit_admin@140700"]})),
    )
    .await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    let me = world
        .app()
        .store()
        .account_by_login("sysadmin")
        .await
        .unwrap()
        .unwrap();
    let (got, _) = status(
        &world,
        &system_admin,
        "PUT",
        &format!("/api/v1/accounts/{}/roles", me.id),
        Some(json!({"roles": ["system_admin@140700", "centre_lead@140700"]})),
    )
    .await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    // The audit administrator changes nothing.
    let (got, _) = status(
        &world,
        &audit_admin,
        "POST",
        "/api/v1/accounts",
        Some(
            json!({"login": "x1", "display_name": "x", "password": "Grid#Worker2026",
                    "roles": ["grid_worker@140702001001001"]}),
        ),
    )
    .await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    // The security administrator grants, and the change is in the record; cases are not theirs.
    let worker = world
        .app()
        .store()
        .account_by_login("new-worker")
        .await
        .unwrap()
        .unwrap();
    let (got, body) = status(
        &world,
        &security_admin,
        "PUT",
        &format!("/api/v1/accounts/{}/roles", worker.id),
        Some(json!({"roles": ["grid_worker@140702001001001", "community_staff@140702001001"]})),
    )
    .await;
    assert_eq!(got, StatusCode::NO_CONTENT, "{body}");
    let (got, _) = status(&world, &security_admin, "GET", "/api/v1/cases", None).await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    let (_, body) = status(&world, &audit_admin, "GET", events, None).await;
    let change = body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["act"] == "role_changed")
        .expect("the role change is recorded");
    assert_eq!(change["actor"], "secadmin");
    assert!(
        change["details"]["after"]
            .to_string()
            .contains("community_staff")
    );
}
