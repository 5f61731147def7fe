//! The archive file (issue 12): zstd-compressed JSON Lines, readable with
//! `zstd -dc FILE | jq`.
//!
//! ```text
//! line 1      {"header": {...}}                        what the file is and holds
//! lines 2..n  {"table": "...", "role": "...", "row": {...}}   one row each, as to_jsonb(t)
//! last line   {"trailer": {"rows": N, "sha256": "<hex>"}}    SHA-256 of every byte before it
//! ```
//!
//! A row is written as PostgreSQL printed `to_jsonb(t)`, byte for byte, never re-encoded:
//! numerics keep their digits and scale (`92.50`), a jsonb column keeps PostgreSQL's own
//! spelling (which the audit chain hashes), and a column the platform adds later is kept
//! too. Readers take each field's raw text ([`RawRow`]) and parse numerics from it, never
//! through a float.
//!
//! A file is complete only with its trailer, and verified only when the trailer's count
//! and checksum and the header's counts per table all agree with what was read; nothing
//! is deleted from the database before that (see `store::archive`).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::domain::stored::Numeric;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// The `format` a header names.
pub const FORMAT: &str = "tradedesk-archive";
/// The version of the layout above; a reader refuses a newer one.
pub const VERSION: u32 = 1;

/// A row's part in the file: removed from the database by this archive, or a copy of a
/// row that stays there (a snapshot, a strategy, a later decision) that an archived
/// replay reads.
pub const ARCHIVED: &str = "archived";
pub const CONTEXT: &str = "context";

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a verified tradedesk archive: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "another tradedesk archive is writing {} (it holds the lock on {}): nothing was done",
        path.display(), partial_path(path).display()
    )]
    Busy { path: PathBuf },
    #[error(
        "{} appeared while this archive was being written (another archive wrote it): this \
         one was discarded and nothing was deleted", path.display()
    )]
    Appeared { path: PathBuf },
}

impl FileError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FileError {
        let path = path.to_path_buf();
        move |source| FileError::Io {
            action,
            path,
            source,
        }
    }

    fn invalid(path: &Path, reason: impl Into<String>) -> FileError {
        FileError::Invalid {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// Where the archived rows sat in an audit chain: the archive removed seqs
/// `first_seq..=last_seq`, the row before them had hash `hash_before`, and the last
/// removed has `last_hash` (both hex), which `tradedesk.audit_heads.archived_hash` then
/// holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boundary {
    pub table: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub hash_before: String,
    pub last_hash: String,
}

/// Line 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub tradedesk_version: String,
    pub created_at: DateTime<Utc>,
    /// `--before`: every archived decision occurred before it.
    pub before: DateTime<Utc>,
    /// The database's name (never its URL: no password is written).
    pub database: String,
    /// The decision_history chain's cut.
    pub chain: Boundary,
    /// Rows per `table/role` (e.g. `decision_history/archived`).
    pub rows: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    pub rows: u64,
    pub sha256: String,
}

#[derive(Serialize, Deserialize)]
struct HeaderLine {
    header: Header,
}

#[derive(Serialize, Deserialize)]
struct TrailerLine {
    trailer: Trailer,
}

/// A row's line, read in one pass: its columns' raw text is split out as the line is
/// parsed (not kept whole and parsed again).
#[derive(Deserialize)]
struct RowLine<'a> {
    #[serde(borrow)]
    table: &'a str,
    #[serde(borrow)]
    role: &'a str,
    row: HashMap<String, Box<RawValue>>,
}

/// Writes `FILE.partial`; [`Writer::finish`] seals it with the trailer and fsyncs it.
pub struct Writer {
    path: PathBuf,
    out: zstd::Encoder<'static, BufWriter<File>>,
    hash: Sha256,
    rows: u64,
    counted: BTreeMap<String, u64>,
}

impl Writer {
    pub fn create(path: &Path, header: &Header) -> Result<Writer, FileError> {
        let file = File::create(path).map_err(FileError::io("create", path))?;
        Writer::start(file, path, header)
    }

    /// Writes into a claimed `FILE.partial` ([`Claim`]), emptied first (a leftover of an
    /// interrupted run is discarded: nothing was deleted on its strength).
    pub fn claimed(claim: &Claim, header: &Header) -> Result<Writer, FileError> {
        let file = claim
            .file
            .try_clone()
            .map_err(FileError::io("open", &claim.partial))?;
        file.set_len(0)
            .map_err(FileError::io("truncate", &claim.partial))?;
        Writer::start(file, &claim.partial, header)
    }

