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

/// What `--help` says about the two kinds of administrator role.
const ADMINISTRATOR_HELP: &str = "\
Administrator role (DATABASE_URL): a superuser, or a non-superuser with CREATEROLE,
such as the \"master\" role of Amazon RDS, Cloud SQL or Azure, on PostgreSQL 14 to 18.
pgusers says which it found on the Overview page, in `pgusers databases` and in
`serve`'s log. Without a superuser, it grants its role membership in the users it
manages (INHERIT, never SET, on PostgreSQL 16 and later; SET only on the protected
user, to give it a deleted user's objects) and nothing more; it never asks for
SUPERUSER. When a change needs a privilege the role lacks, it stops and
names the GRANT or REVOKE that fixes it. The page \"Managed PostgreSQL\"
(docs/managed-postgresql.md) says what the role needs on each version.";

#[derive(Debug, Parser)]
#[command(
    name = "pgusers",
    version,
    about = "Manage the users of a PostgreSQL database: a web dashboard and a command line",
    after_help = ADMINISTRATOR_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    /// The dashboard's settings when no command is given (`serve` is the default).
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The settings and the command to run (`serve` when none is given).
    /// The dashboard's settings come from `serve`'s flags, else from flags
    /// given before any command, else from the environment, else defaults;
    /// other commands never see them.
    pub fn into_parts(self) -> (Settings, Command) {
        let mut settings = self.settings;
        let command = self
            .command
            .unwrap_or_else(|| Command::Serve(DashboardArgs::default()));
        if let Command::Serve(args) = &command {
            settings.dashboard = args.clone().or(self.dashboard).resolve();
        }
        (settings, command)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web dashboard (the default when no command is given).
    Serve(DashboardArgs),
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
        /// The day its password stops working, from 00:00 UTC
        /// (`VALID UNTIL`), as YYYY-MM-DD; not in the past.
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<String>,
        /// How many sessions it may open at once, 1 to 10000
        /// (`CONNECTION LIMIT`).
        #[arg(long, value_name = "N")]
        connection_limit: Option<String>,
        /// The new user's name: 6 to 32 characters, ASCII letters, digits
        /// and underscores, starting with a letter (not `pg_…`, nor a name
        /// PostgreSQL reserves such as `public`).
        #[arg(value_name = "USERNAME")]
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
        /// The user's name, as `pgusers database-users-list` shows it.
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// Delete a user; what it owns moves to the protected user.
    #[command(name = "database-users-delete", visible_alias = "database-delete-user")]
    DatabaseUsersDelete {
        /// The user's name, as `pgusers database-users-list` shows it.
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// Change when a user's password expires and how many sessions it may
    /// open at once; what no flag names is kept.
    #[command(name = "database-users-set-limits")]
    DatabaseUsersSetLimits {
        /// The day its password stops working, from 00:00 UTC
        /// (`VALID UNTIL`), as YYYY-MM-DD; a past day cuts it off at once.
        #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "no_expiry")]
        expires: Option<String>,
        /// Remove the expiry: the password works until it is changed.
        #[arg(long)]
        no_expiry: bool,
        /// How many sessions it may open at once, 1 to 10000
        /// (`CONNECTION LIMIT`).
        #[arg(long, value_name = "N", conflicts_with = "no_connection_limit")]
        connection_limit: Option<String>,
        /// Remove the connection limit.
        #[arg(long)]
        no_connection_limit: bool,
        /// The user's name, as `pgusers database-users-list` shows it.
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// Show who is connected as a user: its open sessions, oldest first.
    #[command(name = "database-users-sessions")]
    DatabaseUsersSessions {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The user's name, as `pgusers database-users-list` shows it.
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// End a user's open sessions (it may log in again at once).
    #[command(name = "database-users-end-sessions")]
    DatabaseUsersEndSessions {
        /// The user's name, as `pgusers database-users-list` shows it.
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// Check the database's access for drift: what the read-only and
    /// read-write users cannot do that they should, MD5 and passwordless
    /// users; expired ones and roles pgusers does not manage as notices.
    /// Exits 0 when no problem is found (notices fail nothing), 5 when one
    /// is.
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Run the fixes pgusers can (each in a change of its own, audited),
        /// then report what is left.
        #[arg(long)]
        fix: bool,
    },
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
    /// Manage the API tokens scripts use in an operator's name.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Add an operator; asks for its password (empty: generate one).
    Add {
        /// The operator's name: 3 to 32 characters, lowercase letters,
        /// digits, `_`, `-` and `.`, starting with a lowercase letter.
        name: String,
    },
    /// List the operators.
    List,
    /// Remove an operator (never the last one).
    Remove {
        /// The operator's name, as `pgusers operators list` shows it.
        name: String,
    },
    /// Set an operator's password; asks for it (empty: generate one).
    SetPassword {
        /// The operator's name, as `pgusers operators list` shows it.
        name: String,
    },
    /// Let a client address log in again at once: forget its failed logins
    /// (enough of them lock it out, even with the right password, for a
    /// while). Without an address, every address's.
    Unlock {
        /// The address the login page names (`192.0.2.7`; an IPv6 address
        /// stands for its /64, as failures are counted).
        address: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token; prints it once, alone on its line of standard output.
    Create {
        /// The operator the token acts for, as `pgusers operators list` shows it.
        #[arg(long, value_name = "NAME")]
        operator: String,
        /// Let the token read only (list users), never change anything.
        #[arg(long)]
        read_only: bool,
        /// What the token is for: 1 to 64 characters. Default: api.
        #[arg(long)]
        label: Option<String>,
    },
    /// List the tokens (never their secrets, which are not kept).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The token's ID, as `pgusers tokens list` shows it.
        id: String,
    },
}

/// Where pgusers works, for every command: under a heading of their own in
/// each command's help, after the command's own options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options (every command)")]
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

    /// A TOML file listing the databases to manage, each with an ID, a name,
    /// its administrator connection and its protected user (docs/configuration.md
    /// has an example). Instead of DATABASE_URL, for several databases.
    #[arg(long, env = "PGUSERS_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Administrator connection to the managed database: a superuser, or a
    /// non-superuser with CREATEROLE (as managed services give). Without
    /// it, pgusers runs its own PostgreSQL cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<Secret>,

    /// Where clients reach the server, `HOST` or `HOST:PORT`, when it is
    /// not where pgusers connects (a proxy, a public name): used in the
    /// connection URLs pgusers shows. Default: DATABASE_URL's host and
    /// port (the embedded cluster's loopback port).
    #[arg(
        long,
        env = "PGUSERS_PUBLIC_HOST",
        global = true,
        value_name = "HOST[:PORT]"
    )]
    pub public_host: Option<String>,

    /// The `sslmode` the connection URLs pgusers shows to applications
    /// carry (disable, allow, prefer, require, verify-ca, verify-full).
    /// Default: the one DATABASE_URL names, if any.
    #[arg(
        long,
        env = "PGUSERS_CLIENT_SSLMODE",
        global = true,
        value_name = "SSLMODE"
    )]
    pub client_sslmode: Option<String>,

    /// The protected default user. Default: the managed database's owner.
    #[arg(long, env = "PGUSERS_PROTECTED_USER", global = true)]
    pub protected_user: Option<String>,

    /// Where pgusers keeps its files. Default: $XDG_DATA_HOME/pgusers, else
    /// ~/.local/share/pgusers; /var/lib/pgusers when running as root.
    #[arg(long, env = "PGUSERS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

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

    /// The dashboard's settings, resolved by [`Cli::into_parts`] for `serve`;
    /// their defaults for other commands, which do not take them.
    #[arg(skip)]
    pub dashboard: Dashboard,
}

