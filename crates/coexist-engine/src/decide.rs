//! The engine's notification decisions, each claimed once in the store's ledger before showing.
//!
//! - new inbound customer message: "{sender}" / plain preview. Not for messages older than
//!   [`MAX_NOTIFY_AGE_SECS`] (a fresh desktop replaying the bridge's log must not show hundreds
//!   of old messages; they are in the list as unread). More than
//!   [`MAX_SEPARATE_NOTIFICATIONS`] in one batch show as one: "7 new messages" / "From Ana, Ben,
//!   Cleo and 2 others".
//! - window closing within [`CLOSING_WARNING_SECS`] on a conversation whose customer is still
//!   waiting for an answer.
//! - failed send of this desktop (refused by the bridge/Meta, or a `failed` status later).
//! - a conversation a teammate assigned to this desktop's agent (not one they took themselves;
//!   not an old assignment replayed from the log).
//! - a teammate's note that mentions this desktop's agent (`@ana`), once per note.
//! - a snoozed conversation back on the queues (its time came; not when the customer or a
//!   teammate reopened it first), once per snooze, up to an hour late (the app was closed).
//! - Meta's review of a template: approved, rejected (with Meta's reason), paused or disabled.
//!
//! History and echoes never notify: the store only reports first-seen customer messages. A
//! conversation the agent muted raises neither message nor closing-window notifications.

use coexist_core::rules::WindowState;
use coexist_core::{ConversationKey, StatusKind};
use coexist_store::{ApplyReport, AssignmentChange, NewNote, StoreError, TemplateReviewed};

use crate::events::{EngineEvent, SendState};
use crate::notify::{plain_preview, CLOSING_WARNING_SECS};
use crate::shared::Shared;

/// Inbound messages older than this (Meta time vs now) are not notified.
pub const MAX_NOTIFY_AGE_SECS: i64 = 3600;

/// More new messages than this in one batch (back online after a while, a burst) are shown as
/// one notification naming the senders, not one each.
pub const MAX_SEPARATE_NOTIFICATIONS: usize = 3;

/// Ledger kinds (`notification_claim(kind, key)`).
pub mod kinds {
    pub const MESSAGE: &str = "message";
    pub const CLOSING: &str = "window_closing";
    pub const FAILED_STATUS: &str = "failed_status";
    pub const FAILED_SEND: &str = "failed_send";
    pub const ASSIGNED: &str = "assigned";
    pub const MENTION: &str = "mention";
    pub const SNOOZE_ENDED: &str = "snooze_ended";
    pub const TEMPLATE_REVIEWED: &str = "template_reviewed";
}

