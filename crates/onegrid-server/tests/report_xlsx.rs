//! The periodic report as an XLSX workbook: a download with the right headers whose 概况
//! sheet says what the JSON report says.
//!
//! The workbook is read back with the small ZIP and DEFLATE reader at the end of this file,
//! so that the test needs no archive crate of its own.

mod common;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{TestServer, act_as, call, report_case, server, today};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// Four cases in the grid: one settled on the spot and closed, one registered, one rejected,
/// one only reported.
async fn some_cases(server: &TestServer) {
    let in_grid = |channel: &str, text: &str| json!({"description": text, "lon": 112.75, "lat": 37.65, "channel": channel});
    let a = report_case(server, in_grid("grid_patrol", "井盖松动")).await;
    let a = act_as(
        server,
        a,
        "grid_worker",
        json!({"act": "settle_on_spot", "note": "已复位"}),
    )
    .await;
    let a = act_as(server, a, "grid_worker", json!({"act": "verify_pass"})).await;
    act_as(server, a, "centre_dispatcher", json!({"act": "close"})).await;

    let b = report_case(server, in_grid("resident", "门口占道摆摊")).await;
    let b = act_as(server, b, "centre_intake", json!({"act": "accept"})).await;
    act_as(
        server,
        b,
        "centre_intake",
        json!({"act": "register", "category": "0901"}),
    )
    .await;

    let c = report_case(server, in_grid("hotline", "无效来电")).await;
    act_as(
        server,
        c,
        "centre_intake",
        json!({"act": "reject", "reason": {"kind": "invalid"}}),
    )
    .await;

    report_case(server, in_grid("resident", "邻里噪音纠纷")).await;
}

