//! The Risk & Autonomy Gate (docs/platform.md §3): the deterministic checks an idea must pass to
//! execute, every rule judged every time, in one stable order.
//!
//! Two purposes share the rules:
//! - [`Purpose::Automatic`]: may the AI execute this idea on its own? All ten rules bind.
//! - [`Purpose::HumanApproval`]: an operator approves an idea with a lot size. §3 lists the
//!   checks re-run then: `lot_size`, `max_concurrent_trades`, `max_drawdown`,
//!   `session_closed`; exactly those bind, so tradedesk refuses no approval the platform
//!   would grant. The others are still judged and shown, as [`Outcome::Waived`] when they
//!   would fail, because the operator IS the authority they stand in for: `ai_halted` and
//!   `confidence` limit the AI alone; `off_watchlist` and `strategy_inactive` say what the
//!   AI may pick on its own; `daily_target_reached` stops the AI banking a good day, not a
//!   human; `news_blackout` is a strategy's automatic-entry rule and the operator sees the
//!   calendar in the replay (and a waived verdict names the release).
//!
//! Failing rules decide where an idea goes on the automatic path ([`Rule::on_failure`]):
//! - soft, to `needs_approval` (a human may still take the trade): `ai_halted`,
//!   `confidence`, `off_watchlist`, `lot_size` (the human picks the lot at approval),
//!   `max_concurrent_trades` (a slot may free up; approval re-checks it);
//! - hard, to `rejected` (approval could not help): `strategy_inactive` (switched off, or
//!   no or malformed rules), `session_closed` and `news_blackout` (the strategy forbids
//!   entering now);
//! - halting, to `halted_by_risk` (the day's limits stop trading): `max_drawdown`,
//!   `daily_target_reached`.
//!
//! The most severe failure wins: halting over hard over soft.

mod checks;
mod context;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::decision::DecisionAction;
use super::idea::{Direction, IdeaStatus};
use super::market::CalendarEvent;
use super::pnl::DayState;
use super::risk::RiskConfig;
use super::strategy::Strategy;

pub use context::GateContext;

/// Why the gate is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The AI wants to execute an idea on its own.
    Automatic,
    /// An operator approves an idea in `needs_approval`.
    HumanApproval,
}

/// The idea being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateIdea<'a> {
    pub symbol: &'a str,
    pub direction: Direction,
    /// 0–100.
    pub confidence: Decimal,
}

/// Positions open now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenTrades {
    pub total: u32,
    /// Of those, opened for the idea's strategy.
    pub for_strategy: u32,
}

/// Everything the gate judges; it reads nothing else, not even the clock.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    pub purpose: Purpose,
    pub idea: GateIdea<'a>,
    pub lot: Decimal,
    pub config: &'a RiskConfig,
    /// `None` when the idea names no strategy (or names one that no longer exists). A
    /// strategy whose documents do not read cannot trade.
    pub strategy: Option<&'a Strategy>,
    /// The day's P/L and drawdown; `None` when there is no account snapshot yet.
    pub day: Option<&'a DayState>,
    pub open_trades: OpenTrades,
    /// Calendar events around `now`, in any order.
    pub calendar: &'a [CalendarEvent],
    pub now: DateTime<Utc>,
}

/// One rule of the gate; the declaration order is the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    AiHalted,
    Confidence,
    StrategyInactive,
    OffWatchlist,
    LotSize,
    MaxConcurrentTrades,
    DailyTargetReached,
    MaxDrawdown,
    NewsBlackout,
    SessionClosed,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 10] = [
        Self::AiHalted,
        Self::Confidence,
        Self::StrategyInactive,
        Self::OffWatchlist,
        Self::LotSize,
        Self::MaxConcurrentTrades,
        Self::DailyTargetReached,
        Self::MaxDrawdown,
        Self::NewsBlackout,
        Self::SessionClosed,
    ];

    /// The name used in `risk_check_result` (`fail:<name>,…`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AiHalted => "ai_halted",
            Self::Confidence => "confidence",
            Self::StrategyInactive => "strategy_inactive",
            Self::OffWatchlist => "off_watchlist",
            Self::LotSize => "lot_size",
            Self::MaxConcurrentTrades => "max_concurrent_trades",
            Self::DailyTargetReached => "daily_target_reached",
            Self::MaxDrawdown => "max_drawdown",
            Self::NewsBlackout => "news_blackout",
            Self::SessionClosed => "session_closed",
        }
    }

    /// True when a failure of this rule blocks `purpose` (see the module doc).
    pub fn binds(self, purpose: Purpose) -> bool {
        match purpose {
            Purpose::Automatic => true,
            Purpose::HumanApproval => matches!(
                self,
                Self::LotSize | Self::MaxConcurrentTrades | Self::MaxDrawdown | Self::SessionClosed
            ),
        }
    }

    /// Where a failure of this rule sends an idea on the automatic path.
    pub fn on_failure(self) -> IdeaStatus {
        match self {
            Self::AiHalted
            | Self::Confidence
            | Self::OffWatchlist
            | Self::LotSize
            | Self::MaxConcurrentTrades => IdeaStatus::NeedsApproval,
            Self::StrategyInactive | Self::SessionClosed | Self::NewsBlackout => {
                IdeaStatus::Rejected
            }
            Self::MaxDrawdown | Self::DailyTargetReached => IdeaStatus::HaltedByRisk,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Pass,
    Fail,
    /// Would fail, but does not bind for this purpose (a human approval).
    Waived,
}

/// One rule's judgement, with a one-sentence reason carrying the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub rule: Rule,
    pub outcome: Outcome,
    pub reason: String,
}

