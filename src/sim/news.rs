//! The simulated news feed: what `snapshot_news` holds (docs/platform.md §1).
//!
//! A few headlines an hour on weekdays (more in the London and New York sessions, one now
//! and then at the weekend), each about one of the simulated symbols or about the dollar,
//! from the wires traders read. Calendar releases of medium or high impact get their own
//! headlines: a preview an hour and a half before a high-impact release and the figure
//! against its forecast a minute or two after any of them.
//!
//! The feed is a pure function of the run's seed and time: the headlines of an hour are
//! drawn from a stream of their own, so asking for a window in one call or in many gives
//! the same headlines with the same ids. Headlines do not look at prices (the market is
//! separate), so a headline's tone is not tied to the price's direction.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use uuid::Uuid;

use super::calendar::{self, Event};
use super::market::SYMBOLS;
use super::rng::{Part, SimRng, keyed_uuid};
use crate::domain::Impact;
use crate::domain::market::symbol_exposure;

/// One headline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    pub id: Uuid,
    pub headline: String,
    /// The wire, lower case: `reuters`, `bloomberg`, `fxstreet`, …
    pub source: &'static str,
    /// The symbols the headline is about (`snapshot_news.symbols`).
    pub symbols: Vec<String>,
    pub published_at: DateTime<Utc>,
}

const SOURCES: [&str; 6] = [
    "reuters",
    "bloomberg",
    "fxstreet",
    "forexlive",
    "marketwatch",
    "cnbc",
];

/// Headlines about one symbol.
const ABOUT: &[(&str, &[&str])] = &[
    (
        "XAUUSD",
        &[
            "Gold edges higher as Treasury yields slip",
            "Gold retreats as the dollar firms",
            "Gold holds near highs on steady central-bank buying",
            "Bullion steadies ahead of US data",
            "Gold slips as risk appetite improves",
            "Gold ETF holdings rise for a third week",
            "Gold extends gains on safe-haven demand",
            "Gold pares losses as traders cover shorts",
        ],
    ),
    (
        "EURUSD",
        &[
            "Euro firms after upbeat German sentiment",
            "EUR/USD slips as ECB officials signal caution",
            "Euro steadies as traders weigh the ECB's path",
            "EUR/USD holds its range ahead of the US session",
            "Euro weakens as euro-zone growth worries resurface",
            "EUR/USD climbs as the dollar softens broadly",
        ],
    ),
    (
        "GBPUSD",
        &[
            "Sterling rises as UK wage growth stays firm",
            "Pound slips after soft UK retail figures",
            "GBP/USD steadies as BoE rate bets shift",
            "Sterling extends gains against a softer dollar",
            "Pound dips as gilt yields fall",
        ],
    ),
    (
        "USDJPY",
        &[
            "Yen weakens as the BoJ keeps policy loose",
            "USD/JPY climbs on a wider US-Japan yield gap",
            "Japan's finance ministry warns against rapid yen moves",
            "Yen firms on safe-haven demand",
            "USD/JPY eases as Treasury yields dip",
            "Yen slides to a multi-week low against the dollar",
        ],
    ),
    (
        "US30",
        &[
            "Dow futures rise as earnings beat estimates",
            "Dow slips as industrial shares weigh",
            "Wall Street opens mixed ahead of Fed speakers",
            "Blue chips edge higher on strong bank results",
            "Dow retreats from record as yields climb",
            "Dow futures steady as investors await US data",
        ],
    ),
];

/// Headlines about the dollar: tagged with every symbol that has USD in it.
const ABOUT_THE_DOLLAR: &[&str] = &[
    "Dollar index firms as Treasury yields climb",
    "Dollar slips as traders price in more Fed cuts",
    "Fed official says policy is well positioned",
    "Treasury yields edge lower after a strong auction",
    "Dollar mixed as markets await the next US data",
];

