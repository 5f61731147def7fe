//! The schema: tradedesk creates exactly the platform's Phase-1 schema, adopts databases
//! the platform made without losing a row, refuses ones that differ, and migrates
//! reversibly. All against real PostgreSQL.

mod common;

use std::collections::BTreeMap;

use common::TestDb;
use sqlx::{Connection as _, PgConnection, PgPool};
use tradedesk::store::Error;
use tradedesk::store::catalog::Catalog;
use tradedesk::store::migrate::{self, BOOKKEEPING_TABLES, MIGRATOR, PHASE1_VERSION};
use tradedesk::store::setup::setup;

const PHASE1_TABLES: [&str; 11] = [
    "users",
    "strategies",
    "risk_config",
    "snapshot_market",
    "snapshot_indicators",
    "snapshot_calendar",
    "snapshot_news",
    "snapshot_account",
    "trade_ideas",
    "decision_history",
    "alembic_version",
];

async fn catalog(db: &TestDb) -> Catalog {
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    migrate::public_catalog(&mut conn).await.unwrap()
}

/// Every row of every table, as JSON text, for before/after comparisons. The column
/// tradedesk adds to `decision_history` is left out, so rows compare across adoption.
async fn all_rows(pool: &PgPool, tables: &[&str]) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for table in tables {
        let json: Option<String> = sqlx::query_scalar(&format!(
            "SELECT jsonb_agg(to_jsonb(t) - 'operator' ORDER BY (to_jsonb(t) - 'operator')::text)::text
               FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        rows.insert(table.to_string(), json.unwrap_or_default());
    }
    rows
}

async fn applied_versions(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn all_versions() -> Vec<i64> {
    MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect()
}

#[tokio::test]
async fn phase1_migration_creates_exactly_the_platforms_schema() {
    let platform = TestDb::new().await;
    platform.load("phase1_alembic_001.sql").await;

    let ours = TestDb::new().await;
    let mut conn = PgConnection::connect(&ours.url).await.unwrap();
    let phase1 = MIGRATOR
        .iter()
        .find(|m| m.version == PHASE1_VERSION)
        .unwrap();
    sqlx::raw_sql(&phase1.sql).execute(&mut conn).await.unwrap();

    let expected = catalog(&platform).await;
    let actual = catalog(&ours).await;
    // Every table, column, type, nullability, default, constraint, index and enum label,
    // both ways (the mismatch lists first, as they read better than a catalog dump).
    assert_eq!(expected.mismatches(&actual), vec![]);
    assert_eq!(actual.mismatches(&expected), vec![]);
    assert_eq!(actual, expected);
    assert_eq!(expected.tables.len(), 10);
    assert_eq!(expected.enums.len(), 2);
    assert_eq!(
        expected.enums["decisionaction"],
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
    // The reference used at run time (migration 1 in a scratch schema) is the same too.
    let reference = migrate::phase1_reference(&mut conn).await.unwrap();
    assert_eq!(reference, expected);
}

#[tokio::test]
async fn fresh_setup_holds_phase1_plus_only_declared_additions() {
    let platform = TestDb::new().await;
    platform.load("phase1_alembic_001.sql").await;
    let expected = catalog(&platform).await;

    let fresh = TestDb::new().await;
    let report = setup(&fresh.target(), false).await.unwrap();
    assert_eq!(report.prepared.migrations.adopted, None);
    assert_eq!(
        report
            .prepared
            .migrations
            .applied
            .iter()
            .map(|a| a.0)
            .collect::<Vec<_>>(),
        all_versions()
    );
    assert!(report.prepared.risk_config_written);
    let actual = catalog(&fresh).await;

    assert_eq!(expected.mismatches(&actual), vec![]);
    // What tradedesk adds, object by object: anything else is a change to review.
    let mut added: Vec<String> = actual
        .enums
        .keys()
        .filter(|e| !expected.enums.contains_key(*e))
        .map(|e| format!("enum {e}"))
        .collect();
    for (name, table) in &actual.tables {
        match expected.tables.get(name) {
            None => added.push(format!("table {name}")),
            Some(phase1) => {
                for column in table.columns.keys() {
                    if !phase1.columns.contains_key(column) {
                        added.push(format!("column {name}.{column}"));
                    }
                }
                for index in table.indexes.keys() {
                    if !phase1.indexes.contains_key(index) {
                        added.push(format!("index {index}"));
                    }
                }
                for constraint in table.constraints.keys() {
                    if !phase1.constraints.contains_key(constraint) {
                        added.push(format!("constraint {constraint}"));
                    }
                }
                for trigger in table.triggers.keys() {
                    added.push(format!("trigger {trigger}"));
                }
            }
        }
    }
    assert_eq!(
        added,
        [
            "enum executionstate",
            "table config_changes",
            "column decision_history.operator",
            "index idx_decision_history_one_human_decision",
            "trigger decision_history_append_only",
            "trigger decision_history_no_truncate",
            "trigger decision_history_notify",
            "table executions",
            "trigger risk_config_notify",
            "trigger snapshot_account_notify",
            "trigger strategies_notify",
            "trigger trade_ideas_guard_auto_execution",
            "trigger trade_ideas_notify",
        ]
    );
    // The added column cannot break the platform's inserts.
    let operator = &actual.tables["decision_history"].columns["operator"];
    assert!(!operator.not_null);

    // The platform's default risk limits.
    let pool = fresh.pool().await;
    let row: (
        bool,
        String,
        String,
        i32,
        String,
        String,
        bool,
        bool,
        bool,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT ai_trading_enabled, min_confidence_threshold::text, max_lot_size::text,
                    max_concurrent_trades, daily_profit_target::text, max_drawdown_amount::text,
                    stop_after_target, halt_on_drawdown, allow_off_watchlist_autotrade,
                    last_halt_reason
               FROM risk_config",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            false,
            "90.00".into(),
            "1.00".into(),
            3,
            "2000.00".into(),
            "1000.00".into(),
            true,
            true,
            false,
            None
        )
    );
}

#[tokio::test]
async fn adopting_a_phase1_database_keeps_every_row() {
    let db = TestDb::new().await;
    db.load("phase1_alembic_001.sql").await;
    db.load("phase1_rows.sql").await;
    let pool = db.pool().await;
    let before = all_rows(&pool, &PHASE1_TABLES).await;
    assert!(before["trade_ideas"].contains("needs_approval"));

    let report = setup(&db.target(), false).await.unwrap();
    assert_eq!(
        report.prepared.migrations.adopted,
        Some(Some("001".to_string()))
    );
    // Migration 1 is recorded, not run; the rest are run.
    let run: Vec<i64> = report
        .prepared
        .migrations
        .applied
        .iter()
        .map(|a| a.0)
        .collect();
    assert!(!run.contains(&PHASE1_VERSION));
    assert_eq!(run.len(), all_versions().len() - 1);
    assert_eq!(applied_versions(&pool).await, all_versions());
    // The operator's risk limits stay; no default row replaces them.
    assert!(!report.prepared.risk_config_written);

    let after = all_rows(&pool, &PHASE1_TABLES).await;
    for table in PHASE1_TABLES {
        assert_eq!(after[table], before[table], "rows of {table} changed");
    }
    // Rows written before tradedesk have no operator.
    let operators: i64 =
        sqlx::query_scalar("SELECT count(*) FROM decision_history WHERE operator IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(operators, 0);
    let counts: BTreeMap<String, i64> = report.tables.into_iter().collect();
    assert_eq!(counts["trade_ideas"], 2);
    assert_eq!(counts["decision_history"], 3);
    assert_eq!(counts["alembic_version"], 1);

    // The platform keeps writing the way it always has.
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, human_override)
         VALUES ('d4e5f6a7-b8c9-4dae-8f01-3b4c5d6e7f80', now(), NULL, 'ai_resumed', 'Resumed', false)",
    )
    .execute(&pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_database_that_differs_from_phase1_is_refused_and_left_untouched() {
    let db = TestDb::new().await;
    db.load("phase1_alembic_001.sql").await;
    let pool = db.pool().await;
    sqlx::raw_sql(
        "ALTER TABLE trade_ideas ALTER COLUMN confidence_score TYPE double precision;
         ALTER TABLE strategies DROP COLUMN risk_caps;
         DROP INDEX idx_decision_history_action_occurred;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let before = catalog(&db).await;

    let err = setup(&db.target(), false).await.unwrap_err();
    let Error::SchemaMismatch { mismatches, .. } = &err else {
        panic!("expected a schema mismatch, got {err}");
    };
    let named: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    assert_eq!(
        named,
        [
            "table decision_history: index idx_decision_history_action_occurred is missing",
            "table strategies: column risk_caps is missing",
            "table trade_ideas: column confidence_score is double precision where Phase 1 has numeric(5,2)",
        ]
    );
    let message = err.to_string();
    assert!(message.contains("changed nothing"), "{message}");

    // Nothing was written: no migration record, no risk row, the same catalog.
    let sqlx_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(sqlx_table);
    let risk_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM risk_config")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(risk_rows, 0);
    assert_eq!(catalog(&db).await, before);
}

#[tokio::test]
async fn a_foreign_table_under_a_phase1_name_is_refused() {
    let db = TestDb::new().await;
    let pool = db.pool().await;
    sqlx::raw_sql("CREATE TABLE users (id serial PRIMARY KEY, login text)")
        .execute(&pool)
        .await
        .unwrap();
    let err = setup(&db.target(), false).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("table users: column id is integer where Phase 1 has uuid"),
        "{message}"
    );
    assert!(
        message.contains("table trade_ideas is missing"),
        "{message}"
    );
    assert!(
        message.contains("enum type tradeideastatus is missing"),
        "{message}"
    );
}

#[tokio::test]
async fn setup_twice_changes_nothing() {
    let db = TestDb::new().await;
    let first = setup(&db.target(), false).await.unwrap();
    assert!(first.changed());
    let pool = db.pool().await;
    let tables: Vec<&str> = first.tables.iter().map(|(t, _)| t.as_str()).collect();
    let mut with_bookkeeping = tables.clone();
    with_bookkeeping.push("_sqlx_migrations");
    let catalog_before = catalog(&db).await;
    let rows_before = all_rows(&pool, &with_bookkeeping).await;

    let second = setup(&db.target(), false).await.unwrap();
    assert!(!second.changed(), "{second:?}");
    assert_eq!(second.prepared.migrations.applied, vec![]);
    assert!(!second.prepared.risk_config_written);
    assert_eq!(second.tables, first.tables);
    assert_eq!(catalog(&db).await, catalog_before);
    assert_eq!(all_rows(&pool, &with_bookkeeping).await, rows_before);
}

#[tokio::test]
async fn migrations_are_reversible_down_to_phase1_and_no_further() {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let pool = db.pool().await;
    let full = catalog(&db).await;
    let tradedesk_migrations = all_versions().len() - 1;
    assert!(tradedesk_migrations >= 1);

    let reverted = migrate::down(&pool, tradedesk_migrations).await.unwrap();
    assert_eq!(reverted.len(), tradedesk_migrations);
    assert_eq!(applied_versions(&pool).await, vec![PHASE1_VERSION]);
    // Down to exactly what migration 1 creates.
    let mut conn = pool.acquire().await.unwrap();
    let phase1 = migrate::phase1_reference(&mut conn).await.unwrap();
    drop(conn);
    assert_eq!(catalog(&db).await, phase1);

    // The Phase-1 schema is never reverted.
    let err = migrate::down(&pool, 1).await.unwrap_err();
    assert!(err.to_string().contains("never drops"), "{err}");
    assert_eq!(applied_versions(&pool).await, vec![PHASE1_VERSION]);

    let report = migrate::up(&pool).await.unwrap();
    assert_eq!(report.applied.len(), tradedesk_migrations);
    assert_eq!(catalog(&db).await, full);

    // One step at a time, too.
    for _ in 0..tradedesk_migrations {
        migrate::down(&pool, 1).await.unwrap();
    }
    migrate::up(&pool).await.unwrap();
    assert_eq!(catalog(&db).await, full);
}

#[tokio::test]
async fn bookkeeping_tables_are_not_part_of_the_compared_schema() {
    let db = TestDb::new().await;
    db.load("phase1_alembic_001.sql").await;
    let catalog = catalog(&db).await;
    for table in BOOKKEEPING_TABLES {
        assert!(!catalog.tables.contains_key(table));
    }
}

#[tokio::test]
async fn a_migration_changed_after_it_was_applied_is_refused() {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let pool = db.pool().await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = $1")
        .bind(PHASE1_VERSION)
        .execute(&pool)
        .await
        .unwrap();
    let err = migrate::up(&pool).await.unwrap_err();
    assert!(
        matches!(err, Error::ChangedMigration { version: 1, .. }),
        "{err}"
    );

    sqlx::query(
        "INSERT INTO _sqlx_migrations VALUES (99999, 'from the future', now(), true, '\\x00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(PHASE1_VERSION)
        .execute(&pool)
        .await
        .unwrap();
    let err = migrate::up(&pool).await.unwrap_err();
    assert!(err.to_string().contains("upgrade tradedesk"), "{err}");
}
