//! Onboarding history (`history` webhooks) and Business App contacts (`smb_app_state_sync`).
//!
//! History is split the way Meta splits it: phase 0 (day 0–1 before onboarding), phase 1
//! (day 1–90), phase 2 (day 90–180), older messages are not shared; each phase in chunks with a
//! `chunk_order`, overall `progress` reaching 100 on the last chunk. Media messages appear as
//! `media_placeholder`; those under 14 days old get a follow-up webhook with their contents.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::ids::{Direction, IdGen};
use crate::state::DAY;

/// One message of a history thread.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct HistoryMessage {
    /// Sent by the business from the Business App (true) or by the customer (false).
    pub from_business: bool,
    #[serde(rename = "type", default = "text_type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
    /// Meta's `history_context.status`: `READ`, `DELIVERED`, `SENT`, `PLAYED`, `PENDING`, `ERROR`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

fn text_type() -> String {
    "text".into()
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct HistoryThread {
    /// The customer's number.
    pub wa_id: String,
    pub messages: Vec<HistoryMessage>,
}

/// `POST /sandbox/history`. Leave `threads` out to get a generated history (from `seed`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct HistoryRequest {
    #[serde(default)]
    pub phone_number_id: Option<String>,
    #[serde(default)]
    pub threads: Option<Vec<HistoryThread>>,
    /// Messages per chunk (default 50).
    #[serde(default)]
    pub chunk_size: Option<usize>,
    /// Simulate a business that declined to share history (error 2593109).
    #[serde(default)]
    pub declined: bool,
    #[serde(default)]
    pub seed: Option<u64>,
    /// "Onboarding time" in Unix seconds; defaults to now.
    #[serde(default)]
    pub now: Option<i64>,
}

const MEDIA: &[&str] = &["image", "video", "audio", "document", "sticker"];
const VALID_STATUS: &[&str] = &["READ", "DELIVERED", "SENT", "PLAYED", "PENDING", "ERROR"];

/// Check a caller-written history before emitting anything.
pub fn validate(threads: &[HistoryThread], now: i64) -> Result<(), String> {
    for t in threads {
        if t.wa_id.len() < 7 || t.wa_id.len() > 15 || !t.wa_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "thread wa_id must be 7-15 digits, got {:?}",
                t.wa_id
            ));
        }
        for m in &t.messages {
            if m.timestamp > now + 300 {
                return Err(format!(
                    "history message timestamp {} is in the future",
                    m.timestamp
                ));
            }
            if m.kind != "text" && !MEDIA.contains(&m.kind.as_str()) {
                return Err(format!(
                    "history message type {:?} is not supported here; use text or {}",
                    m.kind,
                    MEDIA.join(", ")
                ));
            }
            if let Some(s) = &m.status {
                if !VALID_STATUS.contains(&s.as_str()) {
                    return Err(format!(
                        "status {s:?} must be one of {}",
                        VALID_STATUS.join(", ")
                    ));
                }
            }
            if m.text.as_ref().map(|t| t.len() > 65_536).unwrap_or(false) {
                return Err("history text must be at most 65536 bytes".into());
            }
        }
    }
    Ok(())
}

/// A generated history: a handful of customers, a mix of recent and old conversations.
pub fn generate(ids: &mut IdGen, now: i64) -> Vec<HistoryThread> {
    const PEOPLE: &[&str] = &[
        "351912000101",
        "447700900102",
        "5511990000103",
        "14155550104",
        "4915100000105",
        "34600000106",
    ];
    const CUSTOMER_LINES: &[&str] = &[
        "Hi, is the blue one still in stock?",
        "Thanks!",
        "What time do you open tomorrow?",
        "Can I change my delivery address?",
        "Perfect 👍",
    ];
    const BUSINESS_LINES: &[&str] = &[
        "Yes, we have it in M and L.",
        "You're welcome!",
        "We open at 9am.",
        "Sure, send me the new address.",
        "Your order is on its way.",
    ];
    let mut threads = Vec::new();
    for (i, wa_id) in PEOPLE.iter().enumerate() {
        let age_days = [0, 3, 12, 40, 120, 200][i] as i64;
        let mut t = now - age_days * DAY - ids.range(600, 20_000) as i64;
        let mut messages = Vec::new();
        for k in 0..ids.range(2, 6) {
            let from_business = k % 2 == 1;
            let kind = if !from_business && k == 2 {
                "image"
            } else {
                "text"
            };
            let line = if from_business {
                ids.pick(BUSINESS_LINES)
            } else {
                ids.pick(CUSTOMER_LINES)
            };
            messages.push(HistoryMessage {
                from_business,
                kind: kind.into(),
                text: Some((*line).to_string()),
                timestamp: t,
                status: Some(if from_business { "READ" } else { "DELIVERED" }.into()),
                id: Some(ids.wamid(
                    wa_id,
                    if from_business {
                        Direction::Outbound
                    } else {
                        Direction::Inbound
                    },
                )),
            });
            t += ids.range(30, 900) as i64;
        }
        threads.push(HistoryThread {
            wa_id: (*wa_id).to_string(),
            messages,
        });
    }
    threads
}

