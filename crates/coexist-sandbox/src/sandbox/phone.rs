//! Things happening on the phone side of a coexistence number: customers writing in (one message or
//! a batch), the Business App sending, editing and revoking, and Meta's at-least-once redelivery.

use serde_json::{json, Value};

use super::{now, ControlError, Sandbox};
use crate::config::NumberMode;
use crate::ids::{Direction, IdGen};
use crate::inbound::{self, CustomerMessage};
use crate::payloads;
use crate::send;
use crate::state::{AppMessage, NumberState, Owner};

impl Sandbox {
    // ---------------------------------------------------------------- control: customers & app

    pub(super) fn control_number(&self, id: Option<&str>) -> Result<NumberState, ControlError> {
        self.state().number_or_default(id).cloned().ok_or_else(|| {
            ControlError::NotFound(format!(
                "no number {:?} here; GET /sandbox/numbers lists them",
                id.unwrap_or("")
            ))
        })
    }

    /// A customer writes in: emits a `messages` webhook; returns the wamid. A customer the
    /// number has blocked is refused (409): Meta would not deliver their message.
    pub fn customer_message(&self, m: &CustomerMessage) -> Result<String, ControlError> {
        let mut ids = self.ids();
        self.customer_message_with(m, &mut ids)
    }

    pub(crate) fn customer_message_with(
        &self,
        m: &CustomerMessage,
        ids: &mut IdGen,
    ) -> Result<String, ControlError> {
        let (number, message) = self.prepare_customer(m, ids)?;
        let wamid = self.commit_customer(&[(m, &number, &message)])?.remove(0);
        self.emitter.emit(&payloads::inbound(
            &number,
            &m.from,
            m.name.as_deref(),
            message,
        ));
        Ok(wamid)
    }

    /// Several customers' messages in ONE webhook (one `changes[]` entry each), as Meta batches
    /// under load. All are checked before anything is emitted (a blocked customer refuses the
    /// whole batch with 409).
    pub fn customer_batch(&self, msgs: &[CustomerMessage]) -> Result<Vec<String>, ControlError> {
        let mut ids = self.ids();
        self.customer_batch_with(msgs, &mut ids)
    }

    pub(crate) fn customer_batch_with(
        &self,
        msgs: &[CustomerMessage],
        ids: &mut IdGen,
    ) -> Result<Vec<String>, ControlError> {
        if msgs.is_empty() || msgs.len() > 100 {
            return Err(ControlError::BadRequest(
                "a batch needs 1 to 100 messages".into(),
            ));
        }
        let prepared = msgs
            .iter()
            .map(|m| self.prepare_customer(m, ids))
            .collect::<Result<Vec<_>, _>>()?;
        let triples: Vec<_> = msgs
            .iter()
            .zip(&prepared)
            .map(|(m, (n, v))| (m, n, v))
            .collect();
        let wamids = self.commit_customer(&triples)?;
        let changes: Vec<Value> = triples
            .iter()
            .map(|(m, n, v)| {
                payloads::inbound(n, &m.from, m.name.as_deref(), (*v).clone())["entry"][0]
                    ["changes"][0]
                    .clone()
            })
            .collect();
        let waba = prepared[0].0.waba_id.clone();
        self.emitter.emit(&json!({"object": "whatsapp_business_account", "entry": [{"id": waba, "changes": changes}]}));
        Ok(wamids)
    }

    /// Validate and build a customer message without touching state.
    fn prepare_customer(
        &self,
        m: &CustomerMessage,
        ids: &mut IdGen,
    ) -> Result<(NumberState, Value), ControlError> {
        inbound::validate(m).map_err(ControlError::BadRequest)?;
        let number = self.control_number(m.phone_number_id.as_deref())?;
        if self.is_blocked(&number.spec.phone_number_id, &m.from) {
            return Err(ControlError::Conflict(format!(
                "customer {} is blocked by number {}, so the business would not receive this message (Meta does not deliver it); unblock them with DELETE /{{version}}/{}/block_users first",
                m.from, number.spec.phone_number_id, number.spec.phone_number_id
            )));
        }
        let ts = m.timestamp.unwrap_or_else(now);
        if ts > now() + 300 {
            return Err(ControlError::BadRequest(format!(
                "timestamp {ts} is in the future; backdate it or leave it out"
            )));
        }
        let message = inbound::build(m, ids, &number.spec.display_digits(), ts);
        Ok((number, message))
    }

