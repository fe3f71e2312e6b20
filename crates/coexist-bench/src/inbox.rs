//! Inbox queries at scale: the first page of 50 conversations (owner, window, unread), the unread
//! count of the window's title, a full-text search, and finding people by name or number, over a store holding 100,000 conversations and
//! 5,000,000 messages.

use std::time::{Duration, Instant};

use coexist_store::{ConversationFilter, SearchQuery, Store};

use crate::report::Report;
use crate::sync::batch_over;

const RUNS: usize = 50;

pub fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let (conversations, messages) = if quick { (10_000, 200_000) } else { (100_000, 5_000_000) };
    let dir = crate::webhook::tempfile_dir()?;
    let mut store = Store::open(dir.join("inbox.db"))?;
    let fill = Instant::now();
    for start in (0..messages).step_by(5_000) {
        store.apply_relay_batch(&batch_over(start, 5_000.min(messages - start), conversations))?;
    }
    report.note(format!(
        "Inbox store filled with {messages} messages over {conversations} conversations in {:.0} s.",
        fill.elapsed().as_secs_f64()
    ));
    let now = 1_764_000_000 + messages as i64;

    let page = median(|| {
        let filter = ConversationFilter { limit: 50, ..Default::default() };
        let rows = store.conversations(&filter, now).expect("first page");
        assert_eq!(rows.len(), 50, "the inbox should hold at least 50 conversations");
    });
    // Every conversation of the backlog is unread: the count reads all of its index.
    let unread = median(|| {
        assert!(store.unread_conversations().expect("unread count") > 0);
    });
    let search = median(|| {
        let query = SearchQuery { text: "refund warranty".into(), limit: 50, ..Default::default() };
        store.search(&query).expect("search");
    });
    // Every customer is named "Customer N": the first word matches them all, the second a few.
    let by_name = median(|| {
        store.find_people("customer 4711", None, 6, now).expect("people by name");
    });
    // Digits anywhere in the number: every conversation's number is looked at.
    let by_number = median(|| {
        store.find_people("47-11", None, 6, now).expect("people by number");
    });
    let scale = format!("{conversations} conversations, {messages} messages");
    report.row(
        &format!("inbox: first page of 50 conversations with owner, window, unread ({scale})"),
        format!("{:.2} ms median of {RUNS}", ms(page)),
        "—".into(),
        "< 5 ms",
        ms(page) < 5.0,
    );
    report.row(
        &format!("inbox: conversations with something unread, counted for the window's title after each list load, all of them unread ({scale})"),
        format!("{:.2} ms median of {RUNS}", ms(unread)),
        "—".into(),
        "< 5 ms (as the first page)",
        ms(unread) < 5.0,
    );
    report.row(
        &format!("inbox: full-text search, 50 hits ({scale})"),
        format!("{:.2} ms median of {RUNS}", ms(search)),
        "—".into(),
        "< 50 ms",
        ms(search) < 50.0,
    );
    let people = by_name.max(by_number);
    report.row(
        &format!("inbox: people by name ('customer 4711') and by number ('47-11'), 6 shown ({scale})"),
        format!("{:.2} ms by name, {:.2} ms by number, medians of {RUNS}", ms(by_name), ms(by_number)),
        "—".into(),
        "< 50 ms (as search)",
        ms(people) < 50.0,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn median(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
