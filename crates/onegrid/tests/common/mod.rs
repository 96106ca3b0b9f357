//! What the binary's tests share: running `onegrid` on a data directory, a small city to run
//! it on, starting a server on a free port, and plain HTTP/1.1 over a socket.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `onegrid --data DATA`, with the environment's own settings removed.
pub fn onegrid(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_onegrid"));
    command
        .arg("--data")
        .arg(data)
        .env_remove("ONEGRID_DATA")
        .env_remove("ONEGRID_DATABASE_URL")
        .env("ONEGRID_LOG", "error");
    command
}

pub const SMALL_DIVISIONS: &str = "code,name,parent_code,level\n140000,山西省,,province\n\
    140700,晋中市,140000,city\n140702,榆次区,140700,county\n140702001,北关街道,140702,township\n\
    140702001001,甲社区,140702001,village\n";

pub const ONE_GRID: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"140702001001001"},
    "geometry":{"type":"Polygon","coordinates":[[[112.7,37.6],[112.8,37.6],[112.8,37.7],[112.7,37.7],[112.7,37.6]]]}}]}"#;

/// Imports a province, city, county, township and village, and one grid (112.7–112.8 E,
/// 37.6–37.7 N), through the command line.
pub fn seed_small_city(data: &Path) {
    let dir = data
        .parent()
        .expect("a data directory inside a temporary one");
    let divisions = dir.join("divisions.csv");
    std::fs::write(&divisions, SMALL_DIVISIONS).unwrap();
    let grids = dir.join("grids.geojson");
    std::fs::write(&grids, ONE_GRID).unwrap();
    let out = onegrid(data)
        .args(["import", "divisions"])
        .arg(&divisions)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onegrid(data)
        .args(["import", "areas", "--level", "grid"])
        .arg(&grids)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes an account holding `roles` (`role@scope`, comma-separated) and an API token for it,
/// through the command line; returns the token (the last word `token create` prints).
pub fn make_token(data: &Path, login: &str, roles: &str) -> String {
    let out = onegrid(data)
        .args(["user", "create", login, "--role", roles])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onegrid(data)
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

/// Starts `onegrid serve` on a free port with extra environment and arguments; returns the
/// child and its address, read from the banner it prints.
pub fn start_server(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut command = onegrid(data);
    command
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env("ONEGRID_SWEEP_SECONDS", "3600")
        .stdout(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let banner = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .find(|line| line.contains("serving on http://"))
        .expect("the server prints its address");
    let address = banner.rsplit("http://").next().unwrap().trim().to_owned();
    (child, address)
}

/// One HTTP/1.1 request on its own connection; the status and the body.
pub fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

pub fn get(address: &str, path: &str) -> (u16, String) {
    request(address, "GET", path, &[], "").expect("GET")
}
