//! What the database's limit guard (migration 8) costs each account capture.
//!
//! `cargo bench --bench guard` makes a scratch database holding the day before in full
//! (BENCH_DAY captures, default 17 280: one every 5 s), then inserts a whole day the way
//! the platform's collector does — one INSERT and commit per capture, on one connection,
//! with AI trading on and the limits not reached (the path every capture takes) — first
//! with the guard's trigger disabled, then the next day with it on. It prints inserts per
//! second and latency percentiles for each, the guard's cost per insert against the goal
//! (ingestion every 5 s never waits: ≤ 1 ms per insert), and the rarer paths: a capture
//! arriving out of order (the day worked out again from the index), a capture that halts,
//! and 180-capture batches (the simulated platform's fast pace). It asserts nothing.

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use sqlx::{Connection as _, PgConnection};
use support::{drop_db, ms, scratch, summary};
use uuid::Uuid;

const DATABASE: &str = "tradedesk_bench_guard";
const GUARD: &str = "snapshot_account_guard_day_limits";
/// The goal per insert, from the platform's bar: ingestion every 5 s never waits.
const GOAL: Duration = Duration::from_millis(1);

#[tokio::main]
async fn main() {
    let day: usize = std::env::var("BENCH_DAY")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(17_280);
    let (mut admin, url, _target) = scratch(DATABASE).await;
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let first: DateTime<Utc> = "2026-11-02T00:00:00Z".parse().unwrap();
    let step = TimeDelta::seconds(86_400 / day as i64);
    exec(
        &mut conn,
        "UPDATE risk_config SET ai_trading_enabled = true, max_drawdown_amount = 1000000.00,
                                daily_profit_target = 1000000.00",
    )
    .await;
    // The day before, whole, in one statement.
    sqlx::query(
        "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         SELECT gen_random_uuid(), 25000, 25000 + (n % 200), 0, 25000, 0, 0,
                $1 - make_interval(secs => $2 * ($3 - n))
           FROM generate_series(0, $3 - 1) AS n",
    )
    .bind(first)
    .bind(step.num_seconds() as f64)
    .bind(day as i64)
    .execute(&mut conn)
    .await
    .expect("the day before");
    exec(&mut conn, "ANALYZE snapshot_account").await;

    // A day without the guard, then the next with it.
    let mut equity = Walk::new();
    exec(
        &mut conn,
        &format!("ALTER TABLE snapshot_account DISABLE TRIGGER {GUARD}"),
    )
    .await;
    let mut without = Vec::with_capacity(day);
    for n in 0..day {
        let at = first + step * n as i32;
        without.push(timed_capture(&mut conn, at, equity.next()).await);
    }
    exec(
        &mut conn,
        &format!("ALTER TABLE snapshot_account ENABLE TRIGGER {GUARD}"),
    )
    .await;
    let second = first + TimeDelta::days(1);
    let mut with = Vec::with_capacity(day);
    for n in 0..day {
        let at = second + step * n as i32;
        with.push(timed_capture(&mut conn, at, equity.next()).await);
    }
    let halted: bool = sqlx::query_scalar("SELECT NOT ai_trading_enabled FROM risk_config")
        .fetch_one(&mut conn)
        .await
        .expect("the switch");
    assert!(!halted, "the limits were meant not to be reached");

    // Rarer paths, on the full day just written.
    let end = second + step * day as i32;
    let mut late = Vec::new();
    for n in 0..200 {
        let at = second + TimeDelta::seconds(3_600 + 97 * n) + TimeDelta::milliseconds(1);
        late.push(timed_capture(&mut conn, at, equity.next()).await);
    }
    exec(
        &mut conn,
        "UPDATE risk_config SET max_drawdown_amount = 0.00",
    )
    .await;
    let mut halting = Vec::new();
    let mut high = true;
    for n in 0..100 {
        let at = end + step * n;
        let value = if high {
            Decimal::new(3_000_000, 2)
        } else {
            Decimal::new(2_000_000, 2)
        };
        let took = timed_capture(&mut conn, at, value).await;
        if !high {
            halting.push(took);
            exec(
                &mut conn,
                "UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL",
            )
            .await;
        }
        high = !high;
    }
    let halts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM decision_history WHERE operator = 'database' AND symbol IS NULL",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the halts");
    exec(
        &mut conn,
        "UPDATE risk_config SET max_drawdown_amount = 1000000.00, ai_trading_enabled = true",
    )
    .await;
    // Batches: a day's worth without the guard, then with it (the first one with it works
    // the day out again, having missed the others, and is not counted).
    let batch_start = end + TimeDelta::days(1);
    let (mut batch_without, mut batch_with) = (Vec::new(), Vec::new());
    exec(
        &mut conn,
        &format!("ALTER TABLE snapshot_account DISABLE TRIGGER {GUARD}"),
    )
    .await;
    for n in 0..40 {
        let from = batch_start + step * (180 * n);
        if n == 20 {
            exec(
                &mut conn,
                &format!("ALTER TABLE snapshot_account ENABLE TRIGGER {GUARD}"),
            )
            .await;
        }
        let took = timed_batch(&mut conn, from, step, 180, &mut equity).await;
        match n {
            0..20 => batch_without.push(took / 180),
            20 => {}
            _ => batch_with.push(took / 180),
        }
    }

    let rate = |samples: &[Duration]| {
        samples.len() as f64 / samples.iter().sum::<Duration>().as_secs_f64()
    };
    let p50 = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (rate_without, rate_with) = (rate(&without), rate(&with));
    let cost = p50(&mut with).saturating_sub(p50(&mut without));
    println!(
        "snapshot_account ingestion at a realistic day size: {day} captures a day (one every {} s), \
         the day before held in full; each capture its own INSERT and commit on one connection, \
         AI trading on, limits not reached",
        step.num_seconds()
    );
    println!(
        "goal: ingestion every 5 s never waits: ≤ {:.0} ms per insert",
        ms(GOAL)
    );
    println!(
        "without the guard  {:>7.0} inserts/s   {}",
        rate_without,
        summary(&mut without)
    );
    println!(
        "with the guard     {:>7.0} inserts/s   {}",
        rate_with,
        summary(&mut with)
    );
    let mean = |samples: &[Duration]| samples.iter().sum::<Duration>() / samples.len() as u32;
    let mean_cost = mean(&with).saturating_sub(mean(&without));
    let verdict = if cost.max(mean_cost) <= GOAL {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "the guard adds {:.3} ms per insert at p50, {:.3} ms on average: goal ≤ {:.0} ms {verdict} \
         (the tails are the server's commits: p99 {:.2} ms without the guard, {:.2} ms with it)",
        ms(cost),
        ms(mean_cost),
        ms(GOAL),
        ms(support::percentile(&without, 99)),
        ms(support::percentile(&with, 99)),
    );
    println!(
        "a capture out of order (the day worked out again from the index, {}+ rows)   {}",
        day,
        summary(&mut late)
    );
    println!(
        "a capture that halts ({halts} halts: switch, flip row, nothing to sweep)   {}",
        summary(&mut halting)
    );
    println!(
        "180-capture batches, per capture: without {}",
        summary(&mut batch_without)
    );
    println!(
        "                                  with    {}",
        summary(&mut batch_with)
    );

    conn.close().await.ok();
    drop_db(&mut admin, DATABASE).await;
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// One capture as the collector writes it, timed from send to commit.
async fn timed_capture(conn: &mut PgConnection, at: DateTime<Utc>, equity: Decimal) -> Duration {
    let start = Instant::now();
    sqlx::query(
        "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         VALUES ($1, 25000, $2, 385.00, $2 - 385.00, $2 - 25000, 1, $3)",
    )
    .bind(Uuid::new_v4())
    .bind(equity)
    .bind(at)
    .execute(&mut *conn)
    .await
    .expect("a capture");
    start.elapsed()
}

