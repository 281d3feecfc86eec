//! Shared test parts: one real PostgreSQL cluster for the whole test binary,
//! started by pgusers' own embedded module, with `log_statement = all`; each
//! test gets its own database, protected user and role names.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use pgusers::config::{Dashboard, Secret, Settings, Span};
use pgusers::domain::{DatabaseId, NewPassword, Password, Username};
use pgusers::domain::{OperatorName, OperatorPassword, TrustedProxies};
use pgusers::embedded::{Cluster, ClusterOptions};
use pgusers::notice::Announce;
use pgusers::registry::{ManagedDatabase, Registry};
use pgusers::roles::{Access, RoleManager, provision_database};
use pgusers::serve::{Application, ApplicationBuilder};
use pgusers::state::{Action, LoginPolicy, StateSettings, StateStore};
use pgusers::web::{self, FormIds, RequestLimits, SessionPolicy};
use rand::RngExt;
use tokio_postgres::{Client, Config, NoTls};

pub struct TestCluster {
    cluster: Mutex<Cluster>,
    root: PathBuf,
}

static CLUSTER: OnceLock<TestCluster> = OnceLock::new();

extern "C" fn stop_cluster_at_exit() {
    if let Some(test_cluster) = CLUSTER.get() {
        if let Ok(mut cluster) = test_cluster.cluster.lock() {
            let _ = cluster.stop();
        }
        remove_in_background(&test_cluster.root);
    }
}

/// Removes `dir` without waiting: after a whole suite the shared cluster
/// holds hundreds of databases, hundreds of thousands of files, whose
/// removal took over a minute that nothing needs to wait for. `rm` runs
/// detached, its output nowhere, so it holds no pipe of the caller's open.
fn remove_in_background(dir: &std::path::Path) {
    let detached = std::process::Command::new("rm")
        .arg("-rf")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if detached.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Where the tests' clusters live: `PGUSERS_TEST_TMPDIR` when set, else
/// `/dev/shm` when it is a writable directory (a tmpfs on Linux) with room
/// for a whole run, in it and in memory (a suite leaves about 4 GiB; a
/// container's is often 64 MiB), else the system's temporary directory.
/// Every test copies a database, about a thousand files; on ext4 the
/// kernel's search for a free inode among the recently deleted ones took a
/// fifth of a matrix run (`perf record -a`). The clusters run without
/// fsync and are thrown away: memory is where they belong. Forsaken
/// clusters are removed from every place first, so that leftovers in
/// `/dev/shm` do not keep the next runs out of it, and themselves in.
fn scratch_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        const ROOM: u64 = 8 << 30;
        let chosen = std::env::var_os("PGUSERS_TEST_TMPDIR").map(PathBuf::from);
        let shm = PathBuf::from("/dev/shm");
        for place in [
            chosen.clone(),
            Some(shm.clone()),
            Some(std::env::temp_dir()),
        ]
        .into_iter()
        .flatten()
        {
            remove_forsaken_clusters(&place);
        }
        chosen.unwrap_or_else(|| {
            let roomy = nix::sys::statvfs::statvfs(&shm)
                .is_ok_and(|fs| fs.blocks_available() * fs.fragment_size() >= ROOM);
            let memory = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|info| {
                    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
                    line.split_whitespace().nth(1)?.parse::<u64>().ok()
                })
                .is_some_and(|kib| kib << 10 >= ROOM);
            let writable = tempfile::tempdir_in(&shm).is_ok();
            if roomy && memory && writable {
                shm
            } else {
                std::env::temp_dir()
            }
        })
    })
    .clone()
}

/// Clusters that runs stopped by force left behind (an interrupted `cargo
/// test` never reaches `atexit`, a failed test never stops its own): their
/// directories, and their servers still running, would hold memory until
/// the next reboot. A directory is forsaken when it is a directory of ours
/// (not a link; owned by this user; its `pg` and `pg/data` directories,
/// not links), over an hour old, and no process holds its cluster's in-use
/// lock (every test process that uses a cluster holds it; a lock that
/// cannot be opened counts as held). Its server, found by its working
/// directory (never by a possibly reused PID alone), is stopped at once;
/// then the directory is removed, at once on a tmpfs (whose space the
/// choice of place then sees), else in the background.
fn remove_forsaken_clusters(root: &std::path::Path) {
    use nix::fcntl::{Flock, FlockArg};
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let euid = nix::unistd::geteuid().as_raw();
    let real_dir = |path: &std::path::Path| {
        std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_dir())
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with("pgusers-test-"))
            && std::fs::symlink_metadata(&dir)
                .is_ok_and(|meta| meta.file_type().is_dir() && meta.uid() == euid)
            && real_dir(&dir.join("pg"))
            && real_dir(&dir.join("pg/data"));
        let old = std::fs::symlink_metadata(&dir)
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        if !ours || !old {
            continue;
        }
        let unused = match std::fs::File::open(dir.join("pg/in-use.lock")) {
            Ok(file) => Flock::lock(file, FlockArg::LockExclusiveNonblock).is_ok(),
            Err(error) => error.kind() == std::io::ErrorKind::NotFound,
        };
        if !unused {
            continue;
        }
        let data = dir.join("pg/data");
        let server = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|pid_file| pid_file.lines().next()?.trim().parse::<i32>().ok());
        if let Some(pid) = server {
            let serves_it = std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| data.canonicalize().is_ok_and(|data| cwd == data));
            if serves_it {
                // SIGQUIT: PostgreSQL's immediate shutdown.
                // SAFETY: kill(2) with a PID and a signal number; no memory involved.
                unsafe { libc::kill(pid, libc::SIGQUIT) };
            }
        }
        if root == std::path::Path::new("/dev/shm") {
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            remove_in_background(&dir);
        }
    }
}

