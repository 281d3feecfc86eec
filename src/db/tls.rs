//! TLS for every connection pgusers makes, with libpq's meanings: the six
//! `sslmode` values, `sslrootcert` (a CA file, or `system`), a client
//! certificate (`sslcert`, `sslkey`) and `sslsni`, including libpq's
//! default files under `~/.postgresql/`.
//!
//! rustls does the TLS: it is pure Rust (nothing to install on a fresh
//! machine, unlike OpenSSL's headers), and it names why a certificate was
//! refused (unknown CA, name mismatch, expired), which the messages need.
//! `tokio-postgres-rustls` joins it to tokio-postgres, with channel binding
//! (`SCRAM-SHA-256-PLUS`).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::BoxFuture;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::Socket;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use crate::domain::SslMode;

/// Where the CAs that sign the server's certificate come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of CA certificates (`sslrootcert=/path`).
    File(PathBuf),
    /// The platform's trusted roots (`sslrootcert=system`, libpq 16+).
    System,
}

/// A connection string's TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// Whether the connection string named the mode (else libpq's default,
    /// `prefer`).
    pub mode_given: bool,
    /// `None`: libpq's default file, `~/.postgresql/root.crt`, when it exists.
    pub root_cert: Option<RootCert>,
    /// `None`: `~/.postgresql/postgresql.crt`, when it exists.
    pub cert: Option<PathBuf>,
    /// `None`: `~/.postgresql/postgresql.key`.
    pub key: Option<PathBuf>,
    /// Send the host name in the handshake (Server Name Indication).
    pub sni: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            mode: SslMode::Prefer,
            mode_given: false,
            root_cert: None,
            cert: None,
            key: None,
            sni: true,
        }
    }
}

/// What a TLS connection checks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Nothing: the connection is encrypted, but anyone in the middle could
    /// answer in the server's place.
    Nothing,
    /// That a trusted CA signed it and it is valid now; not the host name.
    Ca,
    /// That, and that it is for the host name connected to.
    Full,
}

impl TlsSettings {
    /// What a TLS connection with these settings checks: libpq's rules,
    /// under which a CA file that exists makes `require` (and `prefer`,
    /// `allow`) check the CA too.
    pub fn check(&self) -> Check {
        match self.mode {
            SslMode::VerifyFull => Check::Full,
            SslMode::VerifyCa => Check::Ca,
            SslMode::Disable => Check::Nothing,
            _ if self.ca_file_exists() => Check::Ca,
            _ => Check::Nothing,
        }
    }

    /// Whether a CA file is there to check against: libpq uses one that
    /// exists in every mode, and minds one that does not only in the
    /// `verify-*` modes.
    fn ca_file_exists(&self) -> bool {
        match &self.root_cert {
            Some(RootCert::System) => true,
            Some(RootCert::File(path)) => path.exists(),
            None => default_file("root.crt").is_some_and(|path| path.exists()),
        }
    }
}

/// `~/.postgresql/<name>`, where libpq looks for its default files.
fn default_file(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty())?;
    Some(Path::new(&home).join(".postgresql").join(name))
}

/// Why pgusers could not set TLS up: a file it cannot use. Said before any
/// byte of TLS is sent; each names the file and what to set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsSetupError {
    #[error(
        "sslmode={mode} checks the server's certificate against a CA, but no CA is given: the \
         default file {} does not exist. Set sslrootcert to the CA file of the server (for a \
         managed service, its CA bundle), or sslrootcert=system for the platform's trusted roots.",
        .default.display()
    )]
    NoCa { mode: SslMode, default: PathBuf },
    #[error("the CA file {} (sslrootcert) cannot be read: {reason}. Fix the path or the file's permissions.", .path.display())]
    CaUnreadable { path: PathBuf, reason: String },
    #[error("the CA file {} (sslrootcert) holds no certificate pgusers can use (it wants PEM: -----BEGIN CERTIFICATE-----).", .path.display())]
    CaEmpty { path: PathBuf },
    #[error(
        "sslrootcert=system, but the platform has no trusted roots ({reason}). Install its CA certificates (Debian: ca-certificates), or give the server's CA file in sslrootcert."
    )]
    NoSystemRoots { reason: String },
    #[error("the client certificate {} (sslcert) cannot be read: {reason}.", .path.display())]
    CertUnreadable { path: PathBuf, reason: String },
    #[error("the client key {} (sslkey) cannot be read: {reason}. pgusers reads unencrypted PEM keys (PKCS#8, PKCS#1 or SEC1).", .path.display())]
    KeyUnreadable { path: PathBuf, reason: String },
    #[error(
        "the client key {} (sslkey) has group or world access: like libpq, pgusers wants it \
         u=rw (0600) or less, or u=rw,g=r (0640) or less if root owns it. chmod 600 it.",
        .path.display()
    )]
    KeyOpen { path: PathBuf },
    #[error("the client certificate and key do not go together: {reason}.")]
    ClientAuth { reason: String },
}

