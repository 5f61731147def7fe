//! The schema: tradedesk creates exactly the platform's Phase-1 schema, adopts databases
//! the platform made without losing a row, refuses ones that differ, keeps its own objects
//! in schema `tradedesk` (moving them there from `public` in databases set up before),
//! and migrates reversibly. All against real PostgreSQL.

mod common;

use std::collections::BTreeMap;

use common::TestDb;
use common::platform::{insert_account, insert_idea, insert_strategy};
use sqlx::{Connection as _, PgConnection, PgPool};
use tradedesk::operator::Operator;
use tradedesk::store::catalog::Catalog;
use tradedesk::store::migrate::{self, BOOKKEEPING_TABLES, MIGRATOR, Moved, PHASE1_VERSION};
use tradedesk::store::setup::setup;
use tradedesk::store::{Error, Store};

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

/// The catalog of tradedesk's own schema.
async fn own_catalog(db: &TestDb) -> Catalog {
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    migrate::tradedesk_catalog(&mut conn).await.unwrap()
}

/// Every function named `tradedesk_*`, in any schema: (schema, name, its settings).
async fn functions(pool: &PgPool) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT n.nspname::text, p.proname::text, array_to_string(p.proconfig, '; ')
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE p.proname LIKE 'tradedesk\\_%'
          ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Every row of `table` (a name as SQL takes it, qualified or not), whole, as JSON text.
async fn whole_rows(pool: &PgPool, table: &str) -> String {
    let json: Option<String> = sqlx::query_scalar(&format!(
        "SELECT jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text)::text FROM {table} t"
    ))
    .fetch_one(pool)
    .await
    .unwrap();
    json.unwrap_or_default()
}

