//! The database halts AI trading at the day's limits by itself (migration 8): account
//! captures inserted by plain SQL, as the platform's collector writes them, halt AI trading
//! in the same commit, exactly as the store's `halt_by_limit` does; the guard works the day
//! out as `domain::pnl::day_state` does, captures out of order and at one instant included;
//! and ingestion, approvals and halts at once never deadlock.

mod common;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use common::platform::{SNAPSHOT, STRATEGY, insert_idea, insert_strategy, status_of, uuid};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
use rust_decimal::Decimal;
use sqlx::{Connection as _, PgConnection, PgExecutor, PgPool};
use tradedesk::domain::{
    AccountSnapshot, DayState, HaltReason, Lot, RiskConfig, TradingDay, day_state, halt_trigger,
};
use tradedesk::operator::Operator;
use tradedesk::store::Store;
use tradedesk::store::setup::setup;
use uuid::Uuid;

/// A set-up database with AI trading on and `limits` (assignments to risk_config's columns,
/// as SQL).
async fn desk(limits: &str) -> (TestDb, PgPool) {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let pool = db.pool().await;
    sqlx::raw_sql(&format!(
        "BEGIN; {RESUMED}; UPDATE risk_config SET ai_trading_enabled = true, {limits}; COMMIT"
    ))
    .execute(&pool)
    .await
    .unwrap();
    (db, pool)
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// An account capture as the platform's collector writes it: a client-side id, one row.
async fn capture<'c>(conn: impl PgExecutor<'c>, captured_at: &str, equity: &str) {
    sqlx::query(
        "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         VALUES ($1, $2::numeric, $2::numeric, 0, $2::numeric, 0, 0, $3::timestamptz)",
    )
    .bind(Uuid::new_v4())
    .bind(equity)
    .bind(captured_at)
    .execute(conn)
    .await
    .expect("insert an account capture");
}

/// Several captures in one INSERT, in the order given.
async fn capture_all(pool: &PgPool, rows: &[(DateTime<Utc>, Decimal)]) {
    let (times, equities): (Vec<DateTime<Utc>>, Vec<Decimal>) = rows.iter().copied().unzip();
    sqlx::query(
        "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         SELECT gen_random_uuid(), u.e, u.e, 0, u.e, 0, 0, u.t
           FROM unnest($1::numeric[], $2::timestamptz[]) WITH ORDINALITY AS u(e, t, n)
          ORDER BY u.n",
    )
    .bind(equities)
    .bind(times)
    .execute(pool)
    .await
    .expect("insert account captures");
}

/// AI trading on or off, and the reason recorded.
async fn switch(pool: &PgPool) -> (bool, Option<String>) {
    sqlx::query_as("SELECT ai_trading_enabled, last_halt_reason FROM risk_config")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The `ai_resumed` row the platform writes with every switch on (docs/platform.md §3);
/// without it the database writes one (migration 14). Dated before the day's captures.
const RESUMED: &str =
    "INSERT INTO decision_history (id, occurred_at, action, rationale, human_override)
     VALUES (gen_random_uuid(), '2000-01-01', 'ai_resumed', 'resumed by the platform', true)";

/// The decision rows but the fixtures' own `ai_resumed`.
const DECIDED: &str = "SELECT count(*) FROM decision_history WHERE action <> 'ai_resumed'";

/// Switches AI trading back on as the platform does, with its `ai_resumed` row.
async fn switch_on(pool: &PgPool, limits: &str) {
    sqlx::raw_sql(&format!(
        "BEGIN; {RESUMED}; UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL {limits}; COMMIT"
    ))
    .execute(pool)
    .await
    .unwrap();
}

/// A global `ai_halted` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Flip {
    occurred_at: DateTime<Utc>,
    rationale: String,
    risk_check_result: Option<String>,
    operator: Option<String>,
    human_override: bool,
}

