//! Schema versions: tradedesk's migrations, the adoption of databases the platform made,
//! and the schema of tradedesk's own.
//!
//! Migration 1 is the platform's Phase-1 schema, in `public`. On a database the platform
//! already made (with Alembic revision `001`), it is verified against the catalog and
//! recorded as applied without running; migrations after it hold only what tradedesk adds
//! and each has a down script. Migration 1 has none: tradedesk never drops the platform's
//! data.
//!
//! Everything tradedesk owns (its tables, types, functions and the record of its
//! migrations) lives in schema `tradedesk`, so that no table the platform's later Alembic
//! revisions create in `public` can collide with one of tradedesk's. Only what must sit on
//! the platform's tables stays in `public`: the `operator` column of `decision_history`,
//! the triggers, and the index that allows one human decision per idea. Migrations 2 and
//! later name their objects unqualified (their text is fixed: databases record their
//! checksums), so they run on a connection whose search_path is `tradedesk, public`: what
//! they create lands in `tradedesk`, the first schema of the path, while the platform's
//! tables they alter or put triggers on are found in `public`. sqlx keeps its
//! `_sqlx_migrations` table unqualified too, so it is created and read in `tradedesk`.
//! Databases set up before, with all of this in `public`, are moved on the next [`up`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::migrate::{MigrateError, Migration, Migrator};
use sqlx::{Connection as _, PgConnection, PgPool};
use uuid::Uuid;

use super::catalog::{Catalog, quote_ident};
use super::error::Error;

/// tradedesk's migrations, embedded in the binary from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The version of the Phase-1 schema migration.
pub const PHASE1_VERSION: i64 = 1;

/// The schema of tradedesk's own tables, types, functions and migration records.
pub const SCHEMA: &str = "tradedesk";

/// The table sqlx's migrator records applied migrations in (in [`SCHEMA`]).
pub const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// The search_path migrations 2 and later run with: see the module's documentation.
const MIGRATION_SEARCH_PATH: &str = "tradedesk, public";

/// Tables of `public` that record schema versions, not platform data: the platform's
/// Alembic keeps its revision there (migration 12 creates it, at `001`, where it is
/// missing, so that the platform's next revisions apply). (tradedesk's record,
/// [`MIGRATIONS_TABLE`], is in [`SCHEMA`].)
pub const BOOKKEEPING_TABLES: [&str; 1] = ["alembic_version"];

/// What tradedesk's migrations 2-4 created in `public` before tradedesk kept its objects
/// in a schema of its own, by the migration that created them: what moves to [`SCHEMA`]
/// with a database set up then. Indexes, constraints and triggers move with their tables,
/// an enum's array type with the enum, and the triggers on the platform's tables keep
/// calling the moved functions, which they refer to by OID, not by name.
const LEGACY_OBJECTS: [(i64, &[(ObjectKind, &str)]); 3] = [
    (
        2,
        &[
            (ObjectKind::Table, "executions"),
            (ObjectKind::Type, "executionstate"),
        ],
    ),
    (
        3,
        &[
            (ObjectKind::Function, "tradedesk_guard_auto_execution()"),
            (ObjectKind::Function, "tradedesk_refuse_history_change()"),
            (ObjectKind::Function, "tradedesk_keep_cancelled()"),
            (ObjectKind::Function, "tradedesk_notify_change()"),
        ],
    ),
    (4, &[(ObjectKind::Table, "config_changes")]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    Table,
    Type,
    Function,
}

impl ObjectKind {
    fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Table => "TABLE",
            ObjectKind::Type => "TYPE",
            ObjectKind::Function => "FUNCTION",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Type => "type",
            ObjectKind::Function => "function",
        }
    }
}

/// Any key will do as long as every tradedesk process uses the same one.
const ADOPTION_LOCK: i64 = 0x7472_6164_6564_736b; // "tradedsk"

/// A migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationState {
    pub version: i64,
    pub description: String,
    /// When it was applied, if it was.
    pub applied_on: Option<DateTime<Utc>>,
    /// Whether `migrate down` can revert it.
    pub reversible: bool,
}

