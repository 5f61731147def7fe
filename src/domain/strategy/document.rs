//! Strategy documents as files: `tradedesk strategies import` / `export` and the `$EDITOR`
//! edit. Every field is checked strictly before anything is written; any problem anywhere
//! means no strategy is returned, and every problem is named by its JSON path.

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{RulesJson, Strategy};
use crate::domain::numeric::{NumericColumn, parse_plain_decimal};

/// `rr_expectation NUMERIC(5,2)`.
const RR: NumericColumn = NumericColumn::new(5, 2);

/// The fields of a strategy document.
const FIELDS: [&str; 10] = [
    "id",
    "name",
    "is_active",
    "allowed_symbols",
    "session_windows",
    "entry_conditions",
    "exit_rules",
    "forbidden_conditions",
    "risk_caps",
    "rr_expectation",
];

/// A strategy document that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategySpec {
    pub id: Option<Uuid>,
    pub name: String,
    pub is_active: bool,
    pub allowed_symbols: Vec<String>,
    /// Written back exactly as given: the platform's evaluator reads them.
    pub rules: RulesJson,
    pub rr_expectation: Decimal,
    /// Keys of the evaluator's documents tradedesk does not know (kept), with their paths.
    pub notes: Vec<String>,
}

impl StrategySpec {
    /// True when saving this over `stored` would change nothing.
    pub fn same_as(&self, stored: &Strategy) -> bool {
        self.name == stored.name
            && self.is_active == stored.is_active
            && self.allowed_symbols == stored.allowed_symbols
            && self.rules == stored.documents
            && self.rr_expectation == stored.rr_expectation
    }
}

/// Why a file of strategy documents was refused; nothing of it is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error("{0}")]
    Shape(&'static str),
    #[error("nothing was imported: {}", .0.join("; "))]
    Problems(Vec<String>),
}

/// Reads a strategy document, or a list of them (`[…]` or `{"strategies": […]}`), and
/// checks every field. Every problem is reported with its JSON path; any problem means
/// nothing is returned. A document without `is_active` makes a disabled strategy: a rule
/// set starts trading only when someone says so.
pub fn parse_documents(text: &str) -> Result<Vec<StrategySpec>, DocumentError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| DocumentError::NotJson(e.to_string()))?;
    let (items, prefix): (Vec<&Value>, &str) = match &value {
        Value::Array(items) => (items.iter().collect(), "[]"),
        Value::Object(map) if map.contains_key("strategies") && map.len() == 1 => {
            match &map["strategies"] {
                Value::Array(items) => (items.iter().collect(), "strategies[]"),
                _ => {
                    return Err(DocumentError::Shape(
                        "strategies: expected a list of strategy objects",
                    ));
                }
            }
        }
        Value::Object(_) => (vec![&value], ""),
        _ => {
            return Err(DocumentError::Shape(
                "expected a strategy object, or a list of them",
            ));
        }
    };
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let path = match prefix {
            "" => String::new(),
            p => format!("{}[{n}].", p.trim_end_matches("[]")),
        };
        match parse_spec(item, &path) {
            Ok(spec) => specs.push(spec),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if specs.is_empty() && problems.is_empty() {
        problems.push("the file holds no strategy".into());
    }
    if problems.is_empty() {
        Ok(specs)
    } else {
        Err(DocumentError::Problems(problems))
    }
}

fn parse_spec(value: &Value, path: &str) -> Result<StrategySpec, Vec<String>> {
    let mut problems = Vec::new();
    let Some(map) = value.as_object() else {
        return Err(vec![format!("{path}: expected a strategy object")]);
    };
    for key in map.keys() {
        if !FIELDS.contains(&key.as_str()) {
            problems.push(format!(
                "{path}{key}: unknown field (the fields are {})",
                FIELDS.join(", ")
            ));
        }
    }
    let id = match map.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                problems.push(format!("{path}id: expected a UUID, got \"{s}\""));
                None
            }
        },
        Some(other) => {
            problems.push(format!("{path}id: expected a UUID string, got {other}"));
            None
        }
    };
    let name = match map.get("name") {
        // A name is shown on every desk and kept in the audit: nothing in it may act on a
        // terminal or hide from one.
        Some(Value::String(s)) if !s.trim().is_empty() => {
            if let Some(hidden) = crate::domain::text::Hidden::find(s) {
                problems.push(format!(
                    "{path}name: holds {hidden}, which a terminal would act on or not show"
                ));
            }
            s.clone()
        }
        _ => {
            problems.push(format!("{path}name: expected a non-empty string"));
            String::new()
        }
    };
    let is_active = match map.get("is_active") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            problems.push(format!(
                "{path}is_active: expected true or false, got {other}"
            ));
            false
        }
    };
    let allowed_symbols = symbols(map, path, &mut problems);
    let (rules, notes) = rules(map, path, &mut problems);
    let rr_expectation = rr(map, path, &mut problems);
    if problems.is_empty() {
        Ok(StrategySpec {
            id,
            name,
            is_active,
            allowed_symbols,
            rules,
            rr_expectation,
            notes,
        })
    } else {
        Err(problems)
    }
}