async fn flips(pool: &PgPool) -> Vec<Flip> {
    sqlx::query_as(
        "SELECT occurred_at, rationale, risk_check_result, operator, human_override
           FROM decision_history WHERE action = 'ai_halted' AND symbol IS NULL ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The guard's flip for `reason` with `rationale`, at `when`.
fn flip_by_database(when: &str, reason: HaltReason, rationale: &str) -> Flip {
    Flip {
        occurred_at: at(when),
        rationale: rationale.to_string(),
        risk_check_result: Some(format!("fail:{reason}")),
        operator: Some("database".into()),
        human_override: false,
    }
}

/// The day as the guard keeps it.
#[derive(Debug, sqlx::FromRow)]
struct GuardDay {
    valid: bool,
    day_start: Option<DateTime<Utc>>,
    opening_equity: Option<Decimal>,
    opened_before: Option<bool>,
    peak_equity: Option<Decimal>,
    latest_at: Option<DateTime<Utc>>,
    latest_equity: Option<Decimal>,
    day_pnl: Option<Decimal>,
    drawdown: Option<Decimal>,
}

async fn guard_day(pool: &PgPool) -> GuardDay {
    sqlx::query_as(
        "SELECT valid, day_start, opening_equity, opened_before, peak_equity, latest_at,
                latest_equity, day_pnl, drawdown
           FROM tradedesk.account_day",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Every capture, as the domain reads them.
async fn captures(pool: &PgPool) -> Vec<AccountSnapshot> {
    let rows: Vec<(Decimal, Decimal, DateTime<Utc>)> =
        sqlx::query_as("SELECT balance, equity, captured_at FROM snapshot_account")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(balance, equity, captured_at)| {
            AccountSnapshot::of_equity(balance, equity, captured_at)
        })
        .collect()
}

/// `day_state` as of the newest capture, the moment the guard judges.
fn as_of_newest(rows: &[AccountSnapshot]) -> DayState {
    let newest = rows.iter().map(|r| r.captured_at).max().unwrap();
    day_state(rows, TradingDay::UTC_MIDNIGHT, newest).unwrap()
}

/// The guard's day is `expected`, figure by figure.
fn assert_same_day(guard: &GuardDay, expected: &DayState, context: &str) {
    assert!(guard.valid, "{context}: {guard:?}");
    let got = (
        guard.day_start,
        guard.opening_equity,
        guard.peak_equity,
        guard.latest_at,
        guard.latest_equity,
        guard.day_pnl,
        guard.drawdown,
    );
    let want = (
        Some(expected.day_start),
        Some(expected.opening_equity),
        Some(expected.peak_equity),
        Some(expected.as_of),
        Some(expected.latest_equity),
        Some(expected.day_pnl),
        Some(expected.drawdown),
    );
    assert_eq!(got, want, "{context}");
}

/// The guard agrees with `day_state` over every capture in the database.
async fn agrees(pool: &PgPool, context: &str) {
    let expected = as_of_newest(&captures(pool).await);
    assert_same_day(&guard_day(pool).await, &expected, context);
}

/// The risk limits as the store reads them.
async fn limits(pool: &PgPool) -> RiskConfig {
    let (enabled, dd, halt_dd, target, stop): (bool, Decimal, bool, Decimal, bool) =
        sqlx::query_as(
            "SELECT ai_trading_enabled, max_drawdown_amount, halt_on_drawdown,
                    daily_profit_target, stop_after_target FROM risk_config",
        )
        .fetch_one(pool)
        .await
        .unwrap();
    RiskConfig {
        ai_trading_enabled: enabled,
        max_drawdown_amount: dd,
        halt_on_drawdown: halt_dd,
        daily_profit_target: target,
        stop_after_target: stop,
        ..RiskConfig::default()
    }
}

/// The flip's rationale for `reason` on `day`, as the simulated platform words it (the
/// limits with their two places: sqlx reads a NUMERIC zero without its scale).
fn rationale(reason: HaltReason, day: &DayState, config: &RiskConfig) -> String {
    match reason {
        HaltReason::MaxDrawdown => format!(
            "The day's drawdown {} reached max_drawdown_amount {:.2}",
            day.drawdown, config.max_drawdown_amount
        ),
        HaltReason::DailyTargetReached => format!(
            "The day's P/L {} reached daily_profit_target {:.2}",
            day.day_pnl, config.daily_profit_target
        ),
    }
}

/// An EURUSD idea of the platform's in `status` with the id given.
async fn idea(pool: &PgPool, id: Uuid, status: &str) {
    sqlx::query(
        "INSERT INTO trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss,
                                  take_profit, expected_hold, rationale, confidence_score, status,
                                  strategy_id, snapshot_ref, created_at, updated_at)
         VALUES ($1, 'EURUSD', 'buy', 1.085640, NULL, 1.084200, '{1.087800}', 'scalp_30m',
                 'Breakout', 93.00, $2::tradeideastatus, $3::uuid, $4::uuid,
                 '2026-11-24T00:30:00Z', '2026-11-24T00:30:00Z')",
    )
    .bind(id)
    .bind(status)
    .bind(STRATEGY)
    .bind(SNAPSHOT)
    .execute(pool)
    .await
    .unwrap();
}

/// What a halt changes, as JSON text: the switch, the ideas, the orders and the decision
/// rows in id order, without the row ids, who wrote them, or migration 7's chain.
async fn halt_rows(pool: &PgPool) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT jsonb_build_object('enabled', ai_trading_enabled, 'reason', last_halt_reason,
                                   'at', updated_at)::text FROM risk_config",
        "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'status', status,
                                   'at', updated_at) ORDER BY id), '[]')::text FROM trade_ideas",
        "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'state', state,
                                   'at', updated_at) ORDER BY id), '[]')::text
           FROM tradedesk.executions",
        "SELECT coalesce(jsonb_agg(to_jsonb(d) - 'id' - 'operator' - 'audit_seq' - 'audit_hash'
                                   ORDER BY d.id), '[]')::text FROM decision_history d",
    ] {
        out.push(sqlx::query_scalar(sql).fetch_one(pool).await.unwrap());
    }
    out
}

/// What a decision row says, and who wrote it.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Said {
    symbol: Option<String>,
    rationale: String,
    risk_check_result: Option<String>,
    trade_idea_id: Option<Uuid>,
    operator: Option<String>,
}

const BREACH: &str = "2026-11-24T02:00:00Z";

