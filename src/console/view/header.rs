//! The header: the AI switch (impossible to miss), `DEMO` when the simulated platform
//! runs beside the console, the connection, the operator, the account, the day's equity
//! as a sparkline (where the screen has a line for it), and the day against its limits.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

use super::pictures::{self, LimitTone};
use super::shown;
use crate::console::app::{App, ArchiveShown, Connection};
use crate::console::theme::Theme;
use crate::domain::numeric::signed;
use crate::format::short;

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let [switch, account, equity, gauges] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(u16::from(area.height >= 4)),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(switch_line(app, theme, switch.width)),
        switch,
    );
    frame.render_widget(Paragraph::new(account_line(app, theme)), account);
    if equity.height > 0 {
        frame.render_widget(
            Paragraph::new(equity_line(app, theme, usize::from(equity.width))),
            equity,
        );
    }
    draw_gauges(app, theme, frame, gauges);
}

/// The header of a console on an archive file: what it is, and that it is not the
/// platform now. Nothing here is live: no switch, no account, no day. What matters most
/// comes first, so a narrow screen cuts only the details.
///
/// Whether anything but the file itself vouches for it comes right after READ-ONLY.
///
/// ```text
///  ARCHIVE  READ-ONLY  checked  2026-q1.tdarchive · from ai_trader
/// 1120 decisions archived, 2026-01-01 07:02 – 2026-03-31 22:58 UTC · audit seqs 1–1120 · written 2026-11-25 21:40 UTC · checked against …
/// ```
pub fn draw_archive(archive: &ArchiveShown, theme: &Theme, frame: &mut Frame, area: Rect) {
    let [first, second] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let trust = match &archive.checked {
        Some(_) => Span::styled("checked  ", theme.ok()),
        None => Span::styled("not checked against a database  ", theme.warn()),
    };
    let title = Line::from(vec![
        Span::styled(" ARCHIVE ", theme.demo()),
        Span::styled("  READ-ONLY  ", theme.warn()),
        trust,
        Span::raw(shown(&archive.file)),
        Span::styled(format!(" · from {}", shown(&archive.database)), theme.dim()),
    ]);
    let span = match archive.span {
        Some((from, to)) => format!(
            ", {} – {} UTC",
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M")
        ),
        None => String::new(),
    };
    let (first_seq, last_seq) = archive.seqs;
    let seqs = if last_seq >= first_seq {
        format!(" · audit seqs {first_seq}–{last_seq}")
    } else {
        String::new()
    };
    let what = Line::from(Span::styled(
        format!(
            "{} decision{} archived{span}{seqs} · written {} UTC{}",
            archive.decisions,
            if archive.decisions == 1 { "" } else { "s" },
            archive.created_at.format("%Y-%m-%d %H:%M"),
            archive
                .checked
                .as_deref()
                .map(|by| format!(" · checked against {}", shown(by)))
                .unwrap_or_default()
        ),
        theme.dim(),
    ));
    frame.render_widget(Paragraph::new(title), first);
    frame.render_widget(Paragraph::new(what), second);
}