/// A new cluster in its own directory, reachable by the `postgres` system
/// user when the tests run as root.
pub fn new_cluster(options: &ClusterOptions) -> (Cluster, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("pgusers-test-")
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir_in(scratch_root())
        .expect("temporary directory")
        .keep();
    let mut cluster = Cluster::open(&dir.join("pg"), options).expect("initdb");
    cluster.start().expect("cluster starts");
    (cluster, dir)
}

/// The shared cluster, started on first use and stopped when the test binary exits.
pub fn cluster() -> &'static TestCluster {
    CLUSTER.get_or_init(|| {
        let (cluster, root) = new_cluster(&ClusterOptions {
            log_statements: true,
            ephemeral: true,
        });
        // SAFETY: registering a plain extern "C" function with atexit.
        unsafe { libc::atexit(stop_cluster_at_exit) };
        TestCluster {
            cluster: Mutex::new(cluster),
            root,
        }
    })
}

impl TestCluster {
    pub fn admin_config(&self, dbname: &str) -> Config {
        self.cluster
            .lock()
            .expect("cluster lock")
            .admin_config(dbname)
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        let path = self.cluster.lock().expect("cluster lock").log_file();
        std::fs::read_to_string(path).expect("server log")
    }
}

/// Where a request for `page` without a live session is sent: the login
/// page, which leads back there.
pub fn login_for(page: &str) -> String {
    match page {
        "/" => "/login".to_owned(),
        page => format!("/login?next={}", pgusers::domain::percent_encode(page)),
    }
}

/// A fresh lowercase name that passes the username rules: `prefix_xxxxxxxxxx`.
pub fn unique_name(prefix: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..10)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect();
    format!("{prefix}_{suffix}")
}

pub fn username(prefix: &str) -> Username {
    Username::parse(&unique_name(prefix)).expect("valid test username")
}

pub fn password() -> Password {
    Password::generate()
}

/// A database provisioned like a new managed one, and a role manager on it.
/// Its name and its protected user's differ, so tests notice a mix-up.
pub struct TestDb {
    pub name: String,
    pub protected: String,
    pub protected_password: Password,
    pub roles: RoleManager,
    /// How `roles` connects: as the superuser, or as the master role of a
    /// managed service (see [`admin_kind`]), to this database.
    roles_config: Config,
    /// The superuser's connection to the server's `postgres` database.
    server: Config,
}

/// The kind of administrator role the role module runs as in these tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminKind {
    /// `DATABASE_URL` names a superuser (the default).
    Superuser,
    /// A managed service's master role: `LOGIN CREATEROLE CREATEDB`, not a
    /// superuser (`PGUSERS_TEST_ADMIN=createrole`).
    CreateRole,
}

/// Which kind of administrator the tests run the role module as, from
/// `PGUSERS_TEST_ADMIN` (`superuser`, the default, or `createrole`).
pub fn admin_kind() -> AdminKind {
    match std::env::var("PGUSERS_TEST_ADMIN").as_deref() {
        Ok("createrole") => AdminKind::CreateRole,
        Ok("superuser") | Ok("") | Err(_) => AdminKind::Superuser,
        Ok(other) => panic!("PGUSERS_TEST_ADMIN is {other:?}: use superuser or createrole"),
    }
}

/// A new database on the shared cluster.
pub async fn test_db() -> TestDb {
    test_db_on(cluster().admin_config("postgres")).await
}

/// A database on a cluster of its own, for tests that time a change.
/// pgusers makes one change at a time per administrator on a server (its
/// change lock): on the shared cluster, where the superuser-kind tests
/// share one administrator, the time would include other tests' changes.
pub async fn test_db_alone() -> (OwnCluster, TestDb) {
    let cluster = OwnCluster::start().await;
    let db = test_db_on(cluster.server()).await;
    (cluster, db)
}

/// A new database on the server `server` (a superuser's connection)
/// connects to, provisioned by the kind of administrator [`admin_kind`] says.
pub async fn test_db_on(server: Config) -> TestDb {
    let name = unique_name("db");
    let protected = username("owner");
    let protected_password = password();
    let mut roles_config = match admin_kind() {
        AdminKind::Superuser => {
            provision_database(&server, &name, &protected, &protected_password)
                .await
                .expect("provisioning");
            server.clone()
        }
        AdminKind::CreateRole => {
            provision_as_master(&server, &name, &protected, &protected_password).await
        }
    };
    roles_config.dbname(&name);
    let roles = RoleManager::new(roles_config.clone(), 4, None);
    TestDb {
        name,
        protected: protected.to_string(),
        protected_password,
        roles,
        roles_config,
        server,
    }
}

