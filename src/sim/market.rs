//! The simulated market: five symbols quoted every second, M1 candles and the M5 and M15
//! candles built from them, as `snapshot_market` holds them (docs/platform.md §1).
//!
//! # The model
//!
//! Each symbol's mid price moves once a second by a random return whose size is the
//! symbol's daily volatility spread over the day, scaled by
//! - the **session** (UTC hour, no daylight saving): Asia quiet (USDJPY less so), the London
//!   open and the New York open busiest; US30 moves in the US cash session (13:30–20:00) and
//!   barely outside it;
//! - a **regime**: calm, normal or volatile, each lasting minutes to hours, some with a
//!   mild trend, so strategies see trends, pullbacks and RSI extremes;
//! - **releases** of the simulated calendar ([`super::calendar`]) in the symbol's
//!   currencies: a jump at a high-impact release and a few busy minutes after it.
//!
//! A soft pull keeps each price within a realistic band around where it started (a hard
//! clamp at twice the band), so prices never go negative or wander off. FX, gold and the
//! index are closed from Friday 21:00 to Sunday 21:00 UTC; gold and US30 also close daily
//! from 21:00 to 22:00. A closed symbol keeps its price and closes no candles; it reopens
//! with a small gap.
//!
//! # Determinism
//!
//! The random numbers of a symbol's minute come from a stream keyed by (seed, symbol,
//! minute), and its regimes from one keyed by (seed, symbol, six-hour block), so shocks,
//! regimes and volumes are pure functions of the seed and the time; the price is the start
//! price carried forward by them. The same seed, start and prices give the same quotes at
//! every second and the same candles, whether the market is driven by [`Market::step`] or
//! [`Market::step_minute`]. The arithmetic is additions, multiplications, divisions, one
//! square root and rounding, all correctly rounded by IEEE 754, so the numbers are the same
//! on every platform.
//!
//! # Driving it
//!
//! - Live (1-second steps): call [`Market::step`] once per simulated second, read
//!   [`Market::price`] for fills and stops, and after each step (or each cycle) write what
//!   [`Market::take_closed`] returns.
//! - Fast (history, catching up): [`Market::step_minute`] or [`Market::advance_to`], then
//!   [`Market::take_closed`]; the same candles as second steps, without per-second reads. A
//!   simulated day of five symbols takes a few milliseconds in a release build.
//! - Indicators: feed each closed candle to the `crate::domain::indicators::IndicatorState`
//!   of its (symbol, timeframe); to have SMA 200 on M15 from the first cycle, start the
//!   market 200 M15 candles (50 trading hours, more across a weekend) before the run and
//!   write that history first.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::calendar;
use super::rng::{Part, SimRng, normal_from_bits};
use crate::domain::Impact;
use crate::domain::market::symbol_exposure;

/// The simulated symbols, in the order candles of the same instant are returned.
pub const SYMBOLS: [&str; 5] = ["XAUUSD", "EURUSD", "GBPUSD", "USDJPY", "US30"];

/// A candle's length, as `snapshot_market.timeframe` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timeframe {
    M1,
    M5,
    M15,
}

impl Timeframe {
    pub const ALL: [Timeframe; 3] = [Timeframe::M1, Timeframe::M5, Timeframe::M15];

    /// `M1`, `M5` or `M15`.
    pub fn label(self) -> &'static str {
        match self {
            Self::M1 => "M1",
            Self::M5 => "M5",
            Self::M15 => "M15",
        }
    }

    pub fn minutes(self) -> i64 {
        match self {
            Self::M1 => 1,
            Self::M5 => 5,
            Self::M15 => 15,
        }
    }
}

/// One closed candle, a `snapshot_market` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candle {
    pub symbol: &'static str,
    pub timeframe: Timeframe,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    /// Ticks in the candle (MT5's tick volume).
    pub volume: i32,
    /// The candle's close time: an M1 of 10:00–10:01 is captured at 10:01:00.
    pub captured_at: DateTime<Utc>,
}

impl Candle {
    /// The candle's open time.
    pub fn opened_at(&self) -> DateTime<Utc> {
        self.captured_at - TimeDelta::minutes(self.timeframe.minutes())
    }
}

/// How a symbol trades through the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fx,
    Yen,
    Metal,
    Index,
}

/// What the simulator knows of an instrument. Prices are held in ticks (units of the last
/// quoted digit) so candles are exact.
#[derive(Debug)]
struct Spec {
    symbol: &'static str,
    kind: Kind,
    /// Decimal places of a quote.
    digits: u32,
    /// A pip in ticks.
    pip_ticks: i64,
    /// A typical spread in ticks.
    spread_ticks: i64,
    /// Where the price starts without a last price.
    default_price: f64,
    /// One day's standard deviation of returns.
    daily_vol: f64,
    /// The price stays within this fraction of its start (pulled back beyond it).
    band: f64,
    /// M1 tick volume at normal activity.
    volume: f64,
}

