//! The simulated Cloud API itself: one object holding the state, the id generator, the rate
//! limiters and the webhook queue, with one method per thing that can happen. HTTP handlers
//! (`graph`, `control`) and scenarios only call these methods.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};

use crate::config::{NumberMode, SandboxConfig};
use crate::emitter::{Emitter, WebhookRecord};
use crate::error::{GraphError, StatusError};
use crate::ids::{Direction, IdGen};
use crate::inbound::{self, CustomerMessage};
use crate::payloads;
use crate::send::{self, OutboundMessage, SendRequest};
use crate::state::{AppMessage, Customer, NumberState, Outcome, Owner, SentRecord, State};
use crate::templates;

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A control request the sandbox refuses, with what to do about it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ControlError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

pub struct Sandbox {
    pub config: SandboxConfig,
    state: Mutex<State>,
    ids: Mutex<IdGen>,
    emitter: Emitter,
    throughput: HashMap<String, DefaultDirectRateLimiter>,
    pair: DefaultKeyedRateLimiter<(String, String)>,
    scenario_runs: std::sync::atomic::AtomicU64,
}

impl Sandbox {
    pub fn new(config: SandboxConfig, emitter: Emitter) -> Self {
        let throughput = config
            .numbers
            .iter()
            .map(|n| {
                let mps = NonZeroU32::new(n.tier_mps.max(1)).expect("max(1) is non-zero");
                (
                    n.phone_number_id.clone(),
                    RateLimiter::direct(Quota::per_second(mps)),
                )
            })
            .collect();
        let pair_quota =
            Quota::with_period(config.pair_period.max(std::time::Duration::from_millis(1)))
                .expect("period is non-zero")
                .allow_burst(
                    NonZeroU32::new(config.pair_burst.max(1)).expect("max(1) is non-zero"),
                );
        Sandbox {
            state: Mutex::new(State::new(&config)),
            ids: Mutex::new(IdGen::new(config.seed)),
            emitter,
            throughput,
            pair: RateLimiter::keyed(pair_quota),
            scenario_runs: std::sync::atomic::AtomicU64::new(0),
            config,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("sandbox state poisoned")
    }

    pub(crate) fn ids(&self) -> MutexGuard<'_, IdGen> {
        self.ids.lock().expect("id generator poisoned")
    }

    pub fn emitter(&self) -> &Emitter {
        &self.emitter
    }

