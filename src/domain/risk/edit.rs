//! An operator's edit of the risk limits, typed: `max_lot_size=0.50 halt_on_drawdown=false`.
//!
//! Parsing checks each value's type and column; applying checks the result as a whole
//! ([`RiskConfig::validate`]), so an edit that leaves the limits inconsistent writes nothing.
//! `ai_trading_enabled` is kept apart from the limits because the store routes it through
//! halt and resume, which write their own audit rows.

use std::fmt;

use rust_decimal::Decimal;

use super::{RiskConfig, RiskConfigError, RiskConfigErrors, RiskField, column_problem};
use crate::domain::numeric::{Shown, parse_plain_decimal};

/// A new value for one risk limit (everything but `ai_trading_enabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskChange {
    MinConfidenceThreshold(Decimal),
    MaxLotSize(Decimal),
    MaxConcurrentTrades(i32),
    DailyProfitTarget(Decimal),
    StopAfterTarget(bool),
    MaxDrawdownAmount(Decimal),
    HaltOnDrawdown(bool),
    AllowOffWatchlistAutotrade(bool),
}

impl RiskChange {
    /// The field this change sets.
    pub fn field(self) -> RiskField {
        match self {
            Self::MinConfidenceThreshold(_) => RiskField::MinConfidenceThreshold,
            Self::MaxLotSize(_) => RiskField::MaxLotSize,
            Self::MaxConcurrentTrades(_) => RiskField::MaxConcurrentTrades,
            Self::DailyProfitTarget(_) => RiskField::DailyProfitTarget,
            Self::StopAfterTarget(_) => RiskField::StopAfterTarget,
            Self::MaxDrawdownAmount(_) => RiskField::MaxDrawdownAmount,
            Self::HaltOnDrawdown(_) => RiskField::HaltOnDrawdown,
            Self::AllowOffWatchlistAutotrade(_) => RiskField::AllowOffWatchlistAutotrade,
        }
    }

    /// Writes the new value into `config`.
    pub fn apply(self, config: &mut RiskConfig) {
        match self {
            Self::MinConfidenceThreshold(v) => config.min_confidence_threshold = v,
            Self::MaxLotSize(v) => config.max_lot_size = v,
            Self::MaxConcurrentTrades(v) => config.max_concurrent_trades = v,
            Self::DailyProfitTarget(v) => config.daily_profit_target = v,
            Self::StopAfterTarget(v) => config.stop_after_target = v,
            Self::MaxDrawdownAmount(v) => config.max_drawdown_amount = v,
            Self::HaltOnDrawdown(v) => config.halt_on_drawdown = v,
            Self::AllowOffWatchlistAutotrade(v) => config.allow_off_watchlist_autotrade = v,
        }
    }
}

impl fmt::Display for RiskChange {
    /// `field=value`, the form the operator typed, for messages and audit text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field();
        match *self {
            Self::MinConfidenceThreshold(v)
            | Self::MaxLotSize(v)
            | Self::DailyProfitTarget(v)
            | Self::MaxDrawdownAmount(v) => write!(f, "{field}={}", Shown(v)),
            Self::MaxConcurrentTrades(v) => write!(f, "{field}={v}"),
            Self::StopAfterTarget(v)
            | Self::HaltOnDrawdown(v)
            | Self::AllowOffWatchlistAutotrade(v) => write!(f, "{field}={v}"),
        }
    }
}

/// A parsed set of edits: the limits to change, and the AI switch if it was named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskChangeSet {
    /// New limit values, in the order given.
    pub limits: Vec<RiskChange>,
    /// `Some` when the edit named `ai_trading_enabled`: the store turns it into a halt
    /// (`false`) or a resume (`true`); [`RiskChangeSet::apply_to`] leaves it alone.
    pub ai_trading_enabled: Option<bool>,
}

/// One parsed `FIELD=VALUE`.
enum Edit {
    Limit(RiskChange),
    AiTrading(bool),
}

