//! The console's state and its pure `update`: messages in, state changed, commands out.
//! No IO happens here; tests drive it with keys and messages.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::details::approval_outcome;
use super::dialog::Dialog;
use super::keymap::{Keymap, Scope};
use super::list::List;
use super::msg::{Cmd, Done, Loaded, Msg, Pane};
use crate::domain::{AccountSnapshot, Act, DayState, Decision, Idea, RiskField, Strategy};
use crate::format::{Shown, short};
use crate::store::halt::{Halted, Resumed};
use crate::store::ideas::IdeaFilter;
use crate::store::listen::Change;
use crate::store::risk::{LastChange, RiskRow};
use crate::store::timeline::{Cursor, TimelineFilter};

/// How many ideas the pane holds: those awaiting approval come first, so this bounds only
/// the decided ones shown below them.
pub const IDEAS_WINDOW: i64 = 200;
/// Timeline rows per page read.
pub const TIMELINE_PAGE: i64 = 100;
/// The most timeline rows held at once; scrolling further drops the oldest-read ones.
pub const TIMELINE_HELD: usize = 1_000;
/// How long a toast stays.
const TOAST_SECONDS: i64 = 6;

/// Data to read again after a change: what the tick turns into reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reload {
    Risk,
    Account,
    Strategies,
    Ideas,
    Timeline,
}

/// The state of the database connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost at `since`; the loop retries with backoff.
    Lost {
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
    pub dirty: BTreeSet<Reload>,
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

    pub(super) fn first_timeline_page(&self) -> TimelineFilter {
        TimelineFilter {
            after: None,
            ..self.timeline.filter.clone()
        }
    }

    pub(super) fn toast(&mut self, text: impl Into<String>, error: bool) {
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
    pub(super) fn act_refusal(&self, act: Act) -> Option<String> {
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
                if act == Act::Halt {
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
                    self.connection = Connection::Lost { since: self.now };
                    self.stale = true;
                    self.toast(format!("connection lost: {reason}"), true);
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
        let reloads: &[Reload] = match change {
            Change::Idea(_) | Change::Execution(_) => &[Reload::Ideas],
            Change::Decision(_) => &[Reload::Timeline],
            Change::Risk => &[Reload::Risk],
            Change::Strategy(_) => &[Reload::Strategies, Reload::Ideas],
            Change::Account(_) => &[Reload::Account],
        };
        self.dirty.extend(reloads.iter().copied());
    }

    fn on_tick(&mut self, now: DateTime<Utc>) -> Vec<Cmd> {
        self.now = now;
        if self.toast.as_ref().is_some_and(|t| t.until <= now) {
            self.toast = None;
        }
        if self.connection != Connection::Live {
            return Vec::new();
        }
        // Changes are coalesced per tick: a burst of notifications (and this console's own
        // acts, which are announced too) is one read of each thing that changed.
        let mut cmds = Vec::new();
        for reload in std::mem::take(&mut self.dirty) {
            match reload {
                Reload::Risk => cmds.push(Cmd::LoadRisk),
                Reload::Account => cmds.push(Cmd::LoadAccount),
                Reload::Strategies => cmds.push(Cmd::LoadStrategies),
                Reload::Ideas => cmds.push(Cmd::LoadIdeas(self.idea_filter.clone())),
                Reload::Timeline => {
                    // New decisions arrive at the top; reread the first page unless the
                    // operator has scrolled into older pages (then the top is re-read
                    // when they return to it with `g`).
                    if self.timeline.list.offset != 0 || self.timeline.trimmed {
                    } else if self.timeline.loading {
                        // A read is in flight and may predate this change: try next tick.
                        self.dirty.insert(Reload::Timeline);
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
                    && self.ideas.items.first().is_some_and(Idea::awaits_approval)
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
                self.dialog = Some(approval_outcome(&approval, lot));
                self.next_pending = true;
            }
            Done::Rejected { idea } => {
                self.next_pending = true;
                self.toast(format!("rejected idea {}", short(idea)), false);
            }
            Done::Halted(halted) => self.on_halted(halted),
            Done::Resumed(resumed) => self.on_resumed(resumed),
            Done::RiskSet(update) => {
                self.toast("risk limits saved", false);
                if let Some(row) = &mut self.risk {
                    row.config = update.after;
                }
                self.dirty.insert(Reload::Risk);
            }
            Done::StrategyToggled { .. }
            | Done::StrategyEdited { .. }
            | Done::StrategyEditAbandoned { .. } => self.on_strategy_done(done),
        }
        Vec::new()
    }

    /// The database confirmed a halt: the header turns red now, and the row is read again
    /// on the next tick (the act is announced like any).
    fn on_halted(&mut self, halted: Halted) {
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
        if let Some(row) = &mut self.risk {
            row.config.ai_trading_enabled = false;
            row.config.last_halt_reason = Some(halted.reason);
        }
        self.dirty.insert(Reload::Risk);
    }

    fn on_resumed(&mut self, resumed: Resumed) {
        let text = if resumed.already_running {
            "AI trading was already on"
        } else {
            "AI TRADING ON"
        };
        self.toast(text, false);
        if let Some(row) = &mut self.risk {
            row.config.ai_trading_enabled = true;
            row.config.last_halt_reason = None;
        }
        self.dirty.insert(Reload::Risk);
    }

    fn on_strategy_done(&mut self, done: Done) {
        let (text, changed) = match done {
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
                (text, true)
            }
            Done::StrategyEdited {
                name,
                changed: true,
            } => (format!("rules of \"{name}\" saved"), true),
            Done::StrategyEdited {
                name,
                changed: false,
            } => (
                format!("rules of \"{name}\" unchanged: nothing was written"),
                false,
            ),
            Done::StrategyEditAbandoned { name } => (
                format!("edit of \"{name}\" abandoned: nothing was saved"),
                false,
            ),
            _ => return,
        };
        self.toast(text, false);
        if changed {
            self.dirty.insert(Reload::Strategies);
        }
    }

    /// Sends an act, unless acts are refused now (then says why).
    pub(super) fn act(&mut self, cmd: Cmd) -> Vec<Cmd> {
        let Some(act) = cmd.act() else {
            return vec![cmd];
        };
        if let Some(why) = self.act_refusal(act) {
            self.dialog = None;
            self.toast(why, true);
            return Vec::new();
        }
        if act.is_halt() {
            self.halting = true;
        }
        self.in_flight += 1;
        vec![cmd]
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

/// What a failed act looks like as a message (for the loop).
pub fn failed(act: Act, error: &crate::store::Error) -> Msg {
    Msg::Failed {
        act,
        code: error.code(),
        message: error.to_string(),
    }
}