/// What [`up`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpReport {
    /// tradedesk's objects moved from `public` to schema `tradedesk` (a database set up
    /// before tradedesk had a schema of its own), in the order they were moved.
    pub moved: Vec<Moved>,
    /// Set when a Phase-1 database was adopted: its Alembic revision, if it records one.
    pub adopted: Option<Option<String>>,
    /// The migrations run, in order.
    pub applied: Vec<(i64, String)>,
    /// Ideas whose history holds more than one human decision, written before one
    /// decision per idea held whoever wrote it (migration 12): the first of each stands,
    /// the later ones stay in the history outside the rule. Named on every run.
    pub several_human_decisions: Vec<SeveralDecisions>,
}

/// An idea with more than one human decision in its history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeveralDecisions {
    pub idea: Uuid,
    /// Oldest first; the first is the one the rule counts.
    pub decisions: Vec<HumanDecision>,
}

/// One of an idea's human decisions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HumanDecision {
    pub id: Uuid,
    /// `human_approved`, `human_rejected` or `risk_rejected`.
    pub action: String,
    /// `None` for the platform's own rows.
    pub operator: Option<String>,
    /// When, as stored: `2025-10-28 14:05:00 UTC` (or `infinity`, which any writer can
    /// store).
    pub occurred_at: String,
    /// Whether the one-decision rule counts it (the first), or leaves it out.
    pub counted: bool,
}

/// One object moved from `public` to schema `tradedesk`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moved {
    /// `table`, `type` or `function`.
    pub kind: &'static str,
    /// Its name (a function's with its argument list, `()`).
    pub name: String,
    /// A table's rows, all of which moved with it.
    pub rows: Option<i64>,
}

impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.name)?;
        match self.rows {
            Some(1) => write!(f, " (1 row)"),
            Some(rows) => write!(f, " ({rows} rows)"),
            None => Ok(()),
        }
    }
}

/// Each migration of this tradedesk with the database's record of it.
pub async fn status(pool: &PgPool) -> Result<Vec<MigrationState>, Error> {
    let applied = applied(pool).await?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| MigrationState {
            version: m.version,
            description: m.description.to_string(),
            applied_on: applied.get(&m.version).map(|a| a.installed_on),
            reversible: down_script(m.version).is_some(),
        })
        .collect())
}

/// Brings the database to this tradedesk's newest schema: moves tradedesk's objects out of
/// `public` if an earlier tradedesk left them there, adopts a Phase-1 database (or creates
/// the Phase-1 schema in an empty one), then runs the migrations not yet applied. A
/// database whose Phase-1 tables differ from the platform's is refused whole.
pub async fn up(pool: &PgPool) -> Result<UpReport, Error> {
    let database = current_database(pool).await?;
    // First, so that the history read next is where this tradedesk keeps it.
    let moved = move_out_of_public(pool, &database).await?;
    let before = applied(pool).await?;
    check_history(&database, &before)?;

    let mut report = UpReport {
        moved,
        ..UpReport::default()
    };
    if !before.contains_key(&PHASE1_VERSION) {
        report.adopted = establish_phase1(pool, &database).await?;
    }
    let mut conn = migration_connection(pool).await?;
    let run = MIGRATOR.run(&mut conn).await;
    conn.close().await.ok();
    run.map_err(|e| migrate_error(&database, e))?;
    let after = applied(pool).await?;
    // An adopted migration 1 was recorded, not run.
    let adopted = report.adopted.is_some();
    report.applied = after
        .keys()
        .filter(|v| !(before.contains_key(v) || adopted && **v == PHASE1_VERSION))
        .map(|v| (*v, description(*v)))
        .collect();
    report.several_human_decisions = several_human_decisions(pool).await?;
    Ok(report)
}

#[derive(sqlx::FromRow)]
struct HumanDecisionRow {
    trade_idea_id: Uuid,
    id: Uuid,
    action: String,
    operator: Option<String>,
    occurred_at: String,
    counted: bool,
}

