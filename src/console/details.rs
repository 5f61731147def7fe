//! Texts the console shows about a row or an act: details dialogs and outcomes.

use super::dialog::Dialog;
use crate::domain::stored::Flagged;
use crate::domain::{Decision, Idea, Lot, Outcome, Strategy};
use crate::format::{short, timestamp};
use crate::store::approve::Approval;

/// The dialog that shows what an approval came to.
pub fn approval_outcome(approval: &Approval, lot: Lot) -> Dialog {
    match approval {
        Approval::Executed {
            execution, report, ..
        } => {
            let mut lines = vec![
                format!(
                    "Order {} for {lot} lots handed to execution.",
                    short(*execution)
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
pub fn strategy_details(s: &Strategy) -> Vec<String> {
    let mut lines = vec![
        format!("symbols    {}", s.allowed_symbols.join(", ")),
        format!("R:R        {}", s.rr_expectation),
    ];
    match &s.rules {
        Ok(rules) => {
            let w = rules.in_words();
            lines.push(format!("sessions   {}", w.sessions));
            lines.push(format!("caps       {}", w.caps));
            lines.push(format!("news       {}", w.news));
            lines.push(format!("entry      {}", w.entry));
            lines.push(format!("exit       {}", w.exits));
            lines.extend(w.notes.iter().map(|n| format!("note       {n}")));
        }
        Err(problem) => {
            lines.push(format!("MALFORMED  {problem}; the Gate refuses its ideas"));
        }
    }
    lines.push(String::new());
    let d = &s.documents;
    for (name, value) in [
        ("session_windows", &d.session_windows),
        ("entry_conditions", &d.entry_conditions),
        ("exit_rules", &d.exit_rules),
        ("forbidden_conditions", &d.forbidden_conditions),
        ("risk_caps", &d.risk_caps),
    ] {
        lines.push(format!("{name} {value}"));
    }
    lines
}

/// A row that cannot be read: why, then every column as stored (`NaN`, `∞` as such).
pub fn flagged_details(f: &Flagged) -> Vec<String> {
    let mut lines = vec![
        format!("UNREADABLE {} cannot be read: {}", f.table, f.reason()),
        "It is shown as stored; acts that need what cannot be read are refused.".to_string(),
        String::new(),
    ];
    let width = f.columns.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    lines.extend(
        f.columns
            .iter()
            .map(|(column, value)| format!("{column:width$}  {value}")),
    );
    lines
}

/// An idea in full; prices at the instrument's digits, as the panes show them. Its
/// rationale a line a line (the view shows each, escaped).
pub fn idea_details(i: &Idea) -> Vec<String> {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    let mut lines = vec![
        format!("{} {} — {}", i.symbol, i.direction, i.status),
        format!("entry      {}", i.entry_shown()),
        format!("stop       {}", i.stop_shown()),
        format!("targets    {}", i.targets_shown()),
        format!(
            "R:R        {}",
            or_dash(i.reward_to_risk().map(|r| r.to_string()))
        ),
        format!("confidence {}", i.confidence_score),
        format!(
            "strategy   {}",
            i.strategy_name.as_deref().unwrap_or("none")
        ),
        format!("hold       {}", i.expected_hold.as_deref().unwrap_or("—")),
        format!("created    {} UTC", timestamp(i.created_at)),
        format!("snapshot   {}", i.snapshot_ref),
        String::new(),
    ];
    lines.extend(i.rationale.split('\n').map(str::to_owned));
    lines
}

pub fn decision_details(d: &Decision) -> Vec<String> {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    let mut lines = vec![
        format!("{} UTC — {}", timestamp(d.occurred_at), d.action),
        format!("symbol     {}", d.symbol.as_deref().unwrap_or("— (global)")),
        format!("operator   {}", d.operator.as_deref().unwrap_or("platform")),
        format!(
            "risk check {}",
            d.risk_check_result.as_deref().unwrap_or("—")
        ),
        format!(
            "confidence {}",
            or_dash(d.confidence_score.map(|c| c.to_string()))
        ),
        format!(
            "idea       {}",
            or_dash(d.trade_idea_id.map(|i| i.to_string()))
        ),
        format!("override   {}", d.human_override),
        String::new(),
    ];
    lines.extend(d.rationale.split('\n').map(str::to_owned));
    lines
}
