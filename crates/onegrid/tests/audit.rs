//! `onegrid audit verify` as an operator runs it: exit 0 on an intact record; after the
//! database file is edited directly, a non-zero exit naming the first broken record.

mod common;

use common::{onegrid, request, seed_small_city, start_server};
use sqlx::{Connection, SqliteConnection};

#[test]
fn audit_verify_exits_non_zero_naming_the_record_edited_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_small_city(&data);
    let (mut server, address) = start_server(&data, &[], &[]);
    for n in 0..3 {
        let body =
            format!(r#"{{"description":"第{n}件","grid":"140702001001001","channel":"hotline"}}"#);
        let (status, answer) = request(&address, "POST", "/api/v1/cases", &[], &body).unwrap();
        assert_eq!(status, 201, "{answer}");
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
