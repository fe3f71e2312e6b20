//! Building Graph API message JSON, and checking a template send against the template itself
//! before anything leaves the desktop (a wrong parameter count is Meta error 132000; catching it
//! here gives the agent the reason at once and wastes no send).

use std::collections::{BTreeMap, BTreeSet};

use coexist_core::{ContactKey, Template};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Longest text body the Cloud API accepts.
pub const MAX_TEXT_LEN: usize = 4096;

/// Parameters of one template send.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateParams {
    /// Body parameters `{{1}}`, `{{2}}`, ... in order (templates with positional parameters).
    #[serde(default)]
    pub body_positional: Vec<String>,
    /// Body parameters by name `{{first_name}}` (templates with `parameter_format: NAMED`).
    #[serde(default)]
    pub body_named: BTreeMap<String, String>,
    /// Parameters of a TEXT header with placeholders.
    #[serde(default)]
    pub header_text: Vec<String>,
    /// A public link for an IMAGE / VIDEO / DOCUMENT header...
    #[serde(default)]
    pub header_media_link: Option<String>,
    /// ...or the media id of a file uploaded for it (`Engine::upload_file`).
    #[serde(default)]
    pub header_media_id: Option<String>,
    /// Dynamic button values (URL suffix, coupon code, quick-reply payload), by button index.
    #[serde(default)]
    pub buttons: Vec<ButtonParam>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ButtonParam {
    pub index: usize,
    pub value: String,
}

/// Why a message cannot be built; the text says what to change.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ComposeError {
    #[error("the message is empty; type something to send")]
    EmptyText,
    #[error("the message is {0} characters; WhatsApp allows at most {MAX_TEXT_LEN}")]
    TooLong(usize),
    #[error("WhatsApp hides this contact's phone number ({0}); reply from the Business App on the phone")]
    HiddenNumber(String),
    #[error("template {name} ({language}) is not known for this number; sync templates and pick one from the list")]
    UnknownTemplate { name: String, language: String },
    #[error("template {name} is {status}, not APPROVED; only approved templates can be sent")]
    NotApproved { name: String, status: String },
    #[error("template {name}: {problem}")]
    Params { name: String, problem: String },
    #[error("{name} is {mime_type}, which WhatsApp cannot send; it takes {}", coexist_core::media_types::SENDABLE_DESCRIPTION)]
    UnsupportedFile { name: String, mime_type: String },
    #[error("{0} is empty; pick the file again")]
    EmptyFile(String),
    #[error("{name} is {size_mb:.1} MB; WhatsApp takes {kind} files of at most {max_mb} MB")]
    FileTooLarge { name: String, kind: &'static str, size_mb: f64, max_mb: usize },
    #[error("the caption is {0} characters; WhatsApp allows at most {max}", max = coexist_core::MAX_CAPTION_LEN)]
    CaptionTooLong(usize),
    #[error("WhatsApp sends {0} without a caption; send the text as its own message")]
    CaptionNotAllowed(&'static str),
    #[error("only a text, a file or reply buttons can be sent again as they were; send a template again from the picker")]
    NotResendable,
    #[error("the message you reply to is not in this conversation; pick it again in the thread")]
    QuoteNotHere,
    #[error("a reaction is one emoji (or none, to take it back)")]
    NotAnEmoji,
    #[error("{0}")]
    Buttons(String),
}

/// The Graph envelope addressed to a contact. A contact known only by a business-scoped user id
/// (`user:<id>`, Meta hid the phone number) cannot be addressed through the bridge's `to`.
pub(crate) fn envelope(contact: &ContactKey) -> Result<serde_json::Map<String, Value>, ComposeError> {
    if contact.as_str().starts_with("user:") || contact.as_str().trim().is_empty() {
        return Err(ComposeError::HiddenNumber(contact.as_str().to_string()));
    }
    let mut m = serde_json::Map::new();
    m.insert("messaging_product".into(), json!("whatsapp"));
    m.insert("recipient_type".into(), json!("individual"));
    m.insert("to".into(), json!(contact.as_str()));
    Ok(m)
}

/// A free-form text message.
pub fn text_message(contact: &ContactKey, text: &str) -> Result<Value, ComposeError> {
    if text.trim().is_empty() {
        return Err(ComposeError::EmptyText);
    }
    let len = text.chars().count();
    if len > MAX_TEXT_LEN {
        return Err(ComposeError::TooLong(len));
    }
    let mut m = envelope(contact)?;
    m.insert("type".into(), json!("text"));
    m.insert("text".into(), json!({ "preview_url": false, "body": text }));
    Ok(Value::Object(m))
}

/// `message` as a reply to the conversation's message `reply_to` (WhatsApp shows that one
/// quoted above it); unchanged for `None`.
pub fn replying_to(mut message: Value, reply_to: Option<&str>) -> Value {
    if let Some(wamid) = reply_to {
        message["context"] = json!({ "message_id": wamid });
    }
    message
}

/// Longest reaction accepted, in characters: an emoji with skin tone and joiners (a family,
/// a flag) is several.
const MAX_EMOJI_CHARS: usize = 12;

/// A reaction to the conversation's message `wamid`; an empty `emoji` takes ours back.
pub fn reaction_message(contact: &ContactKey, wamid: &str, emoji: &str) -> Result<Value, ComposeError> {
    // Keycaps (1️⃣, #️⃣) start with an ASCII digit or sign; no emoji has a letter or a space.
    let plausible = emoji.is_empty()
        || (emoji.chars().count() <= MAX_EMOJI_CHARS
            && !emoji.is_ascii()
            && !emoji.chars().any(|c| c.is_ascii_alphabetic() || c.is_control() || c.is_whitespace()));
    if !plausible {
        return Err(ComposeError::NotAnEmoji);
    }
    let mut m = envelope(contact)?;
    m.insert("type".into(), json!("reaction"));
    m.insert("reaction".into(), json!({ "message_id": wamid, "emoji": emoji }));
    Ok(Value::Object(m))
}

/// A template message, checked against the template's components.
pub fn template_message(contact: &ContactKey, template: &Template, params: &TemplateParams) -> Result<Value, ComposeError> {
    if !template.status.eq_ignore_ascii_case("APPROVED") {
        return Err(ComposeError::NotApproved { name: template.name.clone(), status: template.status.clone() });
    }
    let shape = TemplateShape::of(template);
    shape.check(params).map_err(|problem| ComposeError::Params { name: template.name.clone(), problem })?;
    let mut m = envelope(contact)?;
    m.insert("type".into(), json!("template"));
    m.insert(
        "template".into(),
        json!({
            "name": template.name,
            "language": { "code": template.language },
            "components": shape.components(params),
        }),
    );
    Ok(Value::Object(m))
}

/// What a template needs, read from Meta's `components`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct TemplateShape {
    named: bool,
    body_positional: usize,
    body_names: BTreeSet<String>,
    header_text_params: usize,
    /// `image` / `video` / `document` when the header is media.
    header_media: Option<String>,
    /// Indexes and sub-types of buttons that take a parameter.
    dynamic_buttons: Vec<(usize, String)>,
}

