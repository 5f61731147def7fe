//! The platform's strategy documents, end to end: read as the platform wrote them, enforced
//! by the Gate, written back unchanged, and tradedesk's old shapes converted by setup.

mod common;

use chrono::{Duration, Timelike, Utc};
use common::cli::{Cli, json};
use common::platform::insert_idea;
use serde_json::Value;
use sqlx::PgPool;
use tradedesk::store::setup::setup;

/// Every example of the platform's strategy documents, with variations.
const FIXTURE: &str = include_str!("fixtures/platform_strategies.json");

fn fixture() -> Vec<Value> {
    json(FIXTURE)["strategies"].as_array().unwrap().clone()
}

const DOCUMENTS: [&str; 5] = [
    "session_windows",
    "entry_conditions",
    "exit_rules",
    "forbidden_conditions",
    "risk_caps",
];

/// Inserts a strategy as the platform's Python writes it: plain SQL, its JSON documents as
/// `json.dumps` spells them.
async fn insert_as_platform(pool: &PgPool, s: &Value) {
    let dumps = |v: &Value| python_dumps(v);
    sqlx::query(
        "INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                 entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                 rr_expectation, created_at, updated_at)
         VALUES ($1::uuid, $2, $3, $4, $5::json, $6::json, $7::json, $8::json, $9::json,
                 $10::numeric, now(), now())",
    )
    .bind(s["id"].as_str().unwrap())
    .bind(s["name"].as_str().unwrap())
    .bind(s["is_active"].as_bool().unwrap())
    .bind(
        s["allowed_symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
    )
    .bind(dumps(&s["session_windows"]))
    .bind(dumps(&s["entry_conditions"]))
    .bind(dumps(&s["exit_rules"]))
    .bind(dumps(&s["forbidden_conditions"]))
    .bind(dumps(&s["risk_caps"]))
    .bind(s["rr_expectation"].to_string())
    .execute(pool)
    .await
    .unwrap();
}

/// JSON as Python's `json.dumps` writes it: `", "` and `": "` separators.
fn python_dumps(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(python_dumps)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), python_dumps(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Each fixture strategy's documents as stored: (the exact text, its keys in order).
async fn stored(pool: &PgPool) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for s in fixture() {
        let row: (String, String, String, String, String) = sqlx::query_as(
            "SELECT session_windows::text, entry_conditions::text, exit_rules::text,
                    forbidden_conditions::text, risk_caps::text
               FROM strategies WHERE id = $1::uuid",
        )
        .bind(s["id"].as_str().unwrap())
        .fetch_one(pool)
        .await
        .unwrap();
        for text in [row.0, row.1, row.2, row.3, row.4] {
            out.push((text.clone(), keys(&json(&text))));
        }
    }
    out
}

/// The object keys of a document, depth first, in order.
fn keys(v: &Value) -> Vec<String> {
    match v {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.clone()).chain(keys(v)))
            .collect(),
        Value::Array(items) => items.iter().flat_map(keys).collect(),
        _ => Vec::new(),
    }
}

