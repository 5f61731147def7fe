//! The global risk controls: the single `risk_config` row (docs/platform.md §1, §3).
//!
//! [`RiskConfig::validate`] holds the ranges the platform validates its inputs against
//! (§5) and the column scales of §1; [`RiskChangeSet`] is an operator's `FIELD=VALUE`
//! edit, typed, so the store never writes a value it has not checked.

mod edit;

use std::fmt;

use rust_decimal::Decimal;

use super::numeric::{self, Misfit, NumericColumn, Shown};

pub use edit::{RiskChange, RiskChangeSet};

/// The operator's risk limits and the AI's on/off switch.
/// Serialised with decimals as strings (`"1.00"`), exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RiskConfig {
    pub ai_trading_enabled: bool,
    /// A percentage, 0–100.
    pub min_confidence_threshold: Decimal,
    pub max_lot_size: Decimal,
    pub max_concurrent_trades: i32,
    pub daily_profit_target: Decimal,
    pub stop_after_target: bool,
    pub max_drawdown_amount: Decimal,
    pub halt_on_drawdown: bool,
    pub allow_off_watchlist_autotrade: bool,
    /// Why the AI was last halted; `None` while it is not halted.
    pub last_halt_reason: Option<String>,
}

impl Default for RiskConfig {
    /// What the platform writes on first start: AI trading off, threshold 90.0, max lot
    /// 1.00, 3 concurrent trades, daily target 2000.00, drawdown 1000.00, both halts on,
    /// off-watchlist trading off.
    fn default() -> Self {
        Self {
            ai_trading_enabled: false,
            min_confidence_threshold: Decimal::new(900, 1),
            max_lot_size: Decimal::new(100, 2),
            max_concurrent_trades: 3,
            daily_profit_target: Decimal::new(200_000, 2),
            stop_after_target: true,
            max_drawdown_amount: Decimal::new(100_000, 2),
            halt_on_drawdown: true,
            allow_off_watchlist_autotrade: false,
            last_halt_reason: None,
        }
    }
}

/// A column of `risk_config` an operator may name. `last_halt_reason` is absent on purpose:
/// only a halt sets it and only a resume clears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RiskField {
    AiTradingEnabled,
    MinConfidenceThreshold,
    MaxLotSize,
    MaxConcurrentTrades,
    DailyProfitTarget,
    StopAfterTarget,
    MaxDrawdownAmount,
    HaltOnDrawdown,
    AllowOffWatchlistAutotrade,
}

impl RiskField {
    /// Every editable field, in the column order of the table.
    pub const ALL: [RiskField; 9] = [
        Self::AiTradingEnabled,
        Self::MinConfidenceThreshold,
        Self::MaxLotSize,
        Self::MaxConcurrentTrades,
        Self::DailyProfitTarget,
        Self::StopAfterTarget,
        Self::MaxDrawdownAmount,
        Self::HaltOnDrawdown,
        Self::AllowOffWatchlistAutotrade,
    ];

    /// The column name, which is also the name an operator types.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AiTradingEnabled => "ai_trading_enabled",
            Self::MinConfidenceThreshold => "min_confidence_threshold",
            Self::MaxLotSize => "max_lot_size",
            Self::MaxConcurrentTrades => "max_concurrent_trades",
            Self::DailyProfitTarget => "daily_profit_target",
            Self::StopAfterTarget => "stop_after_target",
            Self::MaxDrawdownAmount => "max_drawdown_amount",
            Self::HaltOnDrawdown => "halt_on_drawdown",
            Self::AllowOffWatchlistAutotrade => "allow_off_watchlist_autotrade",
        }
    }

    /// The field named `name` (exact column name), if it is editable.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The column a decimal field is stored in; `None` for booleans and integers.
    pub fn column(self) -> Option<NumericColumn> {
        match self {
            Self::MinConfidenceThreshold => Some(numeric::PERCENT),
            Self::MaxLotSize => Some(numeric::LOT),
            Self::DailyProfitTarget | Self::MaxDrawdownAmount => Some(numeric::AMOUNT),
            _ => None,
        }
    }
}

