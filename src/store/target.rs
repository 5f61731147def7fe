//! Which database tradedesk works on, and how to name it without revealing a password.
//! Which one the user meant (flag, environment, config file, else the embedded cluster) is
//! decided by the caller; see `cli::target`.

use std::path::PathBuf;
use std::str::FromStr as _;

use sqlx::postgres::PgConnectOptions;

use super::embedded::Cluster;
use super::error::Error;

/// The platform's database name, used when a URL names none and for the embedded cluster.
pub const DEFAULT_DATABASE: &str = "ai_trader";

/// Where a database URL came from, so messages can say what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    ConfigFile(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("--database-url"),
            Origin::Env => f.write_str("DATABASE_URL"),
            Origin::ConfigFile(path) => write!(f, "database_url in {}", path.display()),
        }
    }
}

/// A database to connect to.
#[derive(Debug, Clone)]
pub enum Target {
    /// A server the user named by URL.
    Url {
        /// Holds the password; never print it with `{:?}`.
        options: Box<PgConnectOptions>,
        /// The URL with its password replaced by `***`.
        redacted: String,
        origin: Origin,
    },
    /// tradedesk's own cluster.
    Embedded { cluster: Cluster, database: String },
}

impl Target {
    /// tradedesk's own cluster at `root`, holding the platform's database name.
    pub fn embedded(root: PathBuf) -> Target {
        Target::Embedded {
            cluster: Cluster::new(root),
            database: DEFAULT_DATABASE.to_string(),
        }
    }

    /// A target from a `postgres://` or `postgresql://` URL.
    pub fn from_url(url: &str, origin: Origin) -> Result<Target, Error> {
        let redacted = redact(url);
        let parsed = url::Url::parse(url).map_err(|e| Error::BadUrl {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(Error::BadUrl {
                origin: origin.to_string(),
                reason: format!(
                    "it starts with `{}:` where `postgres://` or `postgresql://` belongs",
                    parsed.scheme()
                ),
            });
        }
        let mut options = PgConnectOptions::from_str(url).map_err(|e| Error::BadUrl {
            origin: origin.to_string(),
            // sqlx's configuration errors describe the fault, not the URL.
            reason: e.to_string(),
        })?;
        if options.get_database().is_none() {
            options = options.database(DEFAULT_DATABASE);
        }
        Ok(Target::Url {
            options: Box::new(options.application_name("tradedesk")),
            redacted,
            origin,
        })
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        match self {
            Target::Url { options, .. } => options.get_database().unwrap_or(DEFAULT_DATABASE),
            Target::Embedded { database, .. } => database,
        }
    }

    /// The role tradedesk connects as.
    pub fn username(&self) -> &str {
        match self {
            Target::Url { options, .. } => options.get_username(),
            Target::Embedded { .. } => super::embedded::SUPERUSER,
        }
    }

    /// How to connect to this target's database.
    pub fn options(&self) -> PgConnectOptions {
        match self {
            Target::Url { options, .. } => (**options).clone(),
            Target::Embedded { cluster, database } => cluster.connect_options(database),
        }
    }

    /// The same server, another database (for CREATE DATABASE, which must run elsewhere).
    pub fn options_for(&self, database: &str) -> PgConnectOptions {
        self.options().database(database)
    }

    /// The target as it may be shown: never with a password.
    pub fn describe(&self) -> String {
        match self {
            Target::Url { redacted, .. } => redacted.clone(),
            Target::Embedded { cluster, database } => cluster.url(database),
        }
    }

    pub fn cluster(&self) -> Option<&Cluster> {
        match self {
            Target::Embedded { cluster, .. } => Some(cluster),
            Target::Url { .. } => None,
        }
    }
}

/// `url` with any password replaced by `***`. A URL that cannot be parsed is not shown at
/// all, since where its password is cannot be known.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Cannot fail: a URL with a password has a host.
                let _ = parsed.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") {
                        "***".to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if pairs
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("password"))
            {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "(a database URL that cannot be parsed)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted() {
        assert_eq!(
            redact("postgres://trader:s3cret@db.example:5432/ai_trader"),
            "postgres://trader:***@db.example:5432/ai_trader"
        );
        assert_eq!(
            redact("postgresql://trader@db/ai?password=s3cret&sslmode=require"),
            "postgresql://trader@db/ai?password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://db/ai"), "postgres://db/ai");
    }

    #[test]
    fn unparseable_url_is_not_echoed() {
        let shown = redact("postgres://trader:s3cret@[bad/ai");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn url_without_database_names_the_platforms() {
        let target = Target::from_url("postgres://trader:pw@localhost", Origin::Env).unwrap();
        assert_eq!(target.database(), DEFAULT_DATABASE);
        assert_eq!(target.username(), "trader");
        assert!(!target.describe().contains("pw"));
    }

    #[test]
    fn other_schemes_are_refused_without_the_password() {
        let err = Target::from_url("mysql://u:s3cret@h/db", Origin::Flag).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--database-url"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
