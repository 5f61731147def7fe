//! `tradedesk` with no command: the console.

use std::io::IsTerminal as _;

use chrono::Utc;

use super::{Failure, login};
use crate::config::Config;
use crate::console::app::App;
use crate::console::keymap::Keymap;
use crate::console::theme::Theme;
use crate::operator::Operator;
use crate::sim::engine as sim;
use crate::store::auth::{REFUSED, SESSION_LENGTH, SessionToken};
use crate::store::{ErrorCode, Store, Target};

/// The console's connections besides the acts' (store::acts): one for the listener and
/// three for the panes' reads, all opened at once as it starts.
const CONNECTIONS: u32 = 4;

/// Logs go to a file, never to the terminal the console draws on.
fn start_logging() -> Option<std::path::PathBuf> {
    let dirs = crate::config::project_dirs()?;
    let dir = dirs
        .state_dir()
        .unwrap_or(dirs.data_local_dir())
        .to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("tradedesk.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRADEDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(path)
}

/// The simulated platform beside the console on tradedesk's own database, in real time:
/// ideas arrive through the Gate, orders fill, the account moves, a limit halts the AI
/// (src/sim/engine.rs). Its own connections; stopped when the console quits.
struct Demo {
    task: tokio::task::JoinHandle<()>,
    store: Store,
}

/// The demo's market: the same seed every start (the ids differ, keyed by the start).
const DEMO_SEED: u64 = 1;
/// How long the demo waits before carrying on after the database failed it.
const DEMO_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

impl Demo {
    /// Starts the simulated platform, unless the database holds data it did not write (the
    /// platform's: then the console only shows it).
    async fn start(target: &Target) -> Option<Demo> {
        // One holds the simulation's lock, one writes.
        let store = match Store::open(target, 2).await {
            Ok(store) => store,
            Err(e) => {
                tracing::warn!(error = %e, "the demo's simulated platform could not connect");
                return None;
            }
        };
        if let Err(e) = sim::check_ownership(&store, false).await {
            tracing::warn!(error = %e, "not simulating");
            store.pool().close().await;
            return None;
        }
        let sim = store.clone();
        let task = tokio::spawn(async move {
            loop {
                let options = sim::Options {
                    seed: DEMO_SEED,
                    from: Utc::now(),
                    until: None,
                    pace: sim::Pace::Speed(1.0),
                    liveliness: sim::Liveliness::Lively,
                };
                match sim::run(&sim, &options, |_| {}).await {
                    // Another console's demo keeps the desk living; take over when it quits.
                    Err(sim::SimError::AlreadyRunning) => {}
                    // A lost connection: carry on from the database's state once it is back.
                    Err(e) => tracing::warn!(error = %e, "the demo's simulated platform stopped"),
                    Ok(_) => return,
                }
                tokio::time::sleep(DEMO_RETRY).await;
            }
        });
        tracing::info!("the demo's simulated platform runs beside the console");
        Some(Demo { task, store })
    }

    /// Stops the simulation (a write in flight is rolled back whole) and closes its
    /// connections.
    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        self.store.pool().close().await;
    }
}

/// Who the console acts as, how the header names them, and why it may only look.
struct Who {
    operator: Operator,
    /// The platform user's session, checked again before each act.
    session: Option<SessionToken>,
    shown: String,
    read_only: Option<String>,
}

/// The logged-in platform user, or a login on the terminal before the console opens (an
/// empty email opens it to look only); on a database without platform users, the
/// operating-system account. A database role that may not write opens it read-only.
/// What the database says of acting from this connection, read together.
struct Standing {
    /// The role may record acts (not `tradedesk_viewer`).
    can_write: bool,
    /// The platform has active users: acts need a login.
    has_users: bool,
}

impl Standing {
    async fn read(store: &Store) -> Result<Standing, crate::store::Error> {
        let (can_write, has_users) =
            futures::try_join!(store.can_write(), store.has_platform_users())?;
        Ok(Standing {
            can_write,
            has_users,
        })
    }
}

async fn who_acts(
    store: &Store,
    target: &Target,
    read_only: bool,
    standing: Standing,
) -> Result<Who, Failure> {
    // Connected as a role that may not write (tradedesk_viewer): look, without a login.
    if !standing.can_write {
        return Ok(not_logged_in(Some(
            "this database role may only read (e.g. tradedesk_viewer)".into(),
        )));
    }
    if !standing.has_users {
        let operator = Operator::from_os();
        return Ok(Who {
            shown: format!("{operator} (no platform users)"),
            operator,
            session: None,
            read_only: None,
        });
    }
    if let Some(operator) = login::logged_in(store, target).await? {
        return Ok(Who {
            shown: format!("{operator} ({})", operator.role()),
            operator,
            session: login::session_token(target),
            read_only: None,
        });
    }
    if read_only || !std::io::stdin().is_terminal() {
        return Ok(may_only_halt());
    }
    eprintln!(
        "This database has platform users: log in to act (a session lasts 12 hours), or leave \
         the email empty to look (the kill switch works without a login)."
    );
    for _ in 0..3 {
        eprint!("Email: ");
        let mut email = String::new();
        std::io::stdin()
            .read_line(&mut email)
            .map_err(|e| Failure::new(ErrorCode::InvalidInput, format!("no email read: {e}")))?;
        let email = email.trim();
        if email.is_empty() {
            return Ok(may_only_halt());
        }
        let password = login::read_password(email)?;
        match login::log_in(store, target, email, &password, SESSION_LENGTH).await {
            Ok(done) => {
                eprintln!("{}", login::said(&done));
                let operator = Operator::with_role(done.email, done.role)
                    .ok_or_else(|| Failure::new(ErrorCode::Unauthorized, REFUSED))?
                    .with_session(SessionToken::new(done.token));
                return Ok(Who {
                    shown: format!("{operator} ({})", operator.role()),
                    operator,
                    session: login::session_token(target),
                    read_only: None,
                });
            }
            Err(f) if f.code == ErrorCode::Unauthorized => eprintln!("{}", f.message),
            Err(f) => return Err(f),
        }
    }
    Err(Failure::new(ErrorCode::Unauthorized, REFUSED))
}

