//! The team's own layer, through the bridge: who handles a conversation, whether it is done (or
//! snoozed), its labels, notes, quick replies, and whether its customer is blocked (that one
//! through Meta too). The bridge relays each change to every desktop; this one applies its own
//! from the relay like the others', fetching at once so the agent who acted sees it without
//! waiting for the stream.

use coexist_core::ConversationKey;
use serde::{Deserialize, Serialize};

use crate::client::TeamMember;
use crate::engine::{Engine, EngineError};

/// A note is for a few sentences; the bridge refuses longer ones (it says the same).
pub const MAX_NOTE_CHARS: usize = 4096;

/// A customer on a number's block list, with what this inbox knows of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockedCustomer {
    /// Their `wa_id`: the conversation's contact.
    pub contact: String,
    /// Their profile name, when a conversation with them is in this inbox (customer text).
    pub name: Option<String>,
    /// The teammate who blocked them in Coexist; `None` when they were blocked elsewhere (on the
    /// phone's Business App, say) or before this inbox synced it.
    pub blocked_by: Option<String>,
}

impl Engine {
    /// Tell the engine which agent this desktop is (as the bridge says), so that a
    /// conversation a teammate assigns to them is notified.
    pub fn set_agent(&self, name: &str) {
        *self.shared().agent.write().unwrap_or_else(|p| p.into_inner()) = Some(name.to_string()).filter(|n| !n.is_empty());
    }

    /// Who conversations can be assigned to.
    pub async fn team(&self) -> Result<Vec<TeamMember>, EngineError> {
        Ok(self.client().team().await?)
    }

    /// Assign the conversation to `assignee`, or hand it back to the team (`None`).
    pub async fn assign(&self, conversation: &ConversationKey, assignee: Option<&str>) -> Result<(), EngineError> {
        self.client().assign(conversation, assignee).await?;
        self.fetch_now().await;
        Ok(())
    }

    /// Mark the conversation done (`false`: take it up again). It stays done until the customer
    /// writes again, or until `until_ms` (snoozed: it comes back on the queues then, notified).
    pub async fn mark_done(&self, conversation: &ConversationKey, done: bool, until_ms: Option<i64>) -> Result<(), EngineError> {
        self.client().mark_done(conversation, done, until_ms).await?;
        self.fetch_now().await;
        Ok(())
    }

    /// Put `label` on the conversation, or take it off (`on: false`). The name is checked here
    /// first (the bridge's own rule), so a blank or overlong one is refused without a round trip.
    pub async fn label(&self, conversation: &ConversationKey, label: &str, on: bool) -> Result<(), EngineError> {
        let label = coexist_core::label_name(label).map_err(EngineError::Invalid)?;
        self.client().label(conversation, &label, on).await?;
        self.fetch_now().await;
        Ok(())
    }

    /// Block the customer on the conversation's number (`false`: unblock). Meta decides (it
    /// blocks only customers who wrote in the last 24 hours); its refusal comes back in words.
    pub async fn set_blocked(&self, conversation: &ConversationKey, blocked: bool) -> Result<(), EngineError> {
        self.client().set_blocked(conversation, blocked).await?;
        self.fetch_now().await;
        Ok(())
    }

    /// The number's block list, from Meta through the bridge, named as this inbox knows them.
    pub async fn blocked_customers(&self, phone_number_id: &str) -> Result<Vec<BlockedCustomer>, EngineError> {
        let blocked = self.client().blocked_users(phone_number_id).await?;
        let store = self.shared().store();
        let now = crate::shared::now_secs();
        blocked
            .into_iter()
            .map(|contact| {
                let key = ConversationKey { phone_number_id: phone_number_id.to_string(), contact: coexist_core::ContactKey(contact.clone()) };
                let known = store.conversation(&key, now)?;
                Ok(BlockedCustomer {
                    contact,
                    name: known.as_ref().and_then(|c| c.contact_name.clone()),
                    blocked_by: known.and_then(|c| c.blocked_by),
                })
            })
            .collect()
    }

    /// Save a quick reply for the whole team (`text: None` removes it).
    pub async fn save_quick_reply(&self, shortcut: &str, text: Option<&str>) -> Result<(), EngineError> {
        let shortcut = shortcut.trim().trim_start_matches('/');
        if shortcut.is_empty() || shortcut.contains(['/', '?', '#', '%']) || shortcut.chars().any(char::is_whitespace) {
            return Err(EngineError::Invalid("a shortcut is one word, typed after / in the reply box".into()));
        }
        self.client().save_quick_reply(shortcut, text).await?;
        self.fetch_now().await;
        Ok(())
    }

    /// Leave a note for the team on the conversation. Checked here first, so an empty or
    /// overlong note is refused without a round trip.
    pub async fn add_note(&self, conversation: &ConversationKey, text: &str) -> Result<(), EngineError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EngineError::Invalid("the note is empty; write something for the team".into()));
        }
        let chars = text.chars().count();
        if chars > MAX_NOTE_CHARS {
            return Err(EngineError::Invalid(format!("the note is {chars} characters; keep it to {MAX_NOTE_CHARS}")));
        }
        self.client().add_note(conversation, text).await?;
        self.fetch_now().await;
        Ok(())
    }

    /// Apply what the bridge just recorded. If this fails the sync loop brings it shortly.
    async fn fetch_now(&self) {
        if let Err(e) = self.sync_once().await {
            tracing::debug!(error = %e, "not fetched at once; the sync loop will bring it");
        }
    }
}
