//! `snapshot_account`: the broker account as the platform's collector captured it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::Store;
use super::error::Error;

/// One capture of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountSnapshot {
    pub id: Uuid,
    pub balance: Decimal,
    pub equity: Decimal,
    pub margin_used: Decimal,
    pub margin_free: Decimal,
    pub open_pl: Decimal,
    pub open_positions: i32,
    pub captured_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT id, balance, equity, margin_used, margin_free, open_pl,
                             open_positions, captured_at
                        FROM snapshot_account";

/// How many ideas await approval, and since when the oldest has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    /// The newest account snapshot (index `idx_snapshot_account_captured`).
    pub async fn latest_account(&self) -> Result<Option<AccountSnapshot>, Error> {
        sqlx::query_as(&format!("{SELECT} ORDER BY captured_at DESC LIMIT 1"))
            .fetch_optional(self.pool())
            .await
            .map_err(Error::Database)
    }

    /// The snapshots of a trading day: the last one before `from` (the day's opening
    /// state) and every one since, oldest first.
    pub async fn account_since(&self, from: DateTime<Utc>) -> Result<Vec<AccountSnapshot>, Error> {
        sqlx::query_as(&format!(
            "({SELECT} WHERE captured_at < $1 ORDER BY captured_at DESC LIMIT 1)
             UNION ALL
             ({SELECT} WHERE captured_at >= $1 ORDER BY captured_at)
             ORDER BY captured_at"
        ))
        .bind(from)
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)
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
