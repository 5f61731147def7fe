//! A strategy's rules, typed: the five JSON columns of `strategies` read against a strict
//! schema, so malformed rules are caught when read and never reach the gate (PLATFORM.md §4).
//!
//! Reading is all or nothing: a rule set with any problem yields every problem, each with
//! its JSON path (`session_windows[0].start: expected "HH:MMZ" …`), and no rules at all.
//! Unknown keys are problems too, except in `entry_conditions`, which is an open map (see
//! [`EntryConditions`]). [`StrategyRules::to_json`] writes the same documents back.

mod json;
mod rules;
mod session;

use std::fmt;

use serde_json::Value;

pub use rules::{
    ConditionValue, EntryConditions, ExitRules, ForbiddenConditions, MAX_HOLD_MINUTES,
    MAX_NEWS_MINUTES, RiskCaps,
};
pub use session::{DAY_NAMES, SessionWindow, TimeOfDay, day_name};

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
}

/// One thing wrong in a rule document, where it is and what was expected.
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
                })
            }
            _ => Err(StrategyRulesError {
                problems: problems.0,
            }),
        }
    }
}

impl StrategyRules {
    /// The rules as the five JSON documents the `strategies` row stores.
    pub fn to_json(&self) -> RulesJson {
        RulesJson {
            session_windows: Value::Array(
                self.session_windows
                    .iter()
                    .map(SessionWindow::to_json)
                    .collect(),
            ),
            entry_conditions: self.entry_conditions.to_json(),
            exit_rules: self.exit_rules.to_json(),
            forbidden_conditions: self.forbidden_conditions.to_json(),
            risk_caps: self.risk_caps.to_json(),
        }
    }

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