/// One GET through the router: status, headers and the body's bytes.
async fn get_bytes(server: &TestServer, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = onegrid_server::router(server.app.clone())
        .oneshot(
            Request::get(uri)
                .header("authorization", format!("Bearer {}", server.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

/// Every figure of the 概况 table with its name in the JSON report.
const FIGURES: [(&str, &str); 17] = [
    ("受理数", "accepted"),
    ("不予受理数", "rejected"),
    ("立案数", "registered"),
    ("派遣数", "dispatched"),
    ("处置数", "handled"),
    ("处置率", "handle_rate"),
    ("按期处置率", "on_time_handle_rate"),
    ("结案数", "closed"),
    ("结案率", "close_rate"),
    ("按期结案率", "on_time_close_rate"),
    ("返工率", "rework_rate"),
    ("延期率", "extension_rate"),
    ("超期数", "overdue"),
    ("满意率", "satisfaction_rate"),
    ("网格内解决率", "grid_settlement_rate"),
    ("乡镇内解决率", "township_settlement_rate"),
    ("平均处置时长(小时)", "mean_hours_to_handle"),
];

#[tokio::test]
async fn the_report_downloads_as_a_workbook_that_says_what_the_json_says() {
    let server = server().await;
    some_cases(&server).await;
    let day = today();
    let (status, json_report, _) = call(
        &server,
        "GET",
        &format!("/api/v1/reports/140700?from={day}&to={day}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json_report}");
    assert_eq!(json_report["figures"]["accepted"], 2, "{json_report}");

    let (status, headers, body) = get_bytes(
        &server,
        &format!("/api/v1/reports/140700?from={day}&to={day}&format=xlsx"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        headers["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"report-140700-{day}-{day}.xlsx\"")
    );
    assert!(body.starts_with(b"PK"), "not a ZIP");

    let files = unzip(&body);
    for name in [
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/sharedStrings.xml",
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet4.xml",
    ] {
        assert!(files.contains_key(name), "{name} missing from the workbook");
    }
    let workbook = text(&files, "xl/workbook.xml");
    let sheets: Vec<usize> = ["概况", "排名", "类别", "趋势"]
        .iter()
        .map(|name| {
            workbook
                .find(&format!("<sheet name=\"{name}\""))
                .unwrap_or_else(|| panic!("no sheet {name}: {workbook}"))
        })
        .collect();
    assert!(sheets.is_sorted(), "sheets out of order: {workbook}");
    // Rates are numbers shown as percentages.
    assert!(text(&files, "xl/styles.xml").contains("formatCode=\"0.00%\""));

    let shared = shared_strings(&text(&files, "xl/sharedStrings.xml"));
    let overview = cells(&text(&files, "xl/worksheets/sheet1.xml"), &shared);
    let title = &overview["A1"].0;
    assert!(
        title.starts_with("晋中市") && title.contains(&day),
        "{title}"
    );
    let first_sentence = json_report["prose"][0].as_str().unwrap();
    assert!(
        overview
            .iter()
            .any(|(at, (value, _))| at.starts_with('A') && value == first_sentence),
        "no cell holds '{first_sentence}': {overview:?}"
    );

    // Each figure's row: its name in A, its value in B as a number, empty without one.
    let row_of = |name: &str| {
        overview
            .iter()
            .find(|(at, (value, _))| at.starts_with('A') && value == name)
            .map(|(at, _)| at[1..].to_owned())
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    let accepted = &overview[&format!("B{}", row_of("受理数"))];
    assert_eq!(
        accepted,
        &(json_report["figures"]["accepted"].to_string(), false)
    );
    for (name, key) in FIGURES {
        let wanted = &json_report["figures"][key];
        let wanted = if wanted.is_object() {
            wanted["value"].as_f64()
        } else {
            wanted.as_f64()
        };
        let cell = overview.get(&format!("B{}", row_of(name)));
        match (wanted, cell) {
            (None, None) => {}
            (Some(wanted), Some((value, false))) => {
                let value: f64 = value.parse().unwrap();
                assert!((value - wanted).abs() < 1e-9, "{name}: {value} ≠ {wanted}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    // The other sheets carry their headers and the report's rows.
    let ranking = cells(&text(&files, "xl/worksheets/sheet2.xml"), &shared);
    assert_eq!(ranking["A1"].0, "名次");
    assert_eq!(ranking["I1"].0, "综合得分");
    assert_eq!(ranking["B2"].0, "140702");
    assert_eq!(ranking["C2"].0, "榆次区");
    let categories = cells(&text(&files, "xl/worksheets/sheet3.xml"), &shared);
    assert_eq!(categories["B1"].0, "大类");
    assert_eq!(
        categories["B2"].0,
        json_report["top_categories"][0][1].as_str().unwrap()
    );
    let trend = cells(&text(&files, "xl/worksheets/sheet4.xml"), &shared);
    assert_eq!(trend["A1"].0, "期间");
    assert_eq!(
        trend["C2"].0,
        json_report["trend"][0]["accepted"].to_string()
    );
}

#[tokio::test]
async fn an_unknown_report_format_names_the_known_ones() {
    let server = server().await;
    let day = today();
    let (status, body, _) = call(
        &server,
        "GET",
        &format!("/api/v1/reports/140700?from={day}&to={day}&format=pdf"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    for format in ["json", "text", "csv", "xlsx"] {
        assert!(message.contains(format), "{message}");
    }
}

// ---------------------------------------------------------------------------------------
// Reading the workbook back: a ZIP's central directory, DEFLATE, and the few XML shapes
// that rust_xlsxwriter writes.

fn text(files: &HashMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(files[name].clone()).unwrap()
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The texts of `<si><t>…</t></si>`, in order.
fn shared_strings(xml: &str) -> Vec<String> {
    xml.split("<si>")
        .skip(1)
        .map(|item| {
            let start = item.find("<t").unwrap();
            let start = start + item[start..].find('>').unwrap() + 1;
            let end = item.find("</t>").unwrap();
            unescape(&item[start..end])
        })
        .collect()
}

/// A sheet's cells by reference (`B5`): their text (shared strings resolved) and whether it
/// is a string.
fn cells(xml: &str, shared: &[String]) -> HashMap<String, (String, bool)> {
    let mut found = HashMap::new();
    for cell in xml.split("<c ").skip(1) {
        let head = format!(" {}", &cell[..cell.find('>').unwrap()]);
        if head.ends_with('/') {
            continue; // An empty cell with a format only.
        }
        let attribute = |name: &str| {
            let start = head.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(&head[start..start + head[start..].find('"')?])
        };
        let Some(value) = cell
            .find("<v>")
            .map(|start| &cell[start + 3..start + cell[start..].find("</v>").unwrap()])
        else {
            continue;
        };
        let entry = match attribute("t") {
            Some("s") => (shared[value.parse::<usize>().unwrap()].clone(), true),
            Some("str") => (unescape(value), true),
            _ => (value.to_owned(), false),
        };
        found.insert(attribute("r").unwrap().to_owned(), entry);
    }
    found
}

/// Every file of the workbook by name, read with the same ZIP library that wrote it.
fn unzip(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut files = HashMap::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).expect("a ZIP entry");
        let name = file.name().expect("a file name").to_string();
        let mut content = Vec::new();
        file.read_to_end(&mut content).expect("readable");
        files.insert(name, content);
    }
    files
}
