//! The simulated economic calendar: what `snapshot_calendar` holds (docs/platform.md §1).
//!
//! Each weekday has two to six releases for USD, EUR, GBP and JPY at the hours those
//! releases really come out (UTC, without daylight saving): US data at 12:30 and 14:00, the
//! FOMC at 18:00, euro-area surveys at 09:00–10:00, the ECB at 12:15, UK data at 07:00, the
//! BoE at 12:00, Japanese data at 23:50 and the BoJ at 03:00. Monthly releases follow the
//! calendar (payrolls on the first Friday, US CPI on the first weekday from the 12th, …), and
//! a pool of speeches and lesser figures fills the days, so most weekdays carry at least
//! one high-impact event and news blocks bite now and then. Weekends are empty.
//!
//! Everything is a pure function of the run's seed and the day. A release's figure is known
//! in advance here, but a capture sees it only from the release on: read it through
//! [`Event::actual_value`] with the capture's time.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use uuid::Uuid;

use super::rng::{Part, SimRng, keyed_uuid};
use crate::domain::{CalendarEvent, Impact};

use Figure::{Level, Percent, Rate, Speech, Thousands};
use Impact::{High, Low, Medium};
use When::{Meeting, MonthDay, Sometimes, Weekly};

/// One scheduled release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event's identity: the same release of the same run always has the same id.
    pub id: Uuid,
    pub event_time: DateTime<Utc>,
    /// ISO code, upper case, as the calendar collector writes it.
    pub currency: &'static str,
    pub impact: Impact,
    pub title: &'static str,
    pub previous_value: Option<String>,
    pub forecast_value: Option<String>,
    /// The released figure; private so no capture can show it before the release.
    outcome: Option<String>,
}

impl Event {
    /// The figure a capture at `at` shows: none before the release, the outcome from the
    /// release on (`actual_value`).
    pub fn actual_value(&self, at: DateTime<Utc>) -> Option<&str> {
        if at >= self.event_time {
            self.outcome.as_deref()
        } else {
            None
        }
    }

    /// True when the release has a figure (speeches and rate statements without a number
    /// do not).
    pub fn has_figure(&self) -> bool {
        self.outcome.is_some()
    }

    /// A deterministic id for the `snapshot_calendar` row that captures this event at
    /// `captured_at`: each capture is a row of its own.
    pub fn row_id(&self, captured_at: DateTime<Utc>) -> Uuid {
        let (hi, lo) = self.id.as_u64_pair();
        keyed_uuid(
            hi,
            "calendar row",
            &[Part::Int(lo as i64), Part::from(captured_at)],
        )
    }

    /// The event as the Gate and the confidence score read it.
    pub fn to_domain(&self) -> CalendarEvent {
        CalendarEvent {
            event_time: self.event_time,
            currency: self.currency.to_owned(),
            impact: self.impact,
            title: self.title.to_owned(),
        }
    }
}

/// When a release comes out.
#[derive(Debug, Clone, Copy)]
enum When {
    /// Every week on this day.
    Weekly(Weekday),
    /// Monthly, on the first weekday on or after this day of the month.
    MonthDay(u32),
    /// The n-th (1-based) given weekday of the month, in the months of the mask (bit 0 is
    /// January): central-bank meetings, eight a year.
    Meeting(u8, Weekday, u16),
    /// On any weekday, with this probability.
    Sometimes(f64),
}

/// How a release's figure is written.
#[derive(Debug, Clone, Copy)]
enum Figure {
    /// `3.2%`: level, typical surprise, decimals.
    Percent(f64, f64, usize),
    /// `187K`: thousands.
    Thousands(f64, f64),
    /// `52.3`: an index or a balance.
    Level(f64, f64, usize),
    /// `4.50%`: a policy rate that moves in quarter points now and then.
    Rate(f64),
    /// A speech or a statement: no figure.
    Speech,
}

#[derive(Debug, Clone, Copy)]
struct Template {
    currency: &'static str,
    title: &'static str,
    impact: Impact,
    hour: u32,
    minute: u32,
    when: When,
    figure: Figure,
}

