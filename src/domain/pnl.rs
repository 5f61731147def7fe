//! The trading day's P/L and drawdown, from account snapshots, and the halts they trigger
//! (docs/platform.md §3: `max_drawdown`, `daily_target_reached`).
//!
//! Decisions:
//! - The day starts at UTC midnight plus an offset ([`TradingDay`]); 22:00 UTC (an offset of
//!   +22h) is the FX convention of a day closing at 17:00 New York.
//! - The day's opening equity is that of the LAST snapshot BEFORE the day started, if there
//!   is one: it is the account as the day found it, so a loss made before the collector's
//!   first snapshot of the day still counts. Only when there is no earlier snapshot (a new
//!   account) does the first snapshot of the day open it.
//! - Drawdown is measured from the day's peak equity, the opening equity included, to the
//!   latest equity, and is never negative.
//! - Deposits and withdrawals are not told apart from trading: they move equity and so move
//!   the day's P/L (the snapshots carry no cash-flow column).

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::account::AccountSnapshot;
use super::risk::RiskConfig;

/// When a trading day starts: UTC midnight shifted by `start_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradingDay {
    start_offset: TimeDelta,
}

/// A trading-day offset of a day or more, which would make "the day" ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the trading day's start offset must be less than 24 hours either way (got {minutes} minutes)"
)]
pub struct OffsetOutOfRange {
    pub minutes: i64,
}

impl Default for TradingDay {
    /// Days start at UTC midnight.
    fn default() -> Self {
        Self::UTC_MIDNIGHT
    }
}

impl TradingDay {
    /// Days start at 00:00 UTC.
    pub const UTC_MIDNIGHT: TradingDay = TradingDay {
        start_offset: TimeDelta::zero(),
    };

    /// Days start at UTC midnight plus `start_offset` (e.g. +22h, or −2h for 22:00 the day
    /// before), which must be under 24 hours either way.
    pub fn with_offset(start_offset: TimeDelta) -> Result<Self, OffsetOutOfRange> {
        if start_offset.abs() < TimeDelta::days(1) {
            Ok(Self { start_offset })
        } else {
            Err(OffsetOutOfRange {
                minutes: start_offset.num_minutes(),
            })
        }
    }

    /// The offset from UTC midnight.
    pub fn start_offset(self) -> TimeDelta {
        self.start_offset
    }

    /// When the trading day holding `at` started. Falls back to UTC midnight at the very
    /// edges of chrono's calendar, where the shifted time cannot be represented.
    pub fn start_of(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let midnight = |t: DateTime<Utc>| t.date_naive().and_time(NaiveTime::MIN).and_utc();
        at.checked_sub_signed(self.start_offset)
            .map(midnight)
            .and_then(|m| m.checked_add_signed(self.start_offset))
            .unwrap_or_else(|| midnight(at))
    }
}

/// The account's day so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayState {
    /// When the trading day started.
    pub day_start: DateTime<Utc>,
    /// Equity as the day found it (see the module's decisions).
    pub opening_equity: Decimal,
    /// Highest equity of the day, the opening included.
    pub peak_equity: Decimal,
    /// Equity of the latest snapshot.
    pub latest_equity: Decimal,
    /// When the latest snapshot was captured (may be before `day_start` on a quiet day).
    pub as_of: DateTime<Utc>,
    /// `latest_equity − opening_equity`.
    pub day_pnl: Decimal,
    /// `peak_equity − latest_equity`, never negative.
    pub drawdown: Decimal,
}

/// Why the day's figures halt AI trading, as written to `last_halt_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HaltReason {
    MaxDrawdown,
    DailyTargetReached,
}

impl HaltReason {
    /// `max_drawdown` or `daily_target_reached`: also the gate's rule names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MaxDrawdown => "max_drawdown",
            Self::DailyTargetReached => "daily_target_reached",
        }
    }
}

impl std::fmt::Display for HaltReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The day's figures at `now` from `snapshots` (any order; those captured after `now` are
/// ignored), or `None` when there is no snapshot at all yet.
///
/// Only snapshots from the last one before the day started onward matter, so the store
/// may pass just those.
pub fn day_state(
    snapshots: &[AccountSnapshot],
    day: TradingDay,
    now: DateTime<Utc>,
) -> Option<DayState> {
    let day_start = day.start_of(now);
    let known = || snapshots.iter().filter(|s| s.captured_at <= now);
    // Ties on time are broken by equity so the result never depends on the input order.
    let key = |s: &&AccountSnapshot| (s.captured_at, s.equity);
    let latest = known().max_by_key(key)?;
    let before = known()
        .filter(|s| s.captured_at < day_start)
        .max_by_key(key);
    let today = || known().filter(|s| s.captured_at >= day_start);
    let opening = before.or_else(|| today().min_by_key(key))?;
    let peak = today().map(|s| s.equity).fold(opening.equity, Decimal::max);
    Some(DayState {
        day_start,
        opening_equity: opening.equity,
        peak_equity: peak,
        latest_equity: latest.equity,
        as_of: latest.captured_at,
        day_pnl: latest.equity - opening.equity,
        drawdown: (peak - latest.equity).max(Decimal::ZERO),
    })
}

