//! Conformance with the platform's own writers (docs/platform.md §6, "How the platform's
//! Python code writes", and "The execution hand-off"): each test writes exactly as the
//! platform's code does — plain SQL on a connection of its own, never through tradedesk's
//! writers — and holds tradedesk's rules to it, against real PostgreSQL.

mod common;
use common::ready;
/// Reading what the platform writes: every value its column types admit.
#[path = "conformance/reads.rs"]
mod reads;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::TestDb;
use common::cli::Cli;
use common::platform::{SNAPSHOT, STRATEGY, insert_idea, insert_strategy, status_of, uuid};
use sqlx::{Connection as _, PgConnection, PgPool};
use tradedesk::domain::Lot;
use tradedesk::operator::Operator;
use tradedesk::store::approve::Approval;
use tradedesk::store::engine::{CLAIM_ORDER, REPORT_FAILURE, REPORT_FILL};
use tradedesk::store::migrate;
use tradedesk::store::setup::setup;

fn ann() -> Operator {
    Operator::new("ann@desk").unwrap()
}

fn db_message(err: sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => panic!("expected a database error, got {other}"),
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn ai_trading_enabled(pool: &PgPool) -> bool {
    sqlx::query_scalar("SELECT ai_trading_enabled FROM risk_config")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// What the platform's code writes, statement by statement, on a connection of its own.
mod platform {
    use super::{SNAPSHOT, STRATEGY};
    use sqlx::PgConnection;

    /// Which the session flushes first: SQLAlchemy may emit the decision row's INSERT
    /// before or after the idea's UPDATE.
    #[derive(Debug, Clone, Copy)]
    pub enum Flush {
        DecisionFirst,
        StatusFirst,
    }

    pub const BOTH: [Flush; 2] = [Flush::DecisionFirst, Flush::StatusFirst];

    /// A decision row as its models write it: no `operator`, a client-side id.
    pub async fn decision(
        conn: &mut PgConnection,
        idea: &str,
        action: &str,
        human: bool,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                           confidence_score, risk_check_result, strategy_id,
                                           trade_idea_id, snapshot_ref, human_override)
             VALUES ($1::uuid, now(), 'EURUSD', $2::decisionaction, 'from the web UI', 93.00,
                     'pass', '{STRATEGY}', $3::uuid, '{SNAPSHOT}', $4)"
        ))
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(action)
        .bind(idea)
        .bind(human)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    }

    async fn set_status(conn: &mut PgConnection, idea: &str, status: &str) {
        sqlx::query(
            "UPDATE trade_ideas SET status = $2::tradeideastatus, updated_at = now()
              WHERE id = $1::uuid",
        )
        .bind(idea)
        .bind(status)
        .execute(&mut *conn)
        .await
        .expect("the status update itself passes: the kill switch judges at commit");
    }

    /// The web UI's approve (`human_approved`, status `auto_executed`) or reject
    /// (`human_rejected`, status `rejected`): one transaction, the idea locked first.
    pub async fn decide(
        conn: &mut PgConnection,
        idea: &str,
        action: &str,
        status: &str,
        flush: Flush,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        sqlx::query("SELECT id FROM trade_ideas WHERE id = $1::uuid FOR UPDATE")
            .bind(idea)
            .execute(&mut *conn)
            .await?;
        let written = match flush {
            Flush::DecisionFirst => match decision(conn, idea, action, true).await {
                Ok(()) => {
                    set_status(conn, idea, status).await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Flush::StatusFirst => {
                set_status(conn, idea, status).await;
                decision(conn, idea, action, true).await
            }
        };
        if let Err(e) = written {
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            return Err(e);
        }
        sqlx::query("COMMIT").execute(&mut *conn).await.map(|_| ())
    }

    /// Its halt (or resume): the switch and its one global row, in one transaction.
    pub async fn flip(conn: &mut PgConnection, on: bool, reason: &str) {
        let (action, result, halt_reason) = if on {
            ("ai_resumed", "pass", None)
        } else {
            ("ai_halted", "fail:max_drawdown", Some(reason))
        };
        sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
        sqlx::query(
            "UPDATE risk_config SET ai_trading_enabled = $1, last_halt_reason = $2,
                                    updated_at = now() WHERE id = true",
        )
        .bind(on)
        .bind(halt_reason)
        .execute(&mut *conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                           risk_check_result, human_override)
             VALUES ($1::uuid, now(), NULL, $2::decisionaction, $3, $4, false)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(action)
        .bind(reason)
        .bind(result)
        .execute(&mut *conn)
        .await
        .unwrap();
        sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    }
}

use platform::Flush;

async fn connect(db: &TestDb) -> PgConnection {
    PgConnection::connect(&db.url).await.unwrap()
}

#[tokio::test]
async fn the_platforms_approval_passes_while_ai_trading_is_off_in_either_order() {
    let (db, _store, pool) = ready().await;
    let mut conn = connect(&db).await;
    assert!(!ai_trading_enabled(&pool).await, "setup's default: off");
    for flush in platform::BOTH {
        let idea = insert_idea(&pool, "needs_approval").await.unwrap();
        platform::decide(&mut conn, &idea, "human_approved", "auto_executed", flush)
            .await
            .unwrap_or_else(|e| panic!("{flush:?}: {e}"));
        assert_eq!(status_of(&pool, &idea).await, "auto_executed", "{flush:?}");
        let rows: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM decision_history
              WHERE trade_idea_id = $1::uuid AND action = 'human_approved' AND operator IS NULL",
        )
        .bind(&idea)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(rows, 1, "{flush:?}");
    }
    assert!(!ai_trading_enabled(&pool).await);
}

