//! Each rule's check: whether it passes, and one sentence saying why with the numbers.
//! A check never depends on the order of the events, windows or symbols it is given.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::{GateInput, Rule};
use crate::domain::market::{Impact, nearest_event, symbol_exposure};
use crate::domain::numeric::Shown;
use crate::domain::strategy::{Strategy, StrategyRules};

/// `(passed, reason)` for `rule`.
pub(super) fn check(rule: Rule, input: &GateInput<'_>) -> (bool, String) {
    match rule {
        Rule::AiHalted => ai_halted(input),
        Rule::Confidence => confidence(input),
        Rule::StrategyInactive => strategy_inactive(input),
        Rule::OffWatchlist => off_watchlist(input),
        Rule::LotSize => lot_size(input),
        Rule::MaxConcurrentTrades => max_concurrent_trades(input),
        Rule::DailyTargetReached => daily_target(input),
        Rule::MaxDrawdown => max_drawdown(input),
        Rule::NewsBlackout => news_blackout(input),
        Rule::SessionClosed => session(input),
    }
}

fn ai_halted(i: &GateInput<'_>) -> (bool, String) {
    if i.config.ai_trading_enabled {
        return (true, "AI trading is on".to_owned());
    }
    let why = match &i.config.last_halt_reason {
        Some(reason) => format!("AI trading is off ({reason})"),
        None => "AI trading is off".to_owned(),
    };
    (false, why)
}

fn confidence(i: &GateInput<'_>) -> (bool, String) {
    let (score, threshold) = (i.idea.confidence, i.config.min_confidence_threshold);
    if score >= threshold {
        let r = format!(
            "confidence {} meets the threshold {}",
            Shown(score),
            Shown(threshold)
        );
        (true, r)
    } else {
        let r = format!(
            "confidence {} is below the threshold {}",
            Shown(score),
            Shown(threshold)
        );
        (false, r)
    }
}

fn strategy_inactive(i: &GateInput<'_>) -> (bool, String) {
    match i.strategy {
        None => (false, "the idea names no strategy".to_owned()),
        Some(s) if !s.is_active => (false, format!("strategy '{}' is inactive", s.name)),
        Some(s) if s.parsed().is_none() => (false, malformed(s)),
        Some(s) => (true, format!("strategy '{}' is active", s.name)),
    }
}

fn malformed(s: &Strategy) -> String {
    format!("strategy '{}' has malformed rules", s.name)
}

fn off_watchlist(i: &GateInput<'_>) -> (bool, String) {
    let symbol = i.idea.symbol;
    let listed = i.strategy.filter(|s| {
        s.allowed_symbols
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(symbol.trim()))
    });
    let unlisted = match (listed, i.strategy) {
        (Some(s), _) => {
            return (
                true,
                format!("{symbol} is on strategy '{}''s watchlist", s.name),
            );
        }
        (None, Some(s)) => format!(
            "{symbol} is not among strategy '{}''s allowed symbols",
            s.name
        ),
        (None, None) => format!("{symbol} is on no watchlist: the idea names no strategy"),
    };
    if i.config.allow_off_watchlist_autotrade {
        (
            true,
            format!("{unlisted}, but off-watchlist auto-trading is allowed"),
        )
    } else {
        (false, unlisted)
    }
}

fn lot_size(i: &GateInput<'_>) -> (bool, String) {
    let lot = Shown(i.lot);
    if i.lot <= Decimal::ZERO {
        return (false, format!("lot {lot} must be greater than 0"));
    }
    let mut caps = vec![(i.config.max_lot_size, "risk_config")];
    if let Some(cap) = rules(i).and_then(|r| r.risk_caps.max_lot_size) {
        caps.push((cap, "strategy cap"));
    }
    let exceeded: Vec<_> = caps
        .iter()
        .filter(|(cap, _)| i.lot > *cap)
        .map(|(cap, source)| format!("{} ({source})", Shown(*cap)))
        .collect();
    if exceeded.is_empty() {
        let within: Vec<_> = caps
            .iter()
            .map(|(cap, source)| format!("{} ({source})", Shown(*cap)))
            .collect();
        (
            true,
            format!("lot {lot} is within the maximum {}", within.join(" and ")),
        )
    } else {
        (
            false,
            format!("lot {lot} exceeds the maximum {}", exceeded.join(" and ")),
        )
    }
}

fn max_concurrent_trades(i: &GateInput<'_>) -> (bool, String) {
    let total = i.open_trades.total;
    let max = i.config.max_concurrent_trades;
    let mut full = Vec::new();
    let mut room = vec![format!("{total} of {max} trades are open (risk_config)")];
    if i64::from(total) >= i64::from(max) {
        full.push(format!(
            "{total} trades are open and the maximum is {max} (risk_config)"
        ));
    }
    if let Some(cap) = rules(i).and_then(|r| r.risk_caps.max_concurrent_positions) {
        let mine = i.open_trades.for_strategy;
        room.push(format!("{mine} of {cap} for the strategy (strategy cap)"));
        if mine >= cap {
            full.push(format!(
                "{mine} of the strategy's trades are open and its cap is {cap} (strategy cap)"
            ));
        }
    }
    if full.is_empty() {
        (true, room.join(", "))
    } else {
        (false, full.join("; "))
    }
}

