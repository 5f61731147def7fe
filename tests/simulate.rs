//! The simulated platform against real PostgreSQL: the same seed writes the same rows, a
//! breached limit halts the AI with its decision row (the database's guard's, as the
//! account row commits) and nothing auto-executes after it, the paper broker's fills and
//! closes move the account, and a database holding the platform's own data is refused.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tradedesk::sim::engine::{self, Liveliness, Options, Pace, SimError, Summary};
use tradedesk::sim::market;
use tradedesk::store::Store;
use tradedesk::store::setup::setup;

/// A set-up database with the strategies, the given limits, and AI trading on.
async fn desk(limits: &[&str]) -> (TestDb, Store, PgPool) {
    let (db, store, operator) = common::desk_with_open_strategies().await;
    let mut edits = vec!["ai_trading_enabled=true"];
    edits.extend_from_slice(limits);
    let set = tradedesk::domain::RiskChangeSet::parse(edits).unwrap();
    store.update_risk_config(&set, &operator).await.unwrap();
    let pool = db.pool().await;
    (db, store, pool)
}

/// A weekday afternoon, markets open.
fn monday(time: &str) -> DateTime<Utc> {
    format!("2026-11-23T{time}Z").parse().unwrap()
}

async fn simulate(store: &Store, seed: u64, from: DateTime<Utc>, hours: i64) -> Summary {
    let options = Options {
        seed,
        from,
        until: Some(from + Duration::hours(hours)),
        pace: Pace::Fast,
        liveliness: Liveliness::Lively,
    };
    engine::check_ownership(store, false).await.unwrap();
    engine::run(store, &options, |_| {}).await.unwrap()
}

