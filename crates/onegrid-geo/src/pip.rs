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

/// Classify `p` against a multipolygon whose parts' bounding boxes are given in `boxes`
/// (same order as the parts). Inside any part wins over the boundary of another.
#[inline]
pub(crate) fn multi_place_with_boxes(
    shape: &MultiPolygon<f64>,
    boxes: &[Rect<f64>],
    p: Coord<f64>,
) -> Place {
    let mut best = Place::Outside;
    for (poly, bbox) in shape.0.iter().zip(boxes) {
        if !rect_covers(bbox, p) {
            continue;
        }
        match polygon_place(poly, p) {
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
    fn diagonal_edge_is_boundary() {
        let p = polygon![(x: 0.1, y: 0.1), (x: 0.7, y: 0.3), (x: 0.1, y: 0.9)];
        // The vertex and a ray through a vertex.
        assert_eq!(polygon_place(&p, coord! {x: 0.7, y: 0.3}), Place::Boundary);
        assert_eq!(polygon_place(&p, coord! {x: 0.2, y: 0.3}), Place::Inside);
        assert_eq!(polygon_place(&p, coord! {x: 0.8, y: 0.3}), Place::Outside);
    }
}