/// The ideas migration 12 found with more than one human decision, and those decisions:
/// the ids it left out of `idx_decision_history_one_human_decision` are in the index's
/// predicate (`id <> ALL ('{…}'::uuid[])`), read back from the catalog; each idea's human
/// decisions are then one probe of `idx_decision_history_trade_idea`.
async fn several_human_decisions(pool: &PgPool) -> Result<Vec<SeveralDecisions>, Error> {
    let rows: Vec<HumanDecisionRow> = sqlx::query_as(
        "WITH left_out AS (
             SELECT m[1]::uuid AS id
               FROM pg_index x,
                    regexp_matches(pg_get_expr(x.indpred, x.indrelid),
                                   '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})',
                                   'g') AS m
              WHERE x.indexrelid =
                    to_regclass('public.idx_decision_history_one_human_decision')
         )
         SELECT d.trade_idea_id, d.id, d.action::text AS action, d.operator,
                CASE WHEN isfinite(d.occurred_at)
                     THEN to_char(d.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                          || ' UTC'
                     ELSE d.occurred_at::text END AS occurred_at,
                d.id NOT IN (SELECT id FROM left_out) AS counted
           FROM public.decision_history d
          WHERE d.trade_idea_id IN (SELECT l.trade_idea_id FROM public.decision_history l
                                     WHERE l.id IN (SELECT id FROM left_out))
            AND d.action IN ('human_approved', 'human_rejected', 'risk_rejected')
          ORDER BY d.trade_idea_id, d.occurred_at, d.id",
    )
    .fetch_all(pool)
    .await
    .map_err(Error::Database)?;
    let mut out: Vec<SeveralDecisions> = Vec::new();
    for row in rows {
        let idea = row.trade_idea_id;
        let decision = HumanDecision {
            id: row.id,
            action: row.action,
            operator: row.operator,
            occurred_at: row.occurred_at,
            counted: row.counted,
        };
        match out.last_mut() {
            Some(last) if last.idea == idea => last.decisions.push(decision),
            _ => out.push(SeveralDecisions {
                idea,
                decisions: vec![decision],
            }),
        }
    }
    Ok(out)
}

/// Reverts the newest `steps` tradedesk migrations. Refuses to touch the Phase-1 schema.
/// The migrations `down(steps)` would revert, newest last; refused (nothing reverted) when
/// there are not that many or one of them cannot be reverted.
pub async fn reverting(pool: &PgPool, steps: usize) -> Result<Vec<i64>, Error> {
    let database = current_database(pool).await?;
    let applied = applied(pool).await?;
    reverted_by(&database, &applied, steps)
}

fn reverted_by(
    database: &str,
    applied: &BTreeMap<i64, Applied>,
    steps: usize,
) -> Result<Vec<i64>, Error> {
    check_history(database, applied)?;
    let revertible: Vec<i64> = applied
        .keys()
        .copied()
        .filter(|v| *v != PHASE1_VERSION)
        .collect();
    if steps == 0 {
        return Err(Error::Refused(
            "give the number of migrations to revert, 1 or more".into(),
        ));
    }
    if steps > revertible.len() {
        return Err(Error::Refused(format!(
            "only {} tradedesk migration{} applied above the Phase-1 schema, which tradedesk \
             never drops; nothing was reverted",
            revertible.len(),
            if revertible.len() == 1 {
                " is"
            } else {
                "s are"
            }
        )));
    }
    let reverted: Vec<i64> = revertible[revertible.len() - steps..].to_vec();
    if let Some(v) = reverted.iter().find(|v| down_script(**v).is_none()) {
        return Err(Error::Refused(format!(
            "migration {v} has no down script; nothing was reverted"
        )));
    }
    Ok(reverted)
}

/// What reverting a migration drops that the desk cannot do without: the word that
/// acknowledges it (`migrate down --i-understand-this-drops WORD,…`), what it is, and the
/// migration whose down script drops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Dropped {
    pub word: &'static str,
    pub what: &'static str,
    pub migration: i64,
}

const DROPPED: [Dropped; 6] = [
    Dropped {
        word: "change-audit",
        what: "the database's audit of every change of limits, strategies and roles",
        migration: 14,
    },
    Dropped {
        word: "logins",
        what: "the desk's logins, sessions and roles (every active user becomes an admin)",
        migration: 9,
    },
    Dropped {
        word: "audit-chain",
        what: "the audit's hash chain",
        migration: 7,
    },
    Dropped {
        word: "config-changes",
        what: "the audit of changes (tradedesk.config_changes and its rows)",
        migration: 4,
    },
    Dropped {
        word: "defences",
        what: "the database's last line of defence (append-only history, the halt's guard)",
        migration: 3,
    },
    Dropped {
        word: "orders",
        what: "the orders handed to execution (tradedesk.executions and its rows)",
        migration: 2,
    },
];

