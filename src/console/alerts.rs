//! Alerts, part of the pure `update`: what a trader must notice within seconds even while
//! looking at another window (MiFID II RTS 6 art. 16(5) asks for real-time alerts within
//! 5 seconds). Each is noticed at the transition, once: an idea that starts awaiting
//! approval, AI trading halted (by anyone, or by a limit), the day's drawdown crossing 80%
//! of its limit, the connection lost. The loop rings the bell and sends a desktop
//! notification; each kind can be switched off in config.toml's `[alerts]`.

use std::collections::HashSet;

use rust_decimal::Decimal;
use uuid::Uuid;

use super::app::App;
use super::msg::{Alert, AlertKind, Cmd};
pub use crate::config::AlertSettings;
use crate::domain::Idea;
use crate::domain::stored::Listed;
use crate::format::Shown;

/// The share of the drawdown limit at which the operator is warned.
const DRAWDOWN_WARNING: Decimal = Decimal::from_parts(8, 0, 0, false, 1);

impl AlertSettings {
    fn wants(&self, kind: AlertKind) -> bool {
        match kind {
            AlertKind::Approval => self.approval,
            AlertKind::Halt => self.halt,
            AlertKind::Drawdown => self.drawdown,
            AlertKind::Disconnect => self.disconnect,
        }
    }
}

/// What has been seen, so each alert fires at its transition only.
#[derive(Debug, Clone, Default)]
pub struct Alerts {
    pub settings: AlertSettings,
    /// Ideas seen awaiting approval; `None` until the first read (nothing is "new" then).
    pending: Option<HashSet<Uuid>>,
    /// Whether AI trading was on when last seen.
    ai_on: Option<bool>,
    /// The drawdown was at or past the warning when last seen.
    drawdown_high: bool,
}

impl Alerts {
    /// The ideas in view change for another reason than arrivals (a new filter): start
    /// over, so none of them is taken for new.
    pub fn forget_pending(&mut self) {
        self.pending = None;
    }
}

impl App {
    /// An alert of `kind`, if the operator wants that kind.
    fn alert(&self, kind: AlertKind, title: &str, body: String) -> Vec<Cmd> {
        if !self.alerts.settings.wants(kind) {
            return Vec::new();
        }
        vec![Cmd::Alert(Alert {
            kind,
            title: title.to_owned(),
            body,
        })]
    }

    /// Ideas read: those awaiting approval that were not before.
    pub(super) fn alert_new_pending(&mut self, ideas: &[Listed<Idea>]) -> Vec<Cmd> {
        let waiting: Vec<&Listed<Idea>> = ideas.iter().filter(|i| i.awaits_approval()).collect();
        let now: HashSet<Uuid> = waiting.iter().map(|i| i.id()).collect();
        let Some(before) = self.alerts.pending.replace(now) else {
            return Vec::new();
        };
        let new: Vec<String> = waiting
            .iter()
            .filter(|i| !before.contains(&i.id()))
            .map(|i| match i {
                Listed::Read(i) => {
                    format!("{} {} ({}%)", i.symbol, i.direction, i.confidence_score)
                }
                Listed::Flagged(f) => format!(
                    "{} (unreadable: {})",
                    f.column("symbol").unwrap_or("?"),
                    f.reason()
                ),
            })
            .collect();
        if new.is_empty() {
            return Vec::new();
        }
        let title = if new.len() == 1 {
            "Idea awaiting approval".to_owned()
        } else {
            format!("{} ideas awaiting approval", new.len())
        };
        self.alert(AlertKind::Approval, &title, new.join(", "))
    }

    /// AI trading seen on or off: a switch from on to off is an alert.
    pub(super) fn alert_ai_switch(&mut self, on: bool, reason: Option<&str>) -> Vec<Cmd> {
        let was_on = self.alerts.ai_on.replace(on);
        if was_on == Some(true) && !on {
            let body = format!("AI trading: OFF — {}", reason.unwrap_or("no reason given"));
            return self.alert(AlertKind::Halt, "AI trading halted", body);
        }
        Vec::new()
    }

    /// AI trading was switched on by this console.
    pub(super) fn alerts_saw_ai_on(&mut self) {
        self.alerts.ai_on = Some(true);
    }

    /// The day's figures or the limit seen: crossing 80% of the drawdown limit is an alert
    /// (again after it has fallen back below).
    pub(super) fn alert_drawdown(&mut self) -> Vec<Cmd> {
        let (Some(day), Some(risk)) = (&self.day, &self.risk) else {
            return Vec::new();
        };
        let limit = risk.config.max_drawdown_amount;
        let high = limit > Decimal::ZERO && day.drawdown >= limit * DRAWDOWN_WARNING;
        let crossed = high && !self.alerts.drawdown_high;
        self.alerts.drawdown_high = high;
        if !crossed {
            return Vec::new();
        }
        let body = format!(
            "drawdown {} of the {} limit ({}%)",
            Shown(day.drawdown),
            Shown(limit),
            (day.drawdown * Decimal::ONE_HUNDRED / limit).round_dp(0)
        );
        self.alert(AlertKind::Drawdown, "Drawdown near its limit", body)
    }

    /// The connection was lost.
    pub(super) fn alert_disconnected(&self, reason: &str) -> Vec<Cmd> {
        self.alert(
            AlertKind::Disconnect,
            "tradedesk disconnected",
            format!("the database is unreachable ({reason}); data on screen is stale"),
        )
    }
}

/// The bytes that ring the bell and notify the desktop: BEL, OSC 9 (iTerm2, Windows
/// Terminal, ConEmu, kitty…) and OSC 777 (urxvt, foot, VTE-based terminals). Terminals
/// ignore the ones they do not know; text (a symbol, a halt reason) shows each hidden
/// character as its escape (`domain::text::line`), so it can neither end the sequence
/// early nor hide in the notification, and `;` as `,` so it cannot add a field.
pub fn terminal_bytes(alert: &Alert, settings: &AlertSettings) -> String {
    let clean = |s: &str| -> String { crate::domain::text::line(s).replace(';', ",") };
    let (title, body) = (clean(&alert.title), clean(&alert.body));
    let mut out = String::new();
    if settings.bell {
        out.push('\x07');
    }
    if settings.desktop {
        out.push_str(&format!("\x1b]9;{title}: {body}\x07"));
        out.push_str(&format!("\x1b]777;notify;{title};{body}\x07"));
    }
    out
}
