use std::fs::{self, File};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{Gid, Uid, User};
use rand::RngExt;

use super::{Binaries, EmbeddedError};

/// The bootstrap superuser of an embedded cluster. It authenticates only over
/// the Unix socket, whose directory only the cluster's owner can enter.
pub const SUPERUSER: &str = "postgres";

#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Log every statement the server runs (`log_statement = all`).
    pub log_statements: bool,
    /// Trade durability for speed: no fsync. For throw-away test clusters only.
    pub ephemeral: bool,
}

/// The system user that owns and runs the cluster, when it is not us.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: Uid,
    gid: Gid,
}

/// A PostgreSQL cluster in a directory of its own.
#[derive(Debug)]
pub struct Cluster {
    root: PathBuf,
    binaries: Binaries,
    owner: Option<Owner>,
    port: u16,
    /// A shared lock on `in-use.lock` while this value uses the server. Every
    /// pgusers process that uses the cluster holds one; the last to leave
    /// stops the server.
    in_use: Option<Flock<File>>,
}

type Result<T> = std::result::Result<T, EmbeddedError>;

impl Cluster {
    /// Opens the cluster under `root`, creating it with `initdb` first when
    /// there is none. Does not start it.
    pub fn open(root: &Path, options: &ClusterOptions) -> Result<Self> {
        let binaries = Binaries::find()?;
        let owner = owner_when_root()?;
        fs::create_dir_all(root)
            .map_err(EmbeddedError::io(format!("creating {}", root.display())))?;
        let root = root
            .canonicalize()
            .map_err(EmbeddedError::io(format!("resolving {}", root.display())))?;
        let cluster = Self {
            root,
            binaries,
            owner,
            port: 0,
            in_use: None,
        };
        cluster.prepare_root()?;
        if !cluster.data_dir().join("PG_VERSION").is_file() {
            cluster.initdb(options)?;
        }
        Ok(cluster)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// The TCP port on 127.0.0.1, once started (the socket file is named after it too).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server, or joins it when another pgusers process (a
    /// dashboard, a CLI command) already runs it.
    pub fn start(&mut self) -> Result<()> {
        if self.in_use.is_none() {
            self.in_use = Some(self.lock(FlockArg::LockShared)?);
        }
        if let Some(port) = self.running_port() {
            self.port = port;
            return Ok(());
        }
        self.port = self.launch(free_port(self.configured_port())?)?;
        Ok(())
    }

    /// Starts the server again after it stopped under this process (see
    /// `supervisor.rs`), on the port this process's connections use; joins
    /// it when another process (a CLI command, a second dashboard) started
    /// it first. Only between `start` and `stop`: holding the shared lock all
    /// along is what keeps any other pgusers process from stopping the
    /// server meanwhile. Returns whether this call started it.
    pub fn restart(&mut self) -> Result<bool> {
        if self.in_use.is_none() {
            return Err(EmbeddedError::NotInUse);
        }
        let (started, port) = match self.running_port() {
            Some(port) => (false, port),
            None => (true, self.launch(self.port)?),
        };
        if port != self.port {
            return Err(EmbeddedError::OtherPort {
                running: port,
                expected: self.port,
            });
        }
        Ok(started)
    }

    /// Runs `pg_ctl start` on `port`; returns the port of the server then
    /// running, which is another's when another process won the race.
    fn launch(&self, port: u16) -> Result<u16> {
        let socket = self.socket_dir().join(format!(".s.PGSQL.{port}"));
        if socket.as_os_str().len() > 107 {
            return Err(EmbeddedError::SocketPathTooLong(socket));
        }
        let started = self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-D".as_ref(),
                self.data_dir().as_os_str(),
                "-l".as_ref(),
                self.log_file().as_os_str(),
                "-o".as_ref(),
                format!("-p {port}").as_ref(),
            ],
        );
        // Another process may have started it at the same moment.
        match (started, self.running_port()) {
            (Ok(()), _) => Ok(port),
            (Err(_), Some(running)) => Ok(running),
            (Err(error), None) => Err(error),
        }
    }

    /// Leaves the server; stops it (fast shutdown: sessions end, a clean
    /// checkpoint) unless another pgusers process still uses it.
    pub fn stop(&mut self) -> Result<()> {
        let Some(in_use) = self.in_use.take() else {
            return Ok(());
        };
        if in_use.relock(FlockArg::LockExclusiveNonblock).is_err() {
            tracing::info!(
                "PostgreSQL is still used by another pgusers process; leaving it running"
            );
            return Ok(());
        }
        if self.running_port().is_none() {
            return Ok(());
        }
        self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-w".as_ref(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-D".as_ref(),
                self.data_dir().as_os_str(),
            ],
        )
    }

    fn lock(&self, mode: FlockArg) -> Result<Flock<File>> {
        let path = self.root.join("in-use.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(EmbeddedError::io(format!("opening {}", path.display())))?;
        Flock::lock(file, mode).map_err(|(_, errno)| EmbeddedError::Io {
            context: format!("locking {}", path.display()),
            source: errno.into(),
        })
    }

    /// A connection to `dbname` as the bootstrap superuser, over the Unix socket.
    pub fn admin_config(&self, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(self.socket_dir())
            .port(self.port)
            .user(SUPERUSER)
            .dbname(dbname)
            .application_name("pgusers")
            .connect_timeout(Duration::from_secs(5));
        config
    }

    fn prepare_root(&self) -> Result<()> {
        if let Some(owner) = self.owner {
            check_reachable(&self.root, owner)?;
            self.give_to_owner(&self.root)?;
        }
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700)).map_err(
            EmbeddedError::io(format!("securing {}", self.root.display())),
        )?;
        let run = self.socket_dir();
        fs::create_dir_all(&run)
            .map_err(EmbeddedError::io(format!("creating {}", run.display())))?;
        fs::set_permissions(&run, fs::Permissions::from_mode(0o700))
            .map_err(EmbeddedError::io(format!("securing {}", run.display())))?;
        self.give_to_owner(&run)
    }

    fn initdb(&self, options: &ClusterOptions) -> Result<()> {
        let partial = self.root.join("data.partial");
        if partial.exists() {
            fs::remove_dir_all(&partial)
                .map_err(EmbeddedError::io(format!("removing {}", partial.display())))?;
        }
        self.run(
            "initdb",
            &[
                "-D".as_ref(),
                partial.as_os_str(),
                "--username".as_ref(),
                SUPERUSER.as_ref(),
                "--encoding".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "--auth".as_ref(),
                "trust".as_ref(),
                "--no-instructions".as_ref(),
            ],
        )?;
        self.write_config(&partial, options)?;
        let data = self.data_dir();
        fs::rename(&partial, &data)
            .map_err(EmbeddedError::io(format!("renaming to {}", data.display())))
    }

    /// Only the superuser may skip passwords, and only over the owner-only socket;
    /// everyone else proves a password with SCRAM, over the socket or loopback TCP.
    fn write_config(&self, data: &Path, options: &ClusterOptions) -> Result<()> {
        let hba = format!(
            "# Written by pgusers.\n\
             local all {SUPERUSER} trust\n\
             local all all scram-sha-256\n\
             host all all 127.0.0.1/32 scram-sha-256\n\
             host all all ::1/128 scram-sha-256\n"
        );
        let hba_path = data.join("pg_hba.conf");
        fs::write(&hba_path, hba)
            .map_err(EmbeddedError::io(format!("writing {}", hba_path.display())))?;
        self.give_to_owner(&hba_path)?;

        let port = free_port(None)?;
        let socket_dir = self.socket_dir().display().to_string().replace('\'', "''");
        let mut settings = format!(
            "\n# Added by pgusers.\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = '{socket_dir}'\n\
             unix_socket_permissions = 0700\n\
             password_encryption = 'scram-sha-256'\n"
        );
        if options.log_statements {
            settings.push_str("log_statement = 'all'\n");
        }
        if options.ephemeral {
            settings.push_str(
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n",
            );
        }
        let conf_path = data.join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .and_then(|mut file| file.write_all(settings.as_bytes()))
            .map_err(EmbeddedError::io(format!(
                "writing {}",
                conf_path.display()
            )))
    }

    /// The port written at initdb time, so a restarted cluster keeps its address.
    fn configured_port(&self) -> Option<u16> {
        let conf = fs::read_to_string(self.data_dir().join("postgresql.conf")).ok()?;
        conf.lines().rev().find_map(|line| {
            let value = line.trim().strip_prefix("port")?.trim().strip_prefix('=')?;
            value.split('#').next()?.trim().parse().ok()
        })
    }

    /// The port of the server running on this data directory, if one is.
    fn running_port(&self) -> Option<u16> {
        let status = self
            .command("pg_ctl")
            .args(["status", "-D"])
            .arg(self.data_dir())
            .output()
            .ok()?;
        if !status.status.success() {
            return None;
        }
        let pid_file = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.binaries.program(program));
        command.current_dir(&self.root).env_remove("PGDATA");
        if let Some(owner) = self.owner {
            command.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
        }
        command
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
        let output = self
            .command(program)
            .args(args)
            .output()
            .map_err(EmbeddedError::io(format!("running {program}")))?;
        if output.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stdout));
        if program == "pg_ctl" {
            text.push_str(&log_tail(&self.log_file()));
        }
        Err(EmbeddedError::Command {
            program: program.to_owned(),
            output: text.trim().to_owned(),
        })
    }

    fn give_to_owner(&self, path: &Path) -> Result<()> {
        if let Some(owner) = self.owner {
            nix::unistd::chown(path, Some(owner.uid), Some(owner.gid)).map_err(|errno| {
                EmbeddedError::Io {
                    context: format!("giving {} to the postgres user", path.display()),
                    source: errno.into(),
                }
            })?;
        }
        Ok(())
    }
}

