//! The global risk controls: the single `risk_config` row (PLATFORM.md §1, §3).

use rust_decimal::Decimal;

/// The operator's risk limits and the AI's on/off switch.
#[derive(Debug, Clone, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
