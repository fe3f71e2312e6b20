//! The WABA's message templates: the default catalog and Meta's checks on a template send
//! (name + language exist and are approved, parameter counts, parameter kinds, text rules).

use serde_json::{json, Value};

use crate::error::GraphError;

/// `parameter_format` of a template: `{{1}}` style or `{{name}}` style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamFormat {
    Positional,
    Named,
}

impl ParamFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamFormat::Positional => "POSITIONAL",
            ParamFormat::Named => "NAMED",
        }
    }
}

/// One template in one language, as Meta stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, ...
    pub status: String,
    pub parameter_format: ParamFormat,
    /// Meta's `components` array (HEADER, BODY, FOOTER, BUTTONS) exactly as the listing shows it.
    pub components: Value,
}

impl Template {
    /// The object `GET /{waba_id}/message_templates` returns for this template.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "parameter_format": self.parameter_format.as_str(),
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        })
    }

    fn component(&self, kind: &str) -> Option<&Value> {
        self.components
            .as_array()?
            .iter()
            .find(|c| c["type"].as_str() == Some(kind))
    }
}

const CATEGORIES: &[&str] = &["MARKETING", "UTILITY", "AUTHENTICATION"];
const MAX_NAME: usize = 512;
const MAX_BODY: usize = 1024;

/// A template submitted with `POST /{waba_id}/message_templates`, checked as Meta checks it
/// before review: a lowercase name, a known category, a language, and one BODY with text.
/// It starts `PENDING`; approving it is a status change (`/sandbox/templates/status`).
pub fn submitted(id: String, body: &Value) -> Result<Template, GraphError> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
    let name = text("name").ok_or_else(|| GraphError::missing_parameter("name is required"))?;
    if name.len() > MAX_NAME || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(GraphError::invalid_parameter(format!(
            "name can only contain lowercase letters, digits and underscores, at most {MAX_NAME} characters"
        )));
    }
    let language = text("language").ok_or_else(|| GraphError::missing_parameter("language is required (like en_US)"))?;
    let category = text("category").ok_or_else(|| GraphError::missing_parameter("category is required"))?.to_ascii_uppercase();
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(GraphError::invalid_parameter(format!("category must be one of {}", CATEGORIES.join(", "))));
    }
    let parameter_format = match text("parameter_format").map(str::to_ascii_uppercase).as_deref() {
        None | Some("POSITIONAL") => ParamFormat::Positional,
        Some("NAMED") => ParamFormat::Named,
        Some(other) => return Err(GraphError::invalid_parameter(format!("parameter_format must be POSITIONAL or NAMED, got {other:?}"))),
    };
    let components = body.get("components").filter(|c| c.is_array()).cloned()
        .ok_or_else(|| GraphError::missing_parameter("components is required: an array with one BODY component"))?;
    let template = Template { id, name: name.into(), language: language.into(), category, status: "PENDING".into(), parameter_format, components };
    let body = template.component("BODY").ok_or_else(|| GraphError::invalid_parameter("components needs one BODY"))?;
    check_submitted_body(body, template.parameter_format)?;
    Ok(template)
}

/// Meta's checks of a submitted BODY, before any review: 1 to 1,024 characters; positional
/// variables `{{1}}`, `{{2}}`… in order, never first or last in the text; and one example value
/// per variable (`example.body_text`), which the reviewers read.
fn check_submitted_body(body: &Value, format: ParamFormat) -> Result<(), GraphError> {
    let text = body["text"].as_str().unwrap_or_default();
    if text.trim().is_empty() || text.chars().count() > MAX_BODY {
        return Err(GraphError::invalid_parameter(format!("components needs one BODY with a text of 1 to {MAX_BODY} characters")));
    }
    let names = placeholders(text);
    if format == ParamFormat::Positional && names.iter().enumerate().any(|(i, n)| *n != (i + 1).to_string()) {
        return Err(GraphError::invalid_parameter("The body's variables must be {{1}}, {{2}}… in sequence."));
    }
    let trimmed = text.trim();
    if !names.is_empty() && (trimmed.starts_with("{{") || trimmed.ends_with("}}")) {
        return Err(GraphError::invalid_parameter("Variables can't be at the start or end of the template body."));
    }
    let examples = body.pointer("/example/body_text/0").and_then(Value::as_array).map_or(0, Vec::len)
        + body.pointer("/example/body_text_named_params").and_then(Value::as_array).map_or(0, Vec::len);
    if examples != names.len() {
        return Err(GraphError::invalid_parameter(format!(
            "The body has {} variable(s) and {examples} example value(s); give one example per variable (example.body_text).",
            names.len()
        )));
    }
    Ok(())
}

