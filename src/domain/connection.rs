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

/// How to connect to the managed database as one of its users: everything
/// but the password, which pgusers never keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionDetails {
    pub host: Host,
    pub port: u16,
    pub database: String,
    pub user: String,
}

impl ConnectionDetails {
    /// `postgresql://user@host:port/database`, without a password, with
    /// every part percent-encoded where needed; a Unix socket directory is
    /// the encoded host, as libpq reads it (`postgresql://u@%2Frun%2Fpg:5432/db`).
    pub fn url(&self) -> String {
        let host = match &self.host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
            Host::Tcp(name) => percent_encode(name),
            Host::Socket(dir) => percent_encode(&dir.to_string_lossy()),
        };
        format!(
            "postgresql://{}@{host}:{}/{}",
            percent_encode(&self.user),
            self.port,
            percent_encode(&self.database)
        )
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
        }
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
