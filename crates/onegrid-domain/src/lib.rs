//! Types and rules of onegrid: division codes, levels, regions and their history.
//!
//! This crate does no I/O, starts no runtime and knows no framework type: every other crate of
//! the workspace may depend on it, and it depends on none of ours (`Cargo.toml` enforces this).

pub mod access;
pub mod calendar;
pub mod case;
pub mod jobs;
pub mod masking;
pub mod metrics;
pub mod region;
pub mod taxonomy;

pub use region::{CodeError, Level, Region, RegionCode};
