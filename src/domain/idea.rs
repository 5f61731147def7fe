//! Trade ideas and the audit trail's words: statuses, directions and decision actions,
//! spelled exactly as the database enums spell them (docs/platform.md §1).
//!
//! The store maps these to SQL; this module only knows the labels and which status may
//! follow which, so a buggy caller cannot move an idea backwards or out of a final state.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use super::instrument::price_digits;
use super::label::{Tone, label_enum};
use super::numeric::{AtDigits, Plain};
use super::stored::PRICE_SCALE;

/// A status change the workflow does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idea that is {from} cannot become {to}")]
pub struct IllegalTransition {
    pub from: IdeaStatus,
    pub to: IdeaStatus,
}

label_enum! {
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

label_enum! {
    /// Which way a trade goes (`trade_ideas.direction`, `check_direction`).
    Direction, "direction" {
        Buy => "buy",
        Sell => "sell",
    }
}

impl IdeaStatus {
    /// How the status reads at a glance.
    pub fn tone(self) -> Tone {
        match self {
            Self::AutoExecuted => Tone::Good,
            Self::NeedsApproval => Tone::Waiting,
            Self::Rejected | Self::HaltedByRisk => Tone::Bad,
            Self::Waiting => Tone::Neutral,
        }
    }

    /// The statuses this one may become. From `waiting` the gate decides; from
    /// `needs_approval` a human does (approval → `auto_executed`, refusal or a failed
    /// re-check → `rejected`). `auto_executed` → `halted_by_risk` is the kill switch's
    /// alone: an idea whose order it cancelled before any broker bridge claimed it never
    /// reached the market, and the platform shows such a trade stopped (red), not executed
    /// (src/store/halt.rs). `rejected` and `halted_by_risk` are final.
    pub fn successors(self) -> &'static [IdeaStatus] {
        match self {
            Self::Waiting => &[
                Self::AutoExecuted,
                Self::NeedsApproval,
                Self::Rejected,
                Self::HaltedByRisk,
            ],
            Self::NeedsApproval => &[Self::AutoExecuted, Self::Rejected],
            Self::AutoExecuted => &[Self::HaltedByRisk],
            Self::Rejected | Self::HaltedByRisk => &[],
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

/// A trade idea as the engine proposed it (`trade_ideas`), with its strategy's name.
/// Its prices are read at [`PRICE_SCALE`] places at most (the float expansions the
/// platform stores in `entry_range` and `take_profit` round to the prices they stand for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idea {
    pub id: Uuid,
    pub symbol: String,
    pub direction: Direction,
    /// The entry as the platform wrote it: a price, or `[low, high]` of a zone; read it
    /// through [`Idea::entry`].
    pub entry_price: Option<Decimal>,
    pub entry_range: Option<Vec<Decimal>>,
    pub stop_loss: Decimal,
    /// One or more targets.
    pub take_profit: Vec<Decimal>,
    /// `scalp_30m`, `swing_1d`, …
    pub expected_hold: Option<String>,
    pub rationale: String,
    /// 0–100.
    pub confidence_score: Decimal,
    pub status: IdeaStatus,
    pub strategy_id: Option<Uuid>,
    pub strategy_name: Option<String>,
    pub snapshot_ref: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where an idea enters the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Price(Decimal),
    Zone {
        low: Decimal,
        high: Decimal,
    },
    /// Neither a price nor a zone: at the market.
    Market,
}

impl Entry {
    /// The price to measure risk from: the price, or the middle of the zone.
    pub fn reference(self) -> Option<Decimal> {
        match self {
            Entry::Price(p) => Some(p),
            Entry::Zone { low, high } => Some((low + high) / Decimal::TWO),
            Entry::Market => None,
        }
    }
}

impl Entry {
    /// The entry at `digits` places (see [`AtDigits`]): `1.08415`, `1.08400–1.08450`,
    /// `market`.
    pub fn at(self, digits: u32) -> String {
        match self {
            Entry::Price(p) => AtDigits(p, digits).to_string(),
            Entry::Zone { low, high } => {
                format!("{}–{}", AtDigits(low, digits), AtDigits(high, digits))
            }
            Entry::Market => "market".to_string(),
        }
    }
}

impl fmt::Display for Entry {
    /// `2648.5`, `2648.5–2651`, `market`: exact, without the zeros NUMERIC(18,6) pads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Price(p) => write!(f, "{}", Plain(*p)),
            Entry::Zone { low, high } => write!(f, "{}–{}", Plain(*low), Plain(*high)),
            Entry::Market => f.write_str("market"),
        }
    }
}

