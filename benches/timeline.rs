//! How fast the decision timeline pages at millions of rows.
//!
//! `cargo bench --bench timeline` fills a scratch database with BENCH_ROWS decisions
//! (default 2 000 000) spread over 90 days, then times pages of 50 newest-first, for the
//! first page, a page deep in the table (through a keyset cursor), and each filter. It
//! prints the median and 95th percentile of 30 runs each; it asserts nothing. The server is
//! `DATABASE_URL`'s, else an embedded cluster in the temp directory.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tradedesk::store::Store;
use tradedesk::store::timeline::{Cursor, TimelineFilter};

mod support;

const DATABASE: &str = "tradedesk_bench";
const RUNS: usize = 30;

async fn time<F, Fut>(label: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut samples: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        rows = f().await;
        samples.push(start.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<44} {rows:>4} rows   median {:>7.2} ms   p95 {:>7.2} ms",
        ms(samples[RUNS / 2]),
        ms(samples[RUNS * 95 / 100])
    );
}

#[tokio::main]
async fn main() {
    let rows: i64 = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2_000_000);
    let (mut admin, _url, target) = support::scratch(DATABASE).await;
    let store = Store::open(&target, 4).await.expect("open");

    let start = Instant::now();
    // Newest first over 90 days; 4 symbols; actions and operators in realistic shares.
    sqlx::query(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, operator,
                                       risk_check_result, human_override)
         SELECT gen_random_uuid(),
                timestamptz '2026-11-25 00:00:00+00' - (g * (90 * 86400.0 / $1)) * interval '1 second',
                (ARRAY['EURUSD','GBPUSD','USDJPY','XAUUSD'])[1 + g % 4],
                (ARRAY['ai_proposed','ai_proposed','ai_proposed','ai_auto_executed',
                       'risk_rejected','human_approved','human_rejected'])[1 + g % 7]::decisionaction,
                'bench row ' || g,
                CASE WHEN g % 7 IN (5, 6) THEN (ARRAY['ann@desk','bob@desk'])[1 + g % 2] END,
                'pass', g % 7 IN (5, 6)
           FROM generate_series(1, $1::bigint) g",
    )
    .bind(rows)
    .execute(store.pool())
    .await
    .expect("fill decision_history");
    sqlx::query("ANALYZE decision_history")
        .execute(store.pool())
        .await
        .expect("analyze");
    println!(
        "filled {rows} decisions in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    // A cursor halfway down the table.
    let (occurred_at, id): (DateTime<Utc>, uuid::Uuid) = sqlx::query_as(
        "SELECT occurred_at, id FROM decision_history ORDER BY occurred_at DESC, id DESC
         OFFSET $1 LIMIT 1",
    )
    .bind(rows / 2)
    .fetch_one(store.pool())
    .await
    .expect("a middle row");
    let middle = Cursor {
        occurred_at: occurred_at.into(),
        id,
    };

    let page = |filter: TimelineFilter| {
        let store = store.clone();
        async move {
            store
                .timeline(&filter)
                .await
                .expect("a page")
                .decisions
                .len()
        }
    };
    let base = TimelineFilter {
        limit: 50,
        ..TimelineFilter::default()
    };
    time("first page", || page(base.clone())).await;
    time("page at the middle of the table (cursor)", || {
        page(TimelineFilter {
            after: Some(middle),
            ..base.clone()
        })
    })
    .await;
    time("--symbol GBPUSD", || {
        page(TimelineFilter {
            symbol: Some("GBPUSD".into()),
            ..base.clone()
        })
    })
    .await;
    time("--symbol GBPUSD, middle cursor", || {
        page(TimelineFilter {
            symbol: Some("GBPUSD".into()),
            after: Some(middle),
            ..base.clone()
        })
    })
    .await;
    time("--action human_rejected", || {
        page(TimelineFilter {
            action: Some(tradedesk::domain::DecisionAction::HumanRejected),
            ..base.clone()
        })
    })
    .await;
    time("--operator bob@desk (no index)", || {
        page(TimelineFilter {
            operator: Some("bob@desk".into()),
            ..base.clone()
        })
    })
    .await;
    let until: DateTime<Utc> = "2026-10-01T00:00:00Z".parse().expect("a time");
    time("--since 2026-09-30 --until 2026-10-01", || {
        page(TimelineFilter {
            since: Some(until - chrono::Duration::days(1)),
            until: Some(until),
            ..base.clone()
        })
    })
    .await;

    store.pool().close().await;
    support::drop_db(&mut admin, DATABASE).await;
}
