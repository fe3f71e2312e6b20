//! Errors of talking to the bridge, classified by what the caller should do next.

use std::time::Duration;

use serde_json::Value;

/// Any bridge call other than a send.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ClientError {
    /// The bridge cannot be reached (or answered 5xx): keep working offline and retry.
    #[error("{0}")]
    Offline(String),
    /// The token was refused: ask an admin for a new one (`coexist-bridge add-user`).
    #[error("the bridge refused this token ({0}); ask an admin for a new token")]
    Auth(String),
    #[error("the bridge answered {status}: {message}")]
    Http { status: u16, message: String },
    #[error("{0}")]
    Decode(String),
}

impl ClientError {
    /// Worth retrying later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, ClientError::Offline(_))
    }
}

/// Meta codes that mean "too many messages, try again later" (throughput / pair rate limit).
pub const THROTTLE_CODES: [i64; 2] = [130429, 131056];

/// Why a send did not go out.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum SendError {
    /// Meta refused the message. `reason`/`what_to_do` are plain words for the agent.
    #[error("WhatsApp refused the message ({code}: {message}). {reason} {what_to_do}")]
    Meta { code: i64, message: String, reason: String, what_to_do: String },
    /// Rate limited (Meta 130429 / 131056, or the bridge's own limiter): retry later, same key.
    #[error("sending is throttled ({code}: {message}); it will be retried")]
    Throttled { code: i64, message: String, retry_after: Option<Duration> },
    /// The bridge (or Meta behind it) cannot be reached right now: keep it queued.
    #[error("the bridge is unreachable: {0}")]
    Offline(String),
    #[error("the bridge refused this token ({0}); ask an admin for a new token")]
    Auth(String),
    /// The bridge refused the request itself (bad input): retrying the same will not help.
    #[error("the bridge refused the message: {0}")]
    Rejected(String),
}

impl SendError {
    /// Retrying the same item (same key) later may succeed without changes.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Throttled { .. } | SendError::Offline(_))
    }

    /// Classify a non-2xx answer from `POST /v1/numbers/{id}/messages`.
    pub fn from_answer(status: u16, body: &[u8]) -> SendError {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let err = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
        let code = err.get("code").and_then(Value::as_i64);
        let message = error_message(body);
        let retry_after = err.get("retry_after_secs").and_then(Value::as_u64).map(Duration::from_secs);
        match code {
            Some(code) if THROTTLE_CODES.contains(&code) => SendError::Throttled { code, message, retry_after },
            Some(code) if status != 401 && status != 403 => {
                let explained = coexist_core::explain_meta_error(code);
                // The bridge puts `reason`/`what_to_do` beside Meta's `error` object.
                let text = |k: &str, d: String| {
                    v.get(k).or_else(|| err.get(k)).and_then(Value::as_str).map(str::to_string).unwrap_or(d)
                };
                SendError::Meta {
                    code,
                    message,
                    reason: text("reason", explained.reason),
                    what_to_do: text("what_to_do", explained.what_to_do),
                }
            }
            _ => match status {
                401 | 403 => SendError::Auth(message),
                429 => SendError::Throttled { code: 0, message, retry_after },
                // 409: the bridge's storage conflicted; 5xx/504: Meta or the bridge unreachable.
                // Nothing is known to be sent: retry later with the same key.
                409 | 500..=599 => SendError::Offline(format!("bridge answered {status}: {message}")),
                _ => SendError::Rejected(format!("{status}: {message}")),
            },
        }
    }
}

/// The human-readable message in an error body (`{"error":{"message"}}`, `{"message"}`, or the text).
pub(crate) fn error_message(body: &[u8]) -> String {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return String::from_utf8_lossy(body).chars().take(500).collect(),
    };
    let err = v.get("error").unwrap_or(&v);
    if let Some(s) = err.as_str() {
        return s.to_string();
    }
    err.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_codes_are_retryable() {
        let e = SendError::from_answer(400, br#"{"error":{"code":131056,"message":"pair rate limit"}}"#);
        assert!(matches!(e, SendError::Throttled { code: 131056, .. }));
        assert!(e.is_retryable());
        let e = SendError::from_answer(429, br#"{"error":{"code":130429,"message":"cap"}}"#);
        assert!(matches!(e, SendError::Throttled { code: 130429, .. }));
    }

    #[test]
    fn meta_error_keeps_the_bridges_words() {
        let e = SendError::from_answer(
            400,
            br#"{"error":{"code":131047,"message":"Re-engagement message"},"reason":"window closed","what_to_do":"use a template"}"#,
        );
        match e {
            SendError::Meta { code, reason, what_to_do, .. } => {
                assert_eq!(code, 131047);
                assert_eq!(reason, "window closed");
                assert_eq!(what_to_do, "use a template");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn auth_offline_and_rejected() {
        assert!(matches!(SendError::from_answer(401, b"{}"), SendError::Auth(_)));
        assert!(matches!(SendError::from_answer(503, b"down"), SendError::Offline(_)));
        let e = SendError::from_answer(400, br#"{"error":"missing to"}"#);
        assert!(matches!(&e, SendError::Rejected(m) if m.contains("missing to")));
        assert!(!e.is_retryable());
    }
}
