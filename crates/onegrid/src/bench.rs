//! `onegrid bench`: the product's speed, measured the same way every time. Results go to
//! standard output as JSON; docs/benchmarks.md records each run.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;
use onegrid_app::App;
use onegrid_domain::Level;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Point → grid lookups on one core over the stored grids (run `onegrid demo` first).
    Locate {
        /// How many random points inside the grids' bounding box.
        #[arg(long, default_value_t = 1_000_000)]
        points: usize,
        /// Seed of the point generator, so runs can be repeated.
        #[arg(long, default_value_t = 20261129)]
        seed: u64,
        /// Also write the points (points.csv) and the grids (grids.geojson) here, for the
        /// side-by-side comparison scripts in bench/.
        #[arg(long)]
        export_dir: Option<PathBuf>,
    },
    /// Import a lattice of grid polygons (default 100 × 100) into a fresh store in a temporary
    /// directory, timing the whole import: parse, checks, overlaps, gaps, write, index.
    ImportAreas {
        /// Grids per side of the lattice.
        #[arg(long, default_value_t = 100)]
        side: usize,
    },
    /// Write points that lie inside the stored grids as `lon,lat,county` CSV (the report
    /// places of bench/intake.lua). Run `onegrid demo` first.
    Points {
        /// How many points.
        #[arg(long, default_value_t = 5_000)]
        count: usize,
        #[arg(long, default_value_t = 20261129)]
        seed: u64,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// A fixed-rate mixed load against a running server (loopback only): reads (one case, a
    /// county's list) and writes (report a case, accept one), each request scheduled on a
    /// fixed timetable and timed from its scheduled start, so a stalled server is not hidden
    /// (no coordinated omission). Raw HTTP/1.1 over keep-alive connections.
    Mixed {
        /// The server, e.g. http://127.0.0.1:8080 (loopback addresses only).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Requests per second.
        #[arg(long, default_value_t = 500)]
        rate: u32,
        /// How long to hold the rate.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Share of reads in percent (half one case, half a county's list); the rest are
        /// writes (two thirds new cases, one third `accept` on a case just reported).
        #[arg(long, default_value_t = 70)]
        read_percent: u32,
        /// At most this many connections open at once.
        #[arg(long, default_value_t = 256)]
        max_connections: usize,
        /// Give up on one request after this many seconds (counted as an error).
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        #[arg(long, default_value_t = 20261129)]
        seed: u64,
    },
    /// Fill a fresh store with `count` full-process records spread over the 11 counties of
    /// 晋中市 (through `Store::append_records` in batches), then time `verify_records`.
    Records {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Records per `append_records` call.
        #[arg(long, default_value_t = 20_000)]
        batch: usize,
        /// Write a checkpoint of the chain heads after every this many records.
        #[arg(long, default_value_t = 100_000)]
        checkpoint_every: u64,
        /// Build the store here and keep it (must not hold a store yet), so that
        /// `onegrid --data DIR audit verify` can be timed as a whole process afterwards;
        /// without it a temporary directory is used and removed.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// A small deterministic generator (SplitMix64) so that every run asks the same points.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub async fn run(app: &App, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Locate {
            points,
            seed,
            export_dir,
        } => locate(app, points, seed, export_dir).await,
        BenchCommand::ImportAreas { side } => import_areas(side).await,
        BenchCommand::Points { count, seed, out } => points(app, count, seed, &out),
        BenchCommand::Mixed {
            url,
            rate,
            seconds,
            read_percent,
            max_connections,
            timeout,
            seed,
        } => {
            mixed::run(mixed::Options {
                url,
                rate,
                seconds,
                read_percent: read_percent.min(100),
                max_connections: max_connections.max(1),
                timeout: std::time::Duration::from_secs(timeout.max(1)),
                seed,
            })
            .await
        }
        BenchCommand::Records {
            count,
            batch,
            checkpoint_every,
            dir,
        } => records(count, batch.max(1), checkpoint_every, dir).await,
    }
}

