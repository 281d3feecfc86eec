use std::path::{Path, PathBuf};
use std::process::Command;

use super::EmbeddedError;

/// Where the PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`) live.
#[derive(Debug, Clone)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Finds the server programs: in `PGUSERS_PG_BINDIR` when it is set,
    /// else with `pg_config --bindir`, else in the newest
    /// `/usr/lib/postgresql/<version>/bin`.
    pub fn find() -> Result<Self, EmbeddedError> {
        if let Some(dir) = std::env::var_os("PGUSERS_PG_BINDIR") {
            let dir = PathBuf::from(dir);
            return Self::first_of([dir.clone()]).map_err(|_| EmbeddedError::BinariesNotIn(dir));
        }
        Self::first_of(pg_config_bindir().into_iter().chain(debian_bindirs()))
    }

    /// The first directory that holds all the server programs.
    pub fn first_of(candidates: impl IntoIterator<Item = PathBuf>) -> Result<Self, EmbeddedError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_postgresql_the_error_names_the_package_to_install() {
        let error = Binaries::first_of([PathBuf::from("/nonexistent/bin")]).unwrap_err();
        assert!(
            error.to_string().contains("apt-get install postgresql"),
            "{error}"
        );
    }

    #[test]
    fn a_directory_without_every_server_program_is_skipped() {
        let partial = std::env::temp_dir();
        assert!(matches!(
            Binaries::first_of([partial]),
            Err(EmbeddedError::BinariesMissing)
        ));
    }
}