impl TemplateShape {
    pub(crate) fn of(t: &Template) -> Self {
        let mut s = TemplateShape::default();
        let components = t.components.as_array().map(Vec::as_slice).unwrap_or_default();
        for c in components {
            let kind = upper(c.get("type"));
            let text = c.get("text").and_then(Value::as_str).unwrap_or_default();
            match kind.as_str() {
                "BODY" => {
                    let (numbers, names) = placeholders(text);
                    s.body_positional = numbers.len();
                    s.named = !names.is_empty();
                    s.body_names = names;
                }
                "HEADER" => match upper(c.get("format")).as_str() {
                    "TEXT" | "" => s.header_text_params = placeholders(text).0.len() + placeholders(text).1.len(),
                    "IMAGE" | "VIDEO" | "DOCUMENT" => s.header_media = Some(upper(c.get("format")).to_lowercase()),
                    _ => {}
                },
                "BUTTONS" => s.dynamic_buttons = dynamic_buttons(c),
                _ => {}
            }
        }
        s
    }

    fn check(&self, p: &TemplateParams) -> Result<(), String> {
        if self.named {
            let given: BTreeSet<String> = p.body_named.keys().cloned().collect();
            if given != self.body_names || !p.body_positional.is_empty() {
                return Err(format!(
                    "the body needs the named parameters {:?}; got {:?}",
                    self.body_names,
                    given.iter().chain(p.body_positional.iter()).collect::<Vec<_>>()
                ));
            }
        } else if p.body_positional.len() != self.body_positional || !p.body_named.is_empty() {
            return Err(format!(
                "the body needs {} parameter(s); got {}",
                self.body_positional,
                p.body_positional.len() + p.body_named.len()
            ));
        }
        if p.header_text.len() != self.header_text_params {
            return Err(format!("the header needs {} parameter(s); got {}", self.header_text_params, p.header_text.len()));
        }
        match (&self.header_media, &p.header_media_link, &p.header_media_id) {
            (Some(kind), None, None) => return Err(format!("the header needs its {kind}: a public link or an uploaded file")),
            (Some(_), Some(_), Some(_)) => return Err("the header takes a link or an uploaded file, not both".into()),
            (None, Some(_), _) | (None, _, Some(_)) => {
                return Err("this template has no media header; remove the header link or file".into())
            }
            _ => {}
        }
        let wanted: BTreeSet<usize> = self.dynamic_buttons.iter().map(|(i, _)| *i).collect();
        let given: BTreeSet<usize> = p.buttons.iter().map(|b| b.index).collect();
        if wanted != given || given.len() != p.buttons.len() {
            return Err(format!("buttons {wanted:?} need a value each; got values for {given:?}"));
        }
        if p.body_positional.iter().chain(p.body_named.values()).any(|v| v.trim().is_empty()) {
            return Err("a body parameter is empty; WhatsApp refuses empty parameters".into());
        }
        Ok(())
    }

