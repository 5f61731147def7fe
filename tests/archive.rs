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

/// A desk with the strategies, AI trading on (switched as the platform does, with its
/// `ai_resumed` row, dated before the simulated past: one written now — as the database
/// writes for a flip without one — would sit at the head of the chain, before the
/// simulated past, and keep every later row from being a prefix), and `hours` of
/// simulated history from Monday noon.
async fn desk(hours: i64) -> (TestDb, Store, PgPool) {
    let (db, store, _) = common::desk_with_open_strategies().await;
    let pool = db.pool().await;
    let from = monday("12:00:00");
    let options = Options {
        seed: 5,
        from,
        until: Some(from + Duration::hours(hours)),
        pace: Pace::Fast,
        liveliness: Liveliness::Lively,
    };
    engine::check_ownership(&store, false).await.unwrap();
    sqlx::raw_sql(
        "BEGIN;
         INSERT INTO decision_history (id, occurred_at, action, rationale, human_override)
         VALUES (gen_random_uuid(), '2026-11-23T11:00:00Z', 'ai_resumed', 'resumed', true);
         UPDATE risk_config SET ai_trading_enabled = true;
         COMMIT;",
    )
    .execute(&pool)
    .await
    .unwrap();
    engine::run(&store, &options, |_| {}).await.unwrap();
    (db, store, pool)
}

