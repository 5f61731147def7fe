//! The console's state and its pure `update`: messages in, state changed, commands out.
//! No IO happens here; tests drive it with keys and messages.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;

use super::dialog::{self, Approve, Dialog};
use super::keymap::{Action, Keymap, Scope};
use super::list::List;
use super::msg::{Change, Cmd, Done, Loaded, Msg, Pane};
use crate::domain::idea::labels;
use crate::domain::numeric::Shown;
use crate::domain::{DayState, Outcome, RiskField};
use crate::domain::{DecisionAction, IdeaStatus};
use crate::store::account::AccountSnapshot;
use crate::store::approve::Approval;
use crate::store::ideas::{Idea, IdeaFilter};
use crate::store::risk::{LastChange, RiskRow};
use crate::store::strategies::Strategy;
use crate::store::timeline::{Cursor, Decision, TimelineFilter};

/// How many ideas the pane holds: those awaiting approval come first, so this bounds only
/// the decided ones shown below them.
pub const IDEAS_WINDOW: i64 = 200;
/// Timeline rows per page read.
pub const TIMELINE_PAGE: i64 = 100;
/// The most timeline rows held at once; scrolling further drops the oldest-read ones.
pub const TIMELINE_HELD: usize = 1_000;
/// How long a toast stays.
const TOAST_SECONDS: i64 = 6;

/// The state of the database connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost at `since`; the loop retries with backoff.
    Lost {
        reason: String,
        since: DateTime<Utc>,
    },
}

/// A short message at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: DateTime<Utc>,
}

/// The timeline pane: a window of rows, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub list: List<Decision>,
    pub next: Option<Cursor>,
    pub filter: TimelineFilter,
    /// A page is being read (do not ask twice).
    pub loading: bool,
    /// Rows above were dropped to bound memory; `g` reads the newest page again.
    pub trimmed: bool,
}

/// Everything the console shows and knows.
#[derive(Debug, Clone)]
pub struct App {
    pub keymap: Keymap,
    /// Who acts from this console (`user@host`).
    pub operator: String,
    /// The database, as shown (never with a password).
    pub database: String,
    /// Opened with `--read-only`: looks, never acts.
    pub read_only: bool,
    pub now: DateTime<Utc>,
    pub connection: Connection,
    /// The data on screen was read before a disconnection and not yet refreshed.
    pub stale: bool,
    pub focus: Pane,
    /// Rows a list shows (for PgUp/PgDn and scrolling).
    pub list_rows: usize,
    pub risk: Option<RiskRow>,
    pub last_risk_change: Option<LastChange>,
    pub risk_selected: usize,
    pub account: Option<AccountSnapshot>,
    pub day: Option<DayState>,
    pub strategies: List<Strategy>,
    pub ideas: List<Idea>,
    pub idea_filter: IdeaFilter,
    pub timeline: Timeline,
    /// A halt was sent and the database has not confirmed it yet.
    pub halting: bool,
    /// Acts sent and not yet answered.
    pub in_flight: usize,
    pub dialog: Option<Dialog>,
    pub help: bool,
    pub toast: Option<Toast>,
    /// Panes another writer changed since the last tick.
    pub dirty: BTreeSet<Pane>,
    /// This console decided an idea: move to the next one awaiting approval on reload.
    pub next_pending: bool,
    pub quit: bool,
}

impl App {
    pub fn new(
        operator: String,
        database: String,
        read_only: bool,
        keymap: Keymap,
        now: DateTime<Utc>,
    ) -> App {
        App {
            keymap,
            operator,
            database,
            read_only,
            now,
            connection: Connection::Connecting,
            stale: false,
            focus: Pane::Ideas,
            list_rows: 10,
            risk: None,
            last_risk_change: None,
            risk_selected: 0,
            account: None,
            day: None,
            strategies: List::default(),
            ideas: List::default(),
            idea_filter: IdeaFilter {
                limit: IDEAS_WINDOW,
                ..IdeaFilter::default()
            },
            timeline: Timeline {
                filter: TimelineFilter {
                    limit: TIMELINE_PAGE,
                    ..TimelineFilter::default()
                },
                ..Timeline::default()
            },
            halting: false,
            in_flight: 0,
            dialog: None,
            help: false,
            toast: None,
            dirty: BTreeSet::new(),
            next_pending: false,
            quit: false,
        }
    }