#[tokio::test]
async fn the_engines_automatic_execution_is_refused_at_commit_while_ai_trading_is_off() {
    let (db, _store, pool) = ready().await;
    let mut conn = connect(&db).await;
    let idea = insert_idea(&pool, "waiting").await.unwrap();
    // ai_auto_executed first, then the idea: each statement passes, the commit is refused.
    let mut tx = conn.begin().await.unwrap();
    platform::decision(&mut tx, &idea, "ai_auto_executed", false)
        .await
        .unwrap();
    sqlx::query("UPDATE trade_ideas SET status = 'auto_executed' WHERE id = $1::uuid")
        .bind(&idea)
        .execute(&mut *tx)
        .await
        .unwrap();
    let message = db_message(tx.commit().await.unwrap_err());
    assert!(message.starts_with("AI_HALTED:"), "{message}");
    assert_eq!(status_of(&pool, &idea).await, "waiting");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE action = 'ai_auto_executed'"
        )
        .await,
        0,
        "nothing of the refused transaction stays"
    );

    // Inserting the idea executed is refused the same way.
    let err = insert_idea(&pool, "auto_executed").await.unwrap_err();
    assert!(db_message(err).starts_with("AI_HALTED:"));

    // With AI trading on, the same writes go through.
    platform::flip(&mut conn, true, "resumed").await;
    let mut tx = conn.begin().await.unwrap();
    platform::decision(&mut tx, &idea, "ai_auto_executed", false)
        .await
        .unwrap();
    sqlx::query("UPDATE trade_ideas SET status = 'auto_executed' WHERE id = $1::uuid")
        .bind(&idea)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(status_of(&pool, &idea).await, "auto_executed");
}

#[tokio::test]
async fn the_platforms_reject_passes_while_ai_trading_is_off_in_either_order() {
    let (db, _store, pool) = ready().await;
    let mut conn = connect(&db).await;
    for flush in platform::BOTH {
        let idea = insert_idea(&pool, "needs_approval").await.unwrap();
        platform::decide(&mut conn, &idea, "human_rejected", "rejected", flush)
            .await
            .unwrap_or_else(|e| panic!("{flush:?}: {e}"));
        assert_eq!(status_of(&pool, &idea).await, "rejected", "{flush:?}");
    }
}

