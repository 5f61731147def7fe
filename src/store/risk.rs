//! `risk_config`: the single row of risk limits and the AI's switch.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::error::Error;
use crate::domain::RiskConfig;
use crate::domain::stored::{Flagged, Flaw, Numeric, Stamp};

/// The risk limits with when they last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRow {
    pub config: RiskConfig,
    pub updated_at: DateTime<Utc>,
}

/// The `risk_config` row as stored: every value its columns admit reads.
#[derive(sqlx::FromRow)]
struct Row {
    ai_trading_enabled: bool,
    min_confidence_threshold: Numeric,
    max_lot_size: Numeric,
    max_concurrent_trades: i32,
    daily_profit_target: Numeric,
    stop_after_target: bool,
    max_drawdown_amount: Numeric,
    halt_on_drawdown: bool,
    allow_off_watchlist_autotrade: bool,
    last_halt_reason: Option<String>,
    updated_at: Stamp,
}

const SELECT: &str = "SELECT ai_trading_enabled, min_confidence_threshold, max_lot_size,
                             max_concurrent_trades, daily_profit_target, stop_after_target,
                             max_drawdown_amount, halt_on_drawdown, allow_off_watchlist_autotrade,
                             last_halt_reason, updated_at
                        FROM risk_config WHERE id";

