//! The managers' metrics over a real inbox file: a small history with known answers.

mod common;

use coexist_core::*;
use coexist_store::{DayCount, Metrics, MetricsQuery, ResponseTimeStat, Store, TemplateUse};
use common::*;
use serde_json::json;

const DAY: i64 = 86_400;
/// 2023-11-14 00:00:00 UTC.
const D: i64 = 1_699_920_000;
/// 01:00 on the first day.
const B: i64 = D + 3600;

fn template(wamid: &str, contact: &str, side: Side, ts: i64, name: &str) -> Event {
    let mut m = msg(wamid, contact, side, ts, "");
    m.body = MessageBody::Template { name: name.into(), language: "en".into(), rendered: None };
    m.raw = json!({"id": wamid, "type": "template", "template": {"name": name}});
    Event::Message(m)
}

fn seeded() -> (tempfile::TempDir, Store) {
    let (dir, mut store) = open_store();
    let mut referral = msg("c333", "333", Side::Customer, B + 50, "from the ad");
    referral.referral = Some(json!({"source_type": "ad", "source_id": "1"}));
    let mut system = msg("s555", "555", Side::Customer, B + 10, "changed number");
    system.body = MessageBody::System { body: "changed number".into() };
    let mut other_number = msg("o1", "999", Side::Customer, B + 5, "other number");
    other_number.conversation.phone_number_id = "2000".into();
    let mut other_reply = msg("o2", "999", Side::Api, B + 9005, "late answer");
    other_reply.conversation.phone_number_id = "2000".into();
    store
        .apply_events(&[
            // 111: a run of two answered by the API after 100 s, then one answered by the App after 300 s.
            inbound("c1", "111", B, "hello"),
            inbound("c2", "111", B + 30, "anyone?"),
            api("a1", "111", B + 100, "ana", "yes"),
            inbound("c3", "111", B + 1000, "thanks, and the invoice?"),
            echo("e1", "111", B + 1300, "sent it"),
            template("t1", "111", Side::Api, B + 1400, "order_update"),
            status("t1", "111", StatusKind::Failed, B + 1500, Some(131042)),
            // 222: answered after 500 s, then writes again two days later and is never answered.
            inbound("c4", "222", B + 200, "price?"),
            api("a2", "222", B + 700, "bo", "10 EUR"),
            inbound("c5", "222", B + 2 * DAY, "still there?"),
            // 333: came from an ad (72 h window), never answered; history is not an answer.
            Event::Message(referral),
            history("h1", "333", B + 60, true, "old answer from the phone"),
            // 444: answered from the App after 60 s; templates and a failure.
            inbound("c6", "444", B + DAY, "hi"),
            echo("e2", "444", B + DAY + 60, "hello!"),
            template("t2", "444", Side::App, B + DAY + 100, "welcome"),
            api("a3", "444", B + DAY + 200, "ana", "details"),
            status("a3", "444", StatusKind::Failed, B + DAY + 250, Some(131026)),
            template("t3", "444", Side::Api, B + DAY + 300, "order_update"),
            status("t3", "444", StatusKind::Failed, B + DAY + 350, Some(131042)),
            // 555: a system notice is nobody writing.
            Event::Message(system),
            // Another number: answered by the API after 9000 s.
            Event::Message(other_number),
            Event::Message(other_reply),
        ])
        .unwrap();
    (dir, store)
}

fn query(number: Option<&str>) -> MetricsQuery {
    MetricsQuery { phone_number_id: number.map(str::to_string), from_ts: D, to_ts: D + 4 * DAY - 1, utc_offset_secs: 0 }
}

fn rt(side: Option<Side>, answered: i64, median: i64, p90: i64) -> ResponseTimeStat {
    ResponseTimeStat { side, answered, median_secs: Some(median), p90_secs: Some(p90) }
}

fn metrics(store: &Store, q: &MetricsQuery, now: i64) -> Metrics {
    store.metrics(q, now).unwrap()
}

#[test]
fn first_response_time_by_side() {
    let (_dir, store) = seeded();
    let m = metrics(&store, &query(Some(PNID)), D + 10 * DAY);
    assert_eq!(
        m.first_response,
        vec![rt(Some(Side::Api), 2, 100, 500), rt(Some(Side::App), 2, 60, 300), rt(None, 4, 100, 500)]
    );
    // Without the number filter the other number's 9000 s answer counts too.
    let all = metrics(&store, &query(None), D + 10 * DAY);
    assert_eq!(all.first_response[0], rt(Some(Side::Api), 3, 500, 9000));
}

#[test]
fn replies_by_side_per_day_fill_every_day() {
    let (_dir, store) = seeded();
    let m = metrics(&store, &query(Some(PNID)), D + 10 * DAY);
    let got: Vec<(&str, i64, i64, i64, i64)> =
        m.replies_per_day.iter().map(|d| (d.day.as_str(), d.day_start, d.customer, d.api, d.app)).collect();
    assert_eq!(
        got,
        vec![
            ("2023-11-14", D, 5, 3, 1),
            ("2023-11-15", D + DAY, 1, 2, 2),
            ("2023-11-16", D + 2 * DAY, 1, 0, 0),
            ("2023-11-17", D + 3 * DAY, 0, 0, 0),
        ]
    );
    // Local days: at UTC+2 the 23:00 UTC boundary moves messages; B (01:00 UTC) is 03:00 local.
    let q = MetricsQuery { utc_offset_secs: 2 * 3600, ..query(Some(PNID)) };
    let m = metrics(&store, &q, D + 10 * DAY);
    assert_eq!(m.replies_per_day[0].day_start, D - 2 * 3600);
    assert_eq!(m.replies_per_day.iter().map(|d| d.customer).sum::<i64>(), 7);
}

