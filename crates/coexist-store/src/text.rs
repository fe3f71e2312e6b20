//! Plain text from message bodies: for search, previews and notifications.
//!
//! Customer strings are hostile: control characters (bidi overrides, NULs, escapes) are
//! dropped, and the two private-use characters the search uses as highlight markers are
//! removed so a message can never forge a highlight.

use coexist_core::MessageBody;

/// Marks the start of a search match inside an FTS snippet (never present in stored text).
pub(crate) const MATCH_START: char = '\u{E000}';
/// Marks the end of a search match inside an FTS snippet.
pub(crate) const MATCH_END: char = '\u{E001}';

/// The longest preview kept for the conversation list.
pub const PREVIEW_CHARS: usize = 140;

/// Remove control characters and our marker characters; keep newlines and tabs as spaces.
pub fn sanitize(text: &str) -> String {
    if !text.chars().any(needs_cleaning) {
        return text.to_string();
    }
    text.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            MATCH_START | MATCH_END => None,
            c if c.is_control() || is_bidi_control(c) => None,
            c => Some(c),
        })
        .collect()
}

fn needs_cleaning(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || c == MATCH_START || c == MATCH_END
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// The searchable text of a body (`None` when it has no words: media without caption ...).
pub fn searchable_text(body: &MessageBody) -> Option<String> {
    let text = match body {
        MessageBody::Text { body } | MessageBody::System { body } => Some(body.clone()),
        MessageBody::Image { media }
        | MessageBody::Video { media }
        | MessageBody::Document { media }
        | MessageBody::Sticker { media } => {
            let parts: Vec<&str> = [media.caption.as_deref(), media.filename.as_deref()].into_iter().flatten().collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        MessageBody::Audio { media, .. } => media.caption.clone(),
        MessageBody::Location { name, address, .. } => {
            let parts: Vec<&str> = [name.as_deref(), address.as_deref()].into_iter().flatten().collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        MessageBody::Contacts { names } => (!names.is_empty()).then(|| names.join(", ")),
        MessageBody::Reaction { .. } | MessageBody::Unsupported { .. } => None,
        MessageBody::Interactive { title, .. } => Some(title.clone()),
        MessageBody::Choices { body, choices } => Some(format!("{body} {}", choices.join(" "))),
        MessageBody::Button { text, .. } => Some(text.clone()),
        MessageBody::Order { text, .. } => text.clone(),
        MessageBody::Template { name, rendered, .. } => Some(rendered.clone().unwrap_or_else(|| name.clone())),
    }?;
    let clean = sanitize(&text);
    (!clean.trim().is_empty()).then_some(clean)
}

/// A one-line description of a message for lists and notifications.
pub fn preview(body: &MessageBody) -> String {
    let label = match body {
        MessageBody::Text { .. }
        | MessageBody::System { .. }
        | MessageBody::Interactive { .. }
        | MessageBody::Button { .. }
        | MessageBody::Choices { .. } => "",
        MessageBody::Image { .. } => "Photo",
        MessageBody::Document { .. } => "Document",
        MessageBody::Audio { voice: true, .. } => "Voice message",
        MessageBody::Audio { .. } => "Audio",
        MessageBody::Video { .. } => "Video",
        MessageBody::Sticker { .. } => "Sticker",
        MessageBody::Location { .. } => "Location",
        MessageBody::Contacts { .. } => "Contact card",
        MessageBody::Order { .. } => "Order",
        MessageBody::Template { .. } => "Template",
        MessageBody::Reaction { emoji, .. } if emoji.is_empty() => "Removed a reaction",
        MessageBody::Reaction { .. } => "Reacted",
        MessageBody::Unsupported { .. } => "Message type not supported",
    };
    let text = match body {
        MessageBody::Reaction { emoji, .. } => Some(sanitize(emoji)),
        // The list shows what was asked; the choices are in the thread.
        MessageBody::Choices { body, .. } => Some(sanitize(body)),
        _ => searchable_text(body),
    };
    let line = match (label, text) {
        ("", Some(t)) => t,
        ("", None) => String::new(),
        (l, Some(t)) => format!("{l}: {t}"),
        (l, None) => l.to_string(),
    };
    truncate(line.trim(), PREVIEW_CHARS)
}

/// Cut to at most `max` characters (not bytes), marking the cut with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The preview shown for a message the Business App user deleted for everyone.
pub const REVOKED_PREVIEW: &str = "Message deleted";

#[cfg(test)]
mod tests {
    use super::*;
    use coexist_core::Media;

    #[test]
    fn sanitize_drops_controls_and_markers() {
        assert_eq!(sanitize("a\u{0}b\u{202E}c\u{E000}d\ne"), "abcd e");
    }

    #[test]
    fn preview_labels_media_and_truncates() {
        let img = MessageBody::Image { media: Media { caption: Some("menu".into()), ..Default::default() } };
        assert_eq!(preview(&img), "Photo: menu");
        let long = MessageBody::Text { body: "x".repeat(500) };
        assert_eq!(preview(&long).chars().count(), PREVIEW_CHARS);
        assert!(preview(&long).ends_with('…'));
    }

    #[test]
    fn reaction_has_no_searchable_text() {
        let r = MessageBody::Reaction { message_id: "w".into(), emoji: "👍".into() };
        assert_eq!(searchable_text(&r), None);
        assert_eq!(preview(&r), "Reacted: 👍");
    }
}
