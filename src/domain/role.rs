//! Who may do what at the desk. Stopping is cheap and starting is deliberate: anyone may
//! pull the kill switch, operators decide ideas, and only an admin turns the AI back on or
//! changes what it trades by.

use super::act::Act;
use super::label::label_enum;

label_enum! {
    /// A platform user's role at the desk (`tradedesk.user_roles.role`).
    Role, "role" {
        /// Reads everything; may pull the kill switch.
        Viewer => "viewer",
        /// Also approves and rejects ideas.
        Operator => "operator",
        /// Also resumes AI trading, edits risk limits and strategies, grants roles.
        Admin => "admin",
    }
}

impl Role {
    /// True when this role may perform `act`.
    pub fn permits(self, act: Act) -> bool {
        self >= act.least_role()
    }
}

impl Act {
    /// The least role that may perform this act.
    pub fn least_role(self) -> Role {
        match self {
            Act::Halt => Role::Viewer,
            Act::Approve | Act::Reject => Role::Operator,
            Act::Resume
            | Act::EditRisk
            | Act::ToggleStrategy
            | Act::EditStrategy
            | Act::GrantRole
            | Act::Maintain => Role::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anyone_may_stop_operators_decide_only_admins_start_or_change_the_rules() {
        for role in Role::ALL {
            assert!(role.permits(Act::Halt), "{role}");
        }
        assert!(!Role::Viewer.permits(Act::Approve));
        assert!(!Role::Viewer.permits(Act::Reject));
        assert!(Role::Operator.permits(Act::Approve) && Role::Operator.permits(Act::Reject));
        for act in [
            Act::Resume,
            Act::EditRisk,
            Act::ToggleStrategy,
            Act::EditStrategy,
            Act::GrantRole,
        ] {
            assert!(!Role::Operator.permits(act), "{act}");
            assert!(Role::Admin.permits(act), "{act}");
        }
    }

    #[test]
    fn roles_read_their_exact_labels() {
        assert_eq!("operator".parse::<Role>().unwrap(), Role::Operator);
        assert!("Operator".parse::<Role>().is_err());
    }
}
