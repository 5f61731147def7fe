//! The user's `config.toml` and the directories tradedesk keeps its files in.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;
use serde::Deserialize;

/// Where tradedesk's files live, following the platform's conventions (XDG on Linux).
pub fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "tradedesk")
}

/// The directory of tradedesk's own PostgreSQL cluster, used when no database URL is
/// configured: `TRADEDESK_PG_DIR` if set; else, for root, `/var/lib/tradedesk/postgres` (the
/// server runs as `postgres`, which cannot enter root's private home); else
/// `<user data dir>/tradedesk/postgres`.
pub fn embedded_cluster_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TRADEDESK_PG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if nix::unistd::geteuid().is_root() {
        return Some(PathBuf::from("/var/lib/tradedesk/postgres"));
    }
    project_dirs().map(|dirs| dirs.data_local_dir().join("postgres"))
}

/// The settings a user may put in `config.toml`. Unknown keys are refused so that a typo
/// does not silently fall back to a default.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The database to supervise. When absent (and no flag or `DATABASE_URL` names one),
    /// tradedesk runs its own embedded PostgreSQL.
    pub database_url: Option<String>,
    /// Console key bindings by action, e.g. `approve = ["a", "y"]` (see `tradedesk --help`
    /// and the console's `?` screen for the actions).
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
    /// Which of the console's alerts to raise, and how.
    #[serde(default)]
    pub alerts: AlertSettings,
}

/// Which alerts to raise and how (config.toml `[alerts]`); everything is on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// An idea starts awaiting approval.
    pub approval: bool,
    /// AI trading is halted.
    pub halt: bool,
    /// The day's drawdown crosses 80% of its limit.
    pub drawdown: bool,
    /// The connection to the database is lost.
    pub disconnect: bool,
    /// Ring the terminal's bell.
    pub bell: bool,
    /// Send a desktop notification through the terminal (OSC 9 and OSC 777).
    pub desktop: bool,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            approval: true,
            halt: true,
            drawdown: true,
            disconnect: true,
            bell: true,
            desktop: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {} is not valid: {message}", path.display())]
    Parse { path: PathBuf, message: String },
}

/// A loaded configuration and the file it came from (if any).
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Config {
    /// The default location: `<config dir>/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        project_dirs().map(|dirs| dirs.config_dir().join("config.toml"))
    }

    /// Loads `explicit` (which must exist) or else the default file if it exists.
    pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
        let (path, must_exist) = match explicit {
            Some(path) => (path.to_path_buf(), true),
            None => match Self::default_path() {
                Some(path) => (path, false),
                None => return Ok(Loaded::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Loaded::default());
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let config = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.clone(),
            message,
        })?;
        Ok(Loaded {
            config,
            path: Some(path),
        })
    }

    /// Parses the text of a `config.toml`. The error is a sentence without the file's
    /// contents, which may hold a password.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(line) => format!("line {line}: {}", e.message()),
                None => e.message().to_string(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_is_read() {
        let config = Config::parse("database_url = \"postgres://u:p@h/db\"\n").unwrap();
        assert_eq!(config.database_url.as_deref(), Some("postgres://u:p@h/db"));
    }

    #[test]
    fn key_bindings_are_read_and_the_example_config_parses() {
        let config = Config::parse("[keys]\napprove = [\"a\", \"y\"]\n").unwrap();
        assert_eq!(config.keys["approve"], ["a", "y"]);
        let example = include_str!("../assets/config.toml");
        let uncommented: String = example
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|l| l.starts_with('[') || l.contains(" = "))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = Config::parse(&uncommented).unwrap();
        assert!(config.database_url.is_some());
        assert_eq!(config.keys["halt"], ["K", "ctrl-k"]);
        assert_eq!(config.alerts, AlertSettings::default());
        crate::console::keymap::Keymap::with_overrides(&config.keys).unwrap();
    }

    #[test]
    fn alerts_are_on_unless_switched_off_one_by_one() {
        assert_eq!(Config::parse("").unwrap().alerts, AlertSettings::default());
        let config = Config::parse(
            "[alerts]
bell = false
approval = false
",
        )
        .unwrap();
        assert!(!config.alerts.bell && !config.alerts.approval);
        assert!(config.alerts.desktop && config.alerts.halt);
        assert!(
            Config::parse(
                "[alerts]
beep = false
"
            )
            .is_err()
        );
    }

    #[test]
    fn unknown_key_is_refused_with_its_line_and_without_the_text() {
        let err = Config::parse("database_url = \"postgres://u:secret@h/db\"\ndatabse = 1\n")
            .unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(err.contains("databse"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
