//! The live sync loop (SSE and long-poll) and the outbox across a bridge outage, against the
//! REAL bridge and sandbox.

mod common;

use std::time::Duration;

use coexist_engine::{ConnectionState, EngineEvent, SendState, SyncMode};
use coexist_store::{ConversationFilter, OutboxState};
use common::*;
use tokio::net::TcpListener;

#[tokio::test]
async fn sse_and_long_poll_give_the_same_store_state() {
    let s = stack().await;
    let (stream, _) = s.engine("sse", SyncMode::Stream);
    let (poll, _) = s.engine("poll", SyncMode::LongPoll);
    let mut stream_events = stream.subscribe();
    let _t1 = stream.start();
    let _t2 = poll.start();

    s.customer_says("14155550201", "Ana", "one", None).await;
    s.customer_says("14155550202", "Ben", "two", None).await;
    s.app_says("14155550201", "from the phone").await;
    s.customer_says("14155550201", "Ana", "three ✓ ünïcødé", None).await;
    let key = s.conversation("14155550202");
    eventually(15, "the SSE engine to see Ben", || async { stream.store().lock().unwrap().conversation(&key, now()).unwrap() }).await;
    let item = stream.send_text(&key, "reply through the API", None).unwrap();

    // The UI is told by events, not polling: NewInbound, then Sent and Read for our send.
    let mut saw_inbound = false;
    let mut saw_sent = false;
    let mut saw_read = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !(saw_inbound && saw_sent && saw_read) {
        let ev = tokio::time::timeout_at(deadline, stream_events.recv()).await.expect("events arrive").unwrap();
        match ev {
            EngineEvent::NewInbound { .. } => saw_inbound = true,
            EngineEvent::SendState { idempotency_key, state: SendState::Sent, .. } if idempotency_key == item.idempotency_key => saw_sent = true,
            EngineEvent::SendState { idempotency_key, state: SendState::Read, wamid: Some(_), .. }
                if idempotency_key == item.idempotency_key => saw_read = true,
            _ => {}
        }
    }

    // Both reach the bridge's last seq, then hold the same conversations and timelines.
    let last = eventually(20, "the bridge to settle", || async {
        let page = stream.client().events(0, 1000, 0).await.unwrap();
        let n = page.next;
        tokio::time::sleep(Duration::from_millis(700)).await; // statuses still flowing?
        let again = stream.client().events(0, 1000, 0).await.unwrap().next;
        (n == again && n > 0).then_some(n)
    })
    .await;
    eventually(20, "both engines to reach the last seq", || async {
        let a = stream.store().lock().unwrap().cursor().unwrap();
        let b = poll.store().lock().unwrap().cursor().unwrap();
        (a == last && b == last).then_some(())
    })
    .await;
    let view = |e: &coexist_engine::Engine| {
        let store = e.store().lock().unwrap();
        let convs = store.conversations(&ConversationFilter::default(), 1_000).unwrap();
        let timelines: Vec<_> = convs.iter().map(|c| store.messages(&c.conversation, None, 100).unwrap()).collect();
        serde_json::to_value((convs, timelines)).unwrap()
    };
    let a = view(&stream);
    assert_eq!(a, view(&poll));
    assert_eq!(a[0].as_array().unwrap().len(), 2, "two conversations: {a:#}");
    s.demo.shutdown().await;
}

