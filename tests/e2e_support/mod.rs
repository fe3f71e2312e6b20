pub mod harness;
pub mod notifications;
pub mod session;
pub mod stack;
pub mod ui;
