//! Human approval: the Gate re-run inside the transaction, exactly once, and never two
//! approvals for the last concurrent-trade slot.

mod common;
use common::ready;

use common::platform::{insert_account, insert_idea, status_of, uuid};
use sqlx::{Connection as _, PgPool};
use tradedesk::domain::{Lot, Purpose, RiskChangeSet};
use tradedesk::operator::Operator;
use tradedesk::store::approve::Approval;
use tradedesk::store::{Error, Store};

fn ann() -> Operator {
    Operator::new("ann@desk").unwrap()
}

fn lot(text: &str) -> Lot {
    Lot::parse(text).unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn an_approval_that_passes_records_the_order_and_who_approved_it() {
    let (_db, store, pool) = ready().await;
    // AI trading is off (setup's default): a human may still approve.
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    let approval = store
        .approve(
            store.resolve_idea(&id[..6]).await.unwrap(),
            lot("0.30"),
            &ann(),
        )
        .await
        .unwrap();
    let Approval::Executed {
        execution, report, ..
    } = approval
    else {
        panic!("expected an execution, got {approval:?}");
    };
    assert_eq!(report.risk_check_result(), "pass");
    let (idea, lot_size, by, state): (String, String, String, String) = sqlx::query_as(
        "SELECT trade_idea_id::text, lot_size::text, requested_by, state::text
           FROM tradedesk.executions WHERE id = $1",
    )
    .bind(execution)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (
            idea.as_str(),
            lot_size.as_str(),
            by.as_str(),
            state.as_str()
        ),
        (id.as_str(), "0.30", "ann@desk", "pending")
    );
    let (action, human_override, operator, result, rationale): (
        String,
        bool,
        String,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT action::text, human_override, operator, risk_check_result, rationale
               FROM decision_history WHERE trade_idea_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(action, "human_approved");
    assert!(human_override);
    assert_eq!(operator, "ann@desk");
    assert_eq!(result, "pass");
    assert_eq!(rationale, "approved with lot 0.30");
    let status = status_of(&pool, &id).await;
    assert_eq!(status, "auto_executed");
}

#[tokio::test]
async fn an_approval_the_checks_refuse_rejects_the_idea_and_names_every_failing_rule() {
    let (_db, store, pool) = ready().await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    // 2.00 is above both the strategy's cap (0.50) and max_lot_size (1.00).
    let approval = store.approve(uuid(&id), lot("2.00"), &ann()).await.unwrap();
    let Approval::Blocked { report, .. } = &approval else {
        panic!("expected a block, got {approval:?}");
    };
    assert_eq!(report.risk_check_result(), "fail:lot_size");
    let (action, result, rationale): (String, String, String) = sqlx::query_as(
        "SELECT action::text, risk_check_result, rationale FROM decision_history
          WHERE trade_idea_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(action, "risk_rejected");
    assert_eq!(result, "fail:lot_size");
    assert!(
        rationale.starts_with("approval with lot 2.00 blocked: "),
        "{rationale}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tradedesk.executions").await,
        0
    );
    let err = store
        .approve(uuid(&id), lot("0.10"), &ann())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("blocked by the risk checks at approval by ann@desk"),
        "{err}"
    );
}

#[tokio::test]
async fn a_breached_drawdown_blocks_approval() {
    let (_db, store, pool) = ready().await;
    // The day opened at 10000.00 (ready's snapshot); equity is now 8900.00: 1100 down,
    // past the 1000.00 limit.
    insert_account(&pool, "8900.00", 0).await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    let approval = store.approve(uuid(&id), lot("0.10"), &ann()).await.unwrap();
    let Approval::Blocked { report, .. } = approval else {
        panic!("expected a block");
    };
    assert_eq!(report.risk_check_result(), "fail:max_drawdown");
}

#[tokio::test]
async fn bad_lots_are_refused_in_a_sentence_and_write_nothing() {
    let (_db, _store, pool) = ready().await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    // A lot that is not one never reaches the store: the type cannot hold it.
    for bad in ["0", "-1", "0.125"] {
        let err = tradedesk::store::Error::from(Lot::parse(bad).unwrap_err());
        assert_eq!(err.code().as_str(), "INVALID_INPUT", "{bad}");
    }
    assert_eq!(
        Lot::parse("abc").unwrap_err().to_string(),
        "lot size `abc` is not a number such as 0.50"
    );
    assert_eq!(
        Lot::parse("0.125").unwrap_err().to_string(),
        "lot size 0.125 must have at most 2 decimal places and be at most 99999999.99"
    );
    assert_eq!(Lot::parse(" 0.50 ").unwrap().to_string(), "0.50");
    assert_eq!(status_of(&pool, &id).await, "needs_approval");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM decision_history").await,
        0
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tradedesk.executions").await,
        0
    );
}

