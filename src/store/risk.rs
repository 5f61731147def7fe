//! `risk_config`: the single row of risk limits and the AI's switch.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::error::Error;
use crate::domain::RiskConfig;

/// The risk limits with when they last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRow {
    pub config: RiskConfig,
    pub updated_at: DateTime<Utc>,
}

type Row = (
    bool,
    rust_decimal::Decimal,
    rust_decimal::Decimal,
    i32,
    rust_decimal::Decimal,
    bool,
    rust_decimal::Decimal,
    bool,
    bool,
    Option<String>,
    DateTime<Utc>,
);

const SELECT: &str = "SELECT ai_trading_enabled, min_confidence_threshold, max_lot_size,
                             max_concurrent_trades, daily_profit_target, stop_after_target,
                             max_drawdown_amount, halt_on_drawdown, allow_off_watchlist_autotrade,
                             last_halt_reason, updated_at
                        FROM risk_config WHERE id";

fn from_row(r: Row) -> RiskRow {
    RiskRow {
        config: RiskConfig {
            ai_trading_enabled: r.0,
            min_confidence_threshold: r.1,
            max_lot_size: r.2,
            max_concurrent_trades: r.3,
            daily_profit_target: r.4,
            stop_after_target: r.5,
            max_drawdown_amount: r.6,
            halt_on_drawdown: r.7,
            allow_off_watchlist_autotrade: r.8,
            last_halt_reason: r.9,
        },
        updated_at: r.10,
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
    row.map(from_row).ok_or_else(missing)
}

/// The current risk limits, locked until the transaction ends: every act that depends on
/// them (or flips the switch) takes this lock first, so acts are ordered.
pub async fn lock(conn: &mut PgConnection) -> Result<RiskRow, Error> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} FOR UPDATE"))
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    row.map(from_row).ok_or_else(missing)
}