fn symbols(map: &Map<String, Value>, path: &str, problems: &mut Vec<String>) -> Vec<String> {
    let Some(Value::Array(items)) = map.get("allowed_symbols") else {
        problems.push(format!(
            "{path}allowed_symbols: expected a list of symbols such as [\"EURUSD\"]"
        ));
        return Vec::new();
    };
    if items.is_empty() {
        problems.push(format!(
            "{path}allowed_symbols: expected at least one symbol"
        ));
    }
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        match item.as_str() {
            // Kept as written: the platform matches symbols as its collectors spell them.
            Some(s)
                if !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) =>
            {
                out.push(s.to_owned());
            }
            _ => problems.push(format!(
                "{path}allowed_symbols[{n}]: expected a symbol such as \"EURUSD\", got {item}"
            )),
        }
    }
    out
}

fn rules(
    map: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<String>,
) -> (RulesJson, Vec<String>) {
    let get = |key: &str| map.get(key).cloned().unwrap_or(Value::Null);
    let rules = RulesJson {
        session_windows: get("session_windows"),
        entry_conditions: get("entry_conditions"),
        exit_rules: get("exit_rules"),
        forbidden_conditions: get("forbidden_conditions"),
        risk_caps: get("risk_caps"),
    };
    let notes = match rules.parse() {
        Ok(parsed) => parsed.notes.iter().map(|n| format!("{path}{n}")).collect(),
        Err(e) => {
            problems.extend(e.problems.iter().map(|p| format!("{path}{p}")));
            Vec::new()
        }
    };
    (rules, notes)
}

fn rr(map: &Map<String, Value>, path: &str, problems: &mut Vec<String>) -> Decimal {
    let text = match map.get("rr_expectation") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let value = parse_plain_decimal(&text)
        .filter(|d| *d >= Decimal::ZERO)
        .and_then(|d| RR.fit(d).ok());
    value.unwrap_or_else(|| {
        problems.push(format!(
            "{path}rr_expectation: expected a reward-to-risk ratio from 0 to 999.99 with at \
             most 2 decimal places, such as 2.50"
        ));
        Decimal::ZERO
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(name: &str) -> String {
        serde_json::json!({
            "name": name,
            "allowed_symbols": ["EURUSD"],
            "session_windows": [{"start": "07:00Z", "end": "10:00Z", "days": ["Mon"]}],
            "entry_conditions": {},
            "exit_rules": {},
            "forbidden_conditions": {},
            "risk_caps": {},
            "rr_expectation": 2.0,
        })
        .to_string()
    }

    #[test]
    fn a_name_with_a_control_bidi_or_invisible_character_is_refused_by_its_path() {
        assert_eq!(
            parse_documents(&document("London — breakout")).unwrap()[0].name,
            "London — breakout"
        );
        for (name, said) in [
            ("evil\u{1b}]0;pwned\u{7}", "U+001B (ESC"),
            ("London\u{202e}tuokaerb", "U+202E (a bidi control"),
            ("zero\u{200b}width", "U+200B (an invisible character)"),
            ("two\nlines", "U+000A (a line break)"),
        ] {
            let e = parse_documents(&document(name)).unwrap_err().to_string();
            assert!(e.starts_with("nothing was imported: name: holds "), "{e}");
            assert!(e.contains(said), "{e}");
            assert!(!e.contains(name), "the refusal shows nothing hidden: {e}");
        }
    }
}
