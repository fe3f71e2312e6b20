//! Preparing relay entries (parsed events, and the JSON text when it must be kept) on both cores
//! at once.
//!
//! Parsing is about half the work of applying a webhook. A helper thread prepares entries
//! ahead of the writer, at most [`LOOKAHEAD`] of them (a prepared entry holds its parsed
//! events: a whole batch of them would cost several KB an entry); entries are claimed in order
//! by whichever thread gets there first, so when the helper falls behind, the writer prepares
//! entries itself instead of waiting; and while the writer is busy with its end-of-batch flush,
//! the helper drops the entries already applied.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use coexist_core::{Event, RelayEvent};

/// A relay entry ready for the database.
pub(super) struct Prepared {
    /// The entry as JSON text, kept only when something of it is not in the projections: it
    /// could not be parsed, or holds an event we do not model. (The bridge keeps every entry
    /// as received; a full resync fetches them again.)
    pub payload: Option<String>,
    /// The entry's events, or why it could not be parsed.
    pub parsed: std::result::Result<Vec<Event>, String>,
}

/// Serialize and parse one entry. A parser panic (a bug, on some hostile input) becomes a
/// problem entry like any parse error: the entry is kept and the batch goes on.
pub(super) fn prepare(ev: &RelayEvent) -> Prepared {
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| coexist_core::events_from_relay(ev)));
    let parsed = match parsed {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("the parser crashed on this entry ({}); it is kept for a later version", panic_text(&panic))),
    };
    let projected = matches!(&parsed, Ok(events) if !events.iter().any(|e| matches!(e, Event::Unknown { .. })));
    let payload = (!projected).then(|| ev.payload.get().to_string());
    Prepared { payload, parsed }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

/// How far ahead of the writer the helper prepares: enough that the writer never waits for it.
pub(super) const LOOKAHEAD: usize = 1024;

/// The entries of one batch, shared by the writer and one helper.
pub(super) struct Shared<'b> {
    batch: &'b [RelayEvent],
    /// The first entry nobody has claimed yet.
    next: AtomicUsize,
    /// The entry the writer is at.
    writing: AtomicUsize,
    slots: Vec<Mutex<Option<Prepared>>>,
    /// Set when the writer gives up (an error): the helper stops preparing.
    stop: AtomicBool,
}

impl<'b> Shared<'b> {
    pub fn new(batch: &'b [RelayEvent]) -> Self {
        Shared {
            batch,
            next: AtomicUsize::new(0),
            writing: AtomicUsize::new(0),
            slots: batch.iter().map(|_| Mutex::new(None)).collect(),
            stop: AtomicBool::new(false),
        }
    }

    /// The helper: prepare claimed entries until none are left, then drop the applied ones
    /// the writer sends back until it closes the channel.
    pub fn help(&self, applied: mpsc::Receiver<Vec<Prepared>>) {
        while !self.stop.load(Ordering::Relaxed) {
            let i = self.next.fetch_add(1, Ordering::AcqRel);
            let Some(ev) = self.batch.get(i) else { break };
            while i >= self.writing.load(Ordering::Acquire) + LOOKAHEAD && !self.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_micros(200));
            }
            let ready = prepare(ev);
            *self.slot(i) = Some(ready);
        }
        for done in applied {
            drop(done);
        }
    }

    /// The writer's entry `i` (every entry before it was taken already): prepared here when
    /// nobody claimed it yet; otherwise the helper is preparing it, and the writer prepares
    /// later unclaimed entries meanwhile instead of idling.
    pub fn take(&self, i: usize) -> Prepared {
        self.writing.store(i, Ordering::Release);
        if self.next.compare_exchange(i, i + 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            return prepare(&self.batch[i]);
        }
        loop {
            if let Some(ready) = self.slot(i).take() {
                return ready;
            }
            let k = self.next.fetch_add(1, Ordering::AcqRel);
            match self.batch.get(k) {
                Some(ev) => {
                    let ready = prepare(ev);
                    *self.slot(k) = Some(ready);
                }
                None => std::thread::yield_now(),
            }
        }
    }

    fn slot(&self, i: usize) -> std::sync::MutexGuard<'_, Option<Prepared>> {
        self.slots[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writer stopped early: let the helper finish.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coexist_core::RelayKind;

    #[test]
    fn the_writer_gets_every_entry_once_in_order_whoever_prepared_it() {
        let batch: Vec<RelayEvent> = (0..2_000)
            .map(|i| RelayEvent::new(i + 1, RelayKind::Number, 0, &serde_json::json!({ "n": i })))
            .collect();
        let shared = Shared::new(&batch);
        let (applied, to_drop) = mpsc::channel();
        std::thread::scope(|scope| {
            let helper = &shared;
            scope.spawn(move || helper.help(to_drop));
            for i in 0..batch.len() {
                let ready = shared.take(i);
                assert!(ready.parsed.is_err(), "not a number record: a problem, not a panic");
                assert_eq!(ready.payload, Some(format!("{{\"n\":{i}}}")), "a problem keeps its payload");
                applied.send(vec![ready]).unwrap();
            }
            drop(applied);
        });
    }
}
