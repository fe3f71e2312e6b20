//! The files an agent can send through the Cloud API: which MIME types Meta accepts, as which
//! message type, and up to what size (Meta's "supported media types" table). Checked on the
//! desktop before an upload, so an agent hears at once that a 7 MB photo is too big instead of
//! waiting for Meta to refuse it. Stickers are left out: agents send them from the phone.

/// How a file goes out: the message `type` and the largest file Meta takes for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendableKind {
    /// `image`, `document`, `audio` or `video`.
    pub message_type: &'static str,
    pub max_bytes: usize,
}

impl SendableKind {
    /// Audio goes without a caption; the other kinds carry one.
    pub fn takes_caption(&self) -> bool {
        self.message_type != "audio"
    }
}

const MB: usize = 1024 * 1024;
const IMAGE: SendableKind = SendableKind { message_type: "image", max_bytes: 5 * MB };
const DOCUMENT: SendableKind = SendableKind { message_type: "document", max_bytes: 100 * MB };
const AUDIO: SendableKind = SendableKind { message_type: "audio", max_bytes: 16 * MB };
const VIDEO: SendableKind = SendableKind { message_type: "video", max_bytes: 16 * MB };

/// Longest caption Meta accepts on a media message.
pub const MAX_CAPTION_LEN: usize = 1024;

/// What Meta does with a file of this MIME type (parameters such as `; codecs=opus` ignored),
/// or `None` when the Cloud API cannot send it.
pub fn sendable_kind(mime: &str) -> Option<SendableKind> {
    let essence = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "image/jpeg" | "image/png" => Some(IMAGE),
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.ms-excel"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => Some(DOCUMENT),
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => Some(AUDIO),
        "video/mp4" | "video/3gpp" => Some(VIDEO),
        _ => None,
    }
}

/// The file types an agent can send, in words, for refusals.
pub const SENDABLE_DESCRIPTION: &str =
    "JPEG or PNG photos (5 MB), PDF, Word, Excel, PowerPoint or text documents (100 MB), AAC, AMR, MP3, M4A or OGG audio and MP4 or 3GP video (16 MB)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_table() {
        assert_eq!(sendable_kind("image/png").unwrap().message_type, "image");
        assert_eq!(sendable_kind("IMAGE/JPEG").unwrap().max_bytes, 5 * MB);
        assert_eq!(sendable_kind("application/pdf").unwrap().max_bytes, 100 * MB);
        assert_eq!(sendable_kind("audio/ogg; codecs=opus").unwrap().message_type, "audio");
        assert_eq!(sendable_kind("video/mp4").unwrap().max_bytes, 16 * MB);
        assert!(!sendable_kind("audio/mpeg").unwrap().takes_caption());
        assert!(sendable_kind("document").is_none());
        for refused in ["image/gif", "image/webp", "application/zip", "text/html", "image/svg+xml", ""] {
            assert!(sendable_kind(refused).is_none(), "{refused}");
        }
    }
}
