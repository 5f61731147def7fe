//! Session windows: the UTC hours and weekdays a strategy may trade.
//!
//! A window is half-open, `[start, end)`, and `days` name the day the window OPENS. When
//! `end` is earlier than `start` the window crosses midnight: `{"start": "22:00Z", "end":
//! "02:00Z", "days": ["Sun"]}` runs from Sunday 22:00 to Monday 02:00. `"24:00Z"` (or
//! `"00:00Z"`) as the end means midnight at the end of the day; `start == end` is refused as
//! ambiguous (empty or all day?): a whole day is written `00:00Z`–`24:00Z`.
//!
//! Days are the platform's: `Mon` … `Sun`, as Python's `strftime("%a")` prints them. The
//! platform's evaluator compares them as written, so `"mon"` is refused, never corrected:
//! a strategy saved that way would never trade on the platform.

use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use serde_json::Value;

use super::json::{Problems, array, child, item, object, shown};

/// A time of day in UTC to the minute, 00:00 to 24:00 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    /// 24:00, the end of a day.
    pub const END_OF_DAY: TimeOfDay = TimeOfDay { minutes: 24 * 60 };

    /// `hour:minute`, if it is a time of day (24:00 included, nothing after it).
    pub fn new(hour: u16, minute: u16) -> Option<Self> {
        let minutes = hour.checked_mul(60)?.checked_add(minute)?;
        (minute < 60 && minutes <= 24 * 60).then_some(Self { minutes })
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.minutes
    }

    /// Reads `HH:MMZ`, e.g. `07:00Z`.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let digits = [0, 1, 3, 4]
            .iter()
            .all(|&i| b.get(i).is_some_and(u8::is_ascii_digit));
        if b.len() != 6 || !digits || b[2] != b':' || b[5] != b'Z' {
            return None;
        }
        let two = |i: usize| u16::from(b[i] - b'0') * 10 + u16::from(b[i + 1] - b'0');
        Self::new(two(0), two(3))
    }
}

impl fmt::Display for TimeOfDay {
    /// `HH:MMZ`, as the rules spell it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}Z", self.minutes / 60, self.minutes % 60)
    }
}

/// One trading window of a strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWindow {
    /// Opening time, inclusive; never 24:00.
    pub start: TimeOfDay,
    /// Closing time, exclusive; earlier than `start` when the window crosses midnight
    /// (`00:00Z` then closes at the next midnight, as `24:00Z` does for a same-day window).
    pub end: TimeOfDay,
    /// The days on which the window opens, as written (no duplicates, at least one).
    pub days: Vec<Weekday>,
}

/// The day names the platform writes, Monday first.
pub const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The platform's three-letter name of `day`: `Mon`.
pub fn day_name(day: Weekday) -> &'static str {
    DAY_NAMES[day.num_days_from_monday() as usize]
}

impl SessionWindow {
    /// True when the window closes on the day after it opens.
    pub fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    /// True when `now` falls inside the window.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let second = now.num_seconds_from_midnight();
        let start = u32::from(self.start.minutes) * 60;
        let end = u32::from(self.end.minutes) * 60;
        let today = now.weekday();
        let opens_on = |day: Weekday| self.days.contains(&day);
        if self.crosses_midnight() {
            (opens_on(today) && second >= start) || (opens_on(today.pred()) && second < end)
        } else {
            opens_on(today) && second >= start && second < end
        }
    }
}

/// Reads `session_windows`: a non-empty array of windows.
pub(super) fn parse_windows(value: &Value, problems: &mut Problems) -> Option<Vec<SessionWindow>> {
    let path = "session_windows";
    let items = array(value, path, "an array of windows", problems)?;
    if items.is_empty() {
        problems.push(
            path,
            "expected at least one window: with none the strategy never trades",
        );
        return None;
    }
    let windows: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, w)| parse_window(w, &item(path, i), problems))
        .collect();
    windows.into_iter().collect()
}

/// Reads one `{"start", "end", "days"}` window.
fn parse_window(value: &Value, path: &str, problems: &mut Problems) -> Option<SessionWindow> {
    let map = object(value, path, &["start", "end", "days"], problems)?;
    let mut time = |key: &str, latest: &str| {
        let at = child(path, key);
        let Some(v) = map.get(key) else {
            problems.push(&at, "missing");
            return None;
        };
        let parsed = v.as_str().and_then(TimeOfDay::parse);
        let allowed = match parsed {
            Some(t) if key == "start" => t < TimeOfDay::END_OF_DAY,
            Some(_) => true,
            None => false,
        };
        if !allowed {
            problems.expected(&at, &format!("\"HH:MMZ\" from 00:00Z to {latest}"), v);
        }
        parsed.filter(|_| allowed)
    };
    let start = time("start", "23:59Z");
    let end = time("end", "24:00Z");
    let days = match map.get("days") {
        Some(v) => parse_days(v, &child(path, "days"), problems),
        None => {
            problems.push(&child(path, "days"), "missing");
            None
        }
    };
    let (start, end, days) = (start?, end?, days?);
    if start == end {
        problems.push(
            path,
            format!("start and end are both {start}, so the window is empty; write 00:00Z to 24:00Z for a whole day"),
        );
        return None;
    }
    Some(SessionWindow { start, end, days })
}