const SPECS: [Spec; 5] = [
    Spec {
        symbol: "XAUUSD",
        kind: Kind::Metal,
        digits: 2,
        pip_ticks: 10,
        spread_ticks: 20,
        default_price: 2650.0,
        daily_vol: 0.011,
        band: 0.15,
        volume: 260.0,
    },
    Spec {
        symbol: "EURUSD",
        kind: Kind::Fx,
        digits: 5,
        pip_ticks: 10,
        spread_ticks: 8,
        default_price: 1.085,
        daily_vol: 0.0045,
        band: 0.08,
        volume: 110.0,
    },
    Spec {
        symbol: "GBPUSD",
        kind: Kind::Fx,
        digits: 5,
        pip_ticks: 10,
        spread_ticks: 12,
        default_price: 1.27,
        daily_vol: 0.0055,
        band: 0.09,
        volume: 120.0,
    },
    Spec {
        symbol: "USDJPY",
        kind: Kind::Yen,
        digits: 3,
        pip_ticks: 10,
        spread_ticks: 10,
        default_price: 151.5,
        daily_vol: 0.006,
        band: 0.10,
        volume: 115.0,
    },
    Spec {
        symbol: "US30",
        kind: Kind::Index,
        digits: 1,
        pip_ticks: 10,
        spread_ticks: 20,
        default_price: 44_000.0,
        daily_vol: 0.009,
        band: 0.15,
        volume: 180.0,
    },
];

fn spec(symbol: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.symbol == symbol)
}

/// The smallest price step of `symbol` (XAUUSD 0.01, EURUSD 0.00001, USDJPY 0.001, US30 0.1).
pub fn tick_size(symbol: &str) -> Option<Decimal> {
    spec(symbol).map(|s| Decimal::new(1, s.digits))
}

/// Decimal places of a quote of `symbol`.
pub fn digits(symbol: &str) -> Option<u32> {
    spec(symbol).map(|s| s.digits)
}

/// A pip of `symbol`, for stops written in pips: EURUSD and GBPUSD 0.0001, USDJPY 0.01,
/// XAUUSD 0.1 (ten cents), US30 1 point.
pub fn pip(symbol: &str) -> Option<Decimal> {
    spec(symbol).map(|s| Decimal::new(s.pip_ticks, s.digits))
}

/// A typical spread of `symbol` in price units, for a paper broker's fills (ask = mid +
/// half of it, bid = mid − half).
pub fn typical_spread(symbol: &str) -> Option<Decimal> {
    spec(symbol).map(|s| Decimal::new(s.spread_ticks, s.digits))
}

/// What one price unit is worth in USD for one lot at `price`, for a symbol the market
/// quotes (the contract sizes are the domain's: [`crate::domain::instrument`]).
pub fn usd_per_unit_per_lot(symbol: &str, price: Decimal) -> Option<Decimal> {
    spec(symbol)?;
    crate::domain::instrument::usd_per_unit_per_lot(symbol, price)
}

/// The default start prices of the simulated symbols.
pub fn default_prices() -> Vec<(&'static str, Decimal)> {
    SPECS
        .iter()
        .map(|s| {
            (
                s.symbol,
                quote(to_ticks(s.default_price, s.digits), s.digits),
            )
        })
        .collect()
}

fn scale(digits: u32) -> f64 {
    10f64.powi(digits as i32)
}

fn to_ticks(level: f64, digits: u32) -> i64 {
    (level * scale(digits)).round() as i64
}

fn quote(ticks: i64, digits: u32) -> Decimal {
    Decimal::new(ticks, digits)
}

const MINUTES_PER_DAY: i64 = 1440;

/// Minutes since the Unix epoch → (weekday with Monday 0, hour, minute of the hour).
fn clock(minute: i64) -> (i64, i64, i64) {
    let days = minute.div_euclid(MINUTES_PER_DAY);
    // 1970-01-01 was a Thursday.
    let weekday = (days + 3).rem_euclid(7);
    let of_day = minute.rem_euclid(MINUTES_PER_DAY);
    (weekday, of_day / 60, of_day % 60)
}

/// Is a symbol of `kind` trading in `minute`?
fn is_open(kind: Kind, minute: i64) -> bool {
    let (weekday, hour, _) = clock(minute);
    let weekend = match weekday {
        4 => hour >= 21,
        5 => true,
        6 => hour < 21,
        _ => false,
    };
    // Gold and the index pause daily for the broker's rollover hour.
    let rollover = matches!(kind, Kind::Metal | Kind::Index) && hour == 21;
    !weekend && !rollover
}

/// How busy `kind` is in `minute` relative to an average hour: the size of returns scales
/// with it, volume nearly so.
fn session(kind: Kind, minute: i64) -> f64 {
    const FX: [f64; 24] = [
        0.45, 0.45, 0.5, 0.5, 0.45, 0.45, 0.6, 1.3, 1.45, 1.15, 1.0, 0.95, 1.1, 1.45, 1.5, 1.3,
        1.0, 0.8, 0.7, 0.6, 0.5, 0.3, 0.35, 0.4,
    ];
    const YEN: [f64; 24] = [
        0.85, 0.9, 0.75, 0.65, 0.55, 0.5, 0.6, 1.2, 1.3, 1.05, 0.9, 0.85, 1.1, 1.45, 1.5, 1.3, 1.0,
        0.8, 0.7, 0.6, 0.5, 0.3, 0.4, 0.7,
    ];
    const METAL: [f64; 24] = [
        0.55, 0.55, 0.55, 0.5, 0.45, 0.45, 0.55, 1.2, 1.35, 1.1, 1.0, 0.95, 1.15, 1.6, 1.65, 1.4,
        1.05, 0.85, 0.7, 0.6, 0.5, 0.3, 0.35, 0.45,
    ];
    let (_, hour, minute_of_hour) = clock(minute);
    let h = hour as usize;
    match kind {
        Kind::Fx => FX[h],
        Kind::Yen => YEN[h],
        Kind::Metal => METAL[h],
        // The cash session: busiest at the 13:30 open, then steady until the 20:00 close.
        Kind::Index => match (hour, minute_of_hour) {
            (13, 30..) => 2.2,
            (14, _) => 1.7,
            (15, _) => 1.3,
            (16..=19, _) => 1.1,
            (12, _) | (13, _) | (20, _) => 0.3,
            _ => 0.2,
        },
    }
}