/// The client configuration for a TLS connection with `settings`: its
/// files read now, as libpq reads them at each connection.
fn client_config(settings: &TlsSettings) -> Result<ClientConfig, TlsSetupError> {
    // ring rather than aws-lc-rs: nothing but a C compiler to build it. Its
    // deprecation is for post-quantum key exchange, which PostgreSQL's
    // OpenSSL builds do not offer.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let check = settings.check();
    let webpki = match (check, roots(settings)?) {
        (Check::Nothing, _) => None,
        (_, Some(roots)) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .expect("a non-empty root store builds a verifier"),
        ),
        (_, None) => {
            return Err(TlsSetupError::NoCa {
                mode: settings.mode,
                default: default_file("root.crt")
                    .unwrap_or_else(|| "~/.postgresql/root.crt".into()),
            });
        }
    };
    let verifier = Arc::new(Verifier {
        check,
        webpki,
        provider: provider.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config =
        match client_identity(settings)? {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
                TlsSetupError::ClientAuth {
                    reason: e.to_string(),
                }
            })?,
            None => builder.with_no_client_auth(),
        };
    config.enable_sni = settings.sni;
    Ok(config)
}

/// The CAs to check against, if any: the named file, the platform's, or
/// libpq's default file when it exists.
fn roots(settings: &TlsSettings) -> Result<Option<RootCertStore>, TlsSetupError> {
    let verifying = matches!(settings.mode, SslMode::VerifyCa | SslMode::VerifyFull);
    let path = match &settings.root_cert {
        Some(RootCert::System) => return system_roots().map(Some),
        Some(RootCert::File(path)) if verifying || path.exists() => path.clone(),
        Some(RootCert::File(_)) => return Ok(None),
        None => match default_file("root.crt").filter(|path| path.exists()) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let unreadable = |reason: String| TlsSetupError::CaUnreadable {
        path: path.clone(),
        reason,
    };
    let pem = std::fs::read(&path).map_err(|e| unreadable(e.to_string()))?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    let mut store = RootCertStore::empty();
    let (added, _unparsable) = store.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(TlsSetupError::CaEmpty { path });
    }
    Ok(Some(store))
}

fn system_roots() -> Result<RootCertStore, TlsSetupError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let reason = found
            .errors
            .first()
            .map_or_else(|| "none found".to_owned(), ToString::to_string);
        return Err(TlsSetupError::NoSystemRoots { reason });
    }
    Ok(store)
}

