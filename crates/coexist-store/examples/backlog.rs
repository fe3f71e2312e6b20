//! Measures how fast a relay backlog applies: `cargo run --release -p coexist-store --example backlog -- [EVENTS] [BATCH]` (BATCH: the store's `BACKLOG_BATCH` unless given).
//!
//! Builds Meta-shaped webhook bodies (inbound texts with contacts, App echoes, statuses of
//! earlier sends) for 20,000 contacts, applies them in relay-sized batches to a fresh file
//! and prints events/s. `--normalized` skips the relay log and parser (store cost only);
//! `--inbound` sends only customer texts, `--campaign` only delivery statuses.
//!
//! Shaped like real traffic: each message's contact is drawn at random and its wamid is like
//! Meta's (the sandbox's generator), so neither arrives in index order.

use std::time::Instant;

use coexist_core::{ContactKey, ConversationKey, Event, Message, MessageBody, RelayEvent, RelayKind, Side, StatusKind, StatusUpdate};
use coexist_store::Store;
use coexist_sandbox::ids::{Direction, IdGen};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const PNID: &str = "1000";
const CONTACTS: u64 = 20_000;
const T0: i64 = 1_700_000_000;

/// The contact of message `i`, drawn at random among `contacts`.
fn contact_of(i: u64, contacts: u64) -> String {
    format!("1555{:07}", StdRng::seed_from_u64(i).gen_range(0..contacts))
}

fn wamid_of(i: u64, contact: &str, direction: Direction) -> String {
    IdGen::new(i).wamid(contact, direction)
}

fn envelope(field: &str, value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "waba1", "changes": [{"field": field, "value": value}]}]})
}

fn metadata() -> Value {
    json!({"display_phone_number": "15550100", "phone_number_id": PNID})
}

/// A campaign's delivery reports: sent, delivered and read for each of its messages, to random
/// contacts (statuses only).
fn campaign_status(i: u64) -> Value {
    let send = i / 3;
    let to = contact_of(send, CONTACTS);
    let status = ["sent", "delivered", "read"][(i % 3) as usize];
    envelope("messages", json!({
        "messaging_product": "whatsapp", "metadata": metadata(),
        "statuses": [{"id": wamid_of(send, &to, Direction::Outbound), "status": status,
                      "timestamp": (T0 + i as i64).to_string(), "recipient_id": to}]
    }))
}

fn webhook(i: u64, inbound_only: bool) -> Value {
    let to = if inbound_only { contact_of(i, 5_000) } else { contact_of(i, CONTACTS) };
    let ts = (T0 + i as i64).to_string();
    match if inbound_only { 0 } else { i % 10 } {
        0..=4 => envelope("messages", json!({
            "messaging_product": "whatsapp", "metadata": metadata(),
            "contacts": [{"profile": {"name": format!("Customer {to}")}, "wa_id": to}],
            "messages": [{"from": to, "id": wamid_of(i, &to, Direction::Inbound), "timestamp": ts, "type": "text",
                          "text": {"body": format!("Hello, I have a question about order {i}, can you help me please?")}}]
        })),
        5 => envelope("smb_message_echoes", json!({
            "messaging_product": "whatsapp", "metadata": metadata(),
            "message_echoes": [{"from": "15550100", "to": to, "id": wamid_of(i, &to, Direction::Outbound), "timestamp": ts,
                                "type": "text", "text": {"body": format!("Sure, order {i} ships tomorrow")}}]
        })),
        _ => {
            let status = ["sent", "delivered", "read", "read"][(i % 10 - 6) as usize];
            let echo = i - i % 10 + 5;
            let to = contact_of(echo, CONTACTS);
            envelope("messages", json!({
            "messaging_product": "whatsapp", "metadata": metadata(),
            "statuses": [{"id": wamid_of(echo, &to, Direction::Outbound), "status": status,
                          "timestamp": ts, "recipient_id": to}]
            }))
        }
    }
}

fn normalized(i: u64) -> Event {
    let to = contact_of(i, CONTACTS);
    let conversation = ConversationKey { phone_number_id: PNID.into(), contact: ContactKey(to) };
    let ts = T0 + i as i64;
    match i % 10 {
        0..=5 => {
            let side = if i % 10 == 5 { Side::App } else { Side::Customer };
            let text = format!("Hello, I have a question about order {i}, can you help me please?");
            Event::Message(Message {
                wamid: format!("wamid.{i}"),
                conversation,
                side,
                from_business: side == Side::App,
                timestamp: ts,
                body: MessageBody::Text { body: text.clone() },
                reply_to: None,
                referral: None,
                agent: None,
                idempotency_key: None,
                raw: json!({"id": format!("wamid.{i}"), "type": "text", "text": {"body": text}}),
            })
        }
        _ => Event::Status(StatusUpdate {
            wamid: format!("wamid.{}", i - i % 10 + 5),
            conversation,
            status: [StatusKind::Sent, StatusKind::Delivered, StatusKind::Read, StatusKind::Read][(i % 10 - 6) as usize],
            timestamp: ts,
            errors: vec![],
            biz_opaque_callback_data: None,
            conversation_info: None,
            pricing: None,
        }),
    }
}