/// `Equity 00:00–10:29 UTC ▁▂▃▅▆▇█▇ ▁24650.00 █25200.00`: the day's equity from its
/// start to the last capture, and the values its lowest and highest cells stand for (the
/// picture has no zero line: its scale is written beside it). Where the screen is too
/// narrow for a line of at least `MIN_SPARK` cells and its scale, nothing is drawn.
fn equity_line(app: &App, theme: &Theme, width: usize) -> Line<'static> {
    const MIN_SPARK: usize = 8;
    let Some(day) = &app.day else {
        return Line::from(Span::styled("Equity: no capture yet", theme.dim()));
    };
    let last = app.equity.iter().map(|p| p.at).max();
    let span = match last {
        Some(t) if t > day.day_start => format!(
            "{}–{} UTC",
            day.day_start.format("%H:%M"),
            t.format("%H:%M")
        ),
        _ => format!("since {} UTC", day.day_start.format("%H:%M")),
    };
    // The scale needs the columns, which need the width: the scale's width is that of
    // the widest value either end could take.
    let widest = app
        .equity
        .iter()
        .map(|p| p.equity.to_string().chars().count())
        .max()
        .unwrap_or(0);
    // ` ▁{low} █{high}`, each value at most that wide.
    let scale_width = 2 * widest + 4;
    let labels = [format!("Equity {span} "), "Equity ".to_owned()];
    let Some((label, spark_width)) = labels.into_iter().find_map(|label| {
        let room = width.checked_sub(label.chars().count() + scale_width)?;
        (room >= MIN_SPARK).then_some((label, room))
    }) else {
        return Line::default();
    };
    let Some((low, high)) = pictures::equity_range(&app.equity, day.day_start) else {
        return Line::from(Span::styled("Equity: no capture yet", theme.dim()));
    };
    let columns = pictures::equity_columns(&app.equity, day.day_start, spark_width);
    let scale = if low == high {
        format!(" {}{low} flat", pictures::LEVELS[pictures::FLAT])
    } else {
        format!(
            " {}{low} {}{high}",
            pictures::LEVELS[0],
            pictures::LEVELS[pictures::LEVELS.len() - 1]
        )
    };
    Line::from(vec![
        Span::styled(label, theme.dim()),
        Span::styled(
            pictures::sparkline(&columns, low, high),
            theme.pnl(day.day_pnl.is_sign_negative()),
        ),
        Span::styled(scale, theme.dim()),
    ])
}

/// The switch, then the connection and the operator. The halt reason gives way (cut with
/// an ellipsis) before the connection state is ever pushed off a narrow screen.
fn switch_line<'a>(app: &'a App, theme: &Theme, width: u16) -> Line<'a> {
    let connection = match &app.connection {
        Connection::Live => Span::styled("● LIVE", theme.ok()),
        Connection::Connecting => Span::styled("○ connecting…", theme.warn()),
        Connection::Lost { since, .. } => Span::styled(
            format!(
                "DISCONNECTED — retrying {}s · STALE · {}",
                (app.now - *since).num_seconds().max(0),
                if app.halt_armed.is_some() {
                    "halt armed"
                } else {
                    "acts refused"
                }
            ),
            theme.error(),
        ),
    };
    let badge = app.demo.then(|| Span::styled(" DEMO ", theme.demo()));
    let mut tail = vec![Span::raw("  "), connection];
    tail.push(Span::styled(
        format!("  {}", shown(&app.operator)),
        theme.dim(),
    ));
    if app.read_only {
        tail.push(Span::styled("  READ-ONLY", theme.warn()));
    }
    // The switch is read on its own, so no limit a writer made unreadable can hide it.
    let switch = match &app.switch {
        _ if app.halt_armed.is_some() => {
            Span::styled(" HALT PENDING — not confirmed ", theme.halting())
        }
        _ if app.halting => Span::styled(" HALTING… ", theme.halting()),
        Some(r) if r.ai_trading_enabled => Span::styled(" AI TRADING: ON ", theme.ai_on()),
        Some(r) => {
            let reason = shown(r.last_halt_reason.as_deref().unwrap_or("not enabled"));
            // Room for the reason: the line less the badge, the switch's words and the
            // connection.
            let fixed = " AI TRADING: OFF —  ".chars().count()
                + tail[1].content.chars().count()
                + 2
                + badge.as_ref().map_or(0, |b| b.width() + 1);
            let room = usize::from(width).saturating_sub(fixed).max(12);
            let shown: String = if reason.chars().count() > room {
                let cut: String = reason.chars().take(room.saturating_sub(1)).collect();
                format!("{cut}…")
            } else {
                reason.to_string()
            };
            Span::styled(format!(" AI TRADING: OFF — {shown} "), theme.ai_off())
        }
        None => Span::styled(" AI TRADING: ? (reading…) ", theme.warn()),
    };
    let mut spans = Vec::new();
    if let Some(badge) = badge {
        spans.extend([badge, Span::raw(" ")]);
    }
    spans.push(switch);
    spans.extend(tail);
    Line::from(spans)
}

