//! The simulated Cloud API itself: one object holding the state, the id generator, the rate
//! limiters and the webhook queue, with one method per thing that can happen. HTTP handlers
//! (`graph`, `control`) and scenarios only call these methods. Phone-side events live in
//! `phone` (customers, Business App) and `onboarding` (history, contacts, account, templates);
//! the Block Users API in `blocklist`; customers tapping buttons in `tap`.

mod blocklist;
mod onboarding;
mod phone;
mod tap;

pub use phone::{AppEditRequest, AppMessageRequest};
pub use tap::TapRequest;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};

use crate::config::{NumberMode, SandboxConfig};
use crate::emitter::{Emitter, WebhookRecord};
use crate::error::{GraphError, StatusError};
use crate::ids::{Direction, IdGen};
use crate::payloads;
use crate::send::{self, OutboundMessage, SendRequest};
use crate::state::{Customer, NumberState, Outcome, Owner, ReadMark, SentRecord, State};
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
            SendRequest::MarkRead { message_id, typing } => {
                self.mark_read(&number, &message_id, typing)
            }
            SendRequest::Message(msg) => self.send_message(&number, msg, body),
        }
    }

    /// Meta answers 131009 for an id that is not a message this number received.
    fn mark_read(
        &self,
        number: &NumberState,
        message_id: &str,
        typing: bool,
    ) -> Result<Value, GraphError> {
        let mut st = self.state();
        let wa_id = match st.inbound.get(message_id) {
            Some((pnid, wa_id)) if *pnid == number.spec.phone_number_id => wa_id.clone(),
            _ => {
                return Err(GraphError::invalid_value(format!(
                    "message_id {message_id} is not a message this number received"
                )))
            }
        };
        st.read.push(ReadMark {
            phone_number_id: number.spec.phone_number_id.clone(),
            wa_id,
            message_id: message_id.to_string(),
            typing,
        });
        Ok(json!({"success": true}))
    }

    fn send_message(
        self: &Arc<Self>,
        number: &NumberState,
        mut msg: OutboundMessage,
        body: &Value,
    ) -> Result<Value, GraphError> {
        let pnid = number.spec.phone_number_id.clone();
        msg.wa_id = self.resolve_wa_id(&pnid, &msg.wa_id);
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
        // Refused before the rate limiters count it: a send Meta turns away uses no quota.
        if self.is_blocked(&pnid, &msg.wa_id) {
            return Err(GraphError::recipient_blocked(&msg.wa_id));
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
        let tappable = msg.kind == "interactive"
            && crate::interactive::choices(&body["interactive"]).is_some();
        self.schedule_statuses(
            number.clone(),
            &wamid,
            &msg,
            outcome,
            billing,
            conversation_id,
            tappable,
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

    /// Meta answers with the customer's real WhatsApp id, which is not always the number typed:
    /// Brazilian mobile accounts registered before the ninth digit have 12-digit ids, so a send to
    /// `55 11 9XXXX XXXX` reaches `55 11 XXXX XXXX`. The sandbox does this for customers it knows.
    fn resolve_wa_id(&self, pnid: &str, typed: &str) -> String {
        if typed.len() == 13 && typed.starts_with("55") && typed.as_bytes()[4] == b'9' {
            let legacy = format!("{}{}", &typed[..4], &typed[5..]);
            let st = self.state();
            if st.customer(pnid, &legacy).is_some() && st.customer(pnid, typed).is_none() {
                return legacy;
            }
        }
        typed.to_string()
    }

    /// `sent` → `delivered` (→ `read`), or `failed`; then, with `auto_tap`, the customer taps
    /// the first choice of a delivered reply-button or list message (`tappable`), never before
    /// they read it.
    #[allow(clippy::too_many_arguments)]
    fn schedule_statuses(
        self: &Arc<Self>,
        number: NumberState,
        wamid: &str,
        msg: &OutboundMessage,
        outcome: Outcome,
        billing: Billing,
        conversation_id: String,
        tappable: bool,
    ) {
        let delays = self.config.status_delays;
        let auto_read = self.config.auto_read;
        let out_of_order = self.config.statuses_out_of_order;
        let emitter = self.emitter.clone();
        let tapper = match self.config.auto_tap {
            Some(delay) if tappable => Some((delay, Arc::clone(self), wamid.to_string())),
            _ => None,
        };
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
            let delivered = with(
                "delivered",
                json!({"conversation": conv(false), "pricing": pricing}),
            );
            let delivered_at;
            if out_of_order && auto_read {
                // Meta does not promise status order: `read` can overtake `delivered`.
                tokio::time::sleep(delays.read.saturating_sub(delays.sent)).await;
                emitter.emit(&with("read", json!({})));
                emitter.emit(&delivered);
                delivered_at = tokio::time::Instant::now();
            } else {
                tokio::time::sleep(delays.delivered.saturating_sub(delays.sent)).await;
                emitter.emit(&delivered);
                delivered_at = tokio::time::Instant::now();
                if auto_read {
                    tokio::time::sleep(delays.read.saturating_sub(delays.delivered)).await;
                    emitter.emit(&with("read", json!({})));
                }
            }
            if let Some((delay, sandbox, wamid)) = tapper {
                tokio::time::sleep(delay.saturating_sub(delivered_at.elapsed())).await;
                sandbox.auto_tap(&wamid);
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

    /// A media file's metadata (`GET /{version}/{media_id}`), its bytes at `download_url`.
    pub fn media_info(&self, id: &str, download_url: String) -> Option<Value> {
        let st = self.state();
        if let Some(upload) = st.uploads.get(id) {
            return Some(crate::media::upload_metadata(id, upload, download_url));
        }
        let mime = st.media.get(id).cloned()?;
        crate::media::metadata(id, &mime, download_url)
    }

    /// A media file's type and bytes, for the download URL.
    pub fn media_file(&self, id: &str) -> Option<(String, Bytes)> {
        let st = self.state();
        if let Some(upload) = st.uploads.get(id) {
            return Some((upload.mime_type.clone(), upload.bytes.clone()));
        }
        let mime = st.media.get(id).cloned()?;
        crate::media::sample(&mime).map(|bytes| (mime, Bytes::from_static(bytes)))
    }

    /// `POST /{version}/{phone_number_id}/media`: keep a file the business uploads, after
    /// Meta's checks; the answer names its media id.
    pub fn upload_media(
        &self,
        phone_number_id: &str,
        mime_type: &str,
        bytes: Bytes,
    ) -> Result<Value, GraphError> {
        if self.state().number(phone_number_id).is_none() {
            return Err(GraphError::unknown_object(phone_number_id, "post"));
        }
        crate::media::check_upload(mime_type, bytes.len())?;
        let id = self.ids().numeric_id(16);
        let upload = crate::media::Upload {
            mime_type: mime_type.to_string(),
            bytes,
        };
        self.state().uploads.insert(id.clone(), upload);
        Ok(json!({ "id": id }))
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

    /// Every mark-as-read accepted, in order.
    pub fn read_marks(&self) -> Vec<ReadMark> {
        self.state().read.clone()
    }

    pub fn conversations(&self) -> Vec<Customer> {
        let mut list: Vec<Customer> = self.state().customers.values().cloned().collect();
        list.sort_by(|a, b| (&a.phone_number_id, &a.wa_id).cmp(&(&b.phone_number_id, &b.wa_id)));
        list
    }

    pub fn webhooks(&self) -> Vec<WebhookRecord> {
        self.emitter.log()
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
