//! What the admin panel's commands do, as methods on [`Backend`] (tested in tests/admin_actions.rs
//! against a real bridge and sandbox). The bridge enforces roles; these pass its refusals on in
//! plain words ("this needs an admin token", the country rule for Coexistence ...).

use coexist_core::{NumberMode, NumberSettings, TemplateDraft};
use coexist_engine::admin::{NewUser, NumberEdit, NumberInput, NumberSaved, QuarantinedWebhook, SubmittedTemplate, UserInfo};
use coexist_engine::BlockedCustomer;
use coexist_store::{NumberHealth, TemplateReview};
use serde::Serialize;

use crate::actions::{err, now, ActionResult};
use crate::backend::Backend;
use crate::token_store::TokenStatus;

/// Meta may remove an unused Coexistence connection after 13–14 days: remind at day 10 and day 13.
pub const REMIND_AFTER_DAYS: i64 = 10;
pub const URGENT_AFTER_DAYS: i64 = 13;
const DAY: i64 = 86_400;
/// Quarantine rows fetched for the panel.
pub const QUARANTINE_LIMIT: u32 = 50;

/// Who is signed in, and how the token is kept (`admin_session`).
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub name: String,
    /// `agent`, `manager` or `admin`; empty when the bridge could not be asked.
    pub role: String,
    pub is_admin: bool,
    /// Why the role is unknown (offline, refused token), for the UI to say.
    pub problem: Option<String>,
    pub token: TokenStatus,
}

/// How long since the Business App was used, in the words the panel shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum AppActivity {
    /// Not a Coexistence number: there is no Business App to keep alive.
    NotApplicable,
    /// No echo seen yet from the phone (since this inbox started syncing).
    Unknown { text: String },
    Ok { days: i64, text: String },
    /// Day 10 to 12.
    Reminder { days: i64, text: String },
    /// Day 13 on: the connection may be removed any time now.
    Urgent { days: i64, text: String },
}

/// Whether the number is still connected to the Cloud API, from the latest account_update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    Connected,
    Offboarded,
    Reconnected,
}

/// One row of the admin's number health panel.
#[derive(Clone, Debug, Serialize)]
pub struct NumberStatus {
    #[serde(flatten)]
    pub health: NumberHealth,
    /// The throughput cap, messages per second.
    pub tier_mps: Option<u32>,
    pub app_activity: AppActivity,
    pub connection: Connection,
}

/// The day-10 / day-13 reminder for a number's Business App.
pub fn app_activity(mode: Option<&NumberMode>, secs_since: Option<i64>) -> AppActivity {
    if mode != Some(&NumberMode::Coexistence) {
        return AppActivity::NotApplicable;
    }
    let Some(secs) = secs_since else {
        return AppActivity::Unknown {
            text: "No WhatsApp Business App activity seen yet. Send a message from the app on the phone now and then: Meta may remove the connection after 13–14 days unused.".into(),
        };
    };
    let days = secs.max(0) / DAY;
    let ago = match days {
        0 => "today".to_string(),
        1 => "1 day ago".to_string(),
        n => format!("{n} days ago"),
    };
    if days >= URGENT_AFTER_DAYS {
        AppActivity::Urgent {
            days,
            text: format!("The WhatsApp Business App was last used {ago}. Meta may remove the Coexistence connection after 13–14 days unused: open the app on the phone and send a message today."),
        }
    } else if days >= REMIND_AFTER_DAYS {
        AppActivity::Reminder {
            days,
            text: format!("The WhatsApp Business App was last used {ago}. Open it on the phone within {} days: Meta may remove the connection after 13–14 days unused.", URGENT_AFTER_DAYS - days),
        }
    } else {
        AppActivity::Ok { days, text: format!("Business App last used {ago}.") }
    }
}

pub fn connection(health: &NumberHealth) -> Connection {
    match (&health.last_account_event, health.offboarded) {
        (_, true) => Connection::Offboarded,
        (Some(_), false) => Connection::Reconnected,
        (None, false) => Connection::Connected,
    }
}

pub fn number_status(health: NumberHealth, settings: Option<&NumberSettings>) -> NumberStatus {
    NumberStatus {
        app_activity: app_activity(health.mode.as_ref(), health.secs_since_app_activity),
        connection: connection(&health),
        tier_mps: settings.map(|s| s.tier_mps),
        health,
    }
}

impl Backend {
    /// Who the token belongs to, with the role (the panel is shown to admins only).
    pub async fn admin_session(&self, token: TokenStatus) -> Session {
        let me = tokio::time::timeout(std::time::Duration::from_secs(5), self.engine.client().me()).await;
        let (name, role, problem) = match me {
            Ok(Ok(me)) => (me.name, me.role, None),
            Ok(Err(e)) => (String::new(), String::new(), Some(e.to_string())),
            Err(_) => (String::new(), String::new(), Some("the bridge did not answer in time".to_string())),
        };
        Session { is_admin: role == "admin", name, role, problem, token }
    }

    pub async fn admin_users(&self) -> ActionResult<Vec<UserInfo>> {
        self.engine.client().admin_users().await.map_err(err)
    }

    /// The answer holds the new person's token: the UI shows it once.
    pub async fn admin_add_user(&self, name: &str, role: &str) -> ActionResult<NewUser> {
        self.engine.client().admin_add_user(name.trim(), role).await.map_err(err)
    }

