//! Technical indicators over candles, as `snapshot_indicators` stores them
//! (docs/platform.md §1): RSI 14 and ATR 14 with Wilder's smoothing, SMA 50 and 200, and
//! MACD 12/26/9.
//!
//! Two ways in: batch functions over `f64` slices ([`sma`], [`ema`], [`rsi`], [`atr`],
//! [`macd`], and [`series`] for whole snapshots) for tests and replays, and
//! [`IndicatorState`], fed one candle at a time by whoever closes candles. Both give the
//! same numbers: they perform the same floating-point operations in the same order, so the
//! results agree to the bit, and the values are rounded only at the end, to the columns'
//! scales.
//!
//! The definitions, where authors differ:
//! - Wilder's smoothing (RSI, ATR) starts from the simple mean of the first `period`
//!   values, then `avg = (avg × (period − 1) + x) / period`.
//! - RSI's first value needs `period` changes, so `period + 1` closes. With no loss in the
//!   window RSI is 100; with neither gain nor loss (a flat market) it is 50.
//! - The first true range is `high − low`; later ones also reach to the previous close.
//! - An EMA starts from the simple mean of its first `period` values, then
//!   `ema += α × (x − ema)` with `α = 2 / (period + 1)`. MACD is EMA 12 − EMA 26 of the
//!   closes, its signal the EMA 9 of MACD, its histogram MACD − signal; all three are
//!   reported from the first candle with a signal (the 34th).
//!
//! Indicators are derived analytics, so `f64` is used inside; prices enter and values
//! leave as `Decimal`.

use std::collections::VecDeque;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

pub const RSI_PERIOD: usize = 14;
pub const ATR_PERIOD: usize = 14;
pub const SMA_FAST: usize = 50;
pub const SMA_SLOW: usize = 200;
pub const MACD_FAST: usize = 12;
pub const MACD_SLOW: usize = 26;
pub const MACD_SIGNAL: usize = 9;

/// `rsi_14` is `NUMERIC(6,2)`.
const RSI_SCALE: u32 = 2;
/// `sma_50`, `sma_200` and `atr` are `NUMERIC(18,6)`; MACD's numbers are kept alike.
const PRICE_SCALE: u32 = 6;

/// MACD at one candle: the `{"macd":…, "signal":…, "hist":…}` of `snapshot_indicators`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Macd {
    pub macd: Decimal,
    pub signal: Decimal,
    pub hist: Decimal,
}

impl Macd {
    /// The JSON the column holds: numbers, not strings, in the order macd, signal, hist.
    pub fn to_json(&self) -> serde_json::Value {
        let number = |d: Decimal| {
            d.to_f64()
                .and_then(serde_json::Number::from_f64)
                .map_or(serde_json::Value::Null, serde_json::Value::Number)
        };
        let mut map = serde_json::Map::new();
        map.insert("macd".to_owned(), number(self.macd));
        map.insert("signal".to_owned(), number(self.signal));
        map.insert("hist".to_owned(), number(self.hist));
        serde_json::Value::Object(map)
    }
}

/// The indicators at one candle, rounded to the columns' scales; `None` until there are
/// candles enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Indicators {
    pub rsi_14: Option<Decimal>,
    pub sma_50: Option<Decimal>,
    pub sma_200: Option<Decimal>,
    pub atr: Option<Decimal>,
    pub macd: Option<Macd>,
}

/// One candle's high, low and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hlc {
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
}

/// `x` at `scale` decimal places, halves away from zero as PostgreSQL rounds `NUMERIC`;
/// `None` for a value that is not finite.
fn round(x: f64, scale: u32) -> Option<Decimal> {
    Decimal::from_f64_retain(x)
        .map(|d| d.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero))
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

fn wilder_step(avg: f64, x: f64, period: usize) -> f64 {
    (avg * (period - 1) as f64 + x) / period as f64
}

fn ema_step(ema: f64, x: f64, period: usize) -> f64 {
    ema + 2.0 / (period + 1) as f64 * (x - ema)
}

fn rsi_value(avg_gain: f64, avg_loss: f64) -> f64 {
    if avg_loss == 0.0 {
        if avg_gain == 0.0 { 50.0 } else { 100.0 }
    } else {
        100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    }
}

fn true_range_of(high: f64, low: f64, previous_close: Option<f64>) -> f64 {
    match previous_close {
        None => high - low,
        Some(pc) => (high - low).max((high - pc).abs()).max((low - pc).abs()),
    }
}