#[tokio::test]
async fn the_platforms_decision_after_tradedesks_approval_is_refused() {
    let (db, store, pool) = ready().await;
    let mut conn = connect(&db).await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();
    let approval = store
        .approve(uuid(&idea), Lot::parse("0.30").unwrap(), &ann())
        .await
        .unwrap();
    assert!(
        matches!(approval, Approval::Executed { .. }),
        "{approval:?}"
    );
    // The platform's web UI approves (or rejects) the same idea, without an operator.
    for (action, status) in [
        ("human_approved", "auto_executed"),
        ("human_rejected", "rejected"),
    ] {
        let err = platform::decide(&mut conn, &idea, action, status, Flush::DecisionFirst)
            .await
            .unwrap_err();
        let sqlx::Error::Database(e) = &err else {
            panic!("{err}");
        };
        assert_eq!(
            e.constraint(),
            Some("idx_decision_history_one_human_decision"),
            "{action}"
        );
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE action IN ('human_approved', 'human_rejected')"
        )
        .await,
        1,
        "one human decision per idea"
    );
    assert_eq!(status_of(&pool, &idea).await, "auto_executed");
}

#[tokio::test]
async fn adopting_two_human_decisions_on_an_idea_names_them_and_refuses_a_third() {
    let db = TestDb::new().await;
    db.load("phase1_alembic_001.sql").await;
    let pool = db.pool().await;
    insert_strategy(&pool).await;
    // Before tradedesk, the platform approved an idea and then rejected it (a double click
    // of its web UI); another idea has one decision.
    let twice = insert_idea(&pool, "needs_approval").await.unwrap();
    let once = insert_idea(&pool, "needs_approval").await.unwrap();
    sqlx::raw_sql(&format!(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       trade_idea_id, human_override)
         VALUES ('00000000-0000-4000-8000-000000000002', '2025-10-28 14:06:00+00', 'EURUSD',
                 'human_rejected', 'second click', '{twice}', true),
                ('00000000-0000-4000-8000-000000000001', '2025-10-28 14:05:00+00', 'EURUSD',
                 'human_approved', 'first click', '{twice}', true),
                ('00000000-0000-4000-8000-000000000003', '2025-10-28 14:07:00+00', 'EURUSD',
                 'human_approved', 'once', '{once}', true);"
    ))
    .execute(&pool)
    .await
    .unwrap();

    let cli = Cli {
        db,
        home: tempfile::tempdir().unwrap(),
    };
    let run = cli.run(&["setup"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let named = format!(
        "idea {twice}: 2 human decisions; the first stands, the later ones are kept in the \
         history outside the one-decision rule:\n      \
         human_approved by the platform at 2025-10-28 14:05:00 UTC (00000001, counted)\n      \
         human_rejected by the platform at 2025-10-28 14:06:00 UTC (00000002, left out)\n"
    );
    assert!(run.out.contains(&named), "{}", run.out);
    assert!(!run.out.contains(&once), "{}", run.out);
    // `migrate up` names them too, every time.
    let run = cli.run(&["migrate", "up"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(
        run.out
            .contains(&format!("idea {twice}: 2 human decisions"))
    );
    let report = migrate::up(&pool).await.unwrap();
    let several = &report.several_human_decisions;
    assert_eq!(several.len(), 1);
    assert_eq!(several[0].idea, uuid(&twice));
    let counted: Vec<bool> = several[0].decisions.iter().map(|d| d.counted).collect();
    assert_eq!(counted, [true, false]);

    // A third decision on that idea is refused, with or without an operator; every row
    // written before stays.
    let mut conn = connect(&cli.db).await;
    for operator in [None, Some("ann@desk")] {
        let err = sqlx::query(
            "INSERT INTO decision_history (id, symbol, action, rationale, trade_idea_id,
                                           human_override, operator)
             VALUES (gen_random_uuid(), 'EURUSD', 'human_approved', 'third', $1::uuid, true, $2)",
        )
        .bind(&twice)
        .bind(operator)
        .execute(&mut conn)
        .await
        .unwrap_err();
        assert!(
            db_message(err).contains("idx_decision_history_one_human_decision"),
            "{operator:?}"
        );
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE action::text LIKE 'human%'"
        )
        .await,
        3
    );
    // Ideas without a decision yet are held to one, as on any database.
    let fresh = insert_idea(&pool, "needs_approval").await.unwrap();
    platform::decide(
        &mut conn,
        &fresh,
        "human_rejected",
        "rejected",
        Flush::StatusFirst,
    )
    .await
    .unwrap();
    let err = platform::decision(&mut conn, &fresh, "human_approved", true)
        .await
        .unwrap_err();
    assert!(db_message(err).contains("idx_decision_history_one_human_decision"));
}

#[tokio::test]
async fn a_halt_writes_one_ai_halted_row_whoever_pulls_it() {
    let (db, store, pool) = ready().await;
    let mut conn = connect(&db).await;
    // The platform's halt and resume, through risk_config.
    platform::flip(&mut conn, true, "London open").await;
    platform::flip(&mut conn, false, "max_drawdown").await;
    platform::flip(&mut conn, true, "reviewed").await;
    assert!(ai_trading_enabled(&pool).await);

    // tradedesk's halt with a waiting idea, an unexecuted order and a filled one.
    let waiting = insert_idea(&pool, "waiting").await.unwrap();
    let mut orders = Vec::new();
    for state in ["pending", "filled"] {
        let idea = insert_idea(&pool, "auto_executed").await.unwrap();
        sqlx::query(
            "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, state)
             VALUES (gen_random_uuid(), $1::uuid, 0.10, 'platform', $2::tradedesk.executionstate)",
        )
        .bind(&idea)
        .bind(state)
        .execute(&pool)
        .await
        .unwrap();
        orders.push(idea);
    }
    let halted = store.halt("CPI", &ann(), false).await.unwrap();
    assert_eq!((halted.ideas_halted, halted.executions_cancelled), (1, 1));
    // A second pull sweeps nothing and writes nothing.
    store.halt("again", &ann(), false).await.unwrap();

    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE action = 'ai_halted'"
        )
        .await,
        2,
        "the platform's count of halts"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history
              WHERE action = 'ai_halted' AND (symbol IS NOT NULL OR trade_idea_id IS NOT NULL)"
        )
        .await,
        0,
        "every halt row is global"
    );
    let said: String = sqlx::query_scalar(
        "SELECT rationale FROM decision_history WHERE action = 'ai_halted' AND operator = 'ann@desk'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        said.starts_with(&format!(
            "CPI: 1 waiting idea stopped ({}), 1 unexecuted order cancelled (",
            tradedesk::format::short(uuid(&waiting))
        )),
        "{said}"
    );
    assert_eq!(status_of(&pool, &waiting).await, "halted_by_risk");
    assert_eq!(status_of(&pool, &orders[0]).await, "halted_by_risk");
    assert_eq!(status_of(&pool, &orders[1]).await, "auto_executed");
}