    fn components(&self, p: &TemplateParams) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(kind) = &self.header_media {
            let media = match (&p.header_media_id, &p.header_media_link) {
                (Some(id), _) => json!({ "id": id }),
                (None, link) => json!({ "link": link }),
            };
            out.push(json!({ "type": "header", "parameters": [{ "type": kind, kind.as_str(): media }] }));
        } else if !p.header_text.is_empty() {
            let params: Vec<Value> = p.header_text.iter().map(|t| json!({ "type": "text", "text": t })).collect();
            out.push(json!({ "type": "header", "parameters": params }));
        }
        let body: Vec<Value> = if self.named {
            p.body_named.iter().map(|(k, v)| json!({ "type": "text", "parameter_name": k, "text": v })).collect()
        } else {
            p.body_positional.iter().map(|t| json!({ "type": "text", "text": t })).collect()
        };
        if !body.is_empty() {
            out.push(json!({ "type": "body", "parameters": body }));
        }
        for b in &p.buttons {
            let sub_type = self.dynamic_buttons.iter().find(|(i, _)| *i == b.index).map(|(_, s)| s.as_str()).unwrap_or("url");
            let param = match sub_type {
                "quick_reply" => json!({ "type": "payload", "payload": b.value }),
                "copy_code" => json!({ "type": "coupon_code", "coupon_code": b.value }),
                _ => json!({ "type": "text", "text": b.value }),
            };
            out.push(json!({ "type": "button", "sub_type": sub_type, "index": b.index.to_string(), "parameters": [param] }));
        }
        out
    }
}

fn upper(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_ascii_uppercase()
}

/// Buttons that take a value: URL buttons with a `{{1}}` in the url, and COPY_CODE buttons.
fn dynamic_buttons(c: &Value) -> Vec<(usize, String)> {
    let buttons = c.get("buttons").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    buttons
        .iter()
        .enumerate()
        .filter_map(|(i, b)| match upper(b.get("type")).as_str() {
            "URL" if b.get("url").and_then(Value::as_str).is_some_and(|u| u.contains("{{")) => Some((i, "url".into())),
            "COPY_CODE" => Some((i, "copy_code".into())),
            _ => None,
        })
        .collect()
}

/// Distinct `{{N}}` numbers and `{{name}}` names in a template text.
pub(crate) fn placeholders(text: &str) -> (BTreeSet<u32>, BTreeSet<String>) {
    let mut numbers = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        if let Ok(n) = inner.parse::<u32>() {
            numbers.insert(n);
        } else if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.insert(inner.to_string());
        }
        rest = &after[end + 2..];
    }
    (numbers, names)
}

