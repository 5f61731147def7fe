//! How fast the audit chain verifies, and what chaining costs an approval.
//!
//! `cargo bench --bench audit` makes a scratch database and fills `decision_history` with
//! BENCH_ROWS decisions (default 2 000 000) in one INSERT … SELECT, chained in bulk as
//! migration 7 chains the rows it finds (the canonical text of each row and a running
//! fold of the hashes, the chain's triggers set aside for the fill). Then:
//!
//! - `audit::verify` walks the whole chain, recomputing every hash in Rust from the columns
//!   read in binary (three runs, and once at a few window sizes); goal ≥ 500 000 rows/s.
//!   For comparison, the same walk with each row's digest computed by PostgreSQL (the
//!   migration's canonical function) and only the chain in Rust.
//! - BENCH_IDEAS ideas (default 2 000) are approved one after another through
//!   `Store::approve`, in blocks of 100 that alternate between the chain's triggers enabled
//!   and disabled, on the same data; it prints approvals per second each way and the
//!   chain's cost (goal ≤ 10%).
//!
//! It asserts nothing. The server is `DATABASE_URL`'s, else an embedded cluster in the
//! temp directory.

mod support;

use std::time::{Duration, Instant};

use futures::TryStreamExt as _;
use sha2::{Digest as _, Sha256};
use sqlx::{Connection as _, PgConnection, Row as _};
use support::{STRATEGY, drop_db, scratch, seed_approvable, summary};
use tradedesk::domain::Lot;
use tradedesk::operator::Operator;
use tradedesk::store::Store;
use tradedesk::store::approve::Approval;
use tradedesk::store::audit::{self, GENESIS};
use uuid::Uuid;

const DATABASE: &str = "tradedesk_bench_audit";
const GOAL_ROWS_PER_SECOND: f64 = 500_000.0;
const BLOCK: usize = 100;
/// Approvals at the start of each block left out: the first after ALTER TABLE re-plan.
const SETTLE: usize = 5;
/// The chain's triggers on decision_history (what "without the chain" disables).
const CHAIN_TRIGGERS: [&str; 2] = [
    "decision_history_zz_audit_link",
    "decision_history_audit_seal",
];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let rows = env("BENCH_ROWS", 2_000_000);
    let ideas = env("BENCH_IDEAS", 2_000);
    let (mut admin, url, target) = scratch(DATABASE).await;
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    seed_approvable(&mut conn, ideas).await;

    let start = Instant::now();
    fill(&mut conn, rows).await;
    println!(
        "filled and chained {rows} decisions in bulk in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let store = Store::open(&target, 4).await.expect("open");
    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    let mut rates = Vec::new();
    for run in 1..=3 {
        let start = Instant::now();
        let verified = audit::verify(&store, &[]).await.expect("verify");
        let took = start.elapsed();
        let walked: u64 = verified.iter().map(|v| v.rows).sum();
        if let Some(problem) = verified.iter().find_map(|v| v.problem.as_ref()) {
            println!("verify found a problem in the bench's own chain: {problem:?}");
        }
        rates.push(rate(walked, took));
        println!(
            "verify, run {run}        {walked} rows in {:>6.3} s   {:>9.0} rows/s",
            took.as_secs_f64(),
            rate(walked, took)
        );
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "verify (median)        {:>9.0} rows/s (goal ≥ {:.0} rows/s) {}",
        rates[1],
        GOAL_ROWS_PER_SECOND,
        if rates[1] >= GOAL_ROWS_PER_SECOND {
            "met"
        } else {
            "NOT met"
        }
    );
    for window in [2_000, 20_000, 100_000] {
        let start = Instant::now();
        let verified = audit::verify_windowed(&store, &[], window)
            .await
            .expect("verify");
        let walked: u64 = verified.iter().map(|v| v.rows).sum();
        println!(
            "verify, window {window:>6}  {:>9.0} rows/s",
            rate(walked, start.elapsed())
        );
    }
    let start = Instant::now();
    let walked = digests_in_sql(&mut conn).await;
    println!(
        "digests in SQL instead {:>9.0} rows/s (the same walk, each row's canonical text and \
         digest computed by PostgreSQL)",
        rate(walked, start.elapsed())
    );

    approvals(&store, &mut conn).await;

    store.pool().close().await;
    conn.close().await.ok();
    drop_db(&mut admin, DATABASE).await;
}

