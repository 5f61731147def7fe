//! The broker account as the platform's collector captured it (`snapshot_account`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

/// One capture of the account. Its id is the `snapshot_ref` of the ideas and decisions
/// made on it (docs/platform.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

impl AccountSnapshot {
    /// A capture with only balance and equity known (the rest zero), for the day's figures
    /// in tests and examples.
    pub fn of_equity(balance: Decimal, equity: Decimal, captured_at: DateTime<Utc>) -> Self {
        AccountSnapshot {
            id: Uuid::nil(),
            balance,
            equity,
            margin_used: Decimal::ZERO,
            margin_free: equity,
            open_pl: equity - balance,
            open_positions: 0,
            captured_at,
        }
    }
}