/// Provisions `database` the way a managed service's customer does: the
/// service (the superuser) makes a master role `LOGIN CREATEROLE CREATEDB`;
/// the master creates the database and the protected user, and makes that
/// user the database's owner. Returns the master's connection settings.
async fn provision_as_master(
    server: &Config,
    database: &str,
    protected: &Username,
    protected_password: &Password,
) -> Config {
    let master = unique_name("master");
    let master_password = password();
    let superuser = pgusers::db::connect(server)
        .await
        .expect("superuser connects");
    superuser
        .batch_execute(&format!(
            "CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD {}",
            ident(&master),
            verifier_literal(&master_password)
        ))
        .await
        .expect("the service makes the master role");
    let mut master_config = server.clone();
    master_config
        .user(&master)
        .password(master_password.expose())
        .dbname("postgres");
    let as_master = pgusers::db::connect(&master_config)
        .await
        .expect("the master logs in");
    let version = server_version_num(&as_master).await;
    let raw_database = database;
    let (protected, database) = (ident(protected.as_str()), ident(database));
    as_master
        .batch_execute(&format!(
            "CREATE ROLE {protected} LOGIN PASSWORD {};",
            verifier_literal(protected_password)
        ))
        .await
        .expect("the master makes the protected user");
    as_master
        .batch_execute(&format!("CREATE DATABASE {database}{}", fast_copy(version)))
        .await
        .expect("the master makes the database");
    // To give the database away, the master must be able to SET ROLE to
    // the new owner: on 16+ it holds only ADMIN OPTION on what it made.
    let membership = if version >= 160_000 {
        format!("GRANT {protected} TO {} WITH SET TRUE", ident(&master))
    } else {
        format!("GRANT {protected} TO {}", ident(&master))
    };
    as_master
        .batch_execute(&format!(
            "{membership}; ALTER DATABASE {database} OWNER TO {protected}"
        ))
        .await
        .expect("the master gives the database to the protected user");
    if version < 150_000 {
        // Before 15, `public` belongs to the bootstrap superuser and PUBLIC
        // may create in it; only that owner can take CREATE back or let the
        // master grant it. The service does both, as the role module's
        // refusals ask.
        let mut in_database = server.clone();
        in_database.dbname(raw_database);
        pgusers::db::connect(&in_database)
            .await
            .expect("superuser connects to the new database")
            .batch_execute(&format!(
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC;
                 GRANT CREATE, USAGE ON SCHEMA public TO {} WITH GRANT OPTION;",
                ident(&master)
            ))
            .await
            .expect("the schema's owner revokes CREATE from PUBLIC");
    }
    // The guide's grants to the default user, by the master.
    let mut master_in_database = master_config.clone();
    master_in_database.dbname(raw_database);
    pgusers::db::connect(&master_in_database)
        .await
        .expect("the master connects to the new database")
        .batch_execute(&format!(
            "GRANT CREATE ON SCHEMA public TO {protected};
             GRANT ALL PRIVILEGES ON DATABASE {database} TO {protected};"
        ))
        .await
        .expect("the master grants the default user the guide's privileges");
    master_config
}

/// `current_setting('server_version_num')` of the server `client` is on.
pub async fn server_version_num(client: &Client) -> i32 {
    client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .expect("server version")
        .get(0)
}

/// A quoted identifier.
pub fn ident(name: &str) -> String {
    postgres_protocol::escape::escape_identifier(name)
}

/// A quoted string literal.
pub fn literal(text: &str) -> String {
    postgres_protocol::escape::escape_literal(text)
}

/// A SCRAM verifier of `password`, as an SQL literal: what `PASSWORD`
/// takes so no plaintext reaches the server.
pub fn verifier_literal(password: &Password) -> String {
    postgres_protocol::escape::escape_literal(&postgres_protocol::password::scram_sha_256(
        password.expose().as_bytes(),
    ))
}

/// A new cluster that goes away with its directory: the cluster and its root.
pub async fn ephemeral_cluster() -> (Cluster, PathBuf) {
    tokio::task::spawn_blocking(|| {
        new_cluster(&ClusterOptions {
            ephemeral: true,
            ..ClusterOptions::default()
        })
    })
    .await
    .expect("cluster thread")
}

