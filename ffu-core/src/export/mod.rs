//! Plans exported for execution engines that run them across a fleet (DESIGN §9).
//!
//! ffu does not grow an engine of its own: [`ansible`] turns a plan into a playbook that
//! `ansible-playbook` runs unchanged, resumable through the journal.

pub mod ansible;
mod template;

pub use template::{CommandTemplate, PLACEHOLDERS};