/// The placeholders (`1`, `2` or `customer_name`) in a template text, in order of appearance.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let inner = after[..end].trim();
                if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    out.push(inner.to_string());
                }
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    out
}

fn tpl(
    id: &str,
    name: &str,
    language: &str,
    category: &str,
    format: ParamFormat,
    components: Value,
) -> Template {
    Template {
        id: id.into(),
        name: name.into(),
        language: language.into(),
        category: category.into(),
        status: "APPROVED".into(),
        parameter_format: format,
        components,
    }
}

/// The catalog every sandbox WABA starts with: Meta's own `hello_world` plus realistic templates
/// covering positional and named parameters, a media header, quick-reply and URL buttons, two
/// categories, several languages, and one template still `PENDING` review.
pub fn default_catalog() -> Vec<Template> {
    use ParamFormat::*;
    let mut list = vec![
        tpl(
            "1049170522894751",
            "hello_world",
            "en_US",
            "UTILITY",
            Positional,
            json!([
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}
            ]),
        ),
        tpl(
            "1689556908129832",
            "order_update",
            "en_US",
            "UTILITY",
            Positional,
            json!([
                {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped", "example": {"body_text": [["Ana", "#1042"]]}},
                {"type": "FOOTER", "text": "Reply HELP for assistance"}
            ]),
        ),
        tpl(
            "1689556908129833",
            "order_update",
            "es",
            "UTILITY",
            Positional,
            json!([
                {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} ha sido enviado", "example": {"body_text": [["Ana", "#1042"]]}}
            ]),
        ),
        tpl(
            "1689556908129834",
            "appointment_reminder",
            "en_US",
            "UTILITY",
            Named,
            json!([
                {"type": "BODY", "text": "Hi {{customer_name}}, this is a reminder of your appointment at {{time}}. Reply to confirm or reschedule.",
                 "example": {"body_text_named_params": [
                    {"param_name": "customer_name", "example": "Ana"},
                    {"param_name": "time", "example": "3:00 PM tomorrow"}]}},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Confirm"},
                    {"type": "QUICK_REPLY", "text": "Reschedule"}]}
            ]),
        ),
        tpl(
            "1689556908129835",
            "spring_sale",
            "en_US",
            "MARKETING",
            Positional,
            json!([
                {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent.whatsapp.net/v/t61.29466-34/spring_sale.jpg"]}},
                {"type": "BODY", "text": "Hi {{1}}! Our spring sale is on: {{2}} off everything until Sunday.", "example": {"body_text": [["Ana", "20%"]]}},
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Shop now"},
                    {"type": "QUICK_REPLY", "text": "Not interested"}]}
            ]),
        ),
        tpl(
            "1689556908129836",
            "delivery_tracking",
            "en_US",
            "UTILITY",
            Positional,
            json!([
                {"type": "BODY", "text": "Your package {{1}} is on its way.", "example": {"body_text": [["#1042"]]}},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Track package", "url": "https://shop.example.com/track/{{1}}", "example": ["https://shop.example.com/track/1042"]}]}
            ]),
        ),
        tpl(
            "1689556908129837",
            "welcome_back",
            "pt_BR",
            "MARKETING",
            Positional,
            json!([
                {"type": "BODY", "text": "Olá {{1}}, sentimos sua falta! Use o cupom {{2}} na sua próxima compra.", "example": {"body_text": [["Ana", "VOLTA10"]]}}
            ]),
        ),
        tpl(
            "1689556908129838",
            "holiday_hours",
            "en_US",
            "UTILITY",
            Positional,
            json!([
                {"type": "BODY", "text": "We are closed on {{1}}. Orders placed that day ship the next business day.", "example": {"body_text": [["Monday"]]}}
            ]),
        ),
    ];
    if let Some(pending) = list.last_mut() {
        pending.status = "PENDING".into();
    }
    list
}

