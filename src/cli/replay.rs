//! `tradedesk replay DECISION_ID`: what the AI saw when a decision was made (docs/platform.md
//! §2), as text or JSON. A replay some of whose rows no longer exist is printed as far as
//! it goes, and the command exits with SNAPSHOT_NOT_FOUND.

use serde_json::{Value, json};

use super::output::{Align, Out, Table};
use super::{Failure, open};
use crate::domain::replay::{AccountSource, EventThen, GateThen, MomentSource};
use crate::domain::text;
use crate::domain::{DayState, Outcome, Purpose, Replay, Strategy};
use crate::format::{Plain, ShortIds, Shown, short, signed, timestamp};
use crate::store::{ErrorCode, Target};

/// Where a rationale's lines after its first start: under its first, clear of the labels.
const RATIONALE_INDENT: &str = "           ";

/// Candles printed around the moment in the text output (the JSON has them all).
const TEXT_CANDLES_BEFORE: usize = 6;
const TEXT_CANDLES_AFTER: usize = 4;

pub async fn run(target: &Target, out: Out, id: &str) -> Result<(), Failure> {
    let store = open(target).await?;
    let replay = store.replay(store.resolve_decision(id).await?).await?;
    show(out, replay).await
}

/// Prints a replay (from the database or from an archive: the same output either way).
pub(super) async fn show(out: Out, replay: Replay) -> Result<(), Failure> {
    let partial = (!replay.complete()).then(|| {
        Failure::new(
            ErrorCode::SnapshotNotFound,
            format!(
                "the replay is partial: the rows of {} no longer exist",
                replay.missing_in_words()
            ),
        )
    });
    if !out.json {
        print_text(&replay);
        return partial.map_or(Ok(()), Err);
    }
    // A partial replay is still printed, then exits SNAPSHOT_NOT_FOUND.
    out.json_report(to_json(&replay), partial).await
}

/// The replay as JSON: `decision`, `idea`, `moment`, `strategy`, `market` (with `candles`),
/// `indicators`, `calendar` (each event with `minutes_until_release`), `news_block`,
/// `news`, `account`, `gate`, `decided`, `execution` and `missing`.
pub fn to_json(r: &Replay) -> Value {
    json!({
        "decision": r.decision,
        "idea": r.idea.as_ref().map(|i| {
            let mut v = json!(i);
            v["entry"] = json!(i.entry_shown());
            v["reward_to_risk"] = json!(i.reward_to_risk());
            v
        }),
        "moment": r.moment,
        "strategy": r.strategy.as_ref().map(|(s, as_of)| strategy_json(s, as_of)),
        "market": r.market.as_ref().map(|m| json!({
            "symbol": m.symbol,
            "timeframe": m.timeframe,
            "timeframe_choice": m.choice,
            "candles": m.candles,
        })),
        "indicators": r.indicators,
        "calendar": r.calendar.iter().map(event_json).collect::<Vec<_>>(),
        "news_block": r.news_block,
        "news": r.news,
        "account": r.account.as_ref().map(|a| json!({
            "snapshot": a.snapshot,
            "source": a.source,
            "day": a.day.as_ref().map(day_json),
        })),
        "gate": r.gate.as_ref().map(gate_json),
        "decided": r.decided,
        "execution": r.execution,
        "cancelled_by": r.cancelled_by,
        "missing": r.missing,
        "unreadable": r.unreadable,
    })
}

fn strategy_json(s: &Strategy, as_of: &crate::domain::replay::AsOf) -> Value {
    let mut v = s.to_document();
    v["as_of"] = json!(as_of);
    v["in_words"] = match &s.rules {
        Ok(rules) => {
            let w = rules.in_words();
            json!({"sessions": w.sessions, "caps": w.caps, "news": w.news, "entry": w.entry,
                   "exits": w.exits, "notes": w.notes})
        }
        Err(e) => json!({"malformed": e.to_string()}),
    };
    v
}

fn event_json(e: &EventThen) -> Value {
    json!({
        "event_time": e.event.event_time,
        "currency": e.event.currency,
        "impact": e.event.impact.as_str(),
        "title": e.event.title,
        "previous": e.previous,
        "forecast": e.forecast,
        "actual": e.actual,
        "minutes_until_release": e.minutes_until_release,
        "in_news_block": e.in_news_block,
    })
}

