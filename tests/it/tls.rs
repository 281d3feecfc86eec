//! TLS (issue 25): each `sslmode` behaves as libpq's (`psql` says what
//! libpq does) against a server with TLS and without, with `hostssl` and
//! `hostnossl` lines; certificates that do not verify are refused with
//! their reason; and the dashboard, API and CLI work end to end over
//! `verify-full`, as PostgreSQL itself sees (`pg_stat_ssl`).
//!
//! Each test runs a cluster of its own, whose certificates the test makes:
//! a CA, a server certificate for `localhost` and `127.0.0.1`, one for
//! another name, an expired one, and a client certificate from another CA.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pgusers::db::Conninfo;
use pgusers::db::tls::{Check, ConnectionSecurity};
use pgusers::domain::{NewPassword, OperatorPassword};
use pgusers::notice::Announce;
use pgusers::roles::{Access, RoleManager, provision_database};
use pgusers::state::{StateSettings, StateStore};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::helpers::{OwnCluster, dashboard, ident, password, psql, unique_name, username};

/// The certificates of a test: the server's in its data directory (the
/// server's own user must own its keys), the client's in a directory of
/// the test's.
struct Pki {
    client_dir: tempfile::TempDir,
}

impl Pki {
    fn ca(&self) -> PathBuf {
        self.client_dir.path().join("ca.pem")
    }
    fn other_ca(&self) -> PathBuf {
        self.client_dir.path().join("other-ca.pem")
    }
    fn client_cert(&self) -> PathBuf {
        self.client_dir.path().join("client.crt")
    }
    fn client_key(&self) -> PathBuf {
        self.client_dir.path().join("client.key")
    }
}

