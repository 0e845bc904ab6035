//! hookscope: receive, verify and inspect Standard Webhooks / Svix deliveries.
//!
//! The binary wires these modules together; tests and benches reach them through this library.

pub mod cli;
pub mod delivery;
pub mod headless;
pub mod receiver;
pub mod sanitize;
pub mod sender;
pub mod verify;
