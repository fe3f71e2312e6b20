//! A message's contents, by type: Meta puts them under the key named by `type`
//! (`{"type": "text", "text": {"body": "hi"}}`). The same reader serves inbound messages,
//! App echoes, history, and the Graph API send bodies the bridge records (their contents use
//! the same keys: `text.body`, `image.id`/`link`, `template.name`, `reaction.emoji`, ...).
//!
//! Nothing here fails: a type we do not model, or contents we cannot read, become
//! [`MessageBody::Unsupported`] with a plain reason; the raw JSON stays on the message.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::event::{Media, MessageBody};
use crate::webhook::{FlexString, WebhookError};

/// Meta error code: "Message type unknown" — the Cloud API does not support this message type.
pub const UNSUPPORTED_TYPE_ERROR: i64 = 131051;
/// Meta error code: "This message is currently unavailable" — typical for a customer's first
/// message to a number that is also on the WhatsApp Business App.
pub const UNAVAILABLE_ERROR: i64 = 131060;

const OPEN_APP: &str = "not available through the Cloud API; open the WhatsApp Business App";

/// Plain words for a message type the inbox cannot show, e.g. for `voice`:
/// "Voice message — not available through the Cloud API; open the WhatsApp Business App".
/// Meta's Coexistence notes say inbound voice messages and locations are not currently
/// supported through the Cloud API; they arrive as `unsupported` messages.
pub fn unsupported_reason(type_name: &str) -> String {
    let label = match type_name {
        "voice" | "ptt" | "audio" => "Voice message",
        "location" | "live_location" => "Location",
        "poll_creation" | "poll_update" | "poll" => "Poll",
        "group_invite" => "Group invitation",
        "media_placeholder" => {
            return "Media from the chat history — the file was not shared with the Cloud API; open the WhatsApp Business App"
                .to_string()
        }
        "gif" => "GIF",
        "view_once" => "View-once media",
        "keep_in_chat" => "Kept message",
        "pin" => "Pinned message",
        "hsm" => "Template message",
        "product" => "Product",
        "list" => "List message",
        "link_preview" => "Link preview",
        "interactive" => "Interactive message",
        "image" => "Photo",
        "video" => "Video",
        "document" => "Document",
        "sticker" => "Sticker",
        "contacts" => "Contact card",
        "order" => "Order",
        "reaction" => "Reaction",
        "call" | "calls" => "Call",
        "ephemeral" => "Disappearing message",
        // Meta has at times delivered edits and deletions as `unsupported` messages.
        "edit" => "Edited message",
        "revoke" => "Deleted message",
        "request_welcome" => {
            return "The customer opened the chat for the first time (no message yet)".to_string();
        }
        "" | "unknown" | "unsupported" | "errors" => {
            return format!("A message Coexist cannot show — {OPEN_APP}");
        }
        other => return format!("A “{}” message — {OPEN_APP}", safe_type_name(other)),
    };
    format!("{label} — {OPEN_APP}")
}

fn unavailable_reason() -> String {
    "This message is not available yet (a customer's first message to a WhatsApp Business App number often arrives this way) — open the WhatsApp Business App to read it".to_string()
}

/// A type name fit to show and store: printable, at most 40 characters.
pub fn safe_type_name(type_name: &str) -> String {
    let cleaned: String =
        type_name.chars().filter(|c| !c.is_control()).take(40).collect::<String>().trim().to_string();
    if cleaned.is_empty() {
        "unknown".to_string()
    } else {
        cleaned
    }
}

fn unsupported(type_name: &str, reason: String) -> MessageBody {
    MessageBody::Unsupported { type_name: safe_type_name(type_name), reason }
}

/// Read the contents of a message object of type `type_name` (the object holding `"<type>": {...}`).
/// `errors` are the message's own `errors[]` (they explain `unsupported`/`unknown` types).
pub fn parse_body(type_name: &str, message: &Value, errors: &[WebhookError]) -> MessageBody {
    let content = message.get(type_name).unwrap_or(&Value::Null);
    match type_name {
        "unsupported" | "unknown" | "errors" => return unsupported_body(type_name, content, errors),
        _ => {}
    }
    match read_known(type_name, content) {
        Some(Ok(body)) => body,
        Some(Err(problem)) => unsupported(
            type_name,
            format!("Coexist could not read this {} message ({problem}) — open the WhatsApp Business App", safe_type_name(type_name)),
        ),
        None => unsupported(type_name, unsupported_reason(type_name)),
    }
}