impl fmt::Display for RiskField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one risk setting, in one sentence a trader can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskConfigError {
    #[error("{field} must be {allowed} (got {got})")]
    OutOfRange {
        field: RiskField,
        allowed: String,
        got: String,
    },
    #[error(
        "{field} holds at most {places} decimal places (got {got}); tradedesk does not round, \
         so give the value you mean"
    )]
    TooPrecise {
        field: RiskField,
        places: u32,
        got: String,
    },
    #[error("{field} expects {expected} (got \"{got}\")")]
    BadValue {
        field: RiskField,
        expected: &'static str,
        got: String,
    },
    #[error("there is no risk setting \"{got}\"; the editable ones are {valid}")]
    UnknownField { got: String, valid: String },
    #[error(
        "last_halt_reason cannot be edited: it is set by a halt and cleared by a resume \
         (use ai_trading_enabled=false or =true)"
    )]
    HaltReasonNotEditable,
    #[error("\"{got}\" is not an edit: write FIELD=VALUE, e.g. max_lot_size=0.50")]
    NotAnEdit { got: String },
    #[error("{field} is given more than once; give each field once")]
    Repeated { field: RiskField },
}

/// Every problem found in a risk configuration or an edit of it, never just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct RiskConfigErrors(pub Vec<RiskConfigError>);

