//! The command line as a user runs it: the real binary, its output and exit status.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{TestDb, server_url, with_database};

fn tradedesk(config_home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tradedesk"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("TRADEDESK_CONFIG")
        .env("XDG_CONFIG_HOME", config_home);
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The test server's URL for `database`, with a password in it. Servers that trust the
/// connection ignore it; one that checks passwords gets the one DATABASE_URL holds.
fn url_with_password(database: &str) -> (String, String) {
    let mut url = url::Url::parse(&with_database(server_url(), database)).unwrap();
    if url.password().is_none() {
        if url.host_str().is_none_or(str::is_empty) {
            // A socket URL: give it a host so the password has a place.
            url.set_host(Some("localhost")).unwrap();
        }
        url.set_password(Some("hunter2-secret")).unwrap();
    }
    let password = url.password().unwrap().to_string();
    (url.to_string(), password)
}

#[test]
fn setup_reports_every_table_and_a_second_run_changes_nothing() {
    let db = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDb::new());
    let home = tempfile::tempdir().unwrap();
    let (url, password) = url_with_password(&db.name);

    let (ok, out, err) = run(&mut tradedesk(
        home.path(),
        &["--database-url", &url, "setup"],
    ));
    assert!(ok, "{err}");
    assert!(out.contains("migration 1 applied: phase1 schema"), "{out}");
    assert!(out.contains("risk_config: default limits written"), "{out}");
    let rows = |table: &str| -> Option<String> {
        out.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(table)).then(|| words.next().unwrap_or("").to_string())
        })
    };
    // The default limits written are the one change audited (migration 14).
    assert_eq!(
        rows("tradedesk.config_changes").as_deref(),
        Some("1"),
        "{out}"
    );
    for table in [
        "decision_history",
        "tradedesk.executions",
        "strategies",
        "trade_ideas",
        "users",
    ] {
        assert_eq!(rows(table).as_deref(), Some("0"), "{table} in:\n{out}");
    }
    assert_eq!(rows("risk_config").as_deref(), Some("1"), "{out}");
    assert!(out.contains(":***@"), "{out}");
    assert!(!out.contains(&password) && !err.contains(&password));

    let (ok, again, err) = run(&mut tradedesk(
        home.path(),
        &["--database-url", &url, "setup"],
    ));
    assert!(ok, "{err}");
    assert!(again.contains("migrations: up to date"), "{again}");
    assert!(
        again.contains("risk_config: present, left as it is"),
        "{again}"
    );
    assert!(
        again.ends_with("Ready; nothing needed changing.\n"),
        "{again}"
    );
}

