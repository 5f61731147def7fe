//! Retention (issue 12): `tradedesk archive`, `tradedesk prune-snapshots`, and reading an
//! archive: `replay --archive`, `timeline --archive`, `audit verify --archive`.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::output::Out;
use super::{Failure, open};
use crate::console::app::ArchiveShown;
use crate::format::parse_time;
use crate::store::archive::{self, ArchiveError, Event};
use crate::store::archive_audit::{self, ArchiveVerified};
use crate::store::archive_file::{self, Archive, FileError};
use crate::store::archive_replay::{ArchiveData, ArchiveReadError};
use crate::store::prune::{self, Pruned};
use crate::store::timeline::{Page, TimelineFilter};
use crate::store::{ErrorCode, Target};

#[derive(Debug, clap::Args)]
pub struct ArchiveArgs {
    /// Archive decisions that occurred before this time: 2026-08-01, an RFC 3339 time, or
    /// an age such as 90d.
    #[arg(long, value_name = "DATE")]
    pub before: String,
    /// The archive file to write (FILE.partial while it is written).
    #[arg(long = "to", value_name = "FILE")]
    pub to: PathBuf,
    /// Decisions removed per transaction.
    #[arg(long, default_value_t = archive::BATCH)]
    pub batch: i64,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Remove rows captured before this: an age such as 30d, or a date.
    #[arg(long, value_name = "AGE")]
    pub older_than: String,
    /// Say what would go, per table, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows removed per transaction.
    #[arg(long, default_value_t = prune::BATCH)]
    pub batch: i64,
}

fn invalid(e: impl std::fmt::Display) -> Failure {
    Failure::new(ErrorCode::InvalidInput, e.to_string())
}

