//! Meta error codes in plain words (the wording lives in coexist-core).

use crate::views::FailureView;

pub(crate) fn failure_view(code: i64, title: Option<String>, message: Option<String>, details: Option<String>) -> FailureView {
    let explanation = coexist_core::explain_meta_error(code);
    FailureView {
        code,
        meta_title: title,
        meta_message: message,
        meta_details: details,
        reason: explanation.reason,
        what_to_do: explanation.what_to_do,
    }
}