    /// How many scenarios this sandbox has started (reruns get fresh ids).
    pub(crate) fn next_scenario_run(&self) -> u64 {
        self.scenario_runs
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    pub fn fbtrace_id(&self) -> String {
        self.ids().fbtrace_id()
    }

    /// Bearer token check for Graph routes (`Authorization: Bearer T` or `?access_token=T`).
    pub fn check_token(&self, token: Option<&str>) -> Result<(), GraphError> {
        match token {
            Some(t) if t == self.config.access_token => Ok(()),
            _ => Err(GraphError::invalid_token()),
        }
    }

    // ---------------------------------------------------------------- Graph: send

    /// `POST /{version}/{phone_number_id}/messages`: the answer Meta gives synchronously. Accepted
    /// messages go on to asynchronous statuses (which may be `failed`, as Meta's are).
    pub fn send(
        self: &Arc<Self>,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<Value, GraphError> {
        let number = self
            .state()
            .number(phone_number_id)
            .cloned()
            .ok_or_else(|| GraphError::unknown_object(phone_number_id, "post"))?;
        match send::parse(body)? {
            SendRequest::MarkRead { message_id } => self.mark_read(&number, &message_id),
            SendRequest::Message(msg) => self.send_message(&number, msg, body),
        }
    }

    fn mark_read(&self, number: &NumberState, message_id: &str) -> Result<Value, GraphError> {
        let st = self.state();
        match st.inbound.get(message_id) {
            Some((pnid, _)) if *pnid == number.spec.phone_number_id => Ok(json!({"success": true})),
            _ => Err(GraphError::invalid_parameter(format!(
                "message_id {message_id} is not a message this number received"
            ))),
        }
    }

    fn send_message(
        self: &Arc<Self>,
        number: &NumberState,
        msg: OutboundMessage,
        body: &Value,
    ) -> Result<Value, GraphError> {
        let pnid = number.spec.phone_number_id.clone();
        let tpl_use = match &msg.template {
            Some(t) => {
                let st = self.state();
                let template = templates::lookup(&st.templates, &t.name, &t.language)?;
                Some(templates::check_send(template, &t.components)?)
            }
            None => None,
        };
        if !number.connected {
            return Err(GraphError::not_registered());
        }
        if self
            .throughput
            .get(&pnid)
            .map(|l| l.check().is_err())
            .unwrap_or(false)
        {
            return Err(GraphError::throughput());
        }
        if self
            .pair
            .check_key(&(pnid.clone(), msg.wa_id.clone()))
            .is_err()
        {
            return Err(GraphError::pair_rate());
        }
        let ts = now();
        let wamid = self.ids().wamid(&msg.wa_id, Direction::Outbound);
        let conversation_id = self.ids().lower_hex(32);
        let (outcome, billing) = {
            let mut st = self.state();
            let payment_valid = st.payment_valid;
            let customer = st.customer_mut(&pnid, &msg.wa_id);
            let decision = decide(
                customer,
                &msg,
                tpl_use.as_ref().map(|u| u.category.as_str()),
                payment_valid,
                ts,
            );
            if decision.0 == Outcome::Delivered {
                customer.owner = Owner::Api;
            }
            let record = SentRecord {
                wamid: wamid.clone(),
                phone_number_id: pnid.clone(),
                to: msg.to.clone(),
                wa_id: msg.wa_id.clone(),
                kind: msg.kind.clone(),
                rendered: tpl_use.as_ref().map(|u| u.rendered.clone()),
                biz_opaque_callback_data: msg.biz_opaque_callback_data.clone(),
                accepted_at: ts,
                outcome: decision.0.clone(),
                request: body.clone(),
            };
            st.sent.push(record);
            decision
        };
        self.schedule_statuses(
            number.clone(),
            &wamid,
            &msg,
            outcome,
            billing,
            conversation_id,
        );
        let mut message = json!({"id": wamid});
        if msg.kind == "template" {
            message["message_status"] = json!("accepted");
        }
        Ok(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": msg.to, "wa_id": msg.wa_id}],
            "messages": [message],
        }))
    }

    fn schedule_statuses(
        self: &Arc<Self>,
        number: NumberState,
        wamid: &str,
        msg: &OutboundMessage,
        outcome: Outcome,
        billing: Billing,
        conversation_id: String,
    ) {
        let delays = self.config.status_delays;
        let auto_read = self.config.auto_read;
        let emitter = self.emitter.clone();
        let base = {
            let mut b = json!({"id": wamid, "recipient_id": msg.wa_id});
            if let Some(cb) = &msg.biz_opaque_callback_data {
                b["biz_opaque_callback_data"] = json!(cb);
            }
            b
        };
        tokio::spawn(async move {
            tokio::time::sleep(delays.sent).await;
            let with = |status: &str, extra: Value| {
                let mut s = base.clone();
                s["status"] = json!(status);
                s["timestamp"] = json!(now().to_string());
                if let Value::Object(m) = extra {
                    for (k, v) in m {
                        s[k.as_str()] = v;
                    }
                }
                payloads::status(&number, s)
            };
            let error = match outcome {
                Outcome::Failed { code } => {
                    Some(StatusError::for_code(code).unwrap_or(StatusError::UNDELIVERABLE))
                }
                Outcome::Delivered => None,
            };
            if let Some(e) = error {
                emitter.emit(&with("failed", json!({"errors": [e.to_json()]})));
                return;
            }
            let conv = |expiry: bool| {
                let mut c = json!({"id": conversation_id, "origin": {"type": billing.origin}});
                if expiry {
                    c["expiration_timestamp"] = json!(billing.expires.to_string());
                }
                c
            };
            let pricing = json!({"billable": billing.billable, "pricing_model": "PMP", "category": billing.category, "type": billing.kind});
            emitter.emit(&with(
                "sent",
                json!({"conversation": conv(true), "pricing": pricing}),
            ));
            tokio::time::sleep(delays.delivered.saturating_sub(delays.sent)).await;
            emitter.emit(&with(
                "delivered",
                json!({"conversation": conv(false), "pricing": pricing}),
            ));
            if auto_read {
                tokio::time::sleep(delays.read.saturating_sub(delays.delivered)).await;
                emitter.emit(&with("read", json!({})));
            }
        });
    }