#[tokio::test]
async fn a_drawdown_breach_halts_in_the_inserting_commit_exactly_as_halt_by_limit_does() {
    let (_a_db, a) = desk("max_drawdown_amount = 120.00").await;
    let (b_db, b) = desk("max_drawdown_amount = 120.00").await;
    let (waiting, executed, order) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for pool in [&a, &b] {
        insert_strategy(pool).await;
        idea(pool, waiting, "waiting").await;
        idea(pool, executed, "auto_executed").await;
        sqlx::query(
            "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by,
                                               requested_at, updated_at)
             VALUES ($1, $2, 0.10, 'platform', '2026-11-24T00:30:00Z', '2026-11-24T00:30:00Z')",
        )
        .bind(order)
        .bind(executed)
        .execute(pool)
        .await
        .unwrap();
    }
    // On b the guard is off, so that the store's halt_by_limit halts instead.
    sqlx::raw_sql("ALTER TABLE snapshot_account DISABLE TRIGGER snapshot_account_guard_day_limits")
        .execute(&b)
        .await
        .unwrap();
    for pool in [&a, &b] {
        capture(pool, "2026-11-23T23:00:00Z", "10000.00").await;
        capture(pool, "2026-11-24T01:00:00Z", "10050.00").await;
    }
    assert_eq!(switch(&a).await, (true, None));

    // a: the collector's capture 123.40 below the day's peak, in a transaction of its own.
    let mut tx = a.begin().await.unwrap();
    capture(&mut *tx, BREACH, "9926.60").await;
    let (inside, said): (bool, Option<String>) = sqlx::query_as(
        "SELECT ai_trading_enabled, current_setting('tradedesk.limit_halt', true) FROM risk_config",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(!inside, "halted inside the inserting transaction");
    assert_eq!(said.as_deref(), Some("max_drawdown"));
    assert_eq!(switch(&a).await, (true, None), "and not before it commits");
    tx.commit().await.unwrap();
    assert_eq!(switch(&a).await, (false, Some("max_drawdown".into())));
    assert_eq!(status_of(&a, &waiting.to_string()).await, "halted_by_risk");
    let state: String = sqlx::query_scalar("SELECT state::text FROM tradedesk.executions")
        .fetch_one(&a)
        .await
        .unwrap();
    assert_eq!(state, "cancelled");
    // The order was cancelled before any bridge claimed it: its idea never executed.
    assert_eq!(status_of(&a, &executed.to_string()).await, "halted_by_risk");
    // One row for the halt, as the platform writes it, naming what it stopped.
    let rows: Vec<Said> = sqlx::query_as(
        "SELECT symbol, rationale, risk_check_result, trade_idea_id, operator
           FROM decision_history WHERE action <> 'ai_resumed' ORDER BY id",
    )
    .fetch_all(&a)
    .await
    .unwrap();
    let short = tradedesk::format::short;
    assert_eq!(
        rows,
        [Said {
            symbol: None,
            rationale: format!(
                "The day's drawdown 123.40 reached max_drawdown_amount 120.00: 1 waiting idea \
                 stopped ({}), 1 unexecuted order cancelled ({})",
                short(waiting),
                short(order)
            ),
            risk_check_result: Some("fail:max_drawdown".to_string()),
            trade_idea_id: None,
            operator: Some("database".to_string()),
        }]
    );

    // b: the same capture, and the platform's own halt by the store on the day's figures.
    capture(&b, BREACH, "9926.60").await;
    let store = Store::open(&b_db.target(), 2).await.unwrap();
    let day = as_of_newest(&captures(&b).await);
    let config = store.risk_config().await.unwrap().config;
    let reason = halt_trigger(&day, &config).unwrap();
    let said = rationale(reason, &day, &config);
    let halted = store
        .halt_by_limit(reason, &said, at(BREACH))
        .await
        .unwrap();
    assert!(halted.is_some());
    // The same rows either way, but for who wrote them.
    assert_eq!(halt_rows(&a).await, halt_rows(&b).await);
    let by: Vec<Option<String>> =
        sqlx::query_scalar("SELECT DISTINCT operator FROM decision_history")
            .fetch_all(&b)
            .await
            .unwrap();
    assert_eq!(by, [None], "the platform's halt has no operator");
    // And once AI trading is off, the store's halt writes nothing twice.
    let again = store
        .halt_by_limit(reason, &said, at(BREACH))
        .await
        .unwrap();
    assert_eq!(again, None);
}

#[tokio::test]
async fn a_rolled_back_capture_leaves_ai_trading_on_and_the_day_as_it_was() {
    let (_db, pool) = desk("max_drawdown_amount = 120.00").await;
    insert_strategy(&pool).await;
    let waiting = insert_idea(&pool, "waiting").await.unwrap();
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10050.00").await;

    let mut tx = pool.begin().await.unwrap();
    capture(&mut *tx, BREACH, "9926.60").await;
    let inside: bool = sqlx::query_scalar("SELECT ai_trading_enabled FROM risk_config")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(!inside);
    tx.rollback().await.unwrap();

    assert_eq!(switch(&pool).await, (true, None));
    assert_eq!(count(&pool, DECIDED).await, 0);
    assert_eq!(status_of(&pool, &waiting).await, "waiting");
    agrees(&pool, "after the rollback").await;
    // The next captures are judged on the day as it is.
    capture(&pool, "2026-11-24T02:05:00Z", "10000.00").await;
    assert_eq!(switch(&pool).await, (true, None));
    capture(&pool, "2026-11-24T02:10:00Z", "9930.00").await;
    assert_eq!(switch(&pool).await, (false, Some("max_drawdown".into())));
    assert_eq!(
        flips(&pool).await,
        [flip_by_database(
            "2026-11-24T02:10:00Z",
            HaltReason::MaxDrawdown,
            &format!(
                "The day's drawdown 120.00 reached max_drawdown_amount 120.00: 1 waiting idea \
                 stopped ({})",
                tradedesk::format::short(uuid(&waiting))
            )
        )]
    );
}

