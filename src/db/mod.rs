//! Connections to PostgreSQL: pools for the server pgusers manages and for its
//! own state, and single connections for one-off work; over TLS as the
//! connection string says ([`tls`]).

mod conninfo;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres::{Client, Config};

pub use conninfo::Conninfo;
use tls::{Connector, SslMode, TlsSettings};

use crate::failure::Detail;

/// How long pgusers waits for PostgreSQL before it says the database is unavailable.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A pool that gives up after [`TIMEOUT`] instead of hanging a page when the
/// server is down, and drops connections the server closed so it recovers
/// by itself when the server is back.
pub fn pool(conninfo: Conninfo, max_size: usize) -> Pool {
    pool_with_links(conninfo, max_size).0
}

/// What the connections of a pool were: whether any went without TLS, and
/// whether any went with it, as the handshakes went (not as a pooler on
/// the way, or the server, would say).
#[derive(Debug, Clone, Default)]
pub struct Links(Arc<std::sync::atomic::AtomicU8>);

impl Links {
    const PLAIN: u8 = 1;
    const TLS: u8 = 2;

    fn record(&self, tls: bool) {
        let bit = if tls { Self::TLS } else { Self::PLAIN };
        self.0.fetch_or(bit, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether every connection made so far was encrypted; `None` before
    /// the first.
    pub fn encrypted(&self) -> Option<bool> {
        match self.0.load(std::sync::atomic::Ordering::SeqCst) {
            0 => None,
            seen => Some(seen & Self::PLAIN == 0),
        }
    }
}

/// [`pool`], and what its connections were.
pub fn pool_with_links(conninfo: Conninfo, max_size: usize) -> (Pool, Links) {
    let links = Links::default();
    let conninfo = conninfo.map_config(|mut config| {
        config.connect_timeout(TIMEOUT);
        config
    });
    let manager = Manager::from_connect(
        conninfo.config().clone(),
        Connect(conninfo, links.clone()),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(TIMEOUT))
        .create_timeout(Some(TIMEOUT))
        .recycle_timeout(Some(TIMEOUT))
        .build()
        .expect("a pool with a runtime and timeouts always builds");
    (pool, links)
}

/// `config` with `session` (`-c name=value` settings) added to the startup
/// options it already has, so these win over the role's and the database's
/// own settings (`ALTER ROLE … SET`, `ALTER DATABASE … SET`) and over
/// whatever options the URL gave for the same names.
pub fn with_session_options(mut config: Config, session: &str) -> Config {
    let options = match config.get_options() {
        Some(existing) if !existing.trim().is_empty() => format!("{existing} {session}"),
        _ => session.to_owned(),
    };
    config.options(&options);
    config
}

/// Keeps the rest of the current transaction out of the server's log, when
/// the connecting role may say so (a superuser; others' statements are
/// logged as the server is configured). Statements carrying a password
/// verifier or an argon2 hash run after it: neither is a password, but both
/// can be attacked offline, and `log_statement = all` (or a failing
/// statement, with `log_min_error_statement`) would write them out.
pub const UNLOGGED: &str = "SELECT set_config('log_statement', 'none', true),
        set_config('log_min_duration_statement', '-1', true),
        set_config('log_min_error_statement', 'panic', true)
   FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolsuper";

/// One connection, its driver running on the current runtime.
pub async fn connect(conninfo: impl Into<Conninfo>) -> Result<Client, tokio_postgres::Error> {
    open(&conninfo.into())
        .await
        .map(|(client, _driver, _tls)| client)
}

/// Connects as libpq does for the connection string's `sslmode`, trying
/// again where libpq does: `allow` with TLS when the server refused the
/// connection without; `prefer` without TLS when the TLS connection failed,
/// in its handshake or after. Sockets never use TLS. Returns the client and
/// its driver's task, and whether it went through a TLS handshake.
async fn open(conninfo: &Conninfo) -> Result<Opened, tokio_postgres::Error> {
    let settings = conninfo.tls_shared();
    let try_with = |mode| attempt(conninfo.config(), &settings, mode);
    let refused = |result: &Result<_, tokio_postgres::Error>| matches!(result, Err(error) if error.as_db_error().is_some());
    match conninfo.ssl_mode() {
        SslMode::Disable => try_with(WireMode::Disable).await.0,
        SslMode::Allow => {
            let (plain, _) = try_with(WireMode::Disable).await;
            if refused(&plain) {
                return try_with(WireMode::Require).await.0;
            }
            plain
        }
        SslMode::Prefer => {
            let (first, tls_used) = try_with(WireMode::Prefer).await;
            // A failed handshake (a CA file that does not verify the
            // certificate) or a refusal after it: libpq tries without.
            if tls_used && first.is_err() {
                return try_with(WireMode::Disable).await.0;
            }
            first
        }
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            try_with(WireMode::Require).await.0
        }
    }
}

/// A connection, its driver's task, and whether it went through TLS.
type Opened = (Client, JoinHandle<()>, bool);

/// One try with tokio-postgres' own mode: the result, and whether a TLS
/// handshake was started (also when it failed).
async fn attempt(
    config: &Config,
    settings: &Arc<TlsSettings>,
    mode: WireMode,
) -> (Result<Opened, tokio_postgres::Error>, bool) {
    let connector = Connector::new(settings.clone());
    let mut config = config.clone();
    config.ssl_mode(mode);
    let result = config
        .connect(connector.clone())
        .await
        .map(|(client, connection)| {
            let driver = tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "PostgreSQL connection closed");
                }
            });
            (client, driver, connector.established())
        });
    (result, connector.used())
}