/// A remaining decision's replay after the archive (`now`) against before it (`then`):
/// the same in everything, but that where the switch was read from may move in one way
/// only — the flip that switched the AI on (the desk's first decision, 11:00) went into
/// the archive with the rest of the chain's prefix, so a replay that read it reads the
/// limits instead, and must find the same switch there. Known and left: the archive keeps
/// no switch state at its cut.
fn assert_replays_alike(
    now: tradedesk::domain::replay::Replay,
    mut then: tradedesk::domain::replay::Replay,
    id: Uuid,
) {
    use tradedesk::domain::replay::SwitchAsOf;
    let archived = SwitchAsOf::FlipBefore {
        occurred_at: monday("11:00:00"),
    };
    if let (Some(then), Some(now)) = (then.gate.as_mut(), now.gate.as_ref())
        && then.switch_as_of == archived
    {
        assert_eq!(now.switch_as_of, SwitchAsOf::Limits, "replay of {id}");
        then.switch_as_of = SwitchAsOf::Limits;
    }
    assert_eq!(now, then, "replay of {id}");
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
    // The file's timeline prints short ids that name its decisions back, as printed.
    let (code, listing) = cli(&["timeline", "--archive", file_text, "--limit", "10000"]);
    assert_eq!(code, Some(0), "{listing}");
    let shown: Vec<&str> = listing
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(shown.len(), old.len(), "{listing}");
    assert_eq!(shown.iter().collect::<HashSet<_>>().len(), old.len());
    for short in &shown {
        let id = data.resolve(short).unwrap();
        assert!(
            id.simple().to_string().ends_with(short),
            "{short} named {id}"
        );
    }
    for (id, before) in &printed {
        let short = shown
            .iter()
            .find(|s| id.simple().to_string().ends_with(*s))
            .unwrap();
        let after = cli(&["--json", "replay", "--archive", file_text, short]);
        assert_eq!(&after, before, "tradedesk replay --archive {short}");
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
    // The newest decision's time is on the timeline too: wait for the replay's title.
    let start = std::time::Instant::now();
    let text = loop {
        let text = console.text();
        if text.starts_with("REPLAY ") {
            break text;
        }
        assert!(start.elapsed().as_secs() < 15, "no replay opened: {text}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let title = text.lines().next().unwrap_or_default();
    assert!(
        title.contains(&newest.occurred_at.format("%m-%d %H:%M").to_string()),
        "{text}"
    );
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
        assert_replays_alike(
            store.replay(*id).await.unwrap(),
            before_remaining[id].clone(),
            *id,
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
        assert_replays_alike(
            store.replay(*id).await.unwrap(),
            before_remaining[id].clone(),
            *id,
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

/// How many archives the database's audit records.
async fn records(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tradedesk.config_changes WHERE subject = 'archive'")
        .fetch_one(pool)
        .await
        .unwrap()
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
        // At the end of its input, the pause lasts: until the kill.
        .stdin(Stdio::null())
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

    // Killed with the file verified and in place, nothing deleted yet (nor recorded).
    archive_killed_after(&db.url, cut_text, &file, "published");
    assert!(file.exists());
    assert!(!archive_file::partial_path(&file).exists());
    assert_eq!(decisions(&pool, cut, true).await, old);
    nothing_lost(&pool, &all, &file).await;
    assert_eq!(records(&pool).await, 0);

    // Killed after the first batch of deletions: the run that resumed recorded the file
    // before deleting.
    archive_killed_after(&db.url, cut_text, &file, "deleted");
    assert_eq!(records(&pool).await, 1);
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
    assert_eq!(records(&pool).await, 1, "recorded once");
    // Another cut into the same file is refused, and deletes nothing.
    let other = archive::archive(&store, monday("12:50:00"), &file, 5, &ops(), &quiet).await;
    assert!(
        matches!(other, Err(archive::ArchiveError::Exists { .. })),
        "{other:?}"
    );
}

/// The real binary as a user runs it, with no database configured (no `DATABASE_URL`,
/// no config file) and a home, data directory and embedded-cluster directory of its own;
/// after every run, that it created no embedded cluster.
struct Offline {
    dir: tempfile::TempDir,
}

struct Ran {
    code: i32,
    out: String,
    err: String,
}

impl Offline {
    fn new() -> Offline {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        Offline { dir }
    }

    fn env(&self) -> Vec<(&'static str, std::path::PathBuf)> {
        let home = self.dir.path().join("home");
        vec![
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", home.join(".config")),
            ("XDG_DATA_HOME", home.join(".local/share")),
            ("XDG_STATE_HOME", home.join(".local/state")),
            // Where the embedded cluster would go (as root, not under HOME).
            ("TRADEDESK_PG_DIR", self.dir.path().join("pg")),
        ]
    }

    /// Runs `args` with no database.
    fn run(&self, args: &[&str]) -> Ran {
        let out = Command::new(env!("CARGO_BIN_EXE_tradedesk"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("TRADEDESK_CONFIG")
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        self.no_cluster_created(args);
        Ran {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `args` against the database at `url`.
    fn with_db(&self, url: &str, args: &[&str]) -> Ran {
        let mut all = vec!["--database-url", url];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Nothing was made where the embedded cluster lives, nor anywhere under HOME.
    fn no_cluster_created(&self, args: &[&str]) {
        assert!(
            !self.dir.path().join("pg").exists(),
            "tradedesk {args:?} created the embedded cluster's directory"
        );
        fn walk(dir: &Path, args: &[&str]) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                assert!(
                    !path.ends_with("postgres") && !path.ends_with("PG_VERSION"),
                    "tradedesk {args:?} created {}",
                    path.display()
                );
                if path.is_dir() {
                    walk(&path, args);
                }
            }
        }
        walk(&self.dir.path().join("home"), args);
    }

    /// The console on `args` in a pseudo-terminal, with the same environment.
    fn console(&self, args: &[&str]) -> Console {
        let env: Vec<(&str, String)> = self
            .env()
            .into_iter()
            .filter(|(k, _)| *k == "TRADEDESK_PG_DIR")
            .map(|(k, v)| (k, v.display().to_string()))
            .collect();
        Console::spawn(args, &env)
    }

    /// The console refuses to open: it exits 5 with the sentence `says`, and no screen.
    fn console_refuses(&self, args: &[&str], says: &str) {
        let mut console = self.console(args);
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = console.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed().as_secs() < 30,
                "the console opened {args:?}: {}",
                console.text()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        // The reader thread may still be copying the last bytes.
        let start = std::time::Instant::now();
        let said = loop {
            let raw = String::from_utf8_lossy(&console.raw.lock().unwrap()).into_owned();
            let said = raw.replace("\r\n", "").replace('\n', "");
            if said.contains(says) || start.elapsed().as_secs() > 5 {
                break said;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert_eq!(status.exit_code(), 5, "the console on {args:?}: {said}");
        assert!(said.contains(says), "the console on {args:?} said: {said}");
        assert!(!said.contains("READ-ONLY"), "{said}");
        self.no_cluster_created(args);
    }

    /// The console opens `args` and its header says `says`; then quits.
    fn console_opens(&self, args: &[&str], says: &str) {
        let mut console = self.console(args);
        let text = console.wait_for("READ-ONLY");
        assert!(text.contains(says), "{text}");
        console.keys("q");
        let start = std::time::Instant::now();
        while console.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed().as_secs() < 10, "the console did not quit");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.no_cluster_created(args);
    }
}

/// An archive's text, decompressed.
fn decompressed(path: &Path) -> String {
    String::from_utf8(zstd::decode_all(&std::fs::read(path).unwrap()[..]).unwrap()).unwrap()
}

/// Writes `text` (header and rows; a trailer at its end is replaced) to `path` with the
/// trailer a forger would compute: the row count and SHA-256 of every byte before it.
fn write_resealed(path: &Path, text: &str) {
    use sha2::Digest as _;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("{\"trailer\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let sum = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    let rows = body.lines().count() - 1;
    let sealed = format!("{body}{{\"trailer\":{{\"rows\":{rows},\"sha256\":\"{sum}\"}}}}\n");
    std::fs::write(path, zstd::encode_all(sealed.as_bytes(), 3).unwrap()).unwrap();
}

/// The line prefix of an archived decision (archive_file.rs: `{"table","role","row"}`).
const ARCHIVED_DECISION: &str = "{\"table\":\"decision_history\",\"role\":\"archived\",\"row\":";

/// The text with the first archived decision's rationale changed.
fn forge_rationale(text: &str) -> String {
    let mut done = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if !done && line.starts_with(ARCHIVED_DECISION) {
                done = true;
                line.replacen("\"rationale\":\"", "\"rationale\":\"FORGED ", 1)
            } else {
                line.to_string()
            }
        })
        .collect();
    assert!(done, "the file holds no archived decision");
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The text with every archived decision's hash recomputed from its (possibly changed)
/// columns, as a forger who knows migration 7 would — the canonical text by the database's
/// own function — and the header's last hash with them: a chain consistent with itself.
async fn rechain(pool: &PgPool, text: &str) -> String {
    use sha2::Digest as _;
    const HASH: &str = "\"audit_hash\":\"\\\\x";
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let chain = &header["header"]["chain"];
    let mut previous = hex::decode(chain["hash_before"].as_str().unwrap()).unwrap();
    let old_last = chain["last_hash"].as_str().unwrap().to_string();
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        if !line.starts_with(ARCHIVED_DECISION) {
            lines.push(line.to_string());
            continue;
        }
        let row = &line[ARCHIVED_DECISION.len()..line.len() - 1];
        let seq: i64 = serde_json::from_str::<serde_json::Value>(row).unwrap()["audit_seq"]
            .as_i64()
            .unwrap();
        let canonical: String = sqlx::query_scalar(
            "SELECT tradedesk.tradedesk_audit_canonical_decision(
                        json_populate_record(NULL::public.decision_history, $1::json), $2)",
        )
        .bind(row)
        .bind(seq)
        .fetch_one(pool)
        .await
        .unwrap();
        let mut step = sha2::Sha256::new();
        step.update(&previous);
        step.update(sha2::Sha256::digest(canonical.as_bytes()));
        let hash = step.finalize().to_vec();
        let at = line.find(HASH).expect("a row with its hash") + HASH.len();
        lines.push(format!(
            "{}{}{}",
            &line[..at],
            hex::encode(&hash),
            &line[at + 64..]
        ));
        previous = hash;
    }
    lines[0] = lines[0].replace(
        &format!("\"last_hash\":\"{old_last}\""),
        &format!("\"last_hash\":\"{}\"", hex::encode(&previous)),
    );
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The three readers of an archive on the command line, with `extra` options.
fn readers<'a>(file: &'a str, id: &'a str, extra: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut replay = vec!["replay", "--archive", file];
    replay.extend_from_slice(extra);
    replay.push(id);
    let mut timeline = vec!["timeline", "--archive", file];
    timeline.extend_from_slice(extra);
    let mut verify = vec!["audit", "verify", "--archive", file];
    verify.extend_from_slice(extra);
    vec![replay, timeline, verify]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_archive_is_refused_by_every_reader_and_an_honest_one_is_checked_where_it_can_be()
{
    let (db, store, pool) = desk(1).await;
    // A decision whose replay is whole (the first ones lack the snapshots before the
    // simulation began, and exit 9), to replay from the file.
    let mut whole = None;
    for id in decisions(&pool, monday("12:40:00"), true).await {
        if store.replay(id).await.unwrap().missing.is_empty() {
            whole = Some(id.to_string());
            break;
        }
    }
    let id = whole.expect("a decision that replays whole");
    let offline = Offline::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("honest.tdarchive");
    let f = file.to_str().unwrap();
    let ran = offline.with_db(
        &db.url,
        &["archive", "--before", "2026-11-23T12:40:00Z", "--to", f],
    );
    assert_eq!(ran.code, 0, "{}", ran.err);
    // The head to keep, as printed.
    let head = ran
        .out
        .lines()
        .find_map(|l| l.split("--expect ").nth(1))
        .unwrap_or_else(|| panic!("no head printed: {}", ran.out))
        .trim()
        .to_string();
    let read = archive_file::read(&file).unwrap();
    let b = &read.header.chain;
    assert_eq!(
        head,
        format!("decision_history:{}:{}", b.last_seq, b.last_hash)
    );

    // The publish record: one config_changes row, chained, naming the file's SHA-256 and cut.
    let sha = read.trailer.sha256.clone();
    let (seq, operator, name, change, after): (
        Option<i64>,
        String,
        String,
        String,
        serde_json::Value,
    ) = sqlx::query_as(
        "SELECT audit_seq, operator, subject_name, change, after FROM tradedesk.config_changes
              WHERE subject = 'archive'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(seq.is_some(), "the record is chained");
    assert!(!operator.is_empty());
    assert_eq!(name, "honest.tdarchive");
    assert!(change.contains(&sha), "{change}");
    assert!(
        change.starts_with(&format!(
            "archived decision_history seq {}..{} to ",
            b.first_seq, b.last_seq
        )),
        "{change}"
    );
    assert_eq!(after["sha256"], sha);
    assert_eq!(after["table"], "decision_history");
    assert_eq!(after["first_seq"], b.first_seq);
    assert_eq!(after["last_seq"], b.last_seq);
    assert_eq!(after["last_hash"], b.last_hash.as_str());
    let ran = offline.with_db(&db.url, &["audit", "verify"]);
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(
        ran.out.contains("config_changes") && ran.out.contains("intact"),
        "{}",
        ran.out
    );

    let wrong_head = format!("decision_history:{}:{}", b.last_seq, "0".repeat(64));

    // Honest, with no database: read, and said to be unchecked.
    for args in readers(f, &id, &[]) {
        let ran = offline.run(&args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.err);
        assert!(
            ran.err.contains("not checked against a database"),
            "{args:?}: {}",
            ran.err
        );
        assert_eq!(ran.err.lines().count(), 1, "{args:?}: {}", ran.err);
    }
    // With the kept head: checked, nothing said.
    for args in readers(f, &id, &["--expect", &head]) {
        let ran = offline.run(&args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.err);
        assert!(ran.err.is_empty(), "{args:?}: {}", ran.err);
    }
    // With a wrong one: refused.
    for args in readers(f, &id, &["--expect", &wrong_head]) {
        let ran = offline.run(&args);
        assert_eq!(ran.code, 5, "{args:?}: {}{}", ran.out, ran.err);
        assert!(ran.err.contains("kept head"), "{args:?}: {}", ran.err);
    }
    // A head outside the file cannot be checked: the command line was wrong.
    let outside = format!("decision_history:{}:{}", b.last_seq + 1, "0".repeat(64));
    let ran = offline.run(&["timeline", "--archive", f, "--expect", &outside]);
    assert_eq!(ran.code, 3, "{}", ran.err);
    // With the database: checked against its record, nothing said.
    for args in readers(f, &id, &[]) {
        let ran = offline.with_db(&db.url, &args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.err);
        assert!(ran.err.is_empty(), "{args:?}: {}", ran.err);
    }
    let ran = offline.with_db(&db.url, &["audit", "verify", "--archive", f]);
    assert!(
        ran.out.contains("recorded this file's sha256"),
        "{}",
        ran.out
    );
    let checked = archive_audit::check(&store, &read).await.unwrap();
    assert!(
        checked.checked() && checked.recorded.is_some(),
        "{checked:?}"
    );
    // The console: unchecked without a database, checked with the head or the database.
    offline.console_opens(&["--archive", f], "not checked against a database");
    offline.console_opens(&["--archive", f, "--expect", &head], "READ-ONLY  checked");
    offline.console_opens(
        &["--database-url", &db.url, "--archive", f],
        "READ-ONLY  checked",
    );

    // Forged: a row's text changed and the trailer recomputed. Its own chain catches it,
    // with or without a database.
    let text = decompressed(&file);
    let changed = forge_rationale(&text);
    let forged = dir.path().join("forged.tdarchive");
    write_resealed(&forged, &changed);
    let g = forged.to_str().unwrap();
    assert!(archive_file::read(&forged).is_ok(), "its checksum passes");
    for args in readers(g, &id, &[]) {
        for ran in [offline.run(&args), offline.with_db(&db.url, &args)] {
            assert_eq!(ran.code, 5, "{args:?}: {}{}", ran.out, ran.err);
            assert!(ran.err.contains("it was changed"), "{args:?}: {}", ran.err);
            assert!(!ran.out.contains("FORGED"), "{args:?}: {}", ran.out);
        }
    }
    offline.console_refuses(&["--archive", g], "it was changed");
    offline.console_refuses(
        &["--database-url", &db.url, "--archive", g],
        "it was changed",
    );

    // Forged with its chain recomputed too, hashes, last hash and trailer: consistent with
    // itself, so alone it verifies — but the database recorded another file for these
    // seqs, and the kept head is not on its chain.
    let rechained = dir.path().join("rechained.tdarchive");
    write_resealed(&rechained, &rechain(&pool, &changed).await);
    let r = rechained.to_str().unwrap();
    let alone = archive_audit::verify_chain(&archive_file::read(&rechained).unwrap());
    assert!(alone.intact(), "{alone:?}");
    for args in readers(r, &id, &[]) {
        let ran = offline.run(&args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.err);
        assert!(
            ran.err.contains("not checked against a database"),
            "{}",
            ran.err
        );
        let ran = offline.with_db(&db.url, &args);
        assert_eq!(ran.code, 5, "{args:?}: {}{}", ran.out, ran.err);
        assert!(
            ran.err.contains("the database recorded another file"),
            "{args:?}: {}",
            ran.err
        );
        assert!(!ran.out.contains("FORGED"), "{args:?}: {}", ran.out);
    }
    for args in readers(r, &id, &["--expect", &head]) {
        let ran = offline.run(&args);
        assert_eq!(ran.code, 5, "{args:?}: {}{}", ran.out, ran.err);
        assert!(ran.err.contains("kept head"), "{args:?}: {}", ran.err);
    }
    offline.console_refuses(
        &["--database-url", &db.url, "--archive", r],
        "the database recorded another file",
    );
    offline.console_refuses(&["--archive", r, "--expect", &head], "kept head");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_archive_at_a_time_and_every_refusal_exits_as_documented() {
    let (db, store, pool) = desk(1).await;
    let offline = Offline::new();
    let cut = monday("12:40:00");
    let cut_text = "2026-11-23T12:40:00Z";
    let all = decisions(&pool, monday("23:59:59"), true).await;
    let old = decisions(&pool, cut, true).await;
    assert!(!old.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let untouched = |what: &str| {
        let pool = pool.clone();
        let all = all.clone();
        let what = what.to_string();
        async move {
            assert_eq!(
                decisions(&pool, monday("23:59:59"), true).await,
                all,
                "{what} deleted decisions"
            );
        }
    };

    // FILE exists and is not an archive: CONFLICT, the file as it was.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes\n").unwrap();
    let ran = offline.with_db(
        &db.url,
        &[
            "archive",
            "--before",
            cut_text,
            "--to",
            notes.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, 5, "{}", ran.err);
    assert_eq!(ran.err.lines().count(), 1, "{}", ran.err);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    assert!(!archive_file::partial_path(&notes).exists());
    untouched("archiving to a file of notes").await;

    // --before in the future: INVALID_INPUT, nothing written.
    let future = dir.path().join("future.tdarchive");
    for before in ["2099-01-01", "2099-01-01T00:00:00Z"] {
        let ran = offline.with_db(
            &db.url,
            &[
                "archive",
                "--before",
                before,
                "--to",
                future.to_str().unwrap(),
            ],
        );
        assert_eq!(ran.code, 3, "{}", ran.err);
        assert!(ran.err.contains("in the future"), "{}", ran.err);
        assert!(!future.exists() && !archive_file::partial_path(&future).exists());
    }
    untouched("a cut in the future").await;
    // The store refuses it too, by the database's clock.
    let refused = archive::archive(
        &store,
        Utc::now() + Duration::hours(1),
        &future,
        5,
        &ops(),
        &quiet,
    )
    .await;
    assert!(
        matches!(refused, Err(archive::ArchiveError::Refused(_))),
        "{refused:?}"
    );

    // A directory that is not there: INVALID_INPUT. A file that is not there to read:
    // NOT_FOUND.
    let nowhere = dir.path().join("no/such/dir/a.tdarchive");
    let ran = offline.with_db(
        &db.url,
        &[
            "archive",
            "--before",
            cut_text,
            "--to",
            nowhere.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, 3, "{}", ran.err);
    untouched("archiving into a missing directory").await;
    for args in readers(nowhere.to_str().unwrap(), "0", &[]) {
        let ran = offline.run(&args);
        assert_eq!(ran.code, 4, "{args:?}: {}", ran.err);
    }
    // A file that is not an archive, read: CONFLICT.
    let ran = offline.run(&["timeline", "--archive", notes.to_str().unwrap()]);
    assert_eq!(ran.code, 5, "{}", ran.err);

    // Two archives at once. The first pauses with its file written, holding both locks.
    let file = dir.path().join("a.tdarchive");
    let f = file.to_str().unwrap();
    let mut first = Command::new(env!("CARGO_BIN_EXE_tradedesk"))
        .args([
            "--database-url",
            &db.url,
            "archive",
            "--before",
            cut_text,
            "--to",
            f,
        ])
        .env_remove("DATABASE_URL")
        .envs(offline.env())
        .env("TRADEDESK_ARCHIVE_PAUSE_AFTER", "sealed")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = BufReader::new(first.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("paused after sealed") {
        line.clear();
        assert!(
            said.read_line(&mut line).unwrap() > 0,
            "the first archive ended"
        );
    }
    // A second on the same database: refused, whatever its file.
    for to in [f, dir.path().join("b.tdarchive").to_str().unwrap()] {
        let ran = offline.with_db(&db.url, &["archive", "--before", cut_text, "--to", to]);
        assert_eq!(ran.code, 5, "{}", ran.err);
        assert!(
            ran.err.contains("another `tradedesk archive` is running"),
            "{}",
            ran.err
        );
    }
    assert!(!dir.path().join("b.tdarchive").exists());
    // One from another database into the same file: refused by the file's lock.
    let other = TestDb::new().await;
    tradedesk::store::setup::setup(&other.target(), false)
        .await
        .unwrap();
    let ran = offline.with_db(&other.url, &["archive", "--before", cut_text, "--to", f]);
    assert_eq!(ran.code, 5, "{}", ran.err);
    assert!(
        ran.err.contains("another tradedesk archive is writing"),
        "{}",
        ran.err
    );
    assert!(archive_file::partial_path(&file).exists() && !file.exists());
    untouched("the refused archives").await;

    // The first goes on, and finishes.
    use std::io::Write as _;
    first.stdin.take().unwrap().write_all(b"go on\n").unwrap();
    let status = first.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut said, &mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(decisions(&pool, cut, true).await.is_empty());
    nothing_lost(&pool, &all, &file).await;
    assert!(!archive_file::partial_path(&file).exists());
    let read = archive_file::read(&file).unwrap();
    let checked = archive_audit::check(&store, &read).await.unwrap();
    assert!(
        checked.checked() && checked.recorded.is_some(),
        "{checked:?}"
    );
    let verified = audit::verify(&store, &[]).await.unwrap();
    assert!(verified.iter().all(|v| v.intact()), "{verified:?}");
    // One record, for the one file.
    let records: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tradedesk.config_changes WHERE subject = 'archive'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(records, 1);
}

/// Migration 7's canonical text rebuilt from the file's JSON agrees with the database's for
/// text with quotes, backslashes, control characters and non-ASCII, NULLs, and numerics
/// with their scale: such rows verify from the file, and are checked against the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_with_escapes_nulls_and_scales_verify_from_the_file() {
    let (_db, store, pool) = common::ready().await;
    sqlx::query(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, operator,
                                       human_override)
         VALUES (gen_random_uuid(), now() - interval '3 days', NULL, 'ai_proposed',
                 'he said \"buy\" at 1.0850 \\ then' || chr(10) || 'a new line — ✓ ' || chr(1),
                 92.50, NULL, NULL, false),
                (gen_random_uuid(), now() - interval '2 days', 'EURUSD', 'ai_halted',
                 'tab' || chr(9) || 'and ünïcode', 0.000100, 'fail:x', 'ann@desk', true)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("escapes.tdarchive");
    let outcome = archive::archive(
        &store,
        Utc::now() - Duration::days(1),
        &file,
        5,
        &ops(),
        &quiet,
    )
    .await
    .unwrap();
    assert_eq!(outcome.decisions_deleted, 2);
    let read = archive_file::read(&file).unwrap();
    let alone = archive_audit::verify_chain(&read);
    assert!(alone.intact() && alone.rows == 2, "{alone:?}");
    let checked = archive_audit::check(&store, &read).await.unwrap();
    assert!(checked.checked(), "{checked:?}");
}
