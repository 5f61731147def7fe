//! PostgreSQL: the only module that speaks SQL.
//!
//! Every change of state is one function here running one transaction that also writes
//! its `decision_history` row; the triggers of migration 3 announce it on the `tradedesk`
//! channel. The console and the CLI call the same functions.

pub mod account;
pub mod acts;
pub mod approve;
pub mod archive;
pub mod archive_audit;
pub mod archive_file;
pub mod archive_replay;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod changes;
pub mod connect;
pub mod db_roles;
pub mod decisions;
pub mod demo;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod halt;
pub mod ideas;
pub mod limits;
pub mod listen;
pub mod migrate;
pub mod prune;
pub mod replay;
pub mod resolve;
pub mod risk;
pub mod setup;
pub mod strategies;
pub mod target;
pub mod timeline;
pub mod value;

use sqlx::PgPool;

pub use error::{Error, ErrorCode};
pub use target::Target;

/// Runs a transaction again when PostgreSQL aborted it as a deadlock victim or a
/// serialisation failure (a few times, briefly spaced): such an abort wrote nothing, and
/// an act the operator asked for must not fail because another writer collided with it.
pub(crate) async fn retrying<T, F, Fut>(act: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    use backon::Retryable as _;
    let backoff = backon::ExponentialBuilder::default()
        .with_min_delay(std::time::Duration::from_millis(20))
        .with_max_times(4);
    act.retry(backoff)
        .when(Error::is_transient)
        .notify(|e, wait| {
            tracing::warn!(error = %e, ?wait, "transaction aborted by a collision; retrying");
        })
        .await
}

/// The last close of `s.symbol` (a lateral subquery): that of its newest candle on any
/// timeframe from M1 to H1 (the finest on a tie), one probe of
/// `idx_snapshot_market_symbol_timeframe_captured` a timeframe.
pub(crate) const LAST_CLOSE: &str = "
    SELECT c.close FROM unnest(ARRAY['M1', 'M5', 'M15', 'H1']) WITH ORDINALITY AS tf(name, fineness)
      CROSS JOIN LATERAL (
           SELECT m.close, m.captured_at FROM snapshot_market m
            WHERE m.symbol = s.symbol AND m.timeframe = tf.name
            ORDER BY m.captured_at DESC LIMIT 1) c
     ORDER BY c.captured_at DESC, tf.fineness LIMIT 1";

/// An open database that holds this tradedesk's whole schema.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
    /// Where acts run: the console's own connections kept ready for them
    /// ([`Store::with_act_connections`]); elsewhere the same pool as the reads.
    acts: PgPool,
}

impl Store {
    /// Connects and checks that every migration is applied, so that no act runs against
    /// a schema without its safeguards.
    pub async fn open(target: &Target, max_connections: u32) -> Result<Store, Error> {
        Store::checked(target, connect::connect(target, max_connections).await?).await
    }

    /// As [`Store::open`], every connection opened at once and kept, for the console
    /// ([`connect::connect_all`]); `beside` reads what the caller needs (who may act) while
    /// the schema is checked, and the store is given only once the check has passed.
    pub async fn open_all<T, F>(
        target: &Target,
        max_connections: u32,
        beside: impl FnOnce(Store) -> F,
    ) -> Result<(Store, T), Error>
    where
        F: std::future::Future<Output = Result<T, Error>>,
    {
        let pool = connect::connect_all(target, max_connections).await?;
        let unchecked = Store::from_pool(pool.clone());
        let (checked, read) = futures::join!(Store::checked(target, pool), beside(unchecked));
        Ok((checked?, read?))
    }

    async fn checked(target: &Target, pool: PgPool) -> Result<Store, Error> {
        let pending = migrate::status(&pool)
            .await?
            .iter()
            .filter(|m| m.applied_on.is_none())
            .count();
        if pending > 0 {
            return Err(Error::SchemaBehind {
                database: target.database().to_string(),
                pending,
            });
        }
        Ok(Store::from_pool(pool))
    }

    /// A store over a pool `setup::prepare` has just brought to this tradedesk's schema.
    pub fn from_pool(pool: PgPool) -> Store {
        Store {
            acts: pool.clone(),
            pool,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection (the server sees them end, not reset).
    pub async fn disconnect(&self) {
        futures::join!(self.pool.close(), self.acts.close());
    }

    /// The connections the acts run on.
    pub(crate) fn acts(&self) -> &PgPool {
        &self.acts
    }

    /// Asks the database to answer.
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(Error::Database)
    }
}
