use std::fmt;
use std::path::PathBuf;

/// Where clients reach the managed PostgreSQL server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or an IP address, over TCP.
    Tcp(String),
    /// The directory of a Unix socket.
    Socket(PathBuf),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(name) => f.write_str(name),
            Self::Socket(dir) => write!(f, "{} (Unix socket)", dir.display()),
        }
    }
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// Without TLS first; with TLS (unchecked) if the server refuses that.
    Allow,
    /// With TLS when the server offers it; without, if it does not, or if
    /// the TLS connection fails (its handshake, or the server's refusal).
    #[default]
    Prefer,
    /// TLS or nothing; the certificate is checked against a CA only when
    /// one is given (libpq's compatibility rule).
    Require,
    /// TLS, and a certificate a trusted CA signed.
    VerifyCa,
    /// TLS, a certificate a trusted CA signed, for the host name connected to.
    VerifyFull,
}

impl SslMode {
    pub const VALUES: &'static str = "disable, allow, prefer, require, verify-ca or verify-full";

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    /// A setting naming an sslmode (`PGUSERS_CLIENT_SSLMODE`, an entry's
    /// `client_sslmode`), or what is wrong with it, without its value.
    pub fn from_setting(text: &str) -> Result<Self, String> {
        Self::parse(text.trim()).ok_or_else(|| format!("not an sslmode; use {}.", Self::VALUES))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    /// Whether a connection without TLS is refused.
    pub fn requires_tls(self) -> bool {
        matches!(self, Self::Require | Self::VerifyCa | Self::VerifyFull)
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to connect to the managed database as one of its users: everything
/// but the password, which pgusers never keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionDetails {
    pub host: Host,
    pub port: u16,
    pub database: String,
    pub user: String,
    /// The `sslmode` clients should use (pgusers' own, or the one the
    /// settings name); none for a Unix socket or when nothing was said.
    pub ssl_mode: Option<SslMode>,
}

impl ConnectionDetails {
    /// `postgresql://user@host:port/database`, without a password, with
    /// every part percent-encoded where needed; a Unix socket directory is
    /// the encoded host, as libpq reads it (`postgresql://u@%2Frun%2Fpg:5432/db`).
    pub fn url(&self) -> String {
        self.url_with(None)
    }

    /// Whether clients must also have the server's CA (the URL's
    /// `sslmode` verifies the certificate).
    pub fn needs_ca(&self) -> bool {
        matches!(self.host, Host::Tcp(_))
            && matches!(self.ssl_mode, Some(SslMode::VerifyCa | SslMode::VerifyFull))
    }

    /// [`ConnectionDetails::url`] with `password` in it: a ready connection
    /// URI, for the page that shows a generated password once, and nowhere
    /// else.
    pub fn url_with_password(&self, password: &super::Password) -> String {
        self.url_with(Some(password.expose()))
    }

    fn url_with(&self, password: Option<&str>) -> String {
        let host = match &self.host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
            Host::Tcp(name) => percent_encode(name),
            Host::Socket(dir) => percent_encode(&dir.to_string_lossy()),
        };
        let password = password.map_or_else(String::new, |p| format!(":{}", percent_encode(p)));
        let query = match (&self.host, self.ssl_mode) {
            (Host::Tcp(_), Some(mode)) => format!("?sslmode={mode}"),
            _ => String::new(),
        };
        format!(
            "postgresql://{}{password}@{host}:{}/{}{query}",
            percent_encode(&self.user),
            self.port,
            percent_encode(&self.database)
        )
    }
}

/// Where clients reach the server, when it is not where pgusers connects
/// (`PGUSERS_PUBLIC_HOST`): a host name or an IP address, and a port
/// (default: the one pgusers connects to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicAddress {
    pub host: String,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicAddressError {
    #[error(
        "the public host is empty; give a host name or an IP address, with :PORT if it differs."
    )]
    Empty,
    #[error(
        "the public host may hold letters, digits, '.', '-' and '_' (or an IPv6 address in brackets), then :PORT."
    )]
    Host,
    #[error("the public port must be a number from 1 to 65535.")]
    Port,
}