/// deadpool's way in: each pooled connection made by [`open`], and noted.
struct Connect(Conninfo, Links);

impl deadpool_postgres::Connect for Connect {
    fn connect(
        &self,
        _config: &Config,
    ) -> BoxFuture<'_, Result<(Client, JoinHandle<()>), tokio_postgres::Error>> {
        Box::pin(async move {
            let (client, driver, tls) = open(&self.0).await?;
            self.1.record(tls);
            Ok((client, driver))
        })
    }
}

/// A connection string that cannot be parsed: says which part is wrong,
/// never echoes the string (it may hold a password).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(String);

/// Parses a `postgres://` URL or a `key=value` connection string, TLS
/// settings included.
pub fn parse_config(url: &str) -> Result<Conninfo, Malformed> {
    Conninfo::parse(url)
}

/// What tokio-postgres reads of a connection string, once the TLS options
/// it does not know are out.
fn parse_tokio_config(url: &str) -> Result<Config, Malformed> {
    let url_scheme = url
        .split_once("://")
        .map(|(scheme, _)| scheme)
        .filter(|scheme| {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        });
    match url_scheme {
        Some("postgres" | "postgresql") | None => {}
        Some(other) => {
            return Err(Malformed(format!(
                "a URL must start with postgres:// or postgresql://, not {}://",
                crate::domain::visible(other)
            )));
        }
    }
    if url_scheme.is_none()
        && !url.contains('=')
        && (url.starts_with("postgres:")
            || url.starts_with("postgresql:")
            || url.starts_with("postgres/"))
    {
        return Err(Malformed(
            "it starts like a URL but lacks the `://` after postgres".to_owned(),
        ));
    }
    if let Some((_, rest)) = url.split_once("://")
        && let Some(at) = rest.find('@')
        && (rest.find(['/', '?']).is_some_and(|end| at > end) || {
            // A second `@` before the host's end: part of the password
            // would be read as the host, and shown as one.
            let after = &rest[at + 1..];
            let host_end = after.find(['/', '?']).unwrap_or(after.len());
            after[..host_end].contains('@')
        })
    {
        // tokio-postgres would take everything up to that `@` for the user
        // and password, libpq the host: neither reading can be trusted.
        return Err(Malformed(
            "it holds an `@` that PostgreSQL's clients would not all read as the end of the \
             user and password: percent-encode each `@` of the user name or password as %40 \
             (and '/' as %2F, '?' as %3F)"
                .to_owned(),
        ));
    }
    url.parse::<Config>()
        .map_err(|error| Malformed(describe_parse_error(&error)))
}

/// The name of the database a configuration connects to: its `dbname`, else
/// its user's name, as libpq does.
pub fn database_name(config: &Config) -> Option<&str> {
    config.get_dbname().or_else(|| config.get_user())
}

/// An error as a sentence: the server's own message when it sent one
/// (`tokio_postgres` displays only "db error" then).
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => error.to_string(),
    }
}

/// Where a configuration connects, for messages: address, user and
/// database, never the password. `setting` is what to fix when it is wrong.
#[derive(Debug, Clone)]
pub struct Endpoint {
    setting: String,
    address: String,
    user: String,
    database: String,
    /// The first host's name, which a certificate must carry.
    host: String,
    ssl_mode: SslMode,
}