/// What reverting `versions` drops, newest first.
pub fn drops(versions: &[i64]) -> Vec<Dropped> {
    DROPPED
        .iter()
        .filter(|d| versions.contains(&d.migration))
        .copied()
        .collect()
}

pub async fn down(pool: &PgPool, steps: usize) -> Result<Vec<(i64, String)>, Error> {
    let database = current_database(pool).await?;
    let applied = applied(pool).await?;
    let reverted = reverted_by(&database, &applied, steps)?;
    let target = applied
        .keys()
        .copied()
        .filter(|v| !reverted.contains(v))
        .max()
        .unwrap_or(PHASE1_VERSION);
    // The down scripts name tradedesk's objects unqualified, like the up scripts.
    let mut conn = migration_connection(pool).await?;
    let undone = MIGRATOR.undo(&mut conn, target).await;
    conn.close().await.ok();
    undone.map_err(|e| migrate_error(&database, e))?;
    Ok(reverted
        .iter()
        .rev()
        .map(|v| (*v, description(*v)))
        .collect())
}

/// The catalog that migration 1 creates, read by running it in a scratch schema inside a
/// transaction that is rolled back: the reference is the migration itself, not a copy.
pub async fn phase1_reference(conn: &mut PgConnection) -> Result<Catalog, sqlx::Error> {
    let migration = MIGRATOR
        .iter()
        .find(|m| m.version == PHASE1_VERSION)
        .ok_or_else(|| sqlx::Error::Protocol("the Phase-1 migration is not embedded".into()))?;
    let schema = format!("tradedesk_phase1_probe_{}", uuid::Uuid::new_v4().simple());
    let mut tx = conn.begin().await?;
    sqlx::query(&format!("CREATE SCHEMA {}", quote_ident(&schema)))
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT set_config('search_path', $1, true)")
        .bind(quote_ident(&schema))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(&migration.sql).execute(&mut *tx).await?;
    let catalog = Catalog::read(&mut tx, &schema).await?;
    tx.rollback().await?;
    Ok(catalog)
}

/// Reads the `public` schema's catalog, without the bookkeeping tables.
pub async fn public_catalog(conn: &mut PgConnection) -> Result<Catalog, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let catalog = Catalog::read(&mut tx, "public").await?;
    tx.rollback().await?;
    Ok(catalog.without_tables(&BOOKKEEPING_TABLES))
}

/// Reads the catalog of tradedesk's own schema, without its record of migrations.
pub async fn tradedesk_catalog(conn: &mut PgConnection) -> Result<Catalog, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let catalog = Catalog::read(&mut tx, SCHEMA).await?;
    tx.rollback().await?;
    Ok(catalog.without_tables(&[MIGRATIONS_TABLE]))
}

/// A connection of its own for sqlx's migrator, with tradedesk's schema first on its
/// search_path (see the module's documentation). Never one of the pool's: they keep the
/// server's default path, and the store names tradedesk's objects qualified.
async fn migration_connection(pool: &PgPool) -> Result<PgConnection, Error> {
    let options = (*pool.connect_options()).clone();
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(Error::Database)?;
    sqlx::query("SELECT set_config('search_path', $1, false)")
        .bind(MIGRATION_SEARCH_PATH)
        .execute(&mut conn)
        .await
        .map_err(Error::Database)?;
    // PostgreSQL skips a schema of the path that is missing or that the role may not use,
    // and the migrations would then create tradedesk's objects in public.
    let first: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut conn)
        .await
        .map_err(Error::Database)?;
    if first.as_deref() != Some(SCHEMA) {
        conn.close().await.ok();
        return Err(Error::Refused(format!(
            "schema {SCHEMA} is missing or this role may not use it, so tradedesk's \
             migrations cannot run; nothing was changed"
        )));
    }
    Ok(conn)
}