#[tokio::test]
async fn an_order_cancelled_before_it_was_sent_leaves_its_idea_halted_by_risk() {
    let (_db, store, pool) = ready().await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();
    let Approval::Executed {
        execution,
        decision,
        ..
    } = store
        .approve(uuid(&idea), Lot::parse("0.30").unwrap(), &ann())
        .await
        .unwrap()
    else {
        panic!("the approval passes");
    };
    store.resume(&ann(), "").await.unwrap();
    store.halt("news", &ann(), false).await.unwrap();
    assert_eq!(status_of(&pool, &idea).await, "halted_by_risk");
    let state: String =
        sqlx::query_scalar("SELECT state::text FROM tradedesk.executions WHERE id = $1")
            .bind(execution)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(state, "cancelled");
    // The replay still shows who approved it, and the order as the halt left it; the
    // halt's row names the order.
    let replay = store.replay(decision).await.unwrap();
    let decided = replay.decided.expect("who decided");
    assert_eq!(decided.operator.as_deref(), Some("ann@desk"));
    assert_eq!(replay.execution.expect("the order").state, "cancelled");
    let said: String =
        sqlx::query_scalar("SELECT rationale FROM decision_history WHERE action = 'ai_halted'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        said,
        format!(
            "news: 1 unexecuted order cancelled ({})",
            tradedesk::format::short(execution)
        )
    );
}

