//! Meta's error shapes: the Graph API's synchronous error body and the `errors[]` entries that
//! arrive later on a `failed` status webhook.
//!
//! Codes, titles and HTTP statuses follow Meta's Cloud API error-code reference, so a client that
//! handles the sandbox's errors handles Meta's.

use axum::http::StatusCode;
use serde_json::{json, Value};

/// Where Meta documents its error codes; sent as `href` on webhook errors.
pub const ERROR_CODES_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

/// A synchronous Graph API error (`{"error":{...}}`).
#[derive(Clone, Debug, PartialEq)]
pub struct GraphError {
    pub http: StatusCode,
    pub code: i64,
    pub subcode: Option<i64>,
    /// Meta's `type`: `OAuthException` for almost everything, `GraphMethodException` for unknown ids.
    pub kind: &'static str,
    pub message: String,
    pub details: Option<String>,
}

impl GraphError {
    fn new(
        http: StatusCode,
        code: i64,
        subcode: Option<i64>,
        message: impl Into<String>,
        details: Option<String>,
    ) -> Self {
        GraphError {
            http,
            code,
            subcode,
            kind: "OAuthException",
            message: message.into(),
            details,
        }
    }

    /// 190: the bearer token is missing, malformed or not the one this sandbox was started with.
    pub fn invalid_token() -> Self {
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
            None,
        )
    }

    /// 100/33: the phone number id or WABA id in the path is not one of ours.
    pub fn unknown_object(id: &str, method: &str) -> Self {
        let mut e = GraphError::new(
            StatusCode::BAD_REQUEST,
            100,
            Some(33),
            format!(
                "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
            ),
            None,
        );
        e.kind = "GraphMethodException";
        e
    }

    /// 100: a parameter is malformed or unsupported.
    pub fn invalid_parameter(details: impl Into<String>) -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) Invalid parameter",
            Some(details.into()),
        )
    }

    /// 131008: a required parameter is missing.
    pub fn missing_parameter(details: impl Into<String>) -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            131008,
            None,
            "(#131008) Required parameter is missing",
            Some(details.into()),
        )
    }

    /// 131009: a parameter has a value Meta does not accept.
    pub fn invalid_value(details: impl Into<String>) -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            131009,
            None,
            "(#131009) Parameter value is not valid",
            Some(details.into()),
        )
    }

    /// 130429: the number's throughput (messages per second) is exhausted.
    pub fn throughput() -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            130429,
            Some(2494055),
            "(#130429) Rate limit hit",
            Some("Cloud API message throughput has been reached.".into()),
        )
    }

    /// 131056: too many messages from this number to the same customer in a short time.
    pub fn pair_rate() -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            131056,
            Some(2494071),
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            Some("Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.".into()),
        )
    }

    /// 132001: no approved template with this name in this language.
    pub fn template_missing(name: &str, language: &str) -> Self {
        GraphError::new(
            StatusCode::NOT_FOUND,
            132001,
            Some(2494073),
            "(#132001) Template name does not exist in the translation",
            Some(format!(
                "template name ({name}) does not exist in {language}"
            )),
        )
    }

    /// 132000: a component got more or fewer parameters than the template declares.
    pub fn param_count(component: &str, got: usize, expected: usize) -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            132000,
            Some(2494002),
            "(#132000) Number of parameters does not match the expected number of params",
            Some(format!("{component}: number of localizable_params ({got}) does not match the expected number of params ({expected})")),
        )
    }

    /// 132012: a parameter has the wrong kind (e.g. text where the header expects an image).
    pub fn param_format(details: impl Into<String>) -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            132012,
            None,
            "(#132012) Parameter format does not match format in the created template",
            Some(details.into()),
        )
    }

    /// 132015: the template is paused for low quality.
    pub fn template_paused(name: &str) -> Self {
        GraphError::new(StatusCode::BAD_REQUEST, 132015, None, "(#132015) Template is Paused", Some(format!("Template {name} is paused due to low quality so it cannot be sent in a template message.")))
    }

    /// 132016: the template is disabled.
    pub fn template_disabled(name: &str) -> Self {
        GraphError::new(StatusCode::BAD_REQUEST, 132016, None, "(#132016) Template is Disabled", Some(format!("Template {name} has been paused too many times due to low quality and is now permanently disabled.")))
    }

    /// 133010: the number is not registered on Cloud API (e.g. after offboarding).
    pub fn not_registered() -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            133010,
            None,
            "(#133010) Account not registered",
            Some("Phone number is not registered on the Whatsapp Business Platform.".into()),
        )
    }

    /// 131026, synchronously: the recipient is on this number's block list. Meta documents only
    /// that "attempts to message a blocked user return an error", not which code. 131026 ("Message
    /// undeliverable") is Meta's code for a recipient the message cannot reach, the nearest
    /// documented meaning, so a client's existing handling (do not retry, tell the agent) fits.
    /// The answer is synchronous (HTTP 400) because the block is known when the request arrives:
    /// nothing is sent, so no `failed` status follows.
    pub fn recipient_blocked(wa_id: &str) -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            131026,
            None,
            "(#131026) Message undeliverable",
            Some(format!("The recipient {wa_id} is on this phone number's block list; unblock them (DELETE /{{phone_number_id}}/block_users) before messaging them.")),
        )
    }

    /// 130429: a `block_users` request names more than `max` users; Meta refuses all of it.
    pub fn too_many_block_users(got: usize, max: usize) -> Self {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            130429,
            None,
            "(#130429) Rate limit hit",
            Some(format!(
                "A block_users request can name at most {max} users; this one names {got}."
            )),
        )
    }

    /// The body Meta sends: `{"error":{message,type,code,error_subcode?,error_data?,fbtrace_id}}`.
    pub fn body(&self, fbtrace_id: &str) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": fbtrace_id,
        });
        if let Some(sub) = self.subcode {
            error["error_subcode"] = json!(sub);
        }
        if let Some(details) = &self.details {
            error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
        }
        json!({ "error": error })
    }
}