/// A volatility regime.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    /// First minute of the segment (minutes since the epoch).
    from: i64,
    /// Multiplier of the returns' size.
    vol: f64,
    /// Drift per second as a multiple of the symbol's base per-second volatility.
    trend: f64,
}

const REGIME_BLOCK: i64 = 360;
/// Calm, normal, volatile: sizes and how often each is drawn.
const REGIMES: [(f64, f64); 3] = [(0.55, 0.3), (1.0, 0.5), (1.8, 0.2)];

/// The mean of the squared regime sizes, by which the base volatility is divided so the
/// average day has the symbol's daily volatility.
fn regime_variance() -> f64 {
    REGIMES.iter().map(|(v, p)| v * v * p).sum()
}

/// The regimes of six-hour block `block` of `symbol`: one to four segments.
fn regimes(seed: u64, symbol: &str, block: i64) -> Vec<Segment> {
    let mut rng = SimRng::stream(seed, "regime", &[Part::Text(symbol), Part::Int(block)]);
    let start = block * REGIME_BLOCK;
    let count = 1 + rng.below(4);
    let mut cuts: Vec<i64> = (1..count)
        .map(|_| 1 + rng.below(REGIME_BLOCK as u64 - 1) as i64)
        .collect();
    cuts.sort_unstable();
    cuts.insert(0, 0);
    cuts.into_iter()
        .map(|cut| {
            let roll = rng.unit();
            let mut acc = 0.0;
            let mut vol = REGIMES[1].0;
            for (size, p) in REGIMES {
                acc += p;
                if roll < acc {
                    vol = size;
                    break;
                }
            }
            // Half of the regimes trend. At 0.01 the drift of an hour is about 0.6 times
            // the noise of that hour and of four hours about 1.2 times: a trend with
            // pullbacks, which a stronger drift would turn into a one-way week.
            let trend = if rng.chance(0.5) {
                let strength = rng.range(0.004, 0.016);
                if rng.chance(0.5) { strength } else { -strength }
            } else {
                0.0
            };
            Segment {
                from: start + cut,
                vol,
                trend,
            }
        })
        .collect()
}

/// Extra activity after releases: multipliers for the release minute and those after it.
const HIGH_AFTER: [f64; 5] = [4.0, 2.6, 1.9, 1.5, 1.25];
const MEDIUM_AFTER: [f64; 3] = [2.0, 1.5, 1.2];
/// A release's jump as a fraction of the daily volatility.
const HIGH_JUMP: f64 = 0.2;
const MEDIUM_JUMP: f64 = 0.07;
/// The weekend gap as a fraction of the daily volatility.
const GAP: f64 = 0.25;
/// How hard the band pulls back, per second and per unit of excess.
const PULL: f64 = 3e-5;

/// The state of one symbol's current minute.
#[derive(Debug, Clone)]
struct Minute {
    index: i64,
    open: bool,
    /// Standard deviation of a second's return.
    sigma: f64,
    /// Drift of a second's return.
    drift: f64,
    activity: f64,
    /// A release in this minute: its jump size (fraction of price).
    jump: f64,
    /// First minute after a closure: the gap size.
    gap: f64,
    rng: SimRng,
}

/// An M1 being built, in ticks.
#[derive(Debug, Clone, Copy)]
struct Bar {
    /// First minute covered (minutes since the epoch).
    from: i64,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
}

impl Bar {
    fn new(from: i64, ticks: i64) -> Self {
        Self {
            from,
            open: ticks,
            high: ticks,
            low: ticks,
            close: ticks,
            volume: 0,
        }
    }

    fn add_tick(&mut self, ticks: i64) {
        self.high = self.high.max(ticks);
        self.low = self.low.min(ticks);
        self.close = ticks;
    }

    fn add_bar(&mut self, other: &Bar) {
        self.high = self.high.max(other.high);
        self.low = self.low.min(other.low);
        self.close = other.close;
        self.volume += other.volume;
    }
}

#[derive(Debug, Clone)]
struct Instrument {
    spec: &'static Spec,
    /// The mid price, unrounded.
    level: f64,
    /// The quoted mid in ticks.
    ticks: i64,
    /// The start price: the centre of the band.
    anchor: f64,
    /// Base standard deviation of a second's return.
    base_sigma: f64,
    minute: Minute,
    m1: Option<Bar>,
    /// M5 and M15 being built; each starts only at its boundary.
    higher: [Option<Bar>; 2],
    regime_block: i64,
    regime: Vec<Segment>,
    /// Medium and high-impact releases of the cached day and the day before in the
    /// symbol's currencies: (minute, impact).
    releases: Vec<(i64, Impact)>,
}

/// The market of a simulation run.
#[derive(Debug, Clone)]
pub struct Market {
    seed: u64,
    /// Seconds since the Unix epoch.
    now: i64,
    instruments: Vec<Instrument>,
    release_day: Option<NaiveDate>,
    closed: Vec<Candle>,
}

