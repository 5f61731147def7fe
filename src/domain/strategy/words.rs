//! A strategy's rules in plain words, for the console's strategy pane and
//! `tradedesk strategies show`: what a trader reads instead of JSON.

use chrono::Weekday;
use serde_json::Value;

use super::session::day_name;
use super::{SessionWindow, StrategyRules};
use crate::domain::numeric::Shown;

/// A strategy's rules in plain words, one line per part, made once when the rules are read
/// so that screens only show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesInWords {
    pub sessions: String,
    pub caps: String,
    pub news: String,
    pub entry: String,
    pub exits: String,
    /// The notes on unknown keys, `path: message`.
    pub notes: Vec<String>,
}

impl StrategyRules {
    /// Every part in plain words.
    pub fn in_words(&self) -> RulesInWords {
        RulesInWords {
            sessions: self.sessions_in_words(),
            caps: self.caps_in_words(),
            news: self.news_in_words(),
            entry: self.entry_in_words(),
            exits: self.exits_in_words(),
            notes: self.notes.iter().map(ToString::to_string).collect(),
        }
    }

    /// `Mon–Fri 07:00–11:00 UTC`, windows joined by `; `.
    pub fn sessions_in_words(&self) -> String {
        let windows: Vec<String> = self.session_windows.iter().map(window_in_words).collect();
        windows.join("; ")
    }

    /// `at most 1.0 lot and 2 positions`, or that it sets no caps of its own.
    pub fn caps_in_words(&self) -> String {
        let caps = &self.risk_caps;
        let mut parts = Vec::new();
        if let Some(lot) = caps.max_lot_size {
            parts.push(format!("{} lot", Shown(lot)));
        }
        if let Some(n) = caps.max_concurrent_positions {
            parts.push(format!(
                "{n} position{} at once",
                if n == 1 { "" } else { "s" }
            ));
        }
        if parts.is_empty() {
            "no caps of its own (risk_config's apply)".to_owned()
        } else {
            format!("at most {}", parts.join(" and "))
        }
    }

    /// `no new trade 5 min before or after high-impact USD, GBP news`.
    pub fn news_in_words(&self) -> String {
        let f = &self.forbidden_conditions;
        match (f.block_high_impact_news_minutes, &f.blocked_currencies) {
            (None, _) | (Some(0), _) => "no news block".to_owned(),
            (Some(m), Some(list)) if list.is_empty() => {
                format!("a {m}-minute news block listing no currency, so none applies")
            }
            (Some(m), Some(list)) => format!(
                "no new trade {m} min before or after high-impact {} news",
                list.join(", ")
            ),
            (Some(m), None) => format!(
                "no new trade {m} min before or after high-impact news in the symbol's currencies"
            ),
        }
    }

    /// `stop recent_swing_low - 50 cents · take profit RR>=2, key_resistance_zone · close
    /// after 30 min`, then any other key as `key value`.
    pub fn exits_in_words(&self) -> String {
        let exit = &self.exit_rules;
        let mut parts = Vec::new();
        for (key, value) in &exit.written {
            match key.as_str() {
                "stop_loss" => parts.push(format!("stop {}", plain(value))),
                "take_profit" => parts.push(format!("take profit {}", exit.take_profit.join(", "))),
                "time_limit_min" => parts.push(format!("close after {} min", plain(value))),
                _ => parts.push(format!("{key} {}", plain(value))),
            }
        }
        if parts.is_empty() {
            "no exit rules".to_owned()
        } else {
            parts.join(" · ")
        }
    }

    /// `trend_alignment bullish · rsi_below 40 · price_rejects_level`, as written.
    pub fn entry_in_words(&self) -> String {
        let parts: Vec<String> = self
            .entry_conditions
            .0
            .iter()
            .map(|(key, value)| match value {
                Value::Bool(true) => key.clone(),
                Value::Bool(false) => format!("not {key}"),
                other => format!("{key} {}", plain(other)),
            })
            .collect();
        if parts.is_empty() {
            "no entry conditions".to_owned()
        } else {
            parts.join(" · ")
        }
    }
}

