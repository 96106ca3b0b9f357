//! Exact point-in-polygon classification (inside / on the boundary / outside), shared by the
//! index and the coverage checks.
//!
//! A hand-rolled crossing test rather than geo's `CoordinatePosition`: it makes one pass over
//! the edges, allocates nothing, and detects boundary points explicitly with the exact
//! `robust::orient2d` predicate, so a point on an edge shared by two areas is classified as
//! "boundary" for both, never "inside" for one and "outside" for the other.

use geo::{Coord, MultiPolygon, Polygon, Rect};

/// Where a point lies relative to an area. Ordered so that `max` picks the strongest relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Place {
    Outside,
    Boundary,
    Inside,
}

#[inline]
fn orient(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: p.x, y: p.y },
    )
}

/// Crossing parity of a closed ring for `p`, or `None` when `p` lies on the ring.
///
/// Uses the half-open rule (an edge counts when exactly one end is strictly above `p`), so a
/// ray through a vertex is counted once.
#[inline]
fn ring_parity(ring: &[Coord<f64>], p: Coord<f64>) -> Option<bool> {
    let mut odd = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        let a_above = a.y > p.y;
        let b_above = b.y > p.y;
        if a_above != b_above {
            // The edge spans p's horizontal line; p is on it exactly when collinear.
            let o = orient(a, b, p);
            if o == 0.0 {
                return None;
            }
            // The crossing lies to the right of p when p is left of an upward edge, or right
            // of a downward edge.
            if (o > 0.0) == b_above {
                odd = !odd;
            }
        } else if a.y == p.y {
            // Not spanning: p can still be the vertex a, or on a horizontal edge.
            if a.x == p.x || (b.y == p.y && (a.x.min(b.x)..=a.x.max(b.x)).contains(&p.x)) {
                return None;
            }
        }
    }
    Some(odd)
}

/// Whether `p` lies on the closed ring (an edge or a vertex).
pub(crate) fn on_ring(ring: &[Coord<f64>], p: Coord<f64>) -> bool {
    ring_parity(ring, p).is_none()
}

/// Classify `p` against one polygon (exterior and holes; rings must be closed, as geo makes
/// them).
#[inline]
pub(crate) fn polygon_place(poly: &Polygon<f64>, p: Coord<f64>) -> Place {
    let mut inside = false;
    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
        match ring_parity(&ring.0, p) {
            None => return Place::Boundary,
            Some(odd) => inside ^= odd,
        }
    }
    if inside {
        Place::Inside
    } else {
        Place::Outside
    }
}

#[inline]
pub(crate) fn rect_covers(r: &Rect<f64>, p: Coord<f64>) -> bool {
    p.x >= r.min().x && p.x <= r.max().x && p.y >= r.min().y && p.y <= r.max().y
}

/// A polygon with more edges than this gets a band index.
const BAND_THRESHOLD: usize = 24;

/// One polygon prepared for repeated point tests: its edges (all rings together), and, for a
/// polygon with many edges, the edges sorted into horizontal bands so that a test reads only
/// the edges of the band holding the point's latitude.
///
/// This is exact, not an approximation: the crossing test only ever counts edges whose
/// latitude range contains the point's, and every such edge is filed under the point's band,
/// because the band number `⌊(y − y0)·k⌋` never decreases as `y` grows, even in floating
/// point. A county outline of 700 edges is read 10–20 edges at a time.
#[derive(Clone, Debug)]
pub(crate) struct PreparedPolygon {
    bbox: Rect<f64>,
    edges: Vec<[Coord<f64>; 2]>,
    /// Empty when the polygon is small; else band `b`'s edges are
    /// `band_edges[band_start[b]..band_start[b + 1]]`.
    band_start: Vec<u32>,
    band_edges: Vec<u32>,
    y0: f64,
    bands_per_degree: f64,
    bands: usize,
}

