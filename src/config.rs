//! Settings from flags, with environment variables as fallbacks.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};

use crate::domain::TrustedProxies;

/// A setting that must never print: `Debug` is redacted.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "pgusers",
    version,
    about = "Manage the users of a PostgreSQL database: dashboard, CLI and API"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web dashboard (the default when no command is given).
    Serve,
    /// List the databases pgusers manages, with their IDs.
    Databases,
    /// List the database's users.
    #[command(name = "database-users-list", visible_alias = "database-list-users")]
    DatabaseUsersList {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a user; asks for its password (empty: generate one).
    #[command(name = "database-users-create", visible_alias = "database-create-user")]
    DatabaseUsersCreate {
        /// Restrict the user to reading.
        #[arg(long)]
        read_only: bool,
        /// Read the password from one line of standard input, without
        /// confirmation (an empty line generates one).
        #[arg(long)]
        password_stdin: bool,
        username: String,
    },
    /// Set or reset a user's password; asks for it (empty: generate one).
    #[command(
        name = "database-users-update-password",
        visible_alias = "database-update-user-password"
    )]
    DatabaseUsersUpdatePassword {
        /// Read the password from one line of standard input, without
        /// confirmation (an empty line generates one).
        #[arg(long)]
        password_stdin: bool,
        username: String,
    },
    /// Delete a user; what it owns moves to the protected user.
    #[command(name = "database-users-delete", visible_alias = "database-delete-user")]
    DatabaseUsersDelete { username: String },
    /// Show the audit log, newest first.
    Audit {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How many entries to show.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Manage who may log in to the dashboard.
    Operators {
        #[command(subcommand)]
        command: OperatorsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Add an operator; asks for its password (empty: generate one).
    Add { name: String },
    /// List the operators.
    List,
    /// Remove an operator (never the last one).
    Remove { name: String },
    /// Set an operator's password; asks for it (empty: generate one).
    SetPassword { name: String },
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// The ID of the database to work on (`pgusers databases` lists them);
    /// optional while there is only one.
    #[arg(
        long = "database",
        env = "PGUSERS_DATABASE",
        global = true,
        value_name = "ID"
    )]
    pub database: Option<String>,

    /// Administrator connection to the managed database (a superuser). Without
    /// it, pgusers runs its own PostgreSQL cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<Secret>,

    /// The protected default user. Default: the managed database's owner.
    #[arg(long, env = "PGUSERS_PROTECTED_USER", global = true)]
    pub protected_user: Option<String>,

    /// Address the dashboard listens on.
    #[arg(
        long,
        env = "PGUSERS_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,

    /// Where pgusers keeps its files. Default: $XDG_DATA_HOME/pgusers, else
    /// ~/.local/share/pgusers; /var/lib/pgusers when running as root.
    #[arg(long, env = "PGUSERS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Key for the session cookies, at least 64 bytes. Default: a key
    /// generated once and kept in the data directory.
    #[arg(
        long,
        env = "PGUSERS_SESSION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub session_key: Option<Secret>,

    /// Password of the first operator, `admin`, when no operator exists yet.
    /// Default: generated and printed once.
    #[arg(
        long,
        env = "PGUSERS_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<Secret>,

    /// Mark session cookies `Secure` (sent over HTTPS only): `auto` does so
    /// unless the dashboard listens on a loopback address.
    #[arg(long, env = "PGUSERS_SECURE_COOKIES", value_enum, default_value_t = SecureCookies::Auto, global = true)]
    pub secure_cookies: SecureCookies,

    /// A login ends after this long without a request (`90s`, `30m`, `12h`).
    #[arg(
        long,
        env = "PGUSERS_SESSION_IDLE",
        default_value = "30m",
        global = true
    )]
    pub session_idle: Span,

    /// A login ends this long after it began, whatever happens.
    #[arg(
        long,
        env = "PGUSERS_SESSION_LIFETIME",
        default_value = "12h",
        global = true
    )]
    pub session_lifetime: Span,

    /// Reverse proxies in front of the dashboard, as comma-separated IP
    /// addresses or CIDR blocks (`127.0.0.1,10.0.0.0/8`). Only from these are
    /// `X-Forwarded-For`/`-Host`/`-Proto` and `Forwarded` believed. Default:
    /// none, and the TCP peer is the client.
    #[arg(
        long,
        env = "PGUSERS_TRUSTED_PROXIES",
        global = true,
        value_name = "ADDRESSES"
    )]
    pub trusted_proxies: Option<TrustedProxies>,

    /// Audit entries older than this are deleted (`90d`, `12h`; checked at
    /// most hourly, when something is recorded).
    #[arg(
        long,
        env = "PGUSERS_AUDIT_RETENTION",
        default_value = "90d",
        global = true
    )]
    pub audit_retention: Span,

    /// Connection to the database holding pgusers' own state. Default: a
    /// database `pgusers` on the managed server, created if missing.
    #[arg(long, env = "PGUSERS_STATE_URL", hide_env_values = true, global = true)]
    pub state_url: Option<Secret>,
}