    // ---------------------------------------------------------------- Graph: reads

    pub fn waba_id(&self) -> String {
        self.state().waba_id.clone()
    }

    pub fn templates(&self) -> Vec<templates::Template> {
        self.state().templates.clone()
    }

    /// `GET /{version}/{phone_number_id}`: the number's profile as Meta shows it.
    pub fn number_info(&self, id: &str) -> Option<Value> {
        let st = self.state();
        st.number(id).map(number_json)
    }

    pub fn numbers(&self) -> Vec<NumberState> {
        self.state().numbers.clone()
    }

    pub fn sent(&self) -> Vec<SentRecord> {
        self.state().sent.clone()
    }

    pub fn conversations(&self) -> Vec<Customer> {
        let mut list: Vec<Customer> = self.state().customers.values().cloned().collect();
        list.sort_by(|a, b| (&a.phone_number_id, &a.wa_id).cmp(&(&b.phone_number_id, &b.wa_id)));
        list
    }

    pub fn webhooks(&self) -> Vec<WebhookRecord> {
        self.emitter.log()
    }

    // ---------------------------------------------------------------- control: customers & app

    fn control_number(&self, id: Option<&str>) -> Result<NumberState, ControlError> {
        self.state().number_or_default(id).cloned().ok_or_else(|| {
            ControlError::NotFound(format!(
                "no number {:?} here; GET /sandbox/numbers lists them",
                id.unwrap_or("")
            ))
        })
    }

    /// A customer writes in: emits a `messages` webhook; returns the wamid.
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
    /// under load. All are checked before anything is emitted.
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

    fn coexistence_number(&self, id: Option<&str>) -> Result<NumberState, ControlError> {
        let number = self.control_number(id)?;
        if number.spec.mode != NumberMode::Coexistence {
            return Err(ControlError::Conflict(format!(
                "{} is an API-only number: it has no Business App, so nothing is echoed",
                number.spec.phone_number_id
            )));
        }
        Ok(number)
    }

    // ---------------------------------------------------------------- control: onboarding & account

    /// Emit the onboarding history; returns how many webhooks were queued.
    pub fn history(&self, req: &crate::history::HistoryRequest) -> Result<usize, ControlError> {
        match req.seed {
            Some(seed) => self.history_with(req, &mut IdGen::new(seed)),
            None => {
                let mut ids = self.ids();
                self.history_with(req, &mut ids)
            }
        }
    }

    pub(crate) fn history_with(
        &self,
        req: &crate::history::HistoryRequest,
        ids: &mut IdGen,
    ) -> Result<usize, ControlError> {
        use crate::history::{generate, plan, validate, HistoryPart};
        let number = self.coexistence_number(req.phone_number_id.as_deref())?;
        if req.declined {
            self.emitter.emit(&payloads::history_declined(&number));
            return Ok(1);
        }
        let at = req.now.unwrap_or_else(now);
        let threads = match &req.threads {
            Some(t) => {
                validate(t, at).map_err(ControlError::BadRequest)?;
                t.clone()
            }
            None => generate(ids, at),
        };
        let parts = plan(
            &threads,
            at,
            req.chunk_size.unwrap_or(50),
            &number.spec.display_digits(),
            ids,
        );
        for p in &parts {
            let body = match p {
                HistoryPart::Chunk {
                    phase,
                    chunk_order,
                    progress,
                    threads,
                } => payloads::history_chunk(
                    &number,
                    *phase,
                    *chunk_order,
                    *progress,
                    threads.clone(),
                ),
                HistoryPart::Media(m) => payloads::history_media(&number, m.clone()),
            };
            self.emitter.emit(&body);
        }
        Ok(parts.len())
    }

    /// Emit the Business App's contacts (`smb_app_state_sync`); returns how many contacts.
    pub fn contacts(&self, req: &crate::history::ContactsRequest) -> Result<usize, ControlError> {
        use crate::history::{generate_contacts, state_sync_items, validate_contacts};
        let number = self.coexistence_number(req.phone_number_id.as_deref())?;
        let list = match &req.contacts {
            Some(l) => {
                validate_contacts(l).map_err(ControlError::BadRequest)?;
                l.clone()
            }
            None => generate_contacts(),
        };
        if list.is_empty() {
            return Err(ControlError::BadRequest(
                "contacts is empty; leave it out for a generated address book".into(),
            ));
        }
        self.emitter.emit(&payloads::state_sync(
            &number,
            state_sync_items(&list, req.now.unwrap_or_else(now)),
        ));
        Ok(list.len())
    }

