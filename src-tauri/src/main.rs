// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before any thread starts: environment changes are only safe while the process is single-threaded.
    coexist_inbox::webkit_defaults();
    coexist_inbox::run();
}
