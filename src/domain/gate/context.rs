//! Everything the Gate judges an idea on, owned and read at one moment, so that a screen
//! can keep it and re-judge as the operator types a lot size without touching the database.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{GateIdea, GateInput, GateReport, OpenTrades, Purpose, evaluate};
use crate::domain::idea::Idea;
use crate::domain::lot::Lot;
use crate::domain::market::CalendarEvent;
use crate::domain::pnl::DayState;
use crate::domain::risk::RiskConfig;
use crate::domain::strategy::Strategy;

/// The Gate's inputs for one idea.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateContext {
    pub idea: Idea,
    pub config: RiskConfig,
    /// The idea's strategy, when it names one that exists.
    pub strategy: Option<Strategy>,
    /// The day's P/L and drawdown; `None` before the first account snapshot.
    pub day: Option<DayState>,
    pub open_trades: OpenTrades,
    /// Calendar events around `now`.
    pub calendar: Vec<CalendarEvent>,
    /// The database's clock when the context was read.
    pub now: DateTime<Utc>,
}

impl GateContext {
    /// The Gate's report on the idea with `lot`.
    pub fn judge(&self, lot: Lot, purpose: Purpose) -> GateReport {
        evaluate(&GateInput {
            purpose,
            idea: GateIdea {
                symbol: &self.idea.symbol,
                direction: self.idea.direction,
                confidence: self.idea.confidence_score,
            },
            lot: lot.value(),
            config: &self.config,
            strategy: self.strategy.as_ref(),
            day: self.day.as_ref(),
            open_trades: self.open_trades,
            calendar: &self.calendar,
            now: self.now,
        })
    }

    /// The lot an approval offers first: the smaller of the strategy's cap and
    /// `max_lot_size`.
    pub fn default_lot(&self) -> Decimal {
        let cap = self
            .strategy
            .as_ref()
            .and_then(Strategy::parsed)
            .and_then(|r| r.risk_caps.max_lot_size);
        match cap {
            Some(cap) => cap.min(self.config.max_lot_size),
            None => self.config.max_lot_size,
        }
    }
}
