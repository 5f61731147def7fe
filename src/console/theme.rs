//! Colours and emphasis. Every status is also spelled out in text, so the screen reads
//! right without colour (`NO_COLOR`, monochrome terminals, screenshots in a ticket).

use ratatui::style::{Color, Modifier, Style};

use super::view::pictures::LimitTone;
use crate::domain::label::Tone;

/// The styles of one console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        Theme::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// The theme for a given value of `NO_COLOR`.
    pub fn for_no_color(value: Option<&std::ffi::OsStr>) -> Theme {
        Theme {
            color: value.is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// `AI TRADING: ON`.
    pub fn ai_on(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// `AI TRADING: OFF — reason`: red and reverse video, impossible to miss in colour or not.
    pub fn ai_off(&self) -> Style {
        self.fg(Color::Red)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    /// `HALTING…`, while the database has not confirmed yet.
    pub fn halting(&self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::SLOW_BLINK)
    }

    /// A trade idea's status or a decision's action, in the colours traders know.
    pub fn tone(&self, tone: Tone) -> Style {
        match tone {
            Tone::Good => self.fg(Color::Green),
            Tone::Waiting => self.fg(Color::Yellow),
            Tone::Bad => self.fg(Color::Red),
            Tone::Neutral => Style::new(),
        }
    }

    /// A profit (green) or a loss (red).
    pub fn pnl(&self, negative: bool) -> Style {
        self.fg(if negative { Color::Red } else { Color::Green })
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn focused_border(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// `DEMO`: the simulated platform runs beside this console. Amber and reverse video,
    /// so it reads as a badge in colour or not.
    pub fn demo(&self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    /// A value against its limit: `normal` below 80 %, amber from 80 %, red at or over the
    /// limit (the bar's line also says `near` or `REACHED`, for a screen without colour).
    pub fn limit(&self, tone: LimitTone, normal: Style) -> Style {
        match tone {
            LimitTone::Below => normal,
            LimitTone::Near => self.warn(),
            LimitTone::Reached => self.error(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use ratatui::style::Color;

    use super::*;
    use crate::domain::{DecisionAction, IdeaStatus};

    #[test]
    fn no_color_set_to_anything_turns_colour_off_but_not_emphasis() {
        assert!(Theme::for_no_color(None).color);
        assert!(
            Theme::for_no_color(Some(OsStr::new(""))).color,
            "empty means unset"
        );
        let mono = Theme::for_no_color(Some(OsStr::new("1")));
        assert!(!mono.color);
        // The halted header still cannot be missed: reverse video and bold, no colour.
        let off = mono.ai_off();
        assert_eq!(off.fg, None);
        assert!(
            off.add_modifier
                .contains(Modifier::REVERSED | Modifier::BOLD)
        );
        let colour = Theme { color: true };
        assert_eq!(mono.tone(IdeaStatus::Rejected.tone()).fg, None);
        assert_eq!(
            colour.tone(IdeaStatus::Rejected.tone()).fg,
            Some(Color::Red)
        );
        assert_eq!(
            colour.tone(IdeaStatus::HaltedByRisk.tone()).fg,
            Some(Color::Red)
        );
        assert_eq!(
            colour.tone(IdeaStatus::NeedsApproval.tone()).fg,
            Some(Color::Yellow)
        );
        assert_eq!(
            colour.tone(IdeaStatus::AutoExecuted.tone()).fg,
            Some(Color::Green)
        );
        assert_eq!(
            colour.tone(DecisionAction::RiskRejected.tone()).fg,
            Some(Color::Red)
        );
    }

    #[test]
    fn the_demo_badge_and_limit_tones_read_without_colour() {
        let mono = Theme { color: false };
        let colour = Theme { color: true };
        assert_eq!(mono.demo().fg, None);
        assert!(mono.demo().add_modifier.contains(Modifier::REVERSED));
        assert_eq!(colour.demo().fg, Some(Color::Yellow));
        let normal = colour.pnl(false);
        assert_eq!(colour.limit(LimitTone::Below, normal), normal);
        assert_eq!(
            colour.limit(LimitTone::Near, normal).fg,
            Some(Color::Yellow)
        );
        assert_eq!(
            colour.limit(LimitTone::Reached, normal).fg,
            Some(Color::Red)
        );
        assert_eq!(mono.limit(LimitTone::Reached, normal).fg, None);
        assert!(
            mono.limit(LimitTone::Reached, normal)
                .add_modifier
                .contains(Modifier::BOLD)
        );
    }
}
