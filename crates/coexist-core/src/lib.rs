//! The heart of Coexist Inbox: Meta's webhook model, one normalized [`Event`] type, and the
//! rules that turn events into what an agent sees. Pure code: no I/O, no clocks (callers pass `now`).
//!
//! - [`parse_webhook`]: a Meta webhook body to events (strict envelope, tolerant inside).
//! - [`events_from_relay`]: any entry the bridge relays (webhook, API send, templates, number).
//! - [`explain_meta_error`], [`explain_block_error`]: Meta's error codes in plain words.
//! - [`rules`]: ownership, the 24 h window, statuses, dedupe, unread, order — in one place.
//! - [`TemplateDraft`]: a new message template, checked against Meta's rules before review.

pub mod body;
pub mod error;
pub mod event;
pub mod media_types;
pub mod meta_error;
pub mod parse;
pub mod relay;
pub mod relay_events;
pub mod rules;
pub mod template_draft;
pub mod webhook;

pub use body::{parse_body, unsupported_reason};
pub use error::ParseError;
pub use event::*;
pub use media_types::{sendable_kind, SendableKind, MAX_CAPTION_LEN};
pub use meta_error::{explain_block_error, explain_meta_error, ErrorExplanation};
pub use parse::{check_webhook, contact_key, is_phone_like, parse_webhook, parse_webhook_by_copying, parse_webhook_value, phone_key, webhook_time};
pub use relay::*;
pub use relay_events::{events_from_relay, outbound_event, templates_event};
pub use template_draft::TemplateDraft;
