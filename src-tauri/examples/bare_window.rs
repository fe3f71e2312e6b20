//! The floor under the app's idle memory: a Tauri window, with the app's WebKit settings, showing one
//! line of HTML and nothing else (no engine, no inbox, no script of ours). `coexist-bench` measures it
//! beside the app, so the figure can be read against what the platform costs by itself.

use tauri::{WebviewUrl, WebviewWindowBuilder};

const PAGE: &str = "<!doctype html><title>bare</title><p>Coexist Inbox</p>";

fn main() {
    coexist_inbox::webkit_defaults();
    let mut context = tauri::generate_context!();
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        // A scheme of its own serves the page: the app's assets are its UI, which this must not load.
        .register_uri_scheme_protocol("bare", |_, _| {
            tauri::http::Response::builder().header("content-type", "text/html").body(PAGE.as_bytes().to_vec()).unwrap()
        })
        .setup(|app| {
            let url = WebviewUrl::CustomProtocol("bare://localhost/".parse().expect("a valid URL"));
            WebviewWindowBuilder::new(app, "main", url)
                .title("bare window")
                .inner_size(1200.0, 800.0)
                .on_page_load(|_, payload| {
                    if matches!(payload.event(), tauri::webview::PageLoadEvent::Finished) {
                        eprintln!("bare page loaded");
                    }
                })
                .build()?;
            Ok(())
        })
        .run(context)
        .expect("the bare window could not start");
}