impl Idea {
    /// The entry: the price if there is one, else the zone (a range of other than two
    /// values is read as its lowest to its highest).
    pub fn entry(&self) -> Entry {
        match (self.entry_price, self.entry_range.as_deref()) {
            (Some(price), _) => Entry::Price(price),
            (None, Some([only])) => Entry::Price(*only),
            (None, Some(range)) if !range.is_empty() => {
                let low = range.iter().copied().fold(range[0], Decimal::min);
                let high = range.iter().copied().fold(range[0], Decimal::max);
                Entry::Zone { low, high }
            }
            _ => Entry::Market,
        }
    }

    /// Reward to risk at the first target: |target − entry| / |entry − stop|, 2 places.
    pub fn reward_to_risk(&self) -> Option<Decimal> {
        let entry = self.entry().reference()?;
        let target = self.take_profit.first()?;
        let risk = (entry - self.stop_loss).abs();
        if risk.is_zero() {
            return None;
        }
        Some(((target - entry).abs() / risk).round_dp(2))
    }

    /// The targets, exact, comma-separated: `2668,2684`.
    pub fn targets(&self) -> String {
        self.take_profit
            .iter()
            .map(|t| Plain(*t).to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// True while a human may approve or reject it.
    pub fn awaits_approval(&self) -> bool {
        self.status == IdeaStatus::NeedsApproval
    }

    /// Every price of the idea: entry (or zone), stop, targets.
    fn prices(&self) -> impl Iterator<Item = Decimal> + '_ {
        self.entry_price
            .iter()
            .chain(self.entry_range.iter().flatten())
            .chain(std::iter::once(&self.stop_loss))
            .chain(&self.take_profit)
            .copied()
    }

    /// The places its prices are shown at: its instrument's
    /// ([`price_digits`]), or for a symbol tradedesk does not know, as many as its own
    /// prices need (at most [`PRICE_SCALE`]).
    pub fn digits(&self) -> u32 {
        price_digits(&self.symbol).unwrap_or_else(|| {
            self.prices()
                .map(|p| p.normalize().scale())
                .max()
                .unwrap_or(0)
                .min(PRICE_SCALE)
        })
    }

    /// A price of this idea's instrument, as shown.
    pub fn price(&self, value: Decimal) -> String {
        AtDigits(value, self.digits()).to_string()
    }

    /// The entry as shown: `1.08415`, `2648.50–2651.00`, `market`.
    pub fn entry_shown(&self) -> String {
        self.entry().at(self.digits())
    }

    /// The stop as shown.
    pub fn stop_shown(&self) -> String {
        self.price(self.stop_loss)
    }

    /// The targets as shown, comma-separated: `2668.00,2684.00`.
    pub fn targets_shown(&self) -> String {
        let digits = self.digits();
        self.take_profit
            .iter()
            .map(|t| AtDigits(*t, digits).to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The entry of an idea's row that cannot be read, as stored: its price, else its zone,
/// else `market`.
pub fn flagged_entry(f: &super::stored::Flagged) -> String {
    match (f.column("entry_price"), f.column("entry_range")) {
        (Some(p), _) if p != "—" => p.to_string(),
        (_, Some(r)) if r != "—" => r.to_string(),
        _ => "market".to_string(),
    }
}

impl super::stored::Listed<Idea> {
    /// True while a human may decide it: an idea awaiting approval, or a row that cannot
    /// be read whose status says so (it may still be rejected).
    pub fn awaits_approval(&self) -> bool {
        match self {
            super::stored::Listed::Read(i) => i.awaits_approval(),
            super::stored::Listed::Flagged(f) => {
                f.column("status") == Some(IdeaStatus::NeedsApproval.as_str())
            }
        }
    }
}

impl super::stored::Entity for Idea {
    fn id(&self) -> Uuid {
        self.id
    }
    fn at(&self) -> super::stored::Stamp {
        self.created_at.into()
    }
}

impl Serialize for Idea {
    /// Prices as strings at the instrument's digits (`"1.08100"`), so a script reads them
    /// as a trader does and never through a float.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            id: Uuid,
            symbol: &'a str,
            direction: Direction,
            entry_price: Option<String>,
            entry_range: Option<Vec<String>>,
            stop_loss: String,
            take_profit: Vec<String>,
            expected_hold: &'a Option<String>,
            rationale: &'a str,
            confidence_score: Decimal,
            status: IdeaStatus,
            strategy_id: Option<Uuid>,
            strategy_name: &'a Option<String>,
            snapshot_ref: Uuid,
            created_at: DateTime<Utc>,
            updated_at: DateTime<Utc>,
        }
        let shown = |p: &Decimal| self.price(*p);
        Shown {
            id: self.id,
            symbol: &self.symbol,
            direction: self.direction,
            entry_price: self.entry_price.as_ref().map(shown),
            entry_range: self
                .entry_range
                .as_ref()
                .map(|r| r.iter().map(shown).collect()),
            stop_loss: shown(&self.stop_loss),
            take_profit: self.take_profit.iter().map(shown).collect(),
            expected_hold: &self.expected_hold,
            rationale: &self.rationale,
            confidence_score: self.confidence_score,
            status: self.status,
            strategy_id: self.strategy_id,
            strategy_name: &self.strategy_name,
            snapshot_ref: self.snapshot_ref,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::decision::DecisionAction;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn idea(price: Option<&str>, range: Option<&[&str]>) -> Idea {
        Idea {
            id: Uuid::nil(),
            symbol: "XAUUSD".into(),
            direction: Direction::Buy,
            entry_price: price.map(dec),
            entry_range: range.map(|r| r.iter().map(|s| dec(s)).collect()),
            stop_loss: dec("2638.000000"),
            take_profit: vec![dec("2668.000000"), dec("2684.000000")],
            expected_hold: None,
            rationale: String::new(),
            confidence_score: dec("88.00"),
            status: IdeaStatus::NeedsApproval,
            strategy_id: None,
            strategy_name: None,
            snapshot_ref: Uuid::nil(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_entry_formats_itself_exactly_without_padding() {
        let zone = idea(None, Some(&["2648.500000", "2651.000000"]));
        assert_eq!(zone.entry().to_string(), "2648.5–2651");
        assert_eq!(zone.entry().reference(), Some(dec("2649.75")));
        assert_eq!(zone.targets(), "2668,2684");
        let price = idea(Some("1.085640"), None);
        assert_eq!(price.entry().to_string(), "1.08564");
        assert_eq!(idea(None, None).entry(), Entry::Market);
        assert_eq!(
            idea(None, Some(&["2651", "2648.5", "2650"])).entry(),
            Entry::Zone {
                low: dec("2648.5"),
                high: dec("2651")
            }
        );
    }

    #[test]
    fn prices_show_at_the_instruments_digits() {
        let mut eurusd = idea(Some("1.081000"), None);
        eurusd.symbol = "EURUSD".into();
        eurusd.stop_loss = dec("1.0795");
        eurusd.take_profit = vec![dec("1.2675"), dec("1.26784")];
        assert_eq!(eurusd.digits(), 5);
        assert_eq!(eurusd.entry_shown(), "1.08100");
        assert_eq!(eurusd.stop_shown(), "1.07950");
        assert_eq!(eurusd.targets_shown(), "1.26750,1.26784");
        let json = serde_json::to_value(&eurusd).unwrap();
        assert_eq!(json["entry_price"], "1.08100");
        assert_eq!(json["take_profit"][0], "1.26750");
        let gold = idea(None, Some(&["2648.5", "2651"]));
        assert_eq!(gold.entry_shown(), "2648.50–2651.00");
        let mut unknown = idea(Some("0.0001234"), None);
        unknown.symbol = "SHIBUSDT".into();
        assert_eq!(
            unknown.digits(),
            6,
            "at most the six places of a price column"
        );
    }

    #[test]
    fn reward_to_risk_is_measured_from_the_entry_to_the_first_target() {
        // (2668 − 2649.75) / (2649.75 − 2638) = 18.25 / 11.75 = 1.553…
        let zone = idea(None, Some(&["2648.5", "2651"]));
        assert_eq!(zone.reward_to_risk(), Some(dec("1.55")));
        let mut flat = idea(Some("2638"), None);
        assert_eq!(flat.reward_to_risk(), None, "no risk: no ratio");
        flat.take_profit.clear();
        assert_eq!(flat.reward_to_risk(), None);
    }

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
    fn an_executed_idea_only_becomes_halted_when_the_halt_pulls_its_order() {
        let from = IdeaStatus::AutoExecuted;
        assert!(!from.is_terminal());
        for to in IdeaStatus::ALL {
            let allowed = *to == IdeaStatus::HaltedByRisk;
            assert_eq!(from.transition(*to).is_ok(), allowed, "{to}");
        }
    }

    #[test]
    fn final_statuses_never_change() {
        for from in [IdeaStatus::Rejected, IdeaStatus::HaltedByRisk] {
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
