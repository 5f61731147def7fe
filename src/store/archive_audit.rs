//! Whether an archive file is what `tradedesk archive` wrote: every reader (`replay
//! --archive`, `timeline --archive`, `audit verify --archive`, the console on a file) asks
//! this before it shows anything.
//!
//! 1. **Its own chain** ([`verify_chain`]). The archived decisions are seqs
//!    `first_seq..=last_seq` of the decision_history chain. Starting from the hash the
//!    header records before them, each row's hash is recomputed from its columns
//!    (migration 7's canonical text, rebuilt here from the file's JSON, which keeps every
//!    value as PostgreSQL printed it) and must equal the row's own; the last must be the
//!    header's `last_hash`. This catches a row changed and the checksum recomputed.
//! 2. **The database** ([`check`]), when one is reachable. `tradedesk archive` records
//!    each file it publishes in the chained `tradedesk.config_changes` (subject
//!    `archive`: its SHA-256 and cut, [`super::archive::Record`]) before deleting
//!    anything. A file whose SHA-256 is recorded is the one written; a file that is not,
//!    where the database records another for the same seqs, is not (a chain rewritten
//!    whole, hashes and all, verifies on its own but is refused here). The database's own
//!    chain must meet the file's too: its boundary (`audit_heads.archived_seq`/`hash`) is
//!    this cut or a later one, or, while the archive's deletions are unfinished, the rows
//!    still there are the file's.
//! 3. **A kept head** ([`check_kept`]): `--expect decision_history:SEQ:HASH` (printed by
//!    `tradedesk archive`), kept where no one who could rewrite the file writes, checks a
//!    file without a database.

use std::borrow::Cow;

use chrono::DateTime;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::Store;
use super::archive::{Record, bytea_hex};
use super::archive_file::{ARCHIVED, Archive, RawRow};
use super::audit::{Chain, Head};
use crate::domain::stored::Stamp;

/// What verifying an archive found.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveVerified {
    pub table: Chain,
    pub rows: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub last_hash: String,
    /// The first thing wrong, if any: the file is not to be shown.
    pub problem: Option<String>,
    /// How the database's chain meets the archive's (when verified against one), or why
    /// no database was asked.
    pub database: Option<String>,
    /// The database's record of this file, when it holds one.
    pub recorded: Option<Recorded>,
    /// What vouches for the file beyond its own chain: the database's record of it, the
    /// database's chain, a kept head. Empty when nothing did ("not checked").
    pub checked_by: Vec<String>,
}

impl ArchiveVerified {
    pub fn intact(&self) -> bool {
        self.problem.is_none()
    }

    /// Something besides the file itself vouches for it.
    pub fn checked(&self) -> bool {
        self.problem.is_none() && !self.checked_by.is_empty()
    }
}

/// The `config_changes` row that recorded a file.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// Its seq in the config_changes chain.
    pub seq: Option<i64>,
    pub changed_at: String,
    pub operator: String,
    pub file: String,
}

/// A kept head that cannot be checked against this file (another chain, or seqs the file
/// does not hold): the command line was wrong, not the file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct KeptOutside(pub String);

