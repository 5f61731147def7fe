//! Drawing: reads `&App` and nothing else. No IO, no clock: everything shown was put in
//! the state by `update`.
//!
//! Text tradedesk did not write (a row's text, a reason, an error, what is typed) is
//! drawn through [`shown`], or through `replay::wrap`, which shows every span so: a
//! hidden character appears as its escape, `\u{202e}`, never as itself. [`draw`] then
//! makes sure of it: a cell still holding one is drawn as `�`.

mod dialog;
mod header;
mod panes;
pub mod pictures;
pub mod replay;
#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use super::app::App;
use super::keymap::Action;
use super::msg::Pane;
use super::theme::Theme;
use crate::domain::text;

/// Text tradedesk did not write, for one line on screen: each hidden character as its
/// escape (`domain::text::line`).
pub fn shown(s: &str) -> String {
    text::line(s).into_owned()
}

/// Below this width the four panes become tabs.
pub const WIDE: u16 = 120;
/// Below this height, too.
pub const TALL: u16 = 32;
/// From this height the header has a line for the day's equity (its sparkline).
pub const EQUITY_LINE: u16 = 24;
/// The risk pane's width beside the strategies.
const RISK_WIDTH: u16 = 52;

/// Where everything goes on a screen of `area`.
pub struct Areas {
    pub header: Rect,
    /// `None` in the four-pane layout.
    pub tabs: Option<Rect>,
    pub panes: Vec<(Pane, Rect)>,
    pub toast: Rect,
    pub footer: Rect,
}

/// The layout for a screen of `area` with `focus` shown when panes are tabs.
pub fn areas(area: Rect, focus: Pane) -> Areas {
    let header_height = if area.height >= EQUITY_LINE { 4 } else { 3 };
    let [header, body, toast, footer] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if area.width >= WIDE && area.height >= TALL {
        // The risk pane's limits, its two bars of the day and its notes (the last halt,
        // who changed the limits and what), when there is room; its limits and a bar at
        // least.
        let top = if body.height >= 40 { 16 } else { 12 };
        // Ideas and the timeline share what is left, 3:2: at the smallest four-pane size
        // the timeline still shows rows, not just its frame.
        let [top, ideas, timeline] = Layout::vertical([
            Constraint::Length(top),
            Constraint::Fill(3),
            Constraint::Fill(2),
        ])
        .areas(body);
        let [risk, strategies] =
            Layout::horizontal([Constraint::Length(RISK_WIDTH), Constraint::Min(0)]).areas(top);
        Areas {
            header,
            tabs: None,
            panes: vec![
                (Pane::Risk, risk),
                (Pane::Strategies, strategies),
                (Pane::Ideas, ideas),
                (Pane::Timeline, timeline),
            ],
            toast,
            footer,
        }
    } else {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        Areas {
            header,
            tabs: Some(tabs),
            panes: vec![(focus, pane)],
            toast,
            footer,
        }
    }
}

/// A console on an archive file: its two header lines, then the timeline.
pub fn archive_areas(area: Rect) -> Areas {
    let [header, body, toast, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        tabs: None,
        panes: vec![(Pane::Timeline, body)],
        toast,
        footer,
    }
}

/// [`list_rows`] of a console on an archive file (its timeline has the screen).
pub fn archive_list_rows(width: u16, height: u16) -> u16 {
    archive_areas(Rect::new(0, 0, width, height)).panes[0]
        .1
        .height
        .saturating_sub(3)
        .max(1)
}

/// Rows a list shows on a screen of `width`×`height` (the pane less its border and its
/// header row), for paging.
pub fn list_rows(width: u16, height: u16) -> u16 {
    let a = areas(Rect::new(0, 0, width, height), Pane::Ideas);
    a.panes
        .iter()
        .find(|(p, _)| *p == Pane::Ideas)
        .map(|(_, r)| r.height.saturating_sub(3))
        .unwrap_or(1)
        .max(1)
}

/// Draws the whole screen.
pub fn draw(app: &App, theme: &Theme, frame: &mut Frame) {
    draw_views(app, theme, frame);
    scrub(frame.buffer_mut());
}