/// The gate's answer: one verdict per rule, in [`Rule::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateReport {
    pub purpose: Purpose,
    pub verdicts: Vec<Verdict>,
}

/// Judges `input` against every rule.
pub fn evaluate(input: &GateInput<'_>) -> GateReport {
    let verdicts = Rule::ALL
        .into_iter()
        .map(|rule| {
            let (passed, reason) = checks::check(rule, input);
            let outcome = match (passed, rule.binds(input.purpose)) {
                (true, _) => Outcome::Pass,
                (false, true) => Outcome::Fail,
                (false, false) => Outcome::Waived,
            };
            Verdict {
                rule,
                outcome,
                reason,
            }
        })
        .collect();
    GateReport {
        purpose: input.purpose,
        verdicts,
    }
}

impl GateReport {
    /// True when no rule fails.
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failing verdicts, in report order.
    pub fn failures(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| v.outcome == Outcome::Fail)
    }

    /// The failing rules, in report order.
    pub fn failed_rules(&self) -> Vec<Rule> {
        self.failures().map(|v| v.rule).collect()
    }

    /// The verdict on `rule`.
    pub fn verdict(&self, rule: Rule) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.rule == rule)
    }

    /// `pass`, or `fail:<rule>[,<rule>…]` in report order: `decision_history.risk_check_result`.
    pub fn risk_check_result(&self) -> String {
        if self.passed() {
            "pass".to_owned()
        } else {
            let names: Vec<_> = self.failures().map(|v| v.rule.as_str()).collect();
            format!("fail:{}", names.join(","))
        }
    }

    /// The failing verdicts' reasons as one text, for a decision's rationale or a dialog.
    pub fn failure_reasons(&self) -> String {
        self.failures()
            .map(|v| v.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Where the idea goes. Automatic: `auto_executed` on a pass, otherwise the most severe
    /// [`Rule::on_failure`]. Human approval: `auto_executed` on a pass, else `rejected`.
    pub fn disposition(&self) -> IdeaStatus {
        let rank = |s: IdeaStatus| match s {
            IdeaStatus::HaltedByRisk => 3,
            IdeaStatus::Rejected => 2,
            _ => 1,
        };
        match self.purpose {
            _ if self.passed() => IdeaStatus::AutoExecuted,
            Purpose::HumanApproval => IdeaStatus::Rejected,
            Purpose::Automatic => self
                .failures()
                .map(|v| v.rule.on_failure())
                .max_by_key(|s| rank(*s))
                .unwrap_or(IdeaStatus::NeedsApproval),
        }
    }

    /// The `decision_history` action that records this judgement: `ai_auto_executed`,
    /// `ai_proposed` (sent for approval) or `risk_rejected` on the automatic path;
    /// `human_approved` or `risk_rejected` for an approval.
    pub fn decision_action(&self) -> DecisionAction {
        match (self.purpose, self.disposition()) {
            (Purpose::Automatic, IdeaStatus::AutoExecuted) => DecisionAction::AiAutoExecuted,
            (Purpose::Automatic, IdeaStatus::NeedsApproval) => DecisionAction::AiProposed,
            (Purpose::HumanApproval, IdeaStatus::AutoExecuted) => DecisionAction::HumanApproved,
            _ => DecisionAction::RiskRejected,
        }
    }
}