impl Endpoint {
    pub fn of(conninfo: &Conninfo, setting: impl Into<String>) -> Self {
        use tokio_postgres::config::Host;
        let config = conninfo.config();
        let ports = config.get_ports();
        let port = |i: usize| {
            ports
                .get(i)
                .or_else(|| ports.first())
                .copied()
                .unwrap_or(5432)
        };
        let addresses: Vec<String> = config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| match host {
                Host::Tcp(name) => format!("{name}:{}", port(i)),
                Host::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), port(i)),
            })
            .collect();
        Self {
            setting: setting.into(),
            address: if addresses.is_empty() {
                format!("localhost:{}", port(0))
            } else {
                addresses.join(", ")
            },
            user: config.get_user().unwrap_or("(none)").to_owned(),
            database: database_name(config).unwrap_or("(none)").to_owned(),
            host: match config.get_hosts().first() {
                Some(Host::Tcp(name)) => name.clone(),
                Some(Host::Unix(dir)) => dir.display().to_string(),
                None => "localhost".to_owned(),
            },
            ssl_mode: conninfo.ssl_mode(),
        }
    }

    /// The same place, with another setting to fix.
    pub fn with_setting(self, setting: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            ..self
        }
    }

    /// `host:port` for each host, or each Unix socket's path.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The setting to fix when the connection is refused.
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

/// Why pgusers could not connect, in words that say what to do; the
/// error it met is kept as the words' source, for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The settings cannot work as they are (a wrong password, user or
    /// database name): retrying will not help, fixing them will.
    #[error(transparent)]
    Settings(Detail),
    /// The server cannot be reached right now.
    #[error(transparent)]
    Unreachable(Detail),
}

impl ConnectError {
    fn settings(words: String) -> Self {
        Self::Settings(words.into())
    }

    fn unreachable(words: String) -> Self {
        Self::Unreachable(words.into())
    }

    /// The same words, made from `cause`.
    fn caused_by(self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        match self {
            Self::Settings(words) => Self::Settings(Detail::new(words.message(), cause)),
            Self::Unreachable(words) => Self::Unreachable(Detail::new(words.message(), cause)),
        }
    }

    /// The words without their cause (what tests compare).
    pub fn message(&self) -> &str {
        match self {
            Self::Settings(words) | Self::Unreachable(words) => words.message(),
        }
    }
}

/// Classifies a failure to connect (or to take a pooled connection).
pub fn connect_error(error: deadpool_postgres::PoolError, endpoint: &Endpoint) -> ConnectError {
    use deadpool_postgres::PoolError;
    let error = match error {
        PoolError::Backend(error) => return classify(error, endpoint),
        other => other,
    };
    let words = match &error {
        PoolError::Timeout(_) => ConnectError::unreachable(format!(
            "PostgreSQL at {} did not answer within {} seconds (timed out).",
            endpoint.address,
            TIMEOUT.as_secs()
        )),
        other => ConnectError::unreachable(format!(
            "No connection to PostgreSQL at {}: {other}.",
            endpoint.address
        )),
    };
    words.caused_by(error)
}

/// Classifies an error met while connecting to `endpoint`. PostgreSQL's own
/// message is quoted; tokio-postgres never puts the password in an error.
pub fn classify(error: tokio_postgres::Error, endpoint: &Endpoint) -> ConnectError {
    words(&error, endpoint).caused_by(error)
}

