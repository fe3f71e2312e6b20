//! Meta's interactive reply-button and list messages: the rules a send must meet (checked when the
//! request arrives, as Meta does, so a message the product builds wrong fails in tests rather than
//! in front of a customer) and, for a message already sent, the choices a customer can tap.
//!
//! Rules, from Meta's "Interactive reply buttons messages" and "Interactive list messages":
//! - `button`: `body.text` 1–1,024 characters; optional `header` (text of at most 60 characters,
//!   or an image, video or document); optional `footer.text` of at most 60; `action.buttons` 1–3
//!   items `{"type":"reply","reply":{"id","title"}}`, titles 1–20 characters and unique, ids 1–256
//!   characters, unique, with no leading or trailing spaces.
//! - `list`: `body.text` 1–4,096; optional text `header` (60) and `footer` (60); `action.button`
//!   (the menu label) 1–20; `action.sections` 1–10, each with rows, at most 10 rows in all; row
//!   `title` 1–24, `id` 1–200 and unique, `description` at most 72; a section `title` (at most 24)
//!   is required once there is more than one section.
//!
//! A missing field is Meta's code 100 ("The parameter X is required."); a value the rules refuse is
//! 131009 "Parameter value is not valid" with `error_data.details` saying which rule. Other
//! interactive types (`cta_url`, `flow`, `product`, ...) only need `type` and `action`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::GraphError;
use crate::send::{check_media, required};

/// Reply buttons a message may carry.
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_BODY: usize = 1024;
pub const MAX_LIST_BODY: usize = 4096;
pub const MAX_HEADER: usize = 60;
pub const MAX_FOOTER: usize = 60;
pub const MAX_BUTTON_TITLE: usize = 20;
pub const MAX_BUTTON_ID: usize = 256;
/// The list's menu button label (`action.button`).
pub const MAX_LIST_BUTTON: usize = 20;
pub const MAX_SECTIONS: usize = 10;
pub const MAX_SECTION_TITLE: usize = 24;
/// Rows in all sections together.
pub const MAX_ROWS: usize = 10;
pub const MAX_ROW_TITLE: usize = 24;
pub const MAX_ROW_ID: usize = 200;
pub const MAX_ROW_DESCRIPTION: usize = 72;

/// Check the `interactive` object of a send.
pub(crate) fn check(o: &Value) -> Result<(), GraphError> {
    let kind = o
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| required("interactive.type"))?;
    let action = o
        .get("action")
        .ok_or_else(|| required("interactive.action"))?;
    match kind {
        "button" => check_buttons(o, action),
        "list" => check_list(o, action),
        _ => Ok(()),
    }
}

/// 131009 with `details`: the answer to every value these rules refuse.
fn invalid(details: impl Into<String>) -> GraphError {
    GraphError::invalid_value(details)
}

/// `o[key]` as a string: missing is a 100, another JSON type a 131009.
fn string<'a>(o: &'a Value, key: &str, path: &str) -> Result<&'a str, GraphError> {
    match o.get(key) {
        None | Some(Value::Null) => Err(required(path)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(format!("{path} must be a string"))),
    }
}

/// `o[key]` as an array: missing is a 100, another JSON type a 131009.
fn array<'a>(o: &'a Value, key: &str, path: &str) -> Result<&'a Vec<Value>, GraphError> {
    match o.get(key) {
        None | Some(Value::Null) => Err(required(path)),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(format!("{path} must be an array"))),
    }
}

/// A text of 1 to `max` characters (Meta counts characters, not bytes). `what` names the field as
/// the details do, e.g. "Button title".
fn check_len(what: &str, s: &str, max: usize) -> Result<(), GraphError> {
    let n = s.chars().count();
    if n == 0 {
        return Err(invalid(format!("{what} length invalid. Min length is 1")));
    }
    if n > max {
        return Err(invalid(format!(
            "{what} length invalid. Max length is {max}"
        )));
    }
    Ok(())
}

fn check_body(o: &Value, max: usize) -> Result<(), GraphError> {
    let body = match o.get("body") {
        None | Some(Value::Null) => return Err(required("interactive.body.text")),
        Some(b) => b,
    };
    check_len(
        "Body text",
        string(body, "text", "interactive.body.text")?,
        max,
    )
}