fn phase_of(age: i64) -> Option<i64> {
    match age {
        a if a < DAY => Some(0),
        a if a < 90 * DAY => Some(1),
        a if a < 180 * DAY => Some(2),
        _ => None,
    }
}

/// One history webhook's contents before the envelope is put on.
#[derive(Clone, Debug, PartialEq)]
pub enum HistoryPart {
    Chunk {
        phase: i64,
        chunk_order: i64,
        progress: i64,
        threads: Vec<Value>,
    },
    /// The follow-up carrying a recent media message's contents.
    Media(Value),
}

/// Split threads into Meta's phases and chunks. Ids for messages without one come from `ids`.
pub fn plan(
    threads: &[HistoryThread],
    now: i64,
    chunk_size: usize,
    business_digits: &str,
    ids: &mut IdGen,
) -> Vec<HistoryPart> {
    let chunk_size = chunk_size.max(1);
    // (phase, wa_id, message json, media follow-up)
    let mut items: Vec<(i64, String, Value, Option<Value>)> = Vec::new();
    for t in threads {
        for m in &t.messages {
            let Some(phase) = phase_of(now - m.timestamp) else {
                continue;
            };
            let (msg, media) = history_message(t, m, now, business_digits, ids);
            items.push((phase, t.wa_id.clone(), msg, media));
        }
    }
    let total = items.len().max(1);
    let mut parts = Vec::new();
    let mut done = 0usize;
    for phase in 0..=2 {
        let in_phase: Vec<&(i64, String, Value, Option<Value>)> =
            items.iter().filter(|i| i.0 == phase).collect();
        for (n, chunk) in in_phase.chunks(chunk_size).enumerate() {
            done += chunk.len();
            let progress = if done >= items.len() {
                100
            } else {
                (done * 100 / total) as i64
            };
            parts.push(HistoryPart::Chunk {
                phase,
                chunk_order: n as i64 + 1,
                progress,
                threads: group_threads(chunk),
            });
            parts.extend(
                chunk
                    .iter()
                    .filter_map(|i| i.3.clone())
                    .map(HistoryPart::Media),
            );
        }
    }
    parts
}

fn group_threads(chunk: &[&(i64, String, Value, Option<Value>)]) -> Vec<Value> {
    let mut threads: Vec<(String, Vec<Value>)> = Vec::new();
    for (_, wa_id, msg, _) in chunk {
        match threads.iter_mut().find(|(w, _)| w == wa_id) {
            Some((_, list)) => list.push(msg.clone()),
            None => threads.push((wa_id.clone(), vec![msg.clone()])),
        }
    }
    threads
        .into_iter()
        .map(|(id, messages)| json!({"id": id, "messages": messages}))
        .collect()
}

fn history_message(
    t: &HistoryThread,
    m: &HistoryMessage,
    now: i64,
    business_digits: &str,
    ids: &mut IdGen,
) -> (Value, Option<Value>) {
    let direction = if m.from_business {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let id =
        m.id.clone()
            .unwrap_or_else(|| ids.wamid(&t.wa_id, direction));
    let from = if m.from_business {
        business_digits.to_string()
    } else {
        t.wa_id.clone()
    };
    let status = m.status.clone().unwrap_or_else(|| "READ".into());
    let mut msg = json!({"from": from, "id": id, "timestamp": m.timestamp.to_string()});
    if m.from_business {
        msg["to"] = json!(t.wa_id);
    }
    let mut media = None;
    if MEDIA.contains(&m.kind.as_str()) {
        msg["type"] = json!("media_placeholder");
        if now - m.timestamp < 14 * DAY {
            let mut full = json!({"from": from, "id": id, "timestamp": m.timestamp.to_string(), "type": m.kind});
            let mime = match m.kind.as_str() {
                "image" => "image/jpeg",
                "video" => "video/mp4",
                "audio" => "audio/ogg; codecs=opus",
                "document" => "application/pdf",
                _ => "image/webp",
            };
            let mut content =
                json!({"mime_type": mime, "sha256": ids.lower_hex(64), "id": ids.numeric_id(16)});
            if let Some(c) = &m.text {
                content["caption"] = json!(c);
            }
            full[m.kind.as_str()] = content;
            if m.from_business {
                full["to"] = json!(t.wa_id);
            }
            media = Some(full);
        }
    } else {
        msg["type"] = json!("text");
        msg["text"] = json!({"body": m.text.clone().unwrap_or_default()});
    }
    msg["history_context"] = json!({"status": status});
    (msg, media)
}

/// One contact of the Business App's address book.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct AppContact {
    pub phone_number: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    /// `add` (added or edited) or `remove`.
    #[serde(default = "add")]
    pub action: String,
}