const fn t(
    currency: &'static str,
    title: &'static str,
    impact: Impact,
    (hour, minute): (u32, u32),
    when: When,
    figure: Figure,
) -> Template {
    Template {
        currency,
        title,
        impact,
        hour,
        minute,
        when,
        figure,
    }
}

/// The months of `list` (1 = January) as a mask, bit 0 = January.
const fn months(list: &[u32]) -> u16 {
    let mut mask = 0u16;
    let mut i = 0;
    while i < list.len() {
        mask |= 1 << (list[i] - 1);
        i += 1;
    }
    mask
}

const EVERY_MONTH: u16 = months(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
// The eight meetings a year of each central bank, and the FOMC's minutes three weeks on.
const FOMC_MONTHS: u16 = months(&[1, 3, 5, 6, 7, 9, 11, 12]);
const FOMC_MINUTES_MONTHS: u16 = months(&[2, 4, 5, 7, 8, 10, 12, 1]);
const ECB_MONTHS: u16 = months(&[1, 3, 4, 6, 7, 9, 10, 12]);
const BOE_MONTHS: u16 = months(&[2, 3, 5, 6, 8, 9, 11, 12]);
const BOJ_MONTHS: u16 = months(&[1, 3, 4, 6, 7, 9, 10, 12]);

/// The releases the simulator knows, in a fixed order (an event's id depends on its
/// index here, so new templates go at the end). One line each: a table reads as a table.
#[rustfmt::skip]
const TEMPLATES: &[Template] = &[
    // United States.
    t("USD", "Non-Farm Employment Change", High, (12, 30), Meeting(1, Weekday::Fri, EVERY_MONTH), Thousands(180.0, 60.0)),
    t("USD", "Unemployment Rate", High, (12, 30), Meeting(1, Weekday::Fri, EVERY_MONTH), Percent(4.1, 0.1, 1)),
    t("USD", "CPI m/m", High, (12, 30), MonthDay(12), Percent(0.3, 0.15, 1)),
    t("USD", "Core CPI m/m", High, (12, 30), MonthDay(12), Percent(0.3, 0.1, 1)),
    t("USD", "Retail Sales m/m", High, (12, 30), MonthDay(15), Percent(0.4, 0.5, 1)),
    t("USD", "PPI m/m", Medium, (12, 30), MonthDay(13), Percent(0.2, 0.2, 1)),
    t("USD", "ISM Manufacturing PMI", High, (14, 0), MonthDay(1), Level(48.5, 1.2, 1)),
    t("USD", "ISM Services PMI", High, (14, 0), MonthDay(3), Level(52.5, 1.5, 1)),
    t("USD", "JOLTS Job Openings", Medium, (14, 0), MonthDay(6), Level(7.6, 0.3, 2)),
    t("USD", "CB Consumer Confidence", Medium, (14, 0), MonthDay(25), Level(100.0, 4.0, 1)),
    t("USD", "Advance GDP q/q", High, (12, 30), MonthDay(27), Percent(2.4, 0.6, 1)),
    t("USD", "Core PCE Price Index m/m", High, (12, 30), MonthDay(28), Percent(0.2, 0.1, 1)),
    t("USD", "Durable Goods Orders m/m", Medium, (12, 30), MonthDay(24), Percent(0.3, 1.5, 1)),
    t("USD", "Unemployment Claims", High, (12, 30), Weekly(Weekday::Thu), Thousands(225.0, 12.0)),
    t("USD", "Federal Funds Rate", High, (18, 0), Meeting(3, Weekday::Wed, FOMC_MONTHS), Rate(4.5)),
    t("USD", "FOMC Press Conference", High, (18, 30), Meeting(3, Weekday::Wed, FOMC_MONTHS), Speech),
    t("USD", "Fed Chair Speaks", High, (15, 0), Sometimes(0.12), Speech),
    t("USD", "FOMC Member Speaks", Medium, (16, 0), Sometimes(0.30), Speech),
    t("USD", "Existing Home Sales", Low, (14, 0), MonthDay(21), Level(4.0, 0.15, 2)),
    t("USD", "Crude Oil Inventories", Low, (14, 30), Weekly(Weekday::Wed), Level(-1.0, 3.0, 1)),
    t("USD", "Philly Fed Manufacturing Index", Medium, (12, 30), MonthDay(18), Level(5.0, 8.0, 1)),
    // Euro area.
    t("EUR", "Main Refinancing Rate", High, (12, 15), Meeting(2, Weekday::Thu, ECB_MONTHS), Rate(3.15)),
    t("EUR", "ECB Press Conference", High, (12, 45), Meeting(2, Weekday::Thu, ECB_MONTHS), Speech),
    t("EUR", "ECB President Speaks", High, (13, 0), Sometimes(0.10), Speech),
    t("EUR", "CPI Flash Estimate y/y", High, (10, 0), MonthDay(1), Percent(2.2, 0.15, 1)),
    t("EUR", "German ZEW Economic Sentiment", Medium, (10, 0), MonthDay(16), Level(10.0, 6.0, 1)),
    t("EUR", "German Ifo Business Climate", Medium, (9, 0), MonthDay(24), Level(86.0, 1.2, 1)),
    t("EUR", "Flash Manufacturing PMI", Medium, (9, 0), MonthDay(22), Level(46.0, 1.0, 1)),
    t("EUR", "Flash Services PMI", Medium, (9, 0), MonthDay(22), Level(51.0, 1.0, 1)),
    t("EUR", "German Prelim CPI m/m", Medium, (13, 0), MonthDay(29), Percent(0.2, 0.2, 1)),
    t("EUR", "ECB Member Speaks", Low, (8, 30), Sometimes(0.25), Speech),
    t("EUR", "Retail Sales m/m", Low, (10, 0), MonthDay(6), Percent(0.1, 0.4, 1)),
    // United Kingdom.
    t("GBP", "Official Bank Rate", High, (12, 0), Meeting(1, Weekday::Thu, BOE_MONTHS), Rate(4.75)),
    t("GBP", "BoE Gov Speaks", High, (14, 0), Sometimes(0.07), Speech),
    t("GBP", "CPI y/y", High, (7, 0), MonthDay(17), Percent(2.4, 0.2, 1)),
    t("GBP", "GDP m/m", High, (7, 0), MonthDay(13), Percent(0.1, 0.2, 1)),
    t("GBP", "Claimant Count Change", Medium, (7, 0), MonthDay(14), Thousands(20.0, 15.0)),
    t("GBP", "Retail Sales m/m", Medium, (7, 0), MonthDay(20), Percent(0.3, 0.6, 1)),
    t("GBP", "Flash Services PMI", Medium, (9, 30), MonthDay(22), Level(51.5, 1.0, 1)),
    t("GBP", "MPC Member Speaks", Low, (11, 0), Sometimes(0.20), Speech),
    // Japan.
    t("JPY", "BOJ Policy Rate", High, (3, 0), Meeting(3, Weekday::Fri, BOJ_MONTHS), Rate(0.25)),
    t("JPY", "BOJ Press Conference", High, (6, 30), Meeting(3, Weekday::Fri, BOJ_MONTHS), Speech),
    t("JPY", "Tokyo Core CPI y/y", Medium, (23, 30), MonthDay(26), Percent(2.1, 0.2, 1)),
    t("JPY", "Prelim GDP q/q", Medium, (23, 50), MonthDay(14), Percent(0.2, 0.3, 1)),
    t("JPY", "Trade Balance", Low, (23, 50), MonthDay(18), Level(-0.4, 0.3, 2)),
    t("JPY", "Household Spending y/y", Low, (23, 30), MonthDay(7), Percent(-0.5, 1.5, 1)),
    t("JPY", "BOJ Gov Speaks", Medium, (6, 0), Sometimes(0.06), Speech),
    // Filler of the quiet days.
    t("USD", "Treasury Currency Report", Low, (20, 0), Sometimes(0.15), Speech),
    t("EUR", "Italian Industrial Production m/m", Low, (9, 0), Sometimes(0.20), Percent(0.1, 0.8, 1)),
    t("GBP", "BRC Shop Price Index y/y", Low, (23, 1), Sometimes(0.15), Percent(0.6, 0.4, 1)),
    t("JPY", "Average Cash Earnings y/y", Low, (23, 30), Sometimes(0.15), Percent(2.5, 0.5, 1)),
    t("USD", "NFIB Small Business Index", Low, (10, 0), Sometimes(0.15), Level(95.0, 2.0, 1)),
    // Added later.
    t("USD", "ADP Non-Farm Employment Change", High, (13, 15), Meeting(1, Weekday::Wed, EVERY_MONTH), Thousands(150.0, 40.0)),
    t("USD", "FOMC Meeting Minutes", High, (19, 0), Meeting(2, Weekday::Wed, FOMC_MINUTES_MONTHS), Speech),
    t("USD", "Prelim UoM Consumer Sentiment", Medium, (14, 0), Meeting(2, Weekday::Fri, EVERY_MONTH), Level(72.0, 3.0, 1)),
    t("USD", "Flash Services PMI", Medium, (13, 45), MonthDay(22), Level(54.0, 1.2, 1)),
    t("USD", "Fed Vice Chair Speaks", High, (17, 0), Sometimes(0.10), Speech),
    t("GBP", "Average Earnings Index 3m/y", High, (7, 0), MonthDay(14), Percent(5.0, 0.3, 1)),
    t("USD", "Empire State Manufacturing Index", Medium, (12, 30), MonthDay(15), Level(-2.0, 8.0, 1)),
];

/// Weekday releases are cut to at most this many (the least important go first) …
const MOST_PER_DAY: usize = 6;
/// … and a quiet weekday gets low-impact filler up to this many.
const FEWEST_PER_DAY: usize = 2;

/// Does `template` come out on `day`? `roll` is the day's draw for `Sometimes`.
fn comes_out(template: &Template, day: NaiveDate, roll: f64) -> bool {
    let weekday = day.weekday();
    match template.when {
        When::Weekly(on) => weekday == on,
        When::MonthDay(from) => first_weekday_from(day.year(), day.month(), from) == Some(day),
        When::Meeting(n, on, months) => {
            months & (1 << day.month0()) != 0
                && weekday == on
                && (day.day() - 1) / 7 + 1 == u32::from(n)
        }
        When::Sometimes(p) => roll < p,
    }
}

/// The first weekday on or after `day` of the month, clamped to the month's last weekday.
fn first_weekday_from(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let mut d =
        NaiveDate::from_ymd_opt(year, month, day).or_else(|| last_day_of_month(year, month))?;
    while is_weekend(d) {
        match d.succ_opt() {
            Some(next) if next.month() == month => d = next,
            // Ran off the end of the month: the month's last weekday instead.
            _ => {
                while is_weekend(d) {
                    d = d.pred_opt()?;
                }
                return Some(d);
            }
        }
    }
    Some(d)
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Which occurrence of a release `day` is: months for monthly releases and meetings,
/// weeks for weekly ones, days for the occasional ones. `previous_value` is the figure of
/// the occurrence before.
fn occurrence(template: &Template, day: NaiveDate) -> i64 {
    let days = i64::from(day.num_days_from_ce());
    match template.when {
        When::MonthDay(_) | When::Meeting(..) => {
            i64::from(day.year()) * 12 + i64::from(day.month0())
        }
        When::Weekly(_) => days.div_euclid(7),
        When::Sometimes(_) => days,
    }
}

/// The figure of occurrence `k` of release `index`, unrounded; a pure function of the seed.
fn figure_value(seed: u64, index: usize, figure: Figure, k: i64) -> Option<f64> {
    let mut rng = SimRng::stream(
        seed,
        "calendar figure",
        &[Part::Int(index as i64), Part::Int(k)],
    );
    match figure {
        Figure::Percent(level, surprise, _) | Figure::Level(level, surprise, _) => {
            Some(level + 1.5 * surprise * rng.normal())
        }
        Figure::Thousands(level, surprise) => Some(level + 1.5 * surprise * rng.normal()),
        Figure::Rate(level) => {
            // The rate steps by a quarter point between blocks of four meetings-months, so
            // most decisions hold and some move.
            let block = k.div_euclid(4);
            let mut blocks = SimRng::stream(
                seed,
                "calendar rate",
                &[Part::Int(index as i64), Part::Int(block)],
            );
            let step = blocks.below(3) as f64 - 1.0;
            Some(level + 0.25 * step)
        }
        Figure::Speech => None,
    }
}

fn write_figure(figure: Figure, value: f64) -> Option<String> {
    // Rounding first, so -0.04 is written 0.0 and never "-0.0".
    let shown = |v: f64, decimals: usize| {
        let p = 10f64.powi(decimals as i32);
        let r = (v * p).round() / p;
        if r == 0.0 { 0.0 } else { r }
    };
    match figure {
        Figure::Percent(_, _, d) => Some(format!("{:.*}%", d, shown(value, d))),
        Figure::Level(_, _, d) => Some(format!("{:.*}", d, shown(value, d))),
        Figure::Thousands(..) => Some(format!("{}K", shown(value, 0))),
        Figure::Rate(_) => Some(format!("{:.2}%", shown(value, 2))),
        Figure::Speech => None,
    }
}

/// The releases of `day`, in time order (then currency, then title). Empty on weekends.
pub fn events_on(seed: u64, day: NaiveDate) -> Vec<Event> {
    if is_weekend(day) {
        return Vec::new();
    }
    let mut rolls = SimRng::stream(seed, "calendar day", &[Part::from(day)]);
    // One roll per template whatever it is, so a template's chance does not depend on
    // the others.
    let mut chosen: Vec<(usize, &Template)> = TEMPLATES
        .iter()
        .enumerate()
        .filter(|(_, template)| {
            let roll = rolls.unit();
            comes_out(template, day, roll)
        })
        .collect();
    if chosen.len() > MOST_PER_DAY {
        // Keep the most important; among equals, the earlier in the table.
        chosen.sort_by_key(|(index, template)| (std::cmp::Reverse(template.impact), *index));
        chosen.truncate(MOST_PER_DAY);
    }
    if chosen.len() < FEWEST_PER_DAY {
        let filler: Vec<(usize, &Template)> = TEMPLATES
            .iter()
            .enumerate()
            .filter(|(index, template)| {
                template.impact == Impact::Low
                    && matches!(template.when, When::Sometimes(_))
                    && !chosen.iter().any(|(i, _)| i == index)
            })
            .collect();
        while chosen.len() < FEWEST_PER_DAY {
            let Some(&pick) = rolls.pick(&filler) else {
                break;
            };
            if !chosen.iter().any(|(i, _)| *i == pick.0) {
                chosen.push(pick);
            }
        }
    }
    let mut events: Vec<Event> = chosen
        .into_iter()
        .filter_map(|(index, template)| event(seed, day, index, template))
        .collect();
    events.sort_by(|a, b| {
        (a.event_time, a.currency, a.title).cmp(&(b.event_time, b.currency, b.title))
    });
    events
}

fn event(seed: u64, day: NaiveDate, index: usize, template: &Template) -> Option<Event> {
    let event_time = day
        .and_hms_opt(template.hour, template.minute, 0)?
        .and_utc();
    let k = occurrence(template, day);
    let actual = figure_value(seed, index, template.figure, k);
    let previous = figure_value(seed, index, template.figure, k - 1);
    let forecast = actual.map(|a| {
        let mut rng = SimRng::stream(
            seed,
            "calendar forecast",
            &[Part::Int(index as i64), Part::Int(k)],
        );
        match template.figure {
            // Rate decisions are forecast right most of the time, else "no change".
            Figure::Rate(_) => {
                if rng.chance(0.8) {
                    a
                } else {
                    previous.unwrap_or(a)
                }
            }
            Figure::Percent(_, s, _) | Figure::Level(_, s, _) | Figure::Thousands(_, s) => {
                a + s * rng.normal()
            }
            Figure::Speech => a,
        }
    });
    Some(Event {
        id: keyed_uuid(
            seed,
            "calendar",
            &[Part::from(day), Part::Int(index as i64)],
        ),
        event_time,
        currency: template.currency,
        impact: template.impact,
        title: template.title,
        previous_value: previous.and_then(|v| write_figure(template.figure, v)),
        forecast_value: forecast.and_then(|v| write_figure(template.figure, v)),
        outcome: actual.and_then(|v| write_figure(template.figure, v)),
    })
}

/// The releases with `from <= event_time < until`, in time order.
pub fn events_between(seed: u64, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Event> {
    let mut out = Vec::new();
    let mut day = from.date_naive();
    let last = until.date_naive();
    while day <= last {
        out.extend(
            events_on(seed, day)
                .into_iter()
                .filter(|e| e.event_time >= from && e.event_time < until),
        );
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// The releases within `window` before or after `at` (inclusive), for a capture that
/// shows what is coming and what just came out.
pub fn events_around(seed: u64, at: DateTime<Utc>, window: TimeDelta) -> Vec<Event> {
    events_between(seed, at - window, at + window + TimeDelta::seconds(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Weekdays of eight weeks from Monday 2025-01-06.
    fn weekdays() -> impl Iterator<Item = NaiveDate> {
        day("2025-01-06")
            .iter_days()
            .take(56)
            .filter(|d| !is_weekend(*d))
    }

    #[test]
    fn the_same_seed_gives_the_same_calendar_and_another_seed_another() {
        let d = day("2025-03-12");
        assert_eq!(events_on(7, d), events_on(7, d));
        let a: Vec<_> = weekdays().flat_map(|d| events_on(7, d)).collect();
        let b: Vec<_> = weekdays().flat_map(|d| events_on(8, d)).collect();
        assert_ne!(a, b);
        let ids_a: Vec<Uuid> = a.iter().map(|e| e.id).collect();
        let ids_b: Vec<Uuid> = b.iter().map(|e| e.id).collect();
        assert!(ids_a.iter().all(|id| !ids_b.contains(id)));
    }

    #[test]
    fn weekends_are_empty_and_weekdays_carry_two_to_six_releases() {
        for d in day("2025-01-04").iter_days().take(70) {
            let n = events_on(1, d).len();
            if is_weekend(d) {
                assert_eq!(n, 0, "{d}");
            } else {
                assert!((FEWEST_PER_DAY..=MOST_PER_DAY).contains(&n), "{d}: {n}");
            }
        }
    }

    #[test]
    fn most_weekdays_have_a_high_impact_release() {
        for seed in [1, 2, 3] {
            let days: Vec<NaiveDate> = weekdays().collect();
            let with_high = days
                .iter()
                .filter(|d| {
                    events_on(seed, **d)
                        .iter()
                        .any(|e| e.impact == Impact::High)
                })
                .count();
            assert!(
                with_high * 10 >= days.len() * 6,
                "seed {seed}: {with_high} of {}",
                days.len()
            );
            assert!(
                with_high < days.len(),
                "seed {seed}: some days should be quiet"
            );
        }
    }

    #[test]
    fn payrolls_come_out_on_the_first_friday_at_12_30() {
        let nfp = |d: NaiveDate| {
            events_on(5, d)
                .into_iter()
                .find(|e| e.title == "Non-Farm Employment Change")
        };
        let first_friday = day("2025-02-07");
        let e = nfp(first_friday).unwrap();
        assert_eq!(
            e.event_time,
            "2025-02-07T12:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!((e.currency, e.impact), ("USD", Impact::High));
        assert!(nfp(day("2025-02-14")).is_none());
        assert!(e.actual_value(e.event_time).unwrap().ends_with('K'));
    }

    #[test]
    fn monthly_releases_move_off_weekends() {
        // 2025-01-12 is a Sunday: US CPI comes out on Monday the 13th.
        assert_eq!(first_weekday_from(2025, 1, 12), Some(day("2025-01-13")));
        // 2025-05-31 is a Saturday at the month's end: back to Friday the 30th.
        assert_eq!(first_weekday_from(2025, 5, 31), Some(day("2025-05-30")));
        // No 30th in February: its last weekday.
        assert_eq!(first_weekday_from(2025, 2, 30), Some(day("2025-02-28")));
    }

    #[test]
    fn the_actual_figure_is_hidden_before_the_release() {
        let events: Vec<Event> = weekdays().flat_map(|d| events_on(3, d)).collect();
        let with_figures: Vec<&Event> = events.iter().filter(|e| e.has_figure()).collect();
        assert!(!with_figures.is_empty());
        for e in with_figures {
            assert_eq!(e.actual_value(e.event_time - TimeDelta::seconds(1)), None);
            assert!(e.actual_value(e.event_time).is_some());
            assert!(e.actual_value(e.event_time + TimeDelta::hours(5)).is_some());
            assert!(e.forecast_value.is_some() && e.previous_value.is_some());
        }
    }

    #[test]
    fn the_previous_figure_is_the_last_release_s_actual() {
        // Two consecutive US CPI releases: January's actual is February's previous.
        let cpi = |d: NaiveDate| {
            events_on(9, d)
                .into_iter()
                .find(|e| e.title == "CPI m/m")
                .unwrap()
        };
        let jan = cpi(day("2025-01-13"));
        let feb = cpi(day("2025-02-12"));
        assert_eq!(
            feb.previous_value.as_deref(),
            jan.actual_value(jan.event_time)
        );
    }

    #[test]
    fn figures_are_written_as_calendars_write_them() {
        assert_eq!(
            write_figure(Percent(0.0, 0.0, 1), 0.26),
            Some("0.3%".into())
        );
        assert_eq!(
            write_figure(Percent(0.0, 0.0, 1), -0.04),
            Some("0.0%".into())
        );
        assert_eq!(
            write_figure(Thousands(0.0, 0.0), 187.4),
            Some("187K".into())
        );
        assert_eq!(write_figure(Rate(0.0), 4.5), Some("4.50%".into()));
        assert_eq!(write_figure(Level(0.0, 0.0, 1), 52.34), Some("52.3".into()));
        assert_eq!(write_figure(Speech, 1.0), None);
    }

    #[test]
    fn events_are_in_time_order_and_between_cuts_at_both_ends() {
        let from: DateTime<Utc> = "2025-03-03T12:30:00Z".parse().unwrap();
        let until: DateTime<Utc> = "2025-03-07T12:30:00Z".parse().unwrap();
        let events = events_between(4, from, until);
        assert!(!events.is_empty());
        assert!(
            events
                .windows(2)
                .all(|w| w[0].event_time <= w[1].event_time)
        );
        assert!(
            events
                .iter()
                .all(|e| e.event_time >= from && e.event_time < until)
        );
        let whole: usize = from
            .date_naive()
            .iter_days()
            .take(5)
            .map(|d| events_on(4, d).len())
            .sum();
        assert!(events.len() <= whole);
    }

    #[test]
    fn row_ids_differ_per_capture_and_repeat_per_run() {
        let e = events_on(2, day("2025-03-04")).remove(0);
        let t0 = e.event_time - TimeDelta::minutes(10);
        assert_eq!(e.row_id(t0), e.row_id(t0));
        assert_ne!(e.row_id(t0), e.row_id(t0 + TimeDelta::seconds(5)));
        assert_ne!(e.row_id(t0), e.id);
    }

    #[test]
    fn the_domain_view_keeps_time_currency_impact_and_title() {
        let e = events_on(2, day("2025-03-04")).remove(0);
        let d = e.to_domain();
        assert_eq!(
            (
                d.event_time,
                d.currency.as_str(),
                d.impact,
                d.title.as_str()
            ),
            (e.event_time, e.currency, e.impact, e.title)
        );
    }
}
