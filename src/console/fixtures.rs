//! Fixed data and a fixed clock for the console's tests: an App as it looks once every
//! pane has loaded.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::app::App;
use super::keymap::Keymap;
use super::msg::{EquityPoint, Loaded, Msg};
use crate::domain::pnl::StrategyDay;
use crate::domain::stored::Listed;
use crate::domain::strategy::StrategyFields;
use crate::domain::{
    AccountSnapshot, DayState, Decision, DecisionAction, Direction, Idea, IdeaStatus, RiskConfig,
    RulesJson, Strategy,
};
use crate::store::risk::{LastChange, RiskRow, RiskShown, Switch};
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

/// The risk row as the console reads it: the switch, and the limits read.
pub fn risk_shown(enabled: bool, reason: Option<&str>) -> RiskShown {
    RiskShown {
        switch: Switch {
            ai_trading_enabled: enabled,
            last_halt_reason: reason.map(str::to_string),
        },
        limits: Ok(risk(enabled, reason)),
    }
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
    let prices = match symbol {
        "XAUUSD" => ["2650.000000", "2641.000000", "2663.500000", "2677.000000"],
        "USDJPY" => ["151.240000", "151.000000", "151.600000", "151.960000"],
        _ => ["1.085640", "1.084200", "1.087800", "1.089900"],
    };
    Idea {
        id: id(n),
        symbol: symbol.into(),
        direction: if n.is_multiple_of(2) {
            Direction::Buy
        } else {
            Direction::Sell
        },
        // Each symbol at its own prices (R:R 1.50 for all), as its market quotes them.
        entry_price: Some(dec(prices[0])),
        entry_range: None,
        stop_loss: dec(prices[1]),
        take_profit: vec![dec(prices[2]), dec(prices[3])],
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

/// The day's equity captures behind the fixture's day: opened at 24800.00 (captured
/// before midnight), a dip to 24650.00 by 02:00, the peak 25200.00 at 08:30, then
/// 25120.40 at 10:29:30; a capture every 15 minutes between.
pub fn equity() -> Vec<EquityPoint> {
    // (minutes from midnight, cents), joined by straight lines.
    let turns: [(i64, i64); 7] = [
        (0, 2_480_000),
        (120, 2_465_000),
        (240, 2_476_000),
        (360, 2_498_000),
        (510, 2_520_000),
        (570, 2_509_000),
        (629, 2_512_040),
    ];
    let midnight = now() - Duration::minutes(630);
    let mut points = vec![EquityPoint {
        at: midnight - Duration::minutes(5),
        equity: dec("24800.00"),
    }];
    for pair in turns.windows(2) {
        let ((m0, c0), (m1, c1)) = (pair[0], pair[1]);
        for m in (m0..m1).step_by(15) {
            let cents = c0 + (c1 - c0) * (m - m0) / (m1 - m0);
            points.push(EquityPoint {
                at: midnight + Duration::minutes(m),
                equity: Decimal::new(cents, 2),
            });
        }
    }
    points.push(EquityPoint {
        at: now() - Duration::seconds(30),
        equity: dec("25120.40"),
    });
    points
}

/// London breakout busy and valued, Gold momentum with an order that cannot be valued,
/// Asia range fade quiet (absent).
pub fn strategy_days() -> Vec<StrategyDay> {
    vec![
        StrategyDay {
            strategy_id: strategy_id(),
            ideas: 12,
            auto_executed: 5,
            realized: dec("30.00"),
            open_positions: 2,
            open_pl: Some(dec("4.20")),
        },
        StrategyDay {
            strategy_id: id(501),
            ideas: 3,
            auto_executed: 1,
            realized: dec("-12.50"),
            open_positions: 1,
            open_pl: None,
        },
    ]
}

/// Ideas as read, with the count of those awaiting approval among them.
pub fn ideas_loaded(items: Vec<Listed<Idea>>) -> Loaded {
    let awaiting = items.iter().filter(|i| i.awaits_approval()).count() as i64;
    Loaded::Ideas { items, awaiting }
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
            shown: risk_shown(enabled, (!enabled).then_some("max_drawdown")),
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
            unreadable: Vec::new(),
            day: Some(DayState {
                day_start: now() - Duration::minutes(630),
                opening_equity: dec("24800.00"),
                peak_equity: dec("25200.00"),
                latest_equity: dec("25120.40"),
                as_of: now() - Duration::seconds(30),
                day_pnl: dec("320.40"),
                drawdown: dec("79.60"),
            }),
            equity: equity(),
        },
        Loaded::Strategies(strategies().into_iter().map(Listed::Read).collect()),
        Loaded::StrategyDays(strategy_days()),
        Loaded::Ideas {
            items: vec![
                idea(1, "EURUSD", IdeaStatus::NeedsApproval, 38),
                idea(2, "GBPUSD", IdeaStatus::NeedsApproval, 12),
                idea(3, "XAUUSD", IdeaStatus::NeedsApproval, 3),
                idea(4, "USDJPY", IdeaStatus::AutoExecuted, 90),
                idea(5, "EURUSD", IdeaStatus::Rejected, 140),
            ]
            .into_iter()
            .map(Listed::Read)
            .collect(),
            awaiting: 3,
        },
        Loaded::Timeline {
            page: Page {
                decisions: decisions().into_iter().map(Listed::Read).collect(),
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

/// A human approval's replay: the London breakout idea on EURUSD at 09:55, approved at
/// 10:00 with 0.30 lots and filled; a news block around the BoE release; every part there.
pub fn replay() -> crate::domain::Replay {
    crate::domain::Replay::assemble(replay_seen())
}

/// The same replay after the snapshot rows were cleaned up: no account row (the moment is
/// the idea's creation), no candles, no indicators, no headlines.
pub fn replay_partial() -> crate::domain::Replay {
    use crate::domain::replay::Moment;
    let mut seen = replay_seen();
    seen.account = None;
    seen.day_at.clear();
    seen.moment = Moment::of(seen.decision.as_ref(), seen.idea.as_ref(), None)
        .expect("a decision and an idea");
    seen.market = None;
    seen.indicators = None;
    seen.news.clear();
    seen.news_captured = false;
    crate::domain::Replay::assemble(seen)
}

/// The replay of an idea still awaiting approval: the first fixture idea (EURUSD, the
/// ideas pane's first row), proposed by the AI at 09:55 on what it saw then; nobody has
/// decided it, no order.
pub fn replay_pending() -> crate::domain::Replay {
    use crate::domain::replay::Moment;
    let mut seen = replay_seen();
    let at = seen.moment.at;
    let mut pending = idea(1, "EURUSD", IdeaStatus::NeedsApproval, 35);
    pending.created_at = at;
    pending.updated_at = at;
    let decision = Decision {
        id: id(761),
        occurred_at: at,
        symbol: Some("EURUSD".into()),
        action: DecisionAction::AiProposed,
        rationale: "needs approval: news_blackout".into(),
        confidence_score: Some(pending.confidence_score),
        risk_check_result: Some("fail:news_blackout".into()),
        strategy_id: pending.strategy_id,
        trade_idea_id: Some(pending.id),
        snapshot_ref: Some(pending.snapshot_ref),
        human_override: false,
        operator: None,
    };
    seen.moment = Moment {
        decided_at: at,
        ..seen.moment
    };
    seen.decided = None;
    seen.decision = Some(decision);
    seen.idea = Some(pending);
    seen.execution = None;
    seen.day_decided = seen.day_at.clone();
    crate::domain::Replay::assemble(seen)
}

/// What the store would have read for [`replay`].
fn replay_seen() -> crate::domain::replay::Seen {
    use crate::domain::gate::OpenTrades;
    use crate::domain::replay::{
        AccountSource, AsOf, CalendarRow, Candle, Decided, Execution, Flip, Headline,
        IndicatorReading, Macd, Market, Moment, Seen, Timeframe, TimeframeChoice,
    };
    use crate::domain::{CalendarEvent, Impact};

    let at = now() - Duration::minutes(35);
    let decided_at = now() - Duration::minutes(30);
    let mut idea = idea(2, "EURUSD", IdeaStatus::AutoExecuted, 36);
    idea.updated_at = decided_at;
    let decision = Decision {
        id: id(760),
        occurred_at: decided_at,
        symbol: Some("EURUSD".into()),
        action: DecisionAction::HumanApproved,
        rationale: "approved with lot 0.30".into(),
        confidence_score: Some(idea.confidence_score),
        risk_check_result: Some("pass".into()),
        strategy_id: idea.strategy_id,
        trade_idea_id: Some(idea.id),
        snapshot_ref: Some(idea.snapshot_ref),
        human_override: true,
        operator: Some("ann@desk.example".into()),
    };
    // 60 M5 candles up to the moment and the 7 since: a climb into the entry, then on.
    let candles: Vec<Candle> = (-59..=7_i64)
        .map(|k| {
            let wobble = [0, 9, -6, 12, -4, 10, -8, 6][(k.rem_euclid(8)) as usize];
            let base = 108_300 + (k + 59) * 4 + wobble;
            let (open, close) = if k % 3 == 0 {
                (base + 8, base - 5)
            } else {
                (base - 6, base + 7)
            };
            let price = |p: i64| Decimal::new(p, 5);
            Candle {
                captured_at: at + Duration::minutes(5 * k),
                open: price(open),
                high: price(open.max(close) + 3 + k.rem_euclid(3) * 3),
                low: price(open.min(close) - 2 - k.rem_euclid(2) * 4),
                close: price(close),
                volume: 1_200 + (k.rem_euclid(7) * 90) as i32,
            }
        })
        .collect();
    let account = AccountSnapshot {
        id: id(900),
        balance: dec("25000.00"),
        equity: dec("25120.40"),
        margin_used: dec("640.00"),
        margin_free: dec("24480.40"),
        open_pl: dec("120.40"),
        open_positions: 2,
        captured_at: at,
    };
    let day = vec![
        AccountSnapshot::of_equity(dec("24800.00"), dec("24800.00"), at - Duration::hours(11)),
        AccountSnapshot::of_equity(dec("25000.00"), dec("25200.00"), at - Duration::hours(2)),
        account,
    ];
    let event = |minutes: i64, currency: &str, impact, title: &str, figures: [Option<&str>; 3]| {
        CalendarRow {
            event: CalendarEvent {
                event_time: at + Duration::minutes(minutes),
                currency: currency.into(),
                impact,
                title: title.into(),
            },
            previous: figures[0].map(str::to_string),
            forecast: figures[1].map(str::to_string),
            actual: figures[2].map(str::to_string),
            captured_at: at - Duration::minutes(1),
        }
    };
    let headline = |minutes: i64, source: &str, text: &str, symbols: &[&str]| Headline {
        published_at: at - Duration::minutes(minutes),
        source: source.into(),
        headline: text.into(),
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
        captured_at: at - Duration::minutes(minutes) + Duration::seconds(20),
    };
    let execution = Execution {
        id: id(950),
        lot_size: dec("0.30"),
        requested_by: "ann@desk.example".into(),
        requested_at: decided_at,
        state: "filled".into(),
        broker_order_id: Some("MT5-88412".into()),
        fill_price: Some(dec("1.085700")),
        updated_at: decided_at + Duration::seconds(2),
    };
    Seen {
        unreadable: Vec::new(),
        cancelled_by: None,
        moment: Moment {
            at,
            source: crate::domain::replay::MomentSource::Snapshot,
            decided_at,
        },
        decided: Decided::of(&decision),
        decision: Some(decision),
        idea: Some(idea),
        idea_gone: false,
        account: Some((account, AccountSource::SnapshotRef)),
        day_at: day.clone(),
        day_decided: day,
        strategy: Some((
            strategies()[0].clone(),
            AsOf::ChangeBefore {
                changed_at: now() - Duration::days(1),
            },
        )),
        market: Some(Market {
            symbol: "EURUSD".into(),
            timeframe: Timeframe::M5,
            choice: TimeframeChoice::Hold,
            candles,
        }),
        indicators: Some(IndicatorReading {
            timeframe: "M5".into(),
            rsi_14: Some(dec("61.37")),
            sma_50: Some(dec("1.084120")),
            sma_200: Some(dec("1.079870")),
            atr: Some(dec("0.000870")),
            macd: Some(Macd {
                macd: Some(dec("0.00042")),
                signal: Some(dec("0.00031")),
                hist: Some(dec("0.00011")),
            }),
            captured_at: at,
        }),
        calendar: vec![
            event(
                -55,
                "EUR",
                Impact::Medium,
                "German Ifo Business Climate",
                [Some("85.4"), Some("85.8"), Some("86.5")],
            ),
            event(
                20,
                "GBP",
                Impact::High,
                "BoE Governor Bailey speaks",
                [None; 3],
            ),
            event(
                35,
                "USD",
                Impact::High,
                "Core PCE Price Index m/m",
                [Some("0.2%"), Some("0.3%"), None],
            ),
        ],
        calendar_captured: true,
        news: vec![
            headline(
                15,
                "reuters",
                "ECB's Lagarde: no rush to cut rates",
                &["EURUSD"],
            ),
            headline(45, "bloomberg", "Dollar steadies before PCE", &["USD"]),
        ],
        news_captured: true,
        limits: (
            RiskConfig {
                ai_trading_enabled: true,
                ..RiskConfig::default()
            },
            AsOf::Current,
        ),
        flips: (
            Some(Flip {
                action: DecisionAction::AiResumed,
                occurred_at: now() - Duration::hours(3),
                reason: None,
            }),
            None,
        ),
        open_trades: OpenTrades {
            total: 2,
            for_strategy: 1,
        },
        execution: Some(execution),
    }
}