async fn audits(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tradedesk.config_changes")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_platforms_strategies_read_without_warning_and_round_trip_unchanged() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    for s in fixture() {
        insert_as_platform(&pool, &s).await;
    }
    let before = stored(&pool).await;

    for s in fixture() {
        let id = s["id"].as_str().unwrap();
        let r = cli.run(&["strategies", "show", &id[..8]]);
        assert_eq!(r.code, 0, "{}", r.err);
        assert!(!r.out.contains("WARNING"), "{}", r.out);
        assert!(r.out.contains("Sessions   "), "{}", r.out);
    }
    let gold = cli.run(&["strategies", "show", "5b1f0c8e"]);
    assert!(
        gold.out.contains("Sessions   Mon–Fri 07:00–11:00 UTC\n")
            && gold
                .out
                .contains("News       no new trade 5 min before or after high-impact USD, GBP news\n")
            && gold
                .out
                .contains("Exit       stop recent_swing_low - 50 cents · take profit RR>=2, key_resistance_zone\n"),
        "{}",
        gold.out
    );
    let fade = cli.run(&["strategies", "show", "7d3b2e0a"]);
    assert!(
        fade.out.contains(
            "NOTE       exit_rules.trail_stop: not a key tradedesk knows; kept for the evaluator"
        ),
        "{}",
        fade.out
    );

    // Export then import: nothing is written, not even an audit row.
    let audited = audits(&pool).await;
    let exported = cli.run(&["strategies", "export"]);
    assert_eq!(exported.code, 0, "{}", exported.err);
    let file = cli.home.path().join("export.json");
    std::fs::write(&file, &exported.out).unwrap();
    let r = cli.run(&["strategies", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out.matches("Unchanged strategy").count(), 4, "{}", r.out);
    assert_eq!(stored(&pool).await, before, "byte for byte");
    assert_eq!(audits(&pool).await, audited);

    // Into a database that has none of them, the same file writes documents JSON-equal to
    // the platform's, keys in the platform's order, unknown keys kept.
    let other = Cli::new().await;
    let r = other.run(&["strategies", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out.matches("Created strategy").count(), 3, "{}", r.out);
    assert!(
        r.out
            .contains("note: strategies[1].exit_rules.trail_stop: not a key tradedesk knows"),
        "{}",
        r.out
    );
    let copied = stored(&other.db.pool().await).await;
    for ((theirs, their_keys), (ours, our_keys)) in before.iter().zip(&copied) {
        assert_eq!(json(theirs), json(ours));
        assert_eq!(their_keys, our_keys, "{ours}");
    }
    let exported_again = other.run(&["strategies", "export"]);
    let by_id = |doc: &Value, id: &str| {
        doc["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap()
    };
    for s in fixture() {
        let id = s["id"].as_str().unwrap();
        let (a, b) = (
            by_id(&json(&exported.out), id),
            by_id(&json(&exported_again.out), id),
        );
        for doc in DOCUMENTS {
            assert_eq!(a[doc], s[doc], "{doc} as the platform wrote it");
            assert_eq!(b[doc], s[doc], "{doc} after export → import");
        }
    }
}

#[tokio::test]
async fn lower_case_days_and_symbols_as_currencies_are_refused_and_nothing_is_written() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let mut s = fixture().remove(0);
    s["session_windows"][0]["days"][0] = "mon".into();
    s["forbidden_conditions"]["blocked_symbols_during_news"][0] = "EURUSD".into();
    let file = cli.home.path().join("bad.json");
    std::fs::write(&file, s.to_string()).unwrap();
    let audited = audits(&pool).await;
    let r = cli.run(&["strategies", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.out);
    assert!(
        r.err.contains(
            "session_windows[0].days[0]: expected Mon, got \"mon\": the platform compares day names as written"
        ),
        "{}",
        r.err
    );
    assert!(
        r.err
            .contains("\"EURUSD\" is a symbol, but this list names currencies"),
        "{}",
        r.err
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM strategies")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "only the test's own strategy");
    assert_eq!(audits(&pool).await, audited);
}

/// A strategy for EURUSD whose one window covers `[now + from, now + to)` minutes on every
/// day, as the platform writes it.
async fn strategy_around_now(pool: &PgPool, id: &str, from: i64, to: i64) {
    let hhmm = |minutes: i64| {
        let t = Utc::now() + Duration::minutes(minutes);
        format!("{:02}:{:02}Z", t.hour(), t.minute())
    };
    let mut s = fixture().remove(1);
    s["id"] = id.into();
    s["name"] = format!("Window {from}..{to}").into();
    s["allowed_symbols"] = serde_json::json!(["EURUSD"]);
    s["session_windows"] = serde_json::json!([{
        "start": hhmm(from), "end": hhmm(to),
        "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    }]);
    insert_as_platform(pool, &s).await;
}

#[tokio::test]
async fn ideas_check_passes_the_session_rule_inside_a_window_and_fails_it_outside() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let inside = "11111111-1111-4111-8111-111111111111";
    let outside = "22222222-2222-4222-8222-222222222222";
    strategy_around_now(&pool, inside, -60, 60).await;
    strategy_around_now(&pool, outside, 120, 180).await;
    let idea_in = insert_idea(&pool, "needs_approval").await.unwrap();
    let idea_out = insert_idea(&pool, "needs_approval").await.unwrap();
    for (idea, strategy) in [(&idea_in, inside), (&idea_out, outside)] {
        sqlx::query("UPDATE trade_ideas SET strategy_id = $2::uuid WHERE id = $1::uuid")
            .bind(idea)
            .bind(strategy)
            .execute(&pool)
            .await
            .unwrap();
    }

    let r = cli.run(&["ideas", "check", &idea_in, "--lot", "0.10"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out
            .lines()
            .any(|l| l.contains("session_closed") && l.contains("is inside a session window")),
        "{}",
        r.out
    );
    let r = cli.run(&["ideas", "check", &idea_out, "--lot", "0.10"]);
    assert_eq!(r.code, 6, "{}{}", r.out, r.err);
    assert!(
        r.out
            .lines()
            .any(|l| l.contains("session_closed") && l.contains("is outside every session window")),
        "{}",
        r.out
    );
}

#[tokio::test]
async fn setup_converts_strategies_written_in_tradedesks_old_shapes_once_and_audits_it() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    // As tradedesk's demo desk wrote it before it read the platform's documents.
    sqlx::raw_sql(
        r#"INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                  entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                  rr_expectation, created_at, updated_at)
           VALUES ('0bf120b4-0000-4000-8000-000000000001', 'Gold momentum', true, '{XAUUSD}',
                   '[{"start":"06:00Z","end":"21:00Z","days":["mon","tue","wed","thu","fri"]}]',
                   '{"trend":"sma_50_above_sma_200","rsi_range":[45,70]}',
                   '{"take_profit_r":[1.5,3.0],"break_even_after_r":1.0,"max_hold_minutes":1440}',
                   '{"block_high_impact_news_minutes":45,"blocked_symbols_during_news":["XAUUSD"]}',
                   '{"max_lot_size":0.20,"max_concurrent_positions":2}', 2.00, now(), now())"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let r = cli.run(&["strategies", "show", "0bf120b4"]);
    assert!(r.out.contains("WARNING"), "{}", r.out);

    let r = cli.run(&["setup"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.contains(
            "  strategy \"Gold momentum\" (00000001): converted to the platform's documents\n\
             \x20     session_windows[0].days: mon, tue, wed, thu, fri → Mon, Tue, Wed, Thu, Fri\n\
             \x20     exit_rules.take_profit_r: [1.5,3.0] → take_profit: [\"RR>=1.5\",\"RR>=3.0\"]\n\
             \x20     exit_rules.max_hold_minutes: 1440 → time_limit_min: 1440\n\
             \x20     forbidden_conditions.blocked_symbols_during_news: [\"XAUUSD\"] → [\"XAU\",\"USD\"] (the platform reads currencies)\n\
             \x20     exit_rules.break_even_after_r: kept as written; the platform has no such rule\n"
        ),
        "{}",
        r.out
    );
    let (days, exit, entry): (String, String, String) = sqlx::query_as(
        "SELECT session_windows::text, exit_rules::text, entry_conditions::text
           FROM strategies WHERE name = 'Gold momentum'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        days,
        r#"[{"start":"06:00Z","end":"21:00Z","days":["Mon","Tue","Wed","Thu","Fri"]}]"#
    );
    assert_eq!(
        exit,
        r#"{"take_profit":["RR>=1.5","RR>=3.0"],"break_even_after_r":1.0,"time_limit_min":1440}"#
    );
    assert_eq!(
        entry, r#"{"trend":"sma_50_above_sma_200","rsi_range":[45,70]}"#,
        "the evaluator's vocabulary is left as written"
    );
    // Inserted (by direct SQL, as the platform writes), then converted by the set-up.
    let changes: Vec<(String, String)> = sqlx::query_as(
        "SELECT change, operator FROM tradedesk.config_changes
          WHERE subject = 'strategy' AND subject_id = '0bf120b4-0000-4000-8000-000000000001'
          ORDER BY audit_seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0].0, "created");
    assert!(changes[0].1.ends_with("(direct SQL)"), "{changes:?}");
    assert_eq!(changes[1].0, "converted to the platform's documents");
    let r = cli.run(&["strategies", "show", "0bf120b4"]);
    assert!(!r.out.contains("WARNING"), "{}", r.out);

    // The platform's own strategy (the test's London breakout) was not touched, and a
    // second setup converts nothing.
    let audited = audits(&pool).await;
    let again = setup(&cli.db.target(), false).await.unwrap();
    assert!(again.prepared.strategies_converted.is_empty());
    assert_eq!(audits(&pool).await, audited);
}