// ---------------------------------------------------------------------------------------
// Batch

/// The simple moving average of the last `period` values at each index.
pub fn sma(values: &[f64], period: usize) -> Vec<Option<f64>> {
    (0..values.len())
        .map(|i| {
            (period > 0 && i + 1 >= period).then(|| {
                let window = &values[i + 1 - period..=i];
                window.iter().fold(0.0, |sum, x| sum + x) / period as f64
            })
        })
        .collect()
}

/// The exponential moving average at each index, started from the simple mean of the
/// first `period` values.
pub fn ema(values: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; values.len()];
    if period == 0 || values.len() < period {
        return out;
    }
    let mut e = values[..period].iter().fold(0.0, |sum, x| sum + x) / period as f64;
    out[period - 1] = Some(e);
    for (i, x) in values.iter().enumerate().skip(period) {
        e = ema_step(e, *x, period);
        out[i] = Some(e);
    }
    out
}

/// Wilder's RSI at each index; the first at index `period`.
pub fn rsi(closes: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; closes.len()];
    if period == 0 || closes.len() <= period {
        return out;
    }
    let changes: Vec<f64> = closes.windows(2).map(|w| w[1] - w[0]).collect();
    let gain = |c: f64| c.max(0.0);
    let loss = |c: f64| (-c).max(0.0);
    let first = &changes[..period];
    let mut avg_gain = first.iter().fold(0.0, |s, c| s + gain(*c)) / period as f64;
    let mut avg_loss = first.iter().fold(0.0, |s, c| s + loss(*c)) / period as f64;
    out[period] = Some(rsi_value(avg_gain, avg_loss));
    for (k, c) in changes.iter().enumerate().skip(period) {
        avg_gain = wilder_step(avg_gain, gain(*c), period);
        avg_loss = wilder_step(avg_loss, loss(*c), period);
        out[k + 1] = Some(rsi_value(avg_gain, avg_loss));
    }
    out
}

/// The true range of each candle of `(high, low, close)`.
pub fn true_range(bars: &[(f64, f64, f64)]) -> Vec<f64> {
    bars.iter()
        .enumerate()
        .map(|(i, (h, l, _))| {
            let previous = i.checked_sub(1).and_then(|p| bars.get(p)).map(|b| b.2);
            true_range_of(*h, *l, previous)
        })
        .collect()
}

/// Wilder's average true range at each index of `(high, low, close)`; the first at index
/// `period − 1`.
pub fn atr(bars: &[(f64, f64, f64)], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; bars.len()];
    if period == 0 || bars.len() < period {
        return out;
    }
    let tr = true_range(bars);
    let mut avg = tr[..period].iter().fold(0.0, |s, x| s + x) / period as f64;
    out[period - 1] = Some(avg);
    for (i, x) in tr.iter().enumerate().skip(period) {
        avg = wilder_step(avg, *x, period);
        out[i] = Some(avg);
    }
    out
}

/// MACD, signal and histogram at each index, from the first index with a signal.
pub fn macd(
    closes: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
) -> Vec<Option<(f64, f64, f64)>> {
    let fast_ema = ema(closes, fast);
    let slow_ema = ema(closes, slow);
    let line: Vec<Option<f64>> = fast_ema
        .iter()
        .zip(&slow_ema)
        .map(|(f, s)| Some((*f)? - (*s)?))
        .collect();
    let mut out = vec![None; closes.len()];
    let Some(first) = line.iter().position(Option::is_some) else {
        return out;
    };
    let defined: Vec<f64> = line[first..].iter().flatten().copied().collect();
    for (k, sig) in ema(&defined, signal).into_iter().enumerate() {
        if let Some(sig) = sig {
            let m = defined[k];
            out[first + k] = Some((m, sig, m - sig));
        }
    }
    out
}