#[test]
fn migrate_status_down_and_up() {
    let db = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDb::new());
    let home = tempfile::tempdir().unwrap();
    let url = db.url.clone();
    let migrate = |args: &[&str]| {
        let mut all = vec!["--database-url", url.as_str(), "migrate"];
        all.extend_from_slice(args);
        run(&mut tradedesk(home.path(), &all))
    };

    let (ok, out, _) = migrate(&["status"]);
    assert!(ok);
    assert!(
        out.contains("phase1 schema") && out.contains("pending"),
        "{out}"
    );

    let (ok, out, _) = migrate(&["up"]);
    assert!(ok);
    assert!(out.contains("Applied migration 1: phase1 schema"), "{out}");
    assert!(
        out.contains("Applied migration 2: operator and executions"),
        "{out}"
    );

    let (ok, out, _) = migrate(&["status"]);
    assert!(ok);
    assert!(!out.contains("pending"), "{out}");
    assert!(out.contains("never reverted"), "{out}");

    // What reverting drops is named before anything is reverted.
    let (ok, _, err) = migrate(&["down", "15"]);
    assert!(!ok);
    assert_eq!(
        err,
        "tradedesk: reverting 15 migrations would drop the database's audit of every change of \
         limits, strategies and roles (migration 14), the desk's logins, sessions and roles \
         (every active user becomes an admin) (migration 9), the audit's hash chain \
         (migration 7), the audit of changes (tradedesk.config_changes and its rows) \
         (migration 4), the database's last line of defence (append-only history, the halt's \
         guard) (migration 3), the orders handed to execution (tradedesk.executions and its \
         rows) (migration 2); nothing was reverted: if that is what you want, run it again \
         with --i-understand-this-drops change-audit,logins,audit-chain,config-changes,\
         defences,orders\n"
    );
    let (ok, _, err) = migrate(&["down", "15", "--i-understand-this-drops", "logins"]);
    assert!(!ok && err.contains("nothing was reverted"), "{err}");
    let (ok, out, _) = migrate(&[
        "down",
        "15",
        "--i-understand-this-drops",
        "change-audit,logins,audit-chain,config-changes,defences,orders",
    ]);
    assert!(ok);
    assert_eq!(
        out,
        "Reverted migration 16: short ids\n\
         Reverted migration 15: logins in the database\n\
         Reverted migration 14: every change audited\n\
         Reverted migration 13: orders by strategy\n\
         Reverted migration 12: platform conformance\nReverted migration 11: claimed orders\n\
         Reverted migration 10: decisions by idea\n\
         Reverted migration 9: logins and roles\nReverted migration 8: drawdown guard\n\
         Reverted migration 7: audit chain\nReverted migration 6: positions and simulations\n\
         Reverted migration 5: audit truncate and fixed search path\n\
         Reverted migration 4: config changes\nReverted migration 3: last line of defence\n\
         Reverted migration 2: operator and executions\n"
    );

    let (ok, _, err) = migrate(&["down", "1"]);
    assert!(!ok);
    assert_eq!(
        err,
        "tradedesk: only 0 tradedesk migrations are applied above the Phase-1 schema, which \
         tradedesk never drops; nothing was reverted\n"
    );

    let (ok, out, _) = migrate(&["up"]);
    assert!(ok);
    assert_eq!(
        out,
        "Applied migration 2: operator and executions\nApplied migration 3: last line of defence\n\
         Applied migration 4: config changes\nApplied migration 5: audit truncate and fixed search path\n\
         Applied migration 6: positions and simulations\nApplied migration 7: audit chain\n\
         Applied migration 8: drawdown guard\nApplied migration 9: logins and roles\n\
         Applied migration 10: decisions by idea\nApplied migration 11: claimed orders\n\
         Applied migration 12: platform conformance\nApplied migration 13: orders by strategy\n\
         Applied migration 14: every change audited\n\
         Applied migration 15: logins in the database\n\
         Applied migration 16: short ids\n"
    );
    let (ok, out, _) = migrate(&["up"]);
    assert!(ok);
    assert_eq!(out, "Schema up to date.\n");
}