fn authority(name: &str) -> (CertificateParams, KeyPair, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

/// A certificate for `names`, signed by `issuer`: its PEM and its key's.
fn leaf(
    names: &[&str],
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
    expired: bool,
    issuer: &Issuer<'_, KeyPair>,
) -> (String, String) {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.extended_key_usages = vec![usage];
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let pem = params.signed_by(&key, issuer).unwrap().pem();
    (pem, key.serialize_pem())
}

/// Writes `text` at `path`, owned like `like` (the server's user), mode `mode`.
fn write_owned(path: &Path, text: &str, like: &Path, mode: u32) {
    use std::os::unix::fs::MetadataExt;
    std::fs::write(path, text).unwrap();
    let owner = std::fs::metadata(like).unwrap();
    std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A cluster of the test's own that speaks TLS as the test configures it,
/// and a superuser that logs in with a password over TCP.
struct TlsServer {
    cluster: OwnCluster,
    pki: Pki,
    port: u16,
    admin: String,
    admin_password: String,
    generation: u32,
}

/// The server's `pg_hba.conf` line for TCP from 127.0.0.1.
#[derive(Clone, Copy, Debug)]
enum Hba {
    /// `host`: with TLS or without.
    Any,
    /// `hostssl`: only with TLS.
    SslOnly,
    /// `hostnossl`: only without.
    NoSsl,
    /// `hostssl … clientcert=verify-ca`: TLS and a client certificate.
    ClientCert,
}

/// Which certificate the server presents.
#[derive(Clone, Copy, Debug)]
enum ServerCert {
    Good,
    WrongName,
    Expired,
}

impl TlsServer {
    async fn start() -> Self {
        let cluster = OwnCluster::start().await;
        let data = cluster.data_dir();
        let (ca_params, ca_key, ca_pem) = authority("pgusers test CA");
        let ca = Issuer::new(ca_params, ca_key);
        let (_, _, other_ca_pem) = authority("someone else's CA");
        let (client_ca_params, client_ca_key, client_ca_pem) = authority("pgusers client CA");
        let client_ca = Issuer::new(client_ca_params, client_ca_key);
        let server = ExtendedKeyUsagePurpose::ServerAuth;
        for (file, names, expired) in [
            ("good", &["localhost", "127.0.0.1"][..], false),
            ("wrong", &["db.example.invalid"][..], false),
            ("expired", &["localhost", "127.0.0.1"][..], true),
        ] {
            let (cert, key) = leaf(names, names[0], server.clone(), expired, &ca);
            write_owned(&data.join(format!("{file}.crt")), &cert, &data, 0o644);
            write_owned(&data.join(format!("{file}.key")), &key, &data, 0o600);
        }
        write_owned(&data.join("client-ca.crt"), &client_ca_pem, &data, 0o644);

        let admin = unique_name("tls_admin");
        let admin_password = password().expose().to_owned();
        let client_dir = tempfile::tempdir().unwrap();
        let pki = Pki { client_dir };
        std::fs::write(pki.ca(), &ca_pem).unwrap();
        std::fs::write(pki.other_ca(), &other_ca_pem).unwrap();
        let (cert, key) = leaf(
            &[],
            &admin,
            ExtendedKeyUsagePurpose::ClientAuth,
            false,
            &client_ca,
        );
        std::fs::write(pki.client_cert(), cert).unwrap();
        std::fs::write(pki.client_key(), key).unwrap();
        std::fs::set_permissions(pki.client_key(), std::fs::Permissions::from_mode(0o600)).unwrap();

        let port = cluster.server().get_ports()[0];
        let superuser = pgusers::db::connect(cluster.server()).await.unwrap();
        superuser
            .batch_execute(&format!(
                "CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}",
                ident(&admin),
                crate::helpers::verifier_literal(
                    &pgusers::domain::Password::parse(&admin_password).unwrap()
                )
            ))
            .await
            .unwrap();
        let mut server = Self {
            cluster,
            pki,
            port,
            admin,
            admin_password,
            generation: 0,
        };
        server.serve(true, Hba::Any, ServerCert::Good).await;
        server
    }

    /// Reconfigures the server (TLS on or off, its `pg_hba.conf` line for
    /// TCP, its certificate) and waits until new connections see it.
    async fn serve(&mut self, ssl: bool, hba: Hba, cert: ServerCert) {
        self.generation += 1;
        let data = self.cluster.data_dir();
        let line = match hba {
            Hba::Any => "host all all 127.0.0.1/32 scram-sha-256",
            Hba::SslOnly => "hostssl all all 127.0.0.1/32 scram-sha-256",
            Hba::NoSsl => "hostnossl all all 127.0.0.1/32 scram-sha-256",
            Hba::ClientCert => "hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-ca",
        };
        write_owned(
            &data.join("pg_hba.conf"),
            &format!("local all postgres trust\nlocal all all scram-sha-256\n{line}\n"),
            &data,
            0o600,
        );
        let file = match cert {
            ServerCert::Good => "good",
            ServerCert::WrongName => "wrong",
            ServerCert::Expired => "expired",
        };
        let at = |name: &str| data.join(name).display().to_string();
        // A file of its own, included by postgresql.conf, so the marker (a
        // setting PostgreSQL does not know) may be in it.
        write_owned(
            &data.join("tls-test.conf"),
            &format!(
                "ssl = {}\nssl_cert_file = '{}'\nssl_key_file = '{}'\nssl_ca_file = '{}'\n\
                 pgusers_test.generation = '{}'\n",
                if ssl { "on" } else { "off" },
                at(&format!("{file}.crt")),
                at(&format!("{file}.key")),
                at("client-ca.crt"),
                self.generation
            ),
            &data,
            0o600,
        );
        let conf = data.join("postgresql.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        if !text.contains("include 'tls-test.conf'") {
            std::fs::write(&conf, format!("{text}\ninclude 'tls-test.conf'\n")).unwrap();
        }
        let superuser = pgusers::db::connect(self.cluster.server()).await.unwrap();
        superuser
            .batch_execute("SELECT pg_reload_conf()")
            .await
            .unwrap();
        // The postmaster loads pg_hba.conf with the settings: a new session
        // that sees this generation sees the new lines too.
        let wanted = self.generation.to_string();
        for _ in 0..100 {
            let fresh = pgusers::db::connect(self.cluster.server()).await.unwrap();
            let seen: Option<String> = fresh
                .query_one(
                    "SELECT current_setting('pgusers_test.generation', true)",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if seen.as_deref() == Some(wanted.as_str()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not reload its settings");
    }

    /// A key/value connection string as the admin over TCP to `database`,
    /// with `options`; the password last.
    fn conninfo(&self, host: &str, database: &str, options: &str) -> String {
        format!(
            "host={host} port={} user={} dbname={database} {options} password='{}'",
            self.port, self.admin, self.admin_password
        )
    }
}

impl TlsServer {
    /// What pgusers says when the admin cannot connect to `postgres` at
    /// `localhost` with `options`.
    async fn refused(&self, options: &str) -> String {
        refusal(&self.conninfo("localhost", "postgres", options)).await
    }
}

/// Whether pgusers connects with `conninfo`, and with TLS: `Some(ssl)` as
/// PostgreSQL reports it, or `None` when refused (and why).
async fn ours(conninfo: &str) -> Result<bool, String> {
    let conninfo = Conninfo::parse(conninfo).map_err(|e| e.to_string())?;
    let client = pgusers::db::connect(&conninfo)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    Ok(row.get(0))
}

/// The same with libpq's `psql`, its own files out of the way (an empty
/// HOME) and the password in the environment.
fn libpq(conninfo_without_password: &str, password: &str) -> Result<bool, String> {
    let home = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(psql())
        .args(["-X", "-w", "-At", conninfo_without_password])
        .args([
            "-c",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ])
        .env("HOME", home.path())
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5")
        .env_remove("PGSSLMODE")
        .env_remove("PGSSLROOTCERT")
        .env_remove("PGSERVICE")
        .output()
        .expect("psql runs");
    match (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim(),
    ) {
        (true, "t") => Ok(true),
        (true, "f") => Ok(false),
        _ => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

const MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

#[tokio::test]
async fn every_sslmode_connects_or_not_as_libpq_does_and_with_tls_when_libpq_would() {
    let mut server = TlsServer::start().await;
    let mut seen = Vec::new();
    for (ssl, hba, cert) in [
        (false, Hba::Any, ServerCert::Good),
        (true, Hba::Any, ServerCert::Good),
        (true, Hba::SslOnly, ServerCert::Good),
        (true, Hba::NoSsl, ServerCert::Good),
        // A CA file makes every mode check the CA, as libpq does.
        (true, Hba::Any, ServerCert::Expired),
    ] {
        server.serve(ssl, hba, cert).await;
        for mode in MODES {
            let options = format!("sslmode={mode} sslrootcert='{}'", server.pki.ca().display());
            let with_password = server.conninfo("localhost", "postgres", &options);
            let without_password = with_password
                .rsplit_once(" password=")
                .unwrap()
                .0
                .to_owned();
            let (ours, libpq) = (
                ours(&with_password).await.ok(),
                libpq(&without_password, &server.admin_password).ok(),
            );
            assert_eq!(
                ours, libpq,
                "ssl={ssl}, {hba:?}, {cert:?}, sslmode={mode}: pgusers connected {ours:?}, libpq {libpq:?}"
            );
            if let ServerCert::Good = cert {
                seen.push(((ssl, format!("{hba:?}"), mode), ours));
            }
        }
    }
    let outcome = |ssl: bool, hba: &str, mode: &str| {
        seen.iter()
            .find(|((s, h, m), _)| *s == ssl && h == hba && *m == mode)
            .map(|(_, outcome)| *outcome)
            .unwrap()
    };
    // What libpq does, said outright: a server without TLS and `require`;
    // `prefer` takes TLS when offered; `allow` tries TLS after a refusal
    // without; `prefer` tries without after a refusal with.
    assert_eq!(outcome(false, "Any", "require"), None);
    assert_eq!(outcome(false, "Any", "prefer"), Some(false));
    assert_eq!(outcome(true, "Any", "prefer"), Some(true));
    assert_eq!(outcome(true, "Any", "disable"), Some(false));
    assert_eq!(outcome(true, "SslOnly", "disable"), None);
    assert_eq!(outcome(true, "SslOnly", "allow"), Some(true));
    assert_eq!(outcome(true, "NoSsl", "prefer"), Some(false));
    assert_eq!(outcome(true, "NoSsl", "require"), None);
    assert_eq!(outcome(true, "SslOnly", "verify-full"), Some(true));
}

#[tokio::test]
async fn a_hostaddr_alone_and_a_ca_file_that_is_not_there_behave_as_with_libpq() {
    let server = TlsServer::start().await;
    let port = server.port;
    let user = &server.admin;
    for (case, conninfo) in [
        (
            "hostaddr only",
            format!("hostaddr=127.0.0.1 port={port} user={user} dbname=postgres"),
        ),
        (
            "hostaddr only, require",
            format!("hostaddr=127.0.0.1 port={port} user={user} dbname=postgres sslmode=require"),
        ),
        (
            "require, no CA file there",
            format!(
                "host=localhost port={port} user={user} dbname=postgres sslmode=require \
                 sslrootcert=/nonexistent/ca.pem"
            ),
        ),
        (
            "prefer, no CA file there",
            format!(
                "host=localhost port={port} user={user} dbname=postgres \
                 sslrootcert=/nonexistent/ca.pem"
            ),
        ),
    ] {
        let with_password = format!("{conninfo} password='{}'", server.admin_password);
        let ours = ours(&with_password).await;
        assert_eq!(
            ours.clone().ok(),
            libpq(&conninfo, &server.admin_password).ok(),
            "{case}: pgusers {ours:?}"
        );
        assert_eq!(ours, Ok(true), "{case}");
    }
}

#[tokio::test]
async fn a_plain_connection_after_a_failed_handshake_with_another_host_is_shown_plain() {
    let mut server = TlsServer::start().await;
    server.serve(false, Hba::Any, ServerCert::Good).await;
    // A first host that agrees to TLS, then hangs up.
    let liar = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let liar_port = liar.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = liar.accept().await {
            let mut request = [0u8; 8];
            if socket.read_exact(&mut request).await.is_ok() {
                let _ = socket.write_all(b"S").await;
            }
        }
    });
    let conninfo = format!(
        "host=127.0.0.1,localhost port={liar_port},{} user={} dbname=postgres password='{}'",
        server.port, server.admin, server.admin_password
    );
    let roles = RoleManager::new(Conninfo::parse(&conninfo).unwrap(), 1, None);

    let security = roles.connection_security().await.unwrap();

    assert!(!security.encrypted(), "{security}");
    assert_eq!(security.short(), "none");
}

/// What pgusers says when it cannot connect with `conninfo`.
async fn refusal(conninfo: &str) -> String {
    let conninfo = Conninfo::parse(conninfo).unwrap();
    let error = pgusers::db::connect(&conninfo).await.expect_err("refused");
    pgusers::db::classify(error, &pgusers::db::Endpoint::of(&conninfo, "DATABASE_URL")).to_string()
}

#[tokio::test]
async fn certificates_that_do_not_verify_are_refused_with_their_reason() {
    let mut server = TlsServer::start().await;
    let ca = server.pki.ca().display().to_string();
    let full = format!("sslmode=verify-full sslrootcert='{ca}'");

    let unknown = server
        .refused(&format!(
            "sslmode=verify-full sslrootcert='{}'",
            server.pki.other_ca().display()
        ))
        .await;
    assert!(unknown.contains("unknown CA"), "{unknown}");
    assert!(unknown.contains("sslrootcert in DATABASE_URL"), "{unknown}");

    let unknown_ca_only = server
        .refused(&format!(
            "sslmode=verify-ca sslrootcert='{}'",
            server.pki.other_ca().display()
        ))
        .await;
    assert!(unknown_ca_only.contains("unknown CA"), "{unknown_ca_only}");

    let no_ca = server.refused("sslmode=verify-ca").await;
    assert!(no_ca.contains("no CA is given"), "{no_ca}");

    let missing = server
        .refused("sslmode=verify-full sslrootcert=/nonexistent/ca.pem")
        .await;
    assert!(
        missing.contains("/nonexistent/ca.pem (sslrootcert) cannot be read"),
        "{missing}"
    );
    let not_pem = server.pki.client_dir.path().join("not-a-ca.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let empty = server
        .refused(&format!(
            "sslmode=verify-full sslrootcert='{}'",
            not_pem.display()
        ))
        .await;
    assert!(empty.contains("holds no certificate"), "{empty}");

    server.serve(true, Hba::Any, ServerCert::WrongName).await;
    let mismatch = server.refused(&full).await;
    assert!(mismatch.contains("name mismatch"), "{mismatch}");
    assert!(mismatch.contains("\"localhost\""), "{mismatch}");
    // verify-ca checks the CA only: the same certificate passes.
    let ca_only = format!("sslmode=verify-ca sslrootcert='{ca}'");
    assert_eq!(
        ours(&server.conninfo("localhost", "postgres", &ca_only)).await,
        Ok(true)
    );

    server.serve(true, Hba::Any, ServerCert::Expired).await;
    let expired = server.refused(&full).await;
    assert!(expired.contains("expired"), "{expired}");
    // Also under verify-ca: the dates are part of the CA's check.
    let expired_ca = server.refused(&ca_only).await;
    assert!(expired_ca.contains("expired"), "{expired_ca}");

    // An IP address must be in the certificate as one.
    server.serve(true, Hba::Any, ServerCert::Good).await;
    assert_eq!(
        ours(&server.conninfo("127.0.0.1", "postgres", &full)).await,
        Ok(true)
    );
    // SCRAM bound to the TLS session (SCRAM-SHA-256-PLUS).
    assert_eq!(
        ours(&server.conninfo(
            "localhost",
            "postgres",
            &format!("{full} channel_binding=require")
        ))
        .await,
        Ok(true)
    );

    // No message carries the password.
    for message in [&unknown, &no_ca, &missing, &empty, &mismatch, &expired] {
        assert!(!message.contains(&server.admin_password), "{message}");
    }
}

#[tokio::test]
async fn a_server_without_tls_or_requiring_it_says_what_to_set() {
    let mut server = TlsServer::start().await;
    server.serve(false, Hba::Any, ServerCert::Good).await;
    let not_offered = server.refused("sslmode=require").await;
    assert!(
        not_offered.contains("does not offer TLS") && not_offered.contains("sslmode=require"),
        "{not_offered}"
    );

    server.serve(true, Hba::SslOnly, ServerCert::Good).await;
    let plain_refused = server.refused("sslmode=disable").await;
    assert!(
        plain_refused.contains("without TLS") && plain_refused.contains("sslmode=disable"),
        "{plain_refused}"
    );

    // A client certificate the server asks for, given or not.
    server.serve(true, Hba::ClientCert, ServerCert::Good).await;
    let ca = server.pki.ca().display().to_string();
    let without = server
        .refused(&format!("sslmode=verify-full sslrootcert='{ca}'"))
        .await;
    assert!(without.contains("set sslcert and sslkey"), "{without}");
    let with = format!(
        "sslmode=verify-full sslrootcert='{ca}' sslcert='{}' sslkey='{}'",
        server.pki.client_cert().display(),
        server.pki.client_key().display()
    );
    assert_eq!(
        ours(&server.conninfo("localhost", "postgres", &with)).await,
        Ok(true)
    );
    // A key others may read is refused before it is used, as libpq does.
    std::fs::set_permissions(
        server.pki.client_key(),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let open_key = server.refused(&with).await;
    assert!(open_key.contains("group or world access"), "{open_key}");

    // sslrootcert=system: the platform's roots, which do not hold the
    // test's CA, and only with verify-full.
    let system = server.refused("sslrootcert=system").await;
    assert!(
        system.contains("unknown CA") || system.contains("no trusted roots"),
        "{system}"
    );
    let weak = Conninfo::parse(&server.conninfo(
        "localhost",
        "postgres",
        "sslrootcert=system sslmode=require",
    ))
    .unwrap_err()
    .to_string();
    assert!(weak.contains("verify-full"), "{weak}");
}

#[tokio::test]
async fn pgusers_manages_users_end_to_end_over_verify_full_on_a_hostssl_only_server() {
    let mut server = TlsServer::start().await;
    server.serve(true, Hba::SslOnly, ServerCert::Good).await;
    let database = unique_name("tlsdb");
    let protected = username("owner");
    provision_database(server.cluster.server(), &database, &protected, &password())
        .await
        .unwrap();
    let ca = server.pki.ca().display().to_string();
    let url = format!(
        "postgres://{}:{}@localhost:{}/{database}?sslmode=verify-full&sslrootcert={}",
        server.admin,
        server.admin_password,
        server.port,
        pgusers::domain::percent_encode(&ca)
    );

    // The role module: a user made over TLS logs in over TLS, as its own
    // application would, with the URI pgusers shows.
    let roles = RoleManager::new(Conninfo::parse(&url).unwrap(), 2, None);
    roles.check().await.unwrap();
    let user = username("app");
    let secret = password();
    roles
        .create(
            &user,
            NewPassword::Chosen(secret.clone()),
            Access::ReadWrite,
        )
        .await
        .unwrap();
    let shown = roles
        .connection_details_as(user.as_str())
        .await
        .unwrap()
        .url();
    assert!(shown.ends_with("?sslmode=verify-full"), "{shown}");
    let as_user = format!(
        "host=localhost port={} user={user} dbname={database} sslmode=verify-full sslrootcert='{ca}' password='{}'",
        server.port,
        secret.expose()
    );
    assert_eq!(ours(&as_user).await, Ok(true));
    assert_eq!(
        roles.connection_security().await.unwrap(),
        ConnectionSecurity::Tls {
            version: roles_tls_version(&server).await,
            check: Check::Full,
            mode: pgusers::domain::SslMode::VerifyFull,
        }
    );

    // The dashboard and the API, their state database over TLS too.
    let state_url = url.replace(&format!("/{database}?"), &format!("/{database}_state?"));
    let state = StateStore::new(StateSettings {
        config: Conninfo::parse(&state_url).unwrap(),
        create_with: Some(Conninfo::parse(&url).unwrap()),
        admin_password: Some(OperatorPassword::parse("operator-password").unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    });
    state.ensure_ready().await.unwrap();
    let (_, token) = crate::helpers::token_of(&state, "admin", true).await;
    let browser = dashboard()
        .serve_one(
            "tls",
            RoleManager::new(Conninfo::parse(&url).unwrap(), 2, None),
            state,
        )
        .await;
    browser.log_in_with("operator-password").await;
    let overview = browser.get("/databases/tls").await;
    assert_eq!(overview.status, 200);
    assert!(
        overview
            .body
            .contains("the server&#39;s certificate and host name are verified")
            || overview
                .body
                .contains("the server's certificate and host name are verified"),
        "{}",
        overview.body
    );
    assert!(
        overview.body.contains("?sslmode=verify-full</span>")
            && overview.body.contains("id=\"needs-ca\""),
        "{}",
        overview.body
    );
    let users = browser.get("/databases/tls/settings/database-users").await;
    assert!(users.body.contains(user.as_str()), "{}", users.body);
    let api: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/databases", browser.address))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let connection = &api["databases"][0]["connection"];
    assert_eq!(connection["encrypted"], true, "{api}");
    assert_eq!(connection["verified"], "full", "{api}");
    assert_eq!(connection["summary"], "verify-full", "{api}");

    // The CLI: the same settings from DATABASE_URL; the state database too.
    let cli = crate::helpers::pgusers_binary()
        .env("DATABASE_URL", &url)
        .env("PGUSERS_STATE_URL", &state_url)
        .env("PGUSERS_DATA_DIR", server.pki.client_dir.path())
        .args(["databases"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&cli.stdout);
    assert!(
        cli.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(stdout.contains("verify-full"), "{stdout}");
    assert!(stdout.contains("?sslmode=verify-full"), "{stdout}");
    // Applications told another sslmode than pgusers' own; a wrong one refused.
    let told = |mode: &str| {
        crate::helpers::pgusers_binary()
            .env("DATABASE_URL", &url)
            .env("PGUSERS_STATE_URL", &state_url)
            .env("PGUSERS_DATA_DIR", server.pki.client_dir.path())
            .env("PGUSERS_CLIENT_SSLMODE", mode)
            .args(["databases"])
            .output()
            .unwrap()
    };
    let require = told("require");
    let shown = String::from_utf8_lossy(&require.stdout);
    assert!(
        shown.contains(
            "/{database}?sslmode=require\n"
                .replace("{database}", &database)
                .as_str()
        ),
        "{shown}"
    );
    let wrong = told("verify_full");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("PGUSERS_CLIENT_SSLMODE: not an sslmode"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    let reader = unique_name("tlsreader");
    let chosen = password();
    let created = crate::cli::run(
        assert_cmd::Command::from_std(crate::helpers::pgusers_binary())
            .env("DATABASE_URL", &url)
            .env("PGUSERS_STATE_URL", &state_url)
            .env("PGUSERS_DATA_DIR", server.pki.client_dir.path())
            .args([
                "database-users-create",
                "--read-only",
                "--password-stdin",
                &reader,
            ]),
        &format!("{}\n", chosen.expose()),
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let as_reader = format!(
        "host=localhost port={} user={reader} dbname={database} sslmode=verify-full sslrootcert='{ca}' password='{}'",
        server.port,
        chosen.expose()
    );
    assert_eq!(ours(&as_reader).await, Ok(true));

    // PostgreSQL's own view: every session of pgusers' administrator is
    // encrypted, and there were some.
    let superuser = pgusers::db::connect(server.cluster.server()).await.unwrap();
    let row = superuser
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE s.ssl)
               FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
              WHERE a.usename = $1",
            &[&server.admin],
        )
        .await
        .unwrap();
    let (sessions, encrypted): (i64, i64) = (row.get(0), row.get(1));
    assert!(sessions > 0);
    assert_eq!(sessions, encrypted);
}

/// The TLS version PostgreSQL reports for a fresh TLS session.
async fn roles_tls_version(server: &TlsServer) -> String {
    let conninfo = Conninfo::parse(&server.conninfo(
        "localhost",
        "postgres",
        &format!(
            "sslmode=verify-full sslrootcert='{}'",
            server.pki.ca().display()
        ),
    ))
    .unwrap();
    pgusers::db::connect(&conninfo)
        .await
        .unwrap()
        .query_one(
            "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[test]
fn a_cli_that_cannot_verify_the_server_exits_2_and_says_why_without_the_password() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TlsServer::start());
    let url = format!(
        "postgres://{}:{}@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        server.admin,
        server.admin_password,
        server.port,
        pgusers::domain::percent_encode(&server.pki.other_ca().display().to_string())
    );
    let cli = crate::helpers::pgusers_binary()
        .env("DATABASE_URL", &url)
        .env("PGUSERS_DATA_DIR", server.pki.client_dir.path())
        .args(["database-users-list"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert_eq!(cli.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown CA"), "{stderr}");
    assert!(!stderr.contains(&server.admin_password), "{stderr}");
    drop(server);
}
