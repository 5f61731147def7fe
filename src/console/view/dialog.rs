//! Dialogs and the help overlay, drawn over the panes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_input::Input;

use ratatui::style::Style;

use crate::console::app::App;
use crate::console::dialog::{Approve, Dialog};
use crate::console::keymap::{Action, Scope};
use crate::console::theme::Theme;
use crate::domain::{Idea, Outcome, RiskChangeSet, RiskField};

/// A rectangle of at most `width`×`height` in the middle of `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    rect
}

fn input_line<'a>(label: &'a str, input: &'a Input, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(label, theme.title()),
        Span::raw(input.value()),
        Span::styled("▏", theme.key()),
    ])
}

/// A dialog's title, lines and border style.
type Drawn<'a> = (String, Vec<Line<'a>>, Style);

pub fn draw(dialog: &Dialog, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (title, lines, style) = match dialog {
        Dialog::Approve(a) => approve(a, theme),
        Dialog::Reject { idea, reason } => reject(idea, reason, theme),
        Dialog::Halt { reason } => halt(reason, theme),
        Dialog::Resume => resume(theme),
        Dialog::EditRisk {
            field, input, edit, ..
        } => edit_risk(*field, input, edit, theme),
        Dialog::Filter { input, .. } => filter(input, theme),
        Dialog::Text { title, body } => (
            title.clone(),
            body.iter().map(|l| Line::from(l.clone())).collect(),
            theme.focused_border(),
        ),
        Dialog::Outcome { title, lines, ok } => outcome(title, lines, *ok, theme),
    };
    let width = area.width.saturating_sub(4).min(100);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), style))
        .border_style(style);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// The idea, the lot as typed, and the Gate's verdict on it: the answer first, then what
/// decides it (failures, waived rules, passes).
fn approve<'a>(a: &'a Approve, theme: &Theme) -> Drawn<'a> {
    let i = &a.idea;
    let mut lines = vec![
        Line::from(format!(
            "{} {} · confidence {} · {}",
            i.symbol,
            i.direction,
            i.confidence_score,
            i.strategy_name.as_deref().unwrap_or("no strategy")
        )),
        input_line("Lot size: ", &a.lot, theme),
        Line::from(""),
    ];
    match &a.verdict {
        None => lines.push(Line::from(Span::styled(
            "reading the risk state…",
            theme.dim(),
        ))),
        Some(Err(e)) => lines.push(Line::from(Span::styled(e.clone(), theme.error()))),
        Some(Ok((_, report))) => {
            lines.push(if report.passed() {
                Line::from(Span::styled(
                    "PASSES the risk checks — Enter approves and hands the order to execution · Esc cancels",
                    theme.ok(),
                ))
            } else {
                Line::from(Span::styled(
                    format!(
                        "REFUSED ({}) — change the lot, or Esc",
                        report.risk_check_result()
                    ),
                    theme.error(),
                ))
            });
            for outcome in [Outcome::Fail, Outcome::Waived, Outcome::Pass] {
                for v in report.verdicts.iter().filter(|v| v.outcome == outcome) {
                    let (mark, style) = match v.outcome {
                        Outcome::Pass => ("pass  ", theme.dim()),
                        Outcome::Fail => ("FAIL  ", theme.error()),
                        Outcome::Waived => ("waived", theme.warn()),
                    };
                    lines.push(Line::from(vec![
                        Span::styled(format!("{mark} {:<21} ", v.rule.as_str()), style),
                        Span::raw(v.reason.clone()),
                    ]));
                }
            }
        }
    }
    ("APPROVE".to_string(), lines, theme.focused_border())
}

fn reject<'a>(idea: &'a Idea, reason: &'a Input, theme: &Theme) -> Drawn<'a> {
    (
        "REJECT".to_string(),
        vec![
            Line::from(format!(
                "{} {} · {}",
                idea.symbol, idea.direction, idea.rationale
            )),
            input_line("Reason: ", reason, theme),
            Line::from(""),
            Line::from(Span::styled(
                "Enter: reject (a reason is required) · Esc: cancel",
                theme.dim(),
            )),
        ],
        theme.focused_border(),
    )
}

