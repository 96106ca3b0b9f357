//! The shipped taxonomy, its validation, category suggestions and the responsibility matrix.

use onegrid_domain::calendar::{LimitUnit, TimeLimit};
use onegrid_domain::taxonomy::{
    Basis, RegionMatch, ResponsibilityRole, Taxonomy, TaxonomyError, Tier, Urgency,
};
use serde_json::{Value, json};

const SHIPPED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/taxonomy/categories.json"
));

/// A place in 榆次区 (140702), 北关街道 (140702001), from grid up to province.
const YUCI_CHAIN: [&str; 6] = [
    "140702001001001",
    "140702001001",
    "140702001",
    "140702",
    "140700",
    "140000",
];

/// A place in 平遥县 (140728).
const PINGYAO_CHAIN: [&str; 6] = [
    "140728100001001",
    "140728100001",
    "140728100",
    "140728",
    "140700",
    "140000",
];

fn problems_of(value: &Value) -> Vec<String> {
    match Taxonomy::parse_json(&value.to_string()) {
        Err(TaxonomyError::Invalid { problems }) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

#[test]
fn shipped_file_parses_with_no_problem() {
    let taxonomy = match Taxonomy::parse_json(SHIPPED) {
        Ok(t) => t,
        Err(err) => panic!("shipped taxonomy is invalid: {err}"),
    };
    assert!(taxonomy.problems().is_empty());
    assert_eq!(taxonomy.name, "晋中市全科网格事件分类（示例）");
    assert_eq!(taxonomy, Taxonomy::shipped());
    for (major, minor) in taxonomy.minors() {
        assert!(
            (3..=8).contains(&major.minors.len()),
            "{} has {} 小类",
            major.name,
            major.minors.len()
        );
        assert!(!minor.keywords.is_empty(), "{} has no keyword", minor.name);
        assert_ne!(minor.time_limits.critical.unit, LimitUnit::WorkingDays);
    }
}

#[test]
fn twelve_major_categories_by_name() {
    let taxonomy = Taxonomy::shipped();
    let names: Vec<&str> = taxonomy
        .categories
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    for name in [
        "党建",
        "社会治安",
        "信访维稳",
        "矛盾纠纷",
        "应急管理",
        "消防安全",
        "食药安全",
        "劳动保障",
        "市容环境",
        "生态环境",
        "公共设施",
        "民生服务",
    ] {
        assert!(names.contains(&name), "大类 {name} missing from {names:?}");
    }
}

#[test]
fn unpaid_wages_is_a_county_case_led_by_human_resources() {
    let taxonomy = Taxonomy::shipped();
    let (major, minor) = taxonomy
        .categories
        .iter()
        .flat_map(|major| major.minors.iter().map(move |minor| (major, minor)))
        .find(|(_, minor)| minor.name == "欠薪")
        .expect("欠薪 is shipped");
    assert_eq!(major.name, "劳动保障");
    assert_eq!(
        taxonomy.minor(&minor.code).map(|(m, _)| &m.name),
        Some(&major.name)
    );
    assert_eq!(minor.default_tier, Tier::County);
    assert!(minor.keywords.iter().any(|k| k == "拖欠工资"));
    let lead: Vec<_> = minor
        .responsibilities
        .iter()
        .filter(|r| r.role == ResponsibilityRole::Lead && r.regions == RegionMatch::All)
        .collect();
    assert_eq!(lead.len(), 1);
    assert_eq!(lead[0].basis, Basis::Departmental);
    assert_eq!(lead[0].department.as_deref(), Some("人社局"));
    assert_eq!(lead[0].tier, Tier::County);
    assert!(minor.time_limits.get(Urgency::Urgent) != minor.time_limits.normal);
}

#[test]
fn suggestions_put_the_telling_category_first() {
    let taxonomy = Taxonomy::shipped();
    for (text, expected) in [
        ("小区门口有人占道摆摊卖菜", "占道经营"),
        ("包工头拖欠农民工工资三个月", "欠薪"),
        ("楼道里电动车充电", "电动车违规充电"),
        ("邻居家楼上漏水，两家吵架", "邻里纠纷"),
        ("路边井盖丢了，晚上很危险", "井盖缺失破损"),
    ] {
        let found = taxonomy.suggest(text);
        assert!(found.len() <= 3);
        assert_eq!(
            found.first().map(|s| s.name.as_str()),
            Some(expected),
            "{text}: {found:?}"
        );
        assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
    }
    assert!(taxonomy.suggest("今天天气不错").is_empty());
    assert!(taxonomy.suggest("   ").is_empty());
}

#[test]
fn longer_keywords_weigh_more() {
    let mut value: Value = serde_json::from_str(SHIPPED).unwrap();
    let minors = value["categories"][0]["minors"].as_array_mut().unwrap();
    minors[0]["keywords"] = json!(["测试甲"]);
    minors[1]["keywords"] = json!(["测试甲乙丙"]);
    let taxonomy = Taxonomy::parse_json(&value.to_string()).unwrap();
    let found = taxonomy.suggest("这是测试甲乙丙");
    assert_eq!(found[0].code, "0102");
    assert_eq!(found[0].score, 5);
    assert_eq!(found[1].code, "0101");
    assert_eq!(found[1].score, 3);
}

#[test]
fn a_broken_document_reports_every_problem_with_its_path() {
    let mut value: Value = serde_json::from_str(SHIPPED).unwrap();
    let labour = &mut value["categories"][7];
    assert_eq!(labour["name"], "劳动保障");
    // Not 4 digits.
    labour["minors"][0]["code"] = json!("0801x");
    // Does not start with its 大类 code 08.
    labour["minors"][1]["code"] = json!("0901");
    // Urgent longer than normal.
    labour["minors"][2]["time_limits"]["urgent"] = json!({"amount": 30, "unit": "working_days"});
    // Lead "*" removed: only assists left.
    labour["minors"][3]["responsibilities"] =
        json!([{"regions": "*", "role": "assist", "basis": "territorial", "tier": "township"}]);
    // A departmental row without a department, one with an unknown kind, and one at a tier
    // where the department does not exist.
    labour["minors"][4]["responsibilities"] = json!([
        {"regions": "*", "role": "lead", "basis": "territorial", "tier": "township"},
        {"regions": "*", "role": "assist", "basis": "departmental", "tier": "county"},
        {"regions": "*", "role": "assist", "basis": "departmental", "department": "人设局", "tier": "county"},
        {"regions": ["1407x"], "role": "assist", "basis": "departmental", "department": "人社局", "tier": "township"}
    ]);

    let problems = problems_of(&value);
    let expected = [
        "categories[7].minors[0].code: '0801x' is not 4 digits",
        "categories[7].minors[1].code: code 0901 does not start with its 大类 code 08",
        "categories[8].minors[0].code: code 0901 is also used by categories[7].minors[1]",
        "categories[7].minors[2].time_limits.urgent: 30个工作日 is not shorter than the normal limit 15个工作日",
        "categories[7].minors[3].responsibilities: no lead row for all regions (\"*\"); every 小类 needs exactly one",
        "categories[7].minors[4].responsibilities[1].department: a departmental row needs a department",
        "categories[7].minors[4].responsibilities[2].department: '人设局' is not a kind listed in departments",
        "categories[7].minors[4].responsibilities[3].regions[0]: '1407x' is not a region-code prefix (2, 4, 6, 9, 12 or 15 digits)",
        "categories[7].minors[4].responsibilities[3].tier: 人社局 does not exist at tier township (it exists at county, city)",
    ];
    for line in expected {
        assert!(
            problems.iter().any(|p| p == line),
            "missing problem:\n  {line}\ngot:\n  {}",
            problems.join("\n  ")
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");

    let err = Taxonomy::parse_json(&value.to_string()).unwrap_err();
    assert!(
        err.to_string().starts_with("taxonomy has 9 problem(s): "),
        "{err}"
    );
}

#[test]
fn more_document_problems() {
    let mut value: Value = serde_json::from_str(SHIPPED).unwrap();
    // Two 大类 with one code; a 大类 with no 小类.
    value["categories"][1]["code"] = json!("01");
    value["categories"][2]["minors"] = json!([]);
    // Two "*" leads; a territorial row naming a department; critical in working days.
    let minor = &mut value["categories"][3]["minors"][0];
    minor["responsibilities"] = json!([
        {"regions": "*", "role": "lead", "basis": "territorial", "tier": "grid"},
        {"regions": "*", "role": "lead", "basis": "territorial", "department": "司法所", "tier": "village"}
    ]);
    minor["time_limits"]["critical"] = json!({"amount": 1, "unit": "working_days"});
    // A duplicate department kind.
    value["departments"][1]["kind"] = json!("组织部");

    let problems = problems_of(&value);
    for line in [
        "departments[1].kind: '组织部' is also the kind of departments[0]",
        "categories[1].code: code 01 is also used by categories[0]",
        "categories[2].minors: 大类 03 has no 小类",
        "categories[3].minors[0].responsibilities: 2 lead rows for all regions (\"*\") (responsibilities[0], responsibilities[1]); keep exactly one",
        "categories[3].minors[0].responsibilities[1].department: a territorial row names no department (found '司法所'); use basis departmental",
        "categories[3].minors[0].time_limits.critical: 1个工作日 is counted in working days; a 特急 limit is counted in working_hours or calendar_hours",
    ] {
        assert!(
            problems.iter().any(|p| p == line),
            "missing problem:\n  {line}\ngot:\n  {}",
            problems.join("\n  ")
        );
    }
    // The first 小类 of 党建 used 纪委监委 at departments[1]; now unknown.
    assert!(
        problems
            .iter()
            .any(|p| p.contains("'纪委监委' is not a kind listed in departments")),
        "{problems:#?}"
    );
}

#[test]
fn json_errors_carry_line_and_column() {
    let err = Taxonomy::parse_json("{\n  \"version\": \"1\",\n  \"name\": }").unwrap_err();
    match err {
        TaxonomyError::Json { line, column, .. } => {
            assert_eq!(line, 3);
            assert!(column > 0);
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    let mut value: Value = serde_json::from_str(SHIPPED).unwrap();
    value["categories"][0]["minors"][0]["responsibilities"][0]["regions"] = json!("all");
    let err = Taxonomy::parse_json(&value.to_string()).unwrap_err();
    assert!(err.to_string().contains("regions must be \"*\""), "{err}");
}

#[test]
fn region_specific_lead_replaces_the_all_regions_lead() {
    let taxonomy = Taxonomy::shipped();
    let code = taxonomy
        .minors()
        .find(|(_, m)| m.name == "占道经营")
        .map(|(_, m)| m.code.clone())
        .unwrap();

    // Elsewhere the township government (属地) leads, the county 城管局 assists.
    let pingyao = taxonomy.responsibilities_for(&code, &PINGYAO_CHAIN);
    assert_eq!(pingyao[0].role, ResponsibilityRole::Lead);
    assert_eq!(pingyao[0].basis, Basis::Territorial);
    assert_eq!(pingyao[0].tier, Tier::Township);
    assert_eq!(
        pingyao
            .iter()
            .filter(|r| r.role == ResponsibilityRole::Lead)
            .count(),
        1
    );
    assert!(
        pingyao
            .iter()
            .any(|r| r.role == ResponsibilityRole::Assist
                && r.department.as_deref() == Some("城管局"))
    );

    // In 榆次区 the county 城管局 leads; the township assists; 城管局 is not also an assist.
    let yuci = taxonomy.responsibilities_for(&code, &YUCI_CHAIN);
    let leads: Vec<_> = yuci
        .iter()
        .filter(|r| r.role == ResponsibilityRole::Lead)
        .collect();
    assert_eq!(leads.len(), 1, "{yuci:#?}");
    assert_eq!(leads[0].department.as_deref(), Some("城管局"));
    assert_eq!(leads[0].tier, Tier::County);
    let assists: Vec<_> = yuci
        .iter()
        .filter(|r| r.role == ResponsibilityRole::Assist)
        .collect();
    assert_eq!(assists.len(), 1, "{yuci:#?}");
    assert_eq!(assists[0].basis, Basis::Territorial);
    assert_eq!(assists[0].tier, Tier::Township);

    assert!(
        taxonomy
            .responsibilities_for("9999", &YUCI_CHAIN)
            .is_empty()
    );
}

#[test]
fn most_specific_lead_wins_and_assists_accumulate() {
    let mut value: Value = serde_json::from_str(SHIPPED).unwrap();
    value["categories"][3]["minors"][0]["responsibilities"] = json!([
        {"regions": "*", "role": "lead", "basis": "territorial", "tier": "grid"},
        {"regions": "*", "role": "assist", "basis": "territorial", "tier": "village"},
        {"regions": ["140702"], "role": "lead", "basis": "territorial", "tier": "village"},
        {"regions": ["140702001", "140703"], "role": "lead", "basis": "departmental", "department": "司法所", "tier": "township"},
        {"regions": ["140702"], "role": "assist", "basis": "departmental", "department": "公安派出所", "tier": "township"},
        {"regions": ["140728"], "role": "assist", "basis": "departmental", "department": "妇联", "tier": "county"}
    ]);
    let taxonomy = Taxonomy::parse_json(&value.to_string()).unwrap();

    // In 北关街道 the township-level row (9-digit prefix) beats the county-level one.
    let rows = taxonomy.responsibilities_for("0401", &YUCI_CHAIN);
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.role, r.tier, r.department.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (ResponsibilityRole::Lead, Tier::Township, Some("司法所")),
            (ResponsibilityRole::Assist, Tier::Village, None),
            (
                ResponsibilityRole::Assist,
                Tier::Township,
                Some("公安派出所")
            ),
        ]
    );

    // Another street of 榆次区: the county-level lead applies; the "*" assist names the same
    // unit as that lead (the village committee) and is dropped.
    let other = [
        "140702002001001",
        "140702002001",
        "140702002",
        "140702",
        "140700",
        "140000",
    ];
    let rows = taxonomy.responsibilities_for("0401", &other);
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.role, r.tier, r.department.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (ResponsibilityRole::Lead, Tier::Village, None),
            (
                ResponsibilityRole::Assist,
                Tier::Township,
                Some("公安派出所")
            ),
        ]
    );

    // 平遥县: the "*" lead and both assists.
    let rows = taxonomy.responsibilities_for("0401", &PINGYAO_CHAIN);
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.role, r.tier, r.department.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (ResponsibilityRole::Lead, Tier::Grid, None),
            (ResponsibilityRole::Assist, Tier::Village, None),
            (ResponsibilityRole::Assist, Tier::County, Some("妇联")),
        ]
    );
}

