//! Meta's error codes in plain words, with what to do about them.

use serde::{Deserialize, Serialize};

/// Why something failed and what the agent (or the admin) can do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorExplanation {
    pub reason: String,
    pub what_to_do: String,
}

fn ex(reason: &str, what_to_do: &str) -> ErrorExplanation {
    ErrorExplanation { reason: reason.to_string(), what_to_do: what_to_do.to_string() }
}

/// Plain language for a Meta (Graph API / webhook) error code. Unknown codes get a generic
/// explanation that names the code, so it can be looked up.
pub fn explain_meta_error(code: i64) -> ErrorExplanation {
    match code {
        131047 => ex(
            "More than 24 hours have passed since the customer last wrote",
            "Send an approved template instead; free-form replies are possible again once the customer writes",
        ),
        131042 => ex(
            "Meta could not charge the account: there is a problem with the payment method",
            "Fix the payment method in Meta Business Manager → Payment Settings, then send again",
        ),
        130429 => ex(
            "Too many messages per second for this number (throughput limit)",
            "Wait a moment; Coexist retries automatically. Sending more slowly avoids it",
        ),
        131056 => ex(
            "Too many messages to this same customer in a short time (pair rate limit)",
            "Wait a minute before sending this customer another message",
        ),
        131048 => ex(
            "Meta limited sending from this number because many messages were blocked or reported as spam",
            "Pause bulk sends and check the number's quality rating in WhatsApp Manager",
        ),
        131049 => ex(
            "Meta did not deliver this marketing message to keep the customer's experience healthy",
            "Do not resend right away; try later or send a utility template if it is about an order",
        ),
        131050 => ex(
            "The customer has stopped receiving marketing messages from businesses",
            "Do not send marketing templates to this customer",
        ),
        131026 => ex(
            "The message could not be delivered: the number may not be on WhatsApp, the customer has an old app version or has not accepted the terms, or the customer is blocked on this number",
            "Check the number and the number's block list (Admin → Blocked); reach the customer another way if it keeps failing",
        ),
        131051 => ex(
            "This message type is not supported by the Cloud API",
            "Open the WhatsApp Business App to see it, or send a supported type (text, media, template)",
        ),
        131060 => ex(
            "The message is not available yet (common for a customer's first message to a Business App number)",
            "Open the WhatsApp Business App to read it",
        ),
        131000 => ex("Something went wrong at Meta while sending", "Try again; if it keeps failing, check Meta's status page"),
        131016 => ex("WhatsApp's service is temporarily unavailable", "Try again in a few minutes"),
        131009 => ex(
            "A value in the message is not valid (for example a bad phone number, media id or button)",
            "Check the message's contents and the recipient's number, then send again",
        ),
        131008 => ex("A required part of the message is missing", "Fill in every required field and send again"),
        131005 => ex(
            "Access denied: the app lacks permission for this number",
            "An admin should check the app's permissions for this WhatsApp account in Business Manager",
        ),
        131021 => ex("The recipient is this business's own number", "Send to the customer's number instead"),
        131031 => ex(
            "This WhatsApp account is locked (policy or verification problem)",
            "An admin should check the account's status in WhatsApp Manager",
        ),
        131037 => ex(
            "The number's display name has not been approved yet",
            "An admin should get the display name approved in WhatsApp Manager",
        ),
        131052 => ex("The customer's media file could not be downloaded", "Ask the customer to send it again"),
        131053 => ex("The media file could not be uploaded (wrong type or too large)", "Check the file's type and size and try again"),
        132000 => ex(
            "The template's variables do not match: wrong number of parameters",
            "Fill in exactly the variables the template expects",
        ),
        132001 => ex(
            "The template does not exist in this language, or is not approved yet",
            "Pick an approved template and language (refresh the template list)",
        ),
        132005 => ex("The filled-in template text is too long", "Shorten the variable values"),
        132007 => ex("The template's contents break WhatsApp's policy", "Edit the template and submit it for review again"),
        132012 => ex("A template variable has the wrong format", "Check each variable's type (text, currency, date, media)"),
        132015 => ex("The template is paused because of low quality", "Use another template, or edit this one to improve it"),
        132016 => ex("The template was disabled because of low quality", "Use another template"),
        133010 => ex(
            "This phone number is not registered with the Cloud API",
            "An admin should register the number (or reconnect the WhatsApp Business App)",
        ),
        130472 => ex(
            "Meta did not send this message because the customer is part of a WhatsApp experiment",
            "Nothing to fix; reach the customer another way if needed",
        ),
        368 => ex(
            "The account is temporarily blocked for policy violations",
            "An admin should check the account's status and policy notices in WhatsApp Manager",
        ),
        190 => ex(
            "The access token has expired or was revoked",
            "An admin should create a new access token and update it on the bridge",
        ),
        4 | 80007 => ex(
            "Too many API calls for this WhatsApp account (rate limit)",
            "Wait a while; Coexist slows down and retries",
        ),
        10 | 200..=299 => ex(
            "The app does not have permission to do this",
            "An admin should grant the whatsapp_business_messaging permission to the app",
        ),
        100 => ex(
            "Meta rejected a parameter of the request (invalid or unsupported)",
            "Check the message (recipient number, template, media) and try again",
        ),
        1 | 2 => ex("Meta's API had a temporary problem", "Try again in a moment"),
        2593109 => ex(
            "The business chose not to share its WhatsApp Business App chat history",
            "Nothing to fix: only new messages will appear in Coexist",
        ),
        other => ErrorExplanation {
            reason: format!("Meta reported error {other}"),
            what_to_do: format!("Try again; if it keeps failing, look up WhatsApp Cloud API error code {other}"),
        },
    }
}

/// Plain language for why Meta's Block Users API refused to block (or unblock) a customer: the
/// same codes mean other things there (131047 is about who may be blocked, not the window).
pub fn explain_block_error(code: i64) -> ErrorExplanation {
    match code {
        131047 => ex(
            "WhatsApp lets a business block only customers who wrote to it in the last 24 hours",
            "Block them the next time they write, within 24 hours of their message",
        ),
        131021 => ex("A number cannot block itself", "Block the customer's number instead"),
        139101 => ex(
            "This number's block list is full (64,000 customers)",
            "Unblock customers who no longer need to be blocked, then try again",
        ),
        139102 | 139103 => ex("Meta's block list had a temporary problem", "Try again in a moment"),
        130429 => ex("Too many block requests at once", "Wait a moment and try again"),
        other => explain_meta_error(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_refusals_have_their_own_words_and_fall_back_to_the_general_ones() {
        assert!(explain_block_error(131047).reason.contains("only customers who wrote to it in the last 24 hours"));
        assert!(explain_block_error(139101).reason.contains("64,000"));
        assert_eq!(explain_block_error(190), explain_meta_error(190));
    }

    #[test]
    fn known_codes_have_specific_words() {
        assert_eq!(explain_meta_error(131047).reason, "More than 24 hours have passed since the customer last wrote");
        assert!(explain_meta_error(131047).what_to_do.starts_with("Send an approved template instead"));
        assert!(explain_meta_error(131042).what_to_do.contains("Payment Settings"));
        for code in [131047, 130429, 131056, 132000, 132001, 131042, 190, 131026, 131051, 131000, 131009, 100] {
            assert!(!explain_meta_error(code).reason.contains(&code.to_string()), "{code} fell through");
        }
    }

    #[test]
    fn unknown_codes_name_the_code() {
        let e = explain_meta_error(999_999);
        assert!(e.reason.contains("999999"));
        assert!(e.what_to_do.contains("999999"));
    }
}
