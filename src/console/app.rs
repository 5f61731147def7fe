//! The console's state and its pure `update`: messages in, state changed, commands out.
//! No IO happens here; tests drive it with keys and messages.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use super::alerts::Alerts;
use super::details::approval_outcome;
use super::dialog::Dialog;
use super::keymap::{Keymap, Scope};
use super::list::List;
use super::msg::{Cmd, Done, EquityPoint, Loaded, Msg, Pane, Reload};
use crate::domain::pnl::StrategyDay;
use crate::domain::role::Role;
use crate::domain::stored::{Flagged, Listed};
use crate::domain::{AccountSnapshot, Act, DayState, Decision, Idea, Replay, RiskField, Strategy};
use crate::format::{Shown, short};
use crate::store::halt::{Halted, Resumed};
use crate::store::ideas::IdeaFilter;
use crate::store::risk::{LastChange, RiskRow, Switch};
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
    pub list: List<Listed<Decision>>,
    pub next: Option<Cursor>,
    pub filter: TimelineFilter,
    /// A page is being read (do not ask twice).
    pub loading: bool,
    /// Rows above were dropped to bound memory; `g` reads the newest page again.
    pub trimmed: bool,
    /// Trimmed, and newer decisions have arrived since (shown as `▲ new`).
    pub newer_above: bool,
}

/// What a replay was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayOf {
    Decision(uuid::Uuid),
    /// An idea's latest decision, or the idea itself when it has none.
    Idea(uuid::Uuid),
}

impl ReplayOf {
    /// True when `replay` is the answer to this request.
    pub(super) fn answered_by(self, replay: &Replay) -> bool {
        match self {
            ReplayOf::Decision(id) => replay.decision.as_ref().is_some_and(|d| d.id == id),
            ReplayOf::Idea(id) => replay.idea.as_ref().is_some_and(|i| i.id == id),
        }
    }
}

/// An open replay: full screen over the panes until closed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayView {
    pub of: ReplayOf,
    /// `None` while it is read.
    pub replay: Option<Box<Replay>>,
    /// The first line of the panels shown (j/k scroll them).
    pub scroll: usize,
}

impl ReplayView {
    /// The replayed idea, when it still awaits a human's decision (it may be approved or
    /// rejected from the replay).
    pub fn decidable_idea(&self) -> Option<&Idea> {
        self.replay
            .as_ref()
            .and_then(|r| r.idea.as_ref())
            .filter(|i| i.awaits_approval())
    }

    /// True when `change` touches what the replay shows of its idea's fate: the idea
    /// itself (its status), or its order.
    pub(super) fn touched_by(&self, change: &crate::store::listen::Change) -> bool {
        use crate::store::listen::Change;
        let idea = match (&self.replay, self.of) {
            (Some(r), _) => r.idea.as_ref().map(|i| i.id),
            (None, ReplayOf::Idea(id)) => Some(id),
            (None, ReplayOf::Decision(_)) => None,
        };
        let order = self
            .replay
            .as_ref()
            .and_then(|r| r.execution.as_ref())
            .map(|e| e.id);
        match change {
            Change::Idea(id) => idea == Some(*id),
            Change::Execution(id) => order == Some(*id),
            _ => false,
        }
    }
}

