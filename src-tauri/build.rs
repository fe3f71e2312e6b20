//! Generates `allow-<command>` / `deny-<command>` permissions for the app's own commands, so the
//! capability in capabilities/default.json can grant exactly these and nothing else.

/// Every command in src-tauri/src/commands.rs. Keep in sync with `tauri::generate_handler!`.
const COMMANDS: &[&str] = &[
    "app_info",
    "list_conversations",
    "open_conversation",
    "messages",
    "send_text",
    "send_template",
    "retry_send",
    "templates",
    "mark_read",
    "search",
    "number_health",
    // The managers' view (src-tauri/src/manager.rs)
    "metrics",
    "search_messages",
    "message_context",
    "history_progress",
    "export_conversation",
    "export_search",
    // src-tauri/src/admin_commands.rs
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
    // src-tauri/src/campaign_commands.rs
    "campaign_plan",
    "campaign_start",
    "campaign_list",
    "campaign_progress",
    "campaign_pause",
    "campaign_resume",
    "campaign_failures",
];

fn main() {
    println!("cargo:rerun-if-changed=capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed: check tauri.conf.json and capabilities/");
}