/// How many ordinary headlines an hour at most, by UTC hour: busiest in the London and New
/// York sessions.
fn most_in_hour(at: DateTime<Utc>) -> u64 {
    let weekend = match at.weekday() {
        Weekday::Sat => true,
        Weekday::Sun => at.hour() < 21,
        Weekday::Fri => at.hour() >= 21,
        _ => false,
    };
    match (weekend, at.hour()) {
        (true, _) => 1,
        (false, 7..=16) => 5,
        (false, 0..=6) => 3,
        (false, _) => 2,
    }
}

/// The headlines with `from <= published_at < until`, in time order (then by id).
pub fn headlines_between(seed: u64, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Headline> {
    if until <= from {
        return Vec::new();
    }
    // A release's headlines are generated with the hour of the release but published up
    // to 90 minutes before it (the preview) and 4 minutes after it (the result): the hour
    // before the window and the two after it are generated too, and all are cut by time.
    let first = from.timestamp().div_euclid(3600) - 1;
    let last = until.timestamp().div_euclid(3600) + 2;
    let mut out: Vec<Headline> = (first..=last)
        .flat_map(|hour| hour_headlines(seed, hour))
        .filter(|h| h.published_at >= from && h.published_at < until)
        .collect();
    out.sort_by_key(|h| (h.published_at, h.id));
    out
}

/// Every headline generated for the hour `hour` (hours since the Unix epoch): the ordinary
/// ones of that hour, and those tied to the releases of that hour, which may fall outside it.
fn hour_headlines(seed: u64, hour: i64) -> Vec<Headline> {
    let Some(start) = DateTime::from_timestamp(hour * 3600, 0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rng = SimRng::stream(seed, "news", &[Part::Int(hour)]);
    let count = rng.below(most_in_hour(start) + 1);
    for index in 0..count {
        let second = rng.below(3600) as i64;
        let source = rng.pick(&SOURCES).copied().unwrap_or("reuters");
        // One headline in five is about the dollar, the rest about one symbol.
        let (headline, symbols) = if rng.chance(0.2) {
            let text = rng.pick(ABOUT_THE_DOLLAR).copied().unwrap_or_default();
            (text, exposed_to("USD"))
        } else {
            let Some((symbol, texts)) = rng.pick(ABOUT) else {
                continue;
            };
            let text = rng.pick(texts).copied().unwrap_or_default();
            (text, vec![(*symbol).to_owned()])
        };
        out.push(Headline {
            id: keyed_uuid(seed, "news", &[Part::Int(hour), Part::Int(index as i64)]),
            headline: headline.to_owned(),
            source,
            symbols,
            published_at: start + TimeDelta::seconds(second),
        });
    }
    let end = start + TimeDelta::hours(1);
    for event in calendar::events_between(seed, start, end) {
        out.extend(release_headlines(seed, &event));
    }
    out
}

/// The simulated symbols a release in `currency` moves.
fn exposed_to(currency: &str) -> Vec<String> {
    SYMBOLS
        .iter()
        .filter(|s| symbol_exposure(s).touches(currency))
        .map(|s| (*s).to_owned())
        .collect()
}

/// The preview and the result of a medium or high-impact release.
fn release_headlines(seed: u64, event: &Event) -> Vec<Headline> {
    if event.impact < Impact::Medium {
        return Vec::new();
    }
    let (hi, lo) = event.id.as_u64_pair();
    let key = [Part::Int(hi as i64), Part::Int(lo as i64)];
    let mut rng = SimRng::stream(seed, "news release", &key);
    let symbols = exposed_to(event.currency);
    let mut out = Vec::new();
    if event.impact == Impact::High {
        let source = rng.pick(&SOURCES).copied().unwrap_or("reuters");
        out.push(Headline {
            id: rng.uuid(),
            headline: format!("Traders brace for {} {}", event.currency, event.title),
            source,
            symbols: symbols.clone(),
            published_at: event.event_time - TimeDelta::minutes(90),
        });
    }
    let source = rng.pick(&SOURCES).copied().unwrap_or("reuters");
    let delay = TimeDelta::seconds(30 + rng.below(210) as i64);
    let headline = match (event.actual_value(event.event_time), &event.forecast_value) {
        (Some(actual), Some(forecast)) => format!(
            "{} {} {} vs {} expected",
            event.currency, event.title, actual, forecast
        ),
        (Some(actual), None) => format!("{} {} at {}", event.currency, event.title, actual),
        _ => format!(
            "{} {}: markets digest the remarks",
            event.currency, event.title
        ),
    };
    out.push(Headline {
        id: rng.uuid(),
        headline,
        source,
        symbols,
        published_at: event.event_time + delay,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_headlines_and_another_seed_others() {
        let (from, until) = (at("2025-03-03T00:00:00Z"), at("2025-03-05T00:00:00Z"));
        let a = headlines_between(1, from, until);
        assert_eq!(a, headlines_between(1, from, until));
        let b = headlines_between(2, from, until);
        assert_ne!(a, b);
    }

    #[test]
    fn a_window_asked_in_pieces_gives_the_same_headlines() {
        let from = at("2025-03-04T06:00:00Z");
        let whole = headlines_between(3, from, from + TimeDelta::hours(12));
        let pieces: Vec<Headline> = (0..72)
            .flat_map(|i| {
                let a = from + TimeDelta::minutes(10 * i);
                headlines_between(3, a, a + TimeDelta::minutes(10))
            })
            .collect();
        assert_eq!(whole, pieces);
        assert!(!whole.is_empty());
    }

    #[test]
    fn headlines_are_in_the_window_in_order_with_known_symbols_and_unique_ids() {
        let (from, until) = (at("2025-03-03T00:00:00Z"), at("2025-03-10T00:00:00Z"));
        let all = headlines_between(4, from, until);
        assert!(
            all.windows(2)
                .all(|w| w[0].published_at <= w[1].published_at)
        );
        assert!(
            all.iter()
                .all(|h| h.published_at >= from && h.published_at < until)
        );
        for h in &all {
            assert!(!h.symbols.is_empty(), "{h:?}");
            assert!(h.symbols.iter().all(|s| SYMBOLS.contains(&s.as_str())));
            assert!(SOURCES.contains(&h.source));
        }
        let mut ids: Vec<Uuid> = all.iter().map(|h| h.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
    }

    #[test]
    fn a_weekday_has_a_few_headlines_an_hour() {
        let from = at("2025-03-04T00:00:00Z");
        let n = headlines_between(5, from, from + TimeDelta::days(1)).len();
        assert!((24..=24 * 8).contains(&n), "{n} headlines in a day");
    }

    #[test]
    fn a_high_impact_release_gets_a_preview_and_its_result() {
        let seed = 6;
        let events =
            calendar::events_between(seed, at("2025-03-03T00:00:00Z"), at("2025-03-10T00:00:00Z"));
        let high = events
            .iter()
            .find(|e| e.impact == Impact::High && e.has_figure())
            .expect("a high-impact release with a figure in a week");
        let around = headlines_between(
            seed,
            high.event_time - TimeDelta::hours(2),
            high.event_time + TimeDelta::minutes(5),
        );
        let preview = around
            .iter()
            .find(|h| h.headline.contains("brace") && h.headline.contains(high.title));
        assert!(preview.is_some_and(|h| h.published_at < high.event_time));
        let actual = high.actual_value(high.event_time).unwrap();
        let result = around
            .iter()
            .find(|h| h.headline.contains(high.title) && h.headline.contains(actual))
            .expect("the result headline");
        assert!(result.published_at > high.event_time);
        assert!(
            result
                .symbols
                .iter()
                .all(|s| symbol_exposure(s).touches(high.currency))
        );
    }
}