/// When we are root, the cluster belongs to the `postgres` system user.
fn owner_when_root() -> Result<Option<Owner>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some(Owner {
            uid: user.uid,
            gid: user.gid,
        })),
        _ => Err(EmbeddedError::NoPostgresUser),
    }
}

/// Every directory above `path` must be searchable by the owner, or the
/// server cannot open its own data directory.
fn check_reachable(path: &Path, owner: Owner) -> Result<()> {
    for ancestor in path.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.mode();
        let searchable = (meta.uid() == owner.uid.as_raw() && mode & 0o100 != 0)
            || (meta.gid() == owner.gid.as_raw() && mode & 0o010 != 0)
            || mode & 0o001 != 0;
        if !searchable {
            return Err(EmbeddedError::Unreachable {
                path: path.to_owned(),
                blocking: ancestor.to_owned(),
            });
        }
    }
    Ok(())
}

/// `preferred` when nothing listens there, else an unused port outside the
/// range the kernel gives outgoing connections (`ip_local_port_range`):
/// there no client connection can take it while the server is stopped, so a
/// start by another process (a CLI command) finds it free again and every
/// process keeps using the same port. The kernel's pick when 64 tries find
/// none, or no port is outside that range.
fn free_port(preferred: Option<u16>) -> Result<u16> {
    let free = |port: u16| TcpListener::bind(("127.0.0.1", port)).is_ok();
    if let Some(port) = preferred
        && free(port)
    {
        return Ok(port);
    }
    // Unknown, the range is taken to be what no system's starts below.
    let (first, last) = outgoing_ports().map_or((32_768, u32::from(u16::MAX)), |range| {
        (u32::from(*range.start()), u32::from(*range.end()))
    });
    let below = u32::from(LOWEST_PORT)..first;
    let above = (last + 1).max(u32::from(LOWEST_PORT))..=u32::from(u16::MAX);
    let below_len = first.saturating_sub(u32::from(LOWEST_PORT));
    let above_len = (u32::from(u16::MAX) + 1).saturating_sub(*above.start());
    if below_len + above_len > 0 {
        let mut rng = rand::rng();
        let found = (0..64)
            .map(|_| {
                let pick = rng.random_range(0..below_len + above_len);
                let port = if pick < below_len {
                    below.start + pick
                } else {
                    above.start() + (pick - below_len)
                };
                u16::try_from(port).unwrap_or(u16::MAX)
            })
            .find(|&port| free(port));
        if let Some(port) = found {
            return Ok(port);
        }
    }
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).map_err(EmbeddedError::io("finding a free port"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(EmbeddedError::io("finding a free port"))
}

/// The ports the kernel gives outgoing connections: Linux's
/// `ip_local_port_range`; `None` where it cannot be read.
fn outgoing_ports() -> Option<std::ops::RangeInclusive<u16>> {
    let read = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut bounds = read.split_whitespace().map(str::parse::<u16>);
    match (bounds.next(), bounds.next()) {
        (Some(Ok(first)), Some(Ok(last))) if first <= last => Some(first..=last),
        _ => None,
    }
}

/// The lowest port an embedded cluster is given: above the well-known and
/// most registered services' ports.
const LOWEST_PORT: u16 = 20_000;

fn log_tail(log: &Path) -> String {
    let Ok(text) = fs::read_to_string(log) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(10);
    format!(
        "\nlast lines of {}:\n{}",
        log.display(),
        lines[start..].join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_clusters_port_is_outside_the_ports_of_outgoing_connections() {
        let outgoing = outgoing_ports().unwrap_or(32_768..=u16::MAX);
        // Ports a cluster may get, on this machine; on one whose outgoing
        // range leaves none (or too few to find a free one in 64 tries),
        // the kernel picks.
        let outside = (LOWEST_PORT..=u16::MAX)
            .filter(|port| !outgoing.contains(port))
            .count();
        for _ in 0..20 {
            let port = free_port(None).unwrap();
            if outside > 1_000 {
                assert!(port >= LOWEST_PORT && !outgoing.contains(&port), "{port}");
            }
            assert!(
                TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "{port} is free"
            );
        }
    }

    #[test]
    fn the_outgoing_range_is_the_kernels() {
        let Ok(range) = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range") else {
            assert_eq!(outgoing_ports(), None);
            return;
        };
        let bounds: Vec<u16> = range
            .split_whitespace()
            .map(|bound| bound.parse().unwrap())
            .collect();
        assert_eq!(outgoing_ports(), Some(bounds[0]..=bounds[1]));
    }

    #[test]
    fn a_free_preferred_port_is_kept_and_a_taken_one_is_not() {
        let taken = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let taken_port = taken.local_addr().unwrap().port();
        assert_ne!(free_port(Some(taken_port)).unwrap(), taken_port);
        let free = free_port(None).unwrap();
        assert_eq!(free_port(Some(free)).unwrap(), free);
    }
}