impl DayState {
    /// True when the drawdown has reached `limit`. A limit of 0 is reached by the first
    /// cent lost from the peak, not by a flat day.
    pub fn drawdown_reached(&self, limit: Decimal) -> bool {
        self.drawdown > Decimal::ZERO && self.drawdown >= limit
    }

    /// True when the day's P/L has reached `target`. A target of 0 is reached by the first
    /// cent of profit, not by a flat day.
    pub fn target_reached(&self, target: Decimal) -> bool {
        self.day_pnl > Decimal::ZERO && self.day_pnl >= target
    }
}

/// The halt the day's figures call for under `config`, if any; the drawdown first when
/// both apply. Whether AI trading is on already is the caller's concern: the store halts
/// only a running AI, so a halt is never written twice.
pub fn halt_trigger(state: &DayState, config: &RiskConfig) -> Option<HaltReason> {
    if config.halt_on_drawdown && state.drawdown_reached(config.max_drawdown_amount) {
        Some(HaltReason::MaxDrawdown)
    } else if config.stop_after_target && state.target_reached(config.daily_profit_target) {
        Some(HaltReason::DailyTargetReached)
    } else {
        None
    }
}

/// One strategy's trading day: the ideas it proposed since the day began and what its
/// positions made (closed today, and still open valued at the last prices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyDay {
    pub strategy_id: uuid::Uuid,
    /// Ideas proposed today.
    pub ideas: i64,
    /// Of which the Gate let execute on their own.
    pub auto_executed: i64,
    /// P/L of its positions closed today.
    pub realized: Decimal,
    /// Its positions still open.
    pub open_positions: i64,
    /// Their P/L at the last prices; `None` when one of them cannot be valued (no price
    /// yet, or a symbol whose value needs another rate).
    pub open_pl: Option<Decimal>,
}

impl StrategyDay {
    /// A strategy with nothing today.
    pub fn quiet(strategy_id: uuid::Uuid) -> StrategyDay {
        StrategyDay {
            strategy_id,
            ideas: 0,
            auto_executed: 0,
            realized: Decimal::ZERO,
            open_positions: 0,
            open_pl: Some(Decimal::ZERO),
        }
    }

