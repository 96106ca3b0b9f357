//! Tiling helpers used to generate the illustrative demo city: cut an outline into lattice
//! cells, split a run of cells among parents, and union cells back into bigger areas.

use std::ops::Range;

use geo::orient::{Direction, Orient};
use geo::{
    Area, BooleanOps, BoundingRect, Coord, Intersects, Line, LineString, MapCoords, MultiPolygon,
    Point, Polygon, Rect, RemoveRepeatedPoints, unary_union,
};
use rstar::{AABB, RTree};

use crate::pip::{Place, multi_place};

/// Clipped pieces smaller than this (in square degrees, about 1 m² in Shanxi) are dropped.
pub const SLIVER_DEG2: f64 = 1e-10;

/// Errors of the tiling helpers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TilingError {
    #[error("cannot split {n} items into {runs} non-empty runs")]
    NotEnoughItems { n: usize, runs: usize },
    #[error("weight {index} is {weight}; weights must be finite and not negative")]
    InvalidWeight { index: usize, weight: f64 },
}

/// Cover `outline` with a regular lon/lat lattice of `cell_width_deg` × `cell_height_deg`
/// rectangles and return the cells, clipped to the outline.
///
/// * The lattice is aligned to integer multiples of the cell size (cell `(i, j)` spans
///   `i·w ..= (i+1)·w`, `j·h ..= (j+1)·h`), so the lattices of neighbouring outlines line up
///   and share their corner coordinates exactly.
/// * A rectangle wholly inside the outline is kept as is; one crossed by the outline's
///   boundary is intersected with the outline (`BooleanOps`), and its vertices that lie within
///   a hair of the cell's own sides are snapped back onto them so that it meets its unclipped
///   neighbours exactly.
/// * Empty results and slivers below [`SLIVER_DEG2`] square degrees are dropped; the gap they
///   leave is negligible (each is under about a square metre).
/// * Cells are returned in Hilbert-curve order over their lattice (column, row), so that a
///   contiguous run of the result forms a compact patch (used to group grids into villages).
///
/// Non-positive or non-finite cell sizes yield no cells.
pub fn lattice_cells(
    outline: &MultiPolygon<f64>,
    cell_width_deg: f64,
    cell_height_deg: f64,
) -> Vec<MultiPolygon<f64>> {
    let (w, h) = (cell_width_deg, cell_height_deg);
    if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0) {
        return Vec::new();
    }
    let Some(bbox) = outline.bounding_rect() else {
        return Vec::new();
    };
    // Lattice index ranges; f64 → i64 saturates, and real outlines are small.
    let c0 = (bbox.min().x / w).floor() as i64;
    let c1 = (bbox.max().x / w).ceil() as i64;
    let r0 = (bbox.min().y / h).floor() as i64;
    let r1 = (bbox.max().y / h).ceil() as i64;

    // The outline's edges, to find the cells its boundary passes through.
    let edges: RTree<Line<f64>> = RTree::bulk_load(
        outline
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.lines())
            .collect(),
    );
    // Snapping tolerance: above the boolean-op round-off (about 3e-10° over a county-sized
    // operation) and small enough that a snapped vertex moves an edge by under a millimetre,
    // so snapping cannot push a cell measurably across its outline.
    let snap = (w.min(h) * 1e-6).min(5e-9);

    let mut cells: Vec<(u64, MultiPolygon<f64>)> = Vec::new();
    let side = u64::try_from((c1 - c0).max(r1 - r0).max(1))
        .unwrap_or(1)
        .next_power_of_two();
    for col in c0..c1 {
        for row in r0..r1 {
            let (x0, x1) = (col as f64 * w, (col + 1) as f64 * w);
            let (y0, y1) = (row as f64 * h, (row + 1) as f64 * h);
            let rect = Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 });
            let crossed = edges
                .locate_in_envelope_intersecting(&AABB::from_corners(
                    Point::new(x0, y0),
                    Point::new(x1, y1),
                ))
                .any(|edge| edge.intersects(&rect));
            let cell = if crossed {
                let clipped = outline.intersection(&rect.to_polygon());
                let snapped = snap_to_rect(&clipped, &rect, snap);
                if snapped.unsigned_area() < SLIVER_DEG2 {
                    continue;
                }
                snapped
            } else {
                // The boundary does not enter the cell: it is wholly inside or outside.
                let centre = Coord {
                    x: (x0 + x1) / 2.0,
                    y: (y0 + y1) / 2.0,
                };
                if multi_place(outline, centre) != Place::Inside {
                    continue;
                }
                MultiPolygon(vec![rect.to_polygon()])
            };
            // Both differences are non-negative and below `side` by construction.
            let key = hilbert_index(side, (col - c0) as u64, (row - r0) as u64);
            cells.push((key, cell));
        }
    }
    cells.sort_by_key(|(key, _)| *key);
    cells.into_iter().map(|(_, cell)| cell).collect()
}