/// What [`classify`] says, without the cause.
fn words(error: &tokio_postgres::Error, endpoint: &Endpoint) -> ConnectError {
    use tokio_postgres::error::SqlState;
    let Endpoint {
        setting,
        address,
        user,
        database,
        host,
        ssl_mode,
    } = endpoint;
    if let Some(failure) = tls::failure(error) {
        return ConnectError::settings(match failure {
            tls::Failure::Setup(setup) => {
                format!(
                    "No TLS connection to PostgreSQL at {address} (settings from {setting}): {setup}"
                )
            }
            tls::Failure::Refused(refused) => format!(
                "No TLS connection to PostgreSQL at {address}: {}",
                tls::refusal_words(refused, host, setting)
            ),
            tls::Failure::NotOffered => format!(
                "PostgreSQL at {address} does not offer TLS, and {setting} requires it \
                 (sslmode={ssl_mode}). Turn ssl on in the server's settings, or lower sslmode \
                 if the network between them is private."
            ),
        });
    }
    if let Some(db) = error.as_db_error() {
        let said = crate::domain::visible(db.message());
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD {
            ConnectError::settings(format!(
                "Authentication failed for user \"{user}\" at {address}: PostgreSQL said \
                 \"{said}\". Check the user and password in {setting}."
            ))
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && matches!(ssl_mode, SslMode::Disable)
            && !address.contains(".s.PGSQL.")
        {
            ConnectError::settings(format!(
                "PostgreSQL at {address} refused user \"{user}\" without TLS: it said \
                 \"{said}\". The server may accept only encrypted connections (hostssl lines in \
                 its pg_hba.conf): remove sslmode=disable from {setting}, or better set \
                 sslmode=verify-full with the server's CA in sslrootcert."
            ))
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && said.contains("client certificate")
        {
            ConnectError::settings(format!(
                "PostgreSQL at {address} refused user \"{user}\": it said \"{said}\". The \
                 server asks for a client certificate: set sslcert and sslkey in {setting} to \
                 the certificate its CA gave this user and its key."
            ))
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            ConnectError::settings(format!(
                "PostgreSQL at {address} refused user \"{user}\": it said \"{said}\". Check the \
                 user in {setting}, and that the server's pg_hba.conf lets it connect."
            ))
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            ConnectError::settings(format!(
                "Database \"{database}\" does not exist at {address}. Check the database name \
                 in {setting}."
            ))
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            ConnectError::settings(format!(
                "User \"{user}\" may not connect to database \"{database}\" at {address}: \
                 PostgreSQL said \"{said}\". Grant it CONNECT, or use another user in {setting}."
            ))
        } else {
            // Too many connections, starting up, shutting down: it may pass.
            ConnectError::unreachable(format!(
                "PostgreSQL at {address} refused the connection for now: it said \"{said}\"."
            ))
        };
    }
    let text = error.to_string();
    if text.starts_with("invalid configuration") || text.starts_with("authentication error") {
        // "password missing", an unsupported authentication method…
        let detail = std::error::Error::source(error)
            .map(|cause| cause.to_string())
            .unwrap_or(text);
        return ConnectError::settings(format!(
            "PostgreSQL at {address} cannot authenticate user \"{user}\" with these settings \
             ({detail}). Check {setting}."
        ));
    }
    if text.starts_with("timeout") {
        return ConnectError::unreachable(format!(
            "PostgreSQL at {address} did not answer within {} seconds (timed out).",
            TIMEOUT.as_secs()
        ));
    }
    let io = std::iter::successors(std::error::Error::source(error), |e| e.source())
        .find_map(|e| e.downcast_ref::<std::io::Error>());
    // tokio-postgres leaves the cause out of its own message.
    let cause = io.map(ToString::to_string).unwrap_or_default();
    let reason = match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionRefused) => format!(
            "Connection refused at {address}: no PostgreSQL is listening there. Start it, \
             or check the host and port in {setting}."
        ),
        Some(std::io::ErrorKind::NotFound) => format!(
            "No PostgreSQL socket at {address}: the server is not running, or the host and \
             port in {setting} are wrong."
        ),
        Some(std::io::ErrorKind::TimedOut) => format!(
            "PostgreSQL at {address} did not answer within {} seconds (timed out).",
            TIMEOUT.as_secs()
        ),
        Some(_) if cause.contains("lookup address") || cause.contains("resolve") => format!(
            "Host not found: {address} does not resolve ({cause}). Check the host in {setting}."
        ),
        Some(_) => format!("No connection to PostgreSQL at {address}: {cause}."),
        // A protocol error: something answered, but not as PostgreSQL does.
        None => format!(
            "No connection to PostgreSQL at {address}: {text}. Is it a PostgreSQL server? \
             Check the host and port in {setting}."
        ),
    };
    ConnectError::unreachable(reason)
}

/// Says which part of a connection string is wrong, without echoing it:
/// the string may hold a password.
fn describe_parse_error(error: &tokio_postgres::Error) -> String {
    let cause = std::error::Error::source(error)
        .map(|cause| cause.to_string())
        .unwrap_or_default();
    // Only options it knows are named: an unknown "option" may be part of
    // a password that holds a space, `@`, `?` or `=` (`password=open
    // sesame=42`, `postgres://u:S3cr@t?Tail=Z@h/db`).
    if cause.starts_with("invalid value for option") {
        return cause;
    }
    if cause.starts_with("unknown option") {
        return "it names an option PostgreSQL's clients do not know (a password holding \
                spaces, '@', '?' or '=' must be quoted, or percent-encoded in a URL)"
            .to_owned();
    }
    // "unexpected character at byte N: expected `=` but got `x`": the
    // character may belong to a password.
    if let Some((position, _)) = cause.split_once(" but got") {
        return position.to_owned();
    }
    match cause.as_str() {
        "" => error.to_string(),
        "unexpected EOF" | "unterminated parameter" => format!("{cause} (the string ends early)"),
        _ if cause.contains("utf-8") || cause.contains("UTF-8") => {
            "a percent-encoded part is not valid UTF-8".to_owned()
        }
        _ => "it could not be parsed".to_owned(),
    }
}

