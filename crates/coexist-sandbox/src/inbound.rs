//! Simulated customers writing in: every message type Meta delivers on the `messages` webhook,
//! with realistic defaults for whatever the caller leaves out.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::ids::{Direction, IdGen};
use crate::interactive::InteractiveReply;

/// Types a customer message can have. `edit`/`revoke` are the customer changing an earlier message.
pub const INBOUND_TYPES: &[&str] = &[
    "text",
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "button",
    "order",
    "unsupported",
    "system",
    "edit",
    "revoke",
];

/// `POST /sandbox/customers/messages`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct CustomerMessage {
    /// The customer's number (digits, country code first).
    pub from: String,
    /// The customer's WhatsApp profile name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type", default = "default_type")]
    pub kind: String,
    /// Body for `text`; caption for media; title/payload for replies; emoji for `reaction`.
    #[serde(default)]
    pub text: Option<String>,
    /// Unix seconds; backdate it to get an expired window without waiting. Defaults to now.
    #[serde(default)]
    pub timestamp: Option<i64>,
    /// A click-to-WhatsApp `referral` object; opens a 72 h window.
    #[serde(default)]
    pub referral: Option<Value>,
    /// The `<type>` object verbatim, replacing the generated one.
    #[serde(default)]
    pub content: Option<Value>,
    /// The wamid this message replies to (`context.id`; for `reaction`, the reacted message).
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub phone_number_id: Option<String>,
    /// Use this wamid instead of a generated one (scenarios pin their ids this way).
    #[serde(default)]
    pub id: Option<String>,
    /// For `interactive`: the reply button or list row tapped,
    /// `{"type":"button_reply"|"list_reply","id","title","description"?}`. Without it the
    /// customer taps a generic "confirm" button titled `text`. `POST /sandbox/customers/tap`
    /// fills it from the message the business sent.
    #[serde(default)]
    pub reply: Option<InteractiveReply>,
}

fn default_type() -> String {
    "text".into()
}

/// Largest text a simulated customer may send (Meta's limit for a text message is 4096; we allow
/// more so tests can probe the product's own limits, but not unbounded).
const MAX_TEXT: usize = 65_536;

/// Reject input a real customer could not produce, with a message that says what to fix.
pub fn validate(m: &CustomerMessage) -> Result<(), String> {
    if m.from.len() < 7 || m.from.len() > 15 || !m.from.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("from must be the customer's number as 7-15 digits with country code (like 15551234567), got {:?}", m.from));
    }
    if !INBOUND_TYPES.contains(&m.kind.as_str()) {
        return Err(format!(
            "type {:?} is not a customer message type; use one of {}",
            m.kind,
            INBOUND_TYPES.join(", ")
        ));
    }
    if m.name
        .as_ref()
        .map(|n| n.chars().count() > 256)
        .unwrap_or(false)
    {
        return Err("name must be at most 256 characters".into());
    }
    if m.text.as_ref().map(|t| t.len() > MAX_TEXT).unwrap_or(false) {
        return Err(format!("text must be at most {MAX_TEXT} bytes"));
    }
    if m.kind == "text"
        && m.content.is_none()
        && m.text.as_deref().map(str::is_empty).unwrap_or(true)
    {
        return Err("a text message needs a non-empty \"text\"".into());
    }
    if matches!(m.kind.as_str(), "reaction" | "edit" | "revoke")
        && m.content.is_none()
        && m.reply_to.is_none()
    {
        return Err(format!(
            "a {} needs \"reply_to\": the wamid of the message it refers to",
            m.kind
        ));
    }
    if let Some(r) = &m.reply {
        validate_reply(&m.kind, r)?;
    }
    if let Some(id) = &m.id {
        if !id.starts_with("wamid.") || id.len() > 200 {
            return Err("id must look like a wamid (\"wamid.…\", at most 200 characters)".into());
        }
    }
    Ok(())
}

