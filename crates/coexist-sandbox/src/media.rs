//! Media. As on Meta: `GET /{version}/{media_id}` answers the file's metadata with a download
//! URL, and that URL answers the bytes to a request carrying the access token. Customers' files
//! are served from one real sample per kind: photos (PNG), stickers (512×512 WebP), documents
//! (PDF), voice notes (Ogg Opus) and videos (H.264/AAC MP4); other media ids are unknown objects,
//! like an expired media id on Meta. Files the business uploads
//! (`POST /{version}/{phone_number_id}/media`) are kept whole and served as uploaded, after the
//! checks Meta makes: the file's type and its size for that type.

use axum::body::Bytes;
use sha2::{Digest, Sha256};
use serde_json::{json, Value};

use crate::error::GraphError;

/// A file the business uploaded.
#[derive(Clone, Debug)]
pub struct Upload {
    pub mime_type: String,
    pub bytes: Bytes,
}

const KB: usize = 1024;
const MB: usize = 1024 * KB;

/// Meta's supported media types and the largest file of each (the Cloud API's media reference).
const UPLOAD_LIMITS: &[(&str, usize)] = &[
    ("audio/aac", 16 * MB),
    ("audio/amr", 16 * MB),
    ("audio/mpeg", 16 * MB),
    ("audio/mp4", 16 * MB),
    ("audio/ogg", 16 * MB),
    ("text/plain", 100 * MB),
    ("application/pdf", 100 * MB),
    ("application/msword", 100 * MB),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 100 * MB),
    ("application/vnd.ms-excel", 100 * MB),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 100 * MB),
    ("application/vnd.ms-powerpoint", 100 * MB),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", 100 * MB),
    ("image/jpeg", 5 * MB),
    ("image/png", 5 * MB),
    ("image/webp", 500 * KB),
    ("video/mp4", 16 * MB),
    ("video/3gpp", 16 * MB),
];

/// Meta's checks on an upload: a supported type, and no larger than that type allows.
pub fn check_upload(mime_type: &str, len: usize) -> Result<(), GraphError> {
    let essence = mime_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let Some((_, max)) = UPLOAD_LIMITS.iter().find(|(t, _)| *t == essence) else {
        let types: Vec<&str> = UPLOAD_LIMITS.iter().map(|(t, _)| *t).collect();
        return Err(GraphError::invalid_parameter(format!(
            "Param file must be a file with one of the following types: {}. Received file of type '{mime_type}'.",
            types.join(", ")
        )));
    };
    if len > *max {
        return Err(GraphError::invalid_parameter(format!(
            "Param file of type '{essence}' must be at most {max} bytes; received {len} bytes."
        )));
    }
    Ok(())
}

/// `GET /{version}/{media_id}` for an uploaded file.
pub fn upload_metadata(id: &str, upload: &Upload, download_url: String) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "url": download_url,
        "mime_type": upload.mime_type,
        "sha256": sha256(&upload.bytes),
        "file_size": upload.bytes.len(),
        "id": id,
    })
}

const PHOTO: &[u8] = include_bytes!("../assets/photo.png");
const STICKER: &[u8] = include_bytes!("../assets/sticker.webp");
const DOCUMENT: &[u8] = include_bytes!("../assets/invoice.pdf");
const VOICE: &[u8] = include_bytes!("../assets/voice.ogg");
const VIDEO: &[u8] = include_bytes!("../assets/clip.mp4");

pub const PHOTO_MIME: &str = "image/png";
pub const DOCUMENT_MIME: &str = "application/pdf";

/// The bytes served for a file of this type, when the sandbox has a sample of it.
pub fn sample(mime_type: &str) -> Option<&'static [u8]> {
    let essence = mime_type.split(';').next().unwrap_or_default().trim();
    match essence {
        "image/webp" => Some(STICKER),
        DOCUMENT_MIME => Some(DOCUMENT),
        other if other.starts_with("image/") => Some(PHOTO),
        other if other.starts_with("audio/") => Some(VOICE),
        other if other.starts_with("video/") => Some(VIDEO),
        _ => None,
    }
}

/// The sample's sha256, as Meta puts it in the webhook and the metadata.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `GET /{version}/{media_id}`: what Meta answers; `download_url` is where the bytes are.
pub fn metadata(id: &str, mime_type: &str, download_url: String) -> Option<Value> {
    let bytes = sample(mime_type)?;
    Some(json!({
        "messaging_product": "whatsapp",
        "url": download_url,
        "mime_type": mime_type,
        "sha256": sha256(bytes),
        "file_size": bytes.len(),
        "id": id,
    }))
}

/// Media ids in a customer's message object (`image.id`, `document.id`, ...) with their type.
pub fn ids_in(message: &Value) -> Option<(String, String)> {
    let kind = message["type"].as_str()?;
    let media = &message[kind];
    let id = media["id"].as_str()?;
    let mime = media["mime_type"].as_str()?;
    Some((id.to_string(), mime.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_real_files_of_their_type() {
        assert!(sample(PHOTO_MIME).unwrap().starts_with(b"\x89PNG"));
        assert!(sample("image/jpeg").is_some(), "a photo is served whatever image type was claimed");
        assert!(sample(DOCUMENT_MIME).unwrap().starts_with(b"%PDF"));
        assert!(sample("audio/ogg; codecs=opus").unwrap().starts_with(b"OggS"));
        assert_eq!(&sample("video/mp4").unwrap()[4..8], b"ftyp");
        let sticker = sample("image/webp").unwrap();
        assert!(sticker.starts_with(b"RIFF") && &sticker[8..12] == b"WEBP" && sticker.len() <= 100 * 1024, "a static sticker");
        assert!(sample("application/zip").is_none());
        let m = metadata("123", PHOTO_MIME, "http://x/media/123".into()).unwrap();
        assert_eq!(m["file_size"], PHOTO.len());
        assert_eq!(m["sha256"].as_str().unwrap().len(), 64);
    }

    #[test]
    fn uploads_are_checked_like_meta() {
        assert!(check_upload("image/png", 5 * MB).is_ok());
        assert!(check_upload("audio/ogg; codecs=opus", 10).is_ok());
        let big = check_upload("image/jpeg", 5 * MB + 1).unwrap_err();
        assert_eq!(big.code, 100);
        assert!(big.details.unwrap().contains("at most"));
        let gif = check_upload("image/gif", 10).unwrap_err();
        assert_eq!(gif.code, 100);
        assert!(gif.details.unwrap().contains("'image/gif'"));
        assert!(check_upload("image/webp", 500 * KB + 1).is_err(), "a sticker is small");
    }
}
