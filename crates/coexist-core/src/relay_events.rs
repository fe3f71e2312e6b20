//! Any relayed entry ([`RelayEvent`]) to normalized events: webhooks are parsed, the bridge's
//! own records (an API send, a template catalog, a number's settings) are converted.

use serde_json::Value;

use crate::body::parse_body;
use crate::error::{from_value, ParseError};
use crate::event::*;
use crate::parse::{contact_key, parse_webhook_value};
use crate::relay::*;

/// Convert one relayed entry. A malformed record is refused with the path of the problem; a
/// well-formed webhook payload never is (see [`crate::parse_webhook`]).
pub fn events_from_relay(ev: &RelayEvent) -> Result<Vec<Event>, ParseError> {
    let what = |name: &str| format!("relayed {name} (seq {})", ev.seq);
    let payload = ev.payload_value().map_err(|e| ParseError::json(&what("entry"), &e))?;
    let payload = &payload;
    match ev.kind {
        RelayKind::Webhook => parse_webhook_value(payload).map_err(|e| rename(e, &what("webhook"))),
        RelayKind::Outbound => {
            let record: OutboundRecord = from_value(&what("outbound record"), payload)?;
            Ok(vec![outbound_event(&record)])
        }
        RelayKind::Templates => {
            let catalog: TemplateCatalog = from_value(&what("template catalog"), payload)?;
            Ok(vec![templates_event(&catalog)])
        }
        RelayKind::Number => {
            let number: NumberSettings = from_value(&what("number settings"), payload)?;
            Ok(vec![Event::Number(number)])
        }
        RelayKind::Assignment => {
            let a: Assignment = from_value(&what("assignment"), payload)?;
            let conversation = ConversationKey { contact: contact_key(&a.contact), phone_number_id: a.phone_number_id };
            Ok(vec![Event::Assigned { conversation, assignee: a.assignee, by: a.by, at_ms: a.at_ms }])
        }
        RelayKind::Done => {
            let d: DoneMark = from_value(&what("done mark"), payload)?;
            let conversation = ConversationKey { contact: contact_key(&d.contact), phone_number_id: d.phone_number_id };
            Ok(vec![Event::Done { conversation, done: d.done, until_ms: d.until_ms, by: d.by, at_ms: d.at_ms }])
        }
        RelayKind::QuickReply => Ok(vec![Event::QuickReply(from_value(&what("quick reply"), payload)?)]),
        RelayKind::Label => {
            let l: LabelMark = from_value(&what("label"), payload)?;
            let conversation = ConversationKey { contact: contact_key(&l.contact), phone_number_id: l.phone_number_id };
            Ok(vec![Event::Labeled { conversation, label: l.label, on: l.on, by: l.by, at_ms: l.at_ms }])
        }
        RelayKind::Block => {
            let b: BlockMark = from_value(&what("block"), payload)?;
            let conversation = ConversationKey { contact: contact_key(&b.contact), phone_number_id: b.phone_number_id };
            Ok(vec![Event::Blocked { conversation, blocked: b.blocked, by: b.by, at_ms: b.at_ms }])
        }
        RelayKind::Note => {
            let n: TeamNote = from_value(&what("team note"), payload)?;
            let conversation = ConversationKey { contact: contact_key(&n.contact), phone_number_id: n.phone_number_id };
            Ok(vec![Event::Note { seq: ev.seq, conversation, author: n.author, text: n.text, at_ms: n.at_ms }])
        }
        RelayKind::Unknown => Ok(vec![Event::Unknown { field: "relay entry of an unknown kind".into(), raw: payload.clone() }]),
    }
}

fn rename(err: ParseError, what: &str) -> ParseError {
    match err {
        ParseError::Json { line, column, message, .. } => ParseError::Json { what: what.to_string(), line, column, message },
        ParseError::Shape { path, message, .. } => ParseError::Shape { what: what.to_string(), path, message },
    }
}

