//! Pictures drawn from numbers, pure and exact: the day's equity as a sparkline, and a
//! value against its limit as a bar with its tone. Numbers in, text out; no f64 anywhere
//! (a bar's cells are counted in eighths with `Decimal`).

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::console::msg::EquityPoint;

/// How close a value is to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitTone {
    /// Below 80 % of it.
    Below,
    /// From 80 % of it, not there yet.
    Near,
    /// At or over it.
    Reached,
}

impl LimitTone {
    /// The word shown after the percentage, so the tone reads without colour.
    pub fn word(self) -> &'static str {
        match self {
            LimitTone::Below => "",
            LimitTone::Near => "near",
            LimitTone::Reached => "REACHED",
        }
    }
}

/// How close `value` is to `limit`: below 80 %, from 80 %, at or over it. A limit of 0
/// (or less) is reached by the first cent over 0 and never near, as the Gate reads it
/// (`DayState::drawdown_reached`, `target_reached`); a value at or below 0 is below any
/// limit.
pub fn limit_tone(value: Decimal, limit: Decimal) -> LimitTone {
    if value <= Decimal::ZERO {
        return LimitTone::Below;
    }
    if limit <= Decimal::ZERO || value >= limit {
        return LimitTone::Reached;
    }
    // value / limit >= 0.8, without a division's rounding: 10 × value >= 8 × limit.
    let near = match (
        value.checked_mul(Decimal::TEN),
        limit.checked_mul(Decimal::from(8)),
    ) {
        (Some(ten_value), Some(eight_limit)) => ten_value >= eight_limit,
        _ => value / limit >= Decimal::new(8, 1),
    };
    if near {
        LimitTone::Near
    } else {
        LimitTone::Below
    }
}

/// `value` as a whole percentage of `limit`, cut toward zero (79.99 % is `79%`, so it
/// never reads as the 80 % it has not reached); `—` for a limit of 0.
pub fn percent(value: Decimal, limit: Decimal) -> String {
    if limit <= Decimal::ZERO {
        return "—".to_owned();
    }
    let whole = value
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|v| v.checked_div(limit))
        .map(|p| p.trunc());
    match whole {
        // Never shown as a reached 100 % while below the limit, whatever the rounding.
        Some(p) if p >= Decimal::ONE_HUNDRED && value < limit => "99%".to_owned(),
        Some(p) => format!("{}%", p.normalize()),
        None => "—".to_owned(),
    }
}

/// Cells of a bar: full, the eighths of a partial one, empty.
const FULL: char = '█';
const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const EMPTY: char = '░';

/// `value` against `limit` as a bar of `width` cells, filled in eighths of a cell and cut
/// down (never rounded up): full only when the limit is reached, empty at or below 0.
pub fn bar(value: Decimal, limit: Decimal, width: usize) -> String {
    let eighths_in = width.saturating_mul(8);
    let filled = match limit_tone(value, limit) {
        LimitTone::Reached => eighths_in,
        _ if value <= Decimal::ZERO => 0,
        _ => {
            let eighths = Decimal::from(eighths_in as u64);
            let share = value
                .checked_mul(eighths)
                .and_then(|v| v.checked_div(limit))
                .and_then(|e| e.floor().to_usize())
                .unwrap_or(0);
            // Below the limit: one eighth short of full at most.
            share.min(eighths_in.saturating_sub(1))
        }
    };
    let (full, part) = (filled / 8, filled % 8);
    let mut out = String::with_capacity(width * 3);
    out.extend(std::iter::repeat_n(FULL, full));
    if part > 0 {
        out.push(PARTS[part]);
    }
    let drawn = full + usize::from(part > 0);
    out.extend(std::iter::repeat_n(EMPTY, width.saturating_sub(drawn)));
    out
}

/// The eight heights of a sparkline cell, lowest first.
pub const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// The height a flat day is drawn at: the middle, neither a low nor a high.
pub const FLAT: usize = 3;

/// The day's equity in `width` columns of equal time from `from` (the day's start) to
/// the last capture: each column holds the last capture in it (by time), a column without
/// one the value before it. A capture before `from` is the day's opening (first column);
/// columns before the first capture of a day without one are `None`. When every capture is
/// at or before `from`, the day is flat at the last one.
pub fn equity_columns(
    points: &[EquityPoint],
    from: DateTime<Utc>,
    width: usize,
) -> Vec<Option<Decimal>> {
    let mut columns: Vec<Option<EquityPoint>> = vec![None; width];
    let Some(last) = points.iter().max_by_key(|p| p.at) else {
        return vec![None; width];
    };
    if width == 0 {
        return Vec::new();
    }
    let span = (last.at - from).num_milliseconds();
    if span <= 0 {
        return vec![Some(last.equity); width];
    }
    let (span, cols) = (i128::from(span), width as i128);
    for p in points {
        let into = i128::from((p.at - from).num_milliseconds().max(0));
        let column = usize::try_from((into * cols / span).min(cols - 1)).unwrap_or(0);
        let slot = &mut columns[column];
        if slot.is_none_or(|held| p.at >= held.at) {
            *slot = Some(*p);
        }
    }
    let mut carried = None;
    columns
        .into_iter()
        .map(|c| {
            if let Some(p) = c {
                carried = Some(p.equity);
            }
            carried
        })
        .collect()
}

