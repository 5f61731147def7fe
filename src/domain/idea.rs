//! Trade ideas and the audit trail's words: statuses, directions and decision actions,
//! spelled exactly as the database enums spell them (docs/platform.md §1).
//!
//! The store maps these to SQL; this module only knows the labels and which status may
//! follow which, so a buggy caller cannot move an idea backwards or out of a final state.

use std::fmt;
use std::str::FromStr;

/// A label read from the database or typed by an operator that names no known value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{got}\" is not a {kind}; expected one of {expected}")]
pub struct UnknownLabel {
    pub kind: &'static str,
    pub got: String,
    pub expected: String,
}

/// A status change the workflow does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idea that is {from} cannot become {to}")]
pub struct IllegalTransition {
    pub from: IdeaStatus,
    pub to: IdeaStatus,
}

/// The labels of `all`, comma-separated, for messages that list the valid choices.
pub fn labels<T: fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Defines a label enum with `ALL`, `as_str`, `Display` and `FromStr` over exact labels.
macro_rules! labels {
    ($(#[$doc:meta])* $name:ident, $kind:literal { $($(#[$vdoc:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in the database enum's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact database label.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownLabel;

            /// Reads the exact lowercase label; anything else is refused, not guessed.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| UnknownLabel {
                    kind: $kind,
                    got: s.to_owned(),
                    expected: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    };
}

labels! {
    /// Where an idea is in its life (`tradeideastatus`).
    IdeaStatus, "trade idea status" {
        /// Proposed, not yet through the gate.
        Waiting => "waiting",
        /// Passed in part: a human must approve or reject it.
        NeedsApproval => "needs_approval",
        /// Handed to execution, by the gate or by a human's approval.
        AutoExecuted => "auto_executed",
        /// Refused by the gate, by the re-check at approval, or by a human.
        Rejected => "rejected",
        /// Stopped because the day's risk limits halted trading.
        HaltedByRisk => "halted_by_risk",
    }
}

labels! {
    /// Which way a trade goes (`trade_ideas.direction`, `check_direction`).
    Direction, "direction" {
        Buy => "buy",
        Sell => "sell",
    }
}

labels! {
    /// What a `decision_history` row records (`decisionaction`).
    DecisionAction, "decision action" {
        AiProposed => "ai_proposed",
        AiAutoExecuted => "ai_auto_executed",
        HumanApproved => "human_approved",
        HumanRejected => "human_rejected",
        RiskRejected => "risk_rejected",
        AiHalted => "ai_halted",
        AiResumed => "ai_resumed",
    }
}

impl IdeaStatus {
    /// The statuses this one may become. From `waiting` the gate decides; from
    /// `needs_approval` a human does (approval → `auto_executed`, refusal or a failed
    /// re-check → `rejected`); the other three are final.
    pub fn successors(self) -> &'static [IdeaStatus] {
        match self {
            Self::Waiting => &[
                Self::AutoExecuted,
                Self::NeedsApproval,
                Self::Rejected,
                Self::HaltedByRisk,
            ],
            Self::NeedsApproval => &[Self::AutoExecuted, Self::Rejected],
            Self::AutoExecuted | Self::Rejected | Self::HaltedByRisk => &[],
        }
    }

    /// True for the statuses nothing can follow.
    pub fn is_terminal(self) -> bool {
        self.successors().is_empty()
    }

    /// `to` if this status may become it, otherwise why not.
    pub fn transition(self, to: IdeaStatus) -> Result<IdeaStatus, IllegalTransition> {
        if self.successors().contains(&to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_database_enum_labels() {
        let statuses: Vec<_> = IdeaStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            statuses,
            [
                "waiting",
                "needs_approval",
                "auto_executed",
                "rejected",
                "halted_by_risk"
            ]
        );
        let actions: Vec<_> = DecisionAction::ALL.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            actions,
            [
                "ai_proposed",
                "ai_auto_executed",
                "human_approved",
                "human_rejected",
                "risk_rejected",
                "ai_halted",
                "ai_resumed"
            ]
        );
        assert_eq!(Direction::Sell.to_string(), "sell");
    }

    #[test]
    fn every_label_parses_back_to_its_value() {
        for s in IdeaStatus::ALL {
            assert_eq!(s.as_str().parse::<IdeaStatus>(), Ok(*s));
        }
        for a in DecisionAction::ALL {
            assert_eq!(a.as_str().parse::<DecisionAction>(), Ok(*a));
        }
        for d in Direction::ALL {
            assert_eq!(d.as_str().parse::<Direction>(), Ok(*d));
        }
    }

    #[test]
    fn labels_are_not_guessed_from_other_spellings() {
        assert!("BUY".parse::<Direction>().is_err());
        assert!("needs-approval".parse::<IdeaStatus>().is_err());
        let err = "long".parse::<Direction>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"long\" is not a direction; expected one of buy, sell"
        );
    }

    #[test]
    fn waiting_goes_wherever_the_gate_sends_it() {
        for to in [
            IdeaStatus::AutoExecuted,
            IdeaStatus::NeedsApproval,
            IdeaStatus::Rejected,
            IdeaStatus::HaltedByRisk,
        ] {
            assert_eq!(IdeaStatus::Waiting.transition(to), Ok(to));
        }
        assert!(IdeaStatus::Waiting.transition(IdeaStatus::Waiting).is_err());
    }

    #[test]
    fn needs_approval_only_becomes_executed_or_rejected() {
        let from = IdeaStatus::NeedsApproval;
        assert!(from.transition(IdeaStatus::AutoExecuted).is_ok());
        assert!(from.transition(IdeaStatus::Rejected).is_ok());
        assert!(from.transition(IdeaStatus::HaltedByRisk).is_err());
        assert!(from.transition(IdeaStatus::Waiting).is_err());
    }

    #[test]
    fn final_statuses_never_change() {
        for from in [
            IdeaStatus::AutoExecuted,
            IdeaStatus::Rejected,
            IdeaStatus::HaltedByRisk,
        ] {
            assert!(from.is_terminal());
            for to in IdeaStatus::ALL {
                assert_eq!(
                    from.transition(*to),
                    Err(IllegalTransition { from, to: *to })
                );
            }
        }
        assert_eq!(
            IllegalTransition {
                from: IdeaStatus::Rejected,
                to: IdeaStatus::AutoExecuted
            }
            .to_string(),
            "an idea that is rejected cannot become auto_executed"
        );
    }
}
