//! `tradedesk prune-snapshots --older-than 30d` (issue 12): removes snapshot rows older
//! than the cut that no remaining decision's (or idea's) replay reads.
//!
//! What a replay reads (docs/platform.md, "Decision replay"; `domain::replay`) is found by
//! the same windows, around each remaining decision's moment (its snapshot_ref's capture,
//! else its idea's creation, else its own time) and around the moment it was decided:
//! - candles and indicators of the symbol, on every timeframe, within
//!   `REACH × CANDLES_BEFORE` spans before and `REACH × CANDLES_AFTER` after (the chart's
//!   timeframe depends on which rows exist, so every timeframe's window is kept);
//! - calendar events within `CALENDAR_HOURS` either side, headlines published within
//!   `NEWS_HOURS` before, and the rows captured in the day before (that the collectors ran);
//! - the account row named; the rows the day's P/L is computed from (the last before the
//!   moment's day, the day's first, each new high of the day's equity up to the moment, the
//!   last at or before it), which is also a global decision's account.
//!
//! Only rows older than the cut go, so every remaining decision newer than the cut plus the
//! widest window needs no look at all. Deletions run in batches of `BATCH` rows, each its
//! own short transaction with `lock_timeout` and `SKIP LOCKED`, so the platform's
//! collectors (inserting every few seconds) never wait behind the clean-up.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use sqlx::{Acquire as _, PgConnection, Row as _};

use super::Store;
use crate::domain::replay::{self as rules, Timeframe};

/// Rows deleted per transaction.
pub const BATCH: i64 = 5000;

/// Rows of one table: what may go, and what went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pruned {
    pub table: &'static str,
    /// Rows older than the cut.
    pub older: i64,
    /// Of those, rows no remaining replay reads (deleted unless a dry run).
    pub unneeded: i64,
    pub deleted: i64,
}

/// The snapshot tables and, for each, the condition "a remaining replay reads row `s`",
/// over `pr_moments (symbol, at, day_start)`.
fn tables() -> [(&'static str, String); 5] {
    let market_window = "EXISTS (SELECT 1 FROM unnest($1::text[], $2::float8[]) AS w(tf, secs)
                 JOIN pr_moments k ON w.tf = s.timeframe AND k.symbol = s.symbol
                WHERE s.captured_at BETWEEN k.at - make_interval(secs => w.secs * $3)
                                        AND k.at + make_interval(secs => w.secs * $4))";
    [
        ("snapshot_market", market_window.to_string()),
        ("snapshot_indicators", market_window.to_string()),
        (
            "snapshot_calendar",
            "EXISTS (SELECT 1 FROM pr_moments k
                      WHERE s.event_time BETWEEN k.at - make_interval(secs => $5)
                                             AND k.at + make_interval(secs => $5)
                         OR s.captured_at BETWEEN k.at - interval '24 hours' AND k.at)"
                .to_string(),
        ),
        (
            "snapshot_news",
            "EXISTS (SELECT 1 FROM pr_moments k
                      WHERE s.published_at BETWEEN k.at - make_interval(secs => $6) AND k.at)"
                .to_string(),
        ),
        (
            "snapshot_account",
            "(s.id IN (SELECT snapshot_ref FROM pr_refs) OR s.id IN (SELECT id FROM pr_last))"
                .to_string(),
        ),
    ]
}

