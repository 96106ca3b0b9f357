//! The case taxonomy (事件分类：大类/小类) and the responsibility matrix (权责清单), kept as data.
//!
//! The structure follows GB/T 30428.2: every 小类 carries its 立案条件, 结案条件 and 处置时限.
//! On top of that each 小类 carries its row of the 权责清单 (who leads, who assists, where) and
//! the keywords used to suggest a category from a free-text description. The content is a city's
//! editable data (`data/taxonomy/categories.json`); this module only reads and checks it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::calendar::{LimitUnit, TimeLimit};
use crate::region::Level;

/// The shipped taxonomy, compiled into the binary so that a fresh install has categories.
const SHIPPED_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/taxonomy/categories.json"
));

/// The tier of the unit that handles a case. Ordered from the bottom: `Grid < … < City`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 网格
    Grid,
    /// 村（社区）
    Village,
    /// 乡镇（街道）
    Township,
    /// 县（区、市）
    County,
    /// 市
    City,
}

impl Tier {
    /// Every tier, from the bottom up.
    pub const ALL: [Tier; 5] = [
        Tier::Grid,
        Tier::Village,
        Tier::Township,
        Tier::County,
        Tier::City,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Grid => "grid",
            Tier::Village => "village",
            Tier::Township => "township",
            Tier::County => "county",
            Tier::City => "city",
        }
    }

    /// The Chinese name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Grid => "网格",
            Tier::Village => "村（社区）",
            Tier::Township => "乡镇（街道）",
            Tier::County => "县（区、市）",
            Tier::City => "市",
        }
    }

    /// The tier a case escalates to (上报), `None` at the city: the platform ends there.
    pub fn next_up(self) -> Option<Tier> {
        match self {
            Tier::Grid => Some(Tier::Village),
            Tier::Village => Some(Tier::Township),
            Tier::Township => Some(Tier::County),
            Tier::County => Some(Tier::City),
            Tier::City => None,
        }
    }

    /// The level of the area whose unit works at this tier.
    pub fn level(self) -> Level {
        match self {
            Tier::Grid => Level::Grid,
            Tier::Village => Level::Village,
            Tier::Township => Level::Township,
            Tier::County => Level::County,
            Tier::City => Level::City,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = TaxonomyError;

    /// Accepts the serde name (`township`) or the Chinese label (`乡镇（街道）`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Tier::ALL
            .into_iter()
            .find(|tier| tier.as_str().eq_ignore_ascii_case(text) || tier.label() == text)
            .ok_or_else(|| TaxonomyError::UnknownTier {
                text: text.to_owned(),
            })
    }
}

/// How urgent a case is (紧急程度); picks which of a 小类's time limits applies.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 一般
    #[default]
    Normal,
    /// 紧急
    Urgent,
    /// 特急
    Critical,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Urgency::Normal, Urgency::Urgent, Urgency::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::Critical => "critical",
        }
    }

    /// The Chinese name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Urgency::Normal => "一般",
            Urgency::Urgent => "紧急",
            Urgency::Critical => "特急",
        }
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Urgency {
    type Err = TaxonomyError;

    /// Accepts the serde name (`urgent`) or the Chinese label (`紧急`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Urgency::ALL
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(text) || u.label() == text)
            .ok_or_else(|| TaxonomyError::UnknownUrgency {
                text: text.to_owned(),
            })
    }
}

/// Why a unit is responsible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// 属地: the grid, village committee or township/street government where the case is.
    Territorial,
    /// 属主（行业）: a line department, e.g. 人社局.
    Departmental,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::Territorial => "属地",
            Basis::Departmental => "属主",
        }
    }
}

/// The part a unit plays in handling a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponsibilityRole {
    /// 主办: answers for the result and the time limit.
    Lead,
    /// 协办: helps the lead unit.
    Assist,
}

impl ResponsibilityRole {
    pub fn label(self) -> &'static str {
        match self {
            ResponsibilityRole::Lead => "主办",
            ResponsibilityRole::Assist => "协办",
        }
    }
}

/// Where a row of the responsibility matrix applies: `"*"` in JSON, or a list of region-code
/// prefixes (`["140702"]` = 榆次区 and everything in it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RegionMatch {
    All,
    Prefixes(Vec<String>),
}

