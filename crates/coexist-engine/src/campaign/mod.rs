//! Campaigns: one approved template to many recipients (bulk sends). Under Coexistence the
//! phone app's Broadcast Lists become read-only, so this is how a team reaches a list.
//!
//! ```text
//! recipients (pasted / CSV) --plan--> checked messages + ETA --start--> store (campaign + recipients)
//!   --feeder (runner.rs)--> the ordinary outbox --outbox worker + local limiter--> bridge --> Meta
//! ```
//!
//! - Planned first: numbers normalized, duplicates removed and reported, every recipient's
//!   message built and checked against the template, and the ETA computed from the number's cap.
//! - Never twice: each recipient's idempotency key is `campaign:<id>:<digits>`, and the id comes
//!   from (number, campaign name); re-running a start, resuming after a crash, or a send retried
//!   after kill -9 can only reuse the key, which the store and the bridge both dedupe.
//! - Pause / resume / restart: the state is in the store; the feeder (started by
//!   `Engine::start`) carries on wherever it finds a running campaign.
//! - Progress: [`Engine::campaign_progress`]; `EngineEvent::SendState` events whose key starts
//!   with `campaign:<id>:` (see [`campaign_of_key`]) say that campaign moved.

pub mod eta;
pub mod recipients;
pub(crate) mod runner;

