//! Properties of the gate over generated worlds: caps, the AI switch, order independence
//! and the `risk_check_result` text.

use chrono::{DateTime, TimeDelta, Utc, Weekday};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::tests::{Strat, World, at, day, world};
use super::{Outcome, Purpose, Rule};
use crate::domain::gate::OpenTrades;
use crate::domain::idea::IdeaStatus;
use crate::domain::market::{CalendarEvent, Impact};
use crate::domain::risk::RiskConfig;
use crate::domain::strategy::{DAY_NAMES, RulesJson, SessionWindow, TimeOfDay};

const SYMBOLS: [&str; 5] = ["EURUSD", "GBPUSD", "XAUUSD", "US500", "WEIRD"];
const CURRENCIES: [&str; 5] = ["EUR", "USD", "GBP", "JPY", "XAU"];

fn cents(range: std::ops::RangeInclusive<i64>) -> impl Strategy<Value = Decimal> {
    range.prop_map(|c| Decimal::new(c, 2))
}

fn arb_window() -> impl Strategy<Value = SessionWindow> {
    (0u16..1440, 1u16..=1440, prop::collection::vec(0u8..7, 1..4)).prop_filter_map(
        "empty window",
        |(start, end, days)| {
            let mut ds: Vec<Weekday> = Vec::new();
            for d in days.into_iter().filter_map(|d| Weekday::try_from(d).ok()) {
                if !ds.contains(&d) {
                    ds.push(d);
                }
            }
            (start != end).then(|| SessionWindow {
                start: TimeOfDay::new(start / 60, start % 60).unwrap(),
                end: TimeOfDay::new(end / 60, end % 60).unwrap(),
                days: ds,
            })
        },
    )
}

fn arb_strategy() -> impl Strategy<Value = Option<Strat>> {
    let rules = (
        prop::collection::vec(arb_window(), 1..4),
        prop::option::of(0u32..120),
        prop::collection::vec(prop::sample::select(CURRENCIES.to_vec()), 0..3),
        prop::option::of(cents(1..=300)),
        prop::option::of(1u32..4),
    )
        .prop_map(|(windows, minutes, blocked, lot_cap, pos_cap)| {
            let mut rules = world().strategy.unwrap().rules.unwrap();
            rules.session_windows = windows;
            rules.forbidden_conditions.block_high_impact_news_minutes = minutes;
            let mut b: Vec<String> = Vec::new();
            for c in blocked {
                if !b.iter().any(|x| x == c) {
                    b.push(c.to_owned());
                }
            }
            rules.forbidden_conditions.blocked_currencies = minutes.map(|_| b);
            rules.risk_caps.max_lot_size = lot_cap;
            rules.risk_caps.max_concurrent_positions = pos_cap;
            rules
        });
    let symbols = prop::sample::subsequence(SYMBOLS.to_vec(), 0..=SYMBOLS.len());
    prop::option::of(
        (any::<bool>(), symbols, prop::option::weighted(0.9, rules)).prop_map(
            |(active, symbols, rules)| Strat {
                name: "S".to_owned(),
                active,
                symbols: symbols.into_iter().map(str::to_owned).collect(),
                rules,
            },
        ),
    )
}

fn arb_event(now: DateTime<Utc>) -> impl Strategy<Value = CalendarEvent> {
    (
        -12i64..=12,
        prop::sample::select(CURRENCIES.to_vec()),
        0u8..3,
        0u8..3,
    )
        .prop_map(move |(offset, currency, impact, title)| CalendarEvent {
            // Quarter hours, so events equally far from `now` (ties) are common.
            event_time: now + TimeDelta::minutes(offset * 15),
            currency: currency.to_owned(),
            impact: [Impact::Low, Impact::Medium, Impact::High][usize::from(impact)],
            title: format!("release {title}"),
        })
}

prop_compose! {
    fn arb_config()(
        ai in any::<bool>(), threshold in 0i64..=100, lot in cents(1..=300),
        trades in 1i32..5, target in 0i64..3000, stop in any::<bool>(),
        drawdown in 0i64..2000, halt in any::<bool>(), off in any::<bool>(),
    ) -> RiskConfig {
        RiskConfig {
            ai_trading_enabled: ai,
            min_confidence_threshold: Decimal::from(threshold),
            max_lot_size: lot,
            max_concurrent_trades: trades,
            daily_profit_target: Decimal::from(target),
            stop_after_target: stop,
            max_drawdown_amount: Decimal::from(drawdown),
            halt_on_drawdown: halt,
            allow_off_watchlist_autotrade: off,
            last_halt_reason: None,
        }
    }
}

