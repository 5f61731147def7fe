//! Full context replay (docs/platform.md §2): for any past decision, what the AI saw when
//! it was made — the symbol's candles and indicators, the calendar around it with minutes
//! until each release, the recent headlines, the account — and what the rules were then:
//! the strategy, the risk limits, and the Gate's verdict re-run on all of it.
//!
//! This module is pure. The store reads the rows, each through an indexed range, into
//! [`Seen`]; [`Replay::assemble`] turns them into what the screens show: minutes until
//! release counted from the moment, the day's P/L then, the news block's window, the
//! Gate re-run, and the parts whose rows no longer exist.
//!
//! Readings (docs/platform.md, "tradedesk's readings"):
//! - **The moment** the AI looked is the `captured_at` of the `snapshot_account` row the
//!   `snapshot_ref` names; the market, indicator, calendar and news rows of that cycle are
//!   those captured at or before it. Without that row, the idea's `created_at` stands in
//!   for it, else the decision's own time.
//! - **The decision's moment** (`decided_at`) is when the decision was recorded (an idea
//!   replayed without a decision: when it was created). The Gate is re-run as of then, on
//!   the strategy and risk limits as they were then.
//! - **The chart's timeframe** comes from `expected_hold` ([`timeframe_for_hold`]), falling
//!   back to the finest timeframe with candles in the window up to the moment; with none
//!   up to it, the market part is missing (candles only after it are not what the AI saw).

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::account::AccountSnapshot;
use super::decision::{Decision, DecisionAction};
use super::gate::{GateIdea, GateInput, GateReport, OpenTrades, Purpose, evaluate};
use super::idea::Idea;
use super::label::label_enum;
use super::market::{CalendarEvent, Exposure, Impact, symbol_exposure};
use super::pnl::{DayState, TradingDay, day_state};
use super::risk::RiskConfig;
use super::stored::Flagged;
use super::strategy::{RulesJson, Strategy, StrategyFields};

/// Candles shown up to the moment (the one at it included).
pub const CANDLES_BEFORE: i64 = 60;
/// Candles shown after the moment, for what came next.
pub const CANDLES_AFTER: i64 = 20;
/// Candles are looked for this many times as far as the candles wanted would span, so a
/// missing bar or a quiet hour does not empty the chart, and a series that stopped long
/// before the moment is not shown as what the AI saw.
pub const REACH: i32 = 3;
/// Calendar events this many hours either side of the moment are shown.
pub const CALENDAR_HOURS: i64 = 12;
/// Headlines published this many hours before the moment are shown…
pub const NEWS_HOURS: i64 = 24;
/// …at most this many, newest first.
pub const NEWS_MAX: i64 = 20;

label_enum! {
    /// A candle's timeframe, as the platform's collector writes `snapshot_market.timeframe`
    /// and `snapshot_indicators.timeframe`; finest first.
    Timeframe, "timeframe" {
        M1 => "M1",
        M5 => "M5",
        M15 => "M15",
        M30 => "M30",
        H1 => "H1",
        H4 => "H4",
        D1 => "D1",
    }
}

impl Timeframe {
    /// How long one candle lasts.
    pub fn span(self) -> TimeDelta {
        match self {
            Self::M1 => TimeDelta::minutes(1),
            Self::M5 => TimeDelta::minutes(5),
            Self::M15 => TimeDelta::minutes(15),
            Self::M30 => TimeDelta::minutes(30),
            Self::H1 => TimeDelta::hours(1),
            Self::H4 => TimeDelta::hours(4),
            Self::D1 => TimeDelta::days(1),
        }
    }

    /// Where this timeframe's candles around `at` are looked for.
    pub fn window(self, at: DateTime<Utc>) -> Window {
        let span = self.span() * REACH;
        Window {
            since: at - span * CANDLES_BEFORE as i32,
            at,
            until: at + span * CANDLES_AFTER as i32,
        }
    }
}

/// A range of time around a moment: `[since, at]` is what the AI could see, `(at, until]`
/// what came after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The timeframe an idea's `expected_hold` is read on (ideas have no timeframe column):
/// `scalp_*` → M5, `swing_*` → H1, anything else none (the finest with data is shown).
pub fn timeframe_for_hold(hold: Option<&str>) -> Option<Timeframe> {
    let hold = hold?.trim().to_ascii_lowercase();
    if hold.starts_with("scalp") {
        Some(Timeframe::M5)
    } else if hold.starts_with("swing") {
        Some(Timeframe::H1)
    } else {
        None
    }
}

/// The timeframes to try for the chart, in order: the hold's, then every other one,
/// finest first.
pub fn timeframe_candidates(hold: Option<&str>) -> Vec<Timeframe> {
    let wanted = timeframe_for_hold(hold);
    wanted
        .into_iter()
        .chain(
            Timeframe::ALL
                .iter()
                .copied()
                .filter(|t| Some(*t) != wanted),
        )
        .collect()
}

/// Why the chart shows its timeframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum TimeframeChoice {
    /// The one the idea's `expected_hold` maps to.
    Hold,
    /// The finest with candles up to the moment: the hold maps to none (`wanted` is
    /// `None`), or its timeframe had no candles then.
    Finest { wanted: Option<Timeframe> },
}

impl TimeframeChoice {
    /// How `chosen` came to be shown for an idea held `hold`.
    pub fn of(hold: Option<&str>, chosen: Timeframe) -> TimeframeChoice {
        match timeframe_for_hold(hold) {
            Some(wanted) if wanted == chosen => TimeframeChoice::Hold,
            wanted => TimeframeChoice::Finest { wanted },
        }
    }
}

impl fmt::Display for TimeframeChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hold => f.write_str("from the idea's hold"),
            Self::Finest { wanted: None } => f.write_str("the finest with data"),
            Self::Finest { wanted: Some(w) } => {
                write!(f, "the finest with data ({w} had none then)")
            }
        }
    }
}

/// One candle (`snapshot_market`), read as the bar of its timeframe at `captured_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candle {
    pub captured_at: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: i32,
}

