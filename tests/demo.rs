//! The demo desk: seeded once into an empty database, never into one in use, and a desk
//! that works — strict strategies, ideas an operator can approve at any hour, a coherent
//! timeline.

mod common;

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use common::TestDb;
use common::platform::insert_strategy;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tradedesk::domain::instrument::position_pl;
use tradedesk::domain::replay::{AsOf, CANDLES_BEFORE, MomentSource, TimeframeChoice};
use tradedesk::domain::{DecisionAction, Entry, Lot, Purpose, Rule, TradingDay, day_state};
use tradedesk::operator::Operator;
use tradedesk::store::Store;
use tradedesk::store::approve::Approval;
use tradedesk::store::demo::DemoSummary;
use tradedesk::store::ideas::IdeaFilter;
use tradedesk::store::setup::setup;
use tradedesk::store::timeline::TimelineFilter;
use uuid::Uuid;

/// Every table the demo writes, in `count` order.
const TABLES: [&str; 10] = [
    "strategies",
    "snapshot_account",
    "snapshot_market",
    "snapshot_indicators",
    "snapshot_calendar",
    "snapshot_news",
    "trade_ideas",
    "decision_history",
    "tradedesk.executions",
    "tradedesk.config_changes",
];

async fn ready() -> (TestDb, Store, PgPool) {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let store = Store::open(&db.target(), 4).await.unwrap();
    let pool = db.pool().await;
    (db, store, pool)
}

async fn seeded() -> (TestDb, Store, PgPool) {
    let (db, store, pool) = ready().await;
    store
        .seed_demo()
        .await
        .unwrap()
        .expect("an empty database is seeded");
    (db, store, pool)
}

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Rows per table of [`TABLES`].
async fn counts(pool: &PgPool) -> Vec<i64> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push(scalar(pool, &format!("SELECT count(*) FROM {table}")).await);
    }
    out
}

/// The whole `risk_config` row as text.
async fn risk_row(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT row_to_json(r)::text FROM risk_config r")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_empty_database_is_seeded_once_and_a_second_call_changes_nothing() {
    let (_db, store, pool) = ready().await;
    let risk_before = risk_row(&pool).await;
    let summary = store.seed_demo().await.unwrap().expect("seeded");
    assert_eq!(
        summary,
        DemoSummary {
            strategies: 3,
            account_snapshots: 18,
            // M5 for the last 29 hours on six symbols, H1 on gold from 60 hours before its
            // older idea: every idea's full chart.
            candles: 6 * 29 * 12 + 67,
            // Every third M5 candle, every H1 candle.
            indicators: 6 * 29 * 4 + 67,
            // Eight captures of the releases within their span.
            calendar_events: 10 + 12 + 12 + 11 + 12 + 9 + 7 + 7,
            headlines: 17,
            ideas: 10,
            ideas_awaiting_approval: 4,
            decisions: 17,
            executions: 1,
        }
    );
    let written = counts(&pool).await;
    // Six audit rows: the limits created by set-up; the three strategies created and the
    // limits tightened by the seeding (audited by the database as "tradedesk demo"); Raj
    // switching London breakout off after the UK CPI rejection, at its time in the story.
    assert_eq!(written, [3, 18, 2155, 763, 80, 17, 10, 17, 1, 6]);
    assert_eq!(
        scalar(
            &pool,
            "SELECT count(*) FROM trade_ideas WHERE status = 'needs_approval'"
        )
        .await,
        4
    );
    // The story ends with ann's resume after US CPI: AI trading on, no halt reason, and
    // the desk's own limits (tighter than setup's, so that a living demo halts now and then).
    let risk_after = risk_row(&pool).await;
    let row = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let (before, after) = (row(&risk_before), row(&risk_after));
    assert_eq!(before["ai_trading_enabled"], false);
    assert_eq!(after["ai_trading_enabled"], true);
    assert!(after["last_halt_reason"].is_null());
    assert_eq!(after["max_drawdown_amount"], 120.0);
    assert_eq!(after["daily_profit_target"], 900.0);
    for unchanged in [
        "min_confidence_threshold",
        "max_lot_size",
        "max_concurrent_trades",
    ] {
        assert_eq!(after[unchanged], before[unchanged], "{unchanged}");
    }
    let (last_flip, operator): (String, Option<String>) = sqlx::query_as(
        "SELECT action::text, operator FROM decision_history WHERE symbol IS NULL
          ORDER BY occurred_at DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(last_flip, "ai_resumed");
    assert_eq!(operator.as_deref(), Some("ann@desk.example"));

    assert_eq!(store.seed_demo().await.unwrap(), None);
    assert_eq!(counts(&pool).await, written);
    assert_eq!(risk_row(&pool).await, risk_after);
}

#[tokio::test]
async fn a_database_with_a_strategy_an_idea_or_a_decision_is_not_seeded() {
    let inserts = [
        "strategy",
        "INSERT INTO trade_ideas (id, symbol, direction, entry_price, stop_loss, take_profit,
                                  rationale, confidence_score, status, snapshot_ref,
                                  created_at, updated_at)
         VALUES (gen_random_uuid(), 'EURUSD', 'buy', 1.085, 1.084, '{1.087}', 'x', 91,
                 'needs_approval', gen_random_uuid(), now(), now())",
        "INSERT INTO decision_history (id, occurred_at, action, rationale)
         VALUES (gen_random_uuid(), now(), 'ai_resumed', 'resumed')",
    ];
    for insert in inserts {
        let (_db, store, pool) = ready().await;
        if insert == "strategy" {
            insert_strategy(&pool).await;
        } else {
            sqlx::raw_sql(insert).execute(&pool).await.unwrap();
        }
        let before = counts(&pool).await;
        assert_eq!(store.seed_demo().await.unwrap(), None, "{insert}");
        assert_eq!(counts(&pool).await, before, "{insert}");
        assert_eq!(
            scalar(&pool, "SELECT count(*) FROM snapshot_account").await,
            0
        );
    }
}

