//! Retention that never breaks replay (issue 12): `tradedesk archive --before DATE --to FILE`.
//!
//! 1. **Choose.** The archived decisions are the longest prefix of the decision_history
//!    chain (by `audit_seq`, after the boundary already archived) whose rows all occurred
//!    before DATE: migration 7's archive trigger accepts only a prefix. A row older than
//!    DATE committed after a newer one waits for the next archive.
//! 2. **Write** `FILE.partial`, in one REPEATABLE READ snapshot: the header (the chain's
//!    cut, rows per table), the archived decisions and every row their replays read — the
//!    ideas, their executions, the account rows, the candles and indicators of the replay
//!    windows, the calendar and headlines around each moment, the human decisions and the
//!    switch's flips, every strategy, the risk limits and `config_changes` (the strategy
//!    and limits as they were) — then the trailer (count, SHA-256); fsync.
//! 3. **Verify** it by reading it back (checksum and counts), publish it as FILE (never over
//!    a file already there), fsync the directory, and **record** it: its SHA-256 and the
//!    chain's cut, one `config_changes` row ([`Record`]) that readers check a file against
//!    (`store::archive_audit`).
//! 4. **Delete**, only now, in batches of short transactions (`SET LOCAL
//!    tradedesk.archiving = on`), oldest seq first, each batch checked row by row (id and
//!    hash) against the file first; then the archived ideas (final, with no decision left)
//!    and their executions.
//!
//! Interrupted anywhere, nothing is lost: before step 4 every row is still in the
//! database; during it, every row is in the database or in the verified FILE. Run again
//! with the same FILE, it finds the file complete and verified and finishes step 4
//! (removing only what the file holds and the database still has).
//!
//! One archive runs on a database at a time ([`ARCHIVING_LOCK`], refused rather than
//! queued), and one writes a given `FILE.partial` ([`archive_file::Claim`]).
//!
//! Snapshots, strategies, limits and config_changes are copied, never deleted here: other
//! decisions may need them (`prune-snapshots` removes what none needs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::archive_audit;
use super::archive_file::{self, ARCHIVED, Archive, Boundary, Claim, FileError, Header, Writer};
use super::audit::{Chain, GENESIS};
use crate::domain::replay::{self as replay_rules, Timeframe};
use crate::operator::Operator;

/// Decisions removed per transaction: short enough that the chain's head (which the archive
/// trigger locks) is held for milliseconds, long enough to finish months in minutes.
pub const BATCH: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Refused(String),
    #[error(
        "{} already holds the archive of decisions before {before}: write this one to \
         another file", path.display()
    )]
    Exists {
        path: PathBuf,
        before: DateTime<Utc>,
    },
    #[error("{path} does not match the database: {reason}; nothing more was deleted", path = path.display())]
    Mismatch { path: PathBuf, reason: String },
    #[error(
        "another `tradedesk archive` is running on database {database}: nothing was done; run \
         this one once it has finished"
    )]
    Busy { database: String },
}

/// What an archive run reports as it goes (the CLI draws its progress bar from these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The rows chosen: `rows` to write.
    Chosen { decisions: u64, rows: u64 },
    /// `n` rows written to FILE.partial so far.
    Written(u64),
    /// FILE.partial is complete and fsynced (not yet verified).
    Sealed,
    /// FILE is verified and in place; nothing deleted yet.
    Published,
    /// A batch of deletions committed: `done` of `total` decisions removed.
    Deleted { done: u64, total: u64 },
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub path: PathBuf,
    /// The file was there, complete and verified, from an earlier run.
    pub resumed: bool,
    pub header: Header,
    /// The file's SHA-256 (its trailer's), as recorded in config_changes.
    pub sha256: String,
    pub file_bytes: u64,
    pub decisions_deleted: u64,
    pub ideas_deleted: u64,
    pub executions_deleted: u64,
}

/// The tables of an archive, in the order written: (name in the file, relation, order).
const TABLES: &[(&str, &str, &str)] = &[
    (
        "decision_history",
        "public.decision_history",
        "t.audit_seq NULLS LAST, t.id",
    ),
    ("trade_ideas", "public.trade_ideas", "t.created_at, t.id"),
    ("executions", "tradedesk.executions", "t.requested_at, t.id"),
    (
        "snapshot_account",
        "public.snapshot_account",
        "t.captured_at, t.id",
    ),
    (
        "snapshot_market",
        "public.snapshot_market",
        "t.symbol, t.timeframe, t.captured_at, t.id",
    ),
    (
        "snapshot_indicators",
        "public.snapshot_indicators",
        "t.symbol, t.timeframe, t.captured_at, t.id",
    ),
    (
        "snapshot_calendar",
        "public.snapshot_calendar",
        "t.event_time, t.id",
    ),
    (
        "snapshot_news",
        "public.snapshot_news",
        "t.published_at, t.id",
    ),
];

