//! The store's acts, each one transaction with its audit row, against real PostgreSQL.

mod common;

use common::TestDb;
use common::platform::{insert_idea, insert_strategy, status_of, uuid};
use sqlx::{Connection as _, PgPool};
use tradedesk::domain::DecisionAction;
use tradedesk::operator::Operator;
use tradedesk::store::setup::setup;
use tradedesk::store::timeline::TimelineFilter;
use tradedesk::store::{Error, Store};

async fn ready() -> (TestDb, Store, PgPool) {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let store = Store::open(&db.target(), 4).await.unwrap();
    let pool = db.pool().await;
    insert_strategy(&pool).await;
    (db, store, pool)
}

fn ann() -> Operator {
    Operator::new("ann@desk").unwrap()
}

/// (action, symbol, operator, trade_idea_id, rationale, risk_check_result) of every row.
type Row = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

async fn history(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT action::text, symbol, operator, trade_idea_id::text, rationale, risk_check_result
           FROM decision_history ORDER BY occurred_at, id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn execution(pool: &PgPool, idea: &str, state: &str) {
    sqlx::query(&format!(
        "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, state)
         VALUES (gen_random_uuid(), $1::uuid, 0.10, 'bob@desk', '{state}')"
    ))
    .bind(idea)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn halt_switches_ai_off_and_sweeps_waiting_ideas_and_pending_orders_at_once() {
    let (_db, store, pool) = ready().await;
    store.resume(&ann(), "").await.unwrap();
    let waiting = [
        insert_idea(&pool, "waiting").await.unwrap(),
        insert_idea(&pool, "waiting").await.unwrap(),
    ];
    let pending_approval = insert_idea(&pool, "needs_approval").await.unwrap();
    let executed = insert_idea(&pool, "auto_executed").await.unwrap();
    let filled = insert_idea(&pool, "auto_executed").await.unwrap();
    execution(&pool, &executed, "pending").await;
    execution(&pool, &filled, "filled").await;

    let halted = store.halt("lunch break", &ann(), false).await.unwrap();
    assert!(!halted.already_halted);
    assert_eq!(halted.reason, "lunch break");
    assert_eq!(halted.ideas_halted, 2);
    assert_eq!(halted.executions_cancelled, 1);

    let (enabled, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT ai_trading_enabled, last_halt_reason FROM risk_config")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!enabled);
    assert_eq!(reason.as_deref(), Some("lunch break"));
    for id in &waiting {
        assert_eq!(status_of(&pool, id).await, "halted_by_risk");
    }
    assert_eq!(status_of(&pool, &pending_approval).await, "needs_approval");
    let states: Vec<String> =
        sqlx::query_scalar("SELECT state::text FROM tradedesk.executions ORDER BY state::text")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(states, ["cancelled", "filled"]);

    // The order was cancelled before any broker bridge claimed it: its idea is stopped;
    // the filled one's stays executed.
    assert_eq!(status_of(&pool, &executed).await, "halted_by_risk");
    assert_eq!(status_of(&pool, &filled).await, "auto_executed");
    let order: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM tradedesk.executions WHERE state = 'cancelled'")
            .fetch_one(&pool)
            .await
            .unwrap();

    let rows = history(&pool).await;
    // ai_resumed, then the halt's one row (as the platform writes it), naming what stopped.
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[0].0, "ai_resumed");
    let switch = &rows[1];
    assert_eq!(switch.0, "ai_halted");
    assert_eq!(switch.1, None);
    assert_eq!(switch.2.as_deref(), Some("ann@desk"));
    assert_eq!(switch.3, None);
    let mut swept: Vec<uuid::Uuid> = waiting.iter().map(|id| uuid(id)).collect();
    swept.sort();
    // Named as a listing of the three shows them (their short ids, none two alike).
    let named = tradedesk::format::shorts(&[swept[0], swept[1], order]);
    assert_eq!(
        switch.4,
        format!(
            "lunch break: 2 waiting ideas stopped ({}, {}), 1 unexecuted order cancelled ({})",
            named[0], named[1], named[2]
        )
    );
    assert_eq!(switch.5.as_deref(), Some("fail:manual_halt"));

    // A pulled order stays pulled, whoever reports on it later.
    let err =
        sqlx::query("UPDATE tradedesk.executions SET state = 'filled' WHERE state = 'cancelled'")
            .execute(&pool)
            .await
            .unwrap_err();
    assert!(err.to_string().contains("ORDER_CANCELLED"), "{err}");
}

#[tokio::test]
async fn keep_pending_halts_without_cancelling_orders() {
    let (_db, store, pool) = ready().await;
    store.resume(&ann(), "").await.unwrap();
    let executed = insert_idea(&pool, "auto_executed").await.unwrap();
    execution(&pool, &executed, "pending").await;
    let halted = store.halt("news", &ann(), true).await.unwrap();
    assert_eq!(halted.executions_cancelled, 0);
    let state: String = sqlx::query_scalar("SELECT state::text FROM tradedesk.executions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "pending");
}

#[tokio::test]
async fn halting_a_halted_system_is_harmless_and_says_so() {
    let (_db, store, pool) = ready().await;
    store.resume(&ann(), "").await.unwrap();
    store.halt("first", &ann(), false).await.unwrap();
    let again = store.halt("second", &ann(), false).await.unwrap();
    assert!(again.already_halted);
    assert_eq!(again.reason, "first", "the recorded reason stays");
    let halts = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM decision_history WHERE action = 'ai_halted'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(halts().await, 1, "nothing swept, nothing written");

    // A straggler (an idea the engine wrote waiting after the halt) is swept, and one row
    // says so.
    let straggler = insert_idea(&pool, "waiting").await.unwrap();
    let swept = store.halt("third", &ann(), false).await.unwrap();
    assert!(swept.already_halted);
    assert_eq!(swept.ideas_halted, 1);
    assert_eq!(status_of(&pool, &straggler).await, "halted_by_risk");
    assert_eq!(halts().await, 2);
    let rows = history(&pool).await;
    let last = rows.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_deref(), last.2.as_deref()),
        ("ai_halted", None, Some("ann@desk"))
    );
    assert_eq!(
        last.4,
        format!(
            "AI trading was already off (first): 1 waiting idea stopped ({})",
            tradedesk::format::short(uuid(&straggler))
        )
    );
    let (enabled, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT ai_trading_enabled, last_halt_reason FROM risk_config")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((enabled, reason.as_deref()), (false, Some("first")));
}

#[tokio::test]
async fn resume_is_a_recorded_human_act_and_resuming_a_running_ai_writes_nothing() {
    let (_db, store, pool) = ready().await;
    let resumed = store.resume(&ann(), "news is out").await.unwrap();
    assert!(!resumed.already_running);
    let rows = history(&pool).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "ai_resumed");
    assert_eq!(rows[0].2.as_deref(), Some("ann@desk"));
    assert_eq!(rows[0].4, "news is out (was halted: no reason recorded)");
    let (enabled, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT ai_trading_enabled, last_halt_reason FROM risk_config")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(enabled);
    assert_eq!(reason, None);

    assert!(store.resume(&ann(), "").await.unwrap().already_running);
    assert_eq!(history(&pool).await.len(), 1);
}

#[tokio::test]
async fn reject_by_unique_prefix_records_who_and_a_second_decision_is_told_who_won() {
    let (_db, store, pool) = ready().await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    let resolved = store.resolve_idea(&id[..8]).await.unwrap();
    let rejected = store
        .reject(resolved, "spread too wide", &ann())
        .await
        .unwrap();
    assert_eq!(rejected.idea.to_string(), id);
    assert_eq!(status_of(&pool, &id).await, "rejected");
    let rows = history(&pool).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0],
        (
            "human_rejected".into(),
            Some("EURUSD".into()),
            Some("ann@desk".into()),
            Some(id.clone()),
            "spread too wide".into(),
            None
        )
    );
    let human_override: bool = sqlx::query_scalar("SELECT human_override FROM decision_history")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(human_override);

    let bob = Operator::new("bob@desk").unwrap();
    let err = store.reject(resolved, "me too", &bob).await.unwrap_err();
    let Error::Conflict(message) = &err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert!(
        message.contains("was already decided: rejected by ann@desk at "),
        "{message}"
    );
    assert_eq!(history(&pool).await.len(), 1);
}