impl Market {
    /// A market at `start` (truncated to the minute) with the seed `seed`.
    ///
    /// `last` gives a symbol's last price, to continue from existing data; symbols without
    /// one (or with a price that is not positive) start at realistic defaults (XAUUSD 2650,
    /// EURUSD 1.085, GBPUSD 1.27, USDJPY 151.5, US30 44000). The first quote, at `start`, is
    /// one second's move from there.
    pub fn new(seed: u64, start: DateTime<Utc>, last: &[(String, Decimal)]) -> Market {
        let now = start.timestamp().div_euclid(60) * 60;
        let minute = now.div_euclid(60);
        let instruments = SPECS
            .iter()
            .map(|spec| {
                let given = last
                    .iter()
                    .find(|(symbol, _)| symbol == spec.symbol)
                    .and_then(|(_, price)| price.to_f64())
                    .filter(|p| p.is_finite() && *p > 0.0);
                let level = given.unwrap_or(spec.default_price);
                // Per-second volatility such that an average weekday, with its sessions
                // and regimes, has the symbol's daily volatility.
                let seconds_variance: f64 = (0..MINUTES_PER_DAY)
                    .map(|m| {
                        // 1970-01-06 was a Tuesday.
                        let m = m + 5 * MINUTES_PER_DAY;
                        if is_open(spec.kind, m) {
                            let s = session(spec.kind, m);
                            60.0 * s * s
                        } else {
                            0.0
                        }
                    })
                    .sum();
                let base_sigma = spec.daily_vol / (seconds_variance * regime_variance()).sqrt();
                Instrument {
                    spec,
                    level,
                    ticks: to_ticks(level, spec.digits),
                    anchor: level,
                    base_sigma,
                    minute: Minute {
                        index: i64::MIN,
                        open: false,
                        sigma: 0.0,
                        drift: 0.0,
                        activity: 0.0,
                        jump: 0.0,
                        gap: 0.0,
                        rng: SimRng::stream(seed, "market", &[]),
                    },
                    m1: None,
                    higher: [None, None],
                    regime_block: i64::MIN,
                    regime: Vec::new(),
                    releases: Vec::new(),
                }
            })
            .collect();
        let mut market = Market {
            seed,
            now,
            instruments,
            release_day: None,
            closed: Vec::new(),
        };
        market.begin_minute(minute);
        market.tick();
        market
    }

