//! The deterministic confidence score, 0–100 (docs/platform.md §3): how well an idea fits its
//! strategy, how calm the market is for its symbol, and how comfortable the account is.
//! The language model never sets it; the same inputs always give the same score.
//!
//! The formula, every part rounded to 2 decimals (half away from zero), the total their sum
//! clamped to 0–100:
//!
//! **Strategy match, 0–50** (0 without a strategy):
//! - 10 when the strategy is active and its `allowed_symbols` hold the symbol;
//! - 10 when `now` is inside one of its session windows;
//! - 30 × met ÷ total over its entry conditions (`conditions_met` is counted by the
//!   platform's evaluator, capped at the total); 0 when it has no entry conditions, since
//!   nothing was confirmed.
//!
//! **Market risk, 0–25**: within the strategy's `block_high_impact_news_minutes` of `now`
//! (before or after; [`DEFAULT_NEWS_MINUTES`] when it sets none or there is no strategy),
//! looking at the releases in the symbol's currencies (all currencies for a symbol not
//! recognised): 0 with a high-impact release, 15 with a medium-impact one, else 25.
//!
//! **Account comfort, 0–25**:
//! - margin health, 0–15: margin level = equity ÷ margin used × 100 %; 15 with no margin
//!   used, 0 at or below a 100 % level (or equity ≤ 0), rising linearly to 15 at 1000 %;
//! - exposure, 0–10: 10 × (1 − open positions ÷ `max_concurrent_trades`), floored at 0 (and
//!   0 when the maximum is below 1).

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::market::{CalendarEvent, Impact, nearest_event, symbol_exposure};
use super::strategy::StrategyRules;

/// The news window when the strategy does not set one, in minutes.
pub const DEFAULT_NEWS_MINUTES: u32 = 30;

/// The strategy the idea claims, and how many of its entry conditions hold.
#[derive(Debug, Clone, Copy)]
pub struct StrategyFit<'a> {
    pub is_active: bool,
    pub allowed_symbols: &'a [String],
    pub rules: &'a StrategyRules,
    /// Entry conditions the evaluator found met; capped at the number of conditions.
    pub conditions_met: usize,
}

/// The account as the latest `snapshot_account` row shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLoad {
    pub equity: Decimal,
    pub margin_used: Decimal,
    pub open_positions: i32,
}

/// Everything the score reads.
#[derive(Debug, Clone, Copy)]
pub struct ConfidenceInputs<'a> {
    pub symbol: &'a str,
    /// `None` when the idea claims no strategy (or its rules did not parse).
    pub strategy: Option<StrategyFit<'a>>,
    pub calendar: &'a [CalendarEvent],
    pub account: AccountLoad,
    /// `risk_config.max_concurrent_trades`.
    pub max_concurrent_trades: i32,
    pub now: DateTime<Utc>,
}

/// The score and its three parts, each with 2 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confidence {
    /// 0–50.
    pub strategy_match: Decimal,
    /// 0–25.
    pub market_risk: Decimal,
    /// 0–25.
    pub account_comfort: Decimal,
    /// 0–100, the sum of the parts: what `confidence_score` stores.
    pub total: Decimal,
}

/// Scores an idea (see the module doc for the formula).
pub fn score(inputs: &ConfidenceInputs<'_>) -> Confidence {
    let strategy_match = two_places(strategy_match(inputs));
    let market_risk = two_places(market_risk(inputs));
    let account_comfort = two_places(account_comfort(inputs));
    let total = two_places(
        (strategy_match + market_risk + account_comfort).clamp(Decimal::ZERO, Decimal::ONE_HUNDRED),
    );
    Confidence {
        strategy_match,
        market_risk,
        account_comfort,
        total,
    }
}

fn strategy_match(i: &ConfidenceInputs<'_>) -> Decimal {
    let Some(fit) = i.strategy else {
        return Decimal::ZERO;
    };
    let ten = Decimal::TEN;
    let listed = fit
        .allowed_symbols
        .iter()
        .any(|s| s.trim().eq_ignore_ascii_case(i.symbol.trim()));
    let symbol = if fit.is_active && listed {
        ten
    } else {
        Decimal::ZERO
    };
    let session = if fit.rules.in_session(i.now) {
        ten
    } else {
        Decimal::ZERO
    };
    let total = fit.rules.entry_conditions.0.len();
    let conditions = if total == 0 {
        Decimal::ZERO
    } else {
        let met = Decimal::from(fit.conditions_met.min(total));
        Decimal::from(30) * met / Decimal::from(total)
    };
    symbol + session + conditions
}