// Rows are written as `row_to_json`: every column as PostgreSQL prints it (numerics with
// their digits, a json column as the platform wrote it, jsonb as the audit chain hashes
// it). A line break outside a JSON string is whitespace (inside one it is escaped), so
// replacing it keeps the row and keeps it on one line.

/// Copied whole (small, and what a replay reads of them depends on the whole table: the
/// change before and after a moment, the current row).
const WHOLE: &[(&str, &str, &str)] = &[
    ("strategies", "public.strategies", "t.id"),
    ("risk_config", "public.risk_config", "t.id"),
    (
        "config_changes",
        "tradedesk.config_changes",
        "t.audit_seq NULLS LAST, t.id",
    ),
];

/// The session advisory lock an archive holds on its database for its whole run: two at
/// once would both pick the same oldest decisions, write two files for them and race to
/// delete them. The key is fixed (ASCII "tradarch"), distinct from the simulation's.
pub const ARCHIVING_LOCK: i64 = 0x7472_6164_6172_6368;

/// Archives every decision before `before` into `path`, then deletes them (see the module).
/// `operator` is recorded as the one who archived (the file's record in config_changes).
pub async fn archive(
    store: &Store,
    before: DateTime<Utc>,
    path: &Path,
    batch: i64,
    operator: &Operator,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, ArchiveError> {
    let (database, now): (String, DateTime<Utc>) =
        sqlx::query_as("SELECT current_database()::text, now()")
            .fetch_one(store.pool())
            .await?;
    // The database's clock dates the rows; a cut after it would take every decision,
    // and those written in the meantime.
    if before > now {
        return Err(ArchiveError::Refused(format!(
            "--before {} is in the future (the database's clock says {}): archive only what \
             is past; nothing was written",
            before.to_rfc3339(),
            now.to_rfc3339()
        )));
    }
    // Held on a connection of its own for the run, closed (not pooled) when the run ends
    // or is dropped midway, so the server lets go of the lock with the session.
    let mut running = store.pool().acquire().await?;
    running.close_on_drop();
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(ARCHIVING_LOCK)
        .fetch_one(&mut *running)
        .await?;
    if !locked {
        return Err(ArchiveError::Busy { database });
    }
    let result = archive_locked(store, before, path, batch, operator, &database, progress).await;
    // Should the unlock fail, closing the connection (on drop) lets go of the lock: the
    // run's own outcome is what to report.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(ARCHIVING_LOCK)
        .execute(&mut *running)
        .await;
    result
}

async fn archive_locked(
    store: &Store,
    before: DateTime<Utc>,
    path: &Path,
    batch: i64,
    operator: &Operator,
    database: &str,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, ArchiveError> {
    let (archive, resumed) = if path.exists() {
        // A file already there must be a finished archive of this database: then the run
        // before was interrupted while deleting, and deleting what it holds finishes it.
        let archive = archive_file::scan(path, removed)?;
        // Another cut into the same name is a mistake, not a resumption.
        if archive.header.before != before {
            return Err(ArchiveError::Exists {
                path: path.to_path_buf(),
                before: archive.header.before,
            });
        }
        // Its chain, and the database's record of it: a file changed since it was
        // written is refused before anything more is deleted on its strength.
        let checked = archive_audit::check(store, &archive)
            .await
            .map_err(ArchiveError::Database)?;
        if let Some(reason) = checked.problem {
            return Err(ArchiveError::Mismatch {
                path: path.to_path_buf(),
                reason,
            });
        }
        // Killed between publishing and recording: record it now, before deleting. A
        // file the database cannot vouch for (no record, its cut archived past) has
        // nothing left to delete and is not recorded on its own word.
        if checked.recorded.is_none() && !checked.checked_by.is_empty() {
            record(store, &archive, operator).await?;
        }
        (archive, true)
    } else {
        let claim = Claim::take(path)?;
        let Some(header) = write(store, before, &claim, database, progress).await? else {
            return Err(ArchiveError::Refused(format!(
                "no decision before {} is left to archive (the oldest remaining is not older, \
                 or none remains); nothing was written",
                before.to_rfc3339()
            )));
        };
        progress(Event::Sealed);
        let archive = archive_file::scan(claim.partial(), removed)?;
        if archive.header != header {
            return Err(ArchiveError::Mismatch {
                path: claim.partial().to_path_buf(),
                reason: "its header reads back differently".into(),
            });
        }
        archive_file::publish(&claim, path)?;
        let archive = Archive {
            path: path.to_path_buf(),
            ..archive
        };
        progress(Event::Published);
        // The file's SHA-256 and cut, in the chained audit, before any row is deleted:
        // what readers check a file against.
        record(store, &archive, operator).await?;
        (archive, false)
    };
    let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let (decisions_deleted, ideas_deleted, executions_deleted) =
        delete(store, &archive, batch.max(1), progress).await?;
    Ok(Outcome {
        path: path.to_path_buf(),
        resumed,
        header: archive.header,
        sha256: archive.trailer.sha256,
        file_bytes,
        decisions_deleted,
        ideas_deleted,
        executions_deleted,
    })
}

/// What `config_changes.after` holds for a published archive (subject `archive`): the
/// file's SHA-256 (its trailer's) and the cut of the chain it holds. Readers look a file
/// up by its SHA-256, or by its cut (`store::archive_audit`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub sha256: String,
    pub table: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub hash_before: String,
    pub last_hash: String,
    /// The file as written (its absolute path when it could be resolved).
    pub file: String,
    /// Every row the file holds, and the decisions it archived.
    pub rows: u64,
    pub decisions: u64,
}

impl Record {
    pub fn of(archive: &Archive) -> Record {
        let b = &archive.header.chain;
        Record {
            sha256: archive.trailer.sha256.clone(),
            table: b.table.clone(),
            first_seq: b.first_seq,
            last_seq: b.last_seq,
            hash_before: b.hash_before.clone(),
            last_hash: b.last_hash.clone(),
            file: std::path::absolute(&archive.path)
                .unwrap_or_else(|_| archive.path.clone())
                .display()
                .to_string(),
            rows: archive.trailer.rows,
            decisions: archive
                .header
                .rows
                .get(&format!("decision_history/{ARCHIVED}"))
                .copied()
                .unwrap_or(0),
        }
    }
}

/// Records the published `archive` in `tradedesk.config_changes` (chained by migration 7's
/// triggers like every audit row).
async fn record(store: &Store, archive: &Archive, operator: &Operator) -> Result<(), ArchiveError> {
    let record = Record::of(archive);
    let name = archive
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| record.file.clone());
    let change = format!(
        "archived {} seq {}..{} to {} (sha256 {})",
        record.table, record.first_seq, record.last_seq, record.file, record.sha256
    );
    let after = serde_json::to_value(&record).map_err(|e| ArchiveError::Mismatch {
        path: archive.path.clone(),
        reason: format!("its record cannot be written: {e}"),
    })?;
    sqlx::query(
        "INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, subject_name,
                                               change, after)
         VALUES ($1, clock_timestamp(), $2, 'archive', $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(operator.as_str())
    .bind(name)
    .bind(change)
    .bind(after)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The rows an archive removes from the database: all that deleting needs kept in memory.
fn removed(row: &archive_file::RawRow) -> bool {
    row.role == ARCHIVED
        && matches!(
            row.table.as_str(),
            "decision_history" | "trade_ideas" | "executions"
        )
}

/// The chain's boundary as `tradedesk.audit_heads` holds it.
#[derive(sqlx::FromRow)]
struct HeadRow {
    archived_seq: i64,
    archived_hash: Vec<u8>,
}

async fn read_head(conn: &mut PgConnection, chain: Chain) -> Result<HeadRow, ArchiveError> {
    sqlx::query_as(
        "SELECT archived_seq, archived_hash FROM tradedesk.audit_heads WHERE chained_table = $1",
    )
    .bind(chain.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| {
        ArchiveError::Refused(format!(
            "tradedesk.audit_heads has no head for {chain}: run `tradedesk migrate up`"
        ))
    })
}

/// Writes FILE.partial; `None` when there is nothing to archive.
async fn write(
    store: &Store,
    before: DateTime<Utc>,
    claim: &Claim,
    database: &str,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Option<Header>, ArchiveError> {
    let mut tx = store.pool().begin().await?;
    let conn = tx.acquire().await?;
    // One snapshot: the header's counts and the rows written are the same rows. UTC, so
    // every timestamp reads back the same whatever the server's zone.
    sqlx::raw_sql(
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
         SET LOCAL TimeZone = 'UTC';",
    )
    .execute(&mut *conn)
    .await?;
    let head = read_head(conn, Chain::DecisionHistory).await?;
    let from = head.archived_seq;
    // The longest prefix older than the cut: up to the first row that is not.
    let upto: Option<i64> = sqlx::query_scalar(
        "SELECT coalesce(
                    (SELECT min(audit_seq) - 1 FROM decision_history
                      WHERE audit_seq > $1 AND occurred_at >= $2),
                    (SELECT max(audit_seq) FROM decision_history WHERE audit_seq > $1))",
    )
    .bind(from)
    .bind(before)
    .fetch_one(&mut *conn)
    .await?;
    let Some(upto) = upto.filter(|u| *u > from) else {
        return Ok(None);
    };
    let last_hash: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT audit_hash FROM decision_history WHERE audit_seq = $1 ORDER BY id LIMIT 1",
    )
    .bind(upto)
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    let last_hash = last_hash.ok_or_else(|| {
        ArchiveError::Refused(format!(
            "decision_history has no row at seq {upto}: run `tradedesk audit verify`"
        ))
    })?;

    choose(conn, from, upto).await?;

    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    let counts: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT tbl, role, count(*) FROM ar_rows GROUP BY tbl, role")
            .fetch_all(&mut *conn)
            .await?;
    for (table, role, n) in counts {
        rows.insert(format!("{table}/{role}"), u64::try_from(n).unwrap_or(0));
    }
    for (name, relation, _) in WHOLE {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {relation}"))
            .fetch_one(&mut *conn)
            .await?;
        if n > 0 {
            rows.insert(
                format!("{name}/{}", archive_file::CONTEXT),
                u64::try_from(n).unwrap_or(0),
            );
        }
    }
    let decisions = rows
        .get(&format!("decision_history/{ARCHIVED}"))
        .copied()
        .unwrap_or(0);
    let header = Header {
        format: archive_file::FORMAT.to_string(),
        version: archive_file::VERSION,
        tradedesk_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: Utc::now(),
        before,
        database: database.to_string(),
        chain: Boundary {
            table: Chain::DecisionHistory.as_str().to_string(),
            first_seq: from + 1,
            last_seq: upto,
            hash_before: hex::encode(if from == 0 {
                GENESIS.to_vec()
            } else {
                head.archived_hash.clone()
            }),
            last_hash: hex::encode(&last_hash),
        },
        rows: rows.clone(),
    };
    progress(Event::Chosen {
        decisions,
        rows: rows.values().sum(),
    });

    let partial = claim.partial();
    let mut writer = Writer::claimed(claim, &header)?;
    let mut written = 0u64;
    for (name, relation, order) in TABLES {
        let sql = format!(
            "SELECT r.role, translate(row_to_json(t)::text, chr(10) || chr(13), '  ') FROM ar_rows r JOIN {relation} t ON t.id = r.id
              WHERE r.tbl = '{name}' ORDER BY {order}"
        );
        let mut stream = sqlx::query_as::<_, (String, String)>(&sql).fetch(&mut *conn);
        while let Some((role, json)) = stream.try_next().await? {
            writer.row(name, &role, &json)?;
            written += 1;
            if written.is_multiple_of(10_000) {
                progress(Event::Written(written));
            }
        }
    }
    for (name, relation, order) in WHOLE {
        let sql = format!(
            "SELECT translate(row_to_json(t)::text, chr(10) || chr(13), '  ') FROM {relation} t ORDER BY {order}"
        );
        let mut stream = sqlx::query_scalar::<_, String>(&sql).fetch(&mut *conn);
        while let Some(json) = stream.try_next().await? {
            writer.row(name, archive_file::CONTEXT, &json)?;
            written += 1;
        }
    }
    progress(Event::Written(written));
    if writer.counted() != &header.rows {
        return Err(ArchiveError::Mismatch {
            path: partial.to_path_buf(),
            reason: "the rows written differ from the rows counted in the same snapshot".into(),
        });
    }
    writer.finish()?;
    tx.rollback().await?;
    Ok(Some(header))
}

/// Fills `ar_rows (tbl, id, role)`: the archived decisions (seqs `from+1..=upto`) and every
/// row their replays read, by the same windows as `domain::replay` (a superset where a
/// replay's own choice depends on the rows: every timeframe's window, not only the one the
/// chart ends up on). `store::archive_replay` reads them back with the replay's own rules.
async fn choose(conn: &mut PgConnection, from: i64, upto: i64) -> Result<(), ArchiveError> {
    sqlx::raw_sql(
        "CREATE TEMP TABLE ar_rows (tbl text NOT NULL, id uuid NOT NULL, role text NOT NULL,
                                    PRIMARY KEY (tbl, id)) ON COMMIT DROP;",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ar_rows SELECT 'decision_history', id, 'archived' FROM decision_history
          WHERE audit_seq > $1 AND audit_seq <= $2",
    )
    .bind(from)
    .bind(upto)
    .execute(&mut *conn)
    .await?;
    // Each archived decision's moment, as `replay::Moment::of` finds it: the account row
    // its snapshot_ref names, else its idea's creation, else the decision itself.
    sqlx::query(
        "CREATE TEMP TABLE ar_moments ON COMMIT DROP AS
         SELECT d.id, coalesce(i.symbol, d.symbol) AS symbol, d.trade_idea_id,
                coalesce(a.captured_at, i.created_at, d.occurred_at) AS at,
                d.occurred_at AS decided_at
           FROM decision_history d
           LEFT JOIN trade_ideas i ON i.id = d.trade_idea_id
           LEFT JOIN snapshot_account a ON a.id = coalesce(d.snapshot_ref, i.snapshot_ref)
          WHERE d.audit_seq > $1 AND d.audit_seq <= $2",
    )
    .bind(from)
    .bind(upto)
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql(
        "CREATE INDEX ON ar_moments (symbol, at);
         CREATE INDEX ON ar_moments (at);
         CREATE TEMP TABLE ar_points ON COMMIT DROP AS
             SELECT at AS t FROM ar_moments UNION SELECT decided_at FROM ar_moments;
         ANALYZE ar_moments; ANALYZE ar_points;",
    )
    .execute(&mut *conn)
    .await?;
    // Ideas: removed when final, when no decision outside the archive names them, when
    // their order (if any) is no longer pending or at the broker, and when
    // no remaining decision's replay counts their order among the trades open then (its
    // Gate re-run counts orders of the decision's day, and orders since the account's last
    // capture before it): an order requested since the earlier of the first remaining
    // decision's day and the last capture before it keeps its idea.
    sqlx::query(
        "WITH first AS (
             SELECT min(occurred_at) AS at FROM decision_history
              WHERE audit_seq IS NULL OR audit_seq > $1),
         keep AS (
             SELECT least(date_trunc('day', first.at),
                          (SELECT max(captured_at) FROM snapshot_account
                            WHERE captured_at <= first.at)) AS since
               FROM first)
         INSERT INTO ar_rows
         SELECT 'trade_ideas', i.id,
                CASE WHEN i.status NOT IN ('needs_approval', 'waiting')
                      AND NOT EXISTS (SELECT 1 FROM decision_history d
                                       WHERE d.trade_idea_id = i.id
                                         AND (d.audit_seq IS NULL OR d.audit_seq > $1))
                      AND NOT EXISTS (SELECT 1 FROM tradedesk.executions e, keep
                                       WHERE e.trade_idea_id = i.id
                                         AND keep.since IS NOT NULL
                                         AND e.requested_at >= keep.since)
                      -- An order a bridge may still claim, or holds at the broker, is
                      -- not history yet (docs/platform.md, the execution hand-off).
                      AND NOT EXISTS (SELECT 1 FROM tradedesk.executions e
                                       WHERE e.trade_idea_id = i.id
                                         AND e.state IN ('pending', 'sent'))
                     THEN 'archived' ELSE 'context' END
           FROM trade_ideas i WHERE i.id IN (SELECT trade_idea_id FROM ar_moments)",
    )
    .bind(upto)
    .execute(&mut *conn)
    .await?;
    let max_span = Timeframe::D1.span();
    let timeframes: Vec<&str> = Timeframe::ALL.iter().map(|t| t.as_str()).collect();
    let spans: Vec<f64> = Timeframe::ALL
        .iter()
        .map(|t| t.span().num_seconds() as f64)
        .collect();
    let before_n = f64::from(replay_rules::REACH) * replay_rules::CANDLES_BEFORE as f64;
    let after_n = f64::from(replay_rules::REACH) * replay_rules::CANDLES_AFTER as f64;
    let calendar_secs = (replay_rules::CALENDAR_HOURS * 3600) as f64;
    let news_secs = (replay_rules::NEWS_HOURS * 3600) as f64;
    let statements: &[&str] = &[
        // The executions of those ideas go with them; every order up to the last decision
        // (open trades then are counted from them), with its idea (for its strategy).
        "INSERT INTO ar_rows SELECT 'executions', e.id, r.role FROM tradedesk.executions e
           JOIN ar_rows r ON r.tbl = 'trade_ideas' AND r.id = e.trade_idea_id
         ON CONFLICT DO NOTHING",
        "INSERT INTO ar_rows SELECT 'executions', e.id, 'context' FROM tradedesk.executions e
          WHERE e.requested_at <= (SELECT max(decided_at) FROM ar_moments)
         ON CONFLICT DO NOTHING",
        "INSERT INTO ar_rows SELECT DISTINCT 'trade_ideas', e.trade_idea_id, 'context'
           FROM tradedesk.executions e JOIN ar_rows r ON r.tbl = 'executions' AND r.id = e.id
         ON CONFLICT DO NOTHING",
        // Who decided each idea, and every flip of the AI's switch (rare; the nearest
        // before and after any moment are among them).
        "INSERT INTO ar_rows SELECT 'decision_history', d.id, 'context' FROM decision_history d
          WHERE (d.trade_idea_id IN (SELECT id FROM ar_rows WHERE tbl = 'trade_ideas')
                 AND d.action IN ('human_approved', 'human_rejected', 'risk_rejected'))
             OR (d.action = 'ai_halted' AND d.symbol IS NULL) OR d.action = 'ai_resumed'
         ON CONFLICT DO NOTHING",
        // The account: the rows named, and for every moment the rows the day's P/L reads
        // (the last before the day, the day's first and latest up to it, and every new
        // high of the day's equity, of which the last up to a moment is its peak).
        "INSERT INTO ar_rows SELECT DISTINCT 'snapshot_account', a.id, 'context'
           FROM snapshot_account a
          WHERE a.id IN (SELECT d.snapshot_ref FROM decision_history d
                           JOIN ar_rows r ON r.tbl = 'decision_history' AND r.id = d.id
                         UNION SELECT i.snapshot_ref FROM trade_ideas i
                           JOIN ar_rows r ON r.tbl = 'trade_ideas' AND r.id = i.id)
         ON CONFLICT DO NOTHING",
        "INSERT INTO ar_rows SELECT DISTINCT 'snapshot_account', x.id, 'context'
           FROM ar_points p CROSS JOIN LATERAL (
                (SELECT id FROM snapshot_account WHERE captured_at <= p.t
                  ORDER BY captured_at DESC, equity DESC, id DESC LIMIT 1)
                UNION ALL
                (SELECT id FROM snapshot_account WHERE captured_at < date_trunc('day', p.t)
                  ORDER BY captured_at DESC, equity DESC, id DESC LIMIT 1)
                UNION ALL
                (SELECT id FROM snapshot_account
                  WHERE captured_at >= date_trunc('day', p.t) AND captured_at <= p.t
                  ORDER BY captured_at, equity, id LIMIT 1)) x
         ON CONFLICT DO NOTHING",
        "INSERT INTO ar_rows SELECT 'snapshot_account', h.id, 'context' FROM (
             SELECT id, equity, max(equity) OVER (PARTITION BY date_trunc('day', captured_at)
                        ORDER BY captured_at, id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS peak
               FROM snapshot_account
              WHERE captured_at >= (SELECT date_trunc('day', min(t)) FROM ar_points)
                AND captured_at <= (SELECT max(t) FROM ar_points)) h
          WHERE h.peak IS NULL OR h.equity > h.peak
         ON CONFLICT DO NOTHING",
    ];
    for sql in statements {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    // Candles and indicators: every timeframe's window around each moment.
    sqlx::query(
        "INSERT INTO ar_rows SELECT 'snapshot_market', m.id, 'context'
           FROM unnest($1::text[], $2::float8[]) AS s(tf, secs)
           JOIN snapshot_market m ON m.timeframe = s.tf
          WHERE m.captured_at <= (SELECT max(at) FROM ar_moments) + $5::interval
            AND EXISTS (SELECT 1 FROM ar_moments k
                         WHERE k.symbol = m.symbol
                           AND m.captured_at BETWEEN k.at - make_interval(secs => s.secs * $3)
                                                 AND k.at + make_interval(secs => s.secs * $4))
         ON CONFLICT DO NOTHING",
    )
    .bind(&timeframes)
    .bind(&spans)
    .bind(before_n)
    .bind(after_n)
    .bind(max_span * (replay_rules::REACH * replay_rules::CANDLES_AFTER as i32))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ar_rows SELECT 'snapshot_indicators', m.id, 'context'
           FROM unnest($1::text[], $2::float8[]) AS s(tf, secs)
           JOIN snapshot_indicators m ON m.timeframe = s.tf
          WHERE m.captured_at <= (SELECT max(at) FROM ar_moments)
            AND EXISTS (SELECT 1 FROM ar_moments k
                         WHERE k.symbol = m.symbol
                           AND m.captured_at BETWEEN k.at - make_interval(secs => s.secs * $3)
                                                 AND k.at)
         ON CONFLICT DO NOTHING",
    )
    .bind(&timeframes)
    .bind(&spans)
    .bind(before_n)
    .execute(&mut *conn)
    .await?;
    // The calendar around each moment as captured by then (every currency: a superset of
    // the symbol's and the strategy's), and one row captured in the day before it (that
    // the collector ran); headlines of the reach before it, and one published in it.
    sqlx::query(
        "INSERT INTO ar_rows SELECT 'snapshot_calendar', c.id, 'context' FROM snapshot_calendar c
          WHERE EXISTS (SELECT 1 FROM ar_moments k
                         WHERE c.event_time BETWEEN k.at - make_interval(secs => $1)
                                                AND k.at + make_interval(secs => $1)
                           AND c.captured_at <= k.at)
         ON CONFLICT DO NOTHING",
    )
    .bind(calendar_secs)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ar_rows SELECT DISTINCT 'snapshot_calendar', w.id, 'context'
           FROM (SELECT DISTINCT at FROM ar_moments) k CROSS JOIN LATERAL (
                SELECT id FROM snapshot_calendar
                 WHERE captured_at BETWEEN k.at - interval '24 hours' AND k.at LIMIT 1) w
         ON CONFLICT DO NOTHING",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ar_rows SELECT 'snapshot_news', n.id, 'context' FROM snapshot_news n
          WHERE EXISTS (SELECT 1 FROM ar_moments k
                         WHERE n.published_at BETWEEN k.at - make_interval(secs => $1) AND k.at
                           AND n.captured_at <= k.at)
         ON CONFLICT DO NOTHING",
    )
    .bind(news_secs)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ar_rows SELECT DISTINCT 'snapshot_news', w.id, 'context'
           FROM (SELECT DISTINCT at FROM ar_moments) k CROSS JOIN LATERAL (
                SELECT id FROM snapshot_news
                 WHERE published_at BETWEEN k.at - make_interval(secs => $1) AND k.at LIMIT 1) w
         ON CONFLICT DO NOTHING",
    )
    .bind(news_secs)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An archived decision as the file holds it: its place in the chain.
