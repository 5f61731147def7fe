//! The database as the last line of defence: rules that hold whoever writes, tested with
//! the SQL the platform's Python engine issues (client-side UUIDs, lowercase labels, JSON).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::TestDb;
use common::platform::{SNAPSHOT, STRATEGY, insert_idea, insert_strategy, status_of};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tradedesk::store::setup::setup;

async fn ready() -> (TestDb, PgPool) {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let pool = db.pool().await;
    insert_strategy(&pool).await;
    (db, pool)
}

async fn engine_inserts_idea(pool: &PgPool, status: &str) -> Result<String, sqlx::Error> {
    insert_idea(pool, status).await
}

async fn engine_auto_executes(pool: &PgPool, id: &str) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE trade_ideas SET status = 'auto_executed', updated_at = now() WHERE id = $1::uuid",
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
}

fn db_message(err: sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => panic!("expected a database error, got {other}"),
    }
}

#[tokio::test]
async fn the_engine_cannot_auto_execute_while_ai_trading_is_off() {
    let (_db, pool) = ready().await;
    // Setup's default: AI trading off.
    let id = engine_inserts_idea(&pool, "waiting").await.unwrap();
    let err = engine_auto_executes(&pool, &id).await.unwrap_err();
    assert!(db_message(err).starts_with("AI_HALTED: AI trading is off"));
    let err = engine_inserts_idea(&pool, "auto_executed")
        .await
        .unwrap_err();
    assert!(db_message(err).starts_with("AI_HALTED"));
    let status = status_of(&pool, &id).await;
    assert_eq!(status, "waiting");

    // The engine's other writes stay legal while halted.
    engine_inserts_idea(&pool, "needs_approval").await.unwrap();
    sqlx::query(
        "UPDATE trade_ideas SET status = 'halted_by_risk', updated_at = now() WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(&format!(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, confidence_score,
                                       risk_check_result, strategy_id, trade_idea_id, snapshot_ref,
                                       human_override)
         VALUES ($1::uuid, now(), 'EURUSD', 'ai_proposed', 'Breakout', 93.00, 'fail:ai_halted',
                 '{STRATEGY}', $2::uuid, '{SNAPSHOT}', false)"
    ))
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();

    // With AI trading on, the same statement goes through.
    sqlx::query("UPDATE risk_config SET ai_trading_enabled = true")
        .execute(&pool)
        .await
        .unwrap();
    let fresh = engine_inserts_idea(&pool, "waiting").await.unwrap();
    assert_eq!(engine_auto_executes(&pool, &fresh).await.unwrap(), 1);
    engine_inserts_idea(&pool, "auto_executed").await.unwrap();
}

/// A human decision row for the idea, in the caller's transaction.
async fn human_approves<'c>(conn: impl sqlx::PgExecutor<'c>, idea: &str) {
    sqlx::query(&format!(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, strategy_id,
                                       trade_idea_id, snapshot_ref, human_override)
         VALUES ($1::uuid, now(), 'EURUSD', 'human_approved', 'approved', 93.00, 'pass',
                 '{STRATEGY}', $2::uuid, '{SNAPSHOT}', true)"
    ))
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(idea)
    .execute(conn)
    .await
    .unwrap();
}

/// While AI trading is off, an idea becomes auto_executed only in a transaction that also
/// writes its human_approved row; the check runs at commit, and one idea without its row
/// refuses the whole transaction. The setting migration 3 trusted no longer lets anything
/// through.
#[tokio::test]
async fn only_an_idea_approved_by_a_human_in_the_same_transaction_passes_the_kill_switch() {
    let (_db, pool) = ready().await;
    let approved = engine_inserts_idea(&pool, "needs_approval").await.unwrap();
    let other = engine_inserts_idea(&pool, "needs_approval").await.unwrap();
    let execute = "UPDATE trade_ideas SET status = 'auto_executed' WHERE id = $1::uuid";

    let mut tx = pool.begin().await.unwrap();
    sqlx::query(execute)
        .bind(&approved)
        .execute(&mut *tx)
        .await
        .unwrap();
    human_approves(&mut *tx, &approved).await;
    sqlx::query(execute)
        .bind(&other)
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = tx.commit().await.unwrap_err();
    assert!(db_message(err).starts_with("AI_HALTED"));
    assert_eq!(status_of(&pool, &approved).await, "needs_approval");

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('tradedesk.approving_idea', $1, true)")
        .bind(&other)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(execute)
        .bind(&other)
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = tx.commit().await.unwrap_err();
    assert!(
        db_message(err).starts_with("AI_HALTED"),
        "the setting is no pass"
    );

    let mut tx = pool.begin().await.unwrap();
    sqlx::query(execute)
        .bind(&approved)
        .execute(&mut *tx)
        .await
        .unwrap();
    human_approves(&mut *tx, &approved).await;
    tx.commit().await.unwrap();
    assert_eq!(status_of(&pool, &approved).await, "auto_executed");
    assert_eq!(status_of(&pool, &other).await, "needs_approval");
}

