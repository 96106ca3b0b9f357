//! Administrative divisions (行政区划) and grids (网格) as one chain of areas.
//!
//! Codes follow GB/T 2260 to county level (6 digits: `140702`) and the NBS statistical codes
//! below (9 digits for a township/street, 12 for a village/community); a grid adds a 3-digit
//! sequence to its village's 12 digits (15 digits). Province and city codes are stored in their
//! 6-digit form (`140000`, `140700`); the short forms of the china-division data (`14`, `1407`)
//! and the 12-digit NBS form of a township (`140702001000`) are accepted and normalised.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The level of an area in the chain province → city → county → township → village → grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 省级
    Province,
    /// 地级（市）
    City,
    /// 县级（县、区、县级市）
    County,
    /// 乡级（乡、镇、街道）
    Township,
    /// 村级（村、社区）
    Village,
    /// 网格
    Grid,
}

impl Level {
    /// Every level, from the top of the chain to its leaf.
    pub const ALL: [Level; 6] = [
        Level::Province,
        Level::City,
        Level::County,
        Level::Township,
        Level::Village,
        Level::Grid,
    ];

    /// 0 for a province … 5 for a grid.
    pub fn depth(self) -> u8 {
        match self {
            Level::Province => 0,
            Level::City => 1,
            Level::County => 2,
            Level::Township => 3,
            Level::Village => 4,
            Level::Grid => 5,
        }
    }

    pub fn from_depth(depth: u8) -> Option<Level> {
        Level::ALL.get(usize::from(depth)).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
            Level::Grid => "grid",
        }
    }

    /// The Chinese name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "省",
            Level::City => "市",
            Level::County => "县（区、市）",
            Level::Township => "乡镇（街道）",
            Level::Village => "村（社区）",
            Level::Grid => "网格",
        }
    }

    /// The level directly above, `None` for a province.
    pub fn parent(self) -> Option<Level> {
        self.depth().checked_sub(1).and_then(Level::from_depth)
    }

    /// How many digits of the stored code carry meaning at this level; the stored code of a
    /// province, city or county is always 6 digits long.
    fn significant_digits(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
            Level::Grid => 15,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = CodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let level = match text.trim().to_ascii_lowercase().as_str() {
            "province" => Level::Province,
            "city" => Level::City,
            "county" | "area" | "district" => Level::County,
            "township" | "street" | "town" => Level::Township,
            "village" | "community" => Level::Village,
            "grid" => Level::Grid,
            _ => {
                return Err(CodeError::UnknownLevel {
                    text: text.to_owned(),
                });
            }
        };
        Ok(level)
    }
}

/// What is wrong with a code or a level name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("code '{text}' must contain digits only")]
    NotDigits { text: String },
    #[error("code '{text}' has {len} digits; a {level} code has {expected}")]
    WrongLength {
        text: String,
        len: usize,
        level: Level,
        expected: &'static str,
    },
    #[error("code '{text}' is not a {level} code: {reason}")]
    WrongShape {
        text: String,
        level: Level,
        reason: &'static str,
    },
    #[error("code '{text}' has a length no level uses (2, 4, 6, 9, 12 or 15 digits)")]
    UnknownShape { text: String },
    #[error("level '{text}' is unknown; use province, city, county, township, village or grid")]
    UnknownLevel { text: String },
}

/// A checked area code with its level. Parse, don't validate: once a `RegionCode` exists its
/// digits fit its level.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode {
    code: String,
    level: Level,
}

