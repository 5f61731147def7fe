//! The four rule objects beside the session windows: entry conditions, exit rules,
//! forbidden conditions and risk caps.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::json::{
    Problems, array, child, decimal_to_json, item, number_to_decimal, object, positive_decimal,
    whole,
};

/// The longest news blackout a strategy may set, in minutes (a day).
pub const MAX_NEWS_MINUTES: u32 = 24 * 60;
/// The longest hold a strategy may set, in minutes (30 days).
pub const MAX_HOLD_MINUTES: u32 = 30 * 24 * 60;

/// The named conditions an entry must meet, as the platform's evaluator reads them.
///
/// This is an open map on purpose: the conditions are evaluated by the platform's strategy
/// evaluator, whose vocabulary grows (`breakout_of`, `min_atr`, …); tradedesk shows and
/// counts them but never evaluates them, so a closed list would refuse valid platform rows.
/// The values are still strict: text, numbers, booleans or flat lists of those, so every
/// condition can be shown on one line and nothing opaque hides inside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryConditions(pub BTreeMap<String, ConditionValue>);

/// The value of one entry condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionValue {
    Text(String),
    Number(Decimal),
    Flag(bool),
    /// A flat list: its items are never lists themselves.
    List(Vec<ConditionValue>),
}

impl fmt::Display for ConditionValue {
    /// `asian_range`, `0.0008`, `true`, `[EURUSD, GBPUSD]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Number(d) => write!(f, "{}", d.normalize()),
            Self::Flag(b) => write!(f, "{b}"),
            Self::List(items) => {
                let shown: Vec<_> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", shown.join(", "))
            }
        }
    }
}

impl ConditionValue {
    fn to_json(&self) -> Value {
        match self {
            Self::Text(s) => Value::String(s.clone()),
            Self::Number(d) => decimal_to_json(*d),
            Self::Flag(b) => Value::Bool(*b),
            Self::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
        }
    }
}

/// How a position is closed, in multiples of the initial risk (R). All keys are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitRules {
    /// Profit targets in R, rising, each greater than 0: `[1.5, 3.0]`.
    pub take_profit_r: Option<Vec<Decimal>>,
    /// Start trailing the stop once the trade is this many R in profit.
    pub trail_after_r: Option<Decimal>,
    /// Move the stop to entry once the trade is this many R in profit.
    pub break_even_after_r: Option<Decimal>,
    /// Close the trade after this many minutes whatever its state (1 to 30 days).
    pub max_hold_minutes: Option<u32>,
}

/// When the strategy must not open a trade. All keys are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForbiddenConditions {
    /// No entry this many minutes before or after a high-impact release in one of the
    /// symbol's currencies (0 to 1440).
    pub block_high_impact_news_minutes: Option<u32>,
    /// Symbols blocked inside that same window around ANY high-impact release, whatever its
    /// currency. Needs `block_high_impact_news_minutes` to say how long.
    pub blocked_symbols_during_news: Option<Vec<String>>,
}

/// The strategy's own caps, tighter than or equal to the global `risk_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskCaps {
    /// Largest lot the strategy may trade, greater than 0.
    pub max_lot_size: Option<Decimal>,
    /// Most positions of this strategy open at once, at least 1.
    pub max_concurrent_positions: Option<u32>,
}

/// Reads `entry_conditions`.
pub(super) fn parse_entry(value: &Value, problems: &mut Problems) -> Option<EntryConditions> {
    let path = "entry_conditions";
    let map = object(value, path, &[], problems)?;
    let mut conditions = BTreeMap::new();
    let mut ok = true;
    for (name, v) in map {
        let at = child(path, name);
        if name.trim().is_empty() {
            problems.push(&at, "a condition needs a name");
            ok = false;
            continue;
        }
        let parsed = match v {
            Value::Array(items) => {
                let list: Vec<_> = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| scalar(x, &item(&at, i), problems))
                    .collect();
                list.into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(ConditionValue::List)
            }
            other => scalar(other, &at, problems),
        };
        match parsed {
            Some(c) => {
                conditions.insert(name.clone(), c);
            }
            None => ok = false,
        }
    }
    ok.then_some(EntryConditions(conditions))
}

/// A text, number or boolean condition value.
fn scalar(value: &Value, path: &str, problems: &mut Problems) -> Option<ConditionValue> {
    let parsed = match value {
        Value::String(s) => Some(ConditionValue::Text(s.clone())),
        Value::Bool(b) => Some(ConditionValue::Flag(*b)),
        Value::Number(n) => number_to_decimal(n).map(ConditionValue::Number),
        _ => None,
    };
    if parsed.is_none() {
        problems.expected(
            path,
            "text, a number, true/false or a flat list of them",
            value,
        );
    }
    parsed
}

/// Reads `exit_rules`.
pub(super) fn parse_exit(value: &Value, problems: &mut Problems) -> Option<ExitRules> {
    let path = "exit_rules";
    let keys = [
        "take_profit_r",
        "trail_after_r",
        "break_even_after_r",
        "max_hold_minutes",
    ];
    let before = problems.0.len();
    let map = object(value, path, &keys, problems)?;
    let rules = ExitRules {
        take_profit_r: map
            .get("take_profit_r")
            .and_then(|v| parse_targets(v, &child(path, "take_profit_r"), problems)),
        trail_after_r: optional(map, path, "trail_after_r", problems, positive_decimal),
        break_even_after_r: optional(map, path, "break_even_after_r", problems, positive_decimal),
        max_hold_minutes: optional(map, path, "max_hold_minutes", problems, |v, at, p| {
            whole(v, at, 1, MAX_HOLD_MINUTES, p)
        }),
    };
    (problems.0.len() == before).then_some(rules)
}

