//! The header: the AI switch (impossible to miss), the connection, the operator, the
//! account, and the day against its limits.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

use crate::console::app::{App, Connection};
use crate::console::theme::Theme;
use crate::domain::numeric::signed;

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let [switch, account, gauges] = Layout::vertical([Constraint::Length(1); 3]).areas(area);
    frame.render_widget(
        Paragraph::new(switch_line(app, theme, switch.width)),
        switch,
    );
    frame.render_widget(Paragraph::new(account_line(app, theme)), account);
    draw_gauges(app, theme, frame, gauges);
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
    let mut tail = vec![Span::raw("  "), connection];
    tail.push(Span::styled(format!("  {}", app.operator), theme.dim()));
    if app.read_only {
        tail.push(Span::styled("  READ-ONLY", theme.warn()));
    }
    let switch = match &app.risk {
        _ if app.halt_armed.is_some() => {
            Span::styled(" HALT PENDING — not confirmed ", theme.halting())
        }
        _ if app.halting => Span::styled(" HALTING… ", theme.halting()),
        Some(r) if r.config.ai_trading_enabled => Span::styled(" AI TRADING: ON ", theme.ai_on()),
        Some(r) => {
            let reason = r
                .config
                .last_halt_reason
                .as_deref()
                .unwrap_or("not enabled");
            // Room for the reason: the line less the switch's words and the connection.
            let fixed =
                " AI TRADING: OFF —  ".chars().count() + tail[1].content.chars().count() + 2;
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
    let mut spans = vec![switch];
    spans.extend(tail);
    Line::from(spans)
}

fn account_line<'a>(app: &'a App, theme: &Theme) -> Line<'a> {
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

fn ratio(part: Decimal, whole: Decimal) -> f64 {
    if whole <= Decimal::ZERO {
        return if part > Decimal::ZERO { 1.0 } else { 0.0 };
    }
    (part / whole).to_f64().unwrap_or(0.0).clamp(0.0, 1.0)
}

fn draw_gauges(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (Some(day), Some(risk)) = (&app.day, &app.risk) else {
        frame.render_widget(
            Paragraph::new(Span::styled("Day: no figures yet", theme.dim())),
            area,
        );
        return;
    };
    let [left, right] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(area);
    let c = &risk.config;
    let pnl = LineGauge::default()
        .ratio(ratio(day.day_pnl.max(Decimal::ZERO), c.daily_profit_target))
        .label(format!(
            "Day P/L {} / {}",
            signed(day.day_pnl),
            c.daily_profit_target
        ))
        .filled_style(theme.pnl(day.day_pnl.is_sign_negative()));
    let dd_ratio = ratio(day.drawdown, c.max_drawdown_amount);
    let drawdown = LineGauge::default()
        .ratio(dd_ratio)
        .label(format!(
            "Drawdown {} / {}",
            day.drawdown, c.max_drawdown_amount
        ))
        .filled_style(if dd_ratio >= 0.8 {
            theme.error()
        } else {
            theme.warn()
        });
    frame.render_widget(pnl, left);
    frame.render_widget(drawdown, right);
}
