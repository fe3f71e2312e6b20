//! Desktop notifications through the freedesktop notification service (D-Bus), via notify-rust.
//!
//! Uses `show_async`: the blocking `show()` must not run on the async runtime's threads. Customer
//! text is escaped because notification servers may render a subset of HTML in the body.
//!
//! A click on a notification (its default action) brings the window forward and opens the
//! conversation it is about: the agent answers the customer who just wrote without looking for
//! them in the list. One listener on the session bus hears every click (`ActionInvoked`) and
//! every close (`NotificationClosed`) for all of them, not one bus connection per notification
//! waiting for its own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use coexist_core::ConversationKey;
use futures::StreamExt;
use notify_rust::Notification;
use tauri::{AppHandle, Emitter, Manager};

use crate::events;

/// The name notification servers show as the sender.
pub const APP_NAME: &str = "Coexist Inbox";
const MAX_BODY: usize = 200;
const INTERFACE: &str = "org.freedesktop.Notifications";
/// Shown notifications remembered for a click. Servers that keep notifications until dismissed
/// may never say they closed; beyond this many, the oldest is forgotten (a click on it then does
/// nothing).
const REMEMBERED: usize = 500;

/// What each shown notification is about, by the id the server gave it.
type Shown = Arc<Mutex<BTreeMap<u32, Option<ConversationKey>>>>;

/// The engine decides what deserves a notification; this shows it on the desktop without blocking
/// the engine (the D-Bus call runs as its own task; failures are logged, never fatal).
#[derive(Clone)]
pub struct DesktopNotifier {
    shown: Shown,
}

impl DesktopNotifier {
    /// Also starts the click listener (on the app's runtime; without a session bus it logs why
    /// and notifications are still shown).
    pub fn new(app: AppHandle) -> DesktopNotifier {
        let shown = Shown::default();
        tauri::async_runtime::spawn(listen_for_clicks(app, shown.clone()));
        DesktopNotifier { shown }
    }
}

impl coexist_engine::Notifier for DesktopNotifier {
    fn notify(&self, about: Option<&ConversationKey>, title: &str, body: &str) {
        let (shown, about) = (self.shown.clone(), about.cloned());
        let notification = notification(title, body);
        tauri::async_runtime::spawn(async move {
            match notification.show_async().await {
                Ok(handle) => remember(&shown, handle.id(), about),
                Err(e) => tracing::warn!(error = %e, "could not show a desktop notification (is a notification service running?)"),
            }
        });
    }
}

fn remember(shown: &Shown, id: u32, about: Option<ConversationKey>) {
    let mut shown = shown.lock().unwrap_or_else(|p| p.into_inner());
    shown.insert(id, about);
    while shown.len() > REMEMBERED {
        shown.pop_first();
    }
}

/// Hear the notification server's signals until the bus goes away: a click ("default" action)
/// on one of ours opens it; a close forgets it.
async fn listen_for_clicks(app: AppHandle, shown: Shown) {
    if let Err(e) = listen(&app, &shown).await {
        tracing::warn!(error = %e, "clicks on desktop notifications will not open conversations (no session bus?)");
    }
}

async fn listen(app: &AppHandle, shown: &Shown) -> zbus::Result<()> {
    let bus = zbus::Connection::session().await?;
    let rule = zbus::MatchRule::builder().msg_type(zbus::message::Type::Signal).interface(INTERFACE)?.build();
    let mut signals = zbus::MessageStream::for_match_rule(rule, &bus, None).await?;
    while let Some(signal) = signals.next().await {
        let signal = signal?;
        let header = signal.header();
        match header.member().map(|m| m.as_str()) {
            Some("ActionInvoked") => {
                let (id, action): (u32, String) = signal.body().deserialize()?;
                let ours = shown.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                if let (Some(about), "default") = (ours, action.as_str()) {
                    open_from_notification(app, about);
                }
            }
            Some("NotificationClosed") => {
                let (id, _reason): (u32, u32) = signal.body().deserialize()?;
                shown.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            }
            _ => {}
        }
    }
    Ok(())
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
    fn only_the_latest_notifications_are_remembered_for_a_click() {
        let shown = Shown::default();
        for id in 1..=(REMEMBERED as u32 + 2) {
            remember(&shown, id, None);
        }
        let shown = shown.lock().unwrap();
        assert_eq!(shown.len(), REMEMBERED);
        assert_eq!((shown.first_key_value().map(|(id, _)| *id), shown.last_key_value().map(|(id, _)| *id)), (Some(3), Some(REMEMBERED as u32 + 2)));
    }

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
