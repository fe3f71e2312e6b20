//! Administration usable without a running server (the CLI, the desktop demo, tests).
//!
//! These are synchronous and touch SQLite directly (briefly blocking); a running bridge on the
//! same file sees the changes (users at once, number events at its next relay poll).

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use coexist_core::NumberSettings;

use crate::auth::{self, Role};
use crate::db::sqlite::SqliteDb;
use crate::db::{Append, Appended, User};

/// Creates a user and returns their bearer token. It is shown once: only its hash is stored.
pub fn add_user(db_path: impl AsRef<Path>, name: &str, role: Role) -> Result<String> {
    auth::validate_name(name).map_err(|e| anyhow!(e))?;
    let db = open(db_path.as_ref())?;
    let token = auth::new_token();
    db.add_user_sync(name, role, &auth::token_hash(&token))?;
    Ok(token)
}

/// Who revokes from the command line (the entries handing conversations back name them).
const COMMAND_LINE_ADMIN: &str = "admin";

/// Revokes a user: their token stops working at once (open SSE streams close within ~1 s), and
/// the conversations assigned to them go back to the whole team.
pub fn revoke_user(db_path: impl AsRef<Path>, name: &str) -> Result<()> {
    let db = open(db_path.as_ref())?;
    if !db.revoke_user_sync(name)? {
        return Err(anyhow!("no user named {name:?}"));
    }
    let handed_back = crate::team::hand_back(db.assignments_sync()?, name, COMMAND_LINE_ADMIN, crate::now_ms());
    for result in db.append_batch_sync(handed_back)? {
        result?;
    }
    Ok(())
}

pub fn list_users(db_path: impl AsRef<Path>) -> Result<Vec<User>> {
    Ok(open(db_path.as_ref())?.users_sync()?)
}

/// Adds a number (refusing Coexistence for +234 and +27) and appends its `Number` event.
pub fn add_number(db_path: impl AsRef<Path>, settings: NumberSettings) -> Result<()> {
    crate::numbers::validate(&settings).map_err(|e| anyhow!(e))?;
    let db = open(db_path.as_ref())?;
    let item = Append::Number { settings, create: true, received_at_ms: crate::now_ms() };
    let result = db.append_batch_sync(vec![item])?.pop().expect("one result per item")?;
    match result {
        Appended::Event { .. } => Ok(()),
        other => Err(anyhow!("unexpected append result {other:?}")),
    }
}

fn open(path: &Path) -> Result<SqliteDb> {
    SqliteDb::open(path).with_context(|| format!("opening the bridge database {}", path.display()))
}