/// Move coordinates within `tol` of the rectangle's sides exactly onto them, then drop the
/// repeated points this may create.
fn snap_to_rect(shape: &MultiPolygon<f64>, rect: &Rect<f64>, tol: f64) -> MultiPolygon<f64> {
    let snap1 = |v: f64, lo: f64, hi: f64| {
        if (v - lo).abs() <= tol {
            lo
        } else if (v - hi).abs() <= tol {
            hi
        } else {
            v
        }
    };
    let (min, max) = (rect.min(), rect.max());
    let snapped = shape.map_coords(|c| Coord {
        x: snap1(c.x, min.x, max.x),
        y: snap1(c.y, min.y, max.y),
    });
    let cleaned: Vec<Polygon<f64>> = snapped
        .0
        .into_iter()
        .map(|p| p.remove_repeated_points())
        .filter(|p| p.exterior().0.len() >= 4)
        .collect();
    MultiPolygon(cleaned)
}

/// Position of lattice cell `(x, y)` along the Hilbert curve filling a `side` × `side` square
/// (`side` a power of two).
fn hilbert_index(side: u64, mut x: u64, mut y: u64) -> u64 {
    let mut d = 0;
    let mut s = side / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant so the sub-curve is in standard orientation.
        if ry == 0 {
            if rx == 1 {
                x = side - 1 - x;
                y = side - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// Split `0..n` into `weights.len()` contiguous runs whose lengths are proportional to the
/// weights, each at least 1 long, lengths summing to `n`.
///
/// Each run first gets its quota `n·wᵢ/Σw` rounded down (at least 1); leftover items go to the
/// runs with the largest remainders `quota − length` (ties to the earlier run), and if the
/// minimum of 1 over-allocated, items are taken back from the runs most above their quota.
/// All-zero weights count as equal weights. Errors: `n < weights.len()` (including `n > 0`
/// with no weights), or a negative / non-finite weight. `n == 0` with no weights is empty.
pub fn proportional_runs(n: usize, weights: &[f64]) -> Result<Vec<Range<usize>>, TilingError> {
    if let Some((index, &weight)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite() || **w < 0.0)
    {
        return Err(TilingError::InvalidWeight { index, weight });
    }
    let k = weights.len();
    if n < k || (k == 0 && n > 0) {
        return Err(TilingError::NotEnoughItems { n, runs: k });
    }
    if k == 0 {
        return Ok(Vec::new());
    }
    let total: f64 = weights.iter().sum();
    let quotas: Vec<f64> = if total > 0.0 {
        weights.iter().map(|w| n as f64 * w / total).collect()
    } else {
        vec![n as f64 / k as f64; k]
    };
    // Float quotas are clamped to `n`, so the cast cannot overflow.
    let mut sizes: Vec<usize> = quotas
        .iter()
        .map(|q| (q.floor() as usize).clamp(1, n))
        .collect();
    let mut sum: usize = sizes.iter().sum();
    while sum < n {
        let i = argmax(k, |i| quotas[i] - sizes[i] as f64, |_| true);
        sizes[i] += 1;
        sum += 1;
    }
    while sum > n {
        // Some run is above 1 here, because sum > n ≥ k.
        let i = argmax(k, |i| sizes[i] as f64 - quotas[i], |i| sizes[i] > 1);
        sizes[i] -= 1;
        sum -= 1;
    }
    let mut start = 0;
    Ok(sizes
        .into_iter()
        .map(|len| {
            let run = start..start + len;
            start += len;
            run
        })
        .collect())
}

/// The index in `0..k` maximising `score` among those passing `eligible`, earliest on ties.
/// Callers guarantee at least one eligible index; 0 is returned otherwise.
fn argmax(k: usize, score: impl Fn(usize) -> f64, eligible: impl Fn(usize) -> bool) -> usize {
    let mut best: Option<(usize, f64)> = None;
    for i in (0..k).filter(|&i| eligible(i)) {
        let s = score(i);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// Union of the shapes (`BooleanOps` via geo's `unary_union`): builds a village from its grid
/// cells and a township from its villages; shared edges disappear.
///
/// Inputs are re-oriented first (exteriors counter-clockwise) because `unary_union` picks its
/// fill rule from the winding of the first ring it sees.
pub fn union_all(shapes: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let oriented: Vec<MultiPolygon<f64>> = shapes
        .iter()
        .map(|s| s.orient(Direction::Default))
        .collect();
    if oriented.is_empty() {
        return MultiPolygon(Vec::new());
    }
    unary_union(&oriented)
}

/// A closed rectangle ring, used by tests and callers building simple outlines.
pub fn rect_shape(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
        Vec::new(),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{area_m2, find_overlaps};
    use geo::BoundingRect;
    use proptest::prelude::*;

    #[test]
    fn hilbert_visits_neighbours_in_turn() {
        let side = 8;
        let mut order: Vec<(u64, u64, u64)> = (0..side)
            .flat_map(|x| (0..side).map(move |y| (hilbert_index(side, x, y), x, y)))
            .collect();
        order.sort();
        for (i, w) in order.windows(2).enumerate() {
            assert_eq!(w[0].0, i as u64);
            let step = w[0].1.abs_diff(w[1].1) + w[0].2.abs_diff(w[1].2);
            assert_eq!(step, 1, "{w:?}");
        }
    }

    #[test]
    fn lattice_of_a_rectangle_is_exact_and_compact() {
        // 0.01° cells over a rectangle aligned to the lattice: 10 × 7 unclipped cells.
        let outline = rect_shape(112.0, 37.0, 112.1, 37.07);
        let cells = lattice_cells(&outline, 0.01, 0.01);
        assert_eq!(cells.len(), 70);
        // Every cell is an unclipped lattice rectangle, in Hilbert order: the 8 × 8 quadrant
        // at the lower left comes first and each step moves to a neighbour.
        let first = cells[0].bounding_rect().expect("non-empty");
        assert!((first.min().x - 112.0).abs() < 1e-9 && (first.min().y - 37.0).abs() < 1e-9);
        let mut adjacent = 0;
        for pair in cells.windows(2) {
            let (a, b) = (
                pair[0].bounding_rect().expect("cell"),
                pair[1].bounding_rect().expect("cell"),
            );
            let step = ((a.min().x - b.min().x).abs() + (a.min().y - b.min().y).abs()) / 0.01;
            if (step - 1.0).abs() < 1e-6 {
                adjacent += 1;
            }
        }
        // The curve is cut by the lattice's edge a few times; almost all steps stay adjacent.
        assert!(adjacent >= 60, "{adjacent}");
        let total: f64 = cells.iter().map(area_m2).sum();
        // Geodesic areas carry ~1 m² of absolute error each, hence the tolerance.
        assert!((total - area_m2(&outline)).abs() / total < 1e-6);
    }

    #[test]
    fn lattice_of_a_triangle_with_hole() {
        let outline = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (112.003, 37.001),
                (112.2, 37.05),
                (112.05, 37.19),
                (112.003, 37.001),
            ]),
            vec![LineString::from(vec![
                (112.06, 37.06),
                (112.08, 37.061),
                (112.07, 37.09),
                (112.06, 37.06),
            ])],
        )]);
        let cells = lattice_cells(&outline, 0.013, 0.011);
        // Planar areas (square degrees): the geodesic area of this 20 km triangle treats its
        // edges as geodesics, which bow away from the straight lon/lat lines the clipped cells
        // follow, by 0.04% of the area here. Real outlines have short edges.
        let total: f64 = cells.iter().map(|c| c.unsigned_area()).sum();
        let expected = outline.unsigned_area();
        assert!(
            (total - expected).abs() / expected < 1e-4,
            "{total} vs {expected}"
        );
        let codes: Vec<String> = (0..cells.len()).map(|i| format!("{i:05}")).collect();
        let named: Vec<(&str, &MultiPolygon<f64>)> =
            codes.iter().map(String::as_str).zip(cells.iter()).collect();
        assert_eq!(find_overlaps(&named, 0.01), vec![]);
        // Union gives back the outline.
        let refs: Vec<&MultiPolygon<f64>> = cells.iter().collect();
        let union = union_all(&refs);
        assert!((union.unsigned_area() - expected).abs() / expected < 1e-4);
        assert!((area_m2(&union) - area_m2(&outline)).abs() / area_m2(&outline) < 1e-3);
        assert_eq!(union.0.len(), 1);
        assert_eq!(union.0[0].interiors().len(), 1);
    }

    #[test]
    fn runs_examples() {
        assert_eq!(proportional_runs(10, &[1.0, 1.0]), Ok(vec![0..5, 5..10]));
        assert_eq!(
            proportional_runs(10, &[1.0, 2.0, 2.0]),
            Ok(vec![0..2, 2..6, 6..10])
        );
        assert_eq!(
            proportional_runs(3, &[100.0, 0.0, 0.0]),
            Ok(vec![0..1, 1..2, 2..3])
        );
        assert_eq!(proportional_runs(4, &[0.0, 0.0]), Ok(vec![0..2, 2..4]));
        assert_eq!(proportional_runs(0, &[]), Ok(vec![]));
        assert_eq!(
            proportional_runs(1, &[1.0, 1.0]),
            Err(TilingError::NotEnoughItems { n: 1, runs: 2 })
        );
        assert_eq!(
            proportional_runs(1, &[]),
            Err(TilingError::NotEnoughItems { n: 1, runs: 0 })
        );
        assert!(matches!(
            proportional_runs(5, &[1.0, -1.0]),
            Err(TilingError::InvalidWeight { index: 1, .. })
        ));
        assert!(proportional_runs(5, &[f64::NAN]).is_err());
    }

    proptest! {
        #[test]
        fn runs_are_contiguous_proportional_and_non_empty(
            n in 0usize..2000,
            weights in prop::collection::vec(0.0f64..100.0, 0..30),
        ) {
            match proportional_runs(n, &weights) {
                Err(TilingError::NotEnoughItems { .. }) => prop_assert!(n < weights.len() || weights.is_empty()),
                Err(e) => prop_assert!(false, "unexpected {e}"),
                Ok(runs) => {
                    prop_assert_eq!(runs.len(), weights.len());
                    let mut next = 0;
                    for r in &runs {
                        prop_assert_eq!(r.start, next);
                        prop_assert!(!r.is_empty());
                        next = r.end;
                    }
                    prop_assert_eq!(next, n);
                    // Each length is within one item of its quota, or is the minimum of 1.
                    let total: f64 = weights.iter().sum();
                    if total > 0.0 {
                        let extra: usize = runs.iter().zip(&weights)
                            .map(|(r, w)| usize::from(r.len() == 1 && n as f64 * w / total < 1.0))
                            .sum();
                        for (r, w) in runs.iter().zip(&weights) {
                            let quota = n as f64 * w / total;
                            let len = r.len() as f64;
                            prop_assert!(len == 1.0 || (len - quota).abs() < 1.0 + extra as f64,
                                "len {} quota {}", len, quota);
                        }
                    }
                }
            }
        }
    }
}