/// What a valid template send resolves to.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateUse {
    pub category: String,
    /// The header and body text with the parameters filled in, for the sent log.
    pub rendered: String,
}

/// Find the template for a send or answer with Meta's error (132001, 132015, 132016).
pub fn lookup<'a>(
    catalog: &'a [Template],
    name: &str,
    language: &str,
) -> Result<&'a Template, GraphError> {
    let t = catalog
        .iter()
        .find(|t| t.name == name && t.language == language)
        .ok_or_else(|| GraphError::template_missing(name, language))?;
    match t.status.as_str() {
        "APPROVED" => Ok(t),
        "PAUSED" => Err(GraphError::template_paused(name)),
        "DISABLED" => Err(GraphError::template_disabled(name)),
        _ => Err(GraphError::template_missing(name, language)),
    }
}

/// Check the `template.components` of a send against the template, as Meta does.
pub fn check_send(t: &Template, sent_components: &Value) -> Result<TemplateUse, GraphError> {
    let sent: &[Value] = match sent_components {
        Value::Null => &[],
        Value::Array(a) => a,
        _ => {
            return Err(GraphError::invalid_parameter(
                "template.components must be an array",
            ))
        }
    };
    let header = check_header(t, find_sent(sent, "header"))?;
    let body = check_body(t, find_sent(sent, "body"))?;
    check_buttons(t, sent)?;
    let rendered = [header, body]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    Ok(TemplateUse {
        category: t.category.clone(),
        rendered,
    })
}

fn find_sent<'a>(sent: &'a [Value], kind: &str) -> Option<&'a Value> {
    sent.iter().find(|c| {
        c["type"]
            .as_str()
            .map(|s| s.eq_ignore_ascii_case(kind))
            .unwrap_or(false)
    })
}

fn params_of(component: Option<&Value>) -> &[Value] {
    component
        .and_then(|c| c["parameters"].as_array())
        .map(|v| v.as_slice())
        .unwrap_or(&[])
}

fn check_header(t: &Template, sent: Option<&Value>) -> Result<Option<String>, GraphError> {
    let params = params_of(sent);
    let Some(h) = t.component("HEADER") else {
        if !params.is_empty() {
            return Err(GraphError::param_count("header", params.len(), 0));
        }
        return Ok(None);
    };
    let format = h["format"].as_str().unwrap_or("TEXT");
    if format == "TEXT" {
        let text = h["text"].as_str().unwrap_or_default();
        let values = text_values("header", t.parameter_format, &placeholders(text), params)?;
        return Ok(Some(fill(text, &values)));
    }
    let expected = format.to_ascii_lowercase();
    let got = params
        .first()
        .and_then(|p| p["type"].as_str())
        .unwrap_or("UNKNOWN");
    if params.len() != 1 || got != expected {
        return Err(GraphError::param_format(format!(
            "header: Format mismatch, expected {format}, received {}",
            got.to_ascii_uppercase()
        )));
    }
    let media = &params[0][expected.as_str()];
    let link_ok = media["link"]
        .as_str()
        .map(|l| l.starts_with("https://") || l.starts_with("http://"))
        .unwrap_or(false);
    let id_ok = media["id"].as_str().map(|i| !i.is_empty()).unwrap_or(false);
    if !link_ok && !id_ok {
        return Err(GraphError::missing_parameter(format!(
            "header: {expected} parameter needs a link (http/https) or an id"
        )));
    }
    Ok(Some(format!("[{expected}]")))
}