/// Reads a non-empty, strictly rising list of positive R multiples.
fn parse_targets(value: &Value, path: &str, problems: &mut Problems) -> Option<Vec<Decimal>> {
    let items = array(value, path, "a list of numbers greater than 0", problems)?;
    if items.is_empty() {
        problems.push(path, "expected at least one target");
        return None;
    }
    let targets: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, v)| positive_decimal(v, &item(path, i), problems))
        .collect();
    let targets: Vec<Decimal> = targets.into_iter().collect::<Option<_>>()?;
    let mut rising = true;
    for (i, pair) in targets.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            problems.push(
                &item(path, i + 1),
                format!("targets must rise: {} is not above {}", pair[1], pair[0]),
            );
            rising = false;
        }
    }
    rising.then_some(targets)
}

/// Reads `forbidden_conditions`.
pub(super) fn parse_forbidden(
    value: &Value,
    problems: &mut Problems,
) -> Option<ForbiddenConditions> {
    let path = "forbidden_conditions";
    let keys = [
        "block_high_impact_news_minutes",
        "blocked_symbols_during_news",
    ];
    let before = problems.0.len();
    let map = object(value, path, &keys, problems)?;
    let minutes = optional(map, path, keys[0], problems, |v, at, p| {
        whole(v, at, 0, MAX_NEWS_MINUTES, p)
    });
    let symbols = optional(map, path, keys[1], problems, parse_symbols);
    if map.contains_key(keys[1]) && !map.contains_key(keys[0]) {
        problems.push(
            &child(path, keys[1]),
            "needs block_high_impact_news_minutes to say how long the block lasts",
        );
    }
    (problems.0.len() == before).then_some(ForbiddenConditions {
        block_high_impact_news_minutes: minutes,
        blocked_symbols_during_news: symbols,
    })
}

/// Reads a list of distinct, non-blank symbols without spaces.
fn parse_symbols(value: &Value, path: &str, problems: &mut Problems) -> Option<Vec<String>> {
    let items = array(
        value,
        path,
        "a list of symbols such as [\"GBPUSD\"]",
        problems,
    )?;
    let mut symbols: Vec<String> = Vec::new();
    let mut ok = true;
    for (i, v) in items.iter().enumerate() {
        let at = item(path, i);
        match v.as_str() {
            Some(s) if !s.is_empty() && !s.chars().any(char::is_whitespace) => {
                if symbols.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                    problems.push(&at, format!("{s} is listed twice"));
                    ok = false;
                } else {
                    symbols.push(s.to_owned());
                }
            }
            _ => {
                problems.expected(&at, "a symbol such as \"GBPUSD\"", v);
                ok = false;
            }
        }
    }
    ok.then_some(symbols)
}

/// Reads `risk_caps`.
pub(super) fn parse_caps(value: &Value, problems: &mut Problems) -> Option<RiskCaps> {
    let path = "risk_caps";
    let before = problems.0.len();
    let map = object(
        value,
        path,
        &["max_lot_size", "max_concurrent_positions"],
        problems,
    )?;
    let caps = RiskCaps {
        max_lot_size: optional(map, path, "max_lot_size", problems, positive_decimal),
        max_concurrent_positions: optional(
            map,
            path,
            "max_concurrent_positions",
            problems,
            |v, at, p| whole(v, at, 1, i32::MAX as u32, p),
        ),
    };
    (problems.0.len() == before).then_some(caps)
}

/// Reads `key` of `map` with `read` when it is present.
fn optional<T>(
    map: &Map<String, Value>,
    path: &str,
    key: &str,
    problems: &mut Problems,
    read: impl FnOnce(&Value, &str, &mut Problems) -> Option<T>,
) -> Option<T> {
    map.get(key)
        .and_then(|v| read(v, &child(path, key), problems))
}

/// Builds a JSON object from the keys that are set.
fn object_of(entries: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = entries
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    Value::Object(map)
}

impl EntryConditions {
    /// The conditions as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        )
    }
}

impl ExitRules {
    /// The exit rules as a JSON object, with only the keys that are set.
    pub fn to_json(&self) -> Value {
        object_of([
            (
                "take_profit_r",
                self.take_profit_r
                    .as_ref()
                    .map(|t| Value::Array(t.iter().copied().map(decimal_to_json).collect())),
            ),
            ("trail_after_r", self.trail_after_r.map(decimal_to_json)),
            (
                "break_even_after_r",
                self.break_even_after_r.map(decimal_to_json),
            ),
            ("max_hold_minutes", self.max_hold_minutes.map(Value::from)),
        ])
    }
}

impl ForbiddenConditions {
    /// The forbidden conditions as a JSON object, with only the keys that are set.
    pub fn to_json(&self) -> Value {
        object_of([
            (
                "block_high_impact_news_minutes",
                self.block_high_impact_news_minutes.map(Value::from),
            ),
            (
                "blocked_symbols_during_news",
                self.blocked_symbols_during_news.clone().map(Value::from),
            ),
        ])
    }
}

impl RiskCaps {
    /// The caps as a JSON object, with only the keys that are set.
    pub fn to_json(&self) -> Value {
        object_of([
            ("max_lot_size", self.max_lot_size.map(decimal_to_json)),
            (
                "max_concurrent_positions",
                self.max_concurrent_positions.map(Value::from),
            ),
        ])
    }
}