prop_compose! {
    fn arb_world()(minute in 0i64..(14 * 1440))(
        now in Just(at("2025-10-27T00:00:00Z") + TimeDelta::minutes(minute)),
        calendar in prop::collection::vec(arb_event(at("2025-10-27T00:00:00Z") + TimeDelta::minutes(minute)), 0..6),
        human in any::<bool>(), symbol in prop::sample::select(SYMBOLS.to_vec()),
        confidence in cents(0..=10_000), lot in cents(0..=400), config in arb_config(),
        strategy in arb_strategy(), pnl in -3000i64..3000, dd in 0i64..3000, known in any::<bool>(),
        total in 0u32..6, mine in 0u32..6,
    ) -> World {
        World {
            purpose: if human { Purpose::HumanApproval } else { Purpose::Automatic },
            symbol: symbol.to_owned(), confidence, lot, config, strategy,
            day: known.then(|| day(pnl, dd)),
            open: OpenTrades { total, for_strategy: mine.min(total) },
            calendar, now,
        }
    }
}

/// `items` in a different order, chosen by `seed`.
fn permute<T>(items: &mut [T], seed: u64) {
    let mut s = seed | 1;
    for i in (1..items.len()).rev() {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        items.swap(i, (s >> 33) as usize % (i + 1));
    }
}

