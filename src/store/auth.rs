//! Logins as the platform's users (`users`: email and passlib's bcrypt hashes,
//! docs/platform.md §1), server-side sessions, lock-outs, and the desk roles of
//! `tradedesk.user_roles` (migration 9).
//!
//! The database decides (migration 15): `tradedesk.login` checks the password with
//! pgcrypto's bcrypt and keeps the lock-out in the same transaction, `tradedesk.session`
//! proves a session, `tradedesk.set_role` grants; this module calls them. A refused login
//! says one sentence whatever the reason (unknown email, wrong password, inactive, locked
//! out, a hash bcrypt cannot read) and costs one bcrypt verification whatever the reason,
//! so that neither the answer nor its time tells which emails exist.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::Store;
use super::error::Error;
use crate::domain::act::Act;
use crate::domain::role::Role;
use crate::operator::Operator;

/// The one answer to every refused login.
pub const REFUSED: &str = "login refused: the email or password is wrong, or the account is \
                           inactive or locked (5 failed logins in 15 minutes lock it for 15 minutes)";

/// How long a session lasts unless asked otherwise.
pub const SESSION_LENGTH: TimeDelta = TimeDelta::hours(12);

/// A new session: the token is for the user's file only, never stored or printed (its
/// Debug leaves it out).
#[derive(Clone, Serialize)]
pub struct Login {
    pub email: String,
    #[serde(skip)]
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub role: Role,
    /// False until the first role is granted: then every active user is an admin.
    pub roles_granted: bool,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("email", &self.email)
            .field("token", &"…")
            .field("expires_at", &self.expires_at)
            .field("role", &self.role)
            .field("roles_granted", &self.roles_granted)
            .finish()
    }
}

/// The user a valid session belongs to, with their role now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionUser {
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
    pub roles_granted: bool,
}

impl SessionUser {
    pub fn operator(&self) -> Option<Operator> {
        Operator::with_role(self.email.clone(), self.role)
    }
}

pub use crate::operator::SessionToken;

/// What an act from a console whose session has ended is told.
pub const SESSION_ENDED: &str = "your session has ended (logged out, expired, or the user \
    deactivated): quit and open the console again to log in";

/// A platform user as an admin sees them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub email: String,
    pub is_active: bool,
    /// The granted role; `None` when none was.
    pub granted: Option<String>,
    pub last_login: Option<DateTime<Utc>>,
    /// Failed logins in the last 15 minutes.
    pub recent_failures: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

/// A grant or revocation done.
#[derive(Debug, Clone, Serialize)]
pub struct RoleChange {
    pub email: String,
    pub before: Option<Role>,
    pub after: Option<Role>,
}

