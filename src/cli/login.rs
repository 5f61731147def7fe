//! `tradedesk login`, `logout` and `users`, and who acts: the logged-in platform user on a
//! database that has users, the operating-system account on one that has none.
//!
//! The session token lives in a file of its own per database (0600, in the user's state
//! directory); the database keeps only its hash (src/store/auth.rs).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::output::{Align, Out, Table};
use super::{Failure, open};
use crate::domain::role::Role;
use crate::format::{age, timestamp};
use crate::operator::Operator;
use crate::store::auth::{Login, SESSION_LENGTH};
use crate::store::{ErrorCode, Store, Target};

#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// The platform's users: role at the desk, last login, failed logins, lock-outs.
    List,
    /// Give a user a role: viewer (reads; may pull the kill switch), operator (also
    /// approves and rejects), admin (also resumes, edits limits and strategies, grants).
    Grant { email: String, role: Role },
    /// Take a user's role away (without one, once roles are granted, a user only looks).
    Revoke { email: String },
}

/// The file holding this user's session token for `target`.
fn session_file(target: &Target) -> Result<PathBuf, Failure> {
    let dirs = crate::config::project_dirs().ok_or_else(|| {
        Failure::new(
            ErrorCode::InvalidInput,
            "no home directory was found to keep the session in",
        )
    })?;
    let dir = dirs
        .state_dir()
        .unwrap_or(dirs.data_local_dir())
        .join("sessions");
    // Named after the database (never its password), so each database has its own login.
    let key = hex::encode(&Sha256::digest(target.describe().as_bytes())[..8]);
    Ok(dir.join(format!("{key}.token")))
}

/// This database's session token, for a console to check before each act.
pub fn session_token(target: &Target) -> Option<crate::store::auth::SessionToken> {
    read_token(target).map(crate::store::auth::SessionToken::new)
}

fn read_token(target: &Target) -> Option<String> {
    let path = session_file(target).ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    let token = text.trim().to_string();
    (!token.is_empty()).then_some(token)
}

