//! The embedded default: a private PostgreSQL cluster that tradedesk creates and starts
//! itself when no database URL is configured.
//!
//! The cluster lives in one directory (`root`): `data/` (PGDATA), `run/` (the Unix
//! socket — the server listens on no TCP port), `server.log`, and `.lock`. It keeps running
//! between invocations so that a second terminal, or a one-line `tradedesk halt`, reaches
//! the same data; `tradedesk db stop` stops it.
//!
//! Every step that may change the cluster (initdb, start, stop) runs under an exclusive
//! lock on `.lock`, so two tradedesk processes starting at once neither corrupt nor
//! double-start it. PostgreSQL refuses to run as root; when tradedesk runs as root the
//! server runs as the unprivileged `postgres` system user that the server package creates.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::postgres::PgConnectOptions;

/// The role initdb creates; tradedesk connects as it over the private socket.
pub const SUPERUSER: &str = "postgres";
/// The port only names the socket file (`.s.PGSQL.5432`); no TCP port is opened.
const PORT: u16 = 5432;
/// A Unix socket path must fit in `sun_path` (108 bytes with its terminating NUL).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found in PATH, \
         `pg_config --bindir` or /usr/lib/postgresql/*/bin: install them \
         (Debian/Ubuntu: `apt install postgresql`; Fedora: `dnf install postgresql-server`; \
         macOS: `brew install postgresql`) or set DATABASE_URL to a server you already have"
    )]
    NoBinaries,
    #[error(
        "the embedded cluster in {} was made by PostgreSQL {cluster_major}, but only \
         PostgreSQL {found} server binaries are installed: install version {cluster_major}, \
         set TRADEDESK_PG_BINDIR to its bin directory, or move the cluster aside to start afresh",
        root.display()
    )]
    VersionMismatch {
        root: PathBuf,
        cluster_major: u32,
        found: String,
    },
    #[error(
        "PostgreSQL refuses to run as root and this machine has no `postgres` system user to \
         run it as: install the PostgreSQL server package (it creates that user), run \
         tradedesk as an ordinary user, or set DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error(
        "the socket path {} is longer than the {MAX_SOCKET_PATH} bytes a Unix socket allows: \
         set TRADEDESK_PG_DIR to a shorter directory",
        path.display()
    )]
    SocketPathTooLong { path: PathBuf },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {detail}")]
    Command {
        command: String,
        status: String,
        detail: String,
    },
}

type Result<T, E = Error> = std::result::Result<T, E>;

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// An embedded cluster, by the directory that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    root: PathBuf,
    durable: bool,
}

/// What [`Cluster::ensure_running`] had to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Ensured {
    /// The cluster did not exist and was created (initdb).
    pub initialized: bool,
    /// The server was not running and was started.
    pub started: bool,
}

/// The state of a cluster, for `tradedesk db status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub root: PathBuf,
    pub initialized: bool,
    /// The postmaster's PID while it runs.
    pub pid: Option<u32>,
    /// The PostgreSQL major version that made the cluster.
    pub major: Option<u32>,
    pub socket_dir: PathBuf,
}

impl Cluster {
    /// A cluster in `root`, durable (fsync on) as a user's data deserves.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            durable: true,
        }
    }

    /// A cluster for throw-away data (tests): no fsync, so creating databases is fast.
    /// A crash of the machine may corrupt it; never use it for a user's data.
    pub fn ephemeral(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            durable: false,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The directory of the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// How to connect to `database` in this cluster (the server must be running).
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(self.socket_dir())
            .port(PORT)
            .username(SUPERUSER)
            .database(database)
            .application_name("tradedesk")
    }

    /// A URL for `database` in this cluster that psql and tradedesk both accept.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql:///{database}?host={}&user={SUPERUSER}",
            self.socket_dir().display()
        )
    }

    /// Whether the server seems to be running (its pid file and socket are there), read
    /// from the directory alone: nothing is created, started or run. For readers that use
    /// this cluster only if it is already up (an archive file is checked against it).
    pub fn seems_running(&self) -> bool {
        self.data_dir().join("postmaster.pid").exists()
            && self.socket_dir().join(format!(".s.PGSQL.{PORT}")).exists()
    }

    /// Creates the cluster if it does not exist and starts the server if it is not running.
    /// Blocking: call it from `spawn_blocking` in async code.
    pub fn ensure_running(&self) -> Result<Ensured> {
        let owner = ServerUser::current()?;
        self.check_socket_path()?;
        self.prepare_root(&owner)?;
        let _lock = self.lock()?;

        let cluster_major = self.cluster_major()?;
        let bins = Binaries::find(cluster_major, &self.root)?;
        let initialized = if cluster_major.is_none() {
            self.init(&bins, &owner)?;
            true
        } else {
            false
        };
        self.write_settings(&owner)?;
        let started = if self.running_pid(&bins, &owner)?.is_none() {
            self.start(&bins, &owner)?;
            true
        } else {
            false
        };
        Ok(Ensured {
            initialized,
            started,
        })
    }

    /// Reports the cluster's state without changing anything.
    pub fn status(&self) -> Result<Status> {
        let major = self.cluster_major()?;
        let pid = match major {
            Some(major) => {
                let owner = ServerUser::current()?;
                let bins = Binaries::find(Some(major), &self.root)?;
                self.running_pid(&bins, &owner)?
            }
            None => None,
        };
        Ok(Status {
            root: self.root.clone(),
            initialized: major.is_some(),
            pid,
            major,
            socket_dir: self.socket_dir(),
        })
    }

    /// Stops the server (fast shutdown: open transactions roll back). Returns whether it
    /// was running.
    pub fn stop(&self) -> Result<bool> {
        let Some(major) = self.cluster_major()? else {
            return Ok(false);
        };
        let owner = ServerUser::current()?;
        let _lock = self.lock()?;
        let bins = Binaries::find(Some(major), &self.root)?;
        if self.running_pid(&bins, &owner)?.is_none() {
            return Ok(false);
        }
        let data = self.data_dir();
        owner.run(
            bins.cmd("pg_ctl")
                .arg("stop")
                .arg("-D")
                .arg(&data)
                .args(["-m", "fast", "-w", "-t", "60", "-s"])
                .current_dir(&self.root),
        )?;
        Ok(true)
    }

    fn check_socket_path(&self) -> Result<()> {
        let path = self.socket_dir().join(format!(".s.PGSQL.{PORT}"));
        let absolute = std::path::absolute(&path).map_err(io_err("resolve", &path))?;
        if absolute.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(Error::SocketPathTooLong { path: absolute });
        }
        Ok(())
    }

    /// Creates the root and socket directories, private to the server's user.
    fn prepare_root(&self, owner: &ServerUser) -> Result<()> {
        for dir in [self.root.clone(), self.socket_dir()] {
            fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                .map_err(io_err("set permissions on", &dir))?;
            owner.chown(&dir)?;
        }
        Ok(())
    }

    fn lock(&self) -> Result<File> {
        let path = self.root.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        // Released when the file is closed, also when the process dies.
        file.lock().map_err(io_err("lock", &path))?;
        Ok(file)
    }

    /// The major version recorded in `data/PG_VERSION`, or `None` when no cluster exists.
    fn cluster_major(&self) -> Result<Option<u32>> {
        let path = self.data_dir().join("PG_VERSION");
        match fs::read_to_string(&path) {
            Ok(text) => Ok(parse_major(text.trim())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &path)(e)),
        }
    }

    /// Runs initdb into a scratch directory and renames it into place, so that `data/`
    /// either holds a whole cluster or does not exist, whenever a process is interrupted.
    fn init(&self, bins: &Binaries, owner: &ServerUser) -> Result<()> {
        let scratch = self.root.join("data.init");
        if scratch.exists() {
            fs::remove_dir_all(&scratch).map_err(io_err("remove", &scratch))?;
        }
        let data = self.data_dir();
        if data.exists() {
            // A data directory without PG_VERSION is not a cluster; it is not ours to erase.
            return Err(Error::Command {
                command: "initdb".into(),
                status: "not run".into(),
                detail: format!(
                    "{} exists but holds no PostgreSQL cluster; move it aside and try again",
                    data.display()
                ),
            });
        }
        owner.run(
            bins.cmd("initdb")
                .arg("-D")
                .arg(&scratch)
                .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"])
                .arg("--no-instructions")
                .current_dir(&self.root),
        )?;
        let conf = scratch.join("postgresql.conf");
        let mut file = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(io_err("open", &conf))?;
        file.write_all(b"\n# tradedesk rewrites this file at every start.\ninclude_if_exists = 'tradedesk.conf'\n")
            .map_err(io_err("write", &conf))?;
        fs::rename(&scratch, &data).map_err(io_err("rename", &scratch))?;
        Ok(())
    }

    /// Written at every start so that a moved cluster still finds its socket directory.
    fn write_settings(&self, owner: &ServerUser) -> Result<()> {
        let path = self.data_dir().join("tradedesk.conf");
        let mut text = format!(
            "# Written by tradedesk at every start: a private server reachable only\n\
             # through the Unix socket in this directory, by the user who owns it.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             port = {PORT}\n",
            self.socket_dir().display().to_string().replace('\'', "''")
        );
        if !self.durable {
            text.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        fs::write(&path, text).map_err(io_err("write", &path))?;
        owner.chown(&path)
    }

    fn running_pid(&self, bins: &Binaries, owner: &ServerUser) -> Result<Option<u32>> {
        let out = owner.output(
            bins.cmd("pg_ctl")
                .arg("status")
                .arg("-D")
                .arg(self.data_dir())
                .current_dir(&self.root),
        )?;
        // pg_ctl status: 0 running, 3 not running, 4 no accessible data directory.
        match out.status.code() {
            Some(0) => {
                // "pg_ctl: server is running (PID: 1234)"
                let text = String::from_utf8_lossy(&out.stdout);
                let pid = text
                    .split("PID: ")
                    .nth(1)
                    .and_then(|rest| rest.split(')').next())
                    .and_then(|pid| pid.trim().parse().ok());
                match pid {
                    Some(pid) => Ok(Some(pid)),
                    None => Err(command_error(
                        "pg_ctl status",
                        &out,
                        Some("it says the server runs but names no PID"),
                    )),
                }
            }
            Some(3) => Ok(None),
            _ => Err(command_error("pg_ctl status", &out, None)),
        }
    }

    fn start(&self, bins: &Binaries, owner: &ServerUser) -> Result<()> {
        let log = self.log_file();
        let result = owner.run(
            bins.cmd("pg_ctl")
                .arg("start")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-s"])
                .current_dir(&self.root),
        );
        result.map(|_| ()).map_err(|e| match e {
            Error::Command {
                command, status, ..
            } => Error::Command {
                command,
                status,
                detail: format!(
                    "the server did not start; the end of {} says: {}",
                    log.display(),
                    tail(&log, 5)
                ),
            },
            other => other,
        })
    }
}

/// The user the server runs as: the current one, or `postgres` when we are root.
struct ServerUser {
    switch_to: Option<(nix::unistd::Uid, nix::unistd::Gid)>,
}

impl ServerUser {
    fn current() -> Result<Self> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(Self { switch_to: None });
        }
        match nix::unistd::User::from_name("postgres") {
            Ok(Some(user)) => Ok(Self {
                switch_to: Some((user.uid, user.gid)),
            }),
            _ => Err(Error::NoUnprivilegedUser),
        }
    }

    fn chown(&self, path: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.switch_to {
            nix::unistd::chown(path, Some(uid), Some(gid))
                .map_err(|e| io_err("change the owner of", path)(e.into()))?;
        }
        Ok(())
    }

    fn output(&self, cmd: &mut Command) -> Result<Output> {
        if let Some((uid, gid)) = self.switch_to {
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
        }
        let program = cmd.get_program().to_string_lossy().into_owned();
        cmd.output().map_err(|source| Error::Io {
            action: "run",
            path: PathBuf::from(program),
            source,
        })
    }

    fn run(&self, cmd: &mut Command) -> Result<Output> {
        let name = Path::new(cmd.get_program())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sub = cmd
            .get_args()
            .next()
            .map(|a| a.to_string_lossy().into_owned());
        let out = self.output(cmd)?;
        if out.status.success() {
            Ok(out)
        } else {
            let command = match sub {
                Some(sub) if name == "pg_ctl" => format!("pg_ctl {sub}"),
                _ => name,
            };
            Err(command_error(&command, &out, None))
        }
    }
}

fn command_error(command: &str, out: &Output, hint: Option<&str>) -> Error {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let mut detail = text
        .trim()
        .lines()
        .last()
        .unwrap_or("no output")
        .to_string();
    if let Some(hint) = hint {
        detail.push_str("; ");
        detail.push_str(hint);
    }
    Error::Command {
        command: command.to_string(),
        status: out.status.to_string(),
        detail,
    }
}

/// The last `n` lines of a log file, joined, or a note that it could not be read.
fn tail(path: &Path, n: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join(" | ")
        }
        Err(e) => format!("(unreadable: {e})"),
    }
}

fn parse_major(version: &str) -> Option<u32> {
    version.split(['.', ' ']).next()?.parse().ok()
}

/// A directory holding initdb, pg_ctl and postgres of one PostgreSQL version.
#[derive(Debug, Clone)]
struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// The first complete set of server binaries, of version `want` when given.
    fn find(want: Option<u32>, root: &Path) -> Result<Self> {
        Self::find_in(candidate_dirs(), want, root)
    }

    fn find_in(dirs: Vec<PathBuf>, want: Option<u32>, root: &Path) -> Result<Self> {
        let mut others = Vec::new();
        for dir in dirs {
            let Some(major) = server_major(&dir) else {
                continue;
            };
            if want.is_none_or(|w| w == major) {
                return Ok(Self { dir });
            }
            others.push(major.to_string());
        }
        match want {
            Some(cluster_major) if !others.is_empty() => Err(Error::VersionMismatch {
                root: root.to_path_buf(),
                cluster_major,
                found: others.join(", "),
            }),
            _ => Err(Error::NoBinaries),
        }
    }

    fn cmd(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.dir.join(program));
        // Messages in English whatever the locale, so errors can be quoted and matched.
        cmd.env("LC_ALL", "C").env("LANG", "C");
        cmd
    }
}

/// Where server binaries may be, most specific first.
fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("TRADEDESK_PG_BINDIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // Follow links such as /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl.
            if let Ok(real) = fs::canonicalize(dir.join("pg_ctl"))
                && let Some(parent) = real.parent()
            {
                dirs.push(parent.to_path_buf());
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !dir.is_empty() {
            dirs.push(PathBuf::from(dir));
        }
    }
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str().and_then(parse_major)?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    debian.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    dirs.extend(debian.into_iter().map(|(_, dir)| dir));
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// The major version of the server binaries in `dir`, if all three are there.
fn server_major(dir: &Path) -> Option<u32> {
    let complete = ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|p| dir.join(p).is_file());
    if !complete {
        return None;
    }
    let out = Command::new(dir.join("pg_ctl"))
        .arg("--version")
        .output()
        .ok()?;
    // "pg_ctl (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split(") ").nth(1)?;
    parse_major(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_parse() {
        assert_eq!(parse_major("15"), Some(15));
        assert_eq!(parse_major("15.20 (Debian 15.20-0+deb12u1)"), Some(15));
        assert_eq!(parse_major("9.6"), Some(9));
        assert_eq!(parse_major("beta"), None);
    }

    #[test]
    fn embedded_url_names_the_socket_directory() {
        let cluster = Cluster::new("/var/lib/tradedesk/postgres");
        assert_eq!(
            cluster.url("ai_trader"),
            "postgresql:///ai_trader?host=/var/lib/tradedesk/postgres/run&user=postgres"
        );
    }

    #[test]
    fn without_server_binaries_the_error_says_how_to_install_them() {
        let err = Binaries::find_in(
            vec![PathBuf::from("/nonexistent/bin")],
            None,
            Path::new("/x"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NoBinaries));
        let text = err.to_string();
        assert!(text.contains("apt install postgresql"), "{text}");
        assert!(text.contains("DATABASE_URL"), "{text}");
    }

    #[test]
    fn overlong_socket_path_is_refused() {
        let cluster = Cluster::new(format!("/tmp/{}", "x".repeat(120)));
        assert!(matches!(
            cluster.check_socket_path(),
            Err(Error::SocketPathTooLong { .. })
        ));
    }
}
