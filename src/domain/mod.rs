//! The platform's entities and rules as plain Rust: no IO, no UI, no SQL, no clock.
//!
//! Time is always a parameter (`now: DateTime<Utc>`), so every rule here is a pure function
//! that tests can pin to any instant.

pub mod account;
pub mod act;
pub mod confidence;
pub mod decision;
pub mod gate;
pub mod idea;
pub mod indicators;
pub mod instrument;
pub mod label;
pub mod lot;
pub mod market;
pub mod numeric;
pub mod pnl;
pub mod replay;
pub mod risk;
pub mod role;
pub mod stored;
pub mod strategy;
pub mod text;

pub use account::AccountSnapshot;
pub use act::Act;
pub use confidence::{Confidence, ConfidenceInputs, score};
pub use decision::{Decision, DecisionAction};
pub use gate::{GateContext, GateInput, GateReport, Outcome, Purpose, Rule, Verdict, evaluate};
pub use idea::{Direction, Entry, Idea, IdeaStatus};
pub use lot::{Lot, LotError};
pub use market::{CalendarEvent, Impact};
pub use pnl::{DayState, HaltReason, TradingDay, day_state, halt_trigger};
pub use replay::Replay;
pub use risk::{
    RiskChange, RiskChangeSet, RiskConfig, RiskConfigError, RiskConfigErrors, RiskField,
};
pub use strategy::{RulesJson, Strategy, StrategyRules, StrategyRulesError};
