//! Strategies written by tradedesk before it read the platform's documents: lower-case day
//! names, exit rules in an invented R-multiple vocabulary (`take_profit_r`,
//! `max_hold_minutes`, `trail_after_r`, `break_even_after_r`) and symbols where the news
//! block lists currencies. [`convert`] turns them into the platform's shapes, changing
//! nothing else; `tradedesk setup` applies it.

use serde_json::{Map, Value};

use super::RulesJson;
use super::rules::is_currency;
use super::session::DAY_NAMES;
use crate::domain::market::{Exposure, symbol_exposure};

/// Documents converted to the platform's shapes, and each change in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    pub rules: RulesJson,
    /// `session_windows[0].days: mon, tue → Mon, Tue`, one line per change.
    pub changes: Vec<String>,
}

/// The old exit keys with a platform equivalent: the old key, the platform's key, and how
/// the value is rewritten.
const RENAMED_EXIT_KEYS: [(&str, &str); 2] = [
    ("take_profit_r", "take_profit"),
    ("max_hold_minutes", "time_limit_min"),
];

/// The old exit keys the platform has no rule for: kept as written (the evaluator ignores
/// them; tradedesk shows them as notes), and said so.
const UNMATCHED_EXIT_KEYS: [&str; 2] = ["trail_after_r", "break_even_after_r"];

/// The documents in the platform's shapes, or `None` when they hold nothing of the old
/// shapes.
pub fn convert(rules: &RulesJson) -> Option<Conversion> {
    let mut changes = Vec::new();
    let mut converted = rules.clone();
    convert_days(&mut converted.session_windows, &mut changes);
    convert_exits(&mut converted.exit_rules, &mut changes);
    convert_news(&mut converted.forbidden_conditions, &mut changes);
    let converted_something = !changes.is_empty();
    for key in UNMATCHED_EXIT_KEYS {
        if converted_something && rules.exit_rules.get(key).is_some() {
            changes.push(format!(
                "exit_rules.{key}: kept as written; the platform has no such rule"
            ));
        }
    }
    converted_something.then_some(Conversion {
        rules: converted,
        changes,
    })
}

/// `mon` → `Mon` in every window.
fn convert_days(windows: &mut Value, changes: &mut Vec<String>) {
    let Value::Array(windows) = windows else {
        return;
    };
    for (i, window) in windows.iter_mut().enumerate() {
        let Some(Value::Array(days)) = window.get_mut("days") else {
            continue;
        };
        let before: Vec<String> = days.iter().map(shown).collect();
        let mut changed = false;
        for day in days.iter_mut() {
            let platform = day.as_str().and_then(|s| {
                DAY_NAMES
                    .iter()
                    .find(|d| d.eq_ignore_ascii_case(s) && **d != s)
            });
            if let Some(name) = platform {
                *day = Value::String((*name).to_owned());
                changed = true;
            }
        }
        if changed {
            let after: Vec<String> = days.iter().map(shown).collect();
            changes.push(format!(
                "session_windows[{i}].days: {} → {}",
                before.join(", "),
                after.join(", ")
            ));
        }
    }
}