#[test]
fn round_trip_serialize_then_parse_is_equal() {
    let taxonomy = Taxonomy::shipped();
    let text = serde_json::to_string_pretty(&taxonomy).unwrap();
    assert_eq!(Taxonomy::parse_json(&text).unwrap(), taxonomy);
    // "*" stays a string; prefixes stay a list; a territorial row has no department key.
    let value: Value = serde_json::from_str(&text).unwrap();
    let rows = value["categories"][8]["minors"][0]["responsibilities"]
        .as_array()
        .unwrap();
    assert_eq!(rows[0]["regions"], json!("*"));
    assert!(rows[0].get("department").is_none());
    assert!(rows.iter().any(|r| r["regions"] == json!(["140702"])));
}

#[test]
fn tiers_and_urgencies() {
    assert!(Tier::Grid < Tier::Village && Tier::County < Tier::City);
    assert_eq!(Tier::Grid.next_up(), Some(Tier::Village));
    assert_eq!(Tier::County.next_up(), Some(Tier::City));
    assert_eq!(Tier::City.next_up(), None);
    assert_eq!(Tier::Township.label(), "乡镇（街道）");
    assert_eq!("county".parse::<Tier>().unwrap(), Tier::County);
    assert_eq!("村（社区）".parse::<Tier>().unwrap(), Tier::Village);
    assert!("town".parse::<Tier>().is_err());
    assert_eq!(
        serde_json::to_string(&Tier::Township).unwrap(),
        "\"township\""
    );

    assert_eq!(Urgency::default(), Urgency::Normal);
    assert_eq!(Urgency::Critical.label(), "特急");
    assert_eq!("urgent".parse::<Urgency>().unwrap(), Urgency::Urgent);
    assert_eq!("特急".parse::<Urgency>().unwrap(), Urgency::Critical);
    assert_eq!(
        "asap".parse::<Urgency>().unwrap_err(),
        TaxonomyError::UnknownUrgency {
            text: "asap".to_owned()
        }
    );
    assert_eq!(
        serde_json::to_string(&Urgency::Urgent).unwrap(),
        "\"urgent\""
    );

    let taxonomy = Taxonomy::shipped();
    let (_, minor) = taxonomy.minor("0801").unwrap();
    assert_eq!(
        minor.time_limits.get(Urgency::Normal),
        minor.time_limits.normal
    );
    assert_eq!(
        minor.time_limits.get(Urgency::Critical),
        TimeLimit {
            amount: 24,
            unit: LimitUnit::CalendarHours
        }
    );
}