    /// Record prepared customer messages: ids, names, windows. Refuses duplicates as a whole.
    fn commit_customer(
        &self,
        items: &[(&CustomerMessage, &NumberState, &Value)],
    ) -> Result<Vec<String>, ControlError> {
        let mut st = self.state();
        let wamids: Vec<String> = items
            .iter()
            .map(|(_, _, v)| v["id"].as_str().unwrap_or_default().to_string())
            .collect();
        for (k, w) in wamids.iter().enumerate() {
            if st.inbound.contains_key(w) || wamids[..k].contains(w) {
                return Err(ControlError::Conflict(format!(
                    "message {w} was already delivered; give a new id or none"
                )));
            }
        }
        for ((m, number, v), wamid) in items.iter().zip(&wamids) {
            if let Some((id, mime)) = crate::media::ids_in(v) {
                st.media.insert(id, mime);
            }
            let pnid = number.spec.phone_number_id.clone();
            st.inbound
                .insert(wamid.clone(), (pnid.clone(), m.from.clone()));
            let c = st.customer_mut(&pnid, &m.from);
            if let Some(n) = &m.name {
                c.name = Some(n.clone());
            }
            if inbound::opens_window(&m.kind) {
                let ts = v["timestamp"]
                    .as_str()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or_else(now);
                c.record_inbound(ts, m.referral.is_some());
            }
        }
        Ok(wamids)
    }

    /// Deliver again the latest webhook that carried `wamid` (a message, echo or status), byte
    /// for byte, as Meta's at-least-once delivery sometimes does. Returns the new sequence number.
    pub fn redeliver(&self, wamid: &str) -> Result<u64, ControlError> {
        let needle = format!("\"id\":{}", Value::String(wamid.to_string()));
        let seq = self
            .emitter
            .log()
            .iter()
            .rev()
            .find(|r| r.body.contains(&needle))
            .map(|r| r.seq)
            .ok_or_else(|| ControlError::NotFound(format!("no webhook carried {wamid}")))?;
        self.emitter
            .redeliver(seq)
            .ok_or_else(|| ControlError::NotFound(format!("webhook {seq} is gone")))
    }

    /// The Business App user replies on the phone: emits `smb_message_echoes`; the App owns the
    /// conversation; the window is untouched.
    pub fn app_message(&self, req: &AppMessageRequest) -> Result<String, ControlError> {
        let mut ids = self.ids();
        self.app_message_with(req, &mut ids)
    }

    pub(crate) fn app_message_with(
        &self,
        req: &AppMessageRequest,
        ids: &mut IdGen,
    ) -> Result<String, ControlError> {
        let number = self.coexistence_number(req.phone_number_id.as_deref())?;
        let to = send::normalize_phone(&req.to)
            .map_err(|e| ControlError::BadRequest(e.details.unwrap_or(e.message)))?;
        let kind = req.kind.clone().unwrap_or_else(|| "text".into());
        let content = match (kind.as_str(), &req.content) {
            (_, Some(c)) => c.clone(),
            ("text", None) => match &req.text {
                Some(t) if !t.is_empty() && t.len() <= 65_536 => json!({"body": t}),
                _ => {
                    return Err(ControlError::BadRequest(
                        "an App text reply needs a non-empty \"text\" (at most 65536 bytes)".into(),
                    ))
                }
            },
            ("image" | "document" | "video" | "audio" | "sticker", None) => {
                let mut c = json!({"mime_type": default_mime(&kind), "sha256": ids.lower_hex(64), "id": ids.numeric_id(16)});
                if let Some(t) = &req.text {
                    c["caption"] = json!(t);
                }
                c
            }
            (other, None) => {
                return Err(ControlError::BadRequest(format!(
                    "type {other:?} needs a \"content\" object"
                )))
            }
        };
        let wamid = req
            .id
            .clone()
            .unwrap_or_else(|| ids.wamid(&to, Direction::Outbound));
        let ts = req.timestamp.unwrap_or_else(now);
        {
            let mut st = self.state();
            st.app_messages.insert(
                wamid.clone(),
                AppMessage {
                    phone_number_id: number.spec.phone_number_id.clone(),
                    wa_id: to.clone(),
                    revoked: false,
                },
            );
            st.customer_mut(&number.spec.phone_number_id, &to).owner = Owner::App;
        }
        let mut echo = json!({"from": number.spec.display_digits(), "to": to, "id": wamid, "timestamp": ts.to_string(), "type": kind});
        echo[kind.as_str()] = content;
        self.emitter.emit(&payloads::echo(&number, echo));
        Ok(wamid)
    }