impl RegionCode {
    /// Parses `text` as a code of the given level, accepting the short and long forms the
    /// module documentation names.
    pub fn parse_at(level: Level, text: &str) -> Result<RegionCode, CodeError> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::NotDigits {
                text: text.to_owned(),
            });
        }
        let wrong_length = |expected: &'static str| CodeError::WrongLength {
            text: text.to_owned(),
            len: text.len(),
            level,
            expected,
        };
        let code = match level {
            Level::Province => match text.len() {
                2 => format!("{text}0000"),
                6 | 12 if text[2..].bytes().all(|b| b == b'0') => text[..6].to_owned(),
                6 | 12 => {
                    return Err(CodeError::WrongShape {
                        text: text.to_owned(),
                        level,
                        reason: "a province code ends in 0000",
                    });
                }
                _ => return Err(wrong_length("2 or 6")),
            },
            Level::City => match text.len() {
                4 => format!("{text}00"),
                6 | 12 if text[4..].bytes().all(|b| b == b'0') => text[..6].to_owned(),
                6 | 12 => {
                    return Err(CodeError::WrongShape {
                        text: text.to_owned(),
                        level,
                        reason: "a city code ends in 00",
                    });
                }
                _ => return Err(wrong_length("4 or 6")),
            },
            Level::County => match text.len() {
                6 => text.to_owned(),
                12 if text[6..].bytes().all(|b| b == b'0') => text[..6].to_owned(),
                _ => return Err(wrong_length("6")),
            },
            Level::Township => match text.len() {
                9 => text.to_owned(),
                12 if text[9..].bytes().all(|b| b == b'0') => text[..9].to_owned(),
                _ => return Err(wrong_length("9 (or 12 ending in 000)")),
            },
            Level::Village => match text.len() {
                12 => text.to_owned(),
                _ => return Err(wrong_length("12")),
            },
            Level::Grid => match text.len() {
                15 => text.to_owned(),
                _ => return Err(wrong_length("15 (village code + 3-digit sequence)")),
            },
        };
        let parsed = RegionCode { code, level };
        parsed.check_shape(text)?;
        Ok(parsed)
    }

    /// Parses a code whose level follows from its shape: 2 or 4 digits, 6 digits ending in
    /// `0000` (province) or `00` (city) or not (county), 9 (township), 12 (village, or a
    /// township ending in `000`), 15 (grid).
    pub fn parse(text: &str) -> Result<RegionCode, CodeError> {
        let trimmed = text.trim();
        let level = match trimmed.len() {
            2 => Level::Province,
            4 => Level::City,
            6 if trimmed.ends_with("0000") => Level::Province,
            6 if trimmed.ends_with("00") => Level::City,
            6 => Level::County,
            9 => Level::Township,
            12 if trimmed.ends_with("000") => Level::Township,
            12 => Level::Village,
            15 => Level::Grid,
            _ if !trimmed.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(CodeError::NotDigits {
                    text: trimmed.to_owned(),
                });
            }
            _ => {
                return Err(CodeError::UnknownShape {
                    text: trimmed.to_owned(),
                });
            }
        };
        RegionCode::parse_at(level, trimmed)
    }

    /// Rejects an all-zero own part where no real code has one. County and township codes are
    /// exempt: the NBS data has county-level units coded `xxxx00` (东莞市 441900, towns directly
    /// under a prefecture-level city) and the pseudo-township `350527000` of 金门县.
    fn check_shape(&self, original: &str) -> Result<(), CodeError> {
        let own_part = match self.level {
            Level::Province => &self.code[..2],
            Level::City => &self.code[2..4],
            Level::Village => &self.code[9..12],
            Level::Grid => &self.code[12..15],
            Level::County | Level::Township => return Ok(()),
        };
        if own_part.bytes().all(|b| b == b'0') {
            return Err(CodeError::WrongShape {
                text: original.to_owned(),
                level: self.level,
                reason: "its own part of the code is all zeros",
            });
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    pub fn level(&self) -> Level {
        self.level
    }

    /// The code of the level above, as the digits say; `None` for a province. The parent of a
    /// county directly under a province (省直辖县级) is the `xx90` pseudo-city of the NBS data.
    pub fn parent(&self) -> Option<RegionCode> {
        let level = self.level.parent()?;
        let keep = level.significant_digits();
        let code = if keep < 6 {
            format!("{:0<6}", &self.code[..keep])
        } else {
            self.code[..keep].to_owned()
        };
        Some(RegionCode { code, level })
    }

    /// True when `self` is `other` or lies under it in the chain, judged by the digits.
    pub fn is_within(&self, other: &RegionCode) -> bool {
        if self.level < other.level {
            return false;
        }
        let keep = other.level.significant_digits();
        self.code.len() >= keep
            && other.code.len() >= keep
            && self.code[..keep] == other.code[..keep]
    }

    /// The county this code lies in (the unit a distributed store shards by), `None` above it.
    pub fn county(&self) -> Option<RegionCode> {
        if self.level < Level::County {
            return None;
        }
        Some(RegionCode {
            code: self.code[..6].to_owned(),
            level: Level::County,
        })
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.code)
    }
}