/// A human row from another transaction, or from a subtransaction of this one, is no pass:
/// the rule fails safe.
#[tokio::test]
async fn a_human_row_of_another_transaction_or_a_savepoint_is_no_pass() {
    let (_db, pool) = ready().await;
    let idea = engine_inserts_idea(&pool, "needs_approval").await.unwrap();
    human_approves(&pool, &idea).await;
    let err = sqlx::query("UPDATE trade_ideas SET status = 'auto_executed' WHERE id = $1::uuid")
        .bind(&idea)
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(db_message(err).starts_with("AI_HALTED"));

    let fresh = engine_inserts_idea(&pool, "needs_approval").await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SAVEPOINT s").execute(&mut *tx).await.unwrap();
    human_approves(&mut *tx, &fresh).await;
    sqlx::query("RELEASE SAVEPOINT s")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE trade_ideas SET status = 'auto_executed' WHERE id = $1::uuid")
        .bind(&fresh)
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = tx.commit().await.unwrap_err();
    assert!(db_message(err).starts_with("AI_HALTED"));
    assert_eq!(status_of(&pool, &fresh).await, "needs_approval");
}

#[tokio::test]
async fn decision_history_is_append_only() {
    let (_db, pool) = ready().await;
    sqlx::query(
        "INSERT INTO decision_history (id, symbol, action, rationale, human_override)
         VALUES ($1::uuid, NULL, 'ai_halted', 'max_drawdown', false)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .execute(&pool)
    .await
    .unwrap();
    for statement in [
        "UPDATE decision_history SET rationale = 'edited'",
        "DELETE FROM decision_history",
        "TRUNCATE decision_history",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        let message = db_message(err);
        assert!(
            message.starts_with("APPEND_ONLY: decision_history is an audit trail"),
            "{statement}: {message}"
        );
    }
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM decision_history WHERE rationale = 'max_drawdown'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn config_changes_is_append_only_against_truncate_too() {
    let (_db, pool) = ready().await;
    // The set-up's own changes are audited too (migration 14).
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM tradedesk.config_changes")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO tradedesk.config_changes (id, operator, subject, change)
         VALUES ($1::uuid, 'ann@desk', 'risk_config', 'max_lot_size=0.50')",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .execute(&pool)
    .await
    .unwrap();
    for statement in [
        "UPDATE tradedesk.config_changes SET change = 'edited'",
        "DELETE FROM tradedesk.config_changes",
        "TRUNCATE tradedesk.config_changes",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        let message = db_message(err);
        assert!(
            message.starts_with("APPEND_ONLY: config_changes is an audit trail"),
            "{statement}: {message}"
        );
    }
    // None removed.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM tradedesk.config_changes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, before + 1);
}

/// The platform's sessions run with a search_path of their own; the safeguards must read
/// the platform's tables whatever it is: a session whose path puts another `risk_config`
/// first (one saying AI trading is on), and one with an empty path, are still halted and
/// still announce their changes.
#[tokio::test]
async fn the_safeguards_do_not_depend_on_the_callers_search_path() {
    let (db, pool) = ready().await;
    let mut listener = PgListener::connect(&db.url).await.unwrap();
    listener.listen("tradedesk").await.unwrap();
    sqlx::raw_sql(
        "CREATE SCHEMA decoy;
         CREATE TABLE decoy.risk_config (id boolean PRIMARY KEY, ai_trading_enabled boolean);
         INSERT INTO decoy.risk_config VALUES (true, true);",
    )
    .execute(&pool)
    .await
    .unwrap();
    for path in ["decoy, public", "''"] {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(&format!("SET LOCAL search_path = {path}"))
            .execute(&mut *tx)
            .await
            .unwrap();
        let idea = uuid::Uuid::new_v4().to_string();
        sqlx::query(&format!(
            "INSERT INTO public.trade_ideas (id, symbol, direction, entry_price, stop_loss,
                                             take_profit, expected_hold, rationale,
                                             confidence_score, status, strategy_id,
                                             snapshot_ref)
             VALUES ($1::uuid, 'EURUSD', 'buy', 1.085640, 1.084200, '{{1.087800}}',
                     'scalp_30m', 'Breakout', 93.00, 'waiting', '{STRATEGY}', '{SNAPSHOT}')"
        ))
        .bind(&idea)
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("path {path}: {e}"));
        let note = tokio::time::timeout(Duration::from_secs(5), async {
            // The notification is delivered at commit: commit first, then wait.
            tx.commit().await.unwrap();
            listener.recv().await
        })
        .await
        .expect("a notification within 5 s")
        .unwrap();
        assert!(note.payload().contains(&idea), "{}", note.payload());

        let mut tx = pool.begin().await.unwrap();
        sqlx::query(&format!("SET LOCAL search_path = {path}"))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("UPDATE public.trade_ideas SET status = 'auto_executed' WHERE id = $1::uuid")
            .bind(&idea)
            .execute(&mut *tx)
            .await
            .unwrap();
        // The kill switch judges at commit.
        let err = tx.commit().await.unwrap_err();
        let message = db_message(err);
        assert!(message.starts_with("AI_HALTED"), "path {path}: {message}");
    }
}