fn market_risk(i: &ConfidenceInputs<'_>) -> Decimal {
    let forbidden = i.strategy.map(|s| &s.rules.forbidden_conditions);
    let minutes = forbidden
        .and_then(|f| f.block_high_impact_news_minutes)
        .unwrap_or(DEFAULT_NEWS_MINUTES);
    // The platform's rule: news for the symbol's own currencies (docs/platform.md).
    let exposure = symbol_exposure(i.symbol.trim());
    let window = TimeDelta::minutes(i64::from(minutes));
    let medium_or_high = nearest_event(i.calendar, i.now, window, Impact::Medium, |e| {
        exposure.touches(&e.currency)
    });
    let high = nearest_event(i.calendar, i.now, window, Impact::High, |e| {
        exposure.touches(&e.currency)
    });
    match (high, medium_or_high) {
        (Some(_), _) => Decimal::ZERO,
        (None, Some(_)) => Decimal::from(15),
        (None, None) => Decimal::from(25),
    }
}

fn account_comfort(i: &ConfidenceInputs<'_>) -> Decimal {
    let a = i.account;
    let margin = if a.margin_used <= Decimal::ZERO {
        Decimal::from(15)
    } else if a.equity <= Decimal::ZERO {
        Decimal::ZERO
    } else {
        let level = a
            .equity
            .checked_div(a.margin_used)
            .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
            .unwrap_or(Decimal::MAX);
        let above = (level - Decimal::ONE_HUNDRED).clamp(Decimal::ZERO, Decimal::from(900));
        Decimal::from(15) * above / Decimal::from(900)
    };
    let exposure = if i.max_concurrent_trades < 1 {
        Decimal::ZERO
    } else {
        let open = Decimal::from(a.open_positions.max(0));
        let free = Decimal::ONE - open / Decimal::from(i.max_concurrent_trades);
        Decimal::TEN * free.max(Decimal::ZERO)
    };
    margin + exposure
}