/// The SQL blocks of docs/platform.md, as a bridge's author copies them.
fn documented_sql() -> Vec<String> {
    let doc = include_str!("../docs/platform.md");
    doc.split("```sql\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .map(str::to_string)
        .collect()
}

/// A bridge's claim, as docs/platform.md gives it, on a connection of its own.
async fn claim(conn: &mut PgConnection, bridge: &str) -> Option<uuid::Uuid> {
    sqlx::query_scalar::<_, uuid::Uuid>(&documented_sql()[0])
        .bind(bridge)
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .fetch_optional(&mut *conn)
        .await
        .unwrap()
}

/// `n` ideas executed with a pending order each (AI trading on), oldest first.
async fn pending_orders(pool: &PgPool, n: usize) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let idea = insert_idea(pool, "auto_executed").await.unwrap();
        let id: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by,
                                               requested_at)
             VALUES (gen_random_uuid(), $1::uuid, 0.10, 'platform', clock_timestamp())
             RETURNING id",
        )
        .bind(&idea)
        .fetch_one(pool)
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

#[tokio::test]
async fn the_execution_hand_off_is_the_documented_contract() {
    // The page quotes the store's own statements, which the simulated broker runs.
    assert_eq!(
        documented_sql(),
        [CLAIM_ORDER, REPORT_FILL, REPORT_FAILURE],
        "docs/platform.md, \"The execution hand-off\""
    );
    let (db, store, pool) = ready().await;
    store.resume(&ann(), "").await.unwrap();
    let orders = pending_orders(&pool, 3).await;
    let mut bridge = connect(&db).await;
    let sql = documented_sql();

    // Claims take the oldest first.
    assert_eq!(claim(&mut bridge, "mt5-1").await, Some(orders[0]));
    assert_eq!(claim(&mut bridge, "mt5-1").await, Some(orders[1]));
    let (state, by): (String, Option<String>) =
        sqlx::query_as("SELECT state::text, claimed_by FROM tradedesk.executions WHERE id = $1")
            .bind(orders[0])
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), by.as_deref()), ("sent", Some("mt5-1")));

    // A fill and a failure, reported the documented way.
    let filled = sqlx::query(&sql[1])
        .bind(orders[0])
        .bind(rust_decimal::Decimal::new(108_565, 5))
        .bind("MT5-1001")
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .execute(&mut bridge)
        .await
        .unwrap();
    assert_eq!(filled.rows_affected(), 1);
    let failed = sqlx::query(&sql[2])
        .bind(orders[1])
        .bind("MT5_EXECUTION_FAILED: 10019 not enough money")
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .execute(&mut bridge)
        .await
        .unwrap();
    assert_eq!(failed.rows_affected(), 1);
    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT state::text, broker_order_id, failure FROM tradedesk.executions
          WHERE id = ANY($1) ORDER BY requested_at",
    )
    .bind(&orders[..2])
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("filled".into(), Some("MT5-1001".into()), None),
            (
                "failed".into(),
                None,
                Some("MT5_EXECUTION_FAILED: 10019 not enough money".into())
            ),
        ]
    );

    // A sent order is the broker's: the kill switch leaves it; the pending one is cancelled
    // and can never be claimed.
    let sent = pending_orders(&pool, 1).await[0];
    assert_eq!(claim(&mut bridge, "mt5-1").await, Some(orders[2]));
    assert_eq!(claim(&mut bridge, "mt5-1").await, Some(sent));
    let last = pending_orders(&pool, 1).await[0];
    let halted = store.halt("CPI", &ann(), false).await.unwrap();
    assert_eq!(halted.executions_cancelled, 1);
    assert_eq!(claim(&mut bridge, "mt5-1").await, None);
    let states: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, state::text FROM tradedesk.executions WHERE id = ANY($1)")
            .bind([sent, last])
            .fetch_all(&pool)
            .await
            .unwrap();
    let states: BTreeSet<_> = states.into_iter().collect();
    assert_eq!(
        states,
        [(sent, "sent".to_string()), (last, "cancelled".to_string())].into()
    );
    // Whoever writes: a sent order cannot be cancelled, a cancelled one cannot be sent or
    // filled.
    for (id, to, refusal) in [
        (sent, "cancelled", "ORDER_SENT"),
        (sent, "pending", "ORDER_SENT"),
        (last, "sent", "ORDER_CANCELLED"),
    ] {
        let err = sqlx::query(
            "UPDATE tradedesk.executions SET state = $2::tradedesk.executionstate,
                    claimed_by = 'mt5-2', claimed_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(to)
        .execute(&mut bridge)
        .await
        .unwrap_err();
        assert!(db_message(err).starts_with(refusal), "{to}");
    }
    let unfilled = sqlx::query(&sql[1])
        .bind(last)
        .bind(rust_decimal::Decimal::ONE)
        .bind("MT5-1002")
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .execute(&mut bridge)
        .await
        .unwrap();
    assert_eq!(unfilled.rows_affected(), 0, "only a sent order fills");
    // A sent order is still an open trade.
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM tradedesk.executions
              WHERE closed_at IS NULL AND state IN ('pending', 'sent', 'filled')"
        )
        .await,
        3
    );
}

