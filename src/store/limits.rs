//! Editing the risk limits: one transaction that writes the limits (validated as a whole,
//! audited in `tradedesk.config_changes`) and, when the edit flips `ai_trading_enabled`,
//! the halt or resume it means.

use sqlx::Acquire as _;
use uuid::Uuid;

use super::Store;
use super::error::Error;
use super::halt::{self, Halted, Resumed};
use super::risk::{get, lock};
use crate::domain::act::Act;
use crate::domain::{RiskChangeSet, RiskConfig};
use crate::operator::Operator;

/// What an edit of the risk limits did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskUpdate {
    pub before: RiskConfig,
    pub after: RiskConfig,
    /// Set when the edit switched AI trading off.
    pub halted: Option<Halted>,
    /// Set when the edit switched AI trading on.
    pub resumed: Option<Resumed>,
}

/// The limits as JSON for the audit row; decimals as strings, exactly as stored.
fn audit_json(c: &RiskConfig) -> serde_json::Value {
    serde_json::to_value(c).unwrap_or(serde_json::Value::Null)
}

impl Store {
    /// Applies an operator's edit in one transaction: the limits (validated as a whole,
    /// audited in `config_changes`) and, if the edit names `ai_trading_enabled`, the
    /// halt or resume it means, with its `decision_history` row. Invalid edits write nothing.
    pub async fn update_risk_config(
        &self,
        edits: &RiskChangeSet,
        operator: &Operator,
    ) -> Result<RiskUpdate, Error> {
        operator.may(Act::EditRisk)?;
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
            .bind(Uuid::now_v7())
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
                let by = halt::HaltBy::operator(operator);
                let halted = halt::halt_locked(conn, &current, &reason, &by, false).await?;
                (Some(halted), None)
            }
            Some(true) => (
                None,
                Some(halt::resume_locked(conn, &current, operator, "").await?),
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