/// Reply buttons may have a media header; lists only a text one.
fn check_header(o: &Value, media_allowed: bool) -> Result<(), GraphError> {
    let header = match o.get("header") {
        None | Some(Value::Null) => return Ok(()),
        Some(h) => h,
    };
    match string(header, "type", "interactive.header.type")? {
        "text" => check_len(
            "Header text",
            string(header, "text", "interactive.header.text")?,
            MAX_HEADER,
        ),
        kind @ ("image" | "video" | "document") if media_allowed => {
            let media = header
                .get(kind)
                .ok_or_else(|| required(&format!("interactive.header.{kind}")))?;
            check_media(kind, media)
        }
        _ if media_allowed => Err(invalid(
            "Header type invalid. Use text, image, video or document",
        )),
        _ => Err(invalid(
            "Header type invalid. A list message supports only a text header",
        )),
    }
}

fn check_footer(o: &Value) -> Result<(), GraphError> {
    match o.get("footer") {
        None | Some(Value::Null) => Ok(()),
        Some(f) => check_len(
            "Footer text",
            string(f, "text", "interactive.footer.text")?,
            MAX_FOOTER,
        ),
    }
}

fn check_buttons(o: &Value, action: &Value) -> Result<(), GraphError> {
    check_body(o, MAX_BUTTON_BODY)?;
    check_header(o, true)?;
    check_footer(o)?;
    let buttons = array(action, "buttons", "interactive.action.buttons")?;
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        return Err(invalid(format!(
            "Buttons count invalid. Min count is 1, max count is {MAX_BUTTONS}"
        )));
    }
    let mut titles = HashSet::new();
    let mut ids = HashSet::new();
    for (i, button) in buttons.iter().enumerate() {
        let path = format!("interactive.action.buttons[{i}]");
        if string(button, "type", &format!("{path}.type"))? != "reply" {
            return Err(invalid("Button type invalid. Use \"reply\""));
        }
        let reply = match button.get("reply") {
            None | Some(Value::Null) => return Err(required(&format!("{path}.reply"))),
            Some(r) => r,
        };
        let title = string(reply, "title", &format!("{path}.reply.title"))?;
        check_len("Button title", title, MAX_BUTTON_TITLE)?;
        let id = string(reply, "id", &format!("{path}.reply.id"))?;
        check_len("Button id", id, MAX_BUTTON_ID)?;
        if id.trim() != id {
            return Err(invalid(
                "Button id invalid. It cannot have leading or trailing spaces",
            ));
        }
        if !titles.insert(title) {
            return Err(invalid("Button titles must be unique"));
        }
        if !ids.insert(id) {
            return Err(invalid("Button ids must be unique"));
        }
    }
    Ok(())
}

fn check_list(o: &Value, action: &Value) -> Result<(), GraphError> {
    check_body(o, MAX_LIST_BODY)?;
    check_header(o, false)?;
    check_footer(o)?;
    check_len(
        "List button text",
        string(action, "button", "interactive.action.button")?,
        MAX_LIST_BUTTON,
    )?;
    let sections = array(action, "sections", "interactive.action.sections")?;
    if sections.is_empty() || sections.len() > MAX_SECTIONS {
        return Err(invalid(format!(
            "Sections count invalid. Min count is 1, max count is {MAX_SECTIONS}"
        )));
    }
    let mut ids = HashSet::new();
    let mut total = 0;
    for (s, section) in sections.iter().enumerate() {
        let path = format!("interactive.action.sections[{s}]");
        match section.get("title") {
            None | Some(Value::Null) if sections.len() > 1 => {
                return Err(invalid(
                    "Section title is required when there is more than one section",
                ))
            }
            None | Some(Value::Null) => {}
            Some(Value::String(t)) => check_len("Section title", t, MAX_SECTION_TITLE)?,
            Some(_) => return Err(invalid(format!("{path}.title must be a string"))),
        }
        let rows = array(section, "rows", &format!("{path}.rows"))?;
        if rows.is_empty() {
            return Err(invalid(
                "Rows count invalid. Each section needs at least 1 row",
            ));
        }
        total += rows.len();
        if total > MAX_ROWS {
            return Err(invalid(format!(
                "Rows count invalid. Max count is {MAX_ROWS} in all sections"
            )));
        }
        for (r, row) in rows.iter().enumerate() {
            let path = format!("{path}.rows[{r}]");
            let id = string(row, "id", &format!("{path}.id"))?;
            check_len("Row id", id, MAX_ROW_ID)?;
            check_len(
                "Row title",
                string(row, "title", &format!("{path}.title"))?,
                MAX_ROW_TITLE,
            )?;
            match row.get("description") {
                None | Some(Value::Null) => {}
                Some(Value::String(d)) if d.chars().count() <= MAX_ROW_DESCRIPTION => {}
                Some(Value::String(_)) => {
                    return Err(invalid(format!(
                        "Row description length invalid. Max length is {MAX_ROW_DESCRIPTION}"
                    )))
                }
                Some(_) => return Err(invalid(format!("{path}.description must be a string"))),
            }
            if !ids.insert(id) {
                return Err(invalid("Row ids must be unique"));
            }
        }
    }
    Ok(())
}

