//! `tradedesk setup`: make the database ready, or verify that it is, changing nothing the
//! second time.

use sqlx::PgPool;

use super::catalog::quote_ident;
use super::connect::{classify, ensure_server, open};
use super::embedded::Ensured;
use super::error::Error;
use super::migrate::{self, UpReport};
use super::strategies::{Converted, convert_legacy};
use super::target::Target;
use crate::domain::RiskConfig;
use crate::operator::Operator;

/// What setup found and did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetupReport {
    /// The target, without a password.
    pub target: String,
    pub database: String,
    #[serde(flatten)]
    pub prepared: Prepared,
    /// Every table of the platform's (`public`) by name, then tradedesk's own as
    /// `tradedesk.<name>`, each with its row count.
    pub tables: Vec<(String, i64)>,
}

impl SetupReport {
    /// Whether this run changed anything.
    pub fn changed(&self) -> bool {
        let p = &self.prepared;
        p.embedded.is_some_and(|e| e.initialized)
            || p.database_created
            || !p.migrations.moved.is_empty()
            || p.migrations.adopted.is_some()
            || !p.migrations.applied.is_empty()
            || p.risk_config_written
            || !p.strategies_converted.is_empty()
    }
}

/// What making a database ready took.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Prepared {
    /// For the embedded cluster: whether it was created or started now.
    pub embedded: Option<Ensured>,
    pub database_created: bool,
    pub migrations: UpReport,
    /// Whether the default `risk_config` row was written (there was none).
    pub risk_config_written: bool,
    /// Strategies converted from tradedesk's old shapes to the platform's documents.
    pub strategies_converted: Vec<Converted>,
}

/// Makes the target's database ready for this tradedesk and returns a pool on it: starts
/// the embedded cluster, creates the database if needed (always for the embedded
/// cluster, else only with `create_db`), migrates it (adopting a Phase-1 database),
/// writes the platform's default risk limits if there are none, and converts strategies
/// an earlier tradedesk wrote in its own shapes to the platform's documents.
pub async fn prepare(
    target: &Target,
    create_db: bool,
    max_connections: u32,
) -> Result<(PgPool, Prepared), Error> {
    let embedded = ensure_server(target).await?;
    let (pool, database_created) = match open(target, target.options(), max_connections).await {
        Ok(pool) => (pool, false),
        Err(Error::DatabaseMissing { .. }) if create_db || embedded.is_some() => {
            create_database(target).await?;
            (open(target, target.options(), max_connections).await?, true)
        }
        Err(e) => return Err(e),
    };
    let migrations = migrate::up(&pool).await?;
    let risk_config_written = write_default_risk_config(&pool).await?;
    // Who converts: the account running setup, as for every act of the CLI.
    let strategies_converted = convert_legacy(&pool, &Operator::from_os()).await?;
    Ok((
        pool,
        Prepared {
            embedded,
            database_created,
            migrations,
            risk_config_written,
            strategies_converted,
        },
    ))
}

/// `prepare`, then every table's row count: the verification `tradedesk setup` prints.
pub async fn setup(target: &Target, create_db: bool) -> Result<SetupReport, Error> {
    let (pool, prepared) = prepare(target, create_db, 4).await?;
    let tables = count_rows(&pool).await?;
    pool.close().await;
    Ok(SetupReport {
        target: target.describe(),
        database: target.database().to_string(),
        prepared,
        tables,
    })
}

/// CREATE DATABASE, from the server's maintenance database (the server is running).
/// Losing a race with another setup creating the same database is not a failure.
async fn create_database(target: &Target) -> Result<(), Error> {
    let mut last = None;
    for maintenance in ["postgres", "template1"] {
        match open(target, target.options_for(maintenance), 1).await {
            Ok(pool) => {
                let result = sqlx::query(&format!(
                    "CREATE DATABASE {}",
                    quote_ident(target.database())
                ))
                .execute(&pool)
                .await;
                pool.close().await;
                return match result {
                    Ok(_) => Ok(()),
                    // duplicate_database, or the catalog's unique index when two CREATE
                    // DATABASE statements race: either way, it exists now.
                    Err(sqlx::Error::Database(db))
                        if matches!(db.code().as_deref(), Some("42P04" | "23505")) =>
                    {
                        Ok(())
                    }
                    Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42501") => {
                        Err(Error::PermissionDenied {
                            action: "create databases",
                            reason: db.message().to_string(),
                        })
                    }
                    Err(e) => Err(classify(target, None, e)),
                };
            }
            Err(e @ Error::DatabaseMissing { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Refused("no maintenance database to connect to".into())))
}

/// Writes the platform's first-start risk limits unless a row exists; an existing row is
/// the operator's and is never touched. The audit (migration 14) names the account that
/// ran the set-up.
async fn write_default_risk_config(pool: &PgPool) -> Result<bool, Error> {
    let d = RiskConfig::default();
    let written = sqlx::query(
        "WITH named AS (SELECT set_config('tradedesk.operator', $11, true))
         INSERT INTO risk_config (id, ai_trading_enabled, min_confidence_threshold, max_lot_size,
                                  max_concurrent_trades, daily_profit_target, stop_after_target,
                                  max_drawdown_amount, halt_on_drawdown,
                                  allow_off_watchlist_autotrade, last_halt_reason)
         SELECT true, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM named
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(d.ai_trading_enabled)
    .bind(d.min_confidence_threshold)
    .bind(d.max_lot_size)
    .bind(d.max_concurrent_trades)
    .bind(d.daily_profit_target)
    .bind(d.stop_after_target)
    .bind(d.max_drawdown_amount)
    .bind(d.halt_on_drawdown)
    .bind(d.allow_off_watchlist_autotrade)
    .bind(d.last_halt_reason)
    .bind(format!(
        "{} (tradedesk setup)",
        crate::operator::Operator::from_os()
    ))
    .execute(pool)
    .await
    .map_err(|e| migrate::permission(e, "write to risk_config"))?
    .rows_affected();
    Ok(written == 1)
}

/// Every table of the `public` schema (the platform's), then every table of tradedesk's
/// own schema but its record of migrations, with its exact row count. tradedesk's are
/// named `tradedesk.<name>`: the platform may have a table of the same name in `public`.
pub async fn count_rows(pool: &PgPool) -> Result<Vec<(String, i64)>, Error> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p')
            AND (n.nspname = 'public' OR n.nspname = $1 AND c.relname <> $2)
          ORDER BY n.nspname <> 'public', c.relname",
    )
    .bind(migrate::SCHEMA)
    .bind(migrate::MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .map_err(Error::Database)?;
    let mut counts = Vec::with_capacity(tables.len());
    for (schema, table) in tables {
        let count: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}.{}",
            quote_ident(&schema),
            quote_ident(&table)
        ))
        .fetch_one(pool)
        .await
        .map_err(|e| migrate::permission(e, "read every table"))?;
        let name = if schema == "public" {
            table
        } else {
            format!("{schema}.{table}")
        };
        counts.push((name, count));
    }
    Ok(counts)
}