/// The snapshot values at each candle, computed batch-wise: what [`IndicatorState`] gives
/// when fed the same candles one by one.
pub fn series(candles: &[Hlc]) -> Vec<Indicators> {
    let closes: Vec<f64> = candles.iter().map(|c| to_f64(c.close)).collect();
    let bars: Vec<(f64, f64, f64)> = candles
        .iter()
        .map(|c| (to_f64(c.high), to_f64(c.low), to_f64(c.close)))
        .collect();
    let rsi = rsi(&closes, RSI_PERIOD);
    let fast = sma(&closes, SMA_FAST);
    let slow = sma(&closes, SMA_SLOW);
    let atr = atr(&bars, ATR_PERIOD);
    let macd = macd(&closes, MACD_FAST, MACD_SLOW, MACD_SIGNAL);
    (0..candles.len())
        .map(|i| Indicators {
            rsi_14: rsi[i].and_then(|x| round(x, RSI_SCALE)),
            sma_50: fast[i].and_then(|x| round(x, PRICE_SCALE)),
            sma_200: slow[i].and_then(|x| round(x, PRICE_SCALE)),
            atr: atr[i].and_then(|x| round(x, PRICE_SCALE)),
            macd: macd[i].and_then(rounded_macd),
        })
        .collect()
}

fn rounded_macd((m, s, h): (f64, f64, f64)) -> Option<Macd> {
    Some(Macd {
        macd: round(m, PRICE_SCALE)?,
        signal: round(s, PRICE_SCALE)?,
        hist: round(h, PRICE_SCALE)?,
    })
}

// ---------------------------------------------------------------------------------------
// Incremental

/// Wilder's smoothing, fed one value at a time.
#[derive(Debug, Clone)]
struct Wilder {
    period: usize,
    seen: usize,
    sum: f64,
    avg: Option<f64>,
}

impl Wilder {
    fn new(period: usize) -> Self {
        Self {
            period,
            seen: 0,
            sum: 0.0,
            avg: None,
        }
    }

    fn push(&mut self, x: f64) -> Option<f64> {
        self.avg = match self.avg {
            Some(avg) => Some(wilder_step(avg, x, self.period)),
            None => {
                self.sum += x;
                self.seen += 1;
                (self.seen == self.period).then(|| self.sum / self.period as f64)
            }
        };
        self.avg
    }
}

/// An EMA, fed one value at a time.
#[derive(Debug, Clone)]
struct Ema {
    period: usize,
    seen: usize,
    sum: f64,
    value: Option<f64>,
}

impl Ema {
    fn new(period: usize) -> Self {
        Self {
            period,
            seen: 0,
            sum: 0.0,
            value: None,
        }
    }

    fn push(&mut self, x: f64) -> Option<f64> {
        self.value = match self.value {
            Some(e) => Some(ema_step(e, x, self.period)),
            None => {
                self.sum += x;
                self.seen += 1;
                (self.seen == self.period).then(|| self.sum / self.period as f64)
            }
        };
        self.value
    }
}

/// A simple moving average over a window, summed afresh in order at each push so it never
/// drifts from the batch value.
#[derive(Debug, Clone)]
struct Sma {
    period: usize,
    window: VecDeque<f64>,
}

impl Sma {
    fn new(period: usize) -> Self {
        Self {
            period,
            window: VecDeque::with_capacity(period + 1),
        }
    }

    fn push(&mut self, x: f64) -> Option<f64> {
        self.window.push_back(x);
        if self.window.len() > self.period {
            self.window.pop_front();
        }
        (self.window.len() == self.period)
            .then(|| self.window.iter().fold(0.0, |sum, x| sum + x) / self.period as f64)
    }
}

/// The indicators of one (symbol, timeframe), fed its candles in time order.
#[derive(Debug, Clone)]
pub struct IndicatorState {
    previous_close: Option<f64>,
    gains: Wilder,
    losses: Wilder,
    true_ranges: Wilder,
    fast: Sma,
    slow: Sma,
    macd_fast: Ema,
    macd_slow: Ema,
    macd_signal: Ema,
}

impl Default for IndicatorState {
    fn default() -> Self {
        Self::new()
    }
}

impl IndicatorState {
    pub fn new() -> Self {
        Self {
            previous_close: None,
            gains: Wilder::new(RSI_PERIOD),
            losses: Wilder::new(RSI_PERIOD),
            true_ranges: Wilder::new(ATR_PERIOD),
            fast: Sma::new(SMA_FAST),
            slow: Sma::new(SMA_SLOW),
            macd_fast: Ema::new(MACD_FAST),
            macd_slow: Ema::new(MACD_SLOW),
            macd_signal: Ema::new(MACD_SIGNAL),
        }
    }