/// One area of the chain as stored, with its validity interval: a code that the division data
/// no longer lists is kept with `valid_to` set (and its successor where one is known), so that
/// old records that carry it still resolve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub parent: Option<RegionCode>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    pub successor: Option<RegionCode>,
}

impl Region {
    pub fn level(&self) -> Level {
        self.code.level()
    }

    pub fn is_current(&self) -> bool {
        self.valid_to.is_none()
    }
}

/// The part of a county-level name that survives a change of kind (太谷县 → 太谷区, 县级市):
/// used to find the successor of a retired code among its new siblings.
pub fn name_stem(name: &str) -> &str {
    const SUFFIXES: [&str; 12] = [
        "自治县",
        "自治旗",
        "街道办事处",
        "街道",
        "县",
        "区",
        "市",
        "旗",
        "镇",
        "乡",
        "社区",
        "村",
    ];
    for suffix in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return stem;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_normalise_to_six_digits() {
        assert_eq!(RegionCode::parse("14").unwrap().as_str(), "140000");
        assert_eq!(RegionCode::parse("1407").unwrap().as_str(), "140700");
        let township = RegionCode::parse("140702001000").unwrap();
        assert_eq!(township.level(), Level::Township);
        assert_eq!(township.as_str(), "140702001");
    }

    #[test]
    fn parents_follow_the_digits() {
        let grid = RegionCode::parse("140702001002003").unwrap();
        let chain: Vec<String> = std::iter::successors(Some(grid), |c| c.parent())
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            chain,
            [
                "140702001002003",
                "140702001002",
                "140702001",
                "140702",
                "140700",
                "140000"
            ]
        );
    }

    #[test]
    fn wrong_codes_name_the_problem() {
        let err = RegionCode::parse_at(Level::Grid, "14070200100200").unwrap_err();
        assert!(err.to_string().contains("14 digits"), "{err}");
        assert!(matches!(
            RegionCode::parse_at(Level::County, "14a702"),
            Err(CodeError::NotDigits { .. })
        ));
        assert!(matches!(
            RegionCode::parse_at(Level::Village, "140702001000"),
            Err(CodeError::WrongShape { .. })
        ));
        assert!(matches!(
            RegionCode::parse("1234567"),
            Err(CodeError::UnknownShape { .. })
        ));
    }

    #[test]
    fn within_uses_prefixes() {
        let village = RegionCode::parse("140702001002").unwrap();
        assert!(village.is_within(&RegionCode::parse("140702").unwrap()));
        assert!(village.is_within(&RegionCode::parse("140700").unwrap()));
        assert!(!village.is_within(&RegionCode::parse("140703").unwrap()));
        assert_eq!(village.county().unwrap().as_str(), "140702");
    }

    #[test]
    fn stems_survive_a_change_of_kind() {
        assert_eq!(name_stem("太谷县"), "太谷");
        assert_eq!(name_stem("太谷区"), "太谷");
        assert_eq!(name_stem("介休市"), "介休");
    }
}
