//! What the benchmarks share: a server (`DATABASE_URL`'s, else an embedded cluster in the
//! temp directory), a scratch database on it, and percentiles.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::{Connection as _, PgConnection};
use tradedesk::store::embedded::Cluster;
use tradedesk::store::setup::setup;
use tradedesk::store::target::{Origin, Target};

/// The server's maintenance URL.
pub fn server_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            let cluster = Cluster::ephemeral(std::env::temp_dir().join(format!(
                "tradedesk-bench-pg-{}",
                nix::unistd::geteuid().as_raw()
            )));
            if let Err(e) = cluster.ensure_running() {
                eprintln!("cannot start the embedded cluster: {e}");
                std::process::exit(1);
            }
            cluster.url("postgres")
        }
    }
}

/// `url` naming another database on the same server.
pub fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("the server URL parses");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// A scratch database `name`, made anew and set up for tradedesk; dropped by [`drop_db`].
pub async fn scratch(name: &str) -> (PgConnection, String, Target) {
    let server = server_url();
    let mut admin = PgConnection::connect(&server)
        .await
        .expect("connect to the server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop the old bench database");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create the bench database");
    let url = with_database(&server, name);
    let target = Target::from_url(&url, Origin::Env).expect("a URL");
    setup(&target, false).await.expect("setup");
    (admin, url, target)
}

pub async fn drop_db(admin: &mut PgConnection, name: &str) {
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(admin)
        .await
        .expect("drop the bench database");
}

/// The `p`th percentile (0–100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[index]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `p50 … p99 … max …` of the samples, in ms.
pub fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    format!(
        "p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
        ms(percentile(samples, 50)),
        ms(percentile(samples, 99)),
        ms(samples.last().copied().unwrap_or_default())
    )
}

/// The strategy [`seed_approvable`] writes.
pub const STRATEGY: &str = "3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70";

/// One strategy open at every hour, limits that let every idea through, an account, and
/// `n` ideas awaiting approval, as the platform writes them (its take-profit a Python
/// float's binary expansion in the unconstrained NUMERIC[], docs/platform.md §6).
pub async fn seed_approvable(conn: &mut PgConnection, n: usize) {
    sqlx::raw_sql(&format!(
        r#"INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                  entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                  rr_expectation, created_at, updated_at)
           VALUES ('{STRATEGY}', 'Round the clock', true, '{{EURUSD}}',
                   '[{{"start": "00:00Z", "end": "24:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}}]',
                   '{{"trend_alignment": "bullish"}}', '{{"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=2"}}',
                   '{{"block_high_impact_news_minutes": 5, "blocked_symbols_during_news": ["USD", "EUR"]}}',
                   '{{"max_lot_size": 1.0, "max_concurrent_positions": 1000000}}', 2.0, now(), now());
           UPDATE risk_config SET max_concurrent_trades = 1000000;
           INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                         open_positions, captured_at)
           VALUES (gen_random_uuid(), 10000, 10000, 0, 10000, 0, 0, now() - interval '1 hour');
           INSERT INTO trade_ideas (id, symbol, direction, entry_price, stop_loss, take_profit,
                                    expected_hold, rationale, confidence_score, status,
                                    strategy_id, snapshot_ref, created_at, updated_at)
           SELECT gen_random_uuid(), 'EURUSD', 'buy', 1.0856, 1.0842,
                  '{{1.087800000000000100186525742174126207828521728515625}}', 'scalp_30m',
                  'bench', 92.5, 'needs_approval', '{STRATEGY}', gen_random_uuid(), now(), now()
             FROM generate_series(1, {n});
           ANALYZE"#
    ))
    .execute(conn)
    .await
    .expect("seed the bench database");
}
