//! For any interleaving and duplication of one conversation's events, the rules reach the same
//! state: the conversation's [`ConversationState`] and every message's [`MessageStatus`].

use std::collections::BTreeMap;

use coexist_core::rules::{ConversationState, MessageStatus};
use coexist_core::*;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use proptest::sample::Index;
use serde_json::{json, Value};

fn conv() -> ConversationKey {
    ConversationKey { phone_number_id: "106540352242922".into(), contact: ContactKey::from_wa_id("16505551234") }
}

#[derive(Clone, Debug)]
enum Spec {
    Message { side: u8, ts: i64, referral: bool, system: bool, agent: u8 },
    Status { target: u8, kind: u8, ts: i64, code: u8 },
}

fn spec() -> impl Strategy<Value = Spec> {
    // Small timestamp range on purpose: ties must be broken deterministically.
    prop_oneof![
        (0u8..5, 0i64..200_000, any::<bool>(), prop::bool::weighted(0.1), 0u8..3)
            .prop_map(|(side, ts, referral, system, agent)| Spec::Message { side, ts, referral, system, agent }),
        (0u8..12, 0u8..4, 0i64..200_000, 0u8..4).prop_map(|(target, kind, ts, code)| Spec::Status { target, kind, ts, code }),
    ]
}

fn build(i: usize, spec: &Spec) -> Event {
    match *spec {
        Spec::Message { side, ts, referral, system, agent } => {
            let side = match side {
                0 | 1 => Side::Customer,
                2 => Side::Api,
                3 => Side::App,
                _ => Side::History,
            };
            Event::Message(Message {
                wamid: format!("wamid.{i}"),
                conversation: conv(),
                side,
                from_business: side != Side::Customer && i & 1 == 0,
                timestamp: ts,
                body: if system { MessageBody::System { body: "notice".into() } } else { MessageBody::Text { body: format!("m{i}") } },
                reply_to: None,
                referral: if referral { Some(json!({"source_type": "ad"})) } else { None },
                agent: (side == Side::Api).then(|| format!("agent{agent}")),
                idempotency_key: None,
                raw: Value::Null,
            })
        }
        Spec::Status { target, kind, ts, code } => {
            let status = [StatusKind::Sent, StatusKind::Delivered, StatusKind::Read, StatusKind::Failed][kind as usize];
            let errors = match (status, code) {
                (StatusKind::Failed, 0 | 1) => vec![MetaError { code: 131047, title: None, message: None, details: None }],
                (StatusKind::Failed, 2) => vec![MetaError { code: 131026, title: Some("undeliverable".into()), message: None, details: None }],
                _ => vec![],
            };
            Event::Status(StatusUpdate {
                wamid: format!("wamid.{target}"),
                conversation: conv(),
                status,
                timestamp: ts,
                errors,
                biz_opaque_callback_data: None,
                conversation_info: None,
                pricing: None,
            })
        }
    }
}

/// Everything the rules derive from a sequence of events.
fn fold(events: &[Event]) -> (ConversationState, BTreeMap<String, MessageStatus>) {
    let mut state = ConversationState::new();
    let mut statuses: BTreeMap<String, MessageStatus> = BTreeMap::new();
    for e in events {
        state.apply(e);
        if let Event::Status(s) = e {
            statuses.entry(s.wamid.clone()).or_default().apply(s);
        }
    }
    (state, statuses)
}

fn scenario() -> impl Strategy<Value = (Vec<Event>, Vec<Event>)> {
    prop::collection::vec(spec(), 1..40).prop_flat_map(|specs| {
        let events: Vec<Event> = specs.iter().enumerate().map(|(i, s)| build(i, s)).collect();
        let n = events.len();
        (Just(events.clone()), Just(events).prop_shuffle(), prop::collection::vec(any::<Index>(), 0..n + 1)).prop_map(
            |(original, mut shuffled, dups)| {
                // Duplicates (Meta retries, the bridge re-relays) land anywhere.
                for (k, d) in dups.iter().enumerate() {
                    let copy = shuffled[d.index(shuffled.len())].clone();
                    let at = (k * 7 + d.index(shuffled.len() + 1)) % (shuffled.len() + 1);
                    shuffled.insert(at, copy);
                }
                (original, shuffled)
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("tests/regressions/rules_props.proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_interleaving_and_duplication_gives_the_same_state((original, scrambled) in scenario(), now in 0i64..600_000) {
        let (a, sa) = fold(&original);
        let (b, sb) = fold(&scrambled);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&sa, &sb);
        prop_assert_eq!(a.window(now), b.window(now));
        prop_assert_eq!(a.owner(), b.owner());
        prop_assert_eq!(a.unread_threshold(), b.unread_threshold());
    }

    #[test]
    fn merging_split_views_equals_folding_everything((original, scrambled) in scenario()) {
        let mid = scrambled.len() / 2;
        let (mut left, _) = fold(&scrambled[..mid]);
        let (right, _) = fold(&scrambled[mid..]);
        left.merge(&right);
        prop_assert_eq!(left, fold(&original).0);
    }

    #[test]
    fn owner_is_the_side_of_the_latest_reply((original, _) in scenario()) {
        let (state, _) = fold(&original);
        let latest = original.iter().filter_map(|e| match e {
            Event::Message(m) if matches!(m.side, Side::Api | Side::App) => Some(m),
            _ => None,
        }).max_by(|x, y| (x.timestamp, &x.wamid).cmp(&(y.timestamp, &y.wamid)));
        let expected = match latest {
            None => rules::Owner::Unowned,
            Some(m) if m.side == Side::App => rules::Owner::App,
            Some(m) => rules::Owner::Api { agent: m.agent.clone().unwrap() },
        };
        prop_assert_eq!(state.owner(), expected);
    }

    #[test]
    fn status_never_goes_backwards((original, _) in scenario()) {
        let mut status = MessageStatus::default();
        for e in &original {
            if let Event::Status(s) = e {
                if s.wamid != "wamid.0" { continue; }
                let before = status.status;
                status.apply(s);
                prop_assert!(status.status >= before);
                if before == Some(StatusKind::Failed) { prop_assert_eq!(status.status, Some(StatusKind::Failed)); }
            }
        }
    }
}