    pub async fn admin_revoke_user(&self, name: &str) -> ActionResult<()> {
        self.engine.client().admin_revoke_user(name).await.map_err(err)
    }

    pub async fn admin_numbers(&self) -> ActionResult<Vec<NumberSettings>> {
        self.engine.client().admin_numbers().await.map_err(err)
    }

    /// Adds the number at the bridge, then pulls its `number` event so this inbox knows it at once.
    pub async fn admin_add_number(&self, number: &NumberInput) -> ActionResult<NumberSaved> {
        let saved = self.engine.client().admin_add_number(number).await.map_err(err)?;
        self.pull_after_admin_change().await;
        Ok(saved)
    }

    pub async fn admin_edit_number(&self, phone_number_id: &str, edit: &NumberEdit) -> ActionResult<NumberSaved> {
        let saved = self.engine.client().admin_edit_number(phone_number_id, edit).await.map_err(err)?;
        self.pull_after_admin_change().await;
        Ok(saved)
    }

    pub async fn admin_quarantine(&self, limit: Option<u32>) -> ActionResult<Vec<QuarantinedWebhook>> {
        self.engine
            .client()
            .admin_quarantine(limit.unwrap_or(QUARANTINE_LIMIT))
            .await
            .map_err(err)
    }

    /// Every template of the number with where Meta's review of it stands.
    pub fn admin_templates(&self, phone_number_id: &str) -> ActionResult<Vec<TemplateReview>> {
        self.reader().template_reviews(phone_number_id).map_err(err)
    }

    /// Submit a new template for Meta's review; the catalog with it (pending) is applied at once.
    pub async fn admin_submit_template(&self, phone_number_id: &str, draft: &TemplateDraft) -> ActionResult<SubmittedTemplate> {
        let submitted = self.engine.client().admin_submit_template(phone_number_id, draft).await.map_err(err)?;
        if let Err(e) = self.engine.sync_once().await {
            tracing::debug!(error = %e, "the new template's catalog comes with the next sync");
        }
        Ok(submitted)
    }

    /// The number's block list, from Meta, named as this inbox knows each customer.
    pub async fn admin_blocked(&self, phone_number_id: &str) -> ActionResult<Vec<BlockedCustomer>> {
        self.engine.blocked_customers(phone_number_id).await.map_err(err)
    }

    /// Every number this inbox knows, with Business App activity reminders, connection state,
    /// recent 131042 payment failures, mode and throughput cap.
    pub fn admin_number_health(&self) -> ActionResult<Vec<NumberStatus>> {
        let store = self.reader();
        let now = now();
        let numbers = store.numbers().map_err(err)?;
        numbers
            .iter()
            .map(|n| Ok(number_status(store.number_health(&n.phone_number_id, now).map_err(err)?, Some(n))))
            .collect()
    }

    /// The running sync loop would pull the change too; one pull now makes the panel current.
    async fn pull_after_admin_change(&self) {
        if let Err(e) = self.engine.sync_once().await {
            tracing::warn!(error = %e, "could not pull the number change at once; the sync loop will");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(event: Option<&str>, offboarded: bool) -> NumberHealth {
        NumberHealth {
            phone_number_id: "1".into(),
            display_number: Some("+15550100".into()),
            mode: Some(NumberMode::Coexistence),
            last_app_activity_at: None,
            secs_since_app_activity: None,
            offboarded,
            last_account_event: event.map(str::to_string),
            recent_payment_failures: vec![],
        }
    }

    #[test]
    fn reminders_start_at_day_10_and_turn_urgent_at_day_13() {
        let coex = Some(&NumberMode::Coexistence);
        assert!(matches!(app_activity(coex, Some(9 * DAY + 86_399)), AppActivity::Ok { days: 9, .. }));
        match app_activity(coex, Some(10 * DAY)) {
            AppActivity::Reminder { days: 10, text } => assert!(text.contains("within 3 days"), "{text}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(app_activity(coex, Some(12 * DAY)), AppActivity::Reminder { days: 12, .. }));
        match app_activity(coex, Some(13 * DAY)) {
            AppActivity::Urgent { days: 13, text } => assert!(text.contains("today"), "{text}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(app_activity(coex, None), AppActivity::Unknown { .. }));
        assert_eq!(app_activity(Some(&NumberMode::Standard), Some(30 * DAY)), AppActivity::NotApplicable);
        assert_eq!(app_activity(None, Some(30 * DAY)), AppActivity::NotApplicable);
    }

    #[test]
    fn connection_follows_the_latest_account_update() {
        assert_eq!(connection(&health(None, false)), Connection::Connected);
        assert_eq!(connection(&health(Some("ACCOUNT_OFFBOARDED"), true)), Connection::Offboarded);
        assert_eq!(connection(&health(Some("ACCOUNT_RECONNECTED"), false)), Connection::Reconnected);
    }

    #[test]
    fn the_row_carries_the_tier_and_flattens_the_health() {
        let settings = NumberSettings {
            phone_number_id: "1".into(),
            waba_id: "2".into(),
            display_number: "+15550100".into(),
            mode: NumberMode::Coexistence,
            tier_mps: 20,
        };
        let row = number_status(health(None, false), Some(&settings));
        let v = serde_json::to_value(&row).unwrap();
        assert_eq!(v["tier_mps"], 20);
        assert_eq!(v["phone_number_id"], "1");
        assert_eq!(v["connection"], "connected");
        assert_eq!(v["app_activity"]["level"], "unknown");
    }
}