    /// The market's time: the instant of the current quotes.
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.now, 0).unwrap_or_default()
    }

    /// The seed the market was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Advances one second of market time: new quotes, and at a minute boundary the
    /// candles that closed (collect them with [`Market::take_closed`]). Cheap: a few
    /// arithmetic operations per symbol, plus a new random stream per minute.
    pub fn step(&mut self) {
        self.now += 1;
        if self.now.rem_euclid(60) == 0 {
            let minute = self.now.div_euclid(60);
            self.finish_minute(minute);
            self.begin_minute(minute);
        }
        self.tick();
    }

    /// Advances to the next minute boundary (1 to 60 seconds): the same quotes and candles
    /// as that many [`Market::step`]s, for runs that need no per-second quotes.
    pub fn step_minute(&mut self) {
        self.step();
        while self.now.rem_euclid(60) != 0 {
            self.step();
        }
    }

    /// Advances second by second until `until` (nothing if it is not later than now).
    pub fn advance_to(&mut self, until: DateTime<Utc>) {
        let until = until.timestamp();
        while self.now < until {
            if self.now.rem_euclid(60) == 0 && until - self.now >= 60 {
                self.step_minute();
            } else {
                self.step();
            }
        }
    }

    /// The current mid price of `symbol` at its quoting precision (XAUUSD 2 dp, EURUSD and
    /// GBPUSD 5 dp, USDJPY 3 dp, US30 1 dp), or `None` for a symbol not simulated.
    pub fn price(&self, symbol: &str) -> Option<Decimal> {
        self.instrument(symbol)
            .map(|i| quote(i.ticks, i.spec.digits))
    }

    /// Every symbol's current mid price, in [`SYMBOLS`] order.
    pub fn prices(&self) -> Vec<(&'static str, Decimal)> {
        self.instruments
            .iter()
            .map(|i| (i.spec.symbol, quote(i.ticks, i.spec.digits)))
            .collect()
    }

    /// True when `symbol` is trading now (false at weekends, in gold's and US30's daily
    /// pause, and for a symbol not simulated). A paper broker should not fill a closed
    /// symbol.
    pub fn is_open(&self, symbol: &str) -> bool {
        self.instrument(symbol).is_some_and(|i| i.minute.open)
    }

    /// The candles that closed since the last call, in time order; candles of the same
    /// instant in [`SYMBOLS`] order, each symbol's M1 before its M5 before its M15.
    ///
    /// An M1 closes every minute a symbol trades. An M5 or M15 closes at its boundary (of
    /// the clock: :00, :05, …) and is built from the M1s of its span; one whose span began
    /// before the market's start is not returned, since part of it was never simulated.
    pub fn take_closed(&mut self) -> Vec<Candle> {
        std::mem::take(&mut self.closed)
    }

    fn instrument(&self, symbol: &str) -> Option<&Instrument> {
        self.instruments.iter().find(|i| i.spec.symbol == symbol)
    }

    /// Closes every symbol's minute ending at `minute`.
    fn finish_minute(&mut self, minute: i64) {
        let captured_at = DateTime::from_timestamp(minute * 60, 0).unwrap_or_default();
        for i in &mut self.instruments {
            let digits = i.spec.digits;
            let candle = |bar: &Bar, timeframe: Timeframe| Candle {
                symbol: i.spec.symbol,
                timeframe,
                open: quote(bar.open, digits),
                high: quote(bar.high, digits),
                low: quote(bar.low, digits),
                close: quote(bar.close, digits),
                volume: i32::try_from(bar.volume).unwrap_or(i32::MAX),
                captured_at,
            };
            if let Some(mut bar) = i.m1.take() {
                // Tick volume: busier minutes trade more, with noise.
                let noise = 0.6 + 0.8 * i.minute.rng.unit();
                let volume = i.spec.volume * i.minute.activity * noise;
                bar.volume = (volume.round() as i64).max(1);
                self.closed.push(candle(&bar, Timeframe::M1));
                for (slot, tf) in i.higher.iter_mut().zip([Timeframe::M5, Timeframe::M15]) {
                    match slot {
                        Some(acc) => acc.add_bar(&bar),
                        None if bar.from.rem_euclid(tf.minutes()) == 0 => *slot = Some(bar),
                        None => {}
                    }
                }
            }
            for (slot, tf) in i.higher.iter_mut().zip([Timeframe::M5, Timeframe::M15]) {
                if slot.is_some_and(|acc| minute >= acc.from + tf.minutes())
                    && let Some(acc) = slot.take()
                {
                    self.closed.push(candle(&acc, tf));
                }
            }
        }
    }

    /// Sets every symbol up for `minute`: whether it trades, its volatility, its stream.
    fn begin_minute(&mut self, minute: i64) {
        let day = DateTime::from_timestamp(minute * 60, 0).map(|t| t.date_naive());
        if day != self.release_day {
            self.release_day = day;
            // The day before too: a release late in the evening is still busy after
            // midnight.
            let events: Vec<calendar::Event> = day
                .iter()
                .flat_map(|d| [d.pred_opt(), Some(*d)])
                .flatten()
                .flat_map(|d| calendar::events_on(self.seed, d))
                .collect();
            for i in &mut self.instruments {
                let exposure = symbol_exposure(i.spec.symbol);
                i.releases = events
                    .iter()
                    .filter(|e| e.impact >= Impact::Medium && exposure.touches(e.currency))
                    .map(|e| (e.event_time.timestamp().div_euclid(60), e.impact))
                    .collect();
            }
        }
        let seed = self.seed;
        for i in &mut self.instruments {
            let kind = i.spec.kind;
            let open = is_open(kind, minute);
            let block = minute.div_euclid(REGIME_BLOCK);
            if block != i.regime_block {
                i.regime_block = block;
                i.regime = regimes(seed, i.spec.symbol, block);
            }
            let segment = i
                .regime
                .iter()
                .rev()
                .find(|s| s.from <= minute)
                .copied()
                .unwrap_or(Segment {
                    from: minute,
                    vol: 1.0,
                    trend: 0.0,
                });
            let mut news = 1.0f64;
            let mut jump = 0.0;
            for (at, impact) in &i.releases {
                let after = minute - at;
                let (table, size): (&[f64], f64) = match impact {
                    Impact::High => (&HIGH_AFTER, HIGH_JUMP),
                    _ => (&MEDIUM_AFTER, MEDIUM_JUMP),
                };
                if let Some(m) = usize::try_from(after).ok().and_then(|a| table.get(a)) {
                    news = news.max(*m);
                }
                if after == 0 {
                    jump = f64::max(jump, size * i.spec.daily_vol);
                }
            }
            let gap = if open && !is_open(kind, minute - 1) {
                GAP * i.spec.daily_vol
            } else {
                0.0
            };
            let activity = session(kind, minute) * segment.vol * news;
            i.minute = Minute {
                index: minute,
                open,
                sigma: i.base_sigma * activity,
                drift: i.base_sigma * segment.trend,
                activity,
                jump,
                gap,
                rng: SimRng::stream(
                    seed,
                    "market",
                    &[Part::Text(i.spec.symbol), Part::Int(minute)],
                ),
            };
        }
    }

    /// Draws every open symbol's quote for the current second.
    fn tick(&mut self) {
        let second_of_minute = self.now.rem_euclid(60);
        for i in &mut self.instruments {
            let m = &mut i.minute;
            if !m.open {
                continue;
            }
            let mut shock = m.sigma * normal_from_bits(m.rng.next_u64());
            if second_of_minute == 0 {
                if m.gap > 0.0 {
                    shock += m.gap * m.rng.normal();
                }
                if m.jump > 0.0 {
                    shock += m.jump * m.rng.normal();
                }
            }
            // The band: no pull inside it, a pull growing with the distance outside it.
            let deviation = i.level / i.anchor - 1.0;
            let band = i.spec.band;
            let excess = if deviation > band {
                deviation - band
            } else if deviation < -band {
                deviation + band
            } else {
                0.0
            };
            let ret = shock + m.drift - PULL * excess;
            let limit = 2.0 * band;
            i.level =
                (i.level * (1.0 + ret)).clamp(i.anchor * (1.0 - limit), i.anchor * (1.0 + limit));
            i.ticks = to_ticks(i.level, i.spec.digits);
            match &mut i.m1 {
                Some(bar) => bar.add_tick(i.ticks),
                None => i.m1 = Some(Bar::new(m.index, i.ticks)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::indicators::IndicatorState;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Monday 2025-03-03 00:00 UTC.
    const MONDAY: &str = "2025-03-03T00:00:00Z";

    fn run(seed: u64, start: &str, minutes: i64) -> (Market, Vec<Candle>) {
        let mut m = Market::new(seed, at(start), &[]);
        let mut out = Vec::new();
        for _ in 0..minutes {
            m.step_minute();
            out.extend(m.take_closed());
        }
        (m, out)
    }

    fn of(candles: &[Candle], symbol: &str, tf: Timeframe) -> Vec<Candle> {
        candles
            .iter()
            .filter(|c| c.symbol == symbol && c.timeframe == tf)
            .cloned()
            .collect()
    }

    fn f(d: Decimal) -> f64 {
        d.to_f64().unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_quotes_at_every_second() {
        let mut a = Market::new(42, at("2025-03-04T12:00:00Z"), &[]);
        let mut b = Market::new(42, at("2025-03-04T12:00:00Z"), &[]);
        for _ in 0..3 * 3600 {
            a.step();
            b.step();
            assert_eq!(a.prices(), b.prices(), "at {}", a.now());
        }
        assert_eq!(a.take_closed(), b.take_closed());
    }

    #[test]
    fn another_seed_gives_another_market() {
        let (_, a) = run(1, MONDAY, 120);
        let (_, b) = run(2, MONDAY, 120);
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b);
    }

    #[test]
    fn minute_steps_give_the_quotes_and_candles_of_sixty_second_steps() {
        let start = at("2025-03-04T06:00:00Z");
        let mut by_second = Market::new(9, start, &[]);
        let mut by_minute = Market::new(9, start, &[]);
        for _ in 0..24 * 60 {
            for _ in 0..60 {
                by_second.step();
            }
            by_minute.step_minute();
            assert_eq!(by_second.now(), by_minute.now());
            assert_eq!(by_second.prices(), by_minute.prices());
        }
        let candles = by_second.take_closed();
        assert!(!candles.is_empty());
        assert_eq!(candles, by_minute.take_closed());
        let mut to = Market::new(9, start, &[]);
        to.advance_to(start + TimeDelta::days(1));
        assert_eq!(to.prices(), by_second.prices());
        assert_eq!(to.take_closed(), candles);
    }

    #[test]
    fn candles_are_consistent_and_prices_stay_in_their_bands_over_a_week() {
        let (_, candles) = run(7, MONDAY, 7 * 1440);
        for s in &SPECS {
            let mine: Vec<&Candle> = candles.iter().filter(|c| c.symbol == s.symbol).collect();
            assert!(!mine.is_empty());
            for c in &mine {
                assert!(c.low <= c.open && c.low <= c.close, "{c:?}");
                assert!(c.high >= c.open && c.high >= c.close, "{c:?}");
                assert!(c.low > Decimal::ZERO && c.volume > 0, "{c:?}");
                assert!(c.close.scale() == s.digits, "{c:?}");
                let (lo, hi) = (1.0 - 2.0 * s.band, 1.0 + 2.0 * s.band);
                let (l, h) = (f(c.low) / s.default_price, f(c.high) / s.default_price);
                assert!(l >= lo - 1e-9 && h <= hi + 1e-9, "{c:?}");
            }
            // A realistic week: it moves more than a quiet day and less than a crash.
            let high = mine.iter().map(|c| f(c.high)).fold(f64::MIN, f64::max);
            let low = mine.iter().map(|c| f(c.low)).fold(f64::MAX, f64::min);
            let range = (high - low) / s.default_price;
            assert!(
                range > 1.5 * s.daily_vol && range < 9.0 * s.daily_vol,
                "{}: weekly range {range}",
                s.symbol
            );
        }
    }

    #[test]
    fn m5_and_m15_are_built_from_the_m1s_of_their_span() {
        // Starting at 10:02 the 10:00–10:05 and 10:00–10:15 candles were never fully
        // simulated: the first M5 is 10:05–10:10 and the first M15 10:15–10:30.
        let (_, candles) = run(3, "2025-03-04T10:02:00Z", 2 * 1440);
        for symbol in SYMBOLS {
            let m1 = of(&candles, symbol, Timeframe::M1);
            for tf in [Timeframe::M5, Timeframe::M15] {
                let built = of(&candles, symbol, tf);
                assert!(built.len() > 100, "{symbol} {tf:?}");
                let first = built[0].opened_at();
                assert_eq!(
                    first,
                    at(if tf == Timeframe::M5 {
                        "2025-03-04T10:05:00Z"
                    } else {
                        "2025-03-04T10:15:00Z"
                    })
                );
                for c in &built {
                    let span: Vec<&Candle> = m1
                        .iter()
                        .filter(|m| {
                            m.opened_at() >= c.opened_at() && m.captured_at <= c.captured_at
                        })
                        .collect();
                    assert_eq!(span.len() as i64, tf.minutes(), "{c:?}");
                    assert_eq!(c.open, span[0].open);
                    assert_eq!(c.close, span[span.len() - 1].close);
                    assert_eq!(c.high, span.iter().map(|m| m.high).max().unwrap());
                    assert_eq!(c.low, span.iter().map(|m| m.low).min().unwrap());
                    assert_eq!(c.volume, span.iter().map(|m| m.volume).sum::<i32>());
                    assert_eq!(c.captured_at.timestamp() % (60 * tf.minutes()), 0);
                }
            }
        }
    }

    #[test]
    fn candles_come_in_time_order_closed_on_the_minute() {
        let (_, candles) = run(5, MONDAY, 240);
        let rank = |c: &Candle| {
            let symbol = SYMBOLS.iter().position(|s| *s == c.symbol).unwrap();
            (c.captured_at, symbol, c.timeframe)
        };
        assert!(candles.windows(2).all(|w| rank(&w[0]) < rank(&w[1])));
        assert!(candles.iter().all(|c| c.captured_at.timestamp() % 60 == 0));
        // A full M1 for each symbol each minute: four hours of a Monday, all open.
        for symbol in SYMBOLS {
            assert_eq!(of(&candles, symbol, Timeframe::M1).len(), 240, "{symbol}");
        }
    }

    #[test]
    fn the_weekend_is_closed_and_gold_and_the_dow_pause_daily() {
        let (m, candles) = run(11, "2025-03-07T20:00:00Z", 2 * 1440 + 180);
        let closing = at("2025-03-07T21:00:00Z");
        let fx_open = at("2025-03-09T21:00:00Z");
        let xau_open = at("2025-03-09T22:00:00Z");
        for c in &candles {
            let reopen = if matches!(c.symbol, "XAUUSD" | "US30") {
                xau_open
            } else {
                fx_open
            };
            assert!(c.captured_at <= closing || c.opened_at() >= reopen, "{c:?}");
        }
        for symbol in SYMBOLS {
            assert!(
                candles
                    .iter()
                    .any(|c| c.symbol == symbol && c.opened_at() >= xau_open)
            );
        }
        // Frozen over the weekend, moving after.
        let mut sat = Market::new(11, at("2025-03-08T12:00:00Z"), &[]);
        let before = sat.prices();
        assert!(!sat.is_open("EURUSD"));
        sat.advance_to(at("2025-03-08T18:00:00Z"));
        assert_eq!(sat.prices(), before);
        assert!(sat.take_closed().is_empty());
        assert!(m.is_open("EURUSD") && m.is_open("XAUUSD"));
        // Tuesday 21:00–22:00: FX trades, gold and the Dow pause.
        let (_, tuesday) = run(11, "2025-03-04T20:30:00Z", 120);
        let in_pause = |c: &&Candle| {
            c.opened_at() >= at("2025-03-04T21:00:00Z")
                && c.opened_at() < at("2025-03-04T22:00:00Z")
        };
        let paused: Vec<&Candle> = tuesday.iter().filter(in_pause).collect();
        assert!(
            paused
                .iter()
                .all(|c| !matches!(c.symbol, "XAUUSD" | "US30"))
        );
        assert_eq!(
            paused
                .iter()
                .filter(|c| c.timeframe == Timeframe::M1 && c.symbol == "EURUSD")
                .count(),
            60
        );
    }

    /// Mean M1 range relative to price, by UTC hour, over two weeks.
    fn range_by_hour(symbol: &str) -> BTreeMap<i64, f64> {
        let (_, candles) = run(13, MONDAY, 14 * 1440);
        let mut sums: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
        for c in of(&candles, symbol, Timeframe::M1) {
            let (_, hour, minute) = clock(c.opened_at().timestamp() / 60);
            // US30's hour 13 splits at the 13:30 open: count the open half-hour as 13.5.
            let key = if symbol == "US30" && hour == 13 && minute >= 30 {
                135
            } else {
                hour * 10
            };
            let e = sums.entry(key).or_default();
            e.0 += f(c.high - c.low) / f(c.close);
            e.1 += 1.0;
        }
        sums.into_iter().map(|(k, (s, n))| (k, s / n)).collect()
    }

    fn mean_of(ranges: &BTreeMap<i64, f64>, keys: impl Iterator<Item = i64>) -> f64 {
        let v: Vec<f64> = keys.filter_map(|k| ranges.get(&k).copied()).collect();
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn sessions_shape_volatility() {
        let eur = range_by_hour("EURUSD");
        let asia = mean_of(&eur, (1..=5).map(|h| h * 10));
        let new_york = mean_of(&eur, (13..=15).map(|h| h * 10));
        assert!(new_york > 1.8 * asia, "EURUSD NY {new_york} vs Asia {asia}");
        let dow = range_by_hour("US30");
        let cash = mean_of(&dow, [135].into_iter().chain((14..=19).map(|h| h * 10)));
        let overnight = mean_of(&dow, (0..=11).map(|h| h * 10));
        assert!(
            cash > 4.0 * overnight,
            "US30 cash {cash} vs overnight {overnight}"
        );
    }

    #[test]
    fn daily_volatility_is_near_each_symbol_s_target() {
        // Four weeks: realised variance of M1 returns per trading day.
        let (_, candles) = run(17, MONDAY, 28 * 1440);
        for s in &SPECS {
            let closes: Vec<f64> = of(&candles, s.symbol, Timeframe::M1)
                .iter()
                .map(|c| f(c.close))
                .collect();
            let variance: f64 = closes.windows(2).map(|w| (w[1] / w[0] - 1.0).powi(2)).sum();
            let daily = (variance / 20.0).sqrt();
            assert!(
                daily > 0.6 * s.daily_vol && daily < 1.8 * s.daily_vol,
                "{}: {daily} vs {}",
                s.symbol,
                s.daily_vol
            );
        }
    }

    #[test]
    fn high_impact_releases_move_their_symbols() {
        let seed = 19;
        let (_, candles) = run(seed, MONDAY, 28 * 1440);
        let eur = of(&candles, "EURUSD", Timeframe::M1);
        let range_at = |t: DateTime<Utc>| {
            eur.iter()
                .find(|c| c.opened_at() == t)
                .map(|c| f(c.high - c.low))
        };
        let releases = calendar::events_between(seed, at(MONDAY), at(MONDAY) + TimeDelta::days(28));
        let mut ratios = Vec::new();
        for e in releases
            .iter()
            .filter(|e| e.impact == Impact::High && matches!(e.currency, "USD" | "EUR"))
        {
            let before: Vec<f64> = (1..=30)
                .filter_map(|k| range_at(e.event_time - TimeDelta::minutes(k)))
                .collect();
            if let (Some(at_release), false) = (range_at(e.event_time), before.is_empty()) {
                ratios.push(at_release / (before.iter().sum::<f64>() / before.len() as f64));
            }
        }
        assert!(ratios.len() >= 10, "{} releases", ratios.len());
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        assert!(
            mean > 2.5,
            "release minutes are {mean}× the half hour before"
        );
    }

    #[test]
    fn m5_rsi_reaches_both_extremes_within_a_week() {
        let (_, candles) = run(23, MONDAY, 7 * 1440);
        for symbol in SYMBOLS {
            let mut state = IndicatorState::new();
            let rsi: Vec<Decimal> = of(&candles, symbol, Timeframe::M5)
                .iter()
                .filter_map(|c| state.push(c.high, c.low, c.close).rsi_14)
                .collect();
            assert!(
                rsi.iter().any(|r| *r > Decimal::from(70)),
                "{symbol}: no RSI above 70"
            );
            assert!(
                rsi.iter().any(|r| *r < Decimal::from(30)),
                "{symbol}: no RSI below 30"
            );
        }
    }

    #[test]
    fn last_prices_continue_existing_data() {
        let last = [
            ("XAUUSD".to_owned(), Decimal::new(330_055, 2)),
            ("EURUSD".to_owned(), Decimal::new(-1, 0)),
        ];
        let m = Market::new(1, at("2025-03-04T10:00:00Z"), &last);
        let xau = f(m.price("XAUUSD").unwrap());
        assert!((xau - 3300.55).abs() < 1.0, "{xau}");
        // A price that is not positive is ignored: the default instead.
        let eur = f(m.price("EURUSD").unwrap());
        assert!((eur - 1.085).abs() < 0.001, "{eur}");
        assert_eq!(m.price("BTCUSD"), None);
        assert_eq!(m.price("US30").unwrap().scale(), 1);
    }

    #[test]
    fn the_start_is_truncated_to_the_minute() {
        let m = Market::new(1, at("2025-03-04T10:00:42.5Z"), &[]);
        assert_eq!(m.now(), at("2025-03-04T10:00:00Z"));
        let (mut a, mut b) = (m.clone(), Market::new(1, at("2025-03-04T10:00:00Z"), &[]));
        a.step_minute();
        b.step_minute();
        assert_eq!(a.take_closed(), b.take_closed());
    }

    #[test]
    fn pips_ticks_and_the_dollar_value_of_a_price_unit() {
        assert_eq!(pip("EURUSD"), Some(Decimal::new(1, 4)));
        assert_eq!(pip("USDJPY"), Some(Decimal::new(1, 2)));
        assert_eq!(pip("XAUUSD"), Some(Decimal::new(1, 1)));
        assert_eq!(pip("US30"), Some(Decimal::ONE));
        assert_eq!(tick_size("EURUSD"), Some(Decimal::new(1, 5)));
        assert_eq!(tick_size("USDJPY"), Some(Decimal::new(1, 3)));
        assert_eq!(digits("XAUUSD"), Some(2));
        assert_eq!(typical_spread("GBPUSD"), Some(Decimal::new(12, 5)));
        let at_150 = usd_per_unit_per_lot("USDJPY", Decimal::from(150)).unwrap();
        assert_eq!(at_150.round_dp(4), Decimal::new(6_666_667, 4));
        assert_eq!(
            usd_per_unit_per_lot("EURUSD", Decimal::ONE),
            Some(Decimal::from(100_000))
        );
        assert_eq!(
            usd_per_unit_per_lot("XAUUSD", Decimal::from(2650)),
            Some(Decimal::from(100))
        );
        assert_eq!(
            usd_per_unit_per_lot("US30", Decimal::from(44_000)),
            Some(Decimal::ONE)
        );
        assert_eq!(usd_per_unit_per_lot("USDJPY", Decimal::ZERO), None);
        assert_eq!(usd_per_unit_per_lot("BTCUSD", Decimal::ONE), None);
        // A pip of EURUSD on a lot is $10, of USDJPY at 150 about $6.67.
        let eur_pip =
            pip("EURUSD").unwrap() * usd_per_unit_per_lot("EURUSD", Decimal::ONE).unwrap();
        assert_eq!(eur_pip, Decimal::from(10));
    }

    #[test]
    fn default_prices_are_the_realistic_levels() {
        let d = default_prices();
        assert_eq!(d.iter().map(|(s, _)| *s).collect::<Vec<_>>(), SYMBOLS);
        assert_eq!(d[0].1, Decimal::new(265_000, 2));
        assert_eq!(d[3].1, Decimal::new(151_500, 3));
    }
}
