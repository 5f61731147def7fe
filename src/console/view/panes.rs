//! The four panes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

use crate::console::app::{App, risk_value};
use crate::console::keymap::Action;
use crate::console::list::List;
use crate::console::msg::Pane;
use crate::console::theme::Theme;
use rust_decimal::{Decimal, RoundingStrategy};

use super::pictures::{self, LimitTone};
use super::shown;
use crate::domain::pnl::StrategyDay;
use crate::domain::stored::Listed;
use crate::domain::{IdeaStatus, RiskField, Strategy};
use crate::format::{age, signed};

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, pane: Pane, area: Rect) {
    let focused = app.focus == pane;
    let mut title = vec![Span::styled(format!(" {} ", pane.title()), theme.title())];
    if app.stale {
        title.push(Span::styled("STALE ", theme.error()));
    }
    if let Some(extra) = pane_note(app, pane) {
        title.push(Span::styled(format!("{extra} "), theme.dim()));
    }
    if let Some(new) = unseen_note(app, pane) {
        title.push(Span::styled(format!("{new} "), theme.warn()));
    }
    let block = Block::bordered()
        .title(Line::from(title))
        .border_style(if focused {
            theme.focused_border()
        } else {
            theme.border()
        });
    match pane {
        Pane::Risk => risk(app, theme, frame, area, block),
        Pane::Strategies => strategies(app, theme, frame, area, block),
        Pane::Ideas => ideas(app, theme, frame, area, block),
        Pane::Timeline => timeline(app, theme, frame, area, block),
    }
}

