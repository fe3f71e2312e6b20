//! Deterministic, seedable scripts of things happening on the phone side: customers writing in,
//! the Business App replying, onboarding history and contacts. A scenario is planned as a list of
//! steps from `(seed, now)` alone, then played against the sandbox; the same seed and `now` on a
//! fresh sandbox produce byte-identical webhooks.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::history::{ContactsRequest, HistoryRequest};
use crate::ids::{Direction, IdGen};
use crate::inbound::CustomerMessage;
use crate::sandbox::{now, AppEditRequest, AppMessageRequest, ControlError, Sandbox};

/// The scenarios `run_scenario` knows.
pub const SCENARIOS: &[&str] = &["busy-shop", "onboarding", "window-expires", "demo"];

/// One thing that happens.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Customer(CustomerMessage),
    /// Several customers in one webhook (Meta batches under load).
    Batch(Vec<CustomerMessage>),
    /// The webhook carrying this wamid is delivered a second time (at-least-once delivery).
    Redeliver(String),
    App(AppMessageRequest),
    AppEdit(AppEditRequest),
    AppRevoke(AppEditRequest),
    History(HistoryRequest),
    Contacts(ContactsRequest),
    /// An `account_update` event at a given time.
    Account(String, i64),
    /// Wait, scaled by the run's `pace` (0 = no waiting).
    Pause(Duration),
}

/// `POST /sandbox/scenario`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct ScenarioRequest {
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    /// Pin "now" (Unix seconds) to make timestamps reproducible too.
    #[serde(default)]
    pub now: Option<i64>,
    /// Multiplies every pause: 1.0 real time, 0 none. Default 1.0.
    #[serde(default)]
    pub pace: Option<f64>,
    /// Answer only when the scenario has finished (default true). False starts it in the background.
    #[serde(default)]
    pub wait: Option<bool>,
}

/// What a run did.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ScenarioReport {
    pub name: String,
    pub seed: u64,
    pub steps: usize,
    /// Wamids of the messages the run produced, in order.
    pub wamids: Vec<String>,
    /// Wamids of customer messages not delivered because the number has blocked the customer
    /// (Meta drops them silently; a scenario goes on without them).
    #[serde(default)]
    pub skipped: Vec<String>,
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloe", "Diego", "Emma", "Farah", "Gustavo", "Hana", "Ivan", "Julia", "Kofi",
    "Lea", "Mateo", "Nora",
];
const LAST: &[&str] = &[
    "Silva", "Okafor", "Martin", "Rossi", "Kowalski", "Haddad", "Nguyen", "Schmidt", "Costa",
];
const PREFIXES: &[&str] = &[
    "1415555",
    "447700900",
    "35191200",
    "551199000",
    "4915100",
    "3460000",
];
const OPENERS: &[&str] = &[
    "Hi! Do you have the linen shirt in M?",
    "Hello, where is my order?",
    "Is the shop open on Sunday?",
    "Can I return an item I bought last week?",
    "Do you ship to Portugal?",
    "Olá! Vocês têm esse tênis no 39?",
    "¿Tienen descuento para estudiantes?",
    "My parcel says delivered but I don't have it 😕",
];
const FOLLOW_UPS: &[&str] = &[
    "Thanks!",
    "Great, I'll take it",
    "How much is shipping?",
    "Perfect 🙏",
    "Can you send a photo?",
    "ok",
];
const APP_REPLIES: &[&str] = &[
    "Yes, we have it! Want me to reserve one?",
    "Let me check and get back to you.",
    "We're open 10–4 on Sundays.",
    "Sure, just bring the receipt.",
    "Shipping is free over $50.",
];

/// A seeded customer: number and profile name.
fn person(ids: &mut IdGen) -> (String, String) {
    let prefix = ids.pick(PREFIXES).to_string();
    let digits: String = (0..4)
        .map(|_| char::from(b'0' + ids.range(0, 10) as u8))
        .collect();
    (
        format!("{prefix}{digits}"),
        format!("{} {}", ids.pick(FIRST), ids.pick(LAST)),
    )
}

fn customer(
    ids: &mut IdGen,
    from: &str,
    name: &str,
    kind: &str,
    text: Option<&str>,
    ts: i64,
) -> CustomerMessage {
    CustomerMessage {
        from: from.into(),
        name: Some(name.into()),
        kind: kind.into(),
        text: text.map(String::from),
        timestamp: Some(ts),
        id: Some(ids.wamid(from, Direction::Inbound)),
        ..Default::default()
    }
}

