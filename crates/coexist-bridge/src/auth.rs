//! People and roles. A token is shown once at creation; only its sha256 is stored.
//!
//! Agents read and send; managers read only; admins read, send, and manage numbers and people.

use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::header::AUTHORIZATION;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::server::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
    pub fn can_send(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
    pub fn can_admin(self) -> bool {
        self == Role::Admin
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "agent" => Ok(Role::Agent),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?}; use agent, manager or admin")),
        }
    }
}

/// A fresh bearer token: `cxb_` + 32 random bytes in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("cxb_{}", hex::encode(bytes))
}

pub fn token_hash(token: &str) -> String {
    crate::sha256_hex(token.as_bytes())
}

/// A user name: 1-64 of letters, digits and `._@-` (it ends up in records and logs).
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid user name {name:?}: use 1-64 letters, digits, '.', '_', '@' or '-'"))
    }
}

/// The authenticated caller of a `/v1` route.
#[derive(Clone, Debug, Serialize)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    /// To re-check long-lived requests (SSE) against revocation.
    #[serde(skip)]
    pub token_hash: String,
}

impl Caller {
    pub fn require_send(&self) -> Result<(), ApiError> {
        if self.role.can_send() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("{} is a {}: only agents and admins can do this", self.name, self.role.as_str())))
        }
    }
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role.can_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("{} is a {}: only admins can do this", self.name, self.role.as_str())))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer TOKEN; ask an admin for a token"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
        let hash = token_hash(token);
        match state.db.user_by_token_hash(&hash).await? {
            Some(user) => Ok(Caller { name: user.name, role: user.role, token_hash: hash }),
            None => Err(ApiError::unauthorized("unknown or revoked token; ask an admin for a new one")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("cxb_") && a.len() == 68);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("ana.silva@shop").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("<script>").is_err());
    }
}
