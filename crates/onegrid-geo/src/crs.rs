//! Coordinate reference systems of incoming boundaries, and the GCJ-02 → WGS-84 conversion.
//!
//! onegrid stores every shape in WGS-84 longitude/latitude. Boundaries arrive in one of three
//! systems:
//!
//! * **WGS-84** — GPS, OpenStreetMap; stored unchanged.
//! * **CGCS2000** — the Chinese national geodetic system used by official surveying data. Its
//!   ellipsoid and frame differ from WGS-84 by centimetres, far below the precision of grid
//!   boundaries, so it is treated as WGS-84 (no transformation).
//! * **GCJ-02** — the obfuscated "Mars" system used by Chinese web maps (Amap/Gaode, Tencent,
//!   old Google China). Positions are shifted by a non-linear offset of a few hundred metres.
//!
//! # Accuracy
//!
//! The forward WGS-84 → GCJ-02 formula in [`wgs84_to_gcj02`] is the widely circulated public
//! reconstruction of the (secret) official algorithm; it agrees with the official offset to
//! about a metre (metre-level), not exactly. [`gcj02_to_wgs84`] inverts that reconstruction by
//! fixed-point iteration until the forward transform of the result is within 1e-9 degrees
//! (about 0.1 mm) of the input, capped at [`MAX_ITERATIONS`] rounds; in practice 3–5 rounds are
//! enough because the offset varies slowly. The inversion residual is therefore negligible next
//! to the metre-level uncertainty of the reconstruction itself.
//!
//! Points outside mainland China's rough bounding box (the usual test from the public
//! reconstruction) carry no offset and are returned unchanged by both directions.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// The coordinate system of a set of input positions. All variants use longitude/latitude in
/// degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Crs {
    /// WGS-84 (EPSG:4326), what onegrid stores.
    #[default]
    Wgs84,
    /// CGCS2000 (EPSG:4490). Treated as WGS-84: the two differ by centimetres.
    Cgcs2000,
    /// GCJ-02, the offset system of Chinese web maps.
    Gcj02,
}

impl Crs {
    /// The lower-case name accepted by [`FromStr`] and written by [`Display`](fmt::Display).
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown coordinate system name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown coordinate system '{0}'; expected one of: wgs84, cgcs2000, gcj02")]
pub struct UnknownCrs(pub String);

impl FromStr for Crs {
    type Err = UnknownCrs;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" => Ok(Crs::Wgs84),
            "cgcs2000" => Ok(Crs::Cgcs2000),
            "gcj02" => Ok(Crs::Gcj02),
            _ => Err(UnknownCrs(s.to_string())),
        }
    }
}

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by the GCJ-02 reconstruction.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// The iteration target of [`gcj02_to_wgs84`]: forward(result) is this close to the input.
pub const INVERSION_TOLERANCE_DEG: f64 = 1e-9;
/// Upper bound on the fixed-point rounds of [`gcj02_to_wgs84`]; reached only by pathological
/// input, since convergence normally takes a handful of rounds.
pub const MAX_ITERATIONS: usize = 30;

/// Whether a position lies outside the rough bounding box of mainland China, where GCJ-02 has
/// no offset. This is the box used by the public reconstruction.
fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset (Δlon, Δlat) in degrees at a WGS-84 position inside China.
fn gcj_offset(lon: f64, lat: f64) -> (f64, f64) {
    let d_lat = transform_lat(lon - 105.0, lat - 35.0);
    let d_lon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat =
        (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (d_lon, d_lat)
}

/// WGS-84 → GCJ-02 with the public reconstruction of the offset (metre-level agreement with
/// the official algorithm). Positions outside China are returned unchanged.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (d_lon, d_lat) = gcj_offset(lon, lat);
    (lon + d_lon, lat + d_lat)
}

