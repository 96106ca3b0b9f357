//! The demo city: real codes, a grid layer that tiles every county, and a point → grid answer
//! that is exactly one grid containing the point (a property test over random points).

mod common;

use std::collections::HashMap;

use common::fresh_app;
use geo::{BoundingRect, MultiPolygon};
use onegrid_app::atlas::parse_shape;
use onegrid_domain::Level;
use onegrid_geo::index::covers;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[tokio::test]
async fn the_demo_city_tiles_jinzhong_and_every_point_gets_exactly_one_grid() {
    let t = fresh_app().await;
    let report = t.app.load_demo_city().await.unwrap();
    assert!(!report.already_loaded);
    assert_eq!(report.counties, 11);
    assert_eq!(report.townships, 130);
    assert_eq!(report.villages, 2201);
    assert!((5_000..=10_000).contains(&report.grids), "{report:?}");
    assert_eq!(report.grid_workers, report.grids);
    // No gap worth the name: what the generated layers leave open inside their parents is
    // under a millionth of the city (16,000 km² → under 16,000 m² in all).
    assert!(
        report.city_m2 > 1.5e10 && report.city_m2 < 1.8e10,
        "{report:?}"
    );
    assert!(report.uncovered_m2 < report.city_m2 * 1e-6, "{report:?}");

    // A second start does not build it again.
    assert!(t.app.load_demo_city().await.unwrap().already_loaded);

    // One demo account per role, each able to sign in (administrators with their TOTP code),
    // made once.
    let logins = t.app.demo_accounts().await.unwrap();
    let mut roles: Vec<&str> = logins.iter().map(|l| l.role.as_str()).collect();
    roles.sort_unstable();
    let mut all: Vec<&str> = onegrid_domain::access::Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    all.sort_unstable();
    assert_eq!(roles, all);
    for login in &logins {
        let totp = login.totp_secret.as_deref().map(|secret| {
            onegrid_app::secrets::totp_code(secret, chrono::Utc::now().timestamp()).unwrap()
        });
        let grant = t
            .app
            .login(onegrid_app::access::LoginAttempt {
                login: login.login.clone(),
                password: login.password.clone(),
                totp,
                address: "test".to_owned(),
            })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", login.login));
        assert_eq!(grant.principal.assignments.len(), 1);
    }
    assert_eq!(t.app.demo_accounts().await.unwrap(), logins);

    // The acceptance point: 112.75, 37.69 is in a grid of 榆次区 with its whole chain.
    let located = t.app.locate(112.75, 37.69).unwrap();
    let grid = located.grid.expect("a grid");
    assert!(grid.code.starts_with("140702"), "{grid:?}");
    let levels: Vec<Level> = located.chain.iter().map(|l| l.level).collect();
    assert_eq!(levels, Level::ALL.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(located.chain[3].name, "榆次区");

    let city = parse_shape(
        &t.app
            .store()
            .area(&onegrid_domain::RegionCode::parse("140700").unwrap())
            .await
            .unwrap()
            .unwrap()
            .geometry,
    )
    .unwrap();
    let grids: HashMap<String, MultiPolygon<f64>> = t
        .app
        .store()
        .areas(Level::Grid)
        .await
        .unwrap()
        .into_iter()
        .map(|area| (area.code.to_string(), parse_shape(&area.geometry).unwrap()))
        .collect();
    let atlas = t.app.atlas();
    let bbox = city.bounding_rect().unwrap();
    let (x0, y0, x1, y1) = (bbox.min().x, bbox.min().y, bbox.max().x, bbox.max().y);
    let mut runner = TestRunner::new(Config {
        cases: 3_000,
        ..Config::default()
    });
    let inside_city = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&(x0..x1, y0..y1), |(lon, lat)| {
            if !covers(&city, lon, lat) {
                // Outside the city: no grid may claim it.
                let located = atlas.locate(lon, lat);
                prop_assert!(
                    located.as_ref().is_none_or(|l| l.grid.is_none()),
                    "{lon},{lat} outside the city got {located:?}"
                );
                return Ok(());
            }
            inside_city.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let located = atlas.locate(lon, lat);
            let Some(grid) = located.as_ref().and_then(|l| l.grid.as_ref()) else {
                return Err(TestCaseError::fail(format!(
                    "{lon},{lat} inside the city got no grid: {located:?}"
                )));
            };
            prop_assert!(
                covers(&grids[&grid.code], lon, lat),
                "{grid:?} does not contain {lon},{lat}"
            );
            let containing: Vec<&String> = grids
                .iter()
                .filter(|(_, shape)| covers(shape, lon, lat))
                .map(|(code, _)| code)
                .collect();
            prop_assert_eq!(containing.len(), 1, "{},{} in {:?}", lon, lat, containing);
            prop_assert_eq!(containing[0], &grid.code);
            // And the chain of that grid ends in 晋中市, 山西省.
            let chain = &located.as_ref().unwrap().chain;
            prop_assert_eq!(chain.len(), 6);
            prop_assert_eq!(chain[4].code.as_str(), "140700");
            Ok(())
        })
        .unwrap();
    let inside_city = inside_city.into_inner();
    assert!(
        inside_city > 1_000,
        "only {inside_city} points fell inside the city"
    );
}
