//! Economic-calendar events and the currencies a symbol is exposed to: what the news rules
//! of the gate and of the confidence score need (`snapshot_calendar`, docs/platform.md §1, §3).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};

use super::label::UnknownLabel;

/// How much a calendar release is expected to move the market (`impact_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Impact {
    Low,
    Medium,
    High,
}

impl Impact {
    /// The label the calendar collector writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Impact {
    type Err = UnknownLabel;

    /// Reads `low`, `medium` or `high` exactly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            _ => Err(UnknownLabel {
                kind: "impact level",
                got: s.to_owned(),
                expected: "low, medium, high".to_owned(),
            }),
        }
    }
}

/// One scheduled release from `snapshot_calendar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    pub event_time: DateTime<Utc>,
    /// ISO code such as `USD`.
    pub currency: String,
    pub impact: Impact,
    pub title: String,
}

/// The currencies whose news moves a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Exposed to these currencies only (uppercase codes): base then quote for a pair.
    Currencies(Vec<String>),
    /// The symbol is not recognised: it is treated as exposed to every currency, so an
    /// unknown instrument is blocked by news rather than let through.
    Unknown,
}

/// Index CFDs and the currency each is quoted in. Brokers name indices differently; the
/// common names are listed, anything else is [`Exposure::Unknown`].
const INDICES: &[(&str, &str)] = &[
    ("US30", "USD"),
    ("DJ30", "USD"),
    ("US500", "USD"),
    ("SPX500", "USD"),
    ("US100", "USD"),
    ("NAS100", "USD"),
    ("USTEC", "USD"),
    ("GER40", "EUR"),
    ("GER30", "EUR"),
    ("DE40", "EUR"),
    ("FRA40", "EUR"),
    ("EU50", "EUR"),
    ("STOXX50", "EUR"),
    ("SPA35", "EUR"),
    ("UK100", "GBP"),
    ("JP225", "JPY"),
    ("JPN225", "JPY"),
    ("AUS200", "AUD"),
    ("HK50", "HKD"),
];

/// The currencies `symbol` is exposed to.
///
/// The rule: upper-case the symbol and cut any broker suffix at the first character that is
/// not a letter or digit (`EURUSD.m` → `EURUSD`). Six letters are a pair, base then quote:
/// `EURUSD` → EUR and USD, and metals and coins quoted the same way alike (`XAUUSD` → XAU
/// and USD). A known index name gives its quote currency (`US500` → USD, `GER40` → EUR).
/// Anything else is [`Exposure::Unknown`].
pub fn symbol_exposure(symbol: &str) -> Exposure {
    let upper = symbol.trim().to_ascii_uppercase();
    let core: String = upper
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    if core.len() == 6 && core.chars().all(|c| c.is_ascii_alphabetic()) {
        let (base, quote) = core.split_at(3);
        return Exposure::Currencies(vec![base.to_owned(), quote.to_owned()]);
    }
    match INDICES.iter().find(|(name, _)| *name == core) {
        Some((_, currency)) => Exposure::Currencies(vec![(*currency).to_owned()]),
        None => Exposure::Unknown,
    }
}

impl Exposure {
    /// True when news in `currency` moves the symbol.
    pub fn touches(&self, currency: &str) -> bool {
        let currency = currency.trim();
        match self {
            Self::Currencies(list) => list.iter().any(|c| c.eq_ignore_ascii_case(currency)),
            Self::Unknown => true,
        }
    }
}

impl fmt::Display for Exposure {
    /// "EUR or USD", "USD", or "any currency", for reasons.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Currencies(list) => f.write_str(&list.join(" or ")),
            Self::Unknown => f.write_str("any currency"),
        }
    }
}