/// Recomputes the archived rows' chain (the file was already verified by its checksum
/// when read).
pub fn verify_chain(archive: &Archive) -> ArchiveVerified {
    let boundary = &archive.header.chain;
    let mut out = ArchiveVerified {
        table: Chain::DecisionHistory,
        rows: 0,
        first_seq: boundary.first_seq,
        last_seq: boundary.last_seq,
        last_hash: boundary.last_hash.clone(),
        problem: None,
        database: None,
        recorded: None,
        checked_by: Vec::new(),
    };
    if boundary.table != Chain::DecisionHistory.as_str() {
        out.problem = Some(format!(
            "its header names the {} chain, not decision_history",
            boundary.table
        ));
        return out;
    }
    let mut rows: Vec<(i64, &RawRow)> = Vec::new();
    for row in archived_rows(archive) {
        match row.req_int("audit_seq") {
            Ok(seq) => rows.push((seq, row)),
            Err(e) => {
                out.problem = Some(e);
                return out;
            }
        }
    }
    rows.sort_by_key(|(seq, _)| *seq);
    let Ok(mut previous) = hex::decode(&boundary.hash_before) else {
        out.problem = Some("the header's hash_before is not hex".into());
        return out;
    };
    let mut expected = boundary.first_seq;
    // One buffer for every row's canonical text: a year's archive is tens of thousands.
    let mut canonical_text = String::new();
    let mut computed = [0u8; 64];
    for (seq, row) in rows {
        let id = || row.json("id").unwrap_or("?").trim_matches('"').to_string();
        if seq != expected {
            let id = id();
            out.problem = Some(format!(
                "row {id} has seq {seq} where seq {expected} was expected: the archived rows \
                 are not one stretch of the chain"
            ));
            return out;
        }
        canonical_text.clear();
        if let Err(e) = canonical(&mut canonical_text, Chain::DecisionHistory, seq, row) {
            out.problem = Some(format!("row {} (seq {seq}): {e}", id()));
            return out;
        }
        let digest = Sha256::digest(canonical_text.as_bytes());
        let mut step = Sha256::new();
        step.update(&previous);
        step.update(digest);
        let hash = step.finalize().to_vec();
        // `"\\x<hex>"`, as row_to_json prints a bytea; compared without copying.
        let stored = row
            .json("audit_hash")
            .and_then(|raw| raw.strip_prefix("\"\\\\x"));
        let matches = hex::encode_to_slice(&hash, &mut computed).is_ok()
            && stored.is_some_and(|s| {
                s.len() == 65
                    && s.ends_with('"')
                    && s.as_bytes()[..64].eq_ignore_ascii_case(&computed)
            });
        if !matches {
            out.problem = Some(format!(
                "row {} (seq {seq}) does not match its hash: it was changed",
                id()
            ));
            return out;
        }
        previous = hash;
        expected += 1;
        out.rows += 1;
    }
    if expected - 1 != boundary.last_seq {
        out.problem = Some(format!(
            "the file holds seqs up to {}, its header says {}",
            expected - 1,
            boundary.last_seq
        ));
    } else if hex::encode(&previous) != boundary.last_hash {
        out.problem = Some("the chain does not end at the header's last_hash".into());
    }
    out
}

fn archived_rows(archive: &Archive) -> impl Iterator<Item = &RawRow> {
    archive
        .rows_of("decision_history")
        .filter(|r| r.role == ARCHIVED)
}

/// The file's chain hash at `seq` (hex): the hash before its first row, or a row's own
/// (which [`verify_chain`] has recomputed).
fn hash_at(archive: &Archive, seq: i64) -> Option<String> {
    let b = &archive.header.chain;
    if seq == b.first_seq - 1 {
        return Some(b.hash_before.clone());
    }
    archived_rows(archive)
        .find(|r| r.req_int("audit_seq").ok() == Some(seq))
        .and_then(|r| r.req_text("audit_hash").ok())
        .map(|h| bytea_hex(&h))
}

/// Checks the (chain-verified) file against heads kept elsewhere: each must lie within the
/// file's seqs (or be the hash before them) and be the file's hash there. A head elsewhere
/// is an error of the command line; a head the file does not pass through is a problem.
pub fn check_kept(
    archive: &Archive,
    out: &mut ArchiveVerified,
    kept: &[Head],
) -> Result<(), KeptOutside> {
    let b = &archive.header.chain;
    for head in kept {
        if head.table != Chain::DecisionHistory
            || head.seq < b.first_seq - 1
            || head.seq > b.last_seq
        {
            return Err(KeptOutside(format!(
                "the kept head {}:{} is outside this archive, which holds decision_history seqs \
                 {}..{}: it cannot be checked against the file",
                head.table, head.seq, b.first_seq, b.last_seq
            )));
        }
        if out.problem.is_some() {
            continue;
        }
        match hash_at(archive, head.seq) {
            Some(hash) if hash == head.hash => {
                let to = if head.seq == b.last_seq {
                    String::new()
                } else {
                    format!(" (its rows after seq {} are not)", head.seq)
                };
                out.checked_by.push(format!("the kept head {head}{to}"));
            }
            found => {
                out.problem = Some(format!(
                    "it does not pass through the kept head {head} (its hash at seq {} is {}): \
                     it is not the archive that head was kept from",
                    head.seq,
                    found.as_deref().unwrap_or("missing")
                ));
            }
        }
    }
    Ok(())
}

/// [`verify_chain`], then how the database's chain meets the archive's.
pub async fn verify_against(
    store: &Store,
    archive: &Archive,
) -> Result<ArchiveVerified, sqlx::Error> {
    check(store, archive).await
}

/// A `config_changes` row of subject `archive`, as read.
struct RecordRow {
    seq: Option<i64>,
    changed_at: Stamp,
    operator: String,
    record: Record,
}