fn pane_note(app: &App, pane: Pane) -> Option<String> {
    match pane {
        Pane::Ideas => {
            let held = app
                .ideas
                .items
                .iter()
                .filter(|i| i.awaits_approval())
                .count();
            // The database's count, not the window's: the list holds at most a window.
            let waiting = app.ideas_awaiting.unwrap_or(held as i64);
            let mut note = format!("{waiting} awaiting approval");
            if held as i64 != waiting {
                note.push_str(&format!(" ({held} shown)"));
            }
            if let Some(s) = &app.idea_filter.symbol {
                note.push_str(&format!(" · symbol {}", shown(s)));
            }
            if let Some(s) = &app.idea_filter.status {
                note.push_str(&format!(" · status {s}"));
            }
            Some(note)
        }
        Pane::Strategies => app
            .day
            .map(|d| format!("today since {} UTC", d.day_start.format("%H:%M"))),
        Pane::Timeline => {
            let f = &app.timeline.filter;
            let parts: Vec<String> = [
                f.symbol.as_ref().map(|s| format!("symbol {}", shown(s))),
                f.action.as_ref().map(|s| format!("action {s}")),
                f.operator
                    .as_ref()
                    .map(|s| format!("operator {}", shown(s))),
                f.since
                    .map(|t| format!("since {}", t.format("%m-%d %H:%M"))),
                f.until
                    .map(|t| format!("until {}", t.format("%m-%d %H:%M"))),
                (app.timeline.loading && app.timeline.list.items.is_empty())
                    .then(|| "reading…".to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!parts.is_empty()).then(|| parts.join(" · "))
        }
        _ => None,
    }
}

/// `▲ 3 new · g`: rows that arrived above the screen while the operator reads further
/// down, and the key that goes to them.
fn unseen_note(app: &App, pane: Pane) -> Option<String> {
    let top = app.keymap.key_of(Action::Top);
    let (unseen, unknown) = match pane {
        Pane::Ideas => (app.ideas.unseen, false),
        Pane::Timeline => (app.timeline.list.unseen, app.timeline.newer_above),
        _ => (0, false),
    };
    match (unseen, unknown) {
        (0, false) => None,
        (0, true) => Some(format!("▲ new · {top}")),
        (n, _) => Some(format!("▲ {n} new · {top}")),
    }
}

fn table_state<T>(list: &List<T>, focused: bool) -> TableState {
    TableState::default()
        .with_offset(list.offset)
        .with_selected(if focused && !list.items.is_empty() {
            Some(list.selected)
        } else {
            None
        })
}

fn risk(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, block: Block) {
    if let (None, Some(f)) = (&app.risk, &app.risk_unreadable) {
        // The limits as stored, each that cannot be read marked: approvals are refused
        // until an admin corrects them (`e` edits a limit here too).
        let mut lines = vec![Line::from(Span::styled(
            format!("UNREADABLE: {}", shown(&f.reason())),
            theme.error(),
        ))];
        lines.extend(f.columns.iter().map(|(column, value)| {
            let flawed = f.flaws.iter().any(|flaw| flaw.column == *column);
            let style = if flawed { theme.error() } else { Style::new() };
            Line::from(vec![
                Span::raw(format!(" {column:<30}")),
                Span::styled(shown(value), style),
            ])
        }));
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    let Some(row) = &app.risk else {
        frame.render_widget(Paragraph::new("reading…").block(block), area);
        return;
    };
    let mut lines: Vec<Line> = RiskField::ALL
        .iter()
        .enumerate()
        .map(|(n, field)| {
            let value = risk_value(&row.config, *field);
            let chosen = app.focus == Pane::Risk && n == app.risk_selected;
            let style = if chosen {
                theme.selected()
            } else {
                Style::new()
            };
            Line::from(vec![
                Span::raw(if chosen { "▶" } else { " " }),
                Span::styled(format!("{:<30}", field.as_str()), style),
                Span::styled(format!("{value:>12}"), style),
            ])
        })
        .collect();
    lines.extend(day_bars(
        app,
        theme,
        usize::from(area.width.saturating_sub(2)),
    ));
    lines.push(Line::from(Span::styled(
        format!(
            "last halt: {}",
            shown(row.config.last_halt_reason.as_deref().unwrap_or("—"))
        ),
        theme.dim(),
    )));
    if let Some(last) = &app.last_risk_change {
        // Who and when on one line, what on the next: neither is cut without saying so.
        let width = usize::from(area.width.saturating_sub(2));
        for text in [
            format!(
                "changed {} ago by {}",
                age(last.changed_at, app.now),
                shown(&last.operator)
            ),
            format!("  {}", shown(&last.changes)),
        ] {
            lines.push(Line::from(Span::styled(cut(&text, width), theme.dim())));
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The day against its limits, a bar each, their numbers aligned:
/// `day P/L  ██████████▋░░ +802.20 / 900.00  89% near`. The bar is filled in eighths of a
/// cell and never rounded up; its tone is also said in words (`near` from 80 %, `REACHED`
/// at the limit), for a screen without colour. A loss leaves the target's bar empty.
fn day_bars(app: &App, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let (Some(day), Some(row)) = (&app.day, &app.risk) else {
        return vec![Line::from(Span::styled(
            "day: no account capture yet",
            theme.dim(),
        ))];
    };
    let c = &row.config;
    let items = [
        (
            "day P/L",
            day.day_pnl,
            signed(day.day_pnl),
            c.daily_profit_target,
            theme.pnl(day.day_pnl.is_sign_negative()),
        ),
        (
            "drawdown",
            day.drawdown,
            day.drawdown.to_string(),
            c.max_drawdown_amount,
            Style::new(),
        ),
    ];
    let texts: Vec<(String, String, LimitTone)> = items
        .iter()
        .map(|(_, value, shown, limit, _)| {
            (
                format!("{shown} / {limit}"),
                pictures::percent(*value, *limit),
                pictures::limit_tone(*value, *limit),
            )
        })
        .collect();
    let widest =
        |f: &dyn Fn(&(String, String, LimitTone)) -> usize| texts.iter().map(f).max().unwrap_or(0);
    let numbers = widest(&|t| t.0.chars().count());
    let percent = widest(&|t| t.1.chars().count()).max(4);
    let word = widest(&|t| match t.2.word() {
        "" => 0,
        w => w.len() + 1,
    });
    const LABEL: usize = 9;
    let bar_width = width.saturating_sub(LABEL + 1 + numbers + 2 + percent + word);
    let bar_width = if bar_width >= 3 { bar_width } else { 0 };
    items
        .iter()
        .zip(texts)
        .map(|((label, value, _, limit, normal), (shown, pct, tone))| {
            let style = theme.limit(tone, *normal);
            let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.dim())];
            if bar_width > 0 {
                let bar = pictures::bar(*value, *limit, bar_width);
                let empty = bar.find('░').unwrap_or(bar.len());
                let (filled, rest) = bar.split_at(empty);
                spans.push(Span::styled(filled.to_owned(), style));
                spans.push(Span::styled(format!("{rest} "), theme.border()));
            }
            spans.push(Span::raw(format!("{shown:>numbers$}  {pct:>percent$}")));
            if !tone.word().is_empty() {
                spans.push(Span::styled(format!(" {}", tone.word()), style));
            }
            Line::from(spans)
        })
        .collect()
}

/// A P/L to the cent with its sign (`+34.20`, `-12.50`); nothing is `0.00`.
fn money(value: Decimal) -> String {
    let mut cents = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if cents.is_zero() {
        return "0.00".to_owned();
    }
    cents.rescale(2);
    signed(cents)
}

/// A strategy's day: as read, or quiet when it is missing from what was read; `None`
/// until the first read.
fn day_of<'a>(app: &'a App, s: &Strategy) -> Option<std::borrow::Cow<'a, StrategyDay>> {
    let days = app.strategy_days.as_ref()?;
    Some(match days.get(&s.id) {
        Some(d) => std::borrow::Cow::Borrowed(d),
        None => std::borrow::Cow::Owned(StrategyDay::quiet(s.id)),
    })
}

/// Each strategy's day as one cell, its numbers aligned down the column:
/// `12 ideas · 5 auto · P/L +34.20`, `—` for a P/L that cannot be valued.
fn today_cells<'a>(app: &App, theme: &Theme) -> Vec<Line<'a>> {
    let parts: Vec<Option<(String, String, Option<Decimal>)>> = app
        .strategies
        .items
        .iter()
        .map(|s| {
            let s = s.read()?;
            day_of(app, s).map(|d| (ideas_count(d.ideas), d.auto_executed.to_string(), d.pl()))
        })
        .collect();
    let pl_text = |pl: &Option<Decimal>| pl.map_or_else(|| "—".to_owned(), money);
    let known = || parts.iter().flatten();
    let ideas = known().map(|p| p.0.len()).max().unwrap_or(0);
    let auto = known().map(|p| p.1.len()).max().unwrap_or(0);
    let pl = known()
        .map(|p| pl_text(&p.2).chars().count())
        .max()
        .unwrap_or(0);
    parts
        .into_iter()
        .map(|p| match p {
            None => Line::from(Span::styled("reading…", theme.dim())),
            Some((i, a, value)) => {
                let style = match value {
                    Some(v) if !v.is_zero() => theme.pnl(v.is_sign_negative()),
                    Some(_) => Style::new(),
                    None => theme.warn(),
                };
                Line::from(vec![
                    Span::raw(format!("{i:>ideas$} · {a:>auto$} auto · P/L ")),
                    Span::styled(format!("{:>pl$}", pl_text(&value)), style),
                ])
            }
        })
        .collect()
}

/// `12 ideas` or `1 idea ` (padded, so the column stays aligned).
fn ideas_count(n: i64) -> String {
    if n == 1 {
        "1 idea ".to_owned()
    } else {
        format!("{n} ideas")
    }
}

/// The selected strategy's P/L today in words, under its name: what the row's figure is
/// made of (its counts are in the row).
fn today_words<'a>(app: &App, theme: &Theme, s: &Strategy) -> Line<'a> {
    let label = Span::styled(format!("{:<9}", "today"), theme.dim());
    let Some(d) = day_of(app, s) else {
        return Line::from(vec![label, Span::styled("reading…", theme.dim())]);
    };
    match d.open_pl {
        Some(open) => Line::from(vec![
            label,
            Span::raw(format!(
                "P/L {} = closed {} + {} open {}",
                money(d.realized + open),
                money(d.realized),
                d.open_positions,
                money(open),
            )),
        ]),
        None => Line::from(vec![
            label,
            Span::styled(
                format!("P/L — : {} open cannot be valued", d.open_positions),
                theme.warn(),
            ),
            Span::raw(format!(" · closed {}", money(d.realized))),
        ]),
    }
}

/// The strategies table, and below it the selected strategy's rules in plain words (when
/// the pane has room for them).
fn strategies(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, block: Block) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let selected = app.strategies.selected();
    let words = match selected {
        Some(Listed::Read(s)) => {
            let mut words = strategy_words(theme, s);
            words.insert(0, today_words(app, theme, s));
            words
        }
        Some(Listed::Flagged(f)) => vec![Line::from(Span::styled(
            format!("UNREADABLE: {} (i: the row as stored)", shown(&f.reason())),
            theme.error(),
        ))],
        None => Vec::new(),
    };
    // The table takes the rows it needs; the selected strategy's words follow under a line
    // naming it, if at least one of them fits.
    let table_rows = app.strategies.items.len() as u16 + 1;
    let free = inner.height.saturating_sub(table_rows);
    let words_height = if free >= 2 {
        (free - 1).min(words.len() as u16)
    } else {
        0
    };
    let table_height = if words_height > 0 {
        table_rows
    } else {
        inner.height
    };
    let [table_area, name_area, words_area] = Layout::vertical([
        Constraint::Length(table_height),
        Constraint::Length(u16::from(words_height > 0)),
        Constraint::Length(words_height),
    ])
    .areas(inner);
    let today = today_cells(app, theme);
    let today_width = today
        .iter()
        .map(Line::width)
        .chain(["TODAY".len()])
        .max()
        .unwrap_or(0) as u16;
    let symbols_width = app
        .strategies
        .items
        .iter()
        .map(|s| symbols_of(s).chars().count())
        .chain(["SYMBOLS".len()])
        .max()
        .unwrap_or(0)
        .min(SYMBOLS_AT_MOST) as u16;
    // The state, the name and the day always; the symbols and R:R while they fit (both are
    // in the details, Enter).
    const NAME: u16 = 12;
    let room = inner.width.saturating_sub(1);
    let (with_symbols, with_rr) = if 9 + NAME + symbols_width + 6 + today_width + 4 <= room {
        (true, true)
    } else if 9 + NAME + symbols_width + today_width + 3 <= room {
        (true, false)
    } else {
        (false, false)
    };
    let rows: Vec<Row> = app
        .strategies
        .items
        .iter()
        .zip(today)
        .map(|(listed, today)| {
            let (state, style, name, rr) = match listed {
                Listed::Read(s) => {
                    let (state, style) = match (s.rules.is_err(), s.is_active) {
                        (true, _) => ("MALFORMED", theme.error()),
                        (false, true) => ("active", theme.ok()),
                        (false, false) => ("disabled", theme.dim()),
                    };
                    (state, style, shown(&s.name), s.rr_expectation.to_string())
                }
                Listed::Flagged(f) => (
                    "UNREADABLE",
                    theme.error(),
                    shown(f.column("name").unwrap_or_default()),
                    shown(f.column("rr_expectation").unwrap_or_default()),
                ),
            };
            let mut cells = vec![Cell::from(Span::styled(state, style)), Cell::from(name)];
            if with_symbols {
                cells.push(Cell::from(cut(
                    &symbols_of(listed),
                    usize::from(symbols_width),
                )));
            }
            if with_rr {
                cells.push(Cell::from(rr));
            }
            cells.push(Cell::from(today));
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![Constraint::Length(9), Constraint::Min(NAME)];
    let mut header = vec!["STATE", "NAME"];
    if with_symbols {
        widths.push(Constraint::Length(symbols_width));
        header.push("SYMBOLS");
    }
    if with_rr {
        widths.push(Constraint::Length(6));
        header.push("R:R");
    }
    widths.push(Constraint::Length(today_width));
    header.push("TODAY");
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.title()))
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶");
    let mut state = table_state(&app.strategies, app.focus == Pane::Strategies);
    frame.render_stateful_widget(table, table_area, &mut state);
    if let (Some(s), true) = (selected, words_height > 0) {
        let rule = "─".repeat(usize::from(name_area.width));
        let shown_name = match s {
            Listed::Read(s) => shown(&s.name),
            Listed::Flagged(f) => shown(f.column("name").unwrap_or_default()),
        };
        let name = Line::from(vec![
            Span::styled(format!("── {shown_name} "), theme.title()),
            Span::styled(rule, theme.border()),
        ]);
        frame.render_widget(Paragraph::new(name), name_area);
        frame.render_widget(Paragraph::new(words), words_area);
    }
}

