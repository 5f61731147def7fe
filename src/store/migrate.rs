//! Schema versions: tradedesk's migrations, and the adoption of databases the platform made.
//!
//! Migration 1 is the platform's Phase-1 schema. On a database the platform already made
//! (with Alembic revision `001`), it is verified against the catalog and recorded as
//! applied without running; migrations after it hold only what tradedesk adds and each has
//! a down script. Migration 1 has none: tradedesk never drops the platform's data.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::migrate::{MigrateError, Migration, Migrator};
use sqlx::{Connection as _, PgConnection, PgPool};

use super::catalog::{Catalog, quote_ident};
use super::error::Error;

/// tradedesk's migrations, embedded in the binary from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The version of the Phase-1 schema migration.
pub const PHASE1_VERSION: i64 = 1;

/// Tables that record schema versions, not platform data.
pub const BOOKKEEPING_TABLES: [&str; 2] = ["_sqlx_migrations", "alembic_version"];

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
    /// Set when a Phase-1 database was adopted: its Alembic revision, if it records one.
    pub adopted: Option<Option<String>>,
    /// The migrations run, in order.
    pub applied: Vec<(i64, String)>,
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

/// Brings the database to this tradedesk's newest schema, adopting a Phase-1 database
/// first. A database whose Phase-1 tables differ from the platform's is refused whole.
pub async fn up(pool: &PgPool) -> Result<UpReport, Error> {
    let database = current_database(pool).await?;
    let before = applied(pool).await?;
    check_history(&database, &before)?;

    let mut report = UpReport::default();
    if !before.contains_key(&PHASE1_VERSION) {
        report.adopted = adopt_if_phase1(pool, &database).await?;
    }
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| migrate_error(&database, e))?;
    let after = applied(pool).await?;
    // An adopted migration 1 was recorded, not run.
    let adopted = report.adopted.is_some();
    report.applied = after
        .keys()
        .filter(|v| !(before.contains_key(v) || adopted && **v == PHASE1_VERSION))
        .map(|v| (*v, description(*v)))
        .collect();
    Ok(report)
}

/// Reverts the newest `steps` tradedesk migrations. Refuses to touch the Phase-1 schema.
pub async fn down(pool: &PgPool, steps: usize) -> Result<Vec<(i64, String)>, Error> {
    let database = current_database(pool).await?;
    let applied = applied(pool).await?;
    check_history(&database, &applied)?;
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
    let target = applied
        .keys()
        .copied()
        .filter(|v| !reverted.contains(v))
        .max()
        .unwrap_or(PHASE1_VERSION);
    MIGRATOR
        .undo(pool, target)
        .await
        .map_err(|e| migrate_error(&database, e))?;
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

/// If the database holds (any of) the Phase-1 schema without tradedesk's record of it,
/// verifies it whole and records migration 1 as applied. Returns the Alembic revision
/// of an adopted database, `None` when there was nothing to adopt.
async fn adopt_if_phase1(pool: &PgPool, database: &str) -> Result<Option<Option<String>>, Error> {
    let mut conn = pool.acquire().await.map_err(Error::Database)?;
    let reference = phase1_reference(&mut conn).await.map_err(|e| {
        permission(
            e,
            "create the scratch schema that verifies the Phase-1 tables",
        )
    })?;

    let mut tx = conn.begin().await.map_err(Error::Database)?;
    // Two setups adopting at once: the second waits here and then finds it done.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ADOPTION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(Error::Database)?;
    let actual = Catalog::read(&mut tx, "public")
        .await
        .map_err(Error::Database)?
        .without_tables(&BOOKKEEPING_TABLES);
    let holds_phase1 = reference.shares_tables_with(&actual)
        || reference.enums.keys().any(|e| actual.enums.contains_key(e));
    if !holds_phase1 {
        return Ok(None);
    }
    let mismatches = reference.mismatches(&actual);
    if !mismatches.is_empty() {
        return Err(Error::SchemaMismatch {
            database: database.to_string(),
            mismatches,
        });
    }
    let alembic: Option<String> = if table_exists(&mut tx, "alembic_version").await? {
        sqlx::query_scalar("SELECT version_num::text FROM alembic_version LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::Database)?
    } else {
        None
    };
    // The table sqlx's migrator keeps, created as sqlx creates it.
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
             success BOOLEAN NOT NULL,
             checksum BYTEA NOT NULL,
             execution_time BIGINT NOT NULL
         )",
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| permission(e, "create tables"))?;
    let phase1 = phase1_migration();
    let inserted = sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, $2, true, $3, 0) ON CONFLICT (version) DO NOTHING",
    )
    .bind(phase1.version)
    .bind(phase1.description.as_ref())
    .bind(phase1.checksum.as_ref())
    .execute(&mut *tx)
    .await
    .map_err(|e| permission(e, "write to _sqlx_migrations"))?
    .rows_affected();
    tx.commit().await.map_err(Error::Database)?;
    Ok((inserted == 1).then_some(alembic))
}

fn phase1_migration() -> &'static Migration {
    MIGRATOR
        .iter()
        .find(|m| m.version == PHASE1_VERSION)
        .expect("migrations/0001 is embedded at compile time")
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
    if !table_exists(&mut conn, "_sqlx_migrations").await? {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(i64, DateTime<Utc>, Vec<u8>, bool)> = sqlx::query_as(
        "SELECT version, installed_on, checksum, success FROM _sqlx_migrations ORDER BY version",
    )
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

async fn table_exists(conn: &mut PgConnection, table: &str) -> Result<bool, Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("public.{}", quote_ident(table)))
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