fn app(ids: &mut IdGen, to: &str, text: &str, ts: i64) -> AppMessageRequest {
    AppMessageRequest {
        to: to.into(),
        text: Some(text.into()),
        timestamp: Some(ts),
        id: Some(ids.wamid(to, Direction::Outbound)),
        ..Default::default()
    }
}

/// Plan a scenario's steps from the seed and "now" alone.
pub fn plan(name: &str, seed: u64, now: i64) -> Result<Vec<Step>, String> {
    let mut ids = IdGen::new(seed);
    match name {
        "busy-shop" => Ok(busy_shop(&mut ids, now)),
        "onboarding" => Ok(onboarding(seed, now)),
        "window-expires" => Ok(window_expires(&mut ids, now)),
        "demo" => Ok(demo(&mut ids, now)),
        other => Err(format!(
            "unknown scenario {other:?}; known: {}",
            SCENARIOS.join(", ")
        )),
    }
}

/// Many customers, every message type, some App replies (one edited, one revoked).
fn busy_shop(ids: &mut IdGen, now: i64) -> Vec<Step> {
    const KINDS: &[&str] = &[
        "text",
        "text",
        "text",
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "order",
        "unsupported",
    ];
    let people: Vec<(String, String)> = (0..12).map(|_| person(ids)).collect();
    let mut steps = Vec::new();
    let mut ts = now - 1800;
    let mut last_inbound: Vec<Option<String>> = vec![None; people.len()];
    for i in 0..40 {
        let p = ids.range(0, people.len() as u64) as usize;
        let (from, name) = &people[p];
        ts += ids.range(5, 40) as i64;
        let kind = if i < people.len() {
            "text"
        } else {
            *ids.pick(KINDS)
        };
        let text = if kind == "text" {
            Some(if i < people.len() {
                *ids.pick(OPENERS)
            } else {
                *ids.pick(FOLLOW_UPS)
            })
        } else if kind == "image" {
            Some("Is this the one?")
        } else {
            None
        };
        let m = customer(ids, from, name, kind, text, ts);
        last_inbound[p] = m.id.clone();
        steps.push(Step::Customer(m));
        if ids.range(0, 4) == 0 {
            ts += ids.range(5, 30) as i64;
            let reply = *ids.pick(APP_REPLIES);
            steps.push(Step::App(app(ids, from, reply, ts)));
        }
        steps.push(Step::Pause(Duration::from_millis(ids.range(50, 400))));
    }
    // two customers in one webhook, and one webhook delivered twice
    let (a, b) = (&people[0], &people[1]);
    let batch = vec![
        customer(
            ids,
            &a.0,
            &a.1,
            "text",
            Some("Also, do you gift wrap?"),
            ts + 2,
        ),
        customer(ids, &b.0, &b.1, "text", Some("Hello again!"), ts + 3),
    ];
    let dup = batch[0].id.clone().unwrap_or_default();
    steps.push(Step::Batch(batch));
    steps.push(Step::Redeliver(dup));
    // a reaction to an earlier message, an App edit and an App revoke
    if let Some((p, Some(target))) = last_inbound
        .iter()
        .enumerate()
        .find(|(_, w)| w.is_some())
        .map(|(p, w)| (p, w.clone()))
    {
        let (from, name) = &people[p];
        let mut r = customer(ids, from, name, "reaction", Some("❤️"), ts + 10);
        r.reply_to = Some(target);
        steps.push(Step::Customer(r));
        let first = app(ids, from, "Your order ships tomorow", ts + 20);
        let wamid = first.id.clone().unwrap_or_default();
        steps.push(Step::App(first));
        steps.push(Step::AppEdit(AppEditRequest {
            wamid: wamid.clone(),
            text: Some("Your order ships tomorrow".into()),
            timestamp: Some(ts + 30),
        }));
        let oops = app(ids, from, "(sent to the wrong chat)", ts + 40);
        let oops_id = oops.id.clone().unwrap_or_default();
        steps.push(Step::App(oops));
        steps.push(Step::AppRevoke(AppEditRequest {
            wamid: oops_id,
            text: None,
            timestamp: Some(ts + 45),
        }));
    }
    steps
}

