//! Texts the console shows about a row or an act: details dialogs and outcomes.

use super::dialog::Dialog;
use crate::domain::Outcome;
use crate::domain::strategy::RulesInWords;
use crate::store::approve::Approval;
use crate::store::ideas::Idea;
use crate::store::strategies::Strategy;
use crate::store::timeline::Decision;

/// The dialog that shows what an approval came to.
pub fn approval_outcome(approval: &Approval, lot: &str) -> Dialog {
    match approval {
        Approval::Executed {
            execution, report, ..
        } => {
            let mut lines = vec![
                format!(
                    "Order {} for {lot} lots handed to execution.",
                    crate::store::ids::short(*execution)
                ),
                "The idea is now auto_executed; the timeline records your approval.".to_string(),
            ];
            for v in report
                .verdicts
                .iter()
                .filter(|v| v.outcome == Outcome::Waived)
            {
                lines.push(format!("waived for a human: {} — {}", v.rule, v.reason));
            }
            Dialog::Outcome {
                title: "EXECUTED".into(),
                lines,
                ok: true,
            }
        }
        Approval::Blocked { report, .. } => {
            let mut lines = vec![format!(
                "The risk checks refused {lot} lots; the idea is now rejected ({}).",
                report.risk_check_result()
            )];
            lines.extend(
                report
                    .failures()
                    .map(|v| format!("{} — {}", v.rule, v.reason)),
            );
            Dialog::Outcome {
                title: "BLOCKED BY THE RISK CHECKS".into(),
                lines,
                ok: false,
            }
        }
    }
}

/// A strategy's rules in plain words, then its documents as stored.
pub fn strategy_details(s: &Strategy, words: Option<&Result<RulesInWords, String>>) -> Vec<String> {
    let mut lines = vec![
        format!("symbols    {}", s.allowed_symbols.join(", ")),
        format!("R:R        {}", s.rr_expectation),
    ];
    match words {
        Some(Ok(w)) => {
            lines.push(format!("sessions   {}", w.sessions));
            lines.push(format!("caps       {}", w.caps));
            lines.push(format!("news       {}", w.news));
            lines.push(format!("entry      {}", w.entry));
            lines.push(format!("exit       {}", w.exits));
            lines.extend(w.notes.iter().map(|n| format!("note       {n}")));
        }
        Some(Err(problem)) => {
            lines.push(format!("MALFORMED  {problem}; the Gate refuses its ideas"));
        }
        None => {}
    }
    lines.push(String::new());
    for (name, value) in [
        ("session_windows", &s.session_windows),
        ("entry_conditions", &s.entry_conditions),
        ("exit_rules", &s.exit_rules),
        ("forbidden_conditions", &s.forbidden_conditions),
        ("risk_caps", &s.risk_caps),
    ] {
        lines.push(format!("{name} {value}"));
    }
    lines
}

pub fn idea_details(i: &Idea) -> Vec<String> {
    let list = |v: &[rust_decimal::Decimal]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        format!("{} {} — {}", i.symbol, i.direction, i.status),
        format!(
            "entry      {}",
            match (&i.entry_price, &i.entry_range) {
                (Some(p), _) => p.to_string(),
                (None, Some(r)) => list(r),
                _ => "market".into(),
            }
        ),
        format!("stop       {}", i.stop_loss),
        format!("targets    {}", list(&i.take_profit)),
        format!(
            "R:R        {}",
            i.reward_to_risk()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "—".into())
        ),
        format!("confidence {}", i.confidence_score),
        format!(
            "strategy   {}",
            i.strategy_name.as_deref().unwrap_or("none")
        ),
        format!("hold       {}", i.expected_hold.as_deref().unwrap_or("—")),
        format!(
            "created    {}",
            i.created_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        format!("snapshot   {}", i.snapshot_ref),
        String::new(),
        i.rationale.clone(),
    ]
}

pub fn decision_details(d: &Decision) -> Vec<String> {
    vec![
        format!(
            "{} — {}",
            d.occurred_at.format("%Y-%m-%d %H:%M:%S UTC"),
            d.action
        ),
        format!("symbol     {}", d.symbol.as_deref().unwrap_or("— (global)")),
        format!("operator   {}", d.operator.as_deref().unwrap_or("platform")),
        format!(
            "risk check {}",
            d.risk_check_result.as_deref().unwrap_or("—")
        ),
        format!(
            "confidence {}",
            d.confidence_score
                .map(|c| c.to_string())
                .unwrap_or_else(|| "—".into())
        ),
        format!(
            "idea       {}",
            d.trade_idea_id
                .map(|i| i.to_string())
                .unwrap_or_else(|| "—".into())
        ),
        format!("override   {}", d.human_override),
        String::new(),
        d.rationale.clone(),
    ]
}