fn daily_target(i: &GateInput<'_>) -> (bool, String) {
    let target = Shown(i.config.daily_profit_target);
    match i.day {
        _ if !i.config.stop_after_target => (
            true,
            "stop_after_target is off, so the daily target does not stop trading".to_owned(),
        ),
        None => (
            true,
            "no account snapshot yet, so no profit has been made today".to_owned(),
        ),
        Some(day) if day.target_reached(i.config.daily_profit_target) => (
            false,
            format!(
                "the day's P/L {} has reached the target {target}",
                Shown(day.day_pnl)
            ),
        ),
        Some(day) => (
            true,
            format!(
                "the day's P/L {} is short of the target {target}",
                Shown(day.day_pnl)
            ),
        ),
    }
}

fn max_drawdown(i: &GateInput<'_>) -> (bool, String) {
    let limit = Shown(i.config.max_drawdown_amount);
    match i.day {
        None => (
            false,
            "no account snapshot yet, so the day's drawdown cannot be checked".to_owned(),
        ),
        Some(day) if day.drawdown_reached(i.config.max_drawdown_amount) => (
            false,
            format!(
                "the day's drawdown {} has reached the limit {limit}",
                Shown(day.drawdown)
            ),
        ),
        Some(day) => (
            true,
            format!(
                "the day's drawdown {} is below the limit {limit}",
                Shown(day.drawdown)
            ),
        ),
    }
}

fn news_blackout(i: &GateInput<'_>) -> (bool, String) {
    let Some(strategy) = i.strategy else {
        return (
            true,
            "the idea names no strategy, so no news blackout applies".to_owned(),
        );
    };
    let Some(rules) = strategy.parsed() else {
        return (
            false,
            format!(
                "{}, so its news block cannot be checked",
                malformed(strategy)
            ),
        );
    };
    let forbidden = &rules.forbidden_conditions;
    let Some(minutes) = forbidden.block_high_impact_news_minutes else {
        return (
            true,
            format!("strategy '{}' sets no news block", strategy.name),
        );
    };
    let exposure = symbol_exposure(i.idea.symbol.trim());
    let window = TimeDelta::minutes(i64::from(minutes));
    // The listed currencies block, whatever the symbol; with no list, the symbol's own.
    let listed = forbidden.blocked_currencies.as_deref();
    let relevant = |e: &crate::domain::market::CalendarEvent| match listed {
        Some(list) => list
            .iter()
            .any(|c| c.eq_ignore_ascii_case(e.currency.trim())),
        None => exposure.touches(&e.currency),
    };
    match nearest_event(i.calendar, i.now, window, Impact::High, relevant) {
        Some(e) => (
            false,
            format!(
                "high-impact {} news \"{}\" at {} is within strategy '{}''s {minutes}-minute news block",
                e.currency,
                e.title,
                clock(e.event_time),
                strategy.name
            ),
        ),
        None => {
            let whose = match listed {
                Some([]) => "the listed currencies (none)".to_owned(),
                Some(list) => {
                    // Sorted, so the reason reads the same whatever the list's order.
                    let mut sorted = list.to_vec();
                    sorted.sort();
                    sorted.join(" or ")
                }
                None => exposure.to_string(),
            };
            (
                true,
                format!("no high-impact news for {whose} within {minutes} minutes"),
            )
        }
    }
}

fn session(i: &GateInput<'_>) -> (bool, String) {
    let Some(strategy) = i.strategy else {
        return (
            true,
            "the idea names no strategy, so no session window applies".to_owned(),
        );
    };
    let Some(rules) = strategy.parsed() else {
        return (
            false,
            format!("{}, so its sessions cannot be checked", malformed(strategy)),
        );
    };
    let now = clock(i.now);
    if rules.in_session(i.now) {
        (
            true,
            format!(
                "{now} is inside a session window of strategy '{}'",
                strategy.name
            ),
        )
    } else {
        (
            false,
            format!(
                "{now} is outside every session window of strategy '{}'",
                strategy.name
            ),
        )
    }
}

/// The strategy's parsed rules, when there are some.
fn rules<'a>(i: &GateInput<'a>) -> Option<&'a StrategyRules> {
    i.strategy.and_then(Strategy::parsed)
}

/// `Tue 14:30 UTC`.
fn clock(t: DateTime<Utc>) -> String {
    t.format("%a %H:%M UTC").to_string()
}
