//! Administration usable without a running server (the CLI, the desktop demo, tests), on either
//! backend: `db` is an SQLite file or a Postgres URL ([`DatabaseLocation`]).
//!
//! These are synchronous (each briefly blocks the caller, on a thread of its own so they work
//! inside an async runtime too); a running bridge on the same database sees the changes (users
//! at once, number events at its next relay poll).

use anyhow::{anyhow, Result};
use coexist_core::NumberSettings;

use crate::auth::{self, Role};
use crate::database::DatabaseLocation;
use crate::db::{Append, Appended, Database, User};

/// Creates a user and returns their bearer token. It is shown once: only its hash is stored.
pub fn add_user(db: impl Into<DatabaseLocation>, name: &str, role: Role) -> Result<String> {
    auth::validate_name(name).map_err(|e| anyhow!(e))?;
    let name = name.to_string();
    on(db.into(), move |db| async move {
        let token = auth::new_token();
        db.add_user(&name, role, &auth::token_hash(&token)).await?;
        Ok(token)
    })
}

/// Who revokes from the command line (the entries handing conversations back name them).
const COMMAND_LINE_ADMIN: &str = "admin";

/// Revokes a user: their token stops working at once (open SSE streams close within ~1 s), and
/// the conversations assigned to them go back to the whole team.
pub fn revoke_user(db: impl Into<DatabaseLocation>, name: &str) -> Result<()> {
    let name = name.to_string();
    on(db.into(), move |db| async move {
        if !db.revoke_user(&name).await? {
            return Err(anyhow!("no user named {name:?}"));
        }
        let handed_back = crate::team::hand_back(db.assignments().await?, &name, COMMAND_LINE_ADMIN, crate::now_ms());
        for result in db.append_batch(handed_back).await? {
            result?;
        }
        Ok(())
    })
}

pub fn list_users(db: impl Into<DatabaseLocation>) -> Result<Vec<User>> {
    on(db.into(), |db| async move { Ok(db.users().await?) })
}

/// Adds a number (refusing Coexistence for +234 and +27) and appends its `Number` event.
pub fn add_number(db: impl Into<DatabaseLocation>, settings: NumberSettings) -> Result<()> {
    crate::numbers::validate(&settings).map_err(|e| anyhow!(e))?;
    on(db.into(), move |db| async move {
        let item = Append::Number { settings, create: true, received_at_ms: crate::now_ms() };
        match db.append_batch(vec![item]).await?.pop().expect("one result per item")? {
            Appended::Event { .. } => Ok(()),
            other => Err(anyhow!("unexpected append result {other:?}")),
        }
    })
}

/// Opens `location` and runs `work` on it to completion, on a thread with its own runtime (the
/// caller may be inside one: the demo and tests call these from async code).
fn on<T, F, Fut>(location: DatabaseLocation, work: F) -> Result<T>
where
    T: Send,
    F: FnOnce(std::sync::Arc<dyn Database>) -> Fut + Send,
    Fut: std::future::Future<Output = Result<T>>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async move { work(location.open().await?).await })
            })
            .join()
            .map_err(|_| anyhow!("the database task panicked"))?
    })
}