/// An API send the bridge made for an agent, as the message it is: `Side::Api`, with the agent
/// and idempotency key, its body read from the Graph message JSON (text, template, media,
/// reaction, ...). The conversation is Meta's `wa_id` when it answered one, else the `to`.
pub fn outbound_event(record: &OutboundRecord) -> Event {
    let recipient = record.wa_id.as_deref().filter(|w| !w.trim().is_empty()).unwrap_or(&record.to);
    let kind = record.message.get("type").and_then(Value::as_str).unwrap_or("text").to_string();
    let reply_to = record
        .message
        .get("context")
        .and_then(|c| c.get("message_id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Event::Message(Message {
        wamid: record.wamid.clone(),
        conversation: ConversationKey { phone_number_id: record.phone_number_id.clone(), contact: contact_key(recipient) },
        side: Side::Api,
        from_business: true,
        timestamp: record.timestamp,
        body: parse_body(&kind, &record.message, &[]),
        reply_to,
        referral: None,
        agent: Some(record.agent.clone()),
        idempotency_key: Some(record.idempotency_key.clone()),
        raw: record.message.clone(),
    })
}

/// A WABA's template catalog. Entries without a name are skipped (they cannot be sent);
/// the relayed record keeps them.
pub fn templates_event(catalog: &TemplateCatalog) -> Event {
    Event::TemplatesSynced {
        phone_number_id: catalog.phone_number_id.clone(),
        waba_id: catalog.waba_id.clone(),
        templates: catalog.templates.iter().filter_map(template_from_meta).collect(),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One of Meta's template objects (`name`, `language`, `status`, `category`, `components`, `id`).
pub fn template_from_meta(v: &Value) -> Option<Template> {
    let name = text(v, "name").filter(|n| !n.trim().is_empty())?;
    Some(Template {
        id: text(v, "id"),
        name,
        language: text(v, "language").unwrap_or_default(),
        status: text(v, "status").unwrap_or_else(|| "UNKNOWN".to_string()),
        category: text(v, "category"),
        components: v.get("components").cloned().unwrap_or_else(|| Value::Array(Vec::new())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn relay(kind: RelayKind, payload: Value) -> RelayEvent {
        RelayEvent::new(7, kind, 1, &payload)
    }

    #[test]
    fn outbound_text_is_an_api_message() {
        let rec = json!({
            "phone_number_id": "106540352242922", "to": "+16505551234", "wa_id": null,
            "wamid": "wamid.API1", "agent": "ana", "idempotency_key": "k-1", "timestamp": 1739321100,
            "message": {"messaging_product": "whatsapp", "to": "+16505551234", "type": "text", "text": {"body": "Hello"}}
        });
        let events = events_from_relay(&relay(RelayKind::Outbound, rec)).unwrap();
        match &events[..] {
            [Event::Message(m)] => {
                assert_eq!(m.side, Side::Api);
                assert_eq!(m.agent.as_deref(), Some("ana"));
                assert_eq!(m.idempotency_key.as_deref(), Some("k-1"));
                assert_eq!(m.conversation.contact.as_str(), "16505551234");
                assert_eq!(m.body, MessageBody::Text { body: "Hello".into() });
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn outbound_template_keeps_name_and_language() {
        let rec = json!({
            "phone_number_id": "1", "to": "16505551234", "wa_id": "16505551234",
            "wamid": "wamid.T", "agent": "bo", "idempotency_key": "k-2", "timestamp": 5,
            "message": {"type": "template", "template": {"name": "order_update", "language": {"code": "en_US"}}}
        });
        let events = events_from_relay(&relay(RelayKind::Outbound, rec)).unwrap();
        let Event::Message(m) = &events[0] else { panic!() };
        assert_eq!(m.body, MessageBody::Template { name: "order_update".into(), language: "en_US".into(), rendered: None });
    }

    #[test]
    fn malformed_outbound_names_seq_and_path() {
        let err = events_from_relay(&relay(RelayKind::Outbound, json!({"phone_number_id": 5}))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("relayed outbound record (seq 7)"), "{msg}");
        assert_eq!(err.path(), Some("phone_number_id"));
    }

    #[test]
    fn templates_and_numbers() {
        let cat = json!({"phone_number_id": "1", "waba_id": "2", "templates": [
            {"id": "9", "name": "hello", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "components": []},
            {"status": "APPROVED"}
        ]});
        let events = events_from_relay(&relay(RelayKind::Templates, cat)).unwrap();
        let Event::TemplatesSynced { templates, .. } = &events[0] else { panic!() };
        assert_eq!(templates.len(), 1);
        assert_eq!(templates[0].name, "hello");

        let num = json!({"phone_number_id": "1", "waba_id": "2", "display_number": "+1 555", "mode": "coexistence", "tier_mps": 20});
        let events = events_from_relay(&relay(RelayKind::Number, num)).unwrap();
        assert!(matches!(&events[0], Event::Number(n) if n.mode == NumberMode::Coexistence));
    }

    #[test]
    fn assignments_and_notes_name_their_conversation_by_its_key() {
        let assigned = json!({"phone_number_id": "1", "contact": "+1 555 0100", "assignee": "ana", "by": "ben", "at_ms": 5});
        let events = events_from_relay(&relay(RelayKind::Assignment, assigned)).unwrap();
        let Event::Assigned { conversation, assignee, by, .. } = &events[0] else { panic!("{events:?}") };
        assert_eq!((conversation.contact.as_str(), assignee.as_deref(), by.as_str()), ("15550100", Some("ana"), "ben"));

        let released = json!({"phone_number_id": "1", "contact": "15550100", "assignee": null, "by": "ana", "at_ms": 6});
        let events = events_from_relay(&relay(RelayKind::Assignment, released)).unwrap();
        assert!(matches!(&events[0], Event::Assigned { assignee: None, .. }));

        let saved = json!({"shortcut": "thanks", "text": "Thank you!", "by": "ana", "at_ms": 6});
        let events = events_from_relay(&relay(RelayKind::QuickReply, saved)).unwrap();
        assert!(matches!(&events[0], Event::QuickReply(q) if q.shortcut == "thanks" && q.text.as_deref() == Some("Thank you!")));

        let done = json!({"phone_number_id": "1", "contact": "15550100", "done": true, "by": "ana", "at_ms": 6});
        let events = events_from_relay(&relay(RelayKind::Done, done)).unwrap();
        assert!(matches!(&events[0], Event::Done { done: true, until_ms: None, by, .. } if by == "ana"));
        let snoozed = json!({"phone_number_id": "1", "contact": "15550100", "done": true, "until_ms": 9, "by": "ana", "at_ms": 6});
        let events = events_from_relay(&relay(RelayKind::Done, snoozed)).unwrap();
        assert!(matches!(&events[0], Event::Done { until_ms: Some(9), .. }));

        let note = json!({"phone_number_id": "1", "contact": "15550100", "author": "ana", "text": "<b>VIP</b>", "at_ms": 7});
        let events = events_from_relay(&relay(RelayKind::Note, note)).unwrap();
        let Event::Note { seq, text, .. } = &events[0] else { panic!("{events:?}") };
        assert_eq!((*seq, text.as_str()), (7, "<b>VIP</b>"));

        let label = json!({"phone_number_id": "1", "contact": "15550100", "label": "VIP", "on": true, "by": "ana", "at_ms": 7});
        let events = events_from_relay(&relay(RelayKind::Label, label)).unwrap();
        assert!(matches!(&events[0], Event::Labeled { label, on: true, by, at_ms: 7, .. } if label == "VIP" && by == "ana"));
        let block = json!({"phone_number_id": "1", "contact": "15550100", "blocked": true, "by": "ana", "at_ms": 8});
        let events = events_from_relay(&relay(RelayKind::Block, block)).unwrap();
        assert!(matches!(&events[0], Event::Blocked { blocked: true, by, at_ms: 8, .. } if by == "ana"));
        let err = events_from_relay(&relay(RelayKind::Note, json!({"phone_number_id": "1"}))).unwrap_err();
        assert!(err.to_string().contains("relayed team note (seq 7)"), "{err}");
    }

    #[test]
    fn an_entry_of_a_kind_from_a_newer_bridge_is_kept_not_fatal() {
        let page = json!([{"seq": 3, "kind": "poll", "received_at_ms": 1, "payload": {"q": "?"}}]);
        let entries: Vec<RelayEvent> = serde_json::from_value(page).expect("an unknown kind still reads");
        assert_eq!(entries[0].kind, RelayKind::Unknown);
        let events = events_from_relay(&entries[0]).unwrap();
        assert!(matches!(&events[0], Event::Unknown { raw, .. } if raw["q"] == "?"));
    }
}