/// Every row the simulator writes, table by table, as JSON text in id order (an
/// operator's own acts of the set-up left out, and with them the audit hashes, which chain
/// every row to the set-up's rows, written at the clock's time).
async fn written(pool: &PgPool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (table, filter) in [
        ("snapshot_market", "true"),
        ("snapshot_indicators", "true"),
        ("snapshot_calendar", "true"),
        ("snapshot_news", "true"),
        ("snapshot_account", "true"),
        ("trade_ideas", "true"),
        ("decision_history", "operator IS NULL"),
        ("tradedesk.executions", "true"),
    ] {
        let rows: Option<String> = sqlx::query_scalar(&format!(
            "SELECT jsonb_agg(to_jsonb(t) - 'audit_hash' ORDER BY t.id)::text FROM {table} t WHERE {filter}"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        out.push((table.to_string(), rows.unwrap_or_default()));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_seed_start_and_duration_write_the_same_rows_ids_included() {
    let (_a, store_a, pool_a) = desk(&[]).await;
    let (_b, store_b, pool_b) = desk(&[]).await;
    let (_c, store_c, pool_c) = desk(&[]).await;
    let one = simulate(&store_a, 42, monday("13:00:00"), 1).await;
    let two = simulate(&store_b, 42, monday("13:00:00"), 1).await;
    let other = simulate(&store_c, 43, monday("13:00:00"), 1).await;
    assert_eq!(one, two);
    assert!(one.candles > 300 && one.account_snapshots == 720, "{one:?}");
    let ideas = one.ideas_auto_executed + one.ideas_awaiting_approval + one.ideas_rejected;
    assert!(ideas > 0, "the run proposed ideas: {one:?}");
    let (a, b) = (written(&pool_a).await, written(&pool_b).await);
    for ((table, rows_a), (_, rows_b)) in a.iter().zip(&b) {
        assert!(
            rows_a == rows_b,
            "{table} differs between two runs of seed 42"
        );
    }
    let c = written(&pool_c).await;
    assert_ne!(a[0], c[0], "another seed, another market");
    assert_ne!(other, one);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drawdown_breach_halts_the_ai_in_its_own_row_and_nothing_auto_executes_after() {
    // A limit a few losing trades reach.
    let (_db, store, pool) = desk(&["max_drawdown_amount=15.00"]).await;
    let summary = simulate(&store, 7, monday("12:00:00"), 3).await;
    assert!(summary.halts >= 1, "{summary:?}");
    let (reason, enabled): (Option<String>, bool) =
        sqlx::query_as("SELECT last_halt_reason, ai_trading_enabled FROM risk_config")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!enabled);
    assert_eq!(reason.as_deref(), Some("max_drawdown"));
    // The database's guard (migration 8) halts as the breaching account row commits, before
    // the engine's own check, which then finds AI trading off: one flip, by the database,
    // and it is the run's halt.
    let flips: Vec<(DateTime<Utc>, String, Option<String>)> = sqlx::query_as(
        "SELECT occurred_at, rationale, operator FROM decision_history
          WHERE action = 'ai_halted' AND symbol IS NULL ORDER BY occurred_at, id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(flips.len() as u64, summary.halts, "{flips:?}");
    let (halted_at, rationale): (DateTime<Utc>, String) = sqlx::query_as(
        "SELECT occurred_at, rationale FROM decision_history
          WHERE action = 'ai_halted' AND symbol IS NULL AND operator = 'database'
            AND risk_check_result = 'fail:max_drawdown' AND NOT human_override",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        rationale.starts_with("The day's drawdown ")
            && rationale.contains("reached max_drawdown_amount 15.00"),
        "{rationale}"
    );
    let executed_after: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM decision_history WHERE action = 'ai_auto_executed' AND occurred_at > $1",
    )
    .bind(halted_at)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(executed_after, 0, "nothing auto-executes after the halt");
    // Every idea after the halt is stopped by it and by the breached limit: with the day's
    // drawdown reached, the gate holds them for the day rather than asking a human.
    let after: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action::text, risk_check_result FROM decision_history
          WHERE occurred_at > $1 AND trade_idea_id IS NOT NULL",
    )
    .bind(halted_at)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        !after.is_empty(),
        "the run went on proposing after the halt"
    );
    for (action, result) in &after {
        let result = result.as_deref().unwrap_or_default();
        assert_eq!(action, "risk_rejected", "{result}");
        assert!(
            result.contains("ai_halted") && result.contains("max_drawdown"),
            "{result}"
        );
    }
    // The kill switch's rule holds at the database too: the engine cannot slip one through.
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tradedesk.executions WHERE state = 'pending' AND requested_at <= $1",
    )
    .bind(halted_at)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(pending, 0, "the halt cancelled what was not executed");
}

#[tokio::test(flavor = "multi_thread")]
async fn fills_and_closes_move_the_account() {
    let (_db, store, pool) = desk(&[]).await;
    let summary = simulate(&store, 11, monday("13:00:00"), 2).await;
    assert!(summary.fills > 0 && summary.closes > 0, "{summary:?}");
    let (filled, closed, realized): (i64, i64, Decimal) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'filled'), count(closed_at),
                coalesce(sum(realized_pl), 0)
           FROM tradedesk.executions",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(filled > 0 && closed > 0);
    let (balance, equity, open_pl, open): (Decimal, Decimal, Decimal, i32) = sqlx::query_as(
        "SELECT balance, equity, open_pl, open_positions FROM snapshot_account
          ORDER BY captured_at DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        balance,
        Decimal::from(25_000) + realized,
        "the balance moved by what was realised"
    );
    assert_eq!(equity, balance + open_pl);
    assert_eq!(
        i64::from(open),
        filled - closed,
        "open positions are the filled, unclosed orders"
    );
    // Every fill is at the market's price then, and every close at its stop, target or the
    // price at its time limit: a long's P/L has the sign of its move.
    let wrong: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
          WHERE e.closed_at IS NOT NULL
            AND sign(e.realized_pl) <> sign(CASE i.direction WHEN 'buy' THEN e.close_price - e.fill_price
                                                            ELSE e.fill_price - e.close_price END)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(wrong, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_strategys_day_adds_up_its_ideas_and_positions() {
    let (_db, store, pool) = desk(&[]).await;
    let summary = simulate(&store, 11, monday("13:00:00"), 2).await;
    assert!(summary.closes > 0, "{summary:?}");
    let day_start = monday("00:00:00");
    let days = store.strategy_days(day_start).await.unwrap();
    assert!(!days.is_empty());
    for day in &days {
        // Counted from the ideas themselves, not from the decision rows the pane reads.
        let (ideas, auto, realized, open): (i64, i64, Option<Decimal>, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM trade_ideas WHERE strategy_id = $1 AND created_at >= $2),
                    (SELECT count(*) FROM trade_ideas i JOIN tradedesk.executions e ON e.trade_idea_id = i.id
                      WHERE i.strategy_id = $1 AND i.created_at >= $2 AND e.requested_by = 'platform'),
                    (SELECT sum(e.realized_pl) FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
                      WHERE i.strategy_id = $1 AND e.closed_at >= $2),
                    (SELECT count(*) FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
                      WHERE i.strategy_id = $1 AND e.state = 'filled' AND e.closed_at IS NULL)",
        )
        .bind(day.strategy_id)
        .bind(day_start)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(day.ideas, ideas, "{day:?}");
        assert_eq!(day.auto_executed, auto, "{day:?}");
        assert_eq!(day.realized, realized.unwrap_or_default(), "{day:?}");
        assert_eq!(day.open_positions, open, "{day:?}");
        // The simulated symbols can all be valued.
        assert!(day.pl().is_some(), "{day:?}");
    }
    // The open P/L of all strategies is the account's, but for the spread: the broker values
    // a position at the price it would close at (bid for a long), the pane at the last close.
    let open_pl: Decimal = sqlx::query_scalar(
        "SELECT open_pl FROM snapshot_account ORDER BY captured_at DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let positions: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT i.symbol, e.lot_size FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
          WHERE e.state = 'filled' AND e.closed_at IS NULL",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let slack: Decimal = positions
        .iter()
        .map(|(symbol, lot)| {
            let half_spread = market::typical_spread(symbol).unwrap() / Decimal::TWO;
            let price = Decimal::from(100); // only USDJPY's depends on it: a bound above 150's
            half_spread * lot * market::usd_per_unit_per_lot(symbol, price).unwrap()
                + Decimal::new(1, 2)
        })
        .sum();
    let ours: Decimal = days.iter().filter_map(|d| d.open_pl).sum();
    assert!(
        (ours - open_pl).abs() <= slack,
        "{ours} vs {open_pl} (slack {slack})"
    );
    // Another day: nothing proposed, nothing closed.
    let tomorrow = store
        .strategy_days(monday("00:00:00") + Duration::days(1))
        .await
        .unwrap();
    assert!(
        tomorrow
            .iter()
            .all(|d| d.ideas == 0 && d.realized.is_zero()),
        "{tomorrow:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_holding_the_platforms_data_is_refused() {
    let db = TestDb::new().await;
    db.load("phase1_alembic_001.sql").await;
    db.load("phase1_rows.sql").await;
    setup(&db.target(), false).await.unwrap();
    let store = Store::open(&db.target(), 2).await.unwrap();
    let err = engine::check_ownership(&store, false).await.unwrap_err();
    assert!(matches!(err, SimError::PlatformData), "{err}");
    assert!(err.to_string().contains("--into-live-database"));
    engine::check_ownership(&store, true).await.unwrap();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tradedesk"))
        .args([
            "--database-url",
            &db.url,
            "simulate",
            "--fast",
            "--duration",
            "1m",
        ])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.starts_with("tradedesk: this database holds data tradedesk's simulator did not write"),
        "{err}"
    );
    let candles: i64 = sqlx::query_scalar("SELECT count(*) FROM snapshot_market")
        .fetch_one(&db.pool().await)
        .await
        .unwrap();
    assert_eq!(
        candles, 1,
        "nothing was written: only the platform's own candle"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_simulated_platform_writes_into_a_database_at_a_time() {
    let (db, first, pool) = desk(&[]).await;
    let live = Options {
        seed: 5,
        from: chrono::Utc::now(),
        until: None,
        pace: Pace::Speed(1.0),
        liveliness: Liveliness::Normal,
    };
    let running = first.clone();
    let task = tokio::spawn(async move { engine::run(&running, &live, |_| {}).await });
    // Running once it has recorded itself.
    let start = std::time::Instant::now();
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM tradedesk.simulations")
        .fetch_one(&pool)
        .await
        .unwrap()
        == 0
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let second = Store::open(&db.target(), 2).await.unwrap();
    let options = Options {
        seed: 5,
        from: monday("13:00:00"),
        until: Some(monday("13:01:00")),
        pace: Pace::Fast,
        liveliness: Liveliness::Normal,
    };
    let err = engine::run(&second, &options, |_| {}).await.unwrap_err();
    assert!(matches!(err, SimError::AlreadyRunning), "{err}");
    // Stopped (as the console stops its demo): the next one runs.
    task.abort();
    let _ = task.await;
    first.pool().close().await;
    // The server lets go of the lock as the closed session ends, a moment later.
    let start = std::time::Instant::now();
    loop {
        match engine::run(&second, &options, |_| {}).await {
            Ok(_) => break,
            Err(SimError::AlreadyRunning)
                if start.elapsed() < std::time::Duration::from_secs(10) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}