#[tokio::test]
async fn bad_input_writes_nothing_and_says_what_is_wrong() {
    let (_db, store, pool) = ready().await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    let err = store.reject(uuid(&id), "   ", &ann()).await.unwrap_err();
    assert_eq!(err.code().as_str(), "INVALID_INPUT");
    let err = store.resolve_idea("zz-top").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "`zz-top` is not an id: give a UUID, its short id as tradedesk shows it, or a unique \
         prefix of it (hexadecimal digits)"
    );
    let err = store.resolve_idea("00000000-dead").await.unwrap_err();
    assert_eq!(err.code().as_str(), "NOT_FOUND");
    assert_eq!(err.to_string(), "no trade idea matches 00000000-dead");
    let err = store
        .reject(uuid::Uuid::from_u128(0xdead), "r", &ann())
        .await
        .unwrap_err();
    assert_eq!(err.code().as_str(), "NOT_FOUND");
    let waiting = insert_idea(&pool, "waiting").await.unwrap();
    let err = store.reject(uuid(&waiting), "r", &ann()).await.unwrap_err();
    assert_eq!(err.code().as_str(), "CONFLICT");
    assert!(
        err.to_string()
            .ends_with("is waiting, not awaiting approval"),
        "{err}"
    );
    assert!(history(&pool).await.is_empty());
    assert_eq!(status_of(&pool, &id).await, "needs_approval");
}