    fn start(file: File, path: &Path, header: &Header) -> Result<Writer, FileError> {
        // Level 3 (zstd's default): most of the ratio at a fraction of the time; an
        // archive of months is written while the platform runs.
        let out =
            zstd::Encoder::new(BufWriter::new(file), 3).map_err(FileError::io("compress", path))?;
        let mut writer = Writer {
            path: path.to_path_buf(),
            out,
            hash: Sha256::new(),
            rows: 0,
            counted: BTreeMap::new(),
        };
        let line = serde_json::to_string(&HeaderLine {
            header: header.clone(),
        })
        .map_err(|e| FileError::invalid(path, e.to_string()))?;
        writer.line(line.as_bytes())?;
        Ok(writer)
    }

    fn line(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        self.hash.update(bytes);
        self.hash.update(b"\n");
        self.out
            .write_all(bytes)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(FileError::io("write", &self.path))
    }

    /// One row: `json` is `to_jsonb(t)::text` as PostgreSQL printed it.
    pub fn row(&mut self, table: &str, role: &str, json: &str) -> Result<(), FileError> {
        // Table and role are tradedesk's own identifiers (no quoting needed); the row is
        // copied verbatim.
        let line = format!("{{\"table\":\"{table}\",\"role\":\"{role}\",\"row\":{json}}}");
        self.line(line.as_bytes())?;
        self.rows += 1;
        *self.counted.entry(format!("{table}/{role}")).or_default() += 1;
        Ok(())
    }

    pub fn counted(&self) -> &BTreeMap<String, u64> {
        &self.counted
    }