    /// Every read a full refresh needs.
    pub fn load_all(&mut self) -> Vec<Cmd> {
        self.timeline.loading = true;
        vec![
            Cmd::LoadRisk,
            Cmd::LoadAccount,
            Cmd::LoadStrategies,
            Cmd::LoadIdeas(self.idea_filter.clone()),
            Cmd::LoadTimeline {
                filter: self.first_timeline_page(),
                append: false,
            },
        ]
    }

    fn first_timeline_page(&self) -> TimelineFilter {
        TimelineFilter {
            after: None,
            ..self.timeline.filter.clone()
        }
    }

    fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toast = Some(Toast {
            text: text.into(),
            error,
            until: self.now + Duration::seconds(TOAST_SECONDS),
        });
    }

    /// The scope of keys in the focused pane.
    pub fn scope(&self) -> Scope {
        match self.focus {
            Pane::Risk => Scope::Risk,
            Pane::Strategies => Scope::Strategies,
            Pane::Ideas => Scope::Ideas,
            Pane::Timeline => Scope::Timeline,
        }
    }

    /// Why acts are refused now, if they are.
    fn act_refusal(&self, act: &str) -> Option<String> {
        if self.read_only {
            return Some(format!(
                "read-only console: {act} is disabled (opened with --read-only)"
            ));
        }
        if let Connection::Lost { .. } | Connection::Connecting = self.connection {
            return Some(format!(
                "not connected to the database: {act} was not sent and will not be retried"
            ));
        }
        None
    }

    /// The state's answer to one message.
    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(key) => self.on_key(&key),
            Msg::Resize { list_rows } => {
                self.list_rows = usize::from(list_rows).max(1);
                Vec::new()
            }
            Msg::Tick(now) => self.on_tick(now),
            Msg::Loaded(loaded) => self.on_loaded(loaded),
            Msg::LoadFailed(message) => {
                self.timeline.loading = false;
                self.toast(format!("reading failed: {message}"), true);
                Vec::new()
            }
            Msg::Done(done) => self.on_done(done),
            Msg::Failed { act, code, message } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                if act == "halt" {
                    self.halting = false;
                }
                self.dialog = Some(Dialog::Outcome {
                    title: format!("{act} failed ({})", code.as_str()),
                    lines: vec![message, "Nothing was changed by this act.".into()],
                    ok: false,
                });
                Vec::new()
            }
            Msg::Changed(change) => {
                self.mark_dirty(&change);
                Vec::new()
            }
            Msg::Connected => {
                let was_lost = self.connection != Connection::Live;
                self.connection = Connection::Live;
                if was_lost {
                    // Notifications sent while we were away are lost: read everything.
                    self.stale = false;
                    self.dirty.clear();
                    return self.load_all();
                }
                Vec::new()
            }
            Msg::Disconnected(reason) => {
                if !matches!(self.connection, Connection::Lost { .. }) {
                    self.connection = Connection::Lost {
                        reason,
                        since: self.now,
                    };
                    self.stale = true;
                }
                Vec::new()
            }
            Msg::Terminate => {
                self.quit = true;
                vec![Cmd::Quit]
            }
        }
    }

    fn mark_dirty(&mut self, change: &Change) {
        let panes: &[Pane] = match change.table.as_str() {
            "trade_ideas" | "executions" => &[Pane::Ideas],
            "decision_history" => &[Pane::Timeline],
            "risk_config" => &[Pane::Risk],
            "strategies" => &[Pane::Strategies, Pane::Ideas],
            // The account feeds the header; it is read with the risk pane's data.
            "snapshot_account" => &[Pane::Risk],
            _ => &[],
        };
        self.dirty.extend(panes.iter().copied());
    }

    fn on_tick(&mut self, now: DateTime<Utc>) -> Vec<Cmd> {
        self.now = now;
        if self.toast.as_ref().is_some_and(|t| t.until <= now) {
            self.toast = None;
        }
        if self.connection != Connection::Live {
            return Vec::new();
        }
        // Changes are coalesced per tick: a burst of notifications is one read per pane.
        let mut cmds = Vec::new();
        for pane in std::mem::take(&mut self.dirty) {
            match pane {
                Pane::Risk => {
                    cmds.push(Cmd::LoadRisk);
                    cmds.push(Cmd::LoadAccount);
                }
                Pane::Strategies => cmds.push(Cmd::LoadStrategies),
                Pane::Ideas => cmds.push(Cmd::LoadIdeas(self.idea_filter.clone())),
                Pane::Timeline => {
                    // New decisions arrive at the top; reread the first page unless the
                    // operator has scrolled into older pages (then the top is re-read
                    // when they return to it).
                    if self.timeline.list.offset != 0 || self.timeline.trimmed {
                        // Re-read when the operator returns to the top (`g`).
                    } else if self.timeline.loading {
                        // A read is in flight and may predate this change: try next tick.
                        self.dirty.insert(Pane::Timeline);
                    } else {
                        self.timeline.loading = true;
                        cmds.push(Cmd::LoadTimeline {
                            filter: self.first_timeline_page(),
                            append: false,
                        });
                    }
                }
            }
        }
        cmds
    }

    fn on_loaded(&mut self, loaded: Loaded) -> Vec<Cmd> {
        match loaded {
            Loaded::Risk { row, last } => {
                self.risk = Some(row);
                self.last_risk_change = last;
            }
            Loaded::Account { latest, day } => {
                self.account = latest;
                self.day = day;
            }
            Loaded::Strategies(items) => self.strategies.replace(items, |s| s.id, self.list_rows),
            Loaded::Ideas(items) => {
                self.ideas.replace(items, |i| i.id, self.list_rows);
                // After deciding an idea, the next one to decide is the oldest still waiting.
                if std::mem::take(&mut self.next_pending)
                    && self
                        .ideas
                        .items
                        .first()
                        .is_some_and(|i| i.status == "needs_approval")
                {
                    self.ideas.first();
                }
            }
            Loaded::Timeline { page, append } => {
                self.timeline.loading = false;
                self.timeline.next = page.next;
                if append {
                    self.timeline.list.items.extend(page.decisions);
                    let excess = self.timeline.list.items.len().saturating_sub(TIMELINE_HELD);
                    if excess > 0 {
                        self.timeline.list.items.drain(..excess);
                        self.timeline.list.selected =
                            self.timeline.list.selected.saturating_sub(excess);
                        self.timeline.list.offset =
                            self.timeline.list.offset.saturating_sub(excess);
                        self.timeline.trimmed = true;
                    }
                } else {
                    self.timeline.trimmed = false;
                    self.timeline
                        .list
                        .replace(page.decisions, |d| d.id, self.list_rows);
                }
            }
            Loaded::GateContext(context) => {
                if let Some(Dialog::Approve(approve)) = &mut self.dialog
                    && approve.idea.id == context.idea.id
                {
                    approve.set_context(context);
                }
            }
        }
        Vec::new()
    }

    fn on_done(&mut self, done: Done) -> Vec<Cmd> {
        self.in_flight = self.in_flight.saturating_sub(1);
        match done {
            Done::Approved { approval, lot } => {
                self.dialog = Some(approval_outcome(&approval, &lot.to_string()));
                self.next_pending = true;
                self.dirty.insert(Pane::Ideas);
            }
            Done::Rejected { idea } => {
                self.next_pending = true;
                self.dirty.insert(Pane::Ideas);
                self.toast(
                    format!("rejected idea {}", &idea.simple().to_string()[..8]),
                    false,
                );
            }
            Done::Halted(halted) => {
                self.halting = false;
                let text = if halted.already_halted {
                    format!(
                        "AI trading was already off ({}); swept {} idea(s), {} order(s)",
                        halted.reason, halted.ideas_halted, halted.executions_cancelled
                    )
                } else {
                    format!(
                        "AI TRADING OFF: {} idea(s) stopped, {} order(s) cancelled",
                        halted.ideas_halted, halted.executions_cancelled
                    )
                };
                self.toast(text, false);
                self.dirty.insert(Pane::Risk);
                return vec![Cmd::LoadRisk];
            }
            Done::Resumed(resumed) => {
                let text = if resumed.already_running {
                    "AI trading was already on"
                } else {
                    "AI TRADING ON"
                };
                self.toast(text, false);
                return vec![Cmd::LoadRisk];
            }
            Done::RiskSet(update) => {
                self.toast("risk limits saved", false);
                if let Some(row) = &mut self.risk {
                    row.config = update.after;
                }
                return vec![Cmd::LoadRisk];
            }
            Done::StrategyToggled {
                name,
                active,
                changed,
            } => {
                let state = if active { "enabled" } else { "disabled" };
                let text = if changed {
                    format!("strategy \"{name}\" {state}")
                } else {
                    format!("strategy \"{name}\" was already {state}")
                };
                self.toast(text, false);
                return vec![Cmd::LoadStrategies];
            }
            Done::StrategyEdited { name } => {
                self.toast(format!("rules of \"{name}\" saved"), false);
                return vec![Cmd::LoadStrategies];
            }
            Done::StrategyEditAbandoned { name } => {
                self.toast(
                    format!("edit of \"{name}\" abandoned: nothing was saved"),
                    false,
                );
            }
        }
        Vec::new()
    }

    /// Sends an act, unless acts are refused now (then says why).
    fn act(&mut self, cmd: Cmd, what: &str) -> Vec<Cmd> {
        if let Some(why) = self.act_refusal(what) {
            self.dialog = None;
            self.toast(why, true);
            return Vec::new();
        }
        if matches!(cmd, Cmd::Halt { .. }) {
            self.halting = true;
        }
        self.in_flight += 1;
        vec![cmd]
    }

    fn on_key(&mut self, key: &KeyEvent) -> Vec<Cmd> {
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
                    let what = act_name(&cmd);
                    self.act(cmd, what)
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
        self.on_action(action)
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
                self.quit = true;
                return vec![Cmd::Quit];
            }
            Action::Help => self.help = true,
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
                if let Some(why) = self.act_refusal("the kill switch") {
                    self.toast(why, true);
                } else {
                    self.dialog = Some(Dialog::Halt {
                        reason: Input::default(),
                    });
                }
            }
            Action::Resume => {
                if let Some(why) = self.act_refusal("resume") {
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
            Action::Filter => self.open_filter(),
            Action::Approve => return self.open_approve(),
            Action::Reject => self.open_reject(),
            Action::EditRisk => self.open_edit_risk(),
            Action::ToggleStrategy => {
                if let Some(s) = self.strategies.selected() {
                    let cmd = Cmd::SetStrategyActive {
                        id: s.id,
                        active: !s.is_active,
                    };
                    return self.act(cmd, "enabling or disabling a strategy");
                }
            }
            Action::EditStrategy => {
                if let Some(s) = self.strategies.selected() {
                    let cmd = Cmd::EditStrategy { id: s.id };
                    return self.act(cmd, "editing a strategy");
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
                let was_scrolled = self.timeline.list.offset != 0;
                self.timeline.list.first();
                if (self.timeline.trimmed || was_scrolled) && !self.timeline.loading {
                    self.timeline.loading = true;
                    return vec![Cmd::LoadTimeline {
                        filter: self.first_timeline_page(),
                        append: false,
                    }];
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
                Some(i) => (format!("Idea {}", i.id), idea_details(i)),
                None => return,
            },
            Pane::Strategies => match self.strategies.selected() {
                Some(s) => (
                    format!(
                        "Strategy {} ({})",
                        s.name,
                        if s.is_active { "active" } else { "disabled" }
                    ),
                    serde_json::to_string_pretty(&s.to_document())
                        .unwrap_or_default()
                        .lines()
                        .map(str::to_string)
                        .collect(),
                ),
                None => return,
            },
            Pane::Timeline => match self.timeline.list.selected() {
                Some(d) => (format!("Decision {}", d.id), decision_details(d)),
                None => return,
            },
            Pane::Risk => return,
        };
        self.dialog = Some(Dialog::Text { title, body });
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
                    vec![Cmd::LoadIdeas(self.idea_filter.clone())]
                }
                Err(e) => {
                    self.toast(e, true);
                    Vec::new()
                }
            },
            Pane::Timeline => match parse_timeline_filter(text, self.now) {
                Ok(filter) => {
                    self.timeline.filter = filter;
                    self.timeline.list.first();
                    self.timeline.loading = true;
                    vec![Cmd::LoadTimeline {
                        filter: self.first_timeline_page(),
                        append: false,
                    }]
                }
                Err(e) => {
                    self.toast(e, true);
                    Vec::new()
                }
            },
            _ => Vec::new(),
        }
    }

    fn open_approve(&mut self) -> Vec<Cmd> {
        let Some(idea) = self.ideas.selected().cloned() else {
            return Vec::new();
        };
        if let Some(why) = self.act_refusal("approval") {
            self.toast(why, true);
            return Vec::new();
        }
        if idea.status != "needs_approval" {
            self.toast(
                format!(
                    "this idea is {}, not awaiting approval",
                    idea.status.replace('_', " ")
                ),
                true,
            );
            return Vec::new();
        }
        let id = idea.id;
        self.dialog = Some(Dialog::Approve(Approve::new(idea)));
        vec![Cmd::LoadGateContext(id)]
    }

    fn open_reject(&mut self) {
        let Some(idea) = self.ideas.selected().cloned() else {
            return;
        };
        if let Some(why) = self.act_refusal("rejection") {
            self.toast(why, true);
            return;
        }
        if idea.status != "needs_approval" {
            self.toast(
                format!(
                    "this idea is {}, not awaiting approval",
                    idea.status.replace('_', " ")
                ),
                true,
            );
            return;
        }
        self.dialog = Some(Dialog::Reject {
            idea,
            reason: Input::default(),
        });
    }

    fn open_edit_risk(&mut self) {
        let Some(row) = &self.risk else { return };
        let Some(field) = RiskField::ALL.get(self.risk_selected).copied() else {
            return;
        };
        if let Some(why) = self.act_refusal("editing a limit") {
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
            input: Input::new(value),
            current: Box::new(row.config.clone()),
            problem: None,
        });
    }
}

