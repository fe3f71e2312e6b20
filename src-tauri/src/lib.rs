//! The Coexist Inbox desktop app: a thin Tauri shell over the `coexist-*` crates.
//!
//! Startup: pick the bridge (the environment, else the app's own sign-in, else the demo: see
//! [`config`], [`connection`], [`token_store`]), open the local inbox, start the
//! engine (sync + outbox), forward its events to the webview (see [`events`]) and serve the
//! commands in [`commands`]. Notifications go through [`notifier::DesktopNotifier`].

pub mod actions;
pub mod admin_actions;
pub mod admin_commands;
pub mod attach;
pub mod backend;
pub mod campaign_commands;
pub mod command_names;
pub mod commands;
pub mod config;
pub mod connection;
pub mod events;
pub mod manager;
pub mod media;
pub mod notifier;
pub mod token_store;

use std::sync::Arc;

use tauri::{Emitter, Manager};

/// WebKitGTK settings for an inbox of text, each set only where the environment has not set it.
///
/// - No accelerated compositing (`WEBKIT_DISABLE_COMPOSITING_MODE=1`): an inbox has nothing to gain
///   from it, and it costs ~80 MB in the web process (more where GL falls back to Mesa's software
///   renderer) and shows blank windows on some GPU drivers.
/// - No JavaScript JIT (`JSC_useJIT=false`): the UI's script is small and spends its time in the
///   DOM, which the interpreter calls as fast; the JIT's code and profiling data cost ~7 MB of
///   the web process's idle memory (measured with `coexist-bench`, see BENCHMARKS.md).
///
/// `WEBKIT_DISABLE_COMPOSITING_MODE=0` or `JSC_useJIT=true` in the environment turns either back on.
pub fn webkit_defaults() {
    #[cfg(target_os = "linux")]
    for (name, value) in [("WEBKIT_DISABLE_COMPOSITING_MODE", "1"), ("JSC_useJIT", "false")] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
}

pub fn run() {
    init_tracing();
    let app = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_conversations,
            commands::open_conversation,
            commands::start_conversation,
            commands::messages,
            commands::send_text,
            commands::send_buttons,
            commands::send_template,
            commands::send_file,
            commands::react,
            commands::upload_header_file,
            commands::retry_send,
            commands::templates,
            commands::mark_read,
            commands::typing,
            commands::mark_unread,
            commands::save_draft,
            commands::drafts,
            commands::show_unread_count,
            commands::team,
            commands::assign,
            commands::add_note,
            commands::mark_done,
            commands::label,
            commands::labels,
            commands::set_blocked,
            commands::mute_conversation,
            commands::unmute_conversation,
            commands::quick_replies,
            commands::save_quick_reply,
            commands::search,
            commands::number_health,
            commands::media_preview,
            commands::save_media,
            admin_commands::admin_session,
            admin_commands::remember_token,
            admin_commands::forget_token,
            admin_commands::connect_bridge,
            admin_commands::disconnect_bridge,
            admin_commands::admin_users,
            admin_commands::admin_add_user,
            admin_commands::admin_revoke_user,
            admin_commands::admin_numbers,
            admin_commands::admin_add_number,
            admin_commands::admin_edit_number,
            admin_commands::admin_quarantine,
            admin_commands::admin_blocked,
            admin_commands::admin_templates,
            admin_commands::admin_submit_template,
            admin_commands::admin_number_health,
            commands::metrics,
            commands::search_messages,
            commands::message_context,
            commands::search_notes,
            commands::find_people,
            commands::note_context,
            commands::history_progress,
            commands::export_conversation,
            commands::export_search,
            campaign_commands::campaign_plan,
            campaign_commands::campaign_start,
            campaign_commands::campaign_list,
            campaign_commands::campaign_progress,
            campaign_commands::campaign_pause,
            campaign_commands::campaign_resume,
            campaign_commands::campaign_failures,
        ])
        .setup(move |app| {
            let data_dir = match config::data_dir_from_env() {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            // The bridge: COEXIST_BRIDGE_URL, else the one saved by the app's sign-in, else the
            // demo; its token from COEXIST_TOKEN or the OS keyring (see token_store).
            let startup = match token_store::startup_from_env(&data_dir) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("Coexist Inbox cannot start: {e}");
                    std::process::exit(2);
                }
            };
            let config = startup.config;
            app.manage(startup.token);
            tracing::info!(data_dir = %data_dir.display(), demo = config.is_demo(), "starting");
            let notifier = Arc::new(notifier::DesktopNotifier::new(app.handle().clone()));
            let backend = match tauri::async_runtime::block_on(backend::start(
                &config, &data_dir, notifier,
            )) {
                Ok(backend) => backend,
                Err(e) => {
                    // Said plainly and exit; a panic trace would bury the reason.
                    eprintln!("Coexist Inbox cannot start: {e:#}");
                    std::process::exit(1);
                }
            };
            backend.set_connection(startup.origin, startup.notice);
            let rx = backend.engine.subscribe();
            app.manage(backend);
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(events::forward(rx, move |name, payload| {
                if name == events::SYNC {
                    handle.state::<backend::Backend>().set_sync(payload.clone());
                }
                if let Err(e) = handle.emit(name, payload) {
                    tracing::warn!(error = %e, event = name, "could not emit to the webview");
                }
            }));
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            // Setup errors already say what to do (data dir, bridge URL, demo stack).
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tao=warn,wry=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    /// A command must be named for its permission, registered, and granted, or the webview's
    /// call is refused at run time.
    #[test]
    fn every_command_is_named_registered_and_granted() {
        let lib = include_str!("lib.rs");
        let handler = &lib[lib.find("generate_handler![").expect("the handler list")..];
        let handler = &handler[..handler.find("])").expect("its end")];
        let registered: Vec<&str> = handler
            .split(',')
            .filter_map(|item| item.trim().rsplit("::").next())
            .filter(|name| !name.is_empty() && !name.contains('['))
            .collect();
        let capability = include_str!("../../capabilities/default.json");
        for c in super::command_names::COMMANDS {
            assert!(registered.contains(c), "{c} is named but not in generate_handler!");
            let grant = format!("\"allow-{}\"", c.replace('_', "-"));
            assert!(capability.contains(&grant), "{grant} missing from capabilities/default.json");
        }
        for r in &registered {
            assert!(super::command_names::COMMANDS.contains(r), "{r} is registered but not in command_names.rs");
        }
    }
}
