//! `onegrid bench`: the product's speed, measured the same way every time. Results go to
//! standard output as JSON; docs/benchmarks.md records each run.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;
use onegrid_app::App;
use onegrid_domain::Level;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// New cases straight through the use case (no HTTP), from many tasks at once: what the
    /// store and the writer can take, to compare with the HTTP figure.
    IntakeDirect {
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        #[arg(long, default_value_t = 256)]
        tasks: usize,
    },
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
        /// An API token of an account that may report, read, list and accept in the city
        /// (`onegrid token create NAME`).
        #[arg(long, env = "ONEGRID_TOKEN")]
        token: String,
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
    /// Figures (一屏观全市) over `cases` synthetic cases: builds the demo city in a fresh store
    /// at DIR, writes the rollups of the cases and a flat `bench_cases` table (one row per
    /// case) straight into its SQLite file, then times the same questions through the store's
    /// rollups and as SQL `sum(...)` over `bench_cases`, checking both give the same counters.
    /// Leaves `bench_cases.csv` and `questions.json` in DIR for bench/figures_duckdb.py.
    Figures {
        #[arg(long, default_value_t = 10_000_000)]
        cases: u64,
        /// A fresh directory (must not hold a store yet).
        #[arg(long)]
        dir: PathBuf,
        /// Keep the store in DIR afterwards (without it only the CSV and the questions stay).
        #[arg(long)]
        keep: bool,
        #[arg(long, default_value_t = 20261129)]
        seed: u64,
        /// How often each kind of question is asked through the rollups.
        #[arg(long, default_value_t = 200)]
        repeat: usize,
        /// Stop asking SQLite's GROUP BY one kind of question after this many seconds (it is
        /// asked at least 3 times and at most `repeat` times).
        #[arg(long, default_value_t = 20.0)]
        sqlite_seconds: f64,
        /// Ask the rollups' questions again over the store an earlier run kept in DIR
        /// (`--keep`), without generating anything or asking SQLite: to compare two builds
        /// on the same data, one after the other.
        #[arg(long)]
        retime: bool,
    },
    /// The same figures on PostgreSQL: after `bench figures --keep --dir DIR`, builds the demo
    /// city in the empty database at URL, loads DIR's rollup rows into it (COPY), and asks
    /// DIR/questions.json through the PostgreSQL store, checking every answer against the
    /// SQLite rollups' answer.
    FiguresPostgres {
        /// The directory `bench figures --keep` left.
        #[arg(long)]
        dir: PathBuf,
        /// An empty PostgreSQL database.
        #[arg(long)]
        to: String,
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
        BenchCommand::IntakeDirect { cases, tasks } => intake_direct(app, cases, tasks).await,
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
            token,
        } => {
            mixed::run(mixed::Options {
                token,
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
        BenchCommand::Figures {
            cases,
            dir,
            keep,
            seed,
            repeat,
            sqlite_seconds,
            retime,
        } => {
            figures::run(figures::Options {
                cases,
                dir,
                keep,
                seed,
                repeat: repeat.max(1),
                sqlite_seconds,
                retime,
            })
            .await
        }
        BenchCommand::FiguresPostgres { dir, to } => figures_postgres::run(&dir, &to).await,
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

/// The 11 counties of 晋中市 (NBS 2023).
const JINZHONG_COUNTIES: [&str; 11] = [
    "140702", "140703", "140721", "140722", "140723", "140724", "140725", "140727", "140728",
    "140729", "140781",
];

fn points(app: &App, count: usize, seed: u64, out: &std::path::Path) -> anyhow::Result<()> {
    let atlas = app.atlas();
    let index = atlas.index();
    let grid_depth = Level::Grid.depth();
    let grids = atlas.indexed_areas();
    if grids == 0 {
        anyhow::bail!("no grids stored: run `onegrid demo` (or import grids) first");
    }
    // The city's box; fewer than half of its points fall in a grid, so draw until enough do.
    let (west, south, east, north) = (111.9, 36.6, 114.0, 38.1);
    let mut random = SplitMix(seed);
    let mut text = String::from("lon,lat,county\n");
    let mut found = 0usize;
    let mut drawn = 0usize;
    while found < count {
        drawn += 1;
        if drawn > count.saturating_mul(1000).max(1_000_000) {
            anyhow::bail!("only {found} of {drawn} points fell in a grid");
        }
        let lon = west + random.next_f64() * (east - west);
        let lat = south + random.next_f64() * (north - south);
        if let Some(code) = index.locate_at_depth(lon, lat, grid_depth) {
            text.push_str(&format!("{lon:.6},{lat:.6},{}\n", &code[..6]));
            found += 1;
        }
    }
    std::fs::write(out, text)?;
    eprintln!(
        "{found} points inside the grids ({drawn} drawn) written to {}",
        out.display()
    );
    Ok(())
}

async fn records(
    count: u64,
    batch: usize,
    checkpoint_every: u64,
    dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    use onegrid_store::NewRecord;

    let (dir, keep) = match dir {
        Some(dir) => {
            if dir.join(onegrid_store::sqlite_file_name()).exists() {
                anyhow::bail!(
                    "{} already holds a store: give a fresh directory",
                    dir.display()
                );
            }
            (dir, true)
        }
        None => {
            let dir =
                std::env::temp_dir().join(format!("onegrid-bench-records-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            (dir, false)
        }
    };
    let store = onegrid_store::open(&onegrid_store::Location::Directory(dir.clone())).await?;
    // A case's life, one record per act: (act, role, from, to, note).
    const LIFE: [(&str, &str, Option<&str>, &str, &str); 9] = [
        (
            "report",
            "grid_worker",
            None,
            "reported",
            "网格员巡查发现：小区门口道路破损，积水严重",
        ),
        (
            "accept",
            "centre_intake",
            Some("reported"),
            "accepted",
            "受理，情况属实",
        ),
        (
            "register",
            "centre_intake",
            Some("accepted"),
            "registered",
            "立案：市政设施类",
        ),
        (
            "dispatch",
            "centre_dispatcher",
            Some("registered"),
            "dispatched",
            "派遣至区住建局",
        ),
        (
            "sign",
            "unit_handler",
            Some("dispatched"),
            "handling",
            "已签收，安排人员处置",
        ),
        (
            "handle",
            "unit_handler",
            Some("handling"),
            "handling",
            "现场修补路面，清理积水",
        ),
        (
            "report_back",
            "unit_handler",
            Some("handling"),
            "reported_back",
            "处置完毕，附现场照片",
        ),
        (
            "verify_pass",
            "grid_worker",
            Some("reported_back"),
            "verified",
            "核查通过",
        ),
        ("close", "centre_intake", Some("verified"), "closed", "结案"),
    ];
    let base =
        chrono::DateTime::parse_from_rfc3339("2026-01-05T01:00:00Z")?.with_timezone(&chrono::Utc);
    let started = Instant::now();
    let mut written = 0u64;
    let mut checkpoints = 0u64;
    let mut next_checkpoint = checkpoint_every.max(1);
    while written < count {
        let take = (count - written).min(batch as u64);
        let mut records = Vec::with_capacity(take as usize);
        for i in written..written + take {
            let case = i / LIFE.len() as u64;
            let (act, role, from, to, note) = LIFE[(i % LIFE.len() as u64) as usize];
            let county = JINZHONG_COUNTIES[(case % JINZHONG_COUNTIES.len() as u64) as usize];
            let grid = format!(
                "{county}{:03}{:03}{:03}",
                1 + case % 7,
                1 + case % 23,
                1 + case % 11
            );
            records.push(NewRecord {
                county: county.to_owned(),
                case_id: Some(format!(
                    "0194{case:012x}-bench-{:016x}",
                    case.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                )),
                act: act.to_owned(),
                actor: format!("用户{:05}", case % 7679),
                role: role.to_owned(),
                from_state: from.map(str::to_owned),
                to_state: Some(to.to_owned()),
                at: base + chrono::Duration::milliseconds((i * 997) as i64),
                note: note.to_owned(),
                attachments: if act == "report_back" {
                    vec![format!("{:064x}", u128::from(case) * 0x1_0000_0001)]
                } else {
                    Vec::new()
                },
                details: serde_json::json!({"grid": grid, "number": format!("JZ2026{case:08}")}),
            });
        }
        store.append_records(records).await?;
        written += take;
        if written >= next_checkpoint || written == count {
            if store.write_checkpoint(chrono::Utc::now()).await? {
                checkpoints += 1;
            }
            next_checkpoint = written + checkpoint_every.max(1);
        }
    }
    let fill_seconds = started.elapsed().as_secs_f64();
    let mut verify_runs = Vec::new();
    let mut report = None;
    for _ in 0..2 {
        let started = Instant::now();
        let this = store.verify_records().await?;
        verify_runs.push(started.elapsed().as_secs_f64());
        report = Some(this);
    }
    let report = report.unwrap_or_default();
    let bytes: u64 = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|meta| meta.len())
        .sum();
    let best = verify_runs.iter().copied().fold(f64::MAX, f64::min);
    let result = serde_json::json!({
        "benchmark": "records",
        "records": written,
        "counties": JINZHONG_COUNTIES.len(),
        "checkpoints_written": checkpoints,
        "fill_seconds": fill_seconds,
        "fill_records_per_second": written as f64 / fill_seconds,
        "store_bytes": bytes,
        "verify": report,
        "intact": report.is_intact(),
        "verify_seconds": verify_runs,
        "verify_records_per_second_best": report.records as f64 / best,
        "dir": if keep { Some(dir.display().to_string()) } else { None },
    });
    drop(store);
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{}", serde_json::to_string_pretty(&result)?);
    if !report.is_intact() {
        anyhow::bail!("the record does not verify: {:?}", report.first_problem);
    }
    Ok(())
}

/// `onegrid bench mixed`: a fixed-rate HTTP/1.1 load generator over raw keep-alive TCP
/// connections (tokio only, no HTTP client crate).
mod mixed {
    use std::collections::{BTreeMap, VecDeque};
    use std::net::{SocketAddr, ToSocketAddrs};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use anyhow::Context;
    use tokio::net::TcpStream;
    use tokio::sync::Semaphore;
    use tokio::time::Instant;

    use super::{JINZHONG_COUNTIES, SplitMix};

    pub struct Options {
        pub token: String,
        pub url: String,
        pub rate: u32,
        pub seconds: u64,
        pub read_percent: u32,
        pub max_connections: usize,
        pub timeout: Duration,
        pub seed: u64,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Op {
        GetCase,
        ListCounty,
        Report,
        Accept,
    }

    impl Op {
        fn name(self) -> &'static str {
            match self {
                Op::GetCase => "read: GET /api/v1/cases/{id}",
                Op::ListCounty => "read: GET /api/v1/cases?region=COUNTY&limit=20",
                Op::Report => "write: POST /api/v1/cases",
                Op::Accept => "write: POST /api/v1/cases/{id}/acts accept",
            }
        }
    }

    /// One answered (or failed) request: status 0 is an I/O error or a timeout.
    struct Sample {
        op: Op,
        status: u16,
        micros: u64,
    }

    struct Answer {
        status: u16,
        body: Vec<u8>,
    }

    /// One keep-alive connection and the bytes read past the last answer.
    struct Conn {
        stream: TcpStream,
        buf: Vec<u8>,
    }

    impl Conn {
        async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(Conn {
                stream,
                buf: Vec::with_capacity(16 * 1024),
            })
        }

        async fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
            while !bytes.is_empty() {
                self.stream.writable().await?;
                match self.stream.try_write(bytes) {
                    Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                    Ok(n) => bytes = &bytes[n..],
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }

        /// Reads more bytes into the buffer; `false` at end of stream.
        async fn fill(&mut self) -> std::io::Result<bool> {
            let mut chunk = [0u8; 16 * 1024];
            loop {
                self.stream.readable().await?;
                match self.stream.try_read(&mut chunk) {
                    Ok(0) => return Ok(false),
                    Ok(n) => {
                        self.buf.extend_from_slice(&chunk[..n]);
                        return Ok(true);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }

        async fn need(&mut self, len: usize) -> std::io::Result<()> {
            while self.buf.len() < len {
                if !self.fill().await? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
            Ok(())
        }

        /// Sends one request and reads its answer; the flag says whether the connection
        /// may be used again.
        async fn exchange(&mut self, request: &[u8]) -> std::io::Result<(Answer, bool)> {
            self.buf.clear();
            self.write_all(request).await?;
            let head_end = loop {
                if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                    break at;
                }
                if !self.fill().await? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            };
            let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
            let mut lines = head.split("\r\n");
            let status = lines
                .next()
                .and_then(|line| line.split(' ').nth(1))
                .and_then(|code| code.parse::<u16>().ok())
                .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
            let (mut length, mut chunked, mut close) = (None, false, false);
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
                match name.as_str() {
                    "content-length" => length = value.parse::<usize>().ok(),
                    "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                    "connection" => close = value.eq_ignore_ascii_case("close"),
                    _ => {}
                }
            }
            let start = head_end + 4;
            let body = if chunked {
                let mut body = Vec::new();
                let mut at = start;
                loop {
                    let line_end = loop {
                        if let Some(end) = find(&self.buf[at..], b"\r\n") {
                            break at + end;
                        }
                        if !self.fill().await? {
                            return Err(std::io::ErrorKind::UnexpectedEof.into());
                        }
                    };
                    let size_text = String::from_utf8_lossy(&self.buf[at..line_end]).into_owned();
                    let size =
                        usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                            .map_err(|_| std::io::Error::other("bad chunk size"))?;
                    at = line_end + 2;
                    self.need(at + size + 2).await?;
                    body.extend_from_slice(&self.buf[at..at + size]);
                    at += size + 2;
                    if size == 0 {
                        break;
                    }
                }
                body
            } else if let Some(length) = length {
                self.need(start + length).await?;
                self.buf[start..start + length].to_vec()
            } else {
                // No length: the body runs to the end of the stream.
                while self.fill().await? {}
                close = true;
                self.buf[start..].to_vec()
            };
            Ok((Answer { status, body }, !close))
        }
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    }

    /// Idle connections, reused last-in first-out, with a cap on how many are open.
    struct Client {
        addr: SocketAddr,
        host: String,
        /// `Bearer …`, sent with every request.
        authorization: String,
        idle: Mutex<Vec<Conn>>,
        open: Semaphore,
        opened: AtomicU64,
    }

    impl Client {
        fn request(
            &self,
            method: &str,
            path: &str,
            headers: &[(&str, &str)],
            body: &str,
        ) -> Vec<u8> {
            let mut text = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n",
                self.host, self.authorization
            );
            for (name, value) in headers {
                text.push_str(&format!("{name}: {value}\r\n"));
            }
            if method != "GET" {
                text.push_str(&format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                ));
            }
            text.push_str("\r\n");
            text.push_str(body);
            text.into_bytes()
        }

        async fn send(&self, request: &[u8]) -> std::io::Result<Answer> {
            let _permit = self
                .open
                .acquire()
                .await
                .map_err(|_| std::io::Error::other("closed"))?;
            let reused = self
                .idle
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .pop();
            let (mut conn, was_reused) = match reused {
                Some(conn) => (conn, true),
                None => {
                    self.opened.fetch_add(1, Ordering::Relaxed);
                    (Conn::open(self.addr).await?, false)
                }
            };
            let outcome = match conn.exchange(request).await {
                // The server may have closed an idle connection: one fresh try, which is safe
                // because nothing was answered on the old one.
                Err(e)
                    if was_reused
                        && e.kind() == std::io::ErrorKind::UnexpectedEof
                        && conn.buf.is_empty() =>
                {
                    self.opened.fetch_add(1, Ordering::Relaxed);
                    conn = Conn::open(self.addr).await?;
                    conn.exchange(request).await
                }
                other => other,
            };
            let (answer, keep) = outcome?;
            if keep && let Ok(mut idle) = self.idle.lock() {
                idle.push(conn);
            }
            Ok(answer)
        }
    }

    struct Shared {
        client: Client,
        points: Vec<(f64, f64)>,
        ids: Mutex<Vec<String>>,
        /// Cases just reported, waiting for an `accept`.
        fresh: Mutex<VecDeque<String>>,
        samples: Mutex<Vec<Sample>>,
        run_tag: String,
        timeout: Duration,
    }

    const DESCRIPTIONS: [&str; 10] = [
        "小区门口道路破损，雨后积水严重",
        "路灯不亮，夜间行人出行不便",
        "垃圾桶满溢，周边有异味",
        "楼道堆放杂物，存在消防隐患",
        "占道经营，影响车辆通行",
        "井盖缺失，存在安全隐患",
        "噪音扰民，夜间施工",
        "违章搭建，占用公共绿地",
        "供暖管道漏水",
        "共享单车乱停乱放，堵塞人行道",
    ];

    fn parse_target(url: &str) -> anyhow::Result<(SocketAddr, String)> {
        let rest = url
            .strip_prefix("http://")
            .context("the URL must start with http://")?;
        let host = rest.split('/').next().unwrap_or(rest).to_owned();
        let addr = host
            .to_socket_addrs()
            .with_context(|| format!("resolving {host}"))?
            .find(|a| a.ip().is_loopback())
            .with_context(|| format!("{host} is not a loopback address: refusing to load it"))?;
        Ok((addr, host))
    }

    fn json_id(value: &serde_json::Value) -> Option<String> {
        value.get("id")?.as_str().map(str::to_owned)
    }

    async fn timed(shared: &Shared, request: &[u8]) -> Option<Answer> {
        match tokio::time::timeout(shared.timeout, shared.client.send(request)).await {
            Ok(Ok(answer)) => Some(answer),
            _ => None,
        }
    }

    fn report_body(random: &mut SplitMix, shared: &Shared, n: u64) -> String {
        let (lon, lat) = shared.points[random.below(shared.points.len())];
        let description = DESCRIPTIONS[random.below(DESCRIPTIONS.len())];
        serde_json::json!({
            "description": format!("{description}（基准 {n}）"),
            "lon": lon,
            "lat": lat,
            "channel": if n.is_multiple_of(3) { "grid_patrol" } else { "resident" },
        })
        .to_string()
    }

    async fn report(shared: &Shared, random: &mut SplitMix, n: u64) -> u16 {
        let body = report_body(random, shared, n);
        let key = format!("mixed-{}-{n}", shared.run_tag);
        let request =
            shared
                .client
                .request("POST", "/api/v1/cases", &[("Idempotency-Key", &key)], &body);
        let Some(answer) = timed(shared, &request).await else {
            return 0;
        };
        if answer.status == 201
            && let Some(id) = serde_json::from_slice(&answer.body)
                .ok()
                .as_ref()
                .and_then(json_id)
        {
            if let Ok(mut fresh) = shared.fresh.lock() {
                fresh.push_back(id.clone());
            }
            if let Ok(mut ids) = shared.ids.lock() {
                ids.push(id);
            }
        }
        answer.status
    }

    async fn one(shared: Arc<Shared>, op: Op, n: u64, seed: u64, scheduled: Instant) {
        let mut random = SplitMix(seed);
        let (op, status) = match op {
            Op::GetCase => {
                let id = shared.ids.lock().ok().and_then(|ids| {
                    (!ids.is_empty()).then(|| ids[random.below(ids.len())].clone())
                });
                let status = match id {
                    Some(id) => {
                        let request =
                            shared
                                .client
                                .request("GET", &format!("/api/v1/cases/{id}"), &[], "");
                        timed(&shared, &request).await.map_or(0, |a| a.status)
                    }
                    None => 0,
                };
                (op, status)
            }
            Op::ListCounty => {
                let county = JINZHONG_COUNTIES[random.below(JINZHONG_COUNTIES.len())];
                let request = shared.client.request(
                    "GET",
                    &format!("/api/v1/cases?region={county}&limit=20"),
                    &[],
                    "",
                );
                (op, timed(&shared, &request).await.map_or(0, |a| a.status))
            }
            Op::Report => (op, report(&shared, &mut random, n).await),
            Op::Accept => {
                let id = shared.fresh.lock().ok().and_then(|mut f| f.pop_front());
                match id {
                    Some(id) => {
                        let request = shared.client.request(
                            "POST",
                            &format!("/api/v1/cases/{id}/acts"),
                            &[("X-Acting-Role", "centre_intake")],
                            r#"{"act":"accept","version":1,"note":"受理"}"#,
                        );
                        (op, timed(&shared, &request).await.map_or(0, |a| a.status))
                    }
                    // Nothing waiting to be accepted: report one instead.
                    None => (Op::Report, report(&shared, &mut random, n).await),
                }
            }
        };
        let micros = scheduled.elapsed().as_micros() as u64;
        if let Ok(mut samples) = shared.samples.lock() {
            samples.push(Sample { op, status, micros });
        }
    }

    fn summary(samples: &[&Sample], seconds: f64) -> serde_json::Value {
        let mut micros: Vec<u64> = samples.iter().map(|s| s.micros).collect();
        micros.sort_unstable();
        let at = |q: f64| -> f64 {
            if micros.is_empty() {
                return 0.0;
            }
            let index = ((q * micros.len() as f64).ceil() as usize).clamp(1, micros.len()) - 1;
            micros[index] as f64 / 1000.0
        };
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for sample in samples {
            let key = if sample.status == 0 {
                "error_or_timeout".to_owned()
            } else {
                sample.status.to_string()
            };
            *statuses.entry(key).or_default() += 1;
        }
        serde_json::json!({
            "requests": samples.len(),
            "per_second": samples.len() as f64 / seconds,
            "statuses": statuses,
            "p50_ms": at(0.50),
            "p95_ms": at(0.95),
            "p99_ms": at(0.99),
            "p999_ms": at(0.999),
            "max_ms": micros.last().map_or(0.0, |m| *m as f64 / 1000.0),
        })
    }

    pub async fn run(options: Options) -> anyhow::Result<()> {
        let (addr, host) = parse_target(&options.url)?;
        let client = Client {
            addr,
            host,
            authorization: format!("Bearer {}", options.token),
            idle: Mutex::new(Vec::new()),
            open: Semaphore::new(options.max_connections),
            opened: AtomicU64::new(0),
        };
        let run_tag = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        // Report places: points of the city's box that the server places in a grid.
        let mut random = SplitMix(options.seed);
        let mut points = Vec::new();
        let mut asked = 0;
        while points.len() < 300 {
            asked += 1;
            if asked > 5_000 {
                anyhow::bail!(
                    "the server placed only {} of {asked} points: is the demo city loaded?",
                    points.len()
                );
            }
            let lon = 111.9 + random.next_f64() * 2.1;
            let lat = 36.6 + random.next_f64() * 1.5;
            let request = client.request(
                "GET",
                &format!("/api/v1/locate?lon={lon:.6}&lat={lat:.6}"),
                &[],
                "",
            );
            let answer = client
                .send(&request)
                .await
                .context("asking /api/v1/locate")?;
            if answer.status == 200
                && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&answer.body)
                && value.get("grid").is_some_and(|g| !g.is_null())
            {
                points.push((lon, lat));
            }
        }
        let shared = Arc::new(Shared {
            client,
            points,
            ids: Mutex::new(Vec::new()),
            fresh: Mutex::new(VecDeque::new()),
            samples: Mutex::new(Vec::new()),
            run_tag,
            timeout: options.timeout,
        });
        // Cases to read: the newest of each county, and 100 fresh ones to accept.
        for county in JINZHONG_COUNTIES {
            let request = shared.client.request(
                "GET",
                &format!("/api/v1/cases?region={county}&limit=100"),
                &[],
                "",
            );
            let answer = shared.client.send(&request).await?;
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&answer.body)
                && let Some(cases) = value.get("cases").and_then(|c| c.as_array())
                && let Ok(mut ids) = shared.ids.lock()
            {
                ids.extend(cases.iter().filter_map(json_id));
            }
        }
        for n in 0..100u64 {
            report(&shared, &mut random, 1_000_000_000 + n).await;
        }
        let seeded = shared.ids.lock().map(|ids| ids.len()).unwrap_or(0);
        if let Ok(mut samples) = shared.samples.lock() {
            samples.clear();
        }
        // The timetable.
        let total = u64::from(options.rate) * options.seconds;
        let interval = Duration::from_secs_f64(1.0 / f64::from(options.rate.max(1)));
        let start = Instant::now() + Duration::from_millis(100);
        let reads = f64::from(options.read_percent);
        let mut late_max = Duration::ZERO;
        let mut tasks = Vec::with_capacity(total as usize);
        for n in 0..total {
            let scheduled = start + interval.mul_f64(n as f64);
            tokio::time::sleep_until(scheduled).await;
            late_max = late_max.max(scheduled.elapsed());
            let roll = random.next_f64() * 100.0;
            let op = if roll < reads / 2.0 {
                Op::GetCase
            } else if roll < reads {
                Op::ListCounty
            } else if roll < reads + (100.0 - reads) * 2.0 / 3.0 {
                Op::Report
            } else {
                Op::Accept
            };
            let seed = random.next_u64();
            tasks.push(tokio::spawn(one(shared.clone(), op, n, seed, scheduled)));
        }
        let sent_seconds = start.elapsed().as_secs_f64();
        for task in tasks {
            let _ = task.await;
        }
        let seconds = start.elapsed().as_secs_f64();
        let samples = shared
            .samples
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        let all: Vec<&Sample> = samples.iter().collect();
        let mut by_op = serde_json::Map::new();
        for op in [Op::GetCase, Op::ListCounty, Op::Report, Op::Accept] {
            let these: Vec<&Sample> = samples.iter().filter(|s| s.op == op).collect();
            by_op.insert(op.name().to_owned(), summary(&these, seconds));
        }
        let reads_done = samples
            .iter()
            .filter(|s| matches!(s.op, Op::GetCase | Op::ListCounty))
            .count();
        let non_2xx = samples
            .iter()
            .filter(|s| !(200..300).contains(&s.status))
            .count();
        let report = serde_json::json!({
            "benchmark": "mixed",
            "tool": "onegrid bench mixed (fixed timetable, latency from the scheduled start)",
            "url": options.url,
            "target_rate": options.rate,
            "seconds": options.seconds,
            "scheduled": total,
            "achieved_send_rate": total as f64 / sent_seconds,
            "achieved_rate": samples.len() as f64 / seconds,
            "read_share": reads_done as f64 / samples.len().max(1) as f64,
            "non_2xx_or_error": non_2xx,
            "scheduler_late_max_ms": late_max.as_secs_f64() * 1000.0,
            "connections_opened": shared.client.opened.load(Ordering::Relaxed),
            "cases_known_before": seeded,
            "all": summary(&all, seconds),
            "by_operation": by_op,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(())
    }
}

async fn intake_direct(app: &App, cases: usize, tasks: usize) -> anyhow::Result<()> {
    use onegrid_app::cases::{Actor, ReportInput};
    let per_task = cases.div_ceil(tasks.max(1));
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let actor = Actor {
                name: "bench".to_owned(),
                role: "resident".to_owned(),
            };
            for n in 0..per_task {
                let input = ReportInput {
                    description: format!("直接压测事件 {task}-{n}"),
                    lon: Some(112.75),
                    lat: Some(37.69),
                    grid: None,
                    address: None,
                    channel: onegrid_domain::case::Channel::Resident,
                    category: None,
                    urgency: None,
                    reporter: Default::default(),
                    attachments: vec![],
                };
                let key = format!("direct-{task}-{n}-{}", std::process::id());
                app.report_case(input, &actor, Some(&key)).await?;
            }
            Ok::<_, onegrid_app::AppError>(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = per_task * tasks;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "benchmark": "intake-direct",
            "cases": total,
            "tasks": tasks,
            "seconds": seconds,
            "cases_per_second": total as f64 / seconds,
        }))?
    );
    Ok(())
}

/// `onegrid bench figures`: the dashboard's figures over millions of synthetic cases, through
/// the rollups and beside the same question as SQL over a flat table of the cases.
mod figures {
    use std::collections::HashMap;
    use std::io::Write;
    use std::path::PathBuf;
    use std::time::Instant;

    use anyhow::Context;
    use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
    use onegrid_app::App;
    use onegrid_app::figures::Period;
    use onegrid_domain::case::Satisfaction;
    use onegrid_domain::case::{ActCounts, Case, CaseState, Channel, RejectReason, Reporter};
    use onegrid_domain::metrics::{Counters, RollupKey, rollup_keys};
    use onegrid_domain::taxonomy::{Tier, Urgency};
    use onegrid_domain::{Level, RegionCode};
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{Connection, Row, SqliteConnection};

    use super::SplitMix;

    pub struct Options {
        pub cases: u64,
        pub dir: PathBuf,
        pub keep: bool,
        pub seed: u64,
        pub repeat: usize,
        pub sqlite_seconds: f64,
        pub retime: bool,
    }

    /// A grid and the areas above it.
    struct Grid {
        code: String,
        village: String,
        township: String,
        township_name: String,
        county: String,
        county_name: String,
        /// Codes from the grid up to the province, as a case's chain.
        chain: Vec<String>,
    }

    /// A 小类 of the shipped taxonomy, as the generator needs it.
    struct Minor {
        code: String,
        tier: Tier,
        department: Option<String>,
    }

    /// Rows per multi-row INSERT (22 or 25 bound values each; SQLite allows 32,766).
    const ROWS_PER_INSERT: usize = 1_000;

    const COUNTER_COLUMNS: [&str; 18] = [
        "reported",
        "accepted",
        "rejected",
        "registered",
        "dispatched",
        "handled",
        "handled_on_time",
        "closed",
        "closed_on_time",
        "reworked",
        "extended",
        "overdue",
        "voided",
        "evaluated",
        "satisfied",
        "settled_in_grid",
        "settled_in_township",
        "handle_seconds",
    ];

    fn pick_channel(random: &mut SplitMix) -> Channel {
        let r = random.next_f64();
        if r < 0.45 {
            Channel::GridPatrol
        } else if r < 0.65 {
            Channel::Resident
        } else if r < 0.90 {
            Channel::Hotline
        } else if r < 0.97 {
            Channel::OtherNetwork
        } else {
            Channel::Open311
        }
    }

    /// One synthetic case as it stands at the end of its (so far) life, its fields consistent
    /// with the acts that would have brought it there.
    fn synth_case(
        random: &mut SplitMix,
        grid: &Grid,
        minors: &[Minor],
        created_at: DateTime<Utc>,
        serial: u64,
    ) -> Case {
        let channel = pick_channel(random);
        let minor = &minors[random.below(minors.len())];
        let urgency = match random.below(100) {
            0 => Urgency::Critical,
            1..=9 => Urgency::Urgent,
            _ => Urgency::Normal,
        };
        let start_tier = match channel {
            Channel::GridPatrol => Tier::Grid,
            Channel::Resident => Tier::Township,
            _ => Tier::County,
        };
        let r = random.next_f64();
        let state = if r < 0.08 {
            CaseState::Rejected
        } else if r < 0.13 {
            CaseState::Reported
        } else if r < 0.16 {
            CaseState::Accepted
        } else if r < 0.19 {
            CaseState::Registered
        } else if r < 0.22 {
            CaseState::Dispatched
        } else if r < 0.32 {
            CaseState::Handling
        } else if r < 0.34 {
            CaseState::ReportedBack
        } else if r < 0.36 {
            CaseState::Verified
        } else if r < 0.38 {
            CaseState::Suspended
        } else if r < 0.40 {
            CaseState::Voided
        } else if random.below(10) < 3 {
            CaseState::Closed
        } else {
            CaseState::Evaluated
        };
        // Voided cases: half before registration (no category), half after.
        let registered = match state {
            CaseState::Reported | CaseState::Accepted | CaseState::Rejected => false,
            CaseState::Voided => random.below(2) == 0,
            _ => true,
        };
        let dispatched = matches!(
            state,
            CaseState::Dispatched
                | CaseState::Handling
                | CaseState::ReportedBack
                | CaseState::Verified
                | CaseState::Suspended
                | CaseState::Closed
                | CaseState::Evaluated
        );
        let reported_back = matches!(
            state,
            CaseState::ReportedBack
                | CaseState::Verified
                | CaseState::Closed
                | CaseState::Evaluated
        );
        let closed = matches!(state, CaseState::Closed | CaseState::Evaluated);
        let mut counts = ActCounts::default();
        let mut tier = start_tier;
        if registered {
            // The case goes to the tier its 小类 is handled at; one in ten goes one further up.
            tier = tier.max(minor.tier);
            if random.below(10) == 0
                && let Some(up) = tier.next_up()
            {
                tier = up;
                counts.escalations = 1;
            }
            if random.below(25) == 0 {
                counts.extensions = 1;
            }
            if random.below(30) == 0 {
                counts.urges = 1;
            }
        }
        if reported_back && random.below(16) == 0 {
            counts.reworks = 1;
        }
        if state == CaseState::Suspended {
            counts.suspensions = 1;
        }
        let overdue = registered && random.below(100) < 7;
        let mut at = created_at;
        let mut later = |random: &mut SplitMix, min_s: usize, max_s: usize| {
            at += Duration::seconds((min_s + random.below(max_s - min_s)) as i64);
            at
        };
        let dispatched_at = dispatched.then(|| later(random, 600, 8 * 3600));
        let handled_at = reported_back.then(|| later(random, 3600, 5 * 86_400));
        let closed_at = closed.then(|| later(random, 1800, 2 * 86_400));
        let satisfaction = (state == CaseState::Evaluated).then(|| match random.below(100) {
            0..=84 => Satisfaction::Satisfied,
            85..=94 => Satisfaction::BasicallySatisfied,
            _ => Satisfaction::Unsatisfied,
        });
        let updated_at = if state == CaseState::Evaluated {
            later(random, 3600, 3 * 86_400)
        } else if closed || reported_back || dispatched {
            at
        } else if state == CaseState::Reported {
            created_at
        } else {
            later(random, 300, 4 * 3600)
        };
        let unit = dispatched.then(|| match &minor.department {
            Some(kind) => format!("{}{kind}", grid.county_name),
            None => grid.township_name.clone(),
        });
        let acts = [registered, dispatched, reported_back, closed]
            .iter()
            .filter(|x| **x)
            .count() as u32;
        Case {
            id: format!(
                "bench-{serial:012x}-{:016x}",
                serial.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ),
            number: format!("{}2025{serial:09}", grid.county),
            county: grid.county.clone(),
            grid: Some(grid.code.clone()),
            chain: grid.chain.clone(),
            lon: None,
            lat: None,
            address: None,
            description: "bench".to_owned(),
            channel,
            category: registered.then(|| minor.code.clone()),
            urgency,
            reporter: Reporter::default(),
            attachments: Vec::new(),
            state,
            tier,
            unit,
            version: 1 + acts + counts.reworks * 2 + counts.escalations,
            created_at,
            updated_at,
            stage_started_at: updated_at,
            stage_deadline: None,
            suspended_from: (state == CaseState::Suspended).then_some(CaseState::Handling),
            reject_reason: (state == CaseState::Rejected).then_some(RejectReason::Invalid),
            satisfaction,
            urge_due: None,
            overdue,
            stage_overdue: overdue && !closed && state != CaseState::Voided,
            dispatched_at,
            handled_at,
            closed_at,
            counts,
        }
    }

    fn rollup_insert_sql(rows: usize) -> String {
        let row = format!("({})", vec!["?"; 22].join(","));
        format!(
            "INSERT INTO rollups (area_code, category, channel, day, {}) VALUES {}",
            COUNTER_COLUMNS.join(", "),
            vec![row.as_str(); rows].join(",")
        )
    }

    fn case_insert_sql(rows: usize) -> String {
        let row = format!("({})", vec!["?"; 25].join(","));
        format!(
            "INSERT INTO bench_cases (county_code, township_code, village_code, grid_code, day, \
             category, channel, {}) VALUES {}",
            COUNTER_COLUMNS.join(", "),
            vec![row.as_str(); rows].join(",")
        )
    }

    async fn insert_rollups(
        conn: &mut SqliteConnection,
        rows: &[(RollupKey, Counters)],
    ) -> anyhow::Result<()> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(rollup_insert_sql(chunk.len())));
            for (key, counters) in chunk {
                query = query
                    .bind(key.area.as_str())
                    .bind(key.category.as_str())
                    .bind(key.channel.as_str())
                    .bind(key.day.as_str());
                for (_, value) in counters.fields() {
                    query = query.bind(value);
                }
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// One row of `bench_cases`: indexes into the grids, the day, 小类, channel and counters.
    struct FlatCase {
        grid: usize,
        day: String,
        category: String,
        channel: &'static str,
        counters: Counters,
    }

    async fn insert_cases(
        conn: &mut SqliteConnection,
        grids: &[Grid],
        rows: &[FlatCase],
    ) -> anyhow::Result<()> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(case_insert_sql(chunk.len())));
            for row in chunk {
                let grid = &grids[row.grid];
                query = query
                    .bind(grid.county.as_str())
                    .bind(grid.township.as_str())
                    .bind(grid.village.as_str())
                    .bind(grid.code.as_str())
                    .bind(row.day.as_str())
                    .bind(row.category.as_str())
                    .bind(row.channel);
                for (_, value) in row.counters.fields() {
                    query = query.bind(value);
                }
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// One question: an area's counters over a period.
    #[derive(Clone)]
    struct Question {
        level: &'static str,
        code: String,
        period: Period,
        /// The same question over `bench_cases`: its WHERE clause and parameters.
        filter: String,
        params: Vec<String>,
    }

    fn sql_of(level: &str, code: &str, from: &str, to: &str) -> (String, Vec<String>) {
        let (filter, mut params) = match level {
            "city" => (
                "county_code LIKE ?".to_owned(),
                vec![format!("{}%", &code[..4])],
            ),
            "county" => ("county_code = ?".to_owned(), vec![code.to_owned()]),
            // The county narrows a township to the (county_code, day) index, as a user with
            // these two indexes would write it.
            "township" => (
                "county_code = ? AND township_code = ?".to_owned(),
                vec![code[..6].to_owned(), code.to_owned()],
            ),
            _ => ("grid_code = ?".to_owned(), vec![code.to_owned()]),
        };
        params.push(from.to_owned());
        params.push(to.to_owned());
        (format!("{filter} AND day BETWEEN ? AND ?"), params)
    }

    fn sum_sql(filter: &str) -> String {
        let sums: Vec<String> = COUNTER_COLUMNS
            .iter()
            .map(|c| format!("sum({c})"))
            .collect();
        format!("SELECT {} FROM bench_cases WHERE {filter}", sums.join(", "))
    }

    /// Nearest-rank percentile of sorted milliseconds.
    fn percentile(sorted: &[f64], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    fn summary(mut ms: Vec<f64>) -> serde_json::Value {
        ms.sort_by(f64::total_cmp);
        serde_json::json!({
            "asked": ms.len(),
            "p50_ms": percentile(&ms, 50.0),
            "p95_ms": percentile(&ms, 95.0),
            "max_ms": ms.last().copied().unwrap_or(f64::NAN),
        })
    }

    fn dir_bytes(dir: &std::path::Path, prefix: &str) -> u64 {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// The questions of every kind (level × period), `repeat` of each, drawn from `seed`.
    fn questions(
        atlas: &onegrid_app::Atlas,
        grids: &[Grid],
        options: &Options,
    ) -> anyhow::Result<Vec<(String, Vec<Question>)>> {
        // The questions: the city, every county, some townships, some grids; a month, a
        // quarter, the year.
        let counties: Vec<String> = atlas
            .children("140700")
            .iter()
            .map(|r| r.code.to_string())
            .collect();
        let mut townships: Vec<String> = grids.iter().map(|g| g.township.clone()).collect();
        townships.dedup();
        let townships: Vec<String> = townships
            .iter()
            .step_by((townships.len() / 12).max(1))
            .take(12)
            .cloned()
            .collect();
        let some_grids: Vec<String> = grids
            .iter()
            .step_by((grids.len() / 12).max(1))
            .take(12)
            .map(|g| g.code.clone())
            .collect();
        let date = |m: u32, d: u32| NaiveDate::from_ymd_opt(2025, m, d).context("date");
        let mut months = Vec::new();
        for m in 1..=12u32 {
            let to = if m == 12 {
                date(12, 31)?
            } else {
                date(m + 1, 1)?.pred_opt().context("date")?
            };
            months.push(Period::new(date(m, 1)?, to)?);
        }
        let quarters = vec![
            Period::new(date(1, 1)?, date(3, 31)?)?,
            Period::new(date(4, 1)?, date(6, 30)?)?,
            Period::new(date(7, 1)?, date(9, 30)?)?,
            Period::new(date(10, 1)?, date(12, 31)?)?,
        ];
        let year = vec![Period::new(date(1, 1)?, date(12, 31)?)?];
        let levels: [(&'static str, Vec<String>); 4] = [
            ("city", vec!["140700".to_owned()]),
            ("county", counties),
            ("township", townships),
            ("grid", some_grids),
        ];
        let periods: [(&'static str, &Vec<Period>); 3] =
            [("month", &months), ("quarter", &quarters), ("year", &year)];
        let mut classes: Vec<(String, Vec<Question>)> = Vec::new();
        let mut pick = SplitMix(options.seed ^ 0x5155_4553_5449_4F4E);
        for (level, codes) in &levels {
            for (kind, list) in &periods {
                let mut questions = Vec::with_capacity(options.repeat);
                for i in 0..options.repeat {
                    let code = codes[i % codes.len()].clone();
                    let period = list[pick.below(list.len())];
                    let from = period.from.format("%Y-%m-%d").to_string();
                    let to = period.to.format("%Y-%m-%d").to_string();
                    let (filter, params) = sql_of(level, &code, &from, &to);
                    questions.push(Question {
                        level,
                        code,
                        period,
                        filter,
                        params,
                    });
                }
                classes.push((format!("{level}/{kind}"), questions));
            }
        }
        Ok(classes)
    }

    /// The rollups' times for every kind: the counters, then the whole region panel (one
    /// untimed warm-up per kind), with the counters each question answered.
    async fn time_rollups(
        app: &App,
        classes: &[(String, Vec<Question>)],
    ) -> anyhow::Result<(
        serde_json::Map<String, serde_json::Value>,
        HashMap<(String, NaiveDate, NaiveDate), Counters>,
    )> {
        // (i) Through the store's rollups: the counters, then the whole region panel. One
        // untimed warm-up per kind.
        let mut results = serde_json::Map::new();
        let mut answers: HashMap<(String, NaiveDate, NaiveDate), Counters> = HashMap::new();
        for (class, questions) in classes {
            let first = &questions[0];
            app.counters(std::slice::from_ref(&first.code), first.period)
                .await?;
            let mut ms = Vec::with_capacity(questions.len());
            for q in questions {
                let started = Instant::now();
                let counters = app
                    .counters(std::slice::from_ref(&q.code), q.period)
                    .await?;
                ms.push(started.elapsed().as_secs_f64() * 1000.0);
                answers.insert((q.code.clone(), q.period.from, q.period.to), counters[0]);
            }
            let mut panel_ms = Vec::with_capacity(questions.len());
            for q in questions {
                let code = RegionCode::parse(&q.code)?;
                let started = Instant::now();
                let figures = app.region_figures(&code, q.period).await?;
                panel_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                if figures.figures.counters
                    != answers[&(q.code.clone(), q.period.from, q.period.to)]
                {
                    anyhow::bail!(
                        "region_figures and counters disagree for {class} {}",
                        q.code
                    );
                }
            }
            results.insert(
                class.clone(),
                serde_json::json!({
                    "rollups_counters": summary(ms),
                    "rollups_region_figures": summary(panel_ms),
                }),
            );
            eprintln!("rollups {class} done");
        }
        Ok((results, answers))
    }

    pub async fn run(options: Options) -> anyhow::Result<()> {
        let dir = options.dir.clone();
        let db_path = dir.join(onegrid_store::sqlite_file_name());
        if options.retime && !db_path.exists() {
            anyhow::bail!(
                "--retime asks again over a store kept (--keep) in {}, and there is none",
                dir.display()
            );
        }
        if !options.retime && db_path.exists() {
            anyhow::bail!(
                "{} already holds a store: give a fresh directory",
                dir.display()
            );
        }
        std::fs::create_dir_all(&dir)?;
        let started = Instant::now();
        let store = onegrid_store::open(&onegrid_store::Location::Directory(dir.clone())).await?;
        let app = App::load(store).await?;
        let demo = app.load_demo_city().await?;
        let demo_seconds = started.elapsed().as_secs_f64();

        // The grids and their chains, in code order (a township's grids are contiguous).
        let atlas = app.atlas();
        let mut grids = Vec::new();
        for region in atlas.all_regions() {
            if !region.is_current() || region.level() != Level::Grid {
                continue;
            }
            let chain = atlas.chain(region.code.as_str());
            let find = |level: Level| chain.iter().find(|link| link.level == level);
            let (Some(village), Some(township), Some(county)) = (
                find(Level::Village),
                find(Level::Township),
                find(Level::County),
            ) else {
                anyhow::bail!("grid {} has no full chain", region.code);
            };
            grids.push(Grid {
                code: region.code.to_string(),
                village: village.code.clone(),
                township: township.code.clone(),
                township_name: township.name.clone(),
                county: county.code.clone(),
                county_name: county.name.clone(),
                chain: chain.iter().map(|link| link.code.clone()).collect(),
            });
        }
        grids.sort_by(|a, b| a.code.cmp(&b.code));
        if grids.is_empty() {
            anyhow::bail!("the demo city has no grids");
        }
        if options.retime {
            let classes = questions(&atlas, &grids, &options)?;
            let (results, _) = time_rollups(&app, &classes).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "benchmark": "figures --retime",
                    "dir": dir.display().to_string(),
                    "results": results,
                }))?
            );
            return Ok(());
        }
        let rules = app.rules();
        let minors: Vec<Minor> = rules
            .taxonomy
            .minors()
            .map(|(_, minor)| Minor {
                code: minor.code.clone(),
                tier: minor.default_tier,
                department: minor
                    .responsibilities
                    .iter()
                    .find_map(|r| r.department.clone()),
            })
            .collect();
        drop(rules);

        // Cases per grid: uniform over the grids (a multinomial draw), then each case's own
        // draws grid by grid, so that a township's rollup rows can be written and forgotten
        // before the next township's.
        let mut random = SplitMix(options.seed);
        let mut per_grid = vec![0u32; grids.len()];
        for _ in 0..options.cases {
            per_grid[random.below(grids.len())] += 1;
        }

        let options_db = SqliteConnectOptions::new()
            .filename(&db_path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Off)
            .busy_timeout(std::time::Duration::from_secs(60))
            .pragma("cache_size", "-524288");
        let mut conn = SqliteConnection::connect_with(&options_db).await?;
        let rollups_before: i64 = sqlx::query_scalar("SELECT count(*) FROM rollups")
            .fetch_one(&mut conn)
            .await?;
        if rollups_before != 0 {
            anyhow::bail!("the fresh store already has {rollups_before} rollup rows");
        }
        let columns: Vec<String> = COUNTER_COLUMNS
            .iter()
            .map(|c| format!("{c} INTEGER NOT NULL"))
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE bench_cases (county_code TEXT NOT NULL, township_code TEXT NOT NULL, \
             village_code TEXT NOT NULL, grid_code TEXT NOT NULL, day TEXT NOT NULL, \
             category TEXT NOT NULL, channel TEXT NOT NULL, {})",
            columns.join(", ")
        )))
        .execute(&mut conn)
        .await?;

        let csv_path = dir.join("bench_cases.csv");
        let mut csv = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&csv_path).context("bench_cases.csv")?,
        );
        writeln!(
            csv,
            "county_code,township_code,village_code,grid_code,day,category,channel,{}",
            COUNTER_COLUMNS.join(",")
        )?;

        // Shanghai midnight of 2025-01-01 in UTC.
        let year_start = Utc
            .with_ymd_and_hms(2024, 12, 31, 16, 0, 0)
            .single()
            .context("year start")?;
        let generate_started = Instant::now();
        let mut write_seconds = 0.0;
        let mut csv_seconds = 0.0;
        let mut upper: HashMap<RollupKey, Counters> = HashMap::new();
        let mut rollup_rows = 0u64;
        let mut serial = 0u64;
        let mut expected_cases = 0u64;
        let mut start = 0usize;
        while start < grids.len() {
            let township = grids[start].township.clone();
            let mut end = start;
            while end < grids.len() && grids[end].township == township {
                end += 1;
            }
            let mut local: HashMap<RollupKey, Counters> = HashMap::new();
            let mut flat = Vec::new();
            for (index, grid) in grids.iter().enumerate().take(end).skip(start) {
                for _ in 0..per_grid[index] {
                    serial += 1;
                    let day = random.below(365) as i64;
                    let second = random.below(86_400) as i64;
                    let created_at = year_start + Duration::seconds(day * 86_400 + second);
                    let case = synth_case(&mut random, grid, &minors, created_at, serial);
                    let counters = Counters::of(&case);
                    let keys = rollup_keys(&case);
                    let day = keys[0].day.clone();
                    for key in keys {
                        let upper_row = key.area.len() <= 6 || key.area.starts_with("unit:");
                        let map = if upper_row { &mut upper } else { &mut local };
                        let entry = map.entry(key).or_default();
                        *entry = entry.plus(counters);
                    }
                    flat.push(FlatCase {
                        grid: index,
                        day,
                        category: case.category.clone().unwrap_or_default(),
                        channel: case.channel.as_str(),
                        counters,
                    });
                }
            }
            expected_cases += flat.len() as u64;
            let mut rows: Vec<(RollupKey, Counters)> = local.into_iter().collect();
            rows.sort_by(|(a, _), (b, _)| {
                (&a.area, &a.category, &a.channel, &a.day).cmp(&(
                    &b.area,
                    &b.category,
                    &b.channel,
                    &b.day,
                ))
            });
            rollup_rows += rows.len() as u64;
            let csv_started = Instant::now();
            for row in &flat {
                let grid = &grids[row.grid];
                write!(
                    csv,
                    "{},{},{},{},{},{},{}",
                    grid.county,
                    grid.township,
                    grid.village,
                    grid.code,
                    row.day,
                    row.category,
                    row.channel
                )?;
                for (_, value) in row.counters.fields() {
                    write!(csv, ",{value}")?;
                }
                writeln!(csv)?;
            }
            csv_seconds += csv_started.elapsed().as_secs_f64();
            let write_started = Instant::now();
            let mut tx = conn.begin().await?;
            insert_rollups(&mut tx, &rows).await?;
            insert_cases(&mut tx, &grids, &flat).await?;
            tx.commit().await?;
            write_seconds += write_started.elapsed().as_secs_f64();
            start = end;
        }
        let mut rows: Vec<(RollupKey, Counters)> = upper.into_iter().collect();
        rows.sort_by(|(a, _), (b, _)| {
            (&a.area, &a.category, &a.channel, &a.day).cmp(&(
                &b.area,
                &b.category,
                &b.channel,
                &b.day,
            ))
        });
        rollup_rows += rows.len() as u64;
        let write_started = Instant::now();
        let mut tx = conn.begin().await?;
        insert_rollups(&mut tx, &rows).await?;
        tx.commit().await?;
        write_seconds += write_started.elapsed().as_secs_f64();
        csv.flush()?;
        drop(csv);
        let generate_seconds = generate_started.elapsed().as_secs_f64();
        let index_started = Instant::now();
        sqlx::query("CREATE INDEX bench_cases_county_day ON bench_cases (county_code, day)")
            .execute(&mut conn)
            .await?;
        sqlx::query("CREATE INDEX bench_cases_grid_day ON bench_cases (grid_code, day)")
            .execute(&mut conn)
            .await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        let index_seconds = index_started.elapsed().as_secs_f64();
        // Table sizes, where SQLite was built with the dbstat table.
        let mut table_bytes = serde_json::Map::new();
        for name in [
            "rollups",
            "bench_cases",
            "bench_cases_county_day",
            "bench_cases_grid_day",
        ] {
            let bytes: Option<i64> =
                sqlx::query_scalar("SELECT sum(pgsize) FROM dbstat WHERE name = ?")
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await
                    .ok()
                    .flatten();
            table_bytes.insert(name.to_owned(), serde_json::json!(bytes));
        }
        conn.close().await?;
        let store_bytes = dir_bytes(&dir, onegrid_store::sqlite_file_name());
        let csv_bytes = std::fs::metadata(&csv_path)?.len();
        eprintln!(
            "{expected_cases} cases, {rollup_rows} rollup rows written in {generate_seconds:.1} s; \
             indexes {index_seconds:.1} s; store {store_bytes} bytes"
        );

        let classes = questions(&atlas, &grids, &options)?;

        // (i) Through the store's rollups.
        let (mut results, answers) = time_rollups(&app, &classes).await?;

        // (ii) The same totals as SQL over bench_cases, on the same file.
        let read_options = SqliteConnectOptions::new()
            .filename(&db_path)
            .read_only(true)
            .pragma("cache_size", "-524288");
        let mut reader = SqliteConnection::connect_with(&read_options).await?;
        let mut checked = 0usize;
        let mut plans = serde_json::Map::new();
        for (class, questions) in &classes {
            let sql = sum_sql(&questions[0].filter);
            let mut plan_query =
                sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
            for p in &questions[0].params {
                plan_query = plan_query.bind(p.as_str());
            }
            let plan: Vec<String> = plan_query
                .fetch_all(&mut reader)
                .await?
                .iter()
                .filter_map(|row| row.try_get::<String, _>(3).ok())
                .collect();
            plans.insert(class.clone(), serde_json::json!(plan.join("; ")));
            let class_started = Instant::now();
            let mut ms = Vec::new();
            for q in questions {
                if ms.len() >= 3 && class_started.elapsed().as_secs_f64() > options.sqlite_seconds {
                    break;
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sum_sql(&q.filter)));
                for p in &q.params {
                    query = query.bind(p.as_str());
                }
                let started = Instant::now();
                let row = query.fetch_one(&mut reader).await?;
                ms.push(started.elapsed().as_secs_f64() * 1000.0);
                let mut values = [0i64; 18];
                for (i, value) in values.iter_mut().enumerate() {
                    *value = row.try_get::<Option<i64>, _>(i)?.unwrap_or(0);
                }
                let got = Counters::from_values(values);
                let want = answers[&(q.code.clone(), q.period.from, q.period.to)];
                if got != want {
                    anyhow::bail!(
                        "{class} {} {:?}: SQL gives {got:?}, rollups {want:?}",
                        q.code,
                        q.period
                    );
                }
                checked += 1;
            }
            if let Some(entry) = results.get_mut(class) {
                entry["sqlite_group_by"] = summary(ms);
            }
            eprintln!("sqlite {class} done");
        }
        reader.close().await?;

        // The questions, with the rollups' answers, for bench/figures_duckdb.py.
        let exported: Vec<serde_json::Value> = classes
            .iter()
            .flat_map(|(class, questions)| {
                let answers = &answers;
                questions.iter().map(move |q| {
                    let want = answers[&(q.code.clone(), q.period.from, q.period.to)];
                    serde_json::json!({
                        "class": class,
                        "level": q.level,
                        "code": q.code,
                        "from": q.period.from,
                        "to": q.period.to,
                        "where": q.filter,
                        "params": q.params,
                        "expected": want.fields().map(|(_, v)| v),
                    })
                })
            })
            .collect();
        std::fs::write(
            dir.join("questions.json"),
            serde_json::to_string(&serde_json::json!({
                "columns": COUNTER_COLUMNS,
                "questions": exported,
            }))?,
        )?;

        let report = serde_json::json!({
            "benchmark": "figures",
            "cases": expected_cases,
            "grids": grids.len(),
            "minor_categories": minors.len(),
            "demo": demo,
            "demo_seconds": demo_seconds,
            "generate_and_write_seconds": generate_seconds,
            "of_which_sqlite_insert_seconds": write_seconds,
            "of_which_csv_seconds": csv_seconds,
            "index_and_analyze_seconds": index_seconds,
            "rollup_rows": rollup_rows,
            "store_bytes": store_bytes,
            "table_bytes": table_bytes,
            "csv_bytes": csv_bytes,
            "sqlite_answers_checked_identical": checked,
            "sqlite_plans": plans,
            "results": results,
            "dir": dir.display().to_string(),
            "kept": options.keep,
        });
        drop(atlas);
        drop(app);
        if !options.keep {
            for entry in std::fs::read_dir(&dir)?.filter_map(|e| e.ok()) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name != "bench_cases.csv" && name != "questions.json" {
                    let path = entry.path();
                    if path.is_dir() {
                        let _ = std::fs::remove_dir_all(&path);
                    } else {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(())
    }
}

/// `onegrid bench figures-postgres`: the figures benchmark's questions asked of the PostgreSQL
/// store, over the very rollup rows `bench figures` wrote into SQLite.
mod figures_postgres {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::str::FromStr;
    use std::time::Instant;

    use anyhow::Context;
    use chrono::NaiveDate;
    use csv_lines::rows_as_csv;
    use onegrid_app::App;
    use onegrid_app::figures::Period;
    use onegrid_domain::RegionCode;
    use sqlx::postgres::{PgConnectOptions, PgConnection};
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{Connection, SqliteConnection};

    /// Nearest-rank percentile of sorted milliseconds.
    fn percentile(sorted: &[f64], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    fn summary(mut ms: Vec<f64>) -> serde_json::Value {
        ms.sort_by(f64::total_cmp);
        serde_json::json!({
            "asked": ms.len(),
            "p50_ms": percentile(&ms, 50.0),
            "p95_ms": percentile(&ms, 95.0),
            "max_ms": ms.last().copied().unwrap_or(f64::NAN),
        })
    }

    /// Rollup rows from the SQLite file as CSV, in chunks, straight into `COPY … FROM STDIN`.
    mod csv_lines {
        use sqlx::Row;
        use sqlx::sqlite::SqliteRow;

        /// One rollup row as a CSV line (codes and days hold no comma or quote; an empty field is
        /// the empty string, as `FORCE_NOT_NULL` reads it).
        pub fn rows_as_csv(row: &SqliteRow, out: &mut String) -> Result<(), sqlx::Error> {
            use std::fmt::Write;
            for i in 0..4 {
                let text: String = row.try_get(i)?;
                out.push_str(&text);
                out.push(',');
            }
            for i in 4..22 {
                let value: i64 = row.try_get(i)?;
                let _ = write!(out, "{value}");
                out.push(if i == 21 { '\n' } else { ',' });
            }
            Ok(())
        }
    }

    pub async fn run(dir: &Path, url: &str) -> anyhow::Result<()> {
        let questions_text =
            std::fs::read_to_string(dir.join("questions.json")).with_context(|| {
                format!(
                    "{}/questions.json (run bench figures --keep)",
                    dir.display()
                )
            })?;
        let questions: serde_json::Value = serde_json::from_str(&questions_text)?;
        let sqlite_path = dir.join(onegrid_store::sqlite_file_name());
        if !sqlite_path.is_file() {
            anyhow::bail!(
                "{} is missing: run bench figures with --keep",
                sqlite_path.display()
            );
        }

        let started = Instant::now();
        let store = onegrid_store::open(&onegrid_store::Location::Postgres(url.to_owned()))
            .await
            .context("opening the PostgreSQL store")?;
        let app = App::load(store).await?;
        let demo = app.load_demo_city().await?;
        let demo_seconds = started.elapsed().as_secs_f64();

        let mut target = PgConnection::connect_with(&PgConnectOptions::from_str(url)?).await?;
        let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM rollups")
            .fetch_one(&mut target)
            .await?;
        if existing != 0 {
            anyhow::bail!("--to: the database already holds {existing} rollup rows");
        }
        let mut source = SqliteConnection::connect_with(
            &SqliteConnectOptions::new()
                .filename(&sqlite_path)
                .read_only(true),
        )
        .await?;
        let load_started = Instant::now();
        // Emptied in the loading transaction: with wal_level=minimal the server then writes
        // the rows without logging them (the load is not what is measured).
        sqlx::raw_sql("BEGIN; TRUNCATE rollups")
            .execute(&mut target)
            .await?;
        let mut copy = target
            .copy_in_raw(
                "COPY rollups (area_code, category, channel, day, reported, accepted, rejected,
                 registered, dispatched, handled, handled_on_time, closed, closed_on_time,
                 reworked, extended, overdue, voided, evaluated, satisfied, settled_in_grid,
                 settled_in_township, handle_seconds) FROM STDIN
                 WITH (FORMAT csv, FORCE_NOT_NULL (area_code, category, channel))",
            )
            .await?;
        let mut chunk = String::with_capacity(1 << 21);
        let mut loaded = 0u64;
        {
            use futures_util::TryStreamExt;
            let mut rows = sqlx::query("SELECT * FROM rollups").fetch(&mut source);
            while let Some(row) = rows.try_next().await? {
                rows_as_csv(&row, &mut chunk)?;
                loaded += 1;
                if chunk.len() >= 1 << 21 {
                    copy.send(chunk.as_bytes()).await?;
                    chunk.clear();
                }
            }
        }
        if !chunk.is_empty() {
            copy.send(chunk.as_bytes()).await?;
        }
        copy.finish().await?;
        sqlx::raw_sql("COMMIT").execute(&mut target).await?;
        let load_seconds = load_started.elapsed().as_secs_f64();
        sqlx::query("VACUUM ANALYZE rollups")
            .execute(&mut target)
            .await?;
        let rollup_bytes: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('rollups')")
            .fetch_one(&mut target)
            .await?;
        eprintln!("{loaded} rollup rows loaded in {load_seconds:.1} s");

        // The questions, by class, as bench figures asked them; one untimed warm-up each.
        let mut classes: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
        for q in questions["questions"].as_array().context("questions")? {
            let class = q["class"].as_str().context("class")?.to_owned();
            classes.entry(class).or_default().push(q);
        }
        let parse = |q: &serde_json::Value| -> anyhow::Result<(RegionCode, Period, Vec<i64>)> {
            let code = RegionCode::parse(q["code"].as_str().context("code")?)?;
            let day = |name: &str| -> anyhow::Result<NaiveDate> {
                Ok(NaiveDate::parse_from_str(
                    q[name].as_str().context("day")?,
                    "%Y-%m-%d",
                )?)
            };
            let expected = q["expected"]
                .as_array()
                .context("expected")?
                .iter()
                .map(|v| v.as_i64().unwrap_or(-1))
                .collect();
            Ok((code, Period::new(day("from")?, day("to")?)?, expected))
        };
        let mut results = serde_json::Map::new();
        let mut checked = 0usize;
        for (class, list) in &classes {
            let (code, period, _) = parse(list[0])?;
            app.counters(&[code.to_string()], period).await?;
            let mut ms = Vec::with_capacity(list.len());
            let mut panel_ms = Vec::with_capacity(list.len());
            for q in list {
                let (code, period, expected) = parse(q)?;
                let started = Instant::now();
                let counters = app.counters(&[code.to_string()], period).await?;
                ms.push(started.elapsed().as_secs_f64() * 1000.0);
                let got: Vec<i64> = counters[0].fields().map(|(_, v)| v).to_vec();
                if got != expected {
                    anyhow::bail!(
                        "{class} {code}: PostgreSQL {got:?}, SQLite rollups {expected:?}"
                    );
                }
                let started = Instant::now();
                let figures = app.region_figures(&code, period).await?;
                panel_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                if figures.figures.counters != counters[0] {
                    anyhow::bail!("{class} {code}: region_figures and counters disagree");
                }
                checked += 1;
            }
            results.insert(
                class.clone(),
                serde_json::json!({
                    "postgres_counters": summary(ms),
                    "postgres_region_figures": summary(panel_ms),
                }),
            );
            eprintln!("postgres {class} done");
        }
        let version: String = sqlx::query_scalar("SELECT version()")
            .fetch_one(&mut target)
            .await?;
        let report = serde_json::json!({
            "benchmark": "figures-postgres",
            "server": version,
            "demo": demo,
            "demo_seconds": demo_seconds,
            "rollup_rows": loaded,
            "load_seconds": load_seconds,
            "rollup_bytes": rollup_bytes,
            "answers_checked_identical": checked,
            "results": results,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(())
    }
}