/// A tapped reply must belong to an `interactive` message and look like one Meta could report:
/// the longest id a business may give is a button's 256 characters.
fn validate_reply(kind: &str, r: &InteractiveReply) -> Result<(), String> {
    if kind != "interactive" {
        return Err(format!(
            "\"reply\" is the button or row an interactive message answers; use it with type \"interactive\", not {kind:?}"
        ));
    }
    let bad = |s: &str| s.is_empty() || s.chars().count() > 256;
    if bad(&r.id) || bad(&r.title) {
        return Err("reply.id and reply.title must be 1 to 256 characters".into());
    }
    if r.description
        .as_ref()
        .map(|d| d.chars().count() > 256)
        .unwrap_or(false)
    {
        return Err("reply.description must be at most 256 characters".into());
    }
    Ok(())
}

/// Does this message open or extend the customer-service window? Any real message does; a
/// customer editing or deleting an earlier message does not.
pub fn opens_window(kind: &str) -> bool {
    !matches!(kind, "edit" | "revoke")
}

/// Build Meta's message object (`messages[0]`) for a customer message.
pub fn build(m: &CustomerMessage, ids: &mut IdGen, business_digits: &str, ts: i64) -> Value {
    let wamid =
        m.id.clone()
            .unwrap_or_else(|| ids.wamid(&m.from, Direction::Inbound));
    let mut msg = json!({"from": m.from, "id": wamid, "timestamp": ts.to_string(), "type": m.kind});
    let content = m.content.clone().unwrap_or_else(|| default_content(m, ids));
    if m.kind == "unsupported" {
        msg["errors"] = json!([{
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."}
        }]);
    }
    msg[m.kind.as_str()] = content;
    if let Some(reply_to) = &m.reply_to {
        if !matches!(m.kind.as_str(), "reaction" | "edit" | "revoke") {
            msg["context"] = json!({"from": business_digits, "id": reply_to});
        }
    }
    if let Some(r) = &m.referral {
        msg["referral"] = r.clone();
    }
    msg
}

fn media(ids: &mut IdGen, mime: &str) -> Value {
    // The sandbox serves a real file for the types it has a sample of (see `media`).
    let sha256 = crate::media::sample(mime)
        .map(crate::media::sha256)
        .unwrap_or_else(|| ids.lower_hex(64));
    json!({"mime_type": mime, "sha256": sha256, "id": ids.numeric_id(16)})
}

