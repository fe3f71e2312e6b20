//! A file an agent sends: checked against Meta's table of types and sizes before it is uploaded
//! (through the bridge, which holds the token), then sent as an `image`, `document`, `audio` or
//! `video` message naming the uploaded media id.

use coexist_core::{sendable_kind, ContactKey, SendableKind, MAX_CAPTION_LEN};
use serde_json::{json, Value};

use crate::compose::ComposeError;

/// A file picked on the desktop.
#[derive(Clone, Debug)]
pub struct OutgoingFile {
    /// The name the customer sees on a document (any directories stripped).
    pub name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

impl OutgoingFile {
    /// How this file goes out, or why it cannot.
    pub fn kind(&self) -> Result<SendableKind, ComposeError> {
        let kind = sendable_kind(&self.mime_type).ok_or_else(|| ComposeError::UnsupportedFile {
            name: self.base_name().to_string(),
            mime_type: match self.mime_type.trim() {
                "" => "of a type the desktop could not tell".to_string(),
                known => known.to_string(),
            },
        })?;
        if self.bytes.is_empty() {
            return Err(ComposeError::EmptyFile(self.base_name().to_string()));
        }
        if self.bytes.len() > kind.max_bytes {
            return Err(ComposeError::FileTooLarge {
                name: self.base_name().to_string(),
                kind: kind.message_type,
                size_mb: self.bytes.len() as f64 / (1024.0 * 1024.0),
                max_mb: kind.max_bytes / (1024 * 1024),
            });
        }
        Ok(kind)
    }

    /// The name without any directory part, as a document's `filename`.
    pub fn base_name(&self) -> &str {
        let name = self.name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
        if name.is_empty() {
            "file"
        } else {
            name
        }
    }
}

/// Check a caption before anything is uploaded.
pub fn check_caption(kind: SendableKind, caption: &str) -> Result<(), ComposeError> {
    if caption.trim().is_empty() {
        return Ok(());
    }
    if !kind.takes_caption() {
        return Err(ComposeError::CaptionNotAllowed(kind.message_type));
    }
    let len = caption.chars().count();
    if len > MAX_CAPTION_LEN {
        return Err(ComposeError::CaptionTooLong(len));
    }
    Ok(())
}

/// The Graph message for an uploaded file of `kind` named `file_name` (see [`OutgoingFile::kind`]).
pub fn media_message(
    contact: &ContactKey,
    kind: SendableKind,
    file_name: &str,
    media_id: &str,
    caption: &str,
) -> Result<Value, ComposeError> {
    check_caption(kind, caption)?;
    let mut media = json!({ "id": media_id });
    if !caption.trim().is_empty() {
        media["caption"] = json!(caption);
    }
    if kind.message_type == "document" {
        media["filename"] = json!(file_name);
    }
    let mut m = crate::compose::envelope(contact)?;
    m.insert("type".into(), json!(kind.message_type));
    m.insert(kind.message_type.into(), media);
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, mime: &str, len: usize) -> OutgoingFile {
        OutgoingFile { name: name.into(), mime_type: mime.into(), bytes: vec![1; len] }
    }

    fn message_for(contact: &str, f: &OutgoingFile, caption: &str) -> Result<Value, ComposeError> {
        media_message(&ContactKey::from_wa_id(contact), f.kind()?, f.base_name(), "42", caption)
    }

    #[test]
    fn a_document_carries_its_name_and_caption() {
        let m = message_for("111", &file("/home/a/Invoice 7.pdf", "application/pdf", 10), "Your invoice").unwrap();
        assert_eq!(m["type"], "document");
        assert_eq!(m["document"], json!({"id": "42", "caption": "Your invoice", "filename": "Invoice 7.pdf"}));
        assert_eq!(m["to"], "111");
    }

    #[test]
    fn a_photo_has_no_filename_and_an_empty_caption_is_left_out() {
        let m = message_for("111", &file("C:\\Users\\a\\p.png", "image/png", 10), "  ").unwrap();
        assert_eq!(m["image"], json!({"id": "42"}));
    }

    #[test]
    fn refusals_say_what_to_change() {
        let too_big = file("big.png", "image/png", 5 * 1024 * 1024 + 1).kind().unwrap_err();
        assert!(too_big.to_string().contains("5 MB"), "{too_big}");
        let gif = file("a.gif", "image/gif", 10).kind().unwrap_err();
        assert!(gif.to_string().contains("a.gif") && gif.to_string().contains("PDF"), "{gif}");
        assert_eq!(file("e.pdf", "application/pdf", 0).kind().unwrap_err(), ComposeError::EmptyFile("e.pdf".into()));
        let audio = sendable_kind("audio/mpeg").unwrap();
        assert_eq!(check_caption(audio, "hi").unwrap_err(), ComposeError::CaptionNotAllowed("audio"));
        let image = sendable_kind("image/png").unwrap();
        assert_eq!(check_caption(image, &"x".repeat(1025)).unwrap_err(), ComposeError::CaptionTooLong(1025));
        let hidden = message_for("user:abc", &file("p.png", "image/png", 1), "");
        assert!(matches!(hidden, Err(ComposeError::HiddenNumber(_))));
    }
}