    /// The Business App user edits an earlier App message.
    pub fn app_edit(&self, req: &AppEditRequest) -> Result<String, ControlError> {
        let mut ids = self.ids();
        self.app_edit_with(req, &mut ids)
    }

    pub(crate) fn app_edit_with(
        &self,
        req: &AppEditRequest,
        ids: &mut IdGen,
    ) -> Result<String, ControlError> {
        let text = req
            .text
            .as_deref()
            .filter(|t| !t.is_empty() && t.len() <= 65_536)
            .ok_or_else(|| {
                ControlError::BadRequest("an edit needs the new non-empty \"text\"".into())
            })?;
        self.app_change(&req.wamid, "edit", json!({"original_message_id": req.wamid, "message": {"type": "text", "text": {"body": text}}}), false, req.timestamp, ids)
    }

    /// The Business App user deletes an App message for everyone.
    pub fn app_revoke(&self, req: &AppEditRequest) -> Result<String, ControlError> {
        let mut ids = self.ids();
        self.app_revoke_with(req, &mut ids)
    }

    pub(crate) fn app_revoke_with(
        &self,
        req: &AppEditRequest,
        ids: &mut IdGen,
    ) -> Result<String, ControlError> {
        self.app_change(
            &req.wamid,
            "revoke",
            json!({"original_message_id": req.wamid}),
            true,
            req.timestamp,
            ids,
        )
    }

    fn app_change(
        &self,
        original: &str,
        kind: &str,
        content: Value,
        revoke: bool,
        ts: Option<i64>,
        ids: &mut IdGen,
    ) -> Result<String, ControlError> {
        let (pnid, wa_id) = {
            let mut st = self.state();
            let m = st.app_messages.get_mut(original).ok_or_else(|| {
                ControlError::NotFound(format!("{original} is not a message the Business App sent; only App messages can be edited or revoked"))
            })?;
            if m.revoked {
                return Err(ControlError::Conflict(format!(
                    "{original} was already revoked"
                )));
            }
            m.revoked = revoke;
            (m.phone_number_id.clone(), m.wa_id.clone())
        };
        let number = self.control_number(Some(&pnid))?;
        let wamid = ids.wamid(&wa_id, Direction::Outbound);
        let mut echo = json!({"from": number.spec.display_digits(), "to": wa_id, "id": wamid, "timestamp": ts.unwrap_or_else(now).to_string(), "type": kind});
        echo[kind] = content;
        self.emitter.emit(&payloads::echo(&number, echo));
        Ok(wamid)
    }

    pub(super) fn coexistence_number(&self, id: Option<&str>) -> Result<NumberState, ControlError> {
        let number = self.control_number(id)?;
        if number.spec.mode != NumberMode::Coexistence {
            return Err(ControlError::Conflict(format!(
                "{} is an API-only number: it has no Business App, so nothing is echoed",
                number.spec.phone_number_id
            )));
        }
        Ok(number)
    }
}

fn default_mime(kind: &str) -> &'static str {
    match kind {
        "image" => "image/jpeg",
        "video" => "video/mp4",
        "audio" => "audio/ogg; codecs=opus",
        "document" => "application/pdf",
        _ => "image/webp",
    }
}

/// `POST /sandbox/app/messages`.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct AppMessageRequest {
    pub to: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub phone_number_id: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

/// `POST /sandbox/app/edit` and `/sandbox/app/revoke`: `wamid` is the App message changed.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct AppEditRequest {
    pub wamid: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub timestamp: Option<i64>,
}
