//! How tradedesk shows (and reads back) ids, ages, times and numbers: one way everywhere,
//! for the console and the command line alike.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use uuid::Uuid;

pub use crate::domain::numeric::{Plain, Shown, signed};

/// How many hex digits a short id has, unless two shown together would be equal.
pub const SHORT_DIGITS: usize = 8;

/// An id as tradedesk prints it: the **last** 8 hex digits of its 32, for every id whatever
/// its version. tradedesk's own rows are UUIDv7, whose first 12 digits are the millisecond
/// it was made in (so their first 8 repeat for about 65 s), and the platform's are UUIDv4;
/// the last 8 are random in both (v7's `rand_b`), and one rule for every id means a trader
/// never wonders which part they are looking at. A listing lengthens the ones that would
/// be equal ([`ShortIds`]); any of these forms, the whole id, or (out of habit) a prefix of
/// it names the row back ([`IdText`]).
pub fn short(id: Uuid) -> String {
    last_digits(id, SHORT_DIGITS)
}

/// The last `digits` (at most 32) hex digits of `id`.
fn last_digits(id: Uuid, digits: usize) -> String {
    let hex = id.simple().to_string();
    hex[hex.len() - digits.min(hex.len())..].to_string()
}

/// The short ids of a listing, built once from every id it shows: each is [`short`],
/// lengthened (more digits, to the left) like git's abbreviations when it would be equal
/// to another shown id's, until it is not. The same id shown twice is one id.
#[derive(Debug, Clone)]
pub struct ShortIds {
    digits: HashMap<Uuid, usize>,
    least: usize,
}

impl ShortIds {
    /// The short ids of `ids`, at least [`SHORT_DIGITS`] digits each.
    pub fn new(ids: impl IntoIterator<Item = Uuid>) -> Self {
        Self::at_least(ids, SHORT_DIGITS)
    }

    /// The short ids of `ids`, at least `least` digits each.
    pub fn at_least(ids: impl IntoIterator<Item = Uuid>, least: usize) -> Self {
        let least = least.clamp(1, 32);
        // In the order of the ids read from their last digit, an id shares its longest
        // ending with one of its neighbours: comparing neighbours is enough.
        let mut sorted: Vec<Uuid> = ids.into_iter().collect();
        sorted.sort_by_key(|id| id.as_u128().reverse_bits());
        sorted.dedup();
        let mut digits: HashMap<Uuid, usize> = sorted.iter().map(|id| (*id, least)).collect();
        for pair in sorted.windows(2) {
            let shared = common_ending(pair[0], pair[1]);
            for id in pair {
                if let Some(d) = digits.get_mut(id) {
                    *d = (*d).max((shared + 1).min(32));
                }
            }
        }
        ShortIds { digits, least }
    }

    /// `id` as this listing shows it (an id it was not built with: its own short form).
    pub fn of(&self, id: Uuid) -> String {
        last_digits(id, self.digits.get(&id).copied().unwrap_or(self.least))
    }
}

/// How many hex digits two different ids share at their end.
fn common_ending(a: Uuid, b: Uuid) -> usize {
    ((a.as_u128() ^ b.as_u128()).trailing_zeros() / 4) as usize
}

/// The short ids of `ids`, in their order, lengthened where two would be equal.
pub fn shorts(ids: &[Uuid]) -> Vec<String> {
    let shown = ShortIds::new(ids.iter().copied());
    ids.iter().map(|id| shown.of(*id)).collect()
}

/// An id as a trader gives it back: hex digits (hyphens ignored, any case) that are the
/// whole id, its ending (as tradedesk shows it), or a prefix of it (as tradedesk once did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdText(String);

/// What cannot be an id: not hexadecimal, empty, or longer than a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an id: give a UUID, its short id as tradedesk shows it, or a unique prefix \
     of it (hexadecimal digits)"
)]
pub struct NotAnId(pub String);

impl IdText {
    pub fn parse(text: &str) -> Result<Self, NotAnId> {
        let hex: String = text
            .trim()
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        if hex.is_empty() || hex.len() > 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(NotAnId(text.to_string()));
        }
        Ok(IdText(hex))
    }

    /// The hex digits given.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The whole id, when all 32 digits are given: then it names that id alone, never
    /// another that merely ends with them.
    pub fn whole(&self) -> Option<Uuid> {
        if self.0.len() == 32 {
            Uuid::parse_str(&self.0).ok()
        } else {
            None
        }
    }

    /// Whether this names `id`: the whole of it, or its start or its end.
    pub fn names(&self, id: Uuid) -> bool {
        let hex = id.simple().to_string();
        match self.whole() {
            Some(whole) => whole == id,
            None => hex.starts_with(&self.0) || hex.ends_with(&self.0),
        }
    }
}