impl Candle {
    /// The close is below the open.
    pub fn falling(&self) -> bool {
        self.close < self.open
    }
}

/// The symbol's candles around the moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub symbol: String,
    pub timeframe: Timeframe,
    pub choice: TimeframeChoice,
    /// Oldest first; one per `captured_at`.
    pub candles: Vec<Candle>,
}

/// MACD as the collector writes it: `{"macd": …, "signal": …, "hist": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Macd {
    pub macd: Option<Decimal>,
    pub signal: Option<Decimal>,
    pub hist: Option<Decimal>,
}

impl Macd {
    /// Reads the document; a value that is not a number (or a number written as text) is
    /// absent, and a document with none of the three is no MACD.
    pub fn from_json(value: &Value) -> Option<Macd> {
        let read = |key: &str| value.get(key).and_then(decimal_of);
        let macd = Macd {
            macd: read("macd"),
            signal: read("signal"),
            hist: read("hist"),
        };
        (macd.macd.is_some() || macd.signal.is_some() || macd.hist.is_some()).then_some(macd)
    }
}

/// A JSON number (or a number written as a string) as a decimal, exactly as written.
fn decimal_of(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    text.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// The indicators the AI saw: the last `snapshot_indicators` row at or before the moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorReading {
    pub timeframe: String,
    pub rsi_14: Option<Decimal>,
    pub sma_50: Option<Decimal>,
    pub sma_200: Option<Decimal>,
    pub atr: Option<Decimal>,
    pub macd: Option<Macd>,
    pub captured_at: DateTime<Utc>,
}

/// A calendar row as the AI saw it: the latest capture of the event at or before the
/// moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarRow {
    pub event: CalendarEvent,
    pub previous: Option<String>,
    pub forecast: Option<String>,
    pub actual: Option<String>,
    pub captured_at: DateTime<Utc>,
}

/// A calendar event around the moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventThen {
    pub event: CalendarEvent,
    pub previous: Option<String>,
    pub forecast: Option<String>,
    pub actual: Option<String>,
    /// Whole minutes from the moment to the release: positive ahead of it, negative after
    /// (counted toward zero: a release 90 s away is 1 minute away).
    pub minutes_until_release: i64,
    /// A high-impact release inside the strategy's news block around the moment.
    pub in_news_block: bool,
}

impl EventThen {
    pub fn high_impact(&self) -> bool {
        self.event.impact == Impact::High
    }
}

/// The strategy's news block around the moment (docs/platform.md §4, `forbidden_conditions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsBlock {
    pub minutes: u32,
    /// The currencies it lists; `None`: the symbol's own.
    pub currencies: Option<Vec<String>>,
    /// `USD, GBP` or `EUR or USD (the symbol's)`.
    pub whose: String,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// A headline published before the moment (`snapshot_news`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Headline {
    pub published_at: DateTime<Utc>,
    pub source: String,
    pub headline: String,
    pub symbols: Vec<String>,
    pub captured_at: DateTime<Utc>,
}

/// Where the account shown comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    /// The row the `snapshot_ref` names.
    SnapshotRef,
    /// A decision without a snapshot (a global halt): the last capture at or before it.
    LastBefore,
}

/// The account then, and the day's P/L up to then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountThen {
    pub snapshot: AccountSnapshot,
    pub source: AccountSource,
    pub day: Option<DayState>,
}

/// A configuration as audited in `tradedesk.config_changes`: when it changed, and its
/// state on the side of the change that faces the moment (`None`: it did not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<T> {
    pub changed_at: DateTime<Utc>,
    pub state: Option<T>,
}

/// Which record a configuration as of the moment was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum AsOf {
    /// The `after` of the last change at or before the moment.
    ChangeBefore { changed_at: DateTime<Utc> },
    /// The `before` of the first change after the moment.
    ChangeAfter { changed_at: DateTime<Utc> },
    /// The row as it is now: no change is recorded on either side.
    Current,
}

impl fmt::Display for AsOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Self::ChangeBefore { changed_at } => {
                write!(f, "as changed at {} (last change before)", at(changed_at))
            }
            Self::ChangeAfter { changed_at } => {
                write!(f, "as before the change of {}", at(changed_at))
            }
            Self::Current => f.write_str("the current row (no change recorded)"),
        }
    }
}

/// A configuration as of the moment: the `after` of the last change at or before it, else
/// the `before` of the first change after it, else the current row. A side whose state is
/// absent (created after, deleted before, unreadable) is passed over.
pub fn as_of<T>(
    before: Option<Change<T>>,
    after: Option<Change<T>>,
    current: Option<T>,
) -> Option<(T, AsOf)> {
    if let Some(Change {
        changed_at,
        state: Some(state),
    }) = before
    {
        return Some((state, AsOf::ChangeBefore { changed_at }));
    }
    if let Some(Change {
        changed_at,
        state: Some(state),
    }) = after
    {
        return Some((state, AsOf::ChangeAfter { changed_at }));
    }
    current.map(|state| (state, AsOf::Current))
}

/// The risk limits as `tradedesk.config_changes` records them (decimals as strings).
#[derive(Deserialize)]
struct AuditedLimits {
    ai_trading_enabled: bool,
    min_confidence_threshold: Decimal,
    max_lot_size: Decimal,
    max_concurrent_trades: i32,
    daily_profit_target: Decimal,
    stop_after_target: bool,
    max_drawdown_amount: Decimal,
    halt_on_drawdown: bool,
    allow_off_watchlist_autotrade: bool,
    last_halt_reason: Option<String>,
}

/// The limits an audit row's `before` or `after` holds, if it reads.
pub fn limits_from_audit(value: &Value) -> Option<RiskConfig> {
    let a = AuditedLimits::deserialize(value).ok()?;
    Some(RiskConfig {
        ai_trading_enabled: a.ai_trading_enabled,
        min_confidence_threshold: a.min_confidence_threshold,
        max_lot_size: a.max_lot_size,
        max_concurrent_trades: a.max_concurrent_trades,
        daily_profit_target: a.daily_profit_target,
        stop_after_target: a.stop_after_target,
        max_drawdown_amount: a.max_drawdown_amount,
        halt_on_drawdown: a.halt_on_drawdown,
        allow_off_watchlist_autotrade: a.allow_off_watchlist_autotrade,
        last_halt_reason: a.last_halt_reason,
    })
}

