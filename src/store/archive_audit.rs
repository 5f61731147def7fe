//! `tradedesk audit verify --archive FILE`: the audit chain across an archive's cut.
//!
//! The archived decisions are seqs `first_seq..=last_seq` of the decision_history chain.
//! Starting from the hash the header records before them, each row's hash is recomputed
//! from its columns (migration 7's canonical text, rebuilt here from the file's JSON, which
//! keeps every value as PostgreSQL printed it) and must equal the row's own; the last must
//! be the header's `last_hash`. Against a database, the database's boundary
//! (`audit_heads.archived_seq`/`archived_hash`) must be this cut, or a later one, or, while
//! the archive's deletions are unfinished, the rows still there must be the file's.

use chrono::DateTime;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::Store;
use super::archive::bytea_hex;
use super::archive_file::{ARCHIVED, Archive, RawRow};
use super::audit::Chain;

/// What verifying an archive found.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveVerified {
    pub table: Chain,
    pub rows: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub last_hash: String,
    /// The first thing wrong, if any.
    pub problem: Option<String>,
    /// How the database's chain meets the archive's (when verified against one).
    pub database: Option<String>,
}

impl ArchiveVerified {
    pub fn intact(&self) -> bool {
        self.problem.is_none()
    }
}

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
    };
    let mut rows: Vec<(i64, &RawRow)> = Vec::new();
    for row in archive
        .rows_of("decision_history")
        .filter(|r| r.role == ARCHIVED)
    {
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
    for (seq, row) in rows {
        let id = row.json("id").unwrap_or("?").trim_matches('"').to_string();
        if seq != expected {
            out.problem = Some(format!(
                "row {id} has seq {seq} where seq {expected} was expected: the archived rows \
                 are not one stretch of the chain"
            ));
            return out;
        }
        let canonical = match canonical(Chain::DecisionHistory, seq, row) {
            Ok(c) => c,
            Err(e) => {
                out.problem = Some(format!("row {id} (seq {seq}): {e}"));
                return out;
            }
        };
        let digest = Sha256::digest(canonical.as_bytes());
        let mut step = Sha256::new();
        step.update(&previous);
        step.update(digest);
        let hash = step.finalize().to_vec();
        let stored = row.text("audit_hash").ok().flatten().map(|h| bytea_hex(&h));
        if stored.as_deref() != Some(hex::encode(&hash).as_str()) {
            out.problem = Some(format!(
                "row {id} (seq {seq}) does not match its hash: it was changed"
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

/// [`verify_chain`], then how the database's chain meets the archive's.
pub async fn verify_against(
    store: &Store,
    archive: &Archive,
) -> Result<ArchiveVerified, sqlx::Error> {
    let mut out = verify_chain(archive);
    if out.problem.is_some() {
        return Ok(out);
    }
    let head: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT archived_seq, archived_hash FROM tradedesk.audit_heads
          WHERE chained_table = 'decision_history'",
    )
    .fetch_optional(store.pool())
    .await?;
    let Some((archived_seq, archived_hash)) = head else {
        out.problem = Some("the database has no audit head for decision_history".into());
        return Ok(out);
    };
    let b = &archive.header.chain;
    if archived_seq == b.last_seq {
        if hex::encode(&archived_hash) == b.last_hash {
            out.database = Some(format!(
                "the database's chain continues from this archive's last row (seq {})",
                b.last_seq
            ));
        } else {
            out.problem = Some(format!(
                "the database's archived boundary at seq {} has another hash than the file's \
                 last row",
                b.last_seq
            ));
        }
    } else if archived_seq > b.last_seq {
        out.database = Some(format!(
            "the database has been archived further since (up to seq {archived_seq})"
        ));
    } else if archived_seq + 1 < b.first_seq {
        out.problem = Some(format!(
            "the database's chain is archived only up to seq {archived_seq}, but the file \
             starts at seq {}",
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
        let hashes: std::collections::HashMap<i64, String> = archive
            .rows_of("decision_history")
            .filter(|r| r.role == ARCHIVED)
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
                    "row {id} (seq {seq}) in the database differs from the file's"
                ));
            }
            None => {
                out.database = Some(format!(
                    "the archive's deletions are unfinished: seqs {}..={} are still in the \
                     database, identical to the file's (run the same `tradedesk archive` again)",
                    archived_seq + 1,
                    b.last_seq
                ));
            }
        }
    }
    Ok(out)
}

/// Migration 7's canonical text of a row, from the file's JSON: `<characters>:<value>,`
/// per field, `-,` for NULL; the table's name, the seq, then the chain's columns.
fn canonical(chain: Chain, seq: i64, row: &RawRow) -> Result<String, String> {
    let mut out = String::new();
    let mut field = |value: Option<&str>| match value {
        None => out.push_str("-,"),
        Some(v) => {
            out.push_str(&v.chars().count().to_string());
            out.push(':');
            out.push_str(v);
            out.push(',');
        }
    };
    field(Some(chain.as_str()));
    field(Some(&seq.to_string()));
    for (name, ty) in chain.columns() {
        let value: Option<String> = match *ty {
            "uuid" => row.uuid(name)?.map(|u| u.hyphenated().to_string()),
            "timestamptz" => match row.text(name)? {
                None => None,
                Some(t) if t == "infinity" || t == "-infinity" => Some(t),
                Some(t) => {
                    let at = DateTime::parse_from_rfc3339(&t)
                        .map_err(|_| format!("{name} is not a timestamp"))?;
                    Some(at.timestamp_micros().to_string())
                }
            },
            // As PostgreSQL printed them: a numeric's digits and scale, a boolean, jsonb.
            "numeric" => row.json(name).map(|v| v.trim_matches('"').to_string()),
            "boolean" | "jsonb" => row.json(name).map(str::to_string),
            _ => row.text(name)?,
        };
        field(value.as_deref());
    }
    Ok(out)
}