fn halt<'a>(reason: &'a Input, theme: &Theme) -> Drawn<'a> {
    (
        "KILL SWITCH".to_string(),
        vec![
            Line::from(Span::styled("Halt AI trading now?", theme.error())),
            Line::from("Waiting ideas stop; unexecuted orders are cancelled."),
            input_line("Reason (optional): ", reason, theme),
            Line::from(""),
            Line::from(Span::styled("Enter: HALT · Esc: cancel", theme.error())),
        ],
        theme.error(),
    )
}

fn resume<'a>(theme: &Theme) -> Drawn<'a> {
    (
        "RESUME AI TRADING".to_string(),
        vec![
            Line::from("Let the AI trade on its own again?"),
            Line::from(""),
            Line::from(Span::styled("y: resume · n or Esc: cancel", theme.warn())),
        ],
        theme.warn(),
    )
}

fn edit_risk<'a>(
    field: RiskField,
    input: &'a Input,
    edit: &Result<RiskChangeSet, String>,
    theme: &Theme,
) -> Drawn<'a> {
    let mut lines = vec![input_line("", input, theme), Line::from("")];
    match edit {
        Err(p) => lines.push(Line::from(Span::styled(p.clone(), theme.error()))),
        Ok(_) => lines.push(Line::from(Span::styled(
            "Enter: save (one transaction) · Esc: cancel",
            theme.dim(),
        ))),
    }
    (format!("EDIT {field}"), lines, theme.focused_border())
}

fn filter<'a>(input: &'a Input, theme: &Theme) -> Drawn<'a> {
    (
        "FILTER".to_string(),
        vec![
            input_line("", input, theme),
            Line::from(""),
            Line::from(Span::styled(
                "symbol:X status:S (ideas) · symbol:X action:A operator:O since:2h until:T (timeline) · empty clears",
                theme.dim(),
            )),
        ],
        theme.focused_border(),
    )
}

fn outcome<'a>(title: &str, lines: &[String], ok: bool, theme: &Theme) -> Drawn<'a> {
    let mut out: Vec<Line> = lines.iter().map(|l| Line::from(l.clone())).collect();
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Enter or Esc: close", theme.dim())));
    (
        title.to_string(),
        out,
        if ok { theme.ok() } else { theme.error() },
    )
}

/// Every binding, from the same table the handlers use: one line a key on a tall
/// screen, one wrapped paragraph a group on a short one.
pub fn help(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let groups = [
        (Scope::Global, "Anywhere"),
        (Scope::List, "In lists"),
        (Scope::Ideas, "Trade ideas"),
        (Scope::Risk, "Risk controls"),
        (Scope::Strategies, "Strategies"),
        (Scope::Replay, "Replay"),
    ];
    let tall = area.height >= 40;
    let mut lines = Vec::new();
    for (scope, heading) in groups {
        let entries: Vec<(String, &str)> = app
            .keymap
            .bindings(scope)
            .map(|b| {
                let keys = b
                    .keys
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("/");
                (keys, b.help)
            })
            .collect();
        if tall {
            lines.push(Line::from(Span::styled(heading, theme.title())));
            for (keys, help) in entries {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys:<16}"), theme.key()),
                    Span::raw(help),
                ]));
            }
        } else {
            let mut spans = vec![Span::styled(format!("{heading}: "), theme.title())];
            for (n, (keys, help)) in entries.into_iter().enumerate() {
                if n > 0 {
                    spans.push(Span::styled(" · ", theme.dim()));
                }
                spans.push(Span::styled(keys, theme.key()));
                spans.push(Span::raw(format!(" {help}")));
            }
            lines.push(Line::from(spans));
        }
    }
    lines.push(Line::from(Span::styled(
        format!(
            "Dialogs: Enter confirms, Esc cancels. Any key closes this help ({}).",
            app.keymap.key_of(Action::Help)
        ),
        theme.dim(),
    )));
    lines.push(Line::from(Span::styled(
        format!("Database: {}", app.database),
        theme.dim(),
    )));
    let width = area
        .width
        .saturating_sub(2)
        .min(if tall { 64 } else { 100 });
    let rect = centered(area, width, area.height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" Keys "))
            .wrap(Wrap { trim: false }),
        rect,
    );
}