/// A strategy document as `tradedesk.config_changes` records it (the shape of
/// `strategies export`), if it reads. The audit keeps no creation time: `created_at` is
/// the current row's when there is one, else the change's.
pub fn strategy_from_audit(
    value: &Value,
    changed_at: DateTime<Utc>,
    current: Option<&Strategy>,
) -> Option<Strategy> {
    let doc = value.as_object()?;
    let text = |key: &str| doc.get(key).and_then(Value::as_str);
    let id = text("id").and_then(|s| s.parse::<Uuid>().ok())?;
    let name = text("name")?.to_owned();
    let is_active = doc.get("is_active").and_then(Value::as_bool)?;
    let allowed_symbols = doc
        .get("allowed_symbols")?
        .as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()?;
    let rr_expectation = doc.get("rr_expectation").and_then(decimal_of)?;
    let document = |key: &str| doc.get(key).cloned();
    Some(Strategy::new(StrategyFields {
        id,
        name,
        is_active,
        allowed_symbols,
        documents: RulesJson {
            session_windows: document("session_windows")?,
            entry_conditions: document("entry_conditions")?,
            exit_rules: document("exit_rules")?,
            forbidden_conditions: document("forbidden_conditions")?,
            risk_caps: document("risk_caps")?,
        },
        rr_expectation,
        created_at: current.map_or(changed_at, |s| s.created_at),
        updated_at: changed_at,
    }))
}

/// A flip of the AI's switch: a global `ai_halted` or an `ai_resumed` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flip {
    pub action: DecisionAction,
    pub occurred_at: DateTime<Utc>,
    /// Why a halt was pulled: its `fail:<reason>` (docs/platform.md §3), else its rationale.
    pub reason: Option<String>,
}

impl Flip {
    /// The flip a decision records, if it records one.
    pub fn of(d: &Decision) -> Option<Flip> {
        match d.action {
            DecisionAction::AiHalted if d.symbol.is_none() => {
                let reason = d
                    .risk_check_result
                    .as_deref()
                    .and_then(|r| r.strip_prefix("fail:"))
                    .map(str::to_owned)
                    .or_else(|| Some(d.rationale.clone()).filter(|r| !r.trim().is_empty()));
                Some(Flip {
                    action: d.action,
                    occurred_at: d.occurred_at,
                    reason,
                })
            }
            DecisionAction::AiResumed => Some(Flip {
                action: d.action,
                occurred_at: d.occurred_at,
                reason: None,
            }),
            _ => None,
        }
    }

    /// Of `decisions`, the last flip at or before `at` and the first after it (what the AI
    /// switch was then, and what changed it next).
    pub fn around<'a>(
        decisions: impl IntoIterator<Item = &'a Decision>,
        at: DateTime<Utc>,
    ) -> (Option<Flip>, Option<Flip>) {
        let flips: Vec<Flip> = decisions.into_iter().filter_map(Flip::of).collect();
        let before = flips
            .iter()
            .filter(|f| f.occurred_at <= at)
            .max_by_key(|f| f.occurred_at)
            .cloned();
        let after = flips
            .iter()
            .filter(|f| f.occurred_at > at)
            .min_by_key(|f| f.occurred_at)
            .cloned();
        (before, after)
    }

    fn halts(&self) -> bool {
        self.action == DecisionAction::AiHalted
    }
}

/// Where the AI's switch as of the moment was read from. Halts and resumes are recorded
/// in `decision_history`, not in the audit of limits, so the flips decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum SwitchAsOf {
    /// The last halt or resume at or before the moment.
    FlipBefore { occurred_at: DateTime<Utc> },
    /// The first halt or resume after the moment, read backwards.
    FlipAfter { occurred_at: DateTime<Utc> },
    /// No flip is recorded: the limits' own value.
    Limits,
}

impl fmt::Display for SwitchAsOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Self::FlipBefore { occurred_at } => {
                write!(f, "the halt or resume of {}", at(occurred_at))
            }
            Self::FlipAfter { occurred_at } => {
                write!(f, "before the halt or resume of {}", at(occurred_at))
            }
            Self::Limits => f.write_str("the limits (no halt or resume recorded)"),
        }
    }
}

/// The switch as of the moment from the nearest flips: the last one at or before it, else
/// the first one after it, read backwards (a halt after means it was on, a resume after
/// means it was off).
pub fn switch_as_of(
    before: Option<&Flip>,
    after: Option<&Flip>,
) -> Option<(bool, Option<String>, SwitchAsOf)> {
    if let Some(f) = before {
        let on = !f.halts();
        let reason = if on { None } else { f.reason.clone() };
        return Some((
            on,
            reason,
            SwitchAsOf::FlipBefore {
                occurred_at: f.occurred_at,
            },
        ));
    }
    after.map(|f| {
        (
            f.halts(),
            None,
            SwitchAsOf::FlipAfter {
                occurred_at: f.occurred_at,
            },
        )
    })
}

/// Who decided an idea, and when (its one human decision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub decision: Uuid,
    pub action: DecisionAction,
    pub operator: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl Decided {
    /// The human decision `d` records, if it is one.
    pub fn of(d: &Decision) -> Option<Decided> {
        (is_human(d)).then(|| Decided {
            decision: d.id,
            action: d.action,
            operator: d.operator.clone(),
            occurred_at: d.occurred_at,
        })
    }
}

/// A human's approval or rejection, through tradedesk (an operator named) or the
/// platform's own web UI (no operator, `human_override` set: docs/platform.md §6); not the
/// AI's own rows (a Gate's `risk_rejected` overrides nothing).
fn is_human(d: &Decision) -> bool {
    (d.operator.is_some() || d.human_override)
        && DecisionAction::HUMAN_DECISIONS.contains(&d.action)
}

