//! Plain words for Meta error codes, added to passed-through Graph errors.
//!
//! TODO(core): switch to `coexist_core::explain_meta_error` once it lands.

pub struct Explanation {
    pub reason: String,
    pub what_to_do: String,
}

pub fn explain(code: i64) -> Explanation {
    let (reason, what_to_do) = match code {
        131047 => ("More than 24 hours have passed since the customer last wrote, so a free-form message cannot be sent.", "Send an approved template message instead; free-form replies open again when the customer writes."),
        130429 => ("Meta's throughput limit for this number was reached.", "Wait a moment and retry; the bridge already retried with backoff."),
        131056 => ("Too many messages were sent to this customer in a short time.", "Wait a few minutes before writing to this customer again."),
        132000 => ("The template's parameter count does not match the template.", "Check the template's variables and send exactly the number it expects."),
        132001 => ("The template does not exist in this language, or is not approved.", "Sync templates and pick an approved template and language."),
        131042 => ("There is a payment problem on the WhatsApp Business Account.", "Ask the account owner to fix the payment method in Meta Business Suite."),
        190 => ("The access token of the bridge is invalid or expired.", "Ask the bridge admin to set a new COEXIST_ACCESS_TOKEN and restart the bridge."),
        131026 => ("The message could not be delivered to this number (not on WhatsApp, or an old app).", "Check the number with the customer or reach them another way."),
        131051 => ("This message type is not supported.", "Send a supported type (text, media, template, interactive)."),
        131000 => ("Something went wrong at Meta.", "Retry later; if it persists, check Meta's status page."),
        131009 => ("A parameter value is invalid.", "Check the message fields (recipient, type, and the body of that type)."),
        100 => ("The request has an invalid or missing parameter.", "Check the message JSON against Meta's Cloud API reference."),
        _ => ("Meta refused the request.", "Read Meta's error message and details above."),
    };
    Explanation { reason: reason.into(), what_to_do: what_to_do.into() }
}