impl RiskChangeSet {
    /// Parses `FIELD=VALUE` edits, e.g. `["max_lot_size=0.5", "halt_on_drawdown=false"]`.
    ///
    /// Field names are the column names. Booleans are `true`/`false` (`on`/`off` also read);
    /// decimals are plain (`0.50`, no exponent) and must fit their column without rounding;
    /// integers are whole numbers. Every bad edit is reported, not just the first.
    pub fn parse<'a>(edits: impl IntoIterator<Item = &'a str>) -> Result<Self, RiskConfigErrors> {
        let mut set = Self::default();
        let mut seen = Vec::new();
        let mut problems = Vec::new();
        for text in edits {
            match parse_edit(text) {
                Ok((field, edit)) => {
                    if seen.contains(&field) {
                        let repeated = RiskConfigError::Repeated { field };
                        if !problems.contains(&repeated) {
                            problems.push(repeated);
                        }
                        continue;
                    }
                    seen.push(field);
                    match edit {
                        Edit::Limit(change) => set.limits.push(change),
                        Edit::AiTrading(on) => set.ai_trading_enabled = Some(on),
                    }
                }
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(RiskConfigErrors(problems))
        }
    }

    /// True when the set changes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty() && self.ai_trading_enabled.is_none()
    }

    /// `config` with the limits changed, if the result is valid. `ai_trading_enabled` and
    /// `last_halt_reason` are left as they are (see [`RiskChangeSet::ai_trading_enabled`]).
    pub fn apply_to(&self, config: &RiskConfig) -> Result<RiskConfig, RiskConfigErrors> {
        let mut next = config.clone();
        for change in &self.limits {
            change.apply(&mut next);
        }
        next.validate()?;
        Ok(next)
    }
}

/// Parses one `FIELD=VALUE`.
fn parse_edit(text: &str) -> Result<(RiskField, Edit), RiskConfigError> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(RiskConfigError::NotAnEdit {
            got: text.to_owned(),
        });
    };
    let (name, value) = (name.trim(), value.trim());
    if name == "last_halt_reason" {
        return Err(RiskConfigError::HaltReasonNotEditable);
    }
    let Some(field) = RiskField::from_name(name) else {
        return Err(RiskConfigError::UnknownField {
            got: name.to_owned(),
            valid: RiskField::ALL.map(RiskField::as_str).join(", "),
        });
    };
    let bad = |expected| RiskConfigError::BadValue {
        field,
        expected,
        got: value.to_owned(),
    };
    let flag = || parse_bool(value).ok_or_else(|| bad("true or false"));
    let amount = || {
        let v = parse_plain_decimal(value).ok_or_else(|| bad("a decimal number such as 0.50"))?;
        let column = field.column().ok_or_else(|| bad("a decimal number"))?;
        // Too many decimals is a typing problem, reported now; too large is a range
        // problem, reported by `validate` with the field's whole allowed range.
        match column_problem(field, column, v) {
            Some(problem @ RiskConfigError::TooPrecise { .. }) => Err(problem),
            _ => Ok(column.fit(v).unwrap_or(v)),
        }
    };
    let edit = match field {
        RiskField::AiTradingEnabled => Edit::AiTrading(flag()?),
        RiskField::MinConfidenceThreshold => {
            Edit::Limit(RiskChange::MinConfidenceThreshold(amount()?))
        }
        RiskField::MaxLotSize => Edit::Limit(RiskChange::MaxLotSize(amount()?)),
        RiskField::DailyProfitTarget => Edit::Limit(RiskChange::DailyProfitTarget(amount()?)),
        RiskField::MaxDrawdownAmount => Edit::Limit(RiskChange::MaxDrawdownAmount(amount()?)),
        RiskField::MaxConcurrentTrades => {
            Edit::Limit(RiskChange::MaxConcurrentTrades(parse_count(field, value)?))
        }
        RiskField::StopAfterTarget => Edit::Limit(RiskChange::StopAfterTarget(flag()?)),
        RiskField::HaltOnDrawdown => Edit::Limit(RiskChange::HaltOnDrawdown(flag()?)),
        RiskField::AllowOffWatchlistAutotrade => {
            Edit::Limit(RiskChange::AllowOffWatchlistAutotrade(flag()?))
        }
    };
    Ok((field, edit))
}

/// `true`/`false`, also `on`/`off`, in any case.
fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "on" => Some(true),
        "false" | "off" => Some(false),
        _ => None,
    }
}