/// A cluster of the test's own with a dashboard on it (operator password
/// `operator-password`), for tests that stop PostgreSQL under a running
/// dashboard: the cluster, its root directory and the dashboard's address.
pub async fn dashboard_on_own_cluster() -> (Cluster, PathBuf, String) {
    let (cluster, root) = ephemeral_cluster().await;
    let roles = RoleManager::new(cluster.admin_config("postgres"), 2, None);
    let state = StateStore::new(StateSettings {
        config: cluster.admin_config("pgusers").into(),
        create_with: Some(cluster.admin_config("postgres").into()),
        admin_password: Some(OperatorPassword::parse("operator-password").unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    });
    let address = dashboard()
        .serve_one("postgres", roles, state)
        .await
        .address;
    (cluster, root, address)
}

/// A cluster of a test's own, for tests that must see every role of the
/// server (roles are server-wide). Stopped and removed when dropped.
pub struct OwnCluster {
    cluster: Option<Cluster>,
    root: PathBuf,
}

impl OwnCluster {
    pub async fn start() -> Self {
        let (cluster, root) = ephemeral_cluster().await;
        Self {
            cluster: Some(cluster),
            root,
        }
    }

    pub fn server(&self) -> Config {
        self.cluster
            .as_ref()
            .expect("running")
            .admin_config("postgres")
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.cluster.as_ref().expect("running").data_dir()
    }

    /// Stops the server now (as an outage would), keeping its files until
    /// dropped.
    pub async fn stop(&mut self) {
        if let Some(mut cluster) = self.cluster.take() {
            tokio::task::spawn_blocking(move || cluster.stop().expect("the cluster stops"))
                .await
                .unwrap();
        }
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Some(mut cluster) = self.cluster.take() {
            let _ = cluster.stop();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl TestDb {
    /// Creates a user with a chosen password through the role module.
    pub async fn create_user(&self, prefix: &str, access: Access) -> (Username, Password) {
        let name = username(prefix);
        let secret = password();
        self.roles
            .create(&name, NewPassword::Chosen(secret.clone()), access)
            .await
            .expect("the user is created");
        (name, secret)
    }

    /// Runs `during` while a delete of read-write user `user` (whose
    /// password is `password`) runs: the delete has locked the user out and
    /// waits for a table of the user's that another session holds, until
    /// `during` is done. Returns the delete's result and `during`'s.
    pub async fn while_deleting<T>(
        &self,
        user: &Username,
        password: &Password,
        during: impl std::future::Future<Output = T>,
    ) -> (Result<(), pgusers::roles::RoleError>, T) {
        let table = unique_name("held");
        self.run_as(
            user,
            password,
            &format!("CREATE TABLE {} (v int)", ident(&table)),
        )
        .await;
        let holder = self.admin().await;
        holder
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
                ident(&table)
            ))
            .await
            .unwrap();
        let target = pgusers::domain::RoleName::from(user.clone());
        let meanwhile = async {
            let observer = self.admin().await;
            let started = std::time::Instant::now();
            loop {
                let limit: i32 = observer
                    .query_one(
                        "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1",
                        &[&user.as_str()],
                    )
                    .await
                    .unwrap()
                    .get(0);
                if limit == 0 {
                    break;
                }
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(10),
                    "the delete locks the user out"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let done = during.await;
            holder.batch_execute("ROLLBACK").await.unwrap();
            done
        };
        tokio::join!(self.roles.delete(&target), meanwhile)
    }

    /// Logs in as `user` with `password` over TCP, as an application would.
    pub async fn connect_as(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Client, tokio_postgres::Error> {
        self.connect_to(&self.name, user, password).await
    }

    /// A session of `user`, logged in with `password` over TCP.
    pub async fn logged_in(&self, user: &Username, password: &Password) -> Client {
        self.connect_as(user.as_str(), password.expose())
            .await
            .unwrap_or_else(|e| panic!("{user} logs in: {e:?}"))
    }

    /// Logs in as `user` and runs `sql`, as that user's application would.
    pub async fn run_as(&self, user: &Username, password: &Password, sql: &str) {
        let client = self
            .connect_as(user.as_str(), password.expose())
            .await
            .expect("the user logs in");
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{user} runs its SQL: {e:?}"));
    }

    /// Logs in as `user` with libpq's `psql` over TCP and runs `sql`; its
    /// standard output, or why it failed. The password goes by the
    /// environment, as `PGPASSWORD`, never on the command line.
    pub fn psql_as(&self, user: &str, password: &str, sql: &str) -> Result<String, String> {
        let output = std::process::Command::new(psql())
            .args(["-X", "-w", "-At", "-h", "127.0.0.1"])
            .args(["-p", &self.server.get_ports()[0].to_string()])
            .args(["-U", user, "-d", &self.name, "-c", sql])
            .env("PGPASSWORD", password)
            .env_remove("PGSERVICE")
            .output()
            .expect("psql runs");
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// How an application logs in as `user` over TCP, to this database.
    pub fn login_config(&self, user: &str, password: &str) -> Config {
        let mut config = Config::new();
        config
            .host("127.0.0.1")
            .port(self.server.get_ports()[0])
            .user(user)
            .password(password)
            .dbname(&self.name);
        config
    }

    /// Logs in to another `database` of the same server over TCP.
    pub async fn connect_to(
        &self,
        database: &str,
        user: &str,
        password: &str,
    ) -> Result<Client, tokio_postgres::Error> {
        let mut config = self.login_config(user, password);
        config.dbname(database);
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }

    /// How the role module connects to this database: as the superuser,
    /// or as the master role ([`admin_kind`]).
    pub fn roles_config(&self) -> Config {
        self.roles_config.clone()
    }

    /// A connection string, as the administrator in use, for a state
    /// database of this test's own (which nothing creates).
    pub fn state_url(&self) -> String {
        let mut config = self.roles_config.clone();
        config.dbname(format!("{}_state", self.name));
        conninfo(&config)
    }

    /// Makes schema `public` as it was before PostgreSQL 15: it belongs to
    /// the bootstrap superuser and PUBLIC may create in it. Only that owner
    /// (not a CREATEROLE administrator) can take this back.
    pub async fn open_public_schema_to_everyone(&self) {
        self.admin()
            .await
            .batch_execute(
                "ALTER SCHEMA public OWNER TO postgres; GRANT CREATE ON SCHEMA public TO PUBLIC;",
            )
            .await
            .expect("the superuser opens public");
    }

    /// The DATABASE_URL a person would give pgusers for this database: the
    /// administrator in use, password included.
    pub fn database_url(&self) -> String {
        conninfo(&self.roles_config)
    }

    /// The name of the role the role module connects as.
    pub fn admin_in_use(&self) -> String {
        self.roles_config.get_user().expect("a user").to_owned()
    }

    /// The shared lock's role of the administrator pgusers connects as
    /// (its name locks' roles are named after it).
    pub async fn shared_lock_role(&self) -> String {
        self.as_admin_in_use()
            .await
            .query_one(
                "SELECT 'pgusers-lock-' || oid::text FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .expect("the administrator's oid")
            .get(0)
    }

    /// The role the role module connects as, in this test's database:
    /// for doing something "by hand, as the administrator" (not through
    /// pgusers).
    pub async fn as_admin_in_use(&self) -> Client {
        pgusers::db::connect(&self.roles_config)
            .await
            .expect("the administrator in use connects")
    }

    /// Makes a login role by hand, as the administrator in use would
    /// outside pgusers, with `password` and `extra` role options.
    pub async fn make_role_as_admin(&self, name: &str, password: &Password, extra: &str) {
        self.as_admin_in_use()
            .await
            .batch_execute(&format!(
                "CREATE ROLE {} LOGIN {extra} PASSWORD {}",
                ident(name),
                verifier_literal(password)
            ))
            .await
            .unwrap_or_else(|e| panic!("the administrator makes {name}: {e:?}"));
    }

    /// Makes a new login role a member of `user`, by hand as the
    /// administrator in use, with membership `options` (`" WITH SET
    /// FALSE"`, or empty); the member's name.
    pub async fn make_member_of(&self, user: &str, options: &str) -> String {
        let member = unique_name("member");
        self.make_role_as_admin(&member, &password(), "").await;
        self.as_admin_in_use()
            .await
            .batch_execute(&format!(
                "GRANT {} TO {}{options}",
                ident(user),
                ident(&member)
            ))
            .await
            .expect("the administrator grants the membership");
        member
    }

    /// The server's `server_version_num`.
    pub async fn version_num(&self) -> i32 {
        server_version_num(&self.admin().await).await
    }

    /// The superuser's connection settings for this database.
    pub fn admin_config(&self) -> Config {
        let mut config = self.server.clone();
        config.dbname(&self.name);
        config
    }

    pub async fn connect_as_protected(&self) -> Client {
        self.connect_as(&self.protected, self.protected_password.expose())
            .await
            .expect("the protected user logs in")
    }

    /// Who owns `table` in this database, by the catalog.
    pub async fn table_owner(&self, table: &str) -> String {
        self.admin()
            .await
            .query_one(
                "SELECT tableowner::text FROM pg_tables WHERE tablename = $1",
                &[&table],
            )
            .await
            .expect("the table exists")
            .get(0)
    }

    /// A count from this database, asked as the superuser.
    pub async fn count(&self, sql: &str) -> i64 {
        self.admin()
            .await
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .get(0)
    }

    /// Returns once some session waits, in this database or on a shared
    /// object such as a role (`database` 0), for a lock that `lock` (a
    /// condition on `pg_locks`) describes: how a test knows that a change
    /// has reached the step it holds up, however loaded the machine,
    /// instead of guessing a time. Panics after 30 s.
    pub async fn until_waiting_for(&self, lock: &str) {
        let admin = self.admin().await;
        let sql = format!(
            "SELECT EXISTS (SELECT FROM pg_locks
                             WHERE NOT granted
                               AND database IN (0, (SELECT oid FROM pg_database
                                                     WHERE datname = current_database()))
                               AND {lock})"
        );
        let started = std::time::Instant::now();
        loop {
            let waiting: bool = admin
                .query_one(&sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
                .get(0);
            if waiting {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "no session waited for a lock where {lock} within 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Returns once a delete has locked user `name` out (its connection
    /// limit is 0): from then on the delete holds it, so a test acts
    /// during the delete, not before it. Panics after 20 s.
    pub async fn until_locked_out(&self, name: &str) {
        let started = std::time::Instant::now();
        while self.listed(name).await.connection_limit != Some(0) {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{name} was not locked out within 20 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The listed user of that name, as the role module lists it.
    /// (The listing narrowed to that name, as the dashboard's user pages
    /// read it: the whole list reasons about every login role of the
    /// server, and the shared cluster holds a thousand, for 0.1-0.4 s a
    /// call where a test may poll.)
    pub async fn listed(&self, name: &str) -> pgusers::roles::DatabaseUser {
        let role = pgusers::domain::RoleName::parse(name).expect("a role name");
        self.roles
            .find(&role)
            .await
            .unwrap_or_else(|e| panic!("{name} is listed: {e}"))
    }

    /// Whether a role of that name exists on the server.
    pub async fn role_exists(&self, name: &str) -> bool {
        self.admin()
            .await
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
            .await
            .expect("catalog query")
            .is_some()
    }

    /// The superuser, in this test's database.
    pub async fn admin(&self) -> Client {
        pgusers::db::connect(&self.admin_config())
            .await
            .expect("admin connects")
    }
}

/// A role like a managed service's "master" role: `LOGIN CREATEROLE`, not
/// a superuser, logging in with a password over TCP (the cluster trusts
/// only its superuser on the socket), with `extra` role options. Its name
/// and connection settings.
pub async fn createrole_admin(db: &TestDb, extra: &str) -> (String, Config) {
    let name = unique_name("master");
    let secret = password();
    let verifier = postgres_protocol::password::scram_sha_256(secret.expose().as_bytes());
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {} LOGIN CREATEROLE {extra} PASSWORD {}",
            postgres_protocol::escape::escape_identifier(&name),
            postgres_protocol::escape::escape_literal(&verifier)
        ))
        .await
        .expect("the master role is made");
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(cluster().admin_config("postgres").get_ports()[0])
        .user(&name)
        .password(secret.expose())
        .dbname(&db.name);
    (name, config)
}

/// The `pgusers` binary with none of the settings of the environment the
/// tests run in, so each test gives its own; but with the server programs
/// (`PGUSERS_PG_BINDIR`) the run chose, so clusters it makes are the major
/// under test.
pub fn pgusers_binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pgusers"));
    for (key, _) in std::env::vars() {
        let setting = key.starts_with("PGUSERS_") && key != "PGUSERS_PG_BINDIR";
        if setting || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command
}

/// A `key=value` connection string for `config` (Unix-socket host, port,
/// user, database, and its password if it has one), as DATABASE_URL takes it.
pub fn conninfo(config: &Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .find_map(|host| match host {
            tokio_postgres::config::Host::Unix(path) => Some(path.display().to_string()),
            _ => None,
        })
        .expect("a Unix-socket host");
    let mut url = format!(
        "host={host} port={} user={} dbname={}",
        config.get_ports()[0],
        config.get_user().expect("a user"),
        config.get_dbname().expect("a database")
    );
    if let Some(password) = config.get_password() {
        let password = std::str::from_utf8(password).expect("a UTF-8 password");
        url.push_str(&format!(
            " password='{}'",
            password.replace('\\', "\\\\").replace('\'', "\\'")
        ));
    }
    url
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate<T: std::fmt::Debug>(result: Result<T, tokio_postgres::Error>) -> String {
    result
        .expect_err("the statement should fail")
        .code()
        .map(|code| code.code().to_owned())
        .unwrap_or_else(|| "no SQLSTATE".into())
}

/// The real dashboard on a random port, over the test's own database and
/// its own state database.
pub struct TestApp {
    pub browser: Browser,
    pub db: TestDb,
    pub operator_password: String,
    /// The name of the dashboard's state database (on the shared cluster).
    pub state_db: String,
    /// The key the dashboard signs form ids with.
    pub form_ids: FormIds,
    /// The key that signs and encrypts its session cookies.
    pub session_key: Vec<u8>,
}

impl TestApp {
    /// A superuser connection to the dashboard's state database.
    pub async fn state_admin(&self) -> Client {
        pgusers::db::connect(&cluster().admin_config(&self.state_db))
            .await
            .expect("state database")
    }

    /// The state store itself, as a second dashboard process would have it.
    pub fn state_store(&self) -> StateStore {
        StateStore::new(StateSettings {
            config: cluster().admin_config(&self.state_db).into(),
            create_with: None,
            admin_password: None,
            announce: Announce::Stdout,
            bootstrap_operator: true,
        })
    }
}

impl std::ops::Deref for TestApp {
    type Target = Browser;
    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// A person's browser on one dashboard: it keeps cookies and does not
/// follow redirects, so tests see them.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
    /// The ID of the database whose pages [`Browser::users`] names.
    pub database: String,
}

impl Browser {
    /// A new browser (no cookies yet) on the dashboard at `address`, about
    /// database `database`.
    pub fn on(address: String, database: &str) -> Self {
        Self {
            address,
            client: http_client(),
            database: database.to_owned(),
        }
    }

    /// The database's pages: `/databases/{id}` then `rest`.
    pub fn database_page(&self, rest: &str) -> String {
        format!("/databases/{}{rest}", self.database)
    }

    /// The database's users pages: Settings › Database Users, then `rest`.
    pub fn users(&self, rest: &str) -> String {
        self.database_page(&format!("/settings/database-users{rest}"))
    }
}

/// Login rules that lock an address out after four failures, without
/// slowing anything down, so tests reach the lockout quickly.
pub fn quick_lockout() -> LoginPolicy {
    LoginPolicy {
        slow_after: 2,
        lock_after: 4,
        first_delay: std::time::Duration::ZERO,
        max_delay: std::time::Duration::ZERO,
        ..LoginPolicy::default()
    }
}

/// A new API token of `operator` (who must exist) in `state`.
pub async fn token_of(
    state: &StateStore,
    operator: &str,
    read_only: bool,
) -> (pgusers::state::TokenInfo, pgusers::domain::ApiToken) {
    state
        .create_token(
            &OperatorName::parse(operator).expect("an operator name"),
            &pgusers::domain::TokenLabel::default(),
            read_only,
        )
        .await
        .expect("a token")
}

/// Drops what `user` made in database `postgres`, which every test
/// shares (a test's role that made itself a user of another database).
pub async fn drop_owned_in_postgres(user: &str) {
    let (client, connection) = cluster()
        .admin_config("postgres")
        .connect(NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP OWNED BY {}", ident(user)))
        .await
        .unwrap();
}

/// How a test's database is copied from its template: file by file on
/// PostgreSQL 15 and later, whose default (WAL_LOG) writes the copy
/// through the WAL as well. Without fsync, as the tests' clusters run,
/// copying the files took half the time. (14 copies files always.)
fn fast_copy(server_version_num: i32) -> &'static str {
    if server_version_num >= 150_000 {
        " STRATEGY = FILE_COPY"
    } else {
        ""
    }
}

/// The password of operator `admin` in every test's state database.
const OPERATOR_PASSWORD: &str = "the-tests-operator-password";

/// A state database migrated and holding operator `admin`, made once per
/// test binary; each test's state database is a copy of it (`CREATE
/// DATABASE … TEMPLATE`), not migrated and given an operator again.
fn state_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = unique_name("state_template");
        let made = name.clone();
        // On a runtime of its own, so that its connections are closed once
        // it is made: nobody may be connected to a database being copied.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let cluster = cluster();
                StateStore::new(StateSettings {
                    config: cluster.admin_config(&made).into(),
                    create_with: Some(cluster.admin_config("postgres").into()),
                    admin_password: Some(OperatorPassword::parse(OPERATOR_PASSWORD).unwrap()),
                    announce: Announce::Stdout,
                    bootstrap_operator: true,
                })
                .ensure_ready()
                .await
                .expect("the state database template is set up");
            });
        })
        .join()
        .expect("the state database template is made");
        name
    })
}

/// A state database of `db`'s own, set up, with operator `admin`: the
/// store, the database's name and the operator's password.
pub async fn state_of(db: &TestDb) -> (StateStore, String, String) {
    let cluster = cluster();
    let state_db = format!("{}_state", db.name);
    let template = state_template();
    let (admin, connection) = cluster
        .admin_config("postgres")
        .connect(NoTls)
        .await
        .expect("the cluster's administrator connects");
    tokio::spawn(connection);
    let version = server_version_num(&admin).await;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}{}",
            ident(&state_db),
            ident(template),
            fast_copy(version)
        ))
        .await
        .expect("the state database is copied");
    let state = StateStore::new(StateSettings {
        config: cluster.admin_config(&state_db).into(),
        create_with: Some(cluster.admin_config("postgres").into()),
        admin_password: Some(OperatorPassword::parse(OPERATOR_PASSWORD).unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    });
    state
        .ensure_ready()
        .await
        .expect("the state database is set up");
    (state, state_db, OPERATOR_PASSWORD.to_owned())
}

/// What a test may change of the dashboard: the settings `serve` takes
/// for sessions and proxies, and the login rules and request limits
/// [`Application::builder`] takes.
#[derive(Default)]
pub struct Tuning {
    pub sessions: SessionPolicy,
    pub logins: LoginPolicy,
    pub limits: RequestLimits,
    pub trusted_proxies: TrustedProxies,
}

/// A random session key, as `PGUSERS_SESSION_KEY` takes it.
fn new_session_key() -> String {
    let mut rng = rand::rng();
    (0..web::SESSION_KEY_LEN)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

/// The settings `serve` gets from its flags and environment, for a
/// dashboard on a free loopback port with session key `key`, tuned.
fn serve_settings(tuning: &Tuning, key: &str) -> Settings {
    Settings {
        database: None,
        config: None,
        database_url: None,
        protected_user: None,
        public_host: None,
        client_sslmode: None,
        data_dir: None,
        // The flag's default.
        audit_retention: "90d".parse().expect("a duration"),
        state_url: None,
        dashboard: Dashboard {
            listen: "127.0.0.1:0".to_owned(),
            session_key: Some(secret(key)),
            session_idle: Span(tuning.sessions.idle),
            session_lifetime: Span(tuning.sessions.lifetime),
            trusted_proxies: Some(tuning.trusted_proxies.clone()),
            ..Dashboard::default()
        },
    }
}

fn secret(text: &str) -> Secret {
    text.parse().expect("any text is a secret")
}

/// Builds the dashboard as `main` does, starts serving it, and gives a
/// browser on database `database`'s pages.
async fn start(builder: ApplicationBuilder, tuning: Tuning, database: &str) -> Browser {
    let app = builder
        .logins(tuning.logins)
        .limits(tuning.limits)
        .build()
        .await
        .expect("the dashboard starts");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    Browser::on(address, database)
}

/// How a test gets a dashboard, the one way: `serve` as `main` builds
/// it, with what the test changes ([`Tuning`]). `dashboard().start()` serves a
/// database of its own (given `DATABASE_URL` and `PGUSERS_STATE_URL`, as
/// an operator would); `.on(db)` serves `db` instead; `.serve(…)` and
/// `.serve_one(…)` serve role managers and a state store of the test's
/// making.
pub fn dashboard() -> AppBuilder {
    AppBuilder {
        tuning: Tuning::default(),
        db: None,
    }
}

pub struct AppBuilder {
    tuning: Tuning,
    db: Option<TestDb>,
}

impl AppBuilder {
    /// How long login sessions last.
    pub fn sessions(mut self, sessions: SessionPolicy) -> Self {
        self.tuning.sessions = sessions;
        self
    }

    /// When failed logins slow down and lock out.
    pub fn logins(mut self, logins: LoginPolicy) -> Self {
        self.tuning.logins = logins;
        self
    }

    /// Any of the settings, changed by `tune`.
    pub fn tune(mut self, tune: impl FnOnce(&mut Tuning)) -> Self {
        tune(&mut self.tuning);
        self
    }

    /// Serves `db` (a database of a server of the test's own, say)
    /// instead of a new database of the shared cluster.
    pub fn on(mut self, db: TestDb) -> Self {
        self.db = Some(db);
        self
    }

    /// The dashboard `serve` runs over the database, with a state database
    /// of its own, and a browser on its pages.
    pub async fn start(self) -> TestApp {
        let db = match self.db {
            Some(db) => db,
            None => test_db().await,
        };
        let tuning = self.tuning;
        let (_, state_db, operator_password) = state_of(&db).await;
        let key = new_session_key();
        let mut settings = serve_settings(&tuning, &key);
        settings.database_url = Some(secret(&conninfo(&db.roles_config())));
        settings.state_url = Some(secret(&conninfo(&cluster().admin_config(&state_db))));
        settings.dashboard.admin_password = Some(secret(&operator_password));
        let browser = start(Application::builder(settings), tuning, &db.name).await;
        TestApp {
            browser,
            db,
            operator_password,
            state_db,
            form_ids: FormIds::new(key.as_bytes()),
            session_key: key.as_bytes().to_vec(),
        }
    }

    /// The dashboard over `databases` and `state`, and a browser on the
    /// first database's pages.
    pub async fn serve(self, databases: Registry, state: StateStore) -> Browser {
        let first = databases.all()[0].id.to_string();
        let settings = serve_settings(&self.tuning, &new_session_key());
        start(
            Application::builder(settings).parts(databases, state),
            self.tuning,
            &first,
        )
        .await
    }

    /// The dashboard over one database, ID `id`, managed by `roles`.
    pub async fn serve_one(self, id: &str, roles: RoleManager, state: StateStore) -> Browser {
        let databases = Registry::new(vec![ManagedDatabase {
            id: DatabaseId::parse(id).expect("a database ID"),
            name: id.to_owned(),
            roles,
        }]);
        self.serve(databases, state).await
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// A page's CSRF token, read from its hidden field.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_owned()
}

/// A page's single-use form id, read from its hidden field, if it has one.
pub fn form_id(html: &str) -> Option<String> {
    let marker = "name=\"form_id\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_owned())
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub cache_control: Option<String>,
    pub body: String,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET");
        page(response).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.address))
            .form(form)
            .send()
            .await
            .expect("POST");
        page(response).await
    }

    /// Posts a form with the CSRF token (and the single-use form id, when
    /// it has one) of the page at `form_page`.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let html = self.get(form_page).await.body;
        let token = csrf_token(&html);
        let id = form_id(&html);
        let mut form = vec![("csrf_token", token.as_str())];
        if let Some(id) = &id {
            form.push(("form_id", id.as_str()));
        }
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    /// Sends one login form per name, all at once, with the CSRF token of
    /// this browser's session; their statuses, in the order of `names`.
    pub async fn logins_all_at_once(&self, names: &[String], password: &str) -> Vec<u16> {
        let token = csrf_token(&self.get("/login").await.body);
        let attempts: Vec<_> = names
            .iter()
            .map(|name| {
                let (client, url) = (self.client.clone(), format!("{}/login", self.address));
                let form = [
                    ("csrf_token", token.clone()),
                    ("username", name.clone()),
                    ("password", password.to_owned()),
                ];
                tokio::spawn(async move {
                    client
                        .post(url)
                        .form(&form)
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for attempt in attempts {
            answers.push(attempt.await.expect("the attempt's task"));
        }
        answers
    }

    /// Logs in as `admin` through the login page, returning the answer to
    /// its form; while that page cannot be shown (the state database is
    /// down: 503), that page's answer.
    pub async fn log_in_with(&self, password: &str) -> Page {
        let form = self.get("/login").await;
        if form.status != 200 {
            return form;
        }
        self.submit(
            "/login",
            "/login",
            &[("username", "admin"), ("password", password)],
        )
        .await
    }
}

impl TestApp {
    pub async fn log_in(&self) {
        let page = self.log_in_with(&self.operator_password).await;
        assert_eq!(page.status, 303, "login should succeed: {}", page.body);
    }

    /// A form id the dashboard would accept from the latest login session
    /// for `action` on `user`, for a POST that skips a confirmation page
    /// the dashboard refuses to show.
    pub async fn issued_form_id(&self, action: Action, user: &str) -> String {
        let session_hash: String = self
            .state_admin()
            .await
            .query_one(
                "SELECT id_hash FROM operator_sessions ORDER BY created_at DESC LIMIT 1",
                &[],
            )
            .await
            .expect("someone is logged in")
            .get(0);
        self.form_ids
            .issue(&session_hash, action, &self.db.name, user)
    }
}

pub async fn page(response: reqwest::Response) -> Page {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header("location");
    let cache_control = header("cache-control");
    let status = response.status().as_u16();
    Page {
        status,
        location,
        cache_control,
        body: response.text().await.expect("body"),
    }
}

/// libpq's `psql`: beside the server programs in use, else the newest of
/// Debian's, else on the `PATH`.
pub fn psql() -> PathBuf {
    let beside = pgusers::embedded::Binaries::find()
        .ok()
        .map(|binaries| binaries.program("psql"));
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin/psql"))
        .collect();
    debian.sort_by_key(|path| {
        path.parent()
            .and_then(|bin| bin.parent())
            .and_then(|version| version.file_name())
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
    });
    beside
        .into_iter()
        .chain(debian.into_iter().rev())
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// A floor for the role module's looks that read only what changed since
/// (`sql/since.sql`), right after everything `client` did: a transaction id
/// newer than all of it.
pub async fn floor_now(client: &Client) -> i64 {
    client
        .query_one("SELECT pg_current_xact_id()::text::bigint", &[])
        .await
        .expect("a transaction id")
        .get(0)
}

/// The SQL of the role module's query `name`, as pgusers runs it.
pub fn query_text(name: &str) -> String {
    pgusers::roles::every_query()
        .into_iter()
        .find(|query| query.name == name)
        .unwrap_or_else(|| panic!("no query {name}"))
        .sql
}

/// Floors a look must take for none and read everything from, around
/// `floor`: farther back than 32-bit ages compare (2^31), over a billion
/// transactions back, and ahead of the server (another server's).
pub fn floors_read_whole(floor: i64) -> [i64; 3] {
    [
        floor - (1 << 31) - 10,
        floor - 1_500_000_000,
        floor + 1_000_000,
    ]
}

/// Waits until no transaction older than `floor` is running (up to 30 s),
/// so that a look given `floor` reads only what changed since: one that
/// begins while an older transaction runs (autovacuum's, another test's)
/// takes the floor for one from the future and reads everything.
pub async fn until_floor_passed(client: &Client, floor: i64) {
    for _ in 0..300 {
        let oldest: i64 = client
            .query_one(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                &[],
            )
            .await
            .expect("the oldest transaction running")
            .get(0);
        if oldest >= floor {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("a transaction older than {floor} still runs after 30 s");
}
