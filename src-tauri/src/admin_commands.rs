//! The admin panel's Tauri commands and the sign-in and token-keeping commands: one line each
//! into [`crate::admin_actions`] / [`crate::connection`] / [`crate::token_store`]. Named in
//! command_names.rs (permissions), registered in lib.rs, granted in capabilities/default.json.

use coexist_core::NumberSettings;
use coexist_engine::admin::{NewUser, NumberEdit, NumberInput, NumberSaved, QuarantinedWebhook, UserInfo};
use tauri::State;

use crate::actions::ActionResult;
use crate::admin_actions::{NumberStatus, Session};
use crate::backend::Backend;
use crate::token_store::{TokenSession, TokenStatus};

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

/// Sign in to a bridge (checked with it, token kept in the keyring), then restart on it.
#[tauri::command]
pub async fn connect_bridge(app: tauri::AppHandle, backend: State<'_, Backend>, url: String, token: String) -> ActionResult<()> {
    let data_dir = backend.info().await.data_dir;
    let agent = crate::connection::connect(&data_dir, &url, &token, crate::token_store::keyring_vault).await?;
    tracing::info!(%agent, "signed in to a bridge; restarting on it");
    app.restart()
}

/// Forget the saved bridge and its token, then restart (as the demo).
#[tauri::command]
pub async fn disconnect_bridge(app: tauri::AppHandle, backend: State<'_, Backend>) -> ActionResult<()> {
    let data_dir = backend.info().await.data_dir;
    crate::connection::disconnect(&data_dir, crate::token_store::keyring_vault)?;
    app.restart()
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
pub async fn admin_templates(backend: State<'_, Backend>, phone_number_id: String) -> ActionResult<Vec<coexist_store::TemplateReview>> {
    backend.admin_templates(&phone_number_id)
}

#[tauri::command]
pub async fn admin_submit_template(
    backend: State<'_, Backend>,
    phone_number_id: String,
    draft: coexist_core::TemplateDraft,
) -> ActionResult<coexist_engine::admin::SubmittedTemplate> {
    backend.admin_submit_template(&phone_number_id, &draft).await
}

#[tauri::command]
pub async fn admin_blocked(backend: State<'_, Backend>, phone_number_id: String) -> ActionResult<Vec<coexist_engine::BlockedCustomer>> {
    backend.admin_blocked(&phone_number_id).await
}

#[tauri::command]
pub async fn admin_number_health(backend: State<'_, Backend>) -> ActionResult<Vec<NumberStatus>> {
    backend.admin_number_health()
}
