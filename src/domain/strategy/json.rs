//! Strict reading of JSON rule documents: every problem is collected with its path, and a
//! reader returns `None` for a part it could not read, so no half-read rule set escapes.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Number, Value};

use super::RuleProblem;

/// The problems found so far while reading one rule set (`.0`), and the notes: keys of
/// the evaluator's vocabulary tradedesk does not know, kept as written.
#[derive(Debug, Default)]
pub(super) struct Problems(pub(super) Vec<RuleProblem>, pub(super) Vec<RuleProblem>);

impl Problems {
    /// Notes that the key at `path` is not one tradedesk knows, and is kept.
    pub(super) fn note_unknown(&mut self, path: &str) {
        self.1.push(RuleProblem {
            path: path.to_owned(),
            message: "not a key tradedesk knows; kept for the evaluator".to_owned(),
        });
    }

    /// Records that the value at `path` is wrong, and why.
    pub(super) fn push(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(RuleProblem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Records "expected …, got …" for the value at `path`.
    pub(super) fn expected(&mut self, path: &str, what: &str, got: &Value) {
        self.push(path, format!("expected {what}, got {}", shown(got)));
    }
}

/// A value as compact JSON, cut short so one bad blob cannot flood a message.
pub(super) fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 40 {
        text
    } else {
        let head: String = text.chars().take(37).collect();
        format!("{head}...")
    }
}

/// `path.key`.
pub(super) fn child(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

/// `path[index]`.
pub(super) fn item(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// The object at `path`, with every key outside `allowed` reported (an empty `allowed`
/// means any key is allowed).
pub(super) fn object<'a>(
    value: &'a Value,
    path: &str,
    allowed: &[&str],
    problems: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    let Value::Object(map) = value else {
        problems.expected(path, "an object", value);
        return None;
    };
    if !allowed.is_empty() {
        for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
            problems.push(
                &child(path, key),
                format!("unknown key; expected one of {}", allowed.join(", ")),
            );
        }
    }
    Some(map)
}

/// The array at `path`.
pub(super) fn array<'a>(
    value: &'a Value,
    path: &str,
    what: &str,
    problems: &mut Problems,
) -> Option<&'a Vec<Value>> {
    match value {
        Value::Array(items) => Some(items),
        other => {
            problems.expected(path, what, other);
            None
        }
    }
}

/// A JSON number as an exact decimal, read from its text so no binary rounding creeps in.
pub(super) fn number_to_decimal(number: &Number) -> Option<Decimal> {
    let text = number.to_string();
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// A number greater than zero at `path`.
pub(super) fn positive_decimal(
    value: &Value,
    path: &str,
    problems: &mut Problems,
) -> Option<Decimal> {
    let parsed = match value {
        Value::Number(n) => number_to_decimal(n),
        _ => None,
    };
    match parsed {
        Some(d) if d > Decimal::ZERO => Some(d),
        _ => {
            problems.expected(path, "a number greater than 0", value);
            None
        }
    }
}

/// A whole number within `min..=max` at `path`.
pub(super) fn whole(
    value: &Value,
    path: &str,
    min: u32,
    max: u32,
    problems: &mut Problems,
) -> Option<u32> {
    match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            problems.expected(path, &format!("a whole number from {min} to {max}"), value);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_read_from_their_text_not_through_binary_floats() {
        let v = json!(0.0008);
        let Value::Number(n) = &v else { unreachable!() };
        assert_eq!(number_to_decimal(n), Some(Decimal::new(8, 4)));
        let Value::Number(n) = json!(1.0) else {
            unreachable!()
        };
        assert_eq!(number_to_decimal(&n), Some(Decimal::new(10, 1)));
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let v = json!("x".repeat(100));
        assert_eq!(shown(&v).chars().count(), 40);
    }

    #[test]
    fn whole_refuses_fractions_and_out_of_range() {
        let mut p = Problems::default();
        assert_eq!(whole(&json!(30), "m", 0, 1440, &mut p), Some(30));
        assert_eq!(whole(&json!(30.0), "m", 0, 1440, &mut p), None);
        assert_eq!(whole(&json!(-1), "m", 0, 1440, &mut p), None);
        assert_eq!(whole(&json!(1441), "m", 0, 1440, &mut p), None);
        assert_eq!(p.0.len(), 3);
        assert_eq!(
            p.0[0].to_string(),
            "m: expected a whole number from 0 to 1440, got 30.0"
        );
    }
}