/// A short plain preview of an outgoing message, for lists and the outbox.
pub fn preview_of(message: &Value) -> String {
    let text = match message.get("type").and_then(Value::as_str) {
        Some("text") => message.pointer("/text/body").and_then(Value::as_str).unwrap_or_default().to_string(),
        Some("template") => format!("[template {}]", message.pointer("/template/name").and_then(Value::as_str).unwrap_or("?")),
        Some(other) => format!("[{other}]"),
        None => String::new(),
    };
    crate::notify::plain_preview(&text, 120)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(components: Value) -> Template {
        Template {
            id: Some("1".into()),
            name: "order_update".into(),
            language: "en_US".into(),
            status: "APPROVED".into(),
            category: Some("UTILITY".into()),
            components,
        }
    }

    #[test]
    fn a_reaction_is_one_emoji_or_none() {
        let to = ContactKey::from_wa_id("15551234567");
        let m = reaction_message(&to, "wamid.A", "👍🏽").unwrap();
        assert_eq!(m["type"], "reaction");
        assert_eq!(m["reaction"], json!({"message_id": "wamid.A", "emoji": "👍🏽"}));
        assert_eq!(reaction_message(&to, "wamid.A", "").unwrap()["reaction"]["emoji"], "", "none takes it back");
        assert!(reaction_message(&to, "wamid.A", "👨\u{200d}👩\u{200d}👧").is_ok(), "joined emoji are one");
        assert!(reaction_message(&to, "wamid.A", "1\u{fe0f}\u{20e3}").is_ok(), "a keycap is one");
        for not_one in ["ok", "1", "👍 ", "<b>", "<>", "👍👍👍👍👍👍👍👍👍👍👍👍👍"] {
            assert!(matches!(reaction_message(&to, "wamid.A", not_one), Err(ComposeError::NotAnEmoji)), "{not_one:?}");
        }
    }

    #[test]
    fn placeholders_are_found() {
        let (n, names) = placeholders("Hi {{1}}, order {{2}} ({{1}}) {{first_name}} {{ bad name }}");
        assert_eq!(n.into_iter().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(names.into_iter().collect::<Vec<_>>(), vec!["first_name".to_string()]);
    }

    #[test]
    fn text_message_json() {
        let v = text_message(&ContactKey::from_wa_id("15551234567"), "hello").unwrap();
        assert_eq!(v["to"], "15551234567");
        assert_eq!(v["type"], "text");
        assert_eq!(v["text"]["body"], "hello");
        assert_eq!(text_message(&ContactKey::from_wa_id("1"), "  "), Err(ComposeError::EmptyText));
        assert!(matches!(text_message(&ContactKey::from_wa_id("1"), &"x".repeat(4097)), Err(ComposeError::TooLong(4097))));
        let err = text_message(&ContactKey::from_user_id("abc"), "hi").unwrap_err();
        assert!(matches!(err, ComposeError::HiddenNumber(_)));
    }

    #[test]
    fn positional_template_params_are_counted() {
        let t = template(json!([
            {"type":"HEADER","format":"IMAGE"},
            {"type":"BODY","text":"Hi {{1}}, your order {{2}} shipped"},
            {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"OK"},{"type":"URL","url":"https://x.test/{{1}}"}]}
        ]));
        let c = ContactKey::from_wa_id("1");
        let mut p = TemplateParams { body_positional: vec!["Ana".into()], ..Default::default() };
        let err = template_message(&c, &t, &p).unwrap_err();
        assert!(err.to_string().contains("needs 2 parameter(s); got 1"), "{err}");
        p.body_positional.push("A-1".into());
        assert!(template_message(&c, &t, &p).unwrap_err().to_string().contains("needs its image"));
        p.header_media_id = Some("4490".into());
        let uploaded = template_message(&c, &t, &TemplateParams { buttons: vec![ButtonParam { index: 1, value: "A-1".into() }], ..p.clone() }).unwrap();
        assert_eq!(uploaded["template"]["components"][0]["parameters"][0]["image"], json!({"id": "4490"}));
        p.header_media_link = Some("https://x.test/a.png".into());
        assert!(template_message(&c, &t, &p).unwrap_err().to_string().contains("not both"));
        p.header_media_id = None;
        assert!(template_message(&c, &t, &p).unwrap_err().to_string().contains("buttons"));
        p.buttons.push(ButtonParam { index: 1, value: "A-1".into() });
        let v = template_message(&c, &t, &p).unwrap();
        assert_eq!(v["template"]["language"]["code"], "en_US");
        let comps = v["template"]["components"].as_array().unwrap();
        assert_eq!(comps[0]["parameters"][0]["image"]["link"], "https://x.test/a.png");
        assert_eq!(comps[1]["parameters"][1]["text"], "A-1");
        assert_eq!(comps[2]["sub_type"], "url");
        assert_eq!(comps[2]["index"], "1");
    }

    #[test]
    fn named_template_params_must_match_names() {
        let t = template(json!([{"type":"BODY","text":"Hi {{first_name}}"}]));
        let c = ContactKey::from_wa_id("1");
        let mut p = TemplateParams::default();
        p.body_named.insert("name".into(), "Ana".into());
        assert!(template_message(&c, &t, &p).is_err());
        p.body_named.clear();
        p.body_named.insert("first_name".into(), "Ana".into());
        let v = template_message(&c, &t, &p).unwrap();
        assert_eq!(v["template"]["components"][0]["parameters"][0]["parameter_name"], "first_name");
    }

    #[test]
    fn unapproved_template_is_refused() {
        let mut t = template(json!([{"type":"BODY","text":"Hi"}]));
        t.status = "PENDING".into();
        let err = template_message(&ContactKey::from_wa_id("1"), &t, &TemplateParams::default()).unwrap_err();
        assert!(matches!(err, ComposeError::NotApproved { .. }));
    }
}