/// The event of at least `impact` within `window` of `now` (before or after, inclusive)
/// that `relevant` accepts and that lies nearest to `now`.
///
/// Ties are broken by time, currency and title, so the answer does not depend on the order
/// the events were read in.
pub fn nearest_event(
    events: &[CalendarEvent],
    now: DateTime<Utc>,
    window: TimeDelta,
    impact: Impact,
    relevant: impl Fn(&CalendarEvent) -> bool,
) -> Option<&CalendarEvent> {
    events
        .iter()
        .filter(|e| e.impact >= impact && relevant(e))
        .map(|e| ((e.event_time - now).abs(), e))
        .filter(|(distance, _)| *distance <= window)
        .min_by(|(da, a), (db, b)| {
            (da, a.event_time, &a.currency, &a.title).cmp(&(
                db,
                b.event_time,
                &b.currency,
                &b.title,
            ))
        })
        .map(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn event(time: &str, currency: &str, impact: Impact, title: &str) -> CalendarEvent {
        CalendarEvent {
            event_time: at(time),
            currency: currency.to_owned(),
            impact,
            title: title.to_owned(),
        }
    }

    #[test]
    fn a_six_letter_pair_is_exposed_to_both_currencies() {
        let e = symbol_exposure("EURUSD");
        assert!(e.touches("EUR") && e.touches("usd"));
        assert!(!e.touches("GBP"));
        assert_eq!(e.to_string(), "EUR or USD");
    }

    #[test]
    fn metals_read_like_pairs() {
        assert_eq!(
            symbol_exposure("XAUUSD"),
            Exposure::Currencies(vec!["XAU".into(), "USD".into()])
        );
    }

    #[test]
    fn broker_suffixes_are_cut() {
        assert_eq!(
            symbol_exposure("gbpjpy.m"),
            Exposure::Currencies(vec!["GBP".into(), "JPY".into()])
        );
    }

    #[test]
    fn known_indices_follow_their_quote_currency() {
        assert_eq!(symbol_exposure("US500").to_string(), "USD");
        assert_eq!(symbol_exposure("GER40").to_string(), "EUR");
    }

    #[test]
    fn unknown_symbols_are_exposed_to_every_currency() {
        let e = symbol_exposure("WEIRD1");
        assert_eq!(e, Exposure::Unknown);
        assert!(e.touches("NZD"));
    }

    #[test]
    fn impact_labels_round_trip() {
        for i in [Impact::Low, Impact::Medium, Impact::High] {
            assert_eq!(i.as_str().parse::<Impact>(), Ok(i));
        }
        assert!("HIGH".parse::<Impact>().is_err());
    }

    #[test]
    fn nearest_event_looks_both_ways_and_ignores_lower_impact() {
        let events = [
            event("2025-10-28T14:30:00Z", "USD", Impact::High, "PCE"),
            event("2025-10-28T14:05:00Z", "USD", Impact::Medium, "Claims"),
            event("2025-10-28T13:50:00Z", "EUR", Impact::High, "ECB"),
        ];
        let now = at("2025-10-28T14:00:00Z");
        let found = nearest_event(&events, now, TimeDelta::minutes(30), Impact::High, |_| true);
        assert_eq!(found.map(|e| e.title.as_str()), Some("ECB"));
        let none = nearest_event(&events, now, TimeDelta::minutes(5), Impact::High, |_| true);
        assert_eq!(none, None);
    }

    #[test]
    fn nearest_event_window_is_inclusive() {
        let events = [event("2025-10-28T14:30:00Z", "USD", Impact::High, "PCE")];
        let now = at("2025-10-28T14:00:00Z");
        assert!(
            nearest_event(&events, now, TimeDelta::minutes(30), Impact::High, |_| true).is_some()
        );
        assert!(
            nearest_event(&events, now, TimeDelta::minutes(29), Impact::High, |_| true).is_none()
        );
    }

    #[test]
    fn nearest_event_ties_do_not_depend_on_input_order() {
        let a = event("2025-10-28T14:10:00Z", "USD", Impact::High, "A");
        let b = event("2025-10-28T13:50:00Z", "EUR", Impact::High, "B");
        let now = at("2025-10-28T14:00:00Z");
        let w = TimeDelta::minutes(30);
        let one = [a.clone(), b.clone()];
        let two = [b, a];
        assert_eq!(
            nearest_event(&one, now, w, Impact::High, |_| true),
            nearest_event(&two, now, w, Impact::High, |_| true)
        );
    }
}