/// Publish what a batch changed and notify what deserves it.
pub(crate) fn after_batch(shared: &Shared, report: &ApplyReport, now: i64) -> Result<(), StoreError> {
    if !report.conversations_touched.is_empty() || !report.timelines_touched.is_empty() {
        shared.publish(EngineEvent::ConversationsChanged {
            list: report.conversations_touched.clone(),
            timelines: report.timelines_touched.clone(),
        });
    }
    if !report.numbers_touched.is_empty() {
        shared.publish(EngineEvent::NumbersChanged { phone_number_ids: report.numbers_touched.clone() });
    }
    if report.quick_replies_changed {
        shared.publish(EngineEvent::QuickRepliesChanged);
    }
    if !report.problems.is_empty() {
        shared.publish(EngineEvent::Problems { seqs: report.problems.clone() });
    }
    for st in &report.statuses {
        let Some(key) = &st.idempotency_key else { continue };
        let state = match st.status {
            StatusKind::Sent => SendState::Sent,
            StatusKind::Delivered => SendState::Delivered,
            StatusKind::Read => SendState::Read,
            StatusKind::Failed => SendState::Failed,
        };
        let detail = st.error.as_ref().map(|e| {
            let x = coexist_core::explain_meta_error(e.code);
            format!("{} {}", x.reason, x.what_to_do)
        });
        shared.publish(EngineEvent::SendState {
            idempotency_key: key.clone(),
            conversation: st.conversation.clone(),
            state,
            wamid: Some(st.wamid.clone()),
            detail,
        });
    }
    let mut fresh = Vec::new();
    for m in &report.new_inbound {
        let sender = match &m.contact_name {
            Some(name) => display_name(Some(name), &m.conversation),
            None => sender_name(shared, &m.conversation, now)?,
        };
        let preview = plain_preview(&m.preview, 140);
        shared.publish(EngineEvent::NewInbound {
            conversation: m.conversation.clone(),
            wamid: m.wamid.clone(),
            sender: sender.clone(),
            preview: preview.clone(),
        });
        let recent = m.timestamp >= now - MAX_NOTIFY_AGE_SECS;
        if recent && !shared.store().is_muted(&m.conversation, now * 1000)? && shared.store().notification_claim(kinds::MESSAGE, &m.wamid)? {
            fresh.push((m.conversation.clone(), sender, preview));
        }
    }
    notify_inbound(shared, fresh);
    let agent = shared.agent.read().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(agent) = agent {
        for change in &report.assignments {
            assigned_to_me(shared, &agent, change, now)?;
        }
        for note in &report.new_notes {
            mentioned(shared, &agent, note, now)?;
        }
    }
    for review in &report.template_reviews {
        template_reviewed(shared, review, now)?;
    }
    for st in report.statuses.iter().filter(|st| st.status == StatusKind::Failed) {
        // Only this desktop's own sends: every agent's desktop sees every status.
        let Some(key) = &st.idempotency_key else { continue };
        if shared.store().outbox_item(key)?.is_none() || !shared.store().notification_claim(kinds::FAILED_STATUS, &st.wamid)? {
            continue;
        }
        let who = sender_name(shared, &st.conversation, now)?;
        let why = st
            .error
            .as_ref()
            .map(|e| coexist_core::explain_meta_error(e.code).reason)
            .unwrap_or_else(|| "WhatsApp could not deliver it.".into());
        shared.notifier.notify(Some(&st.conversation), &format!("Message to {who} failed"), &plain_preview(&why, 200));
    }
    Ok(())
}

/// "Ana is yours now": a teammate gave this agent the conversation.
fn assigned_to_me(shared: &Shared, agent: &str, change: &AssignmentChange, now: i64) -> Result<(), StoreError> {
    let for_me = change.assignee.as_deref() == Some(agent) && change.by != agent;
    if !for_me || change.at_ms / 1000 < now - MAX_NOTIFY_AGE_SECS {
        return Ok(());
    }
    let key = &change.conversation;
    let ledger = format!("{}:{}:{}", key.phone_number_id, key.contact.as_str(), change.at_ms);
    if shared.store().notification_claim(kinds::ASSIGNED, &ledger)? {
        let who = sender_name(shared, key, now)?;
        let by = plain_preview(&change.by, 60);
        shared.notifier.notify(Some(key), &format!("{who} is yours now"), &format!("{by} assigned this conversation to you."));
    }
    Ok(())
}

/// "Template refund_sent was rejected": Meta's review changed what the team can send. Once per
/// relay entry; not for decisions replayed from the log, nor for `PENDING` and the like.
fn template_reviewed(shared: &Shared, review: &TemplateReviewed, now: i64) -> Result<(), StoreError> {
    let (Some(seq), Some(received_at_ms)) = (review.seq, review.received_at_ms) else { return Ok(()) };
    let said = match review.status.as_str() {
        "APPROVED" => "is approved: the team can send it now".to_string(),
        "REJECTED" => "was rejected by Meta: fix it and submit it again (Admin → Templates)".to_string(),
        "PAUSED" => "is paused by Meta for low quality: it cannot be sent for now".to_string(),
        "DISABLED" => "is disabled by Meta: it can no longer be sent".to_string(),
        _ => return Ok(()),
    };
    if received_at_ms / 1000 < now - MAX_NOTIFY_AGE_SECS || !shared.store().notification_claim(kinds::TEMPLATE_REVIEWED, &seq.to_string())? {
        return Ok(());
    }
    let name = plain_preview(&format!("{} ({})", review.name, review.language), 80);
    let reason = review.reason.as_deref().filter(|r| !r.is_empty() && *r != "NONE").map(|r| format!(" Meta's reason: {}.", plain_preview(r, 80)));
    shared.notifier.notify(None, &format!("Template {name}"), &format!("It {said}.{}", reason.unwrap_or_default()));
    Ok(())
}

