//! Retention on a simulated history (issue 12's "done when"): archive the oldest three
//! quarters, prune the snapshots older than 30 days, and hold every replay to what it was.
//!
//! `cargo bench --bench retention` simulates BENCH_DAYS days (default 14) of the platform
//! (the simulator: seed 7, lively, the platform's strategies, AI trading on) into a scratch
//! database, or, with BENCH_FROM_DB=NAME, copies that database of the same server (e.g. a
//! year made with `tradedesk simulate --fast --from 365d`; nothing may be connected to it).
//! It then, printing sizes and times as it goes:
//!
//! 1. replays every decision (`Store::replay`) and keeps the result;
//! 2. archives every decision older than the first three quarters of the history to a file
//!    (`store::archive`, as `tradedesk archive --before`);
//! 3. prunes snapshot rows older than 30 days that no remaining replay reads
//!    (`store::prune`, as `tradedesk prune-snapshots --older-than 30d`), then VACUUM FULL;
//! 4. reads the file (`ArchiveData::read`) and replays every archived decision from it, and
//!    every remaining decision from the database, comparing each with step 1;
//! 5. verifies the audit chain in the database and the file against it;
//! 6. times the CLI's `replay --archive` and `timeline --archive` on the file.
//!
//! It exits 1 if any replay differs or a chain does not verify (a check, not a timing). The
//! server is `DATABASE_URL`'s, else an embedded cluster in the temp directory; BENCH_KEEP=1
//! leaves the database and the file.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};
use sqlx::{Connection as _, PgConnection};
use tradedesk::domain::Replay;
use tradedesk::domain::strategy::document::parse_documents;
use tradedesk::operator::Operator;
use tradedesk::sim::engine::{self, Liveliness, Options, Pace};
use tradedesk::store::archive_replay::ArchiveData;
use tradedesk::store::target::Origin;
use tradedesk::store::{Store, Target, archive, archive_audit, archive_file, audit, prune};
use uuid::Uuid;

mod support;

const DATABASE: &str = "tradedesk_bench_retention";
/// Tables whose size the figures show, as `tradedesk setup` lists them.
const TABLES: &[&str] = &[
    "decision_history",
    "trade_ideas",
    "tradedesk.executions",
    "snapshot_account",
    "snapshot_market",
    "snapshot_indicators",
    "snapshot_calendar",
    "snapshot_news",
];

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn mb(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// Rows and bytes (with indexes and TOAST) of each table, and of the whole database.
async fn sizes(conn: &mut PgConnection) -> (Vec<(String, i64, i64)>, i64) {
    let mut out = Vec::new();
    for table in TABLES {
        let (rows, bytes): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*), pg_total_relation_size('{table}') FROM {table}"
        ))
        .fetch_one(&mut *conn)
        .await
        .expect("table size");
        out.push((table.to_string(), rows, bytes));
    }
    let total: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut *conn)
        .await
        .expect("database size");
    (out, total)
}

fn print_sizes(label: &str, sizes: &(Vec<(String, i64, i64)>, i64)) {
    println!("{label}: database {}", mb(sizes.1));
    for (table, rows, bytes) in &sizes.0 {
        println!("  {table:<24} {rows:>10} rows {:>10}", mb(*bytes));
    }
}

/// The platform's strategies, as the platform wrote them (tests/fixtures).
fn strategies() -> String {
    include_str!("../tests/fixtures/platform_strategies.json").to_string()
}

/// A scratch database holding the history: a copy of BENCH_FROM_DB, or `days` simulated.
async fn history(days: i64) -> (PgConnection, Target) {
    let server = support::server_url();
    if let Ok(from) = std::env::var("BENCH_FROM_DB") {
        let mut admin = PgConnection::connect(&server).await.expect("connect");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop the old copy");
        let start = Instant::now();
        sqlx::query(&format!("CREATE DATABASE {DATABASE} TEMPLATE {from}"))
            .execute(&mut admin)
            .await
            .expect("copy BENCH_FROM_DB (is anything connected to it?)");
        println!("copied {from} in {}", secs(start.elapsed()));
        let url = support::with_database(&server, DATABASE);
        let target = Target::from_url(&url, Origin::Env).expect("a URL");
        return (admin, target);
    }
    let (admin, _, target) = support::scratch(DATABASE).await;
    let store = Store::open(&target, 3).await.expect("open");
    let specs = parse_documents(&strategies()).expect("the fixtures parse");
    store
        .import_strategies(&specs, &Operator::new("bench@desk").expect("operator"))
        .await
        .expect("import");
    let until = Utc::now()
        .duration_trunc(TimeDelta::seconds(1))
        .expect("now");
    // In SQL with its `ai_resumed` row dated before the simulated past, not by `risk set`:
    // a row dated now would sit at the head of the audit chain and no prefix of the chain
    // could go (and without one the database writes one dated now, migration 14).
    sqlx::raw_sql(&format!(
        "BEGIN;
         INSERT INTO decision_history (id, occurred_at, action, rationale, human_override,
                                       operator)
         VALUES (gen_random_uuid(), '{}', 'ai_resumed', 'resumed at the desk', true,
                 'bench@desk');
         UPDATE risk_config SET ai_trading_enabled = true, min_confidence_threshold = 60;
         COMMIT",
        (until - TimeDelta::days(days) - TimeDelta::hours(1)).to_rfc3339()
    ))
    .execute(store.pool())
    .await
    .expect("switch AI trading on");
    let options = Options {
        seed: 7,
        from: until - TimeDelta::days(days),
        until: Some(until),
        pace: Pace::Fast,
        liveliness: Liveliness::Lively,
    };
    let start = Instant::now();
    engine::check_ownership(&store, false).await.expect("ours");
    let summary = engine::run(&store, &options, |_| {})
        .await
        .expect("simulate");
    println!(
        "simulated {days} days in {}: {} candles, {} account snapshots, {} fills",
        secs(start.elapsed()),
        summary.candles,
        summary.account_snapshots,
        summary.fills
    );
    store.pool().close().await;
    (admin, target)
}

