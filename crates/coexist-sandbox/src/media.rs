//! Media customers send. As on Meta: `GET /{version}/{media_id}` answers the file's metadata with a
//! download URL, and that URL answers the bytes to a request carrying the access token. The
//! sandbox has one sample file per kind it can serve: photos (PNG) and documents (PDF); other
//! media ids are unknown objects, like an expired media id on Meta.

use sha2::{Digest, Sha256};
use serde_json::{json, Value};

const PHOTO: &[u8] = include_bytes!("../assets/photo.png");
const DOCUMENT: &[u8] = include_bytes!("../assets/invoice.pdf");

pub const PHOTO_MIME: &str = "image/png";
pub const DOCUMENT_MIME: &str = "application/pdf";

/// The bytes served for a file of this type, when the sandbox has a sample of it.
pub fn sample(mime_type: &str) -> Option<&'static [u8]> {
    if mime_type.starts_with("image/") {
        Some(PHOTO)
    } else if mime_type == DOCUMENT_MIME {
        Some(DOCUMENT)
    } else {
        None
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
        assert!(sample("audio/ogg").is_none());
        let m = metadata("123", PHOTO_MIME, "http://x/media/123".into()).unwrap();
        assert_eq!(m["file_size"], PHOTO.len());
        assert_eq!(m["sha256"].as_str().unwrap().len(), 64);
    }
}
