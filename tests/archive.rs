//! Retention that never breaks replay (issue 12), against real PostgreSQL: archiving,
//! replay and timeline from the file, the audit chain across the cut, a SIGKILL at each
//! step of an archive, and snapshot clean-up that keeps what remaining replays read.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use common::console::Console;
use sqlx::PgPool;
use tradedesk::domain::Replay;
use tradedesk::operator::Operator;
use tradedesk::sim::engine::{self, Liveliness, Options, Pace};
use tradedesk::store::Store;
use tradedesk::store::archive::{self, Event};
use tradedesk::store::archive_audit;
use tradedesk::store::archive_file::{self, ARCHIVED};
use tradedesk::store::archive_replay::ArchiveData;
use tradedesk::store::audit;
use tradedesk::store::prune;
use tradedesk::store::timeline::TimelineFilter;
use uuid::Uuid;

fn monday(time: &str) -> DateTime<Utc> {
    format!("2026-11-23T{time}Z").parse().unwrap()
}

/// A desk with the strategies, AI trading on (switched in SQL: an `ai_resumed` row written
/// now would sit at the head of the chain, before the simulated past, and keep every
/// later row from being a prefix), and `hours` of simulated history from Monday noon.
async fn desk(hours: i64) -> (TestDb, Store, PgPool) {
    let (db, store, _) = common::desk_with_open_strategies().await;
    let pool = db.pool().await;
    sqlx::query("UPDATE risk_config SET ai_trading_enabled = true")
        .execute(&pool)
        .await
        .unwrap();
    let from = monday("12:00:00");
    let options = Options {
        seed: 5,
        from,
        until: Some(from + Duration::hours(hours)),
        pace: Pace::Fast,
        liveliness: Liveliness::Lively,
    };
    engine::check_ownership(&store, false).await.unwrap();
    engine::run(&store, &options, |_| {}).await.unwrap();
    (db, store, pool)
}

