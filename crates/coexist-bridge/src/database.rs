//! Where the bridge keeps its event log: an SQLite file (embedded, the default: nothing to run
//! beside the bridge) or a Postgres database (for a team that already runs, backs up and watches
//! one). `--db` takes either, told apart by the `postgres://` scheme; `COEXIST_DATABASE_URL` can
//! give the URL instead, so the password stays out of the command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::db::postgres::PostgresDb;
use crate::db::sqlite::SqliteDb;
use crate::db::Database;

/// The environment variable that names a Postgres database for `serve` and the admin commands.
pub const DATABASE_URL_ENV: &str = "COEXIST_DATABASE_URL";

#[derive(Clone, PartialEq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    /// A `postgres://user:password@host:port/database` URL.
    Postgres(String),
}

impl DatabaseLocation {
    /// `--db` when given, else `COEXIST_DATABASE_URL`; one of them is needed.
    pub fn choose(db: Option<&str>, env_url: Option<String>) -> Result<DatabaseLocation> {
        match (db, env_url.filter(|u| !u.trim().is_empty())) {
            (Some(db), _) => Ok(DatabaseLocation::from(db)),
            (None, Some(url)) => Ok(DatabaseLocation::from(url)),
            (None, None) => anyhow::bail!(
                "no database given: pass --db bridge.db (an SQLite file, created if missing) or \
                 --db postgres://user:password@host/database, or set {DATABASE_URL_ENV}"
            ),
        }
    }

    /// Opens (creating and migrating as needed) the database.
    pub async fn open(&self) -> Result<Arc<dyn Database>> {
        match self {
            DatabaseLocation::Sqlite(path) => {
                let owned = path.clone();
                let db = tokio::task::spawn_blocking(move || SqliteDb::open(&owned)).await?;
                Ok(Arc::new(db.with_context(|| format!("opening the bridge database {}", path.display()))?))
            }
            DatabaseLocation::Postgres(url) => Ok(Arc::new(
                PostgresDb::connect(url).await.with_context(|| format!("opening the bridge database {self}"))?,
            )),
        }
    }
}

fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl From<&str> for DatabaseLocation {
    fn from(s: &str) -> Self {
        if is_postgres_url(s) {
            DatabaseLocation::Postgres(s.to_string())
        } else {
            DatabaseLocation::Sqlite(PathBuf::from(s))
        }
    }
}

impl From<String> for DatabaseLocation {
    fn from(s: String) -> Self {
        DatabaseLocation::from(s.as_str())
    }
}

impl From<&Path> for DatabaseLocation {
    fn from(path: &Path) -> Self {
        DatabaseLocation::Sqlite(path.to_path_buf())
    }
}

impl From<PathBuf> for DatabaseLocation {
    fn from(path: PathBuf) -> Self {
        DatabaseLocation::Sqlite(path)
    }
}

impl From<&PathBuf> for DatabaseLocation {
    fn from(path: &PathBuf) -> Self {
        DatabaseLocation::Sqlite(path.clone())
    }
}

/// The file, or the URL without its password (for logs and errors).
impl std::fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseLocation::Sqlite(path) => write!(f, "{}", path.display()),
            DatabaseLocation::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

impl std::fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// `postgres://ana:secret@host/db` → `postgres://ana:***@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((credentials, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_takes_a_file_or_a_postgres_url() {
        assert_eq!(DatabaseLocation::from("bridge.db"), DatabaseLocation::Sqlite("bridge.db".into()));
        assert_eq!(DatabaseLocation::from("postgres://a:b@h/d"), DatabaseLocation::Postgres("postgres://a:b@h/d".into()));
        assert!(matches!(DatabaseLocation::from("postgresql://h/d"), DatabaseLocation::Postgres(_)));
        let chosen = DatabaseLocation::choose(None, Some("postgres://h/d".into())).unwrap();
        assert_eq!(chosen, DatabaseLocation::Postgres("postgres://h/d".into()));
        let flag_wins = DatabaseLocation::choose(Some("x.db"), Some("postgres://h/d".into())).unwrap();
        assert_eq!(flag_wins, DatabaseLocation::Sqlite("x.db".into()));
        let neither = DatabaseLocation::choose(None, Some(" ".into())).unwrap_err().to_string();
        assert!(neither.contains("--db bridge.db") && neither.contains(DATABASE_URL_ENV), "{neither}");
    }

    #[test]
    fn the_password_never_shows() {
        let url = DatabaseLocation::from("postgres://ana:s3cret@db.example.com:5432/coexist");
        assert_eq!(url.to_string(), "postgres://ana:***@db.example.com:5432/coexist");
        assert_eq!(format!("{url:?}"), "postgres://ana:***@db.example.com:5432/coexist");
        assert_eq!(DatabaseLocation::from("postgres://ana@h/d").to_string(), "postgres://ana@h/d");
        // A password holding '@' is cut at the last one, as URLs are read.
        assert_eq!(DatabaseLocation::from("postgres://ana:p@ss@h/d").to_string(), "postgres://ana:***@h/d");
    }
}