/// Whether another session of this database waits for a lock (`true`), checked until one
/// does or `done` is set (`false`).
async fn until_blocked_or(pool: &PgPool, done: &AtomicBool) -> bool {
    loop {
        if done.load(Ordering::SeqCst) {
            return false;
        }
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            return true;
        }
        tokio::task::yield_now().await;
    }
}

/// Many rounds of a bridge claiming and the kill switch at once, on connections of their
/// own. Each round the bridge holds its first claim open while the halt runs into it, then
/// commits it (odd rounds) or takes it back (even rounds), and claims on, every third
/// claim taken back, while the halt finishes. Every order ends claimed (sent, never
/// cancelled) or cancelled (never claimed, its idea halted_by_risk), and none is left
/// pending: the halt waited for the held claim and judged its order again.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn claims_and_the_kill_switch_race_without_a_pending_order_left() {
    const ROUNDS: usize = 30;
    const ORDERS: usize = 8;
    let (db, store, pool) = ready().await;
    let mut bridge = connect(&db).await;
    let (mut sent_total, mut cancelled_total) = (0, 0);
    for round in 0..ROUNDS {
        store.resume(&ann(), "").await.unwrap();
        let orders = pending_orders(&pool, ORDERS).await;
        let holding = Arc::new(tokio::sync::Barrier::new(2));
        let halted_yet = Arc::new(AtomicBool::new(false));
        let claimer = tokio::spawn({
            let (holding, halted_yet, pool) = (holding.clone(), halted_yet.clone(), pool.clone());
            async move {
                let mut claimed = Vec::new();
                let mut tx = bridge.begin().await.unwrap();
                let held = claim(&mut tx, "mt5-race").await.expect("a pending order");
                holding.wait().await;
                let blocked = until_blocked_or(&pool, &halted_yet).await;
                if round % 2 == 1 {
                    tx.commit().await.unwrap();
                    claimed.push(held);
                } else {
                    tx.rollback().await.unwrap();
                }
                for n in 0.. {
                    let undo = n % 3 == 2;
                    let mut tx = bridge.begin().await.unwrap();
                    let got = claim(&mut tx, "mt5-race").await;
                    if undo {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                    }
                    match got {
                        Some(id) if !undo => claimed.push(id),
                        Some(_) => {}
                        None => break,
                    }
                }
                (bridge, claimed, held, blocked)
            }
        });
        let halt = tokio::spawn({
            let (store, holding) = (store.clone(), holding.clone());
            async move {
                holding.wait().await;
                let halted = store.halt("race", &ann(), false).await;
                halted_yet.store(true, Ordering::SeqCst);
                halted
            }
        });
        let halted = halt.await.unwrap().unwrap();
        let (returned, claimed, held, blocked) = claimer.await.unwrap();
        bridge = returned;

        let states: Vec<(uuid::Uuid, String, Option<String>, String)> = sqlx::query_as(
            "SELECT e.id, e.state::text, e.claimed_by, i.status::text
               FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
              WHERE e.id = ANY($1)",
        )
        .bind(&orders)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(states.len(), ORDERS);
        let claimed: BTreeSet<uuid::Uuid> = claimed.into_iter().collect();
        let mut sent = BTreeSet::new();
        let mut cancelled = 0;
        for (id, state, by, idea) in &states {
            match state.as_str() {
                "sent" => {
                    assert_eq!(by.as_deref(), Some("mt5-race"), "round {round}");
                    assert_eq!(idea, "auto_executed", "round {round}");
                    sent.insert(*id);
                }
                "cancelled" => {
                    assert_eq!(
                        by.as_deref(),
                        None,
                        "round {round}: claimed, then cancelled"
                    );
                    assert_eq!(idea, "halted_by_risk", "round {round}");
                    cancelled += 1;
                }
                other => panic!("round {round}: order {id} is {other}"),
            }
        }
        assert_eq!(
            sent, claimed,
            "round {round}: every claim that committed, no other"
        );
        assert!(blocked, "round {round}: the halt waited for the held claim");
        assert_eq!(halted.executions_cancelled, cancelled, "round {round}");
        // The held claim: sent when it committed; taken back, the order was cancelled by
        // the halt or claimed again by the bridge, never left pending.
        if round % 2 == 1 {
            assert!(sent.contains(&held), "round {round}");
        }
        sent_total += sent.len();
        cancelled_total += cancelled;
    }
    assert!(
        sent_total > 0 && cancelled_total > 0,
        "{sent_total} {cancelled_total}"
    );
}