/// A TCP forwarder to the bridge that can be cut (every open connection dropped) and restored.
struct Link {
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Link {
    fn up(listener: TcpListener, target: std::net::SocketAddr) -> Link {
        let tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Default::default();
        let registry = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Link { tasks }
    }

    /// Cut the link: stop accepting and drop every open connection.
    fn cut(self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

/// A backlog of many small pages goes into the store as one batch (one transaction, one
/// list refresh), up to `max_batch`; with `max_batch` at the page size, page by page.
#[tokio::test]
async fn a_backlog_is_gathered_from_full_pages_into_one_batch() {
    let s = stack().await;
    let contacts: Vec<String> = (0..10).map(|i| format!("1415555030{i}")).collect();
    for contact in &contacts {
        s.customer_says(contact, "Backlog", "hello", None).await;
    }
    let probe = s.engine("probe", SyncMode::LongPoll).0;
    eventually(15, "the bridge to hold every message", || async {
        let page = probe.client().events(0, 1000, 0).await.unwrap();
        let texts = page.events.iter().filter(|e| e.payload.to_string().contains("\"hello\"")).count();
        (texts == contacts.len()).then_some(())
    })
    .await;

    let list_refreshes = |max_batch: usize, name: &str| {
        let (engine, _) = s.engine_with(&s.dir.path().join(format!("{name}.db")), |config| {
            config.sync.page_size = 2;
            config.sync.max_batch = max_batch;
        });
        async move {
            let mut events = engine.subscribe();
            let report = engine.sync_once().await.unwrap();
            let mut refreshes = Vec::new();
            while let Ok(event) = events.try_recv() {
                if let EngineEvent::ConversationsChanged { list, .. } = event {
                    refreshes.push(list.len());
                }
            }
            (report, refreshes)
        }
    };
    let (gathered, refreshes) = list_refreshes(1_000, "gathered").await;
    assert!(gathered.applied >= contacts.len(), "{gathered:?}");
    assert_eq!(refreshes, vec![contacts.len()], "one batch touched every conversation");

    let (paged, refreshes) = list_refreshes(2, "paged").await;
    assert_eq!(paged.cursor, gathered.cursor);
    assert!(refreshes.len() >= contacts.len() / 2, "page by page: {refreshes:?}");
}

/// A backlog larger than `show_progress_over` is announced as catching up, batch by batch,
/// then the engine is plainly online; in both sync modes.
#[tokio::test]
async fn a_large_backlog_shows_its_progress_then_online() {
    let s = stack().await;
    for i in 0..12 {
        s.customer_says(&format!("1415555040{i:02}"), "Backlog", "catch me up", None).await;
    }
    let probe = s.engine("probe", SyncMode::LongPoll).0;
    let last_seq = eventually(15, "the bridge to hold every message", || async {
        let page = probe.client().events(0, 1000, 0).await.unwrap();
        let texts = page.events.iter().filter(|e| e.payload.to_string().contains("catch me up")).count();
        (texts == 12).then_some(page.last_seq)
    })
    .await;

    for mode in [SyncMode::Stream, SyncMode::LongPoll] {
        let (engine, _) = s.engine_with(&s.dir.path().join(format!("{mode:?}.db")), |config| {
            config.sync.mode = mode;
            config.sync.page_size = 2;
            config.sync.max_batch = 4;
            config.sync.show_progress_over = 5;
        });
        let mut events = engine.subscribe();
        let _tasks = engine.start();
        let mut states = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let event = tokio::time::timeout_at(deadline, events.recv()).await.expect("states arrive").unwrap();
            if let EngineEvent::Connection { state } = event {
                let caught_up = state == ConnectionState::Online && states.len() > 1;
                states.push(state);
                if caught_up {
                    break;
                }
            }
        }
        let progress: Vec<(u64, u64)> = states
            .iter()
            .filter_map(|s| match s {
                ConnectionState::CatchingUp { applied, total } => Some((*applied, *total)),
                _ => None,
            })
            .collect();
        assert!(progress.len() >= 3, "{mode:?}: progress batch by batch: {states:?}");
        assert!(progress.iter().all(|(_, total)| *total == last_seq as u64), "{mode:?}: {states:?}");
        assert!(progress.windows(2).all(|w| w[0].0 < w[1].0), "{mode:?}: only forward: {states:?}");
        assert_eq!(progress[0].0, 0, "{mode:?}: {states:?}");
        assert_eq!(engine.store().lock().unwrap().cursor().unwrap(), last_seq, "{mode:?}");
    }
}

#[tokio::test]
async fn the_stream_reconnects_after_a_cut_and_resumes_from_the_cursor() {
    let s = stack().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let link = Link::up(listener, s.demo.bridge.addr);
    let notifier = coexist_engine::CollectingNotifier::default();
    let config = coexist_engine::EngineConfig::new(format!("http://{addr}"), &s.demo.token);
    let engine = coexist_engine::Engine::open(&s.dir.path().join("cut.db"), config, std::sync::Arc::new(notifier)).unwrap();
    let mut events = engine.subscribe();
    let _tasks = engine.start();

    s.customer_says("14155550501", "Ida", "before the cut", None).await;
    let first = s.conversation("14155550501");
    eventually(15, "the first message", || async { engine.store().lock().unwrap().conversation(&first, now()).unwrap() }).await;
    let cursor_before = engine.store().lock().unwrap().cursor().unwrap();

    link.cut();
    s.customer_says("14155550502", "Jon", "during the cut", None).await;
    let mut states = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !states.iter().any(|s| matches!(s, ConnectionState::Reconnecting { .. })) {
        if let EngineEvent::Connection { state } = tokio::time::timeout_at(deadline, events.recv()).await.expect("the cut is noticed").unwrap() {
            states.push(state);
        }
    }
    assert!(states.iter().any(|s| matches!(s, ConnectionState::Offline { .. })), "{states:?}");

    let _link = Link::up(TcpListener::bind(addr).await.unwrap(), s.demo.bridge.addr);
    let second = s.conversation("14155550502");
    eventually(60, "the message sent during the cut", || async { engine.store().lock().unwrap().conversation(&second, now()).unwrap() }).await;
    {
        let store = engine.store().lock().unwrap();
        assert!(store.cursor().unwrap() > cursor_before);
        assert_eq!(store.messages(&first, None, 10).unwrap().len(), 1, "nothing applied twice");
        assert_eq!(store.messages(&second, None, 10).unwrap().len(), 1);
    }
    s.demo.shutdown().await;
}

#[tokio::test]
async fn sends_queue_while_the_bridge_is_down_and_drain_when_it_is_back() {
    let s = stack().await;
    // Let the inbox learn the conversation while the bridge is reachable.
    let db = s.dir.path().join("offline.db");
    let key = s.conversation("14155550301");
    s.customer_says("14155550301", "Fay", "are you open?", None).await;
    {
        let (engine, _) = s.engine_at(&db, SyncMode::LongPoll);
        sync_until_conversation(&engine, &key).await;
    }
    // Now the desktop talks to an address where nothing listens yet.
    let reserved = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down_addr = reserved.local_addr().unwrap();
    drop(reserved);
    let notifier = coexist_engine::CollectingNotifier::default();
    let mut config = coexist_engine::EngineConfig::new(format!("http://{down_addr}"), &s.demo.token);
    config.sync.mode = SyncMode::Stream;
    let engine = coexist_engine::Engine::open(&db, config, std::sync::Arc::new(notifier.clone())).unwrap();
    let mut events = engine.subscribe();
    let _tasks = engine.start();

    let item = engine.send_text(&key, "yes, until 6pm", None).unwrap();
    let mut saw_offline = false;
    let mut saw_held = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(saw_offline && saw_held) {
        match tokio::time::timeout_at(deadline, events.recv()).await.expect("offline is reported").unwrap() {
            EngineEvent::Connection { state: ConnectionState::Offline { .. } } => saw_offline = true,
            EngineEvent::SendState { state: SendState::Queued, detail: Some(_), .. } => saw_held = true,
            _ => {}
        }
    }
    let held = engine.store().lock().unwrap().outbox_item(&item.idempotency_key).unwrap().unwrap();
    assert_eq!(held.state, OutboxState::Queued, "an outage must not fail the message: {held:?}");
    assert!(s.sent().await.is_empty());
    assert_eq!(notifier.count(), 0, "no failure notification for an outage");

    // The bridge comes back at that address.
    let _link = Link::up(TcpListener::bind(down_addr).await.unwrap(), s.demo.bridge.addr);
    let wamid = eventually(60, "the queued message to go out", || async {
        let item = engine.store().lock().unwrap().outbox_item(&item.idempotency_key).unwrap().unwrap();
        (item.state == OutboxState::Sent).then(|| item.wamid.unwrap())
    })
    .await;
    let sent = s.sent().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["wamid"], wamid.as_str());
    s.demo.shutdown().await;
}
