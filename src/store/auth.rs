//! Logins as the platform's users (`users`: email and passlib's bcrypt hashes,
//! docs/platform.md §1), server-side sessions, lock-outs, and the desk roles of
//! `tradedesk.user_roles` (migration 9).
//!
//! A refused login says one sentence whatever the reason (unknown email, wrong password,
//! inactive, locked out) and takes one bcrypt verification whatever the reason, so that
//! neither the answer nor its time tells which emails exist.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::error::Error;
use crate::domain::act::Act;
use crate::domain::role::Role;
use crate::operator::Operator;

/// The one answer to every refused login.
pub const REFUSED: &str = "login refused: the email or password is wrong, or the account is \
                           inactive or locked (5 failed logins in 15 minutes lock it for 15 minutes)";

/// How many failures within [`LOCK_WINDOW`] lock an email, and for how long.
const LOCK_AFTER: i64 = 5;
const LOCK_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// How long a session lasts unless asked otherwise.
pub const SESSION_LENGTH: TimeDelta = TimeDelta::hours(12);

/// A bcrypt hash of cost 12 (as passlib makes them) of no password anyone knows: verified
/// against when there is no usable hash, so that every refusal costs the same time.
const DUMMY_HASH: &str = "$2b$12$tKh3zdntpgGY0hdVyDl.v.8M2hfg0vwJxljrFlGNPeWPJiA7RVQCC";

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

/// A session's token as a long-running console keeps it, to check the session before each
/// act. Never printed: its Debug says only that it is one.
#[derive(Clone)]
pub struct SessionToken(std::sync::Arc<str>);