    /// Takes the next candle and returns the indicators at it.
    pub fn push(&mut self, high: Decimal, low: Decimal, close: Decimal) -> Indicators {
        let (high, low, close) = (to_f64(high), to_f64(low), to_f64(close));
        let rsi = self.previous_close.and_then(|pc| {
            let change = close - pc;
            let gain = self.gains.push(change.max(0.0));
            let loss = self.losses.push((-change).max(0.0));
            Some(rsi_value(gain?, loss?))
        });
        let atr = self
            .true_ranges
            .push(true_range_of(high, low, self.previous_close));
        self.previous_close = Some(close);
        let line = match (self.macd_fast.push(close), self.macd_slow.push(close)) {
            (Some(f), Some(s)) => Some(f - s),
            _ => None,
        };
        let macd = line.and_then(|m| {
            let signal = self.macd_signal.push(m)?;
            rounded_macd((m, signal, m - signal))
        });
        Indicators {
            rsi_14: rsi.and_then(|x| round(x, RSI_SCALE)),
            sma_50: self.fast.push(close).and_then(|x| round(x, PRICE_SCALE)),
            sma_200: self.slow.push(close).and_then(|x| round(x, PRICE_SCALE)),
            atr: atr.and_then(|x| round(x, PRICE_SCALE)),
            macd,
        }
    }

    /// [`IndicatorState::push`] of a [`Hlc`].
    pub fn push_hlc(&mut self, c: Hlc) -> Indicators {
        self.push(c.high, c.low, c.close)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example published with StockCharts ChartSchool's RSI article
    // (spreadsheet cs-rsi.xls): QQQQ daily closes and the 14-day RSI column, to 4 places.
    const RSI_CLOSES: [f64; 33] = [
        44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
        45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
        46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
        43.4205, 42.6628, 43.1314,
    ];
    const RSI_PUBLISHED: [f64; 19] = [
        70.5328, 66.3186, 66.5498, 69.4063, 66.3552, 57.9749, 62.9296, 63.2571, 56.0593, 62.3771,
        54.7076, 50.4228, 39.9898, 41.4605, 41.8689, 45.4632, 37.3040, 33.0795, 37.7730,
    ];

    // The worked example published with ChartSchool's ATR article (cs-atr.xls): QQQQ daily
    // high, low, close, the true range column and the 14-day ATR column, to 6 places.
    const ATR_HIGH: [f64; 30] = [
        48.70, 48.72, 48.90, 48.87, 48.82, 49.05, 49.20, 49.35, 49.92, 50.19, 50.12, 49.66, 49.88,
        50.19, 50.36, 50.57, 50.65, 50.43, 49.63, 50.33, 50.29, 50.17, 49.32, 48.50, 48.3201,
        46.80, 47.80, 48.39, 48.66, 48.79,
    ];
    const ATR_LOW: [f64; 30] = [
        47.79, 48.14, 48.39, 48.37, 48.24, 48.635, 48.94, 48.86, 49.50, 49.87, 49.20, 48.90, 49.43,
        49.725, 49.26, 50.09, 50.30, 49.21, 48.98, 49.61, 49.20, 49.43, 48.08, 47.64, 41.55,
        44.2833, 47.31, 47.20, 47.90, 47.7301,
    ];
    const ATR_CLOSE: [f64; 30] = [
        48.16, 48.61, 48.75, 48.63, 48.74, 49.03, 49.07, 49.32, 49.91, 50.13, 49.53, 49.50, 49.75,
        50.03, 50.31, 50.52, 50.41, 49.34, 49.37, 50.23, 49.2375, 49.93, 48.43, 48.18, 46.57,
        45.41, 47.77, 47.72, 48.62, 47.85,
    ];
    const TR_PUBLISHED: [f64; 30] = [
        0.91, 0.58, 0.51, 0.50, 0.58, 0.415, 0.26, 0.49, 0.60, 0.32, 0.93, 0.76, 0.45, 0.465, 1.10,
        0.48, 0.35, 1.22, 0.65, 0.96, 1.09, 0.9325, 1.85, 0.86, 6.7701, 2.5167, 2.39, 1.19, 0.94,
        1.0599,
    ];
    const ATR_PUBLISHED: [f64; 17] = [
        0.555, 0.593929, 0.585791, 0.568949, 0.615452, 0.61792, 0.642354, 0.674329, 0.69277,
        0.775429, 0.78147, 1.209229, 1.30262, 1.38029, 1.366698, 1.336219, 1.316482,
    ];

    fn dec(x: f64) -> Decimal {
        Decimal::from_f64_retain(x).unwrap().round_dp(6)
    }

    fn flat(close: f64) -> Hlc {
        Hlc {
            high: dec(close),
            low: dec(close),
            close: dec(close),
        }
    }

    fn atr_bars() -> Vec<(f64, f64, f64)> {
        (0..30)
            .map(|i| (ATR_HIGH[i], ATR_LOW[i], ATR_CLOSE[i]))
            .collect()
    }

    /// A reproducible random walk with ranges, without the simulator (the domain must not
    /// lean on it): a 64-bit LCG.
    fn walk(n: usize, seed: u64) -> Vec<Hlc> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut close = 2650.0;
        (0..n)
            .map(|_| {
                let open = close;
                close = (close + (next() - 0.5) * 6.0).max(1.0);
                let high = open.max(close) + next() * 2.0;
                let low = open.min(close) - next() * 2.0;
                Hlc {
                    high: dec(high).round_dp(2),
                    low: dec(low).round_dp(2),
                    close: dec(close).round_dp(2),
                }
            })
            .collect()
    }