use coexist_core::ContactKey;
use coexist_store::{Campaign, CampaignCounts, CampaignState, NewCampaign, NewCampaignRecipient, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use eta::Eta;
pub use recipients::{parse_csv, parse_pasted, Duplicate, InvalidRow, Recipient, RecipientList, RecipientsError};
pub use runner::window_for;

use crate::compose::{self, ComposeError, TemplateParams};
use crate::{Engine, EngineError};

/// What to send to whom.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignSpec {
    /// The team's name for it; with the number it identifies the campaign (same name = same
    /// campaign, so starting it again continues it instead of sending twice).
    pub name: String,
    pub phone_number_id: String,
    pub template_name: String,
    pub language: String,
    /// Parameters for everyone (header, buttons, and the body when the list has no columns).
    pub defaults: TemplateParams,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedRecipient {
    pub to: String,
    pub line: usize,
    pub message: Value,
}

/// A checked campaign, not yet started: show it (ETA, duplicates, bad rows), then start it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignPlan {
    pub id: String,
    pub spec: CampaignSpec,
    pub recipients: Vec<PlannedRecipient>,
    /// Numbers given more than once (sent once).
    pub duplicates: Vec<Duplicate>,
    /// Rows that cannot be sent (bad number, parameters the template does not take ...).
    pub invalid: Vec<InvalidRow>,
    pub eta: Eta,
    /// A campaign with this name on this number already exists (starting continues it).
    pub existing: Option<Campaign>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignProgress {
    pub campaign: Campaign,
    pub counts: CampaignCounts,
    /// For what is not yet handed to Meta.
    pub eta_remaining: Eta,
}

/// Failures with one Meta error code, in plain words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureReport {
    /// Meta's error code; `None` when the failure had none.
    pub code: Option<i64>,
    pub count: i64,
    pub reason: String,
    pub what_to_do: String,
    /// One recorded error text, as an example.
    pub example_message: Option<String>,
    /// Some of the recipients concerned (at most 20).
    pub recipients: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Recipients(#[from] RecipientsError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error("give the campaign a name (it identifies the campaign, so starting it again never sends twice)")]
    NoName,
    #[error("no recipient can be sent to; fix the rows listed by `coexist campaign plan`")]
    NothingToSend,
    #[error("{count} row(s) cannot be sent (first: line {first_line}: {first_reason}); fix them, or start with --skip-invalid to send to the others")]
    InvalidRows { count: usize, first_line: usize, first_reason: String },
    #[error("a campaign named {name:?} already exists on this number ({id}, {state:?}, {total} recipients, template {template}) and differs from this one; pick another name, or `coexist campaign resume {id}`")]
    NameTaken { name: String, id: String, state: CampaignState, total: i64, template: String },
}

impl From<StoreError> for CampaignError {
    fn from(e: StoreError) -> Self {
        CampaignError::Engine(EngineError::Store(e))
    }
}

/// The campaign id for a name on a number: `c` + 12 hex digits of SHA-256(number, name).
pub fn campaign_id(phone_number_id: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{phone_number_id}\n{}", name.trim()).as_bytes());
    format!("c{}", &hex::encode(digest)[..12])
}

/// The outbox key of a recipient of a campaign: the same inputs always give the same key.
pub fn idempotency_key(campaign_id: &str, to: &str) -> String {
    format!("campaign:{campaign_id}:{to}")
}

/// The campaign an outbox key belongs to, if any (for `SendState` events).
pub fn campaign_of_key(key: &str) -> Option<&str> {
    key.strip_prefix("campaign:")?.split_once(':').map(|(id, _)| id)
}

impl Engine {
    /// Check a campaign without sending anything: template, every recipient's parameters, the
    /// ETA at the number's cap.
    pub fn plan_campaign(&self, spec: &CampaignSpec, list: RecipientList) -> Result<CampaignPlan, CampaignError> {
        if spec.name.trim().is_empty() {
            return Err(CampaignError::NoName);
        }
        let (template, cap, existing) = {
            let store = self.store().lock().unwrap_or_else(|p| p.into_inner());
            let templates = store.templates(&spec.phone_number_id)?;
            let template = templates
                .into_iter()
                .find(|t| t.name == spec.template_name && t.language == spec.language)
                .ok_or_else(|| ComposeError::UnknownTemplate { name: spec.template_name.clone(), language: spec.language.clone() })?;
            let cap = runner::cap_of(&store, &spec.phone_number_id)?;
            let existing = store.campaign(&campaign_id(&spec.phone_number_id, &spec.name))?;
            (template, cap, existing)
        };
        let mut invalid = list.invalid;
        let mut recipients = Vec::with_capacity(list.recipients.len());
        for r in list.recipients {
            let mut params = spec.defaults.clone();
            if !r.positional.is_empty() {
                params.body_positional = r.positional;
            }
            if !r.named.is_empty() {
                params.body_named = r.named;
            }
            match compose::template_message(&ContactKey(r.to.clone()), &template, &params) {
                Ok(message) => recipients.push(PlannedRecipient { to: r.to, line: r.line, message }),
                Err(e @ ComposeError::NotApproved { .. }) => return Err(e.into()),
                Err(e) => invalid.push(InvalidRow { line: r.line, reason: e.to_string() }),
            }
        }
        invalid.sort_by_key(|r| r.line);
        let eta = Eta::new(recipients.len(), cap);
        let id = campaign_id(&spec.phone_number_id, &spec.name);
        Ok(CampaignPlan { id, spec: spec.clone(), recipients, duplicates: list.duplicates, invalid, eta, existing })
    }

    /// Store the campaign and let the feeder send it. Refused while rows are invalid unless
    /// `skip_invalid`. Starting a campaign that already exists (same name and number, same
    /// template and size) continues it — resuming it if paused — and sends nobody twice.
    pub fn start_campaign(&self, plan: &CampaignPlan, skip_invalid: bool) -> Result<Campaign, CampaignError> {
        if let Some(first) = plan.invalid.first().filter(|_| !skip_invalid) {
            return Err(CampaignError::InvalidRows { count: plan.invalid.len(), first_line: first.line, first_reason: first.reason.clone() });
        }
        if plan.recipients.is_empty() {
            return Err(CampaignError::NothingToSend);
        }
        let mut store = self.store().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = store.campaign(&plan.id)? {
            let same = c.template_name == plan.spec.template_name
                && c.language == plan.spec.language
                && c.total == plan.recipients.len() as i64;
            if !same {
                return Err(CampaignError::NameTaken {
                    name: c.name,
                    id: c.id,
                    state: c.state,
                    total: c.total,
                    template: c.template_name,
                });
            }
            return Ok(store.campaign_resume(&c.id)?);
        }
        let new = NewCampaign {
            id: plan.id.clone(),
            name: plan.spec.name.trim().to_string(),
            phone_number_id: plan.spec.phone_number_id.clone(),
            template_name: plan.spec.template_name.clone(),
            language: plan.spec.language.clone(),
            recipients: plan
                .recipients
                .iter()
                .map(|r| NewCampaignRecipient {
                    to: r.to.clone(),
                    message: r.message.clone(),
                    idempotency_key: idempotency_key(&plan.id, &r.to),
                })
                .collect(),
        };
        Ok(store.campaign_create(&new)?)
    }

    /// Stop sending a campaign: nothing more is queued and its queued items are parked; what
    /// was already handed to the sender (about half a second of sends) still goes.
    pub fn pause_campaign(&self, id: &str) -> Result<Campaign, CampaignError> {
        Ok(self.store().lock().unwrap_or_else(|p| p.into_inner()).campaign_pause(id)?)
    }

    /// Continue a paused campaign where it stopped.
    pub fn resume_campaign(&self, id: &str) -> Result<Campaign, CampaignError> {
        Ok(self.store().lock().unwrap_or_else(|p| p.into_inner()).campaign_resume(id)?)
    }

    pub fn campaigns(&self) -> Result<Vec<Campaign>, CampaignError> {
        Ok(self.store().lock().unwrap_or_else(|p| p.into_inner()).campaigns()?)
    }

    /// Where the campaign is: counts by stage and the time left at the number's pace.
    pub fn campaign_progress(&self, id: &str) -> Result<CampaignProgress, CampaignError> {
        let store = self.store().lock().unwrap_or_else(|p| p.into_inner());
        let campaign = store
            .campaign(id)?
            .ok_or_else(|| StoreError::NotFound(format!("no campaign {id:?}; `coexist campaign list` shows the known ones")))?;
        let counts = store.campaign_counts(id)?;
        let cap = runner::cap_of(&store, &campaign.phone_number_id)?;
        let left = (counts.pending + counts.queued) as usize;
        Ok(CampaignProgress { campaign, counts, eta_remaining: Eta::new(left, cap) })
    }

    /// The campaign's failures by Meta error code, largest group first, in plain words.
    pub fn campaign_failures(&self, id: &str) -> Result<Vec<FailureReport>, CampaignError> {
        let groups = self.store().lock().unwrap_or_else(|p| p.into_inner()).campaign_failures(id)?;
        Ok(groups
            .into_iter()
            .map(|g| {
                let (reason, what_to_do) = match g.code {
                    Some(code) => {
                        let e = coexist_core::explain_meta_error(code);
                        (e.reason, e.what_to_do)
                    }
                    None => (
                        g.example_message.clone().unwrap_or_else(|| "refused without an error code".into()),
                        "Check the recipients concerned, then start the campaign again under a new name for them".into(),
                    ),
                };
                FailureReport { code: g.code, count: g.count, reason, what_to_do, example_message: g.example_message, recipients: g.recipients }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keys_are_deterministic_and_linked() {
        let a = campaign_id("pn1", "Spring sale");
        assert_eq!(a, campaign_id("pn1", " Spring sale "));
        assert_ne!(a, campaign_id("pn2", "Spring sale"));
        assert_eq!(a.len(), 13);
        let key = idempotency_key(&a, "14155550111");
        assert_eq!(key, idempotency_key(&a, "14155550111"));
        assert_eq!(campaign_of_key(&key), Some(a.as_str()));
        assert_eq!(campaign_of_key("0b7c-uuid"), None);
    }
}