/// The dashboard's settings, as `serve` uses them.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub listen: String,
    pub session_key: Option<Secret>,
    pub admin_password: Option<Secret>,
    pub secure_cookies: SecureCookies,
    pub session_idle: Span,
    pub session_lifetime: Span,
    pub trusted_proxies: Option<TrustedProxies>,
}

impl Default for Dashboard {
    fn default() -> Self {
        DashboardArgs::default().resolve()
    }
}

/// Flags only the dashboard (`serve`) takes, so that other commands' help
/// does not list them. Given before any command or after `serve`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Dashboard options (serve)")]
pub struct DashboardArgs {
    /// Address the dashboard listens on. Default: 127.0.0.1:8080.
    #[arg(long, env = "PGUSERS_LISTEN", value_name = "ADDRESS")]
    pub listen: Option<String>,

    /// Key for the session cookies, at least 64 bytes. Default: a key
    /// generated once and kept in the data directory.
    #[arg(long, env = "PGUSERS_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<Secret>,

    /// Password of the first operator, `admin`, when no operator exists yet.
    /// Default: generated and printed once.
    #[arg(long, env = "PGUSERS_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,

    /// Mark session cookies `Secure` (sent over HTTPS only): `auto` (the
    /// default) does so unless the dashboard listens on a loopback address.
    #[arg(long, env = "PGUSERS_SECURE_COOKIES", value_enum)]
    pub secure_cookies: Option<SecureCookies>,