/// The order an approval handed to execution (`tradedesk.executions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Execution {
    pub id: Uuid,
    pub lot_size: Decimal,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// `pending`, `sent`, `filled`, `failed` or `cancelled`, as it is now.
    pub state: String,
    pub broker_order_id: Option<String>,
    pub fill_price: Option<Decimal>,
    pub updated_at: DateTime<Utc>,
}

/// Where the lot the Gate is re-run with comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LotFrom {
    /// The order's own lot.
    Execution,
    /// The lot an operator's approval named in its rationale (`approved with lot 0.30`,
    /// `approval with lot 0.80 blocked: …`, as src/store/approve.rs writes them): an approval
    /// the checks refused has no order.
    Rationale,
    /// No order: the smaller of the strategy's cap and `max_lot_size`, as the approval
    /// dialog offers.
    Default,
}

/// The Gate re-run as of the decision's moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateThen {
    pub at: DateTime<Utc>,
    /// A human's decision is judged as an approval, the AI's as automatic execution.
    pub purpose: Purpose,
    pub lot: Decimal,
    pub lot_from: LotFrom,
    /// The limits as of then, the switch included.
    pub limits: RiskConfig,
    pub limits_as_of: AsOf,
    pub switch_as_of: SwitchAsOf,
    pub day: Option<DayState>,
    pub open_trades: OpenTrades,
    pub report: GateReport,
    /// What the decision recorded (`risk_check_result`), beside the re-run.
    pub recorded: Option<String>,
}

label_enum! {
    /// A part of a replay, named when its rows no longer exist.
    Part, "replay part" {
        Idea => "idea",
        Strategy => "strategy",
        Market => "market",
        Indicators => "indicators",
        Calendar => "calendar",
        News => "news",
        Account => "account",
    }
}

/// When the AI looked, and when the decision was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Moment {
    /// The snapshot's moment: what the AI saw was captured at or before it.
    pub at: DateTime<Utc>,
    pub source: MomentSource,
    /// When the decision was recorded (an idea without one: when it was created).
    pub decided_at: DateTime<Utc>,
}

/// What [`Moment::at`] was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentSource {
    /// The `captured_at` of the `snapshot_account` row `snapshot_ref` names.
    Snapshot,
    /// That row is gone (or none is named): the idea's `created_at`.
    IdeaCreated,
    /// Neither: the decision's own time.
    DecisionOccurred,
}

impl Moment {
    /// The moment of a replay of `decision` (or of `idea` alone), `snapshot` being the row
    /// its `snapshot_ref` names, when it exists. `None` with neither a decision nor an idea.
    pub fn of(
        decision: Option<&Decision>,
        idea: Option<&Idea>,
        snapshot: Option<&AccountSnapshot>,
    ) -> Option<Moment> {
        let decided_at = decision
            .map(|d| d.occurred_at)
            .or(idea.map(|i| i.created_at))?;
        let (at, source) = match (snapshot, idea) {
            (Some(s), _) => (s.captured_at, MomentSource::Snapshot),
            (None, Some(i)) => (i.created_at, MomentSource::IdeaCreated),
            (None, None) => (decided_at, MomentSource::DecisionOccurred),
        };
        Some(Moment {
            at,
            source,
            decided_at,
        })
    }
}

/// Everything the store read for a replay, before it is put together.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// Rows read for the replay that could not be read (a `NaN` close, a headline dated
    /// `infinity`): left out of their parts and named.
    pub unreadable: Vec<Flagged>,
    pub decision: Option<Decision>,
    pub idea: Option<Idea>,
    /// The decision names an idea that no longer exists.
    pub idea_gone: bool,
    pub moment: Moment,
    pub account: Option<(AccountSnapshot, AccountSource)>,
    /// Snapshots the day's P/L at [`Moment::at`] is computed from: any set holding the
    /// day's opening, its peak and its latest up to then does (see `pnl::day_state`).
    pub day_at: Vec<AccountSnapshot>,
    /// The same at [`Moment::decided_at`], for the Gate.
    pub day_decided: Vec<AccountSnapshot>,
    /// The strategy as of the decision, and which record it was read from.
    pub strategy: Option<(Strategy, AsOf)>,
    pub market: Option<Market>,
    pub indicators: Option<IndicatorReading>,
    pub calendar: Vec<CalendarRow>,
    /// Some calendar row was captured in the day before the moment (if none was, an empty
    /// calendar means its rows are gone, not that nothing was scheduled).
    pub calendar_captured: bool,
    pub news: Vec<Headline>,
    /// Some headline was published in the reach before the moment.
    pub news_captured: bool,
    /// The risk limits as of the decision.
    pub limits: (RiskConfig, AsOf),
    /// The last flip of the switch at or before the decision, and the first after it.
    pub flips: (Option<Flip>, Option<Flip>),
    pub open_trades: OpenTrades,
    pub decided: Option<Decided>,
    pub execution: Option<Execution>,
    /// The halt that cancelled the order, when it was cancelled: its one `ai_halted` row
    /// names the orders it pulled.
    pub cancelled_by: Option<Decision>,
}

/// What the AI saw when a decision was made, and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// `None` when an idea is replayed that has no decision yet.
    pub decision: Option<Decision>,
    pub idea: Option<Idea>,
    pub moment: Moment,
    pub strategy: Option<(Strategy, AsOf)>,
    pub market: Option<Market>,
    pub indicators: Option<IndicatorReading>,
    /// Oldest first.
    pub calendar: Vec<EventThen>,
    pub news_block: Option<NewsBlock>,
    /// Newest first.
    pub news: Vec<Headline>,
    pub account: Option<AccountThen>,
    /// `None` without an idea (a global halt or resume): there is nothing to judge.
    pub gate: Option<GateThen>,
    pub decided: Option<Decided>,
    pub execution: Option<Execution>,
    /// The halt that cancelled the order before it was sent, if it was.
    pub cancelled_by: Option<Decision>,
    /// The parts whose rows no longer exist, in [`Part::ALL`] order.
    pub missing: Vec<Part>,
    /// Rows that exist but could not be read, each with its table, id and flaws: left out
    /// of the parts above, never silently.
    pub unreadable: Vec<Flagged>,
}

