//! `tradedesk status`, `halt` and `resume`.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::output::Out;
use super::{Failure, open};
use crate::domain::{AccountSnapshot, DayState, RiskConfig, TradingDay, day_state};
use crate::format::{age, signed};
use crate::store::Target;
use crate::store::account::Pending;

pub async fn status(target: &Target, out: Out) -> Result<(), Failure> {
    let store = open(target).await?;
    let risk = store.risk_config().await?.config;
    let account = store.latest_account().await?;
    let pending = store.pending().await?;
    let now = Utc::now();
    let trading_day = TradingDay::UTC_MIDNIGHT;
    let snapshots = store.account_since(trading_day.start_of(now)).await?;
    let day = day_state(&snapshots, trading_day, now);
    if out.json {
        return out.json(&json!({
            "ai_trading_enabled": risk.ai_trading_enabled,
            "halt_reason": risk.last_halt_reason,
            "account": account,
            "pending_ideas": pending,
            "day": day.map(|d| json!({
                "day_start": d.day_start,
                "pnl": d.day_pnl.to_string(),
                "drawdown": d.drawdown.to_string(),
                "opening_equity": d.opening_equity.to_string(),
                "peak_equity": d.peak_equity.to_string(),
            })),
            "limits": {
                "min_confidence_threshold": risk.min_confidence_threshold.to_string(),
                "max_lot_size": risk.max_lot_size.to_string(),
                "max_concurrent_trades": risk.max_concurrent_trades,
                "daily_profit_target": risk.daily_profit_target.to_string(),
                "max_drawdown_amount": risk.max_drawdown_amount.to_string(),
            },
        }));
    }
    print_status(&risk, account.as_ref(), day.as_ref(), &pending, now);
    Ok(())
}

/// `status` as text: one line each for the switch, the account, the day, the ideas
/// waiting and the limits.
fn print_status(
    risk: &RiskConfig,
    account: Option<&AccountSnapshot>,
    day: Option<&DayState>,
    pending: &Pending,
    now: DateTime<Utc>,
) {
    if risk.ai_trading_enabled {
        println!("AI TRADING: ON");
    } else {
        println!(
            "AI TRADING: OFF — {}",
            risk.last_halt_reason
                .as_deref()
                .unwrap_or("no reason recorded")
        );
    }
    match account {
        Some(a) => println!(
            "Account   balance {}  equity {}  open P/L {}  open positions {}  (captured {} ago)",
            a.balance,
            a.equity,
            signed(a.open_pl),
            a.open_positions,
            age(a.captured_at, now)
        ),
        None => println!("Account   no snapshot yet"),
    }
    if let Some(d) = day {
        println!(
            "Today     P/L {} of target {} · drawdown {} of limit {}  (day from {} UTC)",
            signed(d.day_pnl),
            risk.daily_profit_target,
            d.drawdown,
            risk.max_drawdown_amount,
            d.day_start.format("%Y-%m-%d %H:%M")
        );
    }
    match pending.oldest {
        Some(oldest) => println!(
            "Ideas     {} awaiting approval, the oldest for {}",
            pending.count,
            age(oldest, now)
        ),
        None => println!("Ideas     none awaiting approval"),
    }
    println!(
        "Limits    max lot {} · {} concurrent trades · min confidence {} · daily target {} · drawdown limit {}",
        risk.max_lot_size,
        risk.max_concurrent_trades,
        risk.min_confidence_threshold,
        risk.daily_profit_target,
        risk.max_drawdown_amount
    );
}

pub async fn halt(
    target: &Target,
    out: Out,
    reason: &str,
    keep_pending: bool,
) -> Result<(), Failure> {
    let store = open(target).await?;
    let halted = store
        .halt(
            reason,
            &super::login::identity(&store, target).await?,
            keep_pending,
        )
        .await?;
    if out.json {
        return out.json(&json!({
            "ai_trading_enabled": false,
            "already_halted": halted.already_halted,
            "halt_reason": halted.reason,
            "ideas_halted": halted.ideas_halted,
            "executions_cancelled": halted.executions_cancelled,
        }));
    }
    if halted.already_halted {
        println!(
            "AI trading was already off ({}); it stays off.",
            halted.reason
        );
    } else {
        println!("AI TRADING: OFF — {}", halted.reason);
    }
    println!(
        "Stopped {} waiting idea{}; cancelled {} pending order{}{}.",
        halted.ideas_halted,
        if halted.ideas_halted == 1 { "" } else { "s" },
        halted.executions_cancelled,
        if halted.executions_cancelled == 1 {
            ""
        } else {
            "s"
        },
        if keep_pending {
            " (--keep-pending)"
        } else {
            ""
        }
    );
    Ok(())
}

pub async fn resume(target: &Target, out: Out, note: &str) -> Result<(), Failure> {
    let store = open(target).await?;
    let operator = super::login::identity(&store, target).await?;
    let resumed = store.resume(&operator, note).await?;
    if out.json {
        return out.json(&json!({
            "ai_trading_enabled": true,
            "already_running": resumed.already_running,
        }));
    }
    if resumed.already_running {
        println!("AI trading was already on; nothing changed.");
    } else {
        println!("AI TRADING: ON");
    }
    Ok(())
}
