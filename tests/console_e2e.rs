//! The console end to end: the real binary in a pseudo-terminal against real PostgreSQL,
//! read through a terminal emulator (vt100), driven by keystrokes.

mod common;

use std::time::{Duration, Instant};

use common::TestDb;
use common::console::Console;
use sqlx::PgPool;
use tradedesk::store::Store;
use tradedesk::store::setup::setup;

async fn demo_db() -> (TestDb, PgPool) {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let store = Store::open(&db.target(), 2).await.unwrap();
    store.seed_demo().await.unwrap().expect("seeded");
    let pool = db.pool().await;
    (db, pool)
}

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn approve_reject_halt_and_resume_with_the_keyboard_at_80x24() {
    let (db, pool) = demo_db().await;
    let mut console = Console::start(&db.url);
    console.wait_for("4 awaiting approval");
    // The demo's story ends with ann's resume after US CPI.
    console.wait_for("AI TRADING: ON");

    // Approve the oldest pending idea the risk checks pass now, with the default lot (the
    // strategies' sessions depend on the hour; the demo keeps two approvable at any hour).
    let mut passes = false;
    for _ in 0..4 {
        console.keys("a");
        let start = Instant::now();
        let screen = loop {
            let text = console.text();
            if text.contains("PASSES the risk checks") || text.contains("REFUSED") {
                break text;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "{text}");
            std::thread::sleep(Duration::from_millis(50));
        };
        if screen.contains("PASSES the risk checks") {
            passes = true;
            break;
        }
        // Esc alone, then j (together they read as Alt+j).
        console.keys("\x1b");
        console.keys("j");
    }
    assert!(passes, "no pending idea passes now: {}", console.text());
    console.keys("\r");
    console.wait_for("EXECUTED");
    console.keys("\r");
    console.wait_for("3 awaiting approval");
    assert_eq!(scalar(&pool, "SELECT count(*) FROM decision_history WHERE action = 'human_approved' AND operator LIKE '%@%' AND occurred_at > now() - interval '1 minute'").await, 1);
    assert_eq!(
        scalar(
            &pool,
            "SELECT count(*) FROM tradedesk.executions WHERE state = 'pending'"
        )
        .await,
        1
    );

    // Reject the next one with a reason.
    console.keys("r");
    console.wait_for("REJECT");
    console.keys("spread too wide\r");
    console.wait_for("2 awaiting approval");
    assert_eq!(scalar(&pool, "SELECT count(*) FROM decision_history WHERE action = 'human_rejected' AND rationale = 'spread too wide'").await, 1);

    // Pull the kill switch, then resume (its own key and confirmation).
    console.keys("K");
    console.wait_for("KILL SWITCH");
    console.keys("lunch\r");
    let screen = console.wait_for("AI TRADING: OFF — lunch");
    assert!(!screen.contains("HALTING"), "{screen}");
    assert_eq!(scalar(&pool, "SELECT count(*) FROM decision_history WHERE action = 'ai_halted' AND rationale LIKE 'lunch%' AND operator IS NOT NULL").await, 1);
    // The halt pulled the order approved above.
    assert_eq!(
        scalar(
            &pool,
            "SELECT count(*) FROM tradedesk.executions WHERE state = 'cancelled'"
        )
        .await,
        1
    );
    console.keys("R");
    console.wait_for("RESUME AI TRADING");
    console.keys("y");
    console.wait_for("AI TRADING: ON");

    // The timeline shows each of this console's acts with its operator, live.
    console.keys("4");
    let operator = tradedesk::operator::Operator::from_os().to_string();
    let shown: String = operator.chars().take(14).collect();
    let start = Instant::now();
    let mine = loop {
        let screen = console.text();
        let mine: Vec<String> = screen
            .lines()
            .filter(|l| l.starts_with("│") && l.contains(&shown))
            .map(str::to_string)
            .collect();
        if mine.len() >= 4 || start.elapsed() > Duration::from_secs(10) {
            break mine;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Newest first: the resume, the halt (its one row names the pulled order), the
    // rejection, the approval (the cursor follows the newest row, marked ▶).
    let actions: Vec<String> = mine
        .iter()
        .filter_map(|l| {
            l.replace('▶', " ")
                .split_whitespace()
                .nth(3)
                .map(str::to_string)
        })
        .collect();
    assert_eq!(
        actions,
        [
            "ai_resumed",
            "ai_halted",
            "human_rejected",
            "human_approved"
        ],
        "{mine:#?}"
    );
    console.keys("q");
    let start = Instant::now();
    while console.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(5), "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    let raw = console.raw.lock().unwrap().clone();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(64)..]).into_owned();
    assert!(
        tail.contains("\u{1b}[?1049l"),
        "the alternate screen was left: {tail:?}"
    );
    // Logs went to a file in the state directory, not to the screen.
    let log = std::fs::read_to_string(console.home.path().join("state/tradedesk/tradedesk.log"))
        .expect("a log file");
    assert!(log.contains("console starting"), "{log}");
    assert!(!String::from_utf8_lossy(&raw).contains("console starting"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_act_in_one_console_appears_in_another() {
    let (db, _pool) = demo_db().await;
    let mut first = Console::start(&db.url);
    let second = Console::start(&db.url);
    first.wait_for("4 awaiting approval");
    second.wait_for("4 awaiting approval");
    first.keys("r");
    first.wait_for("REJECT");
    first.keys("not today\r");
    second.wait_for("3 awaiting approval");
    // The platform writes too: its change appears without any key.
    sqlx::query("UPDATE risk_config SET max_lot_size = 0.75")
        .execute(&db.pool().await)
        .await
        .unwrap();
    let mut second = second;
    second.keys("1");
    second.wait_for("0.75");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_switch_pulled_while_disconnected_is_armed_and_commits_once_on_reconnection() {
    let (db, pool) = demo_db().await;
    // The AI trades: the halt will have something to switch off.
    sqlx::query("UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL")
        .execute(&pool)
        .await
        .unwrap();
    let mut console = Console::start(&db.url);
    console.wait_for("● LIVE");
    // Everything read once, so there is data to keep showing.
    console.wait_for("4 awaiting approval");
    console.wait_for("AI TRADING: ON");
    // Cut the console off: no new connections, and the open ones terminated.
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(common::server_url())
        .await
        .unwrap();
    let allow = |yes: bool| {
        format!(
            "ALTER DATABASE \"{}\" WITH ALLOW_CONNECTIONS {yes}",
            db.name
        )
    };
    sqlx::query(&allow(false)).execute(&admin).await.unwrap();
    pool.close().await;
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(&db.name)
        .execute(&admin)
        .await
        .unwrap();
    let screen = console.wait_for("DISCONNECTED");
    assert!(screen.contains("STALE"), "{screen}");
    assert!(
        screen.contains("PENDING"),
        "the last data stays visible:\n{screen}"
    );
    // An approval is refused, never queued.
    console.keys("a");
    console.wait_for("not connected to the database: approval was not sent");
    // The kill switch is armed, and says so.
    console.keys("K");
    console.wait_for("KILL SWITCH");
    console.keys("feed frozen\r");
    let screen = console.wait_for("HALT PENDING — not confirmed");
    assert!(screen.contains("halt armed"), "{screen}");

    sqlx::query(&allow(true)).execute(&admin).await.unwrap();
    let screen = console.wait_for("AI TRADING: OFF — feed frozen");
    assert!(!screen.contains("HALT PENDING"), "{screen}");
    console.wait_for("● LIVE");
    assert!(!console.text().contains("STALE"));
    let pool = db.pool().await;
    assert_eq!(
        scalar(
            &pool,
            "SELECT count(*) FROM decision_history WHERE action = 'ai_halted'
                AND rationale = 'feed frozen' AND operator IS NOT NULL"
        )
        .await,
        1,
        "committed once"
    );
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM decision_history WHERE action = 'human_approved' AND occurred_at > now() - interval '1 minute'").await,
        0,
        "the refused approval was never sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_and_sighup_restore_the_terminal() {
    let (db, _pool) = demo_db().await;
    for signal in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGHUP,
    ] {
        let mut console = Console::start(&db.url);
        console.wait_for("● LIVE");
        let pid = console.child.process_id().expect("a pid");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).unwrap();
        let start = Instant::now();
        while console.child.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{signal} did not end the console"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let raw = console.raw.lock().unwrap().clone();
        let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(64)..]).into_owned();
        assert!(tail.contains("\u{1b}[?1049l"), "{signal}: {tail:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn strategy_rules_are_edited_in_the_editor_until_they_are_valid() {
    let (db, pool) = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("opened");
    let editor = dir.path().join("editor.sh");
    // First opening: break the rules. Second: note what the file says at the top, fix them.
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nset -e\nif [ ! -f '{log}' ]; then\n  echo first > '{log}'\n  sed -i 's/\"start\": \"06:00Z\"/\"start\": \"6am\"/' \"$1\"\nelse\n  grep '^//' \"$1\" >> '{log}'\n  sed -i 's/\"start\": \"6am\"/\"start\": \"05:30Z\"/' \"$1\"\nfi\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let mut console = Console::start_with(&db.url, &[("EDITOR", editor.display().to_string())]);
    console.wait_for("● LIVE");
    console.keys("2");
    console.wait_for("Gold momentum");
    // The strategies are listed by name: Gold momentum first.
    console.keys("e");
    console.wait_for("rules of \"Gold momentum\" saved");
    let opened = std::fs::read_to_string(&log).unwrap();
    assert!(opened.starts_with("first\n"), "{opened}");
    assert!(opened.contains("The rules were not saved"), "{opened}");
    assert!(
        opened.contains("session_windows[0].start"),
        "the error is at the top:\n{opened}"
    );
    let start: String = sqlx::query_scalar(
        "SELECT session_windows->0->>'start' FROM strategies WHERE name = 'Gold momentum'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(start, "05:30Z");
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tradedesk.config_changes
          WHERE subject = 'strategy' AND subject_name = 'Gold momentum' AND change <> 'created'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audits, 1, "one save, after the rules were valid");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_platform_strategy_saved_unchanged_from_the_editor_writes_nothing() {
    let (db, pool) = demo_db().await;
    // As the platform's Python writes it: json.dumps spacing, its own key order.
    sqlx::raw_sql(
        r#"INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                  entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                  rr_expectation, created_at, updated_at)
           VALUES ('5b1f0c8e-2d7a-4c41-9e3b-6a0d8f2c4e11', 'A platform strategy', true, '{XAUUSD}',
                   '[{"start": "07:00Z", "end": "11:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}]',
                   '{"trend_alignment": "bullish", "rsi_below": 40, "price_rejects_level": true}',
                   '{"stop_loss": "recent_swing_low - 50 cents", "take_profit": ["RR>=2", "key_resistance_zone"]}',
                   '{"block_high_impact_news_minutes": 5, "blocked_symbols_during_news": ["USD", "GBP"]}',
                   '{"max_lot_size": 1.0, "max_concurrent_positions": 2}', 2.0, now(), now())"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let documents = "SELECT session_windows::text || entry_conditions::text || exit_rules::text
                            || forbidden_conditions::text || risk_caps::text
                       FROM strategies WHERE name = 'A platform strategy'";
    let before: String = sqlx::query_scalar(documents)
        .fetch_one(&pool)
        .await
        .unwrap();

    // The editor saves the file with its indentation changed and nothing else.
    let dir = tempfile::tempdir().unwrap();
    let editor = dir.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/^  /    /' \"$1\"\n").unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut console = Console::start_with(&db.url, &[("EDITOR", editor.display().to_string())]);
    console.wait_for("● LIVE");
    console.keys("2");
    console.wait_for("A platform strategy");
    // Listed by name: "A platform strategy" is first.
    console.keys("e");
    console.wait_for("rules of \"A platform strategy\" unchanged: nothing was written");

    let after: String = sqlx::query_scalar(documents)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, before, "byte for byte");
    assert_eq!(
        scalar(
            &pool,
            "SELECT count(*) FROM tradedesk.config_changes
              WHERE subject_name = 'A platform strategy' AND change <> 'created'"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_followed_timeline_shows_every_row_another_writer_adds() {
    let (db, pool) = demo_db().await;
    let mut console = Console::start(&db.url);
    console.wait_for("● LIVE");
    console.keys("4");
    console.wait_for("TIME (UTC)");
    // Two screenfuls of rows, one at a time, each visible at the top when it lands.
    let markers: Vec<String> = (0..30).map(|n| format!("#f{n:02}")).collect();
    let mut seen = std::collections::HashSet::new();
    for marker in &markers {
        sqlx::query(
            "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale)
             VALUES (gen_random_uuid(), clock_timestamp(), 'EURUSD', 'ai_proposed', $1)",
        )
        .bind(marker)
        .execute(&pool)
        .await
        .unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(60) {
            let screen = console.text();
            seen.extend(
                markers
                    .iter()
                    .filter(|m| screen.contains(m.as_str()))
                    .cloned(),
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let start = Instant::now();
    while seen.len() < markers.len() && start.elapsed() < Duration::from_secs(5) {
        let screen = console.text();
        seen.extend(
            markers
                .iter()
                .filter(|m| screen.contains(m.as_str()))
                .cloned(),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let missed: Vec<_> = markers.iter().filter(|m| !seen.contains(*m)).collect();
    assert!(missed.is_empty(), "never shown: {missed:?}");
    // The newest is on top, under the cursor.
    let screen = console.text();
    assert!(
        screen
            .lines()
            .any(|l| l.contains("▶") && l.contains("#f29")),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idea_awaiting_approval_rings_the_bell_and_notifies_the_desktop() {
    let (db, pool) = demo_db().await;
    let console = Console::start(&db.url);
    console.wait_for("4 awaiting approval");
    let strategy: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM strategies WHERE name = 'Round-the-clock FX'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let before = console.raw.lock().unwrap().len();
    let start = Instant::now();
    sqlx::query(
        "INSERT INTO trade_ideas (id, symbol, direction, entry_price, stop_loss, take_profit,
                                  expected_hold, rationale, confidence_score, status, strategy_id,
                                  snapshot_ref, created_at, updated_at)
         VALUES (gen_random_uuid(), 'AUDUSD', 'buy', 0.6618, 0.6602, '{0.6642}', 'scalp_30m',
                 'Bounce off the weekly low', 88.50, 'needs_approval', $1, gen_random_uuid(),
                 now(), now())",
    )
    .bind(strategy)
    .execute(&pool)
    .await
    .unwrap();
    console.wait_for("5 awaiting approval");
    let raw = loop {
        let raw = String::from_utf8_lossy(&console.raw.lock().unwrap()[before..]).into_owned();
        if raw.contains("\u{1b}]777;") || start.elapsed() > Duration::from_secs(5) {
            break raw;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(start.elapsed() < Duration::from_secs(5), "within 5 seconds");
    assert!(raw.contains('\u{7}'), "the bell");
    assert!(
        raw.contains("\u{1b}]9;Idea awaiting approval: AUDUSD buy (88.50%)\u{7}"),
        "OSC 9: {raw:?}"
    );
    assert!(
        raw.contains("\u{1b}]777;notify;Idea awaiting approval;AUDUSD buy (88.50%)\u{7}"),
        "OSC 777: {raw:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_keeps_to_a_few_connections_and_closes_them_when_it_quits() {
    let (db, pool) = demo_db().await;
    let mut console = Console::start(&db.url);
    console.wait_for("4 awaiting approval");
    let connections = "SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND application_name = 'tradedesk'";
    let open = scalar(&pool, connections).await;
    // The listener, three for the panes' reads and two for the acts (store::acts).
    assert!(
        (1..=6).contains(&open),
        "the listener and at most five more: {open}"
    );
    console.keys("q");
    let start = Instant::now();
    while console.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(5), "q did not quit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(scalar(&pool, connections).await, 0, "all closed");
}

/// The console on a database of its own, in a temporary directory; its server is stopped
/// when the test ends.
struct OwnCluster {
    dir: tempfile::TempDir,
}

impl OwnCluster {
    fn new() -> OwnCluster {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::Builder::new()
            .prefix("tradedesk-demo-")
            .tempdir()
            .unwrap();
        // Run as root, the server runs as `postgres`, which must be able to enter.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        OwnCluster { dir }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![(
            "TRADEDESK_PG_DIR",
            self.dir.path().join("pg").display().to_string(),
        )]
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = tradedesk::store::embedded::Cluster::new(self.dir.path().join("pg")).stop();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn on_its_own_database_the_console_runs_a_living_demo_and_never_on_another() {
    let cluster = OwnCluster::new();
    let mut console = Console::spawn(&[], &cluster.env());
    // Setting up a new cluster takes a while.
    let start = Instant::now();
    while !console.text().contains("● LIVE") {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{}",
            console.text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let screen = console.wait_for("DEMO");
    assert!(screen.lines().next().unwrap().contains("DEMO"), "{screen}");
    // The account is captured every five seconds: the header's time moves.
    let as_of = |screen: &str| {
        screen
            .lines()
            .find_map(|l| l.split("as of ").nth(1).map(|t| t.trim().to_string()))
    };
    // From the first time shown (under load the first screen may have none yet: the
    // seeded desk's capture then appears first, which is no sign of the simulation).
    let start = Instant::now();
    let mut first = as_of(&screen);
    while first.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no account shown: {}",
            console.text()
        );
        std::thread::sleep(Duration::from_millis(200));
        first = as_of(&console.text());
    }
    let start = Instant::now();
    loop {
        let now = as_of(&console.text());
        if now.is_some() && now != first {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the account never moved: {first:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    console.keys("q");
    let start = Instant::now();
    while console.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(5), "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The simulated platform wrote as the platform would, and stopped with the console.
    let url =
        tradedesk::store::embedded::Cluster::new(cluster.dir.path().join("pg")).url("ai_trader");
    let pool = PgPool::connect(&url).await.unwrap();
    let runs = scalar(
        &pool,
        "SELECT count(*) FROM tradedesk.simulations WHERE kind = 'simulate'",
    )
    .await;
    assert_eq!(runs, 1);
    let live = scalar(
        &pool,
        "SELECT count(*) FROM snapshot_account
          WHERE captured_at >= (SELECT simulated_from FROM tradedesk.simulations WHERE kind = 'simulate')",
    )
    .await;
    assert!(live >= 1, "{live}");
    let before = scalar(&pool, "SELECT count(*) FROM snapshot_account").await;
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM snapshot_account").await,
        before
    );
    pool.close().await;

    // Another database is only shown.
    let (db, pool) = demo_db().await;
    let console = Console::start(&db.url);
    let screen = console.wait_for("● LIVE");
    assert!(!screen.contains("DEMO"), "{screen}");
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        scalar(
            &pool,
            "SELECT count(*) FROM tradedesk.simulations WHERE kind = 'simulate'"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_database_with_platform_users_the_console_asks_for_a_login_first() {
    let (db, pool) = demo_db().await;
    // A platform user as the platform writes one (passlib's bcrypt of "correct horse battery").
    sqlx::query(
        "INSERT INTO users (id, email, hashed_password, is_active, created_at, updated_at)
         VALUES (gen_random_uuid(), 'ann@desk.example',
                 '$2b$12$KTfM25A1wQG/W/axkmUpW.AIKCp2Fj0ksBTcoYvGtFFWh4wcDqhCS', true, now(), now())",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut console = Console::start(&db.url);
    console.wait_for("Email:");
    console.keys("ann@desk.example\r");
    console.wait_for("Password for ann@desk.example:");
    console.keys("wrong\r");
    console.wait_for("login refused");
    console.keys("ann@desk.example\r");
    console.wait_for("Password for");
    console.keys("correct horse battery\r");
    let screen = console.wait_for("● LIVE");
    assert!(screen.contains("ann@desk.example (admin)"), "{screen}");
    assert!(
        !screen.contains("correct horse"),
        "the password is never echoed"
    );
    // An act records the user.
    console.keys("K");
    console.wait_for("KILL SWITCH");
    console.keys("drill\r");
    console.wait_for("AI TRADING: OFF — drill");
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM decision_history WHERE rationale LIKE 'drill%' AND operator = 'ann@desk.example'").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_opened_without_a_login_pulls_the_kill_switch_whatever_the_lock_out() {
    let (db, pool) = demo_db().await;
    // A desk with a platform user, locked out by five failed logins just now.
    sqlx::raw_sql(
        "INSERT INTO users (id, email, hashed_password, is_active)
         VALUES ('5e5e5e5e-0000-4000-8000-000000000001', 'ann@desk.example',
                 '$2b$12$KTfM25A1wQG/W/axkmUpW.AIKCp2Fj0ksBTcoYvGtFFWh4wcDqhCS', true);
         INSERT INTO tradedesk.login_failures (id, email, host)
         SELECT gen_random_uuid(), 'ann@desk.example', 'elsewhere' FROM generate_series(1, 5);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut console = Console::start(&db.url);
    console.wait_for("Email:");
    // An empty email opens it without a login.
    console.keys("\r");
    console.wait_for("(not logged in)");
    console.wait_for("AI TRADING: ON");
    console.keys("K");
    console.wait_for("KILL SWITCH");
    console.keys("closing\r");
    console.wait_for("AI TRADING: OFF — closing");
    let by: String = sqlx::query_scalar(
        "SELECT operator FROM decision_history
          WHERE action = 'ai_halted' AND rationale LIKE 'closing%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(by.ends_with(" (not logged in)") && by.contains('@'), "{by}");
}