#[tokio::test]
async fn reaching_the_daily_target_halts_likewise() {
    let (_db, pool) = desk("daily_profit_target = 100.00, max_drawdown_amount = 1000.00").await;
    insert_strategy(&pool).await;
    let waiting = insert_idea(&pool, "waiting").await.unwrap();
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10099.99").await;
    assert_eq!(switch(&pool).await, (true, None), "a cent short");
    capture(&pool, BREACH, "10100.00").await;
    assert_eq!(
        switch(&pool).await,
        (false, Some("daily_target_reached".into()))
    );
    assert_eq!(
        flips(&pool).await,
        [flip_by_database(
            BREACH,
            HaltReason::DailyTargetReached,
            &format!(
                "The day's P/L 100.00 reached daily_profit_target 100.00: 1 waiting idea \
                 stopped ({})",
                tradedesk::format::short(uuid(&waiting))
            )
        )]
    );
    // The idea's fate is its status; the halt's one row names it.
    assert_eq!(status_of(&pool, &waiting).await, "halted_by_risk");
    assert_eq!(count(&pool, DECIDED).await, 1);
}

#[tokio::test]
async fn with_both_limits_reached_the_drawdown_is_the_reason() {
    let (_db, pool) = desk("daily_profit_target = 100.00, max_drawdown_amount = 250.00").await;
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10500.00").await;
    // The day stood at +500 a moment ago: the target halted it then.
    assert_eq!(
        switch(&pool).await,
        (false, Some("daily_target_reached".into()))
    );
    switch_on(&pool, "").await;
    capture(&pool, BREACH, "10200.00").await;
    assert_eq!(switch(&pool).await, (false, Some("max_drawdown".into())));
    assert_eq!(
        flips(&pool).await.last().unwrap().rationale,
        "The day's drawdown 300.00 reached max_drawdown_amount 250.00"
    );
}

#[tokio::test]
async fn nothing_happens_with_the_halt_flags_off_or_ai_trading_off() {
    let (_db, pool) = desk(
        "halt_on_drawdown = false, stop_after_target = false, max_drawdown_amount = 100.00,
         daily_profit_target = 100.00",
    )
    .await;
    insert_strategy(&pool).await;
    let waiting = insert_idea(&pool, "waiting").await.unwrap();
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10500.00").await;
    capture(&pool, "2026-11-24T02:00:00Z", "9500.00").await;
    assert_eq!(switch(&pool).await, (true, None), "both flags off");

    // One flag on, the other limit reached: still nothing.
    sqlx::raw_sql("UPDATE risk_config SET halt_on_drawdown = false, stop_after_target = true")
        .execute(&pool)
        .await
        .unwrap();
    capture(&pool, "2026-11-24T03:00:00Z", "9400.00").await;
    assert_eq!(
        switch(&pool).await,
        (true, None),
        "only the target may halt"
    );

    // AI trading off (an operator's halt): the guard writes nothing, not even a sweep.
    sqlx::raw_sql(
        "UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = 'lunch',
                                halt_on_drawdown = true",
    )
    .execute(&pool)
    .await
    .unwrap();
    capture(&pool, "2026-11-24T04:00:00Z", "9000.00").await;
    assert_eq!(switch(&pool).await, (false, Some("lunch".into())));
    // (The hand-made halt is recorded by the database, migration 14; the guard's rows
    // are the database's own.)
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE operator = 'database'"
        )
        .await,
        0
    );
    assert_eq!(status_of(&pool, &waiting).await, "waiting");
    agrees(&pool, "the day is kept all the same").await;
}

#[tokio::test]
async fn zero_limits_are_reached_by_the_first_cent_not_by_a_flat_day() {
    let (_db, pool) = desk("max_drawdown_amount = 0.00, daily_profit_target = 0.00").await;
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    // The day's first capture, at midnight: flat.
    capture(&pool, "2026-11-24T00:00:00Z", "10000.00").await;
    assert_eq!(
        switch(&pool).await,
        (true, None),
        "a flat day reaches neither"
    );
    capture(&pool, "2026-11-24T01:00:00Z", "9999.99").await;
    assert_eq!(switch(&pool).await, (false, Some("max_drawdown".into())));

    switch_on(&pool, ", halt_on_drawdown = false").await;
    capture(&pool, "2026-11-24T02:00:00Z", "10000.00").await;
    assert_eq!(switch(&pool).await, (true, None));
    capture(&pool, "2026-11-24T03:00:00Z", "10000.01").await;
    assert_eq!(
        switch(&pool).await,
        (false, Some("daily_target_reached".into()))
    );
    assert_eq!(
        flips(&pool).await,
        [
            flip_by_database(
                "2026-11-24T01:00:00Z",
                HaltReason::MaxDrawdown,
                "The day's drawdown 0.01 reached max_drawdown_amount 0.00"
            ),
            flip_by_database(
                "2026-11-24T03:00:00Z",
                HaltReason::DailyTargetReached,
                "The day's P/L 0.01 reached daily_profit_target 0.00"
            ),
        ]
    );
}

