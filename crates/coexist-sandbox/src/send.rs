//! Reading a `POST /{phone_number_id}/messages` body the way Meta does: which kind of request it is
//! and whether its fields are present and well-formed. Pure: no state, no clock.

use serde_json::Value;

use crate::error::GraphError;

/// The message types the Cloud API sends, as Meta lists them in its error message.
const SEND_TYPES: &[&str] = &[
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
];

/// What a valid body asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum SendRequest {
    /// `{"status":"read","message_id":...}`: mark an inbound message as read, and with
    /// `"typing_indicator": {"type": "text"}` show "typing…" to the customer (up to 25 s).
    MarkRead {
        message_id: String,
        typing: bool,
    },
    Message(OutboundMessage),
}

/// A message to send.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundMessage {
    /// `to` exactly as written.
    pub to: String,
    /// `to` reduced to digits: the `wa_id` Meta answers with.
    pub wa_id: String,
    pub kind: String,
    /// For templates: name, language code and the `components` sent.
    pub template: Option<TemplateRef>,
    pub biz_opaque_callback_data: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TemplateRef {
    pub name: String,
    pub language: String,
    pub components: Value,
}

impl OutboundMessage {
    /// Free-form messages need an open customer-service window; templates do not.
    pub fn is_free_form(&self) -> bool {
        self.kind != "template"
    }
}

/// Meta's answer to a missing parameter: code 100, "The parameter X is required."
pub(crate) fn required(name: &str) -> GraphError {
    let mut e = GraphError::invalid_parameter(format!("The parameter {name} is required."));
    e.message = format!("(#100) The parameter {name} is required.");
    e
}

/// Parse and check a send body.
pub fn parse(body: &Value) -> Result<SendRequest, GraphError> {
    check_envelope(body)?;
    if body.get("status").is_some() {
        return parse_mark_read(body);
    }
    let to = body
        .get("to")
        .and_then(Value::as_str)
        .ok_or_else(|| required("to"))?;
    let wa_id = normalize_phone(to)?;
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("text")
        .to_string();
    if !SEND_TYPES.contains(&kind.as_str()) {
        let list: Vec<String> = SEND_TYPES.iter().map(|s| s.to_ascii_uppercase()).collect();
        return Err(GraphError::invalid_parameter(format!(
            "Param type must be one of {{{}}} - got \"{kind}\".",
            list.join(", ")
        )));
    }
    if let Some(rt) = body.get("recipient_type").and_then(Value::as_str) {
        if rt != "individual" {
            return Err(GraphError::invalid_value(format!(
                "recipient_type must be \"individual\", got {rt:?}"
            )));
        }
    }
    let object = body.get(kind.as_str()).ok_or_else(|| required(&kind))?;
    check_object(&kind, object)?;
    let template = if kind == "template" {
        Some(template_ref(object)?)
    } else {
        None
    };
    let biz_opaque_callback_data = match body.get("biz_opaque_callback_data") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 512 => Some(s.clone()),
        Some(_) => {
            return Err(GraphError::invalid_value(
                "biz_opaque_callback_data must be a string of at most 512 characters",
            ))
        }
    };
    Ok(SendRequest::Message(OutboundMessage {
        to: to.to_string(),
        wa_id,
        kind,
        template,
        biz_opaque_callback_data,
    }))
}

/// What every Cloud API body needs: a JSON object with `"messaging_product": "whatsapp"`.
pub(crate) fn check_envelope(body: &Value) -> Result<(), GraphError> {
    if !body.is_object() {
        return Err(GraphError::invalid_parameter(
            "The request body must be a JSON object.",
        ));
    }
    match body.get("messaging_product").and_then(Value::as_str) {
        Some("whatsapp") => Ok(()),
        Some(other) => Err(GraphError::invalid_value(format!(
            "messaging_product must be \"whatsapp\", got {other:?}"
        ))),
        None => Err(required("messaging_product")),
    }
}

fn parse_mark_read(body: &Value) -> Result<SendRequest, GraphError> {
    if body["status"].as_str() != Some("read") {
        return Err(GraphError::invalid_value("status must be \"read\""));
    }
    let id = body
        .get("message_id")
        .and_then(Value::as_str)
        .ok_or_else(|| required("message_id"))?;
    let typing = match body.get("typing_indicator") {
        None => false,
        Some(t) if t["type"].as_str() == Some("text") => true,
        Some(_) => {
            return Err(GraphError::invalid_value(
                "typing_indicator.type must be \"text\"",
            ))
        }
    };
    Ok(SendRequest::MarkRead {
        message_id: id.to_string(),
        typing,
    })
}

