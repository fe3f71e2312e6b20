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
];

fn main() {
    println!("cargo:rerun-if-changed=capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed: check tauri.conf.json and capabilities/");
}