fn day_json(d: &DayState) -> Value {
    json!({
        "day_start": d.day_start,
        "opening_equity": d.opening_equity,
        "peak_equity": d.peak_equity,
        "latest_equity": d.latest_equity,
        "as_of": d.as_of,
        "day_pnl": d.day_pnl,
        "drawdown": d.drawdown,
    })
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Waived => "waived",
    }
}

fn purpose(p: Purpose) -> &'static str {
    match p {
        Purpose::Automatic => "automatic",
        Purpose::HumanApproval => "human_approval",
    }
}

fn gate_json(g: &GateThen) -> Value {
    json!({
        "at": g.at,
        "purpose": purpose(g.purpose),
        "lot": g.lot,
        "lot_from": g.lot_from,
        "limits": g.limits,
        "limits_as_of": g.limits_as_of,
        "ai_switch_as_of": g.switch_as_of,
        "day": g.day.as_ref().map(day_json),
        "open_trades": {"total": g.open_trades.total, "for_strategy": g.open_trades.for_strategy},
        "passed": g.report.passed(),
        "risk_check_result": g.report.risk_check_result(),
        "recorded": g.recorded,
        "verdicts": g.report.verdicts.iter().map(|v| json!({
            "rule": v.rule.as_str(),
            "outcome": outcome(v.outcome),
            "reason": v.reason,
        })).collect::<Vec<_>>(),
    })
}