#[tokio::test]
async fn the_demo_strategies_pass_the_strict_parser_and_one_trades_around_the_clock() {
    let (_db, store, _pool) = seeded().await;
    let strategies: Vec<_> = store
        .strategies()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.into_read().expect("the demo's strategies read"))
        .collect();
    let names: Vec<_> = strategies.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Gold momentum", "London breakout", "Round-the-clock FX"]
    );
    let inactive: Vec<_> = strategies.iter().filter(|s| !s.is_active).collect();
    assert_eq!(inactive.len(), 1);
    assert_eq!(inactive[0].name, "London breakout");
    let monday: DateTime<Utc> = "2024-06-03T00:00:00Z".parse().unwrap();
    let week: Vec<_> = (0..7 * 24 * 4)
        .map(|q| monday + TimeDelta::minutes(15 * q))
        .collect();
    let mut always_open = Vec::new();
    for s in &strategies {
        let rules = s
            .rules
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert!(rules.risk_caps.max_lot_size.is_some(), "{}", s.name);
        assert!(
            rules.risk_caps.max_concurrent_positions.is_some(),
            "{}",
            s.name
        );
        assert!(!s.allowed_symbols.is_empty());
        if week.iter().all(|t| rules.in_session(*t)) {
            always_open.push(s.name.as_str());
        }
        // What export writes, import reads back unchanged.
        let doc = s.to_document().to_string();
        let specs = tradedesk::domain::strategy::document::parse_documents(&doc).unwrap();
        assert_eq!(specs[0].rules, s.documents);
        assert!(specs[0].same_as(s));
    }
    assert_eq!(always_open, ["Round-the-clock FX"]);
}