    /// The trailer, then everything flushed and fsynced.
    pub fn finish(mut self) -> Result<Trailer, FileError> {
        let trailer = Trailer {
            rows: self.rows,
            sha256: hex::encode(self.hash.clone().finalize()),
        };
        let line = serde_json::to_string(&TrailerLine {
            trailer: trailer.clone(),
        })
        .map_err(|e| FileError::invalid(&self.path, e.to_string()))?;
        self.out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(FileError::io("write", &self.path))?;
        let buffered = self
            .out
            .finish()
            .map_err(FileError::io("compress", &self.path))?;
        let file = buffered.into_inner().map_err(|e| FileError::Io {
            action: "flush",
            path: self.path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all()
            .map_err(FileError::io("fsync", &self.path))?;
        Ok(trailer)
    }
}

/// The right to write `FILE.partial`: an exclusive lock on it, held until dropped (and by
/// the kernel only while the process lives, so a killed archive leaves no stale lock).
/// Two archives writing to one FILE (from two databases, which their advisory locks do not
/// serialise) would otherwise interleave their bytes in one `.partial`.
#[derive(Debug)]
pub struct Claim {
    partial: PathBuf,
    file: File,
}

impl Claim {
    /// Locks `FILE.partial` (creating it empty if need be); [`FileError::Busy`] when
    /// another process holds it.
    pub fn take(path: &Path) -> Result<Claim, FileError> {
        use std::os::unix::fs::MetadataExt as _;
        let partial = partial_path(path);
        // The holder may publish or remove the name between our open and our lock: the lock
        // counts only on the file the name still names, else try again on the new one.
        for _ in 0..5 {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&partial)
                .map_err(FileError::io("create", &partial))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(FileError::Busy {
                        path: path.to_path_buf(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(FileError::io("lock", &partial)(e));
                }
            }
            let held = file.metadata().map_err(FileError::io("read", &partial))?;
            match std::fs::metadata(&partial) {
                Ok(named) if named.dev() == held.dev() && named.ino() == held.ino() => {
                    return Ok(Claim { partial, file });
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(FileError::io("read", &partial)(e)),
            }
        }
        Err(FileError::Busy {
            path: path.to_path_buf(),
        })
    }

    pub fn partial(&self) -> &Path {
        &self.partial
    }

    /// Whether `FILE.partial` is still the file this claim locked.
    fn owns_name(&self) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        match (self.file.metadata(), std::fs::metadata(&self.partial)) {
            (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
            _ => false,
        }
    }
}

impl Drop for Claim {
    /// An unpublished `.partial` is worth nothing (nothing was deleted on its strength):
    /// removed while still locked, so no other archive ever picks up a half-written one.
    fn drop(&mut self) {
        if self.owns_name() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Publishes the claimed, sealed `FILE.partial` as `path` — never over a file already
/// there (another archive's, or anyone's: [`FileError::Appeared`]) — and fsyncs the
/// directory, so the name survives a crash.
pub fn publish(claim: &Claim, path: &Path) -> Result<(), FileError> {
    let partial = &claim.partial;
    // A hard link fails if the name exists, where a rename would replace it silently.
    match std::fs::hard_link(partial, path) {
        Ok(()) => std::fs::remove_file(partial).map_err(FileError::io("remove", partial))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(FileError::Appeared {
                path: path.to_path_buf(),
            });
        }
        // A file system without hard links: the check and the rename are two steps.
        Err(_) => {
            if path.exists() {
                return Err(FileError::Appeared {
                    path: path.to_path_buf(),
                });
            }
            std::fs::rename(partial, path).map_err(FileError::io("rename", partial))?;
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(FileError::io("fsync", &dir))
}

/// A row as the file holds it: each column's raw JSON text.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub table: String,
    pub role: String,
    fields: HashMap<String, Box<RawValue>>,
}

impl RawRow {
    fn raw(&self, column: &str) -> Option<&str> {
        self.fields
            .get(column)
            .map(|v| v.get())
            .filter(|v| *v != "null")
    }

    fn bad(&self, column: &str, what: &str) -> String {
        format!("{}.{column} is not {what}", self.table)
    }

    /// The column's raw JSON text (`None` for null or absent).
    pub fn json(&self, column: &str) -> Option<&str> {
        self.raw(column)
    }

    pub fn has(&self, column: &str) -> bool {
        self.fields.contains_key(column)
    }

    pub fn text(&self, column: &str) -> Result<Option<String>, String> {
        self.raw(column)
            .map(|v| serde_json::from_str::<String>(v).map_err(|_| self.bad(column, "text")))
            .transpose()
    }

    pub fn req_text(&self, column: &str) -> Result<String, String> {
        self.text(column)?
            .ok_or_else(|| self.bad(column, "present"))
    }

    pub fn uuid(&self, column: &str) -> Result<Option<Uuid>, String> {
        self.text(column)?
            .map(|t| Uuid::parse_str(&t).map_err(|_| self.bad(column, "a uuid")))
            .transpose()
    }

    pub fn req_uuid(&self, column: &str) -> Result<Uuid, String> {
        self.uuid(column)?
            .ok_or_else(|| self.bad(column, "present"))
    }

    pub fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>, String> {
        self.text(column)?
            .map(|t| {
                DateTime::parse_from_rfc3339(&t)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| self.bad(column, "a timestamp"))
            })
            .transpose()
    }

    pub fn req_time(&self, column: &str) -> Result<DateTime<Utc>, String> {
        self.time(column)?
            .ok_or_else(|| self.bad(column, "present"))
    }

    /// A numeric from its digits, exactly (scale kept).
    pub fn decimal(&self, column: &str) -> Result<Option<Decimal>, String> {
        self.raw(column)
            .map(|v| decimal_text(v).ok_or_else(|| self.bad(column, "a number")))
            .transpose()
    }

    pub fn req_decimal(&self, column: &str) -> Result<Decimal, String> {
        self.decimal(column)?
            .ok_or_else(|| self.bad(column, "present"))
    }

    pub fn decimals(&self, column: &str) -> Result<Option<Vec<Decimal>>, String> {
        self.raw(column)
            .map(|v| {
                let items: Vec<&RawValue> =
                    serde_json::from_str(v).map_err(|_| self.bad(column, "a list"))?;
                items
                    .iter()
                    .map(|i| decimal_text(i.get()).ok_or_else(|| self.bad(column, "numbers")))
                    .collect()
            })
            .transpose()
    }

    pub fn texts(&self, column: &str) -> Result<Option<Vec<String>>, String> {
        self.raw(column)
            .map(|v| serde_json::from_str(v).map_err(|_| self.bad(column, "a list of text")))
            .transpose()
    }

    pub fn int(&self, column: &str) -> Result<Option<i64>, String> {
        self.raw(column)
            .map(|v| v.parse::<i64>().map_err(|_| self.bad(column, "an integer")))
            .transpose()
    }

    pub fn req_int(&self, column: &str) -> Result<i64, String> {
        self.int(column)?.ok_or_else(|| self.bad(column, "present"))
    }

    pub fn bool(&self, column: &str) -> Result<Option<bool>, String> {
        self.raw(column)
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(self.bad(column, "a boolean")),
            })
            .transpose()
    }

    pub fn value(&self, column: &str) -> Result<Option<serde_json::Value>, String> {
        self.raw(column)
            .map(|v| serde_json::from_str(v).map_err(|_| self.bad(column, "JSON")))
            .transpose()
    }
}

/// `92.50` or `"92.50"`, read as the database's decoder reads it
/// ([`crate::store::value`]): every digit PostgreSQL printed, rounded only past what a
/// `Decimal` holds, the scale kept; `NaN` and the infinities are no number.
fn decimal_text(raw: &str) -> Option<Decimal> {
    Numeric::parse(raw.trim().trim_matches('"')).number()
}

/// A verified archive, read whole.
#[derive(Debug, Clone)]
pub struct Archive {
    pub path: PathBuf,
    pub header: Header,
    pub trailer: Trailer,
    pub rows: Vec<RawRow>,
}

impl Archive {
    pub fn rows_of<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a RawRow> + 'a {
        self.rows.iter().filter(move |r| r.table == table)
    }
}

/// Reads `path` and verifies it: the header's format and version, every row's shape, the
/// trailer's count and SHA-256, and the header's counts per table and role.
pub fn read(path: &Path) -> Result<Archive, FileError> {
    scan(path, |_| true)
}

/// [`read`], keeping in memory only the rows `keep` wants (an archive of months holds
/// millions of snapshot rows; verifying it, or deleting what it archived, needs none of
/// them kept).
pub fn scan(path: &Path, mut keep: impl FnMut(&RawRow) -> bool) -> Result<Archive, FileError> {
    let file = File::open(path).map_err(FileError::io("open", path))?;
    // What zstd or UTF-8 cannot decode is not an archive (a file of something else, or
    // one damaged); any other failure to read is the system's.
    let undecodable = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::Other
        | std::io::ErrorKind::InvalidData
        | std::io::ErrorKind::UnexpectedEof => {
            FileError::invalid(path, format!("it is not zstd-compressed JSON Lines ({e})"))
        }
        _ => FileError::io("read", path)(e),
    };
    let decoder = zstd::Decoder::new(file).map_err(undecodable)?;
    let mut lines = BufReader::new(decoder);
    let mut hash = Sha256::new();
    let mut header: Option<Header> = None;
    let mut trailer: Option<Trailer> = None;
    let mut rows = Vec::new();
    let mut seen = 0u64;
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    let mut line = String::new();
    loop {
        line.clear();
        let read = lines.read_line(&mut line).map_err(undecodable)?;
        if read == 0 {
            break;
        }
        if trailer.is_some() {
            return Err(FileError::invalid(path, "lines follow the trailer"));
        }
        let text = line.strip_suffix('\n').ok_or_else(|| {
            FileError::invalid(path, "the last line is cut short (the file is incomplete)")
        })?;
        if header.is_none() {
            let h: HeaderLine = serde_json::from_str(text)
                .map_err(|e| FileError::invalid(path, format!("line 1 is not its header: {e}")))?;
            if h.header.format != FORMAT {
                return Err(FileError::invalid(
                    path,
                    format!("its format is {}", h.header.format),
                ));
            }
            if h.header.version > VERSION {
                return Err(FileError::invalid(
                    path,
                    format!(
                        "it is version {}, newer than this tradedesk reads ({VERSION})",
                        h.header.version
                    ),
                ));
            }
            header = Some(h.header);
            hash.update(line.as_bytes());
            continue;
        }
        if text.starts_with("{\"trailer\"") {
            let t: TrailerLine = serde_json::from_str(text)
                .map_err(|e| FileError::invalid(path, format!("its trailer: {e}")))?;
            trailer = Some(t.trailer);
            continue;
        }
        hash.update(line.as_bytes());
        let row: RowLine = serde_json::from_str(text)
            .map_err(|e| FileError::invalid(path, format!("row {} is not a row: {e}", seen + 1)))?;
        *counted
            .entry(format!("{}/{}", row.table, row.role))
            .or_default() += 1;
        seen += 1;
        let raw = RawRow {
            table: row.table.to_string(),
            role: row.role.to_string(),
            fields: row.row,
        };
        if keep(&raw) {
            rows.push(raw);
        }
    }
    let header = header.ok_or_else(|| FileError::invalid(path, "it is empty"))?;
    let trailer = trailer.ok_or_else(|| {
        FileError::invalid(path, "it has no trailer (the archive was not finished)")
    })?;
    let sum = hex::encode(hash.finalize());
    if sum != trailer.sha256 {
        return Err(FileError::invalid(
            path,
            format!("its SHA-256 is {sum}, the trailer says {}", trailer.sha256),
        ));
    }
    if trailer.rows != seen {
        return Err(FileError::invalid(
            path,
            format!("it holds {seen} rows, the trailer says {}", trailer.rows),
        ));
    }
    if counted != header.rows {
        return Err(FileError::invalid(
            path,
            "its rows per table differ from its header's",
        ));
    }
    Ok(Archive {
        path: path.to_path_buf(),
        header,
        trailer,
        rows,
    })
}

