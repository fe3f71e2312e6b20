//! A file an agent sends from the composer, as a message or as a template's media header. The
//! bytes travel as the raw body of the `send_file` / `upload_header_file` command (no JSON array
//! of numbers, no base64 of a 100 MB document); what to do with them travels in one header,
//! [`FILE_HEADER`]: base64 of the JSON of a [`FileSend`] or [`HeaderFile`] (base64, because a
//! header carries no raw UTF-8 and captions and file names are anything).

use base64::Engine as _;
use coexist_core::ConversationKey;
use coexist_engine::OutgoingFile;
use coexist_store::OutboxItem;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::actions::{err, ActionResult};
use crate::backend::Backend;

pub const FILE_HEADER: &str = "x-coexist-file";

/// Where the file goes and what it is.
#[derive(Debug, Deserialize, PartialEq)]
pub struct FileSend {
    pub conversation: ConversationKey,
    pub name: String,
    /// The type the webview read from the file (`File.type`); empty when it did not know.
    #[serde(default)]
    pub mime_type: String,
    #[serde(default)]
    pub caption: String,
    /// The conversation's message this file replies to (quoted above it).
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// A file for a template's media header: uploaded now, named by its media id when the template
/// is sent (a closed window has no free-form message to carry it).
#[derive(Debug, Deserialize, PartialEq)]
pub struct HeaderFile {
    pub phone_number_id: String,
    pub name: String,
    #[serde(default)]
    pub mime_type: String,
    /// The header's format, lower case: `image`, `video` or `document`.
    pub kind: String,
}

/// The bytes (the raw body) and what to do with them ([`FILE_HEADER`]) of a file command.
pub fn from_request<T: DeserializeOwned>(request: &tauri::ipc::Request<'_>) -> ActionResult<(T, Vec<u8>)> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err("the file must come as raw bytes, not JSON".into());
    };
    let header = request.headers().get(FILE_HEADER).and_then(|v| v.to_str().ok());
    Ok((decode_header(header)?, bytes.clone()))
}

/// Read [`FILE_HEADER`]'s value.
pub fn decode_header<T: DeserializeOwned>(value: Option<&str>) -> ActionResult<T> {
    let value = value.ok_or("the file came without its description; pick it again")?;
    let json = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|e| format!("the file's description is not base64: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("the file's description is not readable: {e}"))
}

impl Backend {
    /// Check, upload and queue a file (see `Engine::send_file`).
    pub async fn send_file(&self, send: FileSend, bytes: Vec<u8>) -> ActionResult<OutboxItem> {
        let file = OutgoingFile { name: send.name, mime_type: send.mime_type, bytes };
        self.engine.send_file(&send.conversation, file, &send.caption, send.reply_to.as_deref()).await.map_err(err)
    }

    /// Upload a template header's file; its media id goes in `TemplateParams::header_media_id`.
    pub async fn upload_header_file(&self, header: HeaderFile, bytes: Vec<u8>) -> ActionResult<String> {
        let file = OutgoingFile { name: header.name, mime_type: header.mime_type, bytes };
        let kind = file.kind().map_err(err)?.message_type;
        if kind != header.kind {
            return Err(format!("this template's header takes {} files; {} would go as {kind}", header.kind, file.base_name()));
        }
        self.engine.upload_file(&header.phone_number_id, file).await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_carries_any_text() {
        let json = r#"{"conversation":{"phone_number_id":"1","contact":"111"},"name":"Fatura nº 7 <b>.pdf","mime_type":"application/pdf","caption":"Olá 👋"}"#;
        let header = base64::engine::general_purpose::STANDARD.encode(json);
        let send: FileSend = decode_header(Some(&header)).unwrap();
        assert_eq!(send.name, "Fatura nº 7 <b>.pdf");
        assert_eq!(send.caption, "Olá 👋");
        assert!(decode_header::<FileSend>(None).unwrap_err().contains("pick it again"));
        assert!(decode_header::<FileSend>(Some("%%%")).unwrap_err().contains("base64"));
        let not_json = base64::engine::general_purpose::STANDARD.encode("{");
        assert!(decode_header::<HeaderFile>(Some(&not_json)).unwrap_err().contains("not readable"));
    }
}
