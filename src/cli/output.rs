//! Printing: text for people, JSON for scripts, and the small formats both share.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use super::Failure;
use crate::store::ErrorCode;

/// Whether to print JSON.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn json<T: Serialize>(&self, value: &T) -> Result<(), Failure> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }
}

pub use crate::store::ids::short;

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

/// A field for CSV (RFC 4180): quoted when it holds a comma, quote or line break.
pub fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// A point in time: RFC 3339 (`2026-11-25T09:30:00Z`), a UTC date (`2026-11-25`), a UTC
/// date and time (`2026-11-25 09:30`), or an age before `now` (`90s`, `30m`, `2h`, `7d`).
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Failure> {
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
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let amount: Option<i64> = number.parse().ok().filter(|n| *n >= 0);
    let span = match (amount, unit) {
        (Some(n), "s") => Duration::try_seconds(n),
        (Some(n), "m") => Duration::try_minutes(n),
        (Some(n), "h") => Duration::try_hours(n),
        (Some(n), "d") => Duration::try_days(n),
        _ => None,
    };
    span.and_then(|span| now.checked_sub_signed(span))
        .ok_or_else(|| {
            Failure::new(
                ErrorCode::InvalidInput,
                format!(
                    "`{text}` is not a time: use 2026-11-25, 2026-11-25T09:30:00Z, \
                     \"2026-11-25 09:30\" (UTC), or an age such as 30m, 2h, 7d"
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = parse_time("yesterday", now()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.starts_with("`yesterday` is not a time"));
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
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
