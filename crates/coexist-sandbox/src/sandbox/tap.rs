//! A customer tapping a reply button or list row of an interactive message the business sent.
//! Meta delivers the tap as an ordinary inbound `interactive` message (`button_reply` /
//! `list_reply`, with `context.id` = the tapped message), so it goes through `customer_message`:
//! the same block check, customer-service window and webhook as any customer message.

use serde::{Deserialize, Serialize};

use super::{ControlError, Sandbox};
use crate::inbound::CustomerMessage;
use crate::interactive;
use crate::state::Outcome;

/// `POST /sandbox/customers/tap`: `wamid` is the interactive message the business sent;
/// `button` the 0-based index of the reply button tapped (for a list, of the row, counted across
/// sections). Defaults to the first.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct TapRequest {
    pub wamid: String,
    #[serde(default)]
    pub button: usize,
}

impl Sandbox {
    /// The customer taps a choice of a sent reply-button or list message: emits their
    /// `interactive` reply on the `messages` webhook and returns its wamid. 404 if the message is
    /// not one the Graph API sent here, has nothing to tap, or has no such choice; 409 if it never
    /// reached the customer (failed) or the number blocked the customer.
    pub fn customer_tap(&self, req: &TapRequest) -> Result<String, ControlError> {
        let message = self.tap_message(req)?;
        self.customer_message(&message)
    }

    /// `SandboxConfig::auto_tap`: the customer taps the first choice. Nobody is waiting for an
    /// answer, so a refusal (the customer was blocked meanwhile, ...) is only logged.
    pub(super) fn auto_tap(&self, wamid: &str) {
        let req = TapRequest {
            wamid: wamid.to_string(),
            button: 0,
        };
        if let Err(e) = self.customer_tap(&req) {
            tracing::info!(wamid, error = %e, "auto_tap: the customer did not tap");
        }
    }