impl Replay {
    /// Puts what was read together.
    pub fn assemble(seen: Seen) -> Replay {
        let at = seen.moment.at;
        let symbol = seen
            .idea
            .as_ref()
            .map(|i| i.symbol.clone())
            .or_else(|| seen.decision.as_ref().and_then(|d| d.symbol.clone()));
        let strategy_named = seen.idea.as_ref().and_then(|i| i.strategy_id).is_some()
            || seen.decision.as_ref().and_then(|d| d.strategy_id).is_some();
        let news_block = seen
            .strategy
            .as_ref()
            .and_then(|(s, _)| news_block(s, symbol.as_deref(), at));
        let exposure = symbol.as_deref().map(symbol_exposure);
        let mut calendar: Vec<EventThen> = seen
            .calendar
            .iter()
            .map(|row| event_then(row, at, news_block.as_ref(), exposure.as_ref()))
            .collect();
        calendar.sort_by(|a, b| {
            (a.event.event_time, &a.event.currency, &a.event.title).cmp(&(
                b.event.event_time,
                &b.event.currency,
                &b.event.title,
            ))
        });
        let mut news = seen.news.clone();
        news.sort_by_key(|h| std::cmp::Reverse(h.published_at));
        let market = seen.market.clone().map(|mut m| {
            m.candles.sort_by_key(|c| c.captured_at);
            m.candles.dedup_by_key(|c| c.captured_at);
            m
        });
        let account = seen.account.as_ref().map(|(snapshot, source)| AccountThen {
            snapshot: *snapshot,
            source: *source,
            day: day_state(&seen.day_at, TradingDay::UTC_MIDNIGHT, at),
        });
        let gate = seen.idea.as_ref().map(|idea| gate_then(&seen, idea));

        let mut missing = Vec::new();
        if seen.idea_gone {
            missing.push(Part::Idea);
        }
        if strategy_named && seen.strategy.is_none() {
            missing.push(Part::Strategy);
        }
        if symbol.is_some() && market.is_none() {
            missing.push(Part::Market);
        }
        if symbol.is_some() && seen.indicators.is_none() {
            missing.push(Part::Indicators);
        }
        if calendar.is_empty() && !seen.calendar_captured {
            missing.push(Part::Calendar);
        }
        if news.is_empty() && !seen.news_captured {
            missing.push(Part::News);
        }
        if account.is_none() {
            missing.push(Part::Account);
        }

        Replay {
            decision: seen.decision,
            idea: seen.idea,
            moment: seen.moment,
            strategy: seen.strategy,
            market,
            indicators: seen.indicators,
            calendar,
            news_block,
            news,
            account,
            gate,
            decided: seen.decided,
            execution: seen.execution,
            cancelled_by: seen.cancelled_by,
            missing,
            unreadable: seen.unreadable,
        }
    }

    /// The symbol replayed (`None` for a global halt or resume).
    pub fn symbol(&self) -> Option<&str> {
        self.idea
            .as_ref()
            .map(|i| i.symbol.as_str())
            .or_else(|| self.decision.as_ref().and_then(|d| d.symbol.as_deref()))
    }

    /// A price of the replayed symbol as a trader reads it: at its instrument's digits
    /// (the idea's, when there is one), exact otherwise.
    pub fn price(&self, value: Decimal) -> String {
        let digits = match &self.idea {
            Some(i) => Some(i.digits()),
            None => self.symbol().and_then(super::instrument::price_digits),
        };
        match digits {
            Some(digits) => super::numeric::AtDigits(value, digits).to_string(),
            None => super::numeric::Plain(value).to_string(),
        }
    }