#[tokio::test]
async fn a_capture_arriving_late_moves_the_day_but_halts_nothing_by_itself() {
    let (_db, pool) = desk("max_drawdown_amount = 300.00, daily_profit_target = 100000.00").await;
    capture(&pool, "2026-11-23T22:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T03:00:00Z", "10000.00").await;
    // The 02:00 capture arrives after the 03:00 one: the day's peak was 10500, so the
    // newest capture stands 500 below it, but a stale row does not halt...
    capture(&pool, "2026-11-24T02:00:00Z", "10500.00").await;
    assert_eq!(switch(&pool).await, (true, None));
    agrees(&pool, "the late capture counted").await;
    assert_eq!(guard_day(&pool).await.drawdown, Some(dec("500.00")));
    // ...the next capture is judged with it.
    capture(&pool, "2026-11-24T03:05:00Z", "10000.00").await;
    assert_eq!(
        flips(&pool).await,
        [flip_by_database(
            "2026-11-24T03:05:00Z",
            HaltReason::MaxDrawdown,
            "The day's drawdown 500.00 reached max_drawdown_amount 300.00"
        )]
    );

    // A capture at the same instant as the newest is judged too; the higher equity of the
    // two is the latest, as day_state breaks the tie.
    switch_on(
        &pool,
        ", max_drawdown_amount = 600.00, daily_profit_target = 1.00",
    )
    .await;
    capture(&pool, "2026-11-24T03:05:00Z", "9999.00").await;
    assert_eq!(
        switch(&pool).await,
        (true, None),
        "the lower one is not the latest"
    );
    agrees(&pool, "a tie, lower").await;
    capture(&pool, "2026-11-24T03:05:00Z", "10001.00").await;
    assert_eq!(
        switch(&pool).await,
        (false, Some("daily_target_reached".into()))
    );
    agrees(&pool, "a tie, higher").await;

    // Older than the day's opening capture: nothing changes. Between it and the day's
    // start: it opens the day.
    capture(&pool, "2026-11-23T12:00:00Z", "50000.00").await;
    agrees(&pool, "before the opening").await;
    capture(&pool, "2026-11-23T23:59:59Z", "9000.00").await;
    agrees(&pool, "a new opening").await;
    assert_eq!(guard_day(&pool).await.opening_equity, Some(dec("9000.00")));
}

