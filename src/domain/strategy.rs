//! A strategy's rules, typed: the five JSON columns of `strategies` read against the
//! platform's own documents (docs/platform.md, "Strategy documents"), so malformed rules are
//! caught when read and never reach the Gate.
//!
//! The documents are the truth: tradedesk writes back what it was given, never a
//! re-generated document, so key order, number spelling and keys it does not know survive
//! every round trip. [`StrategyRules`] is a typed view for the Gate, the confidence score
//! and the screens.
//!
//! Reading is all or nothing: a rule set with any problem yields every problem, each with
//! its JSON path (`session_windows[0].days[0]: expected Mon, got "mon" …`), and no rules.
//! Keys of the evaluator's vocabulary that tradedesk does not know are kept and listed as
//! [`StrategyRules::notes`], never problems.

pub mod document;
mod json;
pub mod legacy;
mod rules;
mod session;
mod words;

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

pub use rules::{EntryConditions, ExitRules, ForbiddenConditions, MAX_NEWS_MINUTES, RiskCaps};
pub use session::{DAY_NAMES, SessionWindow, TimeOfDay, day_name};
pub use words::RulesInWords;

/// A strategy (`strategies`): its documents as stored, and those documents read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    pub id: Uuid,
    pub name: String,
    pub is_active: bool,
    pub allowed_symbols: Vec<String>,
    /// The five documents exactly as stored; what tradedesk writes back.
    pub documents: RulesJson,
    pub rr_expectation: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The documents read, once, when the strategy was made ([`Strategy::new`]); a strategy
    /// whose documents do not read cannot trade.
    pub rules: Result<StrategyRules, StrategyRulesError>,
}

/// A strategy's fields as stored, before its documents are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyFields {
    pub id: Uuid,
    pub name: String,
    pub is_active: bool,
    pub allowed_symbols: Vec<String>,
    pub documents: RulesJson,
    pub rr_expectation: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl super::stored::Entity for Strategy {
    fn id(&self) -> Uuid {
        self.id
    }
    fn at(&self) -> super::stored::Stamp {
        self.created_at.into()
    }
}

impl Strategy {
    /// The strategy, its documents read.
    pub fn new(f: StrategyFields) -> Strategy {
        let rules = f.documents.parse();
        Strategy {
            id: f.id,
            name: f.name,
            is_active: f.is_active,
            allowed_symbols: f.allowed_symbols,
            documents: f.documents,
            rr_expectation: f.rr_expectation,
            created_at: f.created_at,
            updated_at: f.updated_at,
            rules,
        }
    }

    /// The rules, when the documents read.
    pub fn parsed(&self) -> Option<&StrategyRules> {
        self.rules.as_ref().ok()
    }

    /// The strategy as a document that `strategies import` reads back.
    pub fn to_document(&self) -> Value {
        let d = &self.documents;
        json!({
            "id": self.id,
            "name": self.name,
            "is_active": self.is_active,
            "allowed_symbols": self.allowed_symbols,
            "session_windows": d.session_windows,
            "entry_conditions": d.entry_conditions,
            "exit_rules": d.exit_rules,
            "forbidden_conditions": d.forbidden_conditions,
            "risk_caps": d.risk_caps,
            "rr_expectation": self.rr_expectation.to_string(),
        })
    }
}

/// The five rule documents of one `strategies` row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesJson {
    pub session_windows: Value,
    pub entry_conditions: Value,
    pub exit_rules: Value,
    pub forbidden_conditions: Value,
    pub risk_caps: Value,
}

/// A strategy's rules, every part checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyRules {
    /// When the strategy may trade; never empty.
    pub session_windows: Vec<SessionWindow>,
    pub entry_conditions: EntryConditions,
    pub exit_rules: ExitRules,
    pub forbidden_conditions: ForbiddenConditions,
    pub risk_caps: RiskCaps,
    /// Keys of the evaluator's documents tradedesk does not know, kept as written.
    pub notes: Vec<RuleProblem>,
}

/// One thing wrong (or, as a note, unknown) in a rule document, where it is and what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    /// JSON path from the column name: `session_windows[0].start`.
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem of a malformed rule set, in document order (columns as in the table).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the strategy's rules are malformed: {}",
    self.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
)]
pub struct StrategyRulesError {
    pub problems: Vec<RuleProblem>,
}