    /// True when every part's rows were found.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// `indicators, news`: the missing parts, for a sentence.
    pub fn missing_in_words(&self) -> String {
        self.missing
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The strategy's news block around `at`, if it sets one.
fn news_block(strategy: &Strategy, symbol: Option<&str>, at: DateTime<Utc>) -> Option<NewsBlock> {
    let forbidden = &strategy.parsed()?.forbidden_conditions;
    let minutes = forbidden
        .block_high_impact_news_minutes
        .filter(|m| *m > 0)?;
    let window = TimeDelta::minutes(i64::from(minutes));
    let whose = match (&forbidden.blocked_currencies, symbol.map(symbol_exposure)) {
        (Some(list), _) if list.is_empty() => "no currency (none listed)".to_owned(),
        (Some(list), _) => list.join(", "),
        (None, Some(exposure)) => format!("{exposure} (the symbol's)"),
        (None, None) => "the symbol's currencies".to_owned(),
    };
    Some(NewsBlock {
        minutes,
        currencies: forbidden.blocked_currencies.clone(),
        whose,
        from: at - window,
        until: at + window,
    })
}

fn event_then(
    row: &CalendarRow,
    at: DateTime<Utc>,
    block: Option<&NewsBlock>,
    exposure: Option<&Exposure>,
) -> EventThen {
    let e = &row.event;
    let in_news_block = block.is_some_and(|b| {
        let relevant = match &b.currencies {
            Some(list) => list
                .iter()
                .any(|c| c.eq_ignore_ascii_case(e.currency.trim())),
            None => exposure.is_none_or(|x| x.touches(&e.currency)),
        };
        e.impact == Impact::High && relevant && b.from <= e.event_time && e.event_time <= b.until
    });
    EventThen {
        event: e.clone(),
        previous: row.previous.clone(),
        forecast: row.forecast.clone(),
        actual: row.actual.clone(),
        minutes_until_release: (e.event_time - at).num_minutes(),
        in_news_block,
    }
}

/// The Gate re-run on the idea as of the decision: the limits and switch as they were,
/// the strategy as it was, the day and the open trades then, the calendar the AI saw.
fn gate_then(seen: &Seen, idea: &Idea) -> GateThen {
    let decided_at = seen.moment.decided_at;
    let purpose = match &seen.decision {
        Some(d) if is_human(d) => Purpose::HumanApproval,
        _ => Purpose::Automatic,
    };
    let (mut limits, limits_as_of) = seen.limits.clone();
    let switch_as_of = match switch_as_of(seen.flips.0.as_ref(), seen.flips.1.as_ref()) {
        Some((on, reason, source)) => {
            limits.ai_trading_enabled = on;
            limits.last_halt_reason = reason;
            source
        }
        None => SwitchAsOf::Limits,
    };
    let strategy = seen.strategy.as_ref().map(|(s, _)| s);
    let named = seen
        .decision
        .as_ref()
        .filter(|d| is_human(d))
        .and_then(|d| lot_in_rationale(&d.rationale));
    let (lot, lot_from) = match (&seen.execution, named) {
        (Some(e), _) => (e.lot_size, LotFrom::Execution),
        (None, Some(lot)) => (lot, LotFrom::Rationale),
        (None, None) => {
            let cap = strategy
                .and_then(Strategy::parsed)
                .and_then(|r| r.risk_caps.max_lot_size);
            let lot = cap.map_or(limits.max_lot_size, |c| c.min(limits.max_lot_size));
            (lot, LotFrom::Default)
        }
    };
    let day = day_state(&seen.day_decided, TradingDay::UTC_MIDNIGHT, decided_at);
    let events: Vec<CalendarEvent> = seen.calendar.iter().map(|r| r.event.clone()).collect();
    let report = evaluate(&GateInput {
        purpose,
        idea: GateIdea {
            symbol: &idea.symbol,
            direction: idea.direction,
            confidence: idea.confidence_score,
        },
        lot,
        config: &limits,
        strategy,
        day: day.as_ref(),
        open_trades: seen.open_trades,
        calendar: &events,
        now: decided_at,
    });
    GateThen {
        at: decided_at,
        purpose,
        lot,
        lot_from,
        limits,
        limits_as_of,
        switch_as_of,
        day,
        open_trades: seen.open_trades,
        report,
        recorded: seen
            .decision
            .as_ref()
            .and_then(|d| d.risk_check_result.clone()),
    }
}

/// The lot a human decision's rationale names: the number after `with lot `.
pub fn lot_in_rationale(rationale: &str) -> Option<Decimal> {
    let (_, rest) = rationale.split_once("with lot ")?;
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number.trim_end_matches('.').parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::gate::{Outcome, Rule};
    use crate::domain::idea::{Direction, IdeaStatus};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn idea() -> Idea {
        Idea {
            id: Uuid::from_u128(1),
            symbol: "EURUSD".into(),
            direction: Direction::Buy,
            entry_price: Some(dec("1.08564")),
            entry_range: None,
            stop_loss: dec("1.0842"),
            take_profit: vec![dec("1.0878")],
            expected_hold: Some("scalp_30m".into()),
            rationale: "Breakout".into(),
            confidence_score: dec("92.50"),
            status: IdeaStatus::NeedsApproval,
            strategy_id: Some(Uuid::from_u128(7)),
            strategy_name: Some("London breakout".into()),
            snapshot_ref: Uuid::from_u128(9),
            created_at: at("2025-10-28T14:01:00Z"),
            updated_at: at("2025-10-28T14:01:00Z"),
        }
    }

    fn decision(action: DecisionAction, occurred_at: &str, operator: Option<&str>) -> Decision {
        Decision {
            id: Uuid::from_u128(2),
            occurred_at: at(occurred_at),
            symbol: Some("EURUSD".into()),
            action,
            rationale: "why".into(),
            confidence_score: None,
            risk_check_result: Some("pass".into()),
            strategy_id: Some(Uuid::from_u128(7)),
            trade_idea_id: Some(Uuid::from_u128(1)),
            snapshot_ref: Some(Uuid::from_u128(9)),
            human_override: operator.is_some(),
            operator: operator.map(str::to_owned),
        }
    }

    fn strategy(news: Value) -> Strategy {
        Strategy::new(StrategyFields {
            id: Uuid::from_u128(7),
            name: "London breakout".into(),
            is_active: true,
            allowed_symbols: vec!["EURUSD".into()],
            documents: RulesJson {
                session_windows: json!([{"start": "00:00Z", "end": "24:00Z",
                    "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}]),
                entry_conditions: json!({}),
                exit_rules: json!({}),
                forbidden_conditions: news,
                risk_caps: json!({"max_lot_size": 0.5}),
            },
            rr_expectation: dec("2.5"),
            created_at: at("2025-10-01T00:00:00Z"),
            updated_at: at("2025-10-01T00:00:00Z"),
        })
    }

    fn event(time: &str, currency: &str, impact: Impact) -> CalendarRow {
        CalendarRow {
            event: CalendarEvent {
                event_time: at(time),
                currency: currency.into(),
                impact,
                title: format!("{currency} release"),
            },
            previous: None,
            forecast: None,
            actual: None,
            captured_at: at("2025-10-28T13:00:00Z"),
        }
    }

    fn seen() -> Seen {
        let snapshot =
            AccountSnapshot::of_equity(dec("10000"), dec("10180.40"), at("2025-10-28T14:00:00Z"));
        let d = decision(DecisionAction::AiProposed, "2025-10-28T14:01:00Z", None);
        let i = idea();
        Seen {
            unreadable: Vec::new(),
            cancelled_by: None,
            moment: Moment::of(Some(&d), Some(&i), Some(&snapshot)).unwrap(),
            decision: Some(d),
            idea: Some(i),
            idea_gone: false,
            account: Some((snapshot, AccountSource::SnapshotRef)),
            day_at: vec![snapshot],
            day_decided: vec![snapshot],
            strategy: Some((
                strategy(json!({"block_high_impact_news_minutes": 30,
                                "blocked_symbols_during_news": ["USD"]})),
                AsOf::Current,
            )),
            market: None,
            indicators: None,
            calendar: vec![
                event("2025-10-28T14:30:00Z", "USD", Impact::High),
                event("2025-10-28T13:50:00Z", "EUR", Impact::High),
                event("2025-10-28T14:10:00Z", "USD", Impact::Low),
            ],
            calendar_captured: true,
            news: Vec::new(),
            news_captured: true,
            limits: (
                RiskConfig {
                    ai_trading_enabled: true,
                    min_confidence_threshold: dec("90"),
                    ..RiskConfig::default()
                },
                AsOf::Current,
            ),
            flips: (None, None),
            open_trades: OpenTrades::default(),
            decided: None,
            execution: None,
        }
    }

    #[test]
    fn the_hold_names_the_timeframe_and_the_rest_follow_finest_first() {
        assert_eq!(timeframe_for_hold(Some("scalp_30m")), Some(Timeframe::M5));
        assert_eq!(timeframe_for_hold(Some("swing_1d")), Some(Timeframe::H1));
        assert_eq!(timeframe_for_hold(Some("position_2w")), None);
        assert_eq!(timeframe_for_hold(None), None);
        let order: Vec<_> = timeframe_candidates(Some("swing_1d"))
            .iter()
            .map(|t| t.as_str())
            .collect();
        assert_eq!(order, ["H1", "M1", "M5", "M15", "M30", "H4", "D1"]);
        assert_eq!(timeframe_candidates(None)[0], Timeframe::M1);
        assert_eq!(
            TimeframeChoice::of(Some("scalp_30m"), Timeframe::M1),
            TimeframeChoice::Finest {
                wanted: Some(Timeframe::M5)
            }
        );
        assert_eq!(
            TimeframeChoice::of(Some("scalp_30m"), Timeframe::M5),
            TimeframeChoice::Hold
        );
    }

    #[test]
    fn the_window_reaches_three_times_the_candles_wanted() {
        let w = Timeframe::M5.window(at("2025-10-28T14:00:00Z"));
        assert_eq!(
            w.since,
            at("2025-10-28T14:00:00Z") - TimeDelta::minutes(5 * 60 * 3)
        );
        assert_eq!(
            w.until,
            at("2025-10-28T14:00:00Z") + TimeDelta::minutes(5 * 20 * 3)
        );
    }

    #[test]
    fn minutes_until_release_are_signed_from_the_snapshot_moment() {
        let r = Replay::assemble(seen());
        let minutes: Vec<_> = r
            .calendar
            .iter()
            .map(|e| (e.event.currency.as_str(), e.minutes_until_release))
            .collect();
        assert_eq!(minutes, [("EUR", -10), ("USD", 10), ("USD", 30)]);
        // Only the high-impact USD release within 30 minutes is in the news block: EUR is
        // not listed, and the 14:10 one is low impact.
        let blocked: Vec<_> = r.calendar.iter().map(|e| e.in_news_block).collect();
        assert_eq!(blocked, [false, false, true]);
        let block = r.news_block.unwrap();
        assert_eq!(
            (block.from, block.until),
            (at("2025-10-28T13:30:00Z"), at("2025-10-28T14:30:00Z"))
        );
        assert_eq!(block.whose, "USD");
    }

    #[test]
    fn the_gate_is_rerun_as_of_the_decision_and_sees_the_news_then() {
        let r = Replay::assemble(seen());
        let gate = r.gate.unwrap();
        assert_eq!(gate.purpose, Purpose::Automatic);
        assert_eq!(gate.at, at("2025-10-28T14:01:00Z"));
        assert_eq!(
            gate.lot,
            dec("0.5"),
            "the strategy's cap under max_lot_size"
        );
        assert_eq!(gate.lot_from, LotFrom::Default);
        let news = gate.report.verdict(Rule::NewsBlackout).unwrap();
        assert_eq!(news.outcome, Outcome::Fail, "{}", news.reason);
        assert_eq!(gate.report.risk_check_result(), "fail:news_blackout");
        assert_eq!(gate.recorded.as_deref(), Some("pass"));
    }

    #[test]
    fn a_humans_decision_is_judged_as_an_approval_with_the_orders_lot() {
        let mut s = seen();
        s.decision = Some(decision(
            DecisionAction::HumanApproved,
            "2025-10-28T14:20:00Z",
            Some("ann@desk"),
        ));
        s.moment.decided_at = at("2025-10-28T14:20:00Z");
        s.execution = Some(Execution {
            id: Uuid::from_u128(5),
            lot_size: dec("0.30"),
            requested_by: "ann@desk".into(),
            requested_at: at("2025-10-28T14:20:00Z"),
            state: "filled".into(),
            broker_order_id: Some("77".into()),
            fill_price: Some(dec("1.0857")),
            updated_at: at("2025-10-28T14:20:02Z"),
        });
        let gate = Replay::assemble(s).gate.unwrap();
        assert_eq!(gate.purpose, Purpose::HumanApproval);
        assert_eq!((gate.lot, gate.lot_from), (dec("0.30"), LotFrom::Execution));
        // The release is 10 minutes away from 14:20: the rule would fail, but does not
        // bind a human.
        assert_eq!(
            gate.report.verdict(Rule::NewsBlackout).unwrap().outcome,
            Outcome::Waived
        );
    }

    #[test]
    fn a_refused_approval_is_rerun_with_the_lot_it_asked_for() {
        assert_eq!(
            lot_in_rationale("approval with lot 0.80 blocked: lot 0.80 exceeds …"),
            Some(dec("0.80"))
        );
        assert_eq!(
            lot_in_rationale("approved with lot 0.30."),
            Some(dec("0.30"))
        );
        assert_eq!(lot_in_rationale("spread too wide"), None);
        let mut s = seen();
        let mut d = decision(
            DecisionAction::RiskRejected,
            "2025-10-28T14:20:00Z",
            Some("ann@desk"),
        );
        d.rationale = "approval with lot 0.80 blocked: lot 0.80 exceeds the maximum".into();
        s.decision = Some(d);
        let gate = Replay::assemble(s).gate.unwrap();
        assert_eq!((gate.lot, gate.lot_from), (dec("0.80"), LotFrom::Rationale));
        assert_eq!(
            gate.report.verdict(Rule::LotSize).unwrap().outcome,
            Outcome::Fail
        );
    }

    #[test]
    fn the_switch_is_read_from_the_nearest_flip() {
        let flip = |action, t: &str, reason: Option<&str>| Flip {
            action,
            occurred_at: at(t),
            reason: reason.map(str::to_owned),
        };
        let halt = flip(
            DecisionAction::AiHalted,
            "2025-10-28T13:00:00Z",
            Some("max_drawdown"),
        );
        let resume = flip(DecisionAction::AiResumed, "2025-10-28T15:00:00Z", None);
        let (on, reason, source) = switch_as_of(Some(&halt), Some(&resume)).unwrap();
        assert!(!on);
        assert_eq!(reason.as_deref(), Some("max_drawdown"));
        assert!(matches!(source, SwitchAsOf::FlipBefore { .. }));
        // Only a resume after: it was off before it.
        assert!(!switch_as_of(None, Some(&resume)).unwrap().0);
        // Only a halt after: it was on.
        assert!(switch_as_of(None, Some(&halt)).unwrap().0);
        assert_eq!(switch_as_of(None, None), None);

        let mut s = seen();
        s.flips = (Some(halt), None);
        let gate = Replay::assemble(s).gate.unwrap();
        let v = gate.report.verdict(Rule::AiHalted).unwrap();
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.reason, "AI trading is off (max_drawdown)");
    }

    #[test]
    fn a_halt_row_names_its_reason_from_its_result() {
        let mut d = decision(DecisionAction::AiHalted, "2025-10-28T14:30:00Z", None);
        d.symbol = None;
        d.risk_check_result = Some("fail:max_drawdown".into());
        assert_eq!(
            Flip::of(&d).unwrap().reason.as_deref(),
            Some("max_drawdown")
        );
        d.symbol = Some("EURUSD".into());
        assert_eq!(Flip::of(&d), None, "a stopped idea's row flips nothing");
    }

    #[test]
    fn a_configuration_as_of_the_moment_prefers_the_change_before_then_after_then_now() {
        let before = |s: Option<&str>| Change {
            changed_at: at("2025-10-28T09:00:00Z"),
            state: s.map(str::to_owned),
        };
        let after = |s: Option<&str>| Change {
            changed_at: at("2025-10-28T15:00:00Z"),
            state: s.map(str::to_owned),
        };
        let now = || Some("now".to_owned());
        assert_eq!(
            as_of(Some(before(Some("b"))), Some(after(Some("a"))), now()),
            Some((
                "b".to_owned(),
                AsOf::ChangeBefore {
                    changed_at: at("2025-10-28T09:00:00Z")
                }
            ))
        );
        assert_eq!(
            as_of(Some(before(None)), Some(after(Some("a"))), now()).map(|x| x.0),
            Some("a".to_owned())
        );
        assert_eq!(
            as_of(None, Some(after(None)), now()),
            Some(("now".to_owned(), AsOf::Current))
        );
        assert_eq!(as_of::<String>(None, None, None), None);
    }

    #[test]
    fn audited_limits_and_strategies_read_back() {
        let limits = RiskConfig {
            max_lot_size: dec("0.75"),
            ..RiskConfig::default()
        };
        let value = serde_json::to_value(&limits).unwrap();
        assert_eq!(limits_from_audit(&value), Some(limits));
        assert_eq!(limits_from_audit(&json!({"max_lot_size": "1"})), None);

        let s = strategy(json!({}));
        let back = strategy_from_audit(&s.to_document(), at("2025-10-20T00:00:00Z"), Some(&s));
        let back = back.unwrap();
        assert_eq!(back.documents, s.documents);
        assert_eq!(
            (back.name.as_str(), back.rr_expectation),
            ("London breakout", dec("2.50"))
        );
        assert!(back.parsed().is_some());
        assert_eq!(
            strategy_from_audit(&json!({"name": "x"}), at("2025-10-20T00:00:00Z"), None),
            None
        );
    }

    #[test]
    fn macd_reads_numbers_as_written() {
        let m =
            Macd::from_json(&json!({"macd": 0.00042, "signal": "0.00031", "hist": 1e-7})).unwrap();
        assert_eq!(m.macd, Some(dec("0.00042")));
        assert_eq!(m.signal, Some(dec("0.00031")));
        assert_eq!(m.hist, Some(dec("0.0000001")));
        assert_eq!(Macd::from_json(&json!({})), None);
    }

    #[test]
    fn missing_parts_are_named_and_the_rest_still_shown() {
        let mut s = seen();
        s.account = None;
        s.day_at.clear();
        s.strategy = None;
        s.calendar.clear();
        s.calendar_captured = false;
        s.news_captured = false;
        s.moment = Moment::of(s.decision.as_ref(), s.idea.as_ref(), None).unwrap();
        let r = Replay::assemble(s);
        assert_eq!(
            r.missing,
            [
                Part::Strategy,
                Part::Market,
                Part::Indicators,
                Part::Calendar,
                Part::News,
                Part::Account
            ]
        );
        assert_eq!(r.moment.source, MomentSource::IdeaCreated);
        assert_eq!(r.moment.at, at("2025-10-28T14:01:00Z"));
        assert!(r.gate.is_some(), "the Gate still judges what is left");
        assert_eq!(
            r.missing_in_words(),
            "strategy, market, indicators, calendar, news, account"
        );
    }

    #[test]
    fn a_global_halt_expects_no_market() {
        let mut s = seen();
        let mut d = decision(DecisionAction::AiHalted, "2025-10-28T14:30:00Z", None);
        d.symbol = None;
        d.trade_idea_id = None;
        d.strategy_id = None;
        d.snapshot_ref = None;
        s.moment = Moment::of(Some(&d), None, None).unwrap();
        s.decision = Some(d);
        s.idea = None;
        s.strategy = None;
        s.account = s.account.map(|(a, _)| (a, AccountSource::LastBefore));
        let r = Replay::assemble(s);
        assert!(r.missing.is_empty(), "{:?}", r.missing);
        assert!(r.gate.is_none());
        assert_eq!(r.moment.source, MomentSource::DecisionOccurred);
        assert_eq!(r.symbol(), None);
    }
}
