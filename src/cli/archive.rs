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
use crate::domain::text;
use crate::format::parse_time;
use crate::operator::Operator;
use crate::store::archive::{self, ArchiveError, Event};
use crate::store::archive_audit::{self, ArchiveVerified};
use crate::store::archive_file::{self, Archive, FileError};
use crate::store::archive_replay::{ArchiveData, ArchiveReadError};
use crate::store::audit::Head;
use crate::store::prune::{self, Pruned};
use crate::store::timeline::{Page, TimelineFilter};
use crate::store::{ErrorCode, Store, Target};

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

/// The exit status of a file that could not be used (README, "Retention"): one not
/// there to read is NOT_FOUND; a path that cannot be used (no such directory, no
/// permission, a directory) is INVALID_INPUT; a system that failed while reading or
/// writing (a full disk) is status 1, like a database that failed; a file that is not an
/// archive, or one another archive holds, is CONFLICT.
fn file_code(e: &FileError) -> ErrorCode {
    use std::io::ErrorKind as K;
    match e {
        FileError::Io { action, source, .. } => match source.kind() {
            K::NotFound if *action == "open" => ErrorCode::NotFound,
            K::NotFound
            | K::PermissionDenied
            | K::IsADirectory
            | K::NotADirectory
            | K::ReadOnlyFilesystem
            | K::InvalidFilename => ErrorCode::InvalidInput,
            _ => ErrorCode::Database,
        },
        FileError::Invalid { .. } | FileError::Busy { .. } | FileError::Appeared { .. } => {
            ErrorCode::Conflict
        }
    }
}

