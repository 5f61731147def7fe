//! How fast the console shows what happens, measured as an operator sees it: the release
//! binary in a pseudo-terminal, its output read through a terminal emulator (vt100), the
//! moment of each frame taken when its bytes arrive.
//!
//! `cargo bench --bench console` seeds a scratch database with the demo desk and measures,
//! at 80×24 and at 160×48, BENCH_ROUNDS times each (default 30):
//! - the kill switch: Enter on its dialog → halt committed → header drawn OFF;
//! - another writer's commit (a decision row inserted by plain SQL) → the row drawn;
//! - start → the first frame showing data (an idea awaiting approval);
//!
//! and, between the console's rounds on a connection of its own, the floor: the platform's
//! halt as bare SQL. A last pass at 80×24 logs the console's statements (sqlx's own
//! timings) and prints each of the halt's next to the bare halt's.
//!
//! It prints p50, p99 and max of each next to its goal; it asserts nothing.

mod support;

use std::io::{Read as _, Write as _};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use sqlx::{Connection as _, PgConnection};
use support::{drop_db, ms, percentile, scratch, summary};
use tradedesk::store::Store;

const DATABASE: &str = "tradedesk_bench_console";
const WAIT: Duration = Duration::from_secs(10);

/// Text to wait for, and where to say when it appeared.
struct Watch {
    needle: String,
    seen: Sender<Instant>,
}

/// The console in a pseudo-terminal of `cols`×`rows`.
struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    watches: Arc<Mutex<Vec<Watch>>>,
    writer: Arc<Mutex<Box<dyn std::io::Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    _home: tempfile::TempDir,
}