fn unsupported_body(type_name: &str, content: &Value, errors: &[WebhookError]) -> MessageBody {
    let inner = content.get("type").and_then(Value::as_str).unwrap_or(type_name);
    if errors.iter().any(|e| e.code.0 == UNAVAILABLE_ERROR) {
        return unsupported(inner, unavailable_reason());
    }
    unsupported(inner, unsupported_reason(inner))
}

/// `None`: a type we do not model. `Some(Err)`: a known type whose contents are not as documented.
fn read_known(type_name: &str, content: &Value) -> Option<Result<MessageBody, String>> {
    let body = match type_name {
        "text" => read::<TextContent>(content).map(|t| MessageBody::Text { body: t.body }),
        "image" => read_media(content).map(|media| MessageBody::Image { media }),
        "document" => read_media(content).map(|media| MessageBody::Document { media }),
        "video" => read_media(content).map(|media| MessageBody::Video { media }),
        "sticker" => read_media(content).map(|media| MessageBody::Sticker { media }),
        "audio" => read::<MediaContent>(content)
            .map(|m| MessageBody::Audio { voice: m.voice.unwrap_or(false), media: m.into_media() }),
        "location" => read::<LocationContent>(content).and_then(LocationContent::into_body),
        "contacts" => read::<Vec<ContactCard>>(content)
            .map(|cards| MessageBody::Contacts { names: cards.iter().map(ContactCard::display_name).collect() }),
        "reaction" => read::<ReactionContent>(content).map(|r| MessageBody::Reaction {
            message_id: r.message_id.map(|m| m.0).unwrap_or_default(),
            emoji: r.emoji.unwrap_or_default(),
        }),
        "interactive" => read::<InteractiveContent>(content).and_then(InteractiveContent::into_body),
        "button" => read::<ButtonContent>(content)
            .map(|b| MessageBody::Button { text: b.text.unwrap_or_default(), payload: b.payload }),
        "order" => read::<OrderContent>(content).map(|o| MessageBody::Order {
            catalog_id: o.catalog_id.map(|c| c.0),
            items: o.product_items.len(),
            text: o.text,
        }),
        "system" => read::<SystemContent>(content).map(|s| MessageBody::System { body: s.body.unwrap_or_default() }),
        "template" => read::<TemplateContent>(content).map(TemplateContent::into_body),
        _ => return None,
    };
    Some(body)
}

