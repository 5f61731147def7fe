//! The audit trail's rows: what was decided, by whom, on what (`decision_history`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::label::{Tone, label_enum};

label_enum! {
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

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `None` for a global halt or resume.
    pub symbol: Option<String>,
    pub action: DecisionAction,
    pub rationale: String,
    pub confidence_score: Option<Decimal>,
    /// `pass`, or `fail:<rule>[,<rule>…]`.
    pub risk_check_result: Option<String>,
    pub strategy_id: Option<Uuid>,
    pub trade_idea_id: Option<Uuid>,
    pub snapshot_ref: Option<Uuid>,
    pub human_override: bool,
    /// Who acted; `None` for the AI's own rows and rows written before tradedesk.
    pub operator: Option<String>,
}

impl super::stored::Entity for Decision {
    fn id(&self) -> Uuid {
        self.id
    }
    fn at(&self) -> super::stored::Stamp {
        self.occurred_at.into()
    }
}

impl DecisionAction {
    /// How the action reads at a glance.
    pub fn tone(self) -> Tone {
        match self {
            Self::AiAutoExecuted | Self::HumanApproved | Self::AiResumed => Tone::Good,
            Self::AiProposed => Tone::Waiting,
            Self::HumanRejected | Self::RiskRejected | Self::AiHalted => Tone::Bad,
        }
    }

    /// The actions a human takes on one idea (at most one per idea).
    pub const HUMAN_DECISIONS: [DecisionAction; 3] = [
        DecisionAction::HumanApproved,
        DecisionAction::HumanRejected,
        DecisionAction::RiskRejected,
    ];

    /// How a human decision reads in a sentence: `approved`, `rejected`, `blocked by the
    /// risk checks at approval`.
    pub fn in_words(self) -> &'static str {
        match self {
            DecisionAction::HumanApproved => "approved",
            DecisionAction::HumanRejected => "rejected",
            DecisionAction::RiskRejected => "blocked by the risk checks at approval",
            DecisionAction::AiProposed => "proposed by the AI",
            DecisionAction::AiAutoExecuted => "auto-executed by the AI",
            DecisionAction::AiHalted => "halted",
            DecisionAction::AiResumed => "resumed",
        }
    }
}