/// A strategy's symbols, comma-separated; a row that cannot be read, as stored.
fn symbols_of(s: &Listed<Strategy>) -> String {
    match s {
        Listed::Read(s) => shown(&s.allowed_symbols.join(",")),
        Listed::Flagged(f) => shown(f.column("allowed_symbols").unwrap_or_default()),
    }
}

/// The widest the symbols column gets; longer lists are cut with `…` (all of them are in
/// the details, Enter).
const SYMBOLS_AT_MOST: usize = 30;

/// `text` in at most `width` characters, cut with `…` when longer.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let head: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{head}…")
}

/// The strategy's rules in plain words, a line a part, or why they do not read.
fn strategy_words<'a>(theme: &Theme, s: &Strategy) -> Vec<Line<'a>> {
    let label = |name: &str| Span::styled(format!("{name:<9}"), theme.dim());
    match &s.rules {
        Ok(rules) => {
            let w = rules.in_words();
            let mut lines: Vec<Line> = [
                ("sessions", &w.sessions),
                ("caps", &w.caps),
                ("news", &w.news),
                ("exit", &w.exits),
                ("entry", &w.entry),
            ]
            .into_iter()
            .map(|(name, text)| Line::from(vec![label(name), Span::raw(shown(text))]))
            .collect();
            if !w.notes.is_empty() {
                lines.push(Line::from(vec![
                    label("notes"),
                    Span::styled(
                        format!(
                            "{} key(s) tradedesk does not know, kept for the evaluator (Enter)",
                            w.notes.len()
                        ),
                        theme.dim(),
                    ),
                ]));
            }
            lines
        }
        Err(problem) => vec![Line::from(Span::styled(
            format!(
                "{}; the Gate refuses its ideas",
                shown(&problem.to_string())
            ),
            theme.error(),
        ))],
    }
}