    /// The customer's reply to a tap, built from the sent record (its request holds the choices).
    fn tap_message(&self, req: &TapRequest) -> Result<CustomerMessage, ControlError> {
        let st = self.state();
        let wamid = &req.wamid;
        let record = st.sent.iter().find(|r| r.wamid == *wamid).ok_or_else(|| {
            ControlError::NotFound(format!(
                "no message {wamid} was sent through the Graph API here; tap the wamid a send answered (GET /sandbox/sent lists them)"
            ))
        })?;
        let interactive = &record.request["interactive"];
        let choices = match record.kind.as_str() {
            "interactive" => interactive::choices(interactive),
            _ => None,
        }
        .ok_or_else(|| {
            let what = match (record.kind.as_str(), interactive["type"].as_str()) {
                ("interactive", Some(t)) => format!("an interactive {t:?}"),
                (kind, _) => format!("a {kind}"),
            };
            ControlError::NotFound(format!(
                "{wamid} is {what} message: it has no reply buttons or list rows to tap; send an interactive message of type \"button\" or \"list\""
            ))
        })?;
        if let Outcome::Failed { code } = record.outcome {
            return Err(ControlError::Conflict(format!(
                "{wamid} failed with {code}, so the customer never saw it and cannot tap it; send it while the customer-service window is open"
            )));
        }
        let reply = choices.get(req.button).cloned().ok_or_else(|| {
            ControlError::NotFound(format!(
                "{wamid} has {} choices (button 0 to {}); there is no button {}",
                choices.len(),
                choices.len().saturating_sub(1),
                req.button
            ))
        })?;
        let name = st
            .customer(&record.phone_number_id, &record.wa_id)
            .and_then(|c| c.name.clone());
        Ok(CustomerMessage {
            from: record.wa_id.clone(),
            name,
            kind: "interactive".into(),
            reply_to: Some(record.wamid.clone()),
            phone_number_id: Some(record.phone_number_id.clone()),
            reply: Some(reply),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{json, Value};

    use super::*;
    use crate::config::SandboxConfig;
    use crate::emitter::{Backoff, Emitter};

    fn sandbox() -> Arc<Sandbox> {
        let backoff = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(10),
        };
        let (emitter, _task) = Emitter::start(None, "secret".into(), backoff);
        Arc::new(Sandbox::new(SandboxConfig::new("secret", "token"), emitter))
    }

    fn pnid(sb: &Sandbox) -> String {
        sb.config.numbers[0].phone_number_id.clone()
    }

    /// Send `interactive` to `to` through the Graph send; returns the wamid.
    fn send(sb: &Arc<Sandbox>, to: &str, interactive: Value) -> String {
        let body = json!({"messaging_product": "whatsapp", "to": to, "type": "interactive", "interactive": interactive});
        let v = sb.send(&pnid(sb), &body).unwrap();
        v["messages"][0]["id"].as_str().unwrap().to_string()
    }

    fn buttons() -> Value {
        json!({"type": "button", "body": {"text": "Ship it?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "no", "title": "No"}}
        ]}})
    }

    /// A customer who wrote in, so the window is open.
    fn wrote(sb: &Sandbox, from: &str) {
        let m = CustomerMessage {
            from: from.into(),
            name: Some("Ana".into()),
            kind: "text".into(),
            text: Some("hi".into()),
            ..Default::default()
        };
        sb.customer_message(&m).unwrap();
    }

    fn last_message(sb: &Sandbox) -> Value {
        let log = sb.webhooks();
        let body: Value = serde_json::from_str(&log.last().unwrap().body).unwrap();
        body["entry"][0]["changes"][0]["value"].clone()
    }

    #[tokio::test]
    async fn a_tap_is_the_customers_interactive_reply_with_context() {
        let sb = sandbox();
        wrote(&sb, "15551250001");
        let sent = send(&sb, "15551250001", buttons());
        let wamid = sb
            .customer_tap(&TapRequest {
                wamid: sent.clone(),
                button: 1,
            })
            .unwrap();
        let value = last_message(&sb);
        let m = &value["messages"][0];
        assert_eq!(m["id"], wamid.as_str());
        assert_eq!(m["from"], "15551250001");
        assert_eq!(m["type"], "interactive");
        assert_eq!(
            m["interactive"],
            json!({"type": "button_reply", "button_reply": {"id": "no", "title": "No"}})
        );
        assert_eq!(m["context"], json!({"from": "15555550100", "id": sent}));
        assert_eq!(value["contacts"][0]["profile"]["name"], "Ana");
    }

    #[tokio::test]
    async fn unknown_untappable_out_of_range_failed_and_blocked_are_refused() {
        let sb = sandbox();
        let tap = |wamid: &str, button: usize| {
            sb.customer_tap(&TapRequest {
                wamid: wamid.into(),
                button,
            })
        };
        assert!(
            matches!(tap("wamid.nope", 0), Err(ControlError::NotFound(e)) if e.contains("GET /sandbox/sent"))
        );

        wrote(&sb, "15551250002");
        let text = sb
            .send(
                &pnid(&sb),
                &json!({"messaging_product": "whatsapp", "to": "15551250002", "text": {"body": "hi"}}),
            )
            .unwrap()["messages"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            matches!(tap(&text, 0), Err(ControlError::NotFound(e)) if e.contains("is a text message"))
        );
        let cta = send(
            &sb,
            "15551250002",
            json!({"type": "cta_url", "action": {"name": "cta_url"}}),
        );
        assert!(
            matches!(tap(&cta, 0), Err(ControlError::NotFound(e)) if e.contains("interactive \"cta_url\""))
        );

        let sent = send(&sb, "15551250002", buttons());
        assert!(matches!(tap(&sent, 2), Err(ControlError::NotFound(e)) if e.contains("0 to 1")));

        // never wrote in: the send fails with 131047, the customer never saw it
        let unseen = send(&sb, "15551250003", buttons());
        assert!(matches!(tap(&unseen, 0), Err(ControlError::Conflict(e)) if e.contains("131047")));

        sb.state()
            .blocklists
            .entry(pnid(&sb))
            .or_default()
            .insert("15551250002");
        assert!(matches!(tap(&sent, 0), Err(ControlError::Conflict(e)) if e.contains("blocked")));
    }
}