impl RegionMatch {
    /// How specifically this matches a place given as its chain of region codes: `None` when it
    /// does not apply, `Some(0)` for `All`, else the length of the longest prefix that starts
    /// one of the codes (so a township-level row beats a county-level one).
    pub fn specificity(&self, region_chain: &[&str]) -> Option<usize> {
        match self {
            RegionMatch::All => Some(0),
            RegionMatch::Prefixes(prefixes) => prefixes
                .iter()
                .filter(|prefix| !prefix.is_empty())
                .filter(|prefix| {
                    region_chain
                        .iter()
                        .any(|code| code.starts_with(prefix.as_str()))
                })
                .map(String::len)
                .max(),
        }
    }

    /// Whether this row applies to the place.
    pub fn applies(&self, region_chain: &[&str]) -> bool {
        self.specificity(region_chain).is_some()
    }
}

impl Serialize for RegionMatch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RegionMatch::All => serializer.serialize_str("*"),
            RegionMatch::Prefixes(prefixes) => prefixes.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RegionMatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            List(Vec<String>),
        }
        match Raw::deserialize(deserializer) {
            Ok(Raw::Text(text)) if text == "*" => Ok(RegionMatch::All),
            Ok(Raw::Text(text)) => Err(serde::de::Error::custom(format!(
                "regions must be \"*\" or a list of region-code prefixes, not the string '{text}'"
            ))),
            Ok(Raw::List(prefixes)) => Ok(RegionMatch::Prefixes(prefixes)),
            // The untagged error says only "did not match any variant"; say what is expected.
            Err(_) => Err(serde::de::Error::custom(
                "regions must be \"*\" or a list of region-code prefixes",
            )),
        }
    }
}

/// One row of the responsibility matrix (权责清单) for a 小类.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Responsibility {
    pub regions: RegionMatch,
    pub role: ResponsibilityRole,
    pub basis: Basis,
    /// The department kind (`人社局`) of a departmental row; `None` for a territorial row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The tier of the responsible unit.
    pub tier: Tier,
}

/// The 处置时限 of a 小类, one per urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimits {
    pub normal: TimeLimit,
    pub urgent: TimeLimit,
    pub critical: TimeLimit,
}

impl TimeLimits {
    pub fn get(&self, urgency: Urgency) -> TimeLimit {
        match urgency {
            Urgency::Normal => self.normal,
            Urgency::Urgent => self.urgent,
            Urgency::Critical => self.critical,
        }
    }
}

/// A 小类 (4-digit code beginning with its 大类's code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinorCategory {
    pub code: String,
    pub name: String,
    /// 立案条件
    pub register_condition: String,
    /// 结案条件
    pub close_condition: String,
    pub time_limits: TimeLimits,
    /// The lowest tier that can handle such a case.
    pub default_tier: Tier,
    /// Words that, found in a description, suggest this 小类.
    pub keywords: Vec<String>,
    /// This 小类's row of the 权责清单.
    pub responsibilities: Vec<Responsibility>,
}

/// A 大类 (2-digit code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MajorCategory {
    pub code: String,
    pub name: String,
    pub minors: Vec<MinorCategory>,
}

/// A kind of line department (`人社局`) and the tiers at which a unit of it exists, so that the
/// app can generate each place's units (榆次区人社局, 晋中市人社局 …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub kind: String,
    /// The full Chinese name (`人力资源和社会保障局`).
    pub name: String,
    pub tiers: Vec<Tier>,
}

/// A whole taxonomy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    pub version: String,
    pub name: String,
    pub departments: Vec<Department>,
    pub categories: Vec<MajorCategory>,
}

/// A 小类 suggested for a description; `score` is the summed length (in characters) of the
/// keywords found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub code: String,
    pub name: String,
    pub score: u32,
}

/// What is wrong with a taxonomy document or a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy JSON is not valid at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("taxonomy has {count} problem(s): {joined}", count = problems.len(), joined = problems.join("; "))]
    Invalid { problems: Vec<String> },
    #[error("tier '{text}' is unknown; use grid, village, township, county or city")]
    UnknownTier { text: String },
    #[error("urgency '{text}' is unknown; use normal (一般), urgent (紧急) or critical (特急)")]
    UnknownUrgency { text: String },
}

