//! Helpers shared by the console's tests.

use super::app::App;
use super::fixtures::{self, now};
use crate::domain::GateContext;
use crate::domain::gate::OpenTrades;

/// What the Gate would read for the first fixture idea: inside the London session, day
/// well within its limits, no news, no open trades.
pub fn context(app: &App) -> GateContext {
    GateContext {
        idea: app.ideas.items[0]
            .read()
            .cloned()
            .expect("the first fixture idea reads"),
        config: app.risk.as_ref().unwrap().config.clone(),
        strategy: Some(fixtures::strategies()[0].clone()),
        day: app.day,
        open_trades: OpenTrades::default(),
        calendar: Vec::new(),
        now: now(),
    }
}