/// A status as a word that reads the same in any colour: the column is never truncated.
fn status_label(status: IdeaStatus) -> &'static str {
    match status {
        IdeaStatus::NeedsApproval => "PENDING",
        IdeaStatus::AutoExecuted => "EXECUTED",
        IdeaStatus::Rejected => "REJECTED",
        IdeaStatus::HaltedByRisk => "HALTED",
        IdeaStatus::Waiting => "WAITING",
    }
}

/// Below this inner width the tables drop their least needed columns.
const NARROW: u16 = 110;

/// The ideas table. Numbers are never cut: each numeric column is as wide as its widest
/// value, and the strategy name (the only free text) takes what is left, or is dropped
/// when too little is (it stays in the details, Enter).
fn ideas(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, block: Block) {
    let header = [
        "STATUS", "SYMBOL", "SIDE", "ENTRY", "STOP", "TARGETS", "R:R", "CONF", "AGE", "STRATEGY",
    ];
    let texts: Vec<[String; 10]> = app
        .ideas
        .items
        .iter()
        .map(|listed| match listed {
            Listed::Read(i) => [
                status_label(i.status).to_string(),
                shown(&i.symbol),
                i.direction.to_string(),
                i.entry_shown(),
                i.stop_shown(),
                i.targets_shown(),
                i.reward_to_risk()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "—".into()),
                i.confidence_score.to_string(),
                age(i.created_at, app.now),
                shown(i.strategy_name.as_deref().unwrap_or("—")),
            ],
            // As stored, NaN and ∞ as such; `i` says why it cannot be read.
            Listed::Flagged(f) => {
                let column = |name| shown(f.column(name).unwrap_or("?"));
                let entry = shown(&crate::domain::idea::flagged_entry(f));
                [
                    "UNREADABLE".to_string(),
                    column("symbol"),
                    column("direction"),
                    entry,
                    column("stop_loss"),
                    column("take_profit"),
                    "—".to_string(),
                    column("confidence_score"),
                    crate::format::age_of(listed.at(), app.now),
                    column("strategy"),
                ]
            }
        })
        .collect();
    let width_of = |col: usize| {
        texts
            .iter()
            .map(|t| t[col].chars().count())
            .chain([header[col].len()])
            .max()
            .unwrap_or(0) as u16
    };
    let fixed: Vec<u16> = (0..9).map(width_of).collect();
    // Inner width less the highlight symbol and the spaces between ten columns.
    let inner = area.width.saturating_sub(2 + 1 + 9);
    let used: u16 = fixed.iter().sum();
    let strategy_room = inner.saturating_sub(used);
    let with_strategy = strategy_room >= 6;
    let columns = if with_strategy { 10 } else { 9 };
    let rows: Vec<Row> = app
        .ideas
        .items
        .iter()
        .zip(&texts)
        .map(|(i, t)| {
            // Prices and numbers right-aligned, so their digits line up down a column.
            let mut cells: Vec<Cell> = t[..columns]
                .iter()
                .enumerate()
                .map(|(c, s)| match c {
                    3..=8 => Cell::from(Line::from(s.clone()).right_aligned()),
                    _ => Cell::from(s.clone()),
                })
                .collect();
            let status = match i {
                Listed::Read(i) => theme.tone(i.status.tone()),
                Listed::Flagged(_) => theme.error(),
            };
            cells[0] = Cell::from(Span::styled(t[0].clone(), status));
            Row::new(cells)
        })
        .collect();
    let mut widths: Vec<Constraint> = fixed.iter().map(|w| Constraint::Length(*w)).collect();
    if with_strategy {
        widths.push(Constraint::Min(6));
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header[..columns].to_vec()).style(theme.title()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶")
        .block(block);
    let mut state = table_state(&app.ideas, app.focus == Pane::Ideas);
    frame.render_stateful_widget(table, area, &mut state);
}

