//! Dialogs and the help overlay, drawn over the panes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_input::Input;

use super::replay::{Row, wrap};
use super::shown;

use crate::console::app::App;
use crate::console::dialog::{Approve, Dialog};
use crate::console::keymap::{Action, Scope};
use crate::console::theme::Theme;
use crate::domain::stored::Listed;
use crate::domain::text::{self, Typed};
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

fn input_line(label: &str, input: &Input, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(label.to_owned(), theme.title()),
        Span::raw(input.value().to_owned()),
        Span::styled("▏", theme.key()),
    ])
}

/// A dialog's title, rows (each wrapping under its own indent) and border style.
type Drawn = (String, Vec<Row>, Style);

/// A row that wraps to the left edge.
fn row(line: impl Into<Line<'static>>) -> Row {
    Row::new(0, line.into())
}

/// The dialog's title, lines wrapped to `width` and border style. The approval's verdicts
/// that do not fit in `lines` are folded from the last up, their rules named on one line
/// a kind (passes first, then waived ones); failures never are: they are why it is refused.
fn laid_out(
    dialog: &Dialog,
    theme: &Theme,
    width: usize,
    lines: usize,
) -> (String, Vec<Line<'static>>, Style) {
    let foldable = match dialog {
        Dialog::Approve(Approve {
            verdict: Some(Ok((_, report))),
            ..
        }) => report
            .verdicts
            .iter()
            .filter(|v| v.outcome != Outcome::Fail)
            .count(),
        _ => 0,
    };
    let mut fold = 0;
    loop {
        let (title, rows, style) = content(dialog, theme, fold);
        let wrapped = wrap(rows, width.max(1));
        if wrapped.len() <= lines || fold >= foldable {
            return (title, wrapped, style);
        }
        fold += 1;
    }
}

fn content(dialog: &Dialog, theme: &Theme, fold: usize) -> Drawn {
    match dialog {
        Dialog::Approve(a) => approve(a, theme, fold),
        Dialog::Reject { idea, reason } => reject(idea, reason, theme),
        Dialog::Halt { reason } => halt(reason, theme),
        Dialog::Resume => resume(theme),
        Dialog::EditRisk {
            field, input, edit, ..
        } => edit_risk(*field, input, edit, theme),
        Dialog::Filter { input, .. } => filter(input, theme),
        Dialog::Text { title, body } => (
            title.clone(),
            body.iter().map(|l| row(l.clone())).collect(),
            theme.focused_border(),
        ),
        Dialog::Outcome { title, lines, ok } => outcome(title, lines, *ok, theme),
    }
}

/// The rows a dialog takes at `width` (its frame included) in at most `max` rows, its
/// verdicts folded as far as needed.
pub fn height(dialog: &Dialog, theme: &Theme, width: u16, max: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(2));
    let room = usize::from(max.saturating_sub(2));
    let (_, lines, _) = laid_out(dialog, theme, inner, room);
    u16::try_from(lines.len() + 2).unwrap_or(u16::MAX).min(max)
}

/// A dialog in the middle of `area`, clear of its first and last rows (the AI switch and
/// the keys stay in view).
pub fn draw(dialog: &Dialog, theme: &Theme, frame: &mut Frame, area: Rect) {
    let width = area.width.saturating_sub(4).min(100);
    let area = if area.height > 4 {
        Rect {
            y: area.y + 1,
            height: area.height - 2,
            ..area
        }
    } else {
        area
    };
    let room = usize::from(area.height.saturating_sub(2));
    let (title, lines, style) = laid_out(dialog, theme, usize::from(width.saturating_sub(2)), room);
    let height = (lines.len() as u16).saturating_add(2).min(area.height);
    framed(frame, centered(area, width, height), title, lines, style);
}

/// A dialog at the top of `rect`, as wide as it (beside a replay's chart).
pub fn draw_in(dialog: &Dialog, theme: &Theme, frame: &mut Frame, rect: Rect) {
    let room = usize::from(rect.height.saturating_sub(2));
    let (title, lines, style) = laid_out(
        dialog,
        theme,
        usize::from(rect.width.saturating_sub(2)),
        room,
    );
    let height = (lines.len() as u16).saturating_add(2).min(rect.height);
    framed(frame, Rect { height, ..rect }, title, lines, style);
}

fn framed(frame: &mut Frame, rect: Rect, title: String, lines: Vec<Line<'static>>, style: Style) {
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(format!(" {} ", shown(&title)), style))
        .border_style(style);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// Where a verdict's reason starts (and its continuation lines): after its mark and rule.
const REASON: usize = 29;