/// `take_profit_r: [1.5, 3.0]` → `take_profit: ["RR>=1.5", "RR>=3.0"]` and
/// `max_hold_minutes: 90` → `time_limit_min: 90`, each in its place, when the platform's key
/// is not already there.
fn convert_exits(exit: &mut Value, changes: &mut Vec<String>) {
    let Value::Object(map) = exit else {
        return;
    };
    let mut out = Map::new();
    for (key, value) in map.iter() {
        let renamed = RENAMED_EXIT_KEYS
            .iter()
            .find(|(old, new)| old == key && !map.contains_key(*new));
        let converted = renamed.and_then(|(old, new)| {
            let value = match *old {
                "take_profit_r" => take_profit(value)?,
                _ => value.as_u64().filter(|n| *n >= 1).map(Value::from)?,
            };
            Some((*old, *new, value))
        });
        match converted {
            Some((old, new, value)) => {
                changes.push(format!(
                    "exit_rules.{old}: {} → {new}: {}",
                    compact(&map[old]),
                    compact(&value)
                ));
                out.insert(new.to_owned(), value);
            }
            None => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    *map = out;
}

/// R multiples as the platform's expressions: `[1.5, 3.0]` → `["RR>=1.5", "RR>=3.0"]`.
fn take_profit(value: &Value) -> Option<Value> {
    let items = value.as_array()?;
    let expressions: Option<Vec<Value>> = items
        .iter()
        .map(|v| match v {
            Value::Number(n) => Some(Value::String(format!("RR>={n}"))),
            _ => None,
        })
        .collect();
    expressions.filter(|e| !e.is_empty()).map(Value::Array)
}

/// Symbols in the news block → their currencies, in order, each once; `usd` → `USD`.
fn convert_news(forbidden: &mut Value, changes: &mut Vec<String>) {
    let Some(Value::Array(listed)) = forbidden.get_mut("blocked_symbols_during_news") else {
        return;
    };
    let mut currencies: Vec<String> = Vec::new();
    for item in listed.iter() {
        let Some(text) = item.as_str() else {
            return;
        };
        let upper = text.trim().to_ascii_uppercase();
        let found = if is_currency(&upper) {
            vec![upper]
        } else {
            match symbol_exposure(&upper) {
                Exposure::Currencies(list) => list,
                Exposure::Unknown => return,
            }
        };
        for c in found {
            if !currencies.contains(&c) {
                currencies.push(c);
            }
        }
    }
    let after: Vec<Value> = currencies.into_iter().map(Value::String).collect();
    if after != *listed {
        changes.push(format!(
            "forbidden_conditions.blocked_symbols_during_news: {} → {} (the platform reads currencies)",
            compact(&Value::Array(listed.clone())),
            compact(&Value::Array(after.clone()))
        ));
        *listed = after;
    }
}

fn shown(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn compact(v: &Value) -> String {
    v.to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The "London breakout" strategy as tradedesk's demo desk wrote it before.
    fn old() -> RulesJson {
        RulesJson {
            session_windows: json!([{"start": "07:00Z", "end": "11:00Z", "days": ["mon", "tue", "wed", "thu", "fri"]}]),
            entry_conditions: json!({"breakout_of": "asian_range", "min_atr": 0.0008}),
            exit_rules: json!({"take_profit_r": [1.5, 3.0], "trail_after_r": 1.0, "max_hold_minutes": 90}),
            forbidden_conditions: json!({"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["GBPUSD", "EURUSD"]}),
            risk_caps: json!({"max_lot_size": 0.50, "max_concurrent_positions": 2}),
        }
    }

    #[test]
    fn old_shapes_become_the_platforms_and_then_read_as_valid() {
        let c = convert(&old()).unwrap();
        assert_eq!(
            c.rules.session_windows,
            json!([{"start": "07:00Z", "end": "11:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}])
        );
        assert_eq!(
            serde_json::to_string(&c.rules.exit_rules).unwrap(),
            r#"{"take_profit":["RR>=1.5","RR>=3.0"],"trail_after_r":1.0,"time_limit_min":90}"#,
            "renamed in place, order kept"
        );
        assert_eq!(
            c.rules.forbidden_conditions,
            json!({"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["GBP", "USD", "EUR"]})
        );
        assert_eq!(c.rules.entry_conditions, old().entry_conditions);
        assert_eq!(c.rules.risk_caps, old().risk_caps);
        assert_eq!(
            c.changes,
            [
                "session_windows[0].days: mon, tue, wed, thu, fri → Mon, Tue, Wed, Thu, Fri",
                "exit_rules.take_profit_r: [1.5,3.0] → take_profit: [\"RR>=1.5\",\"RR>=3.0\"]",
                "exit_rules.max_hold_minutes: 90 → time_limit_min: 90",
                "forbidden_conditions.blocked_symbols_during_news: [\"GBPUSD\",\"EURUSD\"] → [\"GBP\",\"USD\",\"EUR\"] (the platform reads currencies)",
                "exit_rules.trail_after_r: kept as written; the platform has no such rule",
            ]
        );
        let rules = c.rules.parse().unwrap();
        let notes: Vec<_> = rules.notes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            notes,
            [
                "entry_conditions.breakout_of",
                "entry_conditions.min_atr",
                "exit_rules.trail_after_r"
            ],
            "the old entry vocabulary and trail_after_r stay, as notes"
        );
        assert_eq!(convert(&c.rules), None, "converting twice changes nothing");
    }

    #[test]
    fn the_platforms_own_documents_are_left_alone() {
        let platform = RulesJson {
            session_windows: json!([{"start": "07:00Z", "end": "11:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}]),
            entry_conditions: json!({"trend_alignment": "bullish", "rsi_below": 40, "price_rejects_level": true}),
            exit_rules: json!({"stop_loss": "recent_swing_low - 50 cents", "take_profit": ["RR>=2", "key_resistance_zone"]}),
            forbidden_conditions: json!({"block_high_impact_news_minutes": 5, "blocked_symbols_during_news": ["USD", "GBP"]}),
            risk_caps: json!({"max_lot_size": 1.0, "max_concurrent_positions": 2}),
        };
        assert_eq!(convert(&platform), None);
    }

    #[test]
    fn a_platform_take_profit_is_never_overwritten() {
        let mut rules = old();
        rules.session_windows = json!([{"start": "07:00Z", "end": "11:00Z", "days": ["Mon"]}]);
        rules.forbidden_conditions = json!({});
        rules.exit_rules = json!({"take_profit": "RR>=2", "take_profit_r": [1.5]});
        assert_eq!(convert(&rules), None);
    }
}