fn check_body(t: &Template, sent: Option<&Value>) -> Result<Option<String>, GraphError> {
    let params = params_of(sent);
    let text = t
        .component("BODY")
        .and_then(|b| b["text"].as_str())
        .unwrap_or_default();
    let values = text_values("body", t.parameter_format, &placeholders(text), params)?;
    Ok(Some(fill(text, &values)))
}

/// Validate text parameters against the placeholders; returns (placeholder, value) pairs.
fn text_values(
    component: &str,
    format: ParamFormat,
    holes: &[String],
    params: &[Value],
) -> Result<Vec<(String, String)>, GraphError> {
    let unique: Vec<&String> = holes.iter().fold(Vec::new(), |mut acc, h| {
        if !acc.contains(&h) {
            acc.push(h);
        }
        acc
    });
    if params.len() != unique.len() {
        return Err(GraphError::param_count(
            component,
            params.len(),
            unique.len(),
        ));
    }
    let mut out = Vec::with_capacity(params.len());
    for (i, p) in params.iter().enumerate() {
        let value = param_text(component, p)?;
        let key = match format {
            ParamFormat::Positional => (i + 1).to_string(),
            ParamFormat::Named => {
                let name = p["parameter_name"].as_str().ok_or_else(|| {
                    GraphError::missing_parameter(format!(
                        "{component}: parameter_name is required for a NAMED template"
                    ))
                })?;
                if !unique.iter().any(|h| h.as_str() == name) {
                    let expected: Vec<&str> = unique.iter().map(|s| s.as_str()).collect();
                    return Err(GraphError::invalid_parameter(format!(
                        "{component}: parameter_name '{name}' is not in the template (expected: {})",
                        expected.join(", ")
                    )));
                }
                name.to_string()
            }
        };
        out.push((key, value));
    }
    Ok(out)
}

fn param_text(component: &str, p: &Value) -> Result<String, GraphError> {
    match p["type"].as_str() {
        Some("text") => {
            let text = p["text"].as_str().unwrap_or_default();
            if text.trim().is_empty() {
                return Err(GraphError::missing_parameter(
                    "Parameter of type text is missing text value",
                ));
            }
            if text.contains('\n') || text.contains('\t') || text.contains("     ") {
                return Err(GraphError {
                    http: axum::http::StatusCode::BAD_REQUEST,
                    code: 132018,
                    subcode: None,
                    kind: "OAuthException",
                    message: "(#132018) There was an issue with the parameters in your template.".into(),
                    details: Some(format!("{component}: Param text cannot have new-line/tab characters or more than 4 consecutive spaces")),
                });
            }
            Ok(text.to_string())
        }
        Some("currency") => Ok(p["currency"]["fallback_value"]
            .as_str()
            .unwrap_or_default()
            .to_string()),
        Some("date_time") => Ok(p["date_time"]["fallback_value"]
            .as_str()
            .unwrap_or_default()
            .to_string()),
        Some(other) => Err(GraphError::param_format(format!(
            "{component}: Format mismatch, expected TEXT, received {}",
            other.to_ascii_uppercase()
        ))),
        None => Err(GraphError::missing_parameter(format!(
            "{component}: every parameter needs a type"
        ))),
    }
}

fn fill(text: &str, values: &[(String, String)]) -> String {
    values.iter().fold(text.to_string(), |acc, (k, v)| {
        acc.replace(&format!("{{{{{k}}}}}"), v)
    })
}

