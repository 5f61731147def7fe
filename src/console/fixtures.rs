//! Fixed data and a fixed clock for the console's tests: an App as it looks once every
//! pane has loaded.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::app::App;
use super::keymap::Keymap;
use super::msg::{Loaded, Msg};
use crate::domain::strategy::StrategyFields;
use crate::domain::{
    AccountSnapshot, DayState, Decision, DecisionAction, Direction, Idea, IdeaStatus, RiskConfig,
    RulesJson, Strategy,
};
use crate::store::risk::{LastChange, RiskRow};
use crate::store::timeline::Page;

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T10:30:00Z")
        .expect("a fixed time")
        .with_timezone(&Utc)
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x1c2d_3e4f_0000_4000_8000_0000_0000_0000 + n)
}

pub fn strategy_id() -> Uuid {
    Uuid::from_u128(0x3f0e_6a52_1c4d_4e8b_a7f9_2b1c_0d9e_8f70)
}

pub fn risk(enabled: bool, reason: Option<&str>) -> RiskRow {
    RiskRow {
        config: RiskConfig {
            ai_trading_enabled: enabled,
            last_halt_reason: reason.map(str::to_string),
            ..RiskConfig::default()
        },
        updated_at: now() - Duration::minutes(5),
    }
}

pub fn idea(n: u128, symbol: &str, status: IdeaStatus, minutes_ago: i64) -> Idea {
    Idea {
        id: id(n),
        symbol: symbol.into(),
        direction: if n.is_multiple_of(2) {
            Direction::Buy
        } else {
            Direction::Sell
        },
        entry_price: Some(dec("1.085640")),
        entry_range: None,
        stop_loss: dec("1.084200"),
        take_profit: vec![dec("1.087800"), dec("1.089900")],
        expected_hold: Some("scalp_30m".into()),
        rationale: format!("Breakout of the Asian range on {symbol}"),
        confidence_score: dec("92.50"),
        status,
        strategy_id: Some(strategy_id()),
        strategy_name: Some("London breakout".into()),
        snapshot_ref: id(900),
        created_at: now() - Duration::minutes(minutes_ago),
        updated_at: now() - Duration::minutes(minutes_ago),
    }
}

pub fn strategies() -> Vec<Strategy> {
    let make = |n: u128, name: &str, active: bool, symbols: &[&str]| {
        Strategy::new(StrategyFields {
            id: if n == 0 { strategy_id() } else { id(500 + n) },
            name: name.into(),
            is_active: active,
            allowed_symbols: symbols.iter().map(|s| s.to_string()).collect(),
            documents: RulesJson {
                session_windows: json!([{"start": "07:00Z", "end": "11:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}]),
                entry_conditions: json!({"trend_alignment": "bullish", "rsi_below": 40}),
                exit_rules: json!({"stop_loss": "swing_low - 5 pips", "take_profit": ["RR>=2", "RR>=3"]}),
                forbidden_conditions: json!({"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["EUR", "GBP", "USD"]}),
                risk_caps: json!({"max_lot_size": 0.5, "max_concurrent_positions": 2}),
            },
            rr_expectation: dec("2.50"),
            created_at: now() - Duration::days(30),
            updated_at: now() - Duration::days(1),
        })
    };
    vec![
        make(0, "London breakout", true, &["EURUSD", "GBPUSD"]),
        make(1, "Gold momentum", true, &["XAUUSD"]),
        make(2, "Asia range fade", false, &["USDJPY"]),
    ]
}

pub fn decisions() -> Vec<Decision> {
    let make = |n: u128,
                minutes_ago: i64,
                action: DecisionAction,
                symbol: Option<&str>,
                operator: Option<&str>,
                result: &str,
                rationale: &str| Decision {
        id: id(700 + n),
        occurred_at: now() - Duration::minutes(minutes_ago),
        symbol: symbol.map(str::to_string),
        action,
        rationale: rationale.into(),
        confidence_score: None,
        risk_check_result: Some(result.into()),
        strategy_id: None,
        trade_idea_id: None,
        snapshot_ref: None,
        human_override: operator.is_some(),
        operator: operator.map(str::to_string),
    };
    vec![
        make(
            1,
            2,
            DecisionAction::HumanApproved,
            Some("EURUSD"),
            Some("ann@desk.example"),
            "pass",
            "approved with lot 0.30",
        ),
        make(
            2,
            9,
            DecisionAction::AiProposed,
            Some("GBPUSD"),
            None,
            "fail:confidence",
            "Rejection at weekly resistance",
        ),
        make(
            3,
            31,
            DecisionAction::AiResumed,
            None,
            Some("raj@desk.example"),
            "pass",
            "CPI out (was halted: max_drawdown)",
        ),
        make(
            4,
            75,
            DecisionAction::AiHalted,
            None,
            None,
            "fail:max_drawdown",
            "Daily drawdown limit 1000.00 reached",
        ),
        make(
            5,
            80,
            DecisionAction::RiskRejected,
            Some("XAUUSD"),
            None,
            "fail:lot_size",
            "lot 2.00 exceeds the maximum 1.00",
        ),
    ]
}

/// An App with every pane loaded and the connection live.
pub fn loaded_app(enabled: bool) -> App {
    let mut app = App::new(
        "ann@desk.example".into(),
        "postgresql:///ai_trader".into(),
        false,
        Keymap::default(),
        now(),
    );
    app.update(Msg::Connected);
    let loads = [
        Loaded::Risk {
            row: risk(enabled, (!enabled).then_some("max_drawdown")),
            last: Some(LastChange {
                operator: "raj@desk.example".into(),
                changes: "max_lot_size=1.00".into(),
                changed_at: now() - Duration::hours(2),
            }),
        },
        Loaded::Account {
            latest: Some(AccountSnapshot {
                id: id(900),
                balance: dec("25000.00"),
                equity: dec("25120.40"),
                margin_used: dec("640.00"),
                margin_free: dec("24480.40"),
                open_pl: dec("120.40"),
                open_positions: 2,
                captured_at: now() - Duration::seconds(30),
            }),
            day: Some(DayState {
                day_start: now() - Duration::minutes(630),
                opening_equity: dec("24800.00"),
                peak_equity: dec("25200.00"),
                latest_equity: dec("25120.40"),
                as_of: now() - Duration::seconds(30),
                day_pnl: dec("320.40"),
                drawdown: dec("79.60"),
            }),
        },
        Loaded::Strategies(strategies()),
        Loaded::Ideas(vec![
            idea(1, "EURUSD", IdeaStatus::NeedsApproval, 38),
            idea(2, "GBPUSD", IdeaStatus::NeedsApproval, 12),
            idea(3, "XAUUSD", IdeaStatus::NeedsApproval, 3),
            idea(4, "USDJPY", IdeaStatus::AutoExecuted, 90),
            idea(5, "EURUSD", IdeaStatus::Rejected, 140),
        ]),
        Loaded::Timeline {
            page: Page {
                decisions: decisions(),
                next: None,
            },
            append: false,
        },
    ];
    for l in loads {
        app.update(Msg::Loaded(l));
    }
    app
}