/// Moves the objects an earlier tradedesk created in `public` (and its record of
/// migrations) to schema `tradedesk`, rows kept, in one transaction. Only a record that
/// is tradedesk's moves: each of its migrations known to this tradedesk with the same
/// checksum. An `_sqlx_migrations` in `public` that records none of tradedesk's
/// migrations belongs to someone else and is left alone; one that mixes tradedesk's with
/// others is refused.
async fn move_out_of_public(pool: &PgPool, database: &str) -> Result<Vec<Moved>, Error> {
    let mut conn = pool.acquire().await.map_err(Error::Database)?;
    if !in_public(&mut conn).await? {
        return Ok(Vec::new());
    }
    let mut tx = conn.begin().await.map_err(Error::Database)?;
    // Two setups moving at once: the second waits here and then finds it done.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ADOPTION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(Error::Database)?;
    if !in_public(&mut tx).await? {
        return Ok(Vec::new());
    }
    let Some(records) = public_records(&mut tx).await? else {
        return Ok(Vec::new());
    };
    let ours = |version: i64, checksum: &[u8]| {
        MIGRATOR.iter().any(|m| {
            m.version == version
                && m.migration_type.is_up_migration()
                && m.checksum.as_ref() == checksum
        })
    };
    if !records.iter().any(|(v, r)| ours(*v, &r.checksum)) {
        return Ok(Vec::new());
    }
    if let Some((version, _)) = records.iter().find(|(v, r)| !ours(**v, &r.checksum)) {
        return Err(Error::Refused(format!(
            "public.{MIGRATIONS_TABLE} records tradedesk's migrations beside migration \
             {version}, which is not this tradedesk's, so tradedesk cannot tell which \
             objects of public are its own; nothing was moved or changed"
        )));
    }
    if let Some((version, _)) = records.iter().find(|(_, r)| !r.success) {
        return Err(Error::DirtyMigration {
            database: database.to_string(),
            version: *version,
        });
    }

    create_schema(&mut tx).await?;
    let mut moved = Vec::new();
    let objects = LEGACY_OBJECTS
        .iter()
        .filter(|(version, _)| records.contains_key(version))
        .flat_map(|(_, objects)| objects.iter())
        .chain(std::iter::once(&(ObjectKind::Table, MIGRATIONS_TABLE)));
    for (kind, name) in objects {
        sqlx::query(&format!(
            "ALTER {} public.{name} SET SCHEMA {SCHEMA}",
            kind.keyword()
        ))
        .execute(&mut *tx)
        .await
        .map_err(|e| move_failed(e, *kind, name))?;
        let rows = if *kind == ObjectKind::Table {
            Some(
                sqlx::query_scalar(&format!("SELECT count(*) FROM {SCHEMA}.{name}"))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(Error::Database)?,
            )
        } else {
            None
        };
        moved.push(Moved {
            kind: kind.noun(),
            name: (*name).to_string(),
            rows,
        });
    }
    tx.commit().await.map_err(Error::Database)?;
    Ok(moved)
}

/// Why moving `name` failed (the transaction then moved nothing), as one sentence.
fn move_failed(err: sqlx::Error, kind: ObjectKind, name: &str) -> Error {
    match permission(err, "move tradedesk's objects to its schema") {
        Error::Database(e) => Error::Refused(format!(
            "moving tradedesk's {} {name} from public to schema {SCHEMA} failed ({}); \
             nothing was moved",
            kind.noun(),
            db_message(&e)
        )),
        other => other,
    }
}

/// Whether tradedesk's record of migrations is missing from its schema while `public`
/// holds one: a database an earlier tradedesk set up, or someone else's table.
async fn in_public(conn: &mut PgConnection) -> Result<bool, Error> {
    Ok(!relation_exists(conn, SCHEMA, MIGRATIONS_TABLE).await?
        && relation_exists(conn, "public", MIGRATIONS_TABLE).await?)
}