/// The ids a given text named when it should name one, as a sentence's list: each shown as
/// listings show it, but at least 12 digits, enough to name it back among millions of
/// rows; `and more` when there were more than those.
pub fn candidates(ids: &[Uuid], more: bool) -> String {
    let shown = ShortIds::at_least(ids.iter().copied(), 12);
    let mut listed = ids
        .iter()
        .map(|id| shown.of(*id))
        .collect::<Vec<_>>()
        .join(", ");
    if more {
        listed.push_str(" and more");
    }
    listed
}

/// A duration as a trader reads it at a glance: `45s`, `12m`, `3h05m`, `2d04h`.
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - since).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// [`age`] of a time as stored: `∞` for one that is no time.
pub fn age_of(since: crate::domain::stored::Stamp, now: DateTime<Utc>) -> String {
    match since.at() {
        Some(t) => age(t, now),
        None => since.to_string(),
    }
}

/// A time that could not be read, with the forms that can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a time: use 2026-11-25, 2026-11-25T09:30:00Z, \"2026-11-25 09:30\" (UTC), \
     or an age such as 30m, 2h, 7d"
)]
pub struct NotATime(pub String);

/// A point in time: RFC 3339 (`2026-11-25T09:30:00Z`), a UTC date (`2026-11-25`), a UTC
/// date and time (`2026-11-25 09:30`), or an age before `now` (`90s`, `30m`, `2h`, `7d`,
/// `1h 30m`).
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, NotATime> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    humantime::parse_duration(text)
        .ok()
        .and_then(|span| chrono::Duration::from_std(span).ok())
        .and_then(|span| now.checked_sub_signed(span))
        .ok_or_else(|| NotATime(text.to_owned()))
}

