//! The Coexist Inbox desktop app: a thin Tauri shell over the `coexist-*` crates.

pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running Coexist Inbox");
}
