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

/// A stored record exactly as read back, for verification.
pub struct StoredRecord {
    pub county: String,
    pub seq: i64,
    pub id: String,
    pub case_id: Option<String>,
    pub act: String,
    pub actor: String,
    pub role: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub at: String,
    pub note: String,
    pub attachments: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredRecord {
    /// The record as it will be stored: a new id, every field in the text form that is
    /// hashed, and its hash over the previous one. Both engines append through this, so a
    /// record verifies the same wherever it was written.
    pub fn seal(record: &NewRecord, seq: i64, prev_hash: String) -> StoredRecord {
        let mut sealed = StoredRecord {
            county: record.county.clone(),
            seq,
            id: uuid::Uuid::now_v7().to_string(),
            case_id: record.case_id.clone(),
            act: record.act.clone(),
            actor: record.actor.clone(),
            role: record.role.clone(),
            from_state: record.from_state.clone(),
            to_state: record.to_state.clone(),
            at: time_text(record.at),
            note: record.note.clone(),
            // A Vec<String> always serialises; the fallback is never taken.
            attachments: serde_json::to_string(&record.attachments)
                .unwrap_or_else(|_| "[]".to_owned()),
            details: record.details.to_string(),
            prev_hash,
            hash: String::new(),
        };
        sealed.hash = record_hash(&sealed.prev_hash, &sealed.fields());
        sealed
    }

    fn fields(&self) -> RecordFields<'_> {
        RecordFields {
            county: &self.county,
            seq: self.seq,
            id: &self.id,
            case_id: self.case_id.as_deref(),
            act: &self.act,
            actor: &self.actor,
            role: &self.role,
            from_state: self.from_state.as_deref(),
            to_state: self.to_state.as_deref(),
            at: &self.at,
            note: &self.note,
            attachments: &self.attachments,
            details: &self.details,
        }
    }
}

/// A stored checkpoint exactly as read back.
pub struct StoredCheckpoint {
    pub seq: i64,
    pub at: String,
    pub heads: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The one verification of the record, whatever engine reads the rows: records are fed in
/// chain order (by county, then sequence), then the stored heads, then the checkpoints. The
/// first problem found is kept, and every later call answers `false`.
#[derive(Default)]
pub struct ChainWalker {
    report: VerifyReport,
    county: String,
    expected_seq: i64,
    prev: String,
    heads_seen: std::collections::BTreeMap<String, (i64, String)>,
    previous_checkpoint: Option<String>,
}

impl ChainWalker {
    fn fail(&mut self, problem: String) -> bool {
        self.report.first_problem = Some(problem);
        false
    }

    /// The next record; `false` once a problem is found.
    pub fn record(&mut self, r: &StoredRecord) -> bool {
        if self.report.first_problem.is_some() {
            return false;
        }
        if r.county != self.county || self.report.records == 0 {
            self.county = r.county.clone();
            self.expected_seq = 1;
            self.prev = GENESIS.to_owned();
            self.report.chains += 1;
        }
        let place = format!("record {}#{} (id {})", r.county, r.seq, r.id);
        if r.seq != self.expected_seq {
            return self.fail(format!(
                "{place}: expected sequence number {} — a record was deleted or inserted before it",
                self.expected_seq
            ));
        }
        if r.prev_hash != self.prev {
            return self.fail(format!(
                "{place}: its previous-hash does not match the record before it — records were \
                 deleted, inserted or reordered"
            ));
        }
        let computed = record_hash(&self.prev, &r.fields());
        if computed != r.hash {
            return self.fail(format!(
                "{place}: its content does not match its hash — the record was changed"
            ));
        }
        self.report.records += 1;
        self.heads_seen
            .insert(r.county.clone(), (r.seq, r.hash.clone()));
        self.prev = r.hash.clone();
        self.expected_seq += 1;
        true
    }

    /// The stored chain heads (county, seq, hash) must be where the chains end.
    pub fn heads(&mut self, stored: &[(String, i64, String)]) -> bool {
        if self.report.first_problem.is_some() {
            return false;
        }
        if stored.len() != self.heads_seen.len() {
            return self.fail(format!(
                "chain heads: {} chains have a head but {} have records — a chain was removed",
                stored.len(),
                self.heads_seen.len()
            ));
        }
        for (county, seq, hash) in stored {
            if self.heads_seen.get(county) != Some(&(*seq, hash.clone())) {
                return self.fail(format!(
                    "chain {county}: its head is record #{seq} but the chain ends elsewhere — \
                     records were cut off its end"
                ));
            }
        }
        true
    }

    /// The next checkpoint, in order; answers the heads it lists, each of which the engine
    /// must find with that hash (see `checkpoint_head_missing`), or `None` after a problem.
    pub fn checkpoint(&mut self, c: &StoredCheckpoint) -> Option<Vec<(String, i64, String)>> {
        if self.report.first_problem.is_some() {
            return None;
        }
        let place = format!("checkpoint #{}", c.seq);
        let prev = self
            .previous_checkpoint
            .clone()
            .unwrap_or_else(|| GENESIS.to_owned());
        if c.seq != self.report.checkpoints as i64 + 1 || c.prev_hash != prev {
            self.fail(format!("{place}: the checkpoint log is broken here"));
            return None;
        }
        if checkpoint_hash(&prev, c.seq, &c.at, &c.heads) != c.hash {
            self.fail(format!("{place}: its content does not match its hash"));
            return None;
        }
        let Ok(listed) = serde_json::from_str::<Vec<(String, i64, String)>>(&c.heads) else {
            self.fail(format!("{place}: its list of heads is unreadable"));
            return None;
        };
        self.report.checkpoints += 1;
        self.previous_checkpoint = Some(c.hash.clone());
        Some(listed)
    }

    /// A head a checkpoint lists is no longer in its chain as it was.
    pub fn checkpoint_head_missing(&mut self, checkpoint_seq: i64, county: &str, seq: i64) {
        self.fail(format!(
            "checkpoint #{checkpoint_seq}: chain {county} no longer has record #{seq} as it was \
             checkpointed — history was rewritten or cut"
        ));
    }

    pub fn finish(self) -> VerifyReport {
        self.report
    }
}