#[test]
fn windows_expired_unanswered() {
    let (_dir, store) = seeded();
    let m = metrics(&store, &query(Some(PNID)), D + 10 * DAY);
    let e = &m.expired_unanswered;
    assert_eq!(e.total, 2);
    let per_day: Vec<i64> = e.per_day.iter().map(|d: &DayCount| d.count).collect();
    assert_eq!(per_day, vec![0, 0, 0, 2]);
    let got: Vec<(&str, &str, i64)> = e
        .windows
        .iter()
        .map(|w| (w.conversation.contact.as_str(), w.last_customer_wamid.as_str(), w.expired_at))
        .collect();
    assert_eq!(got, vec![("333", "c333", B + 50 + 72 * 3600), ("222", "c5", B + 3 * DAY)]);
    // Judged earlier, the 72 h window is still open: not expired yet.
    let m = metrics(&store, &query(Some(PNID)), B + 3 * DAY + 10);
    assert_eq!(m.expired_unanswered.total, 1);
    assert_eq!(m.expired_unanswered.windows[0].last_customer_wamid, "c5");
}

#[test]
fn templates_and_failures() {
    let (_dir, store) = seeded();
    let m = metrics(&store, &query(Some(PNID)), D + 10 * DAY);
    assert_eq!(
        m.templates,
        vec![
            TemplateUse { name: "order_update".into(), sent: 2, failed: 2 },
            TemplateUse { name: "welcome".into(), sent: 1, failed: 0 }
        ]
    );
    let failures: Vec<(i64, i64)> = m.failures.iter().map(|f| (f.code, f.count)).collect();
    assert_eq!(failures, vec![(131042, 2), (131026, 1)]);
    assert_eq!(m.failures[0].reason, explain_meta_error(131042).reason);
    assert!(!m.failures[1].what_to_do.is_empty());
}

#[test]
fn the_range_bounds_every_metric() {
    let (_dir, store) = seeded();
    // Only the second day.
    let q = MetricsQuery { from_ts: D + DAY, to_ts: D + 2 * DAY - 1, ..query(Some(PNID)) };
    let m = metrics(&store, &q, D + 10 * DAY);
    assert_eq!(m.replies_per_day.len(), 1);
    assert_eq!((m.replies_per_day[0].customer, m.replies_per_day[0].api, m.replies_per_day[0].app), (1, 2, 2));
    assert_eq!(m.first_response[1], rt(Some(Side::App), 1, 60, 60));
    assert_eq!(m.first_response[0].answered, 0);
    assert_eq!(m.first_response[0].median_secs, None);
    assert_eq!(m.templates.iter().map(|t| t.sent).sum::<i64>(), 2);
    assert_eq!(m.failures.iter().map(|f| f.count).sum::<i64>(), 2);
    assert_eq!(m.expired_unanswered.total, 0);
}

#[test]
fn bad_ranges_are_refused_in_plain_words() {
    let (_dir, store) = seeded();
    let q = MetricsQuery { from_ts: D, to_ts: D - 1, ..Default::default() };
    assert!(store.metrics(&q, D).unwrap_err().to_string().contains("ends before it starts"));
    let q = MetricsQuery { from_ts: D, to_ts: D + 400 * DAY, ..Default::default() };
    assert!(store.metrics(&q, D).unwrap_err().to_string().contains("shorter"));
}

#[test]
fn an_empty_inbox_has_zero_metrics() {
    let (_dir, store) = open_store();
    let m = metrics(&store, &query(None), D + 10 * DAY);
    assert_eq!(m.replies_per_day.len(), 4);
    assert!(m.replies_per_day.iter().all(|d| d.customer + d.api + d.app == 0));
    assert!(m.first_response.iter().all(|s| s.answered == 0 && s.p90_secs.is_none()));
    assert!(m.templates.is_empty() && m.failures.is_empty() && m.expired_unanswered.total == 0);
}

#[test]
fn a_message_position_counts_newer_timeline_messages() {
    let (_dir, store) = seeded();
    let p = store.message_position("a1").unwrap().unwrap();
    assert_eq!(p.conversation, key("111"));
    assert_eq!(p.timestamp, B + 100);
    // c3, e1, t1 come after a1 in 111's timeline.
    assert_eq!(p.newer, 3);
    let page = store.messages(&key("111"), None, (p.newer + 2) as u32).unwrap();
    assert_eq!(page.iter().map(|m| m.wamid.as_str()).collect::<Vec<_>>(), vec!["c2", "a1", "c3", "e1", "t1"]);
    assert_eq!(store.message_position("nope").unwrap(), None);
}

#[test]
fn history_imports_never_count_in_metrics() {
    let (_dir, mut store) = open_store();
    store
        .apply_events(&[history("h1", "777", B, false, "old question"), history("h2", "777", B + 5, true, "old answer")])
        .unwrap();
    let m = metrics(&store, &query(None), D + 10 * DAY);
    assert!(m.replies_per_day.iter().all(|d| d.customer + d.api + d.app == 0));
    assert_eq!(m.first_response[2].answered, 0);
    assert_eq!(m.expired_unanswered.total, 0);
    let conv = store.conversation(&key("777"), B + 10).unwrap().unwrap();
    assert_eq!(conv.unread, 0);
    assert!(matches!(conv.window, coexist_core::rules::WindowState::Closed { .. }));
}
