//! How fast the console shows what happens, measured as an operator sees it: the release
//! binary in a pseudo-terminal, its output read through a terminal emulator (vt100), the
//! moment of each frame taken when its bytes arrive.
//!
//! `cargo bench --bench console` seeds a scratch database with the demo desk and measures,
//! at 80×24 and at 160×48, BENCH_ROUNDS times each (default 30):
//! - the kill switch: Enter on its dialog → halt committed → header drawn OFF;
//! - another writer's commit (a decision row inserted by plain SQL) → the row drawn;
//! - start → the first frame showing data (an idea awaiting approval).
//!
//! It prints p50, p99 and max of each next to its goal; it asserts nothing.

mod support;

use std::io::{Read as _, Write as _};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use sqlx::{Connection as _, PgConnection};
use support::{drop_db, scratch, summary};
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
    fn start(url: &str, cols: u16, rows: u16, first: &str) -> (Console, Receiver<Instant>) {
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
        "{rounds} rounds each; the console in a pseudo-terminal, its frames read as they arrive"
    );
    for (cols, rows) in [(80u16, 24u16), (160, 48)] {
        let (mut start, mut write, mut kill) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let t0 = Instant::now();
            let (mut console, first) = Console::start(&url, cols, rows, "PENDING");
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
            sqlx::query(
                "UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL",
            )
            .execute(&mut sql)
            .await
            .expect("AI on");
            console.wait_for("AI TRADING: ON");
            console.keys("K");
            console.wait_for("KILL SWITCH");
            let off = console.watch("AI TRADING: OFF");
            let t0 = Instant::now();
            console.keys("\r");
            kill.push(since(t0, &off));
        }
        println!("{cols}×{rows}");
        println!(
            "  kill switch: Enter → committed → drawn OFF   {}   (goal p99 ≤ 15 ms)",
            summary(&mut kill)
        );
        println!(
            "  another writer's commit → drawn           {}   (goal p99 ≤ 30 ms)",
            summary(&mut write)
        );
        println!(
            "  start → first frame with data             {}   (goal p99 ≤ 100 ms)",
            summary(&mut start)
        );
    }
    sql.close().await.ok();
    drop_db(&mut admin, DATABASE).await;
}