impl Store {
    /// True when the database has an active platform user: then every act needs a login.
    pub async fn has_platform_users(&self) -> Result<bool, Error> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE is_active)")
            .fetch_one(self.pool())
            .await
            .map_err(Error::Database)
    }

    /// True when the role tradedesk connects as may record acts (the least-privilege
    /// `tradedesk_viewer` may not: the console then only looks).
    pub async fn can_write(&self) -> Result<bool, Error> {
        sqlx::query_scalar(
            "SELECT has_table_privilege('public.decision_history', 'INSERT')
                AND has_table_privilege('public.risk_config', 'UPDATE')",
        )
        .fetch_one(self.pool())
        .await
        .map_err(Error::Database)
    }

    /// Logs `email` in with `password` from `host` for `lasting`; see the module doc for
    /// what a refusal says and costs. A refusal writes only its failure (for the lock-out).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        host: &str,
        lasting: TimeDelta,
    ) -> Result<Login, Error> {
        // The database checks the password and keeps the lock-out (migration 15).
        let made: Option<(String, String, DateTime<Utc>, String, bool)> =
            sqlx::query_as("SELECT * FROM tradedesk.login($1, $2, $3, $4)")
                .bind(email)
                .bind(password)
                .bind(host)
                .bind(lasting)
                .fetch_optional(self.pool())
                .await
                .map_err(super::error::refused_by_database)?;
        let Some((token, email, expires_at, role, roles_granted)) = made else {
            return Err(Error::Unauthorized(REFUSED.into()));
        };
        Ok(Login {
            email,
            token,
            expires_at,
            role: granted(&role)?,
            roles_granted,
        })
    }

    /// The user of a session still valid (not ended, not expired, the user still active),
    /// with their role as it is now.
    pub async fn session(&self, token: &str) -> Result<Option<SessionUser>, Error> {
        session_on(self.pool(), token).await
    }

    /// Who does `act` now from a console opened by `operator` with `session`: the
    /// session's user with their role as it is now (granted or revoked since), or a
    /// refusal once the session has ended. Without a session (no platform users),
    /// `operator` as it is. The kill switch is the exception: stopping is cheap, and a
    /// console left open past its session must still stop the AI, as the user who opened
    /// it (a viewer's act).
    pub async fn acting(
        &self,
        operator: &Operator,
        session: Option<&SessionToken>,
        act: Act,
    ) -> Result<Operator, Error> {
        let Some(token) = session else {
            return Ok(operator.clone());
        };
        // On the act connections, as part of the act: never queued behind a pane's read.
        match session_on(self.acts(), token.secret())
            .await?
            .and_then(|user| user.operator())
        {
            Some(now) => Ok(now.with_session(token.clone())),
            None if act.is_halt() => Operator::with_role(operator.as_str(), Role::Viewer)
                .ok_or_else(|| Error::Unauthorized(SESSION_ENDED.into())),
            None => Err(Error::Unauthorized(SESSION_ENDED.into())),
        }
    }

    /// Ends a session; false when it had ended (or expired) already.
    pub async fn logout(&self, token: &str) -> Result<bool, Error> {
        sqlx::query_scalar("SELECT tradedesk.logout($1)")
            .bind(token)
            .fetch_one(self.pool())
            .await
            .map_err(Error::Database)
    }

    /// Every platform user with their role, last login and lock-out: for whoever may grant
    /// roles (an admin), who acts on what it shows.
    pub async fn users(&self, operator: &Operator) -> Result<Vec<UserRow>, Error> {
        operator.may(Act::GrantRole)?;
        sqlx::query_as(
            "SELECT u.email, u.is_active, r.role AS granted,
                    (SELECT max(created_at) FROM tradedesk.sessions s WHERE s.user_id = u.id)
                        AS last_login,
                    (SELECT count(*) FROM tradedesk.login_failures f
                      WHERE lower(f.email) = lower(u.email) AND f.at > now() - interval '15 minutes')
                        AS recent_failures,
                    tradedesk.tradedesk_locked_until(u.email) AS locked_until
               FROM users u LEFT JOIN tradedesk.user_roles r ON r.user_id = u.id
              ORDER BY u.email",
        )
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)
    }

    /// True once any role has been granted.
    pub async fn roles_granted(&self) -> Result<bool, Error> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tradedesk.user_roles)")
            .fetch_one(self.pool())
            .await
            .map_err(Error::Database)
    }

    /// Grants `role` to the user `email` (or, with `None`, revokes their role), audited in
    /// `config_changes` (by the database, migration 14). Refused when it would leave the desk
    /// without an admin.
    pub async fn set_role(
        &self,
        email: &str,
        role: Option<Role>,
        operator: &Operator,
    ) -> Result<RoleChange, Error> {
        operator.may(Act::GrantRole)?;
        // The database checks the session and the role again, and audits the change
        // (migrations 14 and 15).
        let (email, before, after): (String, Option<String>, Option<String>) =
            sqlx::query_as("SELECT * FROM tradedesk.set_role($1, $2, $3, $4)")
                .bind(operator.session().map(SessionToken::secret))
                .bind(operator.as_str())
                .bind(email)
                .bind(role.map(Role::as_str))
                .fetch_one(self.pool())
                .await
                .map_err(super::error::refused_by_database)?;
        Ok(RoleChange {
            email,
            before: before.as_deref().map(granted).transpose()?,
            after: after.as_deref().map(granted).transpose()?,
        })
    }
}

/// The session of `token` if it is open, read on `pool`.
async fn session_on(pool: &sqlx::PgPool, token: &str) -> Result<Option<SessionUser>, Error> {
    // A session another writer made endless (`infinity`) reads as the latest time.
    let read =
        sqlx::query_as("SELECT email, role, expires_at, roles_granted FROM tradedesk.session($1)")
            .bind(token)
            .fetch_optional(pool)
            .await;
    let row: Option<(String, String, crate::domain::stored::Stamp, bool)> = match read {
        // A schema before migration 15 (an admin about to migrate it) has no such
        // function: the session is read as it was then.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42883") => {
            sqlx::query_as(SESSION_BEFORE_15)
                .bind(token)
                .fetch_optional(pool)
                .await
        }
        read => read,
    }
    .map_err(Error::Database)?;
    let Some((email, role, expires_at, roles_granted)) = row else {
        return Ok(None);
    };
    Ok(Some(SessionUser {
        email,
        role: granted(&role)?,
        expires_at: expires_at.at().unwrap_or(DateTime::<Utc>::MAX_UTC),
        roles_granted,
    }))
}

/// Migration 15's `tradedesk.session`, for a schema without it.
const SESSION_BEFORE_15: &str = "
    SELECT u.email::text, coalesce(r.role, CASE WHEN EXISTS (SELECT 1 FROM tradedesk.user_roles)
                                               THEN 'viewer' ELSE 'admin' END),
           s.expires_at, EXISTS (SELECT 1 FROM tradedesk.user_roles)
      FROM tradedesk.sessions s JOIN users u ON u.id = s.user_id
      LEFT JOIN tradedesk.user_roles r ON r.user_id = u.id
     WHERE s.token_hash = sha256(convert_to($1, 'UTF8'))
       AND s.ended_at IS NULL AND s.expires_at > now() AND u.is_active";

/// A desk role as the database names it.
fn granted(role: &str) -> Result<Role, Error> {
    role.parse()
        .map_err(|e: crate::domain::label::UnknownLabel| Error::Unreadable {
            what: "a granted role".into(),
            reason: e.to_string(),
        })
}