/// "Ben mentioned you": a teammate's note names this agent (`@ana`).
fn mentioned(shared: &Shared, agent: &str, note: &NewNote, now: i64) -> Result<(), StoreError> {
    if note.author == agent || !mentions(&note.text, agent) || note.at_ms / 1000 < now - MAX_NOTIFY_AGE_SECS {
        return Ok(());
    }
    if shared.store().notification_claim(kinds::MENTION, &note.seq.to_string())? {
        let who = sender_name(shared, &note.conversation, now)?;
        let author = plain_preview(&note.author, 60);
        shared.notifier.notify(Some(&note.conversation), &format!("{author} mentioned you"), &plain_preview(&format!("{who}: {}", note.text), 200));
    }
    Ok(())
}

/// Whether `text` names `agent` as `@agent` (any case), not as the start of a longer name.
pub fn mentions(text: &str, agent: &str) -> bool {
    let text = text.to_lowercase();
    let wanted = format!("@{}", agent.to_lowercase());
    text.match_indices(&wanted).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        !before.is_some_and(char::is_alphanumeric) && !continues_name(&text[at + wanted.len()..])
    })
}

/// `rest` goes on with a longer name (`@ana` in `@anabel`, `@ana.silva`); a full stop that ends
/// the sentence does not.
fn continues_name(rest: &str) -> bool {
    let mut chars = rest.chars();
    match chars.next() {
        Some(c) if c.is_alphanumeric() || c == '_' || c == '-' => true,
        Some('.') => chars.next().is_some_and(char::is_alphanumeric),
        _ => false,
    }
}

/// What the minute clock checks: windows about to close, snoozes that ended.
pub(crate) fn on_clock(shared: &Shared, now: i64) -> Result<(), StoreError> {
    closing_windows(shared, now)?;
    snoozes_ended(shared, now)
}

/// Snoozes that ended since the last check: back on the lists, and notified once.
pub(crate) fn snoozes_ended(shared: &Shared, now: i64) -> Result<(), StoreError> {
    let now_ms = now * 1000;
    let since = shared.snoozes_checked_ms.swap(now_ms, std::sync::atomic::Ordering::Relaxed);
    let since = if since == 0 { now_ms - MAX_NOTIFY_AGE_SECS * 1000 } else { since };
    let ended = shared.store().snoozes_ended(since, now_ms)?;
    if ended.is_empty() {
        return Ok(());
    }
    shared.publish(EngineEvent::ConversationsChanged { list: ended.iter().map(|(c, _)| c.conversation.clone()).collect(), timelines: Vec::new() });
    for (c, until_ms) in ended {
        let key = &c.conversation;
        let ledger = format!("{}:{}:{until_ms}", key.phone_number_id, key.contact.as_str());
        if shared.store().notification_claim(kinds::SNOOZE_ENDED, &ledger)? {
            let who = display_name(c.contact_name.as_deref(), key);
            shared.notifier.notify(Some(key), &format!("{who} is back"), "The snooze ended: the conversation is on the queues again.");
        }
    }
    Ok(())
}

/// Warn once per window about unanswered conversations whose window closes within the hour.
pub(crate) fn closing_windows(shared: &Shared, now: i64) -> Result<usize, StoreError> {
    let closing = shared.store().closing_conversations(now, CLOSING_WARNING_SECS)?;
    let mut shown = 0;
    for c in closing.into_iter().filter(|c| c.unanswered && !c.muted) {
        let WindowState::Open { expires_at, remaining_secs } = c.window else { continue };
        let key = format!("{}:{}:{expires_at}", c.conversation.phone_number_id, c.conversation.contact.as_str());
        if shared.store().notification_claim(kinds::CLOSING, &key)? {
            let who = display_name(c.contact_name.as_deref(), &c.conversation);
            let minutes = (remaining_secs / 60).max(1);
            shared.notifier.notify(
                Some(&c.conversation),
                &format!("{who} is waiting for an answer"),
                &format!("The 24-hour window closes in {minutes} min; after that only a template can be sent."),
            );
            shared.publish(EngineEvent::WindowClosing { conversation: c.conversation.clone(), expires_at });
            shown += 1;
        }
    }
    Ok(shown)
}