/// A length of time written as a number with `s`, `m`, `h` or `d`
/// (seconds when there is no unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub std::time::Duration);

impl FromStr for Span {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration such as 90s, 30m or 12h"))?;
        let seconds = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
        };
        if number == 0 {
            return Err("a duration must be longer than zero".into());
        }
        Ok(Self(std::time::Duration::from_secs(
            number.saturating_mul(seconds),
        )))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecureCookies {
    Auto,
    Always,
    Never,
}

impl SecureCookies {
    /// Whether cookies get the `Secure` attribute for a dashboard listening on `address`.
    pub fn applies_to(self, address: std::net::SocketAddr) -> bool {
        match self {
            Self::Auto => !address.ip().is_loopback(),
            Self::Always => true,
            Self::Never => false,
        }
    }
}

impl Settings {
    /// The data directory, following the XDG convention. As root, the
    /// `postgres` system user must reach the embedded cluster, which it
    /// cannot below `/root` (mode 700), hence `/var/lib/pgusers`.
    pub fn data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        if nix::unistd::Uid::effective().is_root() {
            return PathBuf::from("/var/lib/pgusers");
        }
        if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return PathBuf::from(xdg).join("pgusers");
        }
        let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
        PathBuf::from(home).join(".local/share/pgusers")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn cookies_are_secure_off_loopback_unless_told_otherwise() {
        let loopback = "127.0.0.1:8080".parse().unwrap();
        let network = "10.1.2.3:8080".parse().unwrap();
        assert!(!SecureCookies::Auto.applies_to(loopback));
        assert!(SecureCookies::Auto.applies_to(network));
        assert!(SecureCookies::Always.applies_to(loopback));
        assert!(!SecureCookies::Never.applies_to(network));
    }

    #[test]
    fn spans_read_seconds_minutes_hours_and_days() {
        assert_eq!("90".parse(), Ok(Span(Duration::from_secs(90))));
        assert_eq!("90s".parse(), Ok(Span(Duration::from_secs(90))));
        assert_eq!("30m".parse(), Ok(Span(Duration::from_secs(1800))));
        assert_eq!("12h".parse(), Ok(Span(Duration::from_secs(43_200))));
        assert_eq!("2d".parse(), Ok(Span(Duration::from_secs(172_800))));
        assert!("0m".parse::<Span>().is_err());
        assert!("ten".parse::<Span>().is_err());
        assert!("5w".parse::<Span>().is_err());
    }

    #[test]
    fn audit_entries_are_kept_ninety_days_unless_told_otherwise() {
        let default = Cli::try_parse_from(["pgusers"]).unwrap().settings;
        let month = Cli::try_parse_from(["pgusers", "--audit-retention", "30d"])
            .unwrap()
            .settings;

        assert_eq!(
            default.audit_retention,
            Span(Duration::from_secs(90 * 86_400))
        );
        assert_eq!(
            month.audit_retention,
            Span(Duration::from_secs(30 * 86_400))
        );
    }
}