/// Without a login on a database with platform users: look, and pull the kill switch
/// (stopping needs no login), as `user@host (not logged in)`.
fn may_only_halt() -> Who {
    let operator = login::not_logged_in();
    Who {
        shown: operator.to_string(),
        operator,
        session: None,
        read_only: None,
    }
}

/// Looking only (a database role that may not write): nothing can be done.
fn not_logged_in(why: Option<String>) -> Who {
    let operator = Operator::with_role("not logged in", crate::domain::role::Role::Viewer)
        .unwrap_or_else(Operator::from_os);
    Who {
        shown: "not logged in".into(),
        operator,
        session: None,
        read_only: why,
    }
}

pub async fn run(target: &Target, config: &Config, read_only: bool) -> Result<(), Failure> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            ErrorCode::InvalidInput,
            "the console needs a terminal; for scripts use a command (see `tradedesk --help`)",
        ));
    }
    let keymap = Keymap::with_overrides(&config.keys)
        .map_err(|e| Failure::new(ErrorCode::InvalidInput, e.to_string()))?;
    let log = start_logging();
    tracing::info!(target = %target.describe(), read_only, "console starting");
    let (store, demo, standing) = match target {
        // tradedesk's own database: make it ready (no row counts: start-up stays quick at
        // any size), give a newcomer something to see, and keep it living.
        Target::Embedded { .. } => {
            let (pool, _) = crate::store::setup::prepare(target, false, CONNECTIONS).await?;
            let store = Store::from_pool(pool);
            if let Some(seeded) = store.seed_demo().await? {
                tracing::info!(?seeded, "demo data seeded into an empty database");
            }
            let demo = Demo::start(target).await;
            (store, demo, None)
        }
        // Anyone else's database: never simulated.
        Target::Url { .. } => {
            // Who may act is read while the schema is checked.
            let (store, standing) = Store::open_all(target, CONNECTIONS, |store| async move {
                Standing::read(&store).await
            })
            .await?;
            (store, None, Some(standing))
        }
    };
    let standing = match standing {
        Some(standing) => Ok(standing),
        None => Standing::read(&store).await,
    };
    let who = match standing.map_err(Failure::from) {
        Ok(standing) => who_acts(&store, target, read_only, standing).await,
        Err(failure) => Err(failure),
    };
    let who = match who {
        Ok(who) => who,
        Err(failure) => {
            if let Some(demo) = demo {
                demo.stop().await;
            }
            return Err(failure);
        }
    };
    let read_only = read_only || who.read_only.is_some();
    // Acts run on connections of their own, kept ready for them (store::acts).
    let store = if read_only {
        store
    } else {
        store.with_act_connections()
    };
    let mut app = App::new(who.shown, target.describe(), read_only, keymap, Utc::now());
    app.role = who.operator.role();
    app.read_only_why = who.read_only;
    let (operator, session) = (who.operator, who.session);
    app.alerts.settings = config.alerts;
    app.demo = demo.is_some();
    let ran = crate::console::run::run(
        crate::console::run::Source::Database(store),
        app,
        Theme::from_env(),
        operator,
        session,
    )
    .await;
    if let Some(demo) = demo {
        demo.stop().await;
    }
    ran.map_err(|e| Failure::new(ErrorCode::Database, format!("the terminal failed: {e}")))?;
    if let Some(log) = log {
        tracing::info!(log = %log.display(), "console closed");
    }
    Ok(())
}

/// `tradedesk --archive FILE`: the console on an archive file, read-only. The file is read,
/// verified whole and checked (against the database the user named, if any, or the kept
/// heads) before the screen opens: a file that fails is refused, not shown.
pub async fn run_archive(
    path: &std::path::Path,
    loaded: &crate::config::Loaded,
    database_url: Option<&str>,
    expect: &[String],
) -> Result<(), Failure> {
    let config = &loaded.config;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            ErrorCode::InvalidInput,
            "the console needs a terminal; for scripts use `tradedesk timeline --archive FILE` \
             and `tradedesk replay --archive FILE ID`",
        ));
    }
    let keymap = Keymap::with_overrides(&config.keys)
        .map_err(|e| Failure::new(ErrorCode::InvalidInput, e.to_string()))?;
    let log = start_logging();
    eprintln!("Reading {} and verifying it…", path.display());
    // No home for the embedded cluster's directory means no database to check against.
    let target = super::target(database_url, loaded).ok();
    let (data, shown) = super::archive::open_for_console(target.as_ref(), path, expect).await?;
    tracing::info!(file = %path.display(), decisions = shown.decisions, "console on an archive");
    let operator = Operator::with_role("archive reader", crate::domain::role::Role::Viewer)
        .unwrap_or_else(Operator::from_os);
    let mut app = App::new(
        "archive".into(),
        shown.database.clone(),
        true,
        keymap,
        Utc::now(),
    )
    .on_archive(shown);
    app.alerts.settings = config.alerts;
    crate::console::run::run(
        crate::console::run::Source::Archive(std::sync::Arc::new(data)),
        app,
        Theme::from_env(),
        operator,
        None,
    )
    .await
    .map_err(|e| Failure::new(ErrorCode::Database, format!("the terminal failed: {e}")))?;
    if let Some(log) = log {
        tracing::info!(log = %log.display(), "console closed");
    }
    Ok(())
}