/// `FILE.partial`, where an archive is written before it is complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(rows: &[(&str, u64)]) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            tradedesk_version: "test".into(),
            created_at: DateTime::UNIX_EPOCH,
            before: DateTime::UNIX_EPOCH,
            database: "db".into(),
            chain: Boundary {
                table: "decision_history".into(),
                first_seq: 1,
                last_seq: 1,
                hash_before: "00".into(),
                last_hash: "11".into(),
            },
            rows: rows.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    const ROW: &str = r#"{"id": "0b5e7a52-0000-4000-8000-000000000001", "equity": 92.50, "tiny": 0.000001, "big": 123456789012345678.123456, "doc": {"b": 1, "a": [1.10, 2]}, "none": null}"#;

    fn written(dir: &Path) -> PathBuf {
        let path = dir.join("a.tdarchive");
        let mut w = Writer::create(&path, &header(&[("snapshot_account/context", 1)])).unwrap();
        w.row("snapshot_account", CONTEXT, ROW).unwrap();
        w.finish().unwrap();
        path
    }

    #[test]
    fn a_row_reads_back_with_every_digit_and_its_raw_json() {
        let dir = tempfile::tempdir().unwrap();
        let archive = read(&written(dir.path())).unwrap();
        let row = &archive.rows[0];
        assert_eq!(row.req_decimal("equity").unwrap().to_string(), "92.50");
        assert_eq!(row.req_decimal("tiny").unwrap().to_string(), "0.000001");
        assert_eq!(
            row.req_decimal("big").unwrap().to_string(),
            "123456789012345678.123456"
        );
        // A jsonb value as PostgreSQL printed it, which the audit chain hashes.
        assert_eq!(row.json("doc"), Some(r#"{"b": 1, "a": [1.10, 2]}"#));
        assert_eq!(row.json("none"), None);
        assert_eq!(archive.trailer.rows, 1);
    }

    #[test]
    fn a_file_cut_short_or_changed_or_miscounted_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        let text = String::from_utf8(zstd::decode_all(&std::fs::read(&path).unwrap()[..]).unwrap())
            .unwrap();
        let write = |text: &str| {
            let p = dir.path().join("b.tdarchive");
            std::fs::write(&p, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
            read(&p)
        };
        // Without its trailer: an interrupted write.
        let (body, _) = text.trim_end().rsplit_once('\n').unwrap();
        assert!(write(&format!("{body}\n")).is_err());
        // Cut inside a line.
        assert!(write(&text[..text.len() - 5]).is_err());
        // A digit changed.
        assert!(write(&text.replace("92.50", "92.51")).is_err());
        // The header's counts must be the rows'.
        let miscounted = text.replace(
            "\"snapshot_account/context\":1",
            "\"snapshot_account/context\":2",
        );
        assert!(write(&miscounted).is_err());
        // The original reads.
        assert!(write(&text).is_ok());
        // A file of something else is not an archive (not a failure of the system).
        let other = dir.path().join("notes.txt");
        std::fs::write(&other, "my notes\n").unwrap();
        assert!(matches!(read(&other), Err(FileError::Invalid { .. })));
        assert!(matches!(
            read(&dir.path().join("missing")),
            Err(FileError::Io { .. })
        ));
    }

    #[test]
    fn one_writer_claims_a_partial_file_and_publishing_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.tdarchive");
        let seal = |claim: &Claim| {
            let mut w =
                Writer::claimed(claim, &header(&[("snapshot_account/context", 1)])).unwrap();
            w.row("snapshot_account", CONTEXT, ROW).unwrap();
            w.finish().unwrap();
        };
        // A leftover of a killed run is taken over and emptied.
        std::fs::write(partial_path(&path), "half a file").unwrap();
        let claim = Claim::take(&path).unwrap();
        assert!(matches!(Claim::take(&path), Err(FileError::Busy { .. })));
        seal(&claim);
        // Someone else's file appeared meanwhile: kept, and this one discarded.
        std::fs::write(&path, "someone else's").unwrap();
        assert!(matches!(
            publish(&claim, &path),
            Err(FileError::Appeared { .. })
        ));
        drop(claim);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "someone else's");
        assert!(!partial_path(&path).exists());
        // Published where nothing is.
        std::fs::remove_file(&path).unwrap();
        let claim = Claim::take(&path).unwrap();
        seal(&claim);
        publish(&claim, &path).unwrap();
        drop(claim);
        assert!(!partial_path(&path).exists());
        assert_eq!(read(&path).unwrap().trailer.rows, 1);
    }
}