/// A whole number for an `INT` column, refused when it does not fit one.
fn parse_count(field: RiskField, value: &str) -> Result<i32, RiskConfigError> {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RiskConfigError::BadValue {
            field,
            expected: "a whole number such as 3",
            got: value.to_owned(),
        });
    }
    value
        .parse::<i32>()
        .map_err(|_| RiskConfigError::OutOfRange {
            field,
            allowed: format!("between 1 and {}", i32::MAX),
            got: value.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn errors(edits: &[&str]) -> Vec<String> {
        match RiskChangeSet::parse(edits.iter().copied()) {
            Ok(set) => panic!("expected errors, parsed {set:?}"),
            Err(RiskConfigErrors(all)) => all.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn edits_parse_into_typed_changes_at_column_scale() {
        let set = RiskChangeSet::parse(["max_lot_size=0.5", "halt_on_drawdown=false"]).unwrap();
        assert_eq!(
            set.limits,
            [
                RiskChange::MaxLotSize(dec("0.50")),
                RiskChange::HaltOnDrawdown(false)
            ]
        );
        assert_eq!(set.limits[0].to_string(), "max_lot_size=0.50");
        assert_eq!(set.ai_trading_enabled, None);
    }

    #[test]
    fn ai_trading_enabled_is_reported_apart_from_the_limits() {
        let set = RiskChangeSet::parse(["ai_trading_enabled=true"]).unwrap();
        assert!(set.limits.is_empty());
        assert_eq!(set.ai_trading_enabled, Some(true));
        let applied = set.apply_to(&RiskConfig::default()).unwrap();
        assert!(
            !applied.ai_trading_enabled,
            "apply_to must leave the AI switch alone"
        );
    }

    #[test]
    fn last_halt_reason_is_not_editable() {
        assert_eq!(
            errors(&["last_halt_reason=none"]),
            [RiskConfigError::HaltReasonNotEditable.to_string()]
        );
    }

    #[test]
    fn unknown_field_lists_the_valid_fields() {
        let msgs = errors(&["max_lots=2"]);
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].starts_with("there is no risk setting \"max_lots\""));
        for field in RiskField::ALL {
            assert!(msgs[0].contains(field.as_str()), "{field} missing");
        }
    }

    #[test]
    fn bad_value_names_the_field_and_the_expected_type() {
        assert_eq!(
            errors(&[
                "halt_on_drawdown=maybe",
                "max_concurrent_trades=2.5",
                "max_lot_size=1e3"
            ]),
            [
                "halt_on_drawdown expects true or false (got \"maybe\")",
                "max_concurrent_trades expects a whole number such as 3 (got \"2.5\")",
                "max_lot_size expects a decimal number such as 0.50 (got \"1e3\")",
            ]
        );
    }

    #[test]
    fn more_decimals_than_the_column_are_refused_not_rounded() {
        assert_eq!(
            errors(&["max_lot_size=0.505"]),
            [
                "max_lot_size holds at most 2 decimal places (got 0.505); tradedesk does not \
              round, so give the value you mean"
            ]
        );
    }

    #[test]
    fn integers_too_large_for_the_column_are_refused() {
        assert_eq!(
            errors(&["max_concurrent_trades=3000000000"]),
            ["max_concurrent_trades must be between 1 and 2147483647 (got 3000000000)"]
        );
    }

    #[test]
    fn decimals_too_large_for_the_column_are_refused_with_the_fields_range() {
        let set = RiskChangeSet::parse(["min_confidence_threshold=1000", "max_drawdown_amount=1e"]);
        assert!(set.is_err(), "1e is not a number");
        let set = RiskChangeSet::parse([
            "min_confidence_threshold=1000",
            "daily_profit_target=10000000000",
        ])
        .unwrap();
        assert_eq!(
            set.apply_to(&RiskConfig::default())
                .unwrap_err()
                .to_string(),
            "min_confidence_threshold must be between 0 and 100 (got 1000); daily_profit_target \
             must be between 0 and 9999999999.99 (got 10000000000)"
        );
    }

    #[test]
    fn text_without_equals_sign_is_not_an_edit() {
        assert_eq!(
            errors(&["max_lot_size"]),
            ["\"max_lot_size\" is not an edit: write FIELD=VALUE, e.g. max_lot_size=0.50"]
        );
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        assert_eq!(
            errors(&["max_lot_size=1", "max_lot_size=2"]),
            ["max_lot_size is given more than once; give each field once"]
        );
    }

    #[test]
    fn applying_validates_the_result() {
        let set = RiskChangeSet::parse(["min_confidence_threshold=120", "max_lot_size=0"]).unwrap();
        let err = set.apply_to(&RiskConfig::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "min_confidence_threshold must be between 0 and 100 (got 120.00); max_lot_size \
             must be greater than 0 and at most 99999999.99 (got 0.00)"
        );
    }

    #[test]
    fn applying_a_valid_set_changes_only_the_named_limits() {
        let set =
            RiskChangeSet::parse([" max_concurrent_trades = 5", "stop_after_target=off"]).unwrap();
        let before = RiskConfig::default();
        let after = set.apply_to(&before).unwrap();
        assert_eq!(after.max_concurrent_trades, 5);
        assert!(!after.stop_after_target);
        assert_eq!(
            RiskConfig {
                max_concurrent_trades: 3,
                stop_after_target: true,
                ..after
            },
            before
        );
    }
}
