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
}

/// A small deterministic generator (SplitMix64) so that every run asks the same points.
struct SplitMix(u64);

impl SplitMix {
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
    let report = serde_json::json!({
        "benchmark": "locate",
        "grids": grids.len(),
        "points": points.len(),
        "points_in_some_area": found,
        "points_in_a_grid": grid_hits,
        "lookups": lookups,
        "seconds": seconds,
        "lookups_per_second_one_core": lookups as f64 / seconds,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
