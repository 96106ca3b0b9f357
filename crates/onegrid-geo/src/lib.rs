//! Geometry for onegrid: GeoJSON in and out, polygon validation, coordinate systems, and the
//! in-memory point → area index.
//!
//! Pure computation: no database, no HTTP, no async.

pub mod crs;
pub mod geojson_io;
pub mod index;
mod pip;
pub mod tiling;
pub mod validate;