#[test]
fn a_missing_database_is_one_sentence_and_is_not_created() {
    let home = tempfile::tempdir().unwrap();
    let name = format!("tdtest_absent_{}", uuid::Uuid::new_v4().simple());
    let url = with_database(server_url(), &name);
    let (ok, out, err) = run(&mut tradedesk(
        home.path(),
        &["--database-url", &url, "setup"],
    ));
    assert!(!ok);
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("tradedesk: database \"{name}\" does not exist")),
        "{err}"
    );
    assert!(err.contains("`tradedesk setup --create-db`"), "{err}");
    // Still missing.
    let (ok, _, err) = run(&mut tradedesk(
        home.path(),
        &["--database-url", &url, "migrate", "status"],
    ));
    assert!(!ok);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn the_flag_beats_the_environment_which_beats_config_toml() {
    let db = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDb::new());
    let home = tempfile::tempdir().unwrap();
    let config_dir = home.path().join("tradedesk");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!("database_url = \"{}\"\n", db.url),
    )
    .unwrap();
    let nowhere = "postgres://nobody:pw@127.0.0.1:1/ai_trader";
    let status = ["migrate", "status"];

    // config.toml alone.
    let (ok, out, err) = run(&mut tradedesk(home.path(), &status));
    assert!(ok, "{err}");
    assert!(out.contains(&db.name), "{out}");

    // DATABASE_URL beats config.toml.
    let (ok, _, err) = run(tradedesk(home.path(), &status).env("DATABASE_URL", nowhere));
    assert!(!ok);
    assert!(err.contains("127.0.0.1:1"), "{err}");

    // --database-url beats DATABASE_URL.
    let mut args = vec!["--database-url", db.url.as_str()];
    args.extend_from_slice(&status);
    let (ok, out, err) = run(tradedesk(home.path(), &args).env("DATABASE_URL", nowhere));
    assert!(ok, "{err}");
    assert!(out.contains(&db.name), "{out}");

    // A broken config.toml is named, with its line, and its contents are not echoed.
    std::fs::write(
        config_dir.join("config.toml"),
        "database_url = \"postgres://u:TopSecret@h/db\"\ndatabase_ulr = 1\n",
    )
    .unwrap();
    let (ok, _, err) = run(&mut tradedesk(home.path(), &status));
    assert!(!ok);
    assert!(err.contains("config.toml is not valid: line 2"), "{err}");
    assert!(!err.contains("TopSecret"), "{err}");
}

#[test]
fn help_says_which_database_and_the_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let (ok, out, _) = run(&mut tradedesk(home.path(), &["--help"]));
    assert!(ok);
    for needle in [
        "setup",
        "migrate",
        "db",
        "--database-url",
        "DATABASE_URL",
        "config.toml",
        "Exit status",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
    let (ok, out, _) = run(&mut tradedesk(home.path(), &["migrate", "down", "--help"]));
    assert!(ok);
    assert!(out.contains("Phase-1 schema is never reverted"), "{out}");
}

#[test]
fn setup_says_what_it_moved_out_of_public_in_text_and_json() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let home = tempfile::tempdir().unwrap();
    let expected = "table executions (0 rows), type executionstate, \
                    function tradedesk_guard_auto_execution(), \
                    function tradedesk_refuse_history_change(), \
                    function tradedesk_keep_cancelled(), function tradedesk_notify_change(), \
                    table config_changes (0 rows), table _sqlx_migrations (4 rows)";

    let db = runtime.block_on(TestDb::new());
    runtime.block_on(common::set_up_with_everything_in_public(&db));
    let (ok, out, err) = run(&mut tradedesk(
        home.path(),
        &["--database-url", &db.url, "setup"],
    ));
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "  schema tradedesk: moved tradedesk's own objects out of public, every row kept: \
             {expected}\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("migration 5 applied: audit truncate and fixed search path"),
        "{out}"
    );

    let db = runtime.block_on(TestDb::new());
    runtime.block_on(common::set_up_with_everything_in_public(&db));
    let (ok, out, err) = run(&mut tradedesk(
        home.path(),
        &["--json", "--database-url", &db.url, "migrate", "up"],
    ));
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let moved = report["moved"].as_array().unwrap();
    assert_eq!(moved.len(), 8, "{out}");
    assert_eq!(
        moved[0],
        serde_json::json!({"kind": "table", "name": "executions", "rows": 0})
    );
    assert_eq!(
        moved[2],
        serde_json::json!({"kind": "function", "name": "tradedesk_guard_auto_execution()", "rows": null})
    );
    let (ok, out, err) = run(&mut tradedesk(
        home.path(),
        &["--json", "--database-url", &db.url, "setup"],
    ));
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["migrations"]["moved"],
        serde_json::json!([]),
        "{out}"
    );
}