#[tokio::test]
async fn pending_ideas_come_first_and_at_least_two_can_be_approved_at_any_hour() {
    let (_db, store, pool) = seeded().await;
    let filter = IdeaFilter {
        limit: 100,
        ..IdeaFilter::default()
    };
    let ideas: Vec<_> = store
        .ideas(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.into_read().expect("the demo's ideas read"))
        .collect();
    assert_eq!(ideas.len(), 10);
    let statuses: Vec<_> = ideas.iter().map(|i| i.status.as_str()).collect();
    assert!(
        statuses[..4].iter().all(|s| *s == "needs_approval"),
        "{statuses:?}"
    );
    assert!(!statuses[4..].contains(&"needs_approval"), "{statuses:?}");
    let all: HashSet<_> = statuses.iter().copied().collect();
    for s in ["auto_executed", "rejected", "halted_by_risk"] {
        assert!(all.contains(s), "no {s} idea");
    }
    let pending = &ideas[..4];
    let symbols: HashSet<_> = pending.iter().map(|i| i.symbol.as_str()).collect();
    assert_eq!(symbols.len(), 4, "pending ideas on different symbols");
    let zones: Vec<_> = pending.iter().filter(|i| i.entry_price.is_none()).collect();
    assert_eq!(zones.len(), 1);
    let zone = zones[0].entry_range.as_ref().expect("a zone");
    assert!(zone.len() == 2 && zone[0] < zone[1], "{zone:?}");
    for idea in pending {
        assert!(
            (Decimal::from(80)..=Decimal::from(95)).contains(&idea.confidence_score),
            "{idea:?}"
        );
        assert!(!idea.take_profit.is_empty() && idea.take_profit.len() <= 2);
        assert!(idea.strategy_name.is_some());
    }
    // From 2 to 40 minutes old, oldest on top.
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let ages: Vec<_> = pending
        .iter()
        .map(|i| (now - i.created_at).num_minutes())
        .collect();
    assert!(ages.windows(2).all(|w| w[0] > w[1]), "{ages:?}");
    assert!(ages[0] <= 41 && ages[3] >= 2, "{ages:?}");

    // Approvable now, and whatever the clock says: the approval rules (lot, concurrent
    // trades, drawdown, session) judged at every quarter hour of a week.
    let monday: DateTime<Utc> = "2024-06-03T00:00:00Z".parse().unwrap();
    let (mut approvable, mut around_the_clock) = (Vec::new(), Vec::new());
    for idea in pending {
        let ctx = store.gate_context(idea.id).await.unwrap();
        if ctx
            .judge(Lot::new(ctx.default_lot()).unwrap(), Purpose::HumanApproval)
            .passed()
        {
            approvable.push(idea.id);
        }
        let always = (0..7 * 24 * 4).all(|q| {
            let mut at = ctx.clone();
            at.now = monday + TimeDelta::minutes(15 * q);
            at.judge(Lot::new(at.default_lot()).unwrap(), Purpose::HumanApproval)
                .passed()
        });
        if always {
            around_the_clock.push(idea.id);
        }
    }
    assert!(approvable.len() >= 2, "only {approvable:?} approvable");
    assert!(
        around_the_clock.len() >= 2,
        "only {around_the_clock:?} at any hour"
    );
    assert!(around_the_clock.iter().all(|id| approvable.contains(id)));

    // And the desk works: an approval with the default lot goes through.
    let ann = Operator::new("ann@desk.example").unwrap();
    let ctx = store.gate_context(approvable[0]).await.unwrap();
    let approval = store
        .approve(approvable[0], Lot::new(ctx.default_lot()).unwrap(), &ann)
        .await
        .unwrap();
    assert!(
        matches!(approval, Approval::Executed { .. }),
        "{approval:?}"
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT count(*) FROM tradedesk.executions WHERE state = 'pending'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_account_and_the_market_data_look_live() {
    let (_db, store, pool) = seeded().await;
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let day_start = TradingDay::UTC_MIDNIGHT.start_of(now);
    let rows = store
        .account_since(day_start)
        .await
        .unwrap()
        .whole()
        .unwrap();
    let opening = &rows[0];
    assert!(opening.captured_at < day_start);
    assert_eq!(opening.equity, Decimal::new(2_500_000, 2));
    let latest = rows.last().unwrap();
    assert!(now - latest.captured_at <= TimeDelta::minutes(2));
    assert!((1..=2).contains(&latest.open_positions), "{latest:?}");
    let day = day_state(&rows, TradingDay::UTC_MIDNIGHT, now).unwrap();
    assert!(
        day.day_pnl >= Decimal::ZERO && day.day_pnl < Decimal::from(900),
        "{day:?}"
    );
    assert!(
        day.drawdown < Decimal::from(120),
        "the demo's limit is not reached yet: {day:?}"
    );
    // Consistent margins and open P/L everywhere.
    let inconsistent = "SELECT count(*) FROM snapshot_account
                         WHERE margin_free <> equity - margin_used OR equity <> balance + open_pl";
    assert_eq!(scalar(&pool, inconsistent).await, 0);
    // Every idea names an account snapshot of its cycle, captured just before it.
    let orphans = "SELECT count(*) FROM trade_ideas i
                    WHERE NOT EXISTS (SELECT 1 FROM snapshot_account a
                                       WHERE a.id = i.snapshot_ref
                                         AND a.captured_at BETWEEN i.created_at - interval '1 minute'
                                                               AND i.created_at)";
    assert_eq!(scalar(&pool, orphans).await, 0);
    // Two hours of candles up to now; a high-impact USD release about 90 minutes ahead.
    let recent = "SELECT count(*) FROM snapshot_market
                   WHERE timeframe = 'M5' AND captured_at > now() - interval '2 hours'
                     AND captured_at <= now() AND high >= greatest(open, close)
                     AND low <= least(open, close)";
    assert_eq!(scalar(&pool, recent).await, 144);
    let cpi = "SELECT count(DISTINCT title) FROM snapshot_calendar
                WHERE currency = 'USD' AND impact_level = 'high'
                  AND event_time BETWEEN now() + interval '80 minutes'
                                     AND now() + interval '100 minutes'";
    assert_eq!(scalar(&pool, cpi).await, 1);
    let macd = "SELECT count(*) FROM snapshot_indicators
                 WHERE (macd ->> 'hist')::numeric IS NULL OR rsi_14 NOT BETWEEN 0 AND 100";
    assert_eq!(scalar(&pool, macd).await, 0);
    // The one order is filled, none is pending.
    let filled = "SELECT count(*) FROM tradedesk.executions
                   WHERE state = 'filled' AND broker_order_id IS NOT NULL
                     AND fill_price IS NOT NULL";
    assert_eq!(scalar(&pool, filled).await, 1);
    // The account values that order at its symbol's last close, as a broker would: the
    // simulated platform carries the desk on from there without a jump.
    let (symbol, direction, fill, lot, last): (String, String, Decimal, Decimal, Decimal) =
        sqlx::query_as(
            "SELECT i.symbol, i.direction, e.fill_price, e.lot_size,
                    (SELECT close FROM snapshot_market m WHERE m.symbol = i.symbol
                      ORDER BY captured_at DESC LIMIT 1)
               FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    // Still open because neither its stop nor its first target has been touched.
    let (stop, target): (Decimal, Decimal) = sqlx::query_as(
        "SELECT i.stop_loss, i.take_profit[1] FROM tradedesk.executions e
           JOIN trade_ideas i ON i.id = e.trade_idea_id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        direction == "buy" && stop < last && last < target,
        "{stop} < {last} < {target}"
    );
    let valued = position_pl(&symbol, direction == "buy", fill, last, lot);
    assert_eq!(valued, Some(latest.open_pl), "{symbol} {fill} → {last}");
    assert_eq!(latest.open_positions, 1);
}

#[tokio::test]
async fn the_timeline_runs_newest_first_through_a_halt_and_a_resume() {
    let (_db, store, _pool) = seeded().await;
    let filter = TimelineFilter {
        limit: 100,
        ..TimelineFilter::default()
    };
    let page = store.timeline(&filter).await.unwrap();
    let rows: &Vec<_> = &page
        .decisions
        .iter()
        .map(|d| d.read().cloned().expect("the demo's decisions read"))
        .collect();
    assert_eq!(rows.len(), 17);
    assert!(page.next.is_none());
    assert!(
        rows.windows(2)
            .all(|w| w[0].occurred_at >= w[1].occurred_at),
        "not newest first"
    );
    let span = rows[0].occurred_at - rows[rows.len() - 1].occurred_at;
    assert!(span <= TimeDelta::days(1), "{span}");

    let halt = rows
        .iter()
        .position(|d| {
            d.action == DecisionAction::AiHalted && d.symbol.is_none() && d.operator.is_none()
        })
        .expect("the AI's halt");
    assert_eq!(
        rows[halt].risk_check_result.as_deref(),
        Some("fail:max_drawdown")
    );
    assert!(rows[halt].rationale.contains("max_drawdown_amount"));
    let resume = halt
        - 1
        - rows[..halt]
            .iter()
            .rev()
            .position(|d| d.action == DecisionAction::AiResumed)
            .expect("a resume after the halt");
    assert!(resume < halt, "the resume comes after the halt");
    assert_eq!(rows[resume].operator.as_deref(), Some("raj@desk.example"));
    assert!(rows[resume].human_override);

    let actions: HashSet<_> = rows.iter().map(|d| d.action).collect();
    for action in DecisionAction::ALL {
        assert!(actions.contains(action), "no {action}");
    }
    for d in rows {
        let human = matches!(
            d.action,
            DecisionAction::HumanApproved
                | DecisionAction::HumanRejected
                | DecisionAction::AiResumed
        );
        if human {
            assert!(d.human_override, "{d:?}");
            assert!(
                matches!(
                    d.operator.as_deref(),
                    Some("ann@desk.example" | "raj@desk.example")
                ),
                "{d:?}"
            );
        }
        if d.operator.is_none() {
            assert!(!d.human_override, "{d:?}");
        }
        if d.trade_idea_id.is_some() {
            assert!(d.symbol.is_some() && d.snapshot_ref.is_some(), "{d:?}");
        }
    }
    let fails: Vec<_> = rows
        .iter()
        .filter(|d| d.action == DecisionAction::RiskRejected)
        .filter_map(|d| d.risk_check_result.as_deref())
        .collect();
    assert!(fails.contains(&"fail:lot_size"), "{fails:?}");
    assert!(fails.iter().any(|f| f.contains("confidence")), "{fails:?}");
}

/// A newcomer can replay anything the demo desk shows: every decision and every idea
/// replays complete (`tradedesk replay` exits 0), on the timeframe its idea's hold names,
/// with a full chart up to its moment, the indicators of that chart, the calendar and
/// headlines of the day before, and the account row its snapshot names; the idea's entry
/// is where its market traded then, and the UK CPI rejection replays with its blackout.
#[tokio::test]
async fn every_decision_and_every_idea_of_the_demo_replays_complete() {
    let (_db, store, pool) = seeded().await;
    let ids = "SELECT id FROM decision_history ORDER BY occurred_at";
    let decisions: Vec<Uuid> = sqlx::query_scalar(ids).fetch_all(&pool).await.unwrap();
    let ids = "SELECT id FROM trade_ideas ORDER BY created_at";
    let ideas: Vec<Uuid> = sqlx::query_scalar(ids).fetch_all(&pool).await.unwrap();
    assert_eq!((decisions.len(), ideas.len()), (17, 10));
    let mut replays = Vec::new();
    for id in decisions {
        replays.push((format!("decision {id}"), store.replay(id).await.unwrap()));
    }
    for id in ideas {
        replays.push((format!("idea {id}"), store.replay_idea(id).await.unwrap()));
    }
    let mut blackouts = 0;
    for (what, r) in &replays {
        assert!(r.complete(), "{what}: missing {}", r.missing_in_words());
        assert!(!r.calendar.is_empty(), "{what}: no calendar");
        assert!(!r.news.is_empty(), "{what}: no headlines");
        let Some(idea) = &r.idea else {
            // A global halt or resume: no market, the account captured last before it.
            assert!(r.market.is_none() && r.account.is_some(), "{what}");
            continue;
        };
        assert_eq!(r.moment.source, MomentSource::Snapshot, "{what}");
        let market = r.market.as_ref().expect("a market");
        assert_eq!(market.choice, TimeframeChoice::Hold, "{what}");
        let seen = market
            .candles
            .iter()
            .filter(|c| c.captured_at <= r.moment.at);
        assert_eq!(seen.count(), CANDLES_BEFORE as usize, "{what}");
        let indicators = r.indicators.as_ref().expect("indicators");
        assert_eq!(indicators.timeframe, market.timeframe.as_str(), "{what}");
        assert!(
            r.moment.at - indicators.captured_at <= TimeDelta::hours(1),
            "{what}"
        );
        // The entry within the candles either side of the moment.
        let span = market.timeframe.span();
        let near: Vec<_> = market
            .candles
            .iter()
            .filter(|c| c.captured_at > r.moment.at - span && c.captured_at <= r.moment.at + span)
            .collect();
        let low = near
            .iter()
            .map(|c| c.low)
            .min()
            .expect("candles at the moment");
        let high = near
            .iter()
            .map(|c| c.high)
            .max()
            .expect("candles at the moment");
        let (entry_low, entry_high) = match idea.entry() {
            Entry::Price(p) => (p, p),
            Entry::Zone { low, high } => (low, high),
            Entry::Market => panic!("{what}: no entry"),
        };
        assert!(
            low <= entry_high && entry_low <= high,
            "{what}: {} entry {entry_low}–{entry_high}, traded {low}–{high}",
            idea.symbol
        );
        // London breakout was switched off after its ideas: they replay it active.
        let (strategy, as_of) = r.strategy.as_ref().expect("the strategy");
        if strategy.name == "London breakout" {
            assert!(strategy.is_active, "{what}: {as_of}");
            assert!(matches!(as_of, AsOf::ChangeAfter { .. }), "{what}: {as_of}");
        }
        let gate = r.gate.as_ref().expect("the gate re-run");
        if gate
            .recorded
            .as_deref()
            .is_some_and(|rec| rec.contains("news_blackout"))
        {
            assert!(
                gate.report.failed_rules().contains(&Rule::NewsBlackout),
                "{what}"
            );
            blackouts += 1;
        }
    }
    // The UK CPI rejection, replayed as a decision and as its idea's latest.
    assert_eq!(blackouts, 2);
}
