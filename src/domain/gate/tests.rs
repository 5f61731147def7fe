use serde_json::json;

use super::*;
use crate::domain::market::Impact;
use crate::domain::strategy::{RulesJson, Strategy, StrategyRules, StrategyRulesError};

/// A strategy as the tests change it, made into a [`Strategy`] for each report.
#[derive(Debug, Clone)]
pub(super) struct Strat {
    pub(super) name: String,
    pub(super) active: bool,
    pub(super) symbols: Vec<String>,
    pub(super) rules: Option<StrategyRules>,
}

/// Everything the gate reads, owned, so tests can change one thing at a time.
#[derive(Debug, Clone)]
pub(super) struct World {
    pub(super) purpose: Purpose,
    pub(super) symbol: String,
    pub(super) confidence: Decimal,
    pub(super) lot: Decimal,
    pub(super) config: RiskConfig,
    pub(super) strategy: Option<Strat>,
    pub(super) day: Option<DayState>,
    pub(super) open: OpenTrades,
    pub(super) calendar: Vec<CalendarEvent>,
    pub(super) now: DateTime<Utc>,
}

impl Strat {
    fn to_strategy(&self) -> Strategy {
        let none = || serde_json::Value::Null;
        Strategy {
            id: uuid::Uuid::nil(),
            name: self.name.clone(),
            is_active: self.active,
            allowed_symbols: self.symbols.clone(),
            documents: RulesJson {
                session_windows: none(),
                entry_conditions: none(),
                exit_rules: none(),
                forbidden_conditions: none(),
                risk_caps: none(),
            },
            rr_expectation: Decimal::TWO,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            rules: self
                .rules
                .clone()
                .ok_or(StrategyRulesError { problems: vec![] }),
        }
    }
}

impl World {
    pub(super) fn report(&self) -> GateReport {
        let strategy = self.strategy.as_ref().map(Strat::to_strategy);
        evaluate(&GateInput {
            purpose: self.purpose,
            idea: GateIdea {
                symbol: &self.symbol,
                direction: Direction::Buy,
                confidence: self.confidence,
            },
            lot: self.lot,
            config: &self.config,
            strategy: strategy.as_ref(),
            day: self.day.as_ref(),
            open_trades: self.open,
            calendar: &self.calendar,
            now: self.now,
        })
    }