    /// The day's P/L, closed and open; `None` when an open position cannot be valued.
    pub fn pl(&self) -> Option<Decimal> {
        self.open_pl.map(|open| self.realized + open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn snap(time: &str, equity: i64) -> AccountSnapshot {
        AccountSnapshot::of_equity(Decimal::from(equity), Decimal::from(equity), at(time))
    }

    #[test]
    fn day_starts_at_utc_midnight_by_default() {
        let day = TradingDay::default();
        assert_eq!(
            day.start_of(at("2025-10-28T14:00:00Z")),
            at("2025-10-28T00:00:00Z")
        );
        assert_eq!(
            day.start_of(at("2025-10-28T00:00:00Z")),
            at("2025-10-28T00:00:00Z")
        );
    }

    #[test]
    fn an_offset_moves_the_day_start() {
        let fx = TradingDay::with_offset(TimeDelta::hours(22)).unwrap();
        assert_eq!(
            fx.start_of(at("2025-10-28T21:59:00Z")),
            at("2025-10-27T22:00:00Z")
        );
        assert_eq!(
            fx.start_of(at("2025-10-28T22:00:00Z")),
            at("2025-10-28T22:00:00Z")
        );
        let early = TradingDay::with_offset(TimeDelta::hours(-2)).unwrap();
        assert_eq!(
            early.start_of(at("2025-10-28T23:00:00Z")),
            at("2025-10-28T22:00:00Z")
        );
    }

    #[test]
    fn an_offset_of_a_day_or_more_is_refused() {
        assert!(TradingDay::with_offset(TimeDelta::hours(24)).is_err());
        assert!(TradingDay::with_offset(TimeDelta::hours(-25)).is_err());
    }

    #[test]
    fn pnl_is_measured_from_the_last_snapshot_before_the_day() {
        let snaps = [
            snap("2025-10-27T23:59:00Z", 10_000),
            snap("2025-10-28T01:00:00Z", 9_700),
            snap("2025-10-28T09:00:00Z", 10_100),
        ];
        let s = day_state(&snaps, TradingDay::default(), at("2025-10-28T10:00:00Z")).unwrap();
        assert_eq!(s.opening_equity, Decimal::from(10_000));
        assert_eq!(s.day_pnl, Decimal::from(100));
    }

    #[test]
    fn without_an_earlier_snapshot_the_first_of_the_day_opens_it() {
        let snaps = [
            snap("2025-10-28T09:00:00Z", 10_100),
            snap("2025-10-28T01:00:00Z", 9_700),
        ];
        let s = day_state(&snaps, TradingDay::default(), at("2025-10-28T10:00:00Z")).unwrap();
        assert_eq!(s.opening_equity, Decimal::from(9_700));
        assert_eq!(s.day_pnl, Decimal::from(400));
    }

    #[test]
    fn drawdown_is_from_the_days_peak_including_the_opening() {
        let snaps = [
            snap("2025-10-27T20:00:00Z", 10_000),
            snap("2025-10-28T08:00:00Z", 10_600),
            snap("2025-10-28T09:00:00Z", 9_900),
        ];
        let s = day_state(&snaps, TradingDay::default(), at("2025-10-28T10:00:00Z")).unwrap();
        assert_eq!(s.peak_equity, Decimal::from(10_600));
        assert_eq!(s.drawdown, Decimal::from(700));
        assert_eq!(s.day_pnl, Decimal::from(-100));
        let falling_from_open = [
            snap("2025-10-27T20:00:00Z", 10_000),
            snap("2025-10-28T08:00:00Z", 9_000),
        ];
        let s = day_state(
            &falling_from_open,
            TradingDay::default(),
            at("2025-10-28T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(s.drawdown, Decimal::from(1_000));
    }

    #[test]
    fn yesterdays_peak_does_not_count_as_todays() {
        let snaps = [
            snap("2025-10-27T12:00:00Z", 12_000),
            snap("2025-10-27T23:00:00Z", 10_000),
            snap("2025-10-28T08:00:00Z", 10_000),
        ];
        let s = day_state(&snaps, TradingDay::default(), at("2025-10-28T10:00:00Z")).unwrap();
        assert_eq!(s.drawdown, Decimal::ZERO);
    }

    #[test]
    fn snapshots_after_now_are_ignored_and_none_means_unknown() {
        let snaps = [
            snap("2025-10-28T08:00:00Z", 10_000),
            snap("2025-10-28T12:00:00Z", 5_000),
        ];
        let s = day_state(&snaps, TradingDay::default(), at("2025-10-28T10:00:00Z")).unwrap();
        assert_eq!(s.latest_equity, Decimal::from(10_000));
        assert_eq!(
            day_state(&[], TradingDay::default(), at("2025-10-28T10:00:00Z")),
            None
        );
    }

    #[test]
    fn a_quiet_day_has_no_pnl_and_no_drawdown() {
        let snaps = [snap("2025-10-27T20:00:00Z", 10_000)];
        let s = day_state(&snaps, TradingDay::default(), at("2025-10-28T10:00:00Z")).unwrap();
        assert_eq!((s.day_pnl, s.drawdown), (Decimal::ZERO, Decimal::ZERO));
    }

    fn state(pnl: i64, drawdown: i64) -> DayState {
        DayState {
            day_start: at("2025-10-28T00:00:00Z"),
            opening_equity: Decimal::from(10_000),
            peak_equity: Decimal::from(10_000 + pnl + drawdown),
            latest_equity: Decimal::from(10_000 + pnl),
            as_of: at("2025-10-28T10:00:00Z"),
            day_pnl: Decimal::from(pnl),
            drawdown: Decimal::from(drawdown),
        }
    }

    #[test]
    fn drawdown_reaching_the_limit_halts_when_halt_on_drawdown() {
        let config = RiskConfig::default();
        assert_eq!(
            halt_trigger(&state(-1_000, 1_000), &config),
            Some(HaltReason::MaxDrawdown)
        );
        assert_eq!(halt_trigger(&state(-999, 999), &config), None);
        let off = RiskConfig {
            halt_on_drawdown: false,
            ..config
        };
        assert_eq!(halt_trigger(&state(-1_000, 1_000), &off), None);
    }

    #[test]
    fn reaching_the_target_halts_when_stop_after_target() {
        let config = RiskConfig::default();
        let s = state(2_000, 0);
        assert_eq!(
            halt_trigger(&s, &config),
            Some(HaltReason::DailyTargetReached)
        );
        assert_eq!(
            HaltReason::DailyTargetReached.to_string(),
            "daily_target_reached"
        );
        let off = RiskConfig {
            stop_after_target: false,
            ..config
        };
        assert_eq!(halt_trigger(&s, &off), None);
    }

    #[test]
    fn drawdown_wins_when_both_halts_apply() {
        let config = RiskConfig::default();
        assert_eq!(
            halt_trigger(&state(2_000, 1_000), &config),
            Some(HaltReason::MaxDrawdown)
        );
    }

    #[test]
    fn zero_limits_are_not_reached_by_a_flat_day() {
        let s = state(0, 0);
        assert!(!s.drawdown_reached(Decimal::ZERO));
        assert!(!s.target_reached(Decimal::ZERO));
        assert!(state(1, 0).target_reached(Decimal::ZERO));
        assert!(state(-1, 1).drawdown_reached(Decimal::ZERO));
    }
}
