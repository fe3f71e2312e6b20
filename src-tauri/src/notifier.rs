//! Desktop notifications through the freedesktop notification service (D-Bus), via notify-rust.
//!
//! Uses `show_async`: the blocking `show()` must not run on the async runtime's threads. Customer
//! text is escaped because notification servers may render a subset of HTML in the body.
//!
//! A click on a notification (its default action) brings the window forward and opens the
//! conversation it is about: the agent answers the customer who just wrote without looking for
//! them in the list.

use std::time::Duration;

use coexist_core::ConversationKey;
use notify_rust::{Notification, NotificationResponse};
use tauri::{AppHandle, Emitter, Manager};

use crate::events;

/// The name notification servers show as the sender.
pub const APP_NAME: &str = "Coexist Inbox";
const MAX_BODY: usize = 200;
/// How long a shown notification is listened to for a click. Servers that keep notifications
/// until dismissed would otherwise hold a listener for each one for as long as the app runs.
const CLICK_WAIT: Duration = Duration::from_secs(6 * 3600);

/// The engine decides what deserves a notification; this shows it on the desktop without blocking
/// the engine (the D-Bus call runs as its own task; failures are logged, never fatal).
#[derive(Clone)]
pub struct DesktopNotifier {
    app: AppHandle,
}

impl DesktopNotifier {
    pub fn new(app: AppHandle) -> DesktopNotifier {
        DesktopNotifier { app }
    }
}

impl coexist_engine::Notifier for DesktopNotifier {
    fn notify(&self, about: Option<&ConversationKey>, title: &str, body: &str) {
        let (app, about) = (self.app.clone(), about.cloned());
        let notification = notification(title, body);
        tauri::async_runtime::spawn(async move {
            let handle = match notification.show_async().await {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::warn!(error = %e, "could not show a desktop notification (is a notification service running?)");
                    return;
                }
            };
            let mut clicked = false;
            let wait = handle.wait_for_action_async(|response| clicked = is_click(response));
            if tokio::time::timeout(CLICK_WAIT, wait).await.is_ok() && clicked {
                open_from_notification(&app, about);
            }
        });
    }
}

/// The notification's body was clicked (the server's "default" action), not closed.
fn is_click(response: &NotificationResponse) -> bool {
    match response {
        NotificationResponse::Default => true,
        NotificationResponse::Action(action) => action == "default",
        _ => false,
    }
}

/// Bring the window forward and, when the notification was about one conversation, open it.
fn open_from_notification(app: &AppHandle, about: Option<ConversationKey>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    if let Some(conversation) = about {
        if let Err(e) = app.emit(events::OPEN, events::UiEvent::Open { conversation }) {
            tracing::warn!(error = %e, "could not ask the webview to open the notified conversation");
        }
    }
}

/// Build the notification for a new customer message. `title`: who wrote; `body`: a text preview.
pub fn notification(title: &str, body: &str) -> Notification {
    let mut n = Notification::new();
    n.appname(APP_NAME)
        // The summary is plain text by the spec; only the body may be read as markup.
        .summary(&plain(&shorten(title, 80)))
        .body(&escape_markup(&shorten(body, MAX_BODY)))
        .icon("mail-unread")
        // "default" is the click on the notification itself; servers show no button for it.
        .action("default", "Open");
    n
}

/// `&`, `<`, `>` as entities, so `<img src=x onerror=…>` is shown as text by servers with body markup.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_customer_text_is_escaped() {
        assert_eq!(
            escape_markup("<img src=x onerror=alert(1)> & co"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; co"
        );
    }

    #[test]
    fn control_characters_are_blanked_but_newlines_kept() {
        assert_eq!(escape_markup("a\u{7}b\nc"), "a b\nc");
    }

    #[test]
    fn long_bodies_are_shortened_on_char_boundaries() {
        let long = "é".repeat(500);
        let n = notification("Ana", &long);
        assert_eq!(n.body.chars().count(), MAX_BODY);
        assert!(n.body.ends_with('…'));
        assert_eq!(n.summary, "Ana");
        let n = notification("Eve <b>", "x");
        assert_eq!(
            n.summary, "Eve <b>",
            "summaries are plain text, never escaped"
        );
        assert_eq!(n.appname, APP_NAME);
    }
}
