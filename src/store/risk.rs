//! `risk_config`: the single row of risk limits and the AI's switch.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::error::Error;
use crate::domain::RiskConfig;

/// The risk limits with when they last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRow {
    pub config: RiskConfig,
    pub updated_at: DateTime<Utc>,
}

/// The `risk_config` row as read.
#[derive(sqlx::FromRow)]
struct Row {
    ai_trading_enabled: bool,
    min_confidence_threshold: Decimal,
    max_lot_size: Decimal,
    max_concurrent_trades: i32,
    daily_profit_target: Decimal,
    stop_after_target: bool,
    max_drawdown_amount: Decimal,
    halt_on_drawdown: bool,
    allow_off_watchlist_autotrade: bool,
    last_halt_reason: Option<String>,
    updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT ai_trading_enabled, min_confidence_threshold, max_lot_size,
                             max_concurrent_trades, daily_profit_target, stop_after_target,
                             max_drawdown_amount, halt_on_drawdown, allow_off_watchlist_autotrade,
                             last_halt_reason, updated_at
                        FROM risk_config WHERE id";

impl From<Row> for RiskRow {
    fn from(r: Row) -> RiskRow {
        RiskRow {
            config: RiskConfig {
                ai_trading_enabled: r.ai_trading_enabled,
                min_confidence_threshold: r.min_confidence_threshold,
                max_lot_size: r.max_lot_size,
                max_concurrent_trades: r.max_concurrent_trades,
                daily_profit_target: r.daily_profit_target,
                stop_after_target: r.stop_after_target,
                max_drawdown_amount: r.max_drawdown_amount,
                halt_on_drawdown: r.halt_on_drawdown,
                allow_off_watchlist_autotrade: r.allow_off_watchlist_autotrade,
                last_halt_reason: r.last_halt_reason,
            },
            updated_at: r.updated_at,
        }
    }
}

fn missing() -> Error {
    Error::Refused(
        "the database has no risk_config row: run `tradedesk setup` to write the defaults".into(),
    )
}

/// The current risk limits.
pub async fn get(conn: &mut PgConnection) -> Result<RiskRow, Error> {
    let row: Option<Row> = sqlx::query_as(SELECT)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    row.map(RiskRow::from).ok_or_else(missing)
}

/// The current risk limits, locked until the transaction ends: every act that depends on
/// them (or flips the switch) takes this lock first, so acts are ordered.
pub async fn lock(conn: &mut PgConnection) -> Result<RiskRow, Error> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} FOR UPDATE"))
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    row.map(RiskRow::from).ok_or_else(missing)
}

/// Who last edited the limits, and what they typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastChange {
    pub operator: String,
    pub changes: String,
    pub changed_at: DateTime<Utc>,
}

impl super::Store {
    /// The current risk limits.
    pub async fn risk_config(&self) -> Result<RiskRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        get(&mut conn).await
    }

    /// The newest edit of the limits, if any.
    pub async fn last_risk_change(&self) -> Result<Option<LastChange>, Error> {
        let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT operator, change, changed_at FROM tradedesk.config_changes
              WHERE subject = 'risk_config'
              ORDER BY changed_at DESC, id DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(row.map(|(operator, changes, changed_at)| LastChange {
            operator,
            changes,
            changed_at,
        }))
    }
}