impl SessionToken {
    pub fn new(token: String) -> SessionToken {
        SessionToken(token.into())
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

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

/// The platform user a login names.
#[derive(sqlx::FromRow)]
struct Candidate {
    id: Uuid,
    email: String,
    hashed_password: String,
    is_active: bool,
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// 256 bits from the operating system's generator, as hex.
fn new_token() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Refused(format!("no random bytes for a session token: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Checks `password` against a bcrypt hash off the async threads (a verification takes a
/// quarter of a second at cost 12). A hash bcrypt cannot read verifies as false, after
/// the work of verifying DUMMY_HASH: its refusal costs what a wrong password costs.
async fn verify(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || match hash.parse::<bcrypt::HashParts>() {
        Ok(_) => bcrypt::verify(password, &hash).unwrap_or(false),
        Err(_) => {
            let _ = bcrypt::verify(password, DUMMY_HASH);
            false
        }
    })
    .await
    .unwrap_or(false)
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
        let email = email.trim();
        let mut conn = self.pool().begin().await.map_err(Error::Database)?;
        // Attempts at one email take turns, from the lock-out check to the failure
        // recorded: attempts sent at once cannot all be checked before any failure counts.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('tradedesk.login:' || lower($1), 0))",
        )
        .bind(email)
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
        let candidates: Vec<Candidate> = sqlx::query_as(
            "SELECT id, email, hashed_password, is_active FROM users WHERE lower(email) = lower($1)",
        )
        .bind(email)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::Database)?;
        // Two users differing only in case cannot be told apart by what was typed.
        let user = match candidates.as_slice() {
            [one] => Some(one),
            _ => None,
        };
        let locked = locked_until(&mut conn, email).await?.is_some();
        let hash = user.map_or(DUMMY_HASH, |u| u.hashed_password.as_str());
        let matches = verify(password, hash).await;
        let user = match user {
            Some(u) if matches && u.is_active && !locked => u,
            _ => {
                // A platform user's failure counts toward their lock-out, under their own
                // email; what was typed for no user (a password in the email field, say) is
                // not kept.
                if let Some(known) = user.filter(|_| !locked) {
                    sqlx::query(
                        "INSERT INTO tradedesk.login_failures (id, email, host) VALUES ($1, $2, $3)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(&known.email)
                    .bind(host)
                    .execute(&mut *conn)
                    .await
                    .map_err(Error::Database)?;
                }
                conn.commit().await.map_err(Error::Database)?;
                return Err(Error::Unauthorized(REFUSED.into()));
            }
        };
        let token = new_token()?;
        let expires_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO tradedesk.sessions (id, token_hash, user_id, email, host, expires_at)
             VALUES ($1, $2, $3, $4, $5, now() + $6) RETURNING expires_at",
        )
        .bind(Uuid::now_v7())
        .bind(token_hash(&token))
        .bind(user.id)
        .bind(&user.email)
        .bind(host)
        .bind(lasting)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)?;
        let (role, roles_granted) = role_of(&mut conn, user.id).await?;
        conn.commit().await.map_err(Error::Database)?;
        Ok(Login {
            email: user.email.clone(),
            token,
            expires_at,
            role,
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
        let Some(SessionToken(token)) = session else {
            return Ok(operator.clone());
        };
        // On the act connections, as part of the act: never queued behind a pane's read.
        match session_on(self.acts(), token)
            .await?
            .and_then(|user| user.operator())
        {
            Some(now) => Ok(now),
            None if act.is_halt() => Operator::with_role(operator.as_str(), Role::Viewer)
                .ok_or_else(|| Error::Unauthorized(SESSION_ENDED.into())),
            None => Err(Error::Unauthorized(SESSION_ENDED.into())),
        }
    }

    /// Ends a session; false when it had ended (or expired) already.
    pub async fn logout(&self, token: &str) -> Result<bool, Error> {
        let done = sqlx::query(
            "UPDATE tradedesk.sessions SET ended_at = now()
              WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > now()",
        )
        .bind(token_hash(token))
        .execute(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(done.rows_affected() == 1)
    }

    /// Every platform user with their role, last login and lock-out: for whoever may grant
    /// roles (an admin), who acts on what it shows.
    pub async fn users(&self, operator: &Operator) -> Result<Vec<UserRow>, Error> {
        operator.may(Act::GrantRole)?;
        sqlx::query_as(&format!(
            "SELECT u.email, u.is_active, r.role AS granted,
                    (SELECT max(created_at) FROM tradedesk.sessions s WHERE s.user_id = u.id)
                        AS last_login,
                    (SELECT count(*) FROM tradedesk.login_failures f
                      WHERE lower(f.email) = lower(u.email) AND f.at > now() - interval '15 minutes')
                        AS recent_failures,
                    ({LOCKED_UNTIL}) AS locked_until
               FROM users u LEFT JOIN tradedesk.user_roles r ON r.user_id = u.id
              ORDER BY u.email",
            LOCKED_UNTIL = locked_until_sql("u.email")
        ))
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
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        // One change of roles at a time: the no-admin check below must see the others.
        sqlx::query("LOCK TABLE tradedesk.user_roles IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
        let user: Option<(Uuid, String, Option<String>)> = sqlx::query_as(
            "SELECT u.id, u.email, r.role FROM users u
               LEFT JOIN tradedesk.user_roles r ON r.user_id = u.id
              WHERE lower(u.email) = lower($1)",
        )
        .bind(email.trim())
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
        let Some((id, email, before)) = user else {
            return Err(Error::NotFound {
                what: "platform user",
                id: email.trim().to_string(),
            });
        };
        let before =
            before
                .map(|r| r.parse::<Role>())
                .transpose()
                .map_err(|e| Error::Unreadable {
                    what: format!("the role of {email}"),
                    reason: e.to_string(),
                })?;
        super::changes::name(conn, operator, None).await?;
        match role {
            Some(role) => sqlx::query(
                "INSERT INTO tradedesk.user_roles (user_id, role, granted_by) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE
                    SET role = EXCLUDED.role, granted_by = EXCLUDED.granted_by, granted_at = now()",
            )
            .bind(id)
            .bind(role.as_str())
            .bind(operator.as_str()),
            None => sqlx::query("DELETE FROM tradedesk.user_roles WHERE user_id = $1").bind(id),
        }
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
        // Once roles are granted there is always an active admin among them: revoking the
        // last role must not make every user an admin again.
        let admin_left: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM tradedesk.user_roles r JOIN users u ON u.id = r.user_id
                             WHERE r.role = 'admin' AND u.is_active)",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)?;
        if !admin_left {
            return Err(Error::Conflict(format!(
                "that would leave the desk without an admin (once a role is granted, users \
                 without one may only look): grant admin to someone first, e.g. \
                 `tradedesk users grant {} admin`",
                operator.as_str()
            )));
        }
        tx.commit().await.map_err(Error::Database)?;
        Ok(RoleChange {
            email,
            before,
            after: role,
        })
    }
}

/// The session of `token` if it is open, read on `pool`.
async fn session_on(pool: &sqlx::PgPool, token: &str) -> Result<Option<SessionUser>, Error> {
    let mut conn = pool.acquire().await.map_err(Error::Database)?;
    // A session another writer made endless (`infinity`) reads as the latest time.
    let row: Option<(Uuid, String, crate::domain::stored::Stamp)> = sqlx::query_as(
        "SELECT u.id, u.email, s.expires_at
           FROM tradedesk.sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
            AND u.is_active",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let Some((id, email, expires_at)) = row else {
        return Ok(None);
    };
    let expires_at = expires_at.at().unwrap_or(DateTime::<Utc>::MAX_UTC);
    let (role, roles_granted) = role_of(&mut conn, id).await?;
    Ok(Some(SessionUser {
        email,
        role,
        expires_at,
        roles_granted,
    }))
}

/// A user's role now, and whether any role has been granted (before the first grant every
/// active user is an admin; after it, one without a grant is a viewer).
async fn role_of(conn: &mut PgConnection, user: Uuid) -> Result<(Role, bool), Error> {
    let (granted, any): (Option<String>, bool) = sqlx::query_as(
        "SELECT (SELECT role FROM tradedesk.user_roles WHERE user_id = $1),
                EXISTS (SELECT 1 FROM tradedesk.user_roles)",
    )
    .bind(user)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let role = match (granted, any) {
        (Some(role), _) => role
            .parse()
            .map_err(|e: crate::domain::label::UnknownLabel| Error::Unreadable {
                what: "a granted role".into(),
                reason: e.to_string(),
            })?,
        (None, false) => Role::Admin,
        (None, true) => Role::Viewer,
    };
    Ok((role, any))
}

/// SQL for when the lock-out of the email `email_sql` ends, or NULL: the lock starts at
/// the fifth failure within 15 minutes and lasts 15 minutes (attempts during it are not
/// counted, so it ends on time).
fn locked_until_sql(email_sql: &str) -> String {
    format!(
        "SELECT max(f.at) + interval '{window} minutes' FROM tradedesk.login_failures f
          WHERE lower(f.email) = lower({email_sql})
            AND f.at > now() - interval '{window} minutes'
            AND (SELECT count(*) FROM tradedesk.login_failures g
                  WHERE lower(g.email) = lower({email_sql})
                    AND g.at > f.at - interval '{window} minutes' AND g.at <= f.at) >= {after}",
        window = LOCK_WINDOW.num_minutes(),
        after = LOCK_AFTER,
    )
}

async fn locked_until(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<DateTime<Utc>>, Error> {
    sqlx::query_scalar(&locked_until_sql("$1"))
        .bind(email)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unknown email is checked against DUMMY_HASH so that its refusal costs what a
    /// wrong password costs: the hash must be a well-formed bcrypt hash of the platform's
    /// cost (passlib's default, 12), or the check would fail at once and tell them apart.
    #[test]
    fn the_dummy_hash_costs_what_the_platforms_hashes_cost() {
        let parts: bcrypt::HashParts = DUMMY_HASH.parse().expect("a bcrypt hash");
        assert_eq!(parts.get_cost(), 12);
        assert!(matches!(
            bcrypt::verify("any password", DUMMY_HASH),
            Ok(false)
        ));
    }
}
