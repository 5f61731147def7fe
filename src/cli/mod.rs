//! The command line: clap definitions and one handler per subcommand.

mod act;
mod archive;
mod audit;
mod console;
mod db;
mod ideas;
mod login;
mod migrate;
mod output;
mod replay;
mod risk;
mod setup;
mod simulate;
mod strategies;
mod timeline;

use std::path::PathBuf;

use clap::{CommandFactory as _, Parser, Subcommand};

use crate::config::{Config, Loaded};
use crate::domain::label::labels;
use crate::domain::{DecisionAction, IdeaStatus};
use crate::store::target::Origin;
use crate::store::{ErrorCode, Target};

const AFTER_HELP: &str = "\
Which database: --database-url, else DATABASE_URL, else database_url in config.toml
(in the user's config directory, e.g. ~/.config/tradedesk/config.toml), else tradedesk's
own embedded PostgreSQL (created and started on first use; see `tradedesk db status`).

Ids: tradedesk shows an id by its last 8 hex digits (more where two shown together would
be alike). A trade idea, strategy or decision may be named by its id, its short id as
shown, or any unique prefix of its id, like git.

Exit status (with --json, errors are printed as {\"error\":{\"code\",\"message\"}}):
  0  success
  1  the database could not be reached or failed (DATABASE)
  2  the command line could not be parsed
  3  INVALID_INPUT       a value was refused; nothing was written
  4  NOT_FOUND           no idea, strategy or decision has that id
  5  CONFLICT            already decided by someone else, or in use
  6  RISK_VIOLATION      an approval was blocked by the risk checks (idea rejected)
  7  AI_HALTED           refused because AI trading is off
  8  STRATEGY_BLOCKED    the strategy does not allow it
  9  SNAPSHOT_NOT_FOUND  rows of the snapshot a decision was made on are gone (replay)
 10  UNAUTHORIZED        not logged in, login refused, or the role does not allow the act

Who acts: on a database with platform users (its `users` table), the user logged in with
`tradedesk login`; on one without, the operating-system account as user@host.";

/// tradedesk: supervise the ai-trader platform from a terminal. Without a command it opens
/// the console: four live panes (risk controls, strategies, trade ideas, the decision
/// timeline), approve or reject at a keystroke, and a kill switch (K) from anywhere.
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

    /// Print machine-readable JSON instead of text (errors too).
    #[arg(long, global = true)]
    pub json: bool,

    /// Open the console to look, not act: every act key says why it is disabled.
    #[arg(long)]
    pub read_only: bool,

    /// Open the console on an archive file written by `tradedesk archive` instead of a
    /// database (none is needed): its decision timeline, filterable, and each decision's
    /// replay (Enter) as it was before archiving. Read-only.
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,

    /// With --archive: a head `tradedesk archive` printed (decision_history:SEQ:HASH), kept
    /// elsewhere; the file must pass through it. Checks a file without a database.
    #[arg(long, value_name = "TABLE:SEQ:HASH", requires = "archive")]
    pub expect: Vec<String>,

    /// Without a command, tradedesk opens the console.
    #[command(subcommand)]
    pub command: Option<Command>,
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
        /// Also create the least-privilege PostgreSQL roles tradedesk_viewer (reads and
        /// LISTEN; the console opens read-only) and tradedesk_operator (what the acts need,
        /// nothing else); neither owns a table, so neither can disable a trigger.
        #[arg(long)]
        roles: bool,
    },
    /// Show or change the schema version by hand.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Manage tradedesk's embedded PostgreSQL (used when no database URL is configured).
    #[command(subcommand)]
    Db(DbCommand),
    /// AI trading on or off (and why), the account, today's P/L and drawdown against their
    /// limits, and the ideas awaiting approval.
    Status,
    /// Pull the kill switch: AI trading off, waiting ideas stopped, unexecuted orders
    /// cancelled — one transaction, recorded with your name.
    Halt {
        /// Why (recorded in the audit trail and shown to every operator).
        #[arg(long, default_value = "")]
        reason: String,
        /// Leave orders already handed to execution in place instead of cancelling them.
        #[arg(long)]
        keep_pending: bool,
    },
    /// Switch AI trading back on (a deliberate human act, recorded with your name).
    Resume {
        /// A note for the audit trail.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List, show, approve and reject trade ideas.
    #[command(subcommand)]
    Ideas(IdeasCommand),
    /// Show or change the risk limits.
    #[command(subcommand)]
    Risk(RiskCommand),
    /// The decision timeline, newest first, a page at a time.
    Timeline(TimelineArgs),
    /// List, show, enable, disable, delete, import and export strategies.
    #[command(subcommand)]
    Strategies(StrategiesCommand),
    /// What the AI saw when a decision was made: the symbol's candles, the indicators, the
    /// calendar and headlines around it, the account, the strategy and the risk checks
    /// re-run as they were then, and what came of it. Exits 9 (SNAPSHOT_NOT_FOUND) when
    /// some of its rows no longer exist, after printing the rest.
    Replay {
        /// The decision's id, its short id (as `tradedesk timeline` shows it) or a unique
        /// prefix of its id.
        id: String,
        /// Replay a decision from an archive file written by `tradedesk archive` (no
        /// database needed): the same replay as before it was archived.
        #[arg(long, value_name = "FILE")]
        archive: Option<PathBuf>,
        /// With --archive: a head `tradedesk archive` printed (decision_history:SEQ:HASH),
        /// kept elsewhere; the file must pass through it. Repeatable.
        #[arg(long, value_name = "TABLE:SEQ:HASH", requires = "archive")]
        expect: Vec<String>,
    },
    /// Archive every decision older than --before, with everything its replay needs, to
    /// one checksummed file (zstd-compressed JSON Lines: `zstd -dc FILE | jq`), then remove
    /// the archived decisions and ideas from the database in batches. Rows are removed
    /// only once the file is complete, verified and its SHA-256 recorded in the audit
    /// (which readers check it against); run again after an interruption with the same
    /// FILE, it finishes the removal. One archive runs on a database at a time.
    Archive(archive::ArchiveArgs),
    /// Remove snapshot rows older than --older-than that no remaining decision's replay
    /// needs, in short batches that never hold up the platform's collectors.
    PruneSnapshots(archive::PruneArgs),
    /// Log in as one of the platform's users (its `users` table): the password is read from
    /// the terminal without echo, or from standard input when that is not a terminal
    /// (`printf '%s\n' "$PW" | tradedesk login --email E`). The session lasts 12 hours
    /// unless --for says otherwise, and is kept in a file only you can read.
    Login {
        #[arg(long)]
        email: String,
        /// How long the session lasts, e.g. 8h (at most 7d).
        #[arg(long = "for", value_name = "DURATION")]
        lasting: Option<String>,
    },
    /// End this database's session.
    Logout,
    /// The platform's users and their roles at the desk.
    #[command(subcommand)]
    Users(login::UsersCommand),
    /// The tamper-evident audit: every decision_history and config_changes row is chained
    /// to the one before by a SHA-256 hash as it commits.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The simulated platform: a market for XAUUSD, EURUSD, GBPUSD, USDJPY and US30, its
    /// indicators, calendar and news, the strategies' ideas judged by the Gate, a paper
    /// broker, and the day's limits halting the AI — written as the platform writes them,
    /// under the same database rules. The same seed, start and duration write the same
    /// rows. Refuses a database holding data it did not write.
    Simulate(SimulateArgs),
    /// Print a shell completion script to standard output; no database is needed. For
    /// bash: `tradedesk completions bash > ~/.local/share/bash-completion/completions/tradedesk`;
    /// zsh: into a directory on $fpath as `_tradedesk`; fish: into
    /// ~/.config/fish/completions/tradedesk.fish.
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
    /// Print the manual page (roff) to standard output; no database is needed. Read it with
    /// `tradedesk man | man -l -`, or install it as man1/tradedesk.1.
    Man,
}

/// A shell `tradedesk completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl From<Shell> for clap_complete::Shell {
    fn from(shell: Shell) -> Self {
        match shell {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum StrategiesCommand {
    /// Every strategy with its state and symbols.
    List,
    /// One strategy with its rules.
    Show {
        /// The strategy's id, its short id as listed, or a unique prefix of its id.
        id: String,
    },
    /// Let the AI trade by this strategy.
    Enable {
        /// The strategy's id, its short id as listed, or a unique prefix of its id.
        id: String,
    },
    /// Stop the AI trading by this strategy.
    Disable {
        /// The strategy's id, its short id as listed, or a unique prefix of its id.
        id: String,
    },
    /// Delete a strategy no idea or decision refers to (otherwise disable it).
    Delete {
        /// The strategy's id, its short id as listed, or a unique prefix of its id.
        id: String,
    },
    /// Create or update strategies from a JSON file (one object, a list, or
    /// {"strategies": [...]}, as `export` writes). Every rule is checked first; one bad
    /// strategy imports none. Without "is_active" a strategy is created disabled.
    Import {
        /// The JSON file ("-" for standard input).
        file: PathBuf,
    },
    /// Print strategies as JSON that `import` reads back.
    Export {
        /// Only this strategy (id, short id or unique prefix); all when omitted.
        id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IdeasCommand {
    /// Ideas awaiting approval first (oldest on top), then the rest, newest first.
    List {
        // The statuses are listed from the type, so the help cannot drift from the schema.
        #[arg(long, help = format!("Only ideas with this status ({}).", labels(IdeaStatus::ALL)))]
        status: Option<String>,
        /// Only ideas for this symbol.
        #[arg(long)]
        symbol: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One idea in full.
    Show {
        /// The idea's id, its short id as listed, or a unique prefix of its id.
        id: String,
    },
    /// What the risk checks would say of approving an idea with a lot size, without acting
    /// (exit 0 if the approval would pass, 6 if it would be refused).
    Check {
        /// The idea's id, its short id as listed, or a unique prefix of its id.
        id: String,
        /// Lots to trade, e.g. 0.50 (default: the smaller of the strategy's cap and
        /// max_lot_size).
        #[arg(long)]
        lot: Option<String>,
    },
    /// Approve an idea awaiting approval with a lot size. The risk checks run again first:
    /// if they fail, the idea is rejected and every failing rule is printed (exit 6).
    /// `ideas check` shows the verdict without acting.
    Approve {
        /// The idea's id, its short id as listed, or a unique prefix of its id.
        id: String,
        /// Lots to trade, e.g. 0.50.
        #[arg(long)]
        lot: String,
    },
    /// Reject an idea awaiting approval.
    Reject {
        /// The idea's id, its short id as listed, or a unique prefix of its id.
        id: String,
        /// Why (recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Every risk limit, the AI switch and who changed the limits last.
    Show,
    /// Change limits: FIELD=VALUE… validated together, written in one transaction.
    /// `ai_trading_enabled=false|true` halts or resumes.
    Set {
        /// e.g. max_lot_size=0.50 max_concurrent_trades=3 halt_on_drawdown=true
        #[arg(value_name = "FIELD=VALUE", required = true)]
        edits: Vec<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct TimelineArgs {
    /// Only decisions about this symbol.
    #[arg(long)]
    pub symbol: Option<String>,
    // The actions are listed from the type, so the help cannot drift from the schema.
    #[arg(long, help = format!("Only this action ({}).", labels(DecisionAction::ALL)))]
    pub action: Option<String>,
    /// Only decisions by this operator.
    #[arg(long)]
    pub operator: Option<String>,
    /// From this time on: 2026-11-25, 2026-11-25T09:30:00Z, or an age such as 2h, 30m, 7d.
    #[arg(long)]
    pub since: Option<String>,
    /// Before this time (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Rows per page.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    /// Continue after this cursor (printed at the end of the previous page).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
    /// Print CSV instead of text.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// List the decisions an archive file holds (written by `tradedesk archive`) instead
    /// of the database's.
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,
    /// With --archive: a head `tradedesk archive` printed (decision_history:SEQ:HASH), kept
    /// elsewhere; the file must pass through it. Repeatable.
    #[arg(long, value_name = "TABLE:SEQ:HASH", requires = "archive")]
    pub expect: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The market's seed: the same seed, start and duration write the same rows.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated seconds per second of the clock, 1 (real time) to 1000: from a --from in
    /// the past, history played faster. No pace runs ahead of the clock: caught up with
    /// the present, a run carries on in real time (the platform writes no future rows).
    #[arg(long, conflicts_with = "fast", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub speed: Option<u32>,
    /// As fast as the database takes it, for history (until --duration, or until now).
    #[arg(long)]
    pub fast: bool,
    /// Where simulated time starts: 2026-11-20, 2026-11-20T08:00:00Z, or an age such as
    /// 7d (default: now).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// How long to simulate, e.g. 2h, 3d (default: until stopped; with --fast, until now).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Propose ideas every few minutes rather than every half hour (the demo desk's pace).
    #[arg(long)]
    pub lively: bool,
    /// Write into a database that holds data the simulator did not write.
    #[arg(long)]
    pub into_live_database: bool,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// List tradedesk's migrations and which of them the database has.
    Status,
    /// Apply every pending migration (adopting a Phase-1 database first); an admin's.
    Up,
    /// Revert the newest N tradedesk migrations (an admin's). The Phase-1 schema is never
    /// reverted; logins and roles, the audit and the orders are dropped only when named.
    Down {
        /// How many migrations to revert.
        #[arg(value_name = "N")]
        steps: usize,
        /// Name what reverting drops (e.g. `logins,audit-chain`): without it, a revert that
        /// would drop the desk's logins and roles, its audit or its orders is refused,
        /// naming them.
        #[arg(
            long = "i-understand-this-drops",
            value_name = "WHAT",
            value_delimiter = ','
        )]
        drops: Vec<String>,
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

/// A failure to report: one sentence, and the code that sets the exit status.
#[derive(Debug)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::store::Error> for Failure {
    fn from(e: crate::store::Error) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

macro_rules! failure_from {
    ($($t:ty => $code:expr),* $(,)?) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Self::new($code, e.to_string())
            }
        }
    )*};
}

failure_from! {
    crate::config::ConfigError => ErrorCode::InvalidInput,
    crate::domain::LotError => ErrorCode::InvalidInput,
    crate::store::embedded::Error => ErrorCode::Database,
    tokio::task::JoinError => ErrorCode::Database,
    serde_json::Error => ErrorCode::Database,
}

/// The database the user means: `--database-url`, else `DATABASE_URL`, else
/// `database_url` in config.toml, else the embedded cluster.
pub fn target(flag: Option<&str>, config: &Loaded) -> Result<Target, Failure> {
    let env = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
    let chosen = match (flag, env, &config.config.database_url) {
        (Some(url), _, _) => Some((url.to_string(), Origin::Flag)),
        (None, Some(url), _) => Some((url, Origin::Env)),
        (None, None, Some(url)) => Some((
            url.clone(),
            Origin::ConfigFile(config.path.clone().unwrap_or_default()),
        )),
        (None, None, None) => None,
    };
    match chosen {
        Some((url, origin)) => Ok(Target::from_url(&url, origin)?),
        None => Ok(Target::embedded(embedded_root()?)),
    }
}

/// Where tradedesk's own cluster lives.
fn embedded_root() -> Result<std::path::PathBuf, Failure> {
    crate::config::embedded_cluster_root().ok_or_else(|| {
        Failure::new(
            ErrorCode::Database,
            "no home directory was found for the embedded database: set DATABASE_URL, or \
             TRADEDESK_PG_DIR to a directory for tradedesk's own PostgreSQL",
        )
    })
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let result = dispatch(cli).await;
    close_opened().await;
    result
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    // What describes the command line itself needs no configuration and no database, so
    // it is answered before either is looked for.
    match cli.command {
        Some(Command::Completions { shell }) => return completions(shell),
        Some(Command::Man) => return man(),
        _ => {}
    }
    let config = Config::load(cli.config.as_deref())?;
    // An archive needs no database.
    match (&cli.command, &cli.archive) {
        (None, Some(path)) => {
            return console::run_archive(path, &config, cli.database_url.as_deref(), &cli.expect)
                .await;
        }
        (Some(_), Some(_)) => {
            return Err(Failure::new(
                ErrorCode::InvalidInput,
                "--archive before a command opens the console; give the command its own \
                 --archive (e.g. `tradedesk timeline --archive FILE`)",
            ));
        }
        _ => {}
    }
    let target = target(cli.database_url.as_deref(), &config)?;
    let out = output::Out { json: cli.json };
    let Some(command) = cli.command else {
        return console::run(&target, &config.config, cli.read_only).await;
    };
    // A page of nothing is no page: `--limit 0` is refused, not read as "one".
    if let Command::Timeline(TimelineArgs { limit, .. })
    | Command::Ideas(IdeasCommand::List { limit, .. }) = &command
        && *limit < 1
    {
        return Err(Failure::new(
            ErrorCode::InvalidInput,
            format!("--limit must be at least 1 (got {limit})"),
        ));
    }
    match command {
        Command::Setup { create_db, roles } => {
            let by = login::admin(&target, "setup").await?;
            setup::run(&target, out, create_db, roles, &by).await
        }
        Command::Migrate(command) => migrate::run(&target, out, command).await,
        Command::Db(command) => db::run(&target, out, command).await,
        Command::Status => act::status(&target, out).await,
        Command::Halt {
            reason,
            keep_pending,
        } => act::halt(&target, out, &reason, keep_pending).await,
        Command::Resume { note } => act::resume(&target, out, &note).await,
        Command::Ideas(command) => ideas::run(&target, out, command).await,
        Command::Risk(command) => risk::run(&target, out, command).await,
        Command::Timeline(args) => timeline::run(&target, out, args).await,
        Command::Strategies(command) => strategies::run(&target, out, command).await,
        Command::Replay {
            id, archive: None, ..
        } => replay::run(&target, out, &id).await,
        Command::Replay {
            id,
            archive: Some(path),
            expect,
        } => archive::replay(&target, out, &path, &id, &expect).await,
        Command::Archive(args) => {
            let by = login::admin(&target, "archive").await?;
            archive::archive(&target, out, args, &by).await
        }
        Command::PruneSnapshots(args) => {
            let by = if args.dry_run {
                None
            } else {
                Some(login::admin(&target, "prune-snapshots").await?)
            };
            archive::prune(&target, out, args, by.as_ref()).await
        }
        Command::Simulate(args) => {
            let by = if args.into_live_database {
                Some(login::admin(&target, "simulate --into-live-database").await?)
            } else {
                None
            };
            simulate::run(&target, out, args, by.as_ref()).await
        }
        Command::Login { email, lasting } => {
            login::login(&target, out, &email, lasting.as_deref()).await
        }
        Command::Logout => login::logout(&target, out).await,
        Command::Users(command) => login::users(&target, out, command).await,
        Command::Audit(command) => audit::run(&target, out, command).await,
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
    }
}

/// `tradedesk completions SHELL`: the script clap_complete writes for the whole command.
fn completions(shell: Shell) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(
        clap_complete::Shell::from(shell),
        &mut Cli::command(),
        "tradedesk",
        &mut script,
    );
    output::print_bytes(&script)
}

/// `tradedesk man`: the roff manual page clap_mangen writes for the whole command.
fn man() -> Result<(), Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(output::write_failed)?;
    output::print_bytes(&page)
}

/// The stores this command opened: closed when it ends, so the server sees their
/// connections end instead of being reset.
static OPENED: std::sync::Mutex<Vec<crate::store::Store>> = std::sync::Mutex::new(Vec::new());

/// Opens the store for an act or a query (two connections are plenty for one command).
async fn open(target: &Target) -> Result<crate::store::Store, Failure> {
    let store = crate::store::Store::open(target, 2).await?;
    OPENED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(store.clone());
    Ok(store)
}

async fn close_opened() {
    let opened = std::mem::take(&mut *OPENED.lock().unwrap_or_else(|p| p.into_inner()));
    for store in opened {
        store.pool().close().await;
    }
}