fn account_line<'a>(app: &'a App, theme: &Theme) -> Line<'a> {
    // A capture of the day that cannot be read is said first: the day's figures are not
    // shown without it.
    if let Some(f) = app.account_unreadable.first() {
        return Line::from(Span::styled(
            format!(
                "UNREADABLE account capture {}: {}{}",
                short(f.id),
                shown(&f.reason()),
                match app.account_unreadable.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                }
            ),
            theme.error(),
        ));
    }
    match &app.account {
        Some(a) => Line::from(vec![
            Span::raw(format!(
                "Balance {}  Equity {}  Open P/L ",
                a.balance, a.equity
            )),
            Span::styled(signed(a.open_pl), theme.pnl(a.open_pl.is_sign_negative())),
            Span::raw(format!("  Positions {}", a.open_positions)),
            Span::styled(
                format!("  as of {}", a.captured_at.format("%H:%M:%S UTC")),
                theme.dim(),
            ),
        ]),
        None => Line::from(Span::styled("No account snapshot yet", theme.dim())),
    }
}

/// The share of `limit` that `value` fills, for the gauge (full only once reached).
fn ratio(value: Decimal, limit: Decimal) -> f64 {
    if pictures::limit_tone(value, limit) == LimitTone::Reached {
        return 1.0;
    }
    if value <= Decimal::ZERO || limit <= Decimal::ZERO {
        return 0.0;
    }
    (value / limit).to_f64().unwrap_or(0.0).clamp(0.0, 1.0)
}

/// `  89% near`, `  100% REACHED`: from 80 % of the limit on, said in words too.
fn closeness(value: Decimal, limit: Decimal, gap: &str) -> String {
    match pictures::limit_tone(value, limit) {
        LimitTone::Below => String::new(),
        tone => format!("{gap}{} {}", pictures::percent(value, limit), tone.word()),
    }
}

fn draw_gauges(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (Some(day), Some(risk)) = (&app.day, &app.risk) else {
        let why = if !app.account_unreadable.is_empty() {
            "Day: no figures (an account capture cannot be read)"
        } else if app.risk_unreadable.is_some() {
            "Day: no limits (risk_config cannot be read)"
        } else {
            "Day: no figures yet"
        };
        let style = if why.ends_with("yet") {
            theme.dim()
        } else {
            theme.error()
        };
        frame.render_widget(Paragraph::new(Span::styled(why, style)), area);
        return;
    };
    // Two columns apart, so the first bar never runs into the second's label.
    let [left, _, right] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(2),
        Constraint::Fill(1),
    ])
    .areas(area);
    // Narrow screens get the labels without their spaces, so that a word like REACHED is
    // never cut off.
    let (slash, gap) = if area.width < 100 {
        ("/", " ")
    } else {
        (" / ", "  ")
    };
    let c = &risk.config;
    let (target, limit) = (c.daily_profit_target, c.max_drawdown_amount);
    let pnl_tone = pictures::limit_tone(day.day_pnl, target);
    // Thick where filled, thin where not: the share reads without colour too.
    let gauge = || LineGauge::default().filled_symbol("━").unfilled_symbol("─");
    let pnl = gauge()
        .ratio(ratio(day.day_pnl, target))
        .label(format!(
            "Day P/L {}{slash}{}{}",
            signed(day.day_pnl),
            target,
            closeness(day.day_pnl, target, gap)
        ))
        .filled_style(theme.limit(pnl_tone, theme.pnl(day.day_pnl.is_sign_negative())));
    let dd_tone = pictures::limit_tone(day.drawdown, limit);
    let drawdown = gauge()
        .ratio(ratio(day.drawdown, limit))
        .label(format!(
            "Drawdown {}{slash}{}{}",
            day.drawdown,
            limit,
            closeness(day.drawdown, limit, gap)
        ))
        .filled_style(theme.limit(dd_tone, Style::new()));
    frame.render_widget(pnl, left);
    frame.render_widget(drawdown, right);
}