#[tokio::test]
async fn two_approvals_racing_for_the_last_slot_execute_exactly_one() {
    let (db, store, pool) = ready().await;
    let one_slot = RiskChangeSet::parse(["max_concurrent_trades=1"]).unwrap();
    store.update_risk_config(&one_slot, &ann()).await.unwrap();
    for _round in 0..5 {
        sqlx::raw_sql("UPDATE tradedesk.executions SET state = 'cancelled'")
            .execute(&pool)
            .await
            .unwrap();
        let first = insert_idea(&pool, "needs_approval").await.unwrap();
        let second = insert_idea(&pool, "needs_approval").await.unwrap();
        let a = Store::open(&db.target(), 1).await.unwrap();
        let b = Store::open(&db.target(), 1).await.unwrap();
        let bob = Operator::new("bob@desk").unwrap();
        let ann = ann();
        let (ra, rb) = tokio::join!(
            a.approve(uuid(&first), lot("0.10"), &ann),
            b.approve(uuid(&second), lot("0.10"), &bob)
        );
        let outcomes = [ra.unwrap(), rb.unwrap()];
        let executed = outcomes
            .iter()
            .filter(|o| matches!(o, Approval::Executed { .. }))
            .count();
        assert_eq!(executed, 1, "{outcomes:#?}");
        let blocked = outcomes
            .iter()
            .find_map(|o| match o {
                Approval::Blocked { report, .. } => Some(report.risk_check_result()),
                _ => None,
            })
            .unwrap();
        assert_eq!(blocked, "fail:max_concurrent_trades");
        assert_eq!(
            count(
                &pool,
                "SELECT count(*) FROM tradedesk.executions WHERE state = 'pending'"
            )
            .await,
            1
        );
    }
}

#[tokio::test]
async fn sixteen_consoles_deciding_one_idea_record_exactly_one_human_decision() {
    let (db, _store, pool) = ready().await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = Store::open(&db.target(), 1).await.unwrap();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let operator = Operator::new(format!("op{n}@desk")).unwrap();
            if n % 2 == 0 {
                store
                    .approve(uuid(&id), lot("0.10"), &operator)
                    .await
                    .map(|_| "approved")
            } else {
                store
                    .reject(uuid(&id), "race", &operator)
                    .await
                    .map(|_| "rejected")
            }
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(what) => winners.push(what),
            Err(Error::Conflict(_)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT action::text FROM decision_history WHERE trade_idea_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    let status = status_of(&pool, &id).await;
    let executions = count(&pool, "SELECT count(*) FROM tradedesk.executions").await;
    match winners[0] {
        "approved" => {
            assert_eq!(
                (rows[0].as_str(), status.as_str(), executions),
                ("human_approved", "auto_executed", 1)
            );
        }
        _ => assert_eq!(
            (rows[0].as_str(), status.as_str(), executions),
            ("human_rejected", "rejected", 0)
        ),
    }
}

#[tokio::test]
async fn the_preview_context_judges_like_the_approval_and_offers_the_smaller_cap() {
    let (_db, store, pool) = ready().await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    let context = store.gate_context(uuid(&id)).await.unwrap();
    // The strategy's cap (0.50) is below max_lot_size (1.00).
    assert_eq!(context.default_lot().to_string(), "0.5");
    assert!(context.judge(lot("0.50"), Purpose::HumanApproval).passed());
    assert_eq!(
        context
            .judge(lot("0.60"), Purpose::HumanApproval)
            .risk_check_result(),
        "fail:lot_size"
    );
}

#[tokio::test]
async fn an_approval_does_not_wait_for_the_engine_writing_about_the_same_idea() {
    let (_db, store, pool) = ready().await;
    let id = insert_idea(&pool, "needs_approval").await.unwrap();
    // The engine, mid-transaction, records a decision referencing the idea (a foreign-key
    // lock on it) and has not committed yet.
    let mut engine = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO decision_history (id, symbol, action, rationale, trade_idea_id)
         VALUES (gen_random_uuid(), 'EURUSD', 'ai_proposed', 'again', $1::uuid)",
    )
    .bind(&id)
    .execute(&mut *engine)
    .await
    .unwrap();
    let approval = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.approve(uuid(&id), lot("0.10"), &ann()),
    )
    .await
    .expect("the approval is not blocked by the engine's open transaction")
    .unwrap();
    assert!(matches!(approval, Approval::Executed { .. }));
    engine.commit().await.unwrap();
}