    /// `account_update` (offboarding, reconnection, ...). Offboarding disconnects the numbers: Graph
    /// sends then fail with 133010 until `ACCOUNT_RECONNECTED` or `PARTNER_ADDED`.
    pub fn account_update(&self, event: &str) -> Result<(), ControlError> {
        self.account_update_at(event, None)
    }

    pub(crate) fn account_update_at(
        &self,
        event: &str,
        at: Option<i64>,
    ) -> Result<(), ControlError> {
        if event.is_empty()
            || event.len() > 64
            || !event.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            return Err(ControlError::BadRequest(format!(
                "event must be Meta's UPPER_SNAKE name like PARTNER_REMOVED, got {event:?}"
            )));
        }
        let waba_id = {
            let mut st = self.state();
            let connected = match event {
                "PARTNER_REMOVED"
                | "ACCOUNT_OFFBOARDED"
                | "ACCOUNT_DELETED"
                | "PARTNER_APP_UNINSTALLED" => Some(false),
                "ACCOUNT_RECONNECTED" | "PARTNER_ADDED" | "PARTNER_APP_INSTALLED" => Some(true),
                _ => None,
            };
            if let Some(c) = connected {
                st.numbers.iter_mut().for_each(|n| n.connected = c);
            }
            st.waba_id.clone()
        };
        let mut value = json!({"event": event});
        if event.starts_with("PARTNER_") {
            value["waba_info"] =
                json!({"waba_id": waba_id, "owner_business_id": "130200300400503"});
        }
        self.emitter.emit(&payloads::envelope_timed(
            &waba_id,
            at.unwrap_or_else(now),
            "account_update",
            value,
        ));
        Ok(())
    }

    /// Make a customer's number unable to receive (sends then fail with 131026), or reachable again.
    pub fn set_unreachable(
        &self,
        phone_number_id: Option<&str>,
        wa_id: &str,
        unreachable: bool,
    ) -> Result<(), ControlError> {
        let number = self.control_number(phone_number_id)?;
        let wa_id = send::normalize_phone(wa_id)
            .map_err(|e| ControlError::BadRequest(e.details.unwrap_or(e.message)))?;
        self.state()
            .customer_mut(&number.spec.phone_number_id, &wa_id)
            .unreachable = unreachable;
        Ok(())
    }

    pub fn set_payment(&self, valid: bool) {
        self.state().payment_valid = valid;
    }

    pub fn payment_valid(&self) -> bool {
        self.state().payment_valid
    }

    /// Change a template's status and emit `message_template_status_update`.
    pub fn template_status(
        &self,
        name: &str,
        language: &str,
        event: &str,
        reason: Option<&str>,
    ) -> Result<(), ControlError> {
        const EVENTS: &[&str] = &[
            "APPROVED",
            "REJECTED",
            "PENDING",
            "PAUSED",
            "DISABLED",
            "REINSTATED",
            "FLAGGED",
            "IN_APPEAL",
            "PENDING_DELETION",
            "DELETED",
            "ARCHIVED",
            "LOCKED",
        ];
        if !EVENTS.contains(&event) {
            return Err(ControlError::BadRequest(format!(
                "event must be one of {}",
                EVENTS.join(", ")
            )));
        }
        let (waba_id, value) = {
            let mut st = self.state();
            let waba_id = st.waba_id.clone();
            let t = st
                .templates
                .iter_mut()
                .find(|t| t.name == name && t.language == language)
                .ok_or_else(|| ControlError::NotFound(format!("no template {name} in {language}; GET /{{version}}/{{waba_id}}/message_templates lists them")))?;
            t.status = match event {
                "REINSTATED" => "APPROVED",
                "FLAGGED" | "LOCKED" => t.status.as_str(),
                "PENDING_DELETION" | "DELETED" | "ARCHIVED" => "DELETED",
                other => other,
            }
            .to_string();
            let value = json!({
                "event": event,
                "message_template_id": t.id.parse::<u64>().unwrap_or_default(),
                "message_template_name": t.name,
                "message_template_language": t.language,
                "reason": reason.unwrap_or("NONE"),
                "message_template_category": t.category,
            });
            (waba_id, value)
        };
        self.emitter.emit(&payloads::envelope_timed(
            &waba_id,
            now(),
            "message_template_status_update",
            value,
        ));
        Ok(())
    }
}

