//! Account-level events: onboarding history and contacts, `account_update` (offboarding and
//! reconnection), payment, template reviews, unreachable customers.

use serde_json::json;

use super::{now, ControlError, Sandbox};
use crate::ids::IdGen;
use crate::payloads;
use crate::send;

impl Sandbox {
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

    /// Add a submitted template (`PENDING`); the same name and language twice is refused as Meta does.
    pub fn submit_template(&self, body: &serde_json::Value) -> Result<crate::templates::Template, crate::error::GraphError> {
        let mut st = self.state();
        let id = format!("17{:014}", st.templates.len() + 1);
        let template = crate::templates::submitted(id, body)?;
        if st.templates.iter().any(|t| t.name == template.name && t.language == template.language) {
            return Err(crate::error::GraphError::invalid_parameter(format!(
                "Content in this language already exists: {} ({}) — edit it, or use another name",
                template.name, template.language
            )));
        }
        st.templates.push(template.clone());
        Ok(template)
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