/// The moments of every remaining decision and idea whose replay may reach before `cut`.
async fn moments(conn: &mut PgConnection, cut: DateTime<Utc>) -> Result<(), sqlx::Error> {
    // The widest window: D1 candles, REACH × CANDLES_BEFORE days before the moment.
    let widest =
        Timeframe::D1.span() * (rules::REACH * rules::CANDLES_BEFORE as i32) + TimeDelta::days(1);
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS pr_moments, pr_refs, pr_last;
         CREATE TEMP TABLE pr_moments (symbol text, at timestamptz NOT NULL,
                                       day_start timestamptz NOT NULL);
         CREATE TEMP TABLE pr_refs (snapshot_ref uuid);
         CREATE TEMP TABLE pr_last (id uuid);",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO pr_refs
         SELECT d.snapshot_ref FROM decision_history d WHERE d.snapshot_ref IS NOT NULL
         UNION SELECT i.snapshot_ref FROM trade_ideas i",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO pr_moments
         WITH m AS (
             SELECT coalesce(i.symbol, d.symbol) AS symbol,
                    coalesce(a.captured_at, i.created_at, d.occurred_at) AS at,
                    d.occurred_at AS decided_at
               FROM decision_history d
               LEFT JOIN trade_ideas i ON i.id = d.trade_idea_id
               LEFT JOIN snapshot_account a ON a.id = coalesce(d.snapshot_ref, i.snapshot_ref)
              WHERE d.occurred_at < $1
             UNION ALL
             SELECT i.symbol, coalesce(a.captured_at, i.created_at), i.created_at
               FROM trade_ideas i LEFT JOIN snapshot_account a ON a.id = i.snapshot_ref
              WHERE i.created_at < $1)
         SELECT DISTINCT symbol, t, date_trunc('day', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
           FROM m CROSS JOIN LATERAL (VALUES (m.at), (m.decided_at)) v(t)",
    )
    .bind(cut + widest)
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql(
        "CREATE INDEX ON pr_moments (symbol, at); CREATE INDEX ON pr_moments (at);
         CREATE INDEX ON pr_refs (snapshot_ref);
         ANALYZE pr_moments; ANALYZE pr_refs;",
    )
    .execute(&mut *conn)
    .await?;
    // The account rows a replay's day P/L reads (`store::replay::day_points`), for each
    // moment: the last at or before it and the last before its day (in the same order)…
    sqlx::raw_sql(
        "INSERT INTO pr_last
         SELECT x.id FROM (SELECT DISTINCT at, day_start FROM pr_moments) k
          CROSS JOIN LATERAL (
               (SELECT id FROM snapshot_account WHERE captured_at <= k.at
                 ORDER BY captured_at DESC, equity DESC, id DESC LIMIT 1)
               UNION ALL
               (SELECT id FROM snapshot_account WHERE captured_at < k.day_start
                 ORDER BY captured_at DESC, equity DESC, id DESC LIMIT 1)) x",
    )
    .execute(&mut *conn)
    .await?;
    // …and the day's first, and each new high of the day's equity (the last of which up
    // to a moment is its day's peak then), on the days of the moments, up to them: one
    // pass over the rows older than the cut rather than a day's rows per moment.
    sqlx::query(
        "INSERT INTO pr_last
         SELECT h.id FROM (
             SELECT id, captured_at, equity,
                    date_trunc('day', captured_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
                    max(equity) OVER (PARTITION BY date_trunc('day', captured_at AT TIME ZONE 'UTC')
                                      ORDER BY captured_at, equity, id
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS peak,
                    row_number() OVER (PARTITION BY date_trunc('day', captured_at AT TIME ZONE 'UTC')
                                       ORDER BY captured_at, equity, id) AS n
               FROM snapshot_account WHERE captured_at < $1) h
          WHERE (h.n = 1 OR h.peak IS NULL OR h.equity > h.peak)
            AND EXISTS (SELECT 1 FROM pr_moments k
                         WHERE k.day_start = h.day AND k.at >= h.captured_at)",
    )
    .bind(cut)
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql("CREATE INDEX ON pr_last (id); ANALYZE pr_last;")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Counts (and, unless `dry_run`, deletes) the snapshot rows older than `cut` that no
/// remaining replay reads. `progress` is told each table's running total.
pub async fn prune(
    store: &Store,
    cut: DateTime<Utc>,
    dry_run: bool,
    batch: i64,
    progress: &(dyn Fn(&Pruned) + Sync),
) -> Result<Vec<Pruned>, sqlx::Error> {
    let mut conn = store.pool().acquire().await?;
    let conn = conn.acquire().await?;
    // The moments are read once, outside the batches: a decision inserted meanwhile is
    // newer than the cut (the platform writes no past), so its rows are not older anyway.
    moments(conn, cut).await?;
    let timeframes: Vec<String> = Timeframe::ALL
        .iter()
        .map(|t| t.as_str().to_string())
        .collect();
    let spans: Vec<f64> = Timeframe::ALL
        .iter()
        .map(|t| t.span().num_seconds() as f64)
        .collect();
    let before_n = f64::from(rules::REACH) * rules::CANDLES_BEFORE as f64;
    let after_n = f64::from(rules::REACH) * rules::CANDLES_AFTER as f64;
    let calendar_secs = (rules::CALENDAR_HOURS * 3600) as f64;
    let news_secs = (rules::NEWS_HOURS * 3600) as f64;
    let mut report = Vec::new();
    for (table, needed) in tables() {
        // Older means captured before the cut, for every snapshot table.
        let time = "captured_at";
        let mut pruned = Pruned {
            table,
            ..Pruned::default()
        };
        pruned.older =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {time} < $1"))
                .bind(cut)
                .fetch_one(&mut *conn)
                .await?;
        let count = format!("SELECT count(*) FROM {table} s WHERE s.{time} < $7 AND NOT {needed}");
        let delete = format!(
            "WITH picked AS (
                 SELECT s.id FROM {table} s
                  WHERE ($9::uuid IS NULL OR s.id > $9) AND s.{time} < $7 AND NOT {needed}
                  ORDER BY s.id LIMIT $8 FOR UPDATE SKIP LOCKED),
             gone AS (
                 DELETE FROM {table} WHERE id IN (SELECT id FROM picked) RETURNING id)
             SELECT count(*), max(id::text)::uuid FROM gone"
        );
        // $1..$6 as in `tables`, $7 the cut, $8 the batch ($9 where the batch starts).
        let bound = |sql| {
            sqlx::query(sql)
                .bind(timeframes.clone())
                .bind(spans.clone())
                .bind(before_n)
                .bind(after_n)
                .bind(calendar_secs)
                .bind(news_secs)
                .bind(cut)
                .bind(batch.max(1))
        };
        if dry_run {
            pruned.unneeded = bound(&count).fetch_one(&mut *conn).await?.try_get(0)?;
            progress(&pruned);
            report.push(pruned);
            continue;
        }
        // Keyset on the primary key: each row is looked at once over all batches (a batch
        // that started from the table's beginning would step over every dead row the
        // earlier batches left, until vacuum).
        let mut last: Option<uuid::Uuid> = None;
        loop {
            let mut tx = conn.begin().await?;
            // A batch that would wait on a lock gives up rather than hold up the
            // collectors; SKIP LOCKED passes over rows another transaction holds.
            sqlx::raw_sql("SET LOCAL lock_timeout = '200ms'")
                .execute(&mut *tx)
                .await?;
            let row = bound(&delete).bind(last).fetch_one(&mut *tx).await?;
            let (n, max): (i64, Option<uuid::Uuid>) = (row.try_get(0)?, row.try_get(1)?);
            tx.commit().await?;
            pruned.deleted += n;
            pruned.unneeded += n;
            progress(&pruned);
            if n < batch.max(1) {
                break;
            }
            last = max;
        }
        report.push(pruned);
    }
    sqlx::raw_sql("DROP TABLE IF EXISTS pr_moments, pr_refs, pr_last")
        .execute(&mut *conn)
        .await?;
    Ok(report)
}
