//! Meta's endpoint: the subscription handshake and signed webhook deliveries.

use std::collections::HashMap;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header::CONTENT_LENGTH, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{Append, Appended};
use crate::metrics::Metrics;
use crate::server::AppState;

/// `GET /webhook`: answers Meta's `hub.challenge` when `hub.verify_token` matches.
pub async fn verify(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mode_ok = q.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token_ok = !state.config.verify_token.is_empty()
        && q.get("hub.verify_token").is_some_and(|t| constant_time_eq(t.as_bytes(), state.config.verify_token.as_bytes()));
    match (mode_ok && token_ok, q.get("hub.challenge")) {
        (true, Some(challenge)) => (StatusCode::OK, challenge.clone()).into_response(),
        _ => {
            tracing::warn!("webhook verification refused (wrong mode or verify token)");
            (StatusCode::FORBIDDEN, "verification failed: hub.mode must be subscribe and hub.verify_token must match COEXIST_VERIFY_TOKEN").into_response()
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // HMAC both sides with a fixed key so the comparison time does not depend on the token.
    let tag = |x: &[u8]| {
        let mut m = Hmac::<Sha256>::new_from_slice(b"coexist-verify-token").expect("any key length");
        m.update(x);
        m.finalize().into_bytes()
    };
    let mut m = Hmac::<Sha256>::new_from_slice(b"coexist-verify-token").expect("any key length");
    m.update(a);
    m.verify_slice(&tag(b)).is_ok()
}

/// Why a signature was refused.
#[derive(Debug, PartialEq)]
pub enum SignatureError {
    Missing,
    Invalid,
}

/// Checks `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`
/// in constant time (`verify_slice`).
pub fn check_signature(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let header = headers.get("x-hub-signature-256").ok_or(SignatureError::Missing)?;
    let hex_sig = header.to_str().ok().and_then(|h| h.strip_prefix("sha256=")).ok_or(SignatureError::Invalid)?;
    let sig = hex::decode(hex_sig.trim()).map_err(|_| SignatureError::Invalid)?;
    if secret.is_empty() {
        return Err(SignatureError::Invalid);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| SignatureError::Invalid)
}

/// The signature header Meta would send for `body` (used by tests and the sandbox).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `POST /webhook`: verify, store durably (group commit), then 200. Nothing unsigned is stored.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let m = &state.metrics;
    let body = match read_limited(&headers, body, state.config.body_limit).await {
        Ok(b) => b,
        Err(resp) => {
            Metrics::inc(&m.refused_too_large);
            return resp;
        }
    };
    if let Err(e) = check_signature(&state.config.app_secret, &headers, &body) {
        let (counter, msg) = match e {
            SignatureError::Missing => (&m.refused_signature_missing, "missing X-Hub-Signature-256"),
            SignatureError::Invalid => (&m.refused_signature_invalid, "X-Hub-Signature-256 does not match the body"),
        };
        Metrics::inc(counter);
        tracing::warn!(reason = msg, "webhook refused");
        return (StatusCode::UNAUTHORIZED, msg).into_response();
    }
    let body_hash = crate::sha256_hex(&body);
    let received_at_ms = crate::now_ms();
    let item = match crate::envelope::check(&body) {
        Ok(checked) => Append::Webhook { body: checked.text, body_hash, meta_time: checked.meta_time, received_at_ms },
        Err(reason) => Append::Quarantine { body: body.to_vec(), body_hash, reason, received_at_ms },
    };
    match state.writer.append(item).await {
        Ok(Appended::Event { seq, duplicate }) => {
            Metrics::inc(if duplicate { &m.webhooks_duplicate } else { &m.webhooks_accepted });
            tracing::info!(seq, duplicate, "webhook stored");
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Ok(Appended::Quarantined { id, duplicate }) => {
            Metrics::inc(&m.webhooks_quarantined);
            tracing::warn!(id, duplicate, "signed webhook did not parse; quarantined for admins");
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Ok(other) => {
            tracing::error!(?other, "unexpected append result for a webhook");
            (StatusCode::INTERNAL_SERVER_ERROR, "unexpected storage result").into_response()
        }
        Err(e) => {
            // Not stored: a non-2xx makes Meta redeliver later.
            Metrics::inc(&m.refused_storage);
            tracing::error!(error = %e, "webhook not stored");
            (StatusCode::SERVICE_UNAVAILABLE, "could not store the webhook; Meta will retry").into_response()
        }
    }
}

/// Reads at most `limit` bytes; refuses a larger declared `Content-Length` before reading.
async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Response> {
    let too_large = || {
        (StatusCode::PAYLOAD_TOO_LARGE, format!("webhook body is larger than the bridge's limit of {limit} bytes"))
            .into_response()
    };
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    to_bytes(body, limit).await.map_err(|_| too_large())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify() {
        let body = br#"{"object":"x"}"#;
        let mut h = HeaderMap::new();
        assert_eq!(check_signature("k", &h, body), Err(SignatureError::Missing));
        h.insert("x-hub-signature-256", sign("k", body).parse().unwrap());
        assert_eq!(check_signature("k", &h, body), Ok(()));
        assert_eq!(check_signature("other", &h, body), Err(SignatureError::Invalid));
        assert_eq!(check_signature("k", &h, b"tampered"), Err(SignatureError::Invalid));
        h.insert("x-hub-signature-256", "sha256=zz".parse().unwrap());
        assert_eq!(check_signature("k", &h, body), Err(SignatureError::Invalid));
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