/// The records of `public._sqlx_migrations`, or `None` if that table does not have the
/// columns sqlx gives it (someone else's table of that name).
async fn public_records(conn: &mut PgConnection) -> Result<Option<BTreeMap<i64, Applied>>, Error> {
    let shaped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_attribute
          WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
            AND (attname::text, format_type(atttypid, atttypmod)) IN (
                ('version', 'bigint'), ('installed_on', 'timestamp with time zone'),
                ('success', 'boolean'), ('checksum', 'bytea'))",
    )
    .bind(format!("public.{MIGRATIONS_TABLE}"))
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::Database)?;
    if shaped != 4 {
        return Ok(None);
    }
    read_records(conn, "public").await.map(Some)
}

/// Records migration 1 unless it is recorded already: adopts the Phase-1 tables if the
/// database holds (any of) them, after verifying them whole, or else creates them in
/// `public` by running migration 1, in the same transaction as the record. (sqlx's
/// migrator would create them in the first schema of its path, `tradedesk`.) Returns the
/// Alembic revision of an adopted database, `None` when nothing was adopted.
async fn establish_phase1(pool: &PgPool, database: &str) -> Result<Option<Option<String>>, Error> {
    let mut conn = pool.acquire().await.map_err(Error::Database)?;
    let reference = phase1_reference(&mut conn).await.map_err(|e| {
        permission(
            e,
            "create the scratch schema that verifies the Phase-1 tables",
        )
    })?;

    let mut tx = conn.begin().await.map_err(Error::Database)?;
    // Two setups at once: the second waits here and then finds it done.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ADOPTION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(Error::Database)?;
    if relation_exists(&mut tx, SCHEMA, MIGRATIONS_TABLE).await?
        && read_records(&mut tx, SCHEMA)
            .await?
            .contains_key(&PHASE1_VERSION)
    {
        return Ok(None);
    }
    let actual = Catalog::read(&mut tx, "public")
        .await
        .map_err(Error::Database)?
        .without_tables(&BOOKKEEPING_TABLES);
    let holds_phase1 = reference.shares_tables_with(&actual)
        || reference.enums.keys().any(|e| actual.enums.contains_key(e));
    let phase1 = phase1_migration()?;
    let started = std::time::Instant::now();
    let adopted = if holds_phase1 {
        let mismatches = reference.mismatches(&actual);
        if !mismatches.is_empty() {
            return Err(Error::SchemaMismatch {
                database: database.to_string(),
                mismatches,
            });
        }
        Some(alembic_revision(&mut tx).await?)
    } else {
        sqlx::query("SELECT set_config('search_path', 'public', true)")
            .execute(&mut *tx)
            .await
            .map_err(Error::Database)?;
        sqlx::raw_sql(&phase1.sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| permission(e, "create tables"))?;
        None
    };
    // sqlx's execution_time is in nanoseconds; 0 for a migration adopted, not run.
    let nanos = if adopted.is_some() {
        0
    } else {
        i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX)
    };
    record_phase1(&mut tx, phase1, nanos).await?;
    tx.commit().await.map_err(Error::Database)?;
    Ok(adopted)
}

/// The Alembic revision a platform's database records, if it has the table.
async fn alembic_revision(conn: &mut PgConnection) -> Result<Option<String>, Error> {
    if !relation_exists(conn, "public", "alembic_version").await? {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT version_num::text FROM public.alembic_version LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)
}

/// Records migration 1 as sqlx records a migration it ran, creating sqlx's table as sqlx
/// creates it, in schema `tradedesk`.
async fn record_phase1(
    conn: &mut PgConnection,
    phase1: &Migration,
    execution_nanos: i64,
) -> Result<(), Error> {
    create_schema(conn).await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS tradedesk._sqlx_migrations (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
             success BOOLEAN NOT NULL,
             checksum BYTEA NOT NULL,
             execution_time BIGINT NOT NULL
         )",
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| permission(e, "create tables"))?;
    sqlx::query(
        "INSERT INTO tradedesk._sqlx_migrations
                (version, description, success, checksum, execution_time)
         VALUES ($1, $2, true, $3, $4) ON CONFLICT (version) DO NOTHING",
    )
    .bind(phase1.version)
    .bind(phase1.description.as_ref())
    .bind(phase1.checksum.as_ref())
    .bind(execution_nanos)
    .execute(&mut *conn)
    .await
    .map_err(|e| permission(e, "write to tradedesk._sqlx_migrations"))?;
    Ok(())
}

