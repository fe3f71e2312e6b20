//! The desktop engine of Coexist Inbox.
pub mod client;
