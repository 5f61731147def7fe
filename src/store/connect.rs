//! Connecting: start the embedded cluster when it is the target, then open a pool, and
//! turn the ways a connection fails into sentences that say what to do.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool};

use super::embedded::Ensured;
use super::error::Error;
use super::target::Target;

/// How long to wait for a server that does not answer (a dead host drops packets silently).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts the embedded cluster if `target` is it (creating it on first use), and says
/// what that took; `None` for a server named by URL.
pub async fn ensure_server(target: &Target) -> Result<Option<Ensured>, Error> {
    match target.cluster() {
        Some(cluster) => {
            let cluster = cluster.clone();
            let ensured = tokio::task::spawn_blocking(move || cluster.ensure_running())
                .await
                .map_err(|e| {
                    Error::Refused(format!("starting the embedded database failed: {e}"))
                })??;
            Ok(Some(ensured))
        }
        None => Ok(None),
    }
}

/// Starts the server if it is the embedded one, then opens a pool on the target's
/// database. The first connection is made before returning, so a wrong password or a
/// missing database is reported here, in words.
pub async fn connect(target: &Target, max_connections: u32) -> Result<PgPool, Error> {
    ensure_server(target).await?;
    open(target, target.options(), max_connections).await
}

/// As [`connect`], for a program about to use every connection at once (the console's
/// panes are read together as it opens): all `max_connections` open at once, beside the
/// probe, and are kept (no idle timeout, no lifetime), instead of one after another as
/// each is first needed (about 5 ms each on loopback).
pub async fn connect_all(target: &Target, max_connections: u32) -> Result<PgPool, Error> {
    ensure_server(target).await?;
    let options = target.options();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with(options.clone());
    let opening = tokio::spawn({
        let pool = pool.clone();
        async move {
            futures::future::join_all((0..max_connections).map(|_| pool.acquire())).await;
        }
    });
    if let Err(e) = probe(target, &options).await {
        opening.abort();
        return Err(e);
    }
    Ok(pool)
}

/// One plain connection, closed at once: a pool would retry a server that refuses
/// connections until it times out, and then report only the time-out.
async fn probe(target: &Target, options: &PgConnectOptions) -> Result<(), Error> {
    let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options))
        .await
        .map_err(|_| unreachable(target, "no answer within 10 seconds".into()))?
        .map_err(|e| classify(target, options.get_database(), e))?;
    probe.close().await.ok();
    Ok(())
}

/// Opens a pool with `options` on the target's server, which must be running (see
/// [`ensure_server`]).
pub(crate) async fn open(
    target: &Target,
    options: PgConnectOptions,
    max_connections: u32,
) -> Result<PgPool, Error> {
    probe(target, &options).await?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        // The connections are opened for this command and used at once: no round trip to
        // test each before use (the console's, kept for hours, are tested).
        .test_before_acquire(false)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options.clone())
        .await
        .map_err(|e| classify(target, options.get_database(), e))
}

fn unreachable(target: &Target, reason: String) -> Error {
    let hint = match target.cluster() {
        Some(cluster) => format!("; its log is {}", cluster.log_file().display()),
        None => String::new(),
    };
    Error::Unreachable {
        target: target.describe(),
        reason,
        hint,
    }
}

/// Turns a connection or query error into the store's error for `target`.
pub fn classify(target: &Target, database: Option<&str>, err: sqlx::Error) -> Error {
    let database = database.unwrap_or(target.database()).to_string();
    match err {
        sqlx::Error::Io(e) => unreachable(target, e.to_string()),
        sqlx::Error::Tls(e) => unreachable(target, format!("TLS failed: {e}")),
        sqlx::Error::PoolTimedOut => unreachable(target, "timed out".into()),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let reason = db.message().to_string();
            match code.as_str() {
                // invalid_password
                "28P01" => Error::AuthFailed {
                    user: target.username().to_string(),
                    target: target.describe(),
                    origin: match target {
                        Target::Url { origin, .. } => origin.to_string(),
                        Target::Embedded { .. } => "the embedded cluster's pg_hba.conf".into(),
                    },
                },
                // invalid_authorization_specification: no such role, or pg_hba.conf says no
                "28000" => Error::NotAuthorized {
                    user: target.username().to_string(),
                    target: target.describe(),
                    reason,
                },
                // invalid_catalog_name
                "3D000" => Error::DatabaseMissing {
                    database,
                    target: target.describe(),
                },
                // insufficient_privilege
                "42501" => Error::PermissionDenied {
                    action: "connect to this database",
                    reason,
                },
                _ => Error::Database(sqlx::Error::Database(db)),
            }
        }
        other => Error::Database(other),
    }
}
