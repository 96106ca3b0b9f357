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
            let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
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
        let request = shared.client.request(
            "POST",
            "/api/v1/cases",
            &[("Idempotency-Key", &key), ("X-Actor-Role", "resident")],
            &body,
        );
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
                            &[("X-Actor-Role", "centre_intake"), ("X-Actor-Name", "bench")],
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
