//! A customer's files: a photo shown in the thread (as a `data:` URL, which the CSP allows for
//! images only), and any file saved to the Downloads folder under a name that cannot escape it.
//! The bytes come through the bridge, which holds Meta's token.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::actions::ActionResult;
use crate::backend::Backend;

/// Photos larger than this are saved, not shown inline.
const MAX_PREVIEW_BYTES: usize = 16 * 1024 * 1024;
const MAX_NAME_CHARS: usize = 120;

impl Backend {
    /// The photo `media_id` as a `data:` URL for an `<img>`.
    pub async fn media_preview(&self, media_id: &str) -> ActionResult<String> {
        let file = self.engine.client().media(media_id).await.map_err(|e| format!("Could not fetch the photo: {e}"))?;
        let mime = file.mime_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !mime.starts_with("image/") || !mime.chars().all(|c| c.is_ascii_alphanumeric() || "/+.-".contains(c)) {
            return Err(format!("This file is {mime:?}, not a photo: save it instead."));
        }
        if file.bytes.len() > MAX_PREVIEW_BYTES {
            return Err("This photo is too large to show here: save it instead.".into());
        }
        Ok(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(&file.bytes)))
    }

    /// Save `media_id` in `dir` (created if needed) as the customer's file name made safe, never
    /// over an existing file. Returns where it went.
    pub async fn save_media(&self, media_id: &str, file_name: Option<&str>, dir: &Path) -> ActionResult<PathBuf> {
        let file = self.engine.client().media(media_id).await.map_err(|e| format!("Could not fetch the file: {e}"))?;
        let name = safe_file_name(file_name, media_id, &file.mime_type);
        std::fs::create_dir_all(dir).map_err(|e| format!("Cannot create {}: {e}", dir.display()))?;
        let path = unused_path(dir, &name);
        std::fs::write(&path, &file.bytes).map_err(|e| format!("Cannot save {}: {e}", path.display()))?;
        Ok(path)
    }
}

/// The customer's file name, reduced to a plain name in one folder: no directories, no control
/// characters, no leading dots; `whatsapp-<id>.<ext>` when nothing usable is left.
pub fn safe_file_name(name: Option<&str>, media_id: &str, mime_type: &str) -> String {
    let last = name.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        format!("whatsapp-{media_id}.{}", extension(mime_type))
    } else {
        cleaned
    }
}

fn extension(mime_type: &str) -> &'static str {
    match mime_type.split(';').next().unwrap_or("").trim() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "application/pdf" => "pdf",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "video/mp4" => "mp4",
        _ => "bin",
    }
}

/// `dir/name`, or `dir/stem (2).ext`, `(3)`, ... when taken.
fn unused_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    (2..).map(|n| dir.join(format!("{stem} ({n}){ext}"))).find(|p| !p.exists()).expect("some number is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_file_name_cannot_leave_the_folder_or_hide() {
        assert_eq!(safe_file_name(Some("invoice.pdf"), "1", "application/pdf"), "invoice.pdf");
        assert_eq!(safe_file_name(Some("../../.bashrc"), "1", "text/plain"), "bashrc");
        assert_eq!(safe_file_name(Some("C:\\Users\\x\\evil.exe"), "1", "application/pdf"), "evil.exe");
        assert_eq!(safe_file_name(Some("a\u{0}b\nc.pdf"), "1", "application/pdf"), "abc.pdf");
        assert_eq!(safe_file_name(Some(".."), "7", "application/pdf"), "whatsapp-7.pdf");
        assert_eq!(safe_file_name(None, "7", "image/jpeg"), "whatsapp-7.jpg");
        assert_eq!(safe_file_name(Some(&"x".repeat(500)), "7", "image/png").chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn saving_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(unused_path(dir.path(), "a.pdf"), dir.path().join("a.pdf"));
        std::fs::write(dir.path().join("a.pdf"), "1").unwrap();
        assert_eq!(unused_path(dir.path(), "a.pdf"), dir.path().join("a (2).pdf"));
        std::fs::write(dir.path().join("a (2).pdf"), "2").unwrap();
        assert_eq!(unused_path(dir.path(), "a.pdf"), dir.path().join("a (3).pdf"));
        std::fs::write(dir.path().join("README"), "r").unwrap();
        assert_eq!(unused_path(dir.path(), "README"), dir.path().join("README (2)"));
    }
}