#[tokio::test]
async fn an_idea_gets_at_most_one_human_decision() {
    let (_db, pool) = ready().await;
    let idea = engine_inserts_idea(&pool, "needs_approval").await.unwrap();
    let decide = |action: &'static str, operator: Option<&'static str>| {
        let pool = pool.clone();
        let idea = idea.clone();
        async move {
            sqlx::query(
                "INSERT INTO decision_history (id, symbol, action, rationale, trade_idea_id,
                                               human_override, operator)
                 VALUES ($1::uuid, 'EURUSD', $2::decisionaction, 'r', $3::uuid, true, $4)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(action)
            .bind(&idea)
            .bind(operator)
            .execute(&pool)
            .await
        }
    };
    decide("human_rejected", Some("ann@desk")).await.unwrap();
    let err = decide("human_approved", Some("bob@desk"))
        .await
        .unwrap_err();
    assert!(db_message(err).contains("idx_decision_history_one_human_decision"));
    // The platform's own rows, without an operator, are held to it too.
    let err = decide("human_approved", None).await.unwrap_err();
    assert!(db_message(err).contains("idx_decision_history_one_human_decision"));
    // The engine's own rows about the idea are not limited.
    decide("ai_proposed", None).await.unwrap();
    decide("ai_proposed", None).await.unwrap();
}

#[tokio::test]
async fn every_watched_table_announces_its_changes() {
    let (db, pool) = ready().await;
    let mut listener = PgListener::connect(&db.url).await.unwrap();
    listener.listen("tradedesk").await.unwrap();

    let idea = engine_inserts_idea(&pool, "needs_approval").await.unwrap();
    sqlx::raw_sql(&format!(
        "UPDATE risk_config SET max_lot_size = 0.50;
         UPDATE strategies SET is_active = false;
         INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
              VALUES ('{SNAPSHOT}', 10000, 10000, 0, 10000, 0, 0, now());
         INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by)
              VALUES ('5f5f5f5f-0000-4000-8000-000000000001', '{idea}', 0.10, 'ann@desk');
         INSERT INTO decision_history (id, symbol, action, rationale)
              VALUES ('6f6f6f6f-0000-4000-8000-000000000001', NULL, 'ai_resumed', 'r');"
    ))
    .execute(&pool)
    .await
    .unwrap();

    let mut seen = BTreeSet::new();
    while seen.len() < 6 {
        let note = tokio::time::timeout(Duration::from_secs(5), listener.recv())
            .await
            .expect("a notification within 5 s")
            .unwrap();
        let payload: serde_json::Value = serde_json::from_str(note.payload()).unwrap();
        seen.insert(format!(
            "{} {} {}",
            payload["table"].as_str().unwrap(),
            payload["op"].as_str().unwrap(),
            payload["id"].as_str().unwrap()
        ));
    }
    let expected: BTreeSet<String> = [
        format!("trade_ideas insert {idea}"),
        "risk_config update true".to_string(),
        format!("strategies update {STRATEGY}"),
        format!("snapshot_account insert {SNAPSHOT}"),
        "executions insert 5f5f5f5f-0000-4000-8000-000000000001".to_string(),
        "decision_history insert 6f6f6f6f-0000-4000-8000-000000000001".to_string(),
    ]
    .into();
    assert_eq!(seen, expected);
}