impl From<ArchiveError> for Failure {
    fn from(e: ArchiveError) -> Self {
        let code = match &e {
            ArchiveError::Database(_) => ErrorCode::Database,
            ArchiveError::File(f) => file_code(f),
            ArchiveError::Refused(_) => ErrorCode::InvalidInput,
            ArchiveError::Mismatch { .. }
            | ArchiveError::Exists { .. }
            | ArchiveError::Busy { .. } => ErrorCode::Conflict,
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
/// right after that step, holding its locks, so that a test can kill it there with SIGKILL
/// and check that nothing was lost, or run another archive beside it; a line on standard
/// input lets it go on (at the end of standard input it sleeps an hour). Unset in normal
/// use.
fn pause_after(step: &str) {
    if std::env::var("TRADEDESK_ARCHIVE_PAUSE_AFTER").as_deref() == Ok(step) {
        eprintln!("paused after {step}");
        let mut line = String::new();
        if !matches!(std::io::stdin().read_line(&mut line), Ok(n) if n > 0) {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
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

/// `by`: the admin it runs as (recorded with the file in the audit).
pub async fn archive(
    target: &Target,
    out: Out,
    args: ArchiveArgs,
    by: &Operator,
) -> Result<(), Failure> {
    let now = Utc::now();
    let before = parse_time(&args.before, now).map_err(invalid)?;
    // Refused before the database is asked (which checks again by its own clock).
    if before > now {
        return Err(invalid(format!(
            "--before {} is in the future: archive only what is past; nothing was written",
            before.to_rfc3339()
        )));
    }
    if args.batch < 1 {
        return Err(invalid("--batch must be at least 1"));
    }
    let store = open(target).await?;
    let started = Instant::now();
    let progress = Progress::new();
    let outcome = archive::archive(&store, before, &args.to, args.batch, by, &|e| {
        progress.event(e)
    })
    .await;
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
        "the chain's boundary is now seq {} ({}); the file's sha256 {} is recorded in the audit",
        h.chain.last_seq, h.chain.last_hash, outcome.sha256
    );
    println!(
        "keep this head where no one who could rewrite the file writes, to check it without \
         the database: --expect {}:{}:{}",
        h.chain.table, h.chain.last_seq, h.chain.last_hash
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

/// The database an archive read is checked against: one the user named (`--database-url`,
/// `DATABASE_URL`, config.toml), or tradedesk's own cluster only if it already runs —
/// reading a file never creates or starts a database. `Err` says why there is none.
async fn reader_store(target: Option<&Target>) -> Result<Store, String> {
    let target = target.ok_or_else(|| "no database is configured".to_string())?;
    if let Target::Embedded { cluster, .. } = target
        && !cluster.seems_running()
    {
        return Err("none is configured, and tradedesk's own is not running".into());
    }
    // The pool's own connect: `Store::open` would start the embedded cluster.
    let pool = crate::store::connect::open(target, target.options(), 1)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Store::from_pool(pool))
}

/// An archive as every reader opens it: read and verified (checksum, counts) beside the
/// connection to the database, its chain recomputed, then checked against the database or
/// the kept heads. A file that fails any of it is refused (CONFLICT); one nothing but its
/// own chain vouches for is said so, once, on standard error (for the console, in its
/// header).
async fn open_checked<T: Send + 'static>(
    target: Option<&Target>,
    path: &Path,
    expect: &[String],
    read: impl FnOnce(&Path) -> Result<(T, Archive), Failure> + Send + 'static,
) -> Result<(T, Archive, ArchiveVerified), Failure> {
    // Read the kept heads first: a typo is refused whatever the file.
    let kept = expect
        .iter()
        .map(|text| Head::parse(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let file = path.to_path_buf();
    let (read, store) = tokio::join!(
        tokio::task::spawn_blocking(move || read(&file)),
        reader_store(target)
    );
    let read = read.map_err(Failure::from).and_then(|read| read);
    let (data, archive) = match read {
        Ok(read) => read,
        Err(failure) => {
            if let Ok(store) = &store {
                store.pool().close().await;
            }
            return Err(failure);
        }
    };
    let mut verified = match &store {
        Ok(store) => {
            let checked = archive_audit::check(store, &archive).await;
            store.pool().close().await;
            checked
                .map_err(|e| Failure::new(ErrorCode::Database, format!("database error: {e}")))?
        }
        Err(why) => {
            let mut v = archive_audit::verify_chain(&archive);
            v.database = Some(format!("not checked against a database ({why})"));
            v
        }
    };
    archive_audit::check_kept(&archive, &mut verified, &kept).map_err(invalid)?;
    Ok((data, archive, verified))
}

/// The one sentence a reader refuses a file with.
fn refused(path: &Path, v: &ArchiveVerified) -> Option<Failure> {
    v.problem.as_ref().map(|p| {
        Failure::new(
            ErrorCode::Conflict,
            format!(
                "{} is not the archive tradedesk wrote, and is not shown: {p}",
                path.display()
            ),
        )
    })
}

/// What a reader says on standard error of a file only its own chain vouches for.
fn unchecked_note(path: &Path, v: &ArchiveVerified) -> Option<String> {
    (!v.checked()).then(|| {
        let why = match v.database.as_deref() {
            Some(db) if db.starts_with("not checked") => db.to_string(),
            Some(db) => format!("not checked against a database ({db})"),
            None => "not checked against a database".to_string(),
        };
        format!(
            "{}: {why}: only its own chain vouches for it; check it with the --database-url of \
             the database it came from, or with --expect decision_history:SEQ:HASH as \
             `tradedesk archive` printed it",
            path.display()
        )
    })
}

/// Reads the file for a replay or the timeline: refused, or noted, as [`open_checked`].
async fn open_data(
    target: Option<&Target>,
    path: &Path,
    expect: &[String],
) -> Result<(ArchiveData, Archive, ArchiveVerified), Failure> {
    let (data, archive, verified) = open_checked(target, path, expect, |p| {
        ArchiveData::read(p).map_err(Failure::from)
    })
    .await?;
    if let Some(f) = refused(path, &verified) {
        return Err(f);
    }
    if let Some(note) = unchecked_note(path, &verified) {
        eprintln!("tradedesk: {}", text::line(&note));
    }
    Ok((data, archive, verified))
}

pub async fn replay(
    target: &Target,
    out: Out,
    path: &Path,
    id: &str,
    expect: &[String],
) -> Result<(), Failure> {
    let (data, _, _) = open_data(Some(target), path, expect).await?;
    let replay = data.replay(data.resolve(id)?).await?;
    super::replay::show(out, replay).await
}

/// An archive file read, verified, checked and made into the replay's entities, and how
/// the console's header describes it. `target` is the database the user named, if any.
pub async fn open_for_console(
    target: Option<&Target>,
    path: &Path,
    expect: &[String],
) -> Result<(ArchiveData, ArchiveShown), Failure> {
    let (data, archive, verified) = open_checked(target, path, expect, |p| {
        ArchiveData::read(p).map_err(Failure::from)
    })
    .await?;
    if let Some(f) = refused(path, &verified) {
        return Err(f);
    }
    let header = &archive.header;
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
        checked: verified.checked().then(|| verified.checked_by.join("; ")),
    };
    Ok((data, shown))
}

pub async fn timeline_page(
    target: &Target,
    path: &Path,
    filter: &TimelineFilter,
    expect: &[String],
) -> Result<Page, Failure> {
    let (data, _, _) = open_data(Some(target), path, expect).await?;
    Ok(data.timeline(filter)?)
}

/// `audit verify --archive FILE`: the file alone, then against the database when one is
/// configured and reachable (an archive kept offline verifies without one), and against
/// the kept heads.
pub async fn verify(
    target: &Target,
    out: Out,
    path: &Path,
    expect: &[String],
) -> Result<(), Failure> {
    // Every row is checksummed; only the chain's rows are kept to recompute it.
    let (_, archive, verified) = open_checked(Some(target), path, expect, |p| {
        let archive = archive_file::scan(p, |r| {
            r.table == "decision_history" && r.role == archive_file::ARCHIVED
        })?;
        Ok(((), archive))
    })
    .await?;
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
            "checked": v.checked(),
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
        Some(p) => println!("{}: {}", v.table, text::line(p)),
    }
    if let Some(db) = &v.database {
        println!("database: {}", text::line(db));
    }
    if v.problem.is_none() {
        // An operator's name and a file's path as the database holds them.
        for by in &v.checked_by {
            println!("checked against {}", text::line(by));
        }
        if let Some(note) = unchecked_note(path, v) {
            eprintln!("tradedesk: {}", text::line(&note));
        }
    }
    broken.map_or(Ok(()), Err)
}