#[tokio::test]
async fn a_strategys_open_orders_count_against_its_cap_whoever_wrote_them() {
    let (_db, store, pool) = ready().await;
    store.resume(&ann(), "").await.unwrap();
    let room = RiskChangeSet::parse(["max_concurrent_trades=10"]).unwrap();
    store.update_risk_config(&room, &ann()).await.unwrap();
    // Two orders of the strategy (its cap is 2) written by plain SQL: one names no
    // strategy, one another strategy — the database gives each its idea's.
    for claimed in ["NULL", "gen_random_uuid()"] {
        let idea = insert_idea(&pool, "auto_executed").await.unwrap();
        sqlx::query(&format!(
            "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, strategy_id)
             VALUES (gen_random_uuid(), $1::uuid, 0.10, 'bridge', {claimed})"
        ))
        .bind(&idea)
        .execute(&pool)
        .await
        .unwrap();
    }
    assert_eq!(
        count(
            &pool,
            &format!(
                "SELECT count(*) FROM tradedesk.executions WHERE strategy_id = '{}'",
                common::platform::STRATEGY
            )
        )
        .await,
        2
    );
    let third = insert_idea(&pool, "needs_approval").await.unwrap();
    let approval = store
        .approve(uuid(&third), lot("0.10"), &ann())
        .await
        .unwrap();
    let Approval::Blocked { report, .. } = approval else {
        panic!("the strategy's cap is reached: {approval:?}");
    };
    assert!(
        report
            .failure_reasons()
            .contains("2 of the strategy's trades are open and its cap is 2"),
        "{}",
        report.failure_reasons()
    );
    assert_eq!(status_of(&pool, &third).await, "rejected");
}

#[tokio::test]
async fn an_approval_reads_the_strategy_under_a_share_lock_or_refuses_one_it_cannot_read() {
    let (db, store, pool) = ready().await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();
    // An edit of the strategy holds it: the approval waits for it, having locked the idea.
    let mut editor = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(&format!(
        "BEGIN; SELECT 1 FROM strategies WHERE id = '{}' FOR NO KEY UPDATE",
        common::platform::STRATEGY
    ))
    .execute(&mut editor)
    .await
    .unwrap();
    let approving = tokio::spawn({
        let store = store.clone();
        let idea = uuid(&idea);
        async move { store.approve(idea, lot("0.10"), &ann()).await }
    });
    let start = std::time::Instant::now();
    while count(
        &pool,
        "SELECT count(*) FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .await
        == 0
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "the approval never waited for the strategy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!approving.is_finished());
    // The edit lowers the strategy's lot cap below the lot: the approval judges the rules
    // as the edit left them.
    sqlx::raw_sql(&format!(
        "UPDATE strategies SET risk_caps = '{{\"max_lot_size\": 0.05, \"max_concurrent_positions\": 2}}'
          WHERE id = '{}'; COMMIT",
        common::platform::STRATEGY
    ))
    .execute(&mut editor)
    .await
    .unwrap();
    let approval = approving.await.unwrap().unwrap();
    assert!(
        matches!(&approval, Approval::Blocked { report, .. }
            if report.failure_reasons().contains("0.05")),
        "{approval:?}"
    );

    // A strategy whose document holds a number no float can (the platform's JSON allows
    // it) cannot be judged: the approval is refused, naming it, and writes nothing.
    sqlx::raw_sql(&format!(
        "UPDATE strategies SET risk_caps = '{{\"max_lot_size\": 1e400}}' WHERE id = '{}'",
        common::platform::STRATEGY
    ))
    .execute(&pool)
    .await
    .unwrap();
    let other = insert_idea(&pool, "needs_approval").await.unwrap();
    let before = count(&pool, "SELECT count(*) FROM decision_history").await;
    let err = store
        .approve(uuid(&other), lot("0.10"), &ann())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("strategy"), "{err}");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM decision_history").await,
        before
    );
    assert_eq!(status_of(&pool, &other).await, "needs_approval");
}

#[tokio::test]
async fn open_trades_are_the_latest_captures_positions_plus_the_orders_since() {
    let (_db, store, pool) = ready().await;
    let room = RiskChangeSet::parse(["max_concurrent_trades=4"]).unwrap();
    store.update_risk_config(&room, &ann()).await.unwrap();
    sqlx::raw_sql(
        "UPDATE strategies SET risk_caps = '{\"max_lot_size\": 0.5, \"max_concurrent_positions\": 10}'",
    )
    .execute(&pool)
    .await
    .unwrap();
    // An order from before the latest capture is among its two positions; one after it
    // is not yet.
    for requested in [
        "now() - interval '1 hour'",
        "clock_timestamp() + interval '1 second'",
    ] {
        let held = insert_idea(&pool, "needs_approval").await.unwrap();
        sqlx::query(&format!(
            "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at)
             VALUES (gen_random_uuid(), $1::uuid, 0.10, 'bridge', {requested})"
        ))
        .bind(&held)
        .execute(&pool)
        .await
        .unwrap();
        if requested.starts_with("now()") {
            insert_account(&pool, "10000.00", 2).await;
        }
    }
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();
    let approval = store
        .approve(uuid(&idea), lot("0.10"), &ann())
        .await
        .unwrap();
    let Approval::Executed { report, .. } = &approval else {
        panic!("2 captured + 1 since = 3 of 4: {approval:?}");
    };
    assert!(format!("{report:?}").contains("3 of 4"), "{report:?}");
}