fn read<T: DeserializeOwned>(content: &Value) -> Result<T, String> {
    if content.is_null() {
        return Err("its contents are missing".to_string());
    }
    serde_path_to_error::deserialize(content).map_err(|e| {
        let path = e.path().to_string();
        let inner = crate::error::clip(&e.into_inner().to_string());
        if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

fn read_media(content: &Value) -> Result<Media, String> {
    read::<MediaContent>(content).map(MediaContent::into_media)
}

#[derive(Deserialize)]
struct TextContent {
    body: String,
}

#[derive(Deserialize, Default)]
struct MediaContent {
    #[serde(default)]
    id: Option<FlexString>,
    #[serde(default)]
    link: Option<String>,
    /// Newer webhooks carry a download URL.
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    voice: Option<bool>,
}

impl MediaContent {
    fn into_media(self) -> Media {
        Media {
            id: self.id.map(|i| i.0),
            link: self.link.or(self.url),
            mime_type: self.mime_type,
            caption: self.caption,
            filename: self.filename,
        }
    }
}

#[derive(Deserialize)]
struct LocationContent {
    latitude: Value,
    longitude: Value,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

fn coordinate(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

impl LocationContent {
    fn into_body(self) -> Result<MessageBody, String> {
        match (coordinate(&self.latitude), coordinate(&self.longitude)) {
            (Some(latitude), Some(longitude)) => {
                Ok(MessageBody::Location { latitude, longitude, name: self.name, address: self.address })
            }
            _ => Err("latitude/longitude are not numbers".to_string()),
        }
    }
}

#[derive(Deserialize, Default)]
struct ContactCard {
    #[serde(default)]
    name: Option<ContactName>,
}

#[derive(Deserialize, Default)]
struct ContactName {
    #[serde(default)]
    formatted_name: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

impl ContactCard {
    fn display_name(&self) -> String {
        let Some(n) = &self.name else { return String::new() };
        if let Some(f) = n.formatted_name.as_ref().filter(|f| !f.trim().is_empty()) {
            return f.clone();
        }
        [n.first_name.as_deref(), n.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ")
    }
}

#[derive(Deserialize)]
struct ReactionContent {
    #[serde(default)]
    message_id: Option<FlexString>,
    /// Absent (or empty) when the reaction is removed.
    #[serde(default)]
    emoji: Option<String>,
}

#[derive(Deserialize, Default)]
struct InteractiveContent {
    #[serde(default)]
    button_reply: Option<ReplyChoice>,
    #[serde(default)]
    list_reply: Option<ReplyChoice>,
    /// A WhatsApp Flow's answer.
    #[serde(default)]
    nfm_reply: Option<FlowReply>,
    /// Outbound interactive messages (buttons, lists) carry their text here...
    #[serde(default)]
    body: Option<InteractiveText>,
    /// ...and their choices here.
    #[serde(default)]
    action: Option<InteractiveAction>,
}

#[derive(Deserialize, Default)]
struct InteractiveAction {
    /// Reply buttons: `{"type": "reply", "reply": {"id", "title"}}`.
    #[serde(default)]
    buttons: Vec<ReplyButton>,
    /// A list: rows under sections.
    #[serde(default)]
    sections: Vec<ListSection>,
}

#[derive(Deserialize, Default)]
struct ReplyButton {
    #[serde(default)]
    reply: Option<ReplyChoice>,
}

#[derive(Deserialize, Default)]
struct ListSection {
    #[serde(default)]
    rows: Vec<ReplyChoice>,
}

impl InteractiveAction {
    /// The titles offered, buttons first then list rows (a message has one or the other).
    fn choices(self) -> Vec<String> {
        let buttons = self.buttons.into_iter().filter_map(|b| b.reply);
        let rows = self.sections.into_iter().flat_map(|s| s.rows);
        buttons.chain(rows).map(|c| c.title.unwrap_or_default()).collect()
    }
}

#[derive(Deserialize, Default)]
struct ReplyChoice {
    #[serde(default)]
    id: Option<FlexString>,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize, Default)]
struct FlowReply {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize, Default)]
struct InteractiveText {
    #[serde(default)]
    text: Option<String>,
}

impl InteractiveContent {
    fn into_body(self) -> Result<MessageBody, String> {
        if let Some(choice) = self.button_reply.or(self.list_reply) {
            return Ok(MessageBody::Interactive {
                reply_id: choice.id.map(|i| i.0).unwrap_or_default(),
                title: choice.title.unwrap_or_default(),
            });
        }
        if let Some(flow) = self.nfm_reply {
            return Ok(MessageBody::Interactive {
                reply_id: flow.name.unwrap_or_else(|| "flow".to_string()),
                title: flow.body.unwrap_or_else(|| "Form submitted".to_string()),
            });
        }
        let choices = self.action.map(InteractiveAction::choices).unwrap_or_default();
        match self.body.and_then(|b| b.text) {
            Some(text) if choices.is_empty() => Ok(MessageBody::Text { body: text }),
            Some(text) => Ok(MessageBody::Choices { body: text, choices }),
            None => Err("no reply and no text".to_string()),
        }
    }
}

#[derive(Deserialize)]
struct ButtonContent {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    payload: Option<String>,
}

#[derive(Deserialize)]
struct OrderContent {
    #[serde(default)]
    catalog_id: Option<FlexString>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    product_items: Vec<Value>,
}

#[derive(Deserialize)]
struct SystemContent {
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct TemplateContent {
    name: String,
    /// `{"code": "en_US"}` in Graph sends; tolerate a bare string.
    #[serde(default)]
    language: Value,
}

impl TemplateContent {
    fn into_body(self) -> MessageBody {
        let language = match &self.language {
            Value::String(s) => s.clone(),
            Value::Object(o) => o.get("code").and_then(Value::as_str).unwrap_or_default().to_string(),
            _ => String::new(),
        };
        MessageBody::Template { name: self.name, language, rendered: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> MessageBody {
        let t = v["type"].as_str().unwrap().to_string();
        parse_body(&t, &v, &[])
    }

    #[test]
    fn text_and_media() {
        assert_eq!(body(json!({"type":"text","text":{"body":"hi"}})), MessageBody::Text { body: "hi".into() });
        let b = body(json!({"type":"audio","audio":{"id":"m1","mime_type":"audio/ogg; codecs=opus","voice":true}}));
        match b {
            MessageBody::Audio { media, voice } => {
                assert!(voice);
                assert_eq!(media.id.as_deref(), Some("m1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn interactive_messages_we_send_keep_their_choices() {
        let buttons = body(json!({"type":"interactive","interactive":{"type":"button","body":{"text":"Ship today?"},
            "action":{"buttons":[{"type":"reply","reply":{"id":"b1","title":"Yes"}},{"type":"reply","reply":{"id":"b2","title":"No"}}]}}}));
        assert_eq!(buttons, MessageBody::Choices { body: "Ship today?".into(), choices: vec!["Yes".into(), "No".into()] });
        let list = body(json!({"type":"interactive","interactive":{"type":"list","body":{"text":"Pick a slot"},
            "action":{"button":"Slots","sections":[{"title":"Mon","rows":[{"id":"r1","title":"9:00"}]},{"title":"Tue","rows":[{"id":"r2","title":"10:00"}]}]}}}));
        assert_eq!(list, MessageBody::Choices { body: "Pick a slot".into(), choices: vec!["9:00".into(), "10:00".into()] });
        let cta = body(json!({"type":"interactive","interactive":{"type":"cta_url","body":{"text":"Track it"},"action":{"name":"cta_url"}}}));
        assert_eq!(cta, MessageBody::Text { body: "Track it".into() });
        let tap = body(json!({"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes"}}}));
        assert_eq!(tap, MessageBody::Interactive { reply_id: "b1".into(), title: "Yes".into() });
    }

    #[test]
    fn unsupported_voice_has_plain_reason() {
        let b = body(json!({"type":"unsupported","unsupported":{"type":"voice"}}));
        assert_eq!(
            b,
            MessageBody::Unsupported {
                type_name: "voice".into(),
                reason: "Voice message — not available through the Cloud API; open the WhatsApp Business App".into()
            }
        );
    }

    #[test]
    fn unknown_type_is_unsupported_with_sanitized_name() {
        let b = body(json!({"type":"hologram\u{0007}","hologram\u{0007}":{}}));
        match b {
            MessageBody::Unsupported { type_name, reason } => {
                assert_eq!(type_name, "hologram");
                assert!(reason.contains("hologram"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_contents_say_where() {
        let b = body(json!({"type":"text","text":{"body": 5}}));
        match b {
            MessageBody::Unsupported { type_name, reason } => {
                assert_eq!(type_name, "text");
                assert!(reason.contains("body"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unavailable_first_message() {
        let errors = vec![WebhookError { code: crate::webhook::FlexInt(131060), ..Default::default() }];
        let v = json!({"type":"unsupported","unsupported":{"type":"unknown"}});
        match parse_body("unsupported", &v, &errors) {
            MessageBody::Unsupported { reason, .. } => assert!(reason.contains("not available yet")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reaction_removal_has_empty_emoji() {
        let b = body(json!({"type":"reaction","reaction":{"message_id":"wamid.X"}}));
        assert_eq!(b, MessageBody::Reaction { message_id: "wamid.X".into(), emoji: String::new() });
    }
}