/// Reads `days`: a non-empty list of distinct day names, `Mon` … `Sun`.
fn parse_days(value: &Value, path: &str, problems: &mut Problems) -> Option<Vec<Weekday>> {
    let items = array(
        value,
        path,
        "a list of days such as [\"Mon\", \"Tue\"]",
        problems,
    )?;
    if items.is_empty() {
        problems.push(path, "expected at least one day");
        return None;
    }
    let mut days = Vec::new();
    let mut ok = true;
    for (i, v) in items.iter().enumerate() {
        let at = item(path, i);
        let index = v
            .as_str()
            .and_then(|s| DAY_NAMES.iter().position(|d| *d == s));
        match index.and_then(|n| Weekday::try_from(n as u8).ok()) {
            Some(day) if days.contains(&day) => {
                problems.push(&at, format!("{} is listed twice", shown(v)));
                ok = false;
            }
            Some(day) => days.push(day),
            None => {
                match v
                    .as_str()
                    .and_then(|s| DAY_NAMES.iter().find(|d| d.eq_ignore_ascii_case(s)))
                {
                    Some(day) => problems.push(
                        &at,
                        format!(
                            "expected {day}, got {}: the platform compares day names as written \
                             (Mon … Sun), so it would never trade on {}",
                            shown(v),
                            shown(v)
                        ),
                    ),
                    None => problems.expected(&at, &format!("one of {}", DAY_NAMES.join(", ")), v),
                }
                ok = false;
            }
        }
    }
    ok.then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn window(start: &str, end: &str, days: &[Weekday]) -> SessionWindow {
        SessionWindow {
            start: TimeOfDay::parse(start).unwrap(),
            end: TimeOfDay::parse(end).unwrap(),
            days: days.to_vec(),
        }
    }

    #[test]
    fn time_of_day_reads_only_hh_mm_z() {
        assert_eq!(
            TimeOfDay::parse("07:05Z").map(TimeOfDay::minutes),
            Some(425)
        );
        assert_eq!(TimeOfDay::parse("24:00Z"), Some(TimeOfDay::END_OF_DAY));
        for bad in [
            "7am", "7:00Z", "07:00", "07:60Z", "24:01Z", "25:00Z", "07:00z", "+7:00Z",
        ] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn window_is_half_open() {
        let w = window("07:00Z", "11:00Z", &[Weekday::Tue]);
        assert!(w.contains(at("2025-10-28T07:00:00Z")));
        assert!(w.contains(at("2025-10-28T10:59:59Z")));
        assert!(!w.contains(at("2025-10-28T11:00:00Z")));
        assert!(!w.contains(at("2025-10-28T06:59:59Z")));
    }

    #[test]
    fn window_only_opens_on_its_days() {
        let w = window("07:00Z", "11:00Z", &[Weekday::Mon]);
        assert!(!w.contains(at("2025-10-28T08:00:00Z")), "Tuesday");
        assert!(w.contains(at("2025-10-27T08:00:00Z")), "Monday");
    }

    #[test]
    fn window_crossing_midnight_belongs_to_the_day_it_opens() {
        let w = window("22:00Z", "02:00Z", &[Weekday::Sun]);
        assert!(w.crosses_midnight());
        assert!(w.contains(at("2025-10-26T23:00:00Z")), "Sunday night");
        assert!(
            w.contains(at("2025-10-27T01:59:00Z")),
            "Monday early, opened Sunday"
        );
        assert!(
            !w.contains(at("2025-10-27T23:00:00Z")),
            "Monday night: not a listed day"
        );
        assert!(
            !w.contains(at("2025-10-26T01:00:00Z")),
            "Sunday early: opened Saturday"
        );
    }

    #[test]
    fn window_ending_at_24_00_runs_to_midnight() {
        let mut p = Problems::default();
        let v = json!([{"start": "20:00Z", "end": "24:00Z", "days": ["Fri"]}]);
        let w = &parse_windows(&v, &mut p).unwrap()[0];
        assert!(w.contains(at("2025-10-31T23:59:59Z")));
        assert!(!w.contains(at("2025-11-01T00:00:00Z")));
        assert_eq!(w.end, TimeOfDay::END_OF_DAY);
        let whole_day = json!([{"start": "00:00Z", "end": "24:00Z", "days": ["Mon"]}]);
        let w = &parse_windows(&whole_day, &mut p).unwrap()[0];
        assert!(w.contains(at("2025-10-27T00:00:00Z")) && w.contains(at("2025-10-27T23:59:59Z")));
        assert!(p.0.is_empty());
    }

    #[test]
    fn every_problem_in_the_windows_is_reported_with_its_path() {
        let v = json!([
            {"start": "7am", "end": "11:00Z", "days": ["Mon", "Monday", "Mon", "tue"]},
            {"start": "24:00Z", "days": [], "tz": "CET"}
        ]);
        let mut p = Problems::default();
        assert_eq!(parse_windows(&v, &mut p), None);
        let msgs: Vec<_> = p.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "session_windows[0].start: expected \"HH:MMZ\" from 00:00Z to 23:59Z, got \"7am\"",
                "session_windows[0].days[1]: expected one of Mon, Tue, Wed, Thu, Fri, Sat, Sun, got \"Monday\"",
                "session_windows[0].days[2]: \"Mon\" is listed twice",
                "session_windows[0].days[3]: expected Tue, got \"tue\": the platform compares day names as written (Mon … Sun), so it would never trade on \"tue\"",
                "session_windows[1].tz: unknown key; expected one of start, end, days",
                "session_windows[1].start: expected \"HH:MMZ\" from 00:00Z to 23:59Z, got \"24:00Z\"",
                "session_windows[1].end: missing",
                "session_windows[1].days: expected at least one day",
            ]
        );
    }

    #[test]
    fn empty_window_and_empty_list_are_refused() {
        let mut p = Problems::default();
        let same = json!([{"start": "07:00Z", "end": "07:00Z", "days": ["Mon"]}]);
        assert_eq!(parse_windows(&same, &mut p), None);
        assert_eq!(parse_windows(&json!([]), &mut p), None);
        assert_eq!(p.0.len(), 2);
        assert_eq!(p.0[1].path, "session_windows");
    }
}