/// How a send is billed, for the `conversation`/`pricing` objects on its statuses.
#[derive(Clone, Debug, PartialEq)]
pub struct Billing {
    pub origin: String,
    pub category: String,
    pub kind: String,
    pub billable: bool,
    pub expires: i64,
}

/// Meta's decision for one accepted send: delivered, or failed with 131047 / 131042.
fn decide(
    c: &Customer,
    msg: &OutboundMessage,
    template_category: Option<&str>,
    payment_valid: bool,
    now: i64,
) -> (Outcome, Billing) {
    let open = c.window_open(now);
    if c.unreachable {
        let billing = Billing {
            origin: "service".into(),
            category: "service".into(),
            kind: "free_customer_service".into(),
            billable: false,
            expires: now,
        };
        return (
            Outcome::Failed {
                code: StatusError::UNDELIVERABLE.code,
            },
            billing,
        );
    }
    let expires = c
        .window_until
        .filter(|_| open)
        .unwrap_or(now + crate::state::WINDOW);
    match template_category {
        None => {
            let outcome = if open {
                Outcome::Delivered
            } else {
                Outcome::Failed {
                    code: StatusError::RE_ENGAGEMENT.code,
                }
            };
            let (cat, kind) = if c.referral_window {
                ("referral_conversion", "free_entry_point")
            } else {
                ("service", "free_customer_service")
            };
            (
                outcome,
                Billing {
                    origin: cat.into(),
                    category: cat.into(),
                    kind: kind.into(),
                    billable: false,
                    expires,
                },
            )
        }
        Some(category) => {
            let outcome = if payment_valid {
                Outcome::Delivered
            } else {
                Outcome::Failed {
                    code: StatusError::PAYMENT.code,
                }
            };
            let cat = category.to_ascii_lowercase();
            let free = open && cat == "utility";
            let kind = if free {
                "free_customer_service"
            } else {
                "regular"
            };
            let _ = msg;
            (
                outcome,
                Billing {
                    origin: cat.clone(),
                    category: cat,
                    kind: kind.into(),
                    billable: !free,
                    expires,
                },
            )
        }
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

fn number_json(n: &NumberState) -> Value {
    json!({
        "verified_name": n.spec.verified_name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": n.spec.display_number,
        "quality_rating": "GREEN",
        "platform_type": if n.connected { "CLOUD_API" } else { "NOT_APPLICABLE" },
        "throughput": {"level": if n.spec.mode == NumberMode::Coexistence { "COEXISTENCE" } else { "STANDARD" }},
        "is_on_biz_app": n.spec.mode == NumberMode::Coexistence,
        "id": n.spec.phone_number_id,
    })
}

pub(crate) fn number_listing(n: &NumberState) -> Value {
    number_json(n)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::OutboundMessage;

    fn msg(kind: &str) -> OutboundMessage {
        OutboundMessage {
            to: "1555".into(),
            wa_id: "1555".into(),
            kind: kind.into(),
            template: None,
            biz_opaque_callback_data: None,
        }
    }

    #[test]
    fn free_form_needs_open_window_templates_need_payment() {
        let mut c = Customer {
            phone_number_id: "p".into(),
            wa_id: "1".into(),
            name: None,
            last_inbound_at: None,
            window_until: None,
            referral_window: false,
            owner: Owner::Unowned,
            unreachable: false,
        };
        assert_eq!(
            decide(&c, &msg("text"), None, true, 1000).0,
            Outcome::Failed { code: 131047 }
        );
        assert_eq!(
            decide(&c, &msg("template"), Some("UTILITY"), true, 1000).0,
            Outcome::Delivered
        );
        assert_eq!(
            decide(&c, &msg("template"), Some("UTILITY"), false, 1000).0,
            Outcome::Failed { code: 131042 }
        );
        c.record_inbound(900, false);
        let (o, b) = decide(&c, &msg("text"), None, true, 1000);
        assert_eq!(o, Outcome::Delivered);
        assert!(!b.billable);
        let (_, b) = decide(&c, &msg("template"), Some("MARKETING"), true, 1000);
        assert!(b.billable);
        assert_eq!(b.category, "marketing");
    }
}