/// `n` captures `step` apart from `from` in one INSERT, timed.
async fn timed_batch(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    step: TimeDelta,
    n: usize,
    equity: &mut Walk,
) -> Duration {
    let times: Vec<DateTime<Utc>> = (0..n).map(|k| from + step * k as i32).collect();
    let equities: Vec<Decimal> = (0..n).map(|_| equity.next()).collect();
    let start = Instant::now();
    sqlx::query(
        "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         SELECT gen_random_uuid(), 25000, u.e, 0, u.e, u.e - 25000, 1, u.t
           FROM unnest($1::numeric[], $2::timestamptz[]) WITH ORDINALITY AS u(e, t, k)
          ORDER BY u.k",
    )
    .bind(equities)
    .bind(times)
    .execute(&mut *conn)
    .await
    .expect("a batch");
    start.elapsed()
}

/// Equity wandering a few dollars around 25 000, deterministically.
struct Walk {
    cents: i64,
    state: u64,
}

impl Walk {
    fn new() -> Self {
        Walk {
            cents: 2_500_000,
            state: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next(&mut self) -> Decimal {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let r = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        self.cents += (r % 2_001) as i64 - 1_000;
        self.cents = self.cents.clamp(2_400_000, 2_600_000);
        Decimal::new(self.cents, 2)
    }
}