impl PreparedPolygon {
    /// `None` for a polygon without coordinates.
    pub(crate) fn new(poly: &Polygon<f64>) -> Option<PreparedPolygon> {
        use geo::BoundingRect;
        let bbox = poly.bounding_rect()?;
        let edges: Vec<[Coord<f64>; 2]> = std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .flat_map(|ring| ring.0.windows(2).map(|w| [w[0], w[1]]))
            .collect();
        let mut prepared = PreparedPolygon {
            bbox,
            edges,
            band_start: Vec::new(),
            band_edges: Vec::new(),
            y0: bbox.min().y,
            bands_per_degree: 0.0,
            bands: 1,
        };
        let height = bbox.height();
        if prepared.edges.len() <= BAND_THRESHOLD || height <= 0.0 || !height.is_finite() {
            return Some(prepared);
        }
        let bands = (prepared.edges.len() / 4).clamp(8, 4096);
        prepared.bands_per_degree = bands as f64 / height;
        prepared.bands = bands;
        let mut counts = vec![0u32; bands + 1];
        for edge in &prepared.edges {
            let (lo, hi) = prepared.band_range(edge);
            for count in &mut counts[lo..=hi] {
                *count += 1;
            }
        }
        let mut start = Vec::with_capacity(bands + 1);
        let mut total = 0u32;
        for count in &counts[..bands] {
            start.push(total);
            total += count;
        }
        start.push(total);
        let mut fill = start.clone();
        let mut band_edges = vec![0u32; total as usize];
        for (index, edge) in prepared.edges.iter().enumerate() {
            let (lo, hi) = prepared.band_range(edge);
            for band in lo..=hi {
                band_edges[fill[band] as usize] = index as u32;
                fill[band] += 1;
            }
        }
        prepared.band_start = start;
        prepared.band_edges = band_edges;
        Some(prepared)
    }

    #[inline]
    fn band_of(&self, y: f64) -> usize {
        let band = ((y - self.y0) * self.bands_per_degree) as usize;
        band.min(self.bands - 1)
    }

    fn band_range(&self, edge: &[Coord<f64>; 2]) -> (usize, usize) {
        let (lo, hi) = if edge[0].y <= edge[1].y {
            (edge[0].y, edge[1].y)
        } else {
            (edge[1].y, edge[0].y)
        };
        (self.band_of(lo), self.band_of(hi))
    }

    /// Where `p` lies relative to this polygon.
    #[inline]
    pub(crate) fn place(&self, p: Coord<f64>) -> Place {
        if !rect_covers(&self.bbox, p) {
            return Place::Outside;
        }
        let mut odd = false;
        if self.band_start.is_empty() {
            for edge in &self.edges {
                match edge_crossing(edge, p) {
                    Crossing::OnEdge => return Place::Boundary,
                    Crossing::Yes => odd = !odd,
                    Crossing::No => {}
                }
            }
        } else {
            let band = self.band_of(p.y);
            let range = self.band_start[band] as usize..self.band_start[band + 1] as usize;
            for &index in &self.band_edges[range] {
                match edge_crossing(&self.edges[index as usize], p) {
                    Crossing::OnEdge => return Place::Boundary,
                    Crossing::Yes => odd = !odd,
                    Crossing::No => {}
                }
            }
        }
        if odd { Place::Inside } else { Place::Outside }
    }
}

enum Crossing {
    Yes,
    No,
    OnEdge,
}

/// One edge's part in the crossing test of [`ring_parity`], for edges taken one by one.
#[inline]
fn edge_crossing(edge: &[Coord<f64>; 2], p: Coord<f64>) -> Crossing {
    let [a, b] = *edge;
    let a_above = a.y > p.y;
    let b_above = b.y > p.y;
    if a_above != b_above {
        let o = orient(a, b, p);
        if o == 0.0 {
            return Crossing::OnEdge;
        }
        if (o > 0.0) == b_above {
            return Crossing::Yes;
        }
    } else if a.y == p.y
        && (a.x == p.x || (b.y == p.y && (a.x.min(b.x)..=a.x.max(b.x)).contains(&p.x)))
    {
        return Crossing::OnEdge;
    }
    Crossing::No
}

