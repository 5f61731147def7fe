//! A decision's replay, full screen: the chart of what the AI saw (candles, the idea's entry,
//! stop and targets as labelled lines, the moment as a vertical line) and panels for the
//! rest — indicators, account, calendar, headlines, strategy, rationale, the Gate re-run,
//! the execution. Chart on top and panels below on a small screen (the panels scroll);
//! chart and Gate on the left and panels on the right on a large one. A dialog over the
//! replay (approving or rejecting its idea while it awaits approval, the kill switch) takes
//! the panels' place, so the chart stays in view. Reads `&App` only.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as Stroke, Rectangle};
use ratatui::widgets::{Block, Paragraph, Wrap};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

use super::{TALL, WIDE, shown};
use crate::console::app::{App, ReplayView};
use crate::console::keymap::Action;
use crate::console::theme::Theme;
use crate::domain::replay::{AccountSource, Candle, GateThen, LotFrom, MomentSource, Part};
use crate::domain::{Entry, Outcome, Purpose, Replay};
use crate::format::{Plain, ShortIds, Shown, short, signed};

/// The Gate's panel under the chart on a large screen at least: its first line and ten
/// rules, framed (it grows to fit wrapped lines, up to half the column).
const GATE_ROWS: u16 = 13;
/// Where continuation lines of a panel start: under the text after its label.
const LABEL: usize = 11;
/// The chart's rows kept (its frame included) when a dialog takes the panels' place on a
/// small screen: its levels, the moment and the time axis stay readable.
const CHART_KEPT: u16 = 9;

/// Where everything goes.
struct Areas {
    title: Rect,
    chart: Rect,
    /// The Gate's own panel (large screens); on small ones it is among the panels.
    gate: Option<Rect>,
    panels: Rect,
    footer: Rect,
    /// Where a dialog goes, when one is open.
    dialog: Option<Rect>,
}

/// The layout of a screen of `area`, the Gate's panel (large screens) `gate_height` high
/// (at most half the column). With `dialog` (the rows a dialog takes at a width in at most
/// so many rows), the
/// dialog takes the panels' place: beside the chart on a large screen (at the top of the
/// panels' column), under a smaller chart on a small one.
fn areas(
    area: Rect,
    gate_height: u16,
    candles: bool,
    dialog: Option<&dyn Fn(u16, u16) -> u16>,
) -> Areas {
    let [title, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    if area.width >= WIDE && area.height >= TALL {
        let [left, panels] =
            Layout::horizontal([Constraint::Percentage(56), Constraint::Min(0)]).areas(body);
        let gate_height = gate_height.min(left.height / 2);
        let [chart, gate] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(gate_height)]).areas(left);
        // The dialog at the top of the panels' column, the panels under it.
        let (dialog, panels) = match dialog {
            Some(wanted) => {
                let height = wanted(panels.width, panels.height);
                let [dialog, rest] =
                    Layout::vertical([Constraint::Length(height), Constraint::Min(0)])
                        .areas(panels);
                (Some(dialog), rest)
            }
            None => (None, panels),
        };
        Areas {
            title,
            chart,
            gate: Some(gate),
            panels,
            footer,
            dialog,
        }
    } else {
        // Without candles the chart's box only says why: the panels get the room.
        let chart = match dialog {
            Some(wanted) => {
                let kept = if candles { CHART_KEPT } else { 5 };
                let room = body.height.saturating_sub(kept.min(body.height));
                let taken = wanted(body.width, room);
                Constraint::Length(body.height.saturating_sub(taken))
            }
            None if candles => Constraint::Percentage(50),
            None => Constraint::Length(5),
        };
        let [chart, panels] = Layout::vertical([chart, Constraint::Min(0)]).areas(body);
        Areas {
            title,
            chart,
            gate: None,
            panels,
            footer,
            dialog: dialog.map(|_| panels),
        }
    }
}

fn has_candles(r: &Replay) -> bool {
    r.market.as_ref().is_some_and(|m| !m.candles.is_empty())
}

/// Lines of the panels visible at once on a `width`×`height` screen (a page for PgUp/PgDn).
pub fn page_rows(width: u16, height: u16) -> u16 {
    areas(Rect::new(0, 0, width, height), GATE_ROWS, true, None)
        .panels
        .height
        .saturating_sub(2)
        .max(1)
}

/// How far the panels of `replay` scroll on a `width`×`height` screen.
pub fn max_scroll(replay: &Replay, width: u16, height: u16) -> usize {
    let a = areas(
        Rect::new(0, 0, width, height),
        GATE_ROWS,
        has_candles(replay),
        None,
    );
    let theme = Theme { color: false };
    let rows = panel_rows(replay, &theme, a.gate.is_none());
    let inner = usize::from(a.panels.width.saturating_sub(2));
    let shown = usize::from(a.panels.height.saturating_sub(2));
    wrap(rows, inner).len().saturating_sub(shown)
}

