//! `tradedesk status`, `halt` and `resume`.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::output::Out;
use super::{Failure, open};
use crate::domain::stored::{Listed, Stamp};
use crate::domain::text;
use crate::domain::{AccountSnapshot, DayState, RiskConfig, TradingDay, day_state};
use crate::format::{ShortIds, age, signed};
use crate::store::Target;
use crate::store::account::{DayCaptures, Pending};
use crate::store::risk::RiskShown;

pub async fn status(target: &Target, out: Out) -> Result<(), Failure> {
    let store = open(target).await?;
    let risk = store.risk_shown().await?;
    let account = store.latest_account().await?;
    let pending = store.pending(None).await?;
    let now = Utc::now();
    let trading_day = TradingDay::UTC_MIDNIGHT;
    let captures = store.account_since(trading_day.start_of(now)).await?;
    // The day's figures only from a day whose every capture reads: one that does not
    // would make them a guess.
    let day = if !captures.unreadable_by(now) {
        day_state(&captures.read, trading_day, now)
    } else {
        None
    };
    let limits = risk.row().map(|r| &r.config);
    if out.json {
        return out.json(&json!({
            "ai_trading_enabled": risk.switch.ai_trading_enabled,
            "halt_reason": risk.switch.last_halt_reason,
            "account": account,
            "pending_ideas": pending,
            "day": day.map(|d| json!({
                "day_start": d.day_start,
                "pnl": d.day_pnl.to_string(),
                "drawdown": d.drawdown.to_string(),
                "opening_equity": d.opening_equity.to_string(),
                "peak_equity": d.peak_equity.to_string(),
            })),
            "unreadable_captures": captures.flagged,
            "limits": match &risk.limits {
                Ok(r) => json!({
                    "min_confidence_threshold": r.config.min_confidence_threshold.to_string(),
                    "max_lot_size": r.config.max_lot_size.to_string(),
                    "max_concurrent_trades": r.config.max_concurrent_trades,
                    "daily_profit_target": r.config.daily_profit_target.to_string(),
                    "max_drawdown_amount": r.config.max_drawdown_amount.to_string(),
                }),
                Err(flagged) => json!({"unreadable": flagged}),
            },
        }));
    }
    print_status(
        &risk,
        limits,
        account.as_ref(),
        day.as_ref(),
        &captures,
        &pending,
        now,
    );
    Ok(())
}

/// `status` as text: one line each for the switch, the account, the day, the ideas
/// waiting and the limits; a row that cannot be read is said to be so, with why.
fn print_status(
    risk: &RiskShown,
    limits: Option<&RiskConfig>,
    account: Option<&Listed<AccountSnapshot>>,
    day: Option<&DayState>,
    captures: &DayCaptures,
    pending: &Pending,
    now: DateTime<Utc>,
) {
    // The captures that cannot be read are listed together: none two alike.
    let shown = ShortIds::new(
        account
            .and_then(Listed::flagged)
            .into_iter()
            .chain(&captures.flagged)
            .map(|f| f.id),
    );
    if risk.switch.ai_trading_enabled {
        println!("AI TRADING: ON");
    } else {
        println!(
            "AI TRADING: OFF — {}",
            text::line(
                risk.switch
                    .last_halt_reason
                    .as_deref()
                    .unwrap_or("no reason recorded")
            )
        );
    }
    match account {
        Some(Listed::Read(a)) => println!(
            "Account   balance {}  equity {}  open P/L {}  open positions {}  (captured {} ago)",
            a.balance,
            a.equity,
            signed(a.open_pl),
            a.open_positions,
            age(a.captured_at, now)
        ),
        Some(Listed::Flagged(f)) => println!(
            "Account   UNREADABLE: the latest capture {} cannot be read: {}",
            shown.of(f.id),
            text::line(&f.reason())
        ),
        None => println!("Account   no snapshot yet"),
    }
    match (day, limits) {
        (Some(d), Some(l)) => println!(
            "Today     P/L {} of target {} · drawdown {} of limit {}  (day from {} UTC)",
            signed(d.day_pnl),
            l.daily_profit_target,
            d.drawdown,
            l.max_drawdown_amount,
            d.day_start.format("%Y-%m-%d %H:%M")
        ),
        (Some(d), None) => println!(
            "Today     P/L {} · drawdown {}  (day from {} UTC)",
            signed(d.day_pnl),
            d.drawdown,
            d.day_start.format("%Y-%m-%d %H:%M")
        ),
        (None, _) => {}
    }
    for f in &captures.flagged {
        println!(
            "Today     UNREADABLE: account capture {} cannot be read ({}): the day's P/L and drawdown are not shown",
            shown.of(f.id),
            text::line(&f.reason())
        );
    }
    match pending.oldest {
        Some(Stamp::At(oldest)) => println!(
            "Ideas     {} awaiting approval, the oldest for {}",
            pending.count,
            age(oldest, now)
        ),
        Some(oldest) => println!(
            "Ideas     {} awaiting approval, the oldest created at {oldest}",
            pending.count
        ),
        None => println!("Ideas     none awaiting approval"),
    }
    match (limits, &risk.limits) {
        (Some(l), _) => println!(
            "Limits    max lot {} · {} concurrent trades · min confidence {} · daily target {} · drawdown limit {}",
            l.max_lot_size,
            l.max_concurrent_trades,
            l.min_confidence_threshold,
            l.daily_profit_target,
            l.max_drawdown_amount
        ),
        (None, Err(f)) => println!(
            "Limits    UNREADABLE: risk_config cannot be read: {} (approvals are refused until it is corrected: `tradedesk risk set`)",
            text::line(&f.reason())
        ),
        (None, Ok(_)) => {}
    }
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
            &super::login::halt_identity(&store, target).await?,
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
            text::line(&halted.reason)
        );
    } else {
        println!("AI TRADING: OFF — {}", text::line(&halted.reason));
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