async fn decisions(pool: &PgPool, before: DateTime<Utc>, older: bool) -> Vec<Uuid> {
    let sql = if older {
        "SELECT id FROM decision_history WHERE occurred_at < $1 ORDER BY audit_seq"
    } else {
        "SELECT id FROM decision_history WHERE occurred_at >= $1 ORDER BY audit_seq"
    };
    sqlx::query_scalar(sql)
        .bind(before)
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn replays(store: &Store, ids: &[Uuid]) -> HashMap<Uuid, Replay> {
    let mut out = HashMap::new();
    for id in ids {
        out.insert(*id, store.replay(*id).await.unwrap());
    }
    out
}

fn quiet(_: Event) {}

/// Who archives in these tests.
fn ops() -> Operator {
    Operator::new("ops@desk").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_replays_the_same_from_the_file_verifies_across_the_cut_and_prune_keeps_remaining_replays()
 {
    let (db, store, pool) = desk(3).await;
    let cut = monday("13:30:00");
    let old = decisions(&pool, cut, true).await;
    let remaining = decisions(&pool, cut, false).await;
    assert!(
        old.len() > 20,
        "the simulation made {} old decisions",
        old.len()
    );
    assert!(!remaining.is_empty());
    let before_old = replays(&store, &old).await;
    let before_remaining = replays(&store, &remaining).await;

    // What `tradedesk --json replay` prints for a few of them, before.
    let printed: Vec<(Uuid, (Option<i32>, String))> = old
        .iter()
        .step_by(old.len() / 4)
        .map(|id| {
            (
                *id,
                cli(&[
                    "--database-url",
                    &db.url,
                    "--json",
                    "replay",
                    &id.to_string(),
                ]),
            )
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("2026-11.tdarchive");
    let outcome = archive::archive(&store, cut, &file, 7, &ops(), &quiet)
        .await
        .unwrap();
    assert!(!outcome.resumed);
    assert_eq!(outcome.decisions_deleted, old.len() as u64);
    assert!(!archive_file::partial_path(&file).exists());

    // The database no longer has them; the file replays every one as before.
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM decision_history WHERE occurred_at < $1")
            .bind(cut)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, 0);
    let read = archive_file::read(&file).unwrap();
    let (data, _) = ArchiveData::read(&file).unwrap();
    for id in &old {
        assert_eq!(
            &data.replay(*id).await.unwrap(),
            &before_old[id],
            "replay of {id} from the file"
        );
    }
    // The same command prints the same JSON from the file, with no database named.
    let file_text = file.to_str().unwrap();
    for (id, before) in &printed {
        let after = cli(&["--json", "replay", "--archive", file_text, &id.to_string()]);
        assert_eq!(&after, before, "tradedesk replay --archive {id}");
    }
    // The timeline of the file lists exactly the archived decisions, newest first.
    let page = data
        .timeline(&TimelineFilter {
            limit: 10_000,
            ..TimelineFilter::default()
        })
        .unwrap();
    let decisions: Vec<_> = page
        .decisions
        .iter()
        .map(|d| d.read().cloned().expect("archived decisions read"))
        .collect();
    let listed: HashSet<Uuid> = decisions.iter().map(|d| d.id).collect();
    assert_eq!(listed, old.iter().copied().collect::<HashSet<_>>());
    assert!(
        decisions
            .windows(2)
            .all(|w| w[0].occurred_at >= w[1].occurred_at)
    );

    // The console opens the file with no database: its timeline, read-only, and Enter
    // replays the newest archived decision from it.
    let mut console = Console::spawn(&["--archive", file_text], &[]);
    let text = console.wait_for("READ-ONLY");
    assert!(text.contains(" ARCHIVE "), "{text}");
    assert!(
        text.contains(&format!("{} decisions archived", old.len())),
        "{text}"
    );
    console.keys("\r");
    let newest = &decisions[0];
    let text = console.wait_for(&newest.occurred_at.format("%m-%d %H:%M").to_string());
    let title = text.lines().next().unwrap_or_default();
    assert!(title.starts_with("REPLAY "), "{text}");
    assert!(title.contains(newest.action.as_str()), "{text}");
    assert!(title.contains("ARCHIVE"), "{text}");
    console.keys("K");
    console.wait_for("archive file is read-only");
    // q closes the replay, then quits.
    console.keys("q");
    console.wait_for("Decision timeline");
    console.keys("q");
    let start = std::time::Instant::now();
    while console.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed().as_secs() < 10, "the console did not quit");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // The audit chain verifies in the database and in the file, and they meet at the cut.
    let verified = audit::verify(&store, &[]).await.unwrap();
    assert!(verified.iter().all(|v| v.intact()), "{verified:?}");
    let across = archive_audit::verify_against(&store, &read).await.unwrap();
    assert!(across.intact(), "{across:?}");
    assert_eq!(across.rows, old.len() as u64);
    assert!(
        across
            .database
            .as_deref()
            .unwrap_or("")
            .contains("continues")
    );

    // Remaining decisions replay as before, after the archive and after the snapshot
    // clean-up.
    for id in &remaining {
        assert_eq!(
            &store.replay(*id).await.unwrap(),
            &before_remaining[id],
            "replay of {id}"
        );
    }
    let dry = prune::prune(&store, cut, true, 100, &|_| {}).await.unwrap();
    let would: i64 = dry.iter().map(|p| p.unneeded).sum();
    let pruned = prune::prune(&store, cut, false, 100, &|_| {})
        .await
        .unwrap();
    let gone: i64 = pruned.iter().map(|p| p.deleted).sum();
    assert_eq!(would, gone, "the dry run said what would go");
    assert!(gone > 0, "the clean-up found nothing to remove: {pruned:?}");
    for id in &remaining {
        assert_eq!(
            &store.replay(*id).await.unwrap(),
            &before_remaining[id],
            "replay of {id}"
        );
    }
    // And the archived replays do not depend on the database at all.
    for id in old.iter().take(5) {
        assert_eq!(&data.replay(*id).await.unwrap(), &before_old[id]);
    }

    // A file changed by one byte of a row is refused (its checksum).
    let raw = std::fs::read(&file).unwrap();
    let text = zstd::decode_all(&raw[..]).unwrap();
    let mut text = String::from_utf8(text).unwrap();
    text = text.replacen("\"ai_proposed\"", "\"ai_auto_executed\"", 1);
    let forged = dir.path().join("forged.tdarchive");
    std::fs::write(&forged, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
    assert!(archive_file::read(&forged).is_err());

    // The same edit with the checksum recomputed reads, but its chain does not verify.
    let (body, _) = text.trim_end().rsplit_once('\n').unwrap();
    let body = format!("{body}\n");
    let sum = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    };
    let rows = body.lines().count() - 1;
    let resealed = format!("{body}{{\"trailer\":{{\"rows\":{rows},\"sha256\":\"{sum}\"}}}}\n");
    std::fs::write(&forged, zstd::encode_all(resealed.as_bytes(), 3).unwrap()).unwrap();
    let forged = archive_file::read(&forged).expect("a resealed file passes its checksum");
    let chain = archive_audit::verify_chain(&forged);
    assert!(
        chain
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("does not match its hash"),
        "{chain:?}"
    );
}

/// Runs the real binary (no DATABASE_URL from the environment): its exit status and output.
/// (A replay some of whose rows were already missing exits 9, from the file as before.)
fn cli(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tradedesk"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// Every decision is in the database or in a verified archive at `file`.
async fn nothing_lost(pool: &PgPool, all: &[Uuid], file: &Path) {
    let present: HashSet<Uuid> = sqlx::query_scalar("SELECT id FROM decision_history")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let archived: HashSet<Uuid> = if file.exists() {
        let read = archive_file::read(file).expect("the archive in place is complete and verified");
        read.rows_of("decision_history")
            .filter(|r| r.role == ARCHIVED)
            .map(|r| r.req_uuid("id").unwrap())
            .collect()
    } else {
        HashSet::new()
    };
    for id in all {
        assert!(
            present.contains(id) || archived.contains(id),
            "decision {id} is neither in the database nor in the archive"
        );
    }
    // Ideas are only removed with their decisions archived.
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM decision_history d
          WHERE d.trade_idea_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM trade_ideas i WHERE i.id = d.trade_idea_id)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
}

/// Runs the real binary until it says it paused after `step`, then kills it with SIGKILL.
fn archive_killed_after(url: &str, cut: &str, file: &Path, step: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradedesk"))
        .args([
            "--database-url",
            url,
            "archive",
            "--before",
            cut,
            "--batch",
            "5",
            "--to",
        ])
        .arg(file)
        .env_remove("DATABASE_URL")
        .env("TRADEDESK_ARCHIVE_PAUSE_AFTER", step)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut said = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("paused after") {
            break;
        }
    }
    assert!(
        said.contains(&format!("paused after {step}")),
        "the archive said: {said}"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// Rows that tie (a flat equity for hours, twin captures of one moment, headlines published
/// at the same second) are picked and ordered the same way by the database and by the
/// archive, whatever order the table holds them in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ties_replay_the_same_from_the_database_and_from_the_file() {
    let (_db, store, pool) = desk(2).await;
    // A twin of every account capture (same time, same figures, another id), and of every
    // headline (same time, another text), written newest first so that the table's
    // physical order is not time's.
    sqlx::raw_sql(
        "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         SELECT gen_random_uuid(), balance, equity, margin_used, margin_free, open_pl,
                open_positions, captured_at
           FROM snapshot_account ORDER BY captured_at DESC;
         INSERT INTO snapshot_news (id, headline, source, symbols, published_at, captured_at)
         SELECT gen_random_uuid(), 'Also: ' || headline, source, symbols, published_at,
                captured_at
           FROM snapshot_news ORDER BY published_at DESC;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let cut = monday("13:30:00");
    let old = decisions(&pool, cut, true).await;
    assert!(!old.is_empty());
    let before = replays(&store, &old).await;
    // The database's own answer does not move with the physical order.
    for table in ["snapshot_account", "snapshot_news"] {
        sqlx::query(&format!("VACUUM FULL {table}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    assert_eq!(replays(&store, &old).await, before);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ties.tdarchive");
    archive::archive(&store, cut, &file, 7, &ops(), &quiet)
        .await
        .unwrap();
    let (data, _) = ArchiveData::read(&file).unwrap();
    let mut twins_shown = false;
    for id in &old {
        let replay = data.replay(*id).await.unwrap();
        twins_shown |= replay.news.iter().any(|h| h.headline.starts_with("Also: "));
        assert_eq!(&replay, &before[id], "replay of {id} from the file");
    }
    assert!(twins_shown, "no replay showed a headline's twin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_at_any_step_of_an_archive_loses_nothing_and_a_rerun_finishes_it() {
    let (db, store, pool) = desk(1).await;
    let cut = monday("12:40:00");
    let cut_text = "2026-11-23T12:40:00Z";
    let all = decisions(&pool, monday("23:59:59"), true).await;
    let old = decisions(&pool, cut, true).await;
    assert!(
        old.len() > 10,
        "the simulation made {} old decisions",
        old.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.tdarchive");

    // Killed with the file written but not verified or in place: nothing deleted.
    archive_killed_after(&db.url, cut_text, &file, "sealed");
    assert!(!file.exists());
    assert!(archive_file::partial_path(&file).exists());
    assert_eq!(decisions(&pool, cut, true).await, old);
    nothing_lost(&pool, &all, &file).await;

    // Killed with the file verified and in place, nothing deleted yet.
    archive_killed_after(&db.url, cut_text, &file, "published");
    assert!(file.exists());
    assert!(!archive_file::partial_path(&file).exists());
    assert_eq!(decisions(&pool, cut, true).await, old);
    nothing_lost(&pool, &all, &file).await;

    // Killed after the first batch of deletions.
    archive_killed_after(&db.url, cut_text, &file, "deleted");
    let left = decisions(&pool, cut, true).await;
    assert!(
        left.len() < old.len() && !left.is_empty(),
        "{} of {} left",
        left.len(),
        old.len()
    );
    nothing_lost(&pool, &all, &file).await;
    let verified = audit::verify(&store, &[]).await.unwrap();
    assert!(verified.iter().all(|v| v.intact()), "{verified:?}");
    let read = archive_file::read(&file).unwrap();
    let midway = archive_audit::verify_against(&store, &read).await.unwrap();
    assert!(midway.intact(), "{midway:?}");
    assert!(
        midway
            .database
            .as_deref()
            .unwrap_or("")
            .contains("unfinished")
    );

    // Run again: the file is complete and verified, and the deletions finish.
    let outcome = archive::archive(&store, cut, &file, 5, &ops(), &quiet)
        .await
        .unwrap();
    assert!(outcome.resumed);
    assert!(decisions(&pool, cut, true).await.is_empty());
    nothing_lost(&pool, &all, &file).await;
    let verified = audit::verify(&store, &[]).await.unwrap();
    assert!(verified.iter().all(|v| v.intact()), "{verified:?}");
    let done = archive_audit::verify_against(&store, &read).await.unwrap();
    assert!(done.intact(), "{done:?}");

    // And once more: nothing left to do, nothing changes.
    let again = archive::archive(&store, cut, &file, 5, &ops(), &quiet)
        .await
        .unwrap();
    assert!(again.resumed);
    assert_eq!(again.decisions_deleted, 0);
    // Another cut into the same file is refused, and deletes nothing.
    let other = archive::archive(&store, monday("12:50:00"), &file, 5, &ops(), &quiet).await;
    assert!(
        matches!(other, Err(archive::ArchiveError::Exists { .. })),
        "{other:?}"
    );
}