/// Whether `name` (qualified) names a table, and a type.
async fn exists(pool: &PgPool, name: &str) -> (bool, bool) {
    sqlx::query_as("SELECT to_regclass($1) IS NOT NULL, to_regtype($1) IS NOT NULL")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Every row of every table, as JSON text, for before/after comparisons. The column
/// tradedesk adds to `decision_history` is left out, so rows compare across adoption.
async fn all_rows(pool: &PgPool, tables: &[&str]) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for table in tables {
        let json: Option<String> = sqlx::query_scalar(&format!(
            "SELECT jsonb_agg(r ORDER BY r::text)::text
               FROM (SELECT to_jsonb(t) - 'operator' - 'audit_seq' - 'audit_hash' AS r
                       FROM {table} t) rows"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        rows.insert(table.to_string(), json.unwrap_or_default());
    }
    rows
}

async fn applied_versions(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT version FROM tradedesk._sqlx_migrations WHERE success ORDER BY version",
    )
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
    // In public, only what must be on the platform's tables.
    assert_eq!(
        added,
        [
            "column decision_history.audit_hash",
            "column decision_history.audit_seq",
            "column decision_history.operator",
            "index idx_decision_history_audit_seq",
            "index idx_decision_history_one_human_decision",
            "index idx_decision_history_short_id",
            "index idx_decision_history_trade_idea",
            "constraint decision_history_audit_seal",
            "trigger decision_history_append_only",
            "trigger decision_history_audit_archive",
            "trigger decision_history_audit_seal",
            "trigger decision_history_no_truncate",
            "trigger decision_history_notify",
            "trigger decision_history_switch_noted",
            "trigger decision_history_zz_audit_link",
            "constraint risk_config_switch_audit",
            "constraint risk_config_switch_audit_insert",
            "trigger risk_config_audit_insert_delete",
            "trigger risk_config_audit_update",
            "trigger risk_config_notify",
            "trigger risk_config_switch_audit",
            "trigger risk_config_switch_audit_insert",
            "trigger snapshot_account_forget_day_on_delete",
            "trigger snapshot_account_forget_day_on_truncate",
            "trigger snapshot_account_forget_day_on_update",
            "trigger snapshot_account_guard_day_limits",
            "trigger snapshot_account_notify",
            "index idx_strategies_short_id",
            "trigger strategies_audit",
            "trigger strategies_notify",
            "index idx_trade_ideas_short_id",
            "constraint trade_ideas_guard_auto_execution_on_insert",
            "constraint trade_ideas_guard_auto_execution_on_update",
            "trigger trade_ideas_guard_auto_execution_on_insert",
            "trigger trade_ideas_guard_auto_execution_on_update",
            "trigger trade_ideas_notify",
            "trigger trade_ideas_share_switch_on_insert",
            "trigger trade_ideas_share_switch_on_update",
        ]
    );
    // The added columns cannot break the platform's inserts.
    for column in ["operator", "audit_seq", "audit_hash"] {
        assert!(
            !actual.tables["decision_history"].columns[column].not_null,
            "{column}"
        );
    }
    // The triggers call tradedesk's functions in tradedesk's schema.
    assert!(
        actual.tables["trade_ideas"].triggers["trade_ideas_notify"]
            .ends_with("EXECUTE FUNCTION tradedesk.tradedesk_notify_change()"),
        "{:?}",
        actual.tables["trade_ideas"].triggers
    );

    // Everything else tradedesk owns is in its schema.
    let own = own_catalog(&fresh).await;
    assert_eq!(own.enums.keys().collect::<Vec<_>>(), ["executionstate"]);
    let own_tables: Vec<(&str, Vec<&str>)> = own
        .tables
        .iter()
        .map(|(name, t)| {
            (
                name.as_str(),
                t.triggers.keys().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        own_tables,
        [
            ("account_day", vec![]),
            ("audit_heads", vec![]),
            (
                "config_changes",
                vec![
                    "config_changes_append_only",
                    "config_changes_audit_archive",
                    "config_changes_audit_seal",
                    "config_changes_no_truncate",
                    "config_changes_zz_audit_link"
                ]
            ),
            (
                "executions",
                vec![
                    "executions_keep_cancelled",
                    "executions_notify",
                    "executions_strategy"
                ]
            ),
            ("login_failures", vec![]),
            ("sessions", vec![]),
            ("simulations", vec![]),
            ("user_roles", vec!["user_roles_audit"]),
        ]
    );
    let pool = fresh.pool().await;
    let fixed = |path: &str| Some(format!("search_path={path}"));
    // Every function tradedesk owns is in its schema with a fixed search_path (the chain's
    // fold is an aggregate, which has none).
    let public = "pg_catalog, public, pg_temp";
    let own = "pg_catalog, pg_temp";
    // pgcrypto's schema, where migration 15 installs it.
    let crypto = "pg_catalog, tradedesk, pg_temp";
    let expected: Vec<(String, String, Option<String>)> = [
        ("tradedesk_actor", Some(own)),
        ("tradedesk_audit_archive", Some(own)),
        ("tradedesk_audit_canonical_config", Some(own)),
        ("tradedesk_audit_canonical_decision", Some(own)),
        ("tradedesk_audit_fold", None),
        ("tradedesk_audit_link", Some(own)),
        ("tradedesk_audit_lock_head", Some(own)),
        ("tradedesk_audit_risk_config", Some(own)),
        ("tradedesk_audit_seal", Some(own)),
        ("tradedesk_audit_step", Some(own)),
        ("tradedesk_audit_strategy", Some(own)),
        ("tradedesk_audit_switch_flip", Some(own)),
        ("tradedesk_audit_user_role", Some(own)),
        ("tradedesk_change_operator", Some(own)),
        ("tradedesk_change_words", Some(own)),
        ("tradedesk_forget_account_day", Some(own)),
        ("tradedesk_guard_auto_execution", Some(public)),
        ("tradedesk_guard_day_limits", Some(public)),
        ("tradedesk_json_kept", Some(own)),
        ("tradedesk_keep_cancelled", Some(own)),
        ("tradedesk_limits_json", Some(own)),
        ("tradedesk_locked_until", Some(own)),
        ("tradedesk_new_token", Some(crypto)),
        ("tradedesk_note_switch_decision", Some(own)),
        ("tradedesk_notify_change", Some(own)),
        ("tradedesk_order_strategy", Some(own)),
        ("tradedesk_own_xid", Some(own)),
        ("tradedesk_password_matches", Some(crypto)),
        ("tradedesk_refuse_history_change", Some(own)),
        ("tradedesk_role_of", Some(own)),
        ("tradedesk_share_switch", Some(public)),
        ("tradedesk_strategy_json", Some(own)),
    ]
    .into_iter()
    .map(|(name, path)| {
        (
            "tradedesk".to_string(),
            name.to_string(),
            path.and_then(fixed),
        )
    })
    .collect();
    assert_eq!(functions(&pool).await, expected);
    for name in [
        "public.executions",
        "public.config_changes",
        "public._sqlx_migrations",
        "public.executionstate",
    ] {
        assert_eq!(exists(&pool, name).await, (false, false), "{name}");
    }

    // The platform's default risk limits.
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
    assert_eq!(counts["tradedesk.executions"], 0);
    assert!(!counts.contains_key("executions"), "{counts:?}");

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

    // Nothing was written: no schema of tradedesk's, no migration record, no risk row, the
    // same catalog.
    let no_schema: bool = sqlx::query_scalar("SELECT to_regnamespace('tradedesk') IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(no_schema);
    assert_eq!(
        exists(&pool, "public._sqlx_migrations").await,
        (false, false)
    );
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
    assert!(tables.contains(&"tradedesk.config_changes"), "{tables:?}");
    let mut with_bookkeeping = tables.clone();
    with_bookkeeping.push("tradedesk._sqlx_migrations");
    let catalog_before = catalog(&db).await;
    let own_before = own_catalog(&db).await;
    let rows_before = all_rows(&pool, &with_bookkeeping).await;

    let second = setup(&db.target(), false).await.unwrap();
    assert!(!second.changed(), "{second:?}");
    assert_eq!(second.prepared.migrations.applied, vec![]);
    assert!(!second.prepared.risk_config_written);
    assert_eq!(second.tables, first.tables);
    assert_eq!(catalog(&db).await, catalog_before);
    assert_eq!(own_catalog(&db).await, own_before);
    assert_eq!(all_rows(&pool, &with_bookkeeping).await, rows_before);
}

#[tokio::test]
async fn migrations_are_reversible_down_to_phase1_and_no_further() {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let pool = db.pool().await;
    let full = catalog(&db).await;
    let own_full = own_catalog(&db).await;
    let functions_full = functions(&pool).await;
    assert_eq!(functions_full.len(), 32);
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
    // Nothing of tradedesk's is left but its record that migration 1 is applied: no table,
    // type or function, in its schema or in public.
    assert_eq!(own_catalog(&db).await, Catalog::default());
    let own_objects: Vec<String> = sqlx::query_scalar(
        "SELECT 'relation ' || c.relname FROM pg_class c
          WHERE c.relnamespace = 'tradedesk'::regnamespace
         UNION ALL
         SELECT 'type ' || t.typname FROM pg_type t
          WHERE t.typnamespace = 'tradedesk'::regnamespace
            AND t.typrelid = 0 AND t.typcategory <> 'A'
         UNION ALL
         SELECT 'function ' || p.proname FROM pg_proc p
          WHERE p.pronamespace = 'tradedesk'::regnamespace
         ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        own_objects,
        [
            "relation _sqlx_migrations",
            "relation _sqlx_migrations_pkey"
        ]
    );
    assert_eq!(functions(&pool).await, []);

    // The Phase-1 schema is never reverted.
    let err = migrate::down(&pool, 1).await.unwrap_err();
    assert!(err.to_string().contains("never drops"), "{err}");
    assert_eq!(applied_versions(&pool).await, vec![PHASE1_VERSION]);

    let report = migrate::up(&pool).await.unwrap();
    assert_eq!(report.applied.len(), tradedesk_migrations);
    assert_eq!(catalog(&db).await, full);
    assert_eq!(own_catalog(&db).await, own_full);
    assert_eq!(functions(&pool).await, functions_full);

    // One step at a time, too.
    for _ in 0..tradedesk_migrations {
        migrate::down(&pool, 1).await.unwrap();
    }
    migrate::up(&pool).await.unwrap();
    assert_eq!(catalog(&db).await, full);
    assert_eq!(own_catalog(&db).await, own_full);
    assert_eq!(functions(&pool).await, functions_full);
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
    sqlx::query("UPDATE tradedesk._sqlx_migrations SET checksum = '\\x00' WHERE version = $1")
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
        "INSERT INTO tradedesk._sqlx_migrations VALUES (99999, 'from the future', now(), true, '\\x00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM tradedesk._sqlx_migrations WHERE version = $1")
        .bind(PHASE1_VERSION)
        .execute(&pool)
        .await
        .unwrap();
    let err = migrate::up(&pool).await.unwrap_err();
    assert!(err.to_string().contains("upgrade tradedesk"), "{err}");
}

#[tokio::test]
async fn a_database_set_up_with_everything_in_public_moves_to_the_tradedesk_schema_with_every_row()
{
    let db = TestDb::new().await;
    common::set_up_with_everything_in_public(&db).await;
    let pool = db.pool().await;
    for name in [
        "public.executions",
        "public.config_changes",
        "public._sqlx_migrations",
    ] {
        assert!(exists(&pool, name).await.0, "{name} before the move");
    }
    insert_strategy(&pool).await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();
    let other = insert_idea(&pool, "needs_approval").await.unwrap();
    sqlx::raw_sql(&format!(
        "INSERT INTO executions (id, trade_idea_id, lot_size, requested_by, state, fill_price)
         VALUES ('5f5f5f5f-0000-4000-8000-000000000001', '{idea}', 0.30, 'ann@desk', 'filled',
                 1.085700),
                ('5f5f5f5f-0000-4000-8000-000000000002', '{other}', 0.10, 'bob@desk',
                 'cancelled', NULL);
         INSERT INTO config_changes (id, operator, subject, change, before, after)
         VALUES ('7a7a7a7a-0000-4000-8000-000000000001', 'ann@desk', 'risk_config',
                 'max_lot_size=0.50', '{{\"max_lot_size\": \"1.00\"}}',
                 '{{\"max_lot_size\": \"0.50\"}}'),
                ('7a7a7a7a-0000-4000-8000-000000000002', 'bob@desk', 'strategy', 'disabled',
                 NULL, NULL);
         INSERT INTO decision_history (id, symbol, action, rationale, trade_idea_id,
                                       human_override, operator)
         VALUES ('6f6f6f6f-0000-4000-8000-000000000001', 'EURUSD', 'human_approved', 'ok',
                 '{idea}', true, 'ann@desk');"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let moving = ["executions", "config_changes", "_sqlx_migrations"];
    let mut before = BTreeMap::new();
    for table in moving {
        before.insert(table, whole_rows(&pool, &format!("public.{table}")).await);
    }
    let history_before = whole_rows(&pool, "decision_history").await;

    let report = setup(&db.target(), false).await.unwrap();
    let moved = |kind: &'static str, name: &str, rows: Option<i64>| Moved {
        kind,
        name: name.to_string(),
        rows,
    };
    assert_eq!(
        report.prepared.migrations.moved,
        [
            moved("table", "executions", Some(2)),
            moved("type", "executionstate", None),
            moved("function", "tradedesk_guard_auto_execution()", None),
            moved("function", "tradedesk_refuse_history_change()", None),
            moved("function", "tradedesk_keep_cancelled()", None),
            moved("function", "tradedesk_notify_change()", None),
            moved("table", "config_changes", Some(2)),
            moved("table", "_sqlx_migrations", Some(4)),
        ]
    );
    assert!(report.changed());
    assert_eq!(report.prepared.migrations.adopted, None);
    let run: Vec<i64> = report
        .prepared
        .migrations
        .applied
        .iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(run, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    assert_eq!(
        report.prepared.migrations.moved[0].to_string(),
        "table executions (2 rows)"
    );

    // Every row moved, the record of migrations 1-4 (with when they were applied) too;
    // migrations 5 to 9 were recorded after them.
    for table in moving {
        // Migrations 6 and 7 added columns to executions and config_changes after the move;
        // the moved rows are the same without them.
        let rows = match table {
            "_sqlx_migrations" => "(SELECT * FROM tradedesk._sqlx_migrations WHERE version <= 4)",
            "executions" => {
                "(SELECT id, trade_idea_id, state, lot_size, requested_by, requested_at, \
                         broker_order_id, fill_price, updated_at FROM tradedesk.executions)"
            }
            _ => {
                // (and the limits the set-up created, audited since migration 14)
                "(SELECT id, changed_at, operator, subject, subject_id, subject_name, change, \
                         before, after FROM tradedesk.config_changes \
                   WHERE operator NOT LIKE '%(tradedesk setup)')"
            }
        };
        assert_eq!(
            whole_rows(&pool, rows).await,
            before[table],
            "rows of {table}"
        );
        assert!(
            !exists(&pool, &format!("public.{table}")).await.0,
            "{table}"
        );
    }
    assert!(!exists(&pool, "public.executionstate").await.1);
    assert!(
        functions(&pool).await.iter().all(|f| f.0 == "tradedesk"),
        "{:?}",
        functions(&pool).await
    );
    // The decisions are as they were, now chained (migration 7).
    let history = "(SELECT id, occurred_at, symbol, action, rationale, confidence_score, \
                           risk_check_result, strategy_id, trade_idea_id, snapshot_ref, \
                           human_override, operator FROM decision_history)";
    assert_eq!(whole_rows(&pool, history).await, history_before);
    assert_eq!(applied_versions(&pool).await, all_versions());

    // The same schema as a database set up by this tradedesk, in both schemas.
    let fresh = TestDb::new().await;
    setup(&fresh.target(), false).await.unwrap();
    assert_eq!(catalog(&db).await, catalog(&fresh).await);
    assert_eq!(own_catalog(&db).await, own_catalog(&fresh).await);
    assert_eq!(functions(&pool).await, functions(&fresh.pool().await).await);

    // The safeguards hold on the moved tables, and tradedesk's acts work on them.
    let err = sqlx::query("UPDATE tradedesk.executions SET state = 'filled'")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ORDER_CANCELLED"), "{err}");
    let err = sqlx::query("TRUNCATE tradedesk.config_changes")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("APPEND_ONLY"), "{err}");
    let store = Store::open(&db.target(), 2).await.unwrap();
    let ann = Operator::new("ann@desk").unwrap();
    // The newest change of the limits: the set-up created them (this desk had none).
    let last = store.last_risk_change().await.unwrap().unwrap();
    assert!(
        last.operator.ends_with(" (tradedesk setup)") && last.changes == "created",
        "{last:?}"
    );
    let halted = store.halt("moved", &ann, false).await.unwrap();
    assert_eq!(halted.executions_cancelled, 0);
    let audits: i64 = sqlx::query_scalar("SELECT count(*) FROM tradedesk.config_changes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(audits, 3);

    let again = setup(&db.target(), false).await.unwrap();
    assert!(!again.changed(), "{again:?}");
}

#[tokio::test]
async fn platform_objects_under_names_tradedesk_once_used_are_left_alone() {
    let db = TestDb::new().await;
    db.load("phase1_alembic_001.sql").await;
    let pool = db.pool().await;
    // The platform's own executions store (another shape, another enum of that name), an
    // audit table and a migrations table of some other sqlx program, all in public.
    sqlx::raw_sql(
        "CREATE TYPE executionstate AS ENUM ('queued', 'sent', 'done');
         CREATE TABLE executions (
             id         BIGSERIAL PRIMARY KEY,
             order_ref  TEXT NOT NULL UNIQUE,
             state      executionstate NOT NULL,
             sent_at    TIMESTAMPTZ
         );
         INSERT INTO executions (order_ref, state, sent_at)
         VALUES ('MT5-1', 'done', '2025-10-28 14:00:00+00'), ('MT5-2', 'queued', NULL);
         CREATE TABLE config_changes (key TEXT PRIMARY KEY, value TEXT);
         INSERT INTO config_changes VALUES ('broker', 'mt5');
         CREATE TABLE _sqlx_migrations (
             version BIGINT PRIMARY KEY, description TEXT NOT NULL,
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL,
             checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL
         );
         INSERT INTO _sqlx_migrations VALUES (20250101000000, 'feeds', now(), true, '\\x01', 1);",
    )
    .execute(&pool)
    .await
    .unwrap();
    insert_strategy(&pool).await;
    insert_account(&pool, "10000.00", 0).await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();
    let platforms = ["executions", "config_changes", "_sqlx_migrations"];
    let catalog_before = catalog(&db).await;
    let mut rows_before = BTreeMap::new();
    for table in platforms {
        rows_before.insert(table, whole_rows(&pool, &format!("public.{table}")).await);
    }

    let report = setup(&db.target(), false).await.unwrap();
    assert_eq!(report.prepared.migrations.moved, []);
    assert_eq!(
        report.prepared.migrations.adopted,
        Some(Some("001".to_string()))
    );
    assert_eq!(applied_versions(&pool).await, all_versions());
    let counts: BTreeMap<String, i64> = report.tables.into_iter().collect();
    assert_eq!(counts["executions"], 2);
    assert_eq!(counts["tradedesk.executions"], 0);

    // tradedesk's acts use its own tables.
    let store = Store::open(&db.target(), 2).await.unwrap();
    let ann = Operator::new("ann@desk").unwrap();
    store
        .approve(
            uuid::Uuid::parse_str(&idea).unwrap(),
            tradedesk::domain::Lot::parse("0.30").unwrap(),
            &ann,
        )
        .await
        .unwrap();
    let halted = store.halt("test", &ann, false).await.unwrap();
    assert_eq!(halted.executions_cancelled, 1);
    let ours: Vec<(String, String)> =
        sqlx::query_as("SELECT trade_idea_id::text, state::text FROM tradedesk.executions")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(ours, [(idea.clone(), "cancelled".to_string())]);

    // Reverting tradedesk's migrations drops tradedesk's objects of those names, never
    // the platform's.
    let tradedesk_migrations = all_versions().len() - 1;
    migrate::down(&pool, tradedesk_migrations).await.unwrap();
    assert_eq!(own_catalog(&db).await, Catalog::default());
    migrate::up(&pool).await.unwrap();

    // The platform's objects: the same shape, the same rows.
    let catalog_after = catalog(&db).await;
    for table in platforms {
        assert_eq!(
            catalog_after.tables[table], catalog_before.tables[table],
            "shape of {table}"
        );
        assert_eq!(
            whole_rows(&pool, &format!("public.{table}")).await,
            rows_before[table],
            "rows of {table}"
        );
    }
    assert_eq!(
        catalog_after.enums["executionstate"],
        ["queued", "sent", "done"]
    );
    let again = setup(&db.target(), false).await.unwrap();
    assert!(!again.changed(), "{again:?}");
}

#[tokio::test]
async fn a_record_in_public_mixing_tradedesks_migrations_with_others_is_refused() {
    let db = TestDb::new().await;
    common::set_up_with_everything_in_public(&db).await;
    let pool = db.pool().await;
    sqlx::raw_sql(
        "INSERT INTO _sqlx_migrations VALUES (20250101000000, 'feeds', now(), true, '\\x01', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let before = catalog(&db).await;

    let err = setup(&db.target(), false).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("migration 20250101000000, which is not this tradedesk's"),
        "{message}"
    );
    assert!(message.contains("nothing was moved"), "{message}");
    assert_eq!(catalog(&db).await, before);
    let no_schema: bool = sqlx::query_scalar("SELECT to_regnamespace('tradedesk') IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(no_schema);
}
