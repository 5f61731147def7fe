//! `tradedesk risk show|set`.

use serde_json::json;

use super::output::Out;
use super::{Failure, RiskCommand, open};
use crate::domain::text;
use crate::domain::{RiskChangeSet, RiskConfig};
use crate::store::{ErrorCode, Target};

fn as_json(c: &RiskConfig) -> serde_json::Value {
    serde_json::to_value(c).unwrap_or(serde_json::Value::Null)
}

fn print(c: &RiskConfig) {
    let rows: [(&str, String); 10] = [
        ("ai_trading_enabled", c.ai_trading_enabled.to_string()),
        (
            "min_confidence_threshold",
            c.min_confidence_threshold.to_string(),
        ),
        ("max_lot_size", c.max_lot_size.to_string()),
        ("max_concurrent_trades", c.max_concurrent_trades.to_string()),
        ("daily_profit_target", c.daily_profit_target.to_string()),
        ("stop_after_target", c.stop_after_target.to_string()),
        ("max_drawdown_amount", c.max_drawdown_amount.to_string()),
        ("halt_on_drawdown", c.halt_on_drawdown.to_string()),
        (
            "allow_off_watchlist_autotrade",
            c.allow_off_watchlist_autotrade.to_string(),
        ),
        (
            "last_halt_reason",
            c.last_halt_reason.clone().unwrap_or_else(|| "—".into()),
        ),
    ];
    for (field, value) in rows {
        println!("{field:<30} {}", text::line(&value));
    }
}

pub async fn run(target: &Target, out: Out, command: RiskCommand) -> Result<(), Failure> {
    match command {
        RiskCommand::Show => {
            let store = open(target).await?;
            let row = match store.risk_shown().await?.limits {
                Ok(row) => row,
                Err(flagged) => return super::output::show_flagged(out, &flagged),
            };
            let last = store.last_risk_change().await?;
            if out.json {
                let mut value = as_json(&row.config);
                value["updated_at"] = json!(row.updated_at);
                value["last_change"] = match last {
                    Some(l) => {
                        json!({"operator": l.operator, "changes": l.changes, "changed_at": l.changed_at})
                    }
                    None => json!(null),
                };
                return out.json(&value);
            }
            print(&row.config);
            match last {
                Some(l) => println!(
                    "\nLast changed by {} at {}: {}",
                    text::line(&l.operator),
                    l.changed_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    text::line(&l.changes)
                ),
                None => println!("\nNot edited since setup."),
            }
        }
        RiskCommand::Set { edits } => {
            // Parse before connecting: a typo is refused even when the database is away.
            let set = RiskChangeSet::parse(edits.iter().map(String::as_str))
                .map_err(|e| Failure::new(ErrorCode::InvalidInput, e.to_string()))?;
            let store = open(target).await?;
            let operator = super::login::identity(&store, target).await?;
            let update = store.update_risk_config(&set, &operator).await?;
            if out.json {
                let before = match &update.before_unreadable {
                    Some(f) => json!({ "unreadable": f }),
                    None => as_json(&update.before),
                };
                return out.json(&json!({"before": before, "after": as_json(&update.after)}));
            }
            print(&update.after);
        }
    }
    Ok(())
}