/// The short name of an act, for messages.
fn act_name(cmd: &Cmd) -> &'static str {
    match cmd {
        Cmd::Approve { .. } => "approval",
        Cmd::Reject { .. } => "rejection",
        Cmd::Halt { .. } => "the kill switch",
        Cmd::Resume => "resume",
        Cmd::SetRisk { .. } => "editing a limit",
        Cmd::SetStrategyActive { .. } => "enabling or disabling a strategy",
        Cmd::EditStrategy { .. } => "editing a strategy",
        _ => "this",
    }
}

/// The value of a risk field as an operator would type it.
pub fn risk_value(c: &crate::domain::RiskConfig, field: RiskField) -> String {
    match field {
        RiskField::AiTradingEnabled => c.ai_trading_enabled.to_string(),
        RiskField::MinConfidenceThreshold => Shown(c.min_confidence_threshold).to_string(),
        RiskField::MaxLotSize => Shown(c.max_lot_size).to_string(),
        RiskField::MaxConcurrentTrades => c.max_concurrent_trades.to_string(),
        RiskField::DailyProfitTarget => Shown(c.daily_profit_target).to_string(),
        RiskField::StopAfterTarget => c.stop_after_target.to_string(),
        RiskField::MaxDrawdownAmount => Shown(c.max_drawdown_amount).to_string(),
        RiskField::HaltOnDrawdown => c.halt_on_drawdown.to_string(),
        RiskField::AllowOffWatchlistAutotrade => c.allow_off_watchlist_autotrade.to_string(),
    }
}

