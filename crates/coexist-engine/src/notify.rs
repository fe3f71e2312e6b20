//! Desktop notifications: the engine decides *what* deserves one; the app decides *how* to show
//! it (notify-rust) by implementing [`Notifier`].
//!
//! Rules: a new inbound customer message; a window about to close (< 1 h) on an unanswered
//! conversation; a failed send. Never for history or echoes, and never twice for one thing: every
//! notification first claims a key in the store's persistent ledger.

use std::sync::{Arc, Mutex};

use coexist_core::ConversationKey;

/// How long before a window closes we warn.
pub const CLOSING_WARNING_SECS: i64 = 3600;

/// Shows a notification. Implementations must not block for long (the sync loop calls this).
pub trait Notifier: Send + Sync {
    /// `about`: the conversation it concerns, which a click on the notification opens; `None`
    /// when it is about several (a burst of new messages).
    fn notify(&self, about: Option<&ConversationKey>, title: &str, body: &str);
}

/// A notifier that shows nothing (the CLI without a desktop).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNotifier;

impl Notifier for NoNotifier {
    fn notify(&self, _about: Option<&ConversationKey>, _title: &str, _body: &str) {}
}

/// One notification a [`CollectingNotifier`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub about: Option<ConversationKey>,
    pub title: String,
    pub body: String,
}

/// Collects notifications (tests, and the CLI's `sync` which prints them).
#[derive(Clone, Debug, Default)]
pub struct CollectingNotifier {
    pub shown: Arc<Mutex<Vec<Shown>>>,
}

impl CollectingNotifier {
    /// What was shown since the last take, as (title, body).
    pub fn take(&self) -> Vec<(String, String)> {
        self.take_shown().into_iter().map(|n| (n.title, n.body)).collect()
    }
    /// What was shown since the last take, with the conversation each is about.
    pub fn take_shown(&self) -> Vec<Shown> {
        std::mem::take(&mut *self.shown.lock().expect("notifier lock"))
    }
    pub fn count(&self) -> usize {
        self.shown.lock().expect("notifier lock").len()
    }
}

impl Notifier for CollectingNotifier {
    fn notify(&self, about: Option<&ConversationKey>, title: &str, body: &str) {
        let shown = Shown { about: about.cloned(), title: title.to_string(), body: body.to_string() };
        self.shown.lock().expect("notifier lock").push(shown);
    }
}

/// Customer text made safe to show in a system notification: no control or bidi-override
/// characters, whitespace collapsed, at most `max_chars` characters.
pub fn plain_preview(text: &str, max_chars: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() || is_format_char(c) { ' ' } else { c })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max_chars {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Invisible formatting characters that can reorder or hide text (bidi overrides, zero-width).
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Ledger keys: one per thing notified, so a restart or a replayed batch never notifies twice.
pub mod keys {
    pub fn inbound(wamid: &str) -> String {
        format!("inbound:{wamid}")
    }
    pub fn closing(phone_number_id: &str, contact: &str, expires_at: i64) -> String {
        format!("closing:{phone_number_id}:{contact}:{expires_at}")
    }
    pub fn failed(outbox_key: &str) -> String {
        format!("failed:{outbox_key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_strips_controls_and_truncates() {
        assert_eq!(plain_preview("hi\n\tthere\u{202E}evil\u{0007}", 100), "hi there evil");
        assert_eq!(plain_preview("abcdef", 4), "abc…");
        assert_eq!(plain_preview("   ", 4), "");
    }
}
