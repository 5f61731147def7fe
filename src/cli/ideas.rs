//! `tradedesk ideas list|show|check|approve|reject`.

use chrono::Utc;
use serde_json::json;

use super::output::{Align, Out, Table, UNREADABLE};
use super::{Failure, IdeasCommand, open};
use crate::domain::label::labels;
use crate::domain::stored::Listed;
use crate::domain::text;
use crate::domain::{Idea, IdeaStatus, Lot, Outcome, Purpose};
use crate::format::{ShortIds, age, short, timestamp};
use crate::store::ErrorCode;
use crate::store::Target;
use crate::store::approve::Approval;
use crate::store::ideas::IdeaFilter;

pub async fn run(target: &Target, out: Out, command: IdeasCommand) -> Result<(), Failure> {
    match command {
        IdeasCommand::List {
            status,
            symbol,
            limit,
        } => list(target, out, status.as_deref(), symbol, limit).await,
        IdeasCommand::Show { id } => show(target, out, &id).await,
        IdeasCommand::Check { id, lot } => check(target, out, &id, lot.as_deref()).await,
        IdeasCommand::Approve { id, lot } => approve(target, out, &id, &lot).await,
        IdeasCommand::Reject { id, reason } => reject(target, out, &id, &reason).await,
    }
}

async fn list(
    target: &Target,
    out: Out,
    status: Option<&str>,
    symbol: Option<String>,
    limit: i64,
) -> Result<(), Failure> {
    // Refuse an unknown status before connecting: a typo is refused even offline.
    let status = status
        .map(|s| {
            s.parse::<IdeaStatus>().map_err(|_| {
                Failure::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "`{s}` is not an idea status: use one of {}",
                        labels(IdeaStatus::ALL)
                    ),
                )
            })
        })
        .transpose()?;
    let ideas = open(target)
        .await?
        .ideas(&IdeaFilter {
            status,
            symbol,
            limit,
        })
        .await?;
    if out.json {
        let shown: Vec<serde_json::Value> = ideas
            .iter()
            .map(|i| match i {
                Listed::Read(i) => serde_json::to_value(i).unwrap_or_default(),
                Listed::Flagged(f) => json!({ "id": f.id, "unreadable": f }),
            })
            .collect();
        return out.json(&shown);
    }
    print_table(&ideas);
    Ok(())
}

async fn show(target: &Target, out: Out, id: &str) -> Result<(), Failure> {
    let store = open(target).await?;
    let idea = match store.idea(store.resolve_idea(id).await?).await? {
        Listed::Read(idea) => idea,
        Listed::Flagged(f) => return super::output::show_flagged(out, &f),
    };
    if out.json {
        return out.json(&idea);
    }
    print_one(&idea);
    Ok(())
}

/// `ideas check`: the verdict of the risk checks on an approval, written nowhere.
async fn check(target: &Target, out: Out, id: &str, lot: Option<&str>) -> Result<(), Failure> {
    let lot = lot.map(Lot::parse).transpose()?;
    let store = open(target).await?;
    let context = store.gate_context(store.resolve_idea(id).await?).await?;
    let lot = match lot {
        Some(lot) => lot,
        None => Lot::new(context.default_lot())?,
    };
    let report = context.judge(lot, Purpose::HumanApproval);
    if out.json {
        out.json(&json!({
            "idea": context.idea.id,
            "lot": lot.value().to_string(),
            "would_pass": report.passed(),
            "risk_check_result": report.risk_check_result(),
            "verdicts": verdicts_json(&report),
        }))?;
    } else {
        println!(
            "Approving idea {} ({} {}) with lot {} would {}.",
            short(context.idea.id),
            text::line(&context.idea.symbol),
            context.idea.direction,
            lot,
            if report.passed() {
                "PASS the risk checks"
            } else {
                "be REFUSED"
            }
        );
        let mut table = Table::new(&[
            ("RESULT", Align::Left),
            ("RULE", Align::Left),
            ("REASON", Align::Left),
        ]);
        for v in &report.verdicts {
            let mark = match v.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "FAIL",
                Outcome::Waived => "waived",
            };
            table.row([mark, v.rule.as_str(), v.reason.as_str()]);
        }
        print!("{}", table.render("  "));
    }
    if report.passed() {
        return Ok(());
    }
    Err(Failure::new(
        ErrorCode::RiskViolation,
        format!(
            "an approval would be refused: {}",
            report.risk_check_result()
        ),
    ))
}

async fn approve(target: &Target, out: Out, id: &str, lot: &str) -> Result<(), Failure> {
    // Refuse a malformed lot before touching the database.
    let lot = Lot::parse(lot)?;
    let store = open(target).await?;
    let id = store.resolve_idea(id).await?;
    let operator = super::login::identity(&store, target).await?;
    let approval = store.approve(id, lot, &operator).await?;
    report_approval(out, &approval, lot)
}

async fn reject(target: &Target, out: Out, id: &str, reason: &str) -> Result<(), Failure> {
    let store = open(target).await?;
    let id = store.resolve_idea(id).await?;
    let operator = super::login::identity(&store, target).await?;
    let rejected = store.reject(id, reason, &operator).await?;
    if out.json {
        return out.json(&json!({
            "idea": rejected.idea,
            "status": IdeaStatus::Rejected,
            "decision": rejected.decision,
        }));
    }
    println!("Rejected idea {}.", short(rejected.idea));
    Ok(())
}