/// An error reported asynchronously on a `failed` status (`statuses[].errors[]`).
#[derive(Clone, Debug, PartialEq)]
pub struct StatusError {
    pub code: i64,
    pub title: &'static str,
    pub details: &'static str,
}

impl StatusError {
    /// 131047: a free-form message outside the customer's 24-hour window.
    pub const RE_ENGAGEMENT: StatusError = StatusError {
        code: 131047,
        title: "Re-engagement message",
        details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    };

    /// 131042: a template while the account's payment method is invalid.
    pub const PAYMENT: StatusError = StatusError {
        code: 131042,
        title: "Business eligibility payment issue",
        details: "Message failed to send because there were one or more errors related to your payment method.",
    };

    /// 131026: the recipient cannot receive the message (not on WhatsApp, old app, blocked ...).
    pub const UNDELIVERABLE: StatusError = StatusError {
        code: 131026,
        title: "Message undeliverable",
        details: "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number, the recipient has not accepted the new Terms of Service, or the recipient is using an old WhatsApp version.",
    };

    /// The asynchronous error for a code the sandbox produces.
    pub fn for_code(code: i64) -> Option<StatusError> {
        [
            StatusError::RE_ENGAGEMENT,
            StatusError::PAYMENT,
            StatusError::UNDELIVERABLE,
        ]
        .into_iter()
        .find(|e| e.code == code)
    }

    /// Meta's webhook shape for one error.
    pub fn to_json(&self) -> Value {
        json!({
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
            "href": ERROR_CODES_HREF,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_error_body_has_metas_fields() {
        let b = GraphError::pair_rate().body("AbC");
        assert_eq!(b["error"]["code"], 131056);
        assert_eq!(b["error"]["type"], "OAuthException");
        assert_eq!(b["error"]["error_data"]["messaging_product"], "whatsapp");
        assert_eq!(b["error"]["fbtrace_id"], "AbC");
        assert!(b["error"]["error_subcode"].is_i64());
    }

    #[test]
    fn token_error_is_401_without_error_data() {
        let e = GraphError::invalid_token();
        assert_eq!(e.http, StatusCode::UNAUTHORIZED);
        assert!(e.body("x")["error"].get("error_data").is_none());
    }
}