/// The day's lowest and highest equity: of its opening (the last capture before `from`)
/// and of every capture since, whether or not a column shows it (a column shows only the
/// last capture in it). `None` without a capture.
pub fn equity_range(points: &[EquityPoint], from: DateTime<Utc>) -> Option<(Decimal, Decimal)> {
    let opening = points.iter().filter(|p| p.at < from).max_by_key(|p| p.at);
    let values = || {
        opening
            .into_iter()
            .chain(points.iter().filter(|p| p.at >= from))
            .map(|p| p.equity)
    };
    Some((values().min()?, values().max()?))
}

/// Each column's height (0–7) on the scale `low` (0, `▁`) to `high` (7, `█`), rounded to
/// the nearest and kept within it; a flat scale draws every column at [`FLAT`].
pub fn heights(columns: &[Option<Decimal>], low: Decimal, high: Decimal) -> Vec<Option<usize>> {
    let top = Decimal::from(LEVELS.len() - 1);
    columns
        .iter()
        .map(|c| {
            c.map(|v| {
                if high <= low {
                    return FLAT;
                }
                let v = v.clamp(low, high);
                ((v - low) * top / (high - low))
                    .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                    .to_usize()
                    .unwrap_or(0)
                    .min(LEVELS.len() - 1)
            })
        })
        .collect()
}

