//! Replay and timeline from an archive: the same [`Replay`] the database gives, built by
//! the store's own `replay::gather` over the rows a verified archive file holds (`FromFile`
//! answers each of its reads, `replay::Reads`, as the database would).
//!
//! The file holds a superset of what each archived replay read (see `store::archive`):
//! every row it holds was in the database, and every row a replay read is in it, so each
//! "the newest row in a window", "whether any row exists" and "how many" answers the same.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::archive_file::{ARCHIVED, Archive, RawRow};
use super::error::Error;
use crate::domain::gate::OpenTrades;
use crate::domain::replay::{
    self, CalendarRow, Candle, Change, Execution, Flip, Headline, IndicatorReading, Macd, Market,
    Timeframe, TimeframeChoice,
};
use crate::domain::stored::{self, Stamp};
use crate::domain::strategy::{RulesJson, StrategyFields};
use crate::domain::{
    AccountSnapshot, CalendarEvent, Decision, DecisionAction, Idea, Impact, Replay, RiskConfig,
    Strategy, TradingDay,
};
use crate::format::{IdText, candidates};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveReadError {
    #[error(transparent)]
    File(#[from] super::archive_file::FileError),
    #[error("{0}")]
    Unreadable(String),
    #[error("no decision {0} in the archive")]
    NotFound(String),
    #[error("{0}")]
    Ambiguous(String),
}

/// One market or indicator row with its symbol and timeframe.
struct Keyed<T> {
    symbol: String,
    timeframe: String,
    value: T,
}

/// A `config_changes` row: the parts a replay reads.
struct ChangeRec {
    id: Uuid,
    subject: String,
    subject_id: Option<Uuid>,
    changed_at: DateTime<Utc>,
    before: Option<Value>,
    after: Option<Value>,
}

/// An execution with its idea.
struct Order {
    idea: Uuid,
    execution: Execution,
}

/// An archive's rows as the replay's entities.
pub struct ArchiveData {
    decisions: Vec<Decision>,
    /// The decisions this archive removed (the rest are context).
    archived: Vec<Uuid>,
    ideas: HashMap<Uuid, Idea>,
    orders: Vec<Order>,
    accounts: Vec<AccountSnapshot>,
    market: Vec<Keyed<Candle>>,
    indicators: Vec<Keyed<IndicatorReading>>,
    calendar: Vec<CalendarRow>,
    news: Vec<Headline>,
    strategies: HashMap<Uuid, Strategy>,
    risk: Option<RiskConfig>,
    changes: Vec<ChangeRec>,
}

type R<T> = Result<T, String>;

fn unreadable(path: &std::path::Path, table: &str, e: &str) -> ArchiveReadError {
    ArchiveReadError::Unreadable(format!("{}: a {table} row: {e}", path.display()))
}

fn decision(r: &RawRow) -> R<Decision> {
    Ok(Decision {
        id: r.req_uuid("id")?,
        occurred_at: r.req_time("occurred_at")?,
        symbol: r.text("symbol")?,
        action: r
            .req_text("action")?
            .parse::<DecisionAction>()
            .map_err(|e| e.to_string())?,
        rationale: r.req_text("rationale")?,
        confidence_score: r.decimal("confidence_score")?,
        risk_check_result: r.text("risk_check_result")?,
        strategy_id: r.uuid("strategy_id")?,
        trade_idea_id: r.uuid("trade_idea_id")?,
        snapshot_ref: r.uuid("snapshot_ref")?,
        human_override: r.bool("human_override")?.unwrap_or(false),
        operator: r.text("operator")?,
    })
}

/// An idea; its strategy's name is filled in once the file's strategies are read.
fn idea(r: &RawRow) -> R<Idea> {
    let strategy_id = r.uuid("strategy_id")?;
    Ok(Idea {
        id: r.req_uuid("id")?,
        symbol: r.req_text("symbol")?,
        direction: r
            .req_text("direction")?
            .parse()
            .map_err(|e| format!("{e}"))?,
        // At a price's scale, as the database's reads take them (store/ideas.rs).
        entry_price: r.decimal("entry_price")?.map(stored::price),
        entry_range: r
            .decimals("entry_range")?
            .map(|r| r.into_iter().map(stored::price).collect()),
        stop_loss: stored::price(r.req_decimal("stop_loss")?),
        take_profit: r
            .decimals("take_profit")?
            .unwrap_or_default()
            .into_iter()
            .map(stored::price)
            .collect(),
        expected_hold: r.text("expected_hold")?,
        rationale: r.req_text("rationale")?,
        confidence_score: r.req_decimal("confidence_score")?,
        status: r.req_text("status")?.parse().map_err(|e| format!("{e}"))?,
        strategy_id,
        strategy_name: None,
        snapshot_ref: r.req_uuid("snapshot_ref")?,
        created_at: r.req_time("created_at")?,
        updated_at: r.req_time("updated_at")?,
    })
}

fn account(r: &RawRow) -> R<AccountSnapshot> {
    Ok(AccountSnapshot {
        id: r.req_uuid("id")?,
        balance: r.req_decimal("balance")?,
        equity: r.req_decimal("equity")?,
        margin_used: r.req_decimal("margin_used")?,
        margin_free: r.req_decimal("margin_free")?,
        open_pl: r.req_decimal("open_pl")?,
        open_positions: i32::try_from(r.req_int("open_positions")?)
            .map_err(|_| "open_positions is out of range".to_string())?,
        captured_at: r.req_time("captured_at")?,
    })
}

fn strategy(r: &RawRow) -> R<Strategy> {
    let doc = |c: &str| -> R<Value> { Ok(r.value(c)?.unwrap_or(Value::Null)) };
    Ok(Strategy::new(StrategyFields {
        id: r.req_uuid("id")?,
        name: r.req_text("name")?,
        is_active: r.bool("is_active")?.unwrap_or(true),
        allowed_symbols: r.texts("allowed_symbols")?.unwrap_or_default(),
        documents: RulesJson {
            session_windows: doc("session_windows")?,
            entry_conditions: doc("entry_conditions")?,
            exit_rules: doc("exit_rules")?,
            forbidden_conditions: doc("forbidden_conditions")?,
            risk_caps: doc("risk_caps")?,
        },
        rr_expectation: r.req_decimal("rr_expectation")?,
        created_at: r.req_time("created_at")?,
        updated_at: r.req_time("updated_at")?,
    }))
}

fn risk(r: &RawRow) -> R<RiskConfig> {
    let flag = |c: &str| -> R<bool> { Ok(r.bool(c)?.unwrap_or(false)) };
    Ok(RiskConfig {
        ai_trading_enabled: flag("ai_trading_enabled")?,
        min_confidence_threshold: r.req_decimal("min_confidence_threshold")?,
        max_lot_size: r.req_decimal("max_lot_size")?,
        max_concurrent_trades: i32::try_from(r.req_int("max_concurrent_trades")?)
            .map_err(|_| "max_concurrent_trades is out of range".to_string())?,
        daily_profit_target: r.req_decimal("daily_profit_target")?,
        stop_after_target: flag("stop_after_target")?,
        max_drawdown_amount: r.req_decimal("max_drawdown_amount")?,
        halt_on_drawdown: flag("halt_on_drawdown")?,
        allow_off_watchlist_autotrade: flag("allow_off_watchlist_autotrade")?,
        last_halt_reason: r.text("last_halt_reason")?,
    })
}

impl ArchiveData {
    fn empty() -> ArchiveData {
        ArchiveData {
            decisions: Vec::new(),
            archived: Vec::new(),
            ideas: HashMap::new(),
            orders: Vec::new(),
            accounts: Vec::new(),
            market: Vec::new(),
            indicators: Vec::new(),
            calendar: Vec::new(),
            news: Vec::new(),
            strategies: HashMap::new(),
            risk: None,
            changes: Vec::new(),
        }
    }

    /// Reads and verifies the archive at `path` (its checksum and counts), making each row
    /// an entity as it is read: the rows' raw text is never held all at once (a year's
    /// archive holds millions). What was made is returned only once the whole file
    /// verified, beside the file's header, trailer and archived decision rows (the audit
    /// chain's, which `store::archive_audit` recomputes before anything is shown).
    pub fn read(path: &std::path::Path) -> Result<(ArchiveData, Archive), ArchiveReadError> {
        let mut data = ArchiveData::empty();
        let mut failed: Option<ArchiveReadError> = None;
        let archive = super::archive_file::scan(path, |r| {
            if failed.is_none()
                && let Err(e) = data.add(r)
            {
                failed = Some(unreadable(path, &r.table, &e));
            }
            r.table == "decision_history" && r.role == ARCHIVED
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        Ok((data.finish(), archive))
    }

    /// Orders what `add` gathered, and names each idea's strategy (a file may hold the
    /// strategy after its ideas).
    fn finish(mut self) -> ArchiveData {
        for idea in self.ideas.values_mut() {
            idea.strategy_name = idea
                .strategy_id
                .and_then(|s| self.strategies.get(&s))
                .map(|s| s.name.clone());
        }
        self.decisions.sort_by_key(|d| (d.occurred_at, d.id));
        self.accounts.sort_by_key(|a| (a.captured_at, a.id));
        self
    }

    fn add(&mut self, r: &RawRow) -> R<()> {
        match r.table.as_str() {
            "decision_history" => {
                let d = decision(r)?;
                if r.role == ARCHIVED {
                    self.archived.push(d.id);
                }
                self.decisions.push(d);
            }
            "trade_ideas" => {
                let i = idea(r)?;
                self.ideas.insert(i.id, i);
            }
            "executions" => self.orders.push(Order {
                idea: r.req_uuid("trade_idea_id")?,
                execution: Execution {
                    id: r.req_uuid("id")?,
                    lot_size: r.req_decimal("lot_size")?,
                    requested_by: r.req_text("requested_by")?,
                    requested_at: r.req_time("requested_at")?,
                    state: r.req_text("state")?,
                    broker_order_id: r.text("broker_order_id")?,
                    fill_price: r.decimal("fill_price")?,
                    updated_at: r.req_time("updated_at")?,
                },
            }),
            "snapshot_account" => self.accounts.push(account(r)?),
            "snapshot_market" => self.market.push(Keyed {
                symbol: r.req_text("symbol")?,
                timeframe: r.req_text("timeframe")?,
                value: Candle {
                    captured_at: r.req_time("captured_at")?,
                    open: r.req_decimal("open")?,
                    high: r.req_decimal("high")?,
                    low: r.req_decimal("low")?,
                    close: r.req_decimal("close")?,
                    volume: i32::try_from(r.req_int("volume")?)
                        .map_err(|_| "volume is out of range".to_string())?,
                },
            }),
            "snapshot_indicators" => {
                let timeframe = r.req_text("timeframe")?;
                self.indicators.push(Keyed {
                    symbol: r.req_text("symbol")?,
                    timeframe: timeframe.clone(),
                    value: IndicatorReading {
                        timeframe,
                        rsi_14: r.decimal("rsi_14")?,
                        sma_50: r.decimal("sma_50")?,
                        sma_200: r.decimal("sma_200")?,
                        atr: r.decimal("atr")?,
                        macd: r.value("macd")?.as_ref().and_then(Macd::from_json),
                        captured_at: r.req_time("captured_at")?,
                    },
                })
            }
            "snapshot_calendar" => self.calendar.push(CalendarRow {
                event: CalendarEvent {
                    event_time: r.req_time("event_time")?,
                    currency: r.req_text("currency")?,
                    // As store::replay reads it: an unknown impact counts as high.
                    impact: r.req_text("impact_level")?.parse().unwrap_or(Impact::High),
                    title: r.req_text("title")?,
                },
                previous: r.text("previous_value")?,
                forecast: r.text("forecast_value")?,
                actual: r.text("actual_value")?,
                captured_at: r.req_time("captured_at")?,
            }),
            "snapshot_news" => self.news.push(Headline {
                published_at: r.req_time("published_at")?,
                source: r.req_text("source")?,
                headline: r.req_text("headline")?,
                symbols: r.texts("symbols")?.unwrap_or_default(),
                captured_at: r.req_time("captured_at")?,
            }),
            "strategies" => {
                let s = strategy(r)?;
                self.strategies.insert(s.id, s);
            }
            "risk_config" => self.risk = Some(risk(r)?),
            "config_changes" => self.changes.push(ChangeRec {
                id: r.req_uuid("id")?,
                subject: r.req_text("subject")?,
                subject_id: r.uuid("subject_id")?,
                changed_at: r.req_time("changed_at")?,
                before: r.value("before")?,
                after: r.value("after")?,
            }),
            // A table a later tradedesk writes: kept in the file, not read here.
            _ => {}
        }
        Ok(())
    }

    /// The decisions this archive removed, newest first (as the timeline lists them).
    pub fn archived_decisions(&self) -> Vec<&Decision> {
        let archived: std::collections::HashSet<&Uuid> = self.archived.iter().collect();
        let mut list: Vec<&Decision> = self
            .decisions
            .iter()
            .filter(|d| archived.contains(&d.id))
            .collect();
        list.sort_by_key(|d| std::cmp::Reverse((d.occurred_at, d.id)));
        list
    }

    /// The archived decision `given` names, as the database's are named
    /// (`store::resolve`): its whole id, its short id as shown (the id's ending), or a
    /// unique prefix of it.
    pub fn resolve(&self, given: &str) -> Result<Uuid, ArchiveReadError> {
        let Ok(text) = IdText::parse(given) else {
            return Err(ArchiveReadError::NotFound(given.to_string()));
        };
        let mut found: Vec<Uuid> = self
            .archived
            .iter()
            .filter(|id| text.names(**id))
            .copied()
            .collect();
        found.sort();
        found.dedup();
        const LISTED: usize = 3;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(ArchiveReadError::NotFound(given.to_string())),
            _ => Err(ArchiveReadError::Ambiguous(format!(
                "{} archived decisions match `{given}` ({}): give more of the id",
                found.len(),
                candidates(&found[..found.len().min(LISTED)], found.len() > LISTED)
            ))),
        }
    }

    /// The replay of archived decision `id`, as `Store::replay` gave it before archiving.
    pub async fn replay(&self, id: Uuid) -> Result<Replay, ArchiveReadError> {
        let decision = self
            .decisions
            .iter()
            .find(|d| d.id == id)
            .cloned()
            .ok_or_else(|| ArchiveReadError::NotFound(id.to_string()))?;
        let (idea, idea_gone) = match decision.trade_idea_id {
            Some(i) => match self.ideas.get(&i) {
                Some(idea) => (Some(idea.clone()), false),
                None => (None, true),
            },
            None => (None, false),
        };
        super::replay::gather(&mut FromFile(self), Some(decision), idea, idea_gone)
            .await
            .map_err(|e| ArchiveReadError::Unreadable(e.to_string()))
    }

    /// `human_decision`.
    fn human_decision(&self, idea: Uuid) -> Option<Decision> {
        // As the database's read: the first of the idea's decisions of these actions,
        // whoever wrote it (the platform's have no operator).
        self.decisions
            .iter()
            .filter(|d| {
                d.trade_idea_id == Some(idea)
                    && matches!(
                        d.action,
                        DecisionAction::HumanApproved
                            | DecisionAction::HumanRejected
                            | DecisionAction::RiskRejected
                    )
            })
            .min_by_key(|d| (d.occurred_at, d.id))
            .cloned()
    }

    /// `last_account_before`.
    fn last_account_before(&self, at: DateTime<Utc>) -> Option<AccountSnapshot> {
        self.accounts
            .iter()
            .filter(|a| a.captured_at <= at)
            .max_by_key(|a| (a.captured_at, a.equity, a.id))
            .copied()
    }

    /// `day_points`: the last before the day, the day's first, highest and latest.
    fn day_points(&self, at: DateTime<Utc>) -> Vec<AccountSnapshot> {
        let start = TradingDay::UTC_MIDNIGHT.start_of(at);
        let day: Vec<&AccountSnapshot> = self
            .accounts
            .iter()
            .filter(|a| a.captured_at >= start && a.captured_at <= at)
            .collect();
        // The database's orders (`store::replay::day_points`), ties and all.
        let before = self
            .accounts
            .iter()
            .filter(|a| a.captured_at < start)
            .max_by_key(|a| (a.captured_at, a.equity, a.id));
        let first = day.iter().min_by_key(|a| (a.captured_at, a.equity, a.id));
        // The highest equity, first reached.
        let highest = day.iter().min_by(|a, b| {
            b.equity
                .cmp(&a.equity)
                .then((a.captured_at, a.id).cmp(&(b.captured_at, b.id)))
        });
        let latest = day.iter().max_by_key(|a| (a.captured_at, a.equity, a.id));
        before
            .into_iter()
            .chain(first.copied())
            .chain(highest.copied())
            .chain(latest.copied())
            .copied()
            .collect()
    }

    /// The change before `at` and the first after it, of `subject` (and `id`).
    fn sides<T>(
        &self,
        subject: &str,
        id: Option<Uuid>,
        at: DateTime<Utc>,
        read: impl Fn(&Value, DateTime<Utc>) -> Option<T>,
    ) -> (Option<Change<T>>, Option<Change<T>>) {
        let of = self
            .changes
            .iter()
            .filter(|c| c.subject == subject && (id.is_none() || c.subject_id == id));
        let before = of
            .clone()
            .filter(|c| c.changed_at <= at)
            .max_by_key(|c| (c.changed_at, c.id));
        let after = of
            .filter(|c| c.changed_at > at)
            .min_by_key(|c| (c.changed_at, c.id));
        let change = |c: &ChangeRec, state: Option<&Value>| Change {
            changed_at: c.changed_at,
            state: state.and_then(|s| read(s, c.changed_at)),
        };
        (
            before.map(|c| change(c, c.after.as_ref())),
            after.map(|c| change(c, c.before.as_ref())),
        )
    }

    /// `strategy_as_of`.
    fn strategy_as_of(&self, id: Uuid, at: DateTime<Utc>) -> Option<(Strategy, replay::AsOf)> {
        let current = self.strategies.get(&id).cloned();
        let (before, after) = self.sides("strategy", Some(id), at, |state, changed_at| {
            replay::strategy_from_audit(state, changed_at, current.as_ref())
        });
        replay::as_of(before, after, current)
    }

    /// `limits_as_of`. Without any readable record (no change and no row in the file) the
    /// defaults stand in, as the database would have refused the replay.
    fn limits_as_of(&self, at: DateTime<Utc>) -> (RiskConfig, replay::AsOf) {
        let (before, after) = self.sides("risk_config", None, at, |state, _| {
            replay::limits_from_audit(state)
        });
        let current = match (&before, &after) {
            (Some(Change { state: Some(_), .. }), _) | (_, Some(Change { state: Some(_), .. })) => {
                None
            }
            _ => self.risk.clone(),
        };
        replay::as_of(before, after, current)
            .unwrap_or_else(|| (RiskConfig::default(), replay::AsOf::Current))
    }

    /// `flips`.
    fn flips(&self, at: DateTime<Utc>) -> (Option<Flip>, Option<Flip>) {
        Flip::around(&self.decisions, at)
    }

    /// `open_trades`.
    fn open_trades(
        &self,
        day: &[AccountSnapshot],
        strategy_id: Option<Uuid>,
        idea: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> OpenTrades {
        let latest = day
            .iter()
            .filter(|s| s.captured_at <= at)
            .max_by_key(|s| s.captured_at);
        let since = latest.map(|s| s.captured_at);
        let day_start = TradingDay::UTC_MIDNIGHT.start_of(at);
        let counts = |o: &&Order| {
            let e = &o.execution;
            matches!(
                e.state.as_str(),
                "pending" | "sent" | "filled" | "cancelled"
            ) && e.requested_at <= at
                && (e.state != "cancelled" || e.updated_at > at)
                && Some(o.idea) != idea
        };
        let total = self
            .orders
            .iter()
            .filter(counts)
            .filter(|o| since.is_none_or(|s| o.execution.requested_at > s))
            .count();
        let for_strategy = self
            .orders
            .iter()
            .filter(counts)
            .filter(|o| o.execution.requested_at >= day_start)
            .filter(|o| {
                strategy_id.is_some()
                    && self.ideas.get(&o.idea).and_then(|i| i.strategy_id) == strategy_id
            })
            .count();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let snapshot = latest.map_or(0, |s| s.open_positions.max(0));
        OpenTrades {
            total: count(total).saturating_add(u32::try_from(snapshot).unwrap_or(0)),
            for_strategy: count(for_strategy),
        }
    }

    /// `market`.
    fn market(&self, symbol: &str, hold: Option<&str>, at: DateTime<Utc>) -> Option<Market> {
        let candidates = replay::timeframe_candidates(hold);
        let of = |tf: Timeframe| {
            self.market
                .iter()
                .filter(move |k| k.symbol == symbol && k.timeframe == tf.as_str())
                .map(|k| &k.value)
        };
        let timeframe = candidates.into_iter().find(|tf| {
            let w = tf.window(at);
            of(*tf).any(|c| c.captured_at >= w.since && c.captured_at <= at)
        })?;
        let window = timeframe.window(at);
        let mut upto: Vec<&Candle> = of(timeframe)
            .filter(|c| c.captured_at >= window.since && c.captured_at <= window.at)
            .collect();
        upto.sort_by_key(|c| std::cmp::Reverse(c.captured_at));
        upto.truncate(usize::try_from(replay::CANDLES_BEFORE).unwrap_or(0));
        let mut after: Vec<&Candle> = of(timeframe)
            .filter(|c| c.captured_at > window.at && c.captured_at <= window.until)
            .collect();
        after.sort_by_key(|c| c.captured_at);
        after.truncate(usize::try_from(replay::CANDLES_AFTER).unwrap_or(0));
        let mut candles: Vec<Candle> = upto.into_iter().chain(after).cloned().collect();
        candles.sort_by_key(|c| c.captured_at);
        Some(Market {
            symbol: symbol.to_owned(),
            timeframe,
            choice: TimeframeChoice::of(hold, timeframe),
            candles,
        })
    }

    /// `indicators`.
    fn indicators(
        &self,
        symbol: &str,
        candidates: &[Timeframe],
        at: DateTime<Utc>,
    ) -> Option<IndicatorReading> {
        candidates.iter().find_map(|tf| {
            let since = tf.window(at).since;
            self.indicators
                .iter()
                .filter(|k| k.symbol == symbol && k.timeframe == tf.as_str())
                .map(|k| &k.value)
                .filter(|i| i.captured_at >= since && i.captured_at <= at)
                .max_by_key(|i| i.captured_at)
                .cloned()
        })
    }

    /// `calendar`: per currency, each (event_time, title) as last captured by `at`.
    fn calendar(&self, currencies: &[String], at: DateTime<Utc>) -> Vec<CalendarRow> {
        let reach = TimeDelta::hours(replay::CALENDAR_HOURS);
        let mut out: Vec<CalendarRow> = Vec::new();
        for currency in currencies {
            let mut latest: HashMap<(DateTime<Utc>, &str), &CalendarRow> = HashMap::new();
            for row in self.calendar.iter().filter(|r| {
                &r.event.currency == currency
                    && r.event.event_time >= at - reach
                    && r.event.event_time <= at + reach
                    && r.captured_at <= at
            }) {
                let key = (row.event.event_time, row.event.title.as_str());
                match latest.get(&key) {
                    Some(kept) if kept.captured_at >= row.captured_at => {}
                    _ => {
                        latest.insert(key, row);
                    }
                }
            }
            let mut rows: Vec<&CalendarRow> = latest.into_values().collect();
            rows.sort_by(|a, b| {
                (a.event.event_time, &a.event.title).cmp(&(b.event.event_time, &b.event.title))
            });
            out.extend(rows.into_iter().cloned());
        }
        out
    }

    /// `news`.
    fn news(&self, tags: Option<&[String]>, at: DateTime<Utc>) -> Vec<Headline> {
        let since = at - TimeDelta::hours(replay::NEWS_HOURS);
        let mut rows: Vec<&Headline> = self
            .news
            .iter()
            .filter(|h| h.published_at >= since && h.published_at <= at && h.captured_at <= at)
            .filter(|h| match tags {
                None => true,
                Some(tags) => h.symbols.is_empty() || h.symbols.iter().any(|s| tags.contains(s)),
            })
            .collect();
        // As the database orders them (`store::replay::news`): newest first, ties by the
        // capture, then the source and the headline in byte order.
        rows.sort_by(|a, b| {
            (b.published_at, b.captured_at)
                .cmp(&(a.published_at, a.captured_at))
                .then_with(|| (&a.source, &a.headline).cmp(&(&b.source, &b.headline)))
        });
        rows.truncate(usize::try_from(replay::NEWS_MAX).unwrap_or(0));
        rows.into_iter().cloned().collect()
    }
}

impl ArchiveData {
    /// `Store::timeline` over the archived decisions: the same filter, order and pages.
    pub fn timeline(
        &self,
        filter: &super::timeline::TimelineFilter,
    ) -> Result<super::timeline::Page, ArchiveReadError> {
        use super::timeline::Page;
        let limit = filter
            .page_size()
            .map_err(|e| ArchiveReadError::Unreadable(e.into()))?;
        let symbol = filter.symbol.as_ref().map(|s| s.to_ascii_uppercase());
        let decisions: Vec<Decision> = self
            .archived_decisions()
            .into_iter()
            .filter(|d| symbol.is_none() || d.symbol == symbol)
            .filter(|d| filter.action.is_none_or(|a| d.action == a))
            .filter(|d| filter.operator.is_none() || d.operator == filter.operator)
            .filter(|d| filter.since.is_none_or(|s| d.occurred_at >= s))
            .filter(|d| filter.until.is_none_or(|u| d.occurred_at < u))
            .filter(|d| {
                filter
                    .after
                    .is_none_or(|a| (Stamp::At(d.occurred_at), d.id) < (a.occurred_at, a.id))
            })
            .take(limit + 1)
            .cloned()
            .collect();
        Ok(Page::of(
            decisions,
            limit,
            |d| super::timeline::Cursor {
                occurred_at: d.occurred_at.into(),
                id: d.id,
            },
            crate::domain::stored::Listed::Read,
        ))
    }
}

/// The archive's rows as the store's replay reads them: [`super::replay::gather`] builds
/// a replay from a file by the very rules it follows on the database. Nothing here fails.
struct FromFile<'a>(&'a ArchiveData);

impl super::replay::Reads for FromFile<'_> {
    /// An archive holds only rows that were read when it was written.
    fn take_unreadable(&mut self) -> Vec<crate::domain::stored::Flagged> {
        Vec::new()
    }
    async fn account_row(&mut self, id: Uuid) -> Result<Option<AccountSnapshot>, Error> {
        Ok(self.0.accounts.iter().find(|a| a.id == id).copied())
    }
    async fn last_account_before(
        &mut self,
        at: DateTime<Utc>,
    ) -> Result<Option<AccountSnapshot>, Error> {
        Ok(self.0.last_account_before(at))
    }
    async fn day_points(&mut self, at: DateTime<Utc>) -> Result<Vec<AccountSnapshot>, Error> {
        Ok(self.0.day_points(at))
    }
    async fn strategy_as_of(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<(Strategy, replay::AsOf)>, Error> {
        Ok(self.0.strategy_as_of(id, at))
    }
    async fn limits_as_of(
        &mut self,
        at: DateTime<Utc>,
    ) -> Result<(RiskConfig, replay::AsOf), Error> {
        Ok(self.0.limits_as_of(at))
    }
    async fn flips(&mut self, at: DateTime<Utc>) -> Result<(Option<Flip>, Option<Flip>), Error> {
        Ok(self.0.flips(at))
    }
    async fn halt_from(&mut self, at: DateTime<Utc>) -> Result<Option<Decision>, Error> {
        // As the database orders them: time, then id.
        Ok(self
            .0
            .decisions
            .iter()
            .filter(|d| {
                d.action == crate::domain::DecisionAction::AiHalted
                    && d.symbol.is_none()
                    && d.occurred_at >= at
            })
            .min_by_key(|d| (d.occurred_at, d.id))
            .cloned())
    }
    async fn open_trades(
        &mut self,
        day: &[AccountSnapshot],
        strategy_id: Option<Uuid>,
        idea: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<OpenTrades, Error> {
        Ok(self.0.open_trades(day, strategy_id, idea, at))
    }
    async fn market(
        &mut self,
        symbol: &str,
        hold: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<Market>, Error> {
        Ok(self.0.market(symbol, hold, at))
    }
    async fn indicators(
        &mut self,
        symbol: &str,
        candidates: &[Timeframe],
        at: DateTime<Utc>,
    ) -> Result<Option<IndicatorReading>, Error> {
        Ok(self.0.indicators(symbol, candidates, at))
    }
    async fn calendar_currencies(&mut self) -> Result<Vec<String>, Error> {
        let mut all: Vec<String> = self
            .0
            .calendar
            .iter()
            .map(|c| c.event.currency.clone())
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }
    async fn calendar(
        &mut self,
        currencies: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<CalendarRow>, Error> {
        Ok(self.0.calendar(currencies, at))
    }
    async fn calendar_captured(&mut self, at: DateTime<Utc>) -> Result<bool, Error> {
        let since = at - TimeDelta::hours(24);
        Ok(self
            .0
            .calendar
            .iter()
            .any(|c| c.captured_at >= since && c.captured_at <= at))
    }
    async fn news(
        &mut self,
        tags: Option<&[String]>,
        at: DateTime<Utc>,
    ) -> Result<Vec<Headline>, Error> {
        Ok(self.0.news(tags, at))
    }
    async fn news_published(&mut self, at: DateTime<Utc>) -> Result<bool, Error> {
        let since = at - TimeDelta::hours(replay::NEWS_HOURS);
        Ok(self
            .0
            .news
            .iter()
            .any(|n| n.published_at >= since && n.published_at <= at))
    }
    async fn human_decision(&mut self, idea: Uuid) -> Result<Option<Decision>, Error> {
        Ok(self.0.human_decision(idea))
    }
    async fn execution(&mut self, idea: Uuid) -> Result<Option<Execution>, Error> {
        Ok(self
            .0
            .orders
            .iter()
            .find(|o| o.idea == idea)
            .map(|o| o.execution.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_archived(ids: &[&str]) -> ArchiveData {
        let mut data = ArchiveData::empty();
        data.archived = ids.iter().map(|i| Uuid::parse_str(i).unwrap()).collect();
        data
    }

    #[test]
    fn an_archived_decision_is_named_as_shown_by_its_whole_id_or_by_a_prefix() {
        let data = with_archived(&[
            "01a25098-0000-7000-8000-00aa1c0d2e3f",
            "01a25098-0000-7000-8000-00bb1c0d2e3f",
            "01a25098-0000-7000-8000-000011112222",
        ]);
        let named = |given: &str| data.resolve(given).map(|id| id.to_string());
        let a = "01a25098-0000-7000-8000-00aa1c0d2e3f".to_string();
        // As a listing of the three shows them, and the 8-digit form of the third.
        assert_eq!(named("a1c0d2e3f").unwrap(), a);
        assert_eq!(
            named("11112222").unwrap(),
            "01a25098-0000-7000-8000-000011112222"
        );
        assert_eq!(named(&a).unwrap(), a);
        assert_eq!(named(&a.to_uppercase()).unwrap(), a);
        assert_eq!(named("01a25098-0000-7000-8000-00a").unwrap(), a);
        // Ambiguous: one sentence with the candidates, each as it can be given back.
        let err = named("1c0d2e3f").unwrap_err();
        assert!(matches!(err, ArchiveReadError::Ambiguous(_)));
        assert_eq!(
            err.to_string(),
            "2 archived decisions match `1c0d2e3f` (00aa1c0d2e3f, 00bb1c0d2e3f): give more of \
             the id"
        );
        assert!(matches!(
            named("01a25098").unwrap_err(),
            ArchiveReadError::Ambiguous(_)
        ));
        assert!(matches!(
            named("99999999").unwrap_err(),
            ArchiveReadError::NotFound(_)
        ));
        assert!(matches!(
            named("not an id").unwrap_err(),
            ArchiveReadError::NotFound(_)
        ));
    }
}