#[tokio::test]
async fn the_platforms_alembic_history_continues_from_tradedesks_schema() {
    // A database tradedesk creates carries the platform's revision 001.
    let fresh = TestDb::new().await;
    setup(&fresh.target(), false).await.unwrap();
    let pool = fresh.pool().await;
    let stamp: Vec<String> = sqlx::query_scalar("SELECT version_num FROM alembic_version")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stamp, ["001"]);
    // The table as Alembic makes it.
    let (column, key): (String, String) = sqlx::query_as(
        "SELECT format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                (SELECT conname::text FROM pg_constraint
                  WHERE conrelid = 'public.alembic_version'::regclass AND contype = 'p')
           FROM pg_attribute a
          WHERE a.attrelid = 'public.alembic_version'::regclass AND a.attname = 'version_num'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (column.as_str(), key.as_str()),
        ("character varying(32) NOT NULL", "alembic_version_pkc")
    );
    // Reverting tradedesk removes only the stamp it made, and only while it is 001.
    let all = migrate::status(&pool).await.unwrap().len() - 1;
    migrate::down(&pool, all).await.unwrap();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM pg_class WHERE relname = 'alembic_version'"
        )
        .await,
        0
    );
    migrate::up(&pool).await.unwrap();
    sqlx::query("UPDATE alembic_version SET version_num = '002'")
        .execute(&pool)
        .await
        .unwrap();
    migrate::down(&pool, 2).await.unwrap();
    let stamp: String = sqlx::query_scalar("SELECT version_num FROM alembic_version")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stamp, "002", "the platform moved on: its stamp stays");

    // An adopted database keeps its own stamp, and never loses it to a revert.
    let adopted = TestDb::new().await;
    adopted.load("phase1_alembic_001.sql").await;
    let pool = adopted.pool().await;
    let report = setup(&adopted.target(), false).await.unwrap();
    assert_eq!(
        report.prepared.migrations.adopted,
        Some(Some("001".to_string()))
    );
    let (stamp, comment): (String, Option<String>) = sqlx::query_as(
        "SELECT version_num, obj_description('public.alembic_version'::regclass, 'pg_class')
           FROM alembic_version",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((stamp.as_str(), comment), ("001", None));
    let all = migrate::status(&pool).await.unwrap().len() - 1;
    migrate::down(&pool, all).await.unwrap();
    let stamp: String = sqlx::query_scalar("SELECT version_num FROM alembic_version")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stamp, "001");
}
