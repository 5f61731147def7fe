//! The four rule documents beside the session windows, in the platform's shapes
//! (docs/platform.md, "Strategy documents").
//!
//! Two kinds of document:
//! - The Gate's: `forbidden_conditions` and `risk_caps` are typed exactly; an unknown key or
//!   a wrong type is an error, because a rule tradedesk cannot read is a rule it cannot
//!   enforce.
//! - The evaluator's: `entry_conditions` and `exit_rules` belong to the platform's strategy
//!   evaluator, whose vocabulary grows. They are kept exactly as written (key order, values,
//!   unknown keys); keys tradedesk knows are checked for type, and an unknown key is a note,
//!   never an error.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::json::{
    Problems, array, child, item, number_to_decimal, object, positive_decimal, whole,
};

/// The longest news block a strategy may set, in minutes (a day).
pub const MAX_NEWS_MINUTES: u32 = 24 * 60;

/// The entry conditions as written: the evaluator's vocabulary, in the document's order.
/// tradedesk never evaluates them; it shows them and counts them for the confidence score.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryConditions(pub Vec<(String, Value)>);

impl EntryConditions {
    /// How many conditions there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The exit rules: level expressions in the trader's words, read by the platform's
/// evaluator. The known keys are typed here; `written` holds every key as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitRules {
    /// `"recent_swing_low - 50 cents"`.
    pub stop_loss: Option<String>,
    /// One expression or several (`"RR>=2"`, `["RR>=2", "key_resistance_zone"]`); empty
    /// when the key is absent.
    pub take_profit: Vec<String>,
    /// Close the trade after this many minutes.
    pub time_limit_min: Option<u32>,
    /// Every key and value in the document's order, known or not.
    pub written: Vec<(String, Value)>,
}

/// When the strategy must not open a trade (the Gate enforces this).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForbiddenConditions {
    /// No new trade this many minutes before or after a high-impact release (0 to 1440).
    pub block_high_impact_news_minutes: Option<u32>,
    /// The currencies whose high-impact releases block (the key is
    /// `blocked_symbols_during_news`, but its values are currencies: `["USD", "GBP"]`).
    /// `None`: the symbol's own currencies.
    pub blocked_currencies: Option<Vec<String>>,
}

/// The strategy's own caps, beside the global `risk_config` (the Gate enforces these).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskCaps {
    /// Largest lot the strategy may trade, greater than 0.
    pub max_lot_size: Option<Decimal>,
    /// Most positions of this strategy open at once, at least 1.
    pub max_concurrent_positions: Option<u32>,
}

/// The type a known key of the evaluator's vocabulary must have.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A non-blank string.
    Text,
    /// A number within the range.
    Number { min: u32, max: u32 },
    /// true or false.
    Flag,
    /// A non-blank string or a non-empty list of them.
    Expressions,
    /// A whole number of minutes, at least 1.
    Minutes,
}

/// The entry-condition keys tradedesk knows, from the platform's own examples.
const ENTRY_KEYS: &[(&str, Expect)] = &[
    ("trend_alignment", Expect::Text),
    ("rsi_below", Expect::Number { min: 0, max: 100 }),
    ("price_rejects_level", Expect::Flag),
];

/// The exit-rule keys tradedesk knows, from the platform's own examples.
const EXIT_KEYS: &[(&str, Expect)] = &[
    ("stop_loss", Expect::Text),
    ("take_profit", Expect::Expressions),
    ("time_limit_min", Expect::Minutes),
];

/// Checks a value of a known key; records a problem and returns false when it is wrong.
fn check(expect: Expect, value: &Value, path: &str, problems: &mut Problems) -> bool {
    let text = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    let ok = match expect {
        Expect::Text => text(value),
        Expect::Number { min, max } => match value {
            Value::Number(n) => number_to_decimal(n)
                .is_some_and(|d| d >= Decimal::from(min) && d <= Decimal::from(max)),
            _ => false,
        },
        Expect::Flag => value.is_boolean(),
        Expect::Expressions => match value {
            Value::Array(items) => !items.is_empty() && items.iter().all(text),
            other => text(other),
        },
        Expect::Minutes => value
            .as_u64()
            .is_some_and(|n| n >= 1 && n <= u64::from(i32::MAX as u32)),
    };
    if !ok {
        let what = match expect {
            Expect::Text => "a non-empty string".to_owned(),
            Expect::Number { min, max } => format!("a number from {min} to {max}"),
            Expect::Flag => "true or false".to_owned(),
            Expect::Expressions => {
                "an expression such as \"RR>=2\", or a non-empty list of them".to_owned()
            }
            Expect::Minutes => "a whole number of minutes, at least 1".to_owned(),
        };
        problems.expected(path, &what, value);
    }
    ok
}