/// What onboarding a coexistence number looks like: partner added, contacts, history batches.
fn onboarding(seed: u64, now: i64) -> Vec<Step> {
    vec![
        Step::Account("PARTNER_ADDED".into(), now),
        Step::Contacts(ContactsRequest {
            phone_number_id: None,
            contacts: None,
            now: Some(now),
        }),
        Step::Pause(Duration::from_millis(300)),
        Step::History(HistoryRequest {
            seed: Some(seed),
            now: Some(now),
            chunk_size: Some(4),
            ..Default::default()
        }),
    ]
}

/// One customer whose last message is 23 h 59 m old (window still open for a minute), one 25 h
/// old (closed), and one from a click-to-WhatsApp ad 70 h ago (72 h window: open).
fn window_expires(ids: &mut IdGen, now: i64) -> Vec<Step> {
    let (a, an) = person(ids);
    let (b, bn) = person(ids);
    let (c, cn) = person(ids);
    let mut ad = customer(
        ids,
        &c,
        &cn,
        "text",
        Some("Hi, I saw your ad for the summer sale"),
        now - 70 * 3600,
    );
    ad.referral = Some(json!({
        "source_url": "https://fb.me/sandbox-ad",
        "source_id": "120200300400599",
        "source_type": "ad",
        "headline": "Summer sale",
        "body": "Up to 40% off",
        "media_type": "image",
        "image_url": "https://scontent.xx.fbcdn.net/sandbox-ad.jpg",
        "ctwa_clid": ids.lower_hex(24),
    }));
    vec![
        Step::Customer(customer(
            ids,
            &a,
            &an,
            "text",
            Some("Is my order ready?"),
            now - 30 * 3600,
        )),
        Step::Customer(customer(
            ids,
            &a,
            &an,
            "text",
            Some("Hello? Anyone there?"),
            now - (23 * 3600 + 59 * 60),
        )),
        Step::Customer(customer(
            ids,
            &b,
            &bn,
            "text",
            Some("Can I still change my size?"),
            now - 25 * 3600,
        )),
        Step::Customer(ad),
    ]
}

/// A gentle stream for the try-it mode: a few customers, an App reply, with pauses.
fn demo(ids: &mut IdGen, now: i64) -> Vec<Step> {
    let (a, an) = ("14155550111".to_string(), "Ana Silva".to_string());
    let (b, bn) = ("447700900222".to_string(), "Ben Okafor".to_string());
    let (c, cn) = ("351912000333".to_string(), "Chloe Martin".to_string());
    let mut img = customer(ids, &b, &bn, "image", Some("This one, in blue?"), now + 12);
    img.timestamp = Some(now + 12);
    vec![
        Step::Customer(customer(
            ids,
            &a,
            &an,
            "text",
            Some("Hi! Do you have the linen shirt in M?"),
            now,
        )),
        Step::Pause(Duration::from_secs(3)),
        Step::App(app(
            ids,
            &a,
            "Hi Ana! Yes we do. Want me to reserve one for you?",
            now + 6,
        )),
        Step::Pause(Duration::from_secs(3)),
        Step::Customer(img),
        Step::Pause(Duration::from_secs(4)),
        Step::Customer(customer(
            ids,
            &a,
            &an,
            "text",
            Some("Yes please 🙏"),
            now + 20,
        )),
        Step::Pause(Duration::from_secs(4)),
        Step::Customer(customer(
            ids,
            &c,
            &cn,
            "text",
            Some("Olá! Do you ship to Lisbon?"),
            now + 28,
        )),
        Step::Pause(Duration::from_secs(3)),
        Step::Customer(customer(
            ids,
            &c,
            &cn,
            "location",
            Some("Where I am"),
            now + 33,
        )),
    ]
}