/// `14:30` on the moment's day, else `2025-10-29 14:30`.
fn clock(t: chrono::DateTime<chrono::Utc>, r: &Replay) -> String {
    if t.date_naive() == r.moment.at.date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

fn print_text(r: &Replay) {
    let m = &r.moment;
    match &r.decision {
        Some(d) => println!(
            "Replay of decision {} — {} {} at {} UTC",
            short(d.id),
            d.action,
            text::line(d.symbol.as_deref().unwrap_or("(global)")),
            timestamp(d.occurred_at)
        ),
        None => {
            if let Some(i) = &r.idea {
                println!(
                    "Replay of idea {} — no decision yet — {} at {} UTC",
                    short(i.id),
                    text::line(&i.symbol),
                    timestamp(i.created_at)
                );
            }
        }
    }
    let source = match m.source {
        MomentSource::Snapshot => "its snapshot's capture",
        MomentSource::IdeaCreated => "the idea's creation (its snapshot row is gone)",
        MomentSource::DecisionOccurred => "the decision's own time (no snapshot)",
    };
    println!("The AI looked at {} UTC ({source}).", timestamp(m.at));
    println!();
    if let Some(d) = &r.decision {
        println!(
            "Decision   {} by {} · risk check {} · confidence {}",
            d.action,
            text::line(d.operator.as_deref().unwrap_or("the platform")),
            text::line(d.risk_check_result.as_deref().unwrap_or("—")),
            d.confidence_score
                .map_or_else(|| "—".to_owned(), |c| c.to_string())
        );
        if r.idea.is_none() {
            println!("Rationale  {}", text::lines(&d.rationale, RATIONALE_INDENT));
        }
    }
    if let Some(i) = &r.idea {
        println!(
            "Idea       {} {} {} · {} · hold {}",
            short(i.id),
            text::line(&i.symbol),
            i.direction,
            i.status,
            text::line(i.expected_hold.as_deref().unwrap_or("—"))
        );
        println!(
            "           entry {} · stop {} · targets {} · R:R {}",
            i.entry_shown(),
            i.stop_shown(),
            i.targets_shown(),
            i.reward_to_risk()
                .map_or_else(|| "—".to_owned(), |x| x.to_string())
        );
        println!("Confidence {}", i.confidence_score);
        println!("Rationale  {}", text::lines(&i.rationale, RATIONALE_INDENT));
    }
    print_strategy(r);
    print_market(r);
    print_indicators(r);
    print_calendar(r);
    print_news(r);
    print_account(r);
    print_gate(r);
    print_outcome(r);
    if !r.missing.is_empty() {
        println!();
        println!(
            "MISSING    {}: their rows no longer exist.",
            r.missing_in_words()
        );
    }
    let unreadable = ShortIds::new(r.unreadable.iter().map(|f| f.id));
    for f in &r.unreadable {
        println!(
            "UNREADABLE {} {} cannot be read ({}): left out of the replay.",
            f.table,
            unreadable.of(f.id),
            text::line(&f.reason())
        );
    }
}

fn print_strategy(r: &Replay) {
    let Some((s, as_of)) = &r.strategy else {
        return;
    };
    println!();
    println!(
        "Strategy   {} ({}) — {as_of}",
        text::line(&s.name),
        if s.is_active { "active" } else { "disabled" }
    );
    match &s.rules {
        Ok(rules) => {
            let w = rules.in_words();
            println!("           sessions  {}", text::line(&w.sessions));
            println!("           caps      {}", text::line(&w.caps));
            println!("           news      {}", text::line(&w.news));
            println!("           entry     {}", text::line(&w.entry));
            println!("           exits     {}", text::line(&w.exits));
            for note in &w.notes {
                println!("           note      {}", text::line(note));
            }
        }
        Err(e) => println!("           MALFORMED {}", text::line(&e.to_string())),
    }
}

fn print_market(r: &Replay) {
    let Some(m) = &r.market else {
        return;
    };
    println!();
    let (first, last) = (m.candles.first(), m.candles.last());
    println!(
        "Market     {} {} ({}): {} candles{}",
        text::line(&m.symbol),
        m.timeframe,
        m.choice,
        m.candles.len(),
        match (first, last) {
            (Some(a), Some(b)) => format!(
                ", {} – {} UTC",
                clock(a.captured_at, r),
                clock(b.captured_at, r)
            ),
            _ => String::new(),
        }
    );
    let upto = m
        .candles
        .iter()
        .position(|c| c.captured_at > r.moment.at)
        .unwrap_or(m.candles.len());
    let from = upto.saturating_sub(TEXT_CANDLES_BEFORE);
    let to = (upto + TEXT_CANDLES_AFTER).min(m.candles.len());
    let mut table = Table::new(&[
        ("", Align::Left),
        ("TIME (UTC)", Align::Left),
        ("OPEN", Align::Right),
        ("HIGH", Align::Right),
        ("LOW", Align::Right),
        ("CLOSE", Align::Right),
        ("VOLUME", Align::Right),
    ]);
    for (n, c) in m.candles.iter().enumerate().take(to).skip(from) {
        let mark = if n + 1 == upto { "▶" } else { "" };
        table.row([
            mark.to_owned(),
            clock(c.captured_at, r),
            r.price(c.open),
            r.price(c.high),
            r.price(c.low),
            r.price(c.close),
            c.volume.to_string(),
        ]);
    }
    print!("{}", table.render("  "));
}

fn print_indicators(r: &Replay) {
    let Some(i) = &r.indicators else {
        return;
    };
    let value = |d: Option<rust_decimal::Decimal>| {
        d.map_or_else(|| "—".to_owned(), |d| Plain(d).to_string())
    };
    let before = (r.moment.at - i.captured_at).num_minutes();
    println!();
    println!(
        "Indicators {} at {} UTC ({before} min before): RSI 14 {} · SMA 50 {} · SMA 200 {} · ATR {}",
        text::line(&i.timeframe),
        clock(i.captured_at, r),
        value(i.rsi_14),
        value(i.sma_50),
        value(i.sma_200),
        value(i.atr)
    );
    if let Some(m) = &i.macd {
        println!(
            "           MACD {} · signal {} · histogram {}",
            value(m.macd),
            value(m.signal),
            value(m.hist)
        );
    }
}

fn print_calendar(r: &Replay) {
    println!();
    match &r.news_block {
        Some(b) => println!(
            "Calendar   news block: {} min either side, {} – {} UTC, for {}",
            b.minutes,
            clock(b.from, r),
            clock(b.until, r),
            text::line(&b.whose)
        ),
        None => println!("Calendar"),
    }
    if r.calendar.is_empty() {
        println!("  no events within 12 hours");
        return;
    }
    let mut table = Table::new(&[
        ("RELEASE", Align::Right),
        ("TIME (UTC)", Align::Left),
        ("CCY", Align::Left),
        ("IMPACT", Align::Left),
        ("", Align::Left),
        ("EVENT", Align::Left),
        ("PREV", Align::Left),
        ("FCST", Align::Left),
        ("ACTUAL", Align::Left),
    ]);
    for e in &r.calendar {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
        table.row([
            format!("{:+} min", e.minutes_until_release),
            clock(e.event.event_time, r),
            e.event.currency.clone(),
            if e.high_impact() {
                "HIGH".to_owned()
            } else {
                e.event.impact.to_string()
            },
            if e.in_news_block {
                "BLOCK".to_owned()
            } else {
                String::new()
            },
            e.event.title.clone(),
            dash(&e.previous),
            dash(&e.forecast),
            dash(&e.actual),
        ]);
    }
    print!("{}", table.render("  "));
}

fn print_news(r: &Replay) {
    println!();
    println!("News");
    if r.news.is_empty() {
        println!("  no headlines in the day before");
        return;
    }
    for h in &r.news {
        println!(
            "  {}  {}  {}{}",
            clock(h.published_at, r),
            text::line(&h.source),
            text::line(&h.headline),
            if h.symbols.is_empty() {
                String::new()
            } else {
                format!("  [{}]", text::line(&h.symbols.join(", ")))
            }
        );
    }
}

fn print_account(r: &Replay) {
    let Some(a) = &r.account else {
        return;
    };
    let s = &a.snapshot;
    println!();
    let source = match a.source {
        AccountSource::SnapshotRef => format!("snapshot {}", short(s.id)),
        AccountSource::LastBefore => format!("last snapshot before, {}", short(s.id)),
    };
    println!(
        "Account    {source} at {} UTC: balance {} · equity {} · margin used {} · margin free {} · open P/L {} · {} open position{}",
        clock(s.captured_at, r),
        s.balance,
        s.equity,
        s.margin_used,
        s.margin_free,
        signed(s.open_pl),
        s.open_positions,
        if s.open_positions == 1 { "" } else { "s" }
    );
    if let Some(d) = &a.day {
        println!(
            "           day P/L {} (opened at {}, peak {}, drawdown {})",
            signed(d.day_pnl),
            d.opening_equity,
            d.peak_equity,
            d.drawdown
        );
    }
}

fn print_gate(r: &Replay) {
    let Some(g) = &r.gate else {
        return;
    };
    println!();
    println!(
        "Gate       re-run as of {} UTC as {}, lot {} ({}): {}{}",
        timestamp(g.at),
        match g.purpose {
            Purpose::Automatic => "automatic execution",
            Purpose::HumanApproval => "a human approval",
        },
        Shown(g.lot),
        match g.lot_from {
            crate::domain::replay::LotFrom::Execution => "the order's",
            crate::domain::replay::LotFrom::Rationale => "the approval's",
            crate::domain::replay::LotFrom::Default => "the default",
        },
        g.report.risk_check_result(),
        g.recorded
            .as_deref()
            .map_or_else(String::new, |rec| format!(
                " (recorded then: {})",
                text::line(rec)
            ))
    );
    println!(
        "           limits {} · AI switch from {}",
        g.limits_as_of, g.switch_as_of
    );
    let mut table = Table::new(&[
        ("RESULT", Align::Left),
        ("RULE", Align::Left),
        ("REASON", Align::Left),
    ]);
    for v in &g.report.verdicts {
        let mark = match v.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Waived => "waived",
        };
        table.row([mark, v.rule.as_str(), v.reason.as_str()]);
    }
    print!("{}", table.render("  "));
}

fn print_outcome(r: &Replay) {
    if let Some(d) = &r.decided {
        println!();
        println!(
            "Decided    {} by {} at {} UTC",
            d.action.in_words(),
            text::line(d.operator.as_deref().unwrap_or("the platform")),
            timestamp(d.occurred_at)
        );
    }
    if let Some(e) = &r.execution {
        if r.decided.is_none() {
            println!();
        }
        println!(
            "Execution  order {} · {} · lot {} · broker order {} · fill {} · requested by {} at {} UTC",
            short(e.id),
            text::line(&e.state),
            Shown(e.lot_size),
            text::line(e.broker_order_id.as_deref().unwrap_or("—")),
            e.fill_price.map_or_else(|| "—".to_owned(), |p| r.price(p)),
            text::line(&e.requested_by),
            timestamp(e.requested_at)
        );
    }
    if let Some(h) = &r.cancelled_by {
        println!(
            "Cancelled  by the kill switch at {} UTC ({}): {}",
            timestamp(h.occurred_at),
            text::line(h.operator.as_deref().unwrap_or("the platform")),
            text::lines(&h.rationale, RATIONALE_INDENT)
        );
    }
}
