//! The heart of Coexist Inbox: Meta's webhook model, one normalized [`Event`] type, and the
//! rules that turn events into what an agent sees. Pure code: no I/O, no clocks (callers pass `now`).

pub mod event;
pub mod relay;
pub mod rules;

pub use event::*;
pub use relay::*;