/// Draws the replay; with `dialog` (the rows a dialog takes at a width in at most so many
/// rows), leaves it a place beside the chart and says where.
pub fn draw(
    app: &App,
    view: &ReplayView,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
    dialog: Option<&dyn Fn(u16, u16) -> u16>,
) -> Option<Rect> {
    let gate_height = view.replay.as_deref().map_or(GATE_ROWS, |r| {
        // The left column's width on a large screen, less the frame.
        let inner = usize::from(area.width.saturating_mul(56) / 100).saturating_sub(2);
        let needed = wrap(gate_rows(r, theme), inner).len() + 2;
        u16::try_from(needed).unwrap_or(u16::MAX).max(GATE_ROWS)
    });
    let candles = view.replay.as_deref().is_none_or(has_candles);
    let a = areas(area, gate_height, candles, dialog);
    title_bar(app, view, theme, frame, a.title);
    footer(app, view, theme, frame, a.footer);
    let Some(replay) = view.replay.as_deref() else {
        frame.render_widget(
            Paragraph::new(Span::styled("reading the replay…", theme.dim())).block(
                Block::bordered()
                    .title(" Replay ")
                    .border_style(theme.border()),
            ),
            a.chart,
        );
        return a.dialog;
    };
    chart(replay, theme, frame, a.chart);
    if let Some(gate) = a.gate {
        let rows = gate_rows(replay, theme);
        let block = Block::bordered()
            .title(Span::styled(" The Gate, re-run as of then ", theme.title()))
            .border_style(theme.border());
        let inner = block.inner(gate);
        frame.render_widget(block, gate);
        let lines = wrap(rows, usize::from(inner.width));
        frame.render_widget(Paragraph::new(lines), inner);
    }
    // On a small screen the dialog has the panels' place; on a large one the top of their
    // column (they are drawn under it while a frame and a line fit).
    if a.dialog.is_some() && (a.gate.is_none() || a.panels.height < 3) {
        return a.dialog;
    }
    let rows = panel_rows(replay, theme, a.gate.is_none());
    let width = usize::from(a.panels.width.saturating_sub(2));
    let height = usize::from(a.panels.height.saturating_sub(2));
    let lines = wrap(rows, width);
    let top = view.scroll.min(lines.len().saturating_sub(height));
    let mut title = vec![Span::styled(" What the AI saw ", theme.title())];
    if lines.len() > height {
        let last = (top + height).min(lines.len());
        title.push(Span::styled(
            format!("{}–{} of {} ", top + 1, last, lines.len()),
            theme.dim(),
        ));
    }
    let visible: Vec<Line> = lines.into_iter().skip(top).take(height).collect();
    frame.render_widget(
        Paragraph::new(visible).block(
            Block::bordered()
                .title(Line::from(title))
                .border_style(theme.border()),
        ),
        a.panels,
    );
    a.dialog
}

/// `REPLAY ai_proposed EURUSD 2025-10-28 14:01:00 UTC` and, on the right, AI trading now.
fn title_bar(app: &App, view: &ReplayView, theme: &Theme, frame: &mut Frame, area: Rect) {
    // The full time when it fits beside the switch, else the short one.
    let what = |long: bool| {
        let time = |t: DateTime<Utc>| {
            if long {
                t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            } else {
                t.format("%m-%d %H:%M").to_string()
            }
        };
        match view.replay.as_deref() {
            None => "reading…".to_owned(),
            Some(r) => match (&r.decision, &r.idea) {
                (Some(d), _) => format!(
                    "{} {} {}",
                    d.action,
                    shown(d.symbol.as_deref().unwrap_or("(global)")),
                    time(d.occurred_at)
                ),
                (None, Some(i)) => format!(
                    "idea {} {} {} (no decision yet)",
                    short(i.id),
                    shown(&i.symbol),
                    time(i.created_at)
                ),
                (None, None) => String::new(),
            },
        }
    };
    let mut right = Vec::new();
    if app.demo {
        right.push(Span::styled(" DEMO ", theme.demo()));
        right.push(Span::raw(" "));
    }
    // Replayed from a file: not the platform as it is now.
    if app.archive.is_some() {
        right.push(Span::styled(" ARCHIVE ", theme.demo()));
    }
    if app.stale {
        right.push(Span::styled("STALE ", theme.error()));
    }
    if let Some(risk) = &app.risk {
        if risk.config.ai_trading_enabled {
            right.push(Span::styled("AI TRADING: ON", theme.ai_on()));
        } else {
            right.push(Span::styled("AI TRADING: OFF", theme.ai_off()));
        }
    }
    let right = Line::from(right);
    let right_width = right.width() as u16;
    let long = what(true);
    let room = usize::from(area.width.saturating_sub(right_width + 1));
    let what = if "REPLAY ".len() + long.chars().count() <= room {
        long
    } else {
        what(false)
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("REPLAY ", theme.title()),
            Span::raw(what),
        ])),
        area,
    );
    if right_width > 0 && right_width < area.width {
        let at = Rect {
            x: area.right() - right_width,
            width: right_width,
            ..area
        };
        frame.render_widget(Paragraph::new(right), at);
    }
}

