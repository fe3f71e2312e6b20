// Every command the app serves, by name: build.rs turns the list into `allow-<command>`
// permissions (so capabilities/default.json can grant exactly these), and a test in lib.rs
// checks it against `tauri::generate_handler!` and the capability. Plain items only: build.rs
// `include!`s this file.

pub const COMMANDS: &[&str] = &[
    "app_info",
    "list_conversations",
    "open_conversation",
    "messages",
    "send_text",
    "send_template",
    "send_file",
    "react",
    "upload_header_file",
    "retry_send",
    "templates",
    "mark_read",
    "typing",
    "search",
    "number_health",
    "media_preview",
    "save_media",
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
    "connect_bridge",
    "disconnect_bridge",
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