/// SQLSTATE classes 08 (connection exception), 53 (insufficient resources)
/// and 57 (operator intervention: shutdown, crash, cannot connect now): the
/// server going away, not refusing a statement.
pub fn is_outage(code: &tokio_postgres::error::SqlState) -> bool {
    ["08", "53", "57"]
        .iter()
        .any(|class| code.code().starts_with(class))
}

/// PostgreSQL's answer when a catalog row a statement updates in place (a
/// table's ACL, a role's comment) was updated by another transaction since
/// the statement read it: an internal error (XX000) whose words are the
/// only mark, the same in every supported version. Trying again reads the
/// other's row.
pub fn is_concurrent_update(error: &tokio_postgres::Error) -> bool {
    error.as_db_error().is_some_and(|db| {
        *db.code() == tokio_postgres::error::SqlState::INTERNAL_ERROR
            && db.message() == "tuple concurrently updated"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_keeps_the_io_error_behind_its_words() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = Config::new();
        config
            .host("127.0.0.1")
            .port(port)
            .user("nobody")
            .dbname("nowhere");
        let config = Conninfo::from(config);
        let error = connect(&config).await.expect_err("nothing listens there");

        let refused = classify(error, &Endpoint::of(&config, "DATABASE_URL"));

        assert!(
            refused
                .message()
                .starts_with("Connection refused at 127.0.0.1:"),
            "{refused}"
        );
        let io = std::iter::successors(std::error::Error::source(&refused), |&e| e.source())
            .find_map(|e| e.downcast_ref::<std::io::Error>());
        assert_eq!(
            io.map(std::io::Error::kind),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
    }

    fn parse_error(url: &str) -> String {
        parse_config(url).expect_err("malformed").to_string()
    }

    #[test]
    fn links_are_encrypted_only_when_every_connection_was() {
        let links = Links::default();
        assert_eq!(links.encrypted(), None);
        links.record(true);
        assert_eq!(links.encrypted(), Some(true));
        links.record(false);
        links.record(true);
        assert_eq!(links.encrypted(), Some(false));
    }

    #[test]
    fn a_parse_error_names_the_part_and_never_a_character_of_the_string() {
        assert_eq!(
            parse_error("postgres://u:Secret@h:port/db"),
            "invalid value for option `port`"
        );
        assert_eq!(
            parse_error("mysql://u:Secret@h/db"),
            "a URL must start with postgres:// or postgresql://, not mysql://"
        );
        assert_eq!(
            parse_error("postgres//u:Secret@h/db"),
            "it starts like a URL but lacks the `://` after postgres"
        );
        let at_in_query =
            parse_error("postgres://h/db?sslmode=verify-full&password=S3cr@evil:5432");
        assert!(at_in_query.contains("as %40"), "{at_in_query}");
        let two_ats = parse_error("postgres://u:pa@ss@h:5432/db");
        assert!(
            two_ats.contains("as %40") && !two_ats.contains("ss@"),
            "{two_ats}"
        );
        assert!(!at_in_query.contains("S3cr"), "{at_in_query}");
        let value_with_colons = parse_error("host=h password=Se://cret port=x");
        assert!(!value_with_colons.contains("Se"), "{value_with_colons}");
        let missing_equals = parse_error("host=h password Secret");
        assert!(missing_equals.contains("expected `=`"), "{missing_equals}");
        assert!(!missing_equals.contains('S'), "{missing_equals}");
    }

    #[test]
    fn an_endpoint_names_host_port_user_and_database_but_not_the_password() {
        let config = parse_config("postgres://app:Secret@db.example:6543/shop").unwrap();
        let endpoint = Endpoint::of(&config, "DATABASE_URL");

        assert_eq!(endpoint.address, "db.example:6543");
        assert_eq!(endpoint.user, "app");
        assert_eq!(endpoint.database, "shop");
        assert!(!format!("{endpoint:?}").contains("Secret"));
    }
}