impl RulesJson {
    /// Reads all five documents; any problem anywhere means no rules, and every problem
    /// is listed.
    pub fn parse(&self) -> Result<StrategyRules, StrategyRulesError> {
        let mut problems = json::Problems::default();
        let session_windows = session::parse_windows(&self.session_windows, &mut problems);
        let entry_conditions = rules::parse_entry(&self.entry_conditions, &mut problems);
        let exit_rules = rules::parse_exit(&self.exit_rules, &mut problems);
        let forbidden_conditions =
            rules::parse_forbidden(&self.forbidden_conditions, &mut problems);
        let risk_caps = rules::parse_caps(&self.risk_caps, &mut problems);
        match (
            session_windows,
            entry_conditions,
            exit_rules,
            forbidden_conditions,
            risk_caps,
        ) {
            (Some(s), Some(en), Some(ex), Some(f), Some(r)) if problems.0.is_empty() => {
                Ok(StrategyRules {
                    session_windows: s,
                    entry_conditions: en,
                    exit_rules: ex,
                    forbidden_conditions: f,
                    risk_caps: r,
                    notes: problems.1,
                })
            }
            _ => Err(StrategyRulesError {
                problems: problems.0,
            }),
        }
    }
}

impl StrategyRules {
    /// True when `now` is inside one of the session windows.
    pub fn in_session(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.session_windows.iter().any(|w| w.contains(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use serde_json::json;

    /// Every example of the platform's strategy documents, with variations (a window across
    /// midnight, one day, `take_profit` as one string, unknown evaluator keys).
    const PLATFORM: &str = include_str!("../../tests/fixtures/platform_strategies.json");

    fn platform() -> Vec<(String, RulesJson)> {
        let doc: Value = serde_json::from_str(PLATFORM).unwrap();
        doc["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_owned(),
                    RulesJson {
                        session_windows: s["session_windows"].clone(),
                        entry_conditions: s["entry_conditions"].clone(),
                        exit_rules: s["exit_rules"].clone(),
                        forbidden_conditions: s["forbidden_conditions"].clone(),
                        risk_caps: s["risk_caps"].clone(),
                    },
                )
            })
            .collect()
    }

    fn gold() -> RulesJson {
        platform().remove(0).1
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn problems(rules: &RulesJson) -> Vec<String> {
        rules
            .parse()
            .unwrap_err()
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_platform_document_reads_as_valid() {
        for (name, rules) in platform() {
            let parsed = rules.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
            let notes: Vec<_> = parsed.notes.iter().map(|n| n.path.as_str()).collect();
            let expected: &[&str] = if name == "Friday NFP fade" {
                &["entry_conditions.volume_spike_x", "exit_rules.trail_stop"]
            } else {
                &[]
            };
            assert_eq!(notes, expected, "{name}");
        }
    }

    #[test]
    fn the_gates_parts_are_typed_from_the_platform_example() {
        let rules = gold().parse().unwrap();
        let w = &rules.session_windows[0];
        assert_eq!(
            (w.start.to_string().as_str(), w.end.to_string().as_str()),
            ("07:00Z", "11:00Z")
        );
        assert_eq!(w.days.len(), 5);
        assert_eq!(
            rules.forbidden_conditions.block_high_impact_news_minutes,
            Some(5)
        );
        assert_eq!(
            rules.forbidden_conditions.blocked_currencies,
            Some(vec!["USD".to_owned(), "GBP".to_owned()])
        );
        assert_eq!(rules.risk_caps.max_lot_size, Some(dec("1.0")));
        assert_eq!(rules.risk_caps.max_concurrent_positions, Some(2));
        assert_eq!(
            rules.exit_rules.stop_loss.as_deref(),
            Some("recent_swing_low - 50 cents")
        );
        assert_eq!(
            rules.exit_rules.take_profit,
            ["RR>=2", "key_resistance_zone"]
        );
        assert_eq!(rules.entry_conditions.len(), 3);
    }

    #[test]
    fn take_profit_may_be_one_string() {
        let (_, scalper) = platform().remove(1);
        let rules = scalper.parse().unwrap();
        assert_eq!(rules.exit_rules.take_profit, ["RR>=2"]);
        assert_eq!(rules.exit_rules.time_limit_min, Some(30));
        assert!(rules.session_windows[0].crosses_midnight());
    }

    #[test]
    fn the_evaluators_documents_keep_key_order_and_unknown_keys() {
        let (_, fade) = platform().remove(2);
        let rules = fade.parse().unwrap();
        let keys: Vec<_> = rules
            .exit_rules
            .written
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["take_profit", "stop_loss", "trail_stop"]);
        assert_eq!(rules.exit_rules.written[2].1, json!("after RR>=1"));
        let keys: Vec<_> = rules
            .entry_conditions
            .0
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            keys,
            ["price_rejects_level", "volume_spike_x", "trend_alignment"]
        );
        assert_eq!(
            rules.notes[0].to_string(),
            "entry_conditions.volume_spike_x: not a key tradedesk knows; kept for the evaluator"
        );
        // The stored text keeps the order too (serde_json's preserve_order).
        assert!(
            fade.exit_rules
                .to_string()
                .starts_with(r#"{"take_profit":"#)
        );
    }

    #[test]
    fn lower_case_days_are_refused_with_the_reason() {
        let mut rules = gold();
        rules.session_windows =
            json!([{"start": "07:00Z", "end": "11:00Z", "days": ["mon", "Tue"]}]);
        assert_eq!(
            problems(&rules),
            [
                "session_windows[0].days[0]: expected Mon, got \"mon\": the platform compares day \
              names as written (Mon … Sun), so it would never trade on \"mon\""
            ]
        );
    }

    #[test]
    fn known_evaluator_keys_are_checked_for_type() {
        let mut rules = gold();
        rules.entry_conditions = json!({"rsi_below": "40", "trend_alignment": 1,
                                        "price_rejects_level": "yes", "anything": {"deep": [1]}});
        rules.exit_rules = json!({"stop_loss": "", "take_profit": [], "time_limit_min": 0});
        assert_eq!(
            problems(&rules),
            [
                "entry_conditions.rsi_below: expected a number from 0 to 100, got \"40\"",
                "entry_conditions.trend_alignment: expected a non-empty string, got 1",
                "entry_conditions.price_rejects_level: expected true or false, got \"yes\"",
                "exit_rules.stop_loss: expected a non-empty string, got \"\"",
                "exit_rules.take_profit: expected an expression such as \"RR>=2\", or a non-empty list of them, got []",
                "exit_rules.time_limit_min: expected a whole number of minutes, at least 1, got 0",
            ]
        );
        rules.exit_rules = json!({"take_profit": ["RR>=2", 3], "time_limit_min": 1.5});
        assert_eq!(problems(&rules).len(), 2 + 3);
    }

    #[test]
    fn the_news_block_names_currencies() {
        let mut rules = gold();
        rules.forbidden_conditions = json!({"block_high_impact_news_minutes": 30,
            "blocked_symbols_during_news": ["GBPUSD", "usd", "EUR", "EUR", "US 30"]});
        assert_eq!(
            problems(&rules),
            [
                "forbidden_conditions.blocked_symbols_during_news[0]: \"GBPUSD\" is a symbol, but \
                 this list names currencies (the key says symbols; the platform reads currencies): \
                 write \"GBP\", \"USD\"",
                "forbidden_conditions.blocked_symbols_during_news[1]: expected \"USD\", got \
                 \"usd\": the calendar writes currencies in upper case, so \"usd\" would never \
                 match a release",
                "forbidden_conditions.blocked_symbols_during_news[3]: \"EUR\" is listed twice",
                "forbidden_conditions.blocked_symbols_during_news[4]: expected a currency such as \
                 \"USD\", got \"US 30\"",
            ]
        );
    }

    #[test]
    fn the_gates_documents_refuse_unknown_keys_and_wrong_types() {
        let mut rules = gold();
        rules.forbidden_conditions =
            json!({"block_high_impact_news_minutes": -5, "block_all": true});
        rules.risk_caps = json!({"max_lot_size": 0, "max_concurrent_positions": 0, "max_lots": 1});
        assert_eq!(
            problems(&rules),
            [
                "forbidden_conditions.block_all: unknown key; expected one of block_high_impact_news_minutes, blocked_symbols_during_news",
                "forbidden_conditions.block_high_impact_news_minutes: expected a whole number from 0 to 1440, got -5",
                "risk_caps.max_lots: unknown key; expected one of max_lot_size, max_concurrent_positions",
                "risk_caps.max_lot_size: expected a number greater than 0, got 0",
                "risk_caps.max_concurrent_positions: expected a whole number from 1 to 2147483647, got 0",
            ]
        );
    }

    #[test]
    fn currencies_need_a_news_window() {
        let mut rules = gold();
        rules.forbidden_conditions = json!({"blocked_symbols_during_news": ["USD"]});
        assert_eq!(
            problems(&rules),
            [
                "forbidden_conditions.blocked_symbols_during_news: needs block_high_impact_news_minutes to say how long the block lasts"
            ]
        );
    }

    #[test]
    fn wrong_document_shapes_are_reported_per_column() {
        let stored = RulesJson {
            session_windows: json!({}),
            entry_conditions: json!([]),
            exit_rules: json!(null),
            forbidden_conditions: json!("none"),
            risk_caps: json!(1),
        };
        let paths: Vec<_> = stored
            .parse()
            .unwrap_err()
            .problems
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            [
                "session_windows",
                "entry_conditions",
                "exit_rules",
                "forbidden_conditions",
                "risk_caps"
            ]
        );
    }

    #[test]
    fn in_session_checks_every_window() {
        let mut stored = gold();
        stored.session_windows = json!([
            {"start": "07:00Z", "end": "11:00Z", "days": ["Mon"]},
            {"start": "13:00Z", "end": "16:00Z", "days": ["Tue"]}
        ]);
        let rules = stored.parse().unwrap();
        assert!(rules.in_session("2025-10-28T14:00:00Z".parse().unwrap()));
        assert!(!rules.in_session("2025-10-28T08:00:00Z".parse().unwrap()));
    }
}
