//! How tradedesk shows (and reads back) ids, ages, times and numbers: one way everywhere,
//! for the console and the command line alike.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use uuid::Uuid;

pub use crate::domain::numeric::{Plain, Shown, signed};

/// The first 8 hex digits of an id, as tradedesk prints it: short to read, and enough to
/// name it back (ids may be given by any unique prefix).
pub fn short(id: Uuid) -> String {
    id.simple().to_string()[..8].to_string()
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

    #[test]
    fn a_short_id_is_its_first_eight_hex_digits() {
        let id = Uuid::parse_str("3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70").unwrap();
        assert_eq!(short(id), "3f0e6a52");
    }
}
