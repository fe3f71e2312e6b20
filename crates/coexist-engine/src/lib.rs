//! The desktop engine of Coexist Inbox: the bridge client, the sync loop into the local store,
//! the outbox with its local rate limiter, notification decisions, the in-process demo stack,
//! and (in `src/bin/coexist.rs`) the headless CLI.
//!
//! ```no_run
//! # async fn run() -> Result<(), coexist_engine::EngineError> {
//! use std::sync::Arc;
//! use coexist_engine::{Engine, EngineConfig, NoNotifier};
//! let engine = Engine::open("inbox.db".as_ref(), EngineConfig::new("http://127.0.0.1:8080", "TOKEN"), Arc::new(NoNotifier))?;
//! let mut changes = engine.subscribe();
//! let _tasks = engine.start(); // sync + outbox in the background until dropped
//! while let Ok(event) = changes.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

pub mod admin;
pub mod attachment;
pub mod backoff;
pub mod campaign;
mod catch_up;
pub mod client;
pub mod compose;
mod decide;
pub mod demo;
pub mod engine;
pub mod error;
pub mod events;
pub mod export;
pub mod limiter;
pub mod notify;
pub mod outbox;
pub mod reply_buttons;
mod shared;
pub mod sync;
mod team;

pub use attachment::OutgoingFile;
pub use client::{BridgeClient, EventsPage, MediaFile, Me, SendAccepted, StreamItem, TeamMember};
pub use compose::{ButtonParam, ComposeError, TemplateParams};
pub use decide::{display_name, MAX_NOTIFY_AGE_SECS};
pub use engine::{Engine, EngineConfig, EngineError, EngineTasks};
pub use error::{ClientError, SendError};
pub use events::{ConnectionState, EngineEvent, SendState};
pub use notify::{CollectingNotifier, NoNotifier, Notifier, Shown};
pub use outbox::DrainReport;
pub use shared::SharedStore;
pub use sync::{SyncConfig, SyncMode, SyncReport, Syncer};
pub use team::BlockedCustomer;