    #[test]
    fn rsi_reproduces_the_stockcharts_worked_example() {
        let got = rsi(&RSI_CLOSES, 14);
        assert!(got[..14].iter().all(Option::is_none));
        for (k, published) in RSI_PUBLISHED.iter().enumerate() {
            let value = got[14 + k].unwrap();
            assert!(
                (value - published).abs() < 1e-4,
                "RSI {k}: {value} vs {published}"
            );
        }
        // And as the column stores it: 70.5328 → 70.53, 37.7730 → 37.77.
        let mut state = IndicatorState::new();
        let stored: Vec<Option<Decimal>> = RSI_CLOSES
            .iter()
            .map(|c| state.push_hlc(flat(*c)).rsi_14)
            .collect();
        assert_eq!(stored[13], None);
        assert_eq!(stored[14], Some(Decimal::new(7053, 2)));
        assert_eq!(stored[32], Some(Decimal::new(3777, 2)));
    }

    #[test]
    fn true_range_and_atr_reproduce_the_stockcharts_worked_example() {
        let bars = atr_bars();
        for (i, (got, published)) in true_range(&bars).iter().zip(TR_PUBLISHED).enumerate() {
            assert!(
                (got - published).abs() < 1e-9,
                "TR {i}: {got} vs {published}"
            );
        }
        let got = atr(&bars, 14);
        assert!(got[..13].iter().all(Option::is_none));
        for (k, published) in ATR_PUBLISHED.iter().enumerate() {
            let value = got[13 + k].unwrap();
            assert!(
                (value - published).abs() < 1e-6,
                "ATR {k}: {value} vs {published}"
            );
        }
        let mut state = IndicatorState::new();
        let stored: Vec<Option<Decimal>> = bars
            .iter()
            .map(|(h, l, c)| state.push(dec(*h), dec(*l), dec(*c)).atr)
            .collect();
        assert_eq!(stored[12], None);
        assert_eq!(stored[13], Some(Decimal::new(555, 3)));
        assert_eq!(stored[29], Some(Decimal::new(1_316_482, 6)));
    }

    #[test]
    fn sma_is_the_mean_of_the_window() {
        // Reference: exact decimal means over each window, a path of its own.
        let closes: Vec<Decimal> = walk(260, 1).iter().map(|c| c.close).collect();
        let floats: Vec<f64> = closes.iter().map(|d| d.to_f64().unwrap()).collect();
        for period in [SMA_FAST, SMA_SLOW] {
            let got = sma(&floats, period);
            for i in 0..closes.len() {
                match got[i] {
                    None => assert!(i + 1 < period),
                    Some(value) => {
                        let window = &closes[i + 1 - period..=i];
                        let exact = window.iter().sum::<Decimal>() / Decimal::from(period);
                        let diff = (value - exact.to_f64().unwrap()).abs();
                        assert!(diff < 1e-9, "SMA {period} at {i}: {value} vs {exact}");
                    }
                }
            }
        }
    }

    #[test]
    fn macd_of_a_straight_line_is_seven_slopes_with_a_flat_signal() {
        // For x_t = a + b·t an SMA-started EMA of period n lags the line by exactly
        // b·(n − 1)/2 (the SMA's lag equals the EMA's steady lag (1 − α)/α), so
        // MACD 12/26 = b·(25 − 11)/2 = 7b, its signal 7b and the histogram 0, from the 34th
        // close on.
        let b = 0.5;
        let closes: Vec<f64> = (0..80).map(|t| 100.0 + b * f64::from(t)).collect();
        let got = macd(&closes, 12, 26, 9);
        assert!(got[..33].iter().all(Option::is_none));
        for (m, s, h) in got[33..].iter().map(|v| v.unwrap()) {
            assert!((m - 7.0 * b).abs() < 1e-9, "{m}");
            assert!((s - 7.0 * b).abs() < 1e-9, "{s}");
            assert!(h.abs() < 1e-9, "{h}");
        }
    }