/// Classify `p` against prepared parts of a multipolygon. Inside any part wins over the
/// boundary of another.
#[inline]
pub(crate) fn prepared_place(parts: &[PreparedPolygon], p: Coord<f64>) -> Place {
    let mut best = Place::Outside;
    for part in parts {
        match part.place(p) {
            Place::Inside => return Place::Inside,
            Place::Boundary => best = Place::Boundary,
            Place::Outside => {}
        }
    }
    best
}

/// Classify `p` against a multipolygon (no precomputed boxes).
pub(crate) fn multi_place(shape: &MultiPolygon<f64>, p: Coord<f64>) -> Place {
    let mut best = Place::Outside;
    for poly in &shape.0 {
        match polygon_place(poly, p) {
            Place::Inside => return Place::Inside,
            Place::Boundary => best = Place::Boundary,
            Place::Outside => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon};

    #[test]
    fn square_with_hole() {
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)]],
        );
        assert_eq!(polygon_place(&p, coord! {x: 3.0, y: 3.0}), Place::Inside);
        assert_eq!(polygon_place(&p, coord! {x: 1.5, y: 1.5}), Place::Outside);
        assert_eq!(polygon_place(&p, coord! {x: 1.5, y: 1.0}), Place::Boundary);
        assert_eq!(polygon_place(&p, coord! {x: 0.0, y: 0.0}), Place::Boundary);
        assert_eq!(polygon_place(&p, coord! {x: 4.0, y: 2.0}), Place::Boundary);
        assert_eq!(polygon_place(&p, coord! {x: 2.0, y: 4.0}), Place::Boundary);
        assert_eq!(polygon_place(&p, coord! {x: 5.0, y: 0.0}), Place::Outside);
        assert_eq!(polygon_place(&p, coord! {x: -1.0, y: 4.0}), Place::Outside);
        assert_eq!(polygon_place(&p, coord! {x: 3.0, y: 1.0}), Place::Inside);
    }

    #[test]
    fn banded_and_plain_tests_agree_on_a_many_sided_polygon() {
        // A star with 200 spikes and a square hole: the band index must answer exactly as the
        // full crossing test, on vertices, on edges and everywhere else.
        let spikes = 200;
        let ring: Vec<Coord<f64>> = (0..=2 * spikes)
            .map(|i| {
                let angle = std::f64::consts::PI * i as f64 / spikes as f64;
                let radius = if i % 2 == 0 { 10.0 } else { 6.0 };
                coord! {x: radius * angle.cos(), y: radius * angle.sin()}
            })
            .collect();
        let hole = vec![
            coord! {x: -1.0, y: -1.0},
            coord! {x: 1.0, y: -1.0},
            coord! {x: 1.0, y: 1.0},
            coord! {x: -1.0, y: 1.0},
            coord! {x: -1.0, y: -1.0},
        ];
        let poly = Polygon::new(geo::LineString(ring.clone()), vec![geo::LineString(hole)]);
        let prepared = PreparedPolygon::new(&poly).unwrap();
        assert!(!prepared.band_start.is_empty());
        let mut probes: Vec<Coord<f64>> = ring.clone();
        probes.extend(
            ring.windows(2)
                .map(|w| coord! {x: (w[0].x + w[1].x) / 2.0, y: (w[0].y + w[1].y) / 2.0}),
        );
        for i in 0..120 {
            for j in 0..120 {
                probes.push(coord! {x: -12.0 + 0.2 * i as f64, y: -12.0 + 0.2 * j as f64});
            }
        }
        probes.push(coord! {x: 1.0, y: 0.0});
        for p in probes {
            assert_eq!(prepared.place(p), polygon_place(&poly, p), "at {p:?}");
        }
    }

    #[test]
    fn diagonal_edge_is_boundary() {
        let p = polygon![(x: 0.1, y: 0.1), (x: 0.7, y: 0.3), (x: 0.1, y: 0.9)];
        // The vertex and a ray through a vertex.
        assert_eq!(polygon_place(&p, coord! {x: 0.7, y: 0.3}), Place::Boundary);
        assert_eq!(polygon_place(&p, coord! {x: 0.2, y: 0.3}), Place::Inside);
        assert_eq!(polygon_place(&p, coord! {x: 0.8, y: 0.3}), Place::Outside);
    }
}