#[tokio::test]
async fn the_timeline_pages_through_ties_without_gaps_or_repeats() {
    let (_db, store, pool) = ready().await;
    // 250 rows sharing 5 timestamps: the keyset must break ties by id.
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, operator)
         SELECT gen_random_uuid(), timestamptz '2026-11-02 10:00:00+00' + (g % 5) * interval '1 minute',
                CASE WHEN g % 2 = 0 THEN 'EURUSD' ELSE 'GBPUSD' END,
                CASE WHEN g % 3 = 0 THEN 'ai_proposed' ELSE 'human_rejected' END::decisionaction,
                'r' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'ann@desk' END
           FROM generate_series(1, 250) g",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut seen = Vec::new();
    let mut filter = TimelineFilter {
        limit: 100,
        ..TimelineFilter::default()
    };
    loop {
        let page = store.timeline(&filter).await.unwrap();
        seen.extend(page.decisions.iter().map(|d| (d.at(), d.id())));
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, each row once");

    let eurusd_rejections = store
        .timeline(&TimelineFilter {
            symbol: Some("eurusd".into()),
            action: Some(DecisionAction::HumanRejected),
            operator: Some("ann@desk".into()),
            limit: 1000,
            ..TimelineFilter::default()
        })
        .await
        .unwrap();
    let expected = (1..=250).filter(|g| g % 2 == 0 && g % 3 != 0).count();
    assert_eq!(eurusd_rejections.decisions.len(), expected);
    assert!(eurusd_rejections.next.is_none());
}

