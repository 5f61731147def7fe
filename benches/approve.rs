//! How fast a human approval is, against the bare SQL floor of the same act.
//!
//! `cargo bench --bench approve` makes a scratch database with one strategy open at every
//! hour, an account snapshot and BENCH_IDEAS ideas awaiting approval (default 2 000), then
//! approves them one after another, alternating between `Store::approve` (the Gate re-run
//! on data read under the risk lock, the order and the audit row, one transaction, from a
//! pool) and the same SQL statements sent by hand on one connection with nothing in
//! between (the floor). It prints approvals per second and latency percentiles for each,
//! and their ratio; the goal is at least 0.75× the floor. It asserts nothing.

mod support;

use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};
use support::{STRATEGY, drop_db, ms, scratch, seed_approvable, summary};
use tradedesk::domain::Lot;
use tradedesk::operator::Operator;
use tradedesk::store::Store;
use tradedesk::store::approve::Approval;
use uuid::Uuid;

const DATABASE: &str = "tradedesk_bench_approve";

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
    let store = Store::open(&target, 4).await.expect("open");
    let operator = Operator::new("bench@desk").expect("an operator");
    let lot = Lot::parse("0.01").expect("a lot");

    // Warm both paths (prepared statements, caches) before measuring.
    let warm = ids.len().min(20);
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for (n, id) in ids.iter().enumerate() {
        let start = Instant::now();
        if n % 2 == 0 {
            let approval = store.approve(*id, lot, &operator).await.expect("approve");
            assert!(
                matches!(approval, Approval::Executed { .. }),
                "{approval:?}"
            );
            if n >= warm {
                ours.push(start.elapsed());
            }
        } else {
            bare_approve(&mut floor, *id).await;
            if n >= warm {
                bare.push(start.elapsed());
            }
        }
    }
    let rate = |samples: &[Duration]| {
        samples.len() as f64 / samples.iter().sum::<Duration>().as_secs_f64()
    };
    let (ours_rate, bare_rate) = (rate(&ours), rate(&bare));
    println!(
        "{} approvals each way, one after another, on one machine",
        ours.len()
    );
    println!(
        "Store::approve   {:>7.0} approvals/s   {}",
        ours_rate,
        summary(&mut ours)
    );
    println!(
        "bare SQL floor   {:>7.0} approvals/s   {}",
        bare_rate,
        summary(&mut bare)
    );
    println!(
        "ratio            {:.2}× the floor (goal ≥ 0.75×)",
        ours_rate / bare_rate
    );
    let mean = |s: &[Duration]| s.iter().sum::<Duration>() / s.len().max(1) as u32;
    println!(
        "mean             {:.3} ms vs {:.3} ms",
        ms(mean(&ours)),
        ms(mean(&bare))
    );

    store.pool().close().await;
    floor.close().await.ok();
    drop_db(&mut admin, DATABASE).await;
}

/// The statements `Store::approve` sends, sent by hand with nothing in between: the risk
/// lock, the idea under lock, what the checks read (the clock, the strategy, the day's
/// snapshots, open trades, the calendar), then the status, the order and the decision row.
/// The same SQL text, so the difference is tradedesk's own cost.
async fn bare_approve(conn: &mut PgConnection, id: Uuid) {
    let mut tx = conn.begin().await.expect("begin");
    let steps: [(&str, Option<Uuid>); 7] = [
        (
            "SELECT ai_trading_enabled, min_confidence_threshold, max_lot_size,
                    max_concurrent_trades, daily_profit_target, stop_after_target,
                    max_drawdown_amount, halt_on_drawdown, allow_off_watchlist_autotrade,
                    last_halt_reason, updated_at
               FROM risk_config WHERE id FOR UPDATE",
            None,
        ),
        (
            "SELECT i.id, i.symbol, i.direction, i.entry_price, i.entry_range,
                    i.stop_loss, i.take_profit, i.expected_hold, i.rationale,
                    i.confidence_score, i.status::text AS status, i.strategy_id,
                    s.name AS strategy_name, i.snapshot_ref, i.created_at, i.updated_at
               FROM trade_ideas i LEFT JOIN strategies s ON s.id = i.strategy_id
              WHERE i.id = $1 FOR NO KEY UPDATE OF i",
            Some(id),
        ),
        ("SELECT clock_timestamp()", None),
        (
            "SELECT id, name, is_active, allowed_symbols, session_windows, entry_conditions,
                    exit_rules, forbidden_conditions, risk_caps, rr_expectation, created_at,
                    updated_at
               FROM strategies WHERE id = $1 FOR SHARE",
            Some(Uuid::parse_str(STRATEGY).expect("a UUID")),
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
            "WITH latest AS (
                 SELECT open_positions, captured_at FROM snapshot_account
                  ORDER BY captured_at DESC LIMIT 1
             )
             SELECT coalesce((SELECT open_positions FROM latest), 0)
                    + (SELECT count(*) FROM tradedesk.executions e
                        WHERE e.state IN ('pending', 'sent', 'filled')
                          AND e.requested_at > coalesce((SELECT captured_at FROM latest), '-infinity')),
                    (SELECT count(*) FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
                      WHERE i.strategy_id = $1 AND e.state IN ('pending', 'sent', 'filled')
                        AND e.requested_at >= date_trunc('day', now()))",
            Some(Uuid::parse_str(STRATEGY).expect("a UUID")),
        ),
        (
            "SELECT DISTINCT ON (currency, event_time, title) event_time, currency, impact_level, title
               FROM snapshot_calendar
              WHERE event_time BETWEEN now() - interval '24 hours' AND now() + interval '24 hours'
              ORDER BY currency, event_time, title, captured_at DESC",
            None,
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
    sqlx::query(
        "UPDATE trade_ideas SET status = $2::tradeideastatus, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind("auto_executed")
    .execute(&mut *tx)
    .await
    .expect("status");
    sqlx::query(
        "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at)
         VALUES ($1, $2, 0.01, 'bench@desk', clock_timestamp())",
    )
    .bind(Uuid::now_v7())
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("order");
    sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, strategy_id,
                                       trade_idea_id, snapshot_ref, human_override, operator)
         VALUES ($1, clock_timestamp(), 'EURUSD', 'human_approved', 'approved with lot 0.01',
                 92.5, 'pass', $2::uuid, $3, $3, true, 'bench@desk')
         RETURNING occurred_at",
    )
    .bind(Uuid::now_v7())
    .bind(STRATEGY)
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .expect("decision");
    tx.commit().await.expect("commit");
}
