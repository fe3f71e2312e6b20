//! Whatever the batching, arrival order and read marks, the stored projections equal what the
//! core rules say from scratch.

mod common;

use coexist_core::rules::{counts_as_unread, ConversationState};
use coexist_core::*;
use coexist_store::*;
use common::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Apply(Box<Event>),
    MarkRead(String, i64),
}

fn step() -> impl Strategy<Value = Step> {
    let contact = prop_oneof![Just("111"), Just("222"), Just("333")];
    (0u8..7, contact, 0i64..50, 0u32..40).prop_map(|(kind, c, dt, id)| {
        let ts = T0 + dt;
        let wamid = format!("w{id}");
        match kind {
            0 | 1 => Step::Apply(Box::new(inbound(&wamid, c, ts, "q"))),
            2 => Step::Apply(Box::new(echo(&wamid, c, ts, "a"))),
            3 => Step::Apply(Box::new(api(&wamid, c, ts, "ana", "a"))),
            4 => Step::Apply(Box::new(history(&wamid, c, ts, id % 2 == 0, "h"))),
            5 => Step::Apply(Box::new(status(&wamid, c, StatusKind::Failed, ts, Some(131047)))),
            _ => Step::MarkRead(c.to_string(), ts),
        }
    })
}

/// Apply steps, cutting the event stream into batches at the given points.
fn run(steps: &[Step], cuts: &[usize]) -> (tempfile::TempDir, Store) {
    let (dir, mut store) = open_store();
    let mut pending = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Apply(e) => pending.push((**e).clone()),
            Step::MarkRead(c, ts) => {
                store.apply_events(&pending).unwrap();
                pending.clear();
                let _ = store.mark_read(&key(c), *ts); // unknown conversation: refused, fine
            }
        }
        if cuts.contains(&i) {
            store.apply_events(&pending).unwrap();
            pending.clear();
        }
    }
    store.apply_events(&pending).unwrap();
    (dir, store)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn batching_never_changes_the_inbox(steps in prop::collection::vec(step(), 1..60), cuts in prop::collection::vec(0usize..60, 0..10)) {
        let (_a, one) = run(&steps, &[]);
        let (_b, many) = run(&steps, &cuts);
        let now = T0 + 100;
        let list = one.conversations(&ConversationFilter::default(), now).unwrap();
        prop_assert_eq!(&list, &many.conversations(&ConversationFilter::default(), now).unwrap());
        for summary in &list {
            let key = &summary.conversation;
            // Unread equals the core rule applied to every stored message.
            let state: ConversationState = one.conversation_state(key).unwrap().unwrap();
            let threshold = state.unread_threshold();
            let expected = one
                .messages(key, None, 1000)
                .unwrap()
                .iter()
                .filter(|m| {
                    let probe = Message { wamid: m.wamid.clone(), conversation: key.clone(), side: m.side, from_business: m.from_business,
                        timestamp: m.timestamp, body: m.body.clone(), reply_to: None, referral: None, agent: None, idempotency_key: None, raw: m.raw.clone() };
                    counts_as_unread(&probe, threshold)
                })
                .count() as i64;
            prop_assert_eq!(summary.unread, expected);
            let shape = |store: &Store| -> Vec<(String, Option<StatusKind>)> {
                store.messages(key, None, 1000).unwrap().into_iter().map(|m| (m.wamid, m.status)).collect()
            };
            prop_assert_eq!(shape(&one), shape(&many));
        }
    }
}