/// The dialog that shows what an approval came to.
fn approval_outcome(approval: &Approval, lot: &str) -> Dialog {
    match approval {
        Approval::Executed {
            execution, report, ..
        } => {
            let mut lines = vec![
                format!(
                    "Order {} for {lot} lots handed to execution.",
                    &execution.simple().to_string()[..8]
                ),
                "The idea is now auto_executed; the timeline records your approval.".to_string(),
            ];
            for v in report
                .verdicts
                .iter()
                .filter(|v| v.outcome == Outcome::Waived)
            {
                lines.push(format!("waived for a human: {} — {}", v.rule, v.reason));
            }
            Dialog::Outcome {
                title: "EXECUTED".into(),
                lines,
                ok: true,
            }
        }
        Approval::Blocked { report, .. } => {
            let mut lines = vec![format!(
                "The risk checks refused {lot} lots; the idea is now rejected ({}).",
                report.risk_check_result()
            )];
            lines.extend(
                report
                    .failures()
                    .map(|v| format!("{} — {}", v.rule, v.reason)),
            );
            Dialog::Outcome {
                title: "BLOCKED BY THE RISK CHECKS".into(),
                lines,
                ok: false,
            }
        }
    }
}

fn idea_details(i: &Idea) -> Vec<String> {
    let list = |v: &[rust_decimal::Decimal]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        format!("{} {} — {}", i.symbol, i.direction, i.status),
        format!(
            "entry      {}",
            match (&i.entry_price, &i.entry_range) {
                (Some(p), _) => p.to_string(),
                (None, Some(r)) => list(r),
                _ => "market".into(),
            }
        ),
        format!("stop       {}", i.stop_loss),
        format!("targets    {}", list(&i.take_profit)),
        format!(
            "R:R        {}",
            i.reward_to_risk()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "—".into())
        ),
        format!("confidence {}", i.confidence_score),
        format!(
            "strategy   {}",
            i.strategy_name.as_deref().unwrap_or("none")
        ),
        format!("hold       {}", i.expected_hold.as_deref().unwrap_or("—")),
        format!(
            "created    {}",
            i.created_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        format!("snapshot   {}", i.snapshot_ref),
        String::new(),
        i.rationale.clone(),
    ]
}