/// This process's CPU time (all threads) in seconds, from /proc (Linux); 0 elsewhere.
fn cpu_secs() -> f64 {
    proc_cpu("/proc/self/stat")
}

/// The calling thread's CPU time: the writer's critical path when parsing is pipelined.
fn thread_cpu_secs() -> f64 {
    proc_cpu("/proc/thread-self/stat")
}

fn proc_cpu(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0 // utime, stime (fields 14, 15 of the line)
}

/// Median time of the UI's two hot queries over the filled store.
fn report_queries(store: &Store) {
    let median = |f: &dyn Fn()| {
        let mut times: Vec<f64> = (0..21)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[10]
    };
    let now = T0 + 2_000_000;
    let page = median(&|| {
        let filter = coexist_store::ConversationFilter { limit: 50, ..Default::default() };
        assert_eq!(store.conversations(&filter, now).expect("page").len(), 50);
    });
    let search = median(&|| {
        let query = coexist_store::SearchQuery { text: "question order".into(), limit: 50, ..Default::default() };
        assert!(!store.search(&query).expect("search").is_empty());
    });
    let filtered = median(&|| {
        let query = coexist_store::SearchQuery {
            text: "order".into(),
            contact: Some(ContactKey(contact_of(3, CONTACTS))),
            limit: 50,
            ..Default::default()
        };
        store.search(&query).expect("search");
    });
    println!("queries: first page of 50 conversations {page:.2} ms; search 'question order' (50 hits) {search:.2} ms; \
              search 'order' for one contact {filtered:.2} ms (medians of 21)");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let normalized_only = args.iter().any(|a| a == "--normalized");
    // `--inbound`: only customer texts, round-robin over 5,000 contacts (no echoes, no statuses).
    let inbound_only = args.iter().any(|a| a == "--inbound");
    // `--campaign`: only delivery statuses (three per message sent).
    let campaign = args.iter().any(|a| a == "--campaign");
    let nums: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let total = nums.first().copied().unwrap_or(1_000_000);
    let batch = nums.get(1).copied().unwrap_or(coexist_store::BACKLOG_BATCH as u64);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("backlog.db")).expect("open store");

    let mut applied = 0u64;
    // Only the apply calls are timed (building and dropping the input is the test's cost).
    let mut secs = 0.0;
    let mut apply_cpu = 0.0;
    let mut writer_cpu = 0.0;
    let mut next = 0u64;
    while next < total {
        let end = (next + batch).min(total);
        if normalized_only {
            let events: Vec<Event> = (next..end).map(normalized).collect();
            let (cpu, t) = (cpu_secs(), Instant::now());
            applied += store.apply_events(&events).expect("apply").applied as u64;
            secs += t.elapsed().as_secs_f64();
            apply_cpu += cpu_secs() - cpu;
        } else {
            let events: Vec<RelayEvent> = (next..end)
                .map(|i| RelayEvent::new(i as i64 + 1, RelayKind::Webhook, 0, &if campaign { campaign_status(i) } else { webhook(i, inbound_only) }))
                .collect();
            let (cpu, writer, t) = (cpu_secs(), thread_cpu_secs(), Instant::now());
            let report = store.apply_relay_batch(&events).expect("apply");
            secs += t.elapsed().as_secs_f64();
            apply_cpu += cpu_secs() - cpu;
            writer_cpu += thread_cpu_secs() - writer;
            assert!(report.problems.is_empty(), "generated webhooks must parse: {:?}", store.problems().unwrap().first());
            applied += report.applied as u64;
        }
        next = end;
    }
    if !campaign {
        report_queries(&store);
    }
    let file = std::fs::metadata(dir.path().join("backlog.db")).map(|m| m.len()).unwrap_or(0);
    println!(
        "{applied} events applied in {secs:.2}s wall: {:.0} events/s; \
         {apply_cpu:.2} CPU-s applying ({:.0} events per CPU-s), of which {writer_cpu:.2} on the writer thread \
         ({:.0} events per writer CPU-s); db {} MB{}",
        applied as f64 / secs,
        applied as f64 / apply_cpu,
        applied as f64 / writer_cpu,
        file / 1_000_000,
        if normalized_only { " [normalized events, no relay log/parser]" } else { "" }
    );
}
