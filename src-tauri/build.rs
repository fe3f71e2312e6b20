//! Generates `allow-<command>` / `deny-<command>` permissions for the app's own commands, so the
//! capability in capabilities/default.json can grant exactly these and nothing else.

include!("src/command_names.rs");


fn main() {
    println!("cargo:rerun-if-changed=src/command_names.rs");
    println!("cargo:rerun-if-changed=capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed: check tauri.conf.json and capabilities/");
}
