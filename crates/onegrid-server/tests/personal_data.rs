//! Personal data: a store full of names, phone numbers and ID numbers — in the reporter's fields
//! and inside descriptions and addresses — and every endpoint of the OpenAPI document asked by
//! the public, by staff and by the auditor. No answer may carry an unmasked phone or ID number;
//! only the explicit reveal gives them, to the roles that call back, and each reveal is recorded.
//! At rest, phone and ID numbers are sealed.

mod common;

use axum::http::StatusCode;
use common::{TestServer, call, server, token_for};
use serde_json::{Value, json};

const PHONES: [&str; 4] = ["13912345678", "15800001111", "18635421234", "17703510000"];
const ID_NUMBERS: [&str; 3] = [
    "140702199001011234",
    "14070219851231123X",
    "140702200002290011",
];

/// Runs of digits as a phone number (11 digits from 1) or an ID number (17 digits and a digit
/// or X) that stand alone — not inside a longer code, a hash or a number.
fn unmasked(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        if end - start == 17 && end < chars.len() && (chars[end] == 'X' || chars[end] == 'x') {
            end += 1;
        }
        let before = start.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(end).copied();
        let alone = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        let run: String = chars[start..end].iter().collect();
        let phone = run.len() == 11 && run.starts_with('1') && "3456789".contains(&run[1..2]);
        let id = run.len() == 18;
        if alone(before) && alone(after) && (phone || id) {
            found.push(run);
        }
        i = end.max(i);
    }
    found
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    assert_eq!(unmasked("电话13912345678。"), vec!["13912345678"]);
    assert_eq!(
        unmasked("身份证14070219851231123X"),
        vec!["14070219851231123X"]
    );
    assert!(unmasked("139****5678 1407**********1234").is_empty());
    assert!(unmasked("1407022026112900002 140702001001001 a13912345678f").is_empty());
}

/// Thirty cases full of personal data, in every state the loop reaches early.
async fn seed(server: &TestServer) -> (Vec<Value>, String, String) {
    let photo_request = axum::http::Request::post("/api/v1/attachments")
        .header("content-type", "image/png")
        .header("authorization", format!("Bearer {}", server.token))
        .body(axum::body::Body::from(b"\x89PNG personal".to_vec()))
        .unwrap();
    use tower::ServiceExt;
    let response = onegrid_server::router(server.app.clone())
        .oneshot(photo_request)
        .await
        .unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let photo: Value = serde_json::from_slice(&bytes).unwrap();
    let photo = photo["hash"].as_str().unwrap().to_owned();
    let mut cases = Vec::new();
    let mut tracking = String::new();
    for n in 0..30 {
        let phone = PHONES[n % PHONES.len()];
        let id_number = ID_NUMBERS[n % ID_NUMBERS.len()];
        let body = json!({
            "description": format!("第{n}件：张三的邻居李四（电话{phone}，身份证{id_number}）私搭乱建"),
            "address": format!("榆次区北关街道甲社区{n}号，联系{phone}"),
            "grid": "140702001001001",
            "channel": if n % 3 == 0 { "resident" } else { "hotline" },
            "reporter": {"name": format!("欧阳娜娜{n}"), "phone": phone, "id_number": id_number},
            "attachments": [photo],
        });
        // Every third one comes from the public, without an account.
        let anonymous = n % 3 == 0;
        let headers: &[(&str, &str)] = if anonymous {
            &[("authorization", "anonymous")]
        } else {
            &[("x-acting-role", "centre_intake")]
        };
        let (status, case, _) = call(server, "POST", "/api/v1/cases", Some(body), headers).await;
        assert_eq!(status, StatusCode::CREATED, "{case}");
        assert!(
            unmasked(&case.to_string()).is_empty(),
            "the report's answer: {case}"
        );
        if anonymous && tracking.is_empty() {
            tracking = case["tracking_code"].as_str().unwrap().to_owned();
        }
        if n % 2 == 1 {
            let uri = format!("/api/v1/cases/{}/acts", case["id"].as_str().unwrap());
            let (status, accepted, _) = call(
                server,
                "POST",
                &uri,
                Some(json!({"act": "accept", "version": 1, "note": format!("已联系{phone}")})),
                &[("x-acting-role", "centre_intake")],
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{accepted}");
            assert!(unmasked(&accepted.to_string()).is_empty(), "{accepted}");
        }
        cases.push(case);
    }
    (cases, tracking, photo)
}

/// Every path of the OpenAPI document with its parameters filled from the seeded store.
fn concrete_paths(
    openapi: &Value,
    case: &str,
    tracking: &str,
    photo: &str,
    account: &str,
    token: &str,
) -> Vec<(String, String)> {
    let day = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    let mut out = Vec::new();
    for (path, operations) in openapi["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            // An event stream never ends, and carries only a number (tests/screen.rs reads it).
            if operation["responses"]["200"]["content"]
                .get("text/event-stream")
                .is_some()
            {
                continue;
            }
            let filled = if path.starts_with("/api/v1/public/cases/") {
                path.replace("{code}", tracking)
            } else if path.starts_with("/api/v1/accounts/") {
                path.replace("{id}", account)
            } else if path.starts_with("/api/v1/tokens/") {
                path.replace("{id}", token)
            } else {
                path.replace("{id}", case).replace("{hash}", photo).replace(
                    "{code}",
                    if path.contains("grids") {
                        "140702001001001"
                    } else {
                        "140702"
                    },
                )
            };
            let query = match path.as_str() {
                "/api/v1/locate" => "?lon=112.75&lat=37.65".to_owned(),
                p if p.contains("figures")
                    || p.contains("ranking")
                    || p.contains("reports")
                    || p.contains("trend") =>
                {
                    format!("?from={day}&to={day}")
                }
                _ => String::new(),
            };
            out.push((method.to_uppercase(), format!("{filled}{query}")));
        }
    }
    out
}