/// The archive file a console opened instead of a database (`tradedesk --archive FILE`):
/// only its timeline and replays, and nothing can be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveShown {
    /// The file, as given.
    pub file: String,
    /// The database it was archived from (its name).
    pub database: String,
    pub created_at: DateTime<Utc>,
    /// The decisions archived in it, and the first and last one's time.
    pub decisions: usize,
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The audit chain's seqs it removed, `first..=last` (empty when `last < first`).
    pub seqs: (i64, i64),
    /// What vouched for the file beyond its own chain (the database's record of it, a kept
    /// head); `None`: not checked against a database.
    pub checked: Option<String>,
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
    /// Why the console may only look when it was not asked to (not logged in; a database
    /// role that may only read).
    pub read_only_why: Option<String>,
    /// What the operator's role allows (the store checks it again on every act).
    pub role: Role,
    /// The simulated platform runs beside this console on tradedesk's own database: what
    /// it shows is not a real account (the header says DEMO).
    pub demo: bool,
    /// Opened on an archive file: its timeline and replays only, read-only.
    pub archive: Option<ArchiveShown>,
    pub now: DateTime<Utc>,
    pub connection: Connection,
    /// The data on screen was read before a disconnection and not yet refreshed.
    pub stale: bool,
    pub focus: Pane,
    /// Rows a list shows (for PgUp/PgDn and scrolling).
    pub list_rows: usize,
    /// The screen's width and height.
    pub screen: (u16, u16),
    /// The replay open over the panes, if one is.
    pub replay: Option<ReplayView>,
    /// The limits, when they read.
    pub risk: Option<RiskRow>,
    /// The AI's switch, read whatever the limits hold: the header never waits on them.
    pub switch: Option<Switch>,
    /// The risk row, when a limit cannot be read: shown flagged in the risk pane.
    pub risk_unreadable: Option<Flagged>,
    pub last_risk_change: Option<LastChange>,
    pub risk_selected: usize,
    pub account: Option<AccountSnapshot>,
    /// The day's account captures that cannot be read (the day's figures are not shown).
    pub account_unreadable: Vec<Flagged>,
    pub day: Option<DayState>,
    /// The day's equity captures, oldest first (the last one before the day opens it).
    pub equity: Vec<EquityPoint>,
    pub strategies: List<Listed<Strategy>>,
    /// Each strategy's day, by id; `None` until first read. A strategy missing from it
    /// did nothing today.
    pub strategy_days: Option<BTreeMap<uuid::Uuid, StrategyDay>>,
    pub ideas: List<Listed<Idea>>,
    /// How many ideas await approval in the database (with the pane's symbol filter): the
    /// list holds a window of them.
    pub ideas_awaiting: Option<i64>,
    pub idea_filter: IdeaFilter,
    pub timeline: Timeline,
    /// A halt was sent and the database has not confirmed it yet.
    pub halting: bool,
    /// Acts sent and not yet answered.
    pub in_flight: usize,
    pub dialog: Option<Dialog>,
    pub help: bool,
    pub toast: Option<Toast>,
    /// Panes a writer changed that are not read yet.
    pub dirty: BTreeSet<Reload>,
    /// Panes being read now: a change to one of them is read when its read is back.
    pub reading: BTreeSet<Reload>,
    /// A `Msg::Flush` is due.
    pub flush_pending: bool,
    /// The kill switch was pulled while the database was unreachable: the halt (with this
    /// reason) is sent the moment the connection returns. Never other acts.
    pub halt_armed: Option<String>,
    /// The reason of the halt sent and not yet confirmed (re-armed if the connection is
    /// lost under it).
    pub halt_sent: Option<String>,
    pub alerts: Alerts,
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
            read_only_why: None,
            role: Role::Admin,
            demo: false,
            archive: None,
            now,
            connection: Connection::Connecting,
            stale: false,
            focus: Pane::Ideas,
            list_rows: 10,
            screen: (80, 24),
            replay: None,
            risk: None,
            switch: None,
            risk_unreadable: None,
            last_risk_change: None,
            risk_selected: 0,
            account: None,
            account_unreadable: Vec::new(),
            day: None,
            equity: Vec::new(),
            strategies: List::default(),
            strategy_days: None,
            ideas: List::default(),
            ideas_awaiting: None,
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
            reading: BTreeSet::new(),
            flush_pending: false,
            halt_armed: None,
            halt_sent: None,
            alerts: Alerts::default(),
            next_pending: false,
            quit: false,
        }
    }

    /// A console on an archive file: the timeline has the screen, acts are refused.
    pub fn on_archive(mut self, archive: ArchiveShown) -> App {
        self.read_only = true;
        self.read_only_why = Some("an archive file is read-only".into());
        self.focus = Pane::Timeline;
        self.archive = Some(archive);
        self
    }

    /// Every read a full refresh needs (the open replay's too).
    pub fn load_all(&mut self) -> Vec<Cmd> {
        self.dirty.clear();
        // In the order they are sent (the reads share a few connections): the switch, then
        // the ideas awaiting a decision, then the rest.
        [
            Reload::Risk,
            Reload::Ideas,
            Reload::Account,
            Reload::Strategies,
            Reload::StrategyDays,
            Reload::Timeline,
            Reload::Replay,
        ]
        .into_iter()
        .filter_map(|r| self.read(r))
        .collect()
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

    /// The scope of keys in the focused pane (or the open replay).
    pub fn scope(&self) -> Scope {
        if self.replay.is_some() {
            return Scope::Replay;
        }
        match self.focus {
            Pane::Risk => Scope::Risk,
            Pane::Strategies => Scope::Strategies,
            Pane::Ideas => Scope::Ideas,
            Pane::Timeline => Scope::Timeline,
        }
    }

    /// Why acts are refused now, if they are. The kill switch is never refused for a lost
    /// connection: it is armed, and sent when the connection returns (a late halt is
    /// always safe); every other act must be decided against the database as it is now.
    pub(super) fn act_refusal(&self, act: Act) -> Option<String> {
        if self.read_only {
            let why = self
                .read_only_why
                .as_deref()
                .unwrap_or("opened with --read-only");
            return Some(format!("read-only console: {act} is disabled ({why})"));
        }
        if !self.role.permits(act) {
            return Some(format!(
                "{act} needs the {} role; yours is {}",
                act.least_role(),
                self.role
            ));
        }
        if !act.is_halt() && self.connection != Connection::Live {
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
            Msg::Resize {
                list_rows,
                width,
                height,
            } => {
                self.list_rows = usize::from(list_rows).max(1);
                self.screen = (width, height);
                self.scroll_replay(0);
                Vec::new()
            }
            Msg::Tick(now) => self.on_tick(now),
            Msg::Loaded(loaded) => {
                // A replay closed or replaced meanwhile is no read of the open one.
                let reload = loaded.reload().filter(|r| {
                    *r != Reload::Replay
                        || matches!((&loaded, &self.replay),
                            (Loaded::Replay(replay), Some(view)) if view.of.answered_by(replay))
                });
                let mut cmds = self.on_loaded(loaded);
                cmds.extend(reload.map_or_else(Vec::new, |r| self.read_done(r)));
                cmds
            }
            Msg::LoadFailed { reload, message } => {
                if reload == Some(Reload::Timeline) {
                    self.timeline.loading = false;
                }
                // A replay that could not be read is not left open on "reading…" (one read
                // again keeps what it showed; the toast says the reading failed).
                if reload == Some(Reload::Replay)
                    && self.replay.as_ref().is_some_and(|r| r.replay.is_none())
                {
                    self.close_replay();
                }
                self.toast(format!("reading failed: {message}"), true);
                reload.map_or_else(Vec::new, |r| self.read_done(r))
            }
            Msg::Done(done) => {
                // An act's own change is read like any other writer's.
                let mut cmds = self.on_done(done);
                cmds.extend(self.schedule_flush());
                cmds
            }
            Msg::Failed {
                act,
                code,
                message,
                connection_lost,
            } => self.on_failed(act, code, message, connection_lost),
            Msg::Changed(change) => {
                self.mark_dirty(&change);
                self.schedule_flush()
            }
            Msg::Flush => self.on_flush(),
            Msg::Connected => self.on_connected(),
            Msg::Disconnected(reason) => {
                let mut cmds = Vec::new();
                if !matches!(self.connection, Connection::Lost { .. }) {
                    self.connection = Connection::Lost { since: self.now };
                    self.stale = true;
                    self.toast(format!("connection lost: {reason}"), true);
                    cmds.extend(self.alert_disconnected(&reason));
                }
                cmds
            }
            Msg::Terminate => {
                self.quit = true;
                vec![Cmd::Quit]
            }
        }
    }

    fn on_tick(&mut self, now: DateTime<Utc>) -> Vec<Cmd> {
        let day = crate::domain::TradingDay::UTC_MIDNIGHT;
        let new_day = day.start_of(now) != day.start_of(self.now);
        self.now = now;
        if self.toast.as_ref().is_some_and(|t| t.until <= now) {
            self.toast = None;
        }
        // An archive has no day.
        if !new_day || self.archive.is_some() {
            return Vec::new();
        }
        // A new trading day: its P/L, drawdown and each strategy's day start again, even
        // on a database where nothing has been written since midnight.
        self.dirty.insert(Reload::Account);
        self.dirty.insert(Reload::StrategyDays);
        self.schedule_flush()
    }

    fn on_failed(
        &mut self,
        act: Act,
        code: crate::store::ErrorCode,
        message: String,
        connection_lost: bool,
    ) -> Vec<Cmd> {
        self.in_flight = self.in_flight.saturating_sub(1);
        if act.is_halt() {
            self.halting = false;
            // The halt never reached the database: arm it again, to go when it is back.
            if let Some(reason) = self.halt_sent.take().filter(|_| connection_lost) {
                self.halt_armed = Some(reason);
                self.toast(
                    "HALT PENDING: the connection was lost; the halt is sent when it returns",
                    true,
                );
                return Vec::new();
            }
        }
        self.dialog = Some(Dialog::Outcome {
            title: format!("{act} failed ({})", code.as_str()),
            lines: vec![message, "Nothing was changed by this act.".into()],
            ok: false,
        });
        Vec::new()
    }

    /// Listening (again): anything announced while away is lost, so everything is read;
    /// an armed halt goes now.
    fn on_connected(&mut self) -> Vec<Cmd> {
        let was_lost = self.connection != Connection::Live;
        self.connection = Connection::Live;
        let mut cmds = Vec::new();
        if let Some(reason) = self.halt_armed.take() {
            cmds.extend(self.send(Cmd::Halt { reason }));
        }
        if was_lost {
            self.stale = false;
            cmds.extend(self.load_all());
        }
        cmds
    }

    fn on_loaded(&mut self, loaded: Loaded) -> Vec<Cmd> {
        let mut alerts = Vec::new();
        match loaded {
            Loaded::Risk { shown, last } => {
                let (on, reason) = (
                    shown.switch.ai_trading_enabled,
                    shown.switch.last_halt_reason.clone(),
                );
                self.switch = Some(shown.switch);
                match shown.limits {
                    Ok(row) => {
                        self.risk = Some(row);
                        self.risk_unreadable = None;
                    }
                    Err(flagged) => {
                        self.risk = None;
                        self.risk_unreadable = Some(flagged);
                    }
                }
                self.last_risk_change = last;
                alerts.extend(self.alert_ai_switch(on, reason.as_deref()));
                alerts.extend(self.alert_drawdown());
            }
            Loaded::Account {
                latest,
                unreadable,
                day,
                equity,
            } => {
                self.account = latest;
                self.account_unreadable = unreadable;
                self.day = day;
                self.equity = equity;
                alerts.extend(self.alert_drawdown());
            }
            Loaded::Strategies(items) => {
                self.strategies.replace(items, |s| s.id(), self.list_rows);
            }
            Loaded::StrategyDays(days) => {
                self.strategy_days = Some(days.into_iter().map(|d| (d.strategy_id, d)).collect());
            }
            Loaded::Ideas { items, awaiting } => {
                alerts.extend(self.alert_new_pending(&items));
                self.ideas.replace(items, |i| i.id(), self.list_rows);
                self.ideas_awaiting = Some(awaiting);
                // After deciding an idea, the next one to decide is the oldest still waiting.
                if std::mem::take(&mut self.next_pending)
                    && self
                        .ideas
                        .items
                        .first()
                        .is_some_and(Listed::<Idea>::awaits_approval)
                {
                    self.ideas.first();
                }
            }
            Loaded::Timeline { page, append } => {
                self.timeline.loading = false;
                if append {
                    self.timeline.next = page.next;
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
                    self.merge_first_page(page);
                }
            }
            Loaded::Replay(replay) => {
                // Only the replay still open: one closed or replaced meanwhile is not opened
                // again. Read again (its idea was decided, its order filled), it keeps its
                // place.
                if let Some(view) = &mut self.replay
                    && view.of.answered_by(&replay)
                {
                    let first = view.replay.is_none();
                    view.replay = Some(replay);
                    if first {
                        view.scroll = 0;
                    }
                    self.scroll_replay(0);
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
        alerts
    }

    fn on_done(&mut self, done: Done) -> Vec<Cmd> {
        self.in_flight = self.in_flight.saturating_sub(1);
        match done {
            Done::Approved { approval, lot } => {
                self.dialog = Some(approval_outcome(&approval, lot));
                self.next_pending = true;
                let (crate::store::approve::Approval::Executed { idea, .. }
                | crate::store::approve::Approval::Blocked { idea, .. }) = approval;
                self.replayed_idea_decided(idea);
            }
            Done::Rejected { idea } => {
                self.next_pending = true;
                self.toast(format!("rejected idea {}", short(idea)), false);
                self.replayed_idea_decided(idea);
            }
            Done::Halted(halted) => return self.on_halted(halted),
            Done::Resumed(resumed) => self.on_resumed(resumed),
            Done::RiskSet(update) => {
                self.toast("risk limits saved", false);
                self.switch = Some(Switch {
                    ai_trading_enabled: update.after.ai_trading_enabled,
                    last_halt_reason: update.after.last_halt_reason.clone(),
                });
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
    fn on_halted(&mut self, halted: Halted) -> Vec<Cmd> {
        self.halting = false;
        self.halt_sent = None;
        let alert = self.alert_ai_switch(false, Some(&halted.reason));
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
            row.config.last_halt_reason = Some(halted.reason.clone());
        }
        self.switch = Some(Switch {
            ai_trading_enabled: false,
            last_halt_reason: Some(halted.reason),
        });
        self.dirty.insert(Reload::Risk);
        alert
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
        self.switch = Some(Switch {
            ai_trading_enabled: true,
            last_halt_reason: None,
        });
        self.alerts_saw_ai_on();
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

    /// Opens the replay of `of` and asks for it to be read.
    pub(super) fn open_replay(&mut self, of: ReplayOf) -> Vec<Cmd> {
        self.replay = Some(ReplayView {
            of,
            replay: None,
            scroll: 0,
        });
        self.dirty.remove(&Reload::Replay);
        self.read(Reload::Replay).into_iter().collect()
    }

    /// Closes the replay; a read of it still under way is let go (its answer is dropped).
    pub(super) fn close_replay(&mut self) {
        self.replay = None;
        self.dirty.remove(&Reload::Replay);
        self.reading.remove(&Reload::Replay);
    }

    /// This console decided `idea`: the replay showing it is read again, so it shows the
    /// idea's new state, who decided it and its order (the notification would tell too;
    /// this does not wait for it).
    fn replayed_idea_decided(&mut self, idea: uuid::Uuid) {
        let shown = self.replay.as_ref().is_some_and(|v| {
            v.replay
                .as_ref()
                .and_then(|r| r.idea.as_ref())
                .is_some_and(|i| i.id == idea)
        });
        if shown {
            self.dirty.insert(Reload::Replay);
        }
    }

    /// Moves the replay's panels by `delta` lines, within what there is to show.
    pub(super) fn scroll_replay(&mut self, delta: isize) {
        let (width, height) = self.screen;
        if let Some(view) = &mut self.replay {
            let max = view
                .replay
                .as_ref()
                .map_or(0, |r| super::view::replay::max_scroll(r, width, height));
            view.scroll = view.scroll.saturating_add_signed(delta).min(max);
        }
    }

    /// Sends an act, unless acts are refused now (then says why). The kill switch pulled
    /// without a connection is armed instead, and sent when the connection returns.
    pub(super) fn act(&mut self, cmd: Cmd) -> Vec<Cmd> {
        let Some(act) = cmd.act() else {
            return vec![cmd];
        };
        if let Some(why) = self.act_refusal(act) {
            self.dialog = None;
            self.toast(why, true);
            return Vec::new();
        }
        if let Cmd::Halt { reason } = &cmd
            && self.connection != Connection::Live
        {
            self.halt_armed = Some(reason.clone());
            self.toast(
                "HALT PENDING: not connected; the halt is sent the moment the connection returns",
                true,
            );
            return Vec::new();
        }
        self.send(cmd)
    }

    /// Sends an act the state allows now.
    fn send(&mut self, cmd: Cmd) -> Vec<Cmd> {
        if let Cmd::Halt { reason } = &cmd {
            self.halting = true;
            self.halt_sent = Some(reason.clone());
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
        connection_lost: error.is_connection_lost(),
    }
}
