//! The in-memory point → area index: which province, county, …, grid covers a position.
//!
//! One R-tree of bounding boxes per depth (0 = province, 1 = city, 2 = county,
//! 3 = township/street, 4 = village/community, 5 = grid; more depths are allowed). A lookup
//! queries the tree with the point, then runs an exact, allocation-free point-in-polygon test
//! on the few areas whose boxes contain it.
//!
//! # Determinism
//!
//! Areas at one depth normally tile the plane without overlap, but a point can still lie on
//! an edge shared by two grids, or (with imperfect data) inside two areas. The rule at one
//! depth is:
//!
//! 1. an area whose interior contains the point wins over one that only has the point on its
//!    boundary;
//! 2. among several areas of equal standing, the one with the smallest code (byte order) wins.
//!
//! So the same point always resolves to the same grid, whatever the insertion order.

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;

use geo::{BoundingRect, Coord, MultiPolygon};
use rstar::{AABB, RTree, RTreeObject, SelectionFunction};

use crate::pip::{Place, PreparedPolygon, multi_place, prepared_place};

/// One indexed area: its code and its polygons prepared for fast point tests.
#[derive(Clone)]
struct Entry {
    code: String,
    parts: Vec<PreparedPolygon>,
    envelope: AABB<[f64; 2]>,
}

impl Entry {
    /// `None` for a shape without any coordinate: it covers no point, so it is not indexed.
    fn new(code: String, shape: MultiPolygon<f64>) -> Option<Self> {
        let bbox = shape.bounding_rect()?;
        let parts: Vec<PreparedPolygon> = shape.0.iter().filter_map(PreparedPolygon::new).collect();
        Some(Entry {
            code,
            parts,
            envelope: AABB::from_corners(
                [bbox.min().x, bbox.min().y],
                [bbox.max().x, bbox.max().y],
            ),
        })
    }

    #[inline]
    fn place(&self, p: Coord<f64>) -> Place {
        prepared_place(&self.parts, p)
    }
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Selects the entry with a given code, descending only into nodes whose box contains the
/// entry's box.
struct ByCode<'a> {
    code: &'a str,
    envelope: AABB<[f64; 2]>,
}

impl SelectionFunction<Entry> for ByCode<'_> {
    fn should_unpack_parent(&self, envelope: &AABB<[f64; 2]>) -> bool {
        rstar::Envelope::contains_envelope(envelope, &self.envelope)
    }

    fn should_unpack_leaf(&self, entry: &Entry) -> bool {
        entry.code == self.code
    }
}

/// Point → area lookup over all depths. See the [module documentation](self) for the
/// tie-breaking rule.
///
/// Codes are unique across the whole index: inserting a code that is already present
/// replaces the old entry (at whatever depth it was).
#[derive(Clone, Default)]
pub struct AreaIndex {
    /// `trees[d]` holds the areas at depth `d`; grown on demand.
    trees: Vec<RTree<Entry>>,
    /// Where each code lives, for `remove`.
    where_is: HashMap<String, (u8, AABB<[f64; 2]>)>,
}

impl fmt::Debug for AreaIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_depth: Vec<usize> = self.trees.iter().map(RTree::size).collect();
        f.debug_struct("AreaIndex")
            .field("areas_per_depth", &per_depth)
            .finish()
    }
}