/// `+1 (555) 123-4567` → `15551234567`; anything that is not a plausible number is a 100.
pub fn normalize_phone(to: &str) -> Result<String, GraphError> {
    let digits: String = to
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
        .collect();
    if digits.len() < 7 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(GraphError::invalid_parameter(format!(
            "to: {to:?} is not a valid WhatsApp phone number (7 to 15 digits, country code first)"
        )));
    }
    Ok(digits)
}

fn check_object(kind: &str, o: &Value) -> Result<(), GraphError> {
    match kind {
        "text" => check_text(o),
        "image" | "document" | "audio" | "video" | "sticker" => check_media(kind, o),
        "reaction" => {
            o.get("message_id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| required("reaction.message_id"))?;
            match o.get("emoji") {
                Some(Value::String(_)) => Ok(()),
                _ => Err(required("reaction.emoji")),
            }
        }
        "location" => {
            for f in ["latitude", "longitude"] {
                if !o[f].is_number() && o[f].as_str().and_then(|s| s.parse::<f64>().ok()).is_none()
                {
                    return Err(required(&format!("location.{f}")));
                }
            }
            Ok(())
        }
        "interactive" => crate::interactive::check(o),
        "contacts" => match o.as_array() {
            Some(a) if !a.is_empty() => Ok(()),
            _ => Err(GraphError::invalid_parameter(
                "contacts must be a non-empty array",
            )),
        },
        _ => Ok(()),
    }
}

fn check_text(o: &Value) -> Result<(), GraphError> {
    let body = o
        .get("body")
        .and_then(Value::as_str)
        .ok_or_else(|| required("text.body"))?;
    if body.trim().is_empty() {
        return Err(required("text['body']"));
    }
    if body.chars().count() > 4096 {
        return Err(GraphError::invalid_parameter(
            "Param text['body'] must be at most 4096 characters long.",
        ));
    }
    Ok(())
}

/// A media object (`image`, `document`, ...: a message or an interactive header): `link` or `id`.
pub(crate) fn check_media(kind: &str, o: &Value) -> Result<(), GraphError> {
    let link = o.get("link").and_then(Value::as_str);
    let id = o.get("id").and_then(Value::as_str);
    match (link, id) {
        (Some(_), Some(_)) => Err(GraphError::invalid_parameter(format!(
            "{kind}: send either link or id, not both"
        ))),
        (Some(l), None) if l.starts_with("https://") || l.starts_with("http://") => Ok(()),
        (Some(l), None) => Err(GraphError::invalid_value(format!(
            "{kind}.link must be an http(s) URL, got {l:?}"
        ))),
        (None, Some(i)) if !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()) => Ok(()),
        (None, Some(i)) => Err(GraphError::invalid_value(format!(
            "{kind}.id {i:?} is not a media id"
        ))),
        (None, None) => Err(required(&format!("{kind}.link or {kind}.id"))),
    }
}

fn template_ref(o: &Value) -> Result<TemplateRef, GraphError> {
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| required("template.name"))?;
    let language = o
        .get("language")
        .and_then(|l| l.get("code"))
        .and_then(Value::as_str)
        .ok_or_else(|| required("template.language.code"))?;
    Ok(TemplateRef {
        name: name.into(),
        language: language.into(),
        components: o.get("components").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_send_parses_and_normalizes_recipient() {
        let r = parse(&json!({"messaging_product":"whatsapp","to":"+1 (555) 123-4567","type":"text","text":{"body":"hi"}})).unwrap();
        match r {
            SendRequest::Message(m) => {
                assert_eq!(m.wa_id, "15551234567");
                assert_eq!(m.to, "+1 (555) 123-4567");
                assert!(m.is_free_form());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_bodies_get_metas_codes() {
        assert_eq!(parse(&json!({"to":"15551234567"})).unwrap_err().code, 100);
        assert_eq!(
            parse(&json!({"messaging_product":"whatsapp","to":"abc","text":{"body":"x"}}))
                .unwrap_err()
                .code,
            100
        );
        assert_eq!(
            parse(&json!({"messaging_product":"whatsapp","to":"15551234567","type":"poll"}))
                .unwrap_err()
                .code,
            100
        );
        assert_eq!(parse(&json!({"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":""}})).unwrap_err().code, 100);
        assert_eq!(parse(&json!({"messaging_product":"whatsapp","to":"15551234567","type":"image","image":{"link":"ftp://x"}})).unwrap_err().code, 131009);
        assert!(parse(&json!({"messaging_product":"whatsapp","to":"15551234567","type":"image","image":{"link":"https://x/a.png"}})).is_ok());
    }

    #[test]
    fn mark_read_is_recognized() {
        let r =
            parse(&json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}))
                .unwrap();
        assert_eq!(
            r,
            SendRequest::MarkRead {
                message_id: "wamid.X".into(),
                typing: false
            }
        );
    }
}