    /// A login ends after this long without a request (`90s`, `30m`, `12h`).
    /// Default: 30m.
    #[arg(long, env = "PGUSERS_SESSION_IDLE", value_name = "SPAN")]
    pub session_idle: Option<Span>,

    /// A login ends this long after it began, whatever happens. Default: 12h.
    #[arg(long, env = "PGUSERS_SESSION_LIFETIME", value_name = "SPAN")]
    pub session_lifetime: Option<Span>,

    /// Reverse proxies in front of the dashboard, as comma-separated IP
    /// addresses or CIDR blocks (`127.0.0.1,10.0.0.0/8`). Only from these are
    /// `X-Forwarded-For`/`-Host`/`-Proto` and `Forwarded` believed. Default:
    /// none, and the TCP peer is the client.
    #[arg(long, env = "PGUSERS_TRUSTED_PROXIES", value_name = "ADDRESSES")]
    pub trusted_proxies: Option<TrustedProxies>,
}

impl DashboardArgs {
    /// Each setting from `self`, else from `other`.
    fn or(self, other: Self) -> Self {
        Self {
            listen: self.listen.or(other.listen),
            session_key: self.session_key.or(other.session_key),
            admin_password: self.admin_password.or(other.admin_password),
            secure_cookies: self.secure_cookies.or(other.secure_cookies),
            session_idle: self.session_idle.or(other.session_idle),
            session_lifetime: self.session_lifetime.or(other.session_lifetime),
            trusted_proxies: self.trusted_proxies.or(other.trusted_proxies),
        }
    }

