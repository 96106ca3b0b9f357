//! `onegrid audit verify` as an operator runs it: exit 0 on an intact record; after the
//! database file is edited directly, a non-zero exit naming the first broken record.

mod common;

use common::{make_token, onegrid, request, seed_small_city, start_server};
use sqlx::{Connection, SqliteConnection};

#[test]
fn audit_verify_exits_non_zero_naming_the_record_edited_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_small_city(&data);
    let auth = format!(
        "Bearer {}",
        make_token(&data, "hotline", "centre_intake@140702")
    );
    let (mut server, address) = start_server(&data, &[], &[]);
    for n in 0..3 {
        let body =
            format!(r#"{{"description":"第{n}件","grid":"140702001001001","channel":"hotline"}}"#);
        let (status, answer) = request(
            &address,
            "POST",
            "/api/v1/cases",
            &[("Authorization", &auth)],
            &body,
        )
        .unwrap();
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
    // Three cases, and the security events of making the account and its token.
    assert_eq!(report["records"], 3 + 2);

    let file = data.join("onegrid.sqlite3");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE records SET actor = '别人' WHERE county_code = '140702' AND seq = 2")
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

#[test]
fn backup_while_serving_and_restore_into_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_small_city(&data);
    let auth = format!(
        "Bearer {}",
        make_token(&data, "hotline", "centre_intake@140702")
    );
    let (mut server, address) = start_server(&data, &[], &[]);
    let body = r#"{"description":"备份前的事件","grid":"140702001001001","channel":"hotline"}"#;
    let (status, _) = request(
        &address,
        "POST",
        "/api/v1/cases",
        &[("Authorization", &auth)],
        body,
    )
    .unwrap();
    assert_eq!(status, 201);
    let backup = dir.path().join("backup.sqlite3");
    let out = onegrid(&data).arg("backup").arg(&backup).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second backup never overwrites the first.
    let again = onegrid(&data).arg("backup").arg(&backup).output().unwrap();
    assert!(!again.status.success());
    server.kill().unwrap();
    server.wait().unwrap();

    // Restoring over a store is refused; into an empty directory it works and verifies.
    let refused = onegrid(&data).arg("restore").arg(&backup).output().unwrap();
    assert!(!refused.status.success());
    let fresh = dir.path().join("restored");
    let out = onegrid(&fresh)
        .arg("restore")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified = onegrid(&fresh).args(["audit", "verify"]).output().unwrap();
    assert!(verified.status.success());
    let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    // The case, and the security events of making the account and its token.
    assert_eq!(report["records"], 1 + 2);
    let (mut restored, address) = start_server(&fresh, &[], &[]);
    let (status, list) = request(
        &address,
        "GET",
        "/api/v1/cases",
        &[("Authorization", &auth)],
        "",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(list.contains("备份前的事件"), "{list}");
    restored.kill().unwrap();
    restored.wait().unwrap();
    // A file that is no store is refused.
    let junk = dir.path().join("junk");
    std::fs::write(&junk, "not a database").unwrap();
    let other = dir.path().join("other");
    assert!(
        !onegrid(&other)
            .arg("restore")
            .arg(&junk)
            .output()
            .unwrap()
            .status
            .success()
    );
}
