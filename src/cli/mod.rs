//! The command line: clap definitions and one handler per subcommand.

mod db;
mod migrate;
mod setup;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::store::Target;

const AFTER_HELP: &str = "\
Which database: --database-url, else DATABASE_URL, else database_url in config.toml
(in the user's config directory, e.g. ~/.config/tradedesk/config.toml), else tradedesk's
own embedded PostgreSQL (created and started on first use; see `tradedesk db status`).

Exit status: 0 on success, 1 when the command failed (the reason is printed on stderr),
2 for a command line clap could not parse.";

/// tradedesk: supervise the ai-trader platform from a terminal.
#[derive(Debug, Parser)]
#[command(name = "tradedesk", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// PostgreSQL URL of the platform's database (postgres://user:password@host:port/db);
    /// overrides DATABASE_URL and config.toml. Its password is never printed.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Read this configuration file instead of the default config.toml.
    #[arg(long, global = true, value_name = "FILE", env = "TRADEDESK_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database (or adopt one the platform made), migrate it, write the default
    /// risk limits if there are none, and list every table with its row count. Running it
    /// again changes nothing.
    Setup {
        /// Create the database when it does not exist (always done for the embedded one).
        #[arg(long)]
        create_db: bool,
    },
    /// Show or change the schema version by hand.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Manage tradedesk's embedded PostgreSQL (used when no database URL is configured).
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// List tradedesk's migrations and which of them the database has.
    Status,
    /// Apply every pending migration (adopting a Phase-1 database first).
    Up,
    /// Revert the newest N tradedesk migrations. The Phase-1 schema is never reverted.
    Down {
        /// How many migrations to revert.
        #[arg(value_name = "N")]
        steps: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Where the embedded cluster is, whether it runs, and how to reach it with psql.
    Status,
    /// Create the embedded cluster if needed and start it.
    Start,
    /// Stop the embedded cluster (it starts again when tradedesk next needs it).
    Stop,
}

/// A failure to report: one sentence on stderr, exit status 1.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let config = Config::load(cli.config.as_deref())?;
    let target = Target::resolve(cli.database_url.as_deref(), &config)?;
    match cli.command {
        Command::Setup { create_db } => setup::run(&target, create_db).await,
        Command::Migrate(command) => migrate::run(&target, command).await,
        Command::Db(command) => db::run(&target, command).await,
    }
}