/// The idea, the lot as typed, and the Gate's verdict on it: the answer first, then what
/// decides it (failures, waived rules, passes). The last `fold` verdicts that are not
/// failures are folded: their rules named on one line a kind, without their reasons.
fn approve(a: &Approve, theme: &Theme, fold: usize) -> Drawn {
    let i = &a.idea;
    let mut rows = vec![
        row(format!(
            "{} {} · confidence {} · {}",
            i.symbol,
            i.direction,
            i.confidence_score,
            i.strategy_name.as_deref().unwrap_or("no strategy")
        )),
        row(input_line("Lot size: ", &a.lot, theme)),
        row(""),
    ];
    match &a.verdict {
        None => rows.push(row(Span::styled("reading the risk state…", theme.dim()))),
        Some(Err(e)) => rows.push(row(Span::styled(e.clone(), theme.error()))),
        Some(Ok((_, report))) => {
            rows.push(if report.passed() {
                row(Span::styled(
                    "PASSES the risk checks — Enter approves and hands the order to execution · Esc cancels",
                    theme.ok(),
                ))
            } else {
                row(Span::styled(
                    format!(
                        "REFUSED ({}) — change the lot, or Esc",
                        report.risk_check_result()
                    ),
                    theme.error(),
                ))
            });
            let ordered: Vec<_> = [Outcome::Fail, Outcome::Waived, Outcome::Pass]
                .into_iter()
                .flat_map(|o| report.verdicts.iter().filter(move |v| v.outcome == o))
                .collect();
            let shown = ordered.len().saturating_sub(fold);
            for v in &ordered[..shown] {
                let (mark, style) = mark(v.outcome, theme);
                rows.push(Row::new(
                    REASON,
                    Line::from(vec![
                        Span::styled(format!("{mark} {:<21} ", v.rule.as_str()), style),
                        Span::raw(v.reason.clone()),
                    ]),
                ));
            }
            for outcome in [Outcome::Fail, Outcome::Waived, Outcome::Pass] {
                let folded: Vec<&str> = ordered[shown..]
                    .iter()
                    .filter(|v| v.outcome == outcome)
                    .map(|v| v.rule.as_str())
                    .collect();
                if folded.is_empty() {
                    continue;
                }
                let (mark, style) = mark(outcome, theme);
                let any_shown = ordered[..shown].iter().any(|v| v.outcome == outcome);
                rows.push(Row::new(
                    7,
                    Line::from(vec![
                        Span::styled(format!("{mark} "), style),
                        Span::raw(format!(
                            "{} {}: {}",
                            folded.len(),
                            if any_shown { "more" } else { "rules" },
                            folded.join(" · ")
                        )),
                    ]),
                ));
            }
        }
    }
    ("APPROVE".to_string(), rows, theme.focused_border())
}

/// A verdict's mark, as wide as the others.
fn mark(outcome: Outcome, theme: &Theme) -> (&'static str, Style) {
    match outcome {
        Outcome::Pass => ("pass  ", theme.dim()),
        Outcome::Fail => ("FAIL  ", theme.error()),
        Outcome::Waived => ("waived", theme.warn()),
    }
}

/// Why what is typed would be refused (`domain::text::typed`), under its input: Enter
/// does nothing until it is typed again.
fn refusal(what: Typed, input: &Input, theme: &Theme) -> Option<Row> {
    text::typed(what, input.value().trim())
        .err()
        .map(|e| row(Span::styled(e.to_string(), theme.error())))
}

fn reject(idea: &Listed<Idea>, reason: &Input, theme: &Theme) -> Drawn {
    let about = match idea {
        Listed::Read(idea) => format!("{} {} · {}", idea.symbol, idea.direction, idea.rationale),
        Listed::Flagged(f) => format!(
            "{} {} · UNREADABLE: {}",
            f.column("symbol").unwrap_or("?"),
            f.column("direction").unwrap_or("?"),
            f.reason()
        ),
    };
    let mut rows = vec![row(about), row(input_line("Reason: ", reason, theme))];
    rows.extend(refusal(Typed::RejectReason, reason, theme));
    rows.extend([
        row(""),
        row(Span::styled(
            "Enter: reject (a reason is required) · Esc: cancel",
            theme.dim(),
        )),
    ]);
    ("REJECT".to_string(), rows, theme.focused_border())
}

fn halt(reason: &Input, theme: &Theme) -> Drawn {
    let mut rows = vec![
        row(Span::styled("Halt AI trading now?", theme.error())),
        row("Waiting ideas stop; unexecuted orders are cancelled."),
        row(input_line("Reason (optional): ", reason, theme)),
    ];
    let refused = refusal(Typed::HaltReason, reason, theme);
    let said = if refused.is_some() {
        "Ctrl-U clears the reason, then Enter: HALT · Esc: cancel"
    } else {
        "Enter: HALT · Esc: cancel"
    };
    rows.extend(refused);
    rows.extend([row(""), row(Span::styled(said, theme.error()))]);
    ("KILL SWITCH".to_string(), rows, theme.error())
}

fn resume(theme: &Theme) -> Drawn {
    (
        "RESUME AI TRADING".to_string(),
        vec![
            row("Let the AI trade on its own again?"),
            row(""),
            row(Span::styled("y: resume · n or Esc: cancel", theme.warn())),
        ],
        theme.warn(),
    )
}

fn edit_risk(
    field: RiskField,
    input: &Input,
    edit: &Result<RiskChangeSet, String>,
    theme: &Theme,
) -> Drawn {
    let mut rows = vec![row(input_line("", input, theme)), row("")];
    match edit {
        Err(p) => rows.push(row(Span::styled(p.clone(), theme.error()))),
        Ok(_) => rows.push(row(Span::styled(
            "Enter: save (one transaction) · Esc: cancel",
            theme.dim(),
        ))),
    }
    (format!("EDIT {field}"), rows, theme.focused_border())
}

fn filter(input: &Input, theme: &Theme) -> Drawn {
    (
        "FILTER".to_string(),
        vec![
            row(input_line("", input, theme)),
            row(""),
            row(Span::styled(
                "symbol:X status:S (ideas) · symbol:X action:A operator:O since:2h until:T (timeline) · empty clears",
                theme.dim(),
            )),
        ],
        theme.focused_border(),
    )
}

fn outcome(title: &str, lines: &[String], ok: bool, theme: &Theme) -> Drawn {
    let mut out: Vec<Row> = lines.iter().map(|l| row(l.clone())).collect();
    out.push(row(""));
    out.push(row(Span::styled("Enter or Esc: close", theme.dim())));
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
            .help_bindings(scope)
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
        format!("Database: {}", shown(&app.database)),
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
