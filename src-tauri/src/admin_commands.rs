//! The admin panel's Tauri commands and the token-keeping commands: one line each into
//! [`crate::admin_actions`] / [`crate::token_store`]. Listed in build.rs (permissions) and
//! registered in lib.rs; capabilities/default.json grants them to the main window.

use coexist_core::NumberSettings;
use coexist_engine::admin::{NewUser, NumberEdit, NumberInput, NumberSaved, QuarantinedWebhook, UserInfo};
use tauri::State;

use crate::actions::ActionResult;
use crate::admin_actions::{NumberStatus, Session};
use crate::backend::Backend;
use crate::token_store::{TokenSession, TokenStatus};

/// Every command here, for build.rs's permission list (kept beside the commands).
pub const COMMANDS: &[&str] = &[
    "admin_session",
    "remember_token",
    "forget_token",
    "admin_users",
    "admin_add_user",
    "admin_revoke_user",
    "admin_numbers",
    "admin_add_number",
    "admin_edit_number",
    "admin_quarantine",
    "admin_number_health",
];

#[tauri::command]
pub async fn admin_session(backend: State<'_, Backend>, token: State<'_, TokenSession>) -> ActionResult<Session> {
    Ok(backend.admin_session(token.status()).await)
}

#[tauri::command]
pub async fn remember_token(token: State<'_, TokenSession>) -> ActionResult<TokenStatus> {
    token.remember()
}

#[tauri::command]
pub async fn forget_token(token: State<'_, TokenSession>) -> ActionResult<TokenStatus> {
    token.forget()
}

#[tauri::command]
pub async fn admin_users(backend: State<'_, Backend>) -> ActionResult<Vec<UserInfo>> {
    backend.admin_users().await
}

#[tauri::command]
pub async fn admin_add_user(backend: State<'_, Backend>, name: String, role: String) -> ActionResult<NewUser> {
    backend.admin_add_user(&name, &role).await
}

#[tauri::command]
pub async fn admin_revoke_user(backend: State<'_, Backend>, name: String) -> ActionResult<()> {
    backend.admin_revoke_user(&name).await
}

#[tauri::command]
pub async fn admin_numbers(backend: State<'_, Backend>) -> ActionResult<Vec<NumberSettings>> {
    backend.admin_numbers().await
}

#[tauri::command]
pub async fn admin_add_number(backend: State<'_, Backend>, number: NumberInput) -> ActionResult<NumberSaved> {
    backend.admin_add_number(&number).await
}

#[tauri::command]
pub async fn admin_edit_number(
    backend: State<'_, Backend>,
    phone_number_id: String,
    edit: NumberEdit,
) -> ActionResult<NumberSaved> {
    backend.admin_edit_number(&phone_number_id, &edit).await
}

#[tauri::command]
pub async fn admin_quarantine(backend: State<'_, Backend>, limit: Option<u32>) -> ActionResult<Vec<QuarantinedWebhook>> {
    backend.admin_quarantine(limit).await
}

#[tauri::command]
pub async fn admin_number_health(backend: State<'_, Backend>) -> ActionResult<Vec<NumberStatus>> {
    backend.admin_number_health()
}

#[cfg(test)]
mod tests {
    /// A command missing from build.rs or the capability would be refused at run time.
    #[test]
    fn every_command_has_a_permission_and_a_grant() {
        let build = include_str!("../build.rs");
        let capability = include_str!("../../capabilities/default.json");
        for c in super::COMMANDS {
            assert!(build.contains(&format!("\"{c}\"")), "{c} missing from src-tauri/build.rs");
            let grant = format!("\"allow-{}\"", c.replace('_', "-"));
            assert!(capability.contains(&grant), "{grant} missing from capabilities/default.json");
        }
    }
}