/// `2026-11-25 09:30:00` (UTC), as the command line prints a moment.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn times_parse_in_every_documented_form() {
        let at = |s: &str| parse_time(s, now()).unwrap().to_rfc3339();
        assert_eq!(at("2026-11-25T09:30:00Z"), "2026-11-25T09:30:00+00:00");
        assert_eq!(at("2026-11-25T10:30:00+01:00"), "2026-11-25T09:30:00+00:00");
        assert_eq!(at("2026-11-24"), "2026-11-24T00:00:00+00:00");
        assert_eq!(at("2026-11-25 09:30"), "2026-11-25T09:30:00+00:00");
        assert_eq!(at("2h"), "2026-11-25T10:00:00+00:00");
        assert_eq!(at("7d"), "2026-11-18T12:00:00+00:00");
        assert_eq!(at("1h 30m"), "2026-11-25T10:30:00+00:00");
        let err = parse_time("yesterday", now()).unwrap_err();
        assert!(err.to_string().starts_with("`yesterday` is not a time"));
        assert!(parse_time("-2h", now()).is_err());
    }

    #[test]
    fn ages_read_at_a_glance() {
        let ago = |secs: i64| age(now() - Duration::seconds(secs), now());
        assert_eq!(ago(45), "45s");
        assert_eq!(ago(12 * 60 + 5), "12m");
        assert_eq!(ago(3 * 3600 + 5 * 60), "3h05m");
        assert_eq!(ago(2 * 86_400 + 4 * 3600), "2d04h");
        assert_eq!(ago(-5), "0s");
    }

    fn id(text: &str) -> Uuid {
        Uuid::parse_str(text).unwrap()
    }

    #[test]
    fn a_short_id_is_its_last_eight_hex_digits() {
        assert_eq!(
            short(id("3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70")),
            "0d9e8f70"
        );
        // A UUIDv7: the millisecond first, the random part last.
        assert_eq!(
            short(id("01a25098-7c3e-7d41-9f2a-6b8e1c0d2e3f")),
            "1c0d2e3f"
        );
    }

    #[test]
    fn v7_ids_of_one_millisecond_or_one_minute_show_distinct_short_ids() {
        // As Uuid::now_v7 makes them: the millisecond, then a counter, then random bits.
        let context = uuid::ContextV7::new();
        // A minute inside one run of 65 536 ms, so that every id has the same first 8 digits.
        let base: u64 = 1_790_000_000_000 / 65_536 * 65_536;
        let v7 = |ms: u64| {
            Uuid::new_v7(uuid::Timestamp::from_unix(
                &context,
                ms / 1000,
                (ms % 1000) as u32 * 1_000_000,
            ))
        };
        let one_ms: Vec<Uuid> = (0..1000).map(|_| v7(base + 7)).collect();
        let one_minute: Vec<Uuid> = (0..1000).map(|k| v7(base + k * 60)).collect();
        for (ids, same) in [(one_ms, 12), (one_minute, 8)] {
            let hex: Vec<String> = ids.iter().map(|i| i.simple().to_string()).collect();
            assert!(ids.iter().all(|i| i.get_version_num() == 7));
            assert!(hex.iter().all(|h| h[..same] == hex[0][..same]), "{hex:?}");
            let shown = shorts(&ids);
            let distinct: std::collections::HashSet<&String> = shown.iter().collect();
            assert_eq!(distinct.len(), ids.len());
            // Each is the id's ending: 8 digits, unless (about 1 run in 8 600 for 1000
            // random 32-bit endings) two had to be lengthened.
            for (h, s) in hex.iter().zip(&shown) {
                assert!(h.ends_with(s.as_str()) && s.len() >= 8, "{h} {s}");
            }
        }
    }

    #[test]
    fn a_listing_lengthens_the_short_ids_that_would_be_equal_and_only_those() {
        let a = id("01a25098-0000-7000-8000-00aa1c0d2e3f");
        let b = id("01a25098-0000-7000-8000-00bb1c0d2e3f");
        let c = id("01a25098-0000-7000-8000-01bb1c0d2e3f");
        let d = id("01a25098-0000-7000-8000-000011112222");
        assert_eq!(shorts(&[a, d]), ["1c0d2e3f", "11112222"]);
        // a and b share 8 digits: 9 tell them apart; b and c share 10: 11 do.
        assert_eq!(
            shorts(&[a, b, c, d, a]),
            [
                "a1c0d2e3f",
                "0bb1c0d2e3f",
                "1bb1c0d2e3f",
                "11112222",
                "a1c0d2e3f"
            ]
        );
        // Shown once, an id keeps its 8 digits; one the listing was not built with too.
        let listed = ShortIds::new([a, b]);
        assert_eq!(listed.of(d), "11112222");
        assert_eq!(short(a), "1c0d2e3f");
        // Ids equal but for their first digit take all 32.
        let e = id("f1a25098-0000-7000-8000-00aa1c0d2e3f");
        assert_eq!(
            shorts(&[a, e]),
            [
                "01a2509800007000800000aa1c0d2e3f",
                "f1a2509800007000800000aa1c0d2e3f"
            ]
        );
    }

    #[test]
    fn an_id_is_named_back_by_its_whole_its_end_or_its_start() {
        let i = id("01a25098-7c3e-7d41-9f2a-6b8e1c0d2e3f");
        let named = |t: &str| IdText::parse(t).unwrap().names(i);
        assert!(named("1c0d2e3f"));
        assert!(named("E1C0D2E3F"));
        assert!(named("6b8e1c0d2e3f"));
        assert!(named("9f2a-6b8e1c0d2e3f"));
        assert!(named("01a25098"));
        assert!(named("01a25098-7c3e"));
        assert!(named("01a25098-7c3e-7d41-9f2a-6b8e1c0d2e3f"));
        assert!(!named("1c0d2e3"));
        assert!(!named("7c3e7d41"));
        // All 32 digits name that id alone, never one that merely ends with them.
        assert_eq!(
            IdText::parse("01a250987c3e7d419f2a6b8e1c0d2e3f")
                .unwrap()
                .whole(),
            Some(i)
        );
        for bad in ["", "xyz", "12 34", &"a".repeat(33)] {
            let err = IdText::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("`{bad}` is not an id")), "{err}");
        }
    }

    #[test]
    fn candidates_are_listed_long_enough_to_name_back() {
        let a = id("01a25098-0000-7000-8000-00aa1c0d2e3f");
        let b = id("01a25098-0000-7000-8000-01bb1c0d2e3f");
        assert_eq!(candidates(&[a, b], false), "00aa1c0d2e3f, 01bb1c0d2e3f");
        assert_eq!(candidates(&[a], true), "00aa1c0d2e3f and more");
    }
}