/// The sparkline of `columns` on the scale `low` to `high`: a height's block each, a
/// blank where nothing is known yet.
pub fn sparkline(columns: &[Option<Decimal>], low: Decimal, high: Decimal) -> String {
    heights(columns, low, high)
        .into_iter()
        .map(|h| h.map_or(' ', |h| LEVELS[h]))
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        "2026-11-25T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
    }

    fn point(minutes: i64, equity: &str) -> EquityPoint {
        EquityPoint {
            at: at(minutes),
            equity: dec(equity),
        }
    }

    #[test]
    fn the_tone_turns_at_80_percent_and_at_the_limit() {
        let tone = |v: &str, l: &str| limit_tone(dec(v), dec(l));
        assert_eq!(tone("79.99", "100"), LimitTone::Below);
        assert_eq!(tone("80", "100"), LimitTone::Near);
        assert_eq!(tone("80.00", "100.00"), LimitTone::Near);
        assert_eq!(tone("99.99", "100"), LimitTone::Near);
        assert_eq!(tone("100", "100"), LimitTone::Reached);
        assert_eq!(tone("100.01", "100"), LimitTone::Reached);
        // 79.999…% of an odd limit is still below: no division rounds it up.
        assert_eq!(tone("799.99", "1000.00"), LimitTone::Below);
        assert_eq!(tone("719.99", "900.00"), LimitTone::Below);
        assert_eq!(tone("720.00", "900.00"), LimitTone::Near);
        assert_eq!(tone("802.20", "900.00"), LimitTone::Near);
        // A loss is below any target; nothing is below a limit of 0 but 0 itself.
        assert_eq!(tone("-50", "100"), LimitTone::Below);
        assert_eq!(tone("0", "0"), LimitTone::Below);
        assert_eq!(tone("0.01", "0"), LimitTone::Reached);
        assert_eq!(tone("-0.01", "0"), LimitTone::Below);
        assert_eq!(tone("0", "100"), LimitTone::Below);
    }

    #[test]
    fn the_percentage_is_cut_toward_zero_and_agrees_with_the_tone() {
        let pct = |v: &str, l: &str| percent(dec(v), dec(l));
        assert_eq!(pct("79.99", "100"), "79%");
        assert_eq!(pct("80", "100"), "80%");
        assert_eq!(pct("802.20", "900.00"), "89%");
        assert_eq!(pct("99.999", "100"), "99%");
        assert_eq!(pct("100", "100"), "100%");
        assert_eq!(pct("250.00", "100.00"), "250%");
        assert_eq!(pct("-120.00", "900.00"), "-13%");
        assert_eq!(pct("0", "900.00"), "0%");
        assert_eq!(pct("5", "0"), "—");
    }

    #[test]
    fn a_bar_is_full_only_at_the_limit_and_empty_for_a_loss() {
        let b = |v: &str, l: &str, w| bar(dec(v), dec(l), w);
        assert_eq!(b("0", "100", 4), "░░░░");
        assert_eq!(b("-40", "100", 4), "░░░░", "a loss leaves the target empty");
        assert_eq!(b("50", "100", 4), "██░░");
        assert_eq!(b("100", "100", 4), "████");
        assert_eq!(b("130", "100", 4), "████");
        // 99.99 % of 4 cells is 31.9 eighths: cut to 31, never shown full.
        assert_eq!(b("99.99", "100", 4), "███▉");
        assert_eq!(b("79.99", "100", 5), "███▉░");
        assert_eq!(b("80", "100", 5), "████░");
        assert_eq!(b("1", "0", 3), "███");
        assert_eq!(b("0", "0", 3), "░░░");
        for w in [0, 1, 7, 30] {
            for v in ["-1", "0", "0.01", "50", "99.99", "100", "1000000"] {
                assert_eq!(b(v, "100", w).chars().count(), w, "{v} in {w}");
            }
        }
    }

    #[test]
    fn columns_hold_the_last_capture_of_their_time_and_carry_it_on() {
        // 00:00 to 10:00 in 5 columns of 2 hours.
        let points = [
            point(-10, "100"), // before the day: its opening
            point(30, "105"),
            point(90, "102"), // the last of the first column
            point(300, "110"),
            point(600, "108"),
        ];
        let columns = equity_columns(&points, at(0), 5);
        assert_eq!(
            columns,
            [
                Some(dec("102")),
                Some(dec("102")),
                Some(dec("110")),
                Some(dec("110")),
                Some(dec("108"))
            ]
        );
        // The scale is the day's: its low 100 (the opening) though no column shows it.
        let (low, high) = equity_range(&points, at(0)).unwrap();
        assert_eq!((low, high), (dec("100"), dec("110")));
        assert_eq!(sparkline(&columns, low, high), "▂▂██▇");
        assert_eq!(sparkline(&columns, dec("102"), dec("110")), "▁▁██▆");
        // Order does not matter.
        let mut shuffled = points;
        shuffled.reverse();
        assert_eq!(equity_columns(&shuffled, at(0), 5), columns);
    }

    #[test]
    fn a_day_without_an_opening_is_blank_until_its_first_capture() {
        let points = [point(240, "100"), point(480, "90")];
        let (low, high) = equity_range(&points, at(0)).unwrap();
        let line = sparkline(&equity_columns(&points, at(0), 4), low, high);
        assert_eq!(line, "  █▁");
    }

    #[test]
    fn a_flat_day_draws_flat_and_none_or_one_capture_never_panics() {
        let spark = |points: &[EquityPoint], width| {
            let (low, high) = equity_range(points, at(0)).unwrap_or_default();
            sparkline(&equity_columns(points, at(0), width), low, high)
        };
        let flat = [point(-5, "250.00"), point(60, "250.00"), point(120, "250")];
        assert_eq!(spark(&flat, 6), "▄▄▄▄▄▄");
        assert_eq!(spark(&[], 6), "      ");
        assert_eq!(equity_range(&[], at(0)), None);
        // One capture before the day (a quiet day): flat at it.
        let quiet = [point(-30, "99.50")];
        assert_eq!(
            equity_columns(&quiet, at(0), 3),
            [Some(dec("99.50")); 3].to_vec()
        );
        // One capture in the day, exactly at its start, or just after.
        assert_eq!(spark(&[point(0, "1")], 3), "▄▄▄");
        assert_eq!(spark(&[point(1, "1")], 3), "  ▄");
        // Only the last capture before the day opens it: older ones are off the scale.
        let older = [point(-90, "50"), point(-10, "100"), point(60, "120")];
        assert_eq!(equity_range(&older, at(0)), Some((dec("100"), dec("120"))));
        for width in [0, 1, 2, 200] {
            for points in [&flat[..], &quiet[..], &[][..]] {
                assert_eq!(equity_columns(points, at(0), width).len(), width);
            }
        }
    }

    #[test]
    fn heights_span_the_lowest_to_the_highest_value_drawn() {
        let columns: Vec<Option<Decimal>> = ["0", "1", "3.5", "6", "7"]
            .iter()
            .map(|v| Some(dec(v)))
            .collect();
        let (low, high) = (dec("0"), dec("7"));
        assert_eq!(
            heights(&columns, low, high),
            [Some(0), Some(1), Some(4), Some(6), Some(7)]
        );
        assert_eq!(sparkline(&columns, low, high), "▁▂▅▇█");
        // On a wider scale, within it; a value outside is kept at its edge.
        assert_eq!(sparkline(&columns, dec("0"), dec("14")), "▁▂▃▄▅");
        assert_eq!(sparkline(&columns, dec("1"), dec("6")), "▁▁▅██");
    }
}