/// The replay's keys; approve and reject only while its idea awaits a decision this
/// console may take.
fn footer(app: &App, view: &ReplayView, theme: &Theme, frame: &mut Frame, area: Rect) {
    if let Some(toast) = &app.toast {
        let style = if toast.error {
            theme.error()
        } else {
            theme.ok()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(shown(&toast.text), style)),
            area,
        );
        return;
    }
    let key = |a: Action| Span::styled(app.keymap.key_of(a), theme.key());
    let sep = || Span::styled(" · ", theme.dim());
    let mut spans = Vec::new();
    if !app.read_only && view.decidable_idea().is_some() {
        spans.extend([
            key(Action::Approve),
            Span::raw(" approve"),
            sep(),
            key(Action::Reject),
            Span::raw(" reject"),
            sep(),
        ]);
    }
    spans.extend([
        key(Action::Down),
        Span::raw("/"),
        key(Action::Up),
        Span::raw(" scroll"),
        sep(),
        key(Action::CloseReplay),
        Span::raw(" close"),
        sep(),
        key(Action::Halt),
        Span::raw(" HALT"),
        sep(),
        key(Action::Help),
        Span::raw(" help"),
    ]);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `14:30` on the day of the moment, `10-29 14:30` on another.
fn clock(t: DateTime<Utc>, r: &Replay) -> String {
    if t.date_naive() == r.moment.at.date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%m-%d %H:%M").to_string()
    }
}

/// A colour for the canvas, or none without colour.
fn paint(theme: &Theme, color: Color) -> Color {
    if theme.color { color } else { Color::Reset }
}

/// A horizontal line of the chart: the entry (or the zone's two edges), the stop, each
/// target.
struct Level {
    label: String,
    price: Decimal,
    style: Style,
    color: Color,
}

fn levels(r: &Replay, theme: &Theme) -> Vec<Level> {
    let Some(i) = &r.idea else {
        return Vec::new();
    };
    let entry = |label: String, price| Level {
        label,
        price,
        style: theme.key(),
        color: paint(theme, Color::Cyan),
    };
    let mut out = Vec::new();
    match i.entry() {
        Entry::Price(p) => out.push(entry(format!("entry {}", i.price(p)), p)),
        Entry::Zone { low, high } => {
            out.push(entry(format!("zone↑ {}", i.price(high)), high));
            out.push(entry(format!("zone↓ {}", i.price(low)), low));
        }
        Entry::Market => {}
    }
    out.push(Level {
        label: format!("SL {}", i.stop_shown()),
        price: i.stop_loss,
        style: theme.error(),
        color: paint(theme, Color::Red),
    });
    for (n, target) in i.take_profit.iter().enumerate() {
        out.push(Level {
            label: format!("TP{} {}", n + 1, i.price(*target)),
            price: *target,
            style: theme.ok(),
            color: paint(theme, Color::Green),
        });
    }
    out
}

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// The candles of `market` that fit in `slots`, the moment's among them: up to three
/// quarters before it, the rest after; a side with fewer gives its room to the other.
/// Returns them and how many are at or before the moment.
fn visible(candles: &[Candle], at: DateTime<Utc>, slots: usize) -> (&[Candle], usize) {
    let upto = candles.iter().filter(|c| c.captured_at <= at).count();
    let after_avail = candles.len() - upto;
    let before = upto.min(slots - after_avail.min(slots / 4));
    let after = after_avail.min(slots - before);
    (&candles[upto - before..upto + after], before)
}

