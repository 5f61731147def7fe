//! Helpers shared by the console's tests.

use super::app::App;
use super::fixtures::{self, now};
use crate::domain::RulesJson;
use crate::domain::gate::OpenTrades;
use crate::store::approve::{GateContext, GateStrategyRow};

/// What the Gate would read for the first fixture idea: inside the London session, day
/// well within its limits, no news, no open trades.
pub fn context(app: &App) -> GateContext {
    let strategy = &fixtures::strategies()[0];
    GateContext {
        idea: app.ideas.items[0].clone(),
        config: app.risk.as_ref().unwrap().config.clone(),
        strategy: Some(GateStrategyRow {
            name: strategy.name.clone(),
            is_active: true,
            allowed_symbols: strategy.allowed_symbols.clone(),
            rules: RulesJson {
                session_windows: strategy.session_windows.clone(),
                entry_conditions: strategy.entry_conditions.clone(),
                exit_rules: strategy.exit_rules.clone(),
                forbidden_conditions: strategy.forbidden_conditions.clone(),
                risk_caps: strategy.risk_caps.clone(),
            }
            .parse()
            .ok(),
        }),
        day: app.day,
        open_trades: OpenTrades::default(),
        calendar: Vec::new(),
        now: now(),
    }
}