/// `n` decisions over the last 90 days, each row built whole as a `decision_history` value
/// (its columns read from the catalog, so a column added later is NULL, not an error) and
/// chained by a window over them all: the fold of their digests in seq order.
async fn fill(conn: &mut PgConnection, n: usize) {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT attname::text FROM pg_attribute
          WHERE attrelid = 'public.decision_history'::regclass AND attnum > 0
            AND NOT attisdropped ORDER BY attnum",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("the columns");
    let value = |column: &str| -> String {
        match column {
            "id" => "md5('bench' || g)::uuid".into(),
            "occurred_at" => format!("now() - ({n} - g) * (90 * 86400.0 / {n}) * interval '1 second'"),
            "symbol" => "CASE WHEN g % 50 = 0 THEN NULL \
                         ELSE (ARRAY['EURUSD','GBPUSD','USDJPY','XAUUSD','US30'])[1 + g % 5] END"
                .into(),
            "action" => "CASE WHEN g % 50 = 0 THEN 'ai_halted'::decisionaction \
                         ELSE (ARRAY['ai_proposed','ai_proposed','ai_auto_executed','risk_rejected',\
                               'human_approved','human_rejected'])[1 + g % 6]::decisionaction END"
                .into(),
            "rationale" => "'Breakout of the Asian range, RSI ' || (g % 70 + 20) \
                            || ' and the 50-period SMA rising; spread ' || (g % 9) || '.' || (g % 10) \
                            || ' pips, no high-impact news within 30 min (cycle ' || g || ')'"
                .into(),
            "confidence_score" => "CASE WHEN g % 50 = 0 THEN NULL ELSE (g % 4000) / 100.0 + 60 END::numeric(5,2)".into(),
            "risk_check_result" => "CASE WHEN g % 6 = 3 THEN 'fail:lot_size' ELSE 'pass' END".into(),
            "strategy_id" => format!("CASE WHEN g % 5 <> 0 THEN '{STRATEGY}'::uuid END"),
            "snapshot_ref" => "CASE WHEN g % 50 <> 0 THEN md5('snapshot' || g)::uuid END".into(),
            "human_override" => "g % 6 IN (4, 5)".into(),
            "operator" => "CASE WHEN g % 6 IN (4, 5) THEN (ARRAY['ann@desk','bob@desk'])[1 + g % 2] END".into(),
            "audit_seq" => "g".into(),
            _ => "NULL".into(),
        }
    };
    let exprs: Vec<String> = columns.iter().map(|c| value(c)).collect();
    let outer: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "audit_hash" => "tradedesk.tradedesk_audit_fold(sha256(convert_to(\
                 tradedesk.tradedesk_audit_canonical_decision(r, (r).audit_seq), 'UTF8'))) \
                 OVER (ORDER BY (r).audit_seq ROWS UNBOUNDED PRECEDING)"
                .to_string(),
            c => format!("(r).{c}"),
        })
        .collect();
    let sql = format!(
        "ALTER TABLE decision_history DISABLE TRIGGER USER;
         WITH made AS (
             SELECT ROW({})::public.decision_history AS r FROM generate_series(1, {n}) g
         )
         INSERT INTO decision_history ({})
         SELECT {} FROM made;
         ALTER TABLE decision_history ENABLE TRIGGER USER;
         UPDATE tradedesk.audit_heads
            SET last_seq = {n},
                last_hash = coalesce((SELECT audit_hash FROM decision_history WHERE audit_seq = {n}),
                                     last_hash)
          WHERE chained_table = 'decision_history';
         ANALYZE decision_history;",
        exprs.join(", "),
        columns.join(", "),
        outer.join(", ")
    );
    sqlx::raw_sql(&sql)
        .execute(&mut *conn)
        .await
        .expect("fill decision_history");
}