    fn rules_mut(&mut self) -> &mut StrategyRules {
        self.strategy
            .as_mut()
            .and_then(|s| s.rules.as_mut())
            .unwrap()
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(super) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub(super) fn day(pnl: i64, drawdown: i64) -> DayState {
    DayState {
        day_start: at("2025-10-28T00:00:00Z"),
        opening_equity: Decimal::from(10_000),
        peak_equity: Decimal::from(10_000 + pnl + drawdown),
        latest_equity: Decimal::from(10_000 + pnl),
        as_of: at("2025-10-28T07:59:55Z"),
        day_pnl: Decimal::from(pnl),
        drawdown: Decimal::from(drawdown),
    }
}

fn event(time: &str, currency: &str, impact: Impact) -> CalendarEvent {
    CalendarEvent {
        event_time: at(time),
        currency: currency.to_owned(),
        impact,
        title: "Core PCE Price Index m/m".to_owned(),
    }
}

/// The fixture's "London breakout" strategy, AI on, Tuesday 08:00 UTC: everything passes.
pub(super) fn world() -> World {
    let rules = RulesJson {
        session_windows: json!([{"start": "07:00Z", "end": "11:00Z",
                                 "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}]),
        entry_conditions: json!({"trend_alignment": "bullish", "rsi_below": 40,
                                 "price_rejects_level": true}),
        exit_rules: json!({"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=2",
                           "time_limit_min": 30}),
        forbidden_conditions: json!({"block_high_impact_news_minutes": 30,
                                     "blocked_symbols_during_news": ["EUR", "GBP", "USD"]}),
        risk_caps: json!({"max_lot_size": 0.50, "max_concurrent_positions": 2}),
    }
    .parse()
    .unwrap();
    World {
        purpose: Purpose::Automatic,
        symbol: "EURUSD".to_owned(),
        confidence: dec("92.50"),
        lot: dec("0.50"),
        config: RiskConfig {
            ai_trading_enabled: true,
            ..RiskConfig::default()
        },
        strategy: Some(Strat {
            name: "London breakout".to_owned(),
            active: true,
            symbols: vec!["EURUSD".to_owned(), "GBPUSD".to_owned()],
            rules: Some(rules),
        }),
        day: Some(day(100, 50)),
        open: OpenTrades::default(),
        calendar: vec![event("2025-10-28T14:30:00Z", "USD", Impact::High)],
        now: at("2025-10-28T08:00:00Z"),
    }
}

fn reason(report: &GateReport, rule: Rule) -> &str {
    &report.verdict(rule).unwrap().reason
}

#[test]
fn an_idea_meeting_every_rule_auto_executes() {
    let r = world().report();
    assert_eq!(r.risk_check_result(), "pass");
    assert_eq!(r.disposition(), IdeaStatus::AutoExecuted);
    assert_eq!(r.decision_action(), DecisionAction::AiAutoExecuted);
    let order: Vec<_> = r.verdicts.iter().map(|v| v.rule).collect();
    assert_eq!(order, Rule::ALL);
}

#[test]
fn lot_above_risk_config_fails_naming_the_cap() {
    let mut w = world();
    w.strategy
        .as_mut()
        .unwrap()
        .rules
        .as_mut()
        .unwrap()
        .risk_caps
        .max_lot_size = None;
    w.lot = dec("2");
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:lot_size");
    assert_eq!(
        reason(&r, Rule::LotSize),
        "lot 2.00 exceeds the maximum 1.00 (risk_config)"
    );
    assert_eq!(r.disposition(), IdeaStatus::NeedsApproval);
}

#[test]
fn lot_above_strategy_cap_fails_naming_the_cap() {
    let mut w = world();
    w.lot = dec("0.75");
    let r = w.report();
    assert_eq!(
        reason(&r, Rule::LotSize),
        "lot 0.75 exceeds the maximum 0.50 (strategy cap)"
    );
    w.lot = dec("1.5");
    assert_eq!(
        reason(&w.report(), Rule::LotSize),
        "lot 1.50 exceeds the maximum 1.00 (risk_config) and 0.50 (strategy cap)"
    );
}

#[test]
fn lot_of_zero_fails() {
    let mut w = world();
    w.lot = Decimal::ZERO;
    assert_eq!(w.report().risk_check_result(), "fail:lot_size");
}

#[test]
fn last_free_slot_passes_and_a_full_book_fails() {
    let mut w = world();
    w.open = OpenTrades {
        total: 2,
        for_strategy: 1,
    };
    assert_eq!(w.report().risk_check_result(), "pass");
    w.open = OpenTrades {
        total: 3,
        for_strategy: 0,
    };
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:max_concurrent_trades");
    assert_eq!(
        reason(&r, Rule::MaxConcurrentTrades),
        "3 trades are open and the maximum is 3 (risk_config)"
    );
}

#[test]
fn the_strategys_position_cap_binds_too() {
    let mut w = world();
    w.open = OpenTrades {
        total: 2,
        for_strategy: 2,
    };
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:max_concurrent_trades");
    assert!(reason(&r, Rule::MaxConcurrentTrades).ends_with("its cap is 2 (strategy cap)"));
}

#[test]
fn reached_drawdown_halts_the_idea_by_risk() {
    let mut w = world();
    w.day = Some(day(-1_000, 1_000));
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:max_drawdown");
    assert_eq!(
        reason(&r, Rule::MaxDrawdown),
        "the day's drawdown 1000.00 has reached the limit 1000.00"
    );
    assert_eq!(r.disposition(), IdeaStatus::HaltedByRisk);
    assert_eq!(r.decision_action(), DecisionAction::RiskRejected);
}

#[test]
fn unknown_drawdown_fails_safe() {
    let mut w = world();
    w.day = None;
    assert_eq!(w.report().risk_check_result(), "fail:max_drawdown");
}

#[test]
fn reached_target_stops_the_ai_only_while_stop_after_target() {
    let mut w = world();
    w.day = Some(day(2_000, 0));
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:daily_target_reached");
    assert_eq!(r.disposition(), IdeaStatus::HaltedByRisk);
    w.config.stop_after_target = false;
    assert_eq!(w.report().risk_check_result(), "pass");
}

#[test]
fn low_confidence_goes_to_approval() {
    let mut w = world();
    w.confidence = dec("74");
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:confidence");
    assert_eq!(
        reason(&r, Rule::Confidence),
        "confidence 74.00 is below the threshold 90.00"
    );
    assert_eq!(r.disposition(), IdeaStatus::NeedsApproval);
    assert_eq!(r.decision_action(), DecisionAction::AiProposed);
}

#[test]
fn ai_off_sends_every_idea_to_approval_with_the_halt_reason() {
    let mut w = world();
    w.config.ai_trading_enabled = false;
    w.config.last_halt_reason = Some("max_drawdown".to_owned());
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:ai_halted");
    assert_eq!(
        reason(&r, Rule::AiHalted),
        "AI trading is off (max_drawdown)"
    );
    assert_eq!(r.disposition(), IdeaStatus::NeedsApproval);
}

#[test]
fn symbol_off_the_watchlist_fails_unless_allowed() {
    let mut w = world();
    w.symbol = "USDJPY".to_owned();
    assert_eq!(w.report().risk_check_result(), "fail:off_watchlist");
    w.config.allow_off_watchlist_autotrade = true;
    assert_eq!(w.report().risk_check_result(), "pass");
}

#[test]
fn inactive_missing_or_malformed_strategy_is_rejected() {
    let mut w = world();
    w.strategy.as_mut().unwrap().active = false;
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:strategy_inactive");
    assert_eq!(r.disposition(), IdeaStatus::Rejected);

    let mut w = world();
    w.strategy.as_mut().unwrap().rules = None;
    assert_eq!(
        w.report().risk_check_result(),
        "fail:strategy_inactive,news_blackout,session_closed"
    );

    let mut w = world();
    w.strategy = None;
    let r = w.report();
    assert_eq!(
        r.risk_check_result(),
        "fail:strategy_inactive,off_watchlist"
    );
    assert_eq!(r.disposition(), IdeaStatus::Rejected);
}

#[test]
fn outside_every_session_window_is_rejected() {
    let mut w = world();
    w.now = at("2025-10-28T14:01:00Z");
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:news_blackout,session_closed");
    assert_eq!(
        reason(&r, Rule::SessionClosed),
        "Tue 14:01 UTC is outside every session window of strategy 'London breakout'"
    );
    w.now = at("2025-11-01T08:00:00Z");
    assert_eq!(w.report().risk_check_result(), "fail:session_closed");
}

#[test]
fn high_impact_news_in_a_listed_currency_blocks_inside_the_window() {
    let mut w = world();
    w.calendar = vec![event("2025-10-28T08:30:00Z", "USD", Impact::High)];
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:news_blackout");
    assert_eq!(r.disposition(), IdeaStatus::Rejected);
    assert_eq!(
        reason(&r, Rule::NewsBlackout),
        "high-impact USD news \"Core PCE Price Index m/m\" at Tue 08:30 UTC is within strategy \
         'London breakout''s 30-minute news block"
    );
    w.calendar = vec![event("2025-10-28T07:29:00Z", "EUR", Impact::High)];
    assert_eq!(w.report().risk_check_result(), "pass", "31 minutes after");
}

#[test]
fn medium_impact_or_unlisted_currency_news_does_not_block() {
    let mut w = world();
    w.calendar = vec![
        event("2025-10-28T08:10:00Z", "USD", Impact::Medium),
        event("2025-10-28T08:10:00Z", "JPY", Impact::High),
    ];
    assert_eq!(w.report().risk_check_result(), "pass");
}

#[test]
fn a_listed_currency_blocks_whatever_the_symbol() {
    // The platform's rule: the list names the currencies whose releases block the
    // strategy's new trades; GBP news blocks its EURUSD idea too.
    let mut w = world();
    w.calendar = vec![event("2025-10-28T08:10:00Z", "GBP", Impact::High)];
    assert_eq!(w.report().risk_check_result(), "fail:news_blackout");
    w.rules_mut().forbidden_conditions.blocked_currencies = Some(vec!["JPY".to_owned()]);
    assert_eq!(
        w.report().risk_check_result(),
        "pass",
        "GBP is no longer listed"
    );
    w.calendar = vec![event("2025-10-28T08:10:00Z", "USD", Impact::High)];
    assert_eq!(
        w.report().risk_check_result(),
        "pass",
        "USD is the symbol's, but the list decides"
    );
}

#[test]
fn without_a_list_the_symbols_own_currencies_block() {
    let mut w = world();
    w.rules_mut().forbidden_conditions.blocked_currencies = None;
    w.calendar = vec![event("2025-10-28T08:10:00Z", "GBP", Impact::High)];
    assert_eq!(w.report().risk_check_result(), "pass");
    w.calendar = vec![event("2025-10-28T08:10:00Z", "USD", Impact::High)];
    assert_eq!(w.report().risk_check_result(), "fail:news_blackout");
    assert_eq!(
        reason(&w.report(), Rule::NewsBlackout),
        "high-impact USD news \"Core PCE Price Index m/m\" at Tue 08:10 UTC is within strategy \
         'London breakout''s 30-minute news block"
    );
}

#[test]
fn several_failures_are_all_listed_in_stable_order() {
    let mut w = world();
    w.lot = dec("5");
    w.confidence = dec("10");
    w.config.ai_trading_enabled = false;
    w.open = OpenTrades {
        total: 9,
        for_strategy: 9,
    };
    let r = w.report();
    assert_eq!(
        r.risk_check_result(),
        "fail:ai_halted,confidence,lot_size,max_concurrent_trades"
    );
    assert_eq!(r.failures().count(), 4);
    assert!(
        r.failure_reasons()
            .starts_with("AI trading is off; confidence 10.00 is below")
    );
}

#[test]
fn approval_ignores_ai_switch_and_confidence_but_shows_them_waived() {
    let mut w = world();
    w.purpose = Purpose::HumanApproval;
    w.config.ai_trading_enabled = false;
    w.confidence = dec("40");
    let r = w.report();
    assert_eq!(r.risk_check_result(), "pass");
    assert_eq!(r.disposition(), IdeaStatus::AutoExecuted);
    assert_eq!(r.decision_action(), DecisionAction::HumanApproved);
    assert_eq!(r.verdict(Rule::AiHalted).unwrap().outcome, Outcome::Waived);
    assert_eq!(
        r.verdict(Rule::Confidence).unwrap().outcome,
        Outcome::Waived
    );
}

#[test]
fn approval_waives_target_watchlist_news_and_inactive_strategy() {
    let mut w = world();
    w.purpose = Purpose::HumanApproval;
    w.day = Some(day(5_000, 0));
    w.symbol = "USDJPY".to_owned();
    w.calendar = vec![event("2025-10-28T08:05:00Z", "USD", Impact::High)];
    w.strategy.as_mut().unwrap().active = false;
    let r = w.report();
    assert_eq!(r.risk_check_result(), "pass");
    let waived: Vec<_> = r
        .verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Waived)
        .map(|v| v.rule)
        .collect();
    assert_eq!(
        waived,
        [
            Rule::StrategyInactive,
            Rule::OffWatchlist,
            Rule::DailyTargetReached,
            Rule::NewsBlackout
        ]
    );
}

#[test]
fn approval_refused_when_last_slot_taken() {
    let mut w = world();
    w.purpose = Purpose::HumanApproval;
    w.open = OpenTrades {
        total: 3,
        for_strategy: 0,
    };
    let r = w.report();
    assert_eq!(r.risk_check_result(), "fail:max_concurrent_trades");
    assert_eq!(r.disposition(), IdeaStatus::Rejected);
    assert_eq!(r.decision_action(), DecisionAction::RiskRejected);
}

#[test]
fn approval_rechecks_lot_drawdown_and_session() {
    let mut w = world();
    w.purpose = Purpose::HumanApproval;
    w.lot = dec("0.60");
    w.day = Some(day(-1_200, 1_200));
    w.now = at("2025-10-28T12:00:00Z");
    assert_eq!(
        w.report().risk_check_result(),
        "fail:lot_size,max_drawdown,session_closed"
    );
}

#[test]
fn drawdown_wins_over_hard_and_soft_failures() {
    let mut w = world();
    w.config.ai_trading_enabled = false;
    w.strategy.as_mut().unwrap().active = false;
    w.day = Some(day(-1_000, 1_000));
    w.rules_mut().session_windows.clear();
    assert_eq!(w.report().disposition(), IdeaStatus::HaltedByRisk);
}