impl AreaIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bulk-load an index (faster and better balanced than repeated `insert`). When a code
    /// appears twice, the later item wins. Shapes without coordinates are not indexed.
    pub fn build(items: Vec<(String, u8, MultiPolygon<f64>)>) -> Self {
        let mut latest: HashMap<String, (u8, MultiPolygon<f64>)> =
            HashMap::with_capacity(items.len());
        for (code, depth, shape) in items {
            latest.insert(code, (depth, shape));
        }
        let mut per_depth: Vec<Vec<Entry>> = Vec::new();
        let mut where_is = HashMap::with_capacity(latest.len());
        for (code, (depth, shape)) in latest {
            let Some(entry) = Entry::new(code, shape) else {
                continue;
            };
            let d = usize::from(depth);
            if per_depth.len() <= d {
                per_depth.resize_with(d + 1, Vec::new);
            }
            where_is.insert(entry.code.clone(), (depth, entry.envelope));
            per_depth[d].push(entry);
        }
        AreaIndex {
            trees: per_depth.into_iter().map(RTree::bulk_load).collect(),
            where_is,
        }
    }

    /// Add (or replace) one area. A shape without coordinates only removes the old entry.
    pub fn insert(&mut self, code: String, depth: u8, shape: MultiPolygon<f64>) {
        self.remove(&code);
        let Some(entry) = Entry::new(code, shape) else {
            return;
        };
        let d = usize::from(depth);
        if self.trees.len() <= d {
            self.trees.resize_with(d + 1, RTree::new);
        }
        self.where_is
            .insert(entry.code.clone(), (depth, entry.envelope));
        self.trees[d].insert(entry);
    }

    /// Remove an area by code; `false` if it was not indexed.
    pub fn remove(&mut self, code: &str) -> bool {
        let Some((depth, envelope)) = self.where_is.remove(code) else {
            return false;
        };
        let removed = self
            .trees
            .get_mut(usize::from(depth))
            .and_then(|tree| tree.remove_with_selection_function(ByCode { code, envelope }));
        debug_assert!(
            removed.is_some(),
            "where_is and the trees disagree about {code}"
        );
        removed.is_some()
    }

    /// Number of indexed areas (all depths).
    pub fn len(&self) -> usize {
        self.where_is.len()
    }

    /// Whether no area is indexed.
    pub fn is_empty(&self) -> bool {
        self.where_is.is_empty()
    }

    /// The deepest area covering the point (interior or boundary) and its depth.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<(&str, u8)> {
        (0..self.trees.len()).rev().find_map(|d| {
            // `trees` never grows beyond u8::MAX + 1 entries, since it is indexed by a u8.
            let depth = d as u8;
            self.locate_at_depth(lon, lat, depth)
                .map(|code| (code, depth))
        })
    }

    /// The area at `depth` covering the point (interior or boundary), by the tie-breaking rule
    /// of the [module documentation](self).
    pub fn locate_at_depth(&self, lon: f64, lat: f64, depth: u8) -> Option<&str> {
        let tree = self.trees.get(usize::from(depth))?;
        let p = Coord { x: lon, y: lat };
        let query = AABB::from_point([lon, lat]);
        let mut best: Option<(&Entry, Place)> = None;
        let _: ControlFlow<()> = tree.locate_in_envelope_intersecting_int(&query, |entry| {
            let place = entry.place(p);
            if place != Place::Outside {
                let better = match best {
                    None => true,
                    Some((b, b_place)) => {
                        place > b_place || (place == b_place && entry.code < b.code)
                    }
                };
                if better {
                    best = Some((entry, place));
                }
            }
            ControlFlow::Continue(())
        });
        best.map(|(entry, _)| entry.code.as_str())
    }

    /// Codes of every area at `depth` whose interior contains the point (not merely its
    /// boundary), sorted. Mostly for diagnostics: valid data yields at most one.
    pub fn interior_codes_at_depth(&self, lon: f64, lat: f64, depth: u8) -> Vec<&str> {
        let Some(tree) = self.trees.get(usize::from(depth)) else {
            return Vec::new();
        };
        let p = Coord { x: lon, y: lat };
        let mut codes: Vec<&str> = tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
            .filter(|e| e.place(p) == Place::Inside)
            .map(|e| e.code.as_str())
            .collect();
        codes.sort_unstable();
        codes
    }
}

/// Whether the point lies in the interior of `shape` (boundary points excluded), the
/// OGC "within"/"contains" relation for a point.
pub fn covers_interior(shape: &MultiPolygon<f64>, lon: f64, lat: f64) -> bool {
    multi_place(shape, Coord { x: lon, y: lat }) == Place::Inside
}

/// Whether the point lies in `shape` or on its boundary, the relation `locate` uses.
pub fn covers(shape: &MultiPolygon<f64>, lon: f64, lat: f64) -> bool {
    multi_place(shape, Coord { x: lon, y: lat }) != Place::Outside
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, polygon};

    fn square(x0: f64, y0: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0),
            (x: x0 + size, y: y0),
            (x: x0 + size, y: y0 + size),
            (x: x0, y: y0 + size),
        ]])
    }

    fn is_send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn traits() {
        is_send_sync_clone::<AreaIndex>();
    }

    #[test]
    fn deepest_wins_and_ties_go_to_smallest_code() {
        let mut idx = AreaIndex::build(vec![
            ("14".into(), 0, square(0.0, 0.0, 10.0)),
            ("b".into(), 5, square(0.0, 0.0, 1.0)),
            ("a".into(), 5, square(1.0, 0.0, 1.0)),
        ]);
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.locate(0.5, 0.5), Some(("b", 5)));
        assert_eq!(idx.locate(1.5, 0.5), Some(("a", 5)));
        // On the shared edge: both cover it, "a" is the smaller code.
        assert_eq!(idx.locate(1.0, 0.5), Some(("a", 5)));
        // Outside all grids but inside the province.
        assert_eq!(idx.locate(5.0, 5.0), Some(("14", 0)));
        assert_eq!(idx.locate_at_depth(0.5, 0.5, 0), Some("14"));
        assert_eq!(idx.locate_at_depth(0.5, 0.5, 3), None);
        assert_eq!(idx.locate(11.0, 5.0), None);

        // Interior beats boundary even against a smaller code.
        idx.insert("0".into(), 5, square(-1.0, 0.0, 1.0));
        assert_eq!(idx.locate(0.0, 0.5), Some(("0", 5)));
        assert_eq!(idx.locate(0.000001, 0.5), Some(("b", 5)));

        assert!(idx.remove("a"));
        assert!(!idx.remove("a"));
        assert_eq!(idx.locate(1.0, 0.5), Some(("b", 5)));
        assert_eq!(idx.locate(1.5, 0.5), Some(("14", 0)));

        // Replacing a code moves it.
        idx.insert("b".into(), 6, square(3.0, 3.0, 1.0));
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.locate(3.5, 3.5), Some(("b", 6)));
        assert_eq!(idx.locate(0.5, 0.5), Some(("14", 0)));
        assert!(!idx.is_empty());
        assert!(AreaIndex::new().is_empty());
    }

    #[test]
    fn empty_shapes_are_not_indexed() {
        let idx = AreaIndex::build(vec![("x".into(), 1, MultiPolygon(vec![]))]);
        assert!(idx.is_empty());
        assert_eq!(idx.locate(0.0, 0.0), None);
    }
}
