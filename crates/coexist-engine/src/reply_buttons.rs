//! Reply buttons: a text with up to three choices the customer taps instead of typing (Meta's
//! interactive `button` message). Checked here against Meta's limits so the agent hears what to
//! change before anything is queued; the tap comes back as an `interactive` reply quoting it.

use coexist_core::ContactKey;
use serde_json::{json, Value};

use crate::compose::{envelope, ComposeError};

/// Meta's limits for an interactive reply-buttons message.
pub const MAX_BUTTONS: usize = 3;
pub const MAX_TITLE_CHARS: usize = 20;
pub const MAX_BODY_CHARS: usize = 1024;

/// A message with reply buttons: `text`, then one button per title. The buttons' ids are their
/// positions (`button-1`...): the customer's tap names the button by its id and title.
pub fn buttons_message(contact: &ContactKey, text: &str, titles: &[String]) -> Result<Value, ComposeError> {
    let titles = check(text, titles).map_err(ComposeError::Buttons)?;
    let buttons: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| json!({ "type": "reply", "reply": { "id": format!("button-{}", i + 1), "title": title } }))
        .collect();
    let mut m = envelope(contact)?;
    m.insert("type".into(), json!("interactive"));
    m.insert("interactive".into(), json!({ "type": "button", "body": { "text": text }, "action": { "buttons": buttons } }));
    Ok(Value::Object(m))
}

/// The button titles, trimmed, or what is wrong in words.
fn check(text: &str, titles: &[String]) -> Result<Vec<String>, String> {
    if text.trim().is_empty() {
        return Err("type the question or text the buttons answer".to_string());
    }
    let len = text.chars().count();
    if len > MAX_BODY_CHARS {
        return Err(format!("a message with buttons has at most {MAX_BODY_CHARS} characters of text; this one has {len}"));
    }
    let titles: Vec<String> = titles.iter().map(|t| t.trim().to_string()).collect();
    if titles.is_empty() || titles.len() > MAX_BUTTONS {
        return Err(format!("WhatsApp offers 1 to {MAX_BUTTONS} reply buttons; this message has {}", titles.len()));
    }
    for (i, title) in titles.iter().enumerate() {
        let n = i + 1;
        let chars = title.chars().count();
        if chars == 0 {
            return Err(format!("button {n} says nothing; give it a word or remove it"));
        }
        if chars > MAX_TITLE_CHARS {
            return Err(format!("button {n} is {chars} characters; a button says at most {MAX_TITLE_CHARS}"));
        }
        if let Some(first) = titles[..i].iter().position(|t| t == title) {
            return Err(format!("buttons {} and {n} both say \"{title}\"; each button must say something different", first + 1));
        }
    }
    Ok(titles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    fn problem(text: &str, t: &[&str]) -> String {
        match buttons_message(&ContactKey::from_wa_id("15551234567"), text, &titles(t)) {
            Err(ComposeError::Buttons(p)) => p,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn builds_metas_interactive_button_message() {
        let m = buttons_message(&ContactKey::from_wa_id("15551234567"), "Ship today?", &titles(&[" Yes ", "No"])).unwrap();
        assert_eq!(m["type"], "interactive");
        assert_eq!(m["to"], "15551234567");
        assert_eq!(m["interactive"]["type"], "button");
        assert_eq!(m["interactive"]["body"]["text"], "Ship today?");
        let buttons = m["interactive"]["action"]["buttons"].as_array().unwrap();
        assert_eq!(buttons.len(), 2);
        assert_eq!(buttons[0]["reply"], json!({ "id": "button-1", "title": "Yes" }));
        assert_eq!(buttons[1]["reply"], json!({ "id": "button-2", "title": "No" }));
    }

    #[test]
    fn metas_limits_are_said_in_words() {
        assert!(problem(" ", &["Yes"]).contains("type the question"));
        assert!(problem(&"x".repeat(1025), &["Yes"]).contains("1025"));
        assert!(problem("Q", &[]).contains("1 to 3"));
        assert!(problem("Q", &["a", "b", "c", "d"]).contains("has 4"));
        assert!(problem("Q", &["Yes", "  "]).contains("button 2 says nothing"));
        assert!(problem("Q", &["Yes", "A very long answer here"]).contains("button 2 is 23 characters"));
        assert!(problem("Q", &["Yes", "No", "Yes "]).contains("buttons 1 and 3 both say \"Yes\""));
        // Twenty characters, emoji counted as one each, is fine.
        assert!(buttons_message(&ContactKey::from_wa_id("1555"), "Q", &titles(&["👍".repeat(20).as_str()])).is_ok());
    }

    #[test]
    fn a_hidden_number_cannot_get_buttons() {
        let err = buttons_message(&ContactKey::from_user_id("abc"), "Q", &titles(&["Yes"])).unwrap_err();
        assert!(matches!(err, ComposeError::HiddenNumber(_)));
    }
}
