//! A file an agent sends from the composer. The bytes travel as the raw body of the `send_file`
//! command (no JSON array of numbers, no base64 of a 100 MB document); what to do with them
//! travels in one header, [`FILE_HEADER`]: base64 of the JSON of a [`FileSend`] (base64, because
//! a header carries no raw UTF-8 and captions and file names are anything).

use base64::Engine as _;
use coexist_core::ConversationKey;
use coexist_engine::OutgoingFile;
use coexist_store::OutboxItem;
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
}

impl FileSend {
    /// Read [`FILE_HEADER`]'s value.
    pub fn from_header(value: Option<&str>) -> ActionResult<FileSend> {
        let value = value.ok_or("the file came without its description; pick it again")?;
        let json = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|e| format!("the file's description is not base64: {e}"))?;
        serde_json::from_slice(&json).map_err(|e| format!("the file's description is not readable: {e}"))
    }
}

impl Backend {
    /// Check, upload and queue a file (see `Engine::send_file`).
    pub async fn send_file(&self, send: FileSend, bytes: Vec<u8>) -> ActionResult<OutboxItem> {
        let file = OutgoingFile { name: send.name, mime_type: send.mime_type, bytes };
        self.engine.send_file(&send.conversation, file, &send.caption).await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_carries_any_text() {
        let json = r#"{"conversation":{"phone_number_id":"1","contact":"111"},"name":"Fatura nº 7 <b>.pdf","mime_type":"application/pdf","caption":"Olá 👋"}"#;
        let header = base64::engine::general_purpose::STANDARD.encode(json);
        let send = FileSend::from_header(Some(&header)).unwrap();
        assert_eq!(send.name, "Fatura nº 7 <b>.pdf");
        assert_eq!(send.caption, "Olá 👋");
        assert!(FileSend::from_header(None).unwrap_err().contains("pick it again"));
        assert!(FileSend::from_header(Some("%%%")).unwrap_err().contains("base64"));
        let not_json = base64::engine::general_purpose::STANDARD.encode("{");
        assert!(FileSend::from_header(Some(&not_json)).unwrap_err().contains("not readable"));
    }
}
