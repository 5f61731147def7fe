//! What reaches the console's `update` (messages) and what it asks the loop to do
//! (commands). Commands run on tasks against the store; their results come back as
//! messages.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::DayState;
use crate::store::ErrorCode;
use crate::store::account::AccountSnapshot;
use crate::store::approve::{Approval, GateContext};
use crate::store::halt::{Halted, Resumed};
use crate::store::ideas::{Idea, IdeaFilter};
use crate::store::risk::{LastChange, RiskRow, RiskUpdate};
use crate::store::strategies::Strategy;
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

/// A change another writer made, announced on the `tradedesk` channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub table: String,
}

/// Data read for a pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Risk {
        row: RiskRow,
        last: Option<LastChange>,
    },
    Account {
        latest: Option<AccountSnapshot>,
        day: Option<DayState>,
    },
    Strategies(Vec<Strategy>),
    Ideas(Vec<Idea>),
    /// A timeline page; `append` continues the list, otherwise it replaces it.
    Timeline {
        page: Page,
        append: bool,
    },
    GateContext(Box<GateContext>),
}

/// An act the database confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Approved {
        approval: Approval,
        lot: Decimal,
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
    /// The list area's height changed (rows visible in a list).
    Resize {
        list_rows: u16,
    },
    /// Time passes: ages, toasts, and coalesced live reloads.
    Tick(DateTime<Utc>),
    Loaded(Loaded),
    LoadFailed(String),
    Done(Done),
    Failed {
        act: &'static str,
        code: ErrorCode,
        message: String,
    },
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
    LoadIdeas(IdeaFilter),
    LoadTimeline {
        filter: TimelineFilter,
        append: bool,
    },
    LoadGateContext(Uuid),
    Approve {
        idea: Uuid,
        lot: Decimal,
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
        edit: String,
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
    Quit,
}