    #[test]
    fn macd_follows_its_definition_on_a_random_walk() {
        // Reference: EMAs written as α·x + (1 − α)·previous, seeded by the mean, in
        // straight-line code.
        let closes: Vec<f64> = walk(300, 2)
            .iter()
            .map(|c| c.close.to_f64().unwrap())
            .collect();
        let reference_ema = |xs: &[f64], n: usize| -> Vec<f64> {
            let alpha = 2.0 / (n as f64 + 1.0);
            let mut out = vec![xs[..n].iter().sum::<f64>() / n as f64];
            for x in &xs[n..] {
                let prev = *out.last().unwrap();
                out.push(alpha * x + (1.0 - alpha) * prev);
            }
            out // out[0] is at index n − 1
        };
        let e12 = reference_ema(&closes, 12);
        let e26 = reference_ema(&closes, 26);
        let line: Vec<f64> = (25..closes.len())
            .map(|i| e12[i - 11] - e26[i - 25])
            .collect();
        let signal = reference_ema(&line, 9);
        let got = macd(&closes, 12, 26, 9);
        for i in 33..closes.len() {
            let (m, s, h) = got[i].unwrap();
            let (rm, rs) = (line[i - 25], signal[i - 33]);
            assert!((m - rm).abs() < 1e-9 && (s - rs).abs() < 1e-9 && (h - (rm - rs)).abs() < 1e-9);
        }
        assert!(got[32].is_none());
    }

    #[test]
    fn rsi_is_100_when_only_rising_50_when_flat_and_low_when_falling() {
        let up: Vec<f64> = (0..30).map(f64::from).collect();
        assert_eq!(rsi(&up, 14)[29], Some(100.0));
        assert_eq!(rsi(&[5.0; 30], 14)[29], Some(50.0));
        let down: Vec<f64> = (0..30).map(|t| 100.0 - f64::from(t)).collect();
        assert_eq!(rsi(&down, 14)[29], Some(0.0));
    }

    #[test]
    fn incremental_equals_batch_to_the_last_digit() {
        let candles = walk(400, 3);
        let batch = series(&candles);
        let mut state = IndicatorState::new();
        for (i, c) in candles.iter().enumerate() {
            assert_eq!(state.push_hlc(*c), batch[i], "candle {i}");
        }
        // The walk is long enough for every indicator to be defined at the end.
        let last = batch[399];
        assert!(last.rsi_14.is_some() && last.sma_200.is_some() && last.macd.is_some());
    }

    #[test]
    fn each_indicator_starts_when_it_has_candles_enough() {
        let batch = series(&walk(250, 4));
        let first = |f: fn(&Indicators) -> bool| batch.iter().position(f);
        assert_eq!(first(|i| i.rsi_14.is_some()), Some(14));
        assert_eq!(first(|i| i.atr.is_some()), Some(13));
        assert_eq!(first(|i| i.macd.is_some()), Some(33));
        assert_eq!(first(|i| i.sma_50.is_some()), Some(49));
        assert_eq!(first(|i| i.sma_200.is_some()), Some(199));
    }

    #[test]
    fn values_are_rounded_to_the_columns_scales_half_away_from_zero() {
        let last = *series(&walk(250, 5)).last().unwrap();
        assert_eq!(last.rsi_14.unwrap().scale(), 2);
        assert!(last.sma_50.unwrap().scale() <= 6);
        assert_eq!(round(0.125, 2), Some(Decimal::new(13, 2)));
        assert_eq!(round(-0.125, 2), Some(Decimal::new(-13, 2)));
        assert_eq!(round(f64::NAN, 2), None);
    }

    #[test]
    fn macd_json_holds_three_numbers_in_the_column_s_order() {
        let m = Macd {
            macd: Decimal::new(1_234_567, 6),
            signal: Decimal::new(-5, 1),
            hist: Decimal::new(1_734_567, 6),
        };
        assert_eq!(
            m.to_json().to_string(),
            r#"{"macd":1.234567,"signal":-0.5,"hist":1.734567}"#
        );
    }
}