impl Taxonomy {
    /// Parses and validates a taxonomy document. A JSON or shape error stops at the first
    /// error (serde cannot go on); validation then reports every problem, each with its path.
    pub fn parse_json(text: &str) -> Result<Taxonomy, TaxonomyError> {
        let taxonomy: Taxonomy = serde_json::from_str(text).map_err(|err| {
            // serde_json's message ends with " at line L column C"; the variant carries both.
            let full = err.to_string();
            let suffix = format!(" at line {} column {}", err.line(), err.column());
            let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
            TaxonomyError::Json {
                line: err.line(),
                column: err.column(),
                message,
            }
        })?;
        let problems = taxonomy.problems();
        if problems.is_empty() {
            Ok(taxonomy)
        } else {
            Err(TaxonomyError::Invalid { problems })
        }
    }

    /// The taxonomy shipped in `data/taxonomy/categories.json`.
    pub fn shipped() -> Taxonomy {
        // The shipped file is parsed and validated by tests/taxonomy.rs, so a build whose tests
        // pass cannot fail here.
        Taxonomy::parse_json(SHIPPED_JSON)
            .expect("data/taxonomy/categories.json is valid (checked by tests/taxonomy.rs)")
    }

    /// The 大类 with this code.
    pub fn major(&self, code: &str) -> Option<&MajorCategory> {
        self.categories.iter().find(|major| major.code == code)
    }

    /// The 小类 with this code and its 大类.
    pub fn minor(&self, code: &str) -> Option<(&MajorCategory, &MinorCategory)> {
        self.minors().find(|(_, minor)| minor.code == code)
    }

    /// Every 小类 with its 大类, in document order.
    pub fn minors(&self) -> impl Iterator<Item = (&MajorCategory, &MinorCategory)> {
        self.categories
            .iter()
            .flat_map(|major| major.minors.iter().map(move |minor| (major, minor)))
    }

