//! What keys do: the console's key handling, part of the pure `update`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;

use super::app::{App, ReplayOf, risk_value};
use super::details::{decision_details, flagged_details, idea_details, strategy_details};
use super::dialog::{self, Approve, Dialog};
use super::filter::{
    describe_idea_filter, describe_timeline_filter, parse_idea_filter, parse_timeline_filter,
};
use super::keymap::Action;
use super::msg::{Cmd, Pane, Reload};
use crate::domain::stored::{Flagged, Listed};
use crate::domain::{Act, Idea, RiskField};
use crate::format::short;
use crate::store::timeline::TimelineFilter;

impl App {
    pub(super) fn on_key(&mut self, key: &KeyEvent) -> Vec<Cmd> {
        // Ctrl-C leaves from anywhere, like any terminal program.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return vec![Cmd::Quit];
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if let Some(dialog) = &mut self.dialog {
            return match dialog.on_key(key) {
                dialog::Outcome::Stay => Vec::new(),
                dialog::Outcome::Close => {
                    self.dialog = None;
                    Vec::new()
                }
                dialog::Outcome::Submit(cmd) => {
                    self.dialog = None;
                    self.act(cmd)
                }
                dialog::Outcome::Filter(pane, text) => {
                    self.dialog = None;
                    self.apply_filter(pane, &text)
                }
            };
        }
        let Some(action) = self.keymap.action(key, self.scope()) else {
            return Vec::new();
        };
        if self.replay.is_some() {
            return self.on_replay_action(action);
        }
        self.on_action(action)
    }

