//! `snapshot_account`: the broker account as the platform's collector captured it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use sqlx::PgConnection;

use super::Store;
use super::error::Error;
use crate::domain::AccountSnapshot;

/// A `snapshot_account` row as read.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: Uuid,
    balance: Decimal,
    equity: Decimal,
    margin_used: Decimal,
    margin_free: Decimal,
    open_pl: Decimal,
    open_positions: i32,
    captured_at: DateTime<Utc>,
}

impl From<AccountRow> for AccountSnapshot {
    fn from(r: AccountRow) -> AccountSnapshot {
        AccountSnapshot {
            id: r.id,
            balance: r.balance,
            equity: r.equity,
            margin_used: r.margin_used,
            margin_free: r.margin_free,
            open_pl: r.open_pl,
            open_positions: r.open_positions,
            captured_at: r.captured_at,
        }
    }
}

const SELECT: &str = "SELECT id, balance, equity, margin_used, margin_free, open_pl,
                             open_positions, captured_at
                        FROM snapshot_account";

/// The last snapshot before `from` and every one since (up to `until`, when given), oldest
/// first: what the day's P/L and drawdown are computed from.
pub(crate) async fn day_snapshots(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<AccountSnapshot>, Error> {
    let rows: Vec<AccountRow> = sqlx::query_as(&format!(
        "({SELECT} WHERE captured_at < $1 ORDER BY captured_at DESC LIMIT 1)
         UNION ALL
         ({SELECT} WHERE captured_at >= $1 AND ($2::timestamptz IS NULL OR captured_at <= $2)
           ORDER BY captured_at)
         ORDER BY captured_at"
    ))
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(rows.into_iter().map(AccountSnapshot::from).collect())
}

/// How many ideas await approval, and since when the oldest has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    /// The newest account snapshot (index `idx_snapshot_account_captured`).
    pub async fn latest_account(&self) -> Result<Option<AccountSnapshot>, Error> {
        let row: Option<AccountRow> =
            sqlx::query_as(&format!("{SELECT} ORDER BY captured_at DESC LIMIT 1"))
                .fetch_optional(self.pool())
                .await
                .map_err(Error::Database)?;
        Ok(row.map(AccountSnapshot::from))
    }

    /// The snapshots of a trading day: the last one before `from` (the day's opening
    /// state) and every one since, oldest first.
    pub async fn account_since(&self, from: DateTime<Utc>) -> Result<Vec<AccountSnapshot>, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        day_snapshots(&mut conn, from, None).await
    }

    /// Ideas awaiting approval (index `idx_trade_ideas_status`).
    pub async fn pending(&self) -> Result<Pending, Error> {
        let (count, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT count(*), min(created_at) FROM trade_ideas WHERE status = 'needs_approval'",
        )
        .fetch_one(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(Pending { count, oldest })
    }
}