    fn resolve(self) -> Dashboard {
        Dashboard {
            listen: self.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            session_key: self.session_key,
            admin_password: self.admin_password,
            secure_cookies: self.secure_cookies.unwrap_or(SecureCookies::Auto),
            session_idle: self
                .session_idle
                .unwrap_or(Span(std::time::Duration::from_secs(30 * 60))),
            session_lifetime: self
                .session_lifetime
                .unwrap_or(Span(std::time::Duration::from_secs(12 * 3600))),
            trusted_proxies: self.trusted_proxies,
        }
    }
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

/// The settings these arguments give, as `pgusers` would read them (for
/// tests).
#[cfg(test)]
pub(crate) fn settings_of(args: &[&str]) -> Settings {
    use clap::Parser;
    let mut argv = vec!["pgusers"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv)
        .expect("valid arguments")
        .into_parts()
        .0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    const DASHBOARD_FLAGS: &[&str] = &[
        "--listen",
        "--session-key",
        "--admin-password",
        "--secure-cookies",
        "--session-idle",
        "--session-lifetime",
        "--trusted-proxies",
    ];

    /// What `pgusers ARGS --help` prints, as clap renders it for the binary.
    fn help(args: &[&str]) -> String {
        use clap::Parser;
        let mut argv = vec!["pgusers"];
        argv.extend_from_slice(args);
        argv.push("--help");
        match Cli::try_parse_from(argv) {
            Err(shown) if shown.kind() == clap::error::ErrorKind::DisplayHelp => shown.to_string(),
            other => panic!("{args:?} --help is not help: {:?}", other.err()),
        }
    }

    #[test]
    fn help_says_which_administrator_roles_work_and_what_pgusers_takes_without_a_superuser() {
        let text = help(&[]);

        let said = text
            .split("Administrator role (DATABASE_URL): ")
            .nth(1)
            .expect("a paragraph on the administrator role")
            .replace('\n', " ");
        for words in [
            "a superuser, or a non-superuser with CREATEROLE",
            "PostgreSQL 14 to 18",
            "INHERIT, never SET",
            "it never asks for SUPERUSER",
            "names the GRANT or REVOKE that fixes it",
            "\"Managed PostgreSQL\"",
        ] {
            assert!(said.contains(words), "{words:?} in {said}");
        }
    }

    #[test]
    fn user_and_operator_commands_help_lists_no_dashboard_flags() {
        for command in [
            &["databases"][..],
            &["database-users-list"],
            &["database-users-create"],
            &["database-users-update-password"],
            &["database-users-delete"],
            &["audit"],
            &["operators", "add"],
            &["operators", "set-password"],
            &["tokens", "create"],
            &["tokens", "list"],
            &["tokens", "revoke"],
        ] {
            let text = help(command);
            for flag in DASHBOARD_FLAGS {
                assert!(!text.contains(flag), "{command:?} lists {flag}:\n{text}");
            }
            assert!(text.contains("--database-url"), "{command:?}:\n{text}");
        }
        let serve = help(&["serve"]);
        let top = help(&[]);
        for flag in DASHBOARD_FLAGS {
            assert!(serve.contains(flag), "serve lists {flag}");
            assert!(top.contains(flag), "serve is the default: {flag}");
        }
    }

    #[test]
    fn a_commands_help_lists_its_own_options_first_and_the_global_ones_under_their_heading() {
        for command in [
            &["database-users-create"][..],
            &["database-users-set-limits"],
            &["operators", "unlock"],
        ] {
            let text = help(command);
            let (own, global) = text
                .split_once("Global options (every command):")
                .unwrap_or_else(|| panic!("{command:?}: no global heading in {text}"));
            for flag in [
                "--database <ID>",
                "--database-url",
                "--data-dir",
                "--state-url",
            ] {
                assert!(
                    !own.contains(flag),
                    "{command:?}: {flag} among its own: {own}"
                );
                assert!(
                    global.contains(flag),
                    "{command:?}: {flag} missing: {global}"
                );
            }
        }
        let create = help(&["database-users-create"]);
        let own = create.split("Global options").next().unwrap_or_default();
        assert!(
            own.contains("--read-only") && own.contains("--expires"),
            "{own}"
        );
    }

    #[test]
    fn help_states_the_rules_of_names_and_claims_no_api() {
        let create = help(&["database-users-create"]);
        let operator = help(&["operators", "add"]);
        let top = help(&[]);

        assert!(
            create.contains(
                "<USERNAME>  The new user's name: 6 to 32 characters, ASCII letters, digits"
            ) && create.contains("starting with a letter"),
            "{create}"
        );
        assert!(help(&["database-users-delete"]).contains("<USERNAME>  The user's name"));
        assert!(
            operator.contains("3 to 32 characters, lowercase letters"),
            "{operator}"
        );
        // The command list names API tokens; what pgusers is, its first line,
        // claims no API.
        let about = top.lines().next().unwrap_or_default();
        assert!(!about.contains("API"), "{top}");
    }

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

    fn dashboard(args: &[&str]) -> Dashboard {
        Cli::try_parse_from(args).unwrap().into_parts().0.dashboard
    }

    #[test]
    fn dashboard_flags_work_with_serve_or_with_no_command() {
        let bare = dashboard(&["pgusers", "--listen", "127.0.0.1:9001"]);
        let serve = dashboard(&["pgusers", "serve", "--listen", "127.0.0.1:9002"]);
        let before = dashboard(&["pgusers", "--session-idle", "5m", "serve"]);
        let default = dashboard(&["pgusers"]);

        assert_eq!(bare.listen, "127.0.0.1:9001");
        assert_eq!(serve.listen, "127.0.0.1:9002");
        assert_eq!(before.session_idle, Span(Duration::from_secs(300)));
        assert_eq!(default.listen, "127.0.0.1:8080");
        assert_eq!(default.session_idle, Span(Duration::from_secs(1800)));
        assert_eq!(default.session_lifetime, Span(Duration::from_secs(43_200)));
        assert_eq!(default.secure_cookies, SecureCookies::Auto);
    }

    #[test]
    fn user_commands_do_not_take_dashboard_flags() {
        let after = Cli::try_parse_from(["pgusers", "database-users-list", "--listen", "x:1"]);

        assert!(after.is_err());
    }
}
