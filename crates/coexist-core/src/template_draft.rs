//! A new message template as an admin writes it (a text header, a body with `{{1}}`-style
//! variables and an example for each, a footer), checked against Meta's rules before it is
//! submitted for review, and turned into the body of `POST /{waba_id}/message_templates`.
//!
//! Meta rejects at once a body over 1,024 characters, a header or footer over 60, variables out
//! of sequence, side by side, or at the very start or end of the body, and a variable without an
//! example; these are refused here first, in words, so the admin fixes them before waiting for a
//! review.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Meta's limits, in characters.
pub const MAX_TEMPLATE_NAME: usize = 512;
pub const MAX_TEMPLATE_BODY: usize = 1024;
pub const MAX_TEMPLATE_HEADER: usize = 60;
pub const MAX_TEMPLATE_FOOTER: usize = 60;

/// The categories a team writes templates in (authentication templates are Meta's fixed OTP
/// shape, not written freely).
pub const TEMPLATE_CATEGORIES: &[&str] = &["MARKETING", "UTILITY"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateDraft {
    /// Lowercase letters, digits and underscores (`order_shipped`).
    pub name: String,
    /// Meta's language code (`en_US`, `pt_BR`).
    pub language: String,
    /// `MARKETING` or `UTILITY`.
    pub category: String,
    #[serde(default)]
    pub header: Option<String>,
    /// With `{{1}}`, `{{2}}`… in order.
    pub body: String,
    /// One example value per body variable, in order: Meta's reviewers read the body with them.
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub footer: Option<String>,
}

impl TemplateDraft {
    /// Meta's rules, each refusal a sentence saying what to change.
    pub fn check(&self) -> Result<(), String> {
        check_name(&self.name)?;
        if !is_language_code(&self.language) {
            return Err(format!("{:?} is not a language code; use one like en_US or pt_BR", self.language));
        }
        if !TEMPLATE_CATEGORIES.contains(&self.category.as_str()) {
            return Err(format!("the category is {}", TEMPLATE_CATEGORIES.join(" or ")));
        }
        if let Some(header) = nonblank(&self.header) {
            check_line("the header", header, MAX_TEMPLATE_HEADER)?;
        }
        if let Some(footer) = nonblank(&self.footer) {
            check_line("the footer", footer, MAX_TEMPLATE_FOOTER)?;
        }
        self.check_body()
    }

    fn check_body(&self) -> Result<(), String> {
        let body = self.body.trim();
        match body.chars().count() {
            0 => return Err("the body is empty; write the message".into()),
            n if n > MAX_TEMPLATE_BODY => return Err(format!("the body is {n} characters; Meta takes at most {MAX_TEMPLATE_BODY}")),
            _ => {}
        }
        let variables = variables(body);
        for (i, v) in variables.iter().enumerate() {
            if v.number != i + 1 {
                return Err(format!("the body's variables go {{{{1}}}}, {{{{2}}}}… in order; {{{{{}}}}} is out of place", v.number));
            }
        }
        if variables.first().is_some_and(|v| v.start == 0) || variables.last().is_some_and(|v| v.end == body.len()) {
            return Err("the body cannot start or end with a variable; put words before and after it".into());
        }
        if variables.windows(2).any(|pair| body[pair[0].end..pair[1].start].trim().is_empty()) {
            return Err("two variables side by side; put words between them".into());
        }
        if self.examples.len() != variables.len() || self.examples.iter().any(|e| e.trim().is_empty()) {
            return Err(format!("give an example for each of the body's {} variable(s): Meta's reviewers read them", variables.len()));
        }
        Ok(())
    }

    /// The body of `POST /{waba_id}/message_templates`.
    pub fn to_graph(&self) -> Value {
        let mut components = Vec::new();
        if let Some(header) = nonblank(&self.header) {
            components.push(json!({"type": "HEADER", "format": "TEXT", "text": header}));
        }
        let mut body = json!({"type": "BODY", "text": self.body.trim()});
        if !self.examples.is_empty() {
            let examples: Vec<&str> = self.examples.iter().map(|e| e.trim()).collect();
            body["example"] = json!({"body_text": [examples]});
        }
        components.push(body);
        if let Some(footer) = nonblank(&self.footer) {
            components.push(json!({"type": "FOOTER", "text": footer}));
        }
        json!({"name": self.name, "language": self.language, "category": self.category, "components": components})
    }
}

fn nonblank(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TEMPLATE_NAME
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("a template name is lowercase letters, digits and underscores (like order_shipped), at most {MAX_TEMPLATE_NAME}"))
    }
}