fn write_token(target: &Target, token: &str) -> Result<PathBuf, Failure> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let path = session_file(target)?;
    let failed = |e: std::io::Error| {
        Failure::new(
            ErrorCode::InvalidInput,
            format!("the session could not be kept in {}: {e}", path.display()),
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(failed)?;
    }
    // Replaced whole, never readable by others even for a moment.
    let partial = path.with_extension("partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(failed)?;
    file.write_all(format!("{token}\n").as_bytes())
        .map_err(failed)?;
    std::fs::rename(&partial, &path).map_err(failed)?;
    Ok(path)
}

/// Who acts on `store`: its logged-in platform user (with their role now), or, on a
/// database without platform users, the operating-system account with every act open.
pub async fn identity(store: &Store, target: &Target) -> Result<Operator, Failure> {
    if !store.has_platform_users().await? {
        return Ok(Operator::from_os());
    }
    logged_in(store, target).await?.ok_or_else(|| {
        Failure::new(
            ErrorCode::Unauthorized,
            "this database has platform users: log in first with `tradedesk login --email \
             you@example.com` (a session lasts 12 hours)",
        )
    })
}

/// Who pulls the kill switch: as [`identity`], but stopping needs no login — on a
/// database with platform users, someone not logged in (or whose session has ended) halts
/// as `user@host (not logged in)`, a viewer's act. No lock-out can delay it: failed
/// logins are never looked at here.
pub async fn halt_identity(store: &Store, target: &Target) -> Result<Operator, Failure> {
    if !store.has_platform_users().await? {
        return Ok(Operator::from_os());
    }
    if let Some(operator) = logged_in(store, target).await? {
        return Ok(operator);
    }
    Ok(not_logged_in())
}

/// The operating-system account, as someone who is not logged in: a viewer.
pub fn not_logged_in() -> Operator {
    let os = Operator::from_os();
    Operator::with_role(format!("{os} (not logged in)"), Role::Viewer).unwrap_or(os)
}

/// Who may run a command that changes the schema or removes data in bulk (`command`, as
/// typed, for the sentence): on a database with platform users, an admin's session;
/// otherwise the operating-system account. A database whose logins tradedesk has not
/// installed yet (no `tradedesk.sessions`: a platform's database before its first
/// `tradedesk setup`) has no one who could log in, so the account runs it.
pub async fn admin(target: &Target, command: &str) -> Result<Operator, Failure> {
    // tradedesk's own cluster is never started (nor made) to ask: stopped, its files are
    // the account's alone, and the command that needs it starts it.
    if let Target::Embedded { cluster, .. } = target {
        let running = cluster.status().ok().and_then(|s| s.pid).is_some();
        if !running {
            return Ok(Operator::from_os());
        }
    }
    let pool = match crate::store::connect::connect(target, 1).await {
        Ok(pool) => pool,
        // A database that is not there yet has no users (`setup --create-db` makes it).
        Err(crate::store::Error::DatabaseMissing { .. }) => return Ok(Operator::from_os()),
        Err(e) => return Err(e.into()),
    };
    let installed: (bool, bool) = sqlx::query_as(
        "SELECT to_regclass('public.users') IS NOT NULL,
                to_regclass('tradedesk.sessions') IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .map_err(crate::store::Error::Database)?;
    let store = Store::from_pool(pool);
    let operator = match installed {
        (true, true) if store.has_platform_users().await? => {
            logged_in(&store, target).await?.ok_or_else(|| {
                Failure::new(
                    ErrorCode::Unauthorized,
                    format!(
                        "`tradedesk {command}` changes the schema or removes data: on a database \
                         with platform users it is an admin's, so log in as one first \
                         (`tradedesk login --email you@example.com`)"
                    ),
                )
            })?
        }
        _ => Operator::from_os(),
    };
    store.pool().close().await;
    operator
        .may(crate::domain::act::Act::Maintain)
        .map_err(|e| {
            Failure::new(
                ErrorCode::Unauthorized,
                format!("`tradedesk {command}`: {e}"),
            )
        })?;
    Ok(operator)
}

/// This database's logged-in platform user with their role now, if a session is valid (the
/// caller knows the database has platform users).
pub async fn logged_in(store: &Store, target: &Target) -> Result<Option<Operator>, Failure> {
    let Some(token) = read_token(target) else {
        return Ok(None);
    };
    let session = store.session(&token).await?;
    Ok(session
        .and_then(|s| s.operator())
        .map(|o| o.with_session(crate::store::auth::SessionToken::new(token))))
}

/// The password: from the terminal without echo, or the first line of standard input
/// when that is not a terminal (scripts). Never from an argument.
pub fn read_password(email: &str) -> Result<String, Failure> {
    let failed = |e: std::io::Error| {
        Failure::new(
            ErrorCode::InvalidInput,
            format!("the password could not be read: {e}"),
        )
    };
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("Password for {email}: ")).map_err(failed);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(failed)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn host() -> String {
    Operator::from_os().to_string()
}

/// Logs in and keeps the session.
pub async fn log_in(
    store: &Store,
    target: &Target,
    email: &str,
    password: &str,
    lasting: chrono::TimeDelta,
) -> Result<Login, Failure> {
    let login = store.login(email, password, &host(), lasting).await?;
    write_token(target, &login.token)?;
    Ok(login)
}

/// One line on what a login gives.
pub fn said(login: &Login) -> String {
    let role = if login.roles_granted {
        format!("role {}", login.role)
    } else {
        "admin: no roles are granted yet, so every active user is one".to_string()
    };
    format!(
        "Logged in as {} ({role}) until {}.",
        crate::domain::text::line(&login.email),
        timestamp(login.expires_at)
    )
}

pub async fn login(
    target: &Target,
    out: Out,
    email: &str,
    lasting: Option<&str>,
) -> Result<(), Failure> {
    let lasting = match lasting {
        None => SESSION_LENGTH,
        Some(text) => humantime::parse_duration(text)
            .ok()
            .and_then(|d| chrono::TimeDelta::from_std(d).ok())
            .filter(|d| *d > chrono::TimeDelta::zero() && *d <= chrono::TimeDelta::days(7))
            .ok_or_else(|| {
                Failure::new(
                    ErrorCode::InvalidInput,
                    format!("`{text}` is not a session length: use e.g. 8h, up to 7d"),
                )
            })?,
    };
    let store = open(target).await?;
    let password = read_password(email)?;
    let login = log_in(&store, target, email, &password, lasting).await?;
    if out.json {
        return out.json(&login);
    }
    println!("{}", said(&login));
    Ok(())
}

pub async fn logout(target: &Target, out: Out) -> Result<(), Failure> {
    let store = open(target).await?;
    let ended = match read_token(target) {
        Some(token) => store.logout(&token).await?,
        None => false,
    };
    if let Ok(path) = session_file(target) {
        let _ = std::fs::remove_file(path);
    }
    if out.json {
        return out.json(&serde_json::json!({ "ended": ended }));
    }
    println!(
        "{}",
        if ended {
            "Logged out."
        } else {
            "No session was open."
        }
    );
    Ok(())
}

pub async fn users(target: &Target, out: Out, command: UsersCommand) -> Result<(), Failure> {
    let store = open(target).await?;
    let (email, role) = match command {
        UsersCommand::List => {
            let operator = identity(&store, target).await?;
            return list(&store, out, &operator).await;
        }
        UsersCommand::Grant { email, role } => (email, Some(role)),
        UsersCommand::Revoke { email } => (email, None),
    };
    let operator = identity(&store, target).await?;
    let change = store.set_role(&email, role, &operator).await?;
    if out.json {
        return out.json(&change);
    }
    let shown = |r: Option<Role>| r.map_or("no role".to_string(), |r| r.to_string());
    println!(
        "{}: {} → {}.",
        crate::domain::text::line(&change.email),
        shown(change.before),
        shown(change.after)
    );
    Ok(())
}

async fn list(store: &Store, out: Out, operator: &Operator) -> Result<(), Failure> {
    let users = store.users(operator).await?;
    let granted = store.roles_granted().await?;
    if out.json {
        return out.json(&serde_json::json!({ "roles_granted": granted, "users": users }));
    }
    if users.is_empty() {
        println!("No platform users: acts are recorded as the operating-system account.");
        return Ok(());
    }
    let now = chrono::Utc::now();
    let mut table = Table::new(&[
        ("EMAIL", Align::Left),
        ("ACTIVE", Align::Left),
        ("ROLE", Align::Left),
        ("LAST LOGIN", Align::Left),
        ("FAILED (15m)", Align::Right),
        ("LOCKED", Align::Left),
    ]);
    for u in &users {
        let role = match (&u.granted, granted) {
            (Some(role), _) => role.clone(),
            (None, false) => "admin (no roles granted yet)".into(),
            (None, true) => "viewer (none granted)".into(),
        };
        table.row([
            u.email.clone(),
            if u.is_active { "yes" } else { "no" }.into(),
            role,
            u.last_login
                .map(|t| format!("{} ago", age(t, now)))
                .unwrap_or_else(|| "never".into()),
            u.recent_failures.to_string(),
            u.locked_until
                .filter(|t| *t > now)
                .map(|t| format!("until {}", timestamp(t)))
                .unwrap_or_else(|| "—".into()),
        ]);
    }
    table.print();
    Ok(())
}
