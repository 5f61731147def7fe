//! How fast a human approval is, against the bare SQL floor of the same act.
//!
//! `cargo bench --bench approve` makes a scratch database with one strategy open at every
//! hour, an account snapshot and BENCH_IDEAS ideas awaiting approval (default 2 000), then
//! approves them one after another, taking turns between
//! - `Store::approve` (the Gate re-run on data read under the risk lock, the order and the
//!   audit row, one transaction, from a pool);
//! - the same SQL statements sent by hand on one connection with nothing in between;
//! - the minimal approval (lock the risk row and the idea, the latest account, the open
//!   count, the status, the decision row, commit) on a database set up for tradedesk (its
//!   triggers: the audit chain, the kill switch's guard, the notifications);
//! - the same minimal approval on a database holding the platform's Phase-1 schema alone.
//!
//! It prints approvals per second and latency percentiles for each; the goal is
//! `Store::approve` at least 0.75× the minimal approval with tradedesk's triggers. It
//! asserts nothing.

mod support;

use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};
use support::{STRATEGY, drop_db, scratch, seed_approvable, summary};
use tradedesk::domain::Lot;
use tradedesk::operator::Operator;
use tradedesk::store::Store;
use tradedesk::store::approve::Approval;
use uuid::Uuid;

const DATABASE: &str = "tradedesk_bench_approve";
const MINIMAL: &str = "tradedesk_bench_approve_minimal";
const PHASE1: &str = "tradedesk_bench_approve_phase1";

#[tokio::main]
async fn main() {
    let ideas: usize = std::env::var("BENCH_IDEAS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let (mut admin, url, target) = scratch(DATABASE).await;
    let mut floor = PgConnection::connect(&url).await.expect("connect");
    seed_approvable(&mut floor, ideas).await;
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM trade_ideas ORDER BY id")
        .fetch_all(&mut floor)
        .await
        .expect("the ideas");
    // The minimal approval on its own database, twice: as set up for tradedesk (its
    // triggers), and with the platform's Phase-1 schema alone (migration 1, no trigger).
    let minimal_ideas = ideas / 2;
    let (_, minimal_url, _) = scratch(MINIMAL).await;
    let mut minimal = PgConnection::connect(&minimal_url).await.expect("connect");
    seed_approvable(&mut minimal, minimal_ideas).await;
    let phase1_url = phase1_only(&mut admin, &minimal_url).await;
    let mut phase1 = PgConnection::connect(&phase1_url).await.expect("connect");
    seed_approvable(&mut phase1, minimal_ideas).await;
    let minimal_ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM trade_ideas ORDER BY id")
        .fetch_all(&mut minimal)
        .await
        .expect("the ideas");
    let phase1_ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM trade_ideas ORDER BY id")
        .fetch_all(&mut phase1)
        .await
        .expect("the ideas");

    let store = Store::open(&target, 4).await.expect("open");
    let operator = Operator::new("bench@desk").expect("an operator");
    let lot = Lot::parse("0.01").expect("a lot");

    // Warm every path (prepared statements, caches) before measuring; the four take turns,
    // so that each sees the machine as the others do.
    let warm = 10;
    let (mut ours, mut bare, mut with, mut without) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (n, pair) in ids.chunks(2).enumerate() {
        let start = Instant::now();
        let approval = store
            .approve(pair[0], lot, &operator)
            .await
            .expect("approve");
        assert!(
            matches!(approval, Approval::Executed { .. }),
            "{approval:?}"
        );
        let took = start.elapsed();
        if n >= warm {
            ours.push(took);
        }
        if let Some(id) = pair.get(1) {
            let start = Instant::now();
            bare_approve(&mut floor, *id).await;
            if n >= warm {
                bare.push(start.elapsed());
            }
        }
        if let Some(id) = minimal_ids.get(n) {
            let start = Instant::now();
            minimal_approve(&mut minimal, *id).await;
            if n >= warm {
                with.push(start.elapsed());
            }
        }
        if let Some(id) = phase1_ids.get(n) {
            let start = Instant::now();
            minimal_approve(&mut phase1, *id).await;
            if n >= warm {
                without.push(start.elapsed());
            }
        }
    }
    let rate = |samples: &[Duration]| {
        samples.len() as f64 / samples.iter().sum::<Duration>().as_secs_f64()
    };
    let (ours_rate, bare_rate, with_rate, without_rate) =
        (rate(&ours), rate(&bare), rate(&with), rate(&without));
    println!(
        "{} approvals each way, taking turns, one after another, on one machine",
        ours.len()
    );
    println!(
        "Store::approve                         {:>5.0}/s   {}",
        ours_rate,
        summary(&mut ours)
    );
    println!(
        "its statements, sent by hand           {:>5.0}/s   {}   ({:.2}×)",
        bare_rate,
        summary(&mut bare),
        ours_rate / bare_rate
    );
    println!(
        "minimal approval, tradedesk's triggers {:>5.0}/s   {}",
        with_rate,
        summary(&mut with)
    );
    println!(
        "minimal approval, Phase-1 schema alone {:>5.0}/s   {}",
        without_rate,
        summary(&mut without)
    );
    println!(
        "Store::approve is {:.2}× the minimal approval with tradedesk's triggers (goal ≥ 0.75×: {}), \
         {:.2}× it without them",
        ours_rate / with_rate,
        if ours_rate / with_rate >= 0.75 {
            "met"
        } else {
            "NOT met"
        },
        ours_rate / without_rate
    );

    store.pool().close().await;
    floor.close().await.ok();
    minimal.close().await.ok();
    phase1.close().await.ok();
    drop_db(&mut admin, DATABASE).await;
    drop_db(&mut admin, MINIMAL).await;
    drop_db(&mut admin, PHASE1).await;
}

/// A database with the platform's Phase-1 schema alone (migration 1 as written), on the
/// server of `like`.
async fn phase1_only(admin: &mut PgConnection, like: &str) -> String {
    sqlx::query(&format!("DROP DATABASE IF EXISTS {PHASE1} WITH (FORCE)"))
        .execute(&mut *admin)
        .await
        .expect("drop the old Phase-1 database");
    sqlx::query(&format!("CREATE DATABASE {PHASE1}"))
        .execute(&mut *admin)
        .await
        .expect("create the Phase-1 database");
    let url = support::with_database(like, PHASE1);
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql(include_str!("../migrations/0001_phase1_schema.sql"))
        .execute(&mut conn)
        .await
        .expect("the Phase-1 schema");
    sqlx::raw_sql(
        "INSERT INTO risk_config (id, max_lot_size, max_concurrent_trades, daily_profit_target,
                                  max_drawdown_amount)
         VALUES (true, 1.0, 3, 2000, 1000)",
    )
    .execute(&mut conn)
    .await
    .expect("the risk row");
    conn.close().await.ok();
    url
}