#[tokio::test]
async fn a_risk_edit_is_validated_whole_and_audited_with_its_operator() {
    let (_db, store, pool) = ready().await;
    let edits =
        tradedesk::domain::RiskChangeSet::parse(["max_lot_size=0.50", "max_concurrent_trades=5"])
            .unwrap();
    let update = store.update_risk_config(&edits, &ann()).await.unwrap();
    assert_eq!(update.before.max_lot_size.to_string(), "1.00");
    assert_eq!(update.after.max_lot_size.to_string(), "0.50");
    assert_eq!(update.after.max_concurrent_trades, 5);
    let stored = store.risk_config().await.unwrap().config;
    assert_eq!(stored, update.after);
    let last = store.last_risk_change().await.unwrap().unwrap();
    assert_eq!(last.operator, "ann@desk");
    assert_eq!(last.changes, "max_lot_size=0.50 max_concurrent_trades=5");
    let before_json: String = sqlx::query_scalar(
        "SELECT before->>'max_lot_size' FROM tradedesk.config_changes
          ORDER BY audit_seq DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(before_json, "1.00");

    // Two bad values: both named, nothing written.
    let bad =
        tradedesk::domain::RiskChangeSet::parse(["max_lot_size=0", "min_confidence_threshold=120"])
            .unwrap();
    let err = store.update_risk_config(&bad, &ann()).await.unwrap_err();
    assert_eq!(err.code().as_str(), "INVALID_INPUT");
    let text = err.to_string();
    assert!(
        text.contains("max_lot_size") && text.contains("min_confidence_threshold"),
        "{text}"
    );
    assert_eq!(store.risk_config().await.unwrap().config, update.after);
    // ann's one edit (the set-up's own changes are audited as its own).
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tradedesk.config_changes WHERE operator = 'ann@desk'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audits, 1);
}

#[tokio::test]
async fn flipping_ai_trading_in_a_risk_edit_goes_through_halt_and_resume() {
    let (_db, store, pool) = ready().await;
    let on = tradedesk::domain::RiskChangeSet::parse(["ai_trading_enabled=true"]).unwrap();
    let update = store.update_risk_config(&on, &ann()).await.unwrap();
    assert_eq!(update.resumed.map(|r| r.already_running), Some(false));
    assert!(update.after.ai_trading_enabled);
    let off =
        tradedesk::domain::RiskChangeSet::parse(["ai_trading_enabled=false", "max_lot_size=0.25"])
            .unwrap();
    let update = store.update_risk_config(&off, &ann()).await.unwrap();
    assert!(update.halted.is_some());
    assert!(!update.after.ai_trading_enabled);
    assert_eq!(update.after.max_lot_size.to_string(), "0.25");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action::text FROM decision_history ORDER BY occurred_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(actions, ["ai_resumed", "ai_halted"]);
}

#[tokio::test]
async fn each_act_announces_its_rows_on_the_tradedesk_channel() {
    let (db, store, pool) = ready().await;
    let mut listener = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
    listener.listen("tradedesk").await.unwrap();
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    store.reject(uuid(&id), "no", &ann()).await.unwrap();
    store.resume(&ann(), "").await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let note = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
            .await
            .expect("a notification within 5 s")
            .unwrap();
        let payload: serde_json::Value = serde_json::from_str(note.payload()).unwrap();
        seen.push(format!(
            "{} {}",
            payload["table"].as_str().unwrap(),
            payload["op"].as_str().unwrap()
        ));
    }
    assert_eq!(
        seen,
        [
            "trade_ideas insert",
            // The rejection: the idea's status, then its decision.
            "trade_ideas update",
            "decision_history insert",
            // The resume: the switch, then its decision.
            "risk_config update",
            "decision_history insert",
        ]
    );
}

/// Waits until `n` sessions of this database wait for a lock.
async fn until_waiting(pool: &PgPool, n: i64) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{n} sessions never waited for a lock");
}

