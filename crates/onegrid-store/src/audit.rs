//! The full-process record's hash chain: how a record's hash is computed, and what a
//! verification found.
//!
//! Each county has its own chain (appends never wait on another county); every record's hash
//! covers the previous record's hash and every field exactly as stored, each field prefixed
//! by its length so that no two different records can encode alike. Changing, deleting,
//! inserting or reordering a record behind the application's back breaks the chain at that
//! record. The heads of all chains are chained at intervals into one checkpoint log, so that
//! cutting records off the end of a chain is noticed too.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The hash every chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain that records acts belonging to no county (system and security events).
pub const SYSTEM_CHAIN: &str = "000000";

/// A record to append: who did what, in which role, when, from which state to which.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    pub county: String,
    pub case_id: Option<String>,
    pub act: String,
    pub actor: String,
    pub role: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub at: DateTime<Utc>,
    pub note: String,
    /// Content hashes of the attachments.
    pub attachments: Vec<String>,
    /// The act's fields.
    pub details: serde_json::Value,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Record {
    pub county: String,
    pub seq: i64,
    pub id: String,
    pub case_id: Option<String>,
    pub act: String,
    pub actor: String,
    pub role: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// UTC, RFC 3339 with microseconds, exactly as hashed.
    pub at: String,
    pub note: String,
    pub attachments: Vec<String>,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The text form of a record's time, the one stored and hashed.
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The stored fields of a record, as text, in hashing order.
pub struct RecordFields<'a> {
    pub county: &'a str,
    pub seq: i64,
    pub id: &'a str,
    pub case_id: Option<&'a str>,
    pub act: &'a str,
    pub actor: &'a str,
    pub role: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: Option<&'a str>,
    pub at: &'a str,
    pub note: &'a str,
    pub attachments: &'a str,
    pub details: &'a str,
}

/// SHA-256 over the previous hash and every field, each length-prefixed; hex.
pub fn record_hash(prev_hash: &str, fields: &RecordFields) -> String {
    let mut hasher = Sha256::new();
    let mut put = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    put(prev_hash.as_bytes());
    put(fields.county.as_bytes());
    put(&fields.seq.to_le_bytes());
    put(fields.id.as_bytes());
    put(fields.case_id.unwrap_or("\u{0}").as_bytes());
    put(fields.act.as_bytes());
    put(fields.actor.as_bytes());
    put(fields.role.as_bytes());
    put(fields.from_state.unwrap_or("\u{0}").as_bytes());
    put(fields.to_state.unwrap_or("\u{0}").as_bytes());
    put(fields.at.as_bytes());
    put(fields.note.as_bytes());
    put(fields.attachments.as_bytes());
    put(fields.details.as_bytes());
    hex(&hasher.finalize())
}

/// The hash of a checkpoint: the previous checkpoint's hash, its time and the heads.
pub fn checkpoint_hash(prev_hash: &str, seq: i64, at: &str, heads: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [
        prev_hash.as_bytes(),
        &seq.to_le_bytes(),
        at.as_bytes(),
        heads.as_bytes(),
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// What `verify_records` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub records: u64,
    pub chains: usize,
    pub checkpoints: u64,
    /// The first broken record or checkpoint, described; `None` when everything is intact.
    pub first_problem: Option<String>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(note: &'a str, seq: i64) -> RecordFields<'a> {
        RecordFields {
            county: "140702",
            seq,
            id: "r1",
            case_id: Some("c1"),
            act: "accept",
            actor: "张三",
            role: "centre_intake",
            from_state: Some("reported"),
            to_state: Some("accepted"),
            at: "2026-11-29T01:00:00.000000Z",
            note,
            attachments: "[]",
            details: "{}",
        }
    }

    #[test]
    fn every_field_and_the_previous_hash_count() {
        let base = record_hash(GENESIS, &fields("受理", 1));
        assert_eq!(base.len(), 64);
        assert_ne!(base, record_hash(GENESIS, &fields("受理。", 1)));
        assert_ne!(base, record_hash(GENESIS, &fields("受理", 2)));
        assert_ne!(base, record_hash(&base, &fields("受理", 1)));
        assert_eq!(base, record_hash(GENESIS, &fields("受理", 1)));
    }

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