/// `d` at exactly 2 decimals, half away from zero.
fn two_places(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::strategy::RulesJson;
    use proptest::prelude::*;
    use serde_json::json;

    fn rules() -> StrategyRules {
        RulesJson {
            session_windows: json!([{"start": "07:00Z", "end": "11:00Z", "days": ["Tue"]}]),
            entry_conditions: json!({"trend_alignment": "bullish", "rsi_below": 40, "price_rejects_level": true}),
            exit_rules: json!({"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=2"}),
            forbidden_conditions: json!({"block_high_impact_news_minutes": 30,
                                         "blocked_symbols_during_news": ["EUR", "GBP", "USD"]}),
            risk_caps: json!({}),
        }
        .parse()
        .unwrap()
    }

    fn event(time: &str, currency: &str, impact: Impact) -> CalendarEvent {
        CalendarEvent {
            event_time: time.parse().unwrap(),
            currency: currency.to_owned(),
            impact,
            title: "release".to_owned(),
        }
    }

    struct Case {
        symbol: &'static str,
        rules: StrategyRules,
        symbols: Vec<String>,
        active: bool,
        met: usize,
        calendar: Vec<CalendarEvent>,
        account: AccountLoad,
        max_trades: i32,
        now: &'static str,
    }

    fn case() -> Case {
        Case {
            symbol: "EURUSD",
            rules: rules(),
            symbols: vec!["EURUSD".to_owned()],
            active: true,
            met: 3,
            calendar: vec![],
            account: AccountLoad {
                equity: Decimal::from(10_000),
                margin_used: Decimal::ZERO,
                open_positions: 0,
            },
            max_trades: 3,
            now: "2025-10-28T08:00:00Z",
        }
    }

    fn run(c: &Case, with_strategy: bool) -> Confidence {
        score(&ConfidenceInputs {
            symbol: c.symbol,
            strategy: with_strategy.then_some(StrategyFit {
                is_active: c.active,
                allowed_symbols: &c.symbols,
                rules: &c.rules,
                conditions_met: c.met,
            }),
            calendar: &c.calendar,
            account: c.account,
            max_concurrent_trades: c.max_trades,
            now: c.now.parse().unwrap(),
        })
    }

    #[test]
    fn a_perfect_idea_scores_100_with_two_decimals() {
        let s = run(&case(), true);
        assert_eq!(s.total.to_string(), "100.00");
        assert_eq!(
            (s.strategy_match, s.market_risk, s.account_comfort),
            (Decimal::from(50), Decimal::from(25), Decimal::from(25))
        );
    }

    #[test]
    fn strategy_match_counts_symbol_session_and_conditions() {
        let mut c = case();
        c.met = 1;
        assert_eq!(run(&c, true).strategy_match.to_string(), "30.00");
        c.now = "2025-10-28T12:00:00Z";
        assert_eq!(run(&c, true).strategy_match.to_string(), "20.00");
        c.active = false;
        assert_eq!(run(&c, true).strategy_match.to_string(), "10.00");
        assert_eq!(run(&c, false).strategy_match, Decimal::ZERO);
    }

    #[test]
    fn conditions_met_is_capped_and_none_means_nothing_confirmed() {
        let mut c = case();
        c.met = 99;
        assert_eq!(run(&c, true).strategy_match, Decimal::from(50));
        c.rules.entry_conditions.0.clear();
        assert_eq!(run(&c, true).strategy_match, Decimal::from(20));
    }

    #[test]
    fn high_impact_news_for_the_symbols_currency_zeroes_market_risk() {
        let mut c = case();
        c.calendar = vec![event("2025-10-28T08:20:00Z", "USD", Impact::High)];
        assert_eq!(run(&c, true).market_risk, Decimal::ZERO);
        c.calendar = vec![event("2025-10-28T08:20:00Z", "USD", Impact::Medium)];
        assert_eq!(run(&c, true).market_risk, Decimal::from(15));
        c.calendar = vec![event("2025-10-28T08:20:00Z", "JPY", Impact::High)];
        assert_eq!(run(&c, true).market_risk, Decimal::from(25));
        c.calendar = vec![event("2025-10-28T08:31:00Z", "USD", Impact::High)];
        assert_eq!(
            run(&c, true).market_risk,
            Decimal::from(25),
            "outside 30 minutes"
        );
    }

    #[test]
    fn without_a_strategy_the_default_news_window_applies() {
        let mut c = case();
        c.calendar = vec![event("2025-10-28T07:31:00Z", "EUR", Impact::High)];
        assert_eq!(run(&c, false).market_risk, Decimal::ZERO);
    }

    #[test]
    fn margin_health_rises_from_100_to_1000_percent() {
        let mut c = case();
        c.account.margin_used = Decimal::from(10_000); // 100 %
        assert_eq!(run(&c, true).account_comfort, Decimal::from(10));
        c.account.margin_used = Decimal::from(1_000); // 1000 %
        assert_eq!(run(&c, true).account_comfort, Decimal::from(25));
        c.account.margin_used = Decimal::from(3_000); // 333.33 %: 15 × 233.33/900 = 3.89
        assert_eq!(run(&c, true).account_comfort.to_string(), "13.89");
        c.account.equity = Decimal::from(-5);
        assert_eq!(run(&c, true).account_comfort, Decimal::from(10));
    }

    #[test]
    fn exposure_falls_as_positions_fill_the_book() {
        let mut c = case();
        c.account.open_positions = 1;
        assert_eq!(run(&c, true).account_comfort.to_string(), "21.67");
        c.account.open_positions = 5;
        assert_eq!(run(&c, true).account_comfort, Decimal::from(15));
    }

    proptest! {
        #[test]
        fn the_score_stays_within_0_to_100_and_is_the_sum_of_its_parts(
            met in 0usize..6, equity in -1_000i64..50_000, margin in -10i64..20_000,
            open in -2i32..10, max in -1i32..6, minutes in 0i64..(7 * 1440),
        ) {
            let mut c = case();
            c.met = met;
            c.account = AccountLoad { equity: Decimal::from(equity), margin_used: Decimal::from(margin), open_positions: open };
            c.max_trades = max;
            let now = c.now.parse::<DateTime<Utc>>().unwrap() + TimeDelta::minutes(minutes);
            let s = score(&ConfidenceInputs {
                symbol: c.symbol,
                strategy: Some(StrategyFit { is_active: true, allowed_symbols: &c.symbols, rules: &c.rules, conditions_met: met }),
                calendar: &c.calendar, account: c.account, max_concurrent_trades: max, now,
            });
            prop_assert!(s.total >= Decimal::ZERO && s.total <= Decimal::ONE_HUNDRED);
            prop_assert!(s.strategy_match <= Decimal::from(50) && s.market_risk <= Decimal::from(25));
            prop_assert!(s.account_comfort >= Decimal::ZERO && s.account_comfort <= Decimal::from(25));
            prop_assert_eq!(s.total, s.strategy_match + s.market_risk + s.account_comfort);
            prop_assert_eq!(s.total.scale(), 2);
        }
    }
}
