//! The acts an operator performs, one vocabulary for the keys that ask for them, the
//! commands that carry them out, and the messages that report them.

use std::fmt;

/// Something an operator does that changes the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// Approve an idea awaiting approval with a lot size.
    Approve,
    /// Reject an idea awaiting approval, with a reason.
    Reject,
    /// The kill switch: AI trading off, waiting ideas stopped, unexecuted orders pulled.
    Halt,
    /// AI trading back on.
    Resume,
    /// Change a risk limit.
    EditRisk,
    /// Enable or disable a strategy.
    ToggleStrategy,
    /// Edit a strategy's rules (import and delete included).
    EditStrategy,
    /// Grant or revoke a user's role.
    GrantRole,
    /// Change the schema or remove data in bulk: migrations, set-up of a database with
    /// users, archives, snapshot clean-up, a simulation written into a live database.
    Maintain,
}

impl Act {
    /// The act as a trader names it in a sentence: "the kill switch failed", "read-only
    /// console: approval is disabled".
    pub fn noun(self) -> &'static str {
        match self {
            Act::Approve => "approval",
            Act::Reject => "rejection",
            Act::Halt => "the kill switch",
            Act::Resume => "resume",
            Act::EditRisk => "editing a limit",
            Act::ToggleStrategy => "enabling or disabling a strategy",
            Act::EditStrategy => "editing a strategy",
            Act::GrantRole => "granting a role",
            Act::Maintain => "changing the schema or removing data",
        }
    }

    /// True for the one act that is always safe to do late: a halt sent when the
    /// connection returns still stops the AI; every other act must be decided now.
    pub fn is_halt(self) -> bool {
        self == Act::Halt
    }
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}
