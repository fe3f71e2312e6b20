pub mod harness;
pub mod notifications;
pub mod stack;
pub mod ui;