/// `en`, `en_US`, `zh_Hant_HK`: letters, parts joined by underscores.
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('_');
    let first = parts.next().unwrap_or_default();
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=4).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A header or footer: one line, no variables (a variable there would need its own example).
fn check_line(what: &str, text: &str, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n > max {
        return Err(format!("{what} is {n} characters; Meta takes at most {max}"));
    }
    if text.contains('\n') {
        return Err(format!("{what} is one line"));
    }
    if text.contains("{{") {
        return Err(format!("{what} cannot hold a variable here; keep variables in the body"));
    }
    Ok(())
}

/// A `{{n}}` in the body: its number and byte range.
struct Variable {
    number: usize,
    start: usize,
    end: usize,
}

fn variables(body: &str) -> Vec<Variable> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = body[from..].find("{{").map(|i| from + i) {
        let Some(close) = body[open..].find("}}").map(|i| open + i) else { break };
        // A number that does not parse (`{{name}}`) counts as 0: out of sequence, refused.
        let number = body[open + 2..close].trim().parse().unwrap_or(0);
        found.push(Variable { number, start: open, end: close + 2 });
        from = close + 2;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(body: &str, examples: &[&str]) -> TemplateDraft {
        TemplateDraft {
            name: "order_shipped".into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            header: Some("Your order".into()),
            body: body.into(),
            examples: examples.iter().map(|e| e.to_string()).collect(),
            footer: Some("Reply STOP to opt out".into()),
        }
    }

    #[test]
    fn a_well_formed_draft_becomes_metas_create_body() {
        let d = draft("Hi {{1}}, order {{2}} ships today.", &["Ana", "A-1001"]);
        assert_eq!(d.check(), Ok(()));
        assert_eq!(
            d.to_graph(),
            json!({"name": "order_shipped", "language": "en_US", "category": "UTILITY", "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Your order"},
                {"type": "BODY", "text": "Hi {{1}}, order {{2}} ships today.", "example": {"body_text": [["Ana", "A-1001"]]}},
                {"type": "FOOTER", "text": "Reply STOP to opt out"}]})
        );
        let plain = TemplateDraft { header: Some("  ".into()), footer: None, ..draft("Thanks for your order.", &[]) };
        assert_eq!(plain.to_graph()["components"], json!([{"type": "BODY", "text": "Thanks for your order."}]));
    }

    #[test]
    fn metas_rules_are_refused_in_words() {
        let refused = |d: TemplateDraft| d.check().unwrap_err();
        assert!(refused(draft("{{1}}, your order ships.", &["Ana"])).contains("cannot start or end"));
        assert!(refused(draft("Your order ships, {{1}}", &["Ana"])).contains("cannot start or end"));
        assert!(refused(draft("Hi {{1}} {{2}} ships.", &["a", "b"])).contains("side by side"));
        assert!(refused(draft("Hi {{2}}, ships.", &["a"])).contains("out of place"));
        assert!(refused(draft("Hi {{name}}, ships.", &["a"])).contains("out of place"));
        assert!(refused(draft("Hi {{1}}, ships.", &[])).contains("an example for each"));
        assert!(refused(draft("Hi {{1}}, ships.", &[" "])).contains("an example for each"));
        assert!(refused(draft(&"x".repeat(1025), &[])).contains("at most 1024"));
        assert_eq!(draft(&"é".repeat(1024), &[]).check(), Ok(()), "characters, not bytes");
        assert!(refused(draft("  ", &[])).contains("empty"));
        assert!(refused(TemplateDraft { name: "Order Shipped".into(), ..draft("Hi.", &[]) }).contains("lowercase"));
        assert!(refused(TemplateDraft { language: "english".into(), ..draft("Hi.", &[]) }).contains("language code"));
        assert!(refused(TemplateDraft { category: "AUTHENTICATION".into(), ..draft("Hi.", &[]) }).contains("MARKETING or UTILITY"));
        assert!(refused(TemplateDraft { header: Some("x".repeat(61)), ..draft("Hi.", &[]) }).contains("the header is 61"));
        assert!(refused(TemplateDraft { footer: Some("a\nb".into()), ..draft("Hi.", &[]) }).contains("one line"));
        assert!(refused(TemplateDraft { header: Some("Hi {{1}}".into()), ..draft("Hi.", &[]) }).contains("keep variables in the body"));
    }
}