async fn create_schema(conn: &mut PgConnection) -> Result<(), Error> {
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        .execute(&mut *conn)
        .await
        .map_err(|e| permission(e, "create schema tradedesk"))?;
    Ok(())
}

fn phase1_migration() -> Result<&'static Migration, Error> {
    MIGRATOR
        .iter()
        .find(|m| m.version == PHASE1_VERSION && m.migration_type.is_up_migration())
        .ok_or_else(|| Error::Refused("the Phase-1 migration is not embedded".into()))
}

fn down_script(version: i64) -> Option<&'static Migration> {
    MIGRATOR
        .iter()
        .find(|m| m.version == version && m.migration_type.is_down_migration())
}

fn description(version: i64) -> String {
    MIGRATOR
        .iter()
        .find(|m| m.version == version)
        .map(|m| m.description.to_string())
        .unwrap_or_default()
}

struct Applied {
    installed_on: DateTime<Utc>,
    checksum: Vec<u8>,
    success: bool,
}

/// The database's record of applied migrations (empty when it has none).
async fn applied(pool: &PgPool) -> Result<BTreeMap<i64, Applied>, Error> {
    let mut conn = pool.acquire().await.map_err(Error::Database)?;
    if !relation_exists(&mut conn, SCHEMA, MIGRATIONS_TABLE).await? {
        return Ok(BTreeMap::new());
    }
    read_records(&mut conn, SCHEMA).await
}

/// The rows of `<schema>._sqlx_migrations`.
async fn read_records(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<BTreeMap<i64, Applied>, Error> {
    let rows: Vec<(i64, DateTime<Utc>, Vec<u8>, bool)> = sqlx::query_as(&format!(
        "SELECT version, installed_on, checksum, success FROM {}.{MIGRATIONS_TABLE}
          ORDER BY version",
        quote_ident(schema)
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(rows
        .into_iter()
        .map(|(version, installed_on, checksum, success)| {
            (
                version,
                Applied {
                    installed_on,
                    checksum,
                    success,
                },
            )
        })
        .collect())
}

/// Refuses a history this tradedesk cannot continue: a migration it does not know, one
/// whose text changed since it was applied, or one left half-done.
fn check_history(database: &str, applied: &BTreeMap<i64, Applied>) -> Result<(), Error> {
    for (version, record) in applied {
        if !record.success {
            return Err(Error::DirtyMigration {
                database: database.to_string(),
                version: *version,
            });
        }
        let Some(known) = MIGRATOR
            .iter()
            .find(|m| m.version == *version && m.migration_type.is_up_migration())
        else {
            return Err(Error::UnknownMigration {
                database: database.to_string(),
                version: *version,
            });
        };
        if known.checksum.as_ref() != record.checksum.as_slice() {
            return Err(Error::ChangedMigration {
                database: database.to_string(),
                version: *version,
                description: known.description.to_string(),
            });
        }
    }
    Ok(())
}

async fn relation_exists(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<bool, Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("{}.{}", quote_ident(schema), quote_ident(table)))
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)
}

async fn current_database(pool: &PgPool) -> Result<String, Error> {
    sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(pool)
        .await
        .map_err(Error::Database)
}

/// A database error, named as a permission problem when it is one.
pub(crate) fn permission(err: sqlx::Error, action: &'static str) -> Error {
    if let sqlx::Error::Database(db) = &err
        && db.code().as_deref() == Some("42501")
    {
        return Error::PermissionDenied {
            action,
            reason: db.message().to_string(),
        };
    }
    Error::Database(err)
}

fn migrate_error(database: &str, err: MigrateError) -> Error {
    let database = database.to_string();
    match err {
        MigrateError::VersionMissing(version) => Error::UnknownMigration { database, version },
        MigrateError::VersionMismatch(version) => Error::ChangedMigration {
            database,
            version,
            description: description(version),
        },
        MigrateError::Dirty(version) => Error::DirtyMigration { database, version },
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => {
            permission(e, "change the schema")
        }
        other => Error::Refused(format!("migrating \"{database}\" failed: {other}")),
    }
}

/// The server's message of a database error, or the error itself.
fn db_message(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}