/// Draws the whole screen, each text as its drawing function showed it.
fn draw_views(app: &App, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    if let Some(view) = &app.replay {
        // A dialog over a replay (approving its idea, the kill switch) takes the panels'
        // place, so the chart stays in view beside it.
        let dialog = app.dialog.as_ref().filter(|_| !app.help);
        let height =
            |width: u16, max: u16| dialog.map_or(0, |d| dialog::height(d, theme, width, max));
        let wanted: Option<&dyn Fn(u16, u16) -> u16> = dialog.is_some().then_some(&height);
        let place = replay::draw(app, view, theme, frame, area, wanted);
        if app.help {
            dialog::help(app, theme, frame, area);
        } else if let (Some(d), Some(rect)) = (dialog, place) {
            dialog::draw_in(d, theme, frame, rect);
        }
        return;
    }
    let a = match &app.archive {
        Some(archive) => {
            let a = archive_areas(area);
            header::draw_archive(archive, theme, frame, a.header);
            a
        }
        None => {
            let a = areas(area, app.focus);
            header::draw(app, theme, frame, a.header);
            a
        }
    };
    if let Some(tabs) = a.tabs {
        draw_tabs(app, theme, frame, tabs);
    }
    for (pane, rect) in &a.panes {
        panes::draw(app, theme, frame, *pane, *rect);
    }
    draw_toast(app, theme, frame, a.toast);
    draw_footer(app, theme, frame, a.footer);
    if app.help {
        dialog::help(app, theme, frame, area);
    } else if let Some(d) = &app.dialog {
        dialog::draw(d, theme, frame, area);
    }
}

/// The last guard: a cell holding a hidden character that no drawing function showed as
/// its escape is drawn as `�` (as wide as the cell), so that it never reaches the
/// terminal. Returns how many cells it changed (none, when every text was shown).
fn scrub(buffer: &mut Buffer) -> usize {
    let mut changed = 0;
    for cell in &mut buffer.content {
        if cell.symbol().chars().any(text::is_hidden) {
            cell.set_symbol("\u{fffd}");
            changed += 1;
        }
    }
    changed
}

fn draw_tabs(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let titles: Vec<Line> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(n, p)| Line::from(format!("{} {}", n + 1, p.title())))
        .collect();
    let selected = Pane::ALL.iter().position(|p| *p == app.focus).unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .highlight_style(theme.selected())
        .divider("│");
    frame.render_widget(tabs, area);
}

fn draw_toast(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
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
    }
}

/// The keys that work in the focused pane, from the same table the handlers use.
fn draw_footer(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    let mut push = |key: String, help: &str| {
        if !spans.is_empty() {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {help}")));
    };
    for b in app.keymap.bindings(app.scope()) {
        if let Some(key) = b.keys.first() {
            let help = if app.read_only { "(read-only)" } else { b.help };
            push(key.to_string(), help.split(' ').next().unwrap_or(help));
        }
    }
    match app.focus {
        Pane::Ideas | Pane::Timeline => push(app.keymap.key_of(Action::Replay), "replay"),
        Pane::Strategies => push(app.keymap.key_of(Action::Replay), "details"),
        Pane::Risk => {}
    }
    if app.focus != Pane::Risk {
        push(app.keymap.key_of(Action::Filter), "filter");
    }
    // Nothing in an archive can be halted.
    if app.archive.is_none() {
        push(app.keymap.key_of(Action::Halt), "HALT");
    }
    push(app.keymap.key_of(Action::Help), "help");
    push(app.keymap.key_of(Action::Quit), "quit");
    // The details key where the footer has room for it (`?` lists it anyway).
    let info = format!(" · {} info", app.keymap.key_of(Action::Details));
    let width: usize = spans.iter().map(Span::width).sum();
    if matches!(app.focus, Pane::Ideas | Pane::Timeline)
        && width + info.chars().count() <= usize::from(area.width)
    {
        spans.push(Span::styled(" · ", theme.dim()));
        spans.push(Span::styled(
            app.keymap.key_of(Action::Details),
            theme.key(),
        ));
        spans.push(Span::raw(" info"));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(Style::new()), area);
}