impl Row {
    /// The limits, or the row flagged with every column that cannot be read (a `NaN`
    /// limit, an infinite `updated_at`).
    fn read(&self) -> Result<RiskRow, Flagged> {
        let number = |column: &'static str, n: &Numeric| {
            n.number().ok_or_else(|| Flaw::new(column, n.to_string()))
        };
        let reads = (
            number("min_confidence_threshold", &self.min_confidence_threshold),
            number("max_lot_size", &self.max_lot_size),
            number("daily_profit_target", &self.daily_profit_target),
            number("max_drawdown_amount", &self.max_drawdown_amount),
            self.updated_at
                .at()
                .ok_or_else(|| Flaw::new("updated_at", self.updated_at.to_string())),
        );
        match reads {
            (Ok(threshold), Ok(lot), Ok(target), Ok(drawdown), Ok(updated_at)) => Ok(RiskRow {
                config: RiskConfig {
                    ai_trading_enabled: self.ai_trading_enabled,
                    min_confidence_threshold: threshold,
                    max_lot_size: lot,
                    max_concurrent_trades: self.max_concurrent_trades,
                    daily_profit_target: target,
                    stop_after_target: self.stop_after_target,
                    max_drawdown_amount: drawdown,
                    halt_on_drawdown: self.halt_on_drawdown,
                    allow_off_watchlist_autotrade: self.allow_off_watchlist_autotrade,
                    last_halt_reason: self.last_halt_reason.clone(),
                },
                updated_at,
            }),
            (a, b, c, d, e) => Err(self.flagged(
                [a.err(), b.err(), c.err(), d.err(), e.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }

    fn flagged(&self, flaws: Vec<Flaw>) -> Flagged {
        Flagged {
            table: "risk_config",
            // The table's one row has no uuid: the nil id stands for it.
            id: Uuid::nil(),
            flaws,
            at: None,
            columns: vec![
                ("ai_trading_enabled", self.ai_trading_enabled.to_string()),
                (
                    "min_confidence_threshold",
                    self.min_confidence_threshold.to_string(),
                ),
                ("max_lot_size", self.max_lot_size.to_string()),
                (
                    "max_concurrent_trades",
                    self.max_concurrent_trades.to_string(),
                ),
                ("daily_profit_target", self.daily_profit_target.to_string()),
                ("stop_after_target", self.stop_after_target.to_string()),
                ("max_drawdown_amount", self.max_drawdown_amount.to_string()),
                ("halt_on_drawdown", self.halt_on_drawdown.to_string()),
                (
                    "allow_off_watchlist_autotrade",
                    self.allow_off_watchlist_autotrade.to_string(),
                ),
                (
                    "last_halt_reason",
                    self.last_halt_reason.clone().unwrap_or_else(|| "—".into()),
                ),
                ("updated_at", self.updated_at.to_string()),
            ],
        }
    }

    fn switch(&self) -> Switch {
        Switch {
            ai_trading_enabled: self.ai_trading_enabled,
            last_halt_reason: self.last_halt_reason.clone(),
        }
    }
}

/// The AI's switch and why it was last halted: the two columns every halt and resume
/// needs, and the header shows, whatever the limits hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub ai_trading_enabled: bool,
    pub last_halt_reason: Option<String>,
}

/// The risk row as the screens show it: the switch always, and the limits read, or the
/// row flagged when a limit cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskShown {
    pub switch: Switch,
    pub limits: Result<RiskRow, Flagged>,
}

impl RiskShown {
    /// The limits read, if they are.
    pub fn row(&self) -> Option<&RiskRow> {
        self.limits.as_ref().ok()
    }
}

/// A refusal naming the limits that cannot be read.
fn unreadable(f: Flagged) -> Error {
    Error::Unreadable {
        what: "risk_config".into(),
        reason: f.reason(),
    }
}

fn missing() -> Error {
    Error::Refused(
        "the database has no risk_config row: run `tradedesk setup` to write the defaults".into(),
    )
}

async fn fetch(conn: &mut PgConnection, lock: bool) -> Result<Row, Error> {
    let sql = if lock {
        format!("{SELECT} FOR UPDATE")
    } else {
        SELECT.to_string()
    };
    let row: Option<Row> = sqlx::query_as(&sql)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    row.ok_or_else(missing)
}

/// The current risk limits; refused, naming the columns, when one cannot be read.
pub async fn get(conn: &mut PgConnection) -> Result<RiskRow, Error> {
    fetch(conn, false).await?.read().map_err(unreadable)
}

/// The current risk limits, locked until the transaction ends: every act that depends on
/// them (or flips the switch) takes this lock first, so acts are ordered.
pub async fn lock(conn: &mut PgConnection) -> Result<RiskRow, Error> {
    fetch(conn, true).await?.read().map_err(unreadable)
}

/// The risk row locked, its limits read or flagged: for an edit, which may set what
/// cannot be read.
pub(crate) async fn lock_shown(conn: &mut PgConnection) -> Result<RiskShown, Error> {
    let row = fetch(conn, true).await?;
    Ok(RiskShown {
        switch: row.switch(),
        limits: row.read(),
    })
}

/// The kill switch's lock (its statement is prepared ahead on the console's act
/// connections, `store::acts`).
pub(crate) const LOCK_SWITCH: &str =
    "SELECT ai_trading_enabled, last_halt_reason FROM risk_config WHERE id FOR UPDATE";

/// The switch alone, locked until the transaction ends (the lock every act takes first):
/// the kill switch reads nothing a writer could have made unreadable.
pub async fn lock_switch(conn: &mut PgConnection) -> Result<Switch, Error> {
    let row: Option<(bool, Option<String>)> = sqlx::query_as(LOCK_SWITCH)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    let (ai_trading_enabled, last_halt_reason) = row.ok_or_else(missing)?;
    Ok(Switch {
        ai_trading_enabled,
        last_halt_reason,
    })
}

/// Who last edited the limits, and what they typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastChange {
    pub operator: String,
    pub changes: String,
    pub changed_at: DateTime<Utc>,
}

impl super::Store {
    /// The current risk limits; refused, naming the columns, when one cannot be read.
    pub async fn risk_config(&self) -> Result<RiskRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        get(&mut conn).await
    }

    /// The risk row for a screen: the switch, and the limits or the row flagged.
    pub async fn risk_shown(&self) -> Result<RiskShown, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        let row = fetch(&mut conn, false).await?;
        Ok(RiskShown {
            switch: row.switch(),
            limits: row.read(),
        })
    }

    /// The newest edit of the limits, if any.
    pub async fn last_risk_change(&self) -> Result<Option<LastChange>, Error> {
        // A change dated ±infinity by another writer is no time to show as "last".
        let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT operator, change, changed_at FROM tradedesk.config_changes
              WHERE subject = 'risk_config' AND isfinite(changed_at)
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
