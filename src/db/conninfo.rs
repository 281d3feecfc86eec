//! A connection string as libpq reads it: tokio-postgres' `Config` for what
//! it knows, and the TLS settings it does not (`verify-ca`, `verify-full`,
//! `allow`, `sslrootcert`, `sslcert`, `sslkey`, `sslsni`), taken out of the
//! string first. Nothing here echoes the string: it may hold a password.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_postgres::Config;

use super::Malformed;
use super::tls::{RootCert, SslMode, TlsSettings};

/// Where and how to connect: tokio-postgres' settings and the TLS ones.
#[derive(Debug, Clone)]
pub struct Conninfo {
    config: Config,
    tls: Arc<TlsSettings>,
}

impl From<Config> for Conninfo {
    /// A configuration built in code, with libpq's TLS defaults.
    fn from(config: Config) -> Self {
        Self {
            config,
            tls: Arc::new(TlsSettings::default()),
        }
    }
}

impl From<&Config> for Conninfo {
    fn from(config: &Config) -> Self {
        config.clone().into()
    }
}

impl From<&Conninfo> for Conninfo {
    fn from(conninfo: &Conninfo) -> Self {
        conninfo.clone()
    }
}

impl Conninfo {
    /// Parses a `postgres://` URL or a `key=value` connection string.
    pub fn parse(text: &str) -> Result<Self, Malformed> {
        let Some((rest, pairs)) = take_tls_options(text) else {
            // tokio-postgres says what is wrong; if it reads the string all
            // the same, the two readings differ, and an option pgusers
            // missed could be `sslmode=require`: refused.
            super::parse_tokio_config(text)?;
            return Err(Malformed(
                "it cannot be read as PostgreSQL's clients read it (a `=` without a key, a \
                 value left empty?)"
                    .to_owned(),
            ));
        };
        let mut config = super::parse_tokio_config(&rest)?;
        if config.get_ssl_mode() != tokio_postgres::config::SslMode::Prefer {
            return Err(Malformed(
                "it gives `sslmode` where pgusers cannot read it".to_owned(),
            ));
        }
        let settings = tls_settings(&pairs)?;
        if config.get_ssl_negotiation() == tokio_postgres::config::SslNegotiation::Direct
            && !settings.mode.requires_tls()
        {
            return Err(Malformed(format!(
                "the weaker sslmode={} may not be used with sslnegotiation=direct (use require, \
                 verify-ca or verify-full)",
                settings.mode
            )));
        }
        // A `hostaddr` without `host`: the address is the name TLS is
        // asked for (tokio-postgres would have none and refuse TLS).
        if config.get_hosts().is_empty() {
            let addresses: Vec<String> = config
                .get_hostaddrs()
                .iter()
                .map(ToString::to_string)
                .collect();
            for address in addresses {
                config.host(&address);
            }
        }
        Ok(Self {
            config,
            tls: Arc::new(settings),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    pub(super) fn tls_shared(&self) -> Arc<TlsSettings> {
        self.tls.clone()
    }

    /// The same TLS settings over another configuration (another database,
    /// session options).
    pub fn map_config(self, change: impl FnOnce(Config) -> Config) -> Self {
        Self {
            config: change(self.config),
            tls: self.tls,
        }
    }

    /// The `sslmode` connections use: the string's, but `disable` over
    /// sockets only, where PostgreSQL has no TLS and libpq ignores it.
    pub fn ssl_mode(&self) -> SslMode {
        if self.sockets_only() {
            SslMode::Disable
        } else {
            self.tls.mode
        }
    }

    /// The `sslmode` the string names, or implies (`sslrootcert=system`
    /// means `verify-full`); none over sockets only.
    pub fn stated_ssl_mode(&self) -> Option<SslMode> {
        let implied = self.tls.root_cert == Some(RootCert::System);
        ((self.tls.mode_given || implied) && !self.sockets_only()).then_some(self.tls.mode)
    }

    /// Whether every host is a Unix socket, where PostgreSQL has no TLS and
    /// libpq ignores `sslmode`.
    pub fn sockets_only(&self) -> bool {
        use tokio_postgres::config::Host;
        let hosts = self.config.get_hosts();
        !hosts.is_empty()
            && self.config.get_hostaddrs().is_empty()
            && hosts.iter().all(|host| matches!(host, Host::Unix(_)))
    }
}

/// The TLS options pgusers reads itself, and those it refuses by name
/// (libpq knows them; tokio-postgres would call them unknown).
const TLS_OPTIONS: [&str; 5] = ["sslmode", "sslrootcert", "sslcert", "sslkey", "sslsni"];
const UNSUPPORTED: [&str; 7] = [
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslcertmode",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
];

fn tls_settings(pairs: &[(String, String)]) -> Result<TlsSettings, Malformed> {
    let mut settings = TlsSettings::default();
    for (key, value) in pairs {
        match key.as_str() {
            "sslmode" => {
                settings.mode = SslMode::parse(value).ok_or_else(|| {
                    Malformed(format!(
                        "invalid value for option `sslmode` (use {})",
                        SslMode::VALUES
                    ))
                })?;
                settings.mode_given = true;
            }
            "sslrootcert" => {
                settings.root_cert = Some(match value.as_str() {
                    "system" => RootCert::System,
                    path => RootCert::File(PathBuf::from(path)),
                })
            }
            "sslcert" => settings.cert = Some(PathBuf::from(value)),
            "sslkey" => settings.key = Some(PathBuf::from(value)),
            "sslsni" => {
                settings.sni = match value.as_str() {
                    "1" => true,
                    "0" => false,
                    _ => {
                        return Err(Malformed(
                            "invalid value for option `sslsni` (use 0 or 1)".to_owned(),
                        ));
                    }
                }
            }
            other => {
                return Err(Malformed(format!(
                    "pgusers does not support the option `{other}`{}",
                    match other {
                        "sslpassword" =>
                            ": decrypt the client key (openssl pkey -in key.pem -out key.plain.pem) and keep it mode 0600",
                        _ => ": remove it",
                    }
                )));
            }
        }
    }
    if settings.root_cert == Some(RootCert::System) {
        // libpq 16+: any certificate the system trusts can be had for a
        // name someone controls, so only the name check makes it safe.
        match settings.mode {
            SslMode::VerifyFull => {}
            _ if !settings.mode_given => {
                settings.mode = SslMode::VerifyFull;
            }
            weak => {
                return Err(Malformed(format!(
                    "sslrootcert=system may not be used with the weaker sslmode={weak} (use \
                     verify-full: any certificate the platform trusts can be had for a name \
                     someone else controls)"
                )));
            }
        }
    }
    Ok(settings)
}

/// Splits the TLS options out of a connection string: the string without
/// them, and each as (key, value); `None` when it cannot be read.
fn take_tls_options(text: &str) -> Option<(String, Vec<(String, String)>)> {
    if let Some(rest) = text
        .strip_prefix("postgres://")
        .or_else(|| text.strip_prefix("postgresql://"))
    {
        from_url(text, text.len() - rest.len())
    } else {
        from_keywords(text)
    }
}

fn is_ours(key: &str) -> bool {
    TLS_OPTIONS.contains(&key) || UNSUPPORTED.contains(&key)
}

/// URL query parameters, found as tokio-postgres finds them: the
/// credentials run to the first `@`, the query starts at the next `?`.
fn from_url(text: &str, start: usize) -> Option<(String, Vec<(String, String)>)> {
    let after_credentials = text[start..].find('@').map_or(start, |at| start + at + 1);
    let Some(question) = text[after_credentials..].find('?') else {
        return Some((text.to_owned(), Vec::new()));
    };
    let query_start = after_credentials + question + 1;
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for part in text[query_start..].split('&') {
        if part.is_empty() {
            // tokio-postgres refuses an empty part; so would this reading.
            return None;
        }
        let key = part.split_once('=').map_or(part, |(key, _)| key);
        let key = decode(key)?;
        if is_ours(&key) {
            let value = part.split_once('=').map(|(_, value)| value)?;
            taken.push((key, decode(value)?));
        } else {
            kept.push(part);
        }
    }
    let head = &text[..query_start - 1];
    let rest = match kept.is_empty() {
        true => head.to_owned(),
        false => format!("{head}?{}", kept.join("&")),
    };
    Some((rest, taken))
}

/// Percent-decoding, as tokio-postgres decodes keys and values.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `key = value` pairs read exactly as tokio-postgres reads them (Unicode
/// whitespace between pairs; a value quoted with `'`, or running to the
/// next whitespace; `\` escapes the next character, and is dropped at the
/// end): the string with the TLS pairs cut out, and those pairs. `None`
/// when it cannot be read so.
fn from_keywords(text: &str) -> Option<(String, Vec<(String, String)>)> {
    let mut chars = text.char_indices().peekable();
    let mut kept = String::with_capacity(text.len());
    let mut taken = Vec::new();
    let mut copied_to = 0;
    let mut addressed = std::collections::HashSet::new();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
        while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
    };
    let position = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
        chars.peek().map_or(text.len(), |&(i, _)| i)
    };
    loop {
        skip_space(&mut chars);
        let pair_start = position(&mut chars);
        if pair_start == text.len() {
            break;
        }
        while chars
            .next_if(|&(_, c)| c != '=' && !c.is_whitespace())
            .is_some()
        {}
        let key = &text[pair_start..position(&mut chars)];
        if key.is_empty() {
            // tokio-postgres would stop here and ignore the rest.
            return None;
        }
        skip_space(&mut chars);
        chars.next_if(|&(_, c)| c == '=')?;
        skip_space(&mut chars);
        let mut value = String::new();
        if chars.next_if(|&(_, c)| c == '\'').is_some() {
            loop {
                match chars.next()? {
                    (_, '\'') => break,
                    (_, '\\') => value.extend(chars.next().map(|(_, c)| c)),
                    (_, c) => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|&(_, c)| !c.is_whitespace()) {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    c => value.push(c),
                }
            }
            if value.is_empty() {
                return None;
            }
        }
        let pair_end = position(&mut chars);
        // tokio-postgres adds each repeated host to a list where libpq
        // keeps the last: the two would connect to different servers.
        if ["host", "hostaddr", "port"].contains(&key) && !addressed.insert(key) {
            return None;
        }
        if is_ours(key) {
            // A space where the pair was, so what is left cannot join into
            // another reading (`…'x'postgres://…`).
            kept.push_str(&text[copied_to..pair_start]);
            kept.push(' ');
            copied_to = pair_end;
            taken.push((key.to_owned(), value));
        }
    }
    kept.push_str(&text[copied_to..]);
    Some((kept, taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(text: &str) -> (String, Vec<(String, String)>) {
        take_tls_options(text).unwrap_or_else(|| ("(unreadable)".to_owned(), Vec::new()))
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    #[test]
    fn tls_options_leave_a_url_and_keep_the_rest_of_its_query() {
        assert_eq!(
            taken(
                "postgres://u:p%3Fw@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem"
            ),
            (
                "postgres://u:p%3Fw@h:5432/db?application_name=x".to_owned(),
                vec![
                    pair("sslmode", "verify-full"),
                    pair("sslrootcert", "/etc/ca.pem")
                ]
            )
        );
        assert_eq!(
            taken("postgresql://h/db?sslmode=require").0,
            "postgresql://h/db"
        );
        // A '?' in the credentials is not the query's.
        assert_eq!(
            taken("postgres://u:a?sslmode=disable@h/db"),
            ("postgres://u:a?sslmode=disable@h/db".to_owned(), vec![])
        );
    }

    #[test]
    fn tls_options_leave_a_keyword_string_and_a_quoted_password_keeps_its_words() {
        assert_eq!(
            taken(
                "host=h password='a sslmode=disable \\' b' sslmode = verify-ca sslrootcert='/x y/ca.pem' dbname=d"
            ),
            (
                "host=h password='a sslmode=disable \\' b'     dbname=d".to_owned(),
                vec![
                    pair("sslmode", "verify-ca"),
                    pair("sslrootcert", "/x y/ca.pem")
                ]
            )
        );
        assert_eq!(taken("host=h password='open").0, "(unreadable)");
    }

    #[test]
    fn every_libpq_mode_parses_and_system_roots_mean_verify_full() {
        for mode in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            let info = Conninfo::parse(&format!("host=h sslmode={mode}")).unwrap();
            assert_eq!(info.tls().mode.as_str(), mode);
            assert!(info.tls().mode_given);
        }
        let plain = Conninfo::parse("host=h").unwrap();
        assert_eq!(plain.tls().mode, SslMode::Prefer);
        assert!(!plain.tls().mode_given);

        let system = Conninfo::parse("postgres://h/db?sslrootcert=system").unwrap();
        assert_eq!(system.tls().mode, SslMode::VerifyFull);
        let weak = Conninfo::parse("postgres://h/db?sslrootcert=system&sslmode=require")
            .unwrap_err()
            .to_string();
        assert!(weak.contains("weaker sslmode=require"), "{weak}");
    }

    #[test]
    fn a_bad_value_or_an_unsupported_option_is_named_without_its_value() {
        let bad = Conninfo::parse("host=h sslmode=Secret1")
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("`sslmode`") && !bad.contains("Secret1"),
            "{bad}"
        );
        let unsupported = Conninfo::parse("host=h sslpassword=Secret1")
            .unwrap_err()
            .to_string();
        assert!(
            unsupported.contains("`sslpassword`") && !unsupported.contains("Secret1"),
            "{unsupported}"
        );
    }

    #[test]
    fn a_string_read_otherwise_than_tokio_postgres_reads_it_is_refused_not_weakened() {
        // Each of these would let tokio-postgres see `sslmode=require`
        // where a sloppier split would not.
        let vertical_tab = Conninfo::parse("host=h\u{b}sslmode=require user=u").unwrap();
        assert_eq!(vertical_tab.tls().mode, SslMode::Require);
        let no_break_space = Conninfo::parse("host=h\u{a0}sslmode=require user=u").unwrap();
        assert_eq!(no_break_space.tls().mode, SslMode::Require);
        let trailing_backslash = Conninfo::parse("sslmode=require password=pw\\").unwrap();
        assert_eq!(trailing_backslash.tls().mode, SslMode::Require);
        assert_eq!(trailing_backslash.config().get_password(), Some(&b"pw"[..]));
        let empty_key = Conninfo::parse("host=h password=pw = sslmode=require")
            .unwrap_err()
            .to_string();
        assert!(empty_key.contains("a `=` without a key"), "{empty_key}");
        assert!(!empty_key.contains("pw"), "{empty_key}");
    }

    #[test]
    fn no_cut_or_repeat_lets_another_reading_through() {
        let refused = |text: &str| Conninfo::parse(text).is_err();
        // What is left once the quoted pair is out must not read as a URL.
        assert!(refused(
            "sslmode='disable'postgres://h/db?sslmode=require&sslmode=prefer"
        ));
        assert!(refused("postgres://h/db?&sslmode=require"));
        assert!(refused("host=h password=ab host=evil.example"));
        assert!(refused("host=h port=1 port=2"));
        assert!(refused("postgres://u:pa@ss@h:5432/db"));
        assert!(refused("host=h sslnegotiation=direct sslmode=allow"));
        assert!(!refused("host=h sslnegotiation=direct sslmode=require"));
        // Only two hex digits make a percent-encoded byte, as in tokio-postgres.
        let plus =
            Conninfo::parse("postgres://h/db?sslmode=require&sslrootcert=/ca%+0.pem").unwrap();
        assert_eq!(
            plus.tls().root_cert,
            Some(RootCert::File(PathBuf::from("/ca%+0.pem")))
        );
    }

    #[test]
    fn a_hostaddr_alone_is_also_the_name_tls_is_asked_for() {
        let info = Conninfo::parse("hostaddr=127.0.0.1 port=5433 sslmode=require").unwrap();
        assert_eq!(
            info.config().get_hosts(),
            &[tokio_postgres::config::Host::Tcp("127.0.0.1".to_owned())]
        );
    }

    #[test]
    fn the_sslmode_for_clients_is_the_one_said_or_implied_and_never_over_sockets() {
        let stated = |text: &str| Conninfo::parse(text).unwrap().stated_ssl_mode();
        assert_eq!(stated("host=h sslmode=require"), Some(SslMode::Require));
        assert_eq!(stated("host=h"), None);
        assert_eq!(
            stated("host=h sslrootcert=system"),
            Some(SslMode::VerifyFull)
        );
        assert_eq!(
            stated("host=h sslrootcert=system sslmode=verify-full"),
            Some(SslMode::VerifyFull)
        );
        assert_eq!(stated("host=/run/pg sslmode=require"), None);
    }

    #[test]
    fn sni_is_on_unless_turned_off() {
        let sni = |text: &str| Conninfo::parse(text).ok().map(|info| info.tls().sni);
        assert_eq!(sni("host=h"), Some(true));
        assert_eq!(sni("host=h sslsni=1"), Some(true));
        assert_eq!(sni("host=h sslsni=0"), Some(false));
        assert_eq!(sni("host=h sslsni=yes"), None);
    }

    #[test]
    fn the_query_of_a_url_starts_after_its_credentials() {
        assert_eq!(
            taken("postgres://u:a?@h/db?sslmode=require"),
            (
                "postgres://u:a?@h/db".to_owned(),
                vec![pair("sslmode", "require")]
            )
        );
    }

    #[test]
    fn only_sockets_need_no_tls() {
        assert!(Conninfo::parse("host=/run/pg").unwrap().sockets_only());
        assert!(
            !Conninfo::parse("host=/run/pg,db.example")
                .unwrap()
                .sockets_only()
        );
        assert!(
            !Conninfo::parse("postgres://db.example/x")
                .unwrap()
                .sockets_only()
        );
    }
}
