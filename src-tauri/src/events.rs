//! Engine events to webview events. The UI listens and re-reads what changed; it never polls.
//!
//! - `inbox:changed` `{ "conversations": [ConversationKey] }` (empty = reload everything)
//! - `inbox:health`  `{ "phone_number_ids": [..] }` (numbers, templates, account state)
//! - `inbox:sync`    `{ "state": "connected" | "catching_up" | "offline" | "reconnecting", "detail": ".." }`
//! - `inbox:quick-replies` `{}` (the team's quick replies changed)
//! - `inbox:writing` `{ "conversation", "agent", "until_ms" }` (a teammate is writing to that customer)
//! - `inbox:open`    `{ "conversation" }` (the agent clicked a desktop notification about it: open it)
//!
//! One batch of the sync is one `inbox:changed` (its list and timelines), however many messages
//! it holds: a 20,000-entry batch must not become 20,000 reloads in the webview.

use coexist_core::ConversationKey;
use coexist_engine::{ConnectionState, EngineEvent};
use serde::Serialize;
use tokio::sync::broadcast::{error::RecvError, Receiver};

pub const CHANGED: &str = "inbox:changed";
pub const HEALTH: &str = "inbox:health";
pub const SYNC: &str = "inbox:sync";
pub const QUICK_REPLIES: &str = "inbox:quick-replies";
pub const WRITING: &str = "inbox:writing";
pub const OPEN: &str = "inbox:open";

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UiEvent {
    Changed {
        conversations: Vec<ConversationKey>,
    },
    Health {
        phone_number_ids: Vec<String>,
    },
    Sync {
        state: &'static str,
        detail: Option<String>,
    },
    QuickReplies {},
    Writing {
        conversation: ConversationKey,
        agent: String,
        until_ms: i64,
    },
    Open {
        conversation: ConversationKey,
    },
}

impl UiEvent {
    pub fn name(&self) -> &'static str {
        match self {
            UiEvent::Changed { .. } => CHANGED,
            UiEvent::Health { .. } => HEALTH,
            UiEvent::Sync { .. } => SYNC,
            UiEvent::QuickReplies {} => QUICK_REPLIES,
            UiEvent::Writing { .. } => WRITING,
            UiEvent::Open { .. } => OPEN,
        }
    }
}

/// What the UI must hear about an engine event (`None`: nothing it shows).
pub fn to_ui(event: &EngineEvent) -> Option<UiEvent> {
    Some(match event {
        EngineEvent::ConversationsChanged { list, timelines } => {
            let mut conversations = list.clone();
            for key in timelines {
                if !conversations.contains(key) {
                    conversations.push(key.clone());
                }
            }
            UiEvent::Changed { conversations }
        }
        // Its batch's ConversationsChanged, published first, already names the conversation.
        EngineEvent::NewInbound { .. } => return None,
        EngineEvent::SendState { conversation, .. }
        | EngineEvent::WindowClosing { conversation, .. } => UiEvent::Changed {
            conversations: vec![conversation.clone()],
        },
        EngineEvent::NumbersChanged { phone_number_ids } => UiEvent::Health {
            phone_number_ids: phone_number_ids.clone(),
        },
        EngineEvent::Connection { state } => match state {
            ConnectionState::Online => UiEvent::Sync {
                state: "connected",
                detail: None,
            },
            ConnectionState::CatchingUp { applied, total } => UiEvent::Sync {
                state: "catching_up",
                detail: Some(format!(
                    "Catching up: {} of {} updates",
                    thousands(*applied),
                    thousands(*total)
                )),
            },
            ConnectionState::Offline { reason } => UiEvent::Sync {
                state: "offline",
                detail: Some(format!("Offline: {reason}")),
            },
            ConnectionState::Reconnecting { attempt, delay_ms } => UiEvent::Sync {
                state: "reconnecting",
                detail: Some(format!(
                    "Reconnecting in {} s (attempt {attempt})",
                    delay_ms.div_ceil(1000)
                )),
            },
        },
        EngineEvent::QuickRepliesChanged => UiEvent::QuickReplies {},
        EngineEvent::TeammateWriting { conversation, agent, until_ms } => UiEvent::Writing {
            conversation: conversation.clone(),
            agent: agent.clone(),
            until_ms: *until_ms,
        },
        EngineEvent::Problems { .. } => return None,
    })
}

