//! The admins' side of the bridge: people (tokens), business numbers, new message templates
//! for Meta's review, and the quarantine of webhooks that did not parse. Thin [`BridgeClient`]
//! methods over `/v1/admin/*` (and `/v1/numbers/{id}/templates`).
//!
//! Errors are classified by what the user should do next: a 403 means "this needs an admin
//! token" (not "your token is broken"), a 401 means the token is unknown or revoked, and a
//! refusal of the input (400/404/409) carries the bridge's own words, e.g. why Coexistence is
//! not offered for a Nigerian number.

use coexist_core::{NumberMode, NumberSettings};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::client::BridgeClient;

mod routes {
    pub const USERS: &str = "/v1/admin/users";
    pub const NUMBERS: &str = "/v1/admin/numbers";
    pub const QUARANTINE: &str = "/v1/admin/quarantine";
    pub fn user(name: &str) -> String {
        format!("{USERS}/{name}")
    }
    pub fn number(id: &str) -> String {
        format!("{NUMBERS}/{id}")
    }
    pub fn templates(phone_number_id: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/templates")
    }
}

/// The roles a bridge token can have (see the bridge's API.md).
pub const ROLES: [&str; 3] = ["agent", "manager", "admin"];

/// Why an admin call did not work, in words that say what to do.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum AdminError {
    /// 403: the token is valid but not an admin's.
    #[error("this needs an admin token ({0}); ask an admin to do it, or sign in with an admin token")]
    NotAdmin(String),
    /// 401: unknown, malformed or revoked token.
    #[error("the bridge does not accept this token ({0}); it may have been revoked: ask an admin for a new one")]
    BadToken(String),
    /// The bridge refused the input (400 bad input, 404 unknown, 409 exists). The message is the bridge's.
    #[error("{message}")]
    Refused { status: u16, message: String },
    /// Refused here before asking the bridge.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot reach the bridge: {0}; check the bridge URL and try again")]
    Offline(String),
    #[error("unexpected answer from the bridge: {0}")]
    Decode(String),
}

impl AdminError {
    fn from_answer(status: StatusCode, body: &[u8]) -> AdminError {
        let message = crate::error::error_message(body);
        match status {
            StatusCode::FORBIDDEN => AdminError::NotAdmin(message),
            StatusCode::UNAUTHORIZED => AdminError::BadToken(message),
            s if s.is_server_error() => AdminError::Offline(format!("the bridge answered {s}: {message}")),
            s => AdminError::Refused { status: s.as_u16(), message },
        }
    }
}

/// A person with a token (`GET /v1/admin/users`). Tokens are never listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    pub role: String,
    pub created_at_ms: i64,
}

/// A person just added, with their token: shown this once, the bridge keeps only its hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub role: String,
    pub token: String,
}

/// A number as an admin enters it. `tier_mps: None` lets the bridge choose (20 Coexistence, 80 standard).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberInput {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_number: String,
    pub mode: NumberMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_mps: Option<u32>,
}

/// What to change on an existing number; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NumberEdit {
    #[serde(default)]
    pub waba_id: Option<String>,
    #[serde(default)]
    pub display_number: Option<String>,
    #[serde(default)]
    pub mode: Option<NumberMode>,
    #[serde(default)]
    pub tier_mps: Option<u32>,
}

impl NumberEdit {
    /// The full settings to PUT. A mode change without a tier lets the bridge pick the mode's
    /// default (a Coexistence number cannot keep a standard tier).
    pub fn apply_to(&self, current: &NumberSettings) -> NumberInput {
        let mode_changed = self.mode.as_ref().is_some_and(|m| *m != current.mode);
        NumberInput {
            phone_number_id: current.phone_number_id.clone(),
            waba_id: self.waba_id.clone().unwrap_or_else(|| current.waba_id.clone()),
            display_number: self.display_number.clone().unwrap_or_else(|| current.display_number.clone()),
            mode: self.mode.clone().unwrap_or_else(|| current.mode.clone()),
            tier_mps: self.tier_mps.or(if mode_changed { None } else { Some(current.tier_mps) }),
        }
    }
}

/// The bridge's answer to adding or editing a number: the stored settings and their relay seq.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberSaved {
    pub number: NumberSettings,
    pub seq: i64,
}

/// A template Meta took for review (`{"id", "status": "PENDING", "category"}` as Meta answered),
/// and the seq of the catalog the bridge relayed with it (`None` if that relay failed: the next
/// sync brings it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmittedTemplate {
    pub template: serde_json::Value,
    pub seq: Option<i64>,
}

pub use coexist_core::QuarantinedWebhook;

impl BridgeClient {
    /// Everyone with a token on this bridge.
    pub async fn admin_users(&self) -> Result<Vec<UserInfo>, AdminError> {
        self.admin_call(Method::GET, routes::USERS, None).await
    }

    /// Add a person; the answer holds their token, which is never shown again.
    pub async fn admin_add_user(&self, name: &str, role: &str) -> Result<NewUser, AdminError> {
        check_name(name)?;
        check_role(role)?;
        let body = serde_json::json!({ "name": name, "role": role });
        self.admin_call(Method::POST, routes::USERS, Some(body)).await
    }

    /// Revoke a person's token (it stops working at once).
    pub async fn admin_revoke_user(&self, name: &str) -> Result<(), AdminError> {
        check_name(name)?;
        self.admin_send(Method::DELETE, &routes::user(name), None).await.map(drop)
    }

    pub async fn admin_numbers(&self) -> Result<Vec<NumberSettings>, AdminError> {
        self.admin_call(Method::GET, routes::NUMBERS, None).await
    }

