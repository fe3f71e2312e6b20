//! Meta's Block Users API (`/{version}/{phone_number_id}/block_users`): block (`POST`), unblock
//! (`DELETE`) and list (`GET`) the users of one number.
//!
//! Meta's limits, with Meta's per-user codes: a user can only be blocked if they messaged the
//! business in the last 24 hours (131047, also for a number that is not a WhatsApp user); the
//! business cannot block its own number (131021); the list holds at most 64,000 users (139101);
//! a request names at most 1,000 users (130429 for the whole request). Unblocking has no 24-hour
//! rule. Errors are per user: a request where some users failed is HTTP 400 with error 139100 and
//! still lists the users that succeeded, because those blocks did happen.
//!
//! A block works both ways: sends to the user are refused (see `GraphError::recipient_blocked`)
//! and the user's messages never reach the business (the control routes answer 409, scenarios
//! skip them).

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{now, Sandbox};
use crate::error::GraphError;
use crate::paging::Cursors;
use crate::inbound::CustomerMessage;
use crate::send::{check_envelope, normalize_phone, required};
use crate::state::{NumberState, State, DAY};

/// Most users one request may name (Meta's documented limit).
const MAX_USERS_PER_REQUEST: usize = 1_000;
/// Most users one number's block list holds (Meta's documented limit).
const BLOCKLIST_LIMIT: usize = 64_000;

/// One per-user failure, as Meta lists it in `failed_users[].errors[]`.
#[derive(Debug, PartialEq)]
struct UserError {
    code: i64,
    message: &'static str,
    details: &'static str,
}

/// Meta's answer both for a user who has not written in 24 hours and for a number that is not a
/// WhatsApp user: Meta does not reveal which.
const NOT_RECENT: UserError = UserError {
    code: 131047,
    message: "Re-engagement required",
    details: "User has not messaged in the last 24 hours",
};

const SELF_BLOCK: UserError = UserError {
    code: 131021,
    message: "Self block",
    details: "Failed to block self phone number",
};

const LIST_FULL: UserError = UserError {
    code: 139101,
    message: "Blocklist limit reached",
    details: "The block list already holds 64,000 users; unblock some before blocking more",
};

/// Unblocking has no 24-hour rule, so "not a WhatsApp user" is no answer for a malformed number
/// there; the sandbox uses Meta's usual code for an invalid parameter value.
const NOT_A_NUMBER: UserError = UserError {
    code: 131009,
    message: "Parameter value is not valid",
    details: "user must be a WhatsApp phone number: 7 to 15 digits, country code first",
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Block,
    Unblock,
}

impl Action {
    fn method(self) -> &'static str {
        match self {
            Action::Block => "post",
            Action::Unblock => "delete",
        }
    }
}

/// One `block_users[]` entry: the `user` as sent and the wa_id it names (`None`: not a number).
struct Target {
    input: String,
    wa_id: Option<String>,
}

impl Target {
    fn done_json(&self) -> Value {
        json!({"input": self.input, "wa_id": self.wa_id})
    }

    fn failed_json(&self, e: &UserError) -> Value {
        let mut v = json!({"input": self.input, "errors": [{
            "message": e.message,
            "code": e.code,
            "error_data": {"details": e.details},
        }]});
        if let Some(w) = &self.wa_id {
            v["wa_id"] = json!(w);
        }
        v
    }
}