/// A JSON value as a trader would write it: strings unquoted, lists comma-separated.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// One window: `Mon–Fri 07:00–11:00 UTC`, or `Sun 22:00–02:00 (next day) UTC`.
fn window_in_words(w: &SessionWindow) -> String {
    let hhmm = |t: super::TimeOfDay| {
        let s = t.to_string();
        s.trim_end_matches('Z').to_owned()
    };
    let next_day = if w.crosses_midnight() {
        " (next day)"
    } else {
        ""
    };
    format!(
        "{} {}–{}{next_day} UTC",
        days_in_words(&w.days),
        hhmm(w.start),
        hhmm(w.end)
    )
}

/// Days as runs around the week, runs of three or more shortened: `Mon–Fri`, `Sun–Thu`
/// (the FX week, which opens on Sunday night), `Tue, Sun`, `every day`. The week is read
/// from the day after the first day missing, so a run is never cut at Sunday.
fn days_in_words(days: &[Weekday]) -> String {
    let listed = |n: u32| days.iter().any(|d| d.num_days_from_monday() == n % 7);
    let Some(missing) = (0..7).find(|n| !listed(*n)) else {
        return "every day".to_owned();
    };
    let name = |n: u32| Weekday::try_from((n % 7) as u8).map_or("?", day_name);
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for n in (missing + 1..missing + 8).filter(|n| listed(*n)) {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    let mut parts = Vec::new();
    for (start, end) in runs {
        if end >= start + 2 {
            parts.push(format!("{}–{}", name(start), name(end)));
        } else {
            parts.extend((start..=end).map(|n| name(n).to_owned()));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::domain::strategy::RulesJson;

    #[test]
    fn days_read_as_runs_around_the_week() {
        use chrono::Weekday::*;
        assert_eq!(super::days_in_words(&[Mon, Tue, Wed, Thu, Fri]), "Mon–Fri");
        assert_eq!(super::days_in_words(&[Sun, Mon, Tue, Wed, Thu]), "Sun–Thu");
        assert_eq!(super::days_in_words(&[Fri, Sat, Sun, Mon]), "Fri–Mon");
        assert_eq!(super::days_in_words(&[Tue, Sun]), "Tue, Sun");
        assert_eq!(super::days_in_words(&[Sat, Sun]), "Sat, Sun");
        assert_eq!(
            super::days_in_words(&[Mon, Tue, Wed, Thu, Fri, Sat, Sun]),
            "every day"
        );
    }

    #[test]
    fn the_platform_example_reads_in_plain_words() {
        let rules = RulesJson {
            session_windows: json!([
                {"start": "07:00Z", "end": "11:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]},
                {"start": "22:00Z", "end": "02:00Z", "days": ["Sun", "Tue"]}
            ]),
            entry_conditions: json!({"trend_alignment": "bullish", "rsi_below": 40, "price_rejects_level": true}),
            exit_rules: json!({"stop_loss": "recent_swing_low - 50 cents",
                               "take_profit": ["RR>=2", "key_resistance_zone"], "time_limit_min": 30}),
            forbidden_conditions: json!({"block_high_impact_news_minutes": 5,
                                         "blocked_symbols_during_news": ["USD", "GBP"]}),
            risk_caps: json!({"max_lot_size": 1.0, "max_concurrent_positions": 2}),
        }
        .parse()
        .unwrap();
        assert_eq!(
            rules.sessions_in_words(),
            "Mon–Fri 07:00–11:00 UTC; Tue, Sun 22:00–02:00 (next day) UTC"
        );
        assert_eq!(
            rules.caps_in_words(),
            "at most 1.00 lot and 2 positions at once"
        );
        assert_eq!(
            rules.news_in_words(),
            "no new trade 5 min before or after high-impact USD, GBP news"
        );
        assert_eq!(
            rules.exits_in_words(),
            "stop recent_swing_low - 50 cents · take profit RR>=2, key_resistance_zone · close after 30 min"
        );
        assert_eq!(
            rules.entry_in_words(),
            "trend_alignment bullish · rsi_below 40 · price_rejects_level"
        );
    }
}
