//! How fast a decision's replay opens in a database of a year's history.
//!
//! `cargo bench --bench replay` fills a scratch database with a year of M1 candles for five
//! symbols (BENCH_CANDLE_DAYS, default 365: ~2.6 M rows), indicators every five minutes, an
//! account snapshot every minute, the calendar and headlines of the year, and BENCH_DECISIONS
//! decisions (default 10 000 000; one in twenty about an idea of its own, with its snapshot),
//! all by `generate_series`. It then times `Store::replay` for a decision a year old and for
//! a recent one, and `Store::replay_idea` for a year-old idea, and prints p50 / p99 / max
//! next to the goal (≤ 30 ms). It asserts nothing. The server is `DATABASE_URL`'s, else an
//! embedded cluster in the temp directory; BENCH_KEEP=1 leaves the database for EXPLAIN.

use std::time::{Duration, Instant};

use tradedesk::store::Store;
use uuid::Uuid;

mod support;

const DATABASE: &str = "tradedesk_bench_replay";
const RUNS: usize = 200;
const GOAL_MS: f64 = 30.0;
/// The end of the history: every row is older.
const END: &str = "2026-11-25 00:00:00+00";

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn fill(store: &Store, label: &str, sql: &str, binds: &[i64]) {
    let start = Instant::now();
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    let done = q.execute(store.pool()).await.expect(label);
    println!(
        "  {label:<28} {:>10} rows in {:>6.1} s",
        done.rows_affected(),
        start.elapsed().as_secs_f64()
    );
}

async fn time<F, Fut>(label: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    // Warm the cache and the connection's statements, as an open console has.
    for _ in 0..5 {
        f().await;
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut seen = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        seen = f().await;
        samples.push(start.elapsed());
    }
    let p99 = {
        let mut sorted = samples.clone();
        sorted.sort();
        support::ms(support::percentile(&sorted, 99))
    };
    println!(
        "{label:<40} {seen:>3} candles   {}   goal p99 ≤ {GOAL_MS} ms {}",
        support::summary(&mut samples),
        if p99 <= GOAL_MS { "(met)" } else { "(MISSED)" }
    );
}