#[test]
fn setup_and_migrate_speak_json_too() {
    let db = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDb::new());
    let home = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&mut tradedesk(
        home.path(),
        &["--json", "--database-url", &db.url, "setup"],
    ));
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["database"], db.name);
    assert_eq!(report["risk_config_written"], true);
    assert_eq!(report["migrations"]["applied"][0][1], "phase1 schema");
    let (ok, out, _) = run(&mut tradedesk(
        home.path(),
        &["--json", "--database-url", &db.url, "migrate", "status"],
    ));
    assert!(ok);
    let states: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        states
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["applied_on"].is_null()),
        "{out}"
    );
    let (ok, out, _) = run(&mut tradedesk(
        home.path(),
        &[
            "--json",
            "--database-url",
            "postgres://u:pw@127.0.0.1:1/x",
            "migrate",
            "status",
        ],
    ));
    assert!(!ok);
    let error: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(error["error"]["code"], "DATABASE");
    assert!(!out.contains(":pw@"), "{out}");
}

/// A command line that could reach no database and has a broken config.toml: only what
/// needs neither (completions, the man page) can succeed under it.
fn nowhere(home: &Path, args: &[&str]) -> Command {
    let config_dir = home.join("tradedesk");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.toml"), "not toml at all = = =\n").unwrap();
    let mut cmd = tradedesk(home, args);
    cmd.env("DATABASE_URL", "postgres://nobody:pw@127.0.0.1:1/ai_trader")
        .env("TRADEDESK_PG_DIR", home.join("no-cluster-here"));
    cmd
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish_without_a_database() {
    let home = tempfile::tempdir().unwrap();
    let (ok, bash, err) = run(&mut nowhere(home.path(), &["completions", "bash"]));
    assert!(ok, "{err}");
    assert!(bash.contains("tradedesk"), "{bash}");
    for subcommand in ["ideas", "strategies", "timeline", "completions", "man"] {
        assert!(
            bash.contains(subcommand),
            "{subcommand} missing from:\n{bash}"
        );
    }
    assert!(!home.path().join("no-cluster-here").exists());

    let (ok, zsh, err) = run(&mut nowhere(home.path(), &["completions", "zsh"]));
    assert!(ok, "{err}");
    assert!(zsh.starts_with("#compdef tradedesk"), "{zsh}");

    let (ok, fish, err) = run(&mut nowhere(home.path(), &["completions", "fish"]));
    assert!(ok, "{err}");
    assert!(fish.contains("complete -c tradedesk"), "{fish}");

    // Only the shells it knows, refused by the parser (exit 2) with the choices.
    let output = nowhere(home.path(), &["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("bash, zsh, fish"), "{err}");
}

#[test]
fn the_man_page_is_roff_for_the_whole_command_without_a_database() {
    let home = tempfile::tempdir().unwrap();
    let (ok, page, err) = run(&mut nowhere(home.path(), &["man"]));
    assert!(ok, "{err}");
    // roff's own preamble (`.ie`/`.el`, defining the apostrophe string) comes before the
    // title; the first request after it is the page's title.
    let title = page
        .lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "));
    assert!(
        title.is_some_and(|t| t.starts_with(".TH tradedesk 1")),
        "{page}"
    );
    for needle in [
        ".SH NAME",
        ".SH SYNOPSIS",
        "ideas",
        "strategies",
        "Exit status",
    ] {
        assert!(page.contains(needle), "{needle} missing from:\n{page}");
    }
}

#[test]
fn help_names_completions_and_the_man_page() {
    let home = tempfile::tempdir().unwrap();
    let (ok, out, _) = run(&mut tradedesk(home.path(), &["--help"]));
    assert!(ok);
    assert!(out.contains("completions"), "{out}");
    assert!(out.contains("man "), "{out}");
    let (ok, out, _) = run(&mut tradedesk(home.path(), &["completions", "--help"]));
    assert!(ok);
    assert!(out.contains("[possible values: bash, zsh, fish]"), "{out}");
    assert!(out.contains("no database is needed"), "{out}");
}