/// Reads one of the evaluator's documents: every key kept in order, known keys checked.
fn vocabulary(
    value: &Value,
    path: &str,
    known: &[(&str, Expect)],
    problems: &mut Problems,
) -> Option<Vec<(String, Value)>> {
    let before = problems.0.len();
    let map = object(value, path, &[], problems)?;
    for (key, v) in map {
        let at = child(path, key);
        match known.iter().find(|(k, _)| k == key) {
            Some((_, expect)) => {
                check(*expect, v, &at, problems);
            }
            None if key.trim().is_empty() => problems.push(&at, "a key needs a name"),
            None => problems.note_unknown(&at),
        }
    }
    (problems.0.len() == before).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// Reads `entry_conditions`.
pub(super) fn parse_entry(value: &Value, problems: &mut Problems) -> Option<EntryConditions> {
    vocabulary(value, "entry_conditions", ENTRY_KEYS, problems).map(EntryConditions)
}

/// Reads `exit_rules`.
pub(super) fn parse_exit(value: &Value, problems: &mut Problems) -> Option<ExitRules> {
    let written = vocabulary(value, "exit_rules", EXIT_KEYS, problems)?;
    let get = |key: &str| written.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let take_profit = match get("take_profit") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    Some(ExitRules {
        stop_loss: get("stop_loss").and_then(Value::as_str).map(str::to_owned),
        take_profit,
        time_limit_min: get("time_limit_min")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        written,
    })
}

/// Reads `forbidden_conditions`.
pub(super) fn parse_forbidden(
    value: &Value,
    problems: &mut Problems,
) -> Option<ForbiddenConditions> {
    let path = "forbidden_conditions";
    let before = problems.0.len();
    let map = object(
        value,
        path,
        &[
            "block_high_impact_news_minutes",
            "blocked_symbols_during_news",
        ],
        problems,
    )?;
    let minutes = optional(
        map,
        path,
        "block_high_impact_news_minutes",
        problems,
        |v, at, p| whole(v, at, 0, MAX_NEWS_MINUTES, p),
    );
    let currencies = optional(
        map,
        path,
        "blocked_symbols_during_news",
        problems,
        parse_currencies,
    );
    if map.contains_key("blocked_symbols_during_news")
        && !map.contains_key("block_high_impact_news_minutes")
    {
        problems.push(
            &child(path, "blocked_symbols_during_news"),
            "needs block_high_impact_news_minutes to say how long the block lasts",
        );
    }
    (problems.0.len() == before).then_some(ForbiddenConditions {
        block_high_impact_news_minutes: minutes,
        blocked_currencies: currencies,
    })
}

/// Reads a list of distinct currency codes as the calendar writes them (`USD`).
fn parse_currencies(value: &Value, path: &str, problems: &mut Problems) -> Option<Vec<String>> {
    let items = array(
        value,
        path,
        "a list of currencies such as [\"USD\", \"GBP\"]",
        problems,
    )?;
    let mut currencies: Vec<String> = Vec::new();
    let mut ok = true;
    for (i, v) in items.iter().enumerate() {
        let at = item(path, i);
        match v.as_str() {
            Some(s) if is_currency(s) => {
                if currencies.iter().any(|c| c == s) {
                    problems.push(&at, format!("\"{s}\" is listed twice"));
                    ok = false;
                } else {
                    currencies.push(s.to_owned());
                }
            }
            Some(s) if s.len() == 3 && s.chars().all(|c| c.is_ascii_alphabetic()) => {
                problems.push(
                    &at,
                    format!(
                        "expected \"{}\", got \"{s}\": the calendar writes currencies in upper \
                         case, so \"{s}\" would never match a release",
                        s.to_ascii_uppercase()
                    ),
                );
                ok = false;
            }
            Some(s) if s.len() == 6 && s.chars().all(|c| c.is_ascii_alphabetic()) => {
                let upper = s.to_ascii_uppercase();
                let (base, quote) = upper.split_at(3);
                problems.push(
                    &at,
                    format!(
                        "\"{s}\" is a symbol, but this list names currencies (the key says \
                         symbols; the platform reads currencies): write \"{base}\", \"{quote}\""
                    ),
                );
                ok = false;
            }
            _ => {
                problems.expected(&at, "a currency such as \"USD\"", v);
                ok = false;
            }
        }
    }
    ok.then_some(currencies)
}

/// Three upper-case ASCII letters, as `snapshot_calendar.currency` holds them.
pub(super) fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase())
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