fn decision_details(d: &Decision) -> Vec<String> {
    vec![
        format!(
            "{} — {}",
            d.occurred_at.format("%Y-%m-%d %H:%M:%S UTC"),
            d.action
        ),
        format!("symbol     {}", d.symbol.as_deref().unwrap_or("— (global)")),
        format!("operator   {}", d.operator.as_deref().unwrap_or("platform")),
        format!(
            "risk check {}",
            d.risk_check_result.as_deref().unwrap_or("—")
        ),
        format!(
            "confidence {}",
            d.confidence_score
                .map(|c| c.to_string())
                .unwrap_or_else(|| "—".into())
        ),
        format!(
            "idea       {}",
            d.trade_idea_id
                .map(|i| i.to_string())
                .unwrap_or_else(|| "—".into())
        ),
        format!("override   {}", d.human_override),
        String::new(),
        d.rationale.clone(),
    ]
}

fn describe_idea_filter(f: &IdeaFilter) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &f.symbol {
        parts.push(format!("symbol:{s}"));
    }
    if let Some(s) = &f.status {
        parts.push(format!("status:{s}"));
    }
    parts.join(" ")
}

/// `symbol:EURUSD status:rejected`, or a bare word for the symbol; empty clears.
pub fn parse_idea_filter(text: &str) -> Result<IdeaFilter, String> {
    let mut filter = IdeaFilter {
        limit: IDEAS_WINDOW,
        ..IdeaFilter::default()
    };
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("symbol", v)) => filter.symbol = Some(v.to_ascii_uppercase()),
            Some(("status", v)) if v.parse::<IdeaStatus>().is_ok() => {
                filter.status = Some(v.to_string())
            }
            Some(("status", v)) => {
                return Err(format!(
                    "`{v}` is not an idea status: use one of {}",
                    labels(IdeaStatus::ALL)
                ));
            }
            Some((k, _)) => {
                return Err(format!(
                    "`{k}` is not an idea filter: use symbol:X or status:S"
                ));
            }
            None => filter.symbol = Some(word.to_ascii_uppercase()),
        }
    }
    Ok(filter)
}

