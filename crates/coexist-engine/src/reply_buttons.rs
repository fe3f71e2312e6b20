//! Choices the customer taps instead of typing: up to three as reply buttons under the text
//! (Meta's interactive `button` message), four to ten as a list behind one menu button (an
//! interactive `list`). Checked here against Meta's limits so the agent hears what to change
//! before anything is queued; the tap comes back as an `interactive` reply quoting the message.

use coexist_core::ContactKey;
use serde_json::{json, Value};

use crate::compose::{envelope, ComposeError};

/// Meta's limits: reply buttons...
pub const MAX_BUTTONS: usize = 3;
pub const MAX_TITLE_CHARS: usize = 20;
pub const MAX_BODY_CHARS: usize = 1024;
/// ...and a list's rows.
pub const MAX_ROWS: usize = 10;
pub const MAX_ROW_TITLE_CHARS: usize = 24;
pub const MAX_LIST_BODY_CHARS: usize = 4096;
/// The list's menu button, as the customer sees it.
pub const LIST_BUTTON: &str = "Choose one";

/// `text` with one choice per title: buttons for up to three, a list for more. Ids are positions
/// (`button-1`..., `choice-1`...): the customer's tap names the choice by its id and title.
pub fn buttons_message(contact: &ContactKey, text: &str, titles: &[String]) -> Result<Value, ComposeError> {
    let shape = Shape::for_count(titles.len());
    let titles = check(text, titles, shape).map_err(ComposeError::Buttons)?;
    let interactive = match shape {
        Shape::Buttons => {
            let buttons: Vec<Value> = titles
                .iter()
                .enumerate()
                .map(|(i, title)| json!({ "type": "reply", "reply": { "id": format!("button-{}", i + 1), "title": title } }))
                .collect();
            json!({ "type": "button", "body": { "text": text }, "action": { "buttons": buttons } })
        }
        Shape::List => {
            let rows: Vec<Value> =
                titles.iter().enumerate().map(|(i, title)| json!({ "id": format!("choice-{}", i + 1), "title": title })).collect();
            json!({ "type": "list", "body": { "text": text }, "action": { "button": LIST_BUTTON, "sections": [{ "rows": rows }] } })
        }
    };
    let mut m = envelope(contact)?;
    m.insert("type".into(), json!("interactive"));
    m.insert("interactive".into(), interactive);
    Ok(Value::Object(m))
}

/// How Meta shows the choices: three fit as buttons, more go in a list.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Buttons,
    List,
}

impl Shape {
    fn for_count(n: usize) -> Shape {
        if n <= MAX_BUTTONS {
            Shape::Buttons
        } else {
            Shape::List
        }
    }

    fn max_title(self) -> usize {
        match self {
            Shape::Buttons => MAX_TITLE_CHARS,
            Shape::List => MAX_ROW_TITLE_CHARS,
        }
    }

    fn max_body(self) -> usize {
        match self {
            Shape::Buttons => MAX_BODY_CHARS,
            Shape::List => MAX_LIST_BODY_CHARS,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Shape::Buttons => "a button",
            Shape::List => "a choice in a list (more than three)",
        }
    }
}

/// The titles, trimmed, or what is wrong in words.
fn check(text: &str, titles: &[String], shape: Shape) -> Result<Vec<String>, String> {
    if text.trim().is_empty() {
        return Err("type the question or text the buttons answer".to_string());
    }
    let (len, max_body) = (text.chars().count(), shape.max_body());
    if len > max_body {
        return Err(format!("a message with these buttons has at most {max_body} characters of text; this one has {len}"));
    }
    let titles: Vec<String> = titles.iter().map(|t| t.trim().to_string()).collect();
    if titles.is_empty() || titles.len() > MAX_ROWS {
        return Err(format!(
            "WhatsApp offers 1 to {MAX_BUTTONS} buttons, or up to {MAX_ROWS} choices in a list; this message has {}",
            titles.len()
        ));
    }
    for (i, title) in titles.iter().enumerate() {
        let n = i + 1;
        let chars = title.chars().count();
        if chars == 0 {
            return Err(format!("button {n} says nothing; give it a word or remove it"));
        }
        if chars > shape.max_title() {
            return Err(format!("button {n} is {chars} characters; {} says at most {}", shape.name(), shape.max_title()));
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
        let eleven: Vec<String> = (1..=11).map(|i| format!("slot {i}")).collect();
        let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
        assert!(problem("Q", &eleven).contains("up to 10 choices in a list; this message has 11"));
        assert!(problem("Q", &["Yes", "  "]).contains("button 2 says nothing"));
        assert!(problem("Q", &["Yes", "A very long answer here"]).contains("button 2 is 23 characters"));
        assert!(problem("Q", &["Yes", "No", "Yes "]).contains("buttons 1 and 3 both say \"Yes\""));
        // Twenty characters, emoji counted as one each, is fine.
        assert!(buttons_message(&ContactKey::from_wa_id("1555"), "Q", &titles(&["👍".repeat(20).as_str()])).is_ok());
    }

    #[test]
    fn more_than_three_choices_go_in_a_list_with_longer_titles() {
        let slots = ["Mon 9:00", "Mon 14:00", "Tue 9:00", "Wednesday afternoon 16h"];
        let m = buttons_message(&ContactKey::from_wa_id("15551234567"), "Pick a slot", &titles(&slots)).unwrap();
        let list = &m["interactive"];
        assert_eq!(list["type"], "list");
        assert_eq!(list["action"]["button"], LIST_BUTTON);
        let rows = list["action"]["sections"][0]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[3], json!({ "id": "choice-4", "title": "Wednesday afternoon 16h" }), "23 characters fit a row");
        let long = problem("Pick a slot", &["a", "b", "c", "Wednesday afternoon, 4 pm"]);
        assert!(long.contains("button 4 is 25 characters; a choice in a list (more than three) says at most 24"), "{long}");
        // Three stay buttons, where twenty characters is the most.
        assert!(problem("Q", &["a", "b", "Wednesday afternoon 16h"]).contains("a button says at most 20"));
    }

    #[test]
    fn a_hidden_number_cannot_get_buttons() {
        let err = buttons_message(&ContactKey::from_user_id("abc"), "Q", &titles(&["Yes"])).unwrap_err();
        assert!(matches!(err, ComposeError::HiddenNumber(_)));
    }
}