fn timeline(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, block: Block) {
    let narrow = area.width < NARROW;
    let rows: Vec<Row> = app
        .timeline
        .list
        .items
        .iter()
        .map(|listed| {
            let time = if narrow {
                "%m-%d %H:%M"
            } else {
                "%m-%d %H:%M:%S"
            };
            let d = match listed {
                Listed::Read(d) => d,
                Listed::Flagged(f) => {
                    let column = |name| shown(f.column(name).unwrap_or_default());
                    return Row::new(vec![
                        Cell::from(column("occurred_at")),
                        Cell::from(Span::styled("UNREADABLE", theme.error())),
                        Cell::from(column("symbol")),
                        Cell::from(column("operator")),
                        Cell::from(column("risk_check_result")),
                        Cell::from(Span::styled(shown(&f.reason()), theme.error())),
                    ]);
                }
            };
            Row::new(vec![
                Cell::from(d.occurred_at.format(time).to_string()),
                Cell::from(Span::styled(d.action.as_str(), theme.tone(d.action.tone()))),
                Cell::from(shown(d.symbol.as_deref().unwrap_or("—"))),
                Cell::from(shown(d.operator.as_deref().unwrap_or("platform"))),
                Cell::from(shown(d.risk_check_result.as_deref().unwrap_or_default())),
                Cell::from(shown(&d.rationale)),
            ])
        })
        .collect();
    let widths = if narrow {
        [
            Constraint::Length(11),
            Constraint::Length(14),
            Constraint::Length(6),
            Constraint::Length(14),
            Constraint::Length(13),
            Constraint::Min(6),
        ]
    } else {
        [
            Constraint::Length(14),
            Constraint::Length(16),
            Constraint::Length(7),
            Constraint::Length(18),
            Constraint::Length(22),
            Constraint::Min(10),
        ]
    };
    let table = Table::new(rows, widths)
        .header(
            Row::new([
                "TIME (UTC)",
                "ACTION",
                "SYMBOL",
                "OPERATOR",
                "RISK CHECK",
                "RATIONALE",
            ])
            .style(theme.title()),
        )
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶")
        .block(block);
    let mut state = table_state(&app.timeline.list, app.focus == Pane::Timeline);
    frame.render_stateful_widget(table, area, &mut state);
}
