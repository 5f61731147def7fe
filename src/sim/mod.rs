//! `tradedesk simulate`: a stand-in for the platform's engine, writing what the real one
//! writes (docs/platform.md §1) so the console has a desk to supervise without a broker.
//!
//! The parts here are pure: no IO, no database, no clock. Time is a parameter and every
//! random choice comes from a stream of [`rng`] keyed by the run's seed and what it is
//! for, so the same seed, start and duration produce the same rows, ids included.
//!
//! - [`market`]: five symbols quoted every second; M1, M5 and M15 candles
//!   (`snapshot_market`). Indicators over them are `crate::domain::indicators`
//!   (`snapshot_indicators`).
//! - [`calendar`]: economic releases with previous, forecast and actual figures
//!   (`snapshot_calendar`).
//! - [`news`]: headlines tied to the symbols and to the releases (`snapshot_news`).
//! - [`rng`]: the seeded streams and deterministic UUIDs.
//!
//! The parts that write: [`engine`] (the run: evaluation of the strategies, the Gate's
//! verdicts through the store, the day's limits, time) and [`broker`] (the paper broker).

pub mod broker;
pub mod calendar;
pub mod engine;
pub mod market;
pub mod news;
pub mod rng;
