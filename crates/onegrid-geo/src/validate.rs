//! Area and coverage checks over sets of shapes: geodesic area, pairwise overlaps, and how
//! much of a parent is left uncovered by its children.

use geo::{BooleanOps, BoundingRect, Coord, Line, LineString, MultiPolygon, Point, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::pip::{Place, multi_place};

/// Area of `shape` in square metres (holes subtracted, ring orientation ignored), with edges
/// read as GeoJSON defines them (RFC 7946 §3.1.1): straight lines in longitude/latitude.
///
/// The integral of the sphere's area element R²·cos φ over the polygon, by Green's theorem,
/// is R²·Σ ∫ sin φ dλ over the edges; along an edge straight in (λ, φ) it has a closed form.
/// Unlike a geodesic area, this one does not change when a vertex is added on an edge — a
/// lattice cell and the union of cells that contains it measure the same — which is what the
/// gap and overlap sums need. R is the authalic radius of WGS-84, so areas agree with the
/// ellipsoid's to about 0.3% at Chinese latitudes and exactly in their ratios.
pub fn area_m2(shape: &MultiPolygon<f64>) -> f64 {
    shape
        .0
        .iter()
        .map(|p| {
            let holes: f64 = p.interiors().iter().map(ring_area_m2).sum();
            (ring_area_m2(p.exterior()) - holes).max(0.0)
        })
        .sum()
}

/// The authalic (equal-area) radius of the WGS-84 ellipsoid, metres.
const AUTHALIC_RADIUS_M: f64 = 6_371_007.181;

/// Unsigned area of one ring with lon/lat-straight edges (see [`area_m2`]).
fn ring_area_m2(ring: &LineString<f64>) -> f64 {
    let mut sum = 0.0;
    for line in ring.lines() {
        let (lon1, lat1) = (line.start.x.to_radians(), line.start.y.to_radians());
        let (lon2, lat2) = (line.end.x.to_radians(), line.end.y.to_radians());
        // ∫ sin φ dλ along the edge, with φ linear in λ, is Δλ·(cos φ1 − cos φ2)/Δφ. Written
        // as Δλ·sin φm·sinc(Δφ/2) it keeps its precision for nearly level edges, where the
        // difference of cosines would cancel (and turn a degenerate sliver into hectares).
        let half = (lat2 - lat1) / 2.0;
        let sinc = if half.abs() < 1e-8 {
            1.0
        } else {
            half.sin() / half
        };
        sum += (lon2 - lon1) * ((lat1 + lat2) / 2.0).sin() * sinc;
    }
    (sum * AUTHALIC_RADIUS_M * AUTHALIC_RADIUS_M).abs()
}

/// Two areas whose interiors overlap; `a < b` by code.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    pub a: String,
    pub b: String,
    /// Geodesic area of the intersection, m².
    pub area_m2: f64,
}

fn rect_of(shape: &MultiPolygon<f64>) -> Option<Rect<f64>> {
    shape.bounding_rect()
}

/// Every pair of shapes whose interiors overlap by more than `min_area_m2`, each pair once
/// (with `a < b`), sorted by `(a, b)`.
///
/// Candidate pairs come from an R-tree of bounding boxes. Pairs whose boxes meet only along an
/// edge or at a corner (a zero-area box intersection) cannot overlap and are skipped without
/// any polygon work — this is what makes a regular lattice of thousands of cells cheap to
/// check. The remaining candidates are intersected exactly with `BooleanOps`.
pub fn find_overlaps(shapes: &[(&str, &MultiPolygon<f64>)], min_area_m2: f64) -> Vec<Overlap> {
    let boxes: Vec<Option<Rect<f64>>> = shapes.iter().map(|(_, s)| rect_of(s)).collect();
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> = RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                b.map(|b| {
                    GeomWithData::new(
                        Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
                        i,
                    )
                })
            })
            .collect(),
    );
    let mut found = Vec::new();
    for (i, bi) in boxes.iter().enumerate() {
        let Some(bi) = bi else { continue };
        let query = AABB::from_corners([bi.min().x, bi.min().y], [bi.max().x, bi.max().y]);
        for cand in tree.locate_in_envelope_intersecting(&query) {
            let j = cand.data;
            if j <= i {
                continue;
            }
            let Some(bj) = boxes[j] else { continue };
            // Width and height of the box intersection; zero means edge or corner contact.
            let w = bi.max().x.min(bj.max().x) - bi.min().x.max(bj.min().x);
            let h = bi.max().y.min(bj.max().y) - bi.min().y.max(bj.min().y);
            if w <= 0.0 || h <= 0.0 {
                continue;
            }
            let (code_i, shape_i) = shapes[i];
            let (code_j, shape_j) = shapes[j];
            let area = area_m2(&shape_i.intersection(shape_j));
            if area > min_area_m2 {
                let (a, b) = if code_i <= code_j {
                    (code_i, code_j)
                } else {
                    (code_j, code_i)
                };
                found.push(Overlap {
                    a: a.to_string(),
                    b: b.to_string(),
                    area_m2: area,
                });
            }
        }
    }
    found.sort_by(|x, y| (&x.a, &x.b).cmp(&(&y.a, &y.b)));
    found
}