/// The least an approval can be: lock the risk row and the idea, read the latest account
/// and the open trades, set the status, write the decision row (as the platform writes it:
/// no operator column in Phase 1), commit.
async fn minimal_approve(conn: &mut PgConnection, id: Uuid) {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query(
        "SELECT ai_trading_enabled, max_concurrent_trades FROM risk_config WHERE id FOR UPDATE",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("the risk row");
    sqlx::query(
        "SELECT symbol, confidence_score, status::text, strategy_id, snapshot_ref
           FROM trade_ideas WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .expect("the idea");
    sqlx::query(
        "SELECT equity, open_positions FROM snapshot_account ORDER BY captured_at DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await
    .expect("the account");
    sqlx::query("SELECT count(*) FROM trade_ideas WHERE status = 'auto_executed'")
        .fetch_one(&mut *tx)
        .await
        .expect("open trades");
    sqlx::query(
        "UPDATE trade_ideas SET status = 'auto_executed', updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("status");
    sqlx::query(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, strategy_id,
                                       trade_idea_id, snapshot_ref, human_override)
         VALUES ($1, clock_timestamp(), 'EURUSD', 'human_approved', 'approved with lot 0.01',
                 92.5, 'pass', $2::uuid, $3, $3, true)",
    )
    .bind(Uuid::now_v7())
    .bind(STRATEGY)
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("decision");
    tx.commit().await.expect("commit");
}

/// The statements `Store::approve` sends, sent by hand with nothing in between: the risk
/// lock, the idea and its strategy under lock with the clock, what the checks read (the
/// day's snapshots, open trades since the latest of them — the seeded capture's positions
/// and time written in — with the calendar), then the status, the order and the decision
/// row in one statement.
/// The same SQL text, so the difference is tradedesk's own cost.
async fn bare_approve(conn: &mut PgConnection, id: Uuid) {
    let mut tx = conn.begin().await.expect("begin");
    let steps: [(&str, Option<Uuid>); 4] = [
        (
            "SELECT ai_trading_enabled, min_confidence_threshold, max_lot_size,
                    max_concurrent_trades, daily_profit_target, stop_after_target,
                    max_drawdown_amount, halt_on_drawdown, allow_off_watchlist_autotrade,
                    last_halt_reason, updated_at
               FROM risk_config WHERE id FOR UPDATE",
            None,
        ),
        (
            "WITH locked AS MATERIALIZED (
                 SELECT i.id, i.symbol, i.direction, i.entry_price, i.entry_range,
                        i.stop_loss, i.take_profit, i.expected_hold, i.rationale,
                        i.confidence_score, i.status::text AS status, i.strategy_id,
                        s.name AS strategy_name, i.snapshot_ref, i.created_at, i.updated_at
                   FROM trade_ideas i LEFT JOIN strategies s ON s.id = i.strategy_id
                  WHERE i.id = $1 FOR NO KEY UPDATE OF i),
                  rules AS MATERIALIZED (
                      SELECT ROW(s.id, s.name, s.is_active, s.allowed_symbols, s.session_windows,
                                 s.entry_conditions, s.exit_rules, s.forbidden_conditions,
                                 s.risk_caps, s.rr_expectation, s.created_at, s.updated_at) AS strategy
                        FROM strategies s JOIN locked l ON s.id = l.strategy_id FOR SHARE OF s)
             SELECT locked.*, (SELECT strategy FROM rules) AS strategy, clock_timestamp() AS clock
               FROM locked",
            Some(id),
        ),
        (
            "(SELECT id, balance, equity, margin_used, margin_free, open_pl, open_positions,
                     captured_at FROM snapshot_account
               WHERE captured_at < date_trunc('day', now()) ORDER BY captured_at DESC LIMIT 1)
             UNION ALL
             (SELECT id, balance, equity, margin_used, margin_free, open_pl, open_positions,
                     captured_at FROM snapshot_account
               WHERE captured_at >= date_trunc('day', now()) AND captured_at <= now()
               ORDER BY captured_at)
             ORDER BY captured_at",
            None,
        ),
        (
            "WITH counts AS (
                 SELECT 0::integer
                        + (SELECT count(*) FROM tradedesk.executions e
                            WHERE e.state IN ('pending', 'sent', 'filled') AND e.closed_at IS NULL
                              AND e.requested_at > coalesce(now() - interval '1 hour', '-infinity'))
                        AS total,
                        (SELECT count(*) FROM tradedesk.executions e
                          WHERE e.strategy_id = $1 AND e.state IN ('pending', 'sent', 'filled')
                            AND e.closed_at IS NULL AND e.requested_at >= date_trunc('day', now()))
                        AS for_strategy
             )
             SELECT counts.total, counts.for_strategy,
                    c.event_time, c.currency, c.impact_level, c.title
               FROM counts LEFT JOIN LATERAL (
                    SELECT DISTINCT ON (currency, event_time, title)
                           event_time, currency, impact_level, title
                      FROM snapshot_calendar
                     WHERE event_time BETWEEN now() - interval '24 hours' AND now() + interval '24 hours'
                     ORDER BY currency, event_time, title, captured_at DESC) c ON true",
            Some(Uuid::parse_str(STRATEGY).expect("a UUID")),
        ),
    ];
    for (sql, bind) in steps {
        let mut query = sqlx::query(sql);
        if let Some(value) = bind {
            query = query.bind(value);
        }
        query
            .fetch_all(&mut *tx)
            .await
            .expect("a read of the checks");
    }
    sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
        "WITH decided AS (
             UPDATE trade_ideas SET status = $4::tradeideastatus, updated_at = now() WHERE id = $3
         ), ordered AS (
             INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at)
             VALUES ($5, $3, 0.01, 'bench@desk', clock_timestamp())
         )
         INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, strategy_id,
                                       trade_idea_id, snapshot_ref, human_override, operator)
         VALUES ($1, clock_timestamp(), 'EURUSD', 'human_approved', 'approved with lot 0.01',
                 92.5, 'pass', $2::uuid, $3, $3, true, 'bench@desk')
         RETURNING occurred_at",
    )
    .bind(Uuid::now_v7())
    .bind(STRATEGY)
    .bind(id)
    .bind("auto_executed")
    .bind(Uuid::now_v7())
    .fetch_one(&mut *tx)
    .await
    .expect("status, order and decision");
    tx.commit().await.expect("commit");
}
