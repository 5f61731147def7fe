//! What reaches the console's `update` (messages) and what it asks the loop to do
//! (commands). Commands run on tasks against the store; their results come back as
//! messages.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::pnl::StrategyDay;
use crate::domain::stored::{Flagged, Listed};
use crate::domain::{
    AccountSnapshot, Act, DayState, GateContext, Idea, Lot, Replay, RiskChangeSet, Strategy,
};
use crate::store::ErrorCode;
use crate::store::approve::Approval;
use crate::store::halt::{Halted, Resumed};
use crate::store::ideas::IdeaFilter;
use crate::store::limits::RiskUpdate;
use crate::store::listen::Change;
use crate::store::risk::{LastChange, RiskShown};
use crate::store::timeline::{Page, TimelineFilter};

/// The four panes, in their `1`–`4` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pane {
    Risk,
    Strategies,
    Ideas,
    Timeline,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Risk, Pane::Strategies, Pane::Ideas, Pane::Timeline];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Risk => "Risk controls",
            Pane::Strategies => "Strategies",
            Pane::Ideas => "Trade ideas",
            Pane::Timeline => "Decision timeline",
        }
    }
}

/// Data to read again after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reload {
    Risk,
    Account,
    Strategies,
    /// Each strategy's ideas and P/L today.
    StrategyDays,
    Ideas,
    Timeline,
    /// The open replay (its idea's state, who decided it, its order).
    Replay,
}

/// The account's equity at one capture, for the day's sparkline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EquityPoint {
    pub at: DateTime<Utc>,
    pub equity: Decimal,
}

/// Something the operator should notice even when looking elsewhere: the terminal's bell
/// and a desktop notification (OSC 9 / OSC 777), which reach a trader over SSH too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    pub title: String,
    pub body: String,
}

/// What an alert is about; each kind can be switched off in config.toml's `[alerts]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// An idea started awaiting approval.
    Approval,
    /// AI trading was halted, by anyone or by a limit.
    Halt,
    /// The day's drawdown crossed 80% of its limit.
    Drawdown,
    /// The connection to the database was lost.
    Disconnect,
}

/// Data read for a pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Risk {
        shown: RiskShown,
        last: Option<LastChange>,
    },
    Account {
        latest: Option<AccountSnapshot>,
        /// The day's captures that cannot be read (the day's figures are not shown then).
        unreadable: Vec<Flagged>,
        day: Option<DayState>,
        /// The day's captures, oldest first: the last one before the day started (its
        /// opening) and every one since.
        equity: Vec<EquityPoint>,
    },
    Strategies(Vec<Listed<Strategy>>),
    /// The strategies that did something today (the others are quiet).
    StrategyDays(Vec<StrategyDay>),
    Ideas {
        items: Vec<Listed<Idea>>,
        /// How many ideas await approval in the database (the list holds a window).
        awaiting: i64,
    },
    /// A timeline page; `append` continues the list, otherwise it replaces it.
    Timeline {
        page: Page,
        append: bool,
    },
    GateContext(Box<GateContext>),
    /// What the AI saw when a decision was made.
    Replay(Box<Replay>),
}

/// An act the database confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Approved {
        approval: Approval,
        lot: Lot,
    },
    Rejected {
        idea: Uuid,
    },
    Halted(Halted),
    Resumed(Resumed),
    RiskSet(Box<RiskUpdate>),
    StrategyToggled {
        name: String,
        active: bool,
        changed: bool,
    },
    /// The edit was saved; `changed` is false when the saved rules equal the stored ones
    /// (nothing was written).
    StrategyEdited {
        name: String,
        changed: bool,
    },
    /// The operator left the editor without saving valid rules.
    StrategyEditAbandoned {
        name: String,
    },
}

/// Everything `update` reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    /// The screen's size changed: rows visible in a list, and the screen itself.
    Resize {
        list_rows: u16,
        width: u16,
        height: u16,
    },
    /// Time passes: ages, toasts, and coalesced live reloads.
    Tick(DateTime<Utc>),
    Loaded(Loaded),
    /// A read failed; `reload` names what it was reading, if a pane.
    LoadFailed {
        reload: Option<Reload>,
        message: String,
    },
    Done(Done),
    Failed {
        act: Act,
        code: ErrorCode,
        message: String,
        /// The connection was lost under the act (it may be tried again once it returns).
        connection_lost: bool,
    },
    /// The changes of the last few milliseconds are gathered: read what they touched.
    Flush,
    Changed(Change),
    /// The listener connected (or reconnected).
    Connected,
    /// The connection was lost; the loop is retrying.
    Disconnected(String),
    /// SIGTERM, SIGHUP, Ctrl-C: leave now.
    Terminate,
}