fn add() -> String {
    "add".into()
}

/// `POST /sandbox/contacts`. Leave `contacts` out to get a generated address book.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ContactsRequest {
    #[serde(default)]
    pub phone_number_id: Option<String>,
    #[serde(default)]
    pub contacts: Option<Vec<AppContact>>,
    #[serde(default)]
    pub now: Option<i64>,
}

pub fn validate_contacts(list: &[AppContact]) -> Result<(), String> {
    for c in list {
        if c.phone_number.len() < 7
            || c.phone_number.len() > 15
            || !c.phone_number.chars().all(|ch| ch.is_ascii_digit())
        {
            return Err(format!(
                "phone_number must be 7-15 digits, got {:?}",
                c.phone_number
            ));
        }
        if c.action != "add" && c.action != "remove" {
            return Err(format!(
                "action must be \"add\" or \"remove\", got {:?}",
                c.action
            ));
        }
        if [&c.full_name, &c.first_name]
            .iter()
            .any(|n| n.as_ref().map(|s| s.chars().count() > 256).unwrap_or(false))
        {
            return Err("names must be at most 256 characters".into());
        }
    }
    Ok(())
}

/// A generated address book matching the generated history's customers.
pub fn generate_contacts() -> Vec<AppContact> {
    [
        ("351912000101", "Rita Lopes"),
        ("447700900102", "Oliver Bennett"),
        ("5511990000103", "Camila Souza"),
        ("14155550104", "Jordan Lee"),
    ]
    .iter()
    .map(|(n, full)| AppContact {
        phone_number: (*n).into(),
        full_name: Some((*full).into()),
        first_name: full.split(' ').next().map(String::from),
        action: "add".into(),
    })
    .collect()
}

/// Meta's `state_sync[]` items.
pub fn state_sync_items(list: &[AppContact], now: i64) -> Vec<Value> {
    list.iter()
        .map(|c| {
            let mut contact = json!({"phone_number": c.phone_number});
            if c.action == "add" {
                contact["full_name"] = json!(c.full_name.clone().unwrap_or_default());
                contact["first_name"] = json!(c.first_name.clone().unwrap_or_default());
            }
            json!({"type": "contact", "contact": contact, "action": c.action, "metadata": {"timestamp": now.to_string()}})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_phased_chunked_and_ends_at_100() {
        let now = 1_750_000_000;
        let mut ids = IdGen::new(5);
        let threads = generate(&mut ids, now);
        let parts = plan(&threads, now, 3, "15555550100", &mut ids);
        let chunks: Vec<(i64, i64, i64)> = parts
            .iter()
            .filter_map(|p| match p {
                HistoryPart::Chunk {
                    phase,
                    chunk_order,
                    progress,
                    ..
                } => Some((*phase, *chunk_order, *progress)),
                _ => None,
            })
            .collect();
        assert!(!chunks.is_empty());
        assert_eq!(chunks.last().unwrap().2, 100);
        assert!(chunks
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].2 <= w[1].2));
        // the 200-day-old thread is beyond 180 days: not shared
        let all = format!("{parts:?}");
        assert!(!all.contains("34600000106"));
        assert!(
            all.contains("4915100000105"),
            "the 120-day thread is phase 2"
        );
        // the 3-day-old customer image comes as a placeholder plus its media follow-up
        assert!(parts
            .iter()
            .any(|p| matches!(p, HistoryPart::Media(m) if m["type"] == "image")));
    }

    #[test]
    fn contacts_remove_omits_names() {
        let items = state_sync_items(
            &[AppContact {
                phone_number: "15551234567".into(),
                full_name: Some("A".into()),
                first_name: None,
                action: "remove".into(),
            }],
            9,
        );
        assert!(items[0]["contact"].get("full_name").is_none());
        assert_eq!(items[0]["metadata"]["timestamp"], "9");
    }
}