    /// Add a number. Coexistence is refused for Nigeria (+234) and South Africa (+27); the
    /// error carries the bridge's reason.
    pub async fn admin_add_number(&self, number: &NumberInput) -> Result<NumberSaved, AdminError> {
        check_id("phone_number_id", &number.phone_number_id)?;
        let body = serde_json::to_value(number).map_err(|e| AdminError::Invalid(e.to_string()))?;
        self.admin_call(Method::POST, routes::NUMBERS, Some(body)).await
    }

    /// Change a number's mode, tier, WABA or display number (the rest stays as it is).
    pub async fn admin_edit_number(&self, phone_number_id: &str, edit: &NumberEdit) -> Result<NumberSaved, AdminError> {
        check_id("phone_number_id", phone_number_id)?;
        let numbers = self.admin_numbers().await?;
        let current = numbers.iter().find(|n| n.phone_number_id == phone_number_id).ok_or_else(|| {
            AdminError::Refused {
                status: 404,
                message: format!("the bridge has no number {phone_number_id}; add it first (admin add-number)"),
            }
        })?;
        let body = serde_json::to_value(edit.apply_to(current)).map_err(|e| AdminError::Invalid(e.to_string()))?;
        self.admin_call(Method::PUT, &routes::number(phone_number_id), Some(body)).await
    }

    /// Submit a new template for Meta's review on the number's WABA. Meta's immediate rules are
    /// checked here first (the bridge checks them too), so a mistake is said without a round trip.
    pub async fn admin_submit_template(&self, phone_number_id: &str, draft: &coexist_core::TemplateDraft) -> Result<SubmittedTemplate, AdminError> {
        draft.check().map_err(AdminError::Invalid)?;
        let body = serde_json::to_value(draft).expect("a draft of plain fields serializes");
        self.admin_call(Method::POST, &routes::templates(phone_number_id), Some(body)).await
    }

    /// Webhooks the bridge kept but could not parse, newest first (at most `limit`, 1..=1000).
    pub async fn admin_quarantine(&self, limit: u32) -> Result<Vec<QuarantinedWebhook>, AdminError> {
        let path = format!("{}?limit={}", routes::QUARANTINE, limit.clamp(1, 1000));
        self.admin_call(Method::GET, &path, None).await
    }

    async fn admin_call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, AdminError> {
        let resp = self.admin_send(method, path, body).await?;
        let bytes = resp.bytes().await.map_err(|e| AdminError::Offline(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| AdminError::Decode(e.to_string()))
    }

    async fn admin_send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<reqwest::Response, AdminError> {
        let mut req = self.request(method, path).timeout(std::time::Duration::from_secs(20));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.map_err(|e| AdminError::Offline(e.to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.bytes().await.unwrap_or_default();
        Err(AdminError::from_answer(status, &body))
    }
}

/// Names go into a URL path: the bridge's own rule (1-64 of `[A-Za-z0-9._@-]`), checked first.
fn check_name(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "{name:?} is not a valid name: use 1-64 letters, digits, '.', '_', '@' or '-'"
        )))
    }
}

fn check_role(role: &str) -> Result<(), AdminError> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!("unknown role {role:?}: use agent, manager or admin")))
    }
}

fn check_id(what: &str, id: &str) -> Result<(), AdminError> {
    let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!("invalid {what} {id:?}: use the numeric id from Meta's WhatsApp Manager")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(mode: NumberMode, tier: u32) -> NumberSettings {
        NumberSettings {
            phone_number_id: "1065".into(),
            waba_id: "2210".into(),
            display_number: "+14155550100".into(),
            mode,
            tier_mps: tier,
        }
    }

    #[test]
    fn edit_keeps_what_is_not_changed() {
        let current = number(NumberMode::Standard, 250);
        let put = NumberEdit { display_number: Some("+14155550199".into()), ..Default::default() }.apply_to(&current);
        assert_eq!(put.display_number, "+14155550199");
        assert_eq!(put.waba_id, "2210");
        assert_eq!((put.mode, put.tier_mps), (NumberMode::Standard, Some(250)));
    }

    #[test]
    fn a_mode_change_without_tier_takes_the_modes_default() {
        let put = NumberEdit { mode: Some(NumberMode::Coexistence), ..Default::default() }
            .apply_to(&number(NumberMode::Standard, 250));
        assert_eq!((put.mode, put.tier_mps), (NumberMode::Coexistence, None));
        let put = NumberEdit { mode: Some(NumberMode::Standard), tier_mps: Some(400), ..Default::default() }
            .apply_to(&number(NumberMode::Coexistence, 20));
        assert_eq!(put.tier_mps, Some(400));
    }

    #[test]
    fn answers_are_classified_for_the_user() {
        let e = AdminError::from_answer(StatusCode::FORBIDDEN, br#"{"error":{"message":"mia is a manager: only admins can do this"}}"#);
        assert!(e.to_string().starts_with("this needs an admin token"), "{e}");
        assert!(matches!(AdminError::from_answer(StatusCode::UNAUTHORIZED, b"{}"), AdminError::BadToken(_)));
        let e = AdminError::from_answer(StatusCode::BAD_REQUEST, br#"{"error":{"message":"Nigeria"}}"#);
        assert_eq!(e, AdminError::Refused { status: 400, message: "Nigeria".into() });
        assert!(matches!(AdminError::from_answer(StatusCode::BAD_GATEWAY, b""), AdminError::Offline(_)));
    }

    #[test]
    fn names_roles_and_ids_are_checked_before_they_reach_a_url() {
        assert!(check_name("ana.silva@shop").is_ok());
        assert!(check_name("../etc").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("").is_err());
        assert!(check_role("viewer").unwrap_err().to_string().contains("agent, manager or admin"));
        assert!(check_id("phone_number_id", "1065?x=1").is_err());
    }
}