async fn locate(
    app: &App,
    count: usize,
    seed: u64,
    export_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let grids = app.store().areas(Level::Grid).await?;
    if grids.is_empty() {
        anyhow::bail!("no grids stored: run `onegrid demo` (or import grids) first");
    }
    let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for grid in &grids {
        bbox[0] = bbox[0].min(grid.bbox[0]);
        bbox[1] = bbox[1].min(grid.bbox[1]);
        bbox[2] = bbox[2].max(grid.bbox[2]);
        bbox[3] = bbox[3].max(grid.bbox[3]);
    }
    let mut random = SplitMix(seed);
    let points: Vec<(f64, f64)> = (0..count)
        .map(|_| {
            (
                bbox[0] + random.next_f64() * (bbox[2] - bbox[0]),
                bbox[1] + random.next_f64() * (bbox[3] - bbox[1]),
            )
        })
        .collect();
    if let Some(dir) = &export_dir {
        std::fs::create_dir_all(dir)?;
        let mut text = String::with_capacity(count * 40);
        text.push_str("lon,lat\n");
        for (lon, lat) in &points {
            text.push_str(&format!("{lon},{lat}\n"));
        }
        std::fs::write(dir.join("points.csv"), text)?;
        std::fs::write(
            dir.join("grids.geojson"),
            app.export_areas(Level::Grid).await?,
        )?;
    }
    let atlas = app.atlas();
    let index = atlas.index();
    // One warm-up pass, then timed passes until at least a second has gone by.
    let mut found = points
        .iter()
        .filter(|(lon, lat)| index.locate(*lon, *lat).is_some())
        .count();
    let started = Instant::now();
    let mut lookups = 0usize;
    let mut grid_hits = 0usize;
    while started.elapsed().as_secs_f64() < 1.0 {
        grid_hits = 0;
        for (lon, lat) in &points {
            if let Some((_, depth)) = index.locate(*lon, *lat)
                && depth == Level::Grid.depth()
            {
                grid_hits += 1;
            }
        }
        lookups += points.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    found = found.min(points.len());
    // The same, over only the points that some grid contains (the usual case: reports come
    // from inside the city).
    let inside: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(lon, lat)| index.locate(*lon, *lat).is_some())
        .collect();
    let inside_started = Instant::now();
    let mut inside_lookups = 0usize;
    while inside_started.elapsed().as_secs_f64() < 1.0 && !inside.is_empty() {
        for (lon, lat) in &inside {
            std::hint::black_box(index.locate(*lon, *lat));
        }
        inside_lookups += inside.len();
    }
    let inside_seconds = inside_started.elapsed().as_secs_f64();
    // The grid layer alone, the question shapely's STRtree answers in the side-by-side script.
    let grid_depth = Level::Grid.depth();
    let grid_started = Instant::now();
    let mut grid_lookups = 0usize;
    while grid_started.elapsed().as_secs_f64() < 1.0 {
        for (lon, lat) in &points {
            std::hint::black_box(index.locate_at_depth(*lon, *lat, grid_depth));
        }
        grid_lookups += points.len();
    }
    let grid_seconds = grid_started.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "benchmark": "locate",
        "grids": grids.len(),
        "points": points.len(),
        "points_in_some_area": found,
        "points_in_a_grid": grid_hits,
        "lookups": lookups,
        "seconds": seconds,
        "lookups_per_second_one_core": lookups as f64 / seconds,
        "inside_only_lookups_per_second_one_core": inside_lookups as f64 / inside_seconds,
        "grid_layer_only_lookups_per_second_one_core": grid_lookups as f64 / grid_seconds,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

async fn import_areas(side: usize) -> anyhow::Result<()> {
    use onegrid_app::areas::AreaImportOptions;
    use onegrid_app::divisions::DivisionFile;
    use onegrid_geo::crs::Crs;
    use onegrid_geo::geojson_io::FieldNames;

    let dir = std::env::temp_dir().join(format!("onegrid-bench-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = onegrid_store::open(&onegrid_store::Location::Directory(dir.clone())).await?;
    let app = App::load(store).await?;
    // One county, one township and one village per lattice row (a village holds ≤ 999 grids).
    let mut divisions = String::from(
        "code,name,parent_code,level\n140000,山西省,,province\n140700,晋中市,140000,city\n\
         140702,榆次区,140700,county\n140702001,北关街道,140702,township\n",
    );
    for row in 0..side {
        divisions.push_str(&format!(
            "140702001{:03},村{row},140702001,village\n",
            row + 1
        ));
    }
    app.import_divisions(&[DivisionFile {
        name: "bench.csv".to_owned(),
        text: divisions,
    }])
    .await?;
    let step = 0.01;
    let mut features = Vec::with_capacity(side * side);
    for row in 0..side {
        for col in 0..side {
            let (x0, y0) = (112.0 + col as f64 * step, 37.0 + row as f64 * step);
            let (x1, y1) = (x0 + step, y0 + step);
            features.push(format!(
                r#"{{"type":"Feature","properties":{{"code":"140702001{:03}{:03}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}"#,
                row + 1,
                col + 1
            ));
        }
    }
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    let options = AreaImportOptions {
        level: Level::Grid,
        fields: FieldNames::default(),
        crs: Crs::Wgs84,
    };
    let started = Instant::now();
    let report = app.import_areas(&text, &options).await?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    let result = serde_json::json!({
        "benchmark": "import-areas",
        "grids": report.imported,
        "geojson_bytes": text.len(),
        "seconds": seconds,
        "grids_per_second": report.imported as f64 / seconds,
    });
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
