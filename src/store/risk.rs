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

/// What an edit of the risk limits did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskUpdate {
    pub before: RiskConfig,
    pub after: RiskConfig,
    /// Set when the edit switched AI trading off.
    pub halted: Option<super::halt::Halted>,
    /// Set when the edit switched AI trading on.
    pub resumed: Option<super::halt::Resumed>,
}

/// The limits as JSON for the audit row; decimals as strings, exactly as stored.
fn audit_json(c: &RiskConfig) -> serde_json::Value {
    serde_json::to_value(c).unwrap_or(serde_json::Value::Null)
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

    /// Applies an operator's edit in one transaction: the limits (validated as a whole,
    /// audited in `config_changes`) and, if the edit names `ai_trading_enabled`, the
    /// halt or resume it means, with its `decision_history` row. Invalid edits write nothing.
    pub async fn update_risk_config(
        &self,
        edits: &crate::domain::RiskChangeSet,
        operator: &crate::operator::Operator,
    ) -> Result<RiskUpdate, Error> {
        use sqlx::Acquire as _;
        if edits.is_empty() {
            return Err(Error::InvalidInput(
                "nothing to change: give FIELD=VALUE, e.g. max_lot_size=0.50".into(),
            ));
        }
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let current = lock(conn).await?;
        let after = edits
            .apply_to(&current.config)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        if !edits.limits.is_empty() {
            sqlx::query(
                "UPDATE risk_config
                    SET min_confidence_threshold = $1, max_lot_size = $2,
                        max_concurrent_trades = $3, daily_profit_target = $4,
                        stop_after_target = $5, max_drawdown_amount = $6, halt_on_drawdown = $7,
                        allow_off_watchlist_autotrade = $8, updated_at = now()
                  WHERE id",
            )
            .bind(after.min_confidence_threshold)
            .bind(after.max_lot_size)
            .bind(after.max_concurrent_trades)
            .bind(after.daily_profit_target)
            .bind(after.stop_after_target)
            .bind(after.max_drawdown_amount)
            .bind(after.halt_on_drawdown)
            .bind(after.allow_off_watchlist_autotrade)
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
            let typed = edits
                .limits
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            sqlx::query(
                "INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, change, before, after)
                 VALUES ($1, clock_timestamp(), $2, 'risk_config', $3, $4, $5)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(operator.as_str())
            .bind(typed)
            .bind(audit_json(&current.config))
            .bind(audit_json(&after))
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
        }
        let (halted, resumed) = match edits.ai_trading_enabled {
            // A field edit on a halted system changes nothing: pulling orders is the kill
            // switch's job, not a side effect of an edit.
            Some(false) if !current.config.ai_trading_enabled => (None, None),
            Some(false) => {
                let reason = format!("ai_trading_enabled=false set by {operator}");
                let halted =
                    super::halt::halt_locked(conn, &current, &reason, operator, false).await?;
                (Some(halted), None)
            }
            Some(true) => (
                None,
                Some(super::halt::resume_locked(conn, &current, operator, "").await?),
            ),
            None => (None, None),
        };
        let after = get(conn).await?.config;
        tx.commit().await.map_err(Error::Database)?;
        Ok(RiskUpdate {
            before: current.config,
            after,
            halted,
            resumed,
        })
    }
}