impl Sandbox {
    /// `POST /{version}/{phone_number_id}/block_users`: 200 when every user was blocked, 400 with
    /// error 139100 when some were not (the body lists both).
    pub fn block_users(
        &self,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<(StatusCode, Value), GraphError> {
        self.change_blocklist(phone_number_id, body, Action::Block)
    }

    /// `DELETE /{version}/{phone_number_id}/block_users`: the same body; unblocking someone who
    /// is not blocked succeeds, and no 24-hour rule applies.
    pub fn unblock_users(
        &self,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<(StatusCode, Value), GraphError> {
        self.change_blocklist(phone_number_id, body, Action::Unblock)
    }

    /// `GET /{version}/{phone_number_id}/block_users?limit=&after=&before=`: one page of the
    /// block list, oldest block first; `base_url` is the route's URL for the `next`/`previous`
    /// links.
    pub fn blocked_users(
        &self,
        phone_number_id: &str,
        query: &HashMap<String, String>,
        base_url: &str,
    ) -> Result<Value, GraphError> {
        let st = self.state();
        st.number(phone_number_id)
            .ok_or_else(|| GraphError::unknown_object(phone_number_id, "get"))?;
        let users = st
            .blocklists
            .get(phone_number_id)
            .map(|l| l.users())
            .unwrap_or_default();
        page(users, query, base_url)
    }

    /// Is `wa_id` on this number's block list?
    pub fn is_blocked(&self, phone_number_id: &str, wa_id: &str) -> bool {
        self.state()
            .blocklists
            .get(phone_number_id)
            .is_some_and(|l| l.contains(wa_id))
    }

    /// Would this customer message be swallowed by a block? Scenarios skip such messages.
    pub(crate) fn blocks_customer(&self, m: &CustomerMessage) -> bool {
        let st = self.state();
        st.number_or_default(m.phone_number_id.as_deref())
            .and_then(|n| st.blocklists.get(&n.spec.phone_number_id))
            .is_some_and(|l| l.contains(&m.from))
    }

    fn change_blocklist(
        &self,
        phone_number_id: &str,
        body: &Value,
        action: Action,
    ) -> Result<(StatusCode, Value), GraphError> {
        let number = self
            .state()
            .number(phone_number_id)
            .cloned()
            .ok_or_else(|| GraphError::unknown_object(phone_number_id, action.method()))?;
        let targets: Vec<Target> = parse_users(body)?
            .into_iter()
            .map(|input| self.target(phone_number_id, input))
            .collect();
        let results: Vec<Result<(), &UserError>> = {
            let mut st = self.state();
            let at = now();
            targets
                .iter()
                .map(|t| apply(&mut st, &number, t, action, at))
                .collect()
        };
        Ok(self.answer(action, &targets, &results))
    }

    /// The wa_id a `user` names: digits as for a send, then Meta's own id for a known customer
    /// (the Brazilian ninth digit, see `resolve_wa_id`).
    fn target(&self, phone_number_id: &str, input: String) -> Target {
        let wa_id = normalize_phone(&input)
            .ok()
            .map(|digits| self.resolve_wa_id(phone_number_id, &digits));
        Target { input, wa_id }
    }

    /// Meta's body: `added_users` / `removed_users`, plus `failed_users` and error 139100 (HTTP
    /// 400) when any user failed.
    fn answer(
        &self,
        action: Action,
        targets: &[Target],
        results: &[Result<(), &UserError>],
    ) -> (StatusCode, Value) {
        let (done_key, verb) = match action {
            Action::Block => ("added_users", "block"),
            Action::Unblock => ("removed_users", "unblock"),
        };
        let (mut done, mut failed) = (Vec::new(), Vec::new());
        for (t, r) in targets.iter().zip(results) {
            match r {
                Ok(()) => done.push(t.done_json()),
                Err(e) => failed.push(t.failed_json(e)),
            }
        }
        let mut list = json!({ done_key: done });
        if failed.is_empty() {
            return (
                StatusCode::OK,
                json!({"messaging_product": "whatsapp", "block_users": list}),
            );
        }
        list["failed_users"] = json!(failed);
        let error = json!({
            "message": "(#139100) Failed to block/unblock users",
            "type": "OAuthException",
            "code": 139100,
            "error_data": {"details": format!("Failed to {verb} some users, see the block_users response list for details")},
            "fbtrace_id": self.fbtrace_id(),
        });
        (
            StatusCode::BAD_REQUEST,
            json!({"messaging_product": "whatsapp", "block_users": list, "error": error}),
        )
    }
}

/// The `user` of every `block_users[]` entry, after Meta's whole-request checks.
fn parse_users(body: &Value) -> Result<Vec<String>, GraphError> {
    check_envelope(body)?;
    let items = body
        .get("block_users")
        .filter(|v| !v.is_null())
        .ok_or_else(|| required("block_users"))?
        .as_array()
        .ok_or_else(|| {
            GraphError::invalid_parameter(
                "Param block_users must be an array of {\"user\": \"<phone number>\"} objects.",
            )
        })?;
    if items.len() > MAX_USERS_PER_REQUEST {
        return Err(GraphError::too_many_block_users(
            items.len(),
            MAX_USERS_PER_REQUEST,
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.get("user") {
            Some(Value::String(user)) => Ok(user.clone()),
            None | Some(Value::Null) => Err(required(&format!("block_users[{i}].user"))),
            Some(_) => Err(GraphError::invalid_parameter(format!(
                "Param block_users[{i}].user must be a string (a phone number or wa_id)."
            ))),
        })
        .collect()
}

/// Block or unblock one user, checking Meta's per-user rules in Meta's order of concern: the
/// business's own number, an existing block (idempotent, whenever the user last wrote), the
/// 24-hour rule, then the list's size.
fn apply(
    st: &mut State,
    number: &NumberState,
    t: &Target,
    action: Action,
    now: i64,
) -> Result<(), &'static UserError> {
    let pnid = &number.spec.phone_number_id;
    let Some(wa_id) = &t.wa_id else {
        return Err(match action {
            Action::Block => &NOT_RECENT,
            Action::Unblock => &NOT_A_NUMBER,
        });
    };
    if action == Action::Unblock {
        if let Some(list) = st.blocklists.get_mut(pnid) {
            list.remove(wa_id);
        }
        return Ok(());
    }
    if *wa_id == number.spec.display_digits() {
        return Err(&SELF_BLOCK);
    }
    if st.blocklists.get(pnid).is_some_and(|l| l.contains(wa_id)) {
        return Ok(());
    }
    let wrote_recently = st
        .customer(pnid, wa_id)
        .and_then(|c| c.last_inbound_at)
        .is_some_and(|at| now - at < DAY);
    if !wrote_recently {
        return Err(&NOT_RECENT);
    }
    let list = st.blocklists.entry(pnid.clone()).or_default();
    if list.len() >= BLOCKLIST_LIMIT {
        return Err(&LIST_FULL);
    }
    list.insert(wa_id);
    Ok(())
}

/// The block list's cursors (`blk`: a template listing's are refused here).
const BLOCKED: Cursors = Cursors("blk");

/// One page in Meta's shape: `data[]` of `{messaging_product, wa_id}`, `paging.cursors` and the
/// `next`/`previous` links when there is more.
fn page(users: &[String], q: &HashMap<String, String>, base: &str) -> Result<Value, GraphError> {
    let page = BLOCKED.page(q, users.len())?;
    if page.start == page.end {
        return Ok(json!({"data": []}));
    }
    let data: Vec<Value> = users[page.start..page.end]
        .iter()
        .map(|w| json!({"messaging_product": "whatsapp", "wa_id": w}))
        .collect();
    Ok(json!({"data": data, "paging": BLOCKED.paging(&page, users.len(), base, "")}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SandboxConfig;
    use crate::emitter::{Backoff, Emitter};
    use std::time::Duration;

    fn sandbox() -> Sandbox {
        let backoff = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(10),
        };
        let (emitter, _task) = Emitter::start(None, "secret".into(), backoff);
        Sandbox::new(SandboxConfig::new("secret", "token"), emitter)
    }

    fn pnid(sb: &Sandbox) -> String {
        sb.config.numbers[0].phone_number_id.clone()
    }

    fn body(users: &[&str]) -> Value {
        let list: Vec<Value> = users.iter().map(|u| json!({ "user": u })).collect();
        json!({"messaging_product": "whatsapp", "block_users": list})
    }

    /// A customer of the default number who last wrote `ago` seconds before now.
    fn wrote(sb: &Sandbox, wa_id: &str, ago: i64) {
        sb.state()
            .customer_mut(&pnid(sb), wa_id)
            .record_inbound(now() - ago, false);
    }

    #[tokio::test]
    async fn the_list_holds_at_most_64000_users() {
        let sb = sandbox();
        let id = pnid(&sb);
        {
            let mut st = sb.state();
            let list = st.blocklists.entry(id.clone()).or_default();
            for i in 0..BLOCKLIST_LIMIT {
                list.insert(&format!("4470{i:08}"));
            }
        }
        wrote(&sb, "15551230001", 60);
        let (status, v) = sb.block_users(&id, &body(&["15551230001"])).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let failed = &v["block_users"]["failed_users"][0];
        assert_eq!(failed["errors"][0]["code"], 139101);
        assert_eq!(failed["errors"][0]["message"], "Blocklist limit reached");
        assert_eq!(v["error"]["code"], 139100);

        let (status, _) = sb.unblock_users(&id, &body(&["447000000000"])).unwrap();
        assert_eq!(status, StatusCode::OK);
        let (status, v) = sb.block_users(&id, &body(&["15551230001"])).unwrap();
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(sb.state().blocklists[&id].len(), BLOCKLIST_LIMIT);
        assert!(sb.is_blocked(&id, "15551230001"));
    }

    #[tokio::test]
    async fn unblocking_ignores_the_24_hour_rule_and_blocking_again_is_idempotent() {
        let sb = sandbox();
        let id = pnid(&sb);
        wrote(&sb, "15551230002", 3 * DAY);
        sb.state()
            .blocklists
            .entry(id.clone())
            .or_default()
            .insert("15551230002");
        let (status, v) = sb.block_users(&id, &body(&["15551230002"])).unwrap();
        assert_eq!(status, StatusCode::OK, "already blocked: {v}");
        let (status, v) = sb.unblock_users(&id, &body(&["+1 555 123 0002"])).unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            v["block_users"]["removed_users"],
            json!([{"input": "+1 555 123 0002", "wa_id": "15551230002"}])
        );
        assert!(!sb.is_blocked(&id, "15551230002"));
        let (status, v) = sb.block_users(&id, &body(&["15551230002"])).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "3 days since they wrote");
        assert_eq!(
            v["block_users"]["failed_users"][0]["errors"][0]["code"],
            131047
        );
    }

    #[test]
    fn pages_follow_the_cursors() {
        let users: Vec<String> = (0..5).map(|i| format!("1555000000{i}")).collect();
        let q = |pairs: &[(&str, String)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        let first = page(&users, &q(&[("limit", "2".into())]), "B").unwrap();
        assert_eq!(first["data"][1]["wa_id"], "15550000001");
        let after = first["paging"]["cursors"]["after"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(first["paging"]["next"], format!("B?limit=2&after={after}"));
        let second = page(&users, &q(&[("limit", "2".into()), ("after", after)]), "B").unwrap();
        assert_eq!(second["data"][0]["wa_id"], "15550000002");
        let before = second["paging"]["cursors"]["before"]
            .as_str()
            .unwrap()
            .to_string();
        let back = page(
            &users,
            &q(&[("limit", "2".into()), ("before", before)]),
            "B",
        )
        .unwrap();
        assert_eq!(back["data"], first["data"]);
        assert!(page(&users, &q(&[("after", "nope".into())]), "B").is_err());
        assert!(page(&users, &q(&[("limit", "0".into())]), "B").is_err());
        assert_eq!(page(&[], &q(&[]), "B").unwrap(), json!({"data": []}));
    }
}