#[tokio::main]
async fn main() {
    let decisions = env_or("BENCH_DECISIONS", 10_000_000).max(100);
    let days = env_or("BENCH_CANDLE_DAYS", 365).max(2);
    let minutes = days * 1440;
    let (mut admin, _url, target) = support::scratch(DATABASE).await;
    let store = Store::open(&target, 4).await.expect("open");

    println!("filling {days} days of history and {decisions} decisions:");
    let start = Instant::now();
    // The rows of the fill are not changes a console must hear of: ten million
    // notifications in one transaction would only slow it down.
    let notify_triggers = [
        ("decision_history", "decision_history_notify"),
        ("trade_ideas", "trade_ideas_notify"),
        ("snapshot_account", "snapshot_account_notify"),
    ];
    for (table, trigger) in notify_triggers {
        sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
            .execute(store.pool())
            .await
            .expect("quiet the fill");
    }
    fill(
        &store,
        "strategy",
        r#"INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                   entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                   rr_expectation, created_at, updated_at)
           VALUES (md5('strategy')::uuid, 'Bench breakout', true,
                   '{EURUSD,GBPUSD,USDJPY,XAUUSD,AUDUSD}',
                   '[{"start": "00:00Z", "end": "24:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}]',
                   '{"trend_alignment": "bullish", "rsi_below": 40}',
                   '{"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=2"}',
                   '{"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["USD", "GBP"]}',
                   '{"max_lot_size": 0.5, "max_concurrent_positions": 2}', 2.00, now(), now())"#,
        &[],
    )
    .await;
    fill(
        &store,
        "snapshot_market (M1)",
        &format!(
            "INSERT INTO snapshot_market (id, symbol, timeframe, open, high, low, close, volume,
                                          captured_at)
             SELECT gen_random_uuid(), s.symbol, 'M1', p, p + 0.0004, p - 0.0003, p + 0.0001,
                    100 + m % 50, timestamptz '{END}' - m * interval '1 minute'
               FROM generate_series(0, $1::bigint) m,
                    unnest('{{EURUSD,GBPUSD,USDJPY,XAUUSD,AUDUSD}}'::text[],
                           '{{1.08,1.26,151.2,2650,0.66}}'::numeric[]) AS s(symbol, base),
                    LATERAL (SELECT round(s.base * (1 + 0.01 * sin(m / 500.0))::numeric, 6) AS p) x"
        ),
        &[minutes],
    )
    .await;
    fill(
        &store,
        "snapshot_indicators (M1/5m)",
        &format!(
            "INSERT INTO snapshot_indicators (id, symbol, timeframe, rsi_14, sma_50, sma_200, macd,
                                              atr, captured_at)
             SELECT gen_random_uuid(), s, 'M1', 30 + m % 40, 1.08, 1.07,
                    '{{\"macd\": 0.0004, \"signal\": 0.0003, \"hist\": 0.0001}}', 0.0008,
                    timestamptz '{END}' - m * interval '1 minute'
               FROM generate_series(0, $1::bigint, 5) m,
                    unnest('{{EURUSD,GBPUSD,USDJPY,XAUUSD,AUDUSD}}'::text[]) s"
        ),
        &[minutes],
    )
    .await;
    fill(
        &store,
        "snapshot_account (1/min)",
        &format!(
            "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                           open_positions, captured_at)
             SELECT md5('acct' || m)::uuid, 25000.00,
                    round((25000 + 300 * sin(m / 97.0))::numeric, 2), 600.00,
                    round((24400 + 300 * sin(m / 97.0))::numeric, 2),
                    round((300 * sin(m / 97.0))::numeric, 2), m % 3,
                    timestamptz '{END}' - m * interval '1 minute'
               FROM generate_series(0, $1::bigint) m"
        ),
        &[minutes],
    )
    .await;
    fill(
        &store,
        "snapshot_calendar",
        &format!(
            "INSERT INTO snapshot_calendar (id, event_time, currency, impact_level, title,
                                            previous_value, forecast_value, actual_value,
                                            captured_at)
             SELECT gen_random_uuid(), t, c, CASE WHEN e % 3 = 0 THEN 'high' ELSE 'medium' END,
                    'Event ' || e, '0.1%', '0.2%', CASE WHEN k = 1 THEN '0.3%' END,
                    t + CASE WHEN k = 0 THEN interval '-1 day' ELSE interval '1 minute' END
               FROM generate_series(0, $1::bigint) d, generate_series(0, 7) e,
                    generate_series(0, 1) k,
                    LATERAL (SELECT date_trunc('day', timestamptz '{END}') - d * interval '1 day'
                                    + (7 + e * 1.5) * interval '1 hour' AS t,
                                    (ARRAY['USD','EUR','GBP','JPY','AUD','CAD','CHF','NZD'])[1 + e] AS c) x"
        ),
        &[days],
    )
    .await;
    fill(
        &store,
        "snapshot_news",
        &format!(
            "INSERT INTO snapshot_news (id, headline, source, symbols, published_at, captured_at)
             SELECT gen_random_uuid(), 'Headline ' || h, 'wire',
                    ARRAY[(ARRAY['EURUSD','GBPUSD','USDJPY','XAUUSD','AUDUSD','USD','EUR'])[1 + h % 7]],
                    timestamptz '{END}' - h * interval '30 minutes',
                    timestamptz '{END}' - h * interval '30 minutes' + interval '20 seconds'
               FROM generate_series(0, $1::bigint) h"
        ),
        &[days * 48],
    )
    .await;
    // One decision in twenty is about an idea of its own, made on the account snapshot of
    // its minute; the rest are the timeline's mix.
    let spacing = "($2::bigint * 86400.0 / $1::bigint)";
    fill(
        &store,
        "trade_ideas",
        &format!(
            "INSERT INTO trade_ideas (id, symbol, direction, entry_price, stop_loss, take_profit,
                                      expected_hold, rationale, confidence_score, status,
                                      strategy_id, snapshot_ref, created_at, updated_at)
             SELECT md5('idea' || g)::uuid, s, 'buy', 1.0856, 1.0842, '{{1.0878,1.0899}}',
                    'scalp_30m', 'bench idea ' || g, 91.00, 'needs_approval',
                    md5('strategy')::uuid, md5('acct' || ceil(g * {spacing} / 60)::bigint)::uuid,
                    t, t
               FROM generate_series(0, $1::bigint - 1, 20) g,
                    LATERAL (SELECT timestamptz '{END}' - g * {spacing} * interval '1 second' AS t,
                                    (ARRAY['EURUSD','GBPUSD','USDJPY','XAUUSD','AUDUSD'])[1 + (g / 20) % 5] AS s) x"
        ),
        &[decisions, days],
    )
    .await;
    fill(
        &store,
        "decision_history",
        &format!(
            "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                           confidence_score, risk_check_result, strategy_id,
                                           trade_idea_id, snapshot_ref, human_override, operator)
             SELECT gen_random_uuid(), timestamptz '{END}' - g * {spacing} * interval '1 second',
                    CASE WHEN g % 20 = 0
                         THEN (ARRAY['EURUSD','GBPUSD','USDJPY','XAUUSD','AUDUSD'])[1 + (g / 20) % 5]
                         ELSE (ARRAY['EURUSD','GBPUSD','USDJPY','XAUUSD','AUDUSD'])[1 + g % 5] END,
                    (ARRAY['ai_proposed','ai_proposed','ai_proposed','ai_auto_executed',
                           'risk_rejected','human_approved','human_rejected'])[1 + g % 7]::decisionaction,
                    'bench row ' || g, 91.00, 'pass',
                    CASE WHEN g % 20 = 0 THEN md5('strategy')::uuid END,
                    CASE WHEN g % 20 = 0 THEN md5('idea' || g)::uuid END,
                    CASE WHEN g % 20 = 0
                         THEN md5('acct' || ceil(g * {spacing} / 60)::bigint)::uuid END,
                    g % 7 IN (5, 6),
                    CASE WHEN g % 7 IN (5, 6) THEN (ARRAY['ann@desk','bob@desk'])[1 + g % 2] END
               FROM generate_series(0, $1::bigint - 1) g"
        ),
        &[decisions, days],
    )
    .await;
    fill(
        &store,
        "halts and resumes",
        &format!(
            "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                           risk_check_result, human_override, operator)
             SELECT gen_random_uuid(), timestamptz '{END}' - w * interval '7 days' + k * interval '2 hours',
                    NULL, (ARRAY['ai_halted','ai_resumed'])[1 + k]::decisionaction,
                    'weekly pause', CASE WHEN k = 0 THEN 'fail:max_drawdown' ELSE 'pass' END,
                    k = 1, CASE WHEN k = 1 THEN 'raj@desk' END
               FROM generate_series(0, $1::bigint / 7) w, generate_series(0, 1) k"
        ),
        &[days],
    )
    .await;
    fill(
        &store,
        "risk limit edits",
        &format!(
            "INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, change,
                                                   before, after)
             SELECT gen_random_uuid(), timestamptz '{END}' - w * interval '30 days', 'raj@desk',
                    'risk_config', 'max_lot_size=0.75', d, d
               FROM generate_series(0, $1::bigint / 30) w,
                    LATERAL (SELECT jsonb_build_object(
                        'ai_trading_enabled', true, 'min_confidence_threshold', '90.0',
                        'max_lot_size', '0.75', 'max_concurrent_trades', 3,
                        'daily_profit_target', '2000.00', 'stop_after_target', true,
                        'max_drawdown_amount', '1000.00', 'halt_on_drawdown', true,
                        'allow_off_watchlist_autotrade', false, 'last_halt_reason', NULL) AS d) x"
        ),
        &[days],
    )
    .await;
    for (table, trigger) in notify_triggers {
        sqlx::query(&format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
            .execute(store.pool())
            .await
            .expect("announce changes again");
    }
    for table in [
        "snapshot_market",
        "snapshot_indicators",
        "snapshot_account",
        "snapshot_calendar",
        "snapshot_news",
        "trade_ideas",
        "decision_history",
        "tradedesk.config_changes",
    ] {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(store.pool())
            .await
            .expect("analyze");
    }
    println!("filled in {:.1} s", start.elapsed().as_secs_f64());

    // A decision about an idea a year old (five days after the history starts), and the
    // newest one about an idea.
    let pick = |sql: &'static str| {
        let store = store.clone();
        async move {
            let id: Uuid = sqlx::query_scalar(sql)
                .bind(days)
                .fetch_one(store.pool())
                .await
                .expect("a decision to replay");
            id
        }
    };
    let old = pick(
        "SELECT id FROM decision_history
          WHERE occurred_at >= timestamptz '2026-11-25 00:00:00+00' - ($1::bigint - 5) * interval '1 day'
            AND symbol = 'EURUSD' AND trade_idea_id IS NOT NULL
          ORDER BY occurred_at LIMIT 1",
    )
    .await;
    let recent = pick(
        "SELECT id FROM decision_history
          WHERE occurred_at <= timestamptz '2026-11-25 00:00:00+00' - interval '2 hours'
            AND symbol = 'EURUSD' AND trade_idea_id IS NOT NULL AND $1::bigint > 0
          ORDER BY occurred_at DESC LIMIT 1",
    )
    .await;
    let old_idea: Uuid =
        sqlx::query_scalar("SELECT trade_idea_id FROM decision_history WHERE id = $1")
            .bind(old)
            .fetch_one(store.pool())
            .await
            .expect("its idea");

    let replay = |id: Uuid| {
        let store = store.clone();
        async move {
            let r = store.replay(id).await.expect("a replay");
            assert!(r.missing.is_empty(), "{:?}", r.missing);
            r.market.map_or(0, |m| m.candles.len())
        }
    };
    time("replay of a decision a year old", || replay(old)).await;
    time("replay of a recent decision", || replay(recent)).await;
    time("replay of an idea a year old (Enter)", || {
        let store = store.clone();
        async move {
            let r = store.replay_idea(old_idea).await.expect("a replay");
            r.market.map_or(0, |m| m.candles.len())
        }
    })
    .await;

    store.pool().close().await;
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept database {DATABASE}");
    } else {
        support::drop_db(&mut admin, DATABASE).await;
    }
}