struct Link {
    seq: i64,
    id: Uuid,
    hash: String,
}

/// `\x0a1b…` (to_jsonb of a bytea) as hex.
pub(crate) fn bytea_hex(text: &str) -> String {
    text.trim_start_matches("\\x").to_ascii_lowercase()
}

fn archived_links(archive: &Archive) -> Result<Vec<Link>, ArchiveError> {
    let bad = |reason: String| ArchiveError::Mismatch {
        path: archive.path.clone(),
        reason,
    };
    let mut links = Vec::new();
    for row in archive
        .rows_of("decision_history")
        .filter(|r| r.role == ARCHIVED)
    {
        let seq = row.req_int("audit_seq").map_err(bad)?;
        let id = row.req_uuid("id").map_err(bad)?;
        let hash = bytea_hex(&row.req_text("audit_hash").map_err(bad)?);
        links.push(Link { seq, id, hash });
    }
    links.sort_by_key(|l| l.seq);
    Ok(links)
}

/// Step 4: deletes what the verified `archive` holds and the database still has.
async fn delete(
    store: &Store,
    archive: &Archive,
    batch: i64,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<(u64, u64, u64), ArchiveError> {
    let links = archived_links(archive)?;
    let boundary = &archive.header.chain;
    let total = links.len() as u64;
    let mut deleted = 0u64;
    loop {
        let mut tx = store.pool().begin().await?;
        let conn = tx.acquire().await?;
        sqlx::raw_sql("SET LOCAL tradedesk.archiving = on; SET LOCAL lock_timeout = '5s';")
            .execute(&mut *conn)
            .await?;
        let head = read_head(conn, Chain::DecisionHistory).await?;
        if head.archived_seq >= boundary.last_seq {
            // Done, by this run or an earlier one; the boundary must be this file's cut
            // (or a later archive's).
            if head.archived_seq == boundary.last_seq
                && hex::encode(&head.archived_hash) != boundary.last_hash
            {
                return Err(ArchiveError::Mismatch {
                    path: archive.path.clone(),
                    reason: format!(
                        "the database's archived boundary at seq {} has another hash",
                        boundary.last_seq
                    ),
                });
            }
            tx.rollback().await?;
            break;
        }
        if head.archived_seq + 1 < boundary.first_seq {
            return Err(ArchiveError::Mismatch {
                path: archive.path.clone(),
                reason: format!(
                    "the file starts at seq {}, the database's chain at seq {}",
                    boundary.first_seq,
                    head.archived_seq + 1
                ),
            });
        }
        let mine: Vec<&Link> = links
            .iter()
            .filter(|l| l.seq > head.archived_seq)
            .take(usize::try_from(batch).unwrap_or(usize::MAX))
            .collect();
        let Some(last) = mine.last().map(|l| l.seq) else {
            break;
        };
        // The rows about to go must be the file's, row for row.
        let present: Vec<(i64, Uuid, Vec<u8>)> = sqlx::query_as(
            "SELECT audit_seq, id, audit_hash FROM decision_history
              WHERE audit_seq > $1 AND audit_seq <= $2 ORDER BY audit_seq, id",
        )
        .bind(head.archived_seq)
        .bind(last)
        .fetch_all(&mut *conn)
        .await?;
        let same = present.len() == mine.len()
            && present.iter().zip(&mine).all(|((seq, id, hash), l)| {
                *seq == l.seq && *id == l.id && hex::encode(hash) == l.hash
            });
        if !same {
            return Err(ArchiveError::Mismatch {
                path: archive.path.clone(),
                reason: format!(
                    "decision_history seqs {}..={last} are not the rows the file holds",
                    head.archived_seq + 1
                ),
            });
        }
        let n =
            sqlx::query("DELETE FROM decision_history WHERE audit_seq > $1 AND audit_seq <= $2")
                .bind(head.archived_seq)
                .bind(last)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        tx.commit().await?;
        deleted += n;
        let done = links.iter().filter(|l| l.seq <= last).count() as u64;
        progress(Event::Deleted { done, total });
    }

    // The archived ideas, once none of their decisions is left, with their executions:
    // only rows the file holds as archived.
    let archived = |table: &str| -> Result<Vec<Uuid>, ArchiveError> {
        archive
            .rows_of(table)
            .filter(|r| r.role == ARCHIVED)
            .map(|r| {
                r.req_uuid("id").map_err(|reason| ArchiveError::Mismatch {
                    path: archive.path.clone(),
                    reason,
                })
            })
            .collect()
    };
    let ideas = archived("trade_ideas")?;
    let executions = archived("executions")?;
    let (mut ideas_deleted, mut executions_deleted) = (0u64, 0u64);
    for chunk in ideas.chunks(usize::try_from(batch).unwrap_or(1000).max(1)) {
        let mut tx = store.pool().begin().await?;
        let conn = tx.acquire().await?;
        sqlx::raw_sql("SET LOCAL lock_timeout = '5s';")
            .execute(&mut *conn)
            .await?;
        executions_deleted += sqlx::query(
            "DELETE FROM tradedesk.executions e
              WHERE e.trade_idea_id = ANY($1) AND e.id = ANY($2)
                AND NOT EXISTS (SELECT 1 FROM decision_history d
                                 WHERE d.trade_idea_id = e.trade_idea_id)",
        )
        .bind(chunk)
        .bind(&executions)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        ideas_deleted += sqlx::query(
            "DELETE FROM trade_ideas i
              WHERE i.id = ANY($1) AND i.status NOT IN ('needs_approval', 'waiting')
                AND NOT EXISTS (SELECT 1 FROM decision_history d WHERE d.trade_idea_id = i.id)
                AND NOT EXISTS (SELECT 1 FROM tradedesk.executions e
                                 WHERE e.trade_idea_id = i.id)",
        )
        .bind(chunk)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        tx.commit().await?;
    }
    Ok((deleted, ideas_deleted, executions_deleted))
}