/// GCJ-02 → WGS-84: the inverse of [`wgs84_to_gcj02`], found by fixed-point iteration until
/// `wgs84_to_gcj02(result)` is within [`INVERSION_TOLERANCE_DEG`] of the input in both axes
/// (at most [`MAX_ITERATIONS`] rounds). Positions outside China are returned unchanged.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) || !lon.is_finite() || !lat.is_finite() {
        return (lon, lat);
    }
    // Start from "GCJ minus the offset at the GCJ position", then correct by the residual:
    // the offset changes by well under 1% per offset-length, so each round shrinks the error
    // by about two orders of magnitude.
    let (mut w_lon, mut w_lat) = (lon, lat);
    for _ in 0..MAX_ITERATIONS {
        let (g_lon, g_lat) = wgs84_to_gcj02(w_lon, w_lat);
        let (r_lon, r_lat) = (g_lon - lon, g_lat - lat);
        if r_lon.abs() <= INVERSION_TOLERANCE_DEG && r_lat.abs() <= INVERSION_TOLERANCE_DEG {
            break;
        }
        w_lon -= r_lon;
        w_lat -= r_lat;
    }
    (w_lon, w_lat)
}

/// Convert a position from `crs` to WGS-84.
///
/// CGCS2000 is returned unchanged: CGCS2000 and WGS-84 (G1762) agree to a few centimetres,
/// well below the precision of administrative and grid boundaries.
pub fn to_wgs84(crs: Crs, lon: f64, lat: f64) -> (f64, f64) {
    match crs {
        Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
        Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positions in Shanxi: Taiyuan, Yuci (Jinzhong), Pingyao, Datong, Yuncheng, Jincheng.
    const SHANXI: [(f64, f64); 6] = [
        (112.549, 37.857),
        (112.708, 37.683),
        (112.175, 37.189),
        (113.300, 40.077),
        (111.007, 35.026),
        (112.851, 35.491),
    ];

    #[test]
    fn round_trip_in_shanxi() {
        for &(lon, lat) in &SHANXI {
            let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
            let (w_lon, w_lat) = gcj02_to_wgs84(g_lon, g_lat);
            assert!((w_lon - lon).abs() < 1e-8, "lon {lon} -> {w_lon}");
            assert!((w_lat - lat).abs() < 1e-8, "lat {lat} -> {w_lat}");
            // And the defining property of the inversion: the residual is within tolerance.
            let (f_lon, f_lat) = wgs84_to_gcj02(w_lon, w_lat);
            assert!((f_lon - g_lon).abs() <= INVERSION_TOLERANCE_DEG);
            assert!((f_lat - g_lat).abs() <= INVERSION_TOLERANCE_DEG);
        }
    }

    #[test]
    fn jinzhong_offset_is_a_few_hundred_metres() {
        let (lon, lat) = (112.708, 37.683);
        let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
        let dx = (g_lon - lon) * 111_320.0 * lat.to_radians().cos();
        let dy = (g_lat - lat) * 110_540.0;
        let d = (dx * dx + dy * dy).sqrt();
        assert!((100.0..1000.0).contains(&d), "offset {d} m");
    }

    #[test]
    fn outside_china_is_unchanged() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(-0.7, 24.8), (-0.7, 24.8));
    }

    #[test]
    fn parse_and_display() {
        assert_eq!("WGS84".parse::<Crs>(), Ok(Crs::Wgs84));
        assert_eq!("cgcs2000".parse::<Crs>(), Ok(Crs::Cgcs2000));
        assert_eq!("Gcj02".parse::<Crs>(), Ok(Crs::Gcj02));
        let err = "bd09".parse::<Crs>().unwrap_err().to_string();
        assert!(err.contains("wgs84, cgcs2000, gcj02"), "{err}");
        assert_eq!(Crs::default(), Crs::Wgs84);
        for crs in [Crs::Wgs84, Crs::Cgcs2000, Crs::Gcj02] {
            assert_eq!(crs.to_string().parse::<Crs>(), Ok(crs));
        }
        assert_eq!(to_wgs84(Crs::Cgcs2000, 112.0, 37.0), (112.0, 37.0));
    }
}
