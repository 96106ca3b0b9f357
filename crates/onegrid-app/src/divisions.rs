//! Importing division codes (行政区划代码) from CSV, keeping history.
//!
//! Two layouts are read: the china-division package's files (`provinces.csv`, `cities.csv`,
//! `areas.csv`, `streets.csv`, `villages.csv`, recognised by their headers) and a plain
//! `code,name,parent_code,level` file. Several files form one import, applied in one
//! transaction: all of it or nothing, with every bad line named by file, line and field.
//!
//! History: a stored code is retired (given `valid_to`) when the import lists codes of its
//! level under its parent but not it — the import then speaks for that parent's children —
//! and everything below a retired code that the import does not list again is retired with it.
//! A retired code's successor is the new sibling whose name has the same stem (太谷县 140726 →
//! 太谷区 140703). A code whose name or parent changes keeps its earlier version in history.

use std::collections::{BTreeMap, HashMap, HashSet};

use onegrid_domain::region::name_stem;
use onegrid_domain::{Level, RegionCode};
use onegrid_store::{DivisionChange, DivisionSummary, RegionUpsert, Retirement};

use crate::{App, AppError, AppResult, Problem};

/// One CSV file of an import.
#[derive(Debug, Clone)]
pub struct DivisionFile {
    /// Shown in error locations.
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `code,name,parent_code,level`
    Plain,
    /// A china-division file: every row is of `level`, its parent in column `parent_field`.
    ChinaDivision {
        level: Level,
        parent_field: Option<&'static str>,
    },
}

fn detect_layout(headers: &[String]) -> Option<Layout> {
    let has = |name: &str| headers.iter().any(|h| h == name);
    if has("code") && has("name") && has("parent_code") && has("level") {
        return Some(Layout::Plain);
    }
    if !(has("code") && has("name")) {
        return None;
    }
    let (level, parent_field) = if has("streetcode") {
        (Level::Village, Some("streetcode"))
    } else if has("areacode") {
        (Level::Township, Some("areacode"))
    } else if has("citycode") {
        (Level::County, Some("citycode"))
    } else if has("provincecode") {
        (Level::City, Some("provincecode"))
    } else if headers.len() == 2 {
        (Level::Province, None)
    } else {
        return None;
    };
    Some(Layout::ChinaDivision {
        level,
        parent_field,
    })
}

/// One parsed row, remembered with where it came from.
#[derive(Debug, Clone)]
struct Row {
    code: RegionCode,
    name: String,
    parent: Option<RegionCode>,
    location: String,
}