impl Console {
    /// Starts the console; `first` is watched from the first byte.
    /// `logged`: the console logs every statement with its time (sqlx's `elapsed`).
    fn start(
        url: &str,
        cols: u16,
        rows: u16,
        first: &str,
        logged: bool,
    ) -> (Console, Receiver<Instant>) {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let home = tempfile::tempdir().expect("a home");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tradedesk"));
        cmd.args(["--database-url", url]);
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        cmd.env_remove("DATABASE_URL");
        cmd.env(
            "TRADEDESK_LOG",
            if logged {
                "info,sqlx::query=debug"
            } else {
                "info,sqlx=warn"
            },
        );
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).expect("rows"),
            std::num::NonZeroU16::new(cols).expect("cols"),
            0,
        )));
        let watches = Arc::new(Mutex::new(Vec::new()));
        let (tx, first_seen) = channel();
        watches.lock().expect("watches").push(Watch {
            needle: first.to_owned(),
            seen: tx,
        });
        let mut reader = pty.master.try_clone_reader().expect("a reader");
        let writer = Arc::new(Mutex::new(pty.master.take_writer().expect("a writer")));
        let child = pty.slave.spawn_command(cmd).expect("start tradedesk");
        {
            let (screen, watches, answer) = (screen.clone(), watches.clone(), writer.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let now = Instant::now();
                    let chunk = &buf[..n];
                    let mut screen = screen.lock().expect("screen");
                    if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                        let (row, col) = screen.screen().cursor_position();
                        let mut answer = answer.lock().expect("writer");
                        let _ = write!(answer, "\x1b[{};{}R", row + 1, col + 1);
                        let _ = answer.flush();
                    }
                    screen.process(chunk);
                    let text = screen.screen().contents();
                    watches.lock().expect("watches").retain(|w| {
                        if text.contains(&w.needle) {
                            let _ = w.seen.send(now);
                            false
                        } else {
                            true
                        }
                    });
                }
            });
        }
        (
            Console {
                screen,
                watches,
                writer,
                child,
                _master: pty.master,
                _home: home,
            },
            first_seen,
        )
    }

    /// When `needle` next shows (if it shows now, the next frame that has it).
    fn watch(&self, needle: &str) -> Receiver<Instant> {
        let (tx, rx) = channel();
        self.watches.lock().expect("watches").push(Watch {
            needle: needle.to_owned(),
            seen: tx,
        });
        rx
    }

    fn shows(&self, needle: &str) -> bool {
        self.screen
            .lock()
            .expect("screen")
            .screen()
            .contents()
            .contains(needle)
    }

    /// Waits until `needle` is on screen.
    fn wait_for(&self, needle: &str) {
        let start = Instant::now();
        while !self.shows(needle) {
            assert!(start.elapsed() < WAIT, "`{needle}` never appeared");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The console's log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self._home.path().join("state/tradedesk/tradedesk.log"))
            .unwrap_or_default()
    }

    fn keys(&mut self, keys: &str) {
        let mut writer = self.writer.lock().expect("writer");
        writer.write_all(keys.as_bytes()).expect("keys");
        writer.flush().expect("flush");
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn since(t0: Instant, seen: &Receiver<Instant>) -> Duration {
    seen.recv_timeout(WAIT).expect("it was drawn") - t0
}

/// The platform's halt as bare SQL (docs/platform.md §3), timed on the bench's own
/// connection: the floor the kill switch is judged against.
const BARE_HALT: [&str; 2] = [
    "UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = 'bench floor',
                            updated_at = now()
      WHERE id",
    "INSERT INTO decision_history (id, occurred_at, action, rationale, risk_check_result,
                                   human_override, operator)
     VALUES (gen_random_uuid(), clock_timestamp(), 'ai_halted', 'bench floor',
             'fail:manual_halt', true, 'bench')",
];

/// The statements of tradedesk's halt as its log names them, in order (the lock, the
/// sweep, the orders, the switch, the row, the commit).
const HALT_STATEMENTS: [(&str, &str); 6] = [
    (
        "SELECT ai_trading_enabled, last_halt_reason",
        "lock the switch",
    ),
    ("UPDATE trade_ideas SET status", "sweep waiting ideas"),
    ("WITH pulled AS", "cancel unsent orders"),
    (
        "UPDATE risk_config SET ai_trading_enabled",
        "UPDATE risk_config",
    ),
    ("INSERT INTO decision_history", "INSERT decision_history"),
    ("COMMIT", "COMMIT"),
];

/// AI trading back on, by plain SQL (not timed).
async fn ai_on(sql: &mut PgConnection) {
    sqlx::query("UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL")
        .execute(sql)
        .await
        .expect("AI on");
}

/// One bare halt: its whole time, and each statement's (BEGIN, UPDATE, INSERT, COMMIT).
async fn bare_halt(sql: &mut PgConnection) -> (Duration, [Duration; 4]) {
    let t0 = Instant::now();
    let mut each = [Duration::ZERO; 4];
    let t = Instant::now();
    sqlx::query("BEGIN")
        .execute(&mut *sql)
        .await
        .expect("begin");
    each[0] = t.elapsed();
    for (n, statement) in BARE_HALT.iter().enumerate() {
        let t = Instant::now();
        sqlx::query(statement)
            .execute(&mut *sql)
            .await
            .expect("a statement of the bare halt");
        each[n + 1] = t.elapsed();
    }
    let t = Instant::now();
    sqlx::query("COMMIT")
        .execute(&mut *sql)
        .await
        .expect("commit");
    each[3] = t.elapsed();
    (t0.elapsed(), each)
}

/// Each halt statement's `elapsed` as the console's own log (sqlx's) gives it.
fn halt_statements_logged(log: &str) -> Vec<Vec<Duration>> {
    let mut found = vec![Vec::new(); HALT_STATEMENTS.len()];
    let mut next = None;
    for line in log.lines().filter(|l| l.contains("sqlx::query")) {
        let Some(summary) = line.split("summary=\"").nth(1) else {
            continue;
        };
        let Some(elapsed) = line
            .split(" elapsed_secs=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse::<f64>().ok())
        else {
            continue;
        };
        let index = HALT_STATEMENTS
            .iter()
            .position(|(start, _)| summary.starts_with(start));
        // Only the halt's own run of statements, from its lock to its commit.
        next = match (index, next) {
            (Some(0), _) => Some(0),
            (Some(i), Some(expected)) if i == expected => Some(i),
            _ => None,
        };
        if let Some(i) = next {
            found[i].push(Duration::from_secs_f64(elapsed));
            next = Some(i + 1);
        }
    }
    found
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let (mut admin, url, target) = scratch(DATABASE).await;
    let store = Store::open(&target, 2).await.expect("open");
    store.seed_demo().await.expect("seed").expect("seeded");
    store.pool().close().await;
    let mut sql = PgConnection::connect(&url).await.expect("connect");

    println!(
        "{rounds} rounds each; the console in a pseudo-terminal, its frames read as they arrive;\n\
         the floor: the platform's halt as bare SQL (UPDATE risk_config, INSERT its ai_halted \
         row, COMMIT) on one connection, between the console's rounds"
    );
    for (cols, rows) in [(80u16, 24u16), (160, 48)] {
        let (mut start, mut write, mut kill, mut floor) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let t0 = Instant::now();
            let (mut console, first) = Console::start(&url, cols, rows, "PENDING", false);
            start.push(since(t0, &first));
            console.wait_for("● LIVE");
            if cols < 120 {
                console.keys("4");
                console.wait_for("TIME (UTC)");
            }
            // Another writer's decision row.
            let marker = format!("#{round:03}w");
            let seen = console.watch(&marker);
            let t0 = Instant::now();
            sqlx::query(
                "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale)
                 VALUES (gen_random_uuid(), clock_timestamp(), 'EURUSD', 'ai_proposed', $1)",
            )
            .bind(&marker)
            .execute(&mut sql)
            .await
            .expect("insert a decision");
            write.push(since(t0, &seen));
            // The kill switch, on a system the AI trades.
            ai_on(&mut sql).await;
            console.wait_for("AI TRADING: ON");
            console.keys("K");
            console.wait_for("KILL SWITCH");
            let off = console.watch("AI TRADING: OFF");
            let t0 = Instant::now();
            console.keys("\r");
            kill.push(since(t0, &off));
            drop(console);
            // The floor, in the same conditions.
            ai_on(&mut sql).await;
            floor.push(bare_halt(&mut sql).await.0);
        }
        kill.sort();
        floor.sort();
        let goal = percentile(&floor, 99) + Duration::from_millis(4);
        println!("{cols}×{rows}");
        println!(
            "  kill switch: Enter → committed → drawn OFF   {}   (goal p99 ≤ floor p99 + 4 ms = {:.2} ms: {})",
            summary(&mut kill),
            ms(goal),
            if percentile(&kill, 99) <= goal {
                "met"
            } else {
                "NOT met"
            }
        );
        println!(
            "  floor: the bare halt transaction             {}",
            summary(&mut floor)
        );
        println!(
            "  another writer's commit → drawn              {}   (goal p99 ≤ 30 ms)",
            summary(&mut write)
        );
        println!(
            "  start → first frame with data                {}   (goal p99 ≤ 40 ms)",
            summary(&mut start)
        );
    }

    // The halt's statements one by one, from the console's own log (a pass of its own, so
    // that logging never weighs on the figures above), beside the bare ones.
    let mut logged = vec![Vec::new(); HALT_STATEMENTS.len()];
    let mut bare = vec![Vec::new(); 4];
    for _ in 0..rounds {
        let (mut console, first) = Console::start(&url, 80, 24, "PENDING", true);
        since(Instant::now(), &first);
        ai_on(&mut sql).await;
        console.wait_for("AI TRADING: ON");
        console.keys("K");
        console.wait_for("KILL SWITCH");
        let off = console.watch("AI TRADING: OFF");
        console.keys("\r");
        since(Instant::now(), &off);
        let log = console.log();
        drop(console);
        for (all, one) in logged.iter_mut().zip(halt_statements_logged(&log)) {
            all.extend(one);
        }
        ai_on(&mut sql).await;
        for (all, one) in bare.iter_mut().zip(bare_halt(&mut sql).await.1) {
            all.push(one);
        }
    }
    let p50 = |samples: &mut Vec<Duration>| {
        samples.sort();
        ms(percentile(samples, 50))
    };
    println!("the halt's statements in the console (its log, p50) beside the bare halt's (p50):");
    for ((_, name), samples) in HALT_STATEMENTS.iter().zip(&mut logged) {
        let ours = p50(samples);
        let bare = match *name {
            "UPDATE risk_config" => Some(p50(&mut bare[1])),
            "INSERT decision_history" => Some(p50(&mut bare[2])),
            "COMMIT" => Some(p50(&mut bare[3])),
            _ => None,
        };
        let floor = bare.map_or(String::new(), |bare| {
            format!(
                "   bare {bare:>6.3} ms: {:.2}× (goal ≤ 2×: {})",
                ours / bare,
                if ours <= 2.0 * bare { "met" } else { "NOT met" }
            )
        });
        println!(
            "  {name:<24} {ours:>6.3} ms (max {:.3} ms, {} seen){floor}",
            samples.last().map_or(0.0, |d| ms(*d)),
            samples.len()
        );
    }
    sql.close().await.ok();
    drop_db(&mut admin, DATABASE).await;
}
