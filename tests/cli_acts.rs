//! Every act and query of the scriptable CLI, run as a user runs it: the real binary,
//! its output, its error sentences and its exit status.

mod common;

use common::cli::{Cli, json};
use common::platform::{STRATEGY, insert_idea};

#[tokio::test]
async fn status_halt_and_resume() {
    let cli = Cli::new().await;
    let r = cli.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.starts_with("AI TRADING: OFF — no reason recorded\n"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("Today     P/L +0.00 of target 2000.00 · drawdown 0.00 of limit 1000.00"),
        "{}",
        r.out
    );

    let r = cli.run(&["resume", "--note", "open"]);
    assert_eq!((r.code, r.out.as_str()), (0, "AI TRADING: ON\n"));
    let r = cli.run(&["resume"]);
    assert_eq!(r.out, "AI trading was already on; nothing changed.\n");
    let status = json(&cli.run(&["--json", "status"]).out);
    assert_eq!(status["ai_trading_enabled"], true);

    let r = cli.run(&["halt", "--reason", "CPI in 5 minutes"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        r.out,
        "AI TRADING: OFF — CPI in 5 minutes\nStopped 0 waiting ideas; cancelled 0 pending orders.\n"
    );
    let halted = json(&cli.run(&["--json", "halt"]).out);
    assert_eq!(halted["already_halted"], true);
    assert_eq!(halted["halt_reason"], "CPI in 5 minutes");

    let timeline = cli.run(&["timeline"]);
    let lines: Vec<&str> = timeline.out.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two rows: {}", timeline.out);
    assert!(
        lines[0].starts_with("ID")
            && lines[0].contains("TIME (UTC)")
            && lines[0].contains("RATIONALE"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("ai_halted") && lines[1].contains("CPI in 5 minutes"),
        "{}",
        lines[1]
    );
    // Each row starts with its decision's short id (the id's ending), which `replay` takes.
    let newest: String = sqlx::query_scalar(
        "SELECT id::text FROM decision_history ORDER BY occurred_at DESC LIMIT 1",
    )
    .fetch_one(&cli.db.pool().await)
    .await
    .unwrap();
    let short = lines[1].split_whitespace().next().unwrap();
    assert!(
        newest.replace('-', "").ends_with(short),
        "{short} of {newest}"
    );
    assert!(lines[2].contains("ai_resumed"), "{}", lines[2]);
    // Who acted: user@host.
    assert!(
        lines[1].split_whitespace().any(|w| w.contains('@')),
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn ideas_list_show_approve_and_reject_with_their_errors() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let first = insert_idea(&pool, "needs_approval").await.unwrap();
    let second = insert_idea(&pool, "needs_approval").await.unwrap();
    insert_idea(&pool, "rejected").await.unwrap();

    let list = cli.run(&["ideas", "list"]);
    assert_eq!(list.code, 0);
    let rows: Vec<&str> = list.out.lines().collect();
    assert_eq!(rows.len(), 4, "{}", list.out);
    assert!(rows[0].starts_with("ID"));
    assert!(rows[1].contains("needs_approval") && rows[2].contains("needs_approval"));
    assert!(rows[3].contains("rejected"));
    assert!(
        rows[1].contains("London breakout") && rows[1].contains("1.50"),
        "R:R 1.50 in {}",
        rows[1]
    );
    let only = json(
        &cli.run(&["--json", "ideas", "list", "--status", "rejected"])
            .out,
    );
    assert_eq!(only.as_array().unwrap().len(), 1);
    let r = cli.run(&["ideas", "list", "--status", "pending"]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .starts_with("tradedesk: `pending` is not an idea status"),
        "{}",
        r.err
    );

    let show = cli.run(&["ideas", "show", &first[..8]]);
    assert_eq!(show.code, 0);
    assert!(
        show.out.contains(&format!("Idea       {first}")),
        "{}",
        show.out
    );

    // Bad value, bad id: one sentence each, nothing written.
    let r = cli.run(&["ideas", "approve", &first, "--lot", "abc"]);
    assert_eq!(
        (r.code, r.err.as_str()),
        (
            3,
            "tradedesk: lot size `abc` is not a number such as 0.50\n"
        )
    );
    let r = cli.run(&["ideas", "approve", "ffffffff-0000", "--lot", "0.10"]);
    assert_eq!(
        (r.code, r.err.as_str()),
        (4, "tradedesk: no trade idea matches ffffffff-0000\n")
    );
    let r = cli.run(&["--json", "ideas", "approve", "zz", "--lot", "0.10"]);
    assert_eq!(r.code, 3);
    assert_eq!(json(&r.out)["error"]["code"], "INVALID_INPUT");

    // A look before the leap: the verdict, nothing written.
    let r = cli.run(&["ideas", "check", &second, "--lot", "0.75"]);
    assert_eq!(r.code, 6, "{}", r.out);
    assert!(r.out.contains("would be REFUSED"), "{}", r.out);
    assert!(
        r.out
            .lines()
            .any(|l| l.split_whitespace().take(2).eq(["FAIL", "lot_size"])),
        "{}",
        r.out
    );
    let r = cli.run(&["--json", "ideas", "check", &second]);
    assert_eq!(r.code, 0, "the default lot passes: {}", r.out);
    assert_eq!(
        json(&r.out)["lot"],
        "0.50",
        "the lot as NUMERIC(10,2) stores it"
    );
    assert_eq!(json(&r.out)["would_pass"], true);

    let r = cli.run(&["ideas", "approve", &first[..8], "--lot", "0.20"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.starts_with(&format!(
            "Approved idea {} with lot 0.20: order ",
            &first[first.len() - 8..]
        )),
        "{}",
        r.out
    );
    // Already decided: who and when.
    let r = cli.run(&["ideas", "reject", &first, "--reason", "late"]);
    assert_eq!(r.code, 5);
    assert!(
        r.err.contains("was already decided: approved by "),
        "{}",
        r.err
    );

    // Above the strategy's cap: blocked, every failing rule named, idea rejected.
    let r = cli.run(&["ideas", "approve", &second, "--lot", "0.75"]);
    assert_eq!(r.code, 6, "{}", r.out);
    assert!(
        r.out
            .starts_with("Blocked: the risk checks refused lot 0.75"),
        "{}",
        r.out
    );
    assert!(r.out.contains("  lot_size — "), "{}", r.out);
    assert_eq!(r.err, "tradedesk: approval blocked: fail:lot_size\n");

    let third = insert_idea(&pool, "needs_approval").await.unwrap();
    let r = cli.run(&[
        "--json",
        "ideas",
        "reject",
        &third,
        "--reason",
        "spread too wide",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(json(&r.out)["status"], "rejected");
    // Input is checked before the database is asked anything.
    let r = cli.run(&["ideas", "reject", &third, "--reason", ""]);
    assert_eq!(
        (r.code, r.err.as_str()),
        (3, "tradedesk: a rejection needs a reason (--reason TEXT)\n")
    );
}

#[tokio::test]
async fn risk_show_and_set() {
    let cli = Cli::new().await;
    let r = cli.run(&["risk", "show"]);
    assert!(
        r.out.contains("max_lot_size                   1.00"),
        "{}",
        r.out
    );
    // The set-up's creation of the limits is the first change the database audited.
    assert!(
        r.out.contains("\nLast changed by ")
            && r.out.contains(" (tradedesk setup) at ")
            && r.out.ends_with(": created\n"),
        "{}",
        r.out
    );

    let r = cli.run(&["risk", "set", "max_lot_size=0.505", "max_lot_sise=1"]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("max_lot_size holds at most 2 decimal places (got 0.505)"),
        "{}",
        r.err
    );
    assert!(
        r.err.contains("there is no risk setting \"max_lot_sise\""),
        "{}",
        r.err
    );
    let r = cli.run(&["risk", "set", "max_concurrent_trades=0"]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("max_concurrent_trades must be between 1 and"),
        "{}",
        r.err
    );

    let r = cli.run(&["risk", "set", "max_lot_size=0.50", "halt_on_drawdown=false"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.contains("max_lot_size                   0.50"),
        "{}",
        r.out
    );
    let shown = json(&cli.run(&["--json", "risk", "show"]).out);
    assert_eq!(shown["max_lot_size"], "0.50");
    assert_eq!(shown["halt_on_drawdown"], false);
    assert_eq!(
        shown["last_change"]["changes"],
        "max_lot_size=0.50 halt_on_drawdown=false"
    );

    // An edit that changes nothing writes nothing, not even an audit row.
    let pool = cli.db.pool().await;
    let audited = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM tradedesk.config_changes")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = audited(pool.clone()).await;
    let r = cli.run(&["risk", "set", "max_lot_size=+0.5", "halt_on_drawdown=false"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(audited(pool).await, before);
}

#[tokio::test]
async fn strategies_export_import_toggle_and_delete() {
    let cli = Cli::new().await;
    let exported = cli.run(&["strategies", "export"]);
    assert_eq!(exported.code, 0, "{}", exported.err);
    let doc = json(&exported.out);
    assert_eq!(doc["strategies"][0]["id"], STRATEGY);

    // A copy under a new name and no id is created, disabled.
    let mut copy = doc["strategies"][0].clone();
    copy.as_object_mut().unwrap().remove("id");
    copy.as_object_mut().unwrap().remove("is_active");
    copy["name"] = "Copy".into();
    let file = cli.home.path().join("copy.json");
    std::fs::write(&file, copy.to_string()).unwrap();
    let r = cli.run(&["strategies", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.starts_with("Created strategy \"Copy\" ("),
        "{}",
        r.out
    );
    let list = cli.run(&["strategies", "list"]);
    assert!(
        list.out
            .lines()
            .any(|l| l.contains("disabled") && l.contains("Copy")),
        "{}",
        list.out
    );

    // Re-importing the export changes nothing, and audits nothing.
    std::fs::write(&file, &exported.out).unwrap();
    let r = cli.run(&["strategies", "import", file.to_str().unwrap()]);
    assert_eq!(
        r.out,
        format!(
            "Unchanged strategy \"London breakout\" ({})\n",
            &STRATEGY[STRATEGY.len() - 8..]
        )
    );
    assert_eq!(
        json(&cli.run(&["strategies", "export", &STRATEGY[..6]]).out),
        doc
    );

    // A malformed rule set: every problem with its path, nothing imported.
    let mut bad = doc["strategies"][0].clone();
    bad["session_windows"][0]["start"] = "7am".into();
    bad["risk_caps"]["max_lot_size"] = (-1).into();
    bad["colour"] = "red".into();
    std::fs::write(&file, serde_json::json!([bad]).to_string()).unwrap();
    let r = cli.run(&["strategies", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .starts_with("tradedesk: nothing was imported: [0].colour: unknown field"),
        "{}",
        r.err
    );
    assert!(r.err.contains("[0].session_windows[0].start"), "{}", r.err);
    assert!(r.err.contains("[0].risk_caps.max_lot_size"), "{}", r.err);

    let r = cli.run(&["strategies", "disable", &STRATEGY[..8]]);
    assert_eq!(r.out, "Strategy \"London breakout\" disabled.\n");
    let r = cli.run(&["strategies", "disable", &STRATEGY[..8]]);
    assert_eq!(
        r.out,
        "Strategy \"London breakout\" was already disabled.\n"
    );
    let r = cli.run(&["strategies", "enable", &STRATEGY[..8]]);
    assert_eq!(r.out, "Strategy \"London breakout\" enabled.\n");

    // Referenced by an idea: refused, with what to do instead.
    let pool = cli.db.pool().await;
    insert_idea(&pool, "rejected").await.unwrap();
    let r = cli.run(&["strategies", "delete", &STRATEGY[..8]]);
    assert_eq!(r.code, 5);
    assert!(
        r.err
            .contains("disable it instead (`tradedesk strategies disable 0d9e8f70`)"),
        "{}",
        r.err
    );
    let copy_id = json(&cli.run(&["--json", "strategies", "list"]).out)
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Copy")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .unwrap();
    let r = cli.run(&["strategies", "delete", &copy_id]);
    assert_eq!(r.code, 0, "{}", r.err);
    let r = cli.run(&["strategies", "show", &copy_id]);
    assert_eq!(r.code, 4);
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tradedesk.config_changes WHERE subject = 'strategy'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        audits, 5,
        "the test's strategy inserted by SQL, copy created, disabled, enabled, copy deleted \
         (the unchanged re-import wrote none)"
    );
}

#[tokio::test]
async fn the_timeline_pages_filters_and_exports() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    for _ in 0..3 {
        let id = insert_idea(&pool, "needs_approval").await.unwrap();
        let r = cli.run(&["ideas", "reject", &id, "--reason", "too, \"risky\""]);
        assert_eq!(r.code, 0, "{}", r.err);
    }
    // A page of nothing is refused, not read as one row.
    for args in [
        &["timeline", "--limit", "0"][..],
        &["ideas", "list", "--limit", "0"],
    ] {
        let r = cli.run(args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.out);
        assert_eq!(r.err, "tradedesk: --limit must be at least 1 (got 0)\n");
    }
    let page = cli.run(&["timeline", "--limit", "2"]);
    let lines: Vec<&str> = page.out.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "a header, two rows, the cursor: {}",
        page.out
    );
    let cursor = lines[3].strip_prefix("… more: --after ").unwrap();
    let rest = cli.run(&["timeline", "--limit", "2", "--after", cursor]);
    assert_eq!(
        rest.out.lines().count(),
        2,
        "a header and one row: {}",
        rest.out
    );

    let csv = cli.run(&["timeline", "--csv", "--action", "human_rejected"]);
    let lines: Vec<&str> = csv.out.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("occurred_at,action,symbol,operator"));
    assert!(
        lines[1].contains(",\"too, \"\"risky\"\"\","),
        "{}",
        lines[1]
    );

    let r = cli.run(&["--json", "timeline", "--since", "1h", "--symbol", "eurusd"]);
    assert_eq!(json(&r.out)["decisions"].as_array().unwrap().len(), 3);
    let r = cli.run(&["timeline", "--since", "last week"]);
    assert_eq!(r.code, 3);
    assert!(
        r.err.starts_with("tradedesk: `last week` is not a time"),
        "{}",
        r.err
    );
    let r = cli.run(&["timeline", "--after", "nonsense"]);
    assert_eq!(r.code, 3);
}