/// The client certificate and key to present, if any: the named files, or
/// libpq's defaults when the certificate file exists.
#[allow(clippy::type_complexity)]
fn client_identity(
    settings: &TlsSettings,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, TlsSetupError> {
    let cert = match &settings.cert {
        Some(path) => path.clone(),
        None => match default_file("postgresql.crt").filter(|path| path.exists()) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let key = settings
        .key
        .clone()
        .or_else(|| default_file("postgresql.key"))
        .unwrap_or_else(|| "~/.postgresql/postgresql.key".into());
    let chain: Vec<CertificateDer<'static>> = std::fs::read(&cert)
        .map_err(|e| e.to_string())
        .and_then(|pem| {
            CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        })
        .and_then(|chain| match chain.is_empty() {
            true => Err("it holds no PEM certificate".to_owned()),
            false => Ok(chain),
        })
        .map_err(|reason| TlsSetupError::CertUnreadable {
            path: cert.clone(),
            reason,
        })?;
    check_key_permissions(&key)?;
    let private = PrivateKeyDer::from_pem_file(&key).map_err(|e| TlsSetupError::KeyUnreadable {
        path: key.clone(),
        reason: match e {
            rustls::pki_types::pem::Error::Io(io) => io.to_string(),
            rustls::pki_types::pem::Error::NoItemsFound => {
                "it holds no unencrypted private key".to_owned()
            }
            other => other.to_string(),
        },
    })?;
    Ok(Some((chain, private)))
}

/// libpq's rule for a client key: no access for others, nor for the group
/// unless root owns it (then read at most).
fn check_key_permissions(path: &Path) -> Result<(), TlsSetupError> {
    use std::os::unix::fs::MetadataExt;
    let Ok(metadata) = std::fs::metadata(path) else {
        // Reading it says why.
        return Ok(());
    };
    let mode = metadata.mode() & 0o777;
    let allowed = if metadata.uid() == 0 { 0o640 } else { 0o600 };
    if mode & !allowed != 0 {
        return Err(TlsSetupError::KeyOpen {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// What is checked of the server's certificate, as [`Check`] says: with
/// webpki for `Ca` and `Full` (for `Ca`, a name mismatch is the only error
/// set aside; webpki checks the name last); that the server holds the
/// certificate's key, always.
#[derive(Debug)]
struct Verifier {
    check: Check,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let webpki = match (&self.webpki, self.check) {
            (_, Check::Nothing) => return Ok(ServerCertVerified::assertion()),
            (Some(webpki), _) => webpki,
            (None, _) => unreachable!("a verifying check is built with its roots"),
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Ca => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

type RustlsConnect = <MakeRustlsConnect as MakeTlsConnect<Socket>>::TlsConnect;
/// A TLS stream to PostgreSQL.
pub type TlsStream = <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;

/// tokio-postgres' TLS maker for one connection attempt with `settings`:
/// reads the files only when the server agrees to TLS, and notes whether
/// it did (libpq's `prefer` tries again without TLS only then).
#[derive(Clone)]
pub(super) struct Connector {
    settings: Arc<TlsSettings>,
    used: Arc<AtomicBool>,
    established: Arc<AtomicBool>,
}

impl Connector {
    pub(super) fn new(settings: Arc<TlsSettings>) -> Self {
        Self {
            settings,
            used: Arc::new(AtomicBool::new(false)),
            established: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a TLS handshake was started, with any host.
    pub(super) fn used(&self) -> bool {
        self.used.load(Ordering::SeqCst)
    }

    /// Whether the last host tried (the one connected to, when the
    /// connection was made) completed a TLS handshake.
    pub(super) fn established(&self) -> bool {
        self.established.load(Ordering::SeqCst)
    }
}

impl MakeTlsConnect<Socket> for Connector {
    type Stream = TlsStream;
    type TlsConnect = Handshake;
    type Error = std::convert::Infallible;

    /// Called once per host (and address) tokio-postgres tries.
    fn make_tls_connect(&mut self, domain: &str) -> Result<Handshake, Self::Error> {
        self.established.store(false, Ordering::SeqCst);
        Ok(Handshake {
            domain: domain.to_owned(),
            settings: self.settings.clone(),
            used: self.used.clone(),
            established: self.established.clone(),
        })
    }
}

pub(super) struct Handshake {
    domain: String,
    settings: Arc<TlsSettings>,
    used: Arc<AtomicBool>,
    established: Arc<AtomicBool>,
}

impl TlsConnect<Socket> for Handshake {
    type Stream = TlsStream;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<TlsStream>>;

    fn connect(self, stream: Socket) -> Self::Future {
        self.used.store(true, Ordering::SeqCst);
        Box::pin(async move {
            let config = client_config(&self.settings)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let connect: RustlsConnect = MakeTlsConnect::<Socket>::make_tls_connect(
                &mut MakeRustlsConnect::new(config),
                &self.domain,
            )
            .unwrap_or_else(|never| match never {});
            let stream = connect.connect(stream).await?;
            self.established.store(true, Ordering::SeqCst);
            Ok(stream)
        })
    }
}

/// Why a TLS connection failed, found in a tokio-postgres error: the setup
/// pgusers could not do, or what rustls refused or was told.
pub(super) enum Failure<'a> {
    Setup(&'a TlsSetupError),
    Refused(&'a rustls::Error),
    /// `sslmode` requires TLS and the server answered it has none.
    NotOffered,
}

pub(super) fn failure(error: &tokio_postgres::Error) -> Option<Failure<'_>> {
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        if error.to_string() == "server does not support TLS" {
            return Some(Failure::NotOffered);
        }
        if let Some(inner) = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            if let Some(setup) = inner.downcast_ref::<TlsSetupError>() {
                return Some(Failure::Setup(setup));
            }
            if let Some(refused) = inner.downcast_ref::<rustls::Error>() {
                return Some(Failure::Refused(refused));
            }
        }
        cause = error.source();
    }
    None
}

/// A certificate refusal or TLS alert, in words: which check failed, and
/// what to set. `setting` names where.
pub(super) fn refusal_words(error: &rustls::Error, host: &str, setting: &str) -> String {
    use rustls::AlertDescription as Alert;
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is not signed by a CA pgusers trusts (unknown CA). Set \
                 sslrootcert in {setting} to the file of the CA that signed it (for a managed \
                 service, its CA bundle)."
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired. Renew it on the server (its \
                 ssl_cert_file) and reload PostgreSQL's configuration."
                    .to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (check the clocks of both machines)."
                    .to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not for the host name \"{host}\" (name \
                     mismatch). Connect with a name the certificate carries in its subject \
                     alternative names, or set sslmode=verify-ca in {setting} to check only \
                     its CA."
                )
            }
            CertificateError::Revoked => "the server's certificate has been revoked.".to_owned(),
            other => format!("the server's certificate was refused ({other:?})."),
        },
        rustls::Error::AlertReceived(Alert::CertificateRequired | Alert::HandshakeFailure) => {
            format!(
                "the server asks for a client certificate. Set sslcert and sslkey in {setting}."
            )
        }
        rustls::Error::AlertReceived(
            Alert::UnknownCA | Alert::BadCertificate | Alert::CertificateUnknown,
        ) => format!(
            "the server refused pgusers' client certificate (its CA is not one the server \
             trusts). Check sslcert and sslkey in {setting}."
        ),
        rustls::Error::AlertReceived(Alert::CertificateExpired) => {
            "the server refused pgusers' client certificate: it has expired.".to_owned()
        }
        rustls::Error::AlertReceived(Alert::ProtocolVersion) => {
            "the server and pgusers share no TLS version (pgusers speaks TLS 1.2 and 1.3)."
                .to_owned()
        }
        other => format!("the TLS handshake failed: {other}."),
    }
}

/// How pgusers' own connection to a database is protected, as PostgreSQL
/// reports it (`pg_stat_ssl`) and as the settings check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionSecurity {
    /// A Unix socket: nothing crosses a network.
    Socket,
    /// TCP without TLS.
    Plain { mode: SslMode, mode_given: bool },
    /// TLS, with what is checked of the server's certificate.
    Tls {
        version: String,
        check: Check,
        mode: SslMode,
    },
}

impl ConnectionSecurity {
    /// `encrypted`: whether pgusers' connections went through a TLS
    /// handshake (every one of them: one without TLS counts as none);
    /// `version`: the TLS version PostgreSQL reports (none behind a pooler
    /// that ends TLS itself); `socket`: over a Unix socket.
    pub fn of(
        encrypted: bool,
        version: Option<String>,
        socket: bool,
        settings: &TlsSettings,
    ) -> Self {
        match (socket, encrypted) {
            (true, _) => Self::Socket,
            (false, false) => Self::Plain {
                mode: settings.mode,
                mode_given: settings.mode_given,
            },
            (false, true) => Self::Tls {
                version: version.unwrap_or_else(|| "TLS".to_owned()),
                check: settings.check(),
                mode: settings.mode,
            },
        }
    }

    pub fn encrypted(&self) -> bool {
        matches!(self, Self::Tls { .. })
    }

    /// What is checked of the server's certificate: `full` (CA and host
    /// name), `ca`, or `none` (also without TLS).
    pub fn verification(&self) -> &'static str {
        match self {
            Self::Tls {
                check: Check::Full, ..
            } => "full",
            Self::Tls {
                check: Check::Ca, ..
            } => "ca",
            _ => "none",
        }
    }

    /// The TLS version, when encrypted.
    pub fn tls_version(&self) -> Option<&str> {
        match self {
            Self::Tls { version, .. } => Some(version),
            _ => None,
        }
    }

    /// A word or two for a table's cell.
    pub fn short(&self) -> &'static str {
        match self {
            Self::Socket => "socket",
            Self::Plain { .. } => "none",
            Self::Tls {
                check: Check::Nothing,
                ..
            } => "unverified",
            Self::Tls {
                check: Check::Ca, ..
            } => "verify-ca",
            Self::Tls {
                check: Check::Full, ..
            } => "verify-full",
        }
    }
}

impl std::fmt::Display for ConnectionSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Socket => {
                f.write_str("Over a Unix socket on this machine: nothing crosses a network.")
            }
            Self::Plain { mode, mode_given } => write!(
                f,
                "Not encrypted (sslmode={mode}{}): anyone on the network between pgusers and \
                 PostgreSQL can read it. Turn ssl on in the server and set sslmode=verify-full.",
                if *mode_given { "" } else { ", the default" }
            ),
            Self::Tls {
                version,
                check: Check::Full,
                mode,
            } => write!(
                f,
                "Encrypted ({version}); the server's certificate and host name are verified \
                 (sslmode={mode})."
            ),
            Self::Tls {
                version,
                check: Check::Ca,
                mode,
            } => write!(
                f,
                "Encrypted ({version}); the server's certificate is verified against its CA, not \
                 its host name (sslmode={mode}). sslmode=verify-full checks the name too."
            ),
            Self::Tls {
                version,
                check: Check::Nothing,
                mode,
            } => write!(
                f,
                "Encrypted ({version}), but the server's certificate is not verified \
                 (sslmode={mode}): whoever answers in its place is believed. Set \
                 sslmode=verify-full with the server's CA in sslrootcert."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_makes_every_mode_but_disable_check_the_ca_if_it_is_there() {
        let here = std::env::temp_dir();
        let with = |mode, path: &Path| TlsSettings {
            mode,
            root_cert: Some(RootCert::File(path.to_owned())),
            ..TlsSettings::default()
        };
        assert_eq!(with(SslMode::Require, &here).check(), Check::Ca);
        assert_eq!(with(SslMode::Prefer, &here).check(), Check::Ca);
        assert_eq!(with(SslMode::Disable, &here).check(), Check::Nothing);
        let missing = Path::new("/nonexistent/ca.pem");
        assert_eq!(with(SslMode::Require, missing).check(), Check::Nothing);
        assert_eq!(with(SslMode::VerifyCa, missing).check(), Check::Ca);
        assert_eq!(with(SslMode::VerifyFull, missing).check(), Check::Full);
    }

    #[test]
    fn what_is_shown_follows_the_handshakes_not_the_server() {
        let settings = TlsSettings {
            mode: SslMode::VerifyFull,
            ..TlsSettings::default()
        };
        // Behind a pooler that ends TLS, PostgreSQL reports no version.
        let pooled = ConnectionSecurity::of(true, None, false, &settings);
        assert_eq!(pooled.short(), "verify-full");
        assert_eq!(pooled.tls_version(), Some("TLS"));
        let plain = ConnectionSecurity::of(false, Some("TLSv1.3".into()), false, &settings);
        assert!(!plain.encrypted());
        assert_eq!(plain.verification(), "none");
        assert_eq!(
            ConnectionSecurity::of(true, None, true, &settings),
            ConnectionSecurity::Socket
        );
    }
}