proptest! {
    #[test]
    fn a_lot_above_any_cap_never_passes(w in arb_world()) {
        let strategy_cap = w.strategy.as_ref().and_then(|s| s.rules.as_ref()).and_then(|r| r.risk_caps.max_lot_size);
        let over = w.lot > w.config.max_lot_size || strategy_cap.is_some_and(|c| w.lot > c);
        let r = w.report();
        if over {
            prop_assert_eq!(r.verdict(Rule::LotSize).unwrap().outcome, Outcome::Fail);
            prop_assert_ne!(r.risk_check_result(), "pass");
            prop_assert_ne!(r.disposition(), IdeaStatus::AutoExecuted);
        }
    }

    #[test]
    fn with_ai_trading_off_nothing_auto_executes(mut w in arb_world()) {
        w.purpose = Purpose::Automatic;
        w.config.ai_trading_enabled = false;
        let r = w.report();
        prop_assert_ne!(r.disposition(), IdeaStatus::AutoExecuted);
        prop_assert!(r.failed_rules().contains(&Rule::AiHalted));
    }

    #[test]
    fn the_verdict_does_not_depend_on_input_order(w in arb_world(), seed in any::<u64>()) {
        let mut shuffled = w.clone();
        permute(&mut shuffled.calendar, seed);
        if let Some(s) = shuffled.strategy.as_mut() {
            permute(&mut s.symbols, seed.rotate_left(7));
            if let Some(r) = s.rules.as_mut() {
                permute(&mut r.session_windows, seed.rotate_left(13));
                if let Some(b) = r.forbidden_conditions.blocked_currencies.as_mut() {
                    permute(b, seed.rotate_left(29));
                }
            }
        }
        let (a, b) = (w.report(), shuffled.report());
        prop_assert_eq!(a.failed_rules(), b.failed_rules());
        prop_assert_eq!(a.risk_check_result(), b.risk_check_result());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn risk_check_result_is_pass_iff_every_verdict_passes(w in arb_world()) {
        let r = w.report();
        let all_pass = r.verdicts.iter().all(|v| v.outcome != Outcome::Fail);
        prop_assert_eq!(r.risk_check_result() == "pass", all_pass);
        prop_assert_eq!(r.disposition() == IdeaStatus::AutoExecuted, all_pass);
        if !all_pass {
            let names: Vec<_> = r.failed_rules().iter().map(|x| x.as_str()).collect();
            prop_assert_eq!(r.risk_check_result(), format!("fail:{}", names.join(",")));
        }
        let order: Vec<_> = r.verdicts.iter().map(|v| v.rule).collect();
        prop_assert_eq!(order, Rule::ALL.to_vec());
        prop_assert!(r.verdicts.iter().all(|v| !v.reason.is_empty()));
    }

    #[test]
    fn approval_is_blocked_only_by_its_four_rules(mut w in arb_world()) {
        w.purpose = Purpose::HumanApproval;
        let r = w.report();
        for v in r.failures() {
            prop_assert!(matches!(v.rule, Rule::LotSize | Rule::MaxConcurrentTrades | Rule::MaxDrawdown | Rule::SessionClosed));
        }
        prop_assert!(matches!(r.disposition(), IdeaStatus::AutoExecuted | IdeaStatus::Rejected));
    }

    #[test]
    fn the_news_verdict_does_not_depend_on_calendar_order(
        offsets in prop::collection::vec((-2i64..=2, prop::sample::select(CURRENCIES.to_vec())), 2..8),
        seed in any::<u64>(),
    ) {
        // Many high-impact releases equally far from `now`: the verdict names one of them,
        // always the same one whatever order the calendar was read in.
        let mut w = world();
        w.calendar = offsets
            .iter()
            .enumerate()
            .map(|(n, (k, currency))| CalendarEvent {
                event_time: w.now + TimeDelta::minutes(k * 15),
                currency: (*currency).to_owned(),
                impact: Impact::High,
                title: format!("release {n}"),
            })
            .collect();
        let mut shuffled = w.clone();
        permute(&mut shuffled.calendar, seed);
        prop_assert_eq!(w.report(), shuffled.report());
    }
}

/// A minute of the week (Monday 00:00 = 0) as an instant in the week of 2025-10-27 (a
/// Monday), plus `seconds`.
fn week_instant(minute_of_week: i64, seconds: i64) -> DateTime<Utc> {
    at("2025-10-27T00:00:00Z") + TimeDelta::minutes(minute_of_week) + TimeDelta::seconds(seconds)
}

/// The session rule computed independently of `SessionWindow::contains`: a window opening
/// on day `d` at `start` lasts `end - start` minutes, or until `end` on the next day when it
/// crosses midnight; an instant is inside when it lies in one such span (modulo a week).
fn oracle_inside(start: i64, end: i64, days: &[i64], t: DateTime<Utc>) -> bool {
    let week = 7 * 1440 * 60;
    let since_monday = (t - at("2025-10-27T00:00:00Z"))
        .num_seconds()
        .rem_euclid(week);
    let length = if end > start {
        end - start
    } else {
        1440 - start + end
    };
    days.iter().any(|d| {
        let open = (d * 1440 + start) * 60;
        (since_monday - open).rem_euclid(week) < length * 60
    })
}

proptest! {
    #[test]
    fn the_session_rule_on_platform_documents_bites_exactly_at_the_window_edges(
        start in 0i64..1440, end in 0i64..=1440,
        days in prop::sample::subsequence((0i64..7).collect::<Vec<_>>(), 1..=7),
        day in 0i64..7, edge in 0usize..5, seconds in 0i64..60,
    ) {
        prop_assume!(start != end);
        let hhmm = |m: i64| format!("{:02}:{:02}Z", m / 60, m % 60);
        let names: Vec<&str> = days.iter().map(|d| DAY_NAMES[*d as usize]).collect();
        let mut w = world();
        w.purpose = Purpose::HumanApproval;
        let documents = RulesJson {
            session_windows: serde_json::json!([{"start": hhmm(start), "end": hhmm(end), "days": names}]),
            entry_conditions: serde_json::json!({}),
            exit_rules: serde_json::json!({}),
            forbidden_conditions: serde_json::json!({}),
            risk_caps: serde_json::json!({}),
        };
        let rules = documents.parse().unwrap();
        w.strategy.as_mut().unwrap().rules = Some(rules);
        let length = if end > start { end - start } else { 1440 - start + end };
        let open = day * 1440 + start;
        // Just before the opening, the opening, inside, the last second, the closing.
        w.now = match edge {
            0 => week_instant(open, -1),
            1 => week_instant(open, 0),
            2 => week_instant(open + length / 2, seconds),
            3 => week_instant(open + length, -1),
            _ => week_instant(open + length, 0),
        };
        let inside = oracle_inside(start, end, &days, w.now);
        let verdict = w.report().verdict(Rule::SessionClosed).unwrap().outcome;
        prop_assert_eq!(verdict == Outcome::Pass, inside, "at {}", w.now);
        if days.contains(&day) && (1..=3).contains(&edge) {
            prop_assert!(inside, "an instant of a listed day's window is inside");
        }
    }

    #[test]
    fn the_news_block_bites_exactly_within_its_minutes_for_the_listed_currencies(
        minutes in 0u32..=120, offset in -1i64..=1, before in any::<bool>(),
        currency in prop::sample::select(CURRENCIES.to_vec()),
        listed in prop::sample::subsequence(CURRENCIES.to_vec(), 0..=3),
    ) {
        let mut w = world();
        let list: Vec<String> = listed.iter().map(|c| (*c).to_owned()).collect();
        let documents = RulesJson {
            session_windows: serde_json::json!([{"start": "00:00Z", "end": "24:00Z", "days": DAY_NAMES}]),
            entry_conditions: serde_json::json!({}),
            exit_rules: serde_json::json!({}),
            forbidden_conditions: serde_json::json!({
                "block_high_impact_news_minutes": minutes,
                "blocked_symbols_during_news": list,
            }),
            risk_caps: serde_json::json!({}),
        };
        w.strategy.as_mut().unwrap().rules = Some(documents.parse().unwrap());
        let release = w.now + TimeDelta::hours(1);
        w.calendar = vec![CalendarEvent {
            event_time: release,
            currency: currency.to_owned(),
            impact: Impact::High,
            title: "release".to_owned(),
        }];
        // The edge of the block, a second inside it, or a second outside it.
        let distance = TimeDelta::minutes(i64::from(minutes)) + TimeDelta::seconds(offset);
        prop_assume!(distance >= TimeDelta::zero());
        w.now = if before { release - distance } else { release + distance };
        let blocked = offset <= 0 && listed.contains(&currency);
        let verdict = w.report().verdict(Rule::NewsBlackout).unwrap().outcome;
        prop_assert_eq!(verdict == Outcome::Fail, blocked);
    }
}