fn parse_file(file: &DivisionFile, rows: &mut Vec<Row>, problems: &mut Vec<Problem>) {
    let text = file.text.strip_prefix('\u{feff}').unwrap_or(&file.text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
        Err(error) => {
            problems.push(Problem {
                location: format!("{}, line 1", file.name),
                message: format!("cannot read the header: {error}"),
            });
            return;
        }
    };
    let Some(layout) = detect_layout(&headers) else {
        problems.push(Problem {
            location: format!("{}, line 1", file.name),
            message: format!(
                "unknown header '{}': expected code,name,parent_code,level or a china-division \
                 layout (code,name[,provinceCode|cityCode|areaCode|streetCode…])",
                headers.join(",")
            ),
        });
        return;
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                problems.push(Problem {
                    location: format!("{}, line {line}", file.name),
                    message: error.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let at = |field: &str| format!("{}, line {line}, field {field}", file.name);
        let get = |name: &str| column(name).and_then(|i| record.get(i)).unwrap_or("");
        let level = match layout {
            Layout::Plain => match get("level").parse::<Level>() {
                Ok(level) => level,
                Err(error) => {
                    problems.push(Problem {
                        location: at("level"),
                        message: error.to_string(),
                    });
                    continue;
                }
            },
            Layout::ChinaDivision { level, .. } => level,
        };
        if level == Level::Grid {
            problems.push(Problem {
                location: at("level"),
                message: "grids come with their polygons: use `onegrid import areas --level grid`"
                    .to_owned(),
            });
            continue;
        }
        let code = match RegionCode::parse_at(level, get("code")) {
            Ok(code) => code,
            Err(error) => {
                problems.push(Problem {
                    location: at("code"),
                    message: error.to_string(),
                });
                continue;
            }
        };
        let name = get("name").to_owned();
        if name.is_empty() {
            problems.push(Problem {
                location: at("name"),
                message: "the name is empty".to_owned(),
            });
            continue;
        }
        let (parent_field, parent_text) = match layout {
            Layout::Plain => ("parent_code", get("parent_code")),
            Layout::ChinaDivision { parent_field, .. } => {
                parent_field.map_or(("", ""), |field| (field, get(field)))
            }
        };
        let parent = match (level.parent(), parent_text.is_empty()) {
            (None, true) => None,
            (None, false) => {
                problems.push(Problem {
                    location: at(parent_field),
                    message: "a province has no parent".to_owned(),
                });
                continue;
            }
            (Some(_), true) => {
                problems.push(Problem {
                    location: at(if parent_field.is_empty() {
                        "parent_code"
                    } else {
                        parent_field
                    }),
                    message: format!("a {level} needs its parent's code"),
                });
                continue;
            }
            (Some(parent_level), false) => match RegionCode::parse_at(parent_level, parent_text) {
                Ok(parent) => Some(parent),
                Err(error) => {
                    problems.push(Problem {
                        location: at(parent_field),
                        message: error.to_string(),
                    });
                    continue;
                }
            },
        };
        if let (Some(parent), Some(expected)) = (&parent, code.parent())
            && parent.as_str() != expected.as_str()
        {
            problems.push(Problem {
                location: at(parent_field),
                message: format!(
                    "parent {parent} does not match the code {code}, whose digits say {expected}"
                ),
            });
            continue;
        }
        rows.push(Row {
            code,
            name,
            parent,
            location: format!("{}, line {line}", file.name),
        });
    }
}

/// What an import would do, before it is applied.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DivisionReport {
    pub rows: usize,
    /// County-level rows that carry their city's own code (东莞市 441900 under 4419) and are
    /// merged into the city.
    pub merged_into_city: usize,
    pub summary: DivisionSummary,
    /// `(retired code, successor)`
    pub retired: Vec<(String, Option<String>)>,
}

impl App {
    /// Imports division files in one transaction, or changes nothing and names every problem.
    pub async fn import_divisions(&self, files: &[DivisionFile]) -> AppResult<DivisionReport> {
        let mut rows = Vec::new();
        let mut problems = Vec::new();
        for file in files {
            parse_file(file, &mut rows, &mut problems);
        }
        let atlas = self.atlas();
        // County-level units coded like their prefecture (不设区的地级市) are the city itself.
        let mut merged = 0;
        rows.retain(|row| {
            let same_as_parent = row.code.level() == Level::County
                && row.parent.as_ref().map(|p| p.as_str()) == Some(row.code.as_str());
            merged += usize::from(same_as_parent);
            !same_as_parent
        });
        let mut by_code: BTreeMap<String, &Row> = BTreeMap::new();
        for row in &rows {
            if let Some(first) = by_code.get(row.code.as_str()) {
                if first.name != row.name || first.parent != row.parent {
                    problems.push(Problem {
                        location: format!("{}, field code", row.location),
                        message: format!(
                            "code {} appears again with other values (first at {})",
                            row.code, first.location
                        ),
                    });
                }
                continue;
            }
            by_code.insert(row.code.to_string(), row);
        }
        for row in by_code.values() {
            let Some(parent) = &row.parent else { continue };
            let known = by_code.contains_key(parent.as_str())
                || atlas
                    .region(parent.as_str())
                    .is_some_and(|r| r.is_current());
            if !known {
                problems.push(Problem {
                    location: format!("{}, field parent", row.location),
                    message: format!(
                        "parent {parent} of {} is neither in this import nor stored",
                        row.code
                    ),
                });
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid {
                message: format!(
                    "the division import has {} problem(s); nothing was stored",
                    problems.len()
                ),
                problems,
            });
        }

        // Which (parent, level) groups this import speaks for.
        let covered: HashSet<(Option<String>, Level)> = by_code
            .values()
            .map(|row| {
                (
                    row.parent.as_ref().map(ToString::to_string),
                    row.code.level(),
                )
            })
            .collect();
        let mut retired: Vec<Retirement> = Vec::new();
        let mut retired_codes: HashSet<String> = HashSet::new();
        let mut successors: HashMap<String, Option<String>> = HashMap::new();
        // Parents before children, so that a retired parent's descendants follow it.
        let mut stored: Vec<_> = atlas
            .all_regions()
            .filter(|region| region.is_current() && region.level() != Level::Grid)
            .collect();
        stored.sort_by_key(|region| (region.level(), region.code.to_string()));
        let new_by_group: HashMap<(Option<String>, Level), Vec<&Row>> =
            by_code.values().fold(HashMap::new(), |mut groups, row| {
                if atlas.region(row.code.as_str()).is_none() {
                    groups
                        .entry((
                            row.parent.as_ref().map(ToString::to_string),
                            row.code.level(),
                        ))
                        .or_default()
                        .push(*row);
                }
                groups
            });
        for region in stored {
            if by_code.contains_key(region.code.as_str()) {
                continue;
            }
            let parent = region.parent.as_ref().map(ToString::to_string);
            let group = (parent.clone(), region.level());
            let parent_retired = parent.as_ref().is_some_and(|p| retired_codes.contains(p));
            if !covered.contains(&group) && !parent_retired {
                continue;
            }
            // Below a retired parent, the successor is sought under the parent's successor.
            let search_group = match parent.as_ref().and_then(|p| successors.get(p)) {
                Some(Some(parent_successor)) => (Some(parent_successor.clone()), region.level()),
                _ => group,
            };
            let stem = name_stem(&region.name);
            let candidates: Vec<&&Row> = new_by_group
                .get(&search_group)
                .into_iter()
                .flatten()
                .filter(|row| name_stem(&row.name) == stem)
                .collect();
            let successor = match candidates.as_slice() {
                [only] => Some(only.code.clone()),
                _ => None,
            };
            retired_codes.insert(region.code.to_string());
            successors.insert(
                region.code.to_string(),
                successor.as_ref().map(ToString::to_string),
            );
            retired.push(Retirement {
                code: region.code.clone(),
                successor,
            });
        }
        let report_retired = retired
            .iter()
            .map(|r| {
                (
                    r.code.to_string(),
                    r.successor.as_ref().map(ToString::to_string),
                )
            })
            .collect();
        let change = DivisionChange {
            upserts: by_code
                .values()
                .map(|row| RegionUpsert {
                    code: row.code.clone(),
                    name: row.name.clone(),
                    parent: row.parent.clone(),
                })
                .collect(),
            retirements: retired,
            at: None,
        };
        let row_count = by_code.len();
        let summary = self.store().apply_divisions(change).await?;
        self.reload_atlas().await?;
        Ok(DivisionReport {
            rows: row_count,
            merged_into_city: merged,
            summary,
            retired: report_retired,
        })
    }
}