fn describe_timeline_filter(f: &TimelineFilter) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &f.symbol {
        parts.push(format!("symbol:{s}"));
    }
    if let Some(s) = &f.action {
        parts.push(format!("action:{s}"));
    }
    if let Some(s) = &f.operator {
        parts.push(format!("operator:{s}"));
    }
    if let Some(t) = f.since {
        parts.push(format!("since:{}", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    if let Some(t) = f.until {
        parts.push(format!("until:{}", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    parts.join(" ")
}

/// `symbol:EURUSD action:human_rejected operator:ann@desk since:2h until:2026-11-25`;
/// empty clears.
pub fn parse_timeline_filter(text: &str, now: DateTime<Utc>) -> Result<TimelineFilter, String> {
    let mut filter = TimelineFilter {
        limit: TIMELINE_PAGE,
        ..TimelineFilter::default()
    };
    let time = |v: &str| crate::cli::parse_time(v, now).map_err(|f| f.message);
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("symbol", v)) => filter.symbol = Some(v.to_ascii_uppercase()),
            Some(("action", v)) if v.parse::<DecisionAction>().is_ok() => {
                filter.action = Some(v.to_string())
            }
            Some(("action", v)) => {
                return Err(format!(
                    "`{v}` is not a decision action: use one of {}",
                    labels(DecisionAction::ALL)
                ));
            }
            Some(("operator", v)) => filter.operator = Some(v.to_string()),
            Some(("since", v)) => filter.since = Some(time(v)?),
            Some(("until", v)) => filter.until = Some(time(v)?),
            _ => {
                return Err(format!(
                    "`{word}` is not a timeline filter: use symbol:X action:A operator:O since:T until:T"
                ));
            }
        }
    }
    Ok(filter)
}

/// What a failed act looks like as a message (for the loop).
pub fn failed(act: &'static str, error: &crate::store::Error) -> Msg {
    Msg::Failed {
        act,
        code: error.code(),
        message: error.to_string(),
    }
}