    /// The department kind named `kind`.
    pub fn department(&self, kind: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.kind == kind)
    }

    /// Up to 3 小类 for a free-text description, best first. A 小类 scores the summed length in
    /// characters of its keywords (and its name, when not already a keyword) found in the text,
    /// so longer, more telling keywords weigh more. Plain substring matching: Chinese text needs
    /// no segmentation for this. Ties keep document order; 小类 with no hit are left out.
    pub fn suggest(&self, description: &str) -> Vec<Suggestion> {
        let description = description.trim();
        if description.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<Suggestion> = self
            .minors()
            .filter_map(|(_, minor)| {
                let name_is_keyword = minor.keywords.iter().any(|k| k == &minor.name);
                let words = minor
                    .keywords
                    .iter()
                    .map(String::as_str)
                    .chain((!name_is_keyword).then_some(minor.name.as_str()));
                let score = words
                    .filter(|word| !word.trim().is_empty() && description.contains(*word))
                    .map(|word| u32::try_from(word.chars().count()).unwrap_or(u32::MAX))
                    .fold(0u32, u32::saturating_add);
                (score > 0).then(|| Suggestion {
                    code: minor.code.clone(),
                    name: minor.name.clone(),
                    score,
                })
            })
            .collect();
        // A stable sort keeps document order among equal scores.
        found.sort_by_key(|s| std::cmp::Reverse(s.score));
        found.truncate(3);
        found
    }

    /// The rows of the 权责清单 of 小类 `minor_code` that apply to a place, leads first.
    ///
    /// `region_chain` is the case's region codes from its grid up to its province (any order
    /// works). The rule:
    /// - a row with `"*"` applies everywhere; a row with prefixes applies when any code of the
    ///   chain starts with one of them;
    /// - leads: only the most specific applying leads are kept — a region-specific lead
    ///   replaces the `"*"` lead, and among region-specific leads the one with the longest
    ///   matching prefix wins (equally specific leads are all kept: a joint lead, 联合主办);
    /// - assists accumulate, `"*"` and region-specific alike, in document order; an assist for
    ///   the same unit (basis, department, tier) as a row already returned is dropped.
    ///
    /// An unknown code gives an empty list.
    pub fn responsibilities_for(
        &self,
        minor_code: &str,
        region_chain: &[&str],
    ) -> Vec<&Responsibility> {
        let Some((_, minor)) = self.minor(minor_code) else {
            return Vec::new();
        };
        let applying: Vec<(usize, &Responsibility)> = minor
            .responsibilities
            .iter()
            .filter_map(|row| row.regions.specificity(region_chain).map(|s| (s, row)))
            .collect();
        let best_lead = applying
            .iter()
            .filter(|(_, row)| row.role == ResponsibilityRole::Lead)
            .map(|(s, _)| *s)
            .max();
        let mut out: Vec<&Responsibility> = applying
            .iter()
            .filter(|(s, row)| row.role == ResponsibilityRole::Lead && Some(*s) == best_lead)
            .map(|(_, row)| *row)
            .collect();
        for (_, row) in applying
            .iter()
            .filter(|(_, row)| row.role == ResponsibilityRole::Assist)
        {
            let same_unit = |other: &&Responsibility| {
                other.basis == row.basis
                    && other.department == row.department
                    && other.tier == row.tier
            };
            if !out.iter().any(same_unit) {
                out.push(row);
            }
        }
        out
    }

    /// Every problem of the document, each prefixed with its path
    /// (`categories[7].minors[0].code: …`); empty when the taxonomy is usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.version.trim().is_empty() {
            problems.push("version: must not be empty".to_owned());
        }
        if self.name.trim().is_empty() {
            problems.push("name: must not be empty".to_owned());
        }
        self.check_departments(&mut problems);
        if self.categories.is_empty() {
            problems.push("categories: no 大类 at all".to_owned());
        }
        let mut major_codes: HashMap<&str, usize> = HashMap::new();
        let mut major_names: HashMap<&str, usize> = HashMap::new();
        let mut minor_codes: HashMap<&str, (usize, usize)> = HashMap::new();
        for (i, major) in self.categories.iter().enumerate() {
            let path = format!("categories[{i}]");
            let major_code_ok = is_digits(&major.code, 2);
            if !major_code_ok {
                problems.push(format!("{path}.code: '{}' is not 2 digits", major.code));
            } else if let Some(first) = major_codes.insert(&major.code, i) {
                // Keep the first holder so that a third duplicate names the first too.
                major_codes.insert(&self.categories[first].code, first);
                problems.push(format!(
                    "{path}.code: code {} is also used by categories[{first}]",
                    major.code
                ));
            }
            if major.name.trim().is_empty() {
                problems.push(format!("{path}.name: must not be empty"));
            } else if let Some(first) = major_names.insert(major.name.trim(), i) {
                major_names.insert(self.categories[first].name.trim(), first);
                problems.push(format!(
                    "{path}.name: 大类 name '{}' is also used by categories[{first}]",
                    major.name
                ));
            }
            if major.minors.is_empty() {
                problems.push(format!("{path}.minors: 大类 {} has no 小类", major.code));
            }
            for (j, minor) in major.minors.iter().enumerate() {
                let path = format!("{path}.minors[{j}]");
                if !is_digits(&minor.code, 4) {
                    problems.push(format!("{path}.code: '{}' is not 4 digits", minor.code));
                } else {
                    if major_code_ok && !minor.code.starts_with(major.code.as_str()) {
                        problems.push(format!(
                            "{path}.code: code {} does not start with its 大类 code {}",
                            minor.code, major.code
                        ));
                    }
                    if let Some((fi, fj)) = minor_codes.insert(&minor.code, (i, j)) {
                        minor_codes.insert(&self.categories[fi].minors[fj].code, (fi, fj));
                        problems.push(format!(
                            "{path}.code: code {} is also used by categories[{fi}].minors[{fj}]",
                            minor.code
                        ));
                    }
                }
                self.check_minor(minor, &path, &mut problems);
            }
        }
        problems
    }

    fn check_departments(&self, problems: &mut Vec<String>) {
        let mut kinds: HashMap<&str, usize> = HashMap::new();
        for (i, department) in self.departments.iter().enumerate() {
            let path = format!("departments[{i}]");
            if department.kind.trim().is_empty() {
                problems.push(format!("{path}.kind: must not be empty"));
            } else if let Some(first) = kinds.insert(&department.kind, i) {
                kinds.insert(&self.departments[first].kind, first);
                problems.push(format!(
                    "{path}.kind: '{}' is also the kind of departments[{first}]",
                    department.kind
                ));
            }
            if department.name.trim().is_empty() {
                problems.push(format!("{path}.name: must not be empty"));
            }
            if department.tiers.is_empty() {
                problems.push(format!(
                    "{path}.tiers: {} exists at no tier",
                    department.kind
                ));
            }
            for (k, tier) in department.tiers.iter().enumerate() {
                if department.tiers[..k].contains(tier) {
                    problems.push(format!("{path}.tiers[{k}]: {tier} is listed twice"));
                }
            }
        }
    }

    fn check_minor(&self, minor: &MinorCategory, path: &str, problems: &mut Vec<String>) {
        for (field, value) in [
            ("name", &minor.name),
            ("register_condition", &minor.register_condition),
            ("close_condition", &minor.close_condition),
        ] {
            if value.trim().is_empty() {
                problems.push(format!("{path}.{field}: must not be empty"));
            }
        }
        check_time_limits(&minor.time_limits, &format!("{path}.time_limits"), problems);
        for (k, keyword) in minor.keywords.iter().enumerate() {
            if keyword.trim().is_empty() {
                problems.push(format!("{path}.keywords[{k}]: must not be empty"));
            } else if minor.keywords[..k].contains(keyword) {
                problems.push(format!("{path}.keywords[{k}]: '{keyword}' is listed twice"));
            }
        }
        let leads_everywhere: Vec<usize> = minor
            .responsibilities
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                row.role == ResponsibilityRole::Lead && row.regions == RegionMatch::All
            })
            .map(|(k, _)| k)
            .collect();
        match leads_everywhere.as_slice() {
            [_] => {}
            [] => problems.push(format!(
                "{path}.responsibilities: no lead row for all regions (\"*\"); every 小类 needs exactly one"
            )),
            many => problems.push(format!(
                "{path}.responsibilities: {} lead rows for all regions (\"*\") ({}); keep exactly one",
                many.len(),
                many.iter()
                    .map(|k| format!("responsibilities[{k}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        for (k, row) in minor.responsibilities.iter().enumerate() {
            self.check_row(row, &format!("{path}.responsibilities[{k}]"), problems);
        }
    }

    fn check_row(&self, row: &Responsibility, path: &str, problems: &mut Vec<String>) {
        if let RegionMatch::Prefixes(prefixes) = &row.regions {
            if prefixes.is_empty() {
                problems.push(format!(
                    "{path}.regions: empty list; use \"*\" or at least one region-code prefix"
                ));
            }
            for (p, prefix) in prefixes.iter().enumerate() {
                if !prefix.bytes().all(|b| b.is_ascii_digit())
                    || ![2, 4, 6, 9, 12, 15].contains(&prefix.len())
                {
                    problems.push(format!(
                        "{path}.regions[{p}]: '{prefix}' is not a region-code prefix (2, 4, 6, 9, 12 or 15 digits)"
                    ));
                }
            }
        }
        match (row.basis, &row.department) {
            (Basis::Territorial, None) => {}
            (Basis::Territorial, Some(kind)) => problems.push(format!(
                "{path}.department: a territorial row names no department (found '{kind}'); use basis departmental"
            )),
            (Basis::Departmental, None) => problems.push(format!(
                "{path}.department: a departmental row needs a department"
            )),
            (Basis::Departmental, Some(kind)) => match self.department(kind) {
                None => problems.push(format!(
                    "{path}.department: '{kind}' is not a kind listed in departments"
                )),
                Some(department) if !department.tiers.contains(&row.tier) => {
                    problems.push(format!(
                        "{path}.tier: {kind} does not exist at tier {} (it exists at {})",
                        row.tier,
                        department
                            .tiers
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                Some(_) => {}
            },
        }
    }
}

fn check_time_limits(limits: &TimeLimits, path: &str, problems: &mut Vec<String>) {
    for urgency in Urgency::ALL {
        if limits.get(urgency).amount == 0 {
            problems.push(format!("{path}.{urgency}: amount must be at least 1"));
        }
    }
    if limits.critical.unit == LimitUnit::WorkingDays {
        problems.push(format!(
            "{path}.critical: {} is counted in working days; a 特急 limit is counted in working_hours or calendar_hours",
            limits.critical
        ));
    }
    for (shorter, longer) in [
        (Urgency::Urgent, Urgency::Normal),
        (Urgency::Critical, Urgency::Urgent),
    ] {
        let (a, b) = (limits.get(shorter), limits.get(longer));
        if nominal_hours(a) >= nominal_hours(b) {
            problems.push(format!(
                "{path}.{shorter}: {a} is not shorter than the {longer} limit {b}"
            ));
        }
    }
}

/// A limit's length in nominal elapsed hours, only to compare limits of different units: a
/// working day counts 8 working hours and spans a 24-hour day, so a working hour counts 3.
fn nominal_hours(limit: TimeLimit) -> u64 {
    let amount = u64::from(limit.amount);
    match limit.unit {
        LimitUnit::WorkingHours => amount * 3,
        LimitUnit::WorkingDays => amount * 24,
        LimitUnit::CalendarHours => amount,
    }
}

fn is_digits(code: &str, len: usize) -> bool {
    code.len() == len && code.bytes().all(|b| b.is_ascii_digit())
}