impl RiskConfig {
    /// Checks every limit against its allowed range and its column; lists every problem.
    ///
    /// Ranges: confidence threshold 0–100, lot > 0, concurrent trades ≥ 1, daily target and
    /// drawdown ≥ 0 (docs/platform.md §5); decimals must also fit their `NUMERIC` columns.
    pub fn validate(&self) -> Result<(), RiskConfigErrors> {
        let hundred = Decimal::ONE_HUNDRED;
        let checks = [
            (
                RiskField::MinConfidenceThreshold,
                self.min_confidence_threshold,
                self.min_confidence_threshold >= Decimal::ZERO
                    && self.min_confidence_threshold <= hundred,
                "between 0 and 100".to_owned(),
            ),
            lower_bound(RiskField::MaxLotSize, self.max_lot_size, false),
            lower_bound(RiskField::DailyProfitTarget, self.daily_profit_target, true),
            lower_bound(RiskField::MaxDrawdownAmount, self.max_drawdown_amount, true),
        ];
        let mut problems = Vec::new();
        for (field, value, in_range, allowed) in checks {
            if !in_range {
                problems.push(RiskConfigError::OutOfRange {
                    field,
                    allowed,
                    got: value.to_string(),
                });
            } else if let Some(column) = field.column() {
                problems.extend(column_problem(field, column, value));
            }
        }
        if self.max_concurrent_trades < 1 {
            problems.push(RiskConfigError::OutOfRange {
                field: RiskField::MaxConcurrentTrades,
                allowed: format!("between 1 and {}", i32::MAX),
                got: self.max_concurrent_trades.to_string(),
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            problems.sort_by_key(field_of);
            Err(RiskConfigErrors(problems))
        }
    }
}

/// The check of a decimal with a floor (0, inclusive or not) and its column's ceiling:
/// `(field, value, in range, the allowed range in words)`.
fn lower_bound(
    field: RiskField,
    value: Decimal,
    zero_allowed: bool,
) -> (RiskField, Decimal, bool, String) {
    let max = field.column().map_or(Decimal::MAX, NumericColumn::max);
    let (above_floor, allowed) = if zero_allowed {
        (
            value >= Decimal::ZERO,
            format!("between 0 and {}", Shown(max)),
        )
    } else {
        (
            value > Decimal::ZERO,
            format!("greater than 0 and at most {}", Shown(max)),
        )
    };
    (field, value, above_floor && value <= max, allowed)
}

/// The problem a decimal has with its column, if any (the range was checked first).
pub(super) fn column_problem(
    field: RiskField,
    column: NumericColumn,
    value: Decimal,
) -> Option<RiskConfigError> {
    match column.fit(value) {
        Ok(_) => None,
        Err(Misfit::TooPrecise { scale }) => Some(RiskConfigError::TooPrecise {
            field,
            places: scale,
            got: value.to_string(),
        }),
        Err(Misfit::TooLarge { max }) => Some(RiskConfigError::OutOfRange {
            field,
            allowed: format!("at most {}", Shown(max)),
            got: value.to_string(),
        }),
    }
}

/// The field a problem is about, to list problems in column order.
fn field_of(problem: &RiskConfigError) -> Option<RiskField> {
    match problem {
        RiskConfigError::OutOfRange { field, .. }
        | RiskConfigError::TooPrecise { field, .. }
        | RiskConfigError::BadValue { field, .. }
        | RiskConfigError::Repeated { field } => Some(*field),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn messages(config: &RiskConfig) -> Vec<String> {
        match config.validate() {
            Ok(()) => Vec::new(),
            Err(RiskConfigErrors(all)) => all.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(RiskConfig::default().validate(), Ok(()));
    }

    #[test]
    fn threshold_above_100_is_refused_with_field_and_range() {
        let config = RiskConfig {
            min_confidence_threshold: dec("120"),
            ..RiskConfig::default()
        };
        assert_eq!(
            messages(&config),
            ["min_confidence_threshold must be between 0 and 100 (got 120)"]
        );
    }

    #[test]
    fn threshold_below_0_is_refused() {
        let config = RiskConfig {
            min_confidence_threshold: dec("-0.01"),
            ..RiskConfig::default()
        };
        assert_eq!(messages(&config).len(), 1);
    }

    #[test]
    fn threshold_bounds_0_and_100_are_allowed() {
        for t in ["0", "100", "100.00"] {
            let config = RiskConfig {
                min_confidence_threshold: dec(t),
                ..RiskConfig::default()
            };
            assert_eq!(config.validate(), Ok(()), "{t}");
        }
    }

    #[test]
    fn zero_lot_is_refused() {
        let config = RiskConfig {
            max_lot_size: Decimal::ZERO,
            ..RiskConfig::default()
        };
        assert_eq!(
            messages(&config),
            ["max_lot_size must be greater than 0 and at most 99999999.99 (got 0)"]
        );
    }

    #[test]
    fn zero_concurrent_trades_is_refused() {
        let config = RiskConfig {
            max_concurrent_trades: 0,
            ..RiskConfig::default()
        };
        assert_eq!(
            messages(&config),
            ["max_concurrent_trades must be between 1 and 2147483647 (got 0)"]
        );
    }

    #[test]
    fn negative_target_and_drawdown_are_both_reported() {
        let config = RiskConfig {
            daily_profit_target: dec("-1"),
            max_drawdown_amount: dec("-2"),
            ..RiskConfig::default()
        };
        assert_eq!(
            messages(&config),
            [
                "daily_profit_target must be between 0 and 9999999999.99 (got -1)",
                "max_drawdown_amount must be between 0 and 9999999999.99 (got -2)",
            ]
        );
    }

    #[test]
    fn zero_target_and_drawdown_are_allowed() {
        let config = RiskConfig {
            daily_profit_target: Decimal::ZERO,
            max_drawdown_amount: Decimal::ZERO,
            ..RiskConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn values_with_more_decimals_than_their_column_are_refused() {
        let config = RiskConfig {
            max_lot_size: dec("0.505"),
            min_confidence_threshold: dec("90.001"),
            ..RiskConfig::default()
        };
        assert_eq!(
            messages(&config),
            [
                "min_confidence_threshold holds at most 2 decimal places (got 90.001); \
                 tradedesk does not round, so give the value you mean",
                "max_lot_size holds at most 2 decimal places (got 0.505); tradedesk does not \
                 round, so give the value you mean",
            ]
        );
    }

    #[test]
    fn values_too_large_for_their_column_are_refused() {
        let config = RiskConfig {
            max_lot_size: dec("100000000"),
            ..RiskConfig::default()
        };
        assert_eq!(
            messages(&config),
            ["max_lot_size must be greater than 0 and at most 99999999.99 (got 100000000)"]
        );
    }

    #[test]
    fn defaults_are_the_platforms() {
        let d = RiskConfig::default();
        assert!(!d.ai_trading_enabled);
        assert_eq!(d.min_confidence_threshold.to_string(), "90.0");
        assert_eq!(d.max_lot_size.to_string(), "1.00");
        assert_eq!(d.max_concurrent_trades, 3);
        assert_eq!(d.daily_profit_target.to_string(), "2000.00");
        assert_eq!(d.max_drawdown_amount.to_string(), "1000.00");
        assert!(d.stop_after_target && d.halt_on_drawdown);
        assert!(!d.allow_off_watchlist_autotrade);
        assert_eq!(d.last_halt_reason, None);
    }
}
