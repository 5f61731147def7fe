//! The real binary run as a user runs it, against a database of the test's own.

use std::path::Path;
use std::process::Command;

use super::TestDb;
use super::platform::{insert_account, insert_strategy};
use tradedesk::store::setup::setup;

pub struct Cli {
    pub db: TestDb,
    pub home: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Cli {
    /// A set-up database holding the London breakout strategy and one account snapshot.
    pub async fn new() -> Cli {
        let db = TestDb::new().await;
        setup(&db.target(), false).await.unwrap();
        let pool = db.pool().await;
        insert_strategy(&pool).await;
        insert_account(&pool, "10000.00", 0).await;
        Cli {
            db,
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.home.path(), args)
    }

    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        self.run_with(dir, args, "")
    }

    /// Runs with `input` on standard input (a pipe, not a terminal).
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        self.run_with(self.home.path(), args, input)
    }

    fn run_with(&self, dir: &Path, args: &[&str], input: &str) -> Run {
        use std::io::Write as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_tradedesk"))
            .arg("--database-url")
            .arg(&self.db.url)
            .args(args)
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(input.as_bytes());
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&output.stdout).into_owned(),
            err: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