/// Which kind of reply a tap produces: `button_reply` for reply buttons, `list_reply` for rows.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    ButtonReply,
    ListReply,
}

/// What the customer tapped, as Meta reports it in the inbound `interactive` message.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct InteractiveReply {
    #[serde(rename = "type")]
    pub kind: ReplyKind,
    pub id: String,
    pub title: String,
    /// A list row's description (Meta sends it only for rows that have one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl InteractiveReply {
    /// The inbound message's `interactive` object:
    /// `{"type":"button_reply","button_reply":{"id","title"}}` or the `list_reply` equivalent.
    pub fn content(&self) -> Value {
        let key = match self.kind {
            ReplyKind::ButtonReply => "button_reply",
            ReplyKind::ListReply => "list_reply",
        };
        let mut reply = json!({"id": self.id, "title": self.title});
        if let (ReplyKind::ListReply, Some(d)) = (self.kind, &self.description) {
            reply["description"] = json!(d);
        }
        json!({"type": key, key: reply})
    }
}

/// The choices of a sent `interactive` object in the order the customer sees them (a list's rows
/// across its sections), or `None` when it is not a reply-button or list message.
pub fn choices(interactive: &Value) -> Option<Vec<InteractiveReply>> {
    let text = |v: &Value, k: &str| v[k].as_str().map(String::from);
    let action = &interactive["action"];
    match interactive["type"].as_str()? {
        "button" => action["buttons"]
            .as_array()?
            .iter()
            .map(|b| {
                Some(InteractiveReply {
                    kind: ReplyKind::ButtonReply,
                    id: text(&b["reply"], "id")?,
                    title: text(&b["reply"], "title")?,
                    description: None,
                })
            })
            .collect(),
        "list" => action["sections"]
            .as_array()?
            .iter()
            .flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                Some(InteractiveReply {
                    kind: ReplyKind::ListReply,
                    id: text(&r, "id")?,
                    title: text(&r, "title")?,
                    description: text(&r, "description"),
                })
            })
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buttons() -> Value {
        json!({
            "type": "button",
            "header": {"type": "text", "text": "Your order"},
            "body": {"text": "Shall we ship it tomorrow?"},
            "footer": {"text": "Sandbox Shop"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "ship-yes", "title": "Yes, ship it"}},
                {"type": "reply", "reply": {"id": "ship-later", "title": "Later"}},
                {"type": "reply", "reply": {"id": "ship-no", "title": "Cancel"}}
            ]}
        })
    }

    fn list() -> Value {
        json!({
            "type": "list",
            "header": {"type": "text", "text": "Shipping"},
            "body": {"text": "Which shipping option do you prefer?"},
            "footer": {"text": "Sandbox Shop"},
            "action": {"button": "Shipping options", "sections": [
                {"title": "Fast", "rows": [
                    {"id": "express", "title": "Express", "description": "Next day"},
                    {"id": "priority", "title": "Priority"}
                ]},
                {"title": "Cheap", "rows": [{"id": "ground", "title": "Ground", "description": "5 days"}]}
            ]}
        })
    }

    /// The breach's code and details.
    fn refused(o: &Value) -> (i64, String) {
        let e = check(o).expect_err("should be refused");
        (e.code, e.details.unwrap_or_default())
    }

    fn invalid(o: &Value, details: &str) {
        assert_eq!(refused(o), (131009, details.to_string()), "{o}");
    }

    #[test]
    fn valid_buttons_and_lists_pass() {
        check(&buttons()).unwrap();
        check(&list()).unwrap();
        let mut one = buttons();
        one["action"]["buttons"] = json!([{"type":"reply","reply":{"id":"a","title":"A"}}]);
        one.as_object_mut().unwrap().remove("header");
        one.as_object_mut().unwrap().remove("footer");
        check(&one).unwrap();
        let mut image = buttons();
        image["header"] = json!({"type": "image", "image": {"link": "https://x/a.png"}});
        check(&image).unwrap();
        let mut single = list();
        single["action"]["sections"] = json!([{"rows": [{"id": "a", "title": "A"}]}]);
        check(&single).unwrap();
        // other interactive types keep the light check
        check(&json!({"type": "cta_url", "action": {"name": "cta_url"}})).unwrap();
    }

    #[test]
    fn exact_limits_pass() {
        let mut b = buttons();
        b["body"]["text"] = json!("é".repeat(1024));
        b["header"]["text"] = json!("h".repeat(60));
        b["footer"]["text"] = json!("f".repeat(60));
        b["action"]["buttons"][0]["reply"] =
            json!({"id": "i".repeat(256), "title": "t".repeat(20)});
        check(&b).unwrap();
        let mut l = list();
        l["body"]["text"] = json!("b".repeat(4096));
        l["action"]["button"] = json!("m".repeat(20));
        l["action"]["sections"][0]["title"] = json!("s".repeat(24));
        l["action"]["sections"][0]["rows"][0] =
            json!({"id": "i".repeat(200), "title": "t".repeat(24), "description": "d".repeat(72)});
        check(&l).unwrap();
    }

    #[test]
    fn missing_fields_are_code_100() {
        let mut b = buttons();
        b.as_object_mut().unwrap().remove("body");
        assert_eq!(
            refused(&b),
            (
                100,
                "The parameter interactive.body.text is required.".into()
            )
        );
        let mut b = buttons();
        b["action"] = json!({});
        assert_eq!(refused(&b).0, 100);
        let mut b = buttons();
        b["action"]["buttons"][1] = json!({"type": "reply"});
        assert_eq!(
            refused(&b),
            (
                100,
                "The parameter interactive.action.buttons[1].reply is required.".into()
            )
        );
        let mut l = list();
        l["action"].as_object_mut().unwrap().remove("button");
        assert_eq!(
            refused(&l),
            (
                100,
                "The parameter interactive.action.button is required.".into()
            )
        );
        assert_eq!(refused(&json!({"type": "button"})).0, 100);
    }

    #[test]
    fn each_button_rule_answers_131009_with_its_details() {
        let mut b = buttons();
        b["body"]["text"] = json!("x".repeat(1025));
        invalid(&b, "Body text length invalid. Max length is 1024");
        b["body"]["text"] = json!("");
        invalid(&b, "Body text length invalid. Min length is 1");

        let mut b = buttons();
        b["header"]["text"] = json!("x".repeat(61));
        invalid(&b, "Header text length invalid. Max length is 60");
        b["header"] = json!({"type": "location"});
        invalid(
            &b,
            "Header type invalid. Use text, image, video or document",
        );

        let mut b = buttons();
        b["footer"]["text"] = json!("x".repeat(61));
        invalid(&b, "Footer text length invalid. Max length is 60");

        let mut b = buttons();
        b["action"]["buttons"] = json!([]);
        invalid(&b, "Buttons count invalid. Min count is 1, max count is 3");
        let four = json!({"type":"reply","reply":{"id":"four","title":"Four"}});
        b = buttons();
        b["action"]["buttons"].as_array_mut().unwrap().push(four);
        invalid(&b, "Buttons count invalid. Min count is 1, max count is 3");

        let mut b = buttons();
        b["action"]["buttons"][0]["type"] = json!("url");
        invalid(&b, "Button type invalid. Use \"reply\"");

        let mut b = buttons();
        b["action"]["buttons"][1]["reply"]["title"] = json!("x".repeat(21));
        invalid(&b, "Button title length invalid. Max length is 20");
        b["action"]["buttons"][1]["reply"]["title"] = json!("");
        invalid(&b, "Button title length invalid. Min length is 1");
        b["action"]["buttons"][1]["reply"]["title"] = json!("Yes, ship it");
        invalid(&b, "Button titles must be unique");

        let mut b = buttons();
        b["action"]["buttons"][2]["reply"]["id"] = json!("x".repeat(257));
        invalid(&b, "Button id length invalid. Max length is 256");
        b["action"]["buttons"][2]["reply"]["id"] = json!("");
        invalid(&b, "Button id length invalid. Min length is 1");
        b["action"]["buttons"][2]["reply"]["id"] = json!(" ship-no");
        invalid(
            &b,
            "Button id invalid. It cannot have leading or trailing spaces",
        );
        b["action"]["buttons"][2]["reply"]["id"] = json!("ship-no ");
        invalid(
            &b,
            "Button id invalid. It cannot have leading or trailing spaces",
        );
        b["action"]["buttons"][2]["reply"]["id"] = json!("ship-yes");
        invalid(&b, "Button ids must be unique");

        let mut b = buttons();
        b["action"]["buttons"][0]["reply"]["title"] = json!(7);
        invalid(
            &b,
            "interactive.action.buttons[0].reply.title must be a string",
        );
    }

    #[test]
    fn each_list_rule_answers_131009_with_its_details() {
        let mut l = list();
        l["body"]["text"] = json!("x".repeat(4097));
        invalid(&l, "Body text length invalid. Max length is 4096");

        let mut l = list();
        l["header"] = json!({"type": "image", "image": {"link": "https://x/a.png"}});
        invalid(
            &l,
            "Header type invalid. A list message supports only a text header",
        );
        l["header"] = json!({"type": "text", "text": "x".repeat(61)});
        invalid(&l, "Header text length invalid. Max length is 60");

        let mut l = list();
        l["footer"]["text"] = json!("x".repeat(61));
        invalid(&l, "Footer text length invalid. Max length is 60");

        let mut l = list();
        l["action"]["button"] = json!("x".repeat(21));
        invalid(&l, "List button text length invalid. Max length is 20");

        let mut l = list();
        l["action"]["sections"] = json!([]);
        invalid(
            &l,
            "Sections count invalid. Min count is 1, max count is 10",
        );
        let section = json!({"title": "S", "rows": [{"id": "r", "title": "R"}]});
        l["action"]["sections"] = json!(vec![section; 11]);
        invalid(
            &l,
            "Sections count invalid. Min count is 1, max count is 10",
        );

        let mut l = list();
        l["action"]["sections"][1]
            .as_object_mut()
            .unwrap()
            .remove("title");
        invalid(
            &l,
            "Section title is required when there is more than one section",
        );
        l["action"]["sections"][1]["title"] = json!("x".repeat(25));
        invalid(&l, "Section title length invalid. Max length is 24");

        let mut l = list();
        l["action"]["sections"][1]["rows"] = json!([]);
        invalid(&l, "Rows count invalid. Each section needs at least 1 row");
        let rows: Vec<Value> = (0..9)
            .map(|i| json!({"id": format!("r{i}"), "title": format!("Row {i}")}))
            .collect();
        l["action"]["sections"][1]["rows"] = json!(rows);
        invalid(&l, "Rows count invalid. Max count is 10 in all sections");

        let mut l = list();
        l["action"]["sections"][0]["rows"][1]["title"] = json!("x".repeat(25));
        invalid(&l, "Row title length invalid. Max length is 24");
        l["action"]["sections"][0]["rows"][1]["title"] = json!("");
        invalid(&l, "Row title length invalid. Min length is 1");

        let mut l = list();
        l["action"]["sections"][0]["rows"][1]["id"] = json!("x".repeat(201));
        invalid(&l, "Row id length invalid. Max length is 200");
        l["action"]["sections"][1]["rows"][0]["id"] = json!("express");
        l["action"]["sections"][0]["rows"][1]["id"] = json!("priority");
        invalid(&l, "Row ids must be unique");

        let mut l = list();
        l["action"]["sections"][0]["rows"][0]["description"] = json!("x".repeat(73));
        invalid(&l, "Row description length invalid. Max length is 72");
    }

    #[test]
    fn choices_follow_the_order_the_customer_sees() {
        let b = choices(&buttons()).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(
            (b[1].id.as_str(), b[1].title.as_str()),
            ("ship-later", "Later")
        );
        assert_eq!(
            b[1].content(),
            json!({"type": "button_reply", "button_reply": {"id": "ship-later", "title": "Later"}})
        );
        let l = choices(&list()).unwrap();
        let ids: Vec<&str> = l.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["express", "priority", "ground"]);
        assert_eq!(
            l[0].content(),
            json!({"type": "list_reply", "list_reply": {"id": "express", "title": "Express", "description": "Next day"}})
        );
        assert_eq!(
            l[1].content(),
            json!({"type": "list_reply", "list_reply": {"id": "priority", "title": "Priority"}})
        );
        assert!(choices(&json!({"type": "cta_url", "action": {}})).is_none());
        assert!(choices(&json!("not an object")).is_none());
    }
}