/// [`verify_chain`], then the file against the database: its record, and the database's
/// chain (see the module).
pub async fn check(store: &Store, archive: &Archive) -> Result<ArchiveVerified, sqlx::Error> {
    let mut out = verify_chain(archive);
    if out.problem.is_some() {
        return Ok(out);
    }
    let (database, head): (String, Option<(i64, Vec<u8>)>) = {
        let (name, seq, hash): (String, Option<i64>, Option<Vec<u8>>) = sqlx::query_as(
            "SELECT current_database()::text, h.archived_seq, h.archived_hash
               FROM (SELECT 1) one
               LEFT JOIN tradedesk.audit_heads h ON h.chained_table = 'decision_history'",
        )
        .fetch_one(store.pool())
        .await?;
        (name, seq.zip(hash))
    };
    let b = &archive.header.chain;
    // Said with every refusal: reading an archive against another database fails too.
    let whose = if archive.header.database == database {
        String::new()
    } else {
        format!(
            " (the file says it is an archive of database {}, this is {database}: read it \
             with that database's --database-url, or without one)",
            archive.header.database
        )
    };

    // Few rows (one an archive); read whole, and a row that is not a record is no record.
    let rows: Vec<(Option<i64>, Stamp, String, Option<String>)> = sqlx::query_as(
        "SELECT audit_seq, changed_at, operator, after::text FROM tradedesk.config_changes
          WHERE subject = 'archive' ORDER BY audit_seq NULLS LAST, id",
    )
    .fetch_all(store.pool())
    .await?;
    let records: Vec<RecordRow> = rows
        .into_iter()
        .filter_map(|(seq, changed_at, operator, after)| {
            let record = serde_json::from_str::<Record>(&after?).ok()?;
            Some(RecordRow {
                seq,
                changed_at,
                operator,
                record,
            })
        })
        .filter(|r| r.record.table == b.table)
        .collect();
    let sha = &archive.trailer.sha256;
    if let Some(mine) = records.iter().find(|r| &r.record.sha256 == sha) {
        let r = &mine.record;
        if (
            r.first_seq,
            r.last_seq,
            r.last_hash.as_str(),
            r.hash_before.as_str(),
        ) != (
            b.first_seq,
            b.last_seq,
            b.last_hash.as_str(),
            b.hash_before.as_str(),
        ) {
            out.problem = Some(format!(
                "the database's record of this file names seqs {}..{} ending at {}, the file \
                 seqs {}..{} ending at {}",
                r.first_seq, r.last_seq, r.last_hash, b.first_seq, b.last_seq, b.last_hash
            ));
            return Ok(out);
        }
        out.checked_by.push(format!(
            "{database}'s audit, which recorded this file's sha256 (config_changes seq {}, by \
             {} at {} UTC)",
            mine.seq.map_or("?".to_string(), |s| s.to_string()),
            mine.operator,
            mine.changed_at
        ));
        out.recorded = Some(Recorded {
            seq: mine.seq,
            changed_at: mine.changed_at.to_string(),
            operator: mine.operator.clone(),
            file: r.file.clone(),
        });
    } else if let Some(other) = records
        .iter()
        .find(|r| r.record.first_seq <= b.last_seq && r.record.last_seq >= b.first_seq)
    {
        let r = &other.record;
        out.problem = Some(format!(
            "the database recorded another file for decision_history seqs {}..{} ({}, sha256 \
             {}; config_changes seq {}), not this one (sha256 {sha}): it was changed after it \
             was written{whose}",
            r.first_seq,
            r.last_seq,
            r.file,
            r.sha256,
            other.seq.map_or("?".to_string(), |s| s.to_string())
        ));
        return Ok(out);
    }
    let recorded = out.recorded.is_some();

    let Some((archived_seq, archived_hash)) = head else {
        out.problem = Some("the database has no audit head for decision_history".into());
        return Ok(out);
    };
    if archived_seq == b.last_seq {
        if hex::encode(&archived_hash) == b.last_hash {
            out.database = Some(format!(
                "the database's chain continues from this archive's last row (seq {})",
                b.last_seq
            ));
            if !recorded {
                out.checked_by.push(format!(
                    "{database}'s chain, whose archived boundary is this file's last hash"
                ));
            }
        } else {
            out.problem = Some(format!(
                "the database's archived boundary at seq {} has another hash than the file's \
                 last row{whose}",
                b.last_seq
            ));
        }
    } else if archived_seq > b.last_seq {
        out.database = Some(format!(
            "the database has been archived further since (up to seq {archived_seq})"
        ));
        // The next archive's record starts from the hash this one ends at.
        match records
            .iter()
            .find(|r| r.record.first_seq == b.last_seq + 1)
        {
            Some(next) if next.record.hash_before != b.last_hash => {
                out.problem = Some(format!(
                    "the database's record of the next archive (seqs {}..{}) starts from another \
                     hash than this file ends at{whose}",
                    next.record.first_seq, next.record.last_seq
                ));
            }
            Some(_) if !recorded => out.checked_by.push(format!(
                "{database}'s record of the next archive, which starts from this file's last hash"
            )),
            _ if !recorded => {
                out.database = Some(format!(
                    "the database has been archived further since (up to seq {archived_seq}) and \
                     holds no record of this file"
                ));
            }
            _ => {}
        }
    } else if archived_seq + 1 < b.first_seq {
        out.problem = Some(format!(
            "the database's chain is archived only up to seq {archived_seq}, but the file \
             starts at seq {}{whose}",
            b.first_seq
        ));
    } else {
        // The archive's deletions are unfinished: the rows still there must be the file's.
        let present: Vec<(i64, Uuid, Vec<u8>)> = sqlx::query_as(
            "SELECT audit_seq, id, audit_hash FROM decision_history
              WHERE audit_seq > $1 AND audit_seq <= $2 ORDER BY audit_seq, id",
        )
        .bind(archived_seq)
        .bind(b.last_seq)
        .fetch_all(store.pool())
        .await?;
        let hashes: std::collections::HashMap<i64, String> = archived_rows(archive)
            .filter_map(|r| {
                Some((
                    r.req_int("audit_seq").ok()?,
                    bytea_hex(&r.req_text("audit_hash").ok()?),
                ))
            })
            .collect();
        let differs = present
            .iter()
            .find(|(seq, _, hash)| hashes.get(seq) != Some(&hex::encode(hash)));
        match differs {
            Some((seq, id, _)) => {
                out.problem = Some(format!(
                    "row {id} (seq {seq}) in the database differs from the file's{whose}"
                ));
            }
            // The chain's last row pins every row before it.
            None if !present.iter().any(|(seq, _, _)| *seq == b.last_seq) => {
                out.problem = Some(format!(
                    "decision_history seq {} is neither archived nor in the database{whose}",
                    b.last_seq
                ));
            }
            None => {
                out.database = Some(format!(
                    "the archive's deletions are unfinished: seqs {}..={} are still in the \
                     database, identical to the file's (run the same `tradedesk archive` again)",
                    archived_seq + 1,
                    b.last_seq
                ));
                if !recorded {
                    out.checked_by.push(format!(
                        "{database}'s chain, which still holds this file's last row"
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Migration 7's canonical text of a row, from the file's JSON: `<characters>:<value>,`
/// per field, `-,` for NULL; the table's name, the seq, then the chain's columns; appended
/// to `out`. Every reader recomputes it for every archived row on every open, so values are
/// borrowed from the file's text where they can be, never copied.
fn canonical(out: &mut String, chain: Chain, seq: i64, row: &RawRow) -> Result<(), String> {
    use std::fmt::Write as _;
    fn field(out: &mut String, value: Option<&str>) {
        match value {
            None => out.push_str("-,"),
            Some(v) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "{}:{v},", v.chars().count());
            }
        }
    }
    field(out, Some(chain.as_str()));
    let mut number = String::new();
    let _ = write!(number, "{seq}");
    field(out, Some(&number));
    for (name, ty) in chain.columns() {
        match *ty {
            "uuid" => match string(row, name)? {
                None => field(out, None),
                Some(text) => {
                    let id = uuid::Uuid::parse_str(&text)
                        .map_err(|_| format!("{name} is not a uuid"))?;
                    let mut buf = uuid::Uuid::encode_buffer();
                    field(out, Some(id.hyphenated().encode_lower(&mut buf)));
                }
            },
            "timestamptz" => match string(row, name)? {
                None => field(out, None),
                Some(t) if t == "infinity" || t == "-infinity" => field(out, Some(&t)),
                Some(t) => {
                    let at = DateTime::parse_from_rfc3339(&t)
                        .map_err(|_| format!("{name} is not a timestamp"))?;
                    number.clear();
                    let _ = write!(number, "{}", at.timestamp_micros());
                    field(out, Some(&number));
                }
            },
            // As PostgreSQL printed them: a numeric's digits and scale, a boolean, jsonb.
            "numeric" => field(out, row.json(name).map(|v| v.trim_matches('"'))),
            "boolean" | "jsonb" => field(out, row.json(name)),
            _ => field(out, string(row, name)?.as_deref()),
        }
    }
    Ok(())
}

/// A JSON string column's text: borrowed from the file when it holds no escape.
fn string<'a>(row: &'a RawRow, name: &str) -> Result<Option<Cow<'a, str>>, String> {
    match row.json(name) {
        None => Ok(None),
        Some(raw) => match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(plain) if !plain.contains('\\') => Ok(Some(Cow::Borrowed(plain))),
            _ => row.text(name).map(|t| t.map(Cow::Owned)),
        },
    }
}
