//! Text from the database and the keyboard never reaches a terminal as itself (issue 19):
//! hostile strings written with raw SQL, as the platform or anyone with a connection
//! writes them, shown by every command of the real binary (text, `--json`, `--csv`) and by
//! the console in a pseudo-terminal; typed reasons and names holding them refused; and the
//! kill switch's keys kept, whatever config.toml says.

mod common;

use std::time::{Duration, Instant};

use common::cli::{Cli, Run, json};
use common::console::Console;
use sqlx::PgPool;
use uuid::Uuid;

/// What an attacker writes: an OSC 52 clipboard write, a window title, a screen clear, C1
/// CSI, a bidi override and isolate, a zero-width space, a byte-order mark and a carriage
/// return.
const HOSTILE: &str = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{2066}\u{200b}\u{feff}\r!";

/// `text` with [`HOSTILE`] after it.
fn evil(text: &str) -> String {
    format!("{text}{HOSTILE}")
}

/// A character that must never reach a terminal as itself, listed here on its own (not
/// from tradedesk's rule): C0 but the line break, DEL and C1, the bidi controls, the
/// zero-width and other invisible format characters, the line separators.
fn harmful(c: char) -> bool {
    (c < ' ' && c != '\n')
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// Asserts that `bytes` (what the binary wrote) hold nothing harmful.
fn assert_harmless(what: &str, bytes: &str) {
    if let Some(c) = bytes.chars().find(|c| harmful(*c)) {
        panic!(
            "{what}: U+{:04X} reached the terminal:\n{bytes:?}",
            u32::from(c)
        );
    }
}

/// Runs `args` and asserts that neither stream holds anything harmful.
fn run(cli: &Cli, args: &[&str]) -> Run {
    let r = cli.run(args);
    let what = args.join(" ");
    assert_harmless(&format!("{what} (stdout)"), &r.out);
    assert_harmless(&format!("{what} (stderr)"), &r.err);
    r
}

/// The ids of what [`hostile_desk`] wrote.
struct Written {
    strategy: Uuid,
    idea: Uuid,
    decision: Uuid,
}

/// Fills every text column a command or the console shows with [`HOSTILE`]: a strategy's
/// name, allowed symbols and a document's value; an idea's symbol, rationale (two lines)
/// and hold; a decision's symbol, operator, rationale and risk check; the halt reason; a
/// config change's operator and change; a headline, its source and symbols; a calendar
/// event's title and figures. One more idea is unreadable (a NaN entry), so its columns
/// are shown as stored.
async fn hostile_desk(pool: &PgPool, ai_on: bool) -> Written {
    let strategy = Uuid::new_v4();
    let idea = Uuid::new_v4();
    let decision = Uuid::new_v4();
    let snapshot = Uuid::new_v4();
    let symbol = evil("EURUSD");
    sqlx::query(
        "INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                 entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                 rr_expectation, created_at, updated_at)
         VALUES ($1, $2, true, ARRAY[$3, 'EURUSD'],
                 '[{\"start\": \"00:00Z\", \"end\": \"24:00Z\", \"days\": [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\", \"Sun\"]}]',
                 json_build_object('trend_alignment', $4::text, 'rsi_below', 40),
                 '{\"stop_loss\": \"swing_low - 5 pips\", \"take_profit\": \"RR>=2\"}',
                 '{\"block_high_impact_news_minutes\": 30}',
                 '{\"max_lot_size\": 0.5, \"max_concurrent_positions\": 2}', 2.50, now(), now())",
    )
    .bind(strategy)
    .bind(evil("London"))
    .bind(&symbol)
    .bind(evil("bullish"))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         VALUES ($1, 10000.00, 10000.00, 0, 10000.00, 0, 0, now() - interval '1 minute')",
    )
    .bind(snapshot)
    .execute(pool)
    .await
    .unwrap();
    for (id, entry) in [(idea, "1.085640"), (Uuid::new_v4(), "NaN")] {
        sqlx::query(
            "INSERT INTO trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss,
                                      take_profit, expected_hold, rationale, confidence_score,
                                      status, strategy_id, snapshot_ref, created_at, updated_at)
             VALUES ($1, $2, 'buy', $3::numeric, NULL, 1.084200, '{1.087800}', $4, $5, 93.00,
                     'needs_approval', $6, $7, now() - interval '1 minute', now())",
        )
        .bind(id)
        .bind(&symbol)
        .bind(entry)
        .bind(evil("scalp_30m"))
        .bind(format!("{}\n{}", evil("Breakout"), evil("second line")))
        .bind(strategy)
        .bind(snapshot)
        .execute(pool)
        .await
        .unwrap();
    }
    // The switch first: a database that records flips nobody recorded writes its row now,
    // and the idea's decision stays the newest (the timeline's first row).
    sqlx::query("UPDATE risk_config SET ai_trading_enabled = $1, last_halt_reason = $2")
        .bind(ai_on)
        .bind((!ai_on).then(|| evil("halted")))
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, confidence_score,
                                       risk_check_result, strategy_id, trade_idea_id, snapshot_ref,
                                       human_override, operator)
         VALUES ($1, now(), $2, 'ai_proposed', $3, 93.00, $4, $5, $6, $7, false, $8)",
    )
    .bind(decision)
    .bind(&symbol)
    .bind(format!("{}\n{}", evil("needs approval"), evil("why")))
    .bind(evil("fail:"))
    .bind(strategy)
    .bind(idea)
    .bind(snapshot)
    .bind(evil("op"))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, change)
         VALUES (gen_random_uuid(), now(), $1, 'risk_config', $2)",
    )
    .bind(evil("raj"))
    .bind(evil("max_lot_size=0.50"))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO snapshot_news (id, headline, source, symbols, published_at, captured_at)
         VALUES (gen_random_uuid(), $1, $2, '{}', now() - interval '30 minutes', now() - interval '30 minutes'),
                (gen_random_uuid(), $1, $2, ARRAY[$3], now() - interval '20 minutes', now() - interval '20 minutes')",
    )
    .bind(evil("Headline"))
    .bind(evil("wire"))
    .bind(&symbol)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO snapshot_calendar (id, event_time, currency, impact_level, title,
                                        previous_value, forecast_value, actual_value, captured_at)
         VALUES (gen_random_uuid(), now() + interval '2 hours', 'USD', 'high', $1, $2, $2, NULL,
                 now() - interval '1 hour')",
    )
    .bind(evil("CPI"))
    .bind(evil("0.2%"))
    .execute(pool)
    .await
    .unwrap();
    Written {
        strategy,
        idea,
        decision,
    }
}

