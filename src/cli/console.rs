//! `tradedesk` with no command: the console.

use std::io::IsTerminal as _;

use chrono::Utc;

use super::Failure;
use crate::config::Config;
use crate::console::app::App;
use crate::console::keymap::Keymap;
use crate::console::theme::Theme;
use crate::operator::Operator;
use crate::store::{ErrorCode, Store, Target};

/// The console's connections: one for the listener, the rest for reads and acts, opened
/// as they are needed.
const CONNECTIONS: u32 = 3;

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
    let store = match target {
        // tradedesk's own database: make it ready (no row counts: start-up stays quick at
        // any size), and give a newcomer something to see.
        Target::Embedded { .. } => {
            let (pool, _) = crate::store::setup::prepare(target, false, CONNECTIONS).await?;
            let store = Store::from_pool(pool);
            if let Some(seeded) = store.seed_demo().await? {
                tracing::info!(?seeded, "demo data seeded into an empty database");
            }
            store
        }
        Target::Url { .. } => Store::open(target, CONNECTIONS).await?,
    };
    let operator = Operator::from_os();
    let mut app = App::new(
        operator.to_string(),
        target.describe(),
        read_only,
        keymap,
        Utc::now(),
    );
    app.alerts.settings = config.alerts;
    crate::console::run::run(store, app, Theme::from_env(), operator)
        .await
        .map_err(|e| Failure::new(ErrorCode::Database, format!("the terminal failed: {e}")))?;
    if let Some(log) = log {
        tracing::info!(log = %log.display(), "console closed");
    }
    Ok(())
}
