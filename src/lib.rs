//! hookscope: receive, verify and inspect Standard Webhooks / Svix deliveries.
//!
//! The binary wires these modules together; tests and benches reach them through this library.

pub mod app;
pub mod budget;
pub mod cli;
pub mod client;
pub mod clipboard;
pub mod curl;
pub mod delivery;
pub mod demo;
pub mod descriptors;
pub mod edit;
pub mod export;
pub mod forward;
pub mod headless;
pub mod highlight;
pub mod malformed;
pub mod probe;
pub mod receiver;
pub mod relayout;
pub mod replay;
pub mod sanitize;
pub mod sender;
pub mod signals;
pub mod stdout;
pub mod store;
pub mod testing;
pub mod tui;
pub mod tunnel;
pub mod ui;
pub mod verify;
mod watchdog;
