//! The platform's rules as plain Rust: no IO, no UI, no SQL, no clock.
//!
//! Time is always a parameter (`now: DateTime<Utc>`), so every rule here is a pure function
//! that tests can pin to any instant.

pub mod confidence;
pub mod gate;
pub mod idea;
pub mod market;
pub mod numeric;
pub mod pnl;
pub mod risk;
pub mod strategy;

pub use confidence::{Confidence, ConfidenceInputs, score};
pub use gate::{GateInput, GateReport, Outcome, Purpose, Rule, Verdict, evaluate};
pub use idea::{DecisionAction, Direction, IdeaStatus};
pub use market::{CalendarEvent, Impact};
pub use pnl::{AccountSnapshot, DayState, HaltReason, TradingDay, day_state, halt_trigger};
pub use risk::{
    RiskChange, RiskChangeSet, RiskConfig, RiskConfigError, RiskConfigErrors, RiskField,
};
pub use strategy::{RulesJson, StrategyRules, StrategyRulesError};