fn check_buttons(t: &Template, sent: &[Value]) -> Result<(), GraphError> {
    let buttons = t
        .component("BUTTONS")
        .and_then(|b| b["buttons"].as_array())
        .cloned()
        .unwrap_or_default();
    for (i, b) in buttons.iter().enumerate() {
        let url = b["url"].as_str().unwrap_or_default();
        if b["type"].as_str() != Some("URL") || placeholders(url).is_empty() {
            continue;
        }
        let sent_button = sent.iter().find(|c| {
            c["type"].as_str() == Some("button")
                && c["sub_type"]
                    .as_str()
                    .map(|s| s.eq_ignore_ascii_case("url"))
                    .unwrap_or(false)
                && index_of(&c["index"]) == Some(i)
        });
        let got = params_of(sent_button).len();
        if got != 1 {
            return Err(GraphError::param_count(
                &format!("button at index {i} of type Url"),
                got,
                1,
            ));
        }
    }
    Ok(())
}

fn index_of(v: &Value) -> Option<usize> {
    v.as_u64()
        .map(|n| n as usize)
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(name: &str, lang: &str) -> Template {
        default_catalog()
            .into_iter()
            .find(|t| t.name == name && t.language == lang)
            .unwrap()
    }

    #[test]
    fn placeholders_are_found_in_order() {
        assert_eq!(placeholders("Hi {{1}}, order {{2}}"), vec!["1", "2"]);
        assert_eq!(
            placeholders("{{customer_name}} at {{ time }}"),
            vec!["customer_name", "time"]
        );
        assert!(placeholders("no {{ holes").is_empty());
    }

    #[test]
    fn positional_send_renders_and_wrong_count_is_132000() {
        let t = find("order_update", "en_US");
        let ok = check_send(&t, &json!([{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"#7"}]}])).unwrap();
        assert_eq!(ok.rendered, "Hi Ana, your order #7 has shipped");
        let err = check_send(
            &t,
            &json!([{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]),
        )
        .unwrap_err();
        assert_eq!(err.code, 132000);
    }

    #[test]
    fn named_send_needs_matching_names() {
        let t = find("appointment_reminder", "en_US");
        let ok = check_send(
            &t,
            &json!([{"type":"body","parameters":[
            {"type":"text","parameter_name":"time","text":"9am"},
            {"type":"text","parameter_name":"customer_name","text":"Bo"}]}]),
        )
        .unwrap();
        assert!(ok
            .rendered
            .starts_with("Hi Bo, this is a reminder of your appointment at 9am."));
        let err = check_send(
            &t,
            &json!([{"type":"body","parameters":[
            {"type":"text","parameter_name":"who","text":"9am"},
            {"type":"text","parameter_name":"customer_name","text":"Bo"}]}]),
        )
        .unwrap_err();
        assert_eq!(err.code, 100);
    }

    #[test]
    fn media_header_and_url_button_are_required() {
        let t = find("spring_sale", "en_US");
        let body = json!({"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"20%"}]});
        assert_eq!(
            check_send(&t, &json!([body.clone()])).unwrap_err().code,
            132012
        );
        let header = json!({"type":"header","parameters":[{"type":"image","image":{"link":"https://x.example/a.jpg"}}]});
        assert!(check_send(&t, &json!([header, body])).is_ok());

        let t = find("delivery_tracking", "en_US");
        let body = json!({"type":"body","parameters":[{"type":"text","text":"#1"}]});
        assert_eq!(
            check_send(&t, &json!([body.clone()])).unwrap_err().code,
            132000
        );
        let button = json!({"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"1"}]});
        assert!(check_send(&t, &json!([body, button])).is_ok());
    }

    #[test]
    fn newline_in_param_is_132018_and_lookup_respects_status() {
        let t = find("order_update", "en_US");
        let err = check_send(&t, &json!([{"type":"body","parameters":[{"type":"text","text":"A\nB"},{"type":"text","text":"#7"}]}])).unwrap_err();
        assert_eq!(err.code, 132018);
        let cat = default_catalog();
        assert_eq!(
            lookup(&cat, "holiday_hours", "en_US").unwrap_err().code,
            132001
        );
        assert_eq!(lookup(&cat, "order_update", "fr").unwrap_err().code, 132001);
        assert!(lookup(&cat, "hello_world", "en_US").is_ok());
    }
}