/// Every string in `value`, anywhere in it.
fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The JSON a command printed decodes, and holds `original` exactly in one of its strings.
fn assert_exact_json(what: &str, r: &Run, original: &str) {
    let value = json(&r.out);
    let mut all = Vec::new();
    strings(&value, &mut all);
    assert!(
        all.iter().any(|s| s.contains(original)),
        "{what}: {original:?} is not in the decoded JSON:\n{}",
        r.out
    );
}

#[tokio::test]
async fn every_command_shows_hostile_text_escaped_and_its_json_decodes_to_the_original() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let w = hostile_desk(&pool, false).await;
    let (strategy, idea, decision) = (
        w.strategy.to_string(),
        w.idea.to_string(),
        w.decision.to_string(),
    );
    // The whole escape as a table cell or a line shows it.
    let shown = "\\u{1b}]52;c;ZXZpbA==\\u{7}\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}\\u{2066}\\u{200b}\\u{feff}\\u{d}!";

    // (arguments, a text that must be shown escaped, the original that --json decodes to)
    let commands: Vec<(Vec<&str>, String, String)> = vec![
        (vec!["status"], format!("halted{shown}"), evil("halted")),
        (
            vec!["ideas", "list"],
            format!("EURUSD{shown}"),
            evil("EURUSD"),
        ),
        (
            vec!["ideas", "show", &idea],
            format!("Breakout{shown}\n           second line{shown}"),
            format!("{}\n{}", evil("Breakout"), evil("second line")),
        ),
        (
            vec!["ideas", "check", &idea, "--lot", "0.10"],
            format!("EURUSD{shown}"),
            evil("London"),
        ),
        (vec!["timeline"], format!("op{shown}"), evil("op")),
        (
            vec!["replay", &decision],
            format!("Headline{shown}"),
            evil("Headline"),
        ),
        (
            vec!["strategies", "list"],
            format!("London{shown}"),
            evil("London"),
        ),
        (
            vec!["strategies", "show", &strategy],
            format!("London{shown}"),
            evil("London"),
        ),
        (vec!["risk", "show"], format!("raj{shown}"), evil("raj")),
    ];
    for (args, seen, original) in &commands {
        let what = args.join(" ");
        let text = run(&cli, args);
        assert!(
            text.out.contains(seen.as_str()),
            "{what}: `{seen}` is not shown:\n{}\n{}",
            text.out,
            text.err
        );
        let mut with_json = vec!["--json"];
        with_json.extend(args.iter().copied());
        let r = run(&cli, &with_json);
        assert_exact_json(&format!("--json {what}"), &r, original);
    }

    // Rows that cannot be read are shown as stored, escaped too.
    let r = run(&cli, &["ideas", "list"]);
    assert!(r.out.contains("cannot be read"), "{}", r.out);
    // The rationale's line break is a line of the block, under its first.
    let r = run(&cli, &["replay", &decision]);
    assert!(
        r.out.contains(&format!(
            "Rationale  Breakout{shown}\n           second line{shown}"
        )),
        "{}",
        r.out
    );
    assert!(r.out.contains(&format!("CPI{shown}")), "{}", r.out);
    assert!(r.out.contains(&format!("wire{shown}")), "{}", r.out);

    // CSV: each field's line break kept inside its quotes; every other hidden character
    // escaped; the document still reads as CSV.
    let r = run(&cli, &["timeline", "--csv"]);
    let mut reader = csv::Reader::from_reader(r.out.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(
        rows.iter().any(
            |row| &row[9] == format!("needs approval{shown}\nwhy{shown}").as_str()
                && &row[3] == format!("op{shown}").as_str()
        ),
        "{}",
        r.out
    );

    // Exports and heads are JSON too.
    let r = run(&cli, &["strategies", "export", &strategy]);
    assert_exact_json("strategies export", &r, &evil("London"));
    run(&cli, &["audit", "verify"]);
    run(&cli, &["--json", "audit", "verify"]);

    // An error quoting what was typed shows it escaped; as JSON, exactly.
    let typed = evil("cursor");
    let r = run(&cli, &["timeline", "--after", &typed]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(r.err.contains(&format!("cursor{shown}")), "{}", r.err);
    let r = run(&cli, &["--json", "timeline", "--after", &typed]);
    assert_eq!(r.code, 3);
    assert_eq!(
        json(&r.out)["error"]["message"]
            .as_str()
            .map(|m| m.contains(&typed)),
        Some(true),
        "{}",
        r.out
    );
}

/// Hashes of "correct horse battery" made by the platform's library (tests/auth.rs).
const PASSWORD: &str = "correct horse battery";
const HASH_2B: &str = "$2b$12$KTfM25A1wQG/W/axkmUpW.AIKCp2Fj0ksBTcoYvGtFFWh4wcDqhCS";

#[tokio::test]
async fn a_users_hostile_email_is_shown_escaped_at_login_and_in_the_users_list() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let email = evil("ann@desk.example");
    sqlx::query(
        "INSERT INTO users (id, email, hashed_password, is_active, created_at, updated_at)
         VALUES (gen_random_uuid(), $1, $2, true, now(), now())",
    )
    .bind(&email)
    .bind(HASH_2B)
    .execute(&pool)
    .await
    .unwrap();
    let r = cli.run_with_input(&["login", "--email", &email], &format!("{PASSWORD}\n"));
    assert_eq!(r.code, 0, "{}", r.err);
    assert_harmless("login", &r.out);
    assert_harmless("login (stderr)", &r.err);
    assert!(r.out.contains("ann@desk.example\\u{1b}]52"), "{}", r.out);
    let r = run(&cli, &["users", "list"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("ann@desk.example\\u{1b}]52"), "{}", r.out);
    let r = run(&cli, &["--json", "users", "list"]);
    assert_exact_json("--json users list", &r, &email);
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn typed_reasons_notes_and_names_holding_hidden_characters_are_refused_and_nothing_is_written()
 {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let idea = common::platform::insert_idea(&pool, "needs_approval")
        .await
        .unwrap();
    let decisions = || count(&pool, "SELECT count(*) FROM decision_history");
    let before = decisions().await;
    let switch = || async {
        sqlx::query_as::<_, (bool, Option<String>)>(
            "SELECT ai_trading_enabled, last_halt_reason FROM risk_config",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };

    // Resumed first, so a halt would have something to switch off.
    assert_eq!(cli.run(&["resume"]).code, 0);
    let before = before + 1;
    assert_eq!(decisions().await, before);
    for reason in [
        "lunch\u{202e}kaerb",
        "\u{1b}]0;pwned\u{7}",
        "two\nlines",
        "zero\u{200b}width",
        "c1 \u{9b}31m",
    ] {
        let r = run(&cli, &["halt", "--reason", reason]);
        assert_eq!(r.code, 3, "{reason:?}: {}", r.err);
        assert_eq!(r.out, "");
        assert_eq!(r.err.lines().count(), 1, "one sentence: {}", r.err);
        assert!(
            r.err.starts_with("tradedesk: the halt reason holds U+"),
            "{}",
            r.err
        );
        assert!(r.err.contains("AI trading was not halted"), "{}", r.err);
        assert_eq!(
            switch().await,
            (true, None),
            "{reason:?}: the switch stayed on"
        );
    }
    let r = run(&cli, &["--json", "halt", "--reason", "x\u{2066}y"]);
    assert_eq!(r.code, 3);
    assert_eq!(json(&r.out)["error"]["code"], "INVALID_INPUT");
    assert_eq!(decisions().await, before, "no halt was recorded");

    // The halt itself works, with a reason that is one plain line (kept trimmed).
    assert_eq!(cli.run(&["halt", "--reason", "  lunch\n"]).code, 0);
    assert_eq!(switch().await, (false, Some("lunch".to_string())));
    let before = before + 1;

    let r = run(&cli, &["resume", "--note", "back\u{feff}"]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        r.err
            .starts_with("tradedesk: the resume note holds U+FEFF (an invisible character)"),
        "{}",
        r.err
    );
    assert!(!switch().await.0, "AI trading stays off");

    let r = run(
        &cli,
        &["ideas", "reject", &idea, "--reason", "spread\rwide"],
    );
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        r.err
            .starts_with("tradedesk: the rejection's reason holds U+000D (a line break)"),
        "{}",
        r.err
    );
    assert_eq!(
        common::platform::status_of(&pool, &idea).await,
        "needs_approval"
    );
    assert_eq!(decisions().await, before, "nothing was recorded");

    // A strategy named with a bidi override is refused by its path; nothing is imported.
    let strategies = || count(&pool, "SELECT count(*) FROM strategies");
    let changes = || count(&pool, "SELECT count(*) FROM tradedesk.config_changes");
    let (had, changed) = (strategies().await, changes().await);
    let document = serde_json::json!({
        "name": "London\u{202e}tuokaerb",
        "allowed_symbols": ["EURUSD"],
        "session_windows": [{"start": "07:00Z", "end": "10:00Z", "days": ["Mon"]}],
        "entry_conditions": {},
        "exit_rules": {},
        "forbidden_conditions": {},
        "risk_caps": {},
        "rr_expectation": 2.0,
    });
    let file = cli.home.path().join("hostile.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let r = run(&cli, &["strategies", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        r.err.contains("name: holds U+202E (a bidi control"),
        "{}",
        r.err
    );
    assert_eq!(r.err.lines().count(), 1, "{}", r.err);
    assert_eq!((strategies().await, changes().await), (had, changed));
}

/// Waits (up to 15 s) until `console` has exited, and returns its exit status.
fn exit_code(console: &mut Console) -> u32 {
    let start = Instant::now();
    loop {
        if let Some(status) = console.child.try_wait().unwrap() {
            return status.exit_code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the console did not exit: {}",
            console.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A console on `url` with `config` as its config.toml.
fn console_with_config(url: &str, config: &str) -> Console {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.keep().join("config.toml");
    std::fs::write(&path, config).unwrap();
    Console::spawn(
        &["--database-url", url, "--config", path.to_str().unwrap()],
        &[],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_that_unbinds_or_shadows_the_kill_switch_is_refused_and_one_that_adds_a_key_keeps_k()
 {
    let (db, _store, _pool) = common::ready().await;
    for (keys, said) in [
        (
            "resume = [\"K\"]",
            "[keys] K is bound to both halt and resume",
        ),
        (
            "approve = [\"ctrl-k\"]",
            "[keys] Ctrl-K is bound to both halt and approve",
        ),
        ("help = [\"q\"]", "[keys] q is bound to both help and quit"),
    ] {
        let mut console = console_with_config(&db.url, &format!("[keys]\n{keys}\n"));
        let screen = console.wait_for(said);
        assert!(screen.contains("give one of them another key"), "{screen}");
        assert_eq!(exit_code(&mut console), 3, "{keys}");
    }

    // Unbound in the file, the kill switch still has K and Ctrl-K; a key given to it is
    // added to them.
    for keys in ["halt = []", "halt = [\"x\"]"] {
        let mut console = console_with_config(&db.url, &format!("[keys]\n{keys}\n"));
        let screen = console.wait_for("AI TRADING");
        assert!(!screen.contains("(unbound)"), "{screen}");
        for press in ["K", "\u{b}", "x"] {
            if press == "x" && keys == "halt = []" {
                continue;
            }
            console.keys(press);
            console.wait_for("KILL SWITCH");
            console.keys("\u{1b}");
            wait_gone(&console, "KILL SWITCH");
        }
        console.keys("q");
        assert_eq!(exit_code(&mut console), 0, "{keys}");
    }
}

/// Waits (up to 15 s) until the screen no longer shows `needle`.
fn wait_gone(console: &Console, needle: &str) {
    let start = Instant::now();
    while console.text().contains(needle) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "`{needle}` stayed:\n{}",
            console.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every byte the console wrote so far.
fn raw(console: &Console) -> String {
    String::from_utf8_lossy(&console.raw.lock().unwrap()).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_shows_hostile_text_escaped_and_writes_none_of_its_sequences() {
    let (db, _store, pool) = common::ready().await;
    hostile_desk(&pool, true).await;
    let mut console = Console::start(&db.url);
    console.wait_for("AI TRADING: ON");
    // The ideas pane (a tab at 80×24): the symbol and strategy escaped.
    console.keys("3");
    let screen = console.wait_for("EURUSD\\u{1b}]52;c;");
    assert!(!screen.contains("pwned\u{7}"), "{screen}");
    // The idea's details: its rationale, a line a line.
    console.keys("i");
    let screen = console.wait_for("Breakout\\u{1b}]52;c;ZXZpbA==\\u{7}");
    assert!(screen.contains("\\u{202e}"), "{screen}");
    console.keys("\r");
    // The timeline: operator and rationale.
    console.keys("4");
    console.wait_for("op\\u{1b}]52");
    // The replay of its decision: the chart's title and the headlines.
    console.keys("\r");
    console.wait_for("REPLAY ai_proposed EURUSD\\u{1b}]52");
    console.keys("\u{1b}");
    // A halt written by the platform with a hostile reason: the header shows it escaped,
    // and the desktop notification carries it escaped too.
    sqlx::query("UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = $1")
        .bind(evil("feed"))
        .execute(&pool)
        .await
        .unwrap();
    console.wait_for("AI TRADING: OFF — feed\\u{1b}]52");
    let start = Instant::now();
    while !raw(&console).contains("\u{1b}]9;AI trading halted") {
        assert!(start.elapsed() < Duration::from_secs(15), "no notification");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The kill switch with a pasted bidi override: refused under the reason, not sent.
    console.keys("K");
    console.wait_for("KILL SWITCH");
    console.keys("later\u{202e}");
    console.keys("\r");
    console.wait_for("the halt reason holds U+202E");
    // Cleared, the reason is kept (none): the halt goes, and the dialog closes.
    console.keys("\u{15}\r");
    wait_gone(&console, "KILL SWITCH");
    console.keys("q");
    exit_code(&mut console);

    let bytes = raw(&console);
    for sequence in [
        "\u{1b}]52",
        "\u{1b}]0;",
        "\u{1b}]2;",
        "\u{9b}",
        "pwned\u{7}",
    ] {
        assert!(
            !bytes.contains(sequence),
            "the console wrote {sequence:?} from the data"
        );
    }
    for c in ['\u{202e}', '\u{2066}', '\u{200b}', '\u{feff}'] {
        assert!(
            !bytes.contains(c),
            "the console wrote U+{:04X}",
            u32::from(c)
        );
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE rationale LIKE 'later%'"
        )
        .await,
        0,
        "the refused reason was never sent"
    );
}
