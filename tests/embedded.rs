//! The embedded PostgreSQL: first start, reuse, stop, and concurrent starts, each in a
//! temporary directory of its own.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::{Connection as _, PgConnection};
use tempfile::TempDir;
use tradedesk::store::embedded::{Cluster, Ensured, Error};

/// A temporary directory for a cluster; stops the server (if any) before it is removed.
struct Scratch {
    dir: TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("tradedesk-cluster-")
            .tempdir()
            .unwrap();
        // Run as root, the server runs as `postgres`, which must be able to enter.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        Scratch { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("pg")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = Cluster::new(self.root()).stop();
    }
}

fn tradedesk(root: &Path, scratch: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tradedesk"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("TRADEDESK_CONFIG")
        // Keep the user's own config.toml out of the test.
        .env("XDG_CONFIG_HOME", scratch.join("config"))
        .env("TRADEDESK_PG_DIR", root);
    cmd
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn first_start_creates_a_private_cluster_that_is_reused_stopped_and_restarted() {
    let scratch = Scratch::new();
    let cluster = Cluster::new(scratch.root());
    let status = cluster.status().unwrap();
    assert!(!status.initialized);
    assert_eq!(status.pid, None);

    let first = cluster.ensure_running().unwrap();
    assert_eq!(
        first,
        Ensured {
            initialized: true,
            started: true
        }
    );
    let running = cluster.status().unwrap();
    let pid = running.pid.expect("the server runs");
    assert!(running.major.is_some());

    // Reachable over its socket only, by the user who owns the directory.
    let mut conn = PgConnection::connect_with(&cluster.connect_options("postgres"))
        .await
        .unwrap();
    let listen: String = sqlx::query_scalar("SHOW listen_addresses")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(listen, "");
    let socket_dirs: String = sqlx::query_scalar("SHOW unix_socket_directories")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(PathBuf::from(socket_dirs), cluster.socket_dir());
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(fsync, "on", "a user's cluster is durable");
    conn.close().await.unwrap();
    for dir in [
        cluster.root().to_path_buf(),
        cluster.socket_dir(),
        cluster.data_dir(),
    ] {
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", dir.display());
    }

    // A second caller reuses the running server.
    let again = cluster.ensure_running().unwrap();
    assert_eq!(
        again,
        Ensured {
            initialized: false,
            started: false
        }
    );
    assert_eq!(cluster.status().unwrap().pid, Some(pid));

    assert!(cluster.stop().unwrap());
    assert_eq!(cluster.status().unwrap().pid, None);
    assert!(
        !cluster.stop().unwrap(),
        "stopping a stopped server is harmless"
    );

    let restarted = cluster.ensure_running().unwrap();
    assert_eq!(
        restarted,
        Ensured {
            initialized: false,
            started: true
        }
    );
}

#[test]
fn concurrent_setups_create_one_cluster_and_one_database() {
    let scratch = Scratch::new();
    let root = scratch.root();
    let children: Vec<_> = (0..3)
        .map(|_| {
            tradedesk(&root, scratch.dir.path(), &["setup"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<String> = children
        .into_iter()
        .map(|child| stdout(&child.wait_with_output().unwrap()))
        .collect();
    let created = outputs
        .iter()
        .filter(|o| o.contains("embedded PostgreSQL: created and started"))
        .count();
    assert_eq!(created, 1, "{outputs:#?}");
    let reused = outputs
        .iter()
        .filter(|o| o.contains("embedded PostgreSQL: already running"))
        .count();
    assert_eq!(reused, 2, "{outputs:#?}");
    for out in &outputs {
        assert!(out.contains("risk_config"), "{out}");
    }
    // Exactly one default risk row, whoever wrote it.
    let written = outputs
        .iter()
        .filter(|o| o.contains("risk_config: default limits written"))
        .count();
    assert_eq!(written, 1, "{outputs:#?}");

    let status = stdout(
        &tradedesk(&root, scratch.dir.path(), &["migrate", "status"])
            .output()
            .unwrap(),
    );
    assert!(!status.contains("pending"), "{status}");
    let db = stdout(
        &tradedesk(&root, scratch.dir.path(), &["db", "status"])
            .output()
            .unwrap(),
    );
    assert!(db.contains("running, PID"), "{db}");
    assert!(db.contains("psql \"postgresql:///ai_trader?host="), "{db}");

    let stop = stdout(
        &tradedesk(&root, scratch.dir.path(), &["db", "stop"])
            .output()
            .unwrap(),
    );
    assert!(stop.contains("stopped"), "{stop}");
    let db = stdout(
        &tradedesk(&root, scratch.dir.path(), &["db", "status"])
            .output()
            .unwrap(),
    );
    assert!(db.contains("stopped"), "{db}");
}

#[test]
fn a_cluster_of_another_postgres_version_is_named_not_touched() {
    let scratch = Scratch::new();
    let data = scratch.root().join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("PG_VERSION"), "9\n").unwrap();
    let err = Cluster::new(scratch.root()).ensure_running().unwrap_err();
    assert!(
        matches!(
            err,
            Error::VersionMismatch {
                cluster_major: 9,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("made by PostgreSQL 9"), "{err}");
    assert_eq!(
        fs::read_dir(&data).unwrap().count(),
        1,
        "nothing was written"
    );
}