#[tokio::test]
async fn no_answer_carries_an_unmasked_phone_or_id_number() {
    let server = server().await;
    let (cases, tracking, photo) = seed(&server).await;
    let case_id = cases[1]["id"].as_str().unwrap().to_owned();
    let auditor = format!(
        "Bearer {}",
        token_for(&server, "auditor", &["audit_admin@140700"]).await
    );
    let security = format!(
        "Bearer {}",
        token_for(&server, "security", &["security_admin@140700"]).await
    );
    let account = server
        .app
        .store()
        .account_by_login("li")
        .await
        .unwrap()
        .unwrap();
    let token = server.app.store().tokens_of(&account.id).await.unwrap()[0]
        .id
        .clone();
    let (_, openapi, _) = call(&server, "GET", "/api/v1/openapi.json", None, &[]).await;
    let paths = concrete_paths(&openapi, &case_id, &tracking, &photo, &account.id, &token);
    assert!(paths.len() >= 25, "{} operations", paths.len());
    let staff = format!("Bearer {}", server.token);
    let mut answered = 0;
    for (method, uri) in &paths {
        // Only reads and the report: writes of accounts and tokens would change who asks next,
        // and the reveal exists to give the full value (checked below).
        let read = method == "GET";
        if !read || uri.ends_with("/reveal") {
            continue;
        }
        for auth in [
            "anonymous",
            staff.as_str(),
            auditor.as_str(),
            security.as_str(),
        ] {
            let (status, body, _) =
                call(&server, method, uri, None, &[("authorization", auth)]).await;
            let text = body.to_string();
            let found = unmasked(&text);
            assert!(
                found.is_empty(),
                "{method} {uri} ({status}) shows {found:?}: {text}"
            );
            if status == StatusCode::OK {
                answered += 1;
            }
        }
    }
    assert!(
        answered >= 20,
        "only {answered} answers were OK: the scan saw too little"
    );
    // The masked forms are there: the data was seeded, and shown masked.
    let (status, list, _) = call(&server, "GET", "/api/v1/cases?limit=100", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let text = list.to_string();
    assert!(
        text.contains("139****5678") && text.contains("欧阳某"),
        "{text}"
    );
    assert!(
        text.contains("1407**********1234"),
        "ID numbers in descriptions are masked: {text}"
    );
    // The CSV export too.
    let export = onegrid_server::router(server.app.clone());
    use tower::ServiceExt;
    let response = export
        .oneshot(
            axum::http::Request::get("/api/v1/cases/export.csv")
                .header("authorization", &staff)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let csv = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(unmasked(&csv).is_empty(), "{csv}");
    assert!(csv.contains("139****5678"), "{csv}");
}

#[tokio::test]
async fn the_full_contact_comes_only_from_a_recorded_reveal() {
    let server = server().await;
    let (cases, _, _) = seed(&server).await;
    let case = &cases[1];
    let uri = format!("/api/v1/cases/{}/reveal", case["id"].as_str().unwrap());
    // A grid worker may not; the intake clerk may, and it is recorded.
    let worker = format!(
        "Bearer {}",
        token_for(&server, "worker", &["grid_worker@140702001001001"]).await
    );
    let (status, _, _) = call(&server, "POST", &uri, None, &[("authorization", &worker)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, contact, headers) = call(
        &server,
        "POST",
        &uri,
        None,
        &[("x-acting-role", "centre_intake")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{contact}");
    assert_eq!(contact["phone"], PHONES[1]);
    assert_eq!(contact["id_number"], ID_NUMBERS[1]);
    assert_eq!(contact["name"], "欧阳娜娜1");
    assert_eq!(headers["cache-control"], "no-store");
    let events = server
        .app
        .store()
        .security_events(
            chrono::Utc::now() - chrono::Duration::hours(1),
            chrono::Utc::now() + chrono::Duration::hours(1),
            Some("李网格(li)"),
            100,
        )
        .await
        .unwrap();
    let events_by_login = server
        .app
        .store()
        .security_events(
            chrono::Utc::now() - chrono::Duration::hours(1),
            chrono::Utc::now() + chrono::Duration::hours(1),
            Some("li"),
            100,
        )
        .await
        .unwrap();
    let reveal = events
        .iter()
        .chain(&events_by_login)
        .find(|e| e.act == "personal_data_revealed")
        .expect("the reveal is recorded");
    assert_eq!(reveal.details["case"], case["id"]);
    assert!(
        unmasked(&reveal.note).is_empty(),
        "the record names the case, not the data"
    );
}

#[tokio::test]
async fn phone_and_id_numbers_are_sealed_at_rest() {
    let server = server().await;
    let (cases, _, _) = seed(&server).await;
    let stored = server
        .app
        .store()
        .case(cases[2]["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let phone = stored.reporter.phone.as_deref().unwrap();
    assert!(phone.starts_with("sealed:v1:"), "{phone}");
    assert!(
        stored
            .reporter
            .id_number
            .as_deref()
            .unwrap()
            .starts_with("sealed:v1:")
    );
    assert!(stored.reporter.phone_hash.is_some());
    // Nowhere in the stored case's fields (the description keeps what the reporter typed).
    let mut reporter = serde_json::to_value(&stored.reporter).unwrap();
    reporter["name"] = Value::Null;
    let text = reporter.to_string();
    for number in PHONES.iter().chain(ID_NUMBERS.iter()) {
        assert!(!text.contains(number), "{number} in {text}");
    }
}
