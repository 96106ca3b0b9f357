//! The layering rules of ARCHITECTURE.md, checked against the crates' manifests: a layer may
//! only depend on the layers below it, and the domain on nothing that does I/O.

use std::collections::BTreeSet;

fn normal_dependencies(krate: &str) -> BTreeSet<String> {
    let path = format!("{}/../{krate}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut in_dependencies = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().trim_end_matches(".workspace").trim();
            if !name.is_empty() && !name.starts_with('#') {
                found.insert(name.to_owned());
            }
        }
    }
    assert!(
        !found.is_empty() || krate == "onegrid-domain",
        "{krate}: no dependencies read"
    );
    found
}

fn assert_none_of(krate: &str, forbidden: &[&str]) {
    let dependencies = normal_dependencies(krate);
    for name in forbidden {
        assert!(
            !dependencies.contains(*name),
            "{krate} must not depend on {name} (ARCHITECTURE.md, Invariants)"
        );
    }
}

const IO: &[&str] = &[
    "tokio",
    "sqlx",
    "axum",
    "tower",
    "tower-http",
    "hyper",
    "reqwest",
    "async-trait",
];

#[test]
fn the_domain_depends_on_no_crate_of_ours_and_on_nothing_that_does_io() {
    let dependencies = normal_dependencies("onegrid-domain");
    let ours: Vec<&String> = dependencies
        .iter()
        .filter(|name| name.starts_with("onegrid"))
        .collect();
    assert!(ours.is_empty(), "onegrid-domain depends on {ours:?}");
    assert_none_of("onegrid-domain", IO);
}

#[test]
fn geometry_knows_no_store_and_no_http() {
    assert_none_of(
        "onegrid-geo",
        &[
            "onegrid-store",
            "onegrid-app",
            "onegrid-server",
            "sqlx",
            "axum",
            "tokio",
        ],
    );
}

#[test]
fn the_store_knows_no_geometry_no_use_case_and_no_http() {
    assert_none_of(
        "onegrid-store",
        &[
            "onegrid-geo",
            "onegrid-app",
            "onegrid-server",
            "axum",
            "geo",
            "geojson",
        ],
    );
}

#[test]
fn the_use_cases_know_no_http() {
    assert_none_of(
        "onegrid-app",
        &["onegrid-server", "axum", "tower", "tower-http", "hyper"],
    );
}