/// Play planned steps against the sandbox. Ids the steps did not pin come from `ids`.
pub async fn play(
    sb: &Sandbox,
    name: &str,
    seed: u64,
    steps: Vec<Step>,
    pace: f64,
    ids: &mut IdGen,
) -> Result<ScenarioReport, ControlError> {
    let mut report = ScenarioReport {
        name: name.into(),
        seed,
        steps: steps.len(),
        ..Default::default()
    };
    for step in steps {
        let wamid = match step {
            Step::Customer(m) if sb.blocks_customer(&m) => {
                report.skipped.extend(m.id);
                None
            }
            Step::Customer(m) => Some(sb.customer_message_with(&m, ids)?),
            Step::Batch(list) => {
                play_batch(sb, list, ids, &mut report)?;
                None
            }
            // The redelivery of a message that was never delivered (its customer is blocked).
            Step::Redeliver(w) if report.skipped.contains(&w) => None,
            Step::Redeliver(w) => {
                sb.redeliver(&w)?;
                None
            }
            Step::App(m) => Some(sb.app_message_with(&m, ids)?),
            Step::AppEdit(e) => Some(sb.app_edit_with(&e, ids)?),
            Step::AppRevoke(e) => Some(sb.app_revoke_with(&e, ids)?),
            Step::History(h) => {
                let mut hist_ids = IdGen::new(h.seed.unwrap_or(seed));
                sb.history_with(&h, &mut hist_ids)?;
                None
            }
            Step::Contacts(c) => {
                sb.contacts(&c)?;
                None
            }
            Step::Account(event, at) => {
                sb.account_update_at(&event, Some(at))?;
                None
            }
            Step::Pause(d) => {
                if pace > 0.0 {
                    tokio::time::sleep(d.mul_f64(pace.min(100.0))).await;
                }
                None
            }
        };
        report.wamids.extend(wamid);
    }
    Ok(report)
}

/// A batch without the messages of blocked customers (reported as skipped); nothing is emitted
/// when none is left.
fn play_batch(
    sb: &Sandbox,
    list: Vec<CustomerMessage>,
    ids: &mut IdGen,
    report: &mut ScenarioReport,
) -> Result<(), ControlError> {
    let (blocked, kept): (Vec<_>, Vec<_>) = list.into_iter().partition(|m| sb.blocks_customer(m));
    report
        .skipped
        .extend(blocked.into_iter().filter_map(|m| m.id));
    if !kept.is_empty() {
        report.wamids.extend(sb.customer_batch_with(&kept, ids)?);
    }
    Ok(())
}

/// Plan and play; `now` defaults to the real clock.
pub async fn run(
    sb: &Sandbox,
    req: &ScenarioRequest,
    run_index: u64,
) -> Result<ScenarioReport, ControlError> {
    let at = req.now.unwrap_or_else(now);
    // A rerun on the same sandbox must not reuse the first run's wamids (they would be duplicates).
    let seed = req
        .seed
        .wrapping_add(run_index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let steps = plan(&req.name, seed, at).map_err(ControlError::BadRequest)?;
    let mut ids = IdGen::new(seed ^ 0x5EED_5EED);
    play(
        sb,
        &req.name,
        req.seed,
        steps,
        req.pace.unwrap_or(1.0).max(0.0),
        &mut ids,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_deterministic_per_seed() {
        for name in SCENARIOS {
            assert_eq!(
                plan(name, 9, 1_750_000_000),
                plan(name, 9, 1_750_000_000),
                "{name}"
            );
        }
        assert_ne!(
            plan("busy-shop", 1, 1_750_000_000),
            plan("busy-shop", 2, 1_750_000_000)
        );
        assert!(plan("nope", 1, 0).is_err());
    }

    #[test]
    fn window_expires_has_one_open_one_closed() {
        let now = 1_750_000_000;
        let steps = plan("window-expires", 4, now).unwrap();
        let ts: Vec<i64> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Customer(m) => m.timestamp,
                _ => None,
            })
            .collect();
        assert!(ts.contains(&(now - (23 * 3600 + 59 * 60))));
        assert!(ts.contains(&(now - 25 * 3600)));
    }

    #[test]
    fn busy_shop_uses_many_types_and_customers() {
        let steps = plan("busy-shop", 3, 1_750_000_000).unwrap();
        let kinds: std::collections::HashSet<String> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Customer(m) => Some(m.kind.clone()),
                _ => None,
            })
            .collect();
        let people: std::collections::HashSet<String> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Customer(m) => Some(m.from.clone()),
                _ => None,
            })
            .collect();
        assert!(kinds.len() >= 6, "{kinds:?}");
        assert!(people.len() >= 6);
        assert!(steps.iter().any(|s| matches!(s, Step::AppEdit(_))));
        assert!(steps.iter().any(|s| matches!(s, Step::Batch(_))));
        assert!(steps.iter().any(|s| matches!(s, Step::Redeliver(_))));
        assert!(steps.iter().any(|s| matches!(s, Step::AppRevoke(_))));
    }
}
