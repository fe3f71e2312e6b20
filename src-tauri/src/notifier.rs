//! Desktop notifications through the freedesktop notification service (D-Bus), via notify-rust.
//!
//! Uses `show_async`: the blocking `show()` must not run on the async runtime's threads. Customer
//! text is escaped because notification servers may render a subset of HTML in the body.

use notify_rust::Notification;

/// The name notification servers show as the sender.
pub const APP_NAME: &str = "Coexist Inbox";
const MAX_BODY: usize = 200;

/// The engine decides what deserves a notification; this shows it on the desktop without blocking
/// the engine (the D-Bus call runs as its own task; failures are logged, never fatal).
#[derive(Clone, Copy, Debug, Default)]
pub struct DesktopNotifier;

impl coexist_engine::Notifier for DesktopNotifier {
    fn notify(&self, title: &str, body: &str) {
        let (title, body) = (title.to_string(), body.to_string());
        tauri::async_runtime::spawn(async move {
            if let Err(e) = show(&title, &body).await {
                tracing::warn!(error = %e, "could not show a desktop notification (is a notification service running?)");
            }
        });
    }
}

/// Build the notification for a new customer message. `title`: who wrote; `body`: a text preview.
pub fn notification(title: &str, body: &str) -> Notification {
    let mut n = Notification::new();
    n.appname(APP_NAME)
        // The summary is plain text by the spec; only the body may be read as markup.
        .summary(&plain(&shorten(title, 80)))
        .body(&escape_markup(&shorten(body, MAX_BODY)))
        .icon("mail-unread");
    n
}

/// Show it; errors (no notification service running) are returned, never panicked on.
pub async fn show(title: &str, body: &str) -> Result<(), String> {
    notification(title, body)
        .show_async()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
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
