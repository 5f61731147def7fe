//! The store's errors: each one sentence a user can act on, never with a password.

use super::catalog::Mismatch;
use super::embedded;
use crate::domain::LotError;
use crate::domain::strategy::document::DocumentError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `origin` says where the URL came from (`--database-url`, `DATABASE_URL`, …).
    #[error("the database URL from {origin} is not valid: {reason}")]
    BadUrl { origin: String, reason: String },

    #[error(transparent)]
    Embedded(#[from] embedded::Error),

    #[error(
        "cannot reach the PostgreSQL server for {target} ({reason}): check that it is \
         running and that the host and port are right{hint}"
    )]
    Unreachable {
        target: String,
        reason: String,
        hint: String,
    },

    #[error(
        "PostgreSQL refused the password for role \"{user}\" at {target}: correct the \
         password in {origin}"
    )]
    AuthFailed {
        user: String,
        target: String,
        origin: String,
    },

    #[error(
        "PostgreSQL does not let role \"{user}\" connect to {target} ({reason}): check the \
         role name, or ask the server's administrator to allow it in pg_hba.conf"
    )]
    NotAuthorized {
        user: String,
        target: String,
        reason: String,
    },

    #[error(
        "database \"{database}\" does not exist on the server of {target}: run \
         `tradedesk setup --create-db` to create it, or correct the database name"
    )]
    DatabaseMissing { database: String, target: String },

    #[error(
        "the database role tradedesk connects as may not {action} ({reason}): ask the \
         database's owner to grant it, or connect as a role that owns the database"
    )]
    PermissionDenied {
        action: &'static str,
        reason: String,
    },

    #[error(
        "database \"{database}\" holds tables named like the platform's Phase-1 schema that \
         differ from it, so tradedesk will not adopt it and has changed nothing:\n{}",
        list(.mismatches)
    )]
    SchemaMismatch {
        database: String,
        mismatches: Vec<Mismatch>,
    },

    #[error(
        "database \"{database}\" was migrated by a newer tradedesk (migration {version} is \
         unknown to this one): upgrade tradedesk"
    )]
    UnknownMigration { database: String, version: i64 },

    #[error(
        "migration {version} ({description}) was changed after it was applied to \
         \"{database}\": reinstall the tradedesk release that applied it"
    )]
    ChangedMigration {
        database: String,
        version: i64,
        description: String,
    },

    #[error(
        "migration {version} was left half-applied in \"{database}\" by an interrupted run: \
         repair it by hand (see `tradedesk migrate status`)"
    )]
    DirtyMigration { database: String, version: i64 },

    #[error("{0}")]
    Refused(String),

    #[error(
        "database \"{database}\" lacks {pending} of this tradedesk's migrations: run \
         `tradedesk setup` (or `tradedesk migrate up`) first"
    )]
    SchemaBehind { database: String, pending: usize },

    #[error("{0}")]
    InvalidInput(String),

    #[error("no {what} matches {id}")]
    NotFound { what: &'static str, id: String },

    /// Something an act names is not there, as the database's function says it.
    #[error("{0}")]
    Missing(String),

    #[error("{0}")]
    Conflict(String),

    /// The operator's role does not allow the act.
    #[error(transparent)]
    Forbidden(#[from] crate::operator::Forbidden),

    /// Not logged in, or the login was refused (one sentence for every reason, so that it
    /// tells nobody which emails exist).
    #[error("{0}")]
    Unauthorized(String),

    /// A row that tradedesk cannot read (a label no enum knows, a `NaN` price, a time of
    /// `infinity`), named with every column it cannot read.
    #[error("{what} cannot be read: {reason}")]
    Unreadable { what: String, reason: String },

    #[error("the database failed: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<LotError> for Error {
    fn from(e: LotError) -> Self {
        Error::InvalidInput(e.to_string())
    }
}

/// Typed text holding what a terminal would act on or not show.
impl From<crate::domain::text::Refused> for Error {
    fn from(e: crate::domain::text::Refused) -> Self {
        Error::InvalidInput(e.to_string())
    }
}

impl From<DocumentError> for Error {
    fn from(e: DocumentError) -> Self {
        Error::InvalidInput(e.to_string())
    }
}

fn list(mismatches: &[Mismatch]) -> String {
    mismatches
        .iter()
        .map(|m| format!("  - {m}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The platform's error codes (docs/platform.md §5) plus NOT_FOUND and CONFLICT, for scripts.
/// STRATEGY_BLOCKED is part of the documented contract but no act raises it yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    Conflict,
    RiskViolation,
    AiHalted,
    StrategyBlocked,
    SnapshotNotFound,
    Unauthorized,
    /// The database could not be reached or used; not a platform code.
    Database,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RiskViolation => "RISK_VIOLATION",
            ErrorCode::AiHalted => "AI_HALTED",
            ErrorCode::StrategyBlocked => "STRATEGY_BLOCKED",
            ErrorCode::SnapshotNotFound => "SNAPSHOT_NOT_FOUND",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Database => "DATABASE",
        }
    }

    /// The process exit status the CLI uses for this code (documented in `--help`).
    pub fn exit_status(self) -> i32 {
        match self {
            ErrorCode::Database => 1,
            ErrorCode::InvalidInput => 3,
            ErrorCode::NotFound => 4,
            ErrorCode::Conflict => 5,
            ErrorCode::RiskViolation => 6,
            ErrorCode::AiHalted => 7,
            ErrorCode::StrategyBlocked => 8,
            ErrorCode::SnapshotNotFound => 9,
            ErrorCode::Unauthorized => 10,
        }
    }
}

impl Error {
    /// The code a script can branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            // A row that cannot be read is refused as input to the act that needs it.
            Error::BadUrl { .. } | Error::InvalidInput(_) | Error::Unreadable { .. } => {
                ErrorCode::InvalidInput
            }
            Error::NotFound { .. } | Error::Missing(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Forbidden(_) | Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Database(sqlx::Error::Database(db)) if db.message().starts_with("AI_HALTED") => {
                ErrorCode::AiHalted
            }
            _ => ErrorCode::Database,
        }
    }

    /// The database could not be reached, or the connection broke under the act: it may
    /// never have reached the database, or its answer was lost.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. }
                | Error::Database(
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                )
        )
    }

    /// A deadlock or serialisation failure: the transaction wrote nothing and may be run
    /// again.
    pub fn is_transient(&self) -> bool {
        matches!(self.sqlstate().as_deref(), Some("40P01" | "40001"))
    }

    /// The SQLSTATE of a database error, if this is one.
    pub fn sqlstate(&self) -> Option<String> {
        match self {
            Error::Database(sqlx::Error::Database(db)) => db.code().map(|c| c.into_owned()),
            _ => None,
        }
    }
}

/// An act refused by the database's own function (migration 15 on): its sentence, as the
/// error it is. `TDU01` not logged in, `TDF01` a role that may not, `TDI01` bad input,
/// `TDN01` not found, `TDC01` a conflict; anything else is the database's.
pub(crate) fn refused_by_database(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &e {
        let said = db.message().to_string();
        match db.code().as_deref() {
            Some("TDU01" | "TDF01") => return Error::Unauthorized(said),
            Some("TDI01") => return Error::InvalidInput(said),
            Some("TDN01") => return Error::Missing(said),
            Some("TDC01") => return Error::Conflict(said),
            _ => {}
        }
    }
    Error::Database(e)
}