/// New customer messages, `(conversation, sender, preview)` each: one notification apiece, or
/// one for a burst.
fn notify_inbound(shared: &Shared, fresh: Vec<(ConversationKey, String, String)>) {
    if fresh.len() <= MAX_SEPARATE_NOTIFICATIONS {
        for (conversation, sender, preview) in fresh {
            shared.notifier.notify(Some(&conversation), &sender, &preview);
        }
        return;
    }
    let senders = burst_senders(fresh.iter().map(|(_, sender, _)| sender.as_str()));
    shared.notifier.notify(None, &format!("{} new messages", fresh.len()), &senders);
}

/// "From Ana, Ben and Cleo", or "From Ana, Ben, Cleo and 4 others": each sender once, in order.
fn burst_senders<'a>(senders: impl Iterator<Item = &'a str>) -> String {
    const NAMED: usize = 3;
    let mut distinct: Vec<&str> = Vec::new();
    for sender in senders {
        if !distinct.contains(&sender) {
            distinct.push(sender);
        }
    }
    let others = distinct.len().saturating_sub(NAMED);
    let named = &distinct[..distinct.len().min(NAMED)];
    match (named, others) {
        ([one], 0) => format!("From {one}"),
        ([first @ .., last], 0) => format!("From {} and {last}", first.join(", ")),
        (_, 1) => format!("From {} and 1 other", named.join(", ")),
        _ => format!("From {} and {others} others", named.join(", ")),
    }
}

/// A send refused for good (not retryable): notify once per outbox item.
pub(crate) fn failed_send(shared: &Shared, key: &str, conversation: &ConversationKey, detail: &str) -> Result<(), StoreError> {
    if shared.store().notification_claim(kinds::FAILED_SEND, key)? {
        let who = sender_name(shared, conversation, crate::shared::now_secs())?;
        shared.notifier.notify(Some(conversation), &format!("Message to {who} was not sent"), &plain_preview(detail, 200));
    }
    Ok(())
}

fn sender_name(shared: &Shared, key: &ConversationKey, now: i64) -> Result<String, StoreError> {
    let summary = shared.store().conversation(key, now)?;
    Ok(display_name(summary.and_then(|s| s.contact_name).as_deref(), key))
}

/// The contact's profile name (made plain: it is customer-controlled) or their number.
pub fn display_name(name: Option<&str>, key: &ConversationKey) -> String {
    let name = name.map(|n| plain_preview(n, 60)).filter(|n| !n.is_empty());
    name.unwrap_or_else(|| match key.contact.as_str().strip_prefix("user:") {
        Some(_) => "A customer".to_string(),
        None => format!("+{}", key.contact.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::{burst_senders, mentions};

    #[test]
    fn a_mention_is_the_whole_name_after_an_at_sign() {
        for yes in ["@ana can you call her?", "ask @Ana.", "(@ana)", "thanks @ana!", "cc @ana"] {
            assert!(mentions(yes, "ana"), "{yes}");
        }
        for no in ["ana, can you call her?", "@anabel knows", "@ana.silva knows", "@ana_b", "mail@ana", "@an"] {
            assert!(!mentions(no, "ana"), "{no}");
        }
        assert!(mentions("@demo-agent please", "demo-agent"));
    }

    #[test]
    fn a_burst_names_its_senders_once_each() {
        assert_eq!(burst_senders(["Ana", "Ana", "Ana", "Ana"].into_iter()), "From Ana");
        assert_eq!(burst_senders(["Ana", "Ben", "Ana", "Ana"].into_iter()), "From Ana and Ben");
        assert_eq!(burst_senders(["Ana", "Ben", "Cleo", "Ben"].into_iter()), "From Ana, Ben and Cleo");
        assert_eq!(burst_senders(["Ana", "Ben", "Cleo", "Dan"].into_iter()), "From Ana, Ben, Cleo and 1 other");
        assert_eq!(burst_senders(["Ana", "Ben", "Cleo", "Dan", "Eve", "Dan"].into_iter()), "From Ana, Ben, Cleo and 2 others");
    }
}