fn chart(r: &Replay, theme: &Theme, frame: &mut Frame, area: Rect) {
    let title = match &r.market {
        Some(m) => format!(" {} {} · {} ", shown(&m.symbol), m.timeframe, m.choice),
        None => format!(" {} ", shown(r.symbol().unwrap_or("no symbol"))),
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .border_style(theme.border());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let levels = levels(r, theme);
    let candles = r.market.as_ref().map_or(&[][..], |m| m.candles.as_slice());
    let label_width = levels
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(9) as u16
        + 1;
    if candles.is_empty() || inner.width < 3 * label_width.min(14) || inner.height < 4 {
        no_chart(r, &levels, theme, frame, inner);
        return;
    }
    let label_width = label_width.min(inner.width / 3);
    let plot = Rect {
        width: inner.width - label_width,
        height: inner.height - 1,
        ..inner
    };
    let slots = usize::from(plot.width / 2).max(1);
    let (shown, before) = visible(candles, r.moment.at, slots);
    if shown.is_empty() {
        no_chart(r, &levels, theme, frame, inner);
        return;
    }
    let lowest = shown.iter().map(|c| c.low).min().unwrap_or_default();
    let highest = shown.iter().map(|c| c.high).max().unwrap_or_default();
    let (lo, hi) = levels
        .iter()
        .fold((f64_of(lowest), f64_of(highest)), |(lo, hi), l| {
            (lo.min(f64_of(l.price)), hi.max(f64_of(l.price)))
        });
    let pad = ((hi - lo) * 0.06).max(hi.abs() * 0.0002).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let width = f64::from(plot.width);
    let slot = width / shown.len() as f64;
    let x_of = |j: usize| (j as f64 + 0.5) * slot;
    let moment_x = moment_x(shown, before, r.moment.at, &x_of);
    let rising = paint(theme, Color::Green);
    let falling = paint(theme, Color::Red);
    let moment_color = paint(theme, Color::Yellow);
    let canvas = Canvas::default()
        .marker(Marker::Braille)
        .x_bounds([0.0, width])
        .y_bounds([lo, hi])
        .paint(|ctx| {
            for l in &levels {
                let y = f64_of(l.price);
                ctx.draw(&Stroke::new(0.0, y, width, y, l.color));
            }
            ctx.layer();
            ctx.draw(&Stroke::new(moment_x, lo, moment_x, hi, moment_color));
            ctx.layer();
            for (j, c) in shown.iter().enumerate() {
                let x = x_of(j);
                let color = if c.falling() { falling } else { rising };
                let (open, close) = (f64_of(c.open), f64_of(c.close));
                ctx.draw(&Stroke::new(x, f64_of(c.low), x, f64_of(c.high), color));
                if c.falling() {
                    for dx in [-0.5, 0.0, 0.5] {
                        ctx.draw(&Stroke::new(x + dx, open, x + dx, close, color));
                    }
                } else {
                    ctx.draw(&Rectangle::new(x - 0.5, open, 1.0, close - open, color));
                }
            }
        });
    frame.render_widget(canvas, plot);

    // The labels: each level on the row its line is drawn on (or the nearest free one),
    // the visible range's high and low where there is room, and the time axis.
    let rows = plot.height;
    let row_of = |price: f64| {
        let dots = f64::from(rows) * 4.0 - 1.0;
        let dot = ((hi - price) * dots / (hi - lo)).round().max(0.0);
        ((dot as u16) / 4).min(rows - 1)
    };
    let label_x = plot.right();
    let buf = frame.buffer_mut();
    let mut taken = BTreeSet::new();
    let mut place = |row: u16, text: &str, style: Style, taken: &mut BTreeSet<u16>| {
        let free = (0..rows)
            .flat_map(|d| [row.checked_sub(d), row.checked_add(d)])
            .flatten()
            .find(|r| *r < rows && !taken.contains(r));
        if let Some(free) = free {
            taken.insert(free);
            buf.set_stringn(
                label_x,
                plot.y + free,
                text,
                usize::from(label_width),
                style,
            );
        }
    };
    // Top to bottom in price order, each on its line's row or the nearest that keeps the
    // order when lines are closer than a row apart.
    let mut sorted: Vec<&Level> = levels.iter().collect();
    sorted.sort_by_key(|l| std::cmp::Reverse(l.price));
    let mut wanted: Vec<i32> = sorted
        .iter()
        .map(|l| i32::from(row_of(f64_of(l.price))))
        .collect();
    for i in 1..wanted.len() {
        wanted[i] = wanted[i].max(wanted[i - 1] + 1);
    }
    let mut below = i32::from(rows);
    for row in wanted.iter_mut().rev() {
        *row = (*row).min(below - 1);
        below = *row;
    }
    for (l, row) in sorted.iter().zip(wanted) {
        if let Ok(row) = u16::try_from(row) {
            place(row, &l.label, l.style, &mut taken);
        }
    }
    for (price, word) in [(highest, "high"), (lowest, "low")] {
        let row = row_of(f64_of(price));
        if !taken.contains(&row) {
            place(
                row,
                &format!("{word} {}", r.price(price)),
                theme.dim(),
                &mut taken,
            );
        }
    }
    let axis = plot.y + plot.height;
    let moment_label = format!("▲{}", clock(r.moment.at, r));
    let moment_len = moment_label.chars().count() as u16;
    let moment_col = (moment_x.floor() as u16).min(plot.width.saturating_sub(moment_len));
    let first = clock(shown[0].captured_at, r);
    let last = clock(shown[shown.len() - 1].captured_at, r);
    let first_len = first.chars().count() as u16;
    let last_len = last.chars().count() as u16;
    if first_len < moment_col {
        buf.set_string(plot.x, axis, &first, theme.dim());
    }
    let last_col = plot.width.saturating_sub(last_len);
    if moment_col + moment_len < last_col {
        buf.set_string(plot.x + last_col, axis, &last, theme.dim());
    }
    buf.set_string(plot.x + moment_col, axis, &moment_label, theme.warn());
}

/// Where the moment falls: on its candle, or between it and the next in proportion.
fn moment_x(
    shown: &[Candle],
    before: usize,
    at: DateTime<Utc>,
    x_of: &dyn Fn(usize) -> f64,
) -> f64 {
    let Some(j) = before.checked_sub(1) else {
        return 0.0;
    };
    let x = x_of(j);
    match shown.get(j + 1) {
        Some(next) if shown[j].captured_at < at => {
            let span = (next.captured_at - shown[j].captured_at).num_seconds() as f64;
            let into = (at - shown[j].captured_at).num_seconds() as f64;
            if span > 0.0 {
                x + (x_of(j + 1) - x) * (into / span)
            } else {
                x
            }
        }
        _ => x,
    }
}

/// The chart's box without candles: why, and the levels in words.
fn no_chart(r: &Replay, levels: &[Level], theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    match r.symbol() {
        None => lines.push(Line::from(Span::styled(
            "A global decision: no symbol to chart. The account, calendar and headlines of the \
             moment are in the panels.",
            theme.dim(),
        ))),
        Some(symbol) if r.market.is_none() => lines.push(Line::from(Span::styled(
            format!(
                "No candles of {} around {} UTC: the market snapshot rows no longer exist.",
                shown(symbol),
                clock(r.moment.at, r)
            ),
            theme.error(),
        ))),
        Some(_) => lines.push(Line::from(Span::styled(
            "Too small for the chart.",
            theme.dim(),
        ))),
    }
    if !levels.is_empty() {
        let mut spans = Vec::new();
        for (n, l) in levels.iter().enumerate() {
            if n > 0 {
                spans.push(Span::styled(" · ", theme.dim()));
            }
            spans.push(Span::styled(l.label.clone(), l.style));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// One line of a panel, and where its continuations start when it wraps.
pub(crate) struct Row {
    indent: usize,
    line: Line<'static>,
}

impl Row {
    /// A line whose continuations start `indent` columns in.
    pub(crate) fn new(indent: usize, line: Line<'static>) -> Row {
        Row { indent, line }
    }
}

fn labelled(label: &str, theme: &Theme, spans: Vec<Span<'static>>) -> Row {
    let mut all = vec![Span::styled(format!("{label:<LABEL$}"), theme.title())];
    all.extend(spans);
    Row {
        indent: LABEL,
        line: Line::from(all),
    }
}

fn more(spans: Vec<Span<'static>>) -> Row {
    let mut all = vec![Span::raw(" ".repeat(LABEL))];
    all.extend(spans);
    Row {
        indent: LABEL,
        line: Line::from(all),
    }
}

/// A line under a heading, e.g. one calendar event: continuations start `indent` in.
fn item(indent: usize, spans: Vec<Span<'static>>) -> Row {
    let mut all = vec![Span::raw("  ")];
    all.extend(spans);
    Row {
        indent,
        line: Line::from(all),
    }
}

fn text(s: impl Into<String>) -> Span<'static> {
    Span::raw(s.into())
}

fn styled(s: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(s.into(), style)
}

fn value(d: Option<Decimal>) -> String {
    d.map_or_else(|| "—".to_owned(), |d| Plain(d).to_string())
}

/// The panels' lines, in reading order; the Gate's among them when it has no panel of its
/// own.
fn panel_rows(r: &Replay, theme: &Theme, with_gate: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    if !r.missing.is_empty() {
        rows.push(labelled(
            "MISSING",
            theme,
            vec![styled(
                format!("{}: their rows no longer exist", r.missing_in_words()),
                theme.error(),
            )],
        ));
    }
    let unreadable = ShortIds::new(r.unreadable.iter().map(|f| f.id));
    for f in &r.unreadable {
        rows.push(labelled(
            "UNREADABLE",
            theme,
            vec![styled(
                format!(
                    "{} {} cannot be read ({}): left out",
                    f.table,
                    unreadable.of(f.id),
                    f.reason()
                ),
                theme.error(),
            )],
        ));
    }
    decision_rows(r, theme, &mut rows);
    indicator_rows(r, theme, &mut rows);
    account_rows(r, theme, &mut rows);
    calendar_rows(r, theme, &mut rows);
    news_rows(r, theme, &mut rows);
    strategy_rows(r, theme, &mut rows);
    if with_gate {
        rows.extend(gate_rows(r, theme));
    }
    outcome_rows(r, theme, &mut rows);
    rows
}

fn decision_rows(r: &Replay, theme: &Theme, rows: &mut Vec<Row>) {
    let m = &r.moment;
    match &r.decision {
        Some(d) => rows.push(labelled(
            "Decision",
            theme,
            vec![
                styled(d.action.to_string(), theme.tone(d.action.tone())),
                text(format!(
                    " by {} · {} UTC · recorded {}",
                    d.operator.as_deref().unwrap_or("the platform"),
                    d.occurred_at.format("%Y-%m-%d %H:%M:%S"),
                    d.risk_check_result.as_deref().unwrap_or("—")
                )),
            ],
        )),
        None => rows.push(labelled(
            "Decision",
            theme,
            vec![text("none yet: the idea's own snapshot")],
        )),
    }
    let source = match (m.source, r.account.as_ref()) {
        (MomentSource::Snapshot, Some(a)) => format!("snapshot {}", short(a.snapshot.id)),
        (MomentSource::Snapshot, None) => "its snapshot".to_owned(),
        (MomentSource::IdeaCreated, _) => "the idea's creation: its snapshot is gone".to_owned(),
        (MomentSource::DecisionOccurred, _) => "the decision's time: no snapshot".to_owned(),
    };
    rows.push(labelled(
        "Moment",
        theme,
        vec![text(format!(
            "the AI looked at {} UTC ({source})",
            m.at.format("%H:%M:%S")
        ))],
    ));
    match &r.idea {
        Some(i) => {
            rows.push(labelled(
                "Idea",
                theme,
                vec![
                    text(format!("{} {} · ", i.symbol, i.direction)),
                    styled(i.status.to_string(), theme.tone(i.status.tone())),
                    text(format!(" · confidence {}", i.confidence_score)),
                ],
            ));
            rows.push(more(vec![text(format!(
                "entry {} · SL {} · TP {} · R:R {} · hold {}",
                i.entry_shown(),
                i.stop_shown(),
                i.targets_shown(),
                i.reward_to_risk()
                    .map_or_else(|| "—".to_owned(), |x| x.to_string()),
                i.expected_hold.as_deref().unwrap_or("—")
            ))]));
            rationale_rows(&i.rationale, theme, rows);
        }
        None => {
            if let Some(d) = &r.decision {
                rationale_rows(&d.rationale, theme, rows);
            }
        }
    }
}

/// A rationale, a row a line: its lines continue under the first, never where a label is.
fn rationale_rows(rationale: &str, theme: &Theme, rows: &mut Vec<Row>) {
    for (n, line) in rationale.split('\n').enumerate() {
        let spans = vec![text(line)];
        rows.push(if n == 0 {
            labelled("Rationale", theme, spans)
        } else {
            more(spans)
        });
    }
}

fn indicator_rows(r: &Replay, theme: &Theme, rows: &mut Vec<Row>) {
    match &r.indicators {
        Some(i) => {
            let before = (r.moment.at - i.captured_at).num_minutes();
            rows.push(labelled(
                "Indicators",
                theme,
                vec![text(format!(
                    "{} {} ({before} min before) · RSI 14 {} · SMA 50 {} · SMA 200 {} · ATR {}",
                    i.timeframe,
                    clock(i.captured_at, r),
                    value(i.rsi_14),
                    value(i.sma_50),
                    value(i.sma_200),
                    value(i.atr)
                ))],
            ));
            if let Some(m) = &i.macd {
                rows.push(more(vec![text(format!(
                    "MACD {} · signal {} · histogram {}",
                    value(m.macd),
                    value(m.signal),
                    value(m.hist)
                ))]));
            }
        }
        None if r.missing.contains(&Part::Indicators) => rows.push(labelled(
            "Indicators",
            theme,
            vec![styled(
                "missing: no row at or before the moment",
                theme.error(),
            )],
        )),
        None => {}
    }
}

fn account_rows(r: &Replay, theme: &Theme, rows: &mut Vec<Row>) {
    let Some(a) = &r.account else {
        rows.push(labelled(
            "Account",
            theme,
            vec![styled(
                "missing: the snapshot_account row is gone",
                theme.error(),
            )],
        ));
        return;
    };
    let s = &a.snapshot;
    let source = match a.source {
        AccountSource::SnapshotRef => "",
        AccountSource::LastBefore => " (last capture before)",
    };
    rows.push(labelled(
        "Account",
        theme,
        vec![text(format!(
            "{}{source} · balance {} · equity {} · margin free {} · {} open · open P/L {}",
            s.captured_at.format("%H:%M:%S"),
            s.balance,
            s.equity,
            s.margin_free,
            s.open_positions,
            signed(s.open_pl)
        ))],
    ));
    if let Some(d) = &a.day {
        rows.push(more(vec![
            text("day P/L "),
            styled(signed(d.day_pnl), theme.pnl(d.day_pnl.is_sign_negative())),
            text(format!(
                " · drawdown {} from the peak {} (opened at {})",
                d.drawdown, d.peak_equity, d.opening_equity
            )),
        ]));
    }
}

fn calendar_rows(r: &Replay, theme: &Theme, rows: &mut Vec<Row>) {
    let head = match &r.news_block {
        Some(b) => vec![
            styled(format!("news block ±{} min", b.minutes), theme.warn()),
            text(format!(
                " {}–{} for {}",
                clock(b.from, r),
                clock(b.until, r),
                b.whose
            )),
        ],
        None => vec![text("no news block")],
    };
    rows.push(labelled("Calendar", theme, head));
    if r.calendar.is_empty() {
        let (words, style) = if r.missing.contains(&Part::Calendar) {
            ("missing: no calendar row captured then", theme.error())
        } else {
            ("no events within 12 h", theme.dim())
        };
        rows.push(more(vec![styled(words, style)]));
    }
    for e in &r.calendar {
        let impact = if e.high_impact() {
            styled("HIGH", theme.error())
        } else {
            styled(e.event.impact.to_string(), theme.dim())
        };
        let mut spans = vec![
            text(format!(
                "{:>+6}m {} {} ",
                e.minutes_until_release,
                clock(e.event.event_time, r),
                e.event.currency
            )),
            impact,
            text(format!(" {}", e.event.title)),
        ];
        let figures: Vec<String> = [
            ("prev", &e.previous),
            ("fcst", &e.forecast),
            ("actual", &e.actual),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
        if !figures.is_empty() {
            spans.push(styled(format!(" · {}", figures.join(" ")), theme.dim()));
        }
        if e.in_news_block {
            spans.push(styled(" ◆ BLOCKS", theme.error()));
        }
        rows.push(item(10, spans));
    }
}

fn news_rows(r: &Replay, theme: &Theme, rows: &mut Vec<Row>) {
    if r.news.is_empty() {
        let (words, style) = if r.missing.contains(&Part::News) {
            ("missing: no headline captured then", theme.error())
        } else {
            ("none in the day before", theme.dim())
        };
        rows.push(labelled("News", theme, vec![styled(words, style)]));
        return;
    }
    rows.push(labelled(
        "News",
        theme,
        vec![styled(
            format!("{} headline(s) before the moment", r.news.len()),
            theme.dim(),
        )],
    ));
    for h in &r.news {
        let mut spans = vec![
            text(format!("{} ", clock(h.published_at, r))),
            styled(h.source.clone(), theme.dim()),
            text(format!(" {}", h.headline)),
        ];
        if !h.symbols.is_empty() {
            spans.push(styled(format!(" [{}]", h.symbols.join(",")), theme.dim()));
        }
        rows.push(item(8, spans));
    }
}

fn strategy_rows(r: &Replay, theme: &Theme, rows: &mut Vec<Row>) {
    let Some((s, as_of)) = &r.strategy else {
        if r.missing.contains(&Part::Strategy) {
            rows.push(labelled(
                "Strategy",
                theme,
                vec![styled("missing: the strategy is gone", theme.error())],
            ));
        }
        return;
    };
    rows.push(labelled(
        "Strategy",
        theme,
        vec![
            text(format!(
                "{} ({}) · ",
                s.name,
                if s.is_active { "active" } else { "disabled" }
            )),
            styled(as_of.to_string(), theme.dim()),
        ],
    ));
    match &s.rules {
        Ok(rules) => {
            let w = rules.in_words();
            for (k, v) in [
                ("sessions", w.sessions),
                ("caps", w.caps),
                ("news", w.news),
                ("entry", w.entry),
                ("exits", w.exits),
            ] {
                rows.push(more(vec![styled(format!("{k:<9}"), theme.dim()), text(v)]));
            }
            for note in w.notes {
                rows.push(more(vec![styled("note     ", theme.dim()), text(note)]));
            }
        }
        Err(e) => rows.push(more(vec![styled(format!("MALFORMED {e}"), theme.error())])),
    }
}

/// The Gate re-run: what it was asked, on what, and each rule's verdict in order.
fn gate_rows(r: &Replay, theme: &Theme) -> Vec<Row> {
    let Some(g) = &r.gate else {
        return vec![labelled(
            "Gate",
            theme,
            vec![styled("nothing to judge: no idea", theme.dim())],
        )];
    };
    let mut rows = vec![gate_head(r, g, theme)];
    rows.push(more(vec![styled(
        format!(
            "limits {} · AI switch from {}",
            g.limits_as_of, g.switch_as_of
        ),
        theme.dim(),
    )]));
    for v in &g.report.verdicts {
        let (mark, style) = match v.outcome {
            Outcome::Pass => ("pass  ", theme.dim()),
            Outcome::Fail => ("FAIL  ", theme.error()),
            Outcome::Waived => ("waived", theme.warn()),
        };
        rows.push(item(
            33,
            vec![
                styled(format!("{mark} {:<22} ", v.rule.as_str()), style),
                text(v.reason.clone()),
            ],
        ));
    }
    rows
}

fn gate_head(r: &Replay, g: &GateThen, theme: &Theme) -> Row {
    let result = g.report.risk_check_result();
    let style = if g.report.passed() {
        theme.ok()
    } else {
        theme.error()
    };
    labelled(
        "Gate",
        theme,
        vec![
            text(format!(
                "{} as of {} · lot {} ({}) → ",
                match g.purpose {
                    Purpose::Automatic => "automatic",
                    Purpose::HumanApproval => "approval",
                },
                clock(g.at, r),
                Shown(g.lot),
                match g.lot_from {
                    LotFrom::Execution => "the order's",
                    LotFrom::Rationale => "the approval's",
                    LotFrom::Default => "default",
                }
            )),
            styled(result, style),
            text(
                g.recorded
                    .as_deref()
                    .map_or_else(String::new, |rec| format!(" · recorded {rec}")),
            ),
        ],
    )
}

fn outcome_rows(r: &Replay, theme: &Theme, rows: &mut Vec<Row>) {
    if let Some(d) = &r.decided {
        rows.push(labelled(
            "Decided",
            theme,
            vec![
                styled(d.action.in_words(), theme.tone(d.action.tone())),
                text(format!(
                    " by {} at {} UTC",
                    d.operator.as_deref().unwrap_or("the platform"),
                    d.occurred_at.format("%Y-%m-%d %H:%M:%S")
                )),
            ],
        ));
    }
    if let Some(e) = &r.execution {
        rows.push(labelled(
            "Execution",
            theme,
            vec![text(format!(
                "order {} · {} · lot {} · fill {} · broker {} · by {} {}",
                short(e.id),
                e.state,
                Shown(e.lot_size),
                e.fill_price.map_or_else(|| "—".to_owned(), |p| r.price(p)),
                e.broker_order_id.as_deref().unwrap_or("—"),
                e.requested_by,
                clock(e.requested_at, r)
            ))],
        ));
    }
    if let Some(h) = &r.cancelled_by {
        rows.push(labelled(
            "Cancelled",
            theme,
            vec![
                styled("by the kill switch", theme.error()),
                text(format!(
                    " at {} ({}): {}",
                    clock(h.occurred_at, r),
                    h.operator.as_deref().unwrap_or("the platform"),
                    h.rationale
                )),
            ],
        ));
    }
}

/// Word-wraps `rows` to `width` columns, keeping each span's style; continuation lines
/// start at their row's indent. Words longer than a line are cut. Every span is shown on
/// one line (`domain::text::line`): the panels and dialogs show rows' text, typed text
/// and errors, and a hidden character among them appears as its escape.
pub(crate) fn wrap(rows: Vec<Row>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if width == 0 {
        return out;
    }
    for row in rows {
        let indent = if row.indent * 2 > width {
            0
        } else {
            row.indent
        };
        let mut line: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for span in row.line.spans {
            let style = span.style;
            for word in words(&shown(&span.content)) {
                let mut word = word.to_owned();
                loop {
                    let len = word.chars().count();
                    if used + len <= width {
                        used += len;
                        line.push(Span::styled(word, style));
                        break;
                    }
                    if used > indent && !word.trim().is_empty() {
                        out.push(Line::from(std::mem::take(&mut line)));
                        line.push(Span::raw(" ".repeat(indent)));
                        used = indent;
                        word = word.trim_start().to_owned();
                        continue;
                    }
                    if word.trim().is_empty() {
                        break;
                    }
                    // A word longer than the room left: cut it.
                    let room = width.saturating_sub(used).max(1);
                    let head: String = word.chars().take(room).collect();
                    let tail: String = word.chars().skip(room).collect();
                    line.push(Span::styled(head, style));
                    out.push(Line::from(std::mem::take(&mut line)));
                    line.push(Span::raw(" ".repeat(indent)));
                    used = indent;
                    word = tail;
                    if word.is_empty() {
                        break;
                    }
                }
            }
        }
        out.push(Line::from(line));
    }
    out
}

/// `text` cut before each space, spaces kept with the word that follows.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (n, c) in text.char_indices() {
        if c == ' ' && n > start && !text[start..n].trim().is_empty() {
            out.push(&text[start..n]);
            start = n;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::console::app::App;
    use crate::console::fixtures::{loaded_app, replay, replay_partial};
    use crate::console::msg::{Loaded, Msg};
    use crate::console::view::draw as draw_screen;

    fn screen(app: &App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| draw_screen(app, &Theme { color: false }, frame))
            .unwrap();
        terminal.backend().to_string()
    }

    fn with_replay(r: Replay, width: u16, height: u16) -> App {
        let mut app = loaded_app(true);
        app.update(Msg::Resize {
            list_rows: super::super::list_rows(width, height),
            width,
            height,
        });
        let of = match (&r.decision, &r.idea) {
            (Some(d), _) => crate::console::app::ReplayOf::Decision(d.id),
            (None, Some(i)) => crate::console::app::ReplayOf::Idea(i.id),
            (None, None) => unreachable!("a fixture replay has a decision or an idea"),
        };
        app.open_replay(of);
        app.update(Msg::Loaded(Loaded::Replay(Box::new(r))));
        app
    }

    #[test]
    fn replay_at_80x24_and_160x48() {
        for (width, height) in [(80, 24), (160, 48)] {
            let app = with_replay(replay(), width, height);
            insta::assert_snapshot!(
                format!("replay_{width}x{height}"),
                screen(&app, width, height)
            );
        }
    }

    #[test]
    fn a_partial_replay_names_what_is_missing_first() {
        let app = with_replay(replay_partial(), 80, 24);
        let text = screen(&app, 80, 24);
        insta::assert_snapshot!("replay_partial_80x24", text);
    }

    #[test]
    fn the_panels_scroll_to_their_last_line_and_no_further() {
        let mut app = with_replay(replay(), 80, 24);
        let max = max_scroll(&replay(), 80, 24);
        assert!(max > 0, "80×24 has more panel lines than rows");
        app.scroll_replay(isize::MAX);
        assert_eq!(app.replay.as_ref().unwrap().scroll, max);
        let bottom = screen(&app, 80, 24);
        assert!(bottom.contains("Execution"), "{bottom}");
        app.scroll_replay(-1);
        assert_eq!(app.replay.as_ref().unwrap().scroll, max - 1);
    }

    #[test]
    fn every_size_down_to_one_cell_draws_without_panicking() {
        for r in [replay(), replay_partial()] {
            for width in [1, 2, 5, 10, 20, 33, 40, 79, 119, 120, 200] {
                for height in [1, 2, 3, 5, 8, 12, 23, 31, 32, 60] {
                    let app = with_replay(r.clone(), width, height);
                    let _ = screen(&app, width, height);
                }
            }
        }
    }

    #[test]
    fn wrapping_keeps_words_whole_and_indents_continuations() {
        let rows = vec![Row {
            indent: 4,
            line: Line::from("alpha beta gamma delta"),
        }];
        let lines: Vec<String> = wrap(rows, 12)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(lines, ["alpha beta", "    gamma", "    delta"]);
        let long = vec![Row {
            indent: 0,
            line: Line::from("abcdefghij"),
        }];
        assert_eq!(wrap(long, 4).len(), 3);
    }
}