/// Area of `parent` not covered by `children`, m²: `area(parent) − Σ area(child ∩ parent)`,
/// clamped at 0. Children are assumed not to overlap each other (check with
/// [`find_overlaps`]); overlaps would be counted twice and hide gaps.
///
/// Fast path: a child whose bounding box lies inside the parent's, whose box no parent edge
/// touches, and which has a vertex strictly inside the parent, lies wholly inside the parent
/// (the parent's boundary does not enter the child's box at all), so it counts whole without
/// a boolean operation. Other children are intersected exactly.
pub fn uncovered_area_m2(parent: &MultiPolygon<f64>, children: &[&MultiPolygon<f64>]) -> f64 {
    let parent_area = area_m2(parent);
    let Some(parent_box) = parent.bounding_rect() else {
        return 0.0;
    };
    let edges: RTree<Line<f64>> = RTree::bulk_load(
        parent
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.lines())
            .collect(),
    );
    let mut covered = 0.0;
    for child in children {
        let Some(cb) = child.bounding_rect() else {
            continue;
        };
        if !(parent_box.min().x <= cb.min().x
            && parent_box.min().y <= cb.min().y
            && cb.max().x <= parent_box.max().x
            && cb.max().y <= parent_box.max().y)
        {
            covered += area_m2(&child.intersection(parent));
            continue;
        }
        let child_env = AABB::from_corners(Point::from(cb.min()), Point::from(cb.max()));
        let boundary_enters = edges
            .locate_in_envelope_intersecting(&child_env)
            .next()
            .is_some();
        let first_vertex: Option<Coord<f64>> = child
            .0
            .first()
            .and_then(|p| p.exterior().0.first().copied());
        let whole = !boundary_enters
            && first_vertex.is_some_and(|v| multi_place(parent, v) == Place::Inside);
        covered += if whole {
            area_m2(child)
        } else {
            area_m2(&child.intersection(parent))
        };
    }
    (parent_area - covered).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_does_not_change_when_a_vertex_is_added_on_an_edge() {
        let plain = crate::tiling::rect_shape(112.0, 37.0, 112.02, 37.015);
        let mut ring = plain.0[0].exterior().0.clone();
        // A vertex in the middle of the bottom edge, as a union of two cells would have.
        ring.insert(1, geo::Coord { x: 112.01, y: 37.0 });
        let with_vertex = MultiPolygon(vec![geo::Polygon::new(LineString(ring), Vec::new())]);
        let (a, b) = (area_m2(&plain), area_m2(&with_vertex));
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn area_matches_the_closed_form_of_a_lon_lat_cell() {
        // One degree square from the equator: R² · (π/180) · sin 1°.
        let cell = crate::tiling::rect_shape(0.0, 0.0, 1.0, 1.0);
        let expected = AUTHALIC_RADIUS_M.powi(2) * 1f64.to_radians() * 1f64.to_radians().sin();
        assert!((area_m2(&cell) - expected).abs() / expected < 1e-12);
        assert!(
            (expected - 1.2364e10).abs() / 1.2364e10 < 1e-3,
            "{expected}"
        );
    }
    use geo::polygon;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)],
        ])
    }

    #[test]
    fn area_of_a_small_square_near_jinzhong() {
        // 0.01° × 0.01° at 37.7°N ≈ 1113 m × 880 m.
        let a = area_m2(&rect(112.70, 37.70, 112.71, 37.71));
        assert!((a - 1113.2 * 880.3).abs() / a < 0.01, "{a}");
    }

    #[test]
    fn overlaps_found_and_edge_contacts_skipped() {
        let a = rect(112.0, 37.0, 112.01, 37.01);
        let b = rect(112.01, 37.0, 112.02, 37.01); // shares an edge with a
        let c = rect(112.005, 37.005, 112.015, 37.015); // overlaps a and b by a quarter each
        let d = rect(112.02, 37.01, 112.03, 37.02); // touches b at a corner
        let shapes = [("c", &c), ("b", &b), ("a", &a), ("d", &d)];
        let found = find_overlaps(&shapes, 1.0);
        let pairs: Vec<(&str, &str)> = found.iter().map(|o| (o.a.as_str(), o.b.as_str())).collect();
        assert_eq!(pairs, vec![("a", "c"), ("b", "c")]);
        let quarter = area_m2(&a) / 4.0;
        for o in &found {
            assert!((o.area_m2 - quarter).abs() / quarter < 1e-3, "{o:?}");
        }
        // A threshold above the overlap area hides them.
        assert!(find_overlaps(&shapes, quarter * 2.0).is_empty());
    }

    #[test]
    fn uncovered_area() {
        let parent = rect(112.0, 37.0, 112.04, 37.01);
        let c1 = rect(112.0, 37.0, 112.01, 37.01);
        let c2 = rect(112.01, 37.0, 112.02, 37.01);
        let c3 = rect(112.02, 37.0, 112.03, 37.01);
        // Sticks out of the parent: only the inside half counts.
        let c4 = rect(112.035, 37.0, 112.045, 37.01);
        let inner = rect(112.001, 37.001, 112.002, 37.002);
        let quarter = area_m2(&c1);
        let gap = uncovered_area_m2(&parent, &[&c1, &c2, &c3]);
        assert!((gap - quarter).abs() / quarter < 1e-6, "{gap} vs {quarter}");
        let gap = uncovered_area_m2(&parent, &[&c1, &c2, &c3, &c4]);
        assert!((gap - quarter / 2.0).abs() / quarter < 1e-3, "{gap}");
        assert_eq!(uncovered_area_m2(&parent, &[]), area_m2(&parent));
        // A child strictly inside counts whole (fast path).
        let gap = uncovered_area_m2(&parent, &[&inner]);
        assert!((gap - (area_m2(&parent) - area_m2(&inner))).abs() < 1e-3);
        // A child inside the parent's box but in its hole counts nothing.
        let holed = MultiPolygon(vec![polygon!(
            exterior: [(x: 112.0, y: 37.0), (x: 112.04, y: 37.0), (x: 112.04, y: 37.04), (x: 112.0, y: 37.04)],
            interiors: [[(x: 112.01, y: 37.01), (x: 112.03, y: 37.01), (x: 112.03, y: 37.03), (x: 112.01, y: 37.03)]],
        )]);
        let in_hole = rect(112.015, 37.015, 112.02, 37.02);
        let gap = uncovered_area_m2(&holed, &[&in_hole]);
        assert!((gap - area_m2(&holed)).abs() < 1e-3);
    }

    #[test]
    fn area_ignores_winding_and_degenerate_rings() {
        let ccw = rect(112.0, 37.0, 112.01, 37.01);
        let mut cw = ccw.clone();
        cw.0[0].exterior_mut(|r| r.0.reverse());
        assert!((area_m2(&ccw) - area_m2(&cw)).abs() < 1e-3);
        // A zero-area sliver (along a meridian, which is a geodesic) has no winding order; it
        // must not count as the rest of the globe.
        let sliver = MultiPolygon(vec![
            polygon![(x: 112.0, y: 37.0), (x: 112.0, y: 37.01), (x: 112.0, y: 37.02)],
        ]);
        assert!(area_m2(&sliver) < 1.0, "{}", area_m2(&sliver));
        let mut both = ccw.clone();
        both.0.extend(sliver.0);
        assert!((area_m2(&both) - area_m2(&ccw)).abs() < 1.0);
    }
}
