//! The crash harness: a real server under a write load is killed with SIGKILL again and again.
//! Every case whose creation was acknowledged (201) must be there after the restart, and no
//! case may exist twice — requests that were in flight are retried with their
//! `Idempotency-Key`, as a client would. A run with writes deliberately acknowledged before
//! their commit (fault injection) shows that the harness does notice lost writes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{make_token, request, seed_small_city, start_server};

const KILLS: usize = 20;
const WRITERS: usize = 4;

/// The small city, and a token of an account that reports for another network, lists the
/// cases and verifies the record.
fn seed(data: &Path) -> String {
    seed_small_city(data);
    let token = make_token(data, "crash", "centre_intake@140700,audit_admin@140700");
    format!("Bearer {token}")
}

fn start(data: &Path, fault: bool) -> (Child, String) {
    let env: &[(&str, &str)] = if fault {
        &[("ONEGRID_FAULT_ACK_BEFORE_COMMIT", "1")]
    } else {
        &[]
    };
    start_server(data, &[], env)
}

fn post_case(address: &str, auth: &str, key: &str) -> std::io::Result<(u16, String)> {
    request(
        address,
        "POST",
        "/api/v1/cases",
        &[("Idempotency-Key", key), ("Authorization", auth)],
        &case_body(key),
    )
}

fn case_body(key: &str) -> String {
    format!(
        r#"{{"description":"压测事件 {key}","lon":112.75,"lat":37.65,"channel":"other_network"}}"#
    )
}

fn id_of(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    value["id"].as_str().unwrap().to_owned()
}

#[derive(Default)]
struct Ledger {
    /// key → case id, for every acknowledged creation.
    acked: BTreeMap<String, String>,
    /// keys whose request got no answer (the server died under it).
    unanswered: BTreeSet<String>,
}

/// Runs writers against the server until it is killed after `run_for`.
fn load_then_kill(
    address: &str,
    auth: &str,
    child: &mut Child,
    cycle: usize,
    run_for: Duration,
    ledger: &Arc<Mutex<Ledger>>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let address = address.to_owned();
        let auth = auth.to_owned();
        let stop = Arc::clone(&stop);
        let ledger = Arc::clone(ledger);
        writers.push(std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("crash-{cycle}-{writer}-{n}");
                n += 1;
                match post_case(&address, &auth, &key) {
                    Ok((201, body)) => {
                        ledger.lock().unwrap().acked.insert(key, id_of(&body));
                    }
                    Ok((status, body)) => panic!("unexpected {status}: {body}"),
                    Err(_) => {
                        ledger.lock().unwrap().unanswered.insert(key);
                        break;
                    }
                }
            }
        }));
    }
    std::thread::sleep(run_for);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
}

/// Every case in the store, by the key in its description.
fn all_cases(address: &str, auth: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=500&cursor={c}"),
            None => "/api/v1/cases?limit=500".to_owned(),
        };
        let (status, body) =
            request(address, "GET", &path, &[("Authorization", auth)], "").unwrap();
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        for case in page["cases"].as_array().unwrap() {
            let key = case["description"]
                .as_str()
                .unwrap()
                .trim_start_matches("压测事件 ")
                .to_owned();
            by_key
                .entry(key)
                .or_default()
                .push(case["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return by_key,
        }
    }
}

/// The acknowledged cases that are missing.
fn lost(address: &str, auth: &str, ledger: &Ledger) -> Vec<String> {
    let stored = all_cases(address, auth);
    ledger
        .acked
        .iter()
        .filter(|(key, id)| stored.get(*key).is_none_or(|ids| !ids.contains(id)))
        .map(|(key, _)| key.clone())
        .collect()
}

#[test]
fn sigkill_under_write_load_loses_no_acknowledged_case_and_makes_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let auth = seed(&data);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for cycle in 0..KILLS {
        let (mut child, address) = start(&data, false);
        // Retry what the last crash left unanswered, as a client would, with the same key.
        let retries: Vec<String> = std::mem::take(&mut ledger.lock().unwrap().unanswered)
            .into_iter()
            .collect();
        for key in retries {
            let (status, body) = post_case(&address, &auth, &key).unwrap();
            assert_eq!(status, 201, "{body}");
            ledger.lock().unwrap().acked.insert(key, id_of(&body));
        }
        let missing = lost(&address, &auth, &ledger.lock().unwrap());
        assert!(
            missing.is_empty(),
            "cycle {cycle}: acknowledged cases lost: {missing:?}"
        );
        let run_for = Duration::from_millis(150 + (cycle as u64 * 37) % 250);
        load_then_kill(&address, &auth, &mut child, cycle, run_for, &ledger);
    }
    let (mut child, address) = start(&data, false);
    let retries: Vec<String> = std::mem::take(&mut ledger.lock().unwrap().unanswered)
        .into_iter()
        .collect();
    for key in retries {
        let (status, body) = post_case(&address, &auth, &key).unwrap();
        assert_eq!(status, 201, "{body}");
        ledger.lock().unwrap().acked.insert(key, id_of(&body));
    }
    let ledger = ledger.lock().unwrap();
    let stored = all_cases(&address, &auth);
    assert!(lost(&address, &auth, &ledger).is_empty());
    let doubled: Vec<&String> = stored
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(k, _)| k)
        .collect();
    assert!(doubled.is_empty(), "cases that exist twice: {doubled:?}");
    assert_eq!(
        stored.len(),
        ledger.acked.len(),
        "every stored case was acknowledged to someone"
    );
    assert!(
        ledger.acked.len() > 100,
        "the load was real: {} cases",
        ledger.acked.len()
    );
    let (status, body) = request(
        &address,
        "GET",
        "/api/v1/audit/verify",
        &[("Authorization", &auth)],
        "",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("\"intact\":true"), "{body}");
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!(
        "crash harness: {KILLS} SIGKILLs, {} acknowledged cases, none lost, none doubled",
        ledger.acked.len()
    );
}

#[test]
fn the_harness_notices_lost_writes_when_acks_come_before_commits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let auth = seed(&data);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut noticed = Vec::new();
    for cycle in 0..5 {
        let (mut child, address) = start(&data, true);
        load_then_kill(
            &address,
            &auth,
            &mut child,
            cycle,
            Duration::from_millis(300),
            &ledger,
        );
        let (mut checker, address) = start(&data, false);
        noticed = lost(&address, &auth, &ledger.lock().unwrap());
        checker.kill().unwrap();
        checker.wait().unwrap();
        if !noticed.is_empty() {
            break;
        }
    }
    assert!(
        !noticed.is_empty(),
        "with acknowledgements before commits, SIGKILL must lose some acknowledged case and the harness must see it"
    );
}
