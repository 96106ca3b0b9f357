//! The store contract: the same stories run against every engine. Each story gets a fresh,
//! empty store. PostgreSQL joins the `engines!` list in its own issue.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use onegrid_domain::{Level, RegionCode};
use onegrid_store::{
    AreaRecord, DivisionChange, Location, NewUser, RegionUpsert, Retirement, Store,
};

fn code(text: &str) -> RegionCode {
    RegionCode::parse(text).unwrap()
}

fn upsert(text: &str, name: &str) -> RegionUpsert {
    let code = code(text);
    RegionUpsert {
        parent: code.parent(),
        code,
        name: name.to_owned(),
    }
}

fn chain_upserts() -> Vec<RegionUpsert> {
    vec![
        upsert("140000", "山西省"),
        upsert("140700", "晋中市"),
        upsert("140702", "榆次区"),
        upsert("140726", "太谷县"),
        upsert("140702001", "北关街道"),
    ]
}

fn area(text: &str) -> AreaRecord {
    AreaRecord {
        code: code(text),
        geometry: r#"{"type":"Polygon","coordinates":[[[112,37],[113,37],[113,38],[112,37]]]}"#
            .to_owned(),
        area_m2: 1.0e6,
        bbox: [112.0, 37.0, 113.0, 38.0],
        source_crs: "wgs84".to_owned(),
    }
}

async fn regions_keep_history_and_retire(store: Arc<dyn Store>) {
    let first = store
        .apply_divisions(DivisionChange {
            upserts: chain_upserts(),
            retirements: vec![],
            at: Some(Utc.with_ymd_and_hms(2018, 1, 1, 0, 0, 0).unwrap()),
        })
        .await
        .unwrap();
    assert_eq!(first.added, 5);
    let later = Utc.with_ymd_and_hms(2023, 6, 30, 0, 0, 0).unwrap();
    let second = store
        .apply_divisions(DivisionChange {
            upserts: vec![
                upsert("140703", "太谷区"),
                upsert("140702001", "北关新街道"),
            ],
            retirements: vec![Retirement {
                code: code("140726"),
                successor: Some(code("140703")),
            }],
            at: Some(later),
        })
        .await
        .unwrap();
    assert_eq!((second.added, second.changed, second.retired), (1, 1, 1));

    let retired = store.region(&code("140726")).await.unwrap().unwrap();
    assert_eq!(retired.valid_to, Some(later));
    assert_eq!(retired.successor.unwrap().as_str(), "140703");
    let children: Vec<String> = store
        .region_children(&code("140700"))
        .await
        .unwrap()
        .iter()
        .map(|r| r.code.to_string())
        .collect();
    assert_eq!(children, ["140702", "140703"]);
    let history = store.region_history(&code("140702001")).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].name, "北关街道");
    assert_eq!(history[0].valid_to, Some(later));
    let all = store.regions().await.unwrap();
    assert_eq!(all.len(), 6);
    // Parents before children.
    let position = |c: &str| all.iter().position(|r| r.code.as_str() == c).unwrap();
    assert!(position("140000") < position("140700"));
    assert!(position("140702") < position("140702001"));
}

async fn areas_are_all_or_nothing(store: Arc<dyn Store>) {
    store
        .apply_divisions(DivisionChange {
            upserts: chain_upserts(),
            ..DivisionChange::default()
        })
        .await
        .unwrap();
    store.put_areas(vec![], vec![area("140702")]).await.unwrap();
    // 140702001001 is no stored region: the whole batch, 140726 included, is refused.
    let refused = store
        .put_areas(vec![], vec![area("140726"), area("140702001001")])
        .await;
    assert!(refused.is_err());
    assert!(store.area(&code("140726")).await.unwrap().is_none());
    // With its region in the same call it goes in, and replaces nothing else.
    store
        .put_areas(
            vec![upsert("140702001001", "甲社区")],
            vec![area("140726"), area("140702001001")],
        )
        .await
        .unwrap();
    let counties = store.areas(Level::County).await.unwrap();
    assert_eq!(counties.len(), 2);
    assert_eq!(counties[0], area("140702"));
    let children = store.child_areas(&code("140700")).await.unwrap();
    assert_eq!(children.len(), 2);
}

async fn concurrent_writes_group_and_one_failure_spoils_no_other(store: Arc<dyn Store>) {
    store
        .apply_divisions(DivisionChange {
            upserts: chain_upserts(),
            ..DivisionChange::default()
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            if i == 100 {
                // This one fails (no such region); it shares a group with many others.
                return store
                    .put_areas(vec![], vec![area("140702001999")])
                    .await
                    .is_ok();
            }
            store
                .put_users(vec![NewUser {
                    login: format!("user{i}"),
                    display_name: format!("用户{i}"),
                    roles: vec!["grid_worker".to_owned()],
                    scope: code("140702001"),
                }])
                .await
                .is_ok()
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert!(!outcomes[100]);
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 199);
    assert_eq!(store.user_count().await.unwrap(), 199);
    let in_scope = store.users_in(&code("140700"), 1000).await.unwrap();
    assert_eq!(in_scope.len(), 199);
    assert!(
        store
            .users_in(&code("140703"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn meta_is_kept(store: Arc<dyn Store>) {
    assert_eq!(store.meta("k").await.unwrap(), None);
    store.set_meta("k", "1").await.unwrap();
    store.set_meta("k", "2").await.unwrap();
    assert_eq!(store.meta("k").await.unwrap().as_deref(), Some("2"));
}

macro_rules! sqlite_stories {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = onegrid_store::open(&super::Location::Directory(dir.path().to_owned()))
                        .await
                        .unwrap();
                    super::$story(store).await;
                }
            )*
        }
    };
}

sqlite_stories!(
    regions_keep_history_and_retire,
    areas_are_all_or_nothing,
    concurrent_writes_group_and_one_failure_spoils_no_other,
    meta_is_kept,
);

#[tokio::test]
async fn sqlite_acknowledged_writes_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Directory(dir.path().to_owned());
    {
        let store = onegrid_store::open(&location).await.unwrap();
        store.set_meta("durable", "yes").await.unwrap();
    }
    let store = onegrid_store::open(&location).await.unwrap();
    assert_eq!(store.meta("durable").await.unwrap().as_deref(), Some("yes"));
    assert_eq!(store.engine(), "sqlite");
}

#[tokio::test]
async fn postgres_urls_are_refused_until_the_engine_exists() {
    let refused =
        onegrid_store::open(&Location::Postgres("postgres://127.0.0.1/x".to_owned())).await;
    assert!(refused.is_err());
}