    /// The "London breakout" row of tests/fixtures/phase1_rows.sql, verbatim.
    fn london_breakout() -> RulesJson {
        let doc = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        RulesJson {
            session_windows: doc(
                r#"[{"start": "07:00Z", "end": "11:00Z", "days": ["mon", "tue", "wed", "thu", "fri"]}]"#,
            ),
            entry_conditions: doc(r#"{"breakout_of": "asian_range", "min_atr": 0.0008}"#),
            exit_rules: doc(r#"{"take_profit_r": [1.5, 3.0], "trail_after_r": 1.0}"#),
            forbidden_conditions: doc(
                r#"{"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["GBPUSD"]}"#,
            ),
            risk_caps: doc(r#"{"max_lot_size": 0.50, "max_concurrent_positions": 2}"#),
        }
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_fixture_strategy_parses() {
        let rules = london_breakout().parse().unwrap();
        assert_eq!(rules.session_windows.len(), 1);
        assert_eq!(rules.session_windows[0].start.to_string(), "07:00Z");
        assert_eq!(rules.session_windows[0].days.len(), 5);
        assert_eq!(
            rules.entry_conditions.0["min_atr"],
            ConditionValue::Number(dec("0.0008"))
        );
        assert_eq!(
            rules.entry_conditions.0["breakout_of"].to_string(),
            "asian_range"
        );
        assert_eq!(
            rules.exit_rules.take_profit_r,
            Some(vec![dec("1.5"), dec("3.0")])
        );
        assert_eq!(rules.exit_rules.trail_after_r, Some(Decimal::ONE));
        assert_eq!(
            rules.forbidden_conditions.block_high_impact_news_minutes,
            Some(30)
        );
        assert_eq!(rules.risk_caps.max_lot_size, Some(dec("0.5")));
        assert_eq!(rules.risk_caps.max_concurrent_positions, Some(2));
    }

    #[test]
    fn fixture_round_trips_through_json_unchanged() {
        let stored = london_breakout();
        let rules = stored.parse().unwrap();
        assert_eq!(rules.to_json(), stored);
        assert_eq!(rules.to_json().parse(), Ok(rules));
    }

    #[test]
    fn a_full_rule_set_round_trips() {
        let stored = RulesJson {
            session_windows: json!([
                {"start": "22:00Z", "end": "02:00Z", "days": ["sun", "mon"]},
                {"start": "00:00Z", "end": "24:00Z", "days": ["sat"]}
            ]),
            entry_conditions: json!({"sides": ["buy", "sell"], "need_volume": true, "levels": [1, 2.5]}),
            exit_rules: json!({"take_profit_r": [1, 2], "trail_after_r": 1.2,
                               "break_even_after_r": 0.8, "max_hold_minutes": 240}),
            forbidden_conditions: json!({"block_high_impact_news_minutes": 0}),
            risk_caps: json!({}),
        };
        let rules = stored.parse().unwrap();
        assert_eq!(rules.to_json(), stored);
    }

    #[test]
    fn malformed_rules_report_every_problem_with_its_path_and_no_rules() {
        let stored = RulesJson {
            session_windows: json!([{"start": "7am", "end": "11:00Z", "days": ["mon"]}]),
            entry_conditions: json!({"nested": {"a": 1}, "ok": 1, "bad_list": [[1]]}),
            exit_rules: json!({"take_profit_r": [3.0, 1.5, -1], "trail": 1}),
            forbidden_conditions: json!({"block_high_impact_news_minutes": -5,
                                         "blocked_symbols_during_news": ["GBP USD"]}),
            risk_caps: json!({"max_lot_size": 0, "max_concurrent_positions": 0}),
        };
        let err = stored.parse().unwrap_err();
        let msgs: Vec<_> = err.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "session_windows[0].start: expected \"HH:MMZ\" from 00:00Z to 23:59Z, got \"7am\"",
                "entry_conditions.bad_list[0]: expected text, a number, true/false or a flat list of them, got [1]",
                "entry_conditions.nested: expected text, a number, true/false or a flat list of them, got {\"a\":1}",
                "exit_rules.trail: unknown key; expected one of take_profit_r, trail_after_r, break_even_after_r, max_hold_minutes",
                "exit_rules.take_profit_r[2]: expected a number greater than 0, got -1",
                "forbidden_conditions.block_high_impact_news_minutes: expected a whole number from 0 to 1440, got -5",
                "forbidden_conditions.blocked_symbols_during_news[0]: expected a symbol such as \"GBPUSD\", got \"GBP USD\"",
                "risk_caps.max_lot_size: expected a number greater than 0, got 0",
                "risk_caps.max_concurrent_positions: expected a whole number from 1 to 2147483647, got 0",
            ]
        );
        assert!(
            err.to_string()
                .starts_with("the strategy's rules are malformed: session_windows[0].start")
        );
    }

    #[test]
    fn an_unknown_key_alone_makes_the_rules_malformed() {
        let mut stored = london_breakout();
        stored.risk_caps = json!({"max_lot_size": 0.5, "max_lots": 1});
        let err = stored.parse().unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].path, "risk_caps.max_lots");
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
    fn falling_profit_targets_are_refused() {
        let mut stored = london_breakout();
        stored.exit_rules = json!({"take_profit_r": [3.0, 1.5]});
        let err = stored.parse().unwrap_err();
        assert_eq!(
            err.problems[0].to_string(),
            "exit_rules.take_profit_r[1]: targets must rise: 1.5 is not above 3.0"
        );
    }

    #[test]
    fn blocked_symbols_need_a_news_window() {
        let mut stored = london_breakout();
        stored.forbidden_conditions = json!({"blocked_symbols_during_news": ["GBPUSD"]});
        let err = stored.parse().unwrap_err();
        assert_eq!(
            err.problems[0].path,
            "forbidden_conditions.blocked_symbols_during_news"
        );
    }

    #[test]
    fn in_session_checks_every_window() {
        let mut stored = london_breakout();
        stored.session_windows = json!([
            {"start": "07:00Z", "end": "11:00Z", "days": ["mon"]},
            {"start": "13:00Z", "end": "16:00Z", "days": ["tue"]}
        ]);
        let rules = stored.parse().unwrap();
        assert!(rules.in_session("2025-10-28T14:00:00Z".parse().unwrap()));
        assert!(!rules.in_session("2025-10-28T08:00:00Z".parse().unwrap()));
    }
}