impl From<ArchiveError> for Failure {
    fn from(e: ArchiveError) -> Self {
        let code = match &e {
            ArchiveError::Database(_) => ErrorCode::Database,
            ArchiveError::File(FileError::Io { .. }) => ErrorCode::Database,
            ArchiveError::Refused(_) => ErrorCode::InvalidInput,
            ArchiveError::File(FileError::Invalid { .. })
            | ArchiveError::Mismatch { .. }
            | ArchiveError::Exists { .. } => ErrorCode::Conflict,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<FileError> for Failure {
    fn from(e: FileError) -> Self {
        ArchiveError::File(e).into()
    }
}

impl From<ArchiveReadError> for Failure {
    fn from(e: ArchiveReadError) -> Self {
        let code = match e {
            ArchiveReadError::File(e) => return e.into(),
            ArchiveReadError::NotFound(_) => ErrorCode::NotFound,
            ArchiveReadError::Ambiguous(_) => ErrorCode::InvalidInput,
            ArchiveReadError::Unreadable(_) => ErrorCode::Conflict,
        };
        Failure::new(code, e.to_string())
    }
}

/// A test hook: `TRADEDESK_ARCHIVE_PAUSE_AFTER=sealed|published|deleted` stops the archive
/// (sleeping) right after that step, so that a test can kill it there with SIGKILL and
/// check that nothing was lost. Unset in normal use.
fn pause_after(step: &str) {
    if std::env::var("TRADEDESK_ARCHIVE_PAUSE_AFTER").as_deref() == Ok(step) {
        eprintln!("paused after {step}");
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// The progress bar, on a terminal only.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg:24} [{bar:40}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Progress { bar }
    }

    fn event(&self, event: Event) {
        if let Some(bar) = &self.bar {
            match &event {
                Event::Chosen { rows, .. } => {
                    bar.set_message("writing rows");
                    bar.set_length(*rows);
                }
                Event::Written(n) => bar.set_position(*n),
                Event::Sealed => bar.set_message("verifying the file"),
                Event::Published => {
                    bar.set_message("removing decisions");
                    bar.set_position(0);
                }
                Event::Deleted { done, total } => {
                    bar.set_length(*total);
                    bar.set_position(*done);
                }
            }
        }
        match event {
            Event::Sealed => pause_after("sealed"),
            Event::Published => pause_after("published"),
            Event::Deleted { .. } => pause_after("deleted"),
            _ => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub async fn archive(target: &Target, out: Out, args: ArchiveArgs) -> Result<(), Failure> {
    let before = parse_time(&args.before, Utc::now()).map_err(invalid)?;
    if args.batch < 1 {
        return Err(invalid("--batch must be at least 1"));
    }
    let store = open(target).await?;
    let started = Instant::now();
    let progress = Progress::new();
    let outcome =
        archive::archive(&store, before, &args.to, args.batch, &|e| progress.event(e)).await;
    progress.finish();
    let outcome = outcome?;
    let seconds = started.elapsed().as_secs_f64();
    if out.json {
        return out.json(&json!({"archive": outcome, "seconds": seconds}));
    }
    let h = &outcome.header;
    let archived = h
        .rows
        .get("decision_history/archived")
        .copied()
        .unwrap_or(0);
    let total: u64 = h.rows.values().sum();
    if outcome.resumed {
        println!(
            "{} was already complete and verified: finished removing what it holds",
            outcome.path.display()
        );
    }
    println!(
        "archived {archived} decisions before {} (chain seqs {}..={}) with {} rows in all to {} \
         ({} bytes)",
        h.before.to_rfc3339(),
        h.chain.first_seq,
        h.chain.last_seq,
        total,
        outcome.path.display(),
        outcome.file_bytes
    );
    println!(
        "removed {} decisions, {} ideas and {} executions from the database in {seconds:.1}s",
        outcome.decisions_deleted, outcome.ideas_deleted, outcome.executions_deleted
    );
    println!(
        "the chain's boundary is now seq {} ({})",
        h.chain.last_seq, h.chain.last_hash
    );
    Ok(())
}

/// `by`: the admin it runs as (none for a dry run, which removes nothing).
pub async fn prune(
    target: &Target,
    out: Out,
    args: PruneArgs,
    by: Option<&crate::operator::Operator>,
) -> Result<(), Failure> {
    let cut = parse_time(&args.older_than, Utc::now()).map_err(invalid)?;
    if args.batch < 1 {
        return Err(invalid("--batch must be at least 1"));
    }
    let store = open(target).await?;
    let started = Instant::now();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    let report = prune::prune(&store, cut, args.dry_run, args.batch, &|p: &Pruned| {
        if let Some(bar) = &bar {
            bar.set_message(format!("{}: {} removed", p.table, p.deleted));
            bar.tick();
        }
    })
    .await
    .map_err(|e| Failure::new(ErrorCode::Database, format!("database error: {e}")))?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let removed: i64 = report.iter().map(|p| p.deleted).sum();
    if let (Some(by), false) = (by, args.dry_run) {
        let tables: serde_json::Map<String, serde_json::Value> = report
            .iter()
            .map(|p| (p.table.to_string(), json!(p.deleted)))
            .collect();
        crate::store::changes::record(
            store.pool(),
            by,
            crate::store::changes::Maintenance::Retention,
            &format!(
                "prune-snapshots: removed {removed} rows captured before {}",
                cut.to_rfc3339()
            ),
            json!({ "older_than": cut, "removed": tables }),
        )
        .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    if out.json {
        return out.json(&json!({
            "older_than": cut,
            "dry_run": args.dry_run,
            "tables": report,
            "seconds": seconds,
        }));
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for p in &report {
        let n = if args.dry_run { p.unneeded } else { p.deleted };
        println!(
            "{}: {verb} {n} of {} rows captured before {} ({} kept for remaining replays)",
            p.table,
            p.older,
            cut.to_rfc3339(),
            p.older - n
        );
    }
    println!("took {seconds:.1}s");
    Ok(())
}

pub async fn replay(out: Out, path: &Path, id: &str) -> Result<(), Failure> {
    let (data, _) = ArchiveData::read(path)?;
    let replay = data.replay(data.resolve(id)?).await?;
    super::replay::show(out, replay).await
}

/// An archive file read, verified and made into the replay's entities, and how the
/// console's header describes it.
pub fn open_for_console(path: &Path) -> Result<(ArchiveData, ArchiveShown), Failure> {
    let (data, header) = ArchiveData::read(path)?;
    let decisions = data.archived_decisions();
    let shown = ArchiveShown {
        file: path.display().to_string(),
        database: header.database.clone(),
        created_at: header.created_at,
        decisions: decisions.len(),
        span: decisions
            .last()
            .zip(decisions.first())
            .map(|(oldest, newest)| (oldest.occurred_at, newest.occurred_at)),
        seqs: (header.chain.first_seq, header.chain.last_seq),
    };
    Ok((data, shown))
}

pub fn timeline_page(path: &Path, filter: &TimelineFilter) -> Result<Page, Failure> {
    let (data, _) = ArchiveData::read(path)?;
    Ok(data.timeline(filter)?)
}

/// `audit verify --archive FILE`: the file alone, then against the database when one is
/// reachable (an archive kept offline verifies without one).
pub async fn verify(target: &Target, out: Out, path: &Path) -> Result<(), Failure> {
    // Every row is checksummed; only the chain's rows are kept to recompute it.
    let archive = archive_file::scan(path, |r| {
        r.table == "decision_history" && r.role == archive_file::ARCHIVED
    })?;
    let verified = match crate::store::Store::open(target, 1).await {
        Ok(store) => {
            let v = archive_audit::verify_against(&store, &archive)
                .await
                .map_err(|e| Failure::new(ErrorCode::Database, format!("database error: {e}")))?;
            store.pool().close().await;
            v
        }
        // Offline (the usual place of an old archive): the file alone, and say so.
        Err(e) => {
            let mut v = archive_audit::verify_chain(&archive);
            v.database = Some(format!("not checked ({e})"));
            v
        }
    };
    report(out, path, &archive, &verified).await
}

async fn report(
    out: Out,
    path: &Path,
    archive: &Archive,
    v: &ArchiveVerified,
) -> Result<(), Failure> {
    let broken = v.problem.as_ref().map(|p| {
        Failure::new(
            ErrorCode::Conflict,
            format!("the archive {} is not intact: {p}", path.display()),
        )
    });
    if out.json {
        let value = json!({
            "intact": v.intact(),
            "file": path,
            "sha256": archive.trailer.sha256,
            "archive": v,
        });
        return out.json_report(value, broken).await;
    }
    println!(
        "{}: checksum ok ({} rows, sha256 {})",
        path.display(),
        archive.trailer.rows,
        archive.trailer.sha256
    );
    match &v.problem {
        None => println!(
            "{}: {} archived rows verified, seqs {}..={}, intact (ends at {})",
            v.table, v.rows, v.first_seq, v.last_seq, v.last_hash
        ),
        Some(p) => println!("{}: {}", v.table, crate::domain::text::line(&p.to_string())),
    }
    if let Some(db) = &v.database {
        println!("database: {}", crate::domain::text::line(db));
    }
    broken.map_or(Ok(()), Err)
}
