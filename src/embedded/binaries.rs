use std::path::{Path, PathBuf};
use std::process::Command;

use super::EmbeddedError;

/// Where the PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`) live.
#[derive(Debug, Clone)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Finds the server programs: `PGUSERS_PG_BINDIR`, then `pg_config --bindir`,
    /// then the newest `/usr/lib/postgresql/<version>/bin`.
    pub fn find() -> Result<Self, EmbeddedError> {
        let candidates = std::env::var_os("PGUSERS_PG_BINDIR")
            .map(PathBuf::from)
            .into_iter()
            .chain(pg_config_bindir())
            .chain(debian_bindirs());
        candidates
            .into_iter()
            .find(|dir| has_server_programs(dir))
            .map(|dir| Self { dir })
            .ok_or(EmbeddedError::BinariesMissing)
    }

    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn has_server_programs(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|p| dir.join(p).is_file())
}

fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    Some(PathBuf::from(dir.trim()))
}

/// Debian's layout, newest major version first.
fn debian_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versions.into_iter().map(|(_, dir)| dir).collect()
}
