//! `onegrid audit verify` as an operator runs it: exit 0 on an intact record; after the
//! database file is edited directly, a non-zero exit naming the first broken record.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

use sqlx::{Connection, SqliteConnection};

fn onegrid(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_onegrid"));
    command
        .arg("--data")
        .arg(data)
        .env_remove("ONEGRID_DATA")
        .env_remove("ONEGRID_DATABASE_URL")
        .env("ONEGRID_LOG", "error");
    command
}

fn post(address: &str, path: &str, body: &str, role: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         X-Actor-Role: {role}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 20"), "{response}");
    response.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[test]
fn audit_verify_exits_non_zero_naming_the_record_edited_in_the_file() {
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
    assert!(
        onegrid(&data)
            .args(["import", "divisions"])
            .arg(&divisions)
            .status()
            .unwrap()
            .success()
    );
    let grids = dir.path().join("g.geojson");
    std::fs::write(
        &grids,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"140702001001001"},
        "geometry":{"type":"Polygon","coordinates":[[[112.7,37.6],[112.8,37.6],[112.8,37.7],[112.7,37.7],[112.7,37.6]]]}}]}"#,
    )
    .unwrap();
    assert!(
        onegrid(&data)
            .args(["import", "areas", "--level", "grid"])
            .arg(&grids)
            .status()
            .unwrap()
            .success()
    );
    let mut server = onegrid(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let banner = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .find(|line| line.contains("serving on http://"))
        .unwrap();
    let address = banner.rsplit("http://").next().unwrap().trim().to_owned();
    for n in 0..3 {
        let body = post(
            &address,
            "/api/v1/cases",
            &format!(r#"{{"description":"第{n}件","grid":"140702001001001","channel":"hotline"}}"#),
            "centre_intake",
        );
        assert!(body.contains("\"number\""), "{body}");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let intact = onegrid(&data).args(["audit", "verify"]).output().unwrap();
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&intact.stdout).unwrap();
    assert_eq!(report["intact"], true);
    assert_eq!(report["records"], 3);

    let file = data.join("onegrid.sqlite3");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE records SET actor = '别人' WHERE seq = 2")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let broken = onegrid(&data).args(["audit", "verify"]).output().unwrap();
    assert_eq!(broken.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("record 140702#2"), "{stderr}");
}