impl PublicAddress {
    /// `host`, `host:port`, `[ipv6]` or `[ipv6]:port`.
    pub fn parse(text: &str) -> Result<Self, PublicAddressError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PublicAddressError::Empty);
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or(PublicAddressError::Host)?;
            if inside.is_empty()
                || !inside
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
            {
                return Err(PublicAddressError::Host);
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(PublicAddressError::Host)?),
            };
            (inside, port)
        } else {
            match text.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            }
        };
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        if host.is_empty() || !(text.starts_with('[') || host.chars().all(plain)) {
            return Err(PublicAddressError::Host);
        }
        let port = port
            .map(|port| match port.parse::<u16>() {
                Ok(0) | Err(_) => Err(PublicAddressError::Port),
                Ok(port) => Ok(port),
            })
            .transpose()?;
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters (for a URL's
/// path or query).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(host: Host) -> ConnectionDetails {
        ConnectionDetails {
            host,
            port: 5433,
            database: "my_app".into(),
            user: "my_app".into(),
            ssl_mode: None,
        }
    }

    #[test]
    fn a_url_carries_the_sslmode_over_tcp_and_not_over_a_socket() {
        let mut tcp = details(Host::Tcp("db.example".into()));
        tcp.ssl_mode = Some(SslMode::VerifyFull);
        assert_eq!(
            tcp.url(),
            "postgresql://my_app@db.example:5433/my_app?sslmode=verify-full"
        );
        assert!(tcp.needs_ca());
        tcp.ssl_mode = Some(SslMode::Require);
        assert!(!tcp.needs_ca());
        let mut socket = details(Host::Socket("/run/pg".into()));
        socket.ssl_mode = Some(SslMode::VerifyFull);
        assert!(!socket.url().contains("sslmode"), "{}", socket.url());
        assert!(!socket.needs_ca());
    }

    #[test]
    fn a_tcp_url_names_user_host_port_and_database_and_no_password() {
        let url = details(Host::Tcp("127.0.0.1".into())).url();
        assert_eq!(url, "postgresql://my_app@127.0.0.1:5433/my_app");
    }

    #[test]
    fn names_with_special_characters_are_percent_encoded() {
        let mut odd = details(Host::Tcp("db.internal".into()));
        odd.user = "we@ird:user".into();
        odd.database = "a/b c".into();
        assert_eq!(
            odd.url(),
            "postgresql://we%40ird%3Auser@db.internal:5433/a%2Fb%20c"
        );
    }

    #[test]
    fn a_url_with_a_password_puts_it_encoded_before_the_host() {
        let password = super::super::Password::parse(&"aZ9_".repeat(8)).unwrap();
        assert_eq!(
            details(Host::Tcp("db.example.com".into())).url_with_password(&password),
            format!(
                "postgresql://my_app:{}@db.example.com:5433/my_app",
                "aZ9_".repeat(8)
            )
        );
        let odd = super::super::Password::parse("p@ss:word/with?odd#chars%x").unwrap();
        assert!(
            details(Host::Tcp("h".into()))
                .url_with_password(&odd)
                .starts_with("postgresql://my_app:p%40ss%3Aword%2Fwith%3Fodd%23chars%25x@h:")
        );
    }

    #[test]
    fn a_public_address_is_a_host_with_an_optional_port() {
        let read = |text| PublicAddress::parse(text);
        assert_eq!(
            read("db.example.com"),
            Ok(PublicAddress {
                host: "db.example.com".into(),
                port: None
            })
        );
        assert_eq!(
            read(" db-1.internal:6432 "),
            Ok(PublicAddress {
                host: "db-1.internal".into(),
                port: Some(6432)
            })
        );
        assert_eq!(
            read("[2001:db8::1]:5433"),
            Ok(PublicAddress {
                host: "2001:db8::1".into(),
                port: Some(5433)
            })
        );
        assert_eq!(
            read("[::1]"),
            Ok(PublicAddress {
                host: "::1".into(),
                port: None
            })
        );
        assert_eq!(read(""), Err(PublicAddressError::Empty));
        for wrong in [
            "db host",
            "db/x",
            "user@db",
            "[::1",
            "[zz]",
            "[::1]x",
            ":5432",
            "2001:db8::1",
        ] {
            assert!(read(wrong).is_err(), "{wrong}");
        }
        for wrong in ["db:0", "db:65536", "db:x", "db:"] {
            assert_eq!(read(wrong), Err(PublicAddressError::Port), "{wrong}");
        }
    }

    #[test]
    fn an_ipv6_host_is_bracketed() {
        let url = details(Host::Tcp("::1".into())).url();
        assert_eq!(url, "postgresql://my_app@[::1]:5433/my_app");
    }

    #[test]
    fn a_unix_socket_is_an_encoded_host_and_says_so_when_shown() {
        let socket = Host::Socket("/run/postgresql".into());
        assert_eq!(socket.to_string(), "/run/postgresql (Unix socket)");
        assert_eq!(
            details(socket).url(),
            "postgresql://my_app@%2Frun%2Fpostgresql:5433/my_app"
        );
    }
}
