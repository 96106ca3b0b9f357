//! The binary as people and scripts use it: real processes, real files, a real socket.

mod common;

use std::process::Command;

use common::{get as http_get, onegrid};

/// The README's first command on a fresh data directory: the demo city is built, the API
/// answers a point in 榆次区 with its whole chain, and SIGTERM stops the server cleanly.
#[test]
fn serve_demo_answers_locate_in_yuci_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address) = common::start_server(dir.path(), &["--demo"], &[]);

    let (status, body) = http_get(&address, "/api/v1/locate?lon=112.75&lat=37.69");
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let grid = body["grid"]["code"].as_str().expect("a grid");
    assert_eq!(grid.len(), 15);
    assert!(grid.starts_with("140702"), "{grid}");
    let levels: Vec<&str> = body["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["grid", "village", "township", "county", "city", "province"]
    );
    assert_eq!(body["chain"][3]["code"], "140702");
    assert_eq!(body["chain"][3]["name"], "榆次区");
    assert_eq!(body["chain"][4]["name"], "晋中市");
    assert_eq!(body["chain"][5]["name"], "山西省");

    let (status, body) = http_get(&address, "/api/v1/locate?lon=100&lat=30");
    assert_eq!(status, 404);
    assert!(body.contains("\"not_found\""), "{body}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn import_locate_batch_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let divisions = dir.path().join("d.csv");
    std::fs::write(
        &divisions,
        "code,name,parent_code,level\n140000,山西省,,province\n140700,晋中市,140000,city\n\
         140702,榆次区,140700,county\n140702001,北关街道,140702,township\n\
         140702001001,甲社区,140702001,village\n",
    )
    .unwrap();
    let out = onegrid(&data)
        .args(["import", "divisions"])
        .arg(&divisions)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A bad polygon file fails, names the feature, and stores nothing.
    let bad = dir.path().join("bad.geojson");
    std::fs::write(
        &bad,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"140702001001001"},
        "geometry":{"type":"Polygon","coordinates":[[[112.7,37.6],[112.8,37.7],[112.8,37.6],[112.7,37.7],[112.7,37.6]]]}}]}"#,
    )
    .unwrap();
    let out = onegrid(&data)
        .args(["import", "areas", "--level", "grid"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("feature 0 (code 140702001001001)"),
        "{stderr}"
    );

    let good = dir.path().join("good.geojson");
    std::fs::write(
        &good,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"140702001001001"},
        "geometry":{"type":"Polygon","coordinates":[[[112.7,37.6],[112.8,37.6],[112.8,37.7],[112.7,37.7],[112.7,37.6]]]}}]}"#,
    )
    .unwrap();
    let out = onegrid(&data)
        .args(["import", "areas", "--level", "grid", "--code-field", "id"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = onegrid(&data)
        .args(["locate", "112.75", "37.65"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let located: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(located["grid"]["code"], "140702001001001");
    let out = onegrid(&data)
        .args(["locate", "100", "30"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not_found"));

    let points = dir.path().join("points.csv");
    std::fs::write(&points, "lon,lat\n112.75,37.65\n100,30\n").unwrap();
    let answers = dir.path().join("answers.csv");
    let out = onegrid(&data)
        .args(["locate", "--batch"])
        .arg(&points)
        .arg("--out")
        .arg(&answers)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&answers).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "lon,lat,grid,village,township,county,city,province",
            "112.75,37.65,140702001001001,140702001001,140702001,140702,140700,140000",
            "100,30,,,,,,",
        ]
    );
    let bad_points = dir.path().join("bad_points.csv");
    std::fs::write(&bad_points, "112.75,37.65\n112.75,north\n").unwrap();
    let out = onegrid(&data)
        .args(["locate", "--batch"])
        .arg(&bad_points)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2, field lat"), "{stderr}");

    let exported = dir.path().join("grids.geojson");
    let out = onegrid(&data)
        .args(["export", "areas", "--level", "grid"])
        .arg(&exported)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let collection: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(
        collection["features"][0]["properties"]["code"],
        "140702001001001"
    );
    assert_eq!(collection["features"][0]["properties"]["level"], "grid");
}
