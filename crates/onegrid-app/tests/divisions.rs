//! Importing division codes: layouts, errors that name line and field, all-or-nothing, history.

mod common;

use common::{SMALL_DIVISIONS, file, fresh_app};
use onegrid_app::AppError;
use onegrid_domain::RegionCode;

#[tokio::test]
async fn plain_layout_builds_the_chain() {
    let t = fresh_app().await;
    let report = t
        .app
        .import_divisions(&[file("small.csv", SMALL_DIVISIONS)])
        .await
        .unwrap();
    assert_eq!(report.summary.added, 6);
    let atlas = t.app.atlas();
    let chain: Vec<String> = atlas
        .chain("140702001002")
        .into_iter()
        .map(|link| link.code)
        .collect();
    assert_eq!(
        chain,
        ["140702001002", "140702001", "140702", "140700", "140000"]
    );
    // Importing the same file again changes nothing.
    let again = t
        .app
        .import_divisions(&[file("small.csv", SMALL_DIVISIONS)])
        .await
        .unwrap();
    assert_eq!(again.summary.unchanged, 6);
    assert_eq!(again.summary.added + again.summary.changed, 0);
}

#[tokio::test]
async fn china_division_layout_is_recognised_by_its_headers() {
    let t = fresh_app().await;
    let files = [
        file("provinces.csv", "code,name\n14,\"山西省\"\n"),
        file("cities.csv", "code,name,provinceCode\n1407,\"晋中市\",14\n"),
        file(
            "areas.csv",
            "code,name,cityCode,provinceCode\n140702,\"榆次区\",1407,14\n140703,\"太谷区\",1407,14\n",
        ),
        file(
            "streets.csv",
            "code,name,areaCode,provinceCode,cityCode\n140702001,\"北关街道\",140702,14,1407\n",
        ),
        file(
            "villages.csv",
            "code,name,streetCode,provinceCode,cityCode,areaCode\n140702001002,\"羊毫街社区居民委员会\",140702001,14,1407,140702\n",
        ),
    ];
    let report = t.app.import_divisions(&files).await.unwrap();
    assert_eq!(report.summary.added, 6);
    let atlas = t.app.atlas();
    let village = atlas.region("140702001002").unwrap();
    assert_eq!(village.name, "羊毫街社区居民委员会");
    assert_eq!(village.parent.as_ref().unwrap().as_str(), "140702001");
    assert_eq!(atlas.region("140700").unwrap().name, "晋中市");
}

#[tokio::test]
async fn every_bad_line_is_named_and_nothing_is_stored() {
    let t = fresh_app().await;
    let bad = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
14070X,坏代码,140700,county
140703,,140700,county
140704001,错父级,140702,township
140705,无父级,150700,county
140706,未知级别,140700,kingdom
";
    let error = t
        .app
        .import_divisions(&[file("bad.csv", bad)])
        .await
        .unwrap_err();
    let AppError::Invalid { problems, .. } = error else {
        panic!("expected Invalid, got {error:?}");
    };
    let locations: Vec<&str> = problems.iter().map(|p| p.location.as_str()).collect();
    assert_eq!(
        locations,
        [
            "bad.csv, line 4, field code",
            "bad.csv, line 5, field name",
            "bad.csv, line 6, field parent_code",
            "bad.csv, line 7, field parent_code",
            "bad.csv, line 8, field level",
        ],
        "{problems:#?}"
    );
    assert!(
        problems[2].message.contains("140704"),
        "{}",
        problems[2].message
    );
    // All or nothing: the good lines 2 and 3 were not stored either.
    assert!(t.app.store().regions().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_parent_that_is_nowhere_is_an_error() {
    let t = fresh_app().await;
    let orphan = "code,name,parent_code,level\n140702,榆次区,140700,county\n";
    let error = t
        .app
        .import_divisions(&[file("orphan.csv", orphan)])
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("orphan.csv, line 2, field parent"), "{text}");
    assert!(text.contains("140700"), "{text}");
}

#[tokio::test]
async fn a_retired_code_keeps_resolving_and_names_its_successor() {
    let t = fresh_app().await;
    let before = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
140702,榆次区,140700,county
140726,太谷县,140700,county
140726100,明星镇,140726,township
";
    t.app
        .import_divisions(&[file("2018.csv", before)])
        .await
        .unwrap();
    let after = "code,name,parent_code,level
140000,山西省,,province
140700,晋中市,140000,city
140702,榆次区,140700,county
140703,太谷区,140700,county
140703100,明星镇,140703,township
";
    let report = t
        .app
        .import_divisions(&[file("2023.csv", after)])
        .await
        .unwrap();
    assert_eq!(
        report.retired,
        [
            ("140726".to_owned(), Some("140703".to_owned())),
            ("140726100".to_owned(), Some("140703100".to_owned()))
        ]
    );
    let old = RegionCode::parse("140726").unwrap();
    let details = t.app.region_details(&old).await.unwrap();
    assert_eq!(details.region.name, "太谷县");
    assert!(details.region.valid_to.is_some());
    assert_eq!(
        details.region.successor.as_ref().unwrap().as_str(),
        "140703"
    );
    // The old code still resolves to its whole chain.
    let chain: Vec<String> = details.chain.iter().map(|l| l.code.clone()).collect();
    assert_eq!(chain, ["140726", "140700", "140000"]);
    // And the city's current children no longer list it.
    let city = t
        .app
        .region_details(&RegionCode::parse("140700").unwrap())
        .await
        .unwrap();
    let children: Vec<String> = city.children.iter().map(|c| c.code.to_string()).collect();
    assert_eq!(children, ["140702", "140703"]);
}

#[tokio::test]
async fn a_renamed_region_keeps_its_old_name_in_history() {
    let t = fresh_app().await;
    t.app
        .import_divisions(&[file("a.csv", SMALL_DIVISIONS)])
        .await
        .unwrap();
    let renamed = SMALL_DIVISIONS.replace("甲社区", "甲新社区");
    let report = t
        .app
        .import_divisions(&[file("b.csv", &renamed)])
        .await
        .unwrap();
    assert_eq!(report.summary.changed, 1);
    let code = RegionCode::parse("140702001001").unwrap();
    let details = t.app.region_details(&code).await.unwrap();
    assert_eq!(details.region.name, "甲新社区");
    assert_eq!(details.history.len(), 1);
    assert_eq!(details.history[0].name, "甲社区");
}

#[tokio::test]
async fn the_shipped_china_division_files_import_whole() {
    let t = fresh_app().await;
    let report = t
        .app
        .import_divisions(&onegrid_app::demo::division_files())
        .await
        .unwrap();
    // 31 provinces, 342 cities, the counties (less 东莞/中山/儋州/嘉峪关-like units merged into
    // their city), Shanxi's townships and Jinzhong's villages.
    assert!(report.merged_into_city >= 3, "{report:?}");
    let atlas = t.app.atlas();
    assert_eq!(atlas.children("140700").len(), 11);
    assert_eq!(atlas.region("140703").unwrap().name, "太谷区");
    let villages_of_jinzhong = atlas
        .all_regions()
        .filter(|r| r.code.as_str().starts_with("1407") && r.code.as_str().len() == 12)
        .count();
    assert_eq!(villages_of_jinzhong, 2201);
}