#[tokio::test]
async fn a_halt_never_deadlocks_with_the_engine_executing_an_idea() {
    let (db, store, pool) = ready().await;
    store.resume(&ann(), "").await.unwrap();
    let idea = insert_idea(&pool, "waiting").await.unwrap();
    let other = insert_idea(&pool, "waiting").await.unwrap();

    // Hold the risk row so the halt and the engine queue up in a known order.
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM risk_config FOR UPDATE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let halt = tokio::spawn({
        let store = store.clone();
        async move { store.halt("CPI", &ann(), false).await }
    });
    until_waiting(&pool, 1).await;
    // The engine locks its idea, then its commit's check waits for the risk row behind the
    // halt.
    let engine = tokio::spawn({
        let url = db.url.clone();
        let idea = idea.clone();
        async move {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .unwrap();
            sqlx::query("UPDATE trade_ideas SET status = 'auto_executed', updated_at = now() WHERE id = $1::uuid")
                .bind(&idea)
                .execute(&pool)
                .await
        }
    });
    until_waiting(&pool, 2).await;
    blocker.commit().await.unwrap();

    let halted = tokio::time::timeout(std::time::Duration::from_secs(10), halt)
        .await
        .expect("the halt finishes")
        .unwrap()
        .expect("the halt commits: no deadlock");
    assert!(!halted.already_halted);
    let engine = engine.await.unwrap();
    let err = engine.expect_err("the engine's execution comes after the halt and is refused");
    assert!(err.to_string().contains("AI_HALTED"), "{err}");
    assert_eq!(status_of(&pool, &idea).await, "waiting", "never executed");
    assert_eq!(status_of(&pool, &other).await, "halted_by_risk");
}

#[tokio::test]
async fn the_consoles_act_connections_are_made_ready_without_writing_and_halt_as_any() {
    let (db, store, pool) = ready().await;
    store.resume(&ann(), "").await.unwrap();
    let waiting = insert_idea(&pool, "waiting").await.unwrap();
    let executed = insert_idea(&pool, "auto_executed").await.unwrap();
    execution(&pool, &executed, "pending").await;
    let others = "SELECT coalesce(array_agg(pid ORDER BY pid), '{}') FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()";
    // One connection of its own asks, so that no pool's connection is taken for new.
    let mut watcher = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let before: Vec<i32> = sqlx::query_scalar(others)
        .fetch_one(&mut watcher)
        .await
        .unwrap();
    let store = store.with_act_connections();
    // Opening them readies each: the lock and the switch prepared with the types their
    // binds send, the sweeps run dry, one ai_halted row inserted and rolled back with its
    // seal fired at once.
    store.ready_acts().await;
    let after: Vec<i32> = sqlx::query_scalar(others)
        .fetch_one(&mut watcher)
        .await
        .unwrap();
    let opened: Vec<i32> = after.into_iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(opened.len(), 2, "two act connections opened: {opened:?}");
    // Each ran its readying to the end: its last statement was the rollback.
    let last: Vec<String> =
        sqlx::query_scalar("SELECT query FROM pg_stat_activity WHERE pid = ANY($1) ORDER BY pid")
            .bind(&opened)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(last, ["ROLLBACK", "ROLLBACK"]);
    assert_eq!(history(&pool).await.len(), 1, "only the resume is recorded");
    let head: i64 = sqlx::query_scalar(
        "SELECT last_seq FROM tradedesk.audit_heads WHERE chained_table = 'decision_history'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(head, 1, "the rolled-back row took no seq");

    // The sweeps' dry runs stopped nothing.
    assert_eq!(status_of(&pool, &waiting).await, "waiting");
    assert_eq!(status_of(&pool, &executed).await, "auto_executed");
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tradedesk.executions WHERE state = 'pending'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(pending, 1);

    let halted = store.halt("", &ann(), false).await.unwrap();
    assert_eq!((halted.ideas_halted, halted.executions_cancelled), (1, 1));
    assert_eq!(halted.reason, "halted by ann@desk");
    assert_eq!(status_of(&pool, &waiting).await, "halted_by_risk");
    assert_eq!(status_of(&pool, &executed).await, "halted_by_risk");
    let rows = history(&pool).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[1].0, "ai_halted");
    let verified = tradedesk::store::audit::verify(&store, &[]).await.unwrap();
    assert!(
        verified.iter().all(|v| v.problem.is_none()),
        "{verified:#?}"
    );
    // A second halt on the same connections finds the switch off.
    assert!(store.halt("", &ann(), false).await.unwrap().already_halted);
    store.disconnect().await;
}