/// A remaining decision's replay after the archive, as before it where only the switch's
/// provenance was lost with an archived flip (the flip it was read from went with the
/// archived prefix; the database then reads it from a later flip or the limits): the
/// switch's value, which the Gate judges by, must be the same, and so must the rest.
fn but_the_archived_flip(mut after: Replay, before: &Replay, cut: DateTime<Utc>) -> Replay {
    use tradedesk::domain::replay::SwitchAsOf;
    if let (Some(a), Some(b)) = (after.gate.as_mut(), before.gate.as_ref())
        && matches!(b.switch_as_of, SwitchAsOf::FlipBefore { occurred_at } if occurred_at < cut)
        && a.switch_as_of != b.switch_as_of
        && a.limits.ai_trading_enabled == b.limits.ai_trading_enabled
    {
        a.switch_as_of = b.switch_as_of;
    }
    after
}

async fn decisions(store: &Store) -> Vec<(Uuid, DateTime<Utc>)> {
    sqlx::query_as("SELECT id, occurred_at FROM decision_history ORDER BY audit_seq")
        .fetch_all(store.pool())
        .await
        .expect("decisions")
}

/// The median wall time of `runs` runs of the tradedesk binary with `args`.
fn cli_median(args: &[&str], runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_tradedesk"))
                .args(args)
                .env_remove("DATABASE_URL")
                .output()
                .expect("run tradedesk");
            assert!(
                out.status.success(),
                "tradedesk {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let days = std::env::var("BENCH_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(14i64)
        .max(2);
    let (mut admin, target) = history(days).await;
    let store = Store::open(&target, 4).await.expect("open");
    let mut conn = store.pool().acquire().await.expect("a connection");
    let before_sizes = sizes(&mut conn).await;
    print_sizes("before", &before_sizes);

    // The history's span, by the account's captures (the simulator's clock).
    let (first, last): (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT min(captured_at), max(captured_at) FROM snapshot_account")
            .fetch_one(&mut *conn)
            .await
            .expect("span");
    drop(conn);
    let cut = (first + (last - first) * 3 / 4)
        .duration_trunc(TimeDelta::days(1))
        .expect("a day");
    let prune_cut = last - TimeDelta::days(30);
    println!(
        "history {} – {}; archiving before {cut}, pruning snapshots before {prune_cut}",
        first.format("%Y-%m-%d %H:%M"),
        last.format("%Y-%m-%d %H:%M")
    );

    // 1. Every decision's replay, before.
    let all = decisions(&store).await;
    let start = Instant::now();
    let mut before: HashMap<Uuid, Replay> = HashMap::with_capacity(all.len());
    for (id, _) in &all {
        before.insert(*id, store.replay(*id).await.expect("replay"));
    }
    let whole_before = before.values().filter(|r| r.missing.is_empty()).count();
    println!(
        "replayed {} decisions in {} ({whole_before} whole)",
        all.len(),
        secs(start.elapsed())
    );

    // 2. Archive.
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("oldest.tdarchive");
    let start = Instant::now();
    let outcome = archive::archive(
        &store,
        cut,
        &file,
        1000,
        &Operator::new("bench@desk").expect("operator"),
        &|_| {},
    )
    .await
    .expect("archive");
    println!(
        "archive: {} decisions, {} ideas, {} orders removed; file {} ({} rows) in {}",
        outcome.decisions_deleted,
        outcome.ideas_deleted,
        outcome.executions_deleted,
        mb(outcome.file_bytes as i64),
        outcome.header.rows.values().sum::<u64>(),
        secs(start.elapsed())
    );

    // 3. Prune, then give the space back to see it.
    let start = Instant::now();
    let pruned = prune::prune(&store, prune_cut, false, 5000, &|_| {})
        .await
        .expect("prune");
    println!(
        "prune-snapshots: {} rows removed in {}",
        pruned.iter().map(|p| p.deleted).sum::<i64>(),
        secs(start.elapsed())
    );
    for p in &pruned {
        println!(
            "  {:<24} {:>10} older, {:>10} removed",
            p.table, p.older, p.deleted
        );
    }
    let start = Instant::now();
    let mut conn = store.pool().acquire().await.expect("a connection");
    for table in TABLES {
        sqlx::query(&format!("VACUUM FULL {table}"))
            .execute(&mut *conn)
            .await
            .expect("vacuum");
    }
    println!("VACUUM FULL in {}", secs(start.elapsed()));
    let after_sizes = sizes(&mut conn).await;
    drop(conn);
    print_sizes("after", &after_sizes);

    // 4. Every replay again: archived ones from the file, the rest from the database.
    let start = Instant::now();
    let (data, _) = ArchiveData::read(&file).expect("the archive reads");
    println!("read and verified the file in {}", secs(start.elapsed()));
    let archived: std::collections::HashSet<Uuid> =
        data.archived_decisions().iter().map(|d| d.id).collect();
    let mut differ = Vec::new();
    let mut from_file = Vec::new();
    let mut from_db = Vec::new();
    for (id, _) in &all {
        let t = Instant::now();
        let now = if archived.contains(id) {
            let r = data.replay(*id).await.expect("replay from the file");
            from_file.push(t.elapsed());
            r
        } else {
            let r = store.replay(*id).await.expect("replay");
            from_db.push(t.elapsed());
            r
        };
        if but_the_archived_flip(now, &before[id], cut) != before[id] {
            differ.push(*id);
        }
    }
    println!(
        "replays equal to before: {} of {} from the file ({}), {} of {} from the database ({})",
        from_file.len() - differ.iter().filter(|i| archived.contains(i)).count(),
        from_file.len(),
        support::summary(&mut from_file),
        from_db.len() - differ.iter().filter(|i| !archived.contains(i)).count(),
        from_db.len(),
        support::summary(&mut from_db),
    );

    // 5. The chain, in the database and across the cut.
    let start = Instant::now();
    let verified = audit::verify(&store, &[]).await.expect("audit verify");
    let chain_ok = verified.iter().all(|v| v.intact());
    println!(
        "audit verify: {} in {}",
        if chain_ok { "intact" } else { "BROKEN" },
        secs(start.elapsed())
    );
    let start = Instant::now();
    let scanned = archive_file::scan(&file, |r| {
        r.table == "decision_history" && r.role == archive_file::ARCHIVED
    })
    .expect("scan");
    let read = start.elapsed();
    // What every reader pays on every open, beside the read: the chain recomputed, then
    // the file looked up in the database's audit.
    let start = Instant::now();
    let chain = archive_audit::verify_chain(&scanned);
    let recomputed = start.elapsed();
    let start = Instant::now();
    let across = archive_audit::check(&store, &scanned)
        .await
        .expect("check the file");
    let checked = start.elapsed();
    println!(
        "audit verify --archive: {} ({} rows, {}) in {} (read {}, chain recomputed {} = {:.1} µs a \
         row, chain and database's record {})",
        if across.intact() && chain.intact() {
            "intact"
        } else {
            "BROKEN"
        },
        across.rows,
        if across.checked() {
            "checked against the database"
        } else {
            "NOT CHECKED"
        },
        secs(read + checked),
        secs(read),
        secs(recomputed),
        recomputed.as_secs_f64() * 1e6 / chain.rows.max(1) as f64,
        secs(checked)
    );

    // 6. The CLI on the file: one process each, as a user runs it.
    let path = file.to_str().expect("a UTF-8 path");
    // A decision whose replay is whole (the desk's first, its switch-on, has no snapshot:
    // its replay exits 9).
    let whole = data
        .archived_decisions()
        .into_iter()
        .find(|d| before.get(&d.id).is_some_and(|r| r.missing.is_empty()))
        .map(|d| d.id.to_string());
    if let Some(id) = whole {
        let replay = cli_median(&["replay", "--archive", path, &id], 3);
        let timeline = cli_median(&["timeline", "--archive", path, "--limit", "20"], 3);
        // The same replay checked against the database's record of the file.
        let url = support::with_database(&support::server_url(), DATABASE);
        let checked = cli_median(
            &["--database-url", &url, "replay", "--archive", path, &id],
            3,
        );
        println!(
            "tradedesk replay --archive: median {} (against the database: {}); timeline \
             --archive: median {}",
            secs(replay),
            secs(checked),
            secs(timeline)
        );
    }

    store.pool().close().await;
    if std::env::var("BENCH_KEEP").is_ok() {
        let kept = dir.keep();
        println!("kept {DATABASE} and {}", kept.display());
    } else {
        support::drop_db(&mut admin, DATABASE).await;
    }
    if !differ.is_empty() || !chain_ok || !across.intact() {
        eprintln!(
            "FAILED: {} replays differ (e.g. {:?}); chain intact: {chain_ok}, across the cut: {}",
            differ.len(),
            differ.first(),
            across.intact()
        );
        std::process::exit(1);
    }
}
