//! The index and the overlap check over a regular lattice of squares, as produced by
//! `tiling::lattice_cells` for the demo city.

use std::time::Instant;

use geo::MultiPolygon;
use onegrid_geo::index::{AreaIndex, covers};
use onegrid_geo::tiling::{lattice_cells, rect_shape};
use onegrid_geo::validate::find_overlaps;
use proptest::prelude::*;

const CELL: f64 = 0.01;
const X0: f64 = 112.0;
const Y0: f64 = 37.0;

/// A `cols` × `rows` lattice of 0.01° squares from (112°, 37°), coded "00000", "00001", … in
/// the tiling's Hilbert order.
fn lattice(cols: u32, rows: u32) -> Vec<(String, MultiPolygon<f64>)> {
    let outline = rect_shape(
        X0,
        Y0,
        X0 + f64::from(cols) * CELL,
        Y0 + f64::from(rows) * CELL,
    );
    let cells = lattice_cells(&outline, CELL, CELL);
    assert_eq!(cells.len(), (cols * rows) as usize);
    cells
        .into_iter()
        .enumerate()
        .map(|(i, c)| (format!("{i:05}"), c))
        .collect()
}

fn index_of(cells: &[(String, MultiPolygon<f64>)]) -> AreaIndex {
    AreaIndex::build(
        cells
            .iter()
            .map(|(code, shape)| (code.clone(), 5, shape.clone()))
            .collect(),
    )
}

/// The `k`-th lattice line after `origin`, computed like `lattice_cells` does.
fn lattice_line(origin: f64, k: u32) -> f64 {
    ((origin / CELL).round() as i64 + i64::from(k)) as f64 * CELL
}

/// The smallest code among cells covering the point, by brute force.
fn smallest_covering(cells: &[(String, MultiPolygon<f64>)], x: f64, y: f64) -> Option<&str> {
    cells
        .iter()
        .filter(|(_, s)| covers(s, x, y))
        .map(|(c, _)| c.as_str())
        .min()
}

/// The 100 × 70 lattice, a bulk-loaded index and an incrementally built one.
type Fixture = (Vec<(String, MultiPolygon<f64>)>, AreaIndex, AreaIndex);

fn fixture() -> &'static Fixture {
    use std::sync::OnceLock;
    static CELLS: OnceLock<Fixture> = OnceLock::new();
    CELLS.get_or_init(|| {
        let cells = lattice(100, 70);
        let bulk = index_of(&cells);
        // The same cells inserted one by one in reverse order.
        let mut incremental = AreaIndex::new();
        for (code, shape) in cells.iter().rev() {
            incremental.insert(code.clone(), 5, shape.clone());
        }
        (cells, bulk, incremental)
    })
}

proptest! {
    // No failure persistence file: integration tests have no lib.rs next to them to anchor it.
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_random_point_lies_in_exactly_one_cell(fx in 0.0f64..1.0, fy in 0.0f64..1.0) {
        let (cells, idx, _) = fixture();
        let (x, y) = (X0 + fx * 100.0 * CELL, Y0 + fy * 70.0 * CELL);
        let (code, depth) = idx.locate(x, y).expect("inside the lattice");
        prop_assert_eq!(depth, 5);
        let cell = &cells.iter().find(|(c, _)| c == code).expect("known code").1;
        prop_assert!(covers(cell, x, y));
        // Off the lattice lines (almost surely), exactly one cell has the point inside.
        let interior = idx.interior_codes_at_depth(x, y, 5);
        prop_assert!(interior.len() <= 1);
        if let [only] = interior.as_slice() {
            prop_assert_eq!(*only, code);
        }
    }

    #[test]
    fn points_on_shared_edges_resolve_to_the_smallest_code(
        i in 1u32..100,
        j in 1u32..70,
        t in 0.0f64..1.0,
        vertical in any::<bool>(),
        corner in any::<bool>(),
    ) {
        let (cells, bulk, incremental) = fixture();
        // Lattice lines exactly as the tiling computes them (column index × cell size).
        let xi = lattice_line(X0, i);
        let yj = lattice_line(Y0, j);
        let (x, y) = match (corner, vertical) {
            (true, _) => (xi, yj),
            (false, true) => (xi, Y0 + t * 70.0 * CELL),
            (false, false) => (X0 + t * 100.0 * CELL, yj),
        };
        let expected = smallest_covering(cells, x, y);
        prop_assert!(expected.is_some());
        let got = bulk.locate(x, y).map(|(c, _)| c);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(incremental.locate(x, y).map(|(c, _)| c), expected);
        // Asking again gives the same answer.
        prop_assert_eq!(bulk.locate(x, y).map(|(c, _)| c), got);
    }
}

#[test]
fn edge_points_are_covered_by_two_cells_and_corners_by_four() {
    let (cells, idx, _) = fixture();
    let (x, y) = (lattice_line(X0, 10), lattice_line(Y0, 10));
    let n_edge = cells
        .iter()
        .filter(|(_, s)| covers(s, x, y + 0.003))
        .count();
    let n_corner = cells.iter().filter(|(_, s)| covers(s, x, y)).count();
    assert_eq!((n_edge, n_corner), (2, 4));
    assert!(idx.interior_codes_at_depth(x, y, 5).is_empty());
    assert_eq!(
        idx.locate(x, y).map(|(c, _)| c),
        smallest_covering(cells, x, y)
    );
    assert_eq!(idx.locate(X0 - 0.001, Y0), None);
}

#[test]
fn a_lattice_of_ten_thousand_squares_has_no_overlaps() {
    let cells = lattice(100, 100);
    let named: Vec<(&str, &MultiPolygon<f64>)> =
        cells.iter().map(|(c, s)| (c.as_str(), s)).collect();
    let start = Instant::now();
    let overlaps = find_overlaps(&named, 0.0);
    let elapsed = start.elapsed();
    assert!(overlaps.is_empty(), "{overlaps:?}");
    println!("find_overlaps over {} squares: {elapsed:?}", named.len());
}

/// Lookup rate over a 100 × 70 lattice (7,000 grids). Run with
/// `cargo test --release -p onegrid-geo --test lattice -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, run in release mode"]
fn locate_rate() {
    let cells = lattice(100, 70);
    let idx = index_of(&cells);
    // A simple LCG: deterministic, no allocation, no extra dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let points: Vec<(f64, f64)> = (0..1_000_000)
        .map(|_| (X0 + next() * 1.0, Y0 + next() * 0.7))
        .collect();
    let mut found = 0usize;
    // Warm-up, then the timed rounds.
    for &(x, y) in &points[..10_000] {
        found += usize::from(idx.locate(x, y).is_some());
    }
    let rounds = 3;
    let start = Instant::now();
    for _ in 0..rounds {
        for &(x, y) in &points {
            found += usize::from(std::hint::black_box(idx.locate(x, y)).is_some());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = (rounds * points.len()) as f64;
    println!(
        "AreaIndex::locate: {:.0} lookups/s over {} grids ({found} found)",
        n / secs,
        idx.len()
    );
    let start = Instant::now();
    let mut at_depth = 0usize;
    for &(x, y) in &points {
        at_depth += usize::from(std::hint::black_box(idx.locate_at_depth(x, y, 5)).is_some());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "AreaIndex::locate_at_depth(5): {:.0} lookups/s ({at_depth} found)",
        points.len() as f64 / secs
    );
}