/// The walk of `audit::verify` over decision_history, but with each row's digest computed
/// by PostgreSQL; returns the rows walked.
async fn digests_in_sql(conn: &mut PgConnection) -> u64 {
    let mut previous = GENESIS;
    let mut after = 0i64;
    let mut walked = 0u64;
    loop {
        let mut read = 0;
        let mut rows = sqlx::query(
            "SELECT audit_seq, audit_hash,
                    sha256(convert_to(tradedesk.tradedesk_audit_canonical_decision(d, audit_seq), 'UTF8'))
               FROM decision_history d WHERE audit_seq > $1 ORDER BY audit_seq LIMIT 20000",
        )
        .bind(after)
        .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.expect("a window") {
            read += 1;
            let seq: i64 = row.get(0);
            let hash: &[u8] = row.get(1);
            let digest: &[u8] = row.get(2);
            let mut link = Sha256::new();
            link.update(previous);
            link.update(digest);
            previous = link.finalize().into();
            if previous.as_slice() != hash {
                println!("digests in SQL: seq {seq} does not match");
            }
            after = seq;
            walked += 1;
        }
        if read < 20_000 {
            return walked;
        }
    }
}

/// Approvals one after another, in blocks alternating between the chain's triggers
/// enabled and disabled.
async fn approvals(store: &Store, conn: &mut PgConnection) {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM trade_ideas WHERE status = 'needs_approval' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("the ideas");
    let operator = Operator::new("bench@desk").expect("an operator");
    let lot = Lot::parse("0.01").expect("a lot");
    let (mut chained, mut unchained) = (Vec::new(), Vec::new());
    for (block, ids) in ids.chunks(BLOCK).enumerate() {
        let chain = block % 2 == 0;
        let verb = if chain { "ENABLE" } else { "DISABLE" };
        for trigger in CHAIN_TRIGGERS {
            sqlx::raw_sql(&format!(
                "ALTER TABLE decision_history {verb} TRIGGER {trigger}"
            ))
            .execute(&mut *conn)
            .await
            .expect("toggle the chain");
        }
        for (n, id) in ids.iter().enumerate() {
            let start = Instant::now();
            let approval = store.approve(*id, lot, &operator).await.expect("approve");
            let took = start.elapsed();
            assert!(
                matches!(approval, Approval::Executed { .. }),
                "{approval:?}"
            );
            if n >= SETTLE {
                if chain { &mut chained } else { &mut unchained }.push(took);
            }
        }
    }
    for trigger in CHAIN_TRIGGERS {
        sqlx::raw_sql(&format!(
            "ALTER TABLE decision_history ENABLE TRIGGER {trigger}"
        ))
        .execute(&mut *conn)
        .await
        .expect("enable the chain");
    }
    let rate = |s: &[Duration]| s.len() as f64 / s.iter().sum::<Duration>().as_secs_f64();
    let (with, without) = (rate(&chained), rate(&unchained));
    println!(
        "{} approvals each way, in alternating blocks of {BLOCK}, one after another",
        chained.len().min(unchained.len())
    );
    println!(
        "with the chain         {with:>7.0} approvals/s   {}",
        summary(&mut chained)
    );
    println!(
        "without the chain      {without:>7.0} approvals/s   {}",
        summary(&mut unchained)
    );
    let cost = (1.0 - with / without) * 100.0;
    println!(
        "the chain costs        {cost:>6.1}% of approvals/s (goal ≤ 10%) {}",
        if cost <= 10.0 { "met" } else { "NOT met" }
    );
}