fn print_table(ideas: &[Listed<Idea>]) {
    if ideas.is_empty() {
        println!("No ideas.");
        return;
    }
    let now = Utc::now();
    let shown = ShortIds::new(ideas.iter().map(Listed::id));
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("SYMBOL", Align::Left),
        ("SIDE", Align::Left),
        ("ENTRY", Align::Right),
        ("STOP", Align::Right),
        ("TARGETS", Align::Left),
        ("R:R", Align::Right),
        ("CONF", Align::Right),
        ("STATUS", Align::Left),
        ("STRATEGY", Align::Left),
        ("AGE", Align::Right),
    ]);
    for listed in ideas {
        let i = match listed {
            Listed::Read(i) => i,
            Listed::Flagged(f) => {
                let column = |name| f.column(name).unwrap_or("?").to_string();
                let entry = crate::domain::idea::flagged_entry(f);
                table.row([
                    shown.of(f.id),
                    column("symbol"),
                    column("direction"),
                    entry,
                    column("stop_loss"),
                    column("take_profit"),
                    "—".to_string(),
                    column("confidence_score"),
                    format!("{} {UNREADABLE}", column("status")),
                    column("strategy"),
                    crate::format::age_of(listed.at(), now),
                ]);
                continue;
            }
        };
        table.row([
            shown.of(i.id),
            i.symbol.clone(),
            i.direction.to_string(),
            i.entry_shown(),
            i.stop_shown(),
            i.targets_shown(),
            i.reward_to_risk()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "—".into()),
            i.confidence_score.to_string(),
            i.status.to_string(),
            i.strategy_name.clone().unwrap_or_else(|| "—".into()),
            age(i.created_at, now),
        ]);
    }
    table.print();
    super::output::print_unreadable(
        ideas.iter().filter_map(Listed::flagged),
        &shown,
        Some("ideas show"),
    );
}

fn print_one(i: &Idea) {
    let now = Utc::now();
    println!("Idea       {}", i.id);
    println!("Status     {}", i.status);
    println!("Symbol     {} {}", text::line(&i.symbol), i.direction);
    println!("Entry      {}", i.entry_shown());
    println!("Stop       {}", i.stop_shown());
    println!("Targets    {}", i.targets_shown());
    if let Some(rr) = i.reward_to_risk() {
        println!("R:R        {rr}");
    }
    println!("Confidence {}", i.confidence_score);
    println!(
        "Strategy   {}",
        match (&i.strategy_name, i.strategy_id) {
            (Some(name), Some(id)) => format!("{} ({})", text::line(name), short(id)),
            _ => "none".to_string(),
        }
    );
    if let Some(hold) = &i.expected_hold {
        println!("Hold       {}", text::line(hold));
    }
    println!("Snapshot   {}", i.snapshot_ref);
    println!(
        "Created    {} UTC ({} ago)",
        timestamp(i.created_at),
        age(i.created_at, now)
    );
    // A rationale may run over lines: each continues under the first, never at the margin
    // where a field could be forged.
    println!("Rationale  {}", text::lines(&i.rationale, "           "));
}

/// Prints what an approval came to; a blocked approval is a RISK_VIOLATION failure.
fn report_approval(out: Out, approval: &Approval, lot: Lot) -> Result<(), Failure> {
    let (idea, report) = match approval {
        Approval::Executed { idea, report, .. } | Approval::Blocked { idea, report, .. } => {
            (*idea, report)
        }
    };
    let executed = matches!(approval, Approval::Executed { .. });
    if out.json {
        let verdicts = verdicts_json(report);
        let mut value = json!({
            "idea": idea,
            "lot": lot.value().to_string(),
            "status": if executed { IdeaStatus::AutoExecuted } else { IdeaStatus::Rejected },
            "risk_check_result": report.risk_check_result(),
            "verdicts": verdicts,
        });
        if let Approval::Executed { execution, .. } = approval {
            value["execution"] = json!(execution);
        }
        out.json(&value)?;
    } else if let Approval::Executed { execution, .. } = approval {
        println!(
            "Approved idea {} with lot {}: order {} handed to execution.",
            short(idea),
            lot,
            short(*execution)
        );
        for v in report
            .verdicts
            .iter()
            .filter(|v| v.outcome == Outcome::Waived)
        {
            println!(
                "  waived for a human: {} — {}",
                v.rule,
                text::line(&v.reason)
            );
        }
    } else {
        println!(
            "Blocked: the risk checks refused lot {lot} for idea {}, which is now rejected.",
            short(idea)
        );
        for v in report.failures() {
            println!("  {} — {}", v.rule, text::line(&v.reason));
        }
    }
    if executed {
        Ok(())
    } else {
        Err(Failure::new(
            ErrorCode::RiskViolation,
            format!("approval blocked: {}", report.risk_check_result()),
        ))
    }
}

fn verdicts_json(report: &crate::domain::GateReport) -> Vec<serde_json::Value> {
    report
        .verdicts
        .iter()
        .map(|v| {
            json!({
                "rule": v.rule.as_str(),
                "outcome": match v.outcome {
                    Outcome::Pass => "pass",
                    Outcome::Fail => "fail",
                    Outcome::Waived => "waived",
                },
                "reason": v.reason,
            })
        })
        .collect()
}