/// Forward until the engine goes away. A lagging receiver tells the UI to reload everything.
pub async fn forward(mut rx: Receiver<EngineEvent>, emit: impl Fn(&str, serde_json::Value)) {
    loop {
        match rx.recv().await {
            Ok(event) => {
                if let Some(ui) = to_ui(&event) {
                    emit(ui.name(), serde_json::to_value(&ui).unwrap_or_default());
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "UI fell behind the engine; reloading");
                emit(CHANGED, serde_json::json!({ "conversations": [] }));
                emit(HEALTH, serde_json::json!({ "phone_number_ids": [] }));
                emit(QUICK_REPLIES, serde_json::json!({}));
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use coexist_core::ContactKey;
    use std::sync::{Arc, Mutex};

    fn key(c: &str) -> ConversationKey {
        ConversationKey {
            phone_number_id: "1".into(),
            contact: ContactKey(c.into()),
        }
    }

    #[test]
    fn changed_lists_and_timelines_are_merged_without_duplicates() {
        let e = EngineEvent::ConversationsChanged {
            list: vec![key("a"), key("b")],
            timelines: vec![key("b"), key("c")],
        };
        assert_eq!(
            to_ui(&e),
            Some(UiEvent::Changed {
                conversations: vec![key("a"), key("b"), key("c")]
            })
        );
    }

    #[test]
    fn a_teammate_writing_is_passed_on_with_who_and_until_when() {
        let e = EngineEvent::TeammateWriting { conversation: key("a"), agent: "ben".into(), until_ms: 9 };
        let ui = to_ui(&e).expect("the UI hears of it");
        assert_eq!(ui.name(), WRITING);
        assert_eq!(serde_json::to_value(&ui).unwrap()["agent"], "ben");
        assert_eq!(serde_json::to_value(&ui).unwrap()["until_ms"], 9);
    }

    #[test]
    fn changed_quick_replies_reload_the_composer_list() {
        let ui = to_ui(&EngineEvent::QuickRepliesChanged).expect("the UI hears of it");
        assert_eq!(ui.name(), QUICK_REPLIES);
        assert_eq!(serde_json::to_value(&ui).unwrap(), serde_json::json!({}));
    }

    #[test]
    fn a_new_message_adds_no_reload_of_its_own() {
        let e = EngineEvent::NewInbound {
            conversation: key("a"),
            wamid: "wamid.1".into(),
            sender: "Ana".into(),
            preview: "hi".into(),
        };
        assert_eq!(to_ui(&e), None);
    }

    #[test]
    fn connection_states_become_plain_words() {
        let e = EngineEvent::Connection {
            state: ConnectionState::Reconnecting {
                attempt: 3,
                delay_ms: 1500,
            },
        };
        let ui = to_ui(&e).unwrap();
        assert_eq!(ui.name(), SYNC);
        assert_eq!(
            serde_json::to_value(&ui).unwrap(),
            serde_json::json!({"state": "reconnecting", "detail": "Reconnecting in 2 s (attempt 3)"})
        );
    }

    #[test]
    fn catching_up_says_how_far_in_words() {
        let e = EngineEvent::Connection {
            state: ConnectionState::CatchingUp {
                applied: 12_000,
                total: 1_250_000,
            },
        };
        assert_eq!(
            serde_json::to_value(to_ui(&e).unwrap()).unwrap(),
            serde_json::json!({"state": "catching_up", "detail": "Catching up: 12,000 of 1,250,000 updates"})
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
    }

    #[tokio::test]
    async fn forward_emits_named_events_and_reloads_after_lag() {
        let (tx, rx) = tokio::sync::broadcast::channel(2);
        for c in ["a", "b", "c"] {
            tx.send(EngineEvent::WindowClosing {
                conversation: key(c),
                expires_at: 1,
            })
            .unwrap();
        }
        drop(tx);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        forward(rx, move |name, payload| {
            s.lock().unwrap().push((name.to_string(), payload))
        })
        .await;
        let seen = seen.lock().unwrap();
        let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        // The first event was lost to lag: a full reload is asked for, then the two kept ones.
        assert_eq!(names, [CHANGED, HEALTH, QUICK_REPLIES, CHANGED, CHANGED]);
        assert_eq!(seen[0].1, serde_json::json!({"conversations": []}));
        assert_eq!(seen[3].1["conversations"][0]["contact"], "b");
    }
}