fn default_content(m: &CustomerMessage, ids: &mut IdGen) -> Value {
    let text = m.text.clone();
    let with_caption = |mut v: Value| {
        if let Some(t) = &text {
            v["caption"] = json!(t);
        }
        v
    };
    match m.kind.as_str() {
        "text" => json!({"body": text.unwrap_or_default()}),
        "image" => with_caption(media(ids, crate::media::PHOTO_MIME)),
        "video" => with_caption(media(ids, "video/mp4")),
        "document" => {
            let mut v = with_caption(media(ids, crate::media::DOCUMENT_MIME));
            v["filename"] = json!("invoice.pdf");
            v
        }
        "audio" => {
            let mut v = media(ids, "audio/ogg; codecs=opus");
            v["voice"] = json!(true);
            v
        }
        "sticker" => {
            let mut v = media(ids, "image/webp");
            v["animated"] = json!(false);
            v
        }
        "location" => {
            json!({"latitude": 38.7223, "longitude": -9.1393, "name": text.unwrap_or_else(|| "Praça do Comércio".into()), "address": "Praça do Comércio, 1100-148 Lisboa"})
        }
        "contacts" => json!([{
            "name": {"formatted_name": text.clone().unwrap_or_else(|| "Rui Costa".into()), "first_name": "Rui", "last_name": "Costa"},
            "phones": [{"phone": "+351 912 345 678", "wa_id": "351912345678", "type": "CELL"}]
        }]),
        "reaction" => {
            json!({"message_id": m.reply_to.clone().unwrap_or_default(), "emoji": text.unwrap_or_else(|| "👍".into())})
        }
        "interactive" => match &m.reply {
            Some(reply) => reply.content(),
            None => {
                json!({"type": "button_reply", "button_reply": {"id": "confirm", "title": text.unwrap_or_else(|| "Confirm".into())}})
            }
        },
        "button" => {
            let t = text.unwrap_or_else(|| "Confirm".into());
            json!({"payload": t, "text": t})
        }
        "order" => json!({
            "catalog_id": ids.numeric_id(15),
            "text": text.unwrap_or_default(),
            "product_items": [{"product_retailer_id": "SKU-1042", "quantity": 2, "item_price": 19.99, "currency": "USD"}]
        }),
        "unsupported" => json!({"type": text.unwrap_or_else(|| "poll".into())}),
        "system" => {
            json!({"body": text.unwrap_or_else(|| "User changed number".into()), "type": "user_changed_number"})
        }
        "edit" => {
            json!({"original_message_id": m.reply_to.clone().unwrap_or_default(), "message": {"type": "text", "text": {"body": text.unwrap_or_default()}}})
        }
        "revoke" => json!({"original_message_id": m.reply_to.clone().unwrap_or_default()}),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interactive::ReplyKind;

    fn msg(kind: &str) -> CustomerMessage {
        CustomerMessage {
            from: "15551234567".into(),
            kind: kind.into(),
            text: Some("hello".into()),
            reply_to: Some("wamid.X".into()),
            ..Default::default()
        }
    }

    #[test]
    fn every_type_builds_a_meta_shaped_message() {
        let mut ids = IdGen::new(3);
        for kind in INBOUND_TYPES {
            let m = msg(kind);
            validate(&m).unwrap();
            let v = build(&m, &mut ids, "15555550100", 1700000000);
            assert_eq!(v["type"], *kind);
            assert_eq!(v["timestamp"], "1700000000");
            assert!(v[*kind].is_object() || v[*kind].is_array(), "{kind}: {v}");
            assert!(v["id"].as_str().unwrap().starts_with("wamid."));
        }
    }

    #[test]
    fn interactive_carries_the_tapped_reply_and_its_context() {
        let mut ids = IdGen::new(3);
        let mut m = msg("interactive");
        m.reply = Some(InteractiveReply {
            kind: ReplyKind::ListReply,
            id: "express".into(),
            title: "Express".into(),
            description: Some("Next day".into()),
        });
        validate(&m).unwrap();
        let v = build(&m, &mut ids, "15555550100", 1700000000);
        assert_eq!(
            v["interactive"],
            json!({"type": "list_reply", "list_reply": {"id": "express", "title": "Express", "description": "Next day"}})
        );
        assert_eq!(
            v["context"],
            json!({"from": "15555550100", "id": "wamid.X"})
        );
        // without a reply: the generic "confirm" button, titled with `text`
        let v = build(&msg("interactive"), &mut ids, "15555550100", 1700000000);
        assert_eq!(
            v["interactive"]["button_reply"],
            json!({"id": "confirm", "title": "hello"})
        );
    }

    #[test]
    fn a_reply_needs_an_interactive_message_and_sane_fields() {
        let reply = InteractiveReply {
            kind: ReplyKind::ButtonReply,
            id: "yes".into(),
            title: "Yes".into(),
            description: None,
        };
        let mut m = msg("text");
        m.reply = Some(reply.clone());
        assert!(validate(&m).unwrap_err().contains("type \"interactive\""));
        let mut m = msg("interactive");
        m.reply = Some(InteractiveReply {
            id: String::new(),
            ..reply
        });
        assert!(validate(&m).unwrap_err().contains("reply.id"));
    }

    #[test]
    fn hostile_input_is_refused_with_a_reason() {
        let mut m = msg("text");
        m.from = "1555; DROP TABLE".into();
        assert!(validate(&m).unwrap_err().contains("from must be"));
        let mut m = msg("poll");
        m.kind = "poll".into();
        assert!(validate(&m).is_err());
        let mut m = msg("text");
        m.text = Some(String::new());
        assert!(validate(&m).is_err());
    }
}