    /// Keys over an open replay: they scroll it or close it; an idea still awaiting
    /// approval is approved or rejected with the chart in view; the kill switch, resume and
    /// help work as anywhere; the panes' keys wait until it is closed.
    fn on_replay_action(&mut self, action: Action) -> Vec<Cmd> {
        let page = super::view::replay::page_rows(self.screen.0, self.screen.1) as isize;
        match action {
            Action::CloseReplay => self.close_replay(),
            Action::Approve => {
                let idea = self.replayed_idea(Act::Approve);
                return self.open_approve_of(idea);
            }
            Action::Reject => {
                let idea = self.replayed_idea(Act::Reject);
                self.open_reject_of(idea.map(Listed::Read));
            }
            Action::Up => self.scroll_replay(-1),
            Action::Down => self.scroll_replay(1),
            Action::PageUp => self.scroll_replay(-page),
            Action::PageDown => self.scroll_replay(page),
            Action::Top => self.scroll_replay(isize::MIN),
            Action::Bottom => self.scroll_replay(isize::MAX),
            Action::Halt | Action::Resume | Action::Help | Action::Quit => {
                return self.on_action(action);
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_action(&mut self, action: Action) -> Vec<Cmd> {
        let rows = self.list_rows;
        match action {
            Action::Quit => {
                if self.in_flight > 0 {
                    self.toast(
                        "an act is waiting for the database; press Ctrl-C to leave anyway",
                        true,
                    );
                    return Vec::new();
                }
                if self.halt_armed.is_some() {
                    self.toast(
                        "a halt is armed and not yet sent (no connection); press Ctrl-C to leave anyway",
                        true,
                    );
                    return Vec::new();
                }
                self.quit = true;
                return vec![Cmd::Quit];
            }
            Action::Help => self.help = true,
            // An archive's console has one pane.
            Action::NextPane
            | Action::PrevPane
            | Action::Pane1
            | Action::Pane2
            | Action::Pane3
            | Action::Pane4
                if self.archive.is_some() => {}
            Action::NextPane | Action::PrevPane => {
                let i = Pane::ALL.iter().position(|p| *p == self.focus).unwrap_or(0);
                let step = if action == Action::NextPane { 1 } else { 3 };
                self.focus = Pane::ALL[(i + step) % 4];
            }
            Action::Pane1 => self.focus = Pane::Risk,
            Action::Pane2 => self.focus = Pane::Strategies,
            Action::Pane3 => self.focus = Pane::Ideas,
            Action::Pane4 => self.focus = Pane::Timeline,
            Action::Halt => {
                if let Some(why) = self.act_refusal(Act::Halt) {
                    self.toast(why, true);
                } else {
                    self.dialog = Some(Dialog::Halt {
                        reason: Input::default(),
                    });
                }
            }
            Action::Resume => {
                if let Some(why) = self.act_refusal(Act::Resume) {
                    self.toast(why, true);
                } else {
                    self.dialog = Some(Dialog::Resume);
                }
            }
            Action::Up => return self.move_selection(-1),
            Action::Down => return self.move_selection(1),
            Action::PageUp => return self.move_selection(-(rows as isize)),
            Action::PageDown => return self.move_selection(rows as isize),
            Action::Top => return self.move_to(true),
            Action::Bottom => return self.move_to(false),
            Action::Details => self.open_details(),
            Action::Replay => return self.replay_selected(),
            Action::CloseReplay => self.close_replay(),
            Action::Filter => self.open_filter(),
            Action::Approve => return self.open_approve(),
            Action::Reject => self.open_reject(),
            Action::EditRisk => self.open_edit_risk(),
            Action::ToggleStrategy => match self.strategies.selected().cloned() {
                Some(Listed::Read(s)) => {
                    let cmd = Cmd::SetStrategyActive {
                        id: s.id,
                        active: !s.is_active,
                    };
                    return self.act(cmd);
                }
                Some(Listed::Flagged(f)) => self.refuse_unreadable("strategy", &f),
                None => {}
            },
            Action::EditStrategy => {
                if let Some(s) = self.strategies.selected() {
                    let cmd = Cmd::EditStrategy { id: s.id() };
                    return self.act(cmd);
                }
            }
        }
        Vec::new()
    }

    fn move_selection(&mut self, delta: isize) -> Vec<Cmd> {
        let rows = self.list_rows;
        match self.focus {
            Pane::Risk => {
                let last = RiskField::ALL.len().saturating_sub(1);
                self.risk_selected = self.risk_selected.saturating_add_signed(delta).min(last);
            }
            Pane::Strategies => self.strategies.step(delta, rows),
            Pane::Ideas => self.ideas.step(delta, rows),
            Pane::Timeline => {
                self.timeline.list.step(delta, rows);
                return self.maybe_read_more();
            }
        }
        Vec::new()
    }

    fn move_to(&mut self, top: bool) -> Vec<Cmd> {
        let rows = self.list_rows;
        match (self.focus, top) {
            (Pane::Risk, true) => self.risk_selected = 0,
            (Pane::Risk, false) => self.risk_selected = RiskField::ALL.len() - 1,
            (Pane::Strategies, true) => self.strategies.first(),
            (Pane::Strategies, false) => self.strategies.last(rows),
            (Pane::Ideas, true) => self.ideas.first(),
            (Pane::Ideas, false) => self.ideas.last(rows),
            (Pane::Timeline, true) => {
                self.timeline.list.first();
                // Rows let go at the top are read again; otherwise the top is live already.
                if self.timeline.trimmed && !self.timeline.loading {
                    return self.read(Reload::Timeline).into_iter().collect();
                }
            }
            (Pane::Timeline, false) => {
                self.timeline.list.last(rows);
                return self.maybe_read_more();
            }
        }
        Vec::new()
    }

    /// Near the end of the rows held, read the next page (keyset, never OFFSET).
    fn maybe_read_more(&mut self) -> Vec<Cmd> {
        let t = &mut self.timeline;
        let near_end = t.list.selected + self.list_rows >= t.list.items.len();
        match t.next {
            Some(next) if near_end && !t.loading => {
                t.loading = true;
                vec![Cmd::LoadTimeline {
                    filter: TimelineFilter {
                        after: Some(next),
                        ..t.filter.clone()
                    },
                    append: true,
                }]
            }
            _ => Vec::new(),
        }
    }

    fn open_details(&mut self) {
        let (title, body) = match self.focus {
            Pane::Ideas => match self.ideas.selected() {
                Some(Listed::Read(i)) => (format!("Idea {}", i.id), idea_details(i)),
                Some(Listed::Flagged(f)) => {
                    (format!("Idea {} — UNREADABLE", f.id), flagged_details(f))
                }
                None => return,
            },
            Pane::Strategies => match self.strategies.selected() {
                Some(Listed::Flagged(f)) => (
                    format!("Strategy {} — UNREADABLE", f.id),
                    flagged_details(f),
                ),
                Some(Listed::Read(s)) => (
                    format!(
                        "Strategy {} ({})",
                        s.name,
                        if s.is_active { "active" } else { "disabled" }
                    ),
                    strategy_details(s),
                ),
                None => return,
            },
            Pane::Timeline => match self.timeline.list.selected() {
                Some(Listed::Read(d)) => (format!("Decision {}", d.id), decision_details(d)),
                Some(Listed::Flagged(f)) => (
                    format!("Decision {} — UNREADABLE", f.id),
                    flagged_details(f),
                ),
                None => return,
            },
            Pane::Risk => return,
        };
        self.dialog = Some(Dialog::Text { title, body });
    }

    /// Enter: the replay of the selected idea's latest decision or of the selected decision;
    /// a strategy's details, as before.
    fn replay_selected(&mut self) -> Vec<Cmd> {
        let of = match self.focus {
            Pane::Ideas => self.ideas.selected().map(|i| ReplayOf::Idea(i.id())),
            Pane::Timeline => self
                .timeline
                .list
                .selected()
                .map(|d| ReplayOf::Decision(d.id())),
            Pane::Strategies => {
                self.open_details();
                None
            }
            Pane::Risk => None,
        };
        of.map_or_else(Vec::new, |of| self.open_replay(of))
    }

    fn open_filter(&mut self) {
        let current = match self.focus {
            Pane::Ideas => describe_idea_filter(&self.idea_filter),
            Pane::Timeline => describe_timeline_filter(&self.timeline.filter),
            _ => return,
        };
        self.dialog = Some(Dialog::Filter {
            pane: self.focus,
            input: Input::new(current),
        });
    }

    fn apply_filter(&mut self, pane: Pane, text: &str) -> Vec<Cmd> {
        match pane {
            Pane::Ideas => match parse_idea_filter(text) {
                Ok(filter) => {
                    self.idea_filter = filter;
                    self.ideas.first();
                    // Other ideas come into view: they are not new arrivals to alert on.
                    self.alerts.forget_pending();
                    self.read(Reload::Ideas).into_iter().collect()
                }
                Err(e) => {
                    self.toast(e, true);
                    Vec::new()
                }
            },
            Pane::Timeline => match parse_timeline_filter(text, self.now) {
                Ok(filter) => {
                    self.timeline.filter = filter;
                    self.timeline.list = Default::default();
                    self.read(Reload::Timeline).into_iter().collect()
                }
                Err(e) => {
                    self.toast(e, true);
                    Vec::new()
                }
            },
            _ => Vec::new(),
        }
    }

    /// The selected idea, if a human may decide it now; otherwise says why not. An idea
    /// whose row cannot be read may be rejected, never approved.
    fn decidable_idea(&mut self, act: Act) -> Option<Listed<Idea>> {
        match self.ideas.selected().cloned()? {
            Listed::Read(idea) => self.decidable(Some(idea), act).map(Listed::Read),
            Listed::Flagged(f) if act == Act::Approve => {
                self.refuse_unreadable("idea", &f);
                None
            }
            flagged => {
                let refusal = self.act_refusal(act).or_else(|| {
                    (!flagged.awaits_approval())
                        .then(|| "this idea is not awaiting approval".to_string())
                });
                match refusal {
                    Some(why) => {
                        self.toast(why, true);
                        None
                    }
                    None => Some(flagged),
                }
            }
        }
    }

    /// Says that the selected row cannot be acted on, and why.
    fn refuse_unreadable(&mut self, what: &str, f: &Flagged) {
        self.toast(
            format!("{what} {} cannot be read: {}", short(f.id), f.reason()),
            true,
        );
    }

    /// The replayed idea, if a human may decide it now; otherwise says why not (nothing is
    /// said while the replay is read, or for a decision without an idea).
    fn replayed_idea(&mut self, act: Act) -> Option<Idea> {
        let idea = self
            .replay
            .as_ref()
            .and_then(|v| v.replay.as_ref())
            .and_then(|r| r.idea.clone());
        self.decidable(idea, act)
    }

    /// `idea`, if a human may decide it now; otherwise says why not.
    fn decidable(&mut self, idea: Option<Idea>, act: Act) -> Option<Idea> {
        let idea = idea?;
        let refusal = self.act_refusal(act).or_else(|| {
            (!idea.awaits_approval()).then(|| {
                format!(
                    "this idea is {}, not awaiting approval",
                    idea.status.as_str().replace('_', " ")
                )
            })
        });
        match refusal {
            Some(why) => {
                self.toast(why, true);
                None
            }
            None => Some(idea),
        }
    }

    fn open_approve(&mut self) -> Vec<Cmd> {
        let idea = self
            .decidable_idea(Act::Approve)
            .and_then(|i| i.into_read().ok());
        self.open_approve_of(idea)
    }

    /// The approval dialog for `idea` (already checked decidable), its Gate read now.
    fn open_approve_of(&mut self, idea: Option<Idea>) -> Vec<Cmd> {
        let Some(idea) = idea else {
            return Vec::new();
        };
        let id = idea.id;
        self.dialog = Some(Dialog::Approve(Approve::new(idea)));
        vec![Cmd::LoadGateContext(id)]
    }

    fn open_reject(&mut self) {
        let idea = self.decidable_idea(Act::Reject);
        self.open_reject_of(idea);
    }

    /// The rejection dialog for `idea` (already checked decidable).
    fn open_reject_of(&mut self, idea: Option<Listed<Idea>>) {
        if let Some(idea) = idea {
            self.dialog = Some(Dialog::Reject {
                idea,
                reason: Input::default(),
            });
        }
    }

    fn open_edit_risk(&mut self) {
        if let (None, Some(f)) = (&self.risk, &self.risk_unreadable) {
            let why = format!(
                "risk_config cannot be read ({}): correct it with `tradedesk risk set`, setting every limit named",
                f.reason()
            );
            self.toast(why, true);
            return;
        }
        let Some(row) = &self.risk else { return };
        let Some(field) = RiskField::ALL.get(self.risk_selected).copied() else {
            return;
        };
        if let Some(why) = self.act_refusal(Act::EditRisk) {
            self.toast(why, true);
            return;
        }
        if field == RiskField::AiTradingEnabled {
            self.toast(
                format!(
                    "AI trading is switched with the kill switch ({}) and resume ({}), never as a field",
                    self.keymap.key_of(Action::Halt),
                    self.keymap.key_of(Action::Resume)
                ),
                true,
            );
            return;
        }
        let value = risk_value(&row.config, field);
        self.dialog = Some(Dialog::EditRisk {
            field,
            edit: dialog::risk_edit(field, &value, &row.config),
            input: Input::new(value),
            current: Box::new(row.config.clone()),
        });
    }
}
