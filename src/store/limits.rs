//! Editing the risk limits: one transaction that writes the limits (validated as a whole,
//! audited in `tradedesk.config_changes`) and, when the edit flips `ai_trading_enabled`,
//! the halt or resume it means.

use sqlx::Acquire as _;

use super::Store;
use super::changes;
use super::error::Error;
use super::halt::{self, Halted, Resumed};
use super::risk::{RiskRow, RiskShown, Switch, get, lock_shown};
use crate::domain::act::Act;
use crate::domain::stored::Flagged;
use crate::domain::{RiskChangeSet, RiskConfig, RiskField};
use crate::operator::Operator;
use rust_decimal::Decimal;

/// What an edit of the risk limits did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskUpdate {
    /// The limits before; when they could not be read, the row as it was stored instead
    /// (and `before` holds the edit's placeholders for what it set).
    pub before: RiskConfig,
    pub before_unreadable: Option<Flagged>,
    pub after: RiskConfig,
    /// Set when the edit switched AI trading off.
    pub halted: Option<Halted>,
    /// Set when the edit switched AI trading on.
    pub resumed: Option<Resumed>,
}

/// The base an edit of unreadable limits applies to: the limits that read as stored,
/// and those that do not (a `NaN`) set by the edit itself; refused, naming them, when the
/// edit leaves one unset. The placeholders never outlive the edit: it sets each of them.
fn correctable(
    flagged: &Flagged,
    switch: &Switch,
    edits: &RiskChangeSet,
) -> Result<RiskRow, Error> {
    let set: Vec<&str> = edits.limits.iter().map(|c| c.field().as_str()).collect();
    let unset: Vec<&str> = flagged
        .flaws
        .iter()
        .map(|f| f.column.as_str())
        .filter(|c| RiskField::from_name(c).is_some() && !set.contains(c))
        .collect();
    if edits.limits.is_empty() {
        return Err(Error::InvalidInput(format!(
            "risk_config cannot be read ({}): stop AI trading with the kill switch (`tradedesk halt`), \
             and correct the limits named with `tradedesk risk set`",
            flagged.reason()
        )));
    }
    if !unset.is_empty() {
        return Err(Error::InvalidInput(format!(
            "risk_config cannot be read ({}): set {} in the same edit, e.g. `tradedesk risk set {}=…`",
            flagged.reason(),
            unset.join(", "),
            unset[0]
        )));
    }
    let number = |name: &str| -> Decimal {
        flagged
            .column(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(Decimal::ZERO)
    };
    let flag = |name: &str| flagged.column(name) == Some("true");
    Ok(RiskRow {
        config: RiskConfig {
            ai_trading_enabled: switch.ai_trading_enabled,
            min_confidence_threshold: number("min_confidence_threshold"),
            max_lot_size: number("max_lot_size"),
            max_concurrent_trades: flagged
                .column("max_concurrent_trades")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            daily_profit_target: number("daily_profit_target"),
            stop_after_target: flag("stop_after_target"),
            max_drawdown_amount: number("max_drawdown_amount"),
            halt_on_drawdown: flag("halt_on_drawdown"),
            allow_off_watchlist_autotrade: flag("allow_off_watchlist_autotrade"),
            last_halt_reason: switch.last_halt_reason.clone(),
        },
        updated_at: chrono::Utc::now(),
    })
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
        let mut tx = self.acts().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let shown = lock_shown(conn).await?;
        let switch = shown.switch.clone();
        let (current, before_unreadable) = match shown {
            RiskShown {
                limits: Ok(row), ..
            } => (row, None),
            RiskShown {
                limits: Err(flagged),
                switch,
            } => (correctable(&flagged, &switch, edits)?, Some(flagged)),
        };
        let after = edits
            .apply_to(&current.config)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        // The database's trigger audits the change (migration 14): an edit that changes
        // nothing is not written, so it is not audited either.
        // Limits that did not read are written whatever the edit's values.
        if !edits.limits.is_empty() && (after != current.config || before_unreadable.is_some()) {
            changes::name(conn, operator, None).await?;
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
        }
        let (halted, resumed) = match edits.ai_trading_enabled {
            // A field edit on a halted system changes nothing: pulling orders is the kill
            // switch's job, not a side effect of an edit.
            Some(false) if !current.config.ai_trading_enabled => (None, None),
            Some(false) => {
                let reason = format!("ai_trading_enabled=false set by {operator}");
                let by = halt::HaltBy::operator(operator);
                let halted = halt::halt_locked(conn, &switch, &reason, &by, false).await?;
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
            before_unreadable,
            after,
            halted,
            resumed,
        })
    }
}