#[tokio::test]
async fn changed_or_removed_captures_make_the_guard_work_the_day_out_again() {
    let (_db, pool) =
        desk("max_drawdown_amount = 100000.00, daily_profit_target = 100000.00").await;
    capture(&pool, "2026-11-16T12:00:00Z", "8000.00").await;
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10400.00").await;
    capture(&pool, "2026-11-24T02:00:00Z", "10100.00").await;
    agrees(&pool, "as written").await;

    // The platform's retention removes last week's rows: the day is untouched.
    sqlx::raw_sql("DELETE FROM snapshot_account WHERE captured_at < '2026-11-20'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(guard_day(&pool).await.valid);

    // The day's peak removed, the opening corrected by hand: worked out again.
    sqlx::raw_sql("DELETE FROM snapshot_account WHERE equity = 10400.00")
        .execute(&pool)
        .await
        .unwrap();
    assert!(!guard_day(&pool).await.valid);
    capture(&pool, "2026-11-24T03:00:00Z", "10100.00").await;
    agrees(&pool, "after a delete").await;
    assert_eq!(guard_day(&pool).await.peak_equity, Some(dec("10100.00")));
    sqlx::raw_sql("UPDATE snapshot_account SET equity = 9900.00 WHERE equity = 10000.00")
        .execute(&pool)
        .await
        .unwrap();
    assert!(!guard_day(&pool).await.valid);
    capture(&pool, "2026-11-24T03:05:00Z", "10100.00").await;
    agrees(&pool, "after an update").await;
    assert_eq!(guard_day(&pool).await.opening_equity, Some(dec("9900.00")));

    // Captures that went in behind the guard's back (its trigger off): seen, and counted.
    sqlx::raw_sql(
        "ALTER TABLE snapshot_account DISABLE TRIGGER snapshot_account_guard_day_limits;
         INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
              VALUES (gen_random_uuid(), 11000, 11000, 0, 11000, 0, 0, '2026-11-24T04:00:00Z');
         ALTER TABLE snapshot_account ENABLE TRIGGER snapshot_account_guard_day_limits;",
    )
    .execute(&pool)
    .await
    .unwrap();
    capture(&pool, "2026-11-24T05:00:00Z", "10900.00").await;
    agrees(&pool, "after captures behind its back").await;
    assert_eq!(guard_day(&pool).await.peak_equity, Some(dec("11000")));

    // Emptied: a new account's first capture opens its day.
    sqlx::raw_sql("TRUNCATE snapshot_account")
        .execute(&pool)
        .await
        .unwrap();
    assert!(!guard_day(&pool).await.valid);
    capture(&pool, "2026-11-25T05:00:00Z", "20000.00").await;
    agrees(&pool, "after a truncate").await;
    assert_eq!(guard_day(&pool).await.opened_before, Some(false));
}

#[tokio::test]
async fn a_collector_role_without_rights_on_tradedesks_objects_still_halts() {
    let (db, pool) = desk("max_drawdown_amount = 120.00").await;
    let role = format!("collector_{}", Uuid::new_v4().simple());
    sqlx::raw_sql(&format!(
        "CREATE ROLE {role} LOGIN; GRANT INSERT ON snapshot_account TO {role};"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let mut collector = PgConnection::connect(&common::url_as(&db.url, &role))
        .await
        .unwrap();
    capture(&mut collector, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&mut collector, "2026-11-24T01:00:00Z", "10050.00").await;
    capture(&mut collector, BREACH, "9926.60").await;
    collector.close().await.unwrap();
    assert_eq!(switch(&pool).await, (false, Some("max_drawdown".into())));
    sqlx::raw_sql(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .execute(&pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_halt_that_fails_keeps_the_capture_and_the_next_capture_halts() {
    let (_db, pool) = desk("max_drawdown_amount = 120.00").await;
    insert_strategy(&pool).await;
    let waiting = insert_idea(&pool, "waiting").await.unwrap();
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10050.00").await;
    // Something refuses the halt's audit rows.
    sqlx::raw_sql(
        "CREATE FUNCTION public.refuse_for_the_test() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
         CREATE TRIGGER refuse_for_the_test BEFORE INSERT ON decision_history
             FOR EACH ROW EXECUTE FUNCTION public.refuse_for_the_test();",
    )
    .execute(&pool)
    .await
    .unwrap();
    capture(&pool, BREACH, "9926.60").await;
    // The capture is kept, and the halt undone whole: no sweep without its switch.
    assert_eq!(
        count(&pool, "SELECT count(*) FROM snapshot_account").await,
        3
    );
    assert_eq!(switch(&pool).await, (true, None));
    assert_eq!(status_of(&pool, &waiting).await, "waiting");
    sqlx::raw_sql("DROP TRIGGER refuse_for_the_test ON decision_history")
        .execute(&pool)
        .await
        .unwrap();
    capture(&pool, "2026-11-24T02:00:05Z", "9926.60").await;
    assert_eq!(switch(&pool).await, (false, Some("max_drawdown".into())));
    assert_eq!(status_of(&pool, &waiting).await, "halted_by_risk");
}

/// One generated case: captures over three days, some before the first, at instants on a
/// coarse grid (so that ties and midnights are common), inserted a few at a time, some
/// statements out of order and some shuffled within.
fn generated(rng: &mut ChaCha8Rng) -> Vec<Vec<(DateTime<Utc>, Decimal)>> {
    let below = |rng: &mut ChaCha8Rng, n: u32| rng.next_u32() % n;
    let first_day = at("2026-11-20T00:00:00Z");
    // Three-hour slots: eight a day, the first at midnight; 0..8 are the day before.
    let mut slot = if below(rng, 2) == 0 { 8 } else { below(rng, 8) };
    let mut cents: i64 = 1_000_000;
    let mut rows = Vec::new();
    for _ in 0..6 + below(rng, 30) {
        let instant = first_day - Duration::days(1) + Duration::hours(3 * i64::from(slot));
        cents += i64::from(below(rng, 9_001)) - 4_500;
        rows.push((instant, Decimal::new(cents, 2)));
        slot = (slot + below(rng, 3)).min(31);
    }
    let mut statements: Vec<Vec<(DateTime<Utc>, Decimal)>> = Vec::new();
    let mut rest = rows.as_slice();
    while !rest.is_empty() {
        let take = (1 + below(rng, 3) as usize).min(rest.len());
        let mut statement = rest[..take].to_vec();
        rest = &rest[take..];
        if statement.len() > 1 && below(rng, 3) == 0 {
            statement.reverse();
        }
        statements.push(statement);
        let n = statements.len();
        if n > 1 && below(rng, 5) == 0 {
            statements.swap(n - 1, n - 2);
        }
    }
    statements
}

#[tokio::test(flavor = "multi_thread")]
async fn the_guard_and_day_state_agree_on_generated_days() {
    let (_db, pool) = desk("max_drawdown_amount = 100.00").await;
    let amounts = ["0.00", "40.00", "150.00", "100000.00"];
    let (mut judged, mut halts) = (0, 0);
    for seed in 0..40u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        sqlx::raw_sql("TRUNCATE snapshot_account")
            .execute(&pool)
            .await
            .unwrap();
        let pick = |rng: &mut ChaCha8Rng| amounts[(rng.next_u32() % 4) as usize];
        let (dd, target) = (pick(&mut rng), pick(&mut rng));
        let (halt_dd, stop) = (rng.next_u32() % 4 != 0, rng.next_u32() % 4 != 0);
        let on = format!(
            ", max_drawdown_amount = {dd}, daily_profit_target = {target},
               halt_on_drawdown = {halt_dd}, stop_after_target = {stop}"
        );
        switch_on(&pool, &on).await;
        let config = limits(&pool).await;
        let mut inserted: Vec<AccountSnapshot> = Vec::new();
        for (n, statement) in generated(&mut rng).into_iter().enumerate() {
            let context = format!("seed {seed}, statement {n}: {statement:?}");
            let flipped = flips(&pool).await.len();
            capture_all(&pool, &statement).await;
            inserted.extend(
                statement
                    .iter()
                    .map(|(t, e)| AccountSnapshot::of_equity(*e, *e, *t)),
            );
            let day = as_of_newest(&inserted);
            assert_same_day(&guard_day(&pool).await, &day, &context);

            let newest_here = statement.iter().map(|(t, _)| *t).max().unwrap();
            let expected = (newest_here >= day.as_of)
                .then(|| halt_trigger(&day, &config))
                .flatten();
            judged += usize::from(newest_here >= day.as_of);
            let now = flips(&pool).await;
            match expected {
                None => {
                    assert_eq!(switch(&pool).await, (true, None), "{context}");
                    assert_eq!(now.len(), flipped, "{context}");
                }
                Some(reason) => {
                    halts += 1;
                    assert_eq!(
                        switch(&pool).await,
                        (false, Some(reason.as_str().to_string())),
                        "{context}"
                    );
                    assert_eq!(now.len(), flipped + 1, "{context}");
                    let said = rationale(reason, &day, &config);
                    let when = day.as_of.to_rfc3339();
                    assert_eq!(
                        now.last().unwrap(),
                        &flip_by_database(&when, reason, &said),
                        "{context}"
                    );
                    switch_on(&pool, "").await;
                }
            }
        }
    }
    // The cases exercised both outcomes, and stale statements too.
    assert!(
        halts > 20 && judged > halts,
        "{halts} halts of {judged} judged"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_waits_for_an_approval_only_when_it_must_halt() {
    let (db, pool) = desk("max_drawdown_amount = 120.00").await;
    capture(&pool, "2026-11-23T23:00:00Z", "10000.00").await;
    capture(&pool, "2026-11-24T01:00:00Z", "10050.00").await;

    // An approval in progress holds the risk row (store/approve.rs: risk::lock first).
    let mut approval = PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN; SELECT * FROM risk_config WHERE id FOR UPDATE")
        .execute(&mut approval)
        .await
        .unwrap();
    // A capture within the limits goes straight in.
    let mut collector = PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("SET statement_timeout = '2s'")
        .execute(&mut collector)
        .await
        .unwrap();
    capture(&mut collector, "2026-11-24T01:05:00Z", "10040.00").await;
    // A breaching one must flip the switch: it waits for the approval, then halts.
    let halting = tokio::spawn(async move {
        capture(&mut collector, "2026-11-24T01:10:00Z", "9926.60").await;
        collector
    });
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert!(!halting.is_finished(), "it waits for the risk row");
    // The approval reads the account as it goes (the capture is not committed yet), and
    // commits.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM snapshot_account")
        .fetch_one(&mut approval)
        .await
        .unwrap();
    assert_eq!(n, 3);
    sqlx::raw_sql("COMMIT")
        .execute(&mut approval)
        .await
        .unwrap();
    let collector = tokio::time::timeout(StdDuration::from_secs(5), halting)
        .await
        .expect("the capture goes in once the approval commits")
        .unwrap();
    assert_eq!(switch(&pool).await, (false, Some("max_drawdown".into())));
    collector.close().await.unwrap();
    approval.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingestion_approvals_and_halts_at_once_never_deadlock() {
    let (db, pool) = desk("max_drawdown_amount = 50.00, max_concurrent_trades = 1000").await;
    insert_strategy(&pool).await;
    let store = Store::open(&db.target(), 4).await.unwrap();
    let ann = Operator::new("ann@desk").unwrap();
    let lot = Lot::parse("0.01").unwrap();
    const ROUNDS: usize = 60;

    // The collector: every capture in a transaction that lingers a moment, every other one
    // 60 below the last, so the guard halts whenever AI trading is on.
    let collector = {
        let conn = db.pool().await;
        tokio::spawn(async move {
            for n in 0..ROUNDS * 2 {
                let equity = if n % 2 == 0 { "10000.00" } else { "9940.00" };
                sqlx::raw_sql(&format!(
                    "BEGIN;
                     INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free,
                                                   open_pl, open_positions, captured_at)
                     VALUES ('{}', {equity}, {equity}, 0, {equity}, 0, 0, clock_timestamp());
                     SELECT pg_sleep(0.002);
                     COMMIT;",
                    Uuid::new_v4()
                ))
                .execute(&conn)
                .await
                .unwrap();
            }
            conn.close().await;
        })
    };
    // The engine: ideas waiting for the Gate (a halt sweeps them) and ideas for approval.
    let engine = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut for_approval = Vec::new();
            for _ in 0..ROUNDS {
                insert_idea(&pool, "waiting").await.unwrap();
                for_approval.push(insert_idea(&pool, "needs_approval").await.unwrap());
            }
            for_approval
        })
    };
    let for_approval = engine.await.unwrap();
    // The desk: approvals, and operators halting and resuming.
    let approvals = {
        let (store, ann) = (store.clone(), ann.clone());
        tokio::spawn(async move {
            for id in for_approval {
                store.approve(uuid(&id), lot, &ann).await.unwrap();
            }
        })
    };
    let switches = {
        let (store, ann) = (store.clone(), ann.clone());
        tokio::spawn(async move {
            for n in 0..ROUNDS {
                store.resume(&ann, "again").await.unwrap();
                if n % 3 == 0 {
                    store.halt("a look", &ann, false).await.unwrap();
                }
                tokio::time::sleep(StdDuration::from_millis(3)).await;
            }
        })
    };
    tokio::time::timeout(StdDuration::from_secs(120), async {
        collector.await.unwrap();
        approvals.await.unwrap();
        switches.await.unwrap();
    })
    .await
    .expect("all of it done within two minutes");
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE operator = 'database'
                AND symbol IS NULL"
        )
        .await
            > 0,
        "the guard halted along the way"
    );

    // No transaction was chosen as a deadlock's victim (the store would have retried it
    // quietly, the guard given its halt up): the server's count, once every session has
    // ended and reported.
    store.pool().close().await;
    pool.close().await;
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let mut deadlocks: i64 = 0;
    for _ in 0..20 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        sqlx::raw_sql("SELECT pg_stat_clear_snapshot()")
            .execute(&mut conn)
            .await
            .unwrap();
        deadlocks = sqlx::query_scalar(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
    }
    assert_eq!(deadlocks, 0);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_capture_dated_in_the_future_does_not_silence_the_guard() {
    let (_db, pool) = desk("max_drawdown_amount = 100.00").await;
    let now = Utc::now();
    let text = |t: DateTime<Utc>| t.to_rfc3339();
    capture(&pool, &text(now - Duration::minutes(2)), "10000.00").await;
    // A collector whose clock ran six hours ahead, once.
    capture(&pool, &text(now + Duration::hours(6)), "10000.00").await;
    assert_eq!(switch(&pool).await, (true, None));
    // The next real capture, 150 below the day's peak, is judged as the day's latest.
    capture(&pool, &text(now - Duration::minutes(1)), "9850.00").await;
    assert_eq!(
        switch(&pool).await,
        (false, Some("max_drawdown".to_string()))
    );
}

#[tokio::test]
async fn a_capture_never_waits_for_another_writers_open_transaction() {
    let (db, pool) = desk("max_drawdown_amount = 100.00").await;
    let now = Utc::now();
    let text = |t: DateTime<Utc>| t.to_rfc3339();
    capture(&pool, &text(now - Duration::minutes(3)), "10000.00").await;
    // A backfill of yesterday, its transaction left open.
    let mut backfill = PgConnection::connect(&db.url).await.unwrap();
    let mut open = backfill.begin().await.unwrap();
    capture(&mut *open, &text(now - Duration::days(1)), "9000.00").await;
    // The live capture goes in at once, and halts at once.
    tokio::time::timeout(
        StdDuration::from_secs(3),
        capture(&pool, &text(now - Duration::minutes(1)), "9880.00"),
    )
    .await
    .expect("the capture does not wait for the backfill");
    assert_eq!(
        switch(&pool).await,
        (false, Some("max_drawdown".to_string()))
    );
    open.commit().await.unwrap();
    backfill.close().await.unwrap();
    // The day the backfill kept missed the live capture; the next capture finds out.
    capture(&pool, &text(now), "9880.00").await;
    agrees(&pool, "after the backfill").await;
}

#[tokio::test]
async fn no_role_can_run_the_guard_or_the_chain_on_a_table_of_its_own() {
    let (db, pool) = desk("max_drawdown_amount = 100.00").await;
    let role = format!("intruder_{}", Uuid::new_v4().simple());
    sqlx::raw_sql(&format!(
        "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA tradedesk TO {role};
         GRANT TEMP ON DATABASE \"{}\" TO {role};",
        db.name
    ))
    .execute(&pool)
    .await
    .unwrap();
    let mut intruder = PgConnection::connect(&common::url_as(&db.url, &role))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TEMP TABLE t (captured_at timestamptz, equity numeric)")
        .execute(&mut intruder)
        .await
        .unwrap();
    for function in [
        "tradedesk_guard_day_limits",
        "tradedesk_forget_account_day",
        "tradedesk_audit_link",
        "tradedesk_audit_seal",
        "tradedesk_audit_archive",
    ] {
        let err = sqlx::raw_sql(&format!(
            "CREATE TRIGGER g AFTER INSERT ON t FOR EACH STATEMENT
             EXECUTE FUNCTION tradedesk.{function}()"
        ))
        .execute(&mut intruder)
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{function}: {err}"
        );
    }
    intruder.close().await.unwrap();
    // And the owner attaching one elsewhere by mistake is refused when it fires.
    let err = sqlx::raw_sql(
        "CREATE TABLE public.not_snapshots (captured_at timestamptz, equity numeric);
         CREATE TRIGGER g AFTER INSERT ON public.not_snapshots REFERENCING NEW TABLE AS inserted
             FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_guard_day_limits();
         INSERT INTO public.not_snapshots VALUES (now(), 1e12);",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    assert!(err.to_string().contains("trigger only"), "{err}");
    assert_eq!(switch(&pool).await, (true, None));
    sqlx::raw_sql(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .execute(&pool)
        .await
        .unwrap();
}