/// Work for the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    LoadRisk,
    LoadAccount,
    LoadStrategies,
    /// Each strategy's ideas and P/L since the trading day began.
    LoadStrategyDays,
    LoadIdeas(IdeaFilter),
    LoadTimeline {
        filter: TimelineFilter,
        append: bool,
    },
    LoadGateContext(Uuid),
    /// The replay of a decision.
    LoadReplay(Uuid),
    /// The replay of an idea's latest decision (of the idea itself, if it has none).
    LoadIdeaReplay(Uuid),
    Approve {
        idea: Uuid,
        lot: Lot,
    },
    Reject {
        idea: Uuid,
        reason: String,
    },
    Halt {
        reason: String,
    },
    Resume,
    SetRisk {
        edit: RiskChangeSet,
    },
    SetStrategyActive {
        id: Uuid,
        active: bool,
    },
    /// Suspends the screen, opens the strategy's rules in $EDITOR until they are valid or
    /// abandoned, then saves them.
    EditStrategy {
        id: Uuid,
    },
    /// Send `Msg::Flush` in a few milliseconds (unless one is already due): a burst of
    /// changes becomes one read of each pane it touched.
    Coalesce,
    /// Ring the bell and notify the desktop.
    Alert(Alert),
    Quit,
}

impl Cmd {
    /// The act this command carries out, if it is one (reads are not).
    pub fn act(&self) -> Option<Act> {
        match self {
            Cmd::Approve { .. } => Some(Act::Approve),
            Cmd::Reject { .. } => Some(Act::Reject),
            Cmd::Halt { .. } => Some(Act::Halt),
            Cmd::Resume => Some(Act::Resume),
            Cmd::SetRisk { .. } => Some(Act::EditRisk),
            Cmd::SetStrategyActive { .. } => Some(Act::ToggleStrategy),
            Cmd::EditStrategy { .. } => Some(Act::EditStrategy),
            Cmd::LoadRisk
            | Cmd::LoadAccount
            | Cmd::LoadStrategies
            | Cmd::LoadStrategyDays
            | Cmd::LoadIdeas(_)
            | Cmd::LoadTimeline { .. }
            | Cmd::LoadGateContext(_)
            | Cmd::LoadReplay(_)
            | Cmd::LoadIdeaReplay(_)
            | Cmd::Coalesce
            | Cmd::Alert(_)
            | Cmd::Quit => None,
        }
    }

    /// The pane (or the open replay) this command reads, if it is such a read.
    pub fn reload(&self) -> Option<Reload> {
        match self {
            Cmd::LoadRisk => Some(Reload::Risk),
            Cmd::LoadAccount => Some(Reload::Account),
            Cmd::LoadStrategies => Some(Reload::Strategies),
            Cmd::LoadStrategyDays => Some(Reload::StrategyDays),
            Cmd::LoadIdeas(_) => Some(Reload::Ideas),
            Cmd::LoadTimeline { .. } => Some(Reload::Timeline),
            Cmd::LoadReplay(_) | Cmd::LoadIdeaReplay(_) => Some(Reload::Replay),
            _ => None,
        }
    }
}

impl Loaded {
    /// The pane (or the open replay) this read was for, if such a read.
    pub fn reload(&self) -> Option<Reload> {
        match self {
            Loaded::Risk { .. } => Some(Reload::Risk),
            Loaded::Account { .. } => Some(Reload::Account),
            Loaded::Strategies(_) => Some(Reload::Strategies),
            Loaded::StrategyDays(_) => Some(Reload::StrategyDays),
            Loaded::Ideas { .. } => Some(Reload::Ideas),
            Loaded::Timeline { .. } => Some(Reload::Timeline),
            Loaded::Replay(_) => Some(Reload::Replay),
            Loaded::GateContext(_) => None,
        }
    }
}
